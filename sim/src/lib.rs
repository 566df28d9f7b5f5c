//! `azdo-sim`: an Azure DevOps + Entra ID simulator speaking the real wire protocol over TLS.
//!
//! Start one in-process with [`Simulator::start`], or run the `azdo-sim` binary. See
//! `sim/README.md` for the seed format, the control API and examples.

pub mod auth;
pub mod control;
pub mod faults;
pub mod http;
pub mod ids;
pub mod issuer;
pub mod log;
pub mod model;
pub mod options;
pub mod seed;
mod server;
pub mod tls;

pub use control::{Control, ControlError};
pub use faults::{Faults, InjectedError, Latency, LostAnswer, RateLimits, Throttling};
pub use issuer::{OidcIssuer, TokenSpec};
pub use log::{HostKind, RequestLogSnapshot, RequestRecord, RouteCounter};
pub use options::{
    Behaviours, DirectoryReadErrorBody, DuplicateGroupCreate, ExpiredToken, FederatedMismatchCode,
    RepeatedMembershipAdd, SimOptions, UnknownIdentity,
};
pub use seed::{JwksSource, Seed, TrustedIssuer};
pub use server::Simulator;
