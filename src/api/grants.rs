//! Grants: what the platform team lets namespaces do in an organization. Modelled on Argo CD
//! AppProjects (what a project's applications may reach, declared by the platform team), on
//! external-secrets' ClusterSecretStore `conditions` (which namespaces may use a shared store)
//! and on Capsule tenants (a set of namespaces, selected by name or label, sharing one policy).
//! See docs/security.md for the reasoning.

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

use super::organization::AllowedNamespaces;
use super::{AccessLevel, ProjectGroupType, ResourceType, RoleResourceType};

/// What a set of namespaces may do in the organization. Anything no grant allows is refused
/// before any Azure DevOps write (`Ready=False`, reason `NotAllowed`). Several grants matching a
/// namespace add up.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// The namespaces this grant is for: by name and/or label selector. Required on a
    /// ClusterDevOpsOrganization; a DevOpsOrganization only ever serves its own namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<AllowedNamespaces>,
    /// Projects (names or ids, `*` for every project) the namespaces may work in: create
    /// groups there, manage the members of the groups they created there, and (with
    /// `pipelineResources`) authorize pipelines there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub projects: Vec<String>,
    /// Organization-level groups: create them and materialize Entra groups in the organization.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub organization_scope: bool,
    /// Existing groups the namespaces did not create that a DevOpsGroup may adopt or a
    /// DevOpsMembership may add members to, as principal-name patterns (`*` matches any text,
    /// case-insensitive), e.g. `[Storefront]\Contributors` or `[Storefront]\Storefront *`.
    /// Protected groups stay out of reach whatever a pattern says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub groups: Vec<String>,
    /// Whether an `Exclusive` DevOpsMembership may manage a group the namespace did not create
    /// (it removes every member nobody listed). Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive_membership: bool,
    /// Whether deleting a DevOpsGroup (with `deletionPolicy: Delete`) may delete a group it
    /// adopted rather than created. Default: false (an adopted group is always left in place).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_adopted_groups: bool,
    /// Protected resources whose pipeline authorizations the namespaces may manage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub pipeline_resources: Vec<ResourceGrant>,
    /// Whether a PipelineResourceAuthorization may set `allPipelines` (open a resource to every
    /// pipeline of the project, or close it). Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_pipelines: bool,
    /// Protected resources whose security role assignments (DevOpsRoleAssignment) the
    /// namespaces may manage, and how far: Administrator and Exclusive mode only where an entry
    /// says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub role_assignments: Vec<RoleGrant>,
    /// Protected resources whose approvals and checks (PipelineResourceCheck) the namespaces
    /// may manage; Exclusive mode (removing checks nobody listed) only where an entry says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub checks: Vec<CheckGrant>,
    /// Access levels and project entitlements a DevOpsEntitlement may give (in the grant's
    /// `projects`), and whether it may set group rules. Unset: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<EntitlementGrant>,
}

/// Protected resources of one type (or of every type) whose checks a grant lets namespaces
/// put on or remove.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("size(self.names) > 0").message("a checks entry needs names (patterns on the resource's name, or its id; * for all)"))]
pub struct CheckGrant {
    /// The resource type; unset: every type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ResourceType>,
    /// The project the resources are in (name or id); unset: any of the grant's projects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub project: Option<String>,
    /// Patterns on the resource's name (`*` matches any text, case-insensitive), or its id.
    #[schemars(length(max = 256))]
    pub names: Vec<String>,
    /// Whether a PipelineResourceCheck may use Exclusive mode on these resources (remove every
    /// check it does not list, including checks made by hand). Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
}

/// What DevOpsEntitlements may give. Licences cost money: every level is named explicitly.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntitlementGrant {
    /// Access levels the namespaces may assign (e.g. only `Stakeholder`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub access_levels: Vec<AccessLevel>,
    /// Project groups a project entitlement may name, in the grant's `projects` (e.g.
    /// `Readers`, `Contributors`; `ProjectAdministrators` only when listed; `Custom` lets any
    /// custom project group be named).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub project_groups: Vec<ProjectGroupType>,
    /// Whether group rules may be set: on groups a DevOpsGroup of the namespace created, or
    /// that the grant's `groups` names (never on protected groups). Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub group_rules: bool,
}

/// Protected resources of one type (or of every type) in a grant.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("size(self.names) > 0").message("a pipelineResources entry needs names (patterns on the resource's name, or its id; * for all)"))]
pub struct ResourceGrant {
    /// The resource type; unset: every type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ResourceType>,
    /// The project the resources are in (name or id); unset: any of the grant's projects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub project: Option<String>,
    /// Patterns on the resource's name (`*` matches any text, case-insensitive), or its id.
    #[schemars(length(max = 256))]
    pub names: Vec<String>,
}

/// Protected resources of one type (or of every project-level type) whose security roles a
/// grant lets namespaces assign.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("size(self.names) > 0").message("a roleAssignments entry needs names (patterns on the resource's name, or its id; * for all)"))]
#[x_kube(validation = Rule::new("!has(self.project) || !has(self.type) || self.type != 'agentpool'").message("agent pools belong to the organization: a roleAssignments entry for agentpool takes no project"))]
pub struct RoleGrant {
    /// The resource type; unset: every type that lives in a project (organization agent pools
    /// only ever match an entry of type `agentpool`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<RoleResourceType>,
    /// The project the resources are in (name or id); unset: any of the grant's projects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub project: Option<String>,
    /// Patterns on the resource's name (`*` matches any text, case-insensitive), or its id.
    /// The project's Library is named `Library`.
    #[schemars(length(max = 256))]
    pub names: Vec<String>,
    /// Whether the Administrator role may be assigned (Administrator of a resource can change
    /// its security and hand it to anyone: a takeover). Also needed to set `inheritance`.
    /// Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub administrator: bool,
    /// Whether a DevOpsRoleAssignment may use Exclusive mode (remove every explicit
    /// assignment it does not list). Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
}
