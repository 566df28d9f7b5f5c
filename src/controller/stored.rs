//! Objects as they are stored, whether or not they fit this operator's types.
//!
//! A stored object can fail to deserialize even though the apiserver accepted it: it was written
//! under an older or looser CRD schema (schema changes do not rewrite stored objects), or by
//! something that bypassed validation. kube-runtime decodes a whole list page at once, so one
//! such object would fail every list of its kind: the caches would never fill (and the operator
//! would never start), and every controller watching that kind would stall. Watching
//! [`Stored<K>`] instead keeps the object apart as [`Stored::Malformed`]: the others are
//! reconciled as usual, and the broken one is reported on its own status and Events
//! ([`report_malformed`]) and otherwise left alone until somebody fixes it.

use std::borrow::Cow;
use std::sync::Arc;

use futures::{future, Stream, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::Deserialize;
use serde_json::Value;

use super::context::Context;
use super::reconcile::Reconciled;
use super::status::{now, FIELD_MANAGER};
use crate::api::{HasCommonStatus, READY};
use crate::reason::Reason;

/// An object of kind `K` as stored.
#[derive(Debug, Clone)]
pub enum Stored<K> {
    Valid(Arc<K>),
    Malformed {
        meta: Box<ObjectMeta>,
        /// What did not fit: the field's path and what was expected there.
        error: String,
        /// The stored status, to see whether the problem was already reported.
        status: Value,
    },
}

impl<K> Stored<K> {
    pub fn valid(&self) -> Option<&Arc<K>> {
        match self {
            Self::Valid(k) => Some(k),
            Self::Malformed { .. } => None,
        }
    }
}

/// Annotations a cached object does not need: `kubectl apply`'s copy of the whole object.
const UNNEEDED_ANNOTATIONS: [&str; 1] = ["kubectl.kubernetes.io/last-applied-configuration"];

/// Drop what no reconciler reads from a watched object before it is decoded and cached:
/// `managedFields` (often larger than the spec) and `kubectl apply`'s copy of the object. Every
/// cache and watch of the operator decodes through [`Stored`], so none keeps them.
fn strip_unneeded(value: &mut Value) {
    let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    meta.remove("managedFields");
    if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        for key in UNNEEDED_ANNOTATIONS {
            annotations.remove(key);
        }
    }
}

/// What the caches keep of an object of a kind: by default all of it (but what
/// [`strip_unneeded`] drops). A kind whose objects are large while what other reconcilers and
/// triggers read of them is small keeps a partial copy ([`Cached::PARTIAL`]); its own reconciles
/// then read the whole object from the apiserver first (one GET, no Azure DevOps call).
pub trait Cached {
    /// Whether [`Cached::keep_in_cache`] drops anything.
    const PARTIAL: bool = false;

    /// Reduce a decoded object to what is cached. Runs after the whole object decoded, so a
    /// malformed object is still found malformed.
    fn keep_in_cache(&mut self) {}
}

impl Cached for crate::api::ClusterDevOpsOrganization {}
impl Cached for crate::api::DevOpsOrganization {}
impl Cached for crate::api::DevOpsGroup {}
impl Cached for crate::api::PipelineResourceAuthorization {}
impl Cached for crate::api::DevOpsRoleAssignment {}
impl Cached for crate::api::PipelineResourceCheck {}
impl Cached for crate::api::DevOpsEntitlement {}

impl<'de, K: DeserializeOwned + Cached> Deserialize<'de> for Stored<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = Value::deserialize(deserializer)?;
        strip_unneeded(&mut value);
        match serde_path_to_error::deserialize::<_, K>(&value) {
            Ok(mut k) => {
                k.keep_in_cache();
                Ok(Self::Valid(Arc::new(k)))
            }
            Err(error) => {
                // Without readable metadata the object cannot even be named: that fails as before.
                let meta = ObjectMeta::deserialize(&value["metadata"]).map_err(D::Error::custom)?;
                Ok(Self::Malformed {
                    meta: Box::new(meta),
                    error: error.to_string(),
                    status: value["status"].take(),
                })
            }
        }
    }
}

impl<K: Resource<DynamicType = ()> + Clone> Resource for Stored<K> {
    type DynamicType = ();
    type Scope = K::Scope;

    fn kind(dt: &()) -> Cow<'_, str> {
        K::kind(dt)
    }
    fn group(dt: &()) -> Cow<'_, str> {
        K::group(dt)
    }
    fn version(dt: &()) -> Cow<'_, str> {
        K::version(dt)
    }
    fn api_version(dt: &()) -> Cow<'_, str> {
        K::api_version(dt)
    }
    fn plural(dt: &()) -> Cow<'_, str> {
        K::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        match self {
            Self::Valid(k) => k.meta(),
            Self::Malformed { meta, .. } => meta,
        }
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Self::Valid(k) => Arc::make_mut(k).meta_mut(),
            Self::Malformed { meta, .. } => meta,
        }
    }
}

/// The status of an object's Ready condition (`None`: it has none), whether or not it is valid.
pub fn ready_status<K: Reconciled>(obj: &Stored<K>) -> Option<&str> {
    match obj {
        Stored::Valid(k) => k.ready_condition().map(|c| c.status.as_str()),
        Stored::Malformed { status, .. } => status["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == READY)?["status"]
            .as_str(),
    }
}

/// The valid objects among `objects`.
pub fn valid<K>(objects: Vec<Arc<Stored<K>>>) -> Vec<Arc<K>> {
    objects.iter().filter_map(|o| o.valid().cloned()).collect()
}

/// The same reference for another type of the same object.
pub fn retype<A: Resource<DynamicType = ()>, B: Resource<DynamicType = ()>>(
    r: ObjectRef<A>,
) -> ObjectRef<B> {
    let named = ObjectRef::<B>::new(&r.name);
    match r.namespace {
        Some(ns) => named.within(&ns),
        None => named,
    }
}

/// A watch stream of [`Stored<K>`] as one of `K` that skips malformed objects, to fill caches
/// that reconcilers read. (An object that turns malformed keeps its last valid version there.)
pub fn only_valid<K: Clone>(
    events: impl Stream<Item = Result<watcher::Event<Stored<K>>, watcher::Error>>,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> {
    events.filter_map(|event| {
        let valid = |s: Stored<K>| match s {
            Stored::Valid(k) => Some(Arc::unwrap_or_clone(k)),
            Stored::Malformed { .. } => None,
        };
        future::ready(match event {
            Ok(watcher::Event::Apply(s)) => valid(s).map(|k| Ok(watcher::Event::Apply(k))),
            Ok(watcher::Event::Delete(s)) => valid(s).map(|k| Ok(watcher::Event::Delete(k))),
            Ok(watcher::Event::InitApply(s)) => valid(s).map(|k| Ok(watcher::Event::InitApply(k))),
            Ok(watcher::Event::Init) => Some(Ok(watcher::Event::Init)),
            Ok(watcher::Event::InitDone) => Some(Ok(watcher::Event::InitDone)),
            Err(e) => Some(Err(e)),
        })
    })
}

/// Report an object that cannot be read: Ready=False with reason `MalformedObject` on its status
/// (written once), a Warning Event, a log line and a metric. Nothing is done in Azure DevOps,
/// and nothing is retried until the object changes.
pub async fn report_malformed<K: Reconciled>(obj: &Stored<K>, ctx: &Context) -> Action {
    let Stored::Malformed {
        meta,
        error,
        status,
    } = obj
    else {
        return Action::await_change();
    };
    let name = obj.name_any();
    let kind = K::kind(&());
    let mut message = format!(
        "this {} cannot be read by the operator ({error}); it is left alone until it is fixed",
        kind
    );
    if meta.deletion_timestamp.is_some() {
        message.push_str(
            "; its deletion waits for that too, or for its finalizer to be removed by hand \
             (which leaves Azure DevOps as it is)",
        );
    }
    tracing::warn!(kind = &*kind, namespace = meta.namespace.as_deref().unwrap_or(""), %name, %error, "malformed object");
    ctx.metrics.failed(&kind, Reason::MalformedObject.as_str());
    if already_reported(status, &message, meta.generation) {
        return Action::await_change();
    }
    ctx.publish(
        obj,
        EventType::Warning,
        Reason::MalformedObject,
        message.clone(),
    )
    .await;
    let ready = Condition {
        type_: READY.to_string(),
        status: "False".to_string(),
        reason: Reason::MalformedObject.as_str().to_string(),
        message,
        observed_generation: meta.generation,
        last_transition_time: now(),
    };
    let status = serde_json::json!({
        "observedGeneration": meta.generation,
        "conditions": [ready],
    });
    // A merge patch through an untyped Api: server-side apply cannot be used, because the
    // apiserver builds a typed copy of the object for it, and this object does not fit its
    // schema; a typed Api would fail to decode the object the apiserver returns.
    let resource = ApiResource::erase::<K>(&());
    let api: Api<DynamicObject> = match meta.namespace.as_deref() {
        Some(ns) => Api::namespaced_with(ctx.kube.clone(), ns, &resource),
        None => Api::all_with(ctx.kube.clone(), &resource),
    };
    let patch = serde_json::json!({ "status": status });
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    };
    if let Err(err) = api
        .patch_status(&name, &params, &Patch::Merge(&patch))
        .await
    {
        tracing::warn!(kind = &*kind, %name, error = %err, "cannot report the malformed object on its status");
    }
    Action::await_change()
}

/// Whether the stored status already carries this report for this generation.
fn already_reported(status: &Value, message: &str, generation: Option<i64>) -> bool {
    status["conditions"].as_array().is_some_and(|conditions| {
        conditions.iter().any(|c| {
            c["type"] == READY
                && c["reason"] == Reason::MalformedObject.as_str()
                && c["message"] == message
                && c["observedGeneration"].as_i64() == generation
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DevOpsGroup;

    #[test]
    fn cached_objects_keep_no_managed_fields_nor_last_applied_copy() {
        let stored: Stored<DevOpsGroup> = serde_json::from_value(serde_json::json!({
            "apiVersion": "azdo.io/v1alpha1", "kind": "DevOpsGroup",
            "metadata": {
                "name": "ok", "namespace": "team-a",
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{...}",
                    "team": "web"
                },
                "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {}}]
            },
            "spec": {"organizationRef": {"name": "contoso"}, "displayName": "Ok"}
        }))
        .unwrap();
        let group = stored.valid().expect("valid");
        assert!(group.metadata.managed_fields.is_none());
        let annotations = group.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(annotations.keys().collect::<Vec<_>>(), ["team"]);
    }

    #[test]
    fn a_valid_object_is_valid_and_a_broken_one_keeps_its_name() {
        let good: Stored<DevOpsGroup> = serde_json::from_value(serde_json::json!({
            "apiVersion": "azdo.io/v1alpha1", "kind": "DevOpsGroup",
            "metadata": {"name": "ok", "namespace": "team-a"},
            "spec": {"organizationRef": {"name": "contoso"}, "displayName": "Ok"}
        }))
        .unwrap();
        assert_eq!(
            good.valid().map(|g| g.spec.display_name.clone()),
            Some(Some("Ok".into()))
        );
        assert_eq!(ready_status(&good), None, "not reconciled yet");
        let reported: Stored<DevOpsGroup> = serde_json::from_value(serde_json::json!({
            "apiVersion": "azdo.io/v1alpha1", "kind": "DevOpsGroup",
            "metadata": {"name": "broken"}, "spec": 42,
            "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "MalformedObject"}]}
        }))
        .unwrap();
        assert!(reported.valid().is_none());
        assert_eq!(
            ready_status(&reported),
            Some("False"),
            "a malformed object counts too"
        );

        let bad: Stored<DevOpsGroup> = serde_json::from_value(serde_json::json!({
            "apiVersion": "azdo.io/v1alpha1", "kind": "DevOpsGroup",
            "metadata": {"name": "broken", "namespace": "team-a", "generation": 3},
            "spec": {"organizationRef": "contoso", "displayName": ["a"]},
            "status": {"conditions": [{"type": "Ready", "reason": "MalformedObject", "message": "m", "observedGeneration": 3}]}
        }))
        .unwrap();
        assert!(bad.valid().is_none());
        assert_eq!(bad.name_any(), "broken");
        assert_eq!(bad.namespace().as_deref(), Some("team-a"));
        let Stored::Malformed { error, status, .. } = &bad else {
            unreachable!()
        };
        assert!(
            error.contains("organizationRef") || error.contains("invalid type"),
            "{error}"
        );
        assert!(already_reported(status, "m", Some(3)));
        assert_eq!(ready_status(&bad), None, "a condition without a status");
        assert!(!already_reported(status, "m", Some(4)));
        assert!(!already_reported(status, "other", Some(3)));
    }

    #[test]
    fn a_list_with_one_broken_object_still_decodes() {
        let list: kube::core::ObjectList<Stored<DevOpsGroup>> =
            serde_json::from_value(serde_json::json!({
                "apiVersion": "azdo.io/v1alpha1", "kind": "DevOpsGroupList",
                "metadata": {"resourceVersion": "7"},
                "items": [
                    {"apiVersion": "azdo.io/v1alpha1", "kind": "DevOpsGroup",
                     "metadata": {"name": "broken"}, "spec": 42},
                    {"apiVersion": "azdo.io/v1alpha1", "kind": "DevOpsGroup",
                     "metadata": {"name": "ok"},
                     "spec": {"organizationRef": {"name": "contoso"}, "displayName": "Ok"}}
                ]
            }))
            .unwrap();
        let valid: Vec<String> = list
            .items
            .iter()
            .filter_map(|s| s.valid().map(|g| g.name_any()))
            .collect();
        assert_eq!(valid, ["ok"]);
        assert_eq!(list.items.len(), 2);
    }
}
