//! What every reconciler shares: Kubernetes, the organization registry, caches of related
//! objects, metrics, Events and per-object backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use rand::Rng;

use crate::api::{
    ClusterDevOpsOrganization, DevOpsGroup, DevOpsMembership, DevOpsOrganization, HasCommonStatus,
    OrganizationKind, OrganizationRef,
};
use crate::telemetry::ControllerMetrics;

use super::error::{Error, Retry};
use super::organization_registry::{OrgHandle, OrgKey, OrgSpec, OrganizationRegistry};

/// Timing of periodic drift detection.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Every object is compared with Azure DevOps at least this often.
    pub resync: Duration,
    /// Up to this fraction of `resync` is added at random, to spread load.
    pub jitter: f64,
}

/// Caches (reflector stores) of objects reconcilers look up.
#[derive(Clone)]
pub struct Stores {
    pub cluster_orgs: Store<ClusterDevOpsOrganization>,
    pub orgs: Store<DevOpsOrganization>,
    pub groups: Store<DevOpsGroup>,
    pub memberships: Store<DevOpsMembership>,
    pub namespaces: Store<PartialObjectMeta<Namespace>>,
}

/// Shared by every reconcile.
pub struct Context {
    pub kube: kube::Client,
    pub settings: Settings,
    pub orgs: OrganizationRegistry,
    pub metrics: Arc<ControllerMetrics>,
    pub recorder: Recorder,
    pub stores: Stores,
    failures: Mutex<HashMap<String, u32>>,
}

const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

impl Context {
    pub fn new(
        kube: kube::Client,
        settings: Settings,
        orgs: OrganizationRegistry,
        metrics: Arc<ControllerMetrics>,
        recorder: Recorder,
        stores: Stores,
    ) -> Self {
        Self {
            kube,
            settings,
            orgs,
            metrics,
            recorder,
            stores,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The organization an object uses, if it exists, allows the object's namespace and is not
    /// known to be broken. Nothing is sent to Azure DevOps when this fails.
    pub async fn organization(
        &self,
        reference: &OrganizationRef,
        namespace: &str,
    ) -> Result<Arc<OrgHandle>, Error> {
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
                "OrganizationNotFound",
                format!("{key} does not exist"),
                Retry::Backoff,
            )
        })?;
        let labels = self
            .stores
            .namespaces
            .get(&ObjectRef::new(namespace))
            .map(|n| n.labels().clone());
        if !spec.allows(namespace, labels.as_ref()) {
            return Err(Error::new(
                "NotAllowed",
                format!("{key} does not allow namespace {namespace} (see its allowedNamespaces)"),
                Retry::Resync,
            ));
        }
        if let Some(problem) = ready {
            return Err(Error::new(
                "OrganizationNotReady",
                format!("{key} is not ready: {problem}"),
                Retry::Backoff,
            ));
        }
        self.orgs.handle(&spec, false).await
    }

    /// The organization to clean up through, or `None` when cleanup must leave Azure DevOps
    /// alone: the organization is gone (nothing can authenticate any more) or does not allow the
    /// object's namespace (nothing is ever sent for such an object). `what` names what is left.
    pub async fn organization_for_cleanup(
        &self,
        reference: &OrganizationRef,
        namespace: &str,
        what: &str,
    ) -> Result<Option<Arc<OrgHandle>>, Error> {
        match self.organization(reference, namespace).await {
            Ok(org) => Ok(Some(org)),
            Err(e) if matches!(e.reason, "OrganizationNotFound" | "NotAllowed") => {
                tracing::warn!(
                    reason = e.reason,
                    "leaving {what} in Azure DevOps: {}",
                    e.message
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The requeue delay after a success: the resync interval plus jitter.
    pub fn resync_delay(&self) -> Duration {
        let jitter = self.settings.jitter.clamp(0.0, 1.0);
        let factor = 1.0 + rand::rng().random_range(0.0..=jitter);
        self.settings.resync.mul_f64(factor)
    }

    /// The requeue delay after a transient failure of `key`: exponential, capped, jittered.
    pub fn backoff_delay(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        let exp = BACKOFF_BASE.saturating_mul(1u32 << (*n - 1).min(16));
        let capped = exp.min(BACKOFF_MAX);
        capped.mul_f64(rand::rng().random_range(0.8..=1.2))
    }

    /// Forget the failures of `key` after a success.
    pub fn reset_backoff(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Publish an Event about `obj` (failures to publish are logged, never fatal).
    pub async fn publish<K>(&self, obj: &K, type_: EventType, reason: &str, note: String)
    where
        K: Resource<DynamicType = ()>,
    {
        let event = Event {
            type_,
            reason: reason.to_string(),
            note: Some(note),
            action: "Reconcile".to_string(),
            secondary: None,
        };
        if let Err(err) = self.recorder.publish(&event, &obj.object_ref(&())).await {
            tracing::warn!(error = %err, reason, "cannot publish event");
        }
    }
}

/// `Some(reason: message)` when an organization reports Ready=False for its current generation.
fn ready_problem<K: HasCommonStatus + Resource>(org: &K) -> Option<String> {
    let status = org.common_status()?;
    let ready = org.ready_condition()?;
    (ready.status == "False" && status.observed_generation == org.meta().generation)
        .then(|| format!("{}: {}", ready.reason, ready.message))
}
