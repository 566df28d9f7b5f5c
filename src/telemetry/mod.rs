//! Logs, metrics and the health/metrics HTTP endpoint.

mod logging;
mod metrics;
mod server;

pub use logging::init_logging;
pub use metrics::{ControllerMetrics, ReadyCounts, ReconcileLabels};
pub use server::{serve, Health};
