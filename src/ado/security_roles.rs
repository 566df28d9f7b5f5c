//! Security role assignments on protected resources (`_apis/securityroles`, 7.1-preview.1):
//! the roles a scope defines, and per resource who holds which role. An identity holds at most
//! one role per resource; PUT sets roles (replacing an identity's previous role), PATCH with a
//! list of identity ids removes, PATCH `?inheritPermissions=` switches inheritance from the
//! parent scope.
//!
//! Azure DevOps may answer 200 to a write on a wrong scope or resource id and change nothing, so
//! [`AdoClient::apply_role_assignments`] reads the resource back and fails unless the writes are
//! there.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::api_version;
use super::client::{same_name, AdoClient};
use super::error::ApiErrorDetail;
use super::transport::Call;
use super::AdoError;

/// The resource types that carry security roles, each with its scope id and the shape of its
/// resource id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleScope {
    /// `distributedtask.environmentreferencerole`, `{projectId}_{environmentId}`.
    Environment,
    /// `distributedtask.serviceendpointrole`, `{projectId}_{endpointId}`.
    Endpoint,
    /// `distributedtask.agentqueuerole`, `{projectId}_{queueId}`.
    Queue,
    /// `distributedtask.globalagentpoolrole`, `{poolId}` (organization level).
    AgentPool,
    /// `distributedtask.variablegroup`, `{projectId}${variableGroupId}`.
    VariableGroup,
    /// `distributedtask.securefile`, `{projectId}${secureFileId}`.
    SecureFile,
    /// `distributedtask.library`, `{projectId}$0`: the project's Library as a whole.
    Library,
}

impl RoleScope {
    pub const ALL: [RoleScope; 7] = [
        RoleScope::Environment,
        RoleScope::Endpoint,
        RoleScope::Queue,
        RoleScope::AgentPool,
        RoleScope::VariableGroup,
        RoleScope::SecureFile,
        RoleScope::Library,
    ];

    /// The scope id in the URL.
    pub fn scope_id(self) -> &'static str {
        match self {
            RoleScope::Environment => "distributedtask.environmentreferencerole",
            RoleScope::Endpoint => "distributedtask.serviceendpointrole",
            RoleScope::Queue => "distributedtask.agentqueuerole",
            RoleScope::AgentPool => "distributedtask.globalagentpoolrole",
            RoleScope::VariableGroup => "distributedtask.variablegroup",
            RoleScope::SecureFile => "distributedtask.securefile",
            RoleScope::Library => "distributedtask.library",
        }
    }

    /// Whether the resource lives in a project (every type but agent pools).
    pub fn in_project(self) -> bool {
        self != RoleScope::AgentPool
    }

    /// The resource id of the API: `project_id` and the resource's own id (ignored for the
    /// Library, which has none).
    pub fn resource_id(self, project_id: Option<&str>, id: &str) -> Result<String, AdoError> {
        let project = || {
            project_id.map(str::to_lowercase).ok_or_else(|| {
                invalid(format!(
                    "a {} role assignment needs the project id",
                    self.scope_id()
                ))
            })
        };
        Ok(match self {
            RoleScope::Environment | RoleScope::Endpoint | RoleScope::Queue => {
                format!("{}_{}", project()?, id.to_lowercase())
            }
            RoleScope::VariableGroup | RoleScope::SecureFile => {
                format!("{}${}", project()?, id.to_lowercase())
            }
            RoleScope::Library => format!("{}$0", project()?),
            RoleScope::AgentPool => id.to_string(),
        })
    }
}

impl std::fmt::Display for RoleScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.scope_id())
    }
}

/// A role a scope defines (`SecurityRole`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityRole {
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub identifier: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub allow_permissions: i64,
}

/// Who holds a role (`RoleAssignment.identity`, an IdentityRef: `id` is the identity id).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleIdentity {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub unique_name: Option<String>,
}

/// One assignment on a resource.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    pub identity: RoleIdentity,
    pub role: SecurityRole,
    /// `assigned` (explicit on this resource) or `inherited` (from the parent scope).
    #[serde(default)]
    pub access: Option<String>,
}

impl RoleAssignment {
    /// Set on this resource, not inherited.
    pub fn is_assigned(&self) -> bool {
        !self
            .access
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("inherited"))
    }
}

/// A role to set for one identity (`UserRoleAssignmentRef`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleGrantRef {
    pub role_name: String,
    pub user_id: String,
}

/// Collections come as `{"count","value"}` (what the service sends) or as a bare array (what the
/// published spec says).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Many<T> {
    Wrapped { value: Vec<T> },
    Bare(Vec<T>),
}

impl<T> Many<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            Many::Wrapped { value } => value,
            Many::Bare(value) => value,
        }
    }
}

fn invalid(message: String) -> AdoError {
    AdoError::InvalidInput(ApiErrorDetail {
        operation: "security_roles",
        status: None,
        type_key: None,
        message,
    })
}

/// Identity id -> role name, of the explicit (not inherited) assignments.
pub fn assigned_roles(assignments: &[RoleAssignment]) -> BTreeMap<String, String> {
    assignments
        .iter()
        .filter(|a| a.is_assigned())
        .map(|a| (a.identity.id.to_lowercase(), a.role.name.clone()))
        .collect()
}

impl AdoClient {
    /// The roles a scope defines. Uncached: 1 call; cached (role definitions are fixed per
    /// scope, reused for the subject TTL): 0.
    pub async fn role_definitions(&self, scope: RoleScope) -> Result<Vec<SecurityRole>, AdoError> {
        let cache = &self.inner.caches.role_definitions;
        let key = scope.scope_id().to_string();
        if let Some(roles) = cache.get(&key) {
            return Ok(roles);
        }
        let _fetch = cache.fetching(&key).await;
        if let Some(roles) = cache.get(&key) {
            return Ok(roles);
        }
        let url = self.org_url(&[
            "_apis",
            "securityroles",
            "scopes",
            scope.scope_id(),
            "roledefinitions",
        ])?;
        let call = Call::get(
            "security_roles.definitions.list",
            url,
            api_version::SECURITY_ROLES,
        );
        let roles = self.execute(&call).await?.json::<Many<SecurityRole>>()?;
        let roles = roles.into_vec();
        cache.insert(key, roles.clone());
        Ok(roles)
    }

    /// The role named `name` in the scope (case-insensitive), as the scope spells it.
    pub async fn role_named(
        &self,
        scope: RoleScope,
        name: &str,
    ) -> Result<Option<SecurityRole>, AdoError> {
        Ok(self
            .role_definitions(scope)
            .await?
            .into_iter()
            .find(|r| same_name(&r.name, name)))
    }

    fn assignments_url(
        &self,
        scope: RoleScope,
        resource_id: &str,
    ) -> Result<reqwest::Url, AdoError> {
        self.org_url(&[
            "_apis",
            "securityroles",
            "scopes",
            scope.scope_id(),
            "roleassignments",
            "resources",
            resource_id,
        ])
    }

    /// Every assignment on a resource, assigned and inherited. 1 call.
    pub async fn role_assignments(
        &self,
        scope: RoleScope,
        resource_id: &str,
    ) -> Result<Vec<RoleAssignment>, AdoError> {
        let url = self.assignments_url(scope, resource_id)?;
        let call = Call::get(
            "security_roles.assignments.list",
            url,
            api_version::SECURITY_ROLES,
        );
        Ok(self
            .execute(&call)
            .await?
            .json::<Many<RoleAssignment>>()?
            .into_vec())
    }

    /// Set roles (one per identity, replacing a previous one). 1 call (0 for an empty list).
    pub async fn set_role_assignments(
        &self,
        scope: RoleScope,
        resource_id: &str,
        assignments: &[RoleGrantRef],
    ) -> Result<Vec<RoleAssignment>, AdoError> {
        if assignments.is_empty() {
            return Ok(Vec::new());
        }
        let url = self.assignments_url(scope, resource_id)?;
        let body = serde_json::to_value(assignments)
            .map_err(|e| AdoError::Config(format!("serializing role assignments failed: {e}")))?;
        let call = Call::get(
            "security_roles.assignments.set",
            url,
            api_version::SECURITY_ROLES,
        )
        .with_method(Method::PUT)
        .with_json(body);
        Ok(self
            .execute(&call)
            .await?
            .json::<Many<RoleAssignment>>()?
            .into_vec())
    }

    /// Remove the assignments of these identities. 1 call (0 for an empty list).
    pub async fn remove_role_assignments(
        &self,
        scope: RoleScope,
        resource_id: &str,
        identity_ids: &[String],
    ) -> Result<(), AdoError> {
        if identity_ids.is_empty() {
            return Ok(());
        }
        let url = self.assignments_url(scope, resource_id)?;
        let call = Call::get(
            "security_roles.assignments.remove",
            url,
            api_version::SECURITY_ROLES,
        )
        .with_method(Method::PATCH)
        .with_json(serde_json::json!(identity_ids));
        self.execute(&call).await.map(|_| ())
    }

    /// Remove one identity's assignment. 1 call.
    pub async fn remove_role_assignment(
        &self,
        scope: RoleScope,
        resource_id: &str,
        identity_id: &str,
    ) -> Result<(), AdoError> {
        let mut url = self.assignments_url(scope, resource_id)?;
        url.path_segments_mut()
            .map_err(|_| invalid("the role assignment URL cannot take a segment".into()))?
            .push(identity_id);
        let call = Call::get(
            "security_roles.assignment.remove",
            url,
            api_version::SECURITY_ROLES,
        )
        .with_method(Method::DELETE);
        self.execute(&call).await.map(|_| ())
    }

    /// Whether the resource inherits role assignments from its parent scope. 1 call.
    pub async fn set_role_inheritance(
        &self,
        scope: RoleScope,
        resource_id: &str,
        inherit: bool,
    ) -> Result<(), AdoError> {
        let mut url = self.assignments_url(scope, resource_id)?;
        url.query_pairs_mut()
            .append_pair("inheritPermissions", if inherit { "true" } else { "false" });
        let call = Call::get(
            "security_roles.inheritance.set",
            url,
            api_version::SECURITY_ROLES,
        )
        .with_method(Method::PATCH);
        self.execute(&call).await.map(|_| ())
    }

    /// Set `set` (identity id -> role), remove `remove` (identity ids), then read the resource
    /// back and fail unless every set role is there and every removed identity is gone: a wrong
    /// scope or resource id never passes for success. Calls: 1 per non-empty write + 1 read
    /// (0 when there is nothing to write). Returns the resource's assignments as read back.
    pub async fn apply_role_assignments(
        &self,
        scope: RoleScope,
        resource_id: &str,
        set: &BTreeMap<String, String>,
        remove: &[String],
    ) -> Result<Option<Vec<RoleAssignment>>, AdoError> {
        if set.is_empty() && remove.is_empty() {
            return Ok(None);
        }
        let grants: Vec<RoleGrantRef> = set
            .iter()
            .map(|(id, role)| RoleGrantRef {
                role_name: role.clone(),
                user_id: id.clone(),
            })
            .collect();
        self.set_role_assignments(scope, resource_id, &grants)
            .await?;
        self.remove_role_assignments(scope, resource_id, remove)
            .await?;
        let back = self.role_assignments(scope, resource_id).await?;
        let held = assigned_roles(&back);
        let missing: Vec<String> = set
            .iter()
            .filter(|(id, role)| {
                held.get(&id.to_lowercase())
                    .is_none_or(|r| !same_name(r, role))
            })
            .map(|(id, role)| format!("{role} for {id}"))
            .collect();
        let lingering: Vec<&String> = remove
            .iter()
            .filter(|id| held.contains_key(&id.to_lowercase()))
            .collect();
        if missing.is_empty() && lingering.is_empty() {
            return Ok(Some(back));
        }
        Err(AdoError::NotFound(ApiErrorDetail {
            operation: "security_roles.assignments.verify",
            status: None,
            type_key: None,
            message: format!(
                "Azure DevOps accepted the writes but {scope} resource {resource_id} does not show them \
                 (missing: {missing:?}; still assigned: {lingering:?}): wrong scope or resource id?"
            ),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROJECT: &str = "28DFCDFE-1601-476A-9CE5-4F022EB6EE7F";

    #[test]
    fn resource_ids_follow_each_scope() {
        let cases = [
            (
                RoleScope::Environment,
                "7",
                "28dfcdfe-1601-476a-9ce5-4f022eb6ee7f_7",
            ),
            (
                RoleScope::Endpoint,
                "CCB06A43-4FD5-430F-8C4D-DE63B02C7784",
                "28dfcdfe-1601-476a-9ce5-4f022eb6ee7f_ccb06a43-4fd5-430f-8c4d-de63b02c7784",
            ),
            (
                RoleScope::Queue,
                "31",
                "28dfcdfe-1601-476a-9ce5-4f022eb6ee7f_31",
            ),
            (
                RoleScope::VariableGroup,
                "4",
                "28dfcdfe-1601-476a-9ce5-4f022eb6ee7f$4",
            ),
            (
                RoleScope::SecureFile,
                "0b1c2d3e-0000-0000-0000-000000000001",
                "28dfcdfe-1601-476a-9ce5-4f022eb6ee7f$0b1c2d3e-0000-0000-0000-000000000001",
            ),
            (
                RoleScope::Library,
                "",
                "28dfcdfe-1601-476a-9ce5-4f022eb6ee7f$0",
            ),
        ];
        for (scope, id, want) in cases {
            assert_eq!(
                scope.resource_id(Some(PROJECT), id).unwrap(),
                want,
                "{scope}"
            );
        }
        assert_eq!(RoleScope::AgentPool.resource_id(None, "9").unwrap(), "9");
        assert!(RoleScope::Environment.resource_id(None, "7").is_err());
    }

    #[test]
    fn scope_ids_are_the_published_ones() {
        let ids: Vec<&str> = RoleScope::ALL.iter().map(|s| s.scope_id()).collect();
        assert_eq!(
            ids,
            [
                "distributedtask.environmentreferencerole",
                "distributedtask.serviceendpointrole",
                "distributedtask.agentqueuerole",
                "distributedtask.globalagentpoolrole",
                "distributedtask.variablegroup",
                "distributedtask.securefile",
                "distributedtask.library",
            ]
        );
        assert!(!RoleScope::AgentPool.in_project() && RoleScope::Library.in_project());
    }

    #[test]
    fn the_published_example_decodes_and_inherited_entries_are_not_assigned() {
        let body = r#"{"count":2,"value":[
            {"identity":{"displayName":"Your Identity Name","id":"CBB1D8AC-CEE5-47C1-878A-E75C0E94AC89","uniqueName":"x"},
             "role":{"displayName":"Administrator","name":"Administrator","allowPermissions":3,"denyPermissions":0,
                     "identifier":"distributedtask.serviceendpointrole.Administrator","description":"d","scope":"distributedtask.serviceendpointrole"},
             "access":"assigned","accessDisplayName":"Assigned"},
            {"identity":{"id":"11111111-0000-0000-0000-000000000000"},"role":{"name":"Reader"},"access":"inherited"}]}"#;
        let many: Many<RoleAssignment> = serde_json::from_str(body).unwrap();
        let all = many.into_vec();
        assert_eq!(all.len(), 2);
        let held = assigned_roles(&all);
        assert_eq!(
            held,
            BTreeMap::from([(
                "cbb1d8ac-cee5-47c1-878a-e75c0e94ac89".to_string(),
                "Administrator".to_string()
            )])
        );
        let bare: Many<RoleAssignment> = serde_json::from_str("[]").unwrap();
        assert!(bare.into_vec().is_empty());
    }

    #[test]
    fn set_bodies_are_user_role_assignment_refs() {
        let body = serde_json::to_value(vec![RoleGrantRef {
            role_name: "User".into(),
            user_id: "4189bd2b-de9c-45de-a886-4e3d9c03f1f9".into(),
        }])
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!([{"roleName": "User", "userId": "4189bd2b-de9c-45de-a886-4e3d9c03f1f9"}])
        );
    }
}
