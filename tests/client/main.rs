//! Client tests against the in-process Azure DevOps + Entra simulator (over TLS), plus a few
//! scripted servers for protocol quirks the simulator cannot be made to play.

mod ancestry;
mod auth_variants;
mod checks;
mod contract;
mod entitlements;
mod errors;
mod export;
mod graph;
mod http_clients;
mod liveness;
mod lookups;
mod pipelines_and_resources;
mod protected_set;
mod quirks;
mod rate_limits;
mod scripted;
mod security_roles;
mod stop_or_retry;
mod support;
mod throttling;
mod versions;
