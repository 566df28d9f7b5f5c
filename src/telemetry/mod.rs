//! Logs, metrics, Kubernetes Events and the health/metrics HTTP endpoint.

mod events;
mod logging;
mod metrics;
mod server;

pub use events::EventPublisher;
pub use logging::init_logging;
pub use metrics::{ControllerMetrics, ReadyCounts, ReconcileLabels};
pub use server::{serve, Health};
