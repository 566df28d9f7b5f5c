//! End-to-end tests against a real control plane (see tests/support). All tests of this binary
//! share one control plane, started on first use; each test works in its own namespace.
//!
//! Binaries come from `AZDO_CONTROLPLANE_BIN`, or are built by `hack/controlplane.sh ensure`.

#[path = "../support/mod.rs"]
mod support;

mod admission;
mod apiserver_faults;
mod attacks;
mod behaviour;
mod checks;
mod controlplane_smoke;
mod entitlements;
mod export_round_trip;
mod faults;
mod lifecycle;
mod metrics;
mod observe;
#[allow(dead_code)] // shared with the demo runner (hack/demo)
mod operator_env;
mod packaging;
mod rbac;
mod resilience;
mod roles;
mod sim_api;
mod tenant_rbac;
mod workload_identity;

use support::kit::TestResult;
