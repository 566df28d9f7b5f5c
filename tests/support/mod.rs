//! End-to-end test harness: a real Kubernetes control plane (etcd, kube-apiserver,
//! kube-controller-manager built from pinned Go modules by `hack/controlplane.sh`) on loopback.
//!
//! ```ignore
//! let cp = support::shared().await?;          // one per test binary, started lazily
//! let namespace = cp.new_namespace("my-test").await?;
//! let client = cp.client().await?;             // admin
//! ```
//!
//! Each test binary uses a different part of this module.
#![allow(dead_code, unused_imports)]

pub mod binaries;
pub mod certs;
pub mod controlplane;
pub mod error;
pub mod http;
pub mod kit;
pub mod kubeconfig;
pub mod launch;
pub mod manifests;
pub mod ports;
pub mod process;
pub mod service_account;
pub mod workdir;

pub use controlplane::{shared, ControlPlane, AZURE_TOKEN_EXCHANGE_AUDIENCE};
pub use error::{HarnessError, HarnessResult};
