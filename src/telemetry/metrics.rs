//! The operator's Prometheus metrics (prometheus-client): reconciles, their duration, errors by
//! reason, and objects by Ready status. The Azure DevOps client registers its own call metrics
//! in the same registry.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
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
    objects: Arc<ObjectsByReadiness>,
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
            objects: Arc::default(),
        };
        registry.register(
            "azdo_reconciles",
            "Reconciles by kind and outcome (ready, progressing, not_ready, deferred, deleted)",
            metrics.reconciles.clone(),
        );
        registry.register(
            "azdo_reconcile_duration_seconds",
            "Reconcile duration by kind",
            metrics.duration.clone(),
        );
        registry.register(
            "azdo_reconcile_errors",
            "Reconciles that ended Ready=False with an error (not Progressing), by kind and reason",
            metrics.errors.clone(),
        );
        registry.register_collector(Box::new(metrics.objects.clone()));
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

    /// Report the objects of `kind` in `azdo_objects`, counted by `count` at every scrape
    /// (`None` while its cache is not filled yet: the kind is left out rather than reported
    /// short). A kind registered again replaces the earlier count.
    pub fn count_objects(
        &self,
        kind: impl Into<String>,
        count: impl Fn() -> Option<ReadyCounts> + Send + Sync + 'static,
    ) {
        self.objects
            .kinds
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(kind.into(), Box::new(count));
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

/// The objects of one kind by the status of their Ready condition.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadyCounts {
    /// Ready=True.
    pub ready: i64,
    /// Ready=False.
    pub not_ready: i64,
    /// No Ready condition yet, or Ready=Unknown.
    pub unknown: i64,
}

impl ReadyCounts {
    /// Count one object whose Ready condition has `status` (`None`: no condition).
    pub fn add(&mut self, status: Option<&str>) {
        match status {
            Some("True") => self.ready += 1,
            Some("False") => self.not_ready += 1,
            _ => self.unknown += 1,
        }
    }
}

type CountObjects = Box<dyn Fn() -> Option<ReadyCounts> + Send + Sync>;

/// `azdo_objects`, computed at every scrape from the caches' current state (not from
/// transitions, which a restarted or newly elected operator never saw).
#[derive(Default)]
struct ObjectsByReadiness {
    kinds: RwLock<BTreeMap<String, CountObjects>>,
}

impl std::fmt::Debug for ObjectsByReadiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectsByReadiness").finish_non_exhaustive()
    }
}

impl Collector for ObjectsByReadiness {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counts: Vec<(String, ReadyCounts)> = self
            .kinds
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(kind, count)| count().map(|c| (kind.clone(), c)))
            .collect();
        if counts.is_empty() {
            return Ok(());
        }
        let mut family = encoder.encode_descriptor(
            "azdo_objects",
            "Objects by kind and Ready status (true, false, unknown), as the operator's caches hold them now",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for (kind, c) in counts {
            for (ready, n) in [
                ("true", c.ready),
                ("false", c.not_ready),
                ("unknown", c.unknown),
            ] {
                let labels = ReadyLabels {
                    kind: kind.clone(),
                    ready: ready.to_string(),
                };
                ConstGauge::new(n).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(registry: &Registry) -> Vec<String> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, registry).unwrap();
        text.lines()
            .filter(|l| l.starts_with("azdo_objects"))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn objects_are_counted_at_every_scrape_by_kind_and_readiness() {
        let mut registry = Registry::default();
        let metrics = ControllerMetrics::register(&mut registry);
        assert!(scrape(&registry).is_empty(), "no kind registered yet");

        let groups = Arc::new(RwLock::new(vec![
            Some("True"),
            Some("True"),
            Some("False"),
            None,
        ]));
        let source = groups.clone();
        metrics.count_objects("DevOpsGroup", move || {
            let mut counts = ReadyCounts::default();
            for status in source.read().unwrap().iter() {
                counts.add(*status);
            }
            Some(counts)
        });
        metrics.count_objects("DevOpsMembership", || None);
        assert_eq!(
            scrape(&registry),
            [
                r#"azdo_objects{kind="DevOpsGroup",ready="true"} 2"#,
                r#"azdo_objects{kind="DevOpsGroup",ready="false"} 1"#,
                r#"azdo_objects{kind="DevOpsGroup",ready="unknown"} 1"#,
            ],
            "a kind whose cache is not filled is left out"
        );

        // The next scrape sees the cache as it is then.
        *groups.write().unwrap() = vec![Some("True"), Some("Unknown")];
        assert_eq!(
            scrape(&registry),
            [
                r#"azdo_objects{kind="DevOpsGroup",ready="true"} 1"#,
                r#"azdo_objects{kind="DevOpsGroup",ready="false"} 0"#,
                r#"azdo_objects{kind="DevOpsGroup",ready="unknown"} 1"#,
            ]
        );
    }
}
