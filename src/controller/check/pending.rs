//! Creates whose answer was lost (the connection failed after the service added the check).
//!
//! Before a create is sent, its intent is recorded in the ledger: the listed check's key and the
//! ids the resource carried when the create was planned (`key|id,id,...`). At the next
//! reconcile, a check is taken as the one that create added only when all of these hold: the
//! resource did not carry it when the create was planned, it holds exactly what this object
//! declares for that key, no other object of this operator recorded it, and it is the only
//! such check. Otherwise nothing is taken over: a check made by hand before the create was
//! planned was read then (and counted as in place, never created), and two candidates (a
//! check made by hand at the same moment) leave both alone. The intent alone is not trusted
//! either: it lives in the ledger, which only the operator writes.
//!
//! A create answered with a refusal (400, 403, 429, ...) did not land; its intent is dropped.

use std::collections::{BTreeMap, BTreeSet};

use crate::ado::{AdoError, DesiredCheck};
use crate::controller::set_sync::Item;

use super::plan::Observed;

/// One create sent whose answer was not seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub key: String,
    /// The ids the resource carried when the create was planned.
    pub seen: BTreeSet<i64>,
}

impl Pending {
    /// As the ledger records it.
    pub fn line(key: &str, seen: &BTreeSet<i64>) -> String {
        let ids: Vec<String> = seen.iter().map(i64::to_string).collect();
        format!("{key}|{}", ids.join(","))
    }

    fn parse(line: &str) -> Option<Self> {
        let (key, ids) = line.split_once('|')?;
        let seen = ids
            .split(',')
            .filter(|id| !id.is_empty())
            .map(|id| id.parse().ok())
            .collect::<Option<_>>()?;
        Some(Self {
            key: key.to_string(),
            seen,
        })
    }

    /// The intents a ledger entry records (unreadable lines are ignored).
    pub fn all(lines: &BTreeSet<String>) -> Vec<Self> {
        lines.iter().filter_map(|l| Self::parse(l)).collect()
    }
}

/// What the intents come to against this read.
#[derive(Debug, Default, PartialEq)]
pub struct Judged {
    /// Key -> the check its lost create added.
    pub landed: BTreeMap<String, i64>,
    /// Intents that cannot be judged yet (their check does not resolve this time): kept.
    pub undecided: BTreeSet<String>,
}

/// Judge the recorded intents against the resource's checks as just read. `ours`: what the
/// ledger already records (key -> id).
pub fn judge(
    pending: &[Pending],
    items: &[Item<DesiredCheck>],
    current: &[Observed],
    ours: &BTreeMap<String, i64>,
) -> Judged {
    let mut judged = Judged::default();
    let recorded: BTreeSet<i64> = ours.values().copied().collect();
    for intent in pending {
        if ours.contains_key(&intent.key) {
            continue;
        }
        let Some(item) = items.iter().find(|i| i.key == intent.key) else {
            continue; // no longer listed
        };
        let Ok(desired) = &item.resolved else {
            judged
                .undecided
                .insert(Pending::line(&intent.key, &intent.seen));
            continue;
        };
        let taken: BTreeSet<i64> = judged.landed.values().copied().collect();
        let candidates: Vec<i64> = current
            .iter()
            .filter(|o| !intent.seen.contains(&o.id))
            .filter(|o| !recorded.contains(&o.id) && !taken.contains(&o.id))
            .filter(|o| o.holds(desired))
            .map(|o| o.id)
            .collect();
        if let [id] = candidates[..] {
            judged.landed.insert(intent.key.clone(), id);
        }
    }
    judged
}

/// Whether a create that failed with `e` may still have added the check: no answer (a
/// network failure, a 5xx after the retry budget), an answer that could not be read, or a
/// read-back that failed after the create was answered.
pub fn may_have_landed(e: &AdoError) -> bool {
    matches!(
        e,
        AdoError::Transient(_) | AdoError::Decode(_) | AdoError::NotFound(_)
    )
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

    fn item(key: &str, desired: DesiredCheck) -> Item<DesiredCheck> {
        Item {
            key: key.into(),
            resolved: Ok(desired),
            previous: None,
        }
    }

    fn seen(id: i64, check: DesiredCheck) -> Observed {
        Observed {
            id,
            check: Some(check),
        }
    }

    fn intent(key: &str, ids: &[i64]) -> Pending {
        Pending {
            key: key.into(),
            seen: ids.iter().copied().collect(),
        }
    }

    #[test]
    fn intents_survive_the_ledger() {
        let line = Pending::line("approval#1", &BTreeSet::from([3, 5]));
        assert_eq!(line, "approval#1|3,5");
        let none = Pending::line("exclusiveLock#1", &BTreeSet::new());
        let all = Pending::all(&BTreeSet::from([line, none, "garbage".into()]));
        assert_eq!(
            all,
            [
                intent("approval#1", &[3, 5]),
                intent("exclusiveLock#1", &[])
            ]
        );
    }

    #[test]
    fn the_one_new_identical_check_is_the_lost_create() {
        let items = [item("exclusiveLock#1", lock(60))];
        // 4 was there when the create was planned (someone else's, identical): never taken.
        let current = [seen(4, lock(60)), seen(9, lock(60))];
        let judged = judge(
            &[intent("exclusiveLock#1", &[4])],
            &items,
            &current,
            &BTreeMap::new(),
        );
        assert_eq!(
            judged.landed,
            BTreeMap::from([("exclusiveLock#1".into(), 9)])
        );
    }

    #[test]
    fn nothing_is_taken_over_without_an_intent_or_when_in_doubt() {
        let items = [item("exclusiveLock#1", lock(60))];
        let current = [seen(4, lock(60))];
        // No intent: an identical check is someone else's.
        assert!(judge(&[], &items, &current, &BTreeMap::new())
            .landed
            .is_empty());
        // It was there before the create was planned.
        let before = [intent("exclusiveLock#1", &[4])];
        assert!(judge(&before, &items, &current, &BTreeMap::new())
            .landed
            .is_empty());
        // New, but not what this object declares.
        let other = [seen(9, lock(120))];
        let fresh = [intent("exclusiveLock#1", &[])];
        assert!(judge(&fresh, &items, &other, &BTreeMap::new())
            .landed
            .is_empty());
        // Two new identical checks (one made by hand at the same moment): neither.
        let two = [seen(9, lock(60)), seen(10, lock(60))];
        assert!(judge(&fresh, &items, &two, &BTreeMap::new())
            .landed
            .is_empty());
        // Already recorded for another key of this object.
        let ours = BTreeMap::from([("exclusiveLock#2".to_string(), 9)]);
        let one = [seen(9, lock(60))];
        assert!(judge(&fresh, &items, &one, &ours).landed.is_empty());
        // No longer listed.
        assert!(judge(&fresh, &[], &one, &BTreeMap::new()).landed.is_empty());
    }

    #[test]
    fn an_intent_whose_check_does_not_resolve_waits() {
        let items = [Item {
            key: "approval#1".into(),
            resolved: Err(Problem::failed(Reason::UserNotFound, "gone")),
            previous: None,
        }];
        let judged = judge(
            &[intent("approval#1", &[2])],
            &items,
            &[seen(9, lock(60))],
            &BTreeMap::new(),
        );
        assert!(judged.landed.is_empty());
        assert_eq!(judged.undecided, BTreeSet::from(["approval#1|2".into()]));
    }
}
