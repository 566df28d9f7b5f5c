//! `DevOpsGroup`: an Azure DevOps group at organization or project scope, or an Entra group
//! materialized into the organization.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{CommonStatus, DeletionPolicy, ManagementPolicy, OrganizationRef};

/// An Azure DevOps group the operator creates (or adopts) and keeps in shape.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "azdo.io",
    version = "v1alpha1",
    cel,
    kind = "DevOpsGroup",
    namespaced,
    status = "DevOpsGroupStatus",
    shortname = "azdogroup",
    category = "azdo",
    doc = "An Azure DevOps group (organization or project scope) or a materialized Entra group.",
    printcolumn(name = "Group", type_ = "string", json_path = ".status.principalName"),
    printcolumn(name = "Project", type_ = "string", json_path = ".spec.project"),
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
        name = "Descriptor",
        type_ = "string",
        json_path = ".status.descriptor",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.displayName) != has(self.entraGroup)").message("set exactly one of displayName (an Azure DevOps group) or entraGroup (an Entra group materialized into the organization)"))]
#[x_kube(validation = Rule::new("!has(self.entraGroup) || !has(self.project)").message("an entraGroup is materialized at organization scope: remove project"))]
#[x_kube(validation = Rule::new("!has(self.entraGroup) || !has(self.description)").message("an Entra group's description comes from Entra: remove description"))]
#[x_kube(validation = Rule::new("has(self.project) == has(oldSelf.project) && (!has(self.project) || self.project == oldSelf.project)").message("project is immutable: create a new DevOpsGroup instead"))]
#[x_kube(validation = Rule::new("has(self.entraGroup) == has(oldSelf.entraGroup) && (!has(self.entraGroup) || self.entraGroup == oldSelf.entraGroup)").message("entraGroup is immutable, and a group cannot switch between displayName and entraGroup"))]
pub struct DevOpsGroupSpec {
    /// The organization to manage the group in.
    #[x_kube(validation = Rule::new("self == oldSelf").message("organizationRef is immutable"))]
    pub organization_ref: OrganizationRef,
    /// The project (name) for a project-scoped group. Unset: organization scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub project: Option<String>,
    /// The Azure DevOps group's name. Renaming the object's displayName renames the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 256),
        regex(pattern = r#"^[^"/\\\[\]:|<>+=;?*,]+$"#)
    )]
    pub display_name: Option<String>,
    /// The Azure DevOps group's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    /// An Entra group to materialize into the organization instead of an Azure DevOps group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entra_group: Option<EntraGroupRef>,
    /// `Delete` deletes the group when the object is deleted (only a group the operator created
    /// for this object, or materialized for it: an adopted group is left unless a grant allows
    /// deleting adopted groups); `Orphan` keeps it. Default: `Delete` for Azure DevOps groups,
    /// `Orphan` for Entra groups (deleting one removes it, and every permission it holds, from
    /// the whole organization).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// `Manage` (default) makes Azure DevOps match; `Observe` reads only and reports on
    /// `status.drift` what `Manage` would change (deleting an `Observe` object never writes).
    #[serde(default, skip_serializing_if = "ManagementPolicy::is_manage")]
    pub management_policy: ManagementPolicy,
}

/// An Entra group, by object id or mail address.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.objectId) != has(self.mailAddress)").message("set exactly one of objectId or mailAddress"))]
pub struct EntraGroupRef {
    /// The Entra group's object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ))]
    pub object_id: Option<String>,
    /// The Entra group's mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 3, max = 256), regex(pattern = r"^[^@\s]+@[^@\s]+$"))]
    pub mail_address: Option<String>,
}

/// What the operator found in Azure DevOps for a group.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DevOpsGroupStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The group's Graph descriptor (`vssgp.…` or `aadgp.…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<String>,
    /// The group's principal name, e.g. `[Project]\Name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_name: Option<String>,
    /// The group's origin id (the Entra object id for Entra groups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_id: Option<String>,
    /// The project's id, for project-scoped groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// True when the group existed before this object and was adopted, not created.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopted: bool,
}
