//! The operator's Prometheus metrics (prometheus-client): reconciles, their duration, errors by
//! reason, and objects by Ready status. The Azure DevOps client registers its own call metrics
//! in the same registry.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of a reconcile.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub kind: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    kind: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReadyLabels {
    kind: String,
    ready: String,
}

/// Controller metrics.
pub struct ControllerMetrics {
    reconciles: Family<ReconcileLabels, Counter>,
    duration: Family<KindLabels, Histogram>,
    errors: Family<ErrorLabels, Counter>,
    ready: Family<ReadyLabels, Gauge>,
}

impl ControllerMetrics {
    /// Create and register in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            reconciles: Family::default(),
            duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.005, 2.0, 14))
            }),
            errors: Family::default(),
            ready: Family::default(),
        };
        registry.register(
            "azdo_reconciles",
            "Reconciles by kind and outcome (ready, not_ready, error, deleted)",
            metrics.reconciles.clone(),
        );
        registry.register(
            "azdo_reconcile_duration_seconds",
            "Reconcile duration by kind",
            metrics.duration.clone(),
        );
        registry.register(
            "azdo_reconcile_errors",
            "Reconciles that ended Ready=False, by kind and reason",
            metrics.errors.clone(),
        );
        registry.register(
            "azdo_objects",
            "Objects by kind and Ready status, as of their last reconcile",
            metrics.ready.clone(),
        );
        metrics
    }

    /// Record one reconcile.
    pub fn reconciled(&self, kind: &str, outcome: &str, seconds: f64) {
        self.reconciles
            .get_or_create(&ReconcileLabels {
                kind: kind.into(),
                outcome: outcome.into(),
            })
            .inc();
        self.duration
            .get_or_create(&KindLabels { kind: kind.into() })
            .observe(seconds);
    }

    /// Record a failed reconcile's reason.
    pub fn failed(&self, kind: &str, reason: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                kind: kind.into(),
                reason: reason.into(),
            })
            .inc();
    }

    /// Move an object between the Ready gauges (`before` None for a new object, `after` None
    /// for a deleted one).
    pub fn ready_changed(&self, kind: &str, before: Option<&str>, after: Option<&str>) {
        if before == after {
            return;
        }
        if let Some(b) = before {
            self.ready
                .get_or_create(&ReadyLabels {
                    kind: kind.into(),
                    ready: b.into(),
                })
                .dec();
        }
        if let Some(a) = after {
            self.ready
                .get_or_create(&ReadyLabels {
                    kind: kind.into(),
                    ready: a.into(),
                })
                .inc();
        }
    }

    /// The number of reconciles of a kind with an outcome (tests).
    pub fn reconcile_count(&self, kind: &str, outcome: &str) -> u64 {
        self.reconciles
            .get_or_create(&ReconcileLabels {
                kind: kind.into(),
                outcome: outcome.into(),
            })
            .get()
    }
}
