//! The reconcile loop every kind shares: finalizer handling, status written by server-side
//! apply only when it changed, Events on transitions, metrics, logs with a trace id, and the
//! requeue policy (resync with jitter, per-object backoff, or wait for a change).

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use kube::core::object::HasStatus;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{finalizer, Event as FinalizerEvent};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use crate::api::{HasCommonStatus, StatusWithCommon};

use super::context::{backoff_key, Context};
use super::error::{Error, Retry};
use super::status::{apply_status, common_status};

/// A successful reconcile's Ready reason and message.
#[derive(Debug, Clone)]
pub struct Ready {
    pub reason: &'static str,
    pub message: String,
}

impl Ready {
    pub fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// What a reconcile produced: the kind's status (without the common part) and the outcome.
pub struct Outcome<S> {
    pub status: S,
    pub result: Result<Ready, Error>,
}

/// A kind the operator reconciles. Its status type is the one kube-derive declares (`HasStatus`)
/// and embeds the common part ([`StatusWithCommon`]).
#[async_trait]
pub trait Reconciled:
    Resource<DynamicType = ()>
    + HasStatus<Status: StatusWithCommon + Serialize + Clone + PartialEq + Default + Send + Sync>
    + Clone
    + Serialize
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The kind's name (logs, metrics).
    const KIND: &'static str;
    /// The finalizer, for kinds that clean up in Azure DevOps.
    const FINALIZER: Option<&'static str>;
    /// The API of this kind, in `namespace` for namespaced kinds.
    fn api(kube: kube::Client, namespace: Option<&str>) -> Api<Self>;

    /// Make Azure DevOps match the spec.
    async fn apply(self: Arc<Self>, ctx: &Context) -> Outcome<Self::Status>;

    /// Undo in Azure DevOps what the object did (per its deletion policy).
    async fn cleanup(self: Arc<Self>, ctx: &Context) -> Result<(), Error>;
}

/// The reconcile function handed to kube-runtime's `Controller::run`.
pub async fn reconcile<K: Reconciled>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let span = tracing::info_span!(
        "reconcile",
        kind = K::KIND,
        namespace = obj.namespace().unwrap_or_default(),
        name = obj.name_any(),
        trace_id = %uuid::Uuid::new_v4().simple(),
    );
    run(obj, ctx).instrument(span).await
}

/// The reason of a finalizer patch refused because the cache was behind the apiserver.
const STALE_CACHE: &str = "StaleCache";

async fn run<K: Reconciled>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let api = K::api(ctx.kube.clone(), obj.namespace().as_deref());
    let Some(finalizer_name) = K::FINALIZER else {
        return apply(obj, &ctx, &api, started).await;
    };
    finalizer(&api, finalizer_name, obj, |event| async {
        match event {
            FinalizerEvent::Apply(obj) => apply(obj, &ctx, &api, started).await,
            FinalizerEvent::Cleanup(obj) => cleanup(obj, &ctx, &api, started).await,
        }
    })
    .await
    .map_err(|err| match err {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        // The finalizer patch tests the finalizers it saw; 422 means the cached copy is behind
        // the apiserver (typically our own finalizer is not in the cache yet). The watch event
        // that updates the cache triggers the object again, so this is no failure.
        kube::runtime::finalizer::Error::AddFinalizer(kube::Error::Api(e))
        | kube::runtime::finalizer::Error::RemoveFinalizer(kube::Error::Api(e))
            if e.code == 422 =>
        {
            Error::new(STALE_CACHE, e.message, Retry::Backoff)
        }
        other => Error::new("FinalizerFailed", other.to_string(), Retry::Backoff),
    })
}

async fn apply<K: Reconciled>(
    obj: Arc<K>,
    ctx: &Context,
    api: &Api<K>,
    started: Instant,
) -> Result<Action, Error> {
    let key = backoff_key(K::KIND, obj.namespace().as_deref(), &obj.name_any());
    let previous = obj.ready_condition().cloned();
    let Outcome { mut status, result } = obj.clone().apply(ctx).await;
    let (ok, reason, message) = match &result {
        Ok(ready) => (true, ready.reason, ready.message.clone()),
        Err(err) => (false, err.reason, err.message.clone()),
    };
    *status.common_mut() = common_status(
        obj.common_status(),
        obj.meta().generation,
        ok,
        reason,
        &message,
    );
    if obj.status() != Some(&status) {
        apply_status(api, &obj.name_any(), &status).await?;
    }
    let transition = previous
        .as_ref()
        .is_none_or(|c| c.reason != reason || (c.status == "True") != ok);
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(_) => {
            if transition {
                ctx.publish(&*obj, EventType::Normal, reason, message.clone())
                    .await;
            }
            tracing::info!(reason, seconds, "reconciled");
            ctx.metrics.reconciled(K::KIND, "ready", seconds);
            ctx.reset_backoff(&key);
            Ok(Action::requeue(ctx.resync_delay()))
        }
        Err(err) => {
            if transition {
                ctx.publish(&*obj, EventType::Warning, reason, message.clone())
                    .await;
            }
            tracing::warn!(reason, message = %err.message, seconds, "not ready");
            ctx.metrics.reconciled(K::KIND, "not_ready", seconds);
            ctx.metrics.failed(K::KIND, reason);
            Ok(match err.retry {
                Retry::Backoff => Action::requeue(ctx.backoff_delay(&key)),
                Retry::Resync => {
                    ctx.reset_backoff(&key);
                    Action::requeue(ctx.resync_delay())
                }
                Retry::AwaitChange => Action::await_change(),
            })
        }
    }
}

async fn cleanup<K: Reconciled>(
    cached: Arc<K>,
    ctx: &Context,
    api: &Api<K>,
    started: Instant,
) -> Result<Action, Error> {
    // Cleanup undoes what the status records. The cache can be behind our own last status write
    // (an apply that was running when the delete came finished after it), so read the object
    // live: what that apply added is then removed too, not leaked.
    let obj = match api.get_opt(&cached.name_any()).await {
        Ok(Some(live)) => Arc::new(live),
        Ok(None) => cached,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the object before cleanup");
            ctx.metrics.failed(K::KIND, "KubernetesApiError");
            return Err(err.into());
        }
    };
    match obj.clone().cleanup(ctx).await {
        Ok(()) => {
            ctx.metrics
                .reconciled(K::KIND, "deleted", started.elapsed().as_secs_f64());
            ctx.reset_backoff(&backoff_key(
                K::KIND,
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
            ctx.metrics.failed(K::KIND, err.reason);
            tracing::warn!(reason = err.reason, message = %err.message, "cleanup failed");
            Err(err)
        }
    }
}

/// kube-runtime's error policy: only status writes and finalizer patches end up here.
pub fn error_policy<K: Reconciled>(obj: Arc<K>, err: &Error, ctx: Arc<Context>) -> Action {
    let key = backoff_key(K::KIND, obj.namespace().as_deref(), &obj.name_any());
    if err.reason == STALE_CACHE {
        tracing::debug!(kind = K::KIND, name = %obj.name_any(), error = %err.message, "cache behind the apiserver; retrying");
        return Action::requeue(std::time::Duration::from_millis(500));
    }
    tracing::warn!(kind = K::KIND, namespace = obj.namespace().unwrap_or_default(), name = %obj.name_any(), reason = err.reason, error = %err.message, "reconcile failed");
    Action::requeue(ctx.backoff_delay(&key))
}
