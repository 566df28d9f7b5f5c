//! The reconcile loop every kind shares: finalizer handling, status written by server-side
//! apply only when it changed, Events on transitions, metrics, logs with a trace id, and the
//! requeue policy (resync with jitter, per-object backoff, or wait for a change).

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use kube::api::{Patch, PatchParams};
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{finalizer, Event as FinalizerEvent};
use kube::{Api, Resource, ResourceExt};
use rand::Rng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use crate::ado::tenant::{on_behalf_of, Tenant};
use crate::api::{HasCommonStatus, Lifecycle, StatusWithCommon};
use crate::reason::Reason;

use super::context::{backoff_key, Context, Stores};
use super::error::{Error, Retry};
use super::object_context::{observes, Cx};
use super::observe;
use super::outcome::{is_transition, Outcome};
use super::status::{apply_status, common_status};
use super::stored::Cached;

/// A successful reconcile's Ready reason and message.
#[derive(Debug, Clone)]
pub struct Ready {
    pub reason: Reason,
    pub message: String,
}

impl Ready {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }

    /// Azure DevOps is still carrying out what was asked (an asynchronous operation): not an
    /// error, but not Ready either (see [`Outcome`]).
    pub fn progressing(message: impl Into<String>) -> Self {
        Self::new(Reason::Progressing, message)
    }
}

/// A kind the operator reconciles: what to converge and what to undo, nothing more. Its name
/// and API come from kube's own traits, its finalizer, organization and deletion policy from
/// [`Lifecycle`] (declared with the API types), its status type from kube-derive's `HasStatus` (which
/// embeds the common part, [`StatusWithCommon`]).
#[async_trait]
pub trait Reconciled:
    Resource<DynamicType = (), Scope: ApiScope>
    + Lifecycle
    + Cached
    + HasStatus<Status: StatusWithCommon + Serialize + Clone + PartialEq + Default + Send + Sync>
    + Clone
    + Serialize
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
    /// Make Azure DevOps match the spec, recording what was found in `status` (which starts as
    /// the object's current status; the common part is filled in afterwards).
    async fn converge(&self, cx: &Cx<'_>, status: &mut Self::Status) -> Result<Ready, Error>;

    /// Undo in Azure DevOps what the object did.
    async fn cleanup(&self, cx: &Cx<'_>) -> Result<(), Error>;

    /// An object of this cluster that this one needs and that has not finished its first
    /// reconcile, with the reason this object would report meanwhile. While there is one, an
    /// object that has reported nothing yet is put off without a read or a write (for at most
    /// `FIRST_RECONCILE_WAIT` after its creation), to be woken by that object's change:
    /// reporting the wait would cost a status write, an Event and several reads per object, for
    /// a wait of seconds.
    fn awaits_first_reconcile(&self, _stores: &Stores) -> Option<(Reason, String)> {
        None
    }
}

/// How long after its creation an object waits silently for another's first reconcile (see
/// [`Reconciled::awaits_first_reconcile`]); after that it reports the wait in its status. Long
/// enough for a bulk apply: at ten times the benchmark's workload, 6 minutes after 2,000 groups
/// were applied together 1,265 had finished their first reconcile.
pub const FIRST_RECONCILE_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// When an object waiting silently looks again by itself. The awaited object's change wakes it
/// too, but that wake comes from another watch than the cache it then reads, which may not have
/// the change yet; a look costs one cache read, so it is soon (spread by ±50%).
const AWAIT_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// How long an object may still wait silently, if it waits for another's first reconcile, with
/// the reason it would report and what it waits for. Only an object that has no Ready condition
/// yet waits: one that reported anything keeps reporting.
fn silent_wait<K: Reconciled>(
    obj: &K,
    stores: &Stores,
) -> Option<(std::time::Duration, Reason, String)> {
    if obj.meta().deletion_timestamp.is_some() || obj.ready_condition().is_some() {
        return None;
    }
    let (reason, waiting_for) = obj.awaits_first_reconcile(stores)?;
    let created = obj.meta().creation_timestamp.as_ref()?.0;
    let age = k8s_openapi::jiff::Timestamp::now().duration_since(created);
    let left = std::time::Duration::try_from(age)
        .ok()
        .and_then(|age| FIRST_RECONCILE_WAIT.checked_sub(age))
        .filter(|left| !left.is_zero())?;
    Some((left, reason, waiting_for))
}

/// How to reach objects of a scope: one namespace for namespaced kinds, everywhere for
/// cluster-scoped ones.
pub trait ApiScope {
    fn api<K: Resource<DynamicType = (), Scope = Self>>(
        kube: kube::Client,
        namespace: Option<&str>,
    ) -> Api<K>;
}

impl ApiScope for k8s_openapi::NamespaceResourceScope {
    fn api<K: Resource<DynamicType = (), Scope = Self>>(
        kube: kube::Client,
        namespace: Option<&str>,
    ) -> Api<K> {
        Api::namespaced(kube, namespace.unwrap_or("default"))
    }
}

impl ApiScope for k8s_openapi::ClusterResourceScope {
    fn api<K: Resource<DynamicType = (), Scope = Self>>(
        kube: kube::Client,
        _namespace: Option<&str>,
    ) -> Api<K> {
        Api::all(kube)
    }
}

/// The API that reads and writes `obj`.
pub fn api_of<K: Reconciled>(kube: kube::Client, obj: &K) -> Api<K> {
    <K::Scope as ApiScope>::api(kube, obj.namespace().as_deref())
}

/// The reconcile function handed to kube-runtime's `Controller::run`.
pub async fn reconcile<K: Reconciled>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let kind = K::kind(&());
    let span = tracing::info_span!(
        "reconcile",
        kind = &*kind,
        namespace = obj.namespace().unwrap_or_default(),
        name = obj.name_any(),
        trace_id = %uuid::Uuid::new_v4().simple(),
    );
    run(obj, ctx).instrument(span).await
}

async fn run<K: Reconciled>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let kind = K::kind(&());
    let namespace = obj.namespace().unwrap_or_default();
    if let Some((left, reason, waiting_for)) = silent_wait(&*obj, &ctx.stores) {
        tracing::debug!(%waiting_for, reason = reason.as_str(), "put off until its first reconcile");
        let recheck = AWAIT_RECHECK.as_millis() as u64;
        let recheck = rand::rng().random_range(recheck / 2..=recheck * 3 / 2);
        return Ok(Action::requeue(
            left.min(std::time::Duration::from_millis(recheck)),
        ));
    }
    // A namespace past its share of busy workers waits a moment (see `fairness.rs`).
    let Some(_turn) = ctx.workers.enter(&kind, &namespace) else {
        tracing::debug!("deferred: the namespace runs its share of reconciles");
        ctx.metrics.failed(&kind, Reason::NamespaceBusy.as_str());
        // Spread the deferred around the namespace's pace (half to one and a half times it).
        let pace = ctx.workers.deferral(&kind, &namespace).as_millis() as u64;
        let wait = rand::rng().random_range(pace / 2..=pace * 3 / 2);
        return Ok(Action::requeue(std::time::Duration::from_millis(wait)));
    };
    // Every Azure DevOps call of this reconcile counts for its namespace and stops at its
    // deadline (see `ado/tenant.rs`).
    let tenant =
        Tenant::new(namespace, ctx.settings.reconcile_timeout).observing(observes(&*obj, &ctx));
    on_behalf_of(tenant, reconcile_in_turn(obj, ctx)).await
}

async fn reconcile_in_turn<K: Reconciled>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let api = api_of(ctx.kube.clone(), &*obj);
    // A kind cached in part is reconciled from the whole object (see `stored::Cached`).
    let obj = match K::PARTIAL {
        false => obj,
        true => match whole(&api, &obj).await? {
            Some(whole) => whole,
            None => return Ok(Action::await_change()),
        },
    };
    let Some(finalizer_name) = K::FINALIZER else {
        return apply(obj, &ctx, &api, started).await;
    };
    let obj = add_finalizer(&api, obj, finalizer_name).await?;
    finalizer(&api, finalizer_name, obj, |event| async {
        match event {
            FinalizerEvent::Apply(obj) => apply(obj, &ctx, &api, started).await,
            FinalizerEvent::Cleanup(obj) => cleanup(obj, &ctx, started).await,
        }
    })
    .await
    .map_err(|err| match err {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        // The finalizer patch tests the finalizers it saw; 422 means the cached copy is behind
        // the apiserver: tried again after a short backoff, so this is no failure.
        kube::runtime::finalizer::Error::AddFinalizer(kube::Error::Api(e))
        | kube::runtime::finalizer::Error::RemoveFinalizer(kube::Error::Api(e))
            if e.code == 422 =>
        {
            Error::new(Reason::StaleCache, e.message, Retry::Backoff)
        }
        other => Error::new(Reason::FinalizerFailed, other.to_string(), Retry::Backoff),
    })
}

/// The object as the apiserver has it now (`None`: gone). One GET, no Azure DevOps call.
async fn whole<K: Reconciled>(api: &Api<K>, obj: &K) -> Result<Option<Arc<K>>, Error> {
    api.get_opt(&obj.name_any())
        .await
        .map(|found| found.map(Arc::new))
        .map_err(|e| {
            Error::new(
                Reason::KubernetesApiError,
                format!("reading the object: {e}"),
                Retry::Backoff,
            )
        })
}

/// Add the finalizer to an object that lacks it (and is not being deleted), then reconcile the
/// object the patch answered in the same pass. kube-runtime's finalizer helper would add it and
/// wait for the watch event of that change, but the controllers react only to new generations
/// (see `controller_of`), and a metadata change is none. The patch carries the cached
/// resourceVersion, so a cached copy behind the apiserver answers 409 and is tried again.
async fn add_finalizer<K: Reconciled>(
    api: &Api<K>,
    obj: Arc<K>,
    finalizer_name: &str,
) -> Result<Arc<K>, Error> {
    let has_it = obj.finalizers().iter().any(|f| f == finalizer_name);
    if has_it || obj.meta().deletion_timestamp.is_some() {
        return Ok(obj);
    }
    let patch = finalizer_patch(&*obj, finalizer_name);
    match api
        .patch(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(patched) => Ok(Arc::new(patched)),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            Err(Error::new(Reason::StaleCache, e.message, Retry::Backoff))
        }
        Err(e) => Err(Error::new(
            Reason::FinalizerFailed,
            format!("adding the finalizer: {e}"),
            Retry::Backoff,
        )),
    }
}

/// The merge patch that adds `finalizer_name` to the object's finalizers, conditional on the
/// resourceVersion it was read at.
fn finalizer_patch<K: Resource>(obj: &K, finalizer_name: &str) -> serde_json::Value {
    let mut finalizers = obj.meta().finalizers.clone().unwrap_or_default();
    finalizers.push(finalizer_name.to_string());
    serde_json::json!({
        "metadata": {
            "resourceVersion": obj.meta().resource_version,
            "finalizers": finalizers,
        }
    })
}

async fn apply<K: Reconciled>(
    obj: Arc<K>,
    ctx: &Context,
    api: &Api<K>,
    started: Instant,
) -> Result<Action, Error> {
    let kind = K::kind(&());
    let key = backoff_key(&kind, obj.namespace().as_deref(), &obj.name_any());
    let previous = obj.ready_condition().cloned();
    let mut status = obj.status().cloned().unwrap_or_default();
    let (result, drift, acted) = match Cx::for_apply(&*obj, ctx).await {
        Ok(cx) if cx.observing() => {
            let result = obj.converge(&cx, &mut status).await;
            let changes = cx.drift();
            let acted = cx.published();
            (
                observe::outcome(result, &changes),
                observe::drift(&changes),
                acted,
            )
        }
        Ok(cx) => {
            let result = obj.converge(&cx, &mut status).await;
            (result, None, cx.published())
        }
        Err(err) => (Err(err), None, false),
    };
    let outcome = Outcome::of(&result);
    let (reason, message) = match &result {
        Ok(ready) => (ready.reason, ready.message.clone()),
        Err(err) => (err.reason, err.message.clone()),
    };
    // A deferred object keeps the condition it has (see `outcome`).
    let keep = outcome == Outcome::Deferred && previous.is_some();
    if !keep {
        *status.common_mut() = common_status(
            obj.common_status(),
            obj.meta().generation,
            outcome.ready(),
            reason.as_str(),
            &message,
        );
        status.common_mut().drift = drift;
        if obj.status() != Some(&status) {
            apply_status(api, &obj.name_any(), &status).await?;
        }
    }
    let previous = previous
        .as_ref()
        .map(|c| (c.reason.as_str(), c.status == "True"));
    let transition = !keep && is_transition(previous, reason, outcome.ready());
    if let Some(event_type) = outcome.event(transition, acted) {
        ctx.publish(&*obj, event_type, reason, message.clone())
            .await;
    }
    let seconds = started.elapsed().as_secs_f64();
    ctx.metrics.reconciled(&kind, outcome.metric(), seconds);
    if outcome.is_error() {
        ctx.metrics.failed(&kind, reason.as_str());
    }
    match (outcome, result) {
        (Outcome::Ready, _) => {
            tracing::info!(reason = reason.as_str(), seconds, "reconciled");
            ctx.reset_backoff(&key);
            Ok(Action::requeue(ctx.resync_delay(&key)))
        }
        (Outcome::Deferred, _) => {
            tracing::info!(reason = reason.as_str(), message = %message, seconds, "deferred");
            Ok(Action::requeue(ctx.backoff_delay(&key)))
        }
        (Outcome::Progressing, _) => {
            tracing::info!(reason = reason.as_str(), message = %message, seconds, "progressing");
            Ok(Action::requeue(
                ctx.backoff_delay(&key).min(ctx.resync_delay(&key)),
            ))
        }
        (Outcome::NotReady, result) => {
            tracing::warn!(reason = reason.as_str(), message = %message, seconds, "not ready");
            let retry = result.err().map_or(Retry::Backoff, |e| e.retry);
            Ok(match retry {
                Retry::Backoff => Action::requeue(ctx.backoff_delay(&key)),
                Retry::Resync => {
                    ctx.reset_backoff(&key);
                    Action::requeue(ctx.resync_delay(&key))
                }
                Retry::AwaitChange => Action::await_change(),
            })
        }
    }
}

/// Undo what `obj` did. What is undone comes from the operator's ledger, read live by the
/// kind; the (possibly cached) object only says whether to undo (its deletion policy) and whose
/// ledger it is (its uid).
async fn cleanup<K: Reconciled>(
    obj: Arc<K>,
    ctx: &Context,
    started: Instant,
) -> Result<Action, Error> {
    let kind = K::kind(&());
    // An observed object never writes, not even when it goes.
    let undone = if obj.orphans() || observes(&*obj, ctx) {
        Ok(())
    } else {
        match Cx::for_cleanup(&*obj, ctx).await {
            Ok(Some(cx)) => obj.cleanup(&cx).await,
            Ok(None) => Ok(()),
            Err(err) => Err(err),
        }
    };
    // What the object did is undone (or deliberately left): its claims and ledger go with it.
    let undone = match undone {
        Ok(()) => forget(&*obj, ctx).await,
        Err(err) => Err(err),
    };
    match undone {
        Ok(()) => {
            ctx.metrics
                .reconciled(&kind, "deleted", started.elapsed().as_secs_f64());
            ctx.reset_backoff(&backoff_key(
                &kind,
                obj.namespace().as_deref(),
                &obj.name_any(),
            ));
            tracing::info!("cleaned up");
            Ok(Action::await_change())
        }
        Err(err) => {
            ctx.publish(
                &*obj,
                EventType::Warning,
                err.reason,
                format!("cleanup failed: {}", err.message),
            )
            .await;
            ctx.metrics.failed(&kind, err.reason.as_str());
            tracing::warn!(reason = err.reason.as_str(), message = %err.message, "cleanup failed");
            Err(err)
        }
    }
}

/// Release what a deleted object claimed, then drop its ledger.
async fn forget<K: Reconciled>(obj: &K, ctx: &Context) -> Result<(), Error> {
    let done = ctx.ledger.read(obj).await?;
    ctx.claims.release_all(obj, &done).await?;
    ctx.ledger.forget(obj).await
}

/// kube-runtime's error policy: only status writes and finalizer patches end up here.
pub fn error_policy<K: Reconciled>(obj: Arc<K>, err: &Error, ctx: Arc<Context>) -> Action {
    let kind = K::kind(&());
    let key = backoff_key(&kind, obj.namespace().as_deref(), &obj.name_any());
    if err.reason == Reason::StaleCache {
        tracing::debug!(kind = &*kind, name = %obj.name_any(), error = %err.message, "cache behind the apiserver; retrying");
        return Action::requeue(std::time::Duration::from_millis(500));
    }
    tracing::warn!(kind = &*kind, namespace = obj.namespace().unwrap_or_default(), name = %obj.name_any(), reason = err.reason.as_str(), error = %err.message, "reconcile failed");
    Action::requeue(ctx.backoff_delay(&key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DevOpsGroup;
    use crate::controller::membership::tests_support::{membership, stores_with_group};

    #[test]
    fn a_new_object_waits_silently_for_a_first_reconcile_and_no_longer() {
        let now = k8s_openapi::jiff::Timestamp::now();
        let new = membership(&now.to_string());
        let (left, _, what) = super::silent_wait(&new, &stores_with_group(None)).unwrap();
        assert!(left <= super::FIRST_RECONCILE_WAIT && left > super::FIRST_RECONCILE_WAIT / 2);
        assert_eq!(what, "DevOpsGroup team-a/deployers");
        let waited = super::FIRST_RECONCILE_WAIT.as_secs() as i64 + 1;
        let old =
            membership(&(now - k8s_openapi::jiff::SignedDuration::from_secs(waited)).to_string());
        assert!(super::silent_wait(&old, &stores_with_group(None)).is_none());
        let mut deleted = new.clone();
        deleted.metadata.deletion_timestamp = new.metadata.creation_timestamp.clone();
        assert!(super::silent_wait(&deleted, &stores_with_group(None)).is_none());
        assert!(super::silent_wait(&new, &stores_with_group(Some("False"))).is_none());
        // An object that already reported something (here: Ready) keeps reporting.
        let mut reported = new.clone();
        reported.status = Some(crate::api::DevOpsMembershipStatus {
            common: common_status(None, Some(1), true, "InSync", ""),
            ..Default::default()
        });
        assert!(super::silent_wait(&reported, &stores_with_group(None)).is_none());
    }

    fn group(finalizers: Option<Vec<&str>>) -> DevOpsGroup {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "azdo.io/v1alpha1",
            "kind": "DevOpsGroup",
            "metadata": {
                "name": "g", "namespace": "team-a", "resourceVersion": "42",
                "finalizers": finalizers,
            },
            "spec": {
                "organizationRef": { "name": "contoso" },
                "displayName": "Team",
                "project": "Storefront",
            },
        }))
        .expect("a DevOpsGroup")
    }

    #[test]
    fn the_finalizer_patch_keeps_other_finalizers_and_is_conditional() {
        let patch = finalizer_patch(&group(Some(vec!["other.io/keep"])), "azdo.io/cleanup");
        assert_eq!(
            patch,
            serde_json::json!({
                "metadata": {
                    "resourceVersion": "42",
                    "finalizers": ["other.io/keep", "azdo.io/cleanup"],
                }
            })
        );
        let patch = finalizer_patch(&group(None), "azdo.io/cleanup");
        assert_eq!(
            patch["metadata"]["finalizers"],
            serde_json::json!(["azdo.io/cleanup"])
        );
    }
}
