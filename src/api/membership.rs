//! `DevOpsMembership`: the members of an Azure DevOps group.

use kube::core::Rule;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{CommonStatus, DeletionPolicy, ManagementPolicy, OrganizationRef};

/// The most members one object may list; split larger groups or nest Entra groups.
pub const MAX_MEMBERS: usize = 1000;

/// The members of one Azure DevOps group, added to it (Additive) or made its exact membership
/// (Exclusive).
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "azdo.io",
    version = "v1alpha1",
    cel,
    kind = "DevOpsMembership",
    namespaced,
    status = "DevOpsMembershipStatus",
    shortname = "azdomember",
    category = "azdo",
    doc = "The members of an Azure DevOps group: users, Entra groups, service principals and other groups.",
    printcolumn(
        name = "Group",
        type_ = "string",
        json_path = ".status.groupPrincipalName"
    ),
    printcolumn(name = "Mode", type_ = "string", json_path = ".spec.mode"),
    printcolumn(name = "Members", type_ = "string", json_path = ".status.summary"),
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
pub struct DevOpsMembershipSpec {
    /// The organization the group lives in.
    #[x_kube(validation = Rule::new("self == oldSelf").message("organizationRef is immutable"))]
    pub organization_ref: OrganizationRef,
    /// The group whose members this object manages.
    #[x_kube(validation = Rule::new("self == oldSelf").message("group is immutable: create a new DevOpsMembership instead"))]
    pub group: GroupTarget,
    /// The members. Each entry sets exactly one field.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub members: Vec<Member>,
    /// `Additive` (default) adds the listed members and removes only those this object added;
    /// `Exclusive` also removes every member not listed.
    #[serde(default)]
    pub mode: MembershipMode,
    /// `Delete` (default) removes, on deletion, the members this object added; `Orphan` keeps them.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Manage` (default) makes Azure DevOps match; `Observe` reads only and reports on
    /// `status.drift` what `Manage` would change (deleting an `Observe` object never writes).
    #[serde(default, skip_serializing_if = "ManagementPolicy::is_manage")]
    pub management_policy: ManagementPolicy,
}

/// Additive or Exclusive membership.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum MembershipMode {
    /// Add the listed members; never remove members this object did not add.
    #[default]
    Additive,
    /// Make the listed members the group's exact direct membership.
    Exclusive,
}

/// The group a membership applies to: exactly one field.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.groupRef) ? 1 : 0) + (has(self.principalName) ? 1 : 0) + (has(self.descriptor) ? 1 : 0) == 1").message("group must set exactly one of groupRef, principalName or descriptor"))]
pub struct GroupTarget {
    /// A DevOpsGroup in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ref: Option<LocalRef>,
    /// An existing group's principal name, e.g. `[MyProject]\Contributors` or `[contoso]\Readers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = principal_name_rule())]
    #[schemars(length(max = 320))]
    pub principal_name: Option<String>,
    /// An existing group's Graph descriptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = group_descriptor_rule())]
    #[schemars(length(max = 512))]
    pub descriptor: Option<String>,
}

/// A member: exactly one field.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.user) ? 1 : 0) + (has(self.entraUser) ? 1 : 0) + (has(self.entraGroup) ? 1 : 0) + (has(self.servicePrincipal) ? 1 : 0) + (has(self.group) ? 1 : 0) + (has(self.groupRef) ? 1 : 0) + (has(self.descriptor) ? 1 : 0) == 1").message("each member must set exactly one of user, entraUser, entraGroup, servicePrincipal, group, groupRef or descriptor"))]
pub struct Member {
    /// A user's principal name (UPN), e.g. `alice@contoso.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 256), regex(pattern = r"^[^@\s]+@[^@\s]+$"))]
    pub user: Option<String>,
    /// An Entra user's object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ))]
    pub entra_user: Option<String>,
    /// An Entra group's object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ))]
    pub entra_group: Option<String>,
    /// A service principal's (or managed identity's) object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ))]
    pub service_principal: Option<String>,
    /// An Azure DevOps group's principal name, e.g. `[MyProject]\Readers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = principal_name_rule())]
    #[schemars(length(max = 320))]
    pub group: Option<String>,
    /// A DevOpsGroup in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ref: Option<LocalRef>,
    /// Any subject's Graph descriptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 5, max = 512),
        regex(pattern = r"^[a-z]+\.[A-Za-z0-9+/=_.-]+$")
    )]
    pub descriptor: Option<String>,
}

impl Member {
    /// A stable, human-readable key for the member, used in status (`user:alice@contoso.com`).
    pub fn key(&self) -> String {
        let pairs: [(&str, Option<&String>); 7] = [
            ("user", self.user.as_ref()),
            ("entraUser", self.entra_user.as_ref()),
            ("entraGroup", self.entra_group.as_ref()),
            ("servicePrincipal", self.service_principal.as_ref()),
            ("group", self.group.as_ref()),
            ("groupRef", self.group_ref.as_ref().map(|r| &r.name)),
            ("descriptor", self.descriptor.as_ref()),
        ];
        pairs
            .iter()
            .find_map(|(k, v)| v.map(|v| format!("{k}:{v}")))
            .unwrap_or_else(|| "invalid:".to_string())
    }
}

/// A reference to an object in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalRef {
    /// The object's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

pub(super) fn principal_name_rule() -> Rule {
    Rule::new(r"self.matches('^\\[[^\\]]+\\]\\\\.+$')")
        .message(r"a group principal name looks like [Project]\Group or [organization]\Group")
}

fn group_descriptor_rule() -> Rule {
    Rule::new("self.startsWith('vssgp.') || self.startsWith('aadgp.')").message(
        "a group descriptor starts with vssgp. (Azure DevOps group) or aadgp. (Entra group)",
    )
}

/// The state of one member in Azure DevOps.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    /// The member as listed in spec (see [`Member::key`]).
    pub member: String,
    /// The member's Graph descriptor, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<String>,
    /// `Present`, `Pending` or `Failed`.
    pub state: MemberState,
    /// Why, when not `Present`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Details, when not `Present`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Where a listed member stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub enum MemberState {
    /// The member is in the group.
    Present,
    /// Not yet: waiting on something else (a group becoming Ready).
    Pending,
    /// The member could not be resolved or added; see reason and message.
    Failed,
}

/// What the operator found and did for a membership.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DevOpsMembershipStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The group's Graph descriptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_descriptor: Option<String>,
    /// The group's principal name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_principal_name: Option<String>,
    /// `present/listed`, e.g. `25/25`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Each listed member's state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberStatus>,
    /// Descriptors this object added to the group (what `Additive` may remove again, and
    /// what deletion removes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
}
