//! The one way the operator syncs a list-shaped spec (a group's members, a resource's authorized
//! pipelines, and every later kind of that shape) with what Azure DevOps holds:
//!
//! 1. [`resolve`]: each listed item (deduplicated by its key) to an identity (a descriptor, a
//!    pipeline id), or a [`Problem`] of its own; identities settled at the last reconcile are
//!    reused, so a steady resync costs no lookups.
//! 2. [`plan`]: a pure function of the resolved items, what Azure DevOps holds now (or that the
//!    read failed), what this object added before, and the [`Mode`]: what to add, what to remove,
//!    what to keep, and why. It fails closed.
//! 3. execute: the kind makes the planned writes through its client and reports a [`Written`].
//! 4. [`settle`] and [`ready`]: the new ledger of what this object added, per-item results for
//!    status, and the Ready summary.
//!
//! Only steps 1's per-item lookup and 3 are the kind's own; the rest is here and table-tested
//! without Kubernetes or HTTP.

mod item;
mod plan;
mod report;

pub use item::{previous, resolve, unique, Item, ItemState, Problem};
pub use plan::{plan, settle, undo, why, ItemStatus, Mode, Plan, Settled, Written};
pub use report::{ready, Nouns};
