//! Graph groups: list, get, find by name, create (made safe against duplicates), materialize
//! Entra groups, update, delete.

use super::api_version;
use super::client::{same_name, AdoClient};
use super::error::ApiErrorDetail;
use super::transport::Call;
use super::types::{EntraGroupKey, GraphGroup, ListResponse};
use super::AdoError;
use reqwest::Method;
use serde_json::json;

/// `subjectquery` returns at most this many subjects; a full page may hide more matches.
pub(super) const SUBJECT_QUERY_LIMIT: usize = 100;
/// Create attempts after ambiguous failures (each preceded by a lookup).
const CREATE_ROUNDS: u32 = 3;

impl AdoClient {
    /// Every group of a scope (organization when `None`), all pages. 1 call per page.
    pub async fn list_groups(
        &self,
        scope_descriptor: Option<&str>,
    ) -> Result<Vec<GraphGroup>, AdoError> {
        let mut url = self.graph_url(&["groups"])?;
        if let Some(scope) = scope_descriptor {
            url.query_pairs_mut().append_pair("scopeDescriptor", scope);
        }
        self.get_all_pages("graph.groups.list", url, api_version::GRAPH)
            .await
    }

    /// A group by descriptor (also returned when deleted: check `is_deleted`). 1 call when the
    /// answer carries `isDeleted`; the published GraphGroup schema does not define it, so
    /// without it liveness comes from the documented check, `membershipstates`: 2 calls.
    pub async fn get_group(&self, descriptor: &str) -> Result<GraphGroup, AdoError> {
        let url = self.graph_url(&["groups", descriptor])?;
        let reply = self
            .execute(&Call::get("graph.groups.get", url, api_version::GRAPH))
            .await?;
        let raw: serde_json::Value = reply.json()?;
        let reported = raw.get("isDeleted").and_then(serde_json::Value::as_bool);
        let mut group: GraphGroup = serde_json::from_value(raw).map_err(|e| {
            AdoError::Decode(ApiErrorDetail {
                operation: "graph.groups.get",
                status: Some(reply.status),
                type_key: None,
                message: format!("the group did not have the expected shape: {e}"),
            })
        })?;
        group.is_deleted = match reported {
            Some(deleted) => deleted,
            None => !self.is_active(&group.descriptor).await?,
        };
        Ok(group)
    }

    /// `GET graph/membershipstates/{descriptor}`: whether the subject is active (not deleted);
    /// a subject unknown to the service is not. 1 call.
    pub async fn is_active(&self, descriptor: &str) -> Result<bool, AdoError> {
        let url = self.graph_url(&["membershipstates", descriptor])?;
        let call = Call::get("graph.membership_states.get", url, api_version::GRAPH);
        match self.execute(&call).await {
            Ok(reply) => Ok(reply.json::<MembershipState>()?.active),
            Err(AdoError::NotFound(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The Azure DevOps group of that display name (case-insensitive) directly in the scope
    /// (organization when `None`). 1 call (`subjectquery`); falls back to listing the scope
    /// only when the query returned a full page without an exact match.
    pub async fn find_group(
        &self,
        scope_descriptor: Option<&str>,
        display_name: &str,
    ) -> Result<Option<GraphGroup>, AdoError> {
        let candidates = self.query_groups(display_name, scope_descriptor).await?;
        let saturated = candidates.len() >= SUBJECT_QUERY_LIMIT;
        let project = self.scope_project(scope_descriptor).await?;
        if let Some(found) = pick_group(&candidates, project.as_deref(), display_name) {
            return Ok(Some(found));
        }
        if saturated {
            return self
                .find_group_exhaustive(scope_descriptor, display_name)
                .await;
        }
        Ok(None)
    }

    /// Exhaustive lookup (every page of the scope); used where a stale search would be wrong.
    /// The listing began after this call did; concurrent lookups in one scope share it (see
    /// `fresh_listing.rs`). Pages of the scope, shared.
    pub async fn find_group_exhaustive(
        &self,
        scope_descriptor: Option<&str>,
        display_name: &str,
    ) -> Result<Option<GraphGroup>, AdoError> {
        let asked = std::time::Instant::now();
        let groups = self
            .inner
            .caches
            .group_listings
            .since(scope_descriptor.unwrap_or_default(), asked, || {
                self.list_groups(scope_descriptor)
            })
            .await?;
        let project = self.scope_project(scope_descriptor).await?;
        Ok(pick_group(groups.iter(), project.as_deref(), display_name))
    }

    /// What a scoped lookup must match: `None` for the organization, `Some(project id)` for a
    /// project scope (a search may answer with groups of other scopes; only the domain tells).
    async fn scope_project(
        &self,
        scope_descriptor: Option<&str>,
    ) -> Result<Option<String>, AdoError> {
        Ok(match scope_descriptor {
            None => None,
            Some(scope) => Some(self.scope_project_id(scope).await?),
        })
    }

    /// `POST subjectquery` for groups whose name starts with `query`.
    pub(super) async fn query_groups(
        &self,
        query: &str,
        scope_descriptor: Option<&str>,
    ) -> Result<Vec<GraphGroup>, AdoError> {
        let url = self.graph_url(&["subjectquery"])?;
        let mut body = json!({"query": query, "subjectKind": ["Group"]});
        if let Some(scope) = scope_descriptor {
            body["scopeDescriptor"] = json!(scope);
        }
        // A query changes nothing: safe to retry.
        let call = Call::get("graph.subjects.query", url, api_version::GRAPH)
            .query()
            .with_json(body);
        let page: ListResponse<GraphGroup> = self.execute(&call).await?.json()?;
        Ok(page.value)
    }

    /// Create an Azure DevOps group, safe against duplicates: POST is not idempotent, so it is
    /// never blindly retried. A 409 (TF50624) or an ambiguous failure (5xx, timeout) is followed
    /// by an exhaustive lookup of the name in the scope, which returns the existing group;
    /// only when the group is still absent is the POST sent again.
    /// Common case: 1 call. Duplicate: 1 + pages of the scope.
    pub async fn create_group(
        &self,
        scope_descriptor: Option<&str>,
        display_name: &str,
        description: Option<&str>,
    ) -> Result<GraphGroup, AdoError> {
        let mut url = self.graph_url(&["groups"])?;
        if let Some(scope) = scope_descriptor {
            url.query_pairs_mut().append_pair("scopeDescriptor", scope);
        }
        let mut body = json!({"displayName": display_name});
        if let Some(description) = description {
            body["description"] = json!(description);
        }
        let call = Call::get("graph.groups.create", url, api_version::GRAPH)
            .with_method(Method::POST)
            .with_json(body)
            .not_idempotent();
        let mut round = 0;
        loop {
            round += 1;
            let error = match self.execute(&call).await {
                Ok(reply) => {
                    let group: GraphGroup = reply.json()?;
                    self.inner.transport.note_created(&group.descriptor);
                    if let Some(name) = &group.principal_name {
                        self.inner
                            .caches
                            .created_groups
                            .insert(group.descriptor.clone(), name.clone());
                    }
                    return Ok(group);
                }
                Err(error) => error,
            };
            let duplicate = is_duplicate_group(&error);
            // Only a 5xx or a network failure leaves us unsure whether the group was created
            // (a 429 was not processed and has already been retried by the transport).
            let ambiguous = matches!(error, AdoError::Transient(_));
            if !duplicate && !ambiguous {
                return Err(error);
            }
            if let Some(existing) = self
                .find_group_exhaustive(scope_descriptor, display_name)
                .await?
            {
                tracing::info!(
                    organization = %self.organization(),
                    group = display_name,
                    "group already existed; adopting it"
                );
                return Ok(existing);
            }
            if duplicate || round >= CREATE_ROUNDS {
                return Err(error);
            }
        }
    }

    /// The principal name of a group this client created less than [`super::ANCESTRY_TTL`]
    /// ago (the age of a protection snapshot still trusted). Such a group was in no group when
    /// it was created, as a snapshot taken then would say. A group another create answered with
    /// (a duplicate) is not one.
    pub fn recently_created_group(&self, descriptor: &str) -> Option<String> {
        self.inner
            .caches
            .created_groups
            .get(&descriptor.to_string())
    }

    /// Materialize (or return) an Entra group in the organization. Idempotent in Azure DevOps.
    /// 1 call. A plain-text 503 (the identity may not read the directory) is `EntraLookup`.
    pub async fn materialize_entra_group(
        &self,
        entra: EntraGroupKey,
    ) -> Result<GraphGroup, AdoError> {
        let url = self.graph_url(&["groups"])?;
        let body = match &entra {
            EntraGroupKey::ObjectId(id) => json!({"originId": id}),
            EntraGroupKey::Mail(mail) => json!({"mailAddress": mail}),
        };
        let call = Call::get("graph.groups.materialize", url, api_version::GRAPH)
            .with_method(Method::POST)
            .with_json(body)
            .entra_lookup();
        let group: GraphGroup = self.execute(&call).await?.json()?;
        self.inner.transport.note_created(&group.descriptor);
        Ok(group)
    }

    /// Change display name and/or description (JSON patch). 1 call; 0 + 1 GET when nothing
    /// changes.
    pub async fn update_group(
        &self,
        descriptor: &str,
        display_name: Option<&str>,
        description: Option<&str>,
    ) -> Result<GraphGroup, AdoError> {
        let mut operations = Vec::new();
        if let Some(name) = display_name {
            operations.push(json!({"op": "replace", "path": "/displayName", "value": name}));
        }
        if let Some(description) = description {
            operations.push(json!({"op": "replace", "path": "/description", "value": description}));
        }
        if operations.is_empty() {
            return self.get_group(descriptor).await;
        }
        let url = self.graph_url(&["groups", descriptor])?;
        let call = Call::get("graph.groups.update", url, api_version::GRAPH)
            .with_method(Method::PATCH)
            .with_json_patch(serde_json::Value::Array(operations));
        let group: GraphGroup = self.execute(&call).await?.json()?;
        self.inner
            .caches
            .groups_by_principal
            .remove_where(|_, g| g.descriptor == descriptor);
        Ok(group)
    }

    /// Delete a group; a group that is already gone counts as deleted. 1 call.
    /// Deleting an Entra-backed group removes it from the whole organization.
    pub async fn delete_group(&self, descriptor: &str) -> Result<(), AdoError> {
        let url = self.graph_url(&["groups", descriptor])?;
        let call =
            Call::get("graph.groups.delete", url, api_version::GRAPH).with_method(Method::DELETE);
        let result = match self.execute(&call).await {
            Ok(_) | Err(AdoError::NotFound(_)) => Ok(()),
            Err(error) => Err(error),
        };
        self.inner
            .caches
            .groups_by_principal
            .remove_where(|_, g| g.descriptor == descriptor);
        result
    }
}

/// `{"active": bool}` of `membershipstates`.
#[derive(Debug, serde::Deserialize)]
struct MembershipState {
    active: bool,
}

/// 409, or the TF50624 message on another status.
fn is_duplicate_group(error: &AdoError) -> bool {
    error.is_conflict()
        || error
            .detail()
            .is_some_and(|d| d.message.contains("TF50624"))
}

/// The Azure DevOps group named `display_name` that lives directly in the scope: for a project
/// (`project_id`), its domain must be that project; for the organization (`None`), project
/// groups are excluded.
pub(super) fn pick_group<'a>(
    groups: impl IntoIterator<Item = &'a GraphGroup>,
    project_id: Option<&str>,
    display_name: &str,
) -> Option<GraphGroup> {
    groups
        .into_iter()
        .find(|g| {
            g.is_azure_devops_group()
                && !g.is_deleted
                && same_name(&g.display_name, display_name)
                && match (project_id, g.project_id()) {
                    (None, found) => found.is_none(),
                    (Some(wanted), Some(found)) => wanted.eq_ignore_ascii_case(found),
                    (Some(_), None) => false,
                }
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(descriptor: &str, name: &str, domain: &str) -> GraphGroup {
        serde_json::from_value(json!({
            "descriptor": descriptor, "displayName": name, "domain": domain, "origin": "vsts"
        }))
        .unwrap()
    }

    #[test]
    fn org_scope_lookup_ignores_project_and_entra_groups() {
        let groups = vec![
            group(
                "vssgp.p",
                "Deployers",
                "vstfs:///Classification/TeamProject/1",
            ),
            group(
                "aadgp.e",
                "Deployers",
                "vstfs:///Framework/IdentityDomain/org",
            ),
            group(
                "vssgp.o",
                "DEPLOYERS",
                "vstfs:///Framework/IdentityDomain/org",
            ),
        ];
        assert_eq!(
            pick_group(&groups, None, "deployers").unwrap().descriptor,
            "vssgp.o"
        );
        assert_eq!(
            pick_group(&groups, Some("1"), "Deployers")
                .unwrap()
                .descriptor,
            "vssgp.p"
        );
        // A project lookup never takes another project's (or the organization's) group.
        assert!(pick_group(&groups, Some("2"), "Deployers").is_none());
    }

    #[test]
    fn duplicate_detection_accepts_409_and_tf50624() {
        let detail = |status, message: &str| ApiErrorDetail {
            operation: "graph.groups.create",
            status: Some(status),
            type_key: None,
            message: message.to_string(),
        };
        assert!(is_duplicate_group(&AdoError::Conflict(detail(409, "x"))));
        assert!(is_duplicate_group(&AdoError::InvalidInput(detail(
            400,
            "TF50624: A group named X already exists in scope Y"
        ))));
        assert!(!is_duplicate_group(&AdoError::InvalidInput(detail(
            400, "bad name"
        ))));
    }
}
