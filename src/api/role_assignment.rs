//! `DevOpsRoleAssignment`: who holds which security role (Reader, User, Creator,
//! Administrator, ...) on one protected resource.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{CommonStatus, DeletionPolicy, ManagementPolicy, OrganizationRef};
use super::membership::{Member, MembershipMode};

/// The security roles of one protected resource (environment, service connection, agent queue
/// or pool, variable group, secure file, or the project's Library), added to it (Additive) or
/// made its exact explicit assignments (Exclusive).
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "azdo.io",
    version = "v1alpha1",
    cel,
    kind = "DevOpsRoleAssignment",
    namespaced,
    status = "DevOpsRoleAssignmentStatus",
    shortname = "azdorole",
    category = "azdo",
    doc = "Security role assignments (Reader, User, Creator, Administrator) on a protected Azure DevOps resource.",
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.resource.type"),
    printcolumn(
        name = "Resource",
        type_ = "string",
        json_path = ".status.resourceName"
    ),
    printcolumn(name = "Mode", type_ = "string", json_path = ".spec.mode"),
    printcolumn(name = "Assigned", type_ = "string", json_path = ".status.summary"),
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
#[x_kube(validation = Rule::new("self.resource.type == 'agentpool' ? !has(self.project) : has(self.project)").message("project is required for every resource type except agentpool (agent pools belong to the organization), and must be absent for agentpool"))]
#[x_kube(validation = Rule::new("has(self.project) == has(oldSelf.project)").message("project is immutable"))]
pub struct DevOpsRoleAssignmentSpec {
    /// The organization.
    #[x_kube(validation = Rule::new("self == oldSelf").message("organizationRef is immutable"))]
    pub organization_ref: OrganizationRef,
    /// The resource's project (name or id); absent for agent pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("project is immutable"))]
    #[schemars(length(min = 1, max = 64))]
    pub project: Option<String>,
    /// The protected resource.
    #[x_kube(validation = Rule::new("self == oldSelf").message("resource is immutable: create a new DevOpsRoleAssignment instead"))]
    pub resource: RoleResource,
    /// Roles and who holds them. An identity holds one role per resource: list it once.
    #[serde(default)]
    #[schemars(length(max = 8))]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub assignments: Vec<RoleMembers>,
    /// `Additive` (default) assigns the listed roles and removes only what this object
    /// assigned; `Exclusive` also removes every explicit assignment not listed.
    #[serde(default)]
    pub mode: MembershipMode,
    /// `Delete` (default) removes, on deletion, the assignments this object made; `Orphan`
    /// keeps them.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Manage` (default) makes Azure DevOps match; `Observe` reads only and reports on
    /// `status.drift` what `Manage` would change (deleting an `Observe` object never writes).
    #[serde(default, skip_serializing_if = "ManagementPolicy::is_manage")]
    pub management_policy: ManagementPolicy,
    /// Whether the resource inherits the role assignments of its parent scope (the project's
    /// collection of such resources, or the Library). Unset: leave it as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inheritance: Option<bool>,
}

/// The resource types that carry security roles.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleResourceType {
    /// An environment.
    Environment,
    /// A service connection.
    Endpoint,
    /// An agent queue (the project's view of a pool).
    Queue,
    /// An organization agent pool (no project).
    Agentpool,
    /// A variable group.
    Variablegroup,
    /// A secure file.
    Securefile,
    /// The project's Library as a whole (variable groups and secure files inherit from it).
    Library,
}

impl RoleResourceType {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleResourceType::Environment => "environment",
            RoleResourceType::Endpoint => "endpoint",
            RoleResourceType::Queue => "queue",
            RoleResourceType::Agentpool => "agentpool",
            RoleResourceType::Variablegroup => "variablegroup",
            RoleResourceType::Securefile => "securefile",
            RoleResourceType::Library => "library",
        }
    }
}

/// The resource, by id or name (the Library: neither).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.type == 'library' ? (!has(self.id) && !has(self.name)) : has(self.id) != has(self.name)").message("resource must set exactly one of id or name (and neither for library)"))]
#[x_kube(validation = Rule::new("!has(self.id) || self.type in ['endpoint', 'securefile'] || self.id.matches('^[0-9]+$')").message("resource.id must be an integer for queue, agentpool, environment and variablegroup"))]
#[x_kube(validation = Rule::new("!has(self.id) || !(self.type in ['endpoint', 'securefile']) || self.id.matches('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')").message("resource.id must be a GUID for endpoint and securefile"))]
pub struct RoleResource {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_: RoleResourceType,
    /// The resource id: an integer for queue, agentpool, environment and variablegroup; a GUID
    /// for endpoint and securefile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub id: Option<String>,
    /// The resource name (looked up in the project, or in the organization for agent pools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub name: Option<String>,
}

/// One role and its members.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleMembers {
    /// The role's name as the resource type defines it: `Reader`, `User`, `Administrator`,
    /// and `Creator` or `Service Account` where the type has them.
    #[schemars(length(min = 1, max = 64))]
    pub role: String,
    /// Who holds the role: users, Entra groups, service principals, Azure DevOps groups, in
    /// every form a DevOpsMembership accepts. Each entry sets exactly one field.
    #[schemars(length(max = 500))]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub members: Vec<Member>,
}

/// The state of one listed (role, member).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentStatus {
    /// `role/member`, e.g. `User/user:alice@contoso.com`.
    pub assignment: String,
    /// The member's identity id (what the role assignment names), once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    /// `Assigned`, `Pending` or `Failed`.
    pub state: AssignmentState,
    /// Why, when not `Assigned`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Details, when not `Assigned`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Where a listed assignment stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub enum AssignmentState {
    /// The member holds the role on the resource.
    Assigned,
    /// Not yet: waiting on something else (a DevOpsGroup becoming Ready).
    Pending,
    /// The member or role could not be resolved or assigned; see reason and message.
    Failed,
}

/// What the operator found and did for a role assignment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DevOpsRoleAssignmentStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The security role scope id, e.g. `distributedtask.environmentreferencerole`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The resource id of the security roles API, e.g. `{projectId}_{environmentId}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The resource's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// `assigned/listed`, e.g. `5/5`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Each listed (role, member)'s state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignments: Vec<AssignmentStatus>,
    /// `identityId=Role` this object assigned (informational: cleanup follows the operator's
    /// own ledger, never this field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assigned: Vec<String>,
}
