//! The `azdo.io/v1alpha1` API: every custom resource the operator serves, defined once in Rust.
//!
//! The CRD YAML under `crds/` is generated from these types (`azdo-operator crds`) and a test
//! fails when the two differ.

mod authorization;
mod check;
mod common;
mod entitlement;
mod grants;
mod group;
mod lifecycle;
mod membership;
mod organization;
mod role_assignment;

pub use authorization::*;
pub use check::*;
pub use common::*;
pub use entitlement::*;
pub use grants::{CheckGrant, EntitlementGrant, Grant, ResourceGrant, RoleGrant};
pub use group::*;
pub use lifecycle::Lifecycle;
pub use membership::*;
pub use organization::*;
pub use role_assignment::*;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// The API group of every kind.
pub const API_GROUP: &str = "azdo.io";
/// The served and stored version.
pub const API_VERSION: &str = "v1alpha1";

/// Every CRD, in the order they should be installed (organizations first).
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        ClusterDevOpsOrganization::crd(),
        DevOpsOrganization::crd(),
        DevOpsGroup::crd(),
        DevOpsMembership::crd(),
        PipelineResourceAuthorization::crd(),
        DevOpsRoleAssignment::crd(),
        PipelineResourceCheck::crd(),
        DevOpsEntitlement::crd(),
    ]
}

/// The file name a CRD is written to under `crds/`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

/// A CRD rendered as YAML, the way `crds/` stores it.
pub fn crd_yaml(crd: &CustomResourceDefinition) -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(crd)
}

#[cfg(test)]
mod tests;
