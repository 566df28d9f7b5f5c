//! The Ready condition every azdo.io kind reports, as a type.

use azdo_operator::api::{CommonStatus, READY};
use azdo_operator::reason::Reason;
use kube::api::DynamicObject;

/// An object's Ready condition, parsed from `status.conditions` with the operator's own
/// [`CommonStatus`] type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ready {
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    /// `status.observedGeneration` equals `metadata.generation`: the condition is about the
    /// object's current spec.
    pub current: bool,
}

impl Ready {
    /// The Ready condition of `obj`, if its status has one.
    pub fn of(obj: &DynamicObject) -> Option<Ready> {
        let status: CommonStatus = serde_json::from_value(obj.data.get("status")?.clone()).ok()?;
        let condition = status.conditions.iter().find(|c| c.type_ == READY)?;
        Some(Ready {
            status: condition.status.clone(),
            reason: condition.reason.clone(),
            message: condition.message.clone(),
            current: status.observed_generation.is_some()
                && status.observed_generation == obj.metadata.generation,
        })
    }

    /// `status` (`"True"`, `"False"`) for the object's current generation.
    pub fn is(&self, status: &str) -> bool {
        self.status == status && self.current
    }

    /// The condition carries `reason` (compared as the operator's [`Reason`], never as text).
    pub fn has(&self, reason: Reason) -> bool {
        Reason::parse(&self.reason) == Some(reason)
    }

    /// Ready=True for the object's current generation.
    pub fn is_true(&self) -> bool {
        self.is("True")
    }
}
