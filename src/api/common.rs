//! Types shared by several kinds: organization references, deletion policies and status conditions.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::core::object::HasStatus;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The condition type every kind reports.
pub const READY: &str = "Ready";

/// Which organization object an object uses.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRef {
    /// `ClusterDevOpsOrganization` (default) or `DevOpsOrganization` (in the object's own namespace).
    #[serde(default)]
    pub kind: OrganizationKind,
    /// The organization object's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// The two kinds an [`OrganizationRef`] can point to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum OrganizationKind {
    /// A cluster-scoped organization, shared by the namespaces it allows.
    #[default]
    ClusterDevOpsOrganization,
    /// A namespaced organization, usable only from its own namespace.
    DevOpsOrganization,
}

impl std::fmt::Display for OrganizationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OrganizationKind::ClusterDevOpsOrganization => "ClusterDevOpsOrganization",
            OrganizationKind::DevOpsOrganization => "DevOpsOrganization",
        })
    }
}

/// What happens in Azure DevOps when the Kubernetes object is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Remove from Azure DevOps what this object created or added.
    #[default]
    Delete,
    /// Leave Azure DevOps as it is.
    Orphan,
}

/// Whether the operator writes to Azure DevOps for an object.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ManagementPolicy {
    /// Make Azure DevOps match the spec (and undo on deletion, per `deletionPolicy`).
    #[default]
    Manage,
    /// Read only: read what `Manage` would read, write nothing, and report on `status.drift`
    /// what `Manage` would change. Deleting the object never writes either.
    Observe,
}

impl ManagementPolicy {
    pub fn is_manage(&self) -> bool {
        *self == ManagementPolicy::Manage
    }
}

/// What an object in `Observe` would change in Azure DevOps under `Manage`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// How many changes `Manage` would make.
    pub count: u32,
    /// The changes, in the order they would be made (at most 100 listed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

/// The status fields every kind shares.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommonStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` and friends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// Under `managementPolicy: Observe`: what `Manage` would change (absent when in sync, and
    /// under `Manage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
}

/// A kind's status type: it embeds the [`CommonStatus`] every kind shares.
pub trait StatusWithCommon {
    fn common(&self) -> &CommonStatus;
    fn common_mut(&mut self) -> &mut CommonStatus;
}

/// Implements [`StatusWithCommon`] for status types that keep the shared part in `common`.
macro_rules! status_with_common {
    ($($status:ty),+ $(,)?) => {$(
        impl StatusWithCommon for $status {
            fn common(&self) -> &CommonStatus {
                &self.common
            }
            fn common_mut(&mut self) -> &mut CommonStatus {
                &mut self.common
            }
        }
    )+};
}

status_with_common!(
    super::DevOpsGroupStatus,
    super::DevOpsMembershipStatus,
    super::PipelineResourceAuthorizationStatus,
    super::DevOpsRoleAssignmentStatus,
    super::PipelineResourceCheckStatus,
    super::DevOpsEntitlementStatus,
    super::OrganizationStatus,
);

/// Every kind whose status embeds the common part (kube-derive implements `HasStatus`).
impl<K> HasCommonStatus for K
where
    K: HasStatus,
    K::Status: StatusWithCommon,
{
    fn common_status(&self) -> Option<&CommonStatus> {
        self.status().map(StatusWithCommon::common)
    }
}

/// Access to the shared status part, so controllers can treat every kind alike.
pub trait HasCommonStatus {
    /// The common status, if any status was written.
    fn common_status(&self) -> Option<&CommonStatus>;

    /// The `Ready` condition, if any.
    fn ready_condition(&self) -> Option<&Condition> {
        self.common_status()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == READY))
    }

    /// True when `Ready` is `True` for the current generation.
    fn is_ready(&self, generation: Option<i64>) -> bool {
        let Some(status) = self.common_status() else {
            return false;
        };
        status.observed_generation == generation
            && self.ready_condition().is_some_and(|c| c.status == "True")
    }
}
