//! What a resource check object writes (a pure function, table-tested): which listed checks to
//! create, which of this object's checks to update (their settings or timeout drifted or the
//! spec changed), and which checks to remove (Additive: this object's checks no longer listed;
//! Exclusive: every check nobody listed, never while a listed check is unresolved or the read
//! failed, never a check another object holds).
//!
//! Checks are matched to listed entries by the ledger (key -> check id); a listed entry this
//! object has no check for is satisfied by an existing check that already holds exactly its
//! settings (that check stays someone else's: deletion never removes it), else created.

use std::collections::{BTreeMap, BTreeSet};

use crate::ado::DesiredCheck;
use crate::controller::set_sync::{Item, Mode};

/// A check on the resource as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub id: i64,
    /// What it holds, when it is of a kind the operator manages and its settings read.
    pub check: Option<DesiredCheck>,
}

impl Observed {
    pub fn holds(&self, desired: &DesiredCheck) -> bool {
        self.check
            .as_ref()
            .is_some_and(|c| c.timeout == desired.timeout && desired.settings.matches(&c.settings))
    }
}

/// Where a listed check stands after planning.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The resource already carries it: this object's check, or another that holds exactly it.
    InPlace { id: i64, ours: bool },
    /// Create it.
    Create,
    /// This object's check drifted or the spec changed: update it.
    Update { id: i64 },
    /// Not resolved: nothing is written for it; its last check (if ours) is kept.
    Unresolved,
}

/// The writes of one reconcile.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Per listed item, in order: what to do.
    pub steps: Vec<(String, Step)>,
    /// Check ids to remove.
    pub remove: Vec<i64>,
    /// Exclusive removals held back (an item unresolved, or the read failed).
    pub held_back: bool,
    /// Exclusive mode: checks it would remove but another object holds (left in place).
    pub refused: Vec<i64>,
}

impl Plan {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self
                .steps
                .iter()
                .all(|(_, s)| matches!(s, Step::InPlace { .. } | Step::Unresolved))
    }
}

/// Plan one reconcile. `current`: the resource's checks (`None`: the read failed, nothing is
/// written). `ours`: listed key -> check id this object created (the ledger). `held_elsewhere`:
/// check ids other live objects hold (only consulted for Exclusive removals).
pub fn plan(
    items: &[Item<DesiredCheck>],
    current: Option<&[Observed]>,
    ours: &BTreeMap<String, i64>,
    mode: Mode,
    held_elsewhere: &BTreeSet<i64>,
) -> Plan {
    let Some(current) = current else {
        return Plan {
            steps: items
                .iter()
                .map(|i| (i.key.clone(), Step::Unresolved))
                .collect(),
            remove: Vec::new(),
            held_back: mode == Mode::Exclusive,
            refused: Vec::new(),
        };
    };
    let by_id: BTreeMap<i64, &Observed> = current.iter().map(|o| (o.id, o)).collect();
    let our_ids: BTreeSet<i64> = ours.values().copied().collect();
    // Checks already accounted for (never matched twice, never removed).
    let mut used: BTreeSet<i64> = BTreeSet::new();
    let mut steps = Vec::new();
    // First this object's own checks, so an identical foreign check is not taken for one of
    // them.
    let mut own_steps: BTreeMap<usize, Step> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let Some(id) = ours.get(&item.key).copied() else {
            continue;
        };
        let Some(observed) = by_id.get(&id) else {
            continue; // gone (deleted by hand): created again below
        };
        used.insert(id);
        own_steps.insert(
            i,
            match &item.resolved {
                Err(_) => Step::Unresolved,
                Ok(desired) if observed.holds(desired) => Step::InPlace { id, ours: true },
                Ok(_) => Step::Update { id },
            },
        );
    }
    for (i, item) in items.iter().enumerate() {
        let step = match own_steps.remove(&i) {
            Some(step) => step,
            None => match &item.resolved {
                Err(_) => Step::Unresolved,
                Ok(desired) => match current
                    .iter()
                    .find(|o| !used.contains(&o.id) && !our_ids.contains(&o.id) && o.holds(desired))
                {
                    Some(existing) => {
                        used.insert(existing.id);
                        Step::InPlace {
                            id: existing.id,
                            ours: false,
                        }
                    }
                    None => Step::Create,
                },
            },
        };
        steps.push((item.key.clone(), step));
    }
    let unresolved = items.iter().any(|i| i.resolved.is_err());
    // An unresolved item keeps its last check.
    let listed: BTreeSet<&str> = items.iter().map(|i| i.key.as_str()).collect();
    let mut refused = Vec::new();
    let remove = match mode {
        Mode::Additive => ours
            .iter()
            .filter(|(key, id)| !listed.contains(key.as_str()) && by_id.contains_key(id))
            .map(|(_, id)| *id)
            .collect(),
        Mode::Exclusive if unresolved => Vec::new(),
        Mode::Exclusive => current
            .iter()
            .map(|o| o.id)
            .filter(|id| !used.contains(id))
            .filter(|id| {
                // This object's own checks for keys no longer listed are removed too.
                let held = held_elsewhere.contains(id) && !our_ids.contains(id);
                if held {
                    refused.push(*id);
                }
                !held
            })
            .collect(),
    };
    Plan {
        steps,
        remove,
        held_back: mode == Mode::Exclusive && unresolved,
        refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ado::CheckSettings;
    use crate::controller::set_sync::Problem;
    use crate::reason::Reason;

    fn lock(timeout: u32) -> DesiredCheck {
        DesiredCheck {
            settings: CheckSettings::ExclusiveLock,
            timeout,
        }
    }

    fn hours(end: &str) -> DesiredCheck {
        DesiredCheck {
            settings: CheckSettings::BusinessHours {
                days: vec!["Monday".into()],
                time_zone: "UTC".into(),
                start: "08:00".into(),
                end: end.into(),
                retry_interval: 5,
            },
            timeout: 60,
        }
    }

    fn item(key: &str, desired: DesiredCheck) -> Item<DesiredCheck> {
        Item {
            key: key.into(),
            resolved: Ok(desired),
            previous: None,
        }
    }

    fn broken(key: &str) -> Item<DesiredCheck> {
        Item {
            key: key.into(),
            resolved: Err(Problem::failed(Reason::UserNotFound, "no such approver")),
            previous: None,
        }
    }

    fn seen(id: i64, check: DesiredCheck) -> Observed {
        Observed {
            id,
            check: Some(check),
        }
    }

    fn foreign(id: i64) -> Observed {
        Observed { id, check: None }
    }

    #[test]
    fn steady_state_writes_nothing() {
        let items = [
            item("exclusiveLock#1", lock(60)),
            item("businessHours#1", hours("17:00")),
        ];
        let current = [seen(1, lock(60)), seen(2, hours("17:00"))];
        let ours = BTreeMap::from([("exclusiveLock#1".into(), 1), ("businessHours#1".into(), 2)]);
        for mode in [Mode::Additive, Mode::Exclusive] {
            let plan = plan(&items, Some(&current), &ours, mode, &BTreeSet::new());
            assert!(plan.is_empty(), "{mode:?}: {plan:?}");
        }
    }

    #[test]
    fn drift_and_spec_changes_update_this_objects_check_and_a_deleted_one_is_recreated() {
        let items = [
            item("businessHours#1", hours("18:00")),
            item("exclusiveLock#1", lock(60)),
        ];
        let current = [seen(2, hours("17:00"))];
        let ours = BTreeMap::from([("businessHours#1".into(), 2), ("exclusiveLock#1".into(), 9)]);
        let plan = plan(
            &items,
            Some(&current),
            &ours,
            Mode::Additive,
            &BTreeSet::new(),
        );
        assert_eq!(plan.steps[0].1, Step::Update { id: 2 });
        assert_eq!(plan.steps[1].1, Step::Create, "check 9 was deleted by hand");
        assert!(plan.remove.is_empty());
    }

    #[test]
    fn an_identical_existing_check_is_in_place_but_not_ours() {
        let items = [item("exclusiveLock#1", lock(60))];
        let current = [seen(5, lock(60))];
        let plan = plan(
            &items,
            Some(&current),
            &BTreeMap::new(),
            Mode::Additive,
            &BTreeSet::new(),
        );
        assert_eq!(plan.steps[0].1, Step::InPlace { id: 5, ours: false });
        let other = [seen(5, lock(120))];
        let plan = super::plan(
            &items,
            Some(&other),
            &BTreeMap::new(),
            Mode::Additive,
            &BTreeSet::new(),
        );
        assert_eq!(
            plan.steps[0].1,
            Step::Create,
            "someone else's check is never updated"
        );
    }

    #[test]
    fn additive_removes_only_its_own_unlisted_checks() {
        let items = [item("exclusiveLock#1", lock(60))];
        let current = [seen(1, lock(60)), seen(2, hours("17:00")), foreign(3)];
        let ours = BTreeMap::from([("exclusiveLock#1".into(), 1), ("businessHours#1".into(), 2)]);
        let plan = plan(
            &items,
            Some(&current),
            &ours,
            Mode::Additive,
            &BTreeSet::new(),
        );
        assert_eq!(plan.remove, vec![2]);
    }

    #[test]
    fn exclusive_removes_every_unlisted_check_but_fails_closed() {
        let items = [item("exclusiveLock#1", lock(60))];
        let current = [seen(1, lock(60)), seen(2, hours("17:00")), foreign(3)];
        let ours = BTreeMap::from([("exclusiveLock#1".into(), 1)]);
        let plan = plan(
            &items,
            Some(&current),
            &ours,
            Mode::Exclusive,
            &BTreeSet::new(),
        );
        assert_eq!(plan.remove, vec![2, 3]);
        assert!(!plan.held_back);

        let with_broken = [item("exclusiveLock#1", lock(60)), broken("approval#1")];
        let plan = super::plan(
            &with_broken,
            Some(&current),
            &ours,
            Mode::Exclusive,
            &BTreeSet::new(),
        );
        assert!(plan.remove.is_empty() && plan.held_back, "{plan:?}");

        let unread = super::plan(&items, None, &ours, Mode::Exclusive, &BTreeSet::new());
        assert!(unread.is_empty() && unread.held_back);
    }

    #[test]
    fn exclusive_leaves_a_check_another_object_holds() {
        let items = [item("exclusiveLock#1", lock(60))];
        let current = [seen(1, lock(60)), seen(2, hours("17:00")), foreign(3)];
        let ours = BTreeMap::from([("exclusiveLock#1".into(), 1)]);
        let plan = plan(
            &items,
            Some(&current),
            &ours,
            Mode::Exclusive,
            &BTreeSet::from([2]),
        );
        assert_eq!(plan.remove, vec![3]);
        assert_eq!(plan.refused, vec![2]);
    }

    #[test]
    fn an_unresolved_item_keeps_its_check() {
        let items = [broken("approval#1")];
        let current = [seen(4, hours("17:00"))];
        let ours = BTreeMap::from([("approval#1".into(), 4)]);
        let plan = plan(
            &items,
            Some(&current),
            &ours,
            Mode::Additive,
            &BTreeSet::new(),
        );
        assert_eq!(plan.steps[0].1, Step::Unresolved);
        assert!(plan.remove.is_empty());
    }
}
