//! Member Entitlement Management, on its own host (`vsaex.dev.azure.com/{org}`): the access
//! level and project entitlements of a user or service principal. Calls answered 200 with
//! `isSuccess: false` are errors ([`AdoError::Refused`], with the code and message), never a
//! success. Group rules are in `group_rules.rs`.
//!
//! Entitlement ids are the subjects' storage keys (`graph/storagekeys`).

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api_version;
use super::client::AdoClient;
use super::error::ApiErrorDetail;
use super::transport::Call;
use super::types::GraphSubject;
use super::AdoError;

/// A user or a service principal: their entitlements live on two resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    User,
    ServicePrincipal,
}

impl MemberKind {
    fn resource(self) -> &'static str {
        match self {
            MemberKind::User => "userentitlements",
            MemberKind::ServicePrincipal => "serviceprincipalentitlements",
        }
    }

    fn version(self) -> &'static str {
        match self {
            MemberKind::User => api_version::USER_ENTITLEMENTS,
            MemberKind::ServicePrincipal => api_version::SERVICE_PRINCIPAL_ENTITLEMENTS,
        }
    }

    fn field(self) -> &'static str {
        match self {
            MemberKind::User => "user",
            MemberKind::ServicePrincipal => "servicePrincipal",
        }
    }

    fn operation(self, verb: Verb) -> &'static str {
        match (self, verb) {
            (MemberKind::User, Verb::Get) => "entitlements.users.get",
            (MemberKind::User, Verb::Add) => "entitlements.users.add",
            (MemberKind::User, Verb::Update) => "entitlements.users.update",
            (MemberKind::User, Verb::Delete) => "entitlements.users.delete",
            (MemberKind::ServicePrincipal, Verb::Get) => "entitlements.service_principals.get",
            (MemberKind::ServicePrincipal, Verb::Add) => "entitlements.service_principals.add",
            (MemberKind::ServicePrincipal, Verb::Update) => {
                "entitlements.service_principals.update"
            }
            (MemberKind::ServicePrincipal, Verb::Delete) => {
                "entitlements.service_principals.delete"
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Verb {
    Get,
    Add,
    Update,
    Delete,
}

/// `AccessLevel` (and a group rule's `licenseRule`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AccessLevel {
    /// `none`, `stakeholder`, `express` (Basic), `advanced` (Basic + Test Plans), ...
    pub account_license_type: String,
    pub license_display_name: Option<String>,
    /// `unknown` (direct) or `groupRule`.
    pub assignment_source: Option<String>,
    pub status_message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectRef {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectGroupRef {
    /// `projectReader`, `projectContributor`, `projectAdministrator`, `projectStakeholder`,
    /// `custom`.
    pub group_type: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProjectEntitlement {
    pub project_ref: ProjectRef,
    pub group: ProjectGroupRef,
    pub assignment_source: Option<String>,
}

/// A user's or service principal's entitlement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MemberEntitlement {
    pub id: String,
    pub access_level: AccessLevel,
    pub project_entitlements: Vec<ProjectEntitlement>,
    /// A user entitlement's user (a Graph user: descriptor, principal name, origin id).
    pub user: Option<GraphSubject>,
    /// A service principal entitlement's service principal.
    pub service_principal: Option<GraphSubject>,
}

impl MemberEntitlement {
    /// The user or service principal the entitlement belongs to, as Azure DevOps reports it.
    pub fn subject(&self) -> Option<&GraphSubject> {
        self.user.as_ref().or(self.service_principal.as_ref())
    }
}

/// A project entitlement to give: the project's id and the group type (and a custom group's
/// display name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProjectGrant {
    pub project_id: String,
    pub group_type: String,
    pub display_name: Option<String>,
}

impl ProjectGrant {
    pub(super) fn body(&self) -> Value {
        let mut group = json!({ "groupType": self.group_type });
        if let Some(name) = &self.display_name {
            group["displayName"] = json!(name);
        }
        json!({ "projectRef": { "id": self.project_id }, "group": group })
    }
}

/// What an update changes: the level, project entitlements to add (or replace: one per
/// project) and projects to remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntitlementChange {
    pub level: Option<String>,
    pub add: Vec<ProjectGrant>,
    pub remove: Vec<String>,
}

impl EntitlementChange {
    pub fn is_empty(&self) -> bool {
        self.level.is_none() && self.add.is_empty() && self.remove.is_empty()
    }

    /// The JSON patch document (`level_path`: `/accessLevel`, or `/licenseRule` for rules).
    pub(super) fn document(&self, level_path: &str) -> Value {
        let mut ops = Vec::new();
        if let Some(level) = &self.level {
            ops.push(json!({"op": "replace", "path": level_path, "value": {"accountLicenseType": level, "licensingSource": "account"}}));
        }
        for id in &self.remove {
            ops.push(json!({"op": "remove", "path": format!("/projectEntitlements/{id}")}));
        }
        for grant in &self.add {
            ops.push(json!({"op": "add", "path": "/projectEntitlements", "value": grant.body()}));
        }
        Value::Array(ops)
    }
}

/// One `{"key": code, "value": message}` of an operation result.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ResultError {
    key: Value,
    value: Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct OperationResult {
    pub is_success: bool,
    pub errors: Vec<ResultError>,
}

/// The error a refused result stands for: its first code and every message.
pub(super) fn refused(operation: &'static str, errors: &[ResultError]) -> AdoError {
    let code = errors
        .iter()
        .find_map(|e| {
            e.key
                .as_u64()
                .or_else(|| e.key.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(0) as u32;
    let mut message = errors
        .iter()
        .map(|e| match &e.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    if message.is_empty() {
        message = "the service answered isSuccess: false without errors".into();
    }
    AdoError::Refused {
        detail: ApiErrorDetail {
            operation,
            status: Some(200),
            type_key: None,
            message,
        },
        code,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PostResponse {
    is_success: bool,
    operation_result: OperationResult,
    user_entitlement: Option<MemberEntitlement>,
    service_principal_entitlement: Option<MemberEntitlement>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PatchResponse {
    is_success: bool,
    operation_results: Vec<OperationResult>,
    user_entitlement: Option<MemberEntitlement>,
    service_principal_entitlement: Option<MemberEntitlement>,
}

fn decode_error(operation: &'static str, message: &str) -> AdoError {
    AdoError::Decode(ApiErrorDetail {
        operation,
        status: Some(200),
        type_key: None,
        message: message.to_string(),
    })
}

/// A user by principal name or Entra object id, or a service principal by object id: the
/// principal of a new entitlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewPrincipal {
    UserPrincipalName(String),
    UserObjectId(String),
    ServicePrincipalObjectId(String),
}

impl NewPrincipal {
    fn kind(&self) -> MemberKind {
        match self {
            NewPrincipal::ServicePrincipalObjectId(_) => MemberKind::ServicePrincipal,
            _ => MemberKind::User,
        }
    }

    fn body(&self) -> Value {
        match self {
            NewPrincipal::UserPrincipalName(upn) => {
                json!({"principalName": upn, "subjectKind": "user"})
            }
            NewPrincipal::UserObjectId(id) => {
                json!({"origin": "aad", "originId": id, "subjectKind": "user"})
            }
            NewPrincipal::ServicePrincipalObjectId(id) => {
                json!({"origin": "aad", "originId": id, "subjectKind": "servicePrincipal"})
            }
        }
    }
}

impl AdoClient {
    /// `{entitlement url}/_apis/{segments...}`; an error when the organization has none.
    pub(super) fn entitlement_url(&self, segments: &[&str]) -> Result<reqwest::Url, AdoError> {
        let base = self.inner.endpoint.entitlement_url.as_ref().ok_or_else(|| {
            AdoError::Config(
                "the organization has no entitlementUrl (set it when url is not https://dev.azure.com/<organization>)".into(),
            )
        })?;
        let mut all = vec!["_apis"];
        all.extend_from_slice(segments);
        super::client::join(base, &all)
    }

    /// The entitlement of a user or service principal, by id (storage key); `None` when it
    /// has none. 1 call.
    pub async fn member_entitlement(
        &self,
        kind: MemberKind,
        id: &str,
    ) -> Result<Option<MemberEntitlement>, AdoError> {
        let url = self.entitlement_url(&[kind.resource(), id])?;
        let call = Call::get(kind.operation(Verb::Get), url, kind.version());
        match self.execute(&call).await {
            Ok(reply) => Ok(Some(reply.json()?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Gives a principal its first entitlement. 1 call; `isSuccess: false` is an error.
    pub async fn add_member_entitlement(
        &self,
        principal: &NewPrincipal,
        level: &str,
        projects: &[ProjectGrant],
    ) -> Result<MemberEntitlement, AdoError> {
        let kind = principal.kind();
        let operation = kind.operation(Verb::Add);
        let url = self.entitlement_url(&[kind.resource()])?;
        let body = json!({
            "accessLevel": { "accountLicenseType": level, "licensingSource": "account" },
            kind.field(): principal.body(),
            "projectEntitlements": projects.iter().map(ProjectGrant::body).collect::<Vec<_>>(),
        });
        let call = Call::get(operation, url, kind.version())
            .with_method(Method::POST)
            .with_json(body)
            .not_idempotent();
        let reply: PostResponse = self.execute(&call).await?.json()?;
        if !reply.is_success || !reply.operation_result.is_success {
            return Err(refused(operation, &reply.operation_result.errors));
        }
        reply
            .user_entitlement
            .or(reply.service_principal_entitlement)
            .ok_or_else(|| decode_error(operation, "isSuccess without the entitlement"))
    }

    /// Changes an entitlement (level, project entitlements). 1 call; `isSuccess: false` (of
    /// the answer or any operation result) is an error.
    pub async fn update_member_entitlement(
        &self,
        kind: MemberKind,
        id: &str,
        change: &EntitlementChange,
    ) -> Result<MemberEntitlement, AdoError> {
        let operation = kind.operation(Verb::Update);
        let url = self.entitlement_url(&[kind.resource(), id])?;
        let call = Call::get(operation, url, kind.version())
            .with_method(Method::PATCH)
            .with_json_patch(change.document("/accessLevel"));
        let reply: PatchResponse = self.execute(&call).await?.json()?;
        if let Some(failed) = reply.operation_results.iter().find(|r| !r.is_success) {
            return Err(refused(operation, &failed.errors));
        }
        if !reply.is_success {
            return Err(refused(operation, &[]));
        }
        reply
            .user_entitlement
            .or(reply.service_principal_entitlement)
            .ok_or_else(|| decode_error(operation, "isSuccess without the entitlement"))
    }

    /// Removes a principal's entitlement (and the principal from the organization). 1 call; an
    /// entitlement already gone is no error.
    pub async fn delete_member_entitlement(
        &self,
        kind: MemberKind,
        id: &str,
    ) -> Result<(), AdoError> {
        let url = self.entitlement_url(&[kind.resource(), id])?;
        let call = Call::get(kind.operation(Verb::Delete), url, kind.version())
            .with_method(Method::DELETE);
        match self.execute(&call).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entitlement_names_its_user_or_service_principal() {
        // Trimmed from the published examples (UserEntitlementById, ServicePrincipalEntitlementById).
        let user: MemberEntitlement = serde_json::from_value(json!({
            "id": "fe2f1bdb-9779-491a-a6f6-c6e9322cfb00",
            "user": {
                "subjectKind": "user", "principalName": "user1@fabrikam.com",
                "origin": "aad", "originId": "00000000-0000-0000-0000-000000000000",
                "descriptor": "aad.wUGM3IDZ1UTZzczNtkTZmJWLiRzY30yNyE2MtcDNmFTOzMjY"
            },
            "accessLevel": { "accountLicenseType": "stakeholder", "assignmentSource": "unknown" },
            "projectEntitlements": []
        }))
        .unwrap();
        let subject = user.subject().expect("the user");
        assert_eq!(
            subject.principal_name.as_deref(),
            Some("user1@fabrikam.com")
        );
        assert!(subject.descriptor.starts_with("aad."));
        let sp: MemberEntitlement = serde_json::from_value(json!({
            "servicePrincipal": {
                "subjectKind": "servicePrincipal", "principalName": "16ba55b6-4d49-4712-9da8-1de280da5c0a",
                "origin": "aad", "originId": "16ba55b6-4d49-4712-9da8-1de280da5c0a",
                "descriptor": "aadsp.ZTM1NTU0YzUtMjg2MC03MWFkLWIzYjAtNzkzNWViMDg1Njg3"
            },
            "id": "593F6716-627C-6CCB-833E-77A7F9CA422F",
            "accessLevel": { "accountLicenseType": "stakeholder" }
        }))
        .unwrap();
        assert_eq!(
            sp.subject().and_then(|s| s.origin_id.as_deref()),
            Some("16ba55b6-4d49-4712-9da8-1de280da5c0a")
        );
        assert!(MemberEntitlement::default().subject().is_none());
    }

    #[test]
    fn change_documents_are_json_patch() {
        let change = EntitlementChange {
            level: Some("express".into()),
            add: vec![ProjectGrant {
                project_id: "p1".into(),
                group_type: "custom".into(),
                display_name: Some("Release Approvers".into()),
            }],
            remove: vec!["p2".into()],
        };
        let doc = change.document("/accessLevel");
        assert_eq!(doc[0]["path"], "/accessLevel");
        assert_eq!(doc[0]["value"]["accountLicenseType"], "express");
        assert_eq!(
            doc[1],
            json!({"op": "remove", "path": "/projectEntitlements/p2"})
        );
        assert_eq!(doc[2]["value"]["group"]["displayName"], "Release Approvers");
        assert!(EntitlementChange::default().is_empty());
    }

    #[test]
    fn refused_results_carry_code_and_message() {
        let errors: Vec<ResultError> = serde_json::from_value(json!([
            {"key": 5032, "value": "VS403283: no licences"},
            {"key": "5000", "value": "other"},
        ]))
        .unwrap();
        let err = refused("entitlements.users.add", &errors);
        match &err {
            AdoError::Refused { code, detail } => {
                assert_eq!(*code, 5032);
                assert!(detail.message.contains("VS403283") && detail.message.contains("other"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(err.reason(), crate::reason::Reason::LicenceUnavailable);
        assert!(!err.is_transient());
        let bare = refused("x", &[]);
        assert_eq!(bare.reason(), crate::reason::Reason::EntitlementRefused);
        assert!(bare.to_string().contains("isSuccess: false"));
    }
}
