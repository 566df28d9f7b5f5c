//! The Ready condition of a list-shaped object, from its settled items.

use super::item::ItemState;
use super::plan::Settled;
use crate::controller::error::{Error, Retry};
use crate::controller::reconcile::Ready;
use crate::reason::Reason;

/// How a kind names its items in messages.
#[derive(Debug, Clone, Copy)]
pub struct Nouns {
    /// What a listed item in place is called, plural: `members present`.
    pub in_place: &'static str,
    /// The status field listing each item: `status.members`.
    pub field: &'static str,
    /// The reason when several items failed.
    pub several_failed: Reason,
}

/// `Synced` when every item is in place; otherwise the first problem's reason (or
/// `several_failed` when failures differ), its message, and how many more there are. Removals
/// held back in Exclusive mode are said. Retried soon when any problem is transient, else at the
/// next resync.
pub fn ready<Id>(settled: &Settled<Id>, nouns: &Nouns, held_back: bool) -> Result<Ready, Error> {
    let listed = settled.items.len();
    let in_place = settled.in_place();
    let problems: Vec<_> = settled.problems().collect();
    let Some(first) = problems.first() else {
        return Ok(Ready::new(
            Reason::Synced,
            format!("{in_place}/{listed} {}", nouns.in_place),
        ));
    };
    let mut message = format!("{in_place}/{listed} {}; {}", nouns.in_place, first.message);
    if problems.len() > 1 {
        message.push_str(&format!(
            " (and {} more problem(s), see {})",
            problems.len() - 1,
            nouns.field
        ));
    }
    if held_back {
        message.push_str("; Exclusive mode removes nothing until every item resolves");
    }
    let pending_only = problems.iter().all(|p| p.state == ItemState::Pending);
    let reason = if pending_only || problems.len() == 1 {
        first.reason
    } else {
        nouns.several_failed
    };
    let retry = if problems.iter().any(|p| p.transient) {
        Retry::Backoff
    } else {
        Retry::Resync
    };
    Err(Error::new(reason, message, retry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::set_sync::Problem;

    const NOUNS: Nouns = Nouns {
        in_place: "members present",
        field: "status.members",
        several_failed: Reason::MembersFailed,
    };

    fn settled(problems: Vec<Option<Problem>>) -> Settled<u32> {
        Settled {
            ours: Default::default(),
            items: problems
                .into_iter()
                .enumerate()
                .map(|(i, p)| (format!("m{i}"), Some(i as u32), p))
                .collect(),
        }
    }

    #[test]
    fn all_in_place_is_synced() {
        let ready = ready(&settled(vec![None, None]), &NOUNS, false).unwrap();
        assert_eq!(ready.reason, Reason::Synced);
        assert_eq!(ready.message, "2/2 members present");
    }

    #[test]
    fn one_problem_gives_its_reason_and_retry() {
        let err = ready(
            &settled(vec![
                None,
                Some(Problem::failed(Reason::UserNotFound, "no bob")),
            ]),
            &NOUNS,
            true,
        )
        .unwrap_err();
        assert_eq!(err.reason, Reason::UserNotFound);
        assert_eq!(err.retry, Retry::Resync);
        assert_eq!(
            err.message,
            "1/2 members present; no bob; Exclusive mode removes nothing until every item resolves"
        );
    }

    #[test]
    fn several_failures_are_summed_up() {
        let err = ready(
            &settled(vec![
                Some(Problem::failed(Reason::UserNotFound, "no bob")),
                Some(Problem::retry_soon(Reason::KubernetesApiError, "timeout")),
            ]),
            &NOUNS,
            false,
        )
        .unwrap_err();
        assert_eq!(err.reason, Reason::MembersFailed);
        assert_eq!(err.retry, Retry::Backoff, "one problem is transient");
        assert!(err
            .message
            .ends_with("(and 1 more problem(s), see status.members)"));
    }

    #[test]
    fn only_pending_items_report_the_first_reason() {
        let err = ready(
            &settled(vec![
                Some(Problem::pending(Reason::GroupNotReady, "waiting for a")),
                Some(Problem::pending(Reason::GroupNotFound, "no b")),
            ]),
            &NOUNS,
            false,
        )
        .unwrap_err();
        assert_eq!(err.reason, Reason::GroupNotReady);
    }
}
