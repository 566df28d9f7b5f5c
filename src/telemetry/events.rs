//! Kubernetes Events (events.k8s.io/v1) about the objects the operator reconciles.
//!
//! kube-runtime's `Recorder` keeps every Event it published for six minutes, to turn a repeat
//! into a series, and scans that cache on every publish. The operator publishes only when
//! something happened (a condition changed, members were added, a group was created), so
//! repeats are rare, while a cold start of 8,000 objects publishes some 16,000 Events within
//! those six minutes: the cache held about 3 KiB per object and cost a scan per Event. This
//! publisher keeps nothing: each Event is created once, named like kube-runtime's
//! (`<object>.<nanoseconds in hex>`), with the same fields.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::runtime::events::{Event, EventType};
use kube::Api;

/// Publishes Events as `controller` (the reporting controller) from `instance` (this pod).
#[derive(Clone)]
pub struct EventPublisher {
    kube: kube::Client,
    controller: String,
    instance: String,
}

impl EventPublisher {
    pub fn new(
        kube: kube::Client,
        controller: impl Into<String>,
        instance: impl Into<String>,
    ) -> Self {
        Self {
            kube,
            controller: controller.into(),
            instance: instance.into(),
        }
    }

    /// Create `event` about `regarding` in its namespace (`default` for a cluster-scoped object).
    pub async fn publish(
        &self,
        event: &Event,
        regarding: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let built = build_event(
            event,
            regarding,
            &self.controller,
            &self.instance,
            Timestamp::now(),
        );
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        Api::<K8sEvent>::namespaced(self.kube.clone(), namespace)
            .create(&PostParams::default(), &built)
            .await
            .map(|_| ())
    }
}

/// The events.k8s.io/v1 Event for `event` about `regarding`, observed at `now`.
pub fn build_event(
    event: &Event,
    regarding: &ObjectReference,
    controller: &str,
    instance: &str,
    now: Timestamp,
) -> K8sEvent {
    let object = regarding.name.as_deref().unwrap_or(controller);
    K8sEvent {
        action: Some(event.action.clone()),
        reason: Some(event.reason.clone()),
        event_time: Some(MicroTime(now)),
        regarding: Some(regarding.clone()),
        related: event.secondary.clone(),
        note: event.note.clone(),
        metadata: ObjectMeta {
            namespace: regarding.namespace.clone(),
            name: Some(format!("{object}.{:x}", now.as_nanosecond())),
            ..Default::default()
        },
        reporting_controller: Some(controller.to_string()),
        reporting_instance: Some(instance.to_string()),
        type_: Some(
            match event.type_ {
                EventType::Normal => "Normal",
                EventType::Warning => "Warning",
            }
            .to_string(),
        ),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_names_its_object_reporter_and_time() {
        let regarding = ObjectReference {
            api_version: Some("azdo.example.com/v1alpha1".into()),
            kind: Some("DevOpsGroup".into()),
            name: Some("platform".into()),
            namespace: Some("team-a".into()),
            uid: Some("u-1".into()),
            ..Default::default()
        };
        let event = Event {
            type_: EventType::Warning,
            reason: "ProtectedGroup".into(),
            note: Some("refused".into()),
            action: "Reconcile".into(),
            secondary: None,
        };
        let now = Timestamp::from_second(1_700_000_000).unwrap();
        let built = build_event(&event, &regarding, "azdo-operator", "pod-1", now);
        assert_eq!(built.metadata.namespace.as_deref(), Some("team-a"));
        assert_eq!(
            built.metadata.name,
            Some(format!("platform.{:x}", 1_700_000_000_000_000_000i128))
        );
        assert_eq!(built.type_.as_deref(), Some("Warning"));
        assert_eq!(built.reason.as_deref(), Some("ProtectedGroup"));
        assert_eq!(built.action.as_deref(), Some("Reconcile"));
        assert_eq!(built.note.as_deref(), Some("refused"));
        assert_eq!(built.reporting_controller.as_deref(), Some("azdo-operator"));
        assert_eq!(built.reporting_instance.as_deref(), Some("pod-1"));
        assert_eq!(built.regarding.as_ref(), Some(&regarding));
        assert_eq!(built.event_time, Some(MicroTime(now)));
        assert!(built.series.is_none());
    }

    #[test]
    fn a_cluster_scoped_object_has_no_namespace_and_a_normal_event_is_normal() {
        let regarding = ObjectReference {
            kind: Some("ClusterDevOpsOrganization".into()),
            name: Some("contoso".into()),
            ..Default::default()
        };
        let event = Event {
            type_: EventType::Normal,
            reason: "Ready".into(),
            note: None,
            action: "Reconcile".into(),
            secondary: None,
        };
        let built = build_event(
            &event,
            &regarding,
            "azdo-operator",
            "pod-1",
            Timestamp::now(),
        );
        assert!(built.metadata.namespace.is_none());
        assert!(built.metadata.name.unwrap().starts_with("contoso."));
        assert_eq!(built.type_.as_deref(), Some("Normal"));
    }
}
