//! Entra groups already visible in the organization (materialized before, by anyone).

use super::client::AdoClient;
use super::types::GraphGroup;
use super::{AdoError, EntraGroupKey};

impl AdoClient {
    /// The Entra group `key` names, if it is already in the organization: a listing of the
    /// organization's groups (1 call per page), matched on the Entra object id (`originId`) or
    /// mail address. Used once, before a DevOpsGroup first materializes an Entra group, so a
    /// group that was there before is recorded as adopted, never as materialized by the
    /// operator.
    pub async fn find_entra_group(
        &self,
        key: &EntraGroupKey,
    ) -> Result<Option<GraphGroup>, AdoError> {
        let same = |a: Option<&str>, b: &str| a.is_some_and(|a| a.eq_ignore_ascii_case(b));
        Ok(self.list_groups(None).await?.into_iter().find(|g| {
            g.origin.as_deref() == Some("aad")
                && !g.is_deleted
                && match key {
                    EntraGroupKey::ObjectId(id) => same(g.origin_id.as_deref(), id),
                    EntraGroupKey::Mail(mail) => same(g.mail_address.as_deref(), mail),
                }
        }))
    }
}
