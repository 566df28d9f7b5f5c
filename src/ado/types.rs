//! Wire models (camelCase JSON) and the small value types of the client API.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `{"count": n, "value": [...]}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ListResponse<T> {
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
}

/// `{"value": "..."}` (descriptors, storage keys).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ValueResponse {
    pub value: String,
}

/// A Graph group (Azure DevOps or materialized Entra group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphGroup {
    pub descriptor: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `[Project]\Name`, `[Org]\Name` or `[TEAM FOUNDATION]\Name` (Entra).
    #[serde(default)]
    pub principal_name: Option<String>,
    /// `vsts` or `aad`.
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub origin_id: Option<String>,
    /// `vstfs:///Classification/TeamProject/{projectId}` for project groups.
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub mail_address: Option<String>,
    #[serde(default)]
    pub subject_kind: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// Deleted groups are still returned by GET.
    #[serde(default)]
    pub is_deleted: bool,
}

impl GraphGroup {
    /// An Azure DevOps group (not backed by Entra).
    pub fn is_azure_devops_group(&self) -> bool {
        self.descriptor.starts_with("vssgp.")
    }

    /// A project-scoped group (its domain is the project).
    pub fn project_id(&self) -> Option<&str> {
        self.domain
            .as_deref()
            .and_then(|d| d.strip_prefix(PROJECT_DOMAIN_PREFIX))
    }
}

pub(crate) const PROJECT_DOMAIN_PREFIX: &str = "vstfs:///Classification/TeamProject/";

/// Any Graph subject: user, service principal, group. Only the fields the operator reads (its
/// `url` and `_links` are left out: thousands of subjects are cached at a time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphSubject {
    pub descriptor: String,
    /// `User`, `Group`, `ServicePrincipal`, `Scope`, ...
    #[serde(default)]
    pub subject_kind: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub principal_name: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub origin_id: Option<String>,
    #[serde(default)]
    pub mail_address: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
}

/// A membership edge.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Membership {
    pub member_descriptor: String,
    pub container_descriptor: String,
}

/// How to find an Entra group to materialize.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntraGroupKey {
    ObjectId(String),
    Mail(String),
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
}

/// A pipeline (build definition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineRef {
    pub id: i64,
    pub name: String,
    /// Folder, e.g. `\` or `\team\deploy`.
    #[serde(default = "root_folder", rename = "path")]
    pub folder: String,
}

fn root_folder() -> String {
    "\\".to_string()
}

/// Azure DevOps and Entra group descriptors (`vssgp.`, `aadgp.`). Users, service principals
/// and other subjects cannot have members, so no nesting (and no cycle) goes through them.
pub fn is_group_descriptor(descriptor: &str) -> bool {
    let kind = descriptor.split('.').next().unwrap_or_default();
    kind.eq_ignore_ascii_case("vssgp") || kind.eq_ignore_ascii_case("aadgp")
}

/// Normalize a folder to Azure DevOps' form: leading backslash, backslash separators, no
/// trailing separator (`team/deploy/` -> `\team\deploy`, empty -> `\`).
pub fn normalize_folder(folder: &str) -> String {
    let parts: Vec<&str> = folder
        .split(['\\', '/'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    format!("\\{}", parts.join("\\"))
}

/// The seven resource types pipeline permissions apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Queue,
    AgentPool,
    Environment,
    Endpoint,
    VariableGroup,
    SecureFile,
    Repository,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 7] = [
        ResourceKind::Queue,
        ResourceKind::AgentPool,
        ResourceKind::Environment,
        ResourceKind::Endpoint,
        ResourceKind::VariableGroup,
        ResourceKind::SecureFile,
        ResourceKind::Repository,
    ];

    /// The `type` on the wire and in the permissions URL.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceKind::Queue => "queue",
            ResourceKind::AgentPool => "agentpool",
            ResourceKind::Environment => "environment",
            ResourceKind::Endpoint => "endpoint",
            ResourceKind::VariableGroup => "variablegroup",
            ResourceKind::SecureFile => "securefile",
            ResourceKind::Repository => "repository",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Unknown resource type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resource type {0:?} (expected queue, agentpool, environment, endpoint, variablegroup, securefile or repository)")]
pub struct UnknownResourceKind(pub String);

impl FromStr for ResourceKind {
    type Err = UnknownResourceKind;

    /// Case-insensitive, as Azure DevOps accepts them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        ResourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == lower)
            .ok_or_else(|| UnknownResourceKind(s.to_string()))
    }
}

/// A resource found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRef {
    pub kind: ResourceKind,
    /// The id pipeline permissions use: integer, GUID, or `{projectId}.{repoId}`.
    pub id: String,
    pub name: String,
}

/// Who authorized a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<String>,
}

/// The resource a permission document is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionResource {
    /// Resource type as sent by Azure DevOps (case may vary).
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl PermissionResource {
    pub fn new(kind: ResourceKind, id: impl Into<String>) -> Self {
        Self {
            kind: kind.as_str().to_string(),
            id: id.into(),
            name: None,
        }
    }

    /// The parsed type, if it is one of the seven.
    pub fn resource_kind(&self) -> Option<ResourceKind> {
        self.kind.parse().ok()
    }
}

/// `authorized` plus who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    pub authorized: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_by: Option<IdentityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_on: Option<String>,
}

/// One pipeline's authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelinePermission {
    pub id: i64,
    pub authorized: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_by: Option<IdentityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_on: Option<String>,
}

impl PipelinePermission {
    pub fn new(id: i64, authorized: bool) -> Self {
        Self {
            id,
            authorized,
            authorized_by: None,
            authorized_on: None,
        }
    }
}

/// The permission document of one resource (GET result, PATCH body and PATCH result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePipelinePermissions {
    pub resource: PermissionResource,
    #[serde(default)]
    pub pipelines: Vec<PipelinePermission>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_pipelines: Option<Permission>,
}

impl ResourcePipelinePermissions {
    /// Whether a pipeline is authorized (explicitly, or through "all pipelines").
    pub fn is_authorized(&self, pipeline_id: i64) -> bool {
        self.all_pipelines.as_ref().is_some_and(|p| p.authorized)
            || self
                .pipelines
                .iter()
                .any(|p| p.id == pipeline_id && p.authorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_group_descriptors_can_have_members() {
        assert!(is_group_descriptor("vssgp.Uy0xLTk"));
        assert!(is_group_descriptor("aadgp.Uy0xLTk"));
        assert!(is_group_descriptor("VSSGP.Uy0xLTk"));
        assert!(!is_group_descriptor("aad.Uy0xLTk"));
        assert!(!is_group_descriptor("aadsp.Uy0xLTk"));
        assert!(!is_group_descriptor("svc.Uy0xLTk"));
    }

    #[test]
    fn resource_kinds_parse_case_insensitively_and_round_trip() {
        for kind in ResourceKind::ALL {
            assert_eq!(kind.as_str().parse::<ResourceKind>().unwrap(), kind);
            assert_eq!(
                kind.as_str()
                    .to_uppercase()
                    .parse::<ResourceKind>()
                    .unwrap(),
                kind
            );
        }
        assert_eq!(
            "VariableGroup".parse::<ResourceKind>().unwrap(),
            ResourceKind::VariableGroup
        );
        assert!("pool".parse::<ResourceKind>().is_err());
        assert_eq!(
            serde_json::to_value(ResourceKind::AgentPool).unwrap(),
            "agentpool"
        );
    }

    #[test]
    fn folders_normalize_to_backslash_form() {
        assert_eq!(normalize_folder(""), "\\");
        assert_eq!(normalize_folder("\\"), "\\");
        assert_eq!(normalize_folder("team/deploy/"), "\\team\\deploy");
        assert_eq!(normalize_folder("\\team\\deploy"), "\\team\\deploy");
        assert_eq!(normalize_folder("/team//deploy"), "\\team\\deploy");
    }

    #[test]
    fn permission_documents_serialize_like_the_api_sample() {
        let update = ResourcePipelinePermissions {
            resource: PermissionResource::new(ResourceKind::Queue, "1"),
            pipelines: vec![PipelinePermission::new(16, true)],
            all_pipelines: None,
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            serde_json::json!({"resource": {"type": "queue", "id": "1"}, "pipelines": [{"id": 16, "authorized": true}]})
        );
        let response: ResourcePipelinePermissions = serde_json::from_value(serde_json::json!({
            "resource": {"type": "Queue", "id": "1"},
            "pipelines": [{"id": 6, "authorized": true, "authorizedBy": {"displayName": "User Name", "id": "3b3d"}, "authorizedOn": "2020-01-02T08:59:48.77Z"}],
            "allPipelines": {"authorized": false}
        }))
        .unwrap();
        assert_eq!(response.resource.resource_kind(), Some(ResourceKind::Queue));
        assert!(response.is_authorized(6));
        assert!(!response.is_authorized(7));
        assert_eq!(
            response.pipelines[0]
                .authorized_by
                .as_ref()
                .unwrap()
                .display_name
                .as_deref(),
            Some("User Name")
        );
    }

    #[test]
    fn groups_deserialize_from_graph_json() {
        let group: GraphGroup = serde_json::from_value(serde_json::json!({
            "subjectKind": "group",
            "description": "d",
            "domain": "vstfs:///Classification/TeamProject/0e8d6a2b-0000-0000-0000-000000000001",
            "principalName": "[Web]\\Readers",
            "mailAddress": null,
            "origin": "vsts",
            "originId": "abc",
            "displayName": "Readers",
            "_links": {},
            "url": "https://vssps.dev.azure.com/contoso/_apis/Graph/Groups/vssgp.x",
            "descriptor": "vssgp.x"
        }))
        .unwrap();
        assert!(group.is_azure_devops_group());
        assert!(!group.is_deleted);
        assert_eq!(
            group.project_id(),
            Some("0e8d6a2b-0000-0000-0000-000000000001")
        );
    }
}
