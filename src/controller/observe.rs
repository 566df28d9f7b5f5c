//! Observe mode (`managementPolicy: Observe`, or `--observe` for every object): what a reconcile
//! that only observes reports. The kinds read what they would read, write nothing (the client
//! refuses writes as a second guard, `ado/tenant.rs`), take no claim, and say each change
//! `Manage` would make with [`Cx::would`](super::object_context::Cx::would); this module turns
//! those changes into the Ready condition and `status.drift`. Deleting an observed object never
//! writes (see `reconcile.rs`).

use crate::api::Drift;
use crate::reason::Reason;

use super::error::{Error, Retry};
use super::reconcile::Ready;

/// At most this many changes are listed on `status.drift.changes` (all are counted).
pub const LISTED_CHANGES: usize = 100;

/// The outcome of an observing reconcile, from the kind's outcome and the changes it said:
/// `InSync` when `Manage` would change nothing, `DriftDetected` (Ready=False, looked at again at
/// the next resync) when it would, or the kind's own error when it could not tell (a grant
/// missing, a group protected: exactly what `Manage` would report), or `Progressing` while
/// Azure DevOps still applies an earlier change (as `Manage` would report too).
pub fn outcome(result: Result<Ready, Error>, changes: &[String]) -> Result<Ready, Error> {
    match result {
        Ok(ready) if ready.reason == Reason::Progressing && changes.is_empty() => Ok(ready),
        Ok(ready) if changes.is_empty() => Ok(Ready::new(
            Reason::InSync,
            format!("Observe: Manage would change nothing ({})", ready.message),
        )),
        Ok(_) => Err(drift_detected(changes)),
        Err(e) if e.reason == Reason::DriftDetected && !changes.is_empty() => {
            Err(drift_detected(changes))
        }
        Err(e) => Err(e),
    }
}

fn drift_detected(changes: &[String]) -> Error {
    let shown: Vec<&str> = changes.iter().take(3).map(String::as_str).collect();
    let more = match changes.len() {
        n if n > shown.len() => format!(" and {} more", n - shown.len()),
        _ => String::new(),
    };
    Error::new(
        Reason::DriftDetected,
        format!(
            "Observe: Manage would make {} change(s): {}{more} (see status.drift; nothing was written)",
            changes.len(),
            shown.join("; "),
        ),
        Retry::Resync,
    )
}

/// `status.drift`: `None` when there is nothing to change.
pub fn drift(changes: &[String]) -> Option<Drift> {
    (!changes.is_empty()).then(|| Drift {
        count: u32::try_from(changes.len()).unwrap_or(u32::MAX),
        changes: changes.iter().take(LISTED_CHANGES).cloned().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synced() -> Result<Ready, Error> {
        Ok(Ready::new(Reason::Synced, "3/3 members present"))
    }

    #[test]
    fn nothing_to_change_is_in_sync_and_keeps_the_kinds_message() {
        let ready = outcome(synced(), &[]).unwrap();
        assert_eq!(ready.reason, Reason::InSync);
        assert!(
            ready.message.contains("3/3 members present"),
            "{}",
            ready.message
        );
        assert_eq!(drift(&[]), None);
    }

    #[test]
    fn changes_are_drift_counted_listed_and_retried_at_resync() {
        let changes: Vec<String> = (0..5).map(|i| format!("add member m{i}")).collect();
        let err = outcome(synced(), &changes).unwrap_err();
        assert_eq!(
            (err.reason, err.retry),
            (Reason::DriftDetected, Retry::Resync)
        );
        assert!(err.message.contains("5 change(s)"), "{}", err.message);
        assert!(err
            .message
            .contains("add member m0; add member m1; add member m2 and 2 more"));
        let d = drift(&changes).unwrap();
        assert_eq!((d.count, d.changes.len()), (5, 5));
    }

    #[test]
    fn an_operation_still_applying_stays_progressing() {
        let applying = Ok(Ready::progressing("the group rule is being applied"));
        assert_eq!(outcome(applying, &[]).unwrap().reason, Reason::Progressing);
    }

    #[test]
    fn per_item_drift_becomes_the_objects_drift() {
        let items = Err(Error::new(
            Reason::DriftDetected,
            "1/2 members present",
            Retry::Resync,
        ));
        let err = outcome(items, &["add member a".into()]).unwrap_err();
        assert_eq!(err.reason, Reason::DriftDetected);
        assert!(err
            .message
            .starts_with("Observe: Manage would make 1 change(s)"));
    }

    #[test]
    fn what_manage_would_refuse_is_reported_as_manage_would() {
        let refused = Err(Error::new(Reason::NotAllowed, "not granted", Retry::Resync));
        let err = outcome(refused, &["create group x".into()]).unwrap_err();
        assert_eq!(err.reason, Reason::NotAllowed);
    }

    #[test]
    fn long_drift_lists_the_first_hundred_and_counts_all() {
        let changes: Vec<String> = (0..250)
            .map(|i| format!("authorize pipeline {i}"))
            .collect();
        let d = drift(&changes).unwrap();
        assert_eq!((d.count, d.changes.len()), (250, LISTED_CHANGES));
        assert_eq!(d.changes[0], "authorize pipeline 0");
    }
}
