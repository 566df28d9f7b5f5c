//! The e2e test kit: what every end-to-end test (and hack/demo, hack/bench) does with the
//! operator's objects, written once.
//!
//! - [`fixtures`]: the crate's own CRD types built for a test ([`Fixtures`]), never YAML in a
//!   format string; [`ToObject`] turns any of them into the `DynamicObject` the helpers take.
//! - [`ready`]: the Ready condition as a type ([`Ready`]), parsed with the crate's `CommonStatus`.
//! - [`wait`]: [`eventually`] / [`until`] polling, [`wait_ready`], [`wait_for_reason`].
//! - [`objects`]: apply, get and the API of any object, with plurals from the crate's CRDs.
//! - [`delete`]: [`delete_and_wait`] and [`delete_in_order`] (dependants before what they
//!   depend on: authorizations and memberships, then groups, then organizations).
//!
//! Everything takes a `kube::Client`; `OperatorEnv` (tests/e2e/operator_env.rs) wraps these with
//! its client and appends the operator's log to failures.

pub mod delete;
pub mod fixtures;
pub mod objects;
pub mod ready;
pub mod wait;

pub use delete::{delete_and_wait, delete_in_order};
pub use fixtures::{Fixtures, ORGANIZATION, PROJECT};
pub use objects::{api_for, apply, crd_count, get, typed, ToObject};
pub use ready::Ready;
pub use wait::{eventually, until, until_every, wait_for_reason, wait_ready, Check, POLL};

/// The error type of every kit helper and e2e test.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[cfg(test)]
mod tests;
