//! `PipelineResourceCheck`: the approvals and checks a protected resource requires before a run
//! may use it (approval, branch control, business hours, exclusive lock, required template).

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::authorization::ResourceSelector;
use super::common::{CommonStatus, DeletionPolicy, ManagementPolicy, OrganizationRef};
use super::membership::{Member, MembershipMode};

/// The checks of one protected resource (environment, service connection, agent queue,
/// variable group, secure file or repository), added to it (Additive) or made its exact set of
/// checks (Exclusive).
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "azdo.io",
    version = "v1alpha1",
    cel,
    kind = "PipelineResourceCheck",
    namespaced,
    status = "PipelineResourceCheckStatus",
    shortname = "azdocheck",
    category = "azdo",
    doc = "Approvals and checks (approval, branch control, business hours, exclusive lock, required template) on a protected Azure DevOps resource.",
    printcolumn(name = "Project", type_ = "string", json_path = ".spec.project"),
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.resource.type"),
    printcolumn(
        name = "Resource",
        type_ = "string",
        json_path = ".status.resourceName"
    ),
    printcolumn(name = "Mode", type_ = "string", json_path = ".spec.mode"),
    printcolumn(name = "Checks", type_ = "string", json_path = ".status.summary"),
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
#[x_kube(validation = Rule::new("self.resource.type != 'agentpool'").message("checks are configured on a project's resources (queue, environment, endpoint, variablegroup, securefile, repository), not on organization agent pools: use the pool's queue"))]
#[x_kube(validation = Rule::new("self.checks.filter(c, has(c.exclusiveLock)).size() <= 1").message("a resource has at most one exclusive lock"))]
pub struct PipelineResourceCheckSpec {
    /// The organization.
    #[x_kube(validation = Rule::new("self == oldSelf").message("organizationRef is immutable"))]
    pub organization_ref: OrganizationRef,
    /// The resource's project (name or id).
    #[x_kube(validation = Rule::new("self == oldSelf").message("project is immutable"))]
    #[schemars(length(min = 1, max = 64))]
    pub project: String,
    /// The protected resource, in the forms a PipelineResourceAuthorization takes.
    #[x_kube(validation = Rule::new("self == oldSelf").message("resource is immutable: create a new PipelineResourceCheck instead"))]
    pub resource: ResourceSelector,
    /// The checks. Each entry sets exactly one check type.
    #[serde(default)]
    #[schemars(length(max = 16))]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub checks: Vec<Check>,
    /// `Additive` (default) adds the listed checks and removes only checks this object
    /// created; `Exclusive` also removes every check on the resource it does not list (never
    /// while a listed check cannot be resolved, and never a check another object created).
    #[serde(default)]
    pub mode: MembershipMode,
    /// `Delete` (default) removes, on deletion, the checks this object created; `Orphan` keeps
    /// them.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Manage` (default) makes Azure DevOps match; `Observe` reads only and reports on
    /// `status.drift` what `Manage` would change (deleting an `Observe` object never writes).
    #[serde(default, skip_serializing_if = "ManagementPolicy::is_manage")]
    pub management_policy: ManagementPolicy,
}

/// One check: exactly one type, and how long it may take.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.approval) ? 1 : 0) + (has(self.branchControl) ? 1 : 0) + (has(self.businessHours) ? 1 : 0) + (has(self.exclusiveLock) ? 1 : 0) + (has(self.requiredTemplate) ? 1 : 0) == 1").message("each check must set exactly one of approval, branchControl, businessHours, exclusiveLock or requiredTemplate"))]
pub struct Check {
    /// Named people or groups approve the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalCheck>,
    /// Only runs from the listed branches may use the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_control: Option<BranchControlCheck>,
    /// Runs may use the resource only within business hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<BusinessHoursCheck>,
    /// One run at a time uses the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive_lock: Option<ExclusiveLockCheck>,
    /// Runs must extend one of the listed templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_template: Option<RequiredTemplateCheck>,
    /// Minutes the check may take before the stage fails (1 to 43200, 30 days). Default 43200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 43200))]
    pub timeout_minutes: Option<u32>,
}

/// An approval.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.minimumApprovers) || self.minimumApprovers <= size(self.approvers)").message("minimumApprovers cannot exceed the number of approvers"))]
pub struct ApprovalCheck {
    /// Who may approve: users, Entra groups, service principals, Azure DevOps groups, in every
    /// form a DevOpsMembership accepts. Each entry sets exactly one field.
    #[schemars(length(min = 1, max = 50))]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub approvers: Vec<Member>,
    /// How many must approve; 0 or unset: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 50))]
    pub minimum_approvers: Option<u32>,
    /// Whether the person who queued the run may not approve it.
    #[serde(default)]
    pub requester_cannot_approve: bool,
    /// Whether approvers act in the listed order (default: any order).
    #[serde(default)]
    pub in_sequence: bool,
    /// Instructions shown to approvers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub instructions: Option<String>,
}

/// Branch control.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct BranchControlCheck {
    /// Full refs (`refs/heads/main`, `refs/heads/release/*`) or `*`.
    #[schemars(length(min = 1, max = 32))]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    #[x_kube(validation = Rule::new("self.all(b, b == '*' || b.startsWith('refs/'))").message("allowedBranches are full refs (refs/heads/main, refs/heads/release/*) or *"))]
    pub allowed_branches: Vec<String>,
    /// Whether the branch must have branch protection policies.
    #[serde(default)]
    pub require_branch_protection: bool,
    /// Whether a branch whose protection status is unknown passes.
    #[serde(default)]
    pub allow_unknown_status: bool,
    /// Minutes between evaluations (1 to 1440). Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1440))]
    pub retry_interval_minutes: Option<u32>,
}

/// Business hours.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.start < self.end").message("start must be before end"))]
pub struct BusinessHoursCheck {
    /// The business days.
    #[schemars(length(min = 1, max = 7))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub days: Vec<Weekday>,
    /// Start, `HH:MM` (24 h).
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub start: String,
    /// End, `HH:MM` (24 h), after start.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub end: String,
    /// The time zone, as Azure DevOps names it (Windows ids: `UTC`, `W. Europe Standard Time`,
    /// `Pacific Standard Time`, ...).
    #[schemars(length(min = 1, max = 64))]
    pub time_zone: String,
    /// Minutes between evaluations (1 to 1440). Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1440))]
    pub retry_interval_minutes: Option<u32>,
}

/// A day of the week.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, schemars::JsonSchema)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "Monday",
            Weekday::Tuesday => "Tuesday",
            Weekday::Wednesday => "Wednesday",
            Weekday::Thursday => "Thursday",
            Weekday::Friday => "Friday",
            Weekday::Saturday => "Saturday",
            Weekday::Sunday => "Sunday",
        }
    }
}

/// An exclusive lock (no settings): `exclusiveLock: {}`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
pub struct ExclusiveLockCheck {}

/// A required template.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequiredTemplateCheck {
    /// The templates a run may extend (any one of them).
    #[schemars(length(min = 1, max = 10))]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub templates: Vec<TemplateSource>,
}

/// Where a required template lives.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateSource {
    /// `azureRepos` (default), `github` or `bitbucket`.
    #[serde(default)]
    pub repository_type: TemplateRepositoryType,
    /// The repository: `project/repository` for Azure Repos, `owner/repository` otherwise.
    #[schemars(length(min = 3, max = 256))]
    pub repository: String,
    /// A full ref, e.g. `refs/heads/main`.
    #[schemars(length(min = 6, max = 256), regex(pattern = r"^refs/.+$"))]
    #[serde(rename = "ref")]
    pub ref_: String,
    /// The template's path in the repository.
    #[schemars(length(min = 1, max = 512))]
    pub path: String,
}

/// A template repository's host.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum TemplateRepositoryType {
    /// Azure Repos Git (`git` on the wire).
    #[default]
    AzureRepos,
    Github,
    Bitbucket,
}

impl TemplateRepositoryType {
    /// The `repositoryType` the service takes.
    pub fn wire(self) -> &'static str {
        match self {
            TemplateRepositoryType::AzureRepos => "git",
            TemplateRepositoryType::Github => "github",
            TemplateRepositoryType::Bitbucket => "bitbucket",
        }
    }
}

/// The state of one listed check.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckStatus {
    /// The check's key: its type and its number among checks of that type, e.g. `approval#1`.
    pub check: String,
    /// The check configuration's id in Azure DevOps, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// `Configured`, `Pending` or `Failed`.
    pub state: CheckState,
    /// Why, when not `Configured`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Details, when not `Configured`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// An approval check, once `Configured`: each approver's identity as resolved. Reused at
    /// the next reconcile (a restart too) while the approver stays listed and the check still
    /// names that identity, so only new or changed approvers are looked up (and added to the
    /// organization) again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<ApproverStatus>,
}

/// One approver of an approval check as last resolved.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApproverStatus {
    /// The approver as listed (`user:alice@contoso.com`, `groupRef:release`, ...).
    pub approver: String,
    /// Its Graph descriptor.
    pub descriptor: String,
    /// Its identity id (what the check names).
    pub identity_id: String,
}

/// Where a listed check stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub enum CheckState {
    /// The resource carries the check as listed.
    Configured,
    /// Not yet: waiting on something else (a DevOpsGroup approver becoming Ready).
    Pending,
    /// The check could not be resolved or written; see reason and message.
    Failed,
}

/// What the operator found and did for a resource's checks.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PipelineResourceCheckStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The resource id the checks API uses (an integer, a GUID, or `projectId.repoId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The resource's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// `configured/listed`, e.g. `3/3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Per listed check, in spec order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckStatus>,
}
