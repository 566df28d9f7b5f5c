//! Status writing: the `Ready` condition (whose `lastTransitionTime` moves only on transitions)
//! and server-side apply of the status subresource with one field manager.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use crate::api::{CommonStatus, READY};

/// The field manager of every write the operator makes.
pub const FIELD_MANAGER: &str = "azdo-operator";

/// Longest condition message we write (Kubernetes allows 32 KiB; people read the first lines).
const MAX_MESSAGE: usize = 2048;

/// Build a condition, keeping the previous `lastTransitionTime` when the status did not change.
pub fn condition(
    previous: &[Condition],
    type_: &str,
    ok: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) -> Condition {
    let status = if ok { "True" } else { "False" };
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(now);
    Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.to_string(),
        message: truncate(message),
        observed_generation: generation,
        last_transition_time,
    }
}

/// The common status for a reconcile result.
pub fn common_status(
    previous: Option<&CommonStatus>,
    generation: Option<i64>,
    ok: bool,
    reason: &str,
    message: &str,
) -> CommonStatus {
    let previous_conditions = previous.map(|p| p.conditions.as_slice()).unwrap_or(&[]);
    let mut conditions: Vec<Condition> = previous_conditions
        .iter()
        .filter(|c| c.type_ != READY)
        .cloned()
        .collect();
    conditions.insert(
        0,
        condition(previous_conditions, READY, ok, reason, message, generation),
    );
    CommonStatus {
        observed_generation: generation,
        conditions,
        drift: None,
    }
}

/// Server-side apply `status` to the object's status subresource (forcing ownership).
pub async fn apply_status<K, S>(api: &Api<K>, name: &str, status: &S) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map(|_| ())
}

pub(super) fn now() -> Time {
    // The apiserver keeps whole seconds; so do we, so that a read-back compares equal.
    let now = k8s_openapi::jiff::Timestamp::now();
    Time(k8s_openapi::jiff::Timestamp::from_second(now.as_second()).unwrap_or(now))
}

fn truncate(message: &str) -> String {
    if message.len() <= MAX_MESSAGE {
        return message.to_string();
    }
    let mut end = MAX_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_on_transitions() {
        let first = common_status(None, Some(1), false, "Pending", "waiting");
        let mut old = first.conditions[0].clone();
        old.last_transition_time = Time(k8s_openapi::jiff::Timestamp::from_second(1_000).unwrap());
        let previous = CommonStatus {
            observed_generation: Some(1),
            conditions: vec![old.clone()],
            drift: None,
        };
        let same = common_status(
            Some(&previous),
            Some(2),
            false,
            "OtherReason",
            "still waiting",
        );
        assert_eq!(
            same.conditions[0].last_transition_time,
            old.last_transition_time
        );
        assert_eq!(same.conditions[0].reason, "OtherReason");
        assert_eq!(same.observed_generation, Some(2));
        let flipped = common_status(Some(&previous), Some(2), true, "Ready", "done");
        assert_ne!(
            flipped.conditions[0].last_transition_time,
            old.last_transition_time
        );
        assert_eq!(flipped.conditions[0].status, "True");
    }

    #[test]
    fn identical_inputs_give_identical_status() {
        let a = common_status(None, Some(3), true, "Ready", "ok");
        let b = common_status(Some(&a), Some(3), true, "Ready", "ok");
        assert_eq!(a, b);
    }

    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let long = "é".repeat(MAX_MESSAGE);
        let cut = truncate(&long);
        assert!(cut.len() <= MAX_MESSAGE + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }
}
