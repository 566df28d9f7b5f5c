//! azdo-operator: manage Azure DevOps groups, memberships and pipeline permissions as
//! Kubernetes objects.
//!
//! Layout: [`api`] (the CRD types), [`ado`] (the Azure DevOps client), [`auth`] (credentials),
//! [`controller`] (one reconciler per kind), [`telemetry`] (logs, metrics, health),
//! [`manager`] (wires it all together for `azdo-operator run`), [`export`] (`azdo-operator
//! export`: an organization as manifests), [`reason`] (every reason the operator reports, as
//! one enum).

pub mod ado;
pub mod api;
pub mod auth;
pub mod cli;
pub mod controller;
pub mod crdgen;
pub mod export;
pub mod manager;
pub mod reason;
pub mod telemetry;

/// The operator's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
