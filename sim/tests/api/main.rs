//! azdo-sim's own tests, all in one binary to keep link time down.

mod auth;
mod checks;
mod core;
mod discovery;
mod entitlements;
mod entra;
mod faults;
mod graph_groups;
mod graph_subjects;
mod memberships;
mod permissions;
mod sdk_identity;
mod security_roles;
mod spec_models;
mod support;
