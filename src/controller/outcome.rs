//! How one reconcile's result is reported, decided in one pure place for every kind: the Ready
//! condition's status, whether an Event is published and of which type, the metric outcome,
//! and when the object is looked at again.
//!
//! Three outcomes:
//! - **Ready**: converged (`Ok`). Ready=True; a Normal Event when the condition changed; looked
//!   at again at the next resync.
//! - **Progressing**: Azure DevOps is still carrying out what was asked (an asynchronous
//!   operation, e.g. a group rule being applied; a kind returns [`Ready::progressing`]). It is
//!   not an error: Ready=False with reason `Progressing`, a *Normal* Event once when the object
//!   starts progressing, no error metric, and looked at again soon (growing like a backoff,
//!   never later than a resync).
//! - **NotReady**: an error (`Err`). Ready=False with the error's reason; a Warning Event when
//!   the condition changed; retried as the error says.
//! - **Deferred**: Azure DevOps' rate limit outlasted a call's retry budget (`Throttled`). The
//!   object did nothing wrong and is not failed for it: its condition stays as it was (an object
//!   without one yet gets Ready=False `Throttled`, with a Normal Event), and it is looked at
//!   again after a growing delay. Under a sustained rate limit the operator degrades by
//!   stretching resyncs, never by failing objects.

use kube::runtime::events::EventType;

use crate::reason::Reason;

use super::error::Error;
use super::reconcile::Ready;

/// What a reconcile came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    Progressing,
    NotReady,
    Deferred,
}

impl Outcome {
    /// The outcome of a kind's `converge`. `Progressing` is never an error, whichever way a
    /// kind returns it.
    pub fn of(result: &Result<Ready, Error>) -> Self {
        match result {
            Ok(r) if r.reason == Reason::Progressing => Self::Progressing,
            Ok(_) => Self::Ready,
            Err(e) if e.reason == Reason::Progressing => Self::Progressing,
            Err(e) if e.reason == Reason::Throttled => Self::Deferred,
            Err(_) => Self::NotReady,
        }
    }

    /// The Ready condition's status.
    pub fn ready(self) -> bool {
        self == Self::Ready
    }

    /// The `outcome` label of `azdo_reconciles`.
    pub fn metric(self) -> &'static str {
        match self {
            Self::Ready => "ready",
            Self::Progressing => "progressing",
            Self::NotReady => "not_ready",
            Self::Deferred => "deferred",
        }
    }

    /// Whether it counts in `azdo_reconcile_errors` (by reason).
    pub fn is_error(self) -> bool {
        self == Self::NotReady
    }

    /// The Event to publish: only when the condition changed (`transition`), Warning only for
    /// an error. Becoming Ready in a reconcile that already published what it did (`acted`,
    /// e.g. `Created` or `MembersAdded`) publishes nothing more: one Event says it, and the
    /// apiserver writes one Event instead of two for every object created.
    pub fn event(self, transition: bool, acted: bool) -> Option<EventType> {
        match (transition, self) {
            (false, _) => None,
            (true, Self::Ready) if acted => None,
            (true, Self::NotReady) => Some(EventType::Warning),
            (true, Self::Ready | Self::Progressing | Self::Deferred) => Some(EventType::Normal),
        }
    }
}

/// Whether the Ready condition changes: no condition yet, or another reason or status than
/// `previous` (`(reason, status == "True")`).
pub fn is_transition(previous: Option<(&str, bool)>, reason: Reason, ready: bool) -> bool {
    previous.is_none_or(|(was, was_ready)| Reason::parse(was) != Some(reason) || was_ready != ready)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::error::Retry;

    fn progressing() -> Result<Ready, Error> {
        Ok(Ready::progressing("the group rule is being applied (op-1)"))
    }

    #[test]
    fn progressing_is_not_ready_but_never_a_warning() {
        let o = Outcome::of(&progressing());
        assert_eq!(o, Outcome::Progressing);
        assert!(!o.ready());
        assert!(!o.is_error());
        assert_eq!(o.metric(), "progressing");
        assert_eq!(o.event(true, false), Some(EventType::Normal));
        assert_eq!(o.event(false, false), None);
        // Even a kind that returns it as an error does not publish a Warning.
        let as_error = Err(Error::new(Reason::Progressing, "applying", Retry::Backoff));
        assert_eq!(
            Outcome::of(&as_error).event(true, false),
            Some(EventType::Normal)
        );
    }

    #[test]
    fn errors_warn_once_per_transition_and_success_is_normal() {
        let failed = Err(Error::new(
            Reason::LicenceUnavailable,
            "2 of 3",
            Retry::Resync,
        ));
        let o = Outcome::of(&failed);
        assert_eq!(
            (o, o.ready(), o.is_error()),
            (Outcome::NotReady, false, true)
        );
        assert_eq!(o.event(true, false), Some(EventType::Warning));
        assert_eq!(o.event(false, false), None);
        let ok = Ok(Ready::new(Reason::Synced, "applied"));
        let o = Outcome::of(&ok);
        assert_eq!((o, o.ready(), o.metric()), (Outcome::Ready, true, "ready"));
        assert_eq!(o.event(true, false), Some(EventType::Normal));
    }

    #[test]
    fn becoming_ready_after_an_action_event_publishes_no_second_event() {
        let ready = Outcome::of(&Ok(Ready::new(Reason::Synced, "applied")));
        assert_eq!(ready.event(true, true), None);
        assert_eq!(ready.event(true, false), Some(EventType::Normal));
        // A failure is always said, whatever else the reconcile did.
        let failed = Outcome::of(&Err(Error::new(
            Reason::GroupNotFound,
            "gone",
            Retry::Resync,
        )));
        assert_eq!(failed.event(true, true), Some(EventType::Warning));
        let progressing = Outcome::of(&progressing());
        assert_eq!(progressing.event(true, true), Some(EventType::Normal));
    }

    #[test]
    fn a_rate_limit_defers_the_object_without_failing_it() {
        let throttled = Err(Error::new(
            Reason::Throttled,
            "Azure DevOps asked to wait 90 s",
            Retry::Backoff,
        ));
        let o = Outcome::of(&throttled);
        assert_eq!(o, Outcome::Deferred);
        assert!(!o.is_error());
        assert_eq!(o.metric(), "deferred");
        assert_eq!(o.event(true, false), Some(EventType::Normal));
    }

    #[test]
    fn a_transition_is_a_new_reason_or_status() {
        let p = Reason::Progressing;
        assert!(is_transition(None, p, false));
        // Still progressing: no second Event.
        assert!(!is_transition(Some(("Progressing", false)), p, false));
        // Progressing after an error, Ready after progressing: one Event each.
        assert!(is_transition(Some(("LicenceUnavailable", false)), p, false));
        assert!(is_transition(
            Some(("Progressing", false)),
            Reason::Synced,
            true
        ));
        assert!(is_transition(Some(("Synced", false)), Reason::Synced, true));
    }
}
