//! `PipelineResourceAuthorization`: which pipelines may use a protected resource.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{CommonStatus, ManagementPolicy, OrganizationRef};

/// The pipelines allowed to use one protected resource (queue, agent pool, environment,
/// service connection, variable group, secure file or repository).
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "azdo.io",
    version = "v1alpha1",
    cel,
    kind = "PipelineResourceAuthorization",
    namespaced,
    status = "PipelineResourceAuthorizationStatus",
    shortname = "azdopra",
    category = "azdo",
    doc = "Authorizes pipelines to use a protected Azure DevOps resource.",
    printcolumn(name = "Project", type_ = "string", json_path = ".spec.project"),
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.resource.type"),
    printcolumn(
        name = "Resource",
        type_ = "string",
        json_path = ".status.resourceName"
    ),
    printcolumn(name = "Pipelines", type_ = "string", json_path = ".status.summary"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("size(self.pipelines) > 0 || has(self.allPipelines)").message("list pipelines or set allPipelines"))]
pub struct PipelineResourceAuthorizationSpec {
    /// The organization.
    #[x_kube(validation = Rule::new("self == oldSelf").message("organizationRef is immutable"))]
    pub organization_ref: OrganizationRef,
    /// The pipelines' project (name or id).
    #[x_kube(validation = Rule::new("self == oldSelf").message("project is immutable"))]
    #[schemars(length(min = 1, max = 64))]
    pub project: String,
    /// The protected resource.
    #[x_kube(validation = Rule::new("self == oldSelf").message("resource is immutable: create a new PipelineResourceAuthorization instead"))]
    pub resource: ResourceSelector,
    /// The pipelines to authorize. Pipelines removed from this list are revoked.
    #[serde(default)]
    #[schemars(length(max = 500))]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub pipelines: Vec<PipelineSelector>,
    /// Authorize (`true`) or explicitly not authorize (`false`) every pipeline of the project.
    /// Unset: leave the open-access setting alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_pipelines: Option<bool>,
    /// `Revoke` (default) revokes, on deletion, what this object authorized; `Orphan` keeps it.
    #[serde(default)]
    pub deletion_policy: RevocationPolicy,
    /// `Manage` (default) makes Azure DevOps match; `Observe` reads only and reports on
    /// `status.drift` what `Manage` would change (deleting an `Observe` object never writes).
    #[serde(default, skip_serializing_if = "ManagementPolicy::is_manage")]
    pub management_policy: ManagementPolicy,
}

/// What deletion does to the authorizations this object made.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum RevocationPolicy {
    /// Revoke what this object authorized.
    #[default]
    Revoke,
    /// Keep the authorizations.
    Orphan,
}

/// The kinds of protected resources.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    /// An agent queue (the project's view of a pool; id is the queue id, not the pool id).
    Queue,
    /// An organization agent pool.
    Agentpool,
    /// An environment.
    Environment,
    /// A service connection.
    Endpoint,
    /// A variable group.
    Variablegroup,
    /// A secure file.
    Securefile,
    /// A Git repository.
    Repository,
}

impl ResourceType {
    /// The type's name in the pipeline permissions API.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceType::Queue => "queue",
            ResourceType::Agentpool => "agentpool",
            ResourceType::Environment => "environment",
            ResourceType::Endpoint => "endpoint",
            ResourceType::Variablegroup => "variablegroup",
            ResourceType::Securefile => "securefile",
            ResourceType::Repository => "repository",
        }
    }
}

/// The resource, by id or name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.id) != has(self.name)").message("resource must set exactly one of id or name"))]
#[x_kube(validation = Rule::new("!has(self.project) || self.type == 'repository'").message("resource.project applies only to repositories in another project"))]
#[x_kube(validation = Rule::new("!has(self.id) || self.type in ['endpoint', 'securefile', 'repository'] || self.id.matches('^[0-9]+$')").message("resource.id must be an integer for queue, agentpool, environment and variablegroup"))]
#[x_kube(validation = Rule::new("!has(self.id) || !(self.type in ['endpoint', 'securefile']) || self.id.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')").message("resource.id must be a GUID for endpoint and securefile"))]
pub struct ResourceSelector {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_: ResourceType,
    /// The resource id: an integer for queue, agentpool, environment and variablegroup; a GUID
    /// for endpoint and securefile; the repository GUID (or `projectId.repoId`) for repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub id: Option<String>,
    /// The resource name (looked up in the project, or in the organization for agent pools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub name: Option<String>,
    /// For a repository in another project: that project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub project: Option<String>,
}

/// A pipeline, by id or by name (and folder).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.id) != has(self.name)").message("each pipeline must set exactly one of id or name"))]
#[x_kube(validation = Rule::new("!has(self.path) || has(self.name)").message("pipeline path applies only with name"))]
pub struct PipelineSelector {
    /// The pipeline (build definition) id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub id: Option<i64>,
    /// The pipeline name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub name: Option<String>,
    /// The pipeline's folder, e.g. `\team-a`, to tell apart pipelines of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 400))]
    pub path: Option<String>,
}

impl PipelineSelector {
    /// A human-readable key for status (`id:16` or `name:\team-a\deploy`).
    pub fn key(&self) -> String {
        match (&self.id, &self.name, &self.path) {
            (Some(id), _, _) => format!("id:{id}"),
            (None, Some(name), Some(path)) => {
                format!("name:{}\\{name}", path.trim_end_matches('\\'))
            }
            (None, Some(name), None) => format!("name:{name}"),
            (None, None, _) => "invalid:".to_string(),
        }
    }
}

/// The state of one listed pipeline.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStatus {
    /// The pipeline as listed in spec (see [`PipelineSelector::key`]).
    pub pipeline: String,
    /// Its id, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `Authorized` or `Failed`.
    pub state: PipelineState,
    /// Why, when not authorized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Details, when not authorized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Where a listed pipeline stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub enum PipelineState {
    /// The pipeline may use the resource.
    Authorized,
    /// The pipeline could not be resolved or authorized.
    Failed,
}

/// What the operator found and did for an authorization.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineResourceAuthorizationStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The resource id used with the pipeline permissions API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The resource's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// `authorized/listed`, e.g. `5/5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Each listed pipeline's state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<PipelineStatus>,
    /// Pipeline ids this object authorized (what it revokes when they leave the spec or on deletion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized: Vec<i64>,
    /// The open-access setting this object applied, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_pipelines: Option<bool>,
}
