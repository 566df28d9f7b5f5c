//! Prometheus metrics of the Azure DevOps client and of token acquisition.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub organization: String,
    pub operation: String,
    /// `2xx`, `3xx`, `4xx`, `5xx` or `error` (no response).
    pub status_class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub organization: String,
    pub operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OrganizationLabels {
    pub organization: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RetryLabels {
    pub organization: String,
    pub operation: String,
    /// `throttled`, `server_error`, `network` or `unauthorized` (token refresh).
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// The token source kind (`workload-identity`, `pat`, ...).
    pub kind: String,
}

fn latency_histogram() -> Histogram {
    // 10 ms .. ~41 s
    Histogram::new(exponential_buckets(0.01, 2.0, 13))
}

type HistogramFamily = Family<OperationLabels, Histogram, fn() -> Histogram>;

/// All client metrics; cheap to clone behind an `Arc`.
#[derive(Debug, Clone)]
pub struct AdoMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    throttle_wait: Family<OrganizationLabels, Counter<f64, AtomicU64>>,
    retries: Family<RetryLabels, Counter>,
    token_acquisitions: Family<AuthLabels, Counter>,
    token_failures: Family<AuthLabels, Counter>,
    /// Every request attempt, whatever its labels (not exported: `requests` has the detail).
    sent: Counter,
}

impl Default for AdoMetrics {
    fn default() -> Self {
        Self::unregistered()
    }
}

impl AdoMetrics {
    /// Metrics that are recorded but not exported (tests, tools).
    pub fn unregistered() -> Self {
        Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            throttle_wait: Family::default(),
            retries: Family::default(),
            token_acquisitions: Family::default(),
            token_failures: Family::default(),
            sent: Counter::default(),
        }
    }

    /// Create and register under `azdo_client_*` / `azdo_auth_*`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::unregistered();
        registry.register(
            "azdo_client_requests",
            "Azure DevOps HTTP requests by organization, operation and status class",
            metrics.requests.clone(),
        );
        registry.register(
            "azdo_client_request_duration_seconds",
            "Azure DevOps HTTP request latency (one attempt, until the body is read)",
            metrics.latency.clone(),
        );
        registry.register(
            "azdo_client_throttle_wait_seconds",
            "Time requests spent waiting for Retry-After, X-RateLimit-Delay and pacing",
            metrics.throttle_wait.clone(),
        );
        registry.register(
            "azdo_client_retries",
            "Azure DevOps requests retried, by reason",
            metrics.retries.clone(),
        );
        registry.register(
            "azdo_auth_token_acquisitions",
            "Tokens acquired from Entra ID (cache misses), by auth kind",
            metrics.token_acquisitions.clone(),
        );
        registry.register(
            "azdo_auth_token_failures",
            "Failed token acquisitions, by auth kind",
            metrics.token_failures.clone(),
        );
        metrics
    }

    pub(crate) fn request(
        &self,
        organization: &str,
        operation: &str,
        status: Option<u16>,
        elapsed: Duration,
    ) {
        let status_class = match status {
            Some(code) => format!("{}xx", code / 100),
            None => "error".to_string(),
        };
        self.requests
            .get_or_create(&RequestLabels {
                organization: organization.to_string(),
                operation: operation.to_string(),
                status_class,
            })
            .inc();
        self.sent.inc();
        self.latency
            .get_or_create(&OperationLabels {
                organization: organization.to_string(),
                operation: operation.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn throttled(&self, organization: &str, waited: Duration) {
        if !waited.is_zero() {
            self.throttle_wait
                .get_or_create(&OrganizationLabels {
                    organization: organization.to_string(),
                })
                .inc_by(waited.as_secs_f64());
        }
    }

    pub(crate) fn retry(&self, organization: &str, operation: &str, reason: &str) {
        self.retries
            .get_or_create(&RetryLabels {
                organization: organization.to_string(),
                operation: operation.to_string(),
                reason: reason.to_string(),
            })
            .inc();
    }

    pub(crate) fn token_acquired(&self, kind: &str) {
        self.token_acquisitions
            .get_or_create(&AuthLabels {
                kind: kind.to_string(),
            })
            .inc();
    }

    pub(crate) fn token_failed(&self, kind: &str) {
        self.token_failures
            .get_or_create(&AuthLabels {
                kind: kind.to_string(),
            })
            .inc();
    }

    /// Requests counted for an organization and operation across status classes.
    pub fn requests_total(&self, organization: &str, operation: &str) -> u64 {
        ["1xx", "2xx", "3xx", "4xx", "5xx", "error"]
            .iter()
            .map(|class| {
                self.requests
                    .get_or_create(&RequestLabels {
                        organization: organization.to_string(),
                        operation: operation.to_string(),
                        status_class: class.to_string(),
                    })
                    .get()
            })
            .sum()
    }

    /// Every request attempt so far (retries included), across organizations and operations.
    pub fn requests_sent(&self) -> u64 {
        self.sent.get()
    }

    /// Tokens acquired so far for an auth kind.
    pub fn token_acquisitions(&self, kind: &str) -> u64 {
        self.token_acquisitions
            .get_or_create(&AuthLabels {
                kind: kind.to_string(),
            })
            .get()
    }

    /// Failed token acquisitions so far for an auth kind.
    pub fn token_failures(&self, kind: &str) -> u64 {
        self.token_failures
            .get_or_create(&AuthLabels {
                kind: kind.to_string(),
            })
            .get()
    }

    /// Retries so far for an organization and reason, across operations.
    pub fn retries_for(&self, organization: &str, operation: &str, reason: &str) -> u64 {
        self.retries
            .get_or_create(&RetryLabels {
                organization: organization.to_string(),
                operation: operation.to_string(),
                reason: reason.to_string(),
            })
            .get()
    }

    /// Seconds spent waiting for throttling so far.
    pub fn throttle_wait_seconds(&self, organization: &str) -> f64 {
        self.throttle_wait
            .get_or_create(&OrganizationLabels {
                organization: organization.to_string(),
            })
            .get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[test]
    fn registered_metrics_are_exported_with_their_labels() {
        let mut registry = Registry::default();
        let metrics = AdoMetrics::register(&mut registry);
        metrics.request(
            "contoso",
            "graph.groups.list",
            Some(200),
            Duration::from_millis(20),
        );
        metrics.request(
            "contoso",
            "graph.groups.list",
            None,
            Duration::from_millis(5),
        );
        metrics.retry("contoso", "graph.groups.list", "throttled");
        metrics.throttled("contoso", Duration::from_millis(1500));
        metrics.token_acquired("pat");
        metrics.token_failed("client-secret");
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        for needle in [
            r#"azdo_client_requests_total{organization="contoso",operation="graph.groups.list",status_class="2xx"} 1"#,
            r#"status_class="error"} 1"#,
            "azdo_client_request_duration_seconds_bucket",
            r#"azdo_client_retries_total{organization="contoso",operation="graph.groups.list",reason="throttled"} 1"#,
            r#"azdo_client_throttle_wait_seconds_total{organization="contoso"} 1.5"#,
            r#"azdo_auth_token_acquisitions_total{kind="pat"} 1"#,
            r#"azdo_auth_token_failures_total{kind="client-secret"} 1"#,
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
        assert_eq!(metrics.requests_total("contoso", "graph.groups.list"), 2);
    }
}
