//! Client tests against the in-process Azure DevOps + Entra simulator (over TLS), plus a few
//! scripted servers for protocol quirks the simulator cannot be made to play.

mod ancestry;
mod auth_variants;
mod errors;
mod graph;
mod http_clients;
mod pipelines_and_resources;
mod quirks;
mod scripted;
mod security_roles;
mod support;
mod throttling;
