//! `azdo-sim`: an Azure DevOps + Entra ID simulator speaking the real wire protocol over TLS.

pub mod faults;
pub mod ids;
pub mod model;
pub mod options;
pub mod seed;
pub mod tls;

pub use faults::{Faults, Latency, Throttling};
pub use options::{Behaviours, DuplicateGroupCreate, RepeatedMembershipAdd, SimOptions};
pub use seed::{JwksSource, Seed, TrustedIssuer};
