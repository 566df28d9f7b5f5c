//! `DevOpsEntitlement`: the access level (licence) and project entitlements of a user or a
//! service principal, or a group rule (a group's access level and project entitlements, applied
//! by Azure DevOps to every member of the group).

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{CommonStatus, DeletionPolicy, ManagementPolicy, OrganizationRef};
use super::membership::{LocalRef, Member};

/// An access level and project entitlements for one user or service principal, or a group
/// rule for one group.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "azdo.io",
    version = "v1alpha1",
    cel,
    kind = "DevOpsEntitlement",
    namespaced,
    status = "DevOpsEntitlementStatus",
    shortname = "azdoent",
    category = "azdo",
    doc = "An Azure DevOps access level (Stakeholder, Basic, Basic + Test Plans) and project entitlements for a user or service principal, or a group rule applied to a group's members.",
    printcolumn(name = "Kind", type_ = "string", json_path = ".status.target"),
    printcolumn(name = "Principal", type_ = "string", json_path = ".status.principal"),
    printcolumn(name = "Access", type_ = "string", json_path = ".status.accessLevel"),
    printcolumn(name = "Rule", type_ = "string", json_path = ".status.ruleStatus"),
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
#[x_kube(validation = Rule::new("self.projectEntitlements.all(a, self.projectEntitlements.exists_one(b, b.project.lowerAscii() == a.project.lowerAscii()))").message("each project appears once in projectEntitlements (a principal has one project entitlement per project)"))]
pub struct DevOpsEntitlementSpec {
    /// The organization.
    #[x_kube(validation = Rule::new("self == oldSelf").message("organizationRef is immutable"))]
    pub organization_ref: OrganizationRef,
    /// Who: a user (`user` or `entraUser`) or a service principal (`servicePrincipal`, its
    /// Entra object id) gets an entitlement; a group (`entraGroup`, `group` or `groupRef`) gets
    /// a group rule, applied to its members.
    #[x_kube(validation = Rule::new("self == oldSelf").message("principal is immutable: create a new DevOpsEntitlement instead"))]
    pub principal: Principal,
    /// The access level.
    pub access_level: AccessLevel,
    /// Projects and the project group the principal joins in each (one per project).
    #[serde(default)]
    #[schemars(length(max = 64))]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub project_entitlements: Vec<ProjectEntitlementSpec>,
    /// `Delete` (default) removes, on deletion, what this object did: the entitlement or rule
    /// it created, or (when it changed an existing one) its project entitlements and the access
    /// level it replaced. `Orphan` keeps everything.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Manage` (default) makes Azure DevOps match; `Observe` reads only and reports on
    /// `status.drift` what `Manage` would change (deleting an `Observe` object never writes).
    #[serde(default, skip_serializing_if = "ManagementPolicy::is_manage")]
    pub management_policy: ManagementPolicy,
}

/// The principal: exactly one field.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.user) ? 1 : 0) + (has(self.entraUser) ? 1 : 0) + (has(self.servicePrincipal) ? 1 : 0) + (has(self.entraGroup) ? 1 : 0) + (has(self.group) ? 1 : 0) + (has(self.groupRef) ? 1 : 0) == 1").message("principal must set exactly one of user, entraUser, servicePrincipal, entraGroup, group or groupRef"))]
pub struct Principal {
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
    /// A service principal's (or managed identity's) Entra OBJECT id (not its application id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ))]
    pub service_principal: Option<String>,
    /// A group rule on an Entra group, by object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ))]
    pub entra_group: Option<String>,
    /// A group rule on an Azure DevOps group, by principal name, e.g. `[Storefront]\Team`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = super::membership::principal_name_rule())]
    #[schemars(length(max = 320))]
    pub group: Option<String>,
    /// A group rule on the group a DevOpsGroup of this namespace manages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ref: Option<LocalRef>,
}

/// Which kind of entitlement a principal gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntitlementTarget {
    User,
    ServicePrincipal,
    GroupRule,
}

impl EntitlementTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            EntitlementTarget::User => "User",
            EntitlementTarget::ServicePrincipal => "ServicePrincipal",
            EntitlementTarget::GroupRule => "GroupRule",
        }
    }
}

impl Principal {
    pub fn target(&self) -> EntitlementTarget {
        if self.service_principal.is_some() {
            EntitlementTarget::ServicePrincipal
        } else if self.user.is_some() || self.entra_user.is_some() {
            EntitlementTarget::User
        } else {
            EntitlementTarget::GroupRule
        }
    }

    /// The same principal as a membership member (to resolve it the same way).
    pub fn as_member(&self) -> Member {
        Member {
            user: self.user.clone(),
            entra_user: self.entra_user.clone(),
            entra_group: self.entra_group.clone(),
            service_principal: self.service_principal.clone(),
            group: self.group.clone(),
            group_ref: self.group_ref.clone(),
            descriptor: None,
        }
    }

    /// For messages and the status: `user:alice@contoso.com`, `groupRef:team`, ...
    pub fn key(&self) -> String {
        self.as_member().key()
    }
}

/// Azure DevOps access levels (`accountLicenseType` on the wire).
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    schemars::JsonSchema,
)]
pub enum AccessLevel {
    /// `stakeholder`: free, limited (work items, no code).
    Stakeholder,
    /// `express`: Basic.
    Basic,
    /// `advanced`: Basic + Test Plans.
    BasicPlusTestPlans,
    /// `professional`: Visual Studio subscriber (the account licence type the spec names for
    /// it).
    VisualStudioSubscriber,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 4] = [
        AccessLevel::Stakeholder,
        AccessLevel::Basic,
        AccessLevel::BasicPlusTestPlans,
        AccessLevel::VisualStudioSubscriber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Stakeholder => "Stakeholder",
            AccessLevel::Basic => "Basic",
            AccessLevel::BasicPlusTestPlans => "BasicPlusTestPlans",
            AccessLevel::VisualStudioSubscriber => "VisualStudioSubscriber",
        }
    }

    /// `accountLicenseType`.
    pub fn wire(self) -> &'static str {
        match self {
            AccessLevel::Stakeholder => "stakeholder",
            AccessLevel::Basic => "express",
            AccessLevel::BasicPlusTestPlans => "advanced",
            AccessLevel::VisualStudioSubscriber => "professional",
        }
    }

    pub fn from_wire(wire: &str) -> Option<AccessLevel> {
        AccessLevel::ALL
            .into_iter()
            .find(|l| l.wire().eq_ignore_ascii_case(wire))
    }
}

/// The project groups a project entitlement can name.
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    schemars::JsonSchema,
)]
pub enum ProjectGroupType {
    Readers,
    Contributors,
    ProjectAdministrators,
    Stakeholders,
    /// A custom project group, named in `customGroup`.
    Custom,
}

impl ProjectGroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectGroupType::Readers => "Readers",
            ProjectGroupType::Contributors => "Contributors",
            ProjectGroupType::ProjectAdministrators => "ProjectAdministrators",
            ProjectGroupType::Stakeholders => "Stakeholders",
            ProjectGroupType::Custom => "Custom",
        }
    }

    /// `group.groupType`.
    pub fn wire(self) -> &'static str {
        match self {
            ProjectGroupType::Readers => "projectReader",
            ProjectGroupType::Contributors => "projectContributor",
            ProjectGroupType::ProjectAdministrators => "projectAdministrator",
            ProjectGroupType::Stakeholders => "projectStakeholder",
            ProjectGroupType::Custom => "custom",
        }
    }

    pub fn from_wire(wire: &str) -> Option<ProjectGroupType> {
        [
            ProjectGroupType::Readers,
            ProjectGroupType::Contributors,
            ProjectGroupType::ProjectAdministrators,
            ProjectGroupType::Stakeholders,
            ProjectGroupType::Custom,
        ]
        .into_iter()
        .find(|g| g.wire().eq_ignore_ascii_case(wire))
    }
}

/// One project entitlement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(self.group == 'Custom') == has(self.customGroup)").message("customGroup is required with group Custom, and only then"))]
pub struct ProjectEntitlementSpec {
    /// The project (name or id).
    #[schemars(length(min = 1, max = 64))]
    pub project: String,
    /// The project group: `Readers`, `Contributors`, `ProjectAdministrators`, `Stakeholders`,
    /// or `Custom` (with `customGroup`).
    pub group: ProjectGroupType,
    /// A custom project group's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub custom_group: Option<String>,
}

/// Where one project entitlement stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub enum ProjectEntitlementState {
    /// Azure DevOps shows it.
    Granted,
    /// Not yet (a group rule still applying).
    Pending,
    /// It could not be given; see reason and message.
    Failed,
}

/// The state of one listed project entitlement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectEntitlementStatus {
    /// The project as listed.
    pub project: String,
    /// The project's id, once resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The group as listed.
    pub group: String,
    pub state: ProjectEntitlementState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What the operator found and did.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DevOpsEntitlementStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// `User`, `ServicePrincipal` or `GroupRule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The principal as listed, e.g. `user:alice@contoso.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The entitlement's id (the principal's storage key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entitlement_id: Option<String>,
    /// The access level Azure DevOps reports as applied (a member may hold a higher one
    /// through a group rule: `assignmentSource` says where it comes from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_level: Option<String>,
    /// `unknown` (direct) or `groupRule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_source: Option<String>,
    /// Group rules: `applyPending`, `applied`, `incompatible` or `unableToApply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_status: Option<String>,
    /// Group rules: the rule's status message (e.g. how many members got no licence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_message: Option<String>,
    /// Group rules: the operation still applying the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// Each listed project entitlement's state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<ProjectEntitlementStatus>,
}
