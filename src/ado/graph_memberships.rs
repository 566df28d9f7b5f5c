//! Graph memberships: list the direct members of a group, add, remove, check.

use super::api_version;
use super::client::AdoClient;
use super::transport::Call;
use super::types::Membership;
use super::AdoError;
use reqwest::Method;

impl AdoClient {
    /// Descriptors of the direct members of a container (`direction=down&depth=1`). 1 call.
    pub async fn list_members(&self, container: &str) -> Result<Vec<String>, AdoError> {
        let mut url = self.graph_url(&["Memberships", container])?;
        url.query_pairs_mut()
            .append_pair("direction", "down")
            .append_pair("depth", "1");
        let memberships: Vec<Membership> = self
            .get_all_pages("graph.memberships.list", url, api_version::GRAPH)
            .await?;
        Ok(memberships
            .into_iter()
            .map(|m| m.member_descriptor)
            .collect())
    }

    /// Add a member; an existing membership (201 again, or 409 TF50235) counts as done. 1 call.
    pub async fn add_member(&self, member: &str, container: &str) -> Result<(), AdoError> {
        let url = self.graph_url(&["memberships", member, container])?;
        let call =
            Call::get("graph.memberships.add", url, api_version::GRAPH).with_method(Method::PUT);
        let result = self.execute(&call).await;
        // Whatever the answer, the member (and everything below it) may have gained ancestors.
        self.inner.caches.ancestry.forget_parents();
        self.inner.caches.protected.member_added(container);
        match result {
            Ok(_) | Err(AdoError::Conflict(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Remove a member; a membership that does not exist counts as removed. 1 call.
    pub async fn remove_member(&self, member: &str, container: &str) -> Result<(), AdoError> {
        let url = self.graph_url(&["memberships", member, container])?;
        let call = Call::get("graph.memberships.remove", url, api_version::GRAPH)
            .with_method(Method::DELETE);
        match self.execute(&call).await {
            Ok(_) | Err(AdoError::NotFound(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Whether `member` is a direct member of `container` (HEAD: 200 or bare 404). 1 call.
    pub async fn is_member(&self, member: &str, container: &str) -> Result<bool, AdoError> {
        let url = self.graph_url(&["memberships", member, container])?;
        let call =
            Call::get("graph.memberships.check", url, api_version::GRAPH).with_method(Method::HEAD);
        match self.execute(&call).await {
            Ok(_) => Ok(true),
            Err(AdoError::NotFound(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }
}
