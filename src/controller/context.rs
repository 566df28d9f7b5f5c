//! What every reconciler shares: Kubernetes, the organization registry, caches of related
//! objects, metrics, Events and per-object backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use rand::Rng;

use crate::api::{
    ClusterDevOpsOrganization, DevOpsGroup, DevOpsMembership, DevOpsOrganization, HasCommonStatus,
    OrganizationKind, OrganizationRef,
};
use crate::reason::Reason;
use crate::telemetry::{ControllerMetrics, EventPublisher};

use super::claims::Claims;
use super::error::{Error, Retry};
use super::fairness::Workers;
use super::grants::Granted;
use super::ledger::Ledger;
use super::organization_registry::{OrgHandle, OrgKey, OrgSpec, OrganizationRegistry};
use super::stored::Stored;

/// Timing of periodic drift detection.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Every object is compared with Azure DevOps at least this often.
    pub resync: Duration,
    /// How far (a fraction of `resync`, at most one half) each resync may move towards the
    /// object's slot, to spread the resyncs of many objects evenly; 0: exactly `resync`.
    pub jitter: f64,
    /// The operator's own namespace, where it keeps its ledger.
    pub ledger_namespace: String,
    /// The longest one reconcile may take before its next Azure DevOps call is refused.
    pub reconcile_timeout: Duration,
    /// Reconciles of one kind run at once (kube-runtime's concurrency).
    pub reconcile_concurrency: usize,
    /// How many of them one namespace may hold when the others are all busy.
    pub namespace_share: usize,
    /// Every object observed (`--observe`): nothing is written to Azure DevOps.
    pub observe: bool,
}

/// Caches (reflector stores) of objects reconcilers look up.
#[derive(Clone)]
pub struct Stores {
    pub cluster_orgs: Store<ClusterDevOpsOrganization>,
    pub orgs: Store<DevOpsOrganization>,
    /// Every DevOpsGroup and DevOpsMembership: the controllers' own caches when they watch every
    /// namespace (wait with [`Stores::related_ready`] before reading).
    pub groups: Store<Stored<DevOpsGroup>>,
    pub memberships: Store<Stored<DevOpsMembership>>,
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
}

/// Shared by every reconcile.
pub struct Context {
    pub kube: kube::Client,
    /// What each object did in Azure DevOps, as only the operator records it.
    pub ledger: Ledger,
    /// Which object owns which Azure DevOps identity, cluster-wide.
    pub claims: Claims,
    pub settings: Settings,
    pub orgs: OrganizationRegistry,
    pub metrics: Arc<ControllerMetrics>,
    pub events: EventPublisher,
    pub stores: Stores,
    /// Reconcile workers shared fairly between namespaces.
    pub workers: Arc<Workers>,
    failures: Mutex<Backoffs>,
}

const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

impl Context {
    /// Whether the organization `key` names is in the cache.
    pub fn organization_exists(&self, key: &OrgKey) -> bool {
        match (&key.kind, &key.namespace) {
            (OrganizationKind::ClusterDevOpsOrganization, _) => self
                .stores
                .cluster_orgs
                .get(&ObjectRef::new(&key.name))
                .is_some(),
            (OrganizationKind::DevOpsOrganization, Some(ns)) => self
                .stores
                .orgs
                .get(&ObjectRef::new(&key.name).within(ns))
                .is_some(),
            (OrganizationKind::DevOpsOrganization, None) => false,
        }
    }

    pub fn new(
        kube: kube::Client,
        settings: Settings,
        orgs: OrganizationRegistry,
        metrics: Arc<ControllerMetrics>,
        events: EventPublisher,
        stores: Stores,
    ) -> Self {
        Self {
            ledger: Ledger::new(kube.clone(), &settings.ledger_namespace),
            claims: Claims::new(kube.clone(), &settings.ledger_namespace),
            workers: Workers::new(settings.reconcile_concurrency, settings.namespace_share),
            kube,
            settings,
            orgs,
            metrics,
            events,
            stores,
            failures: Mutex::new(Backoffs::default()),
        }
    }

    /// The organization an object uses and what its namespace was granted there, if the
    /// organization exists, grants the namespace something and is not known to be broken.
    /// Nothing is sent to Azure DevOps when this fails.
    pub async fn organization(
        &self,
        reference: &OrganizationRef,
        namespace: &str,
    ) -> Result<(Arc<OrgHandle>, Granted), Error> {
        let (spec, granted, ready) = self.organization_spec(reference, namespace)?;
        granted.any()?;
        self.ready_handle(spec, granted, ready).await
    }

    /// The organization to undo an object's work through, or `None` when the organization is
    /// gone (nothing can authenticate any more; `what` is left in Azure DevOps). Undoing is
    /// allowed even when the grants no longer allow doing: what is undone is only what the
    /// ledger says this object did.
    pub async fn organization_for_cleanup(
        &self,
        reference: &OrganizationRef,
        namespace: &str,
        what: &str,
    ) -> Result<Option<(Arc<OrgHandle>, Granted)>, Error> {
        let (spec, granted, ready) = match self.organization_spec(reference, namespace) {
            Ok(found) => found,
            Err(e) if e.reason == Reason::OrganizationNotFound => {
                tracing::warn!(
                    reason = e.reason.as_str(),
                    "leaving {what} in Azure DevOps: {}",
                    e.message
                );
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        self.ready_handle(spec, granted, ready).await.map(Some)
    }

    /// The client of an organization that is not known to be broken.
    async fn ready_handle(
        &self,
        spec: OrgSpec,
        granted: Granted,
        ready: Option<String>,
    ) -> Result<(Arc<OrgHandle>, Granted), Error> {
        if let Some(problem) = ready {
            return Err(Error::new(
                Reason::OrganizationNotReady,
                format!("{} is not ready: {problem}", spec.key),
                Retry::Backoff,
            ));
        }
        Ok((self.orgs.handle(&spec, false).await?, granted))
    }

    /// The organization's spec, what `namespace` was granted there, and its Ready problem.
    fn organization_spec(
        &self,
        reference: &OrganizationRef,
        namespace: &str,
    ) -> Result<(OrgSpec, Granted, Option<String>), Error> {
        let key = OrgKey::for_ref(reference, namespace);
        let (spec, ready) = match key.kind {
            OrganizationKind::ClusterDevOpsOrganization => self
                .stores
                .cluster_orgs
                .get(&ObjectRef::new(&key.name))
                .map(|o| (OrgSpec::from_cluster(&o), ready_problem(&*o))),
            OrganizationKind::DevOpsOrganization => self
                .stores
                .orgs
                .get(&ObjectRef::new(&key.name).within(namespace))
                .map(|o| (OrgSpec::from_namespaced(&o), ready_problem(&*o))),
        }
        .ok_or_else(|| {
            Error::new(
                Reason::OrganizationNotFound,
                format!("{key} does not exist"),
                Retry::Backoff,
            )
        })?;
        let labels = self
            .stores
            .namespaces
            .get(&ObjectRef::new(namespace))
            .map(|n| n.labels().clone());
        let granted = spec.granted(namespace, labels.as_ref());
        Ok((spec, granted, ready))
    }

    /// The requeue delay of the object `key` after a success: the resync interval, moved
    /// towards the object's own slot in it (see `controller::resync`).
    pub fn resync_delay(&self, key: &str) -> Duration {
        super::resync::delay(self.settings.resync, self.settings.jitter, key)
    }

    /// The requeue delay after a transient failure of `key` (see `backoff_key`):
    /// exponential, capped, jittered.
    pub fn backoff_delay(&self, key: &str) -> Duration {
        let n = self.backoffs().failed(key, Instant::now());
        let exp = BACKOFF_BASE.saturating_mul(1u32 << (n - 1).min(16));
        let capped = exp.min(BACKOFF_MAX);
        capped.mul_f64(rand::rng().random_range(0.8..=1.2))
    }

    /// Forget the failures of `key` after a success, or when its object is gone.
    pub fn reset_backoff(&self, key: &str) {
        self.backoffs().by_object.remove(key);
    }

    fn backoffs(&self) -> std::sync::MutexGuard<'_, Backoffs> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publish an Event about `obj` (failures to publish are logged, never fatal).
    pub async fn publish<K>(&self, obj: &K, type_: EventType, reason: Reason, note: String)
    where
        K: Resource<DynamicType = ()>,
    {
        let event = Event {
            type_,
            reason: reason.as_str().to_string(),
            note: Some(note),
            action: "Reconcile".to_string(),
            secondary: None,
        };
        if let Err(err) = self.events.publish(&event, &obj.object_ref(&())).await {
            tracing::warn!(error = %err, reason = reason.as_str(), "cannot publish event");
        }
    }
}

/// The key of an object's entry in the per-object backoff.
pub fn backoff_key(kind: &str, namespace: Option<&str>, name: &str) -> String {
    format!("{kind}/{}/{name}", namespace.unwrap_or_default())
}

/// An entry not touched for this long is dropped: a failing object retries within
/// `BACKOFF_MAX` plus jitter, so such an entry belongs to an object that is gone or waits for a
/// change (and then starts again from the shortest delay).
const FORGET_AFTER: Duration = BACKOFF_MAX.saturating_mul(2);
/// How often entries are checked against [`FORGET_AFTER`].
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Failures per object since its last success: the entry is removed on success, when the
/// object is deleted (cleanup done, or gone from the controller's cache), and after
/// [`FORGET_AFTER`] without a failure, so the map stays as small as the set of failing objects.
#[derive(Default)]
struct Backoffs {
    by_object: HashMap<String, Failures>,
    pruned: Option<Instant>,
}

struct Failures {
    count: u32,
    last: Instant,
}

impl Backoffs {
    /// Count a failure of `key` at `now`; returns the failures in a row, from 1.
    fn failed(&mut self, key: &str, now: Instant) -> u32 {
        if self
            .pruned
            .is_none_or(|at| now.saturating_duration_since(at) >= PRUNE_EVERY)
        {
            self.by_object
                .retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
            self.pruned = Some(now);
        }
        let failures = self.by_object.entry(key.to_string()).or_insert(Failures {
            count: 0,
            last: now,
        });
        failures.count = failures.count.saturating_add(1);
        failures.last = now;
        failures.count
    }
}

/// `Some(reason: message)` when an organization reports Ready=False for its current generation.
fn ready_problem<K: HasCommonStatus + Resource>(org: &K) -> Option<String> {
    let status = org.common_status()?;
    let ready = org.ready_condition()?;
    (ready.status == "False" && status.observed_generation == org.meta().generation)
        .then(|| format!("{}: {}", ready.reason, ready.message))
}

impl Stores {
    /// Wait until the DevOpsGroups' and DevOpsMemberships' caches hold their first full list.
    pub async fn related_ready(&self) -> Result<(), Error> {
        let gone = |_| {
            Error::new(
                Reason::StaleCache,
                "the operator is stopping (its caches of groups and memberships are gone)"
                    .to_string(),
                Retry::Backoff,
            )
        };
        self.groups.wait_until_ready().await.map_err(gone)?;
        self.memberships.wait_until_ready().await.map_err(gone)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_entries_count_failures_and_go_away_when_stale() {
        let start = Instant::now();
        let mut b = Backoffs::default();
        assert_eq!(b.failed("DevOpsGroup/a/one", start), 1);
        assert_eq!(b.failed("DevOpsGroup/a/one", start), 2);
        assert_eq!(b.failed("DevOpsGroup/a/two", start), 1);
        assert_eq!(b.by_object.len(), 2);

        // "one" keeps failing; "two" is never heard of again (deleted, or waiting for a change).
        let later = start + FORGET_AFTER - Duration::from_secs(1);
        assert_eq!(b.failed("DevOpsGroup/a/one", later), 3);
        let much_later = later + FORGET_AFTER - Duration::from_secs(1);
        assert_eq!(b.failed("DevOpsGroup/a/one", much_later), 4);
        assert!(b.by_object.contains_key("DevOpsGroup/a/one"));
        assert!(
            !b.by_object.contains_key("DevOpsGroup/a/two"),
            "a stale entry is dropped"
        );

        // Nothing is pruned more often than PRUNE_EVERY.
        let pruned = b.pruned;
        b.failed("DevOpsGroup/a/three", much_later + Duration::from_secs(1));
        assert_eq!(b.pruned, pruned);
    }

    #[test]
    fn backoff_keys_name_the_kind_and_the_object() {
        assert_eq!(
            backoff_key("DevOpsGroup", Some("team-a"), "ops"),
            "DevOpsGroup/team-a/ops"
        );
        assert_eq!(
            backoff_key("ClusterDevOpsOrganization", None, "contoso"),
            "ClusterDevOpsOrganization//contoso"
        );
    }
}
