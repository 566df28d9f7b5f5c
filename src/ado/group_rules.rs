//! Group entitlements (group rules) on the Member Entitlement Management host: a group's access
//! level and project entitlements, applied to its members asynchronously. Adding or updating
//! a rule answers an operation reference; `_apis/operations/{id}` says when it finished.
//! Refused results (`isSuccess: false`) are errors with their code and message.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api_version;
use super::client::AdoClient;
use super::entitlements::{
    refused, AccessLevel, EntitlementChange, OperationResult, ProjectEntitlement, ProjectGrant,
};
use super::transport::Call;
use super::AdoError;

/// A group rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupEntitlement {
    pub id: String,
    pub license_rule: AccessLevel,
    pub project_entitlements: Vec<ProjectEntitlement>,
    /// `applyPending`, `applied`, `incompatible`, `unableToApply`.
    pub status: Option<String>,
}

/// A queued or finished asynchronous operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EntitlementOperation {
    pub id: String,
    /// `notSet`, `queued`, `inProgress`, `cancelled`, `succeeded`, `failed`.
    pub status: String,
    pub result_message: Option<String>,
}

impl EntitlementOperation {
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed" | "cancelled")
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct OperationReference {
    id: String,
    status: String,
    completed: bool,
    results: Vec<OperationResult>,
}

/// The group a new rule is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleGroup {
    /// An Entra group, by object id.
    Entra(String),
    /// An Azure DevOps group, by descriptor.
    Descriptor(String),
}

impl RuleGroup {
    fn body(&self) -> Value {
        match self {
            RuleGroup::Entra(id) => {
                json!({"origin": "aad", "originId": id, "subjectKind": "group"})
            }
            RuleGroup::Descriptor(d) => json!({"descriptor": d, "subjectKind": "group"}),
        }
    }
}

/// What a rule write started: the operation to poll (`None` when it completed at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleWrite {
    pub operation: Option<String>,
}

fn accepted(operation: &'static str, reply: OperationReference) -> Result<RuleWrite, AdoError> {
    if let Some(failed) = reply.results.iter().find(|r| !r.is_success) {
        return Err(refused(operation, &failed.errors));
    }
    if reply.status == "failed" {
        return Err(refused(operation, &[]));
    }
    let pending = !reply.completed && !reply.id.is_empty() && reply.id != NIL;
    Ok(RuleWrite {
        operation: pending.then_some(reply.id),
    })
}

const NIL: &str = "00000000-0000-0000-0000-000000000000";

impl AdoClient {
    /// The group's rule, by group id (storage key); `None` when it has none. 1 call.
    pub async fn group_entitlement(
        &self,
        group_id: &str,
    ) -> Result<Option<GroupEntitlement>, AdoError> {
        let url = self.entitlement_url(&["groupentitlements", group_id])?;
        let call = Call::get(
            "entitlements.groups.get",
            url,
            api_version::GROUP_ENTITLEMENTS,
        );
        match self.execute(&call).await {
            Ok(reply) => Ok(Some(reply.json()?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Adds a rule; answers the operation applying it. 1 call.
    pub async fn add_group_entitlement(
        &self,
        group: &RuleGroup,
        level: &str,
        projects: &[ProjectGrant],
    ) -> Result<RuleWrite, AdoError> {
        const OPERATION: &str = "entitlements.groups.add";
        let url = self.entitlement_url(&["groupentitlements"])?;
        let body = json!({
            "group": group.body(),
            "licenseRule": { "accountLicenseType": level, "licensingSource": "account" },
            "projectEntitlements": projects.iter().map(ProjectGrant::body).collect::<Vec<_>>(),
        });
        let call = Call::get(OPERATION, url, api_version::GROUP_ENTITLEMENTS)
            .with_method(Method::POST)
            .with_json(body)
            .not_idempotent();
        accepted(OPERATION, self.execute(&call).await?.json()?)
    }

    /// Changes a rule; answers the operation re-applying it. 1 call.
    pub async fn update_group_entitlement(
        &self,
        group_id: &str,
        change: &EntitlementChange,
    ) -> Result<RuleWrite, AdoError> {
        const OPERATION: &str = "entitlements.groups.update";
        let url = self.entitlement_url(&["groupentitlements", group_id])?;
        let call = Call::get(OPERATION, url, api_version::GROUP_ENTITLEMENTS)
            .with_method(Method::PATCH)
            .with_json_patch(change.document("/licenseRule"));
        accepted(OPERATION, self.execute(&call).await?.json()?)
    }

    /// Removes a rule (the group keeps its memberships). 1 call; a rule already gone is no
    /// error.
    pub async fn delete_group_entitlement(&self, group_id: &str) -> Result<(), AdoError> {
        const OPERATION: &str = "entitlements.groups.delete";
        let url = self.entitlement_url(&["groupentitlements", group_id])?;
        let call =
            Call::get(OPERATION, url, api_version::GROUP_ENTITLEMENTS).with_method(Method::DELETE);
        match self.execute(&call).await {
            Ok(reply) => accepted(OPERATION, reply.json()?).map(|_| ()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// An operation of the entitlement host. 1 call.
    pub async fn entitlement_operation(&self, id: &str) -> Result<EntitlementOperation, AdoError> {
        let url = self.entitlement_url(&["operations", id])?;
        let call = Call::get("entitlements.operations.get", url, api_version::OPERATIONS);
        self.execute(&call).await?.json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(value: Value) -> OperationReference {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_queued_reference_is_an_operation_to_poll() {
        let write = accepted(
            "x",
            reference(json!({"id": "op-1", "status": "queued", "completed": false,
                "results": [{"isSuccess": true, "errors": []}]})),
        )
        .unwrap();
        assert_eq!(write.operation.as_deref(), Some("op-1"));
        let done = accepted(
            "x",
            reference(json!({"id": NIL, "status": "succeeded", "completed": true, "results": []})),
        )
        .unwrap();
        assert_eq!(done.operation, None);
    }

    #[test]
    fn a_refused_result_is_an_error_even_in_a_201() {
        let err = accepted(
            "entitlements.groups.add",
            reference(json!({"id": NIL, "status": "failed", "completed": true,
                "results": [{"isSuccess": false, "errors": [{"key": 5102, "value": "exists"}]}]})),
        )
        .unwrap_err();
        assert!(
            matches!(err, AdoError::Refused { code: 5102, .. }),
            "{err:?}"
        );
        assert!(accepted(
            "x",
            reference(json!({"status": "failed", "completed": true, "results": []}))
        )
        .is_err());
    }
}
