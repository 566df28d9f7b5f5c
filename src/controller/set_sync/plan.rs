//! What to add and remove (a pure function), and what the writes leave behind.

use std::collections::{BTreeMap, BTreeSet};

use super::item::{Item, Problem};
use crate::controller::error::Error;
use crate::reason::Reason;

/// How a list in the spec relates to what Azure DevOps holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Add what is listed; remove only what this object added and no longer lists.
    Additive,
    /// Make Azure DevOps hold exactly what is listed: also remove what nobody listed. Fails
    /// closed: nothing is removed while any listed item is unresolved.
    Exclusive,
}

/// The writes one reconcile makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<Id> {
    /// Listed, resolved, absent: to add.
    pub add: Vec<Id>,
    /// To remove: ours and no longer listed (Additive), or not listed at all (Exclusive).
    pub remove: Vec<Id>,
    /// Never removed this time: every resolved listed item, and the identity an unresolved item
    /// had at the last reconcile (a lookup failure never removes anything).
    pub keep: BTreeSet<Id>,
    /// Adds the veto refused, with why (a membership that would close a cycle).
    pub refused: BTreeMap<Id, Problem>,
    /// Exclusive removals held back because an item did not resolve or the read failed.
    pub held_back: bool,
}

/// Plan one reconcile. `current` is what Azure DevOps holds, `None` when reading it failed (then
/// nothing is written at all). `ours` is what this object added before. `veto` may refuse an add.
pub fn plan<Id: Ord + Clone>(
    items: &[Item<Id>],
    current: Option<&BTreeSet<Id>>,
    ours: &BTreeSet<Id>,
    mode: Mode,
    mut veto: impl FnMut(&Id) -> Option<Problem>,
) -> Plan<Id> {
    let desired: BTreeSet<Id> = items
        .iter()
        .filter_map(|i| i.resolved.as_ref().ok().cloned())
        .collect();
    let unresolved = items.iter().any(|i| i.resolved.is_err());
    let mut keep = desired.clone();
    keep.extend(
        items
            .iter()
            .filter(|i| i.resolved.is_err())
            .filter_map(|i| i.previous.clone()),
    );
    let Some(current) = current else {
        return Plan {
            add: Vec::new(),
            remove: Vec::new(),
            keep,
            refused: BTreeMap::new(),
            held_back: mode == Mode::Exclusive,
        };
    };
    let mut refused = BTreeMap::new();
    let add = desired
        .difference(current)
        .filter(|id| match veto(id) {
            Some(problem) => {
                refused.insert((*id).clone(), problem);
                false
            }
            None => true,
        })
        .cloned()
        .collect();
    let remove = match mode {
        Mode::Additive => ours
            .iter()
            .filter(|id| current.contains(*id) && !keep.contains(*id))
            .cloned()
            .collect(),
        Mode::Exclusive if unresolved => Vec::new(),
        Mode::Exclusive => current
            .iter()
            .filter(|id| !keep.contains(*id))
            .cloned()
            .collect(),
    };
    Plan {
        add,
        remove,
        keep,
        refused,
        held_back: mode == Mode::Exclusive && unresolved,
    }
}

/// What the writes of a plan did.
#[derive(Debug, Clone)]
pub struct Written<Id> {
    pub added: Vec<Id>,
    pub add_failed: Vec<(Id, Problem)>,
    pub removed: Vec<Id>,
    /// The first removal that failed (the reconcile reports it and tries again).
    pub remove_error: Option<Error>,
}

impl<Id> Default for Written<Id> {
    fn default() -> Self {
        Self {
            added: Vec::new(),
            add_failed: Vec::new(),
            removed: Vec::new(),
            remove_error: None,
        }
    }
}

impl<Id: Clone> Written<Id> {
    /// Every write of the plan succeeded.
    pub fn all_done(plan: &Plan<Id>) -> Self {
        Self {
            added: plan.add.clone(),
            add_failed: Vec::new(),
            removed: plan.remove.clone(),
            remove_error: None,
        }
    }
}

impl<Id: Clone> Written<Id> {
    /// Under Observe: nothing was written; each planned add is the drift of its item.
    pub fn observed(plan: &Plan<Id>) -> Self {
        let absent = || Problem::pending(Reason::DriftDetected, "absent: Manage would add it");
        Self {
            added: Vec::new(),
            add_failed: plan.add.iter().map(|id| (id.clone(), absent())).collect(),
            removed: Vec::new(),
            remove_error: None,
        }
    }
}

/// The plan of a deletion: remove exactly what this object added, nothing else.
pub fn undo<Id: Ord + Clone>(ours: &BTreeSet<Id>) -> Plan<Id> {
    Plan {
        add: Vec::new(),
        remove: ours.iter().cloned().collect(),
        keep: BTreeSet::new(),
        refused: BTreeMap::new(),
        held_back: false,
    }
}

/// What one reconcile leaves: the new ledger and each item's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled<Id> {
    /// What this object has added and may remove again (in Additive mode and on deletion).
    pub ours: BTreeSet<Id>,
    /// Per listed item: its identity (or the last known one) and, when it is not in place, why.
    pub items: Vec<(String, Option<Id>, Option<Problem>)>,
}

/// A kind's per-item status entry, built from a settled item.
pub trait ItemStatus<Id>: Sized {
    /// The entry of the item listed as `key`, with its identity (or the last known one) and,
    /// when it is not in place, why.
    fn of(key: String, id: Option<Id>, problem: Option<&Problem>) -> Self;
}

/// The reason and message of a status entry, when the item is not in place.
pub fn why(problem: Option<&Problem>) -> (Option<String>, Option<String>) {
    (
        problem.map(|p| p.reason.as_str().to_string()),
        problem.map(|p| p.message.clone()),
    )
}

impl<Id: Clone> Settled<Id> {
    /// Every listed item's status entry, in spec order.
    pub fn statuses<T: ItemStatus<Id>>(&self) -> Vec<T> {
        self.items
            .iter()
            .map(|(key, id, problem)| T::of(key.clone(), id.clone(), problem.as_ref()))
            .collect()
    }

    /// `in place/listed`, e.g. `25/25`.
    pub fn summary(&self) -> String {
        format!("{}/{}", self.in_place(), self.items.len())
    }
}

impl<Id> Settled<Id> {
    /// How many listed items are in place.
    pub fn in_place(&self) -> usize {
        self.items.iter().filter(|(_, _, p)| p.is_none()).count()
    }

    /// The problems, in spec order.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.items.iter().filter_map(|(_, _, p)| p.as_ref())
    }
}

/// The ledger and per-item results after the writes. What left Azure DevOps by other means and
/// is no longer listed is forgotten; what this object added and still lists stays ours.
pub fn settle<Id: Ord + Clone>(
    items: Vec<Item<Id>>,
    plan: &Plan<Id>,
    written: &Written<Id>,
    current: Option<&BTreeSet<Id>>,
    ours: BTreeSet<Id>,
) -> Settled<Id> {
    let mut ours = ours;
    ours.extend(written.added.iter().cloned());
    for id in &written.removed {
        ours.remove(id);
    }
    if let Some(current) = current {
        let mut present = current.clone();
        present.extend(written.added.iter().cloned());
        for id in &written.removed {
            present.remove(id);
        }
        ours.retain(|id| present.contains(id) || plan.keep.contains(id));
    }
    let failed: BTreeMap<&Id, &Problem> = written
        .add_failed
        .iter()
        .map(|(id, p)| (id, p))
        .chain(plan.refused.iter())
        .collect();
    let items = items
        .into_iter()
        .map(|item| match item.resolved {
            Ok(id) => {
                let problem = failed.get(&id).map(|p| (*p).clone());
                (item.key, Some(id), problem)
            }
            Err(problem) => (item.key, item.previous, Some(problem)),
        })
        .collect();
    Settled { ours, items }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Mode::{Additive, Exclusive};

    fn ok(key: &str, id: u32) -> Item<u32> {
        Item {
            key: key.into(),
            resolved: Ok(id),
            previous: None,
        }
    }

    fn unresolved(key: &str, previous: Option<u32>) -> Item<u32> {
        Item {
            key: key.into(),
            resolved: Err(Problem::failed(Reason::UserNotFound, "gone")),
            previous,
        }
    }

    fn set(ids: &[u32]) -> BTreeSet<u32> {
        ids.iter().copied().collect()
    }

    fn no_veto(_: &u32) -> Option<Problem> {
        None
    }

    /// One row: the items, what Azure DevOps holds (None: the read failed), what we added before,
    /// the mode, and the expected adds and removes.
    struct Case {
        name: &'static str,
        items: Vec<Item<u32>>,
        current: Option<Vec<u32>>,
        ours: Vec<u32>,
        mode: Mode,
        add: Vec<u32>,
        remove: Vec<u32>,
        held_back: bool,
    }

    #[test]
    fn plans() {
        let cases = [
            Case {
                name: "additive adds what is missing and leaves strangers alone",
                items: vec![ok("a", 1), ok("b", 2)],
                current: Some(vec![2, 9]),
                ours: vec![],
                mode: Additive,
                add: vec![1],
                remove: vec![],
                held_back: false,
            },
            Case {
                name: "additive removes only what it added and no longer lists",
                items: vec![ok("a", 1)],
                current: Some(vec![1, 2, 9]),
                ours: vec![1, 2],
                mode: Additive,
                add: vec![],
                remove: vec![2],
                held_back: false,
            },
            Case {
                name: "exclusive removes everything not listed",
                items: vec![ok("a", 1)],
                current: Some(vec![1, 2, 9]),
                ours: vec![2],
                mode: Exclusive,
                add: vec![],
                remove: vec![2, 9],
                held_back: false,
            },
            Case {
                name: "exclusive with an empty list empties the group",
                items: vec![],
                current: Some(vec![2, 9]),
                ours: vec![],
                mode: Exclusive,
                add: vec![],
                remove: vec![2, 9],
                held_back: false,
            },
            Case {
                name: "exclusive removes nothing while an item is unresolved, but still adds",
                items: vec![ok("a", 1), unresolved("typo", None)],
                current: Some(vec![2, 9]),
                ours: vec![2],
                mode: Exclusive,
                add: vec![1],
                remove: vec![],
                held_back: true,
            },
            Case {
                name: "a failed read writes nothing in either mode (exclusive)",
                items: vec![ok("a", 1)],
                current: None,
                ours: vec![2],
                mode: Exclusive,
                add: vec![],
                remove: vec![],
                held_back: true,
            },
            Case {
                name: "a failed read writes nothing in either mode (additive)",
                items: vec![ok("a", 1)],
                current: None,
                ours: vec![2],
                mode: Additive,
                add: vec![],
                remove: vec![],
                held_back: false,
            },
            Case {
                name: "an unresolved item keeps the identity it had (additive)",
                items: vec![unresolved("alice", Some(2))],
                current: Some(vec![2]),
                ours: vec![2],
                mode: Additive,
                add: vec![],
                remove: vec![],
                held_back: false,
            },
            Case {
                name: "two spellings of one identity are one add",
                items: vec![ok("user:alice", 1), ok("descriptor:aad.alice", 1)],
                current: Some(vec![]),
                ours: vec![],
                mode: Exclusive,
                add: vec![1],
                remove: vec![],
                held_back: false,
            },
            Case {
                name: "desired and previously added: kept, not added again",
                items: vec![ok("a", 1)],
                current: Some(vec![1]),
                ours: vec![1],
                mode: Additive,
                add: vec![],
                remove: vec![],
                held_back: false,
            },
            Case {
                name: "desired, previously added, removed out of band: added again",
                items: vec![ok("a", 1)],
                current: Some(vec![]),
                ours: vec![1],
                mode: Additive,
                add: vec![1],
                remove: vec![],
                held_back: false,
            },
            Case {
                name: "ours, no longer listed, already gone out of band: no write",
                items: vec![],
                current: Some(vec![9]),
                ours: vec![3],
                mode: Additive,
                add: vec![],
                remove: vec![],
                held_back: false,
            },
        ];
        for case in cases {
            let current = case.current.as_deref().map(set);
            let plan = plan(
                &case.items,
                current.as_ref(),
                &set(&case.ours),
                case.mode,
                no_veto,
            );
            assert_eq!(plan.add, case.add, "{}: add", case.name);
            assert_eq!(plan.remove, case.remove, "{}: remove", case.name);
            assert_eq!(plan.held_back, case.held_back, "{}: held back", case.name);
        }
    }

    #[test]
    fn a_vetoed_add_is_refused_with_its_problem_and_the_others_go_ahead() {
        let items = vec![ok("a", 1), ok("b", 2)];
        let plan = plan(&items, Some(&set(&[])), &set(&[]), Additive, |id| {
            (*id == 2).then(|| Problem::failed(Reason::MembershipCycle, "cycle"))
        });
        assert_eq!(plan.add, vec![1]);
        let settled = settle(
            items,
            &plan,
            &Written::all_done(&plan),
            Some(&set(&[])),
            set(&[]),
        );
        assert_eq!(settled.ours, set(&[1]));
        assert_eq!(settled.in_place(), 1);
        let problem = settled.items[1].2.as_ref().expect("b refused");
        assert_eq!(problem.reason, Reason::MembershipCycle);
    }

    #[test]
    fn the_ledger_records_successful_adds_only_and_forgets_removals() {
        let items = vec![ok("a", 1), ok("b", 2)];
        let current = set(&[5]);
        let plan = plan(&items, Some(&current), &set(&[5]), Additive, no_veto);
        assert_eq!(
            (plan.add.clone(), plan.remove.clone()),
            (vec![1, 2], vec![5])
        );
        let written = Written {
            added: vec![1],
            add_failed: vec![(2, Problem::failed(Reason::Forbidden, "403"))],
            removed: vec![5],
            remove_error: None,
        };
        let settled = settle(items, &plan, &written, Some(&current), set(&[5]));
        assert_eq!(settled.ours, set(&[1]), "2 failed, 5 was removed");
        assert_eq!(settled.items[0], ("a".into(), Some(1), None));
        assert_eq!(
            settled.items[1].2.as_ref().unwrap().reason,
            Reason::Forbidden
        );
    }

    #[test]
    fn a_failed_removal_stays_ours_to_try_again() {
        let items: Vec<Item<u32>> = vec![];
        let current = set(&[5]);
        let plan = plan(&items, Some(&current), &set(&[5]), Additive, no_veto);
        let written = Written {
            remove_error: Some(Error::new(
                Reason::AzureDevOpsUnavailable,
                "503",
                crate::controller::error::Retry::Backoff,
            )),
            ..Written::default()
        };
        let settled = settle(items, &plan, &written, Some(&current), set(&[5]));
        assert_eq!(settled.ours, set(&[5]));
    }

    #[test]
    fn what_vanished_out_of_band_and_is_unlisted_is_forgotten() {
        let items = vec![ok("a", 1)];
        let current = set(&[1]);
        let plan = plan(&items, Some(&current), &set(&[1, 3]), Additive, no_veto);
        let settled = settle(
            items,
            &plan,
            &Written::all_done(&plan),
            Some(&current),
            set(&[1, 3]),
        );
        assert_eq!(settled.ours, set(&[1]));
    }

    #[test]
    fn an_unresolved_item_keeps_its_last_identity_in_the_ledger_and_status() {
        let items = vec![unresolved("alice", Some(2))];
        let current = set(&[]);
        let plan = plan(&items, Some(&current), &set(&[2]), Additive, no_veto);
        let settled = settle(
            items,
            &plan,
            &Written::all_done(&plan),
            Some(&current),
            set(&[2]),
        );
        assert_eq!(settled.ours, set(&[2]), "kept: it may come back");
        assert_eq!(settled.items[0].1, Some(2));
        assert_eq!(settled.in_place(), 0);
    }

    #[test]
    fn undo_removes_exactly_what_was_added() {
        let plan = undo(&set(&[3, 1]));
        assert_eq!((plan.add, plan.remove), (vec![], vec![1, 3]));
    }

    #[test]
    fn after_a_failed_read_the_ledger_is_unchanged() {
        let items = vec![ok("a", 1)];
        let plan = plan(&items, None, &set(&[3]), Exclusive, no_veto);
        let settled = settle(items, &plan, &Written::default(), None, set(&[3]));
        assert_eq!(settled.ours, set(&[3]));
    }
}
