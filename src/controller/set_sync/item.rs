//! Listed items and their resolution to identities.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;

use futures::future::join_all;

use crate::ado::AdoError;
use crate::reason::Reason;

/// Where a listed item stands when it is not in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Not yet: waiting on something else (a group becoming Ready).
    Pending,
    /// It could not be resolved or written; see the reason.
    Failed,
}

/// Why one listed item is not in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub state: ItemState,
    pub reason: Reason,
    pub message: String,
    /// Whether trying again soon may help (backoff rather than resync).
    pub transient: bool,
}

impl Problem {
    pub fn failed(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            state: ItemState::Failed,
            reason,
            message: message.into(),
            transient: false,
        }
    }

    pub fn pending(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            state: ItemState::Pending,
            reason,
            message: message.into(),
            transient: false,
        }
    }

    /// Pending on something that may answer on the next try (a Kubernetes read).
    pub fn retry_soon(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            transient: true,
            ..Self::pending(reason, message)
        }
    }

    /// An Azure DevOps error met while doing `what`; `not_found` names the reason a 404 means.
    pub fn from_ado(what: &str, not_found: Reason, err: AdoError) -> Self {
        let reason = if err.is_not_found() {
            not_found
        } else {
            err.reason()
        };
        Self {
            state: ItemState::Failed,
            reason,
            message: format!("{what}: {err}"),
            transient: err.is_transient(),
        }
    }
}

/// What the last reconcile recorded for a listed item.
#[derive(Debug, Clone, PartialEq)]
pub struct Previous<Id> {
    pub id: Id,
    /// It was in place (Present, Authorized): its identity can be reused without a lookup.
    pub settled: bool,
}

/// What the last reconcile recorded, from a kind's status entries: (key, identity, whether it
/// was in place).
pub fn previous<Id>(
    entries: impl IntoIterator<Item = (String, Option<Id>, bool)>,
) -> HashMap<String, Previous<Id>> {
    entries
        .into_iter()
        .filter_map(|(key, id, settled)| Some((key, Previous { id: id?, settled })))
        .collect()
}

/// A listed item after resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<Id> {
    /// The item as listed (the `member`/`pipeline` field of its status entry).
    pub key: String,
    /// Its identity, or why it has none.
    pub resolved: Result<Id, Problem>,
    /// The identity the last reconcile recorded for this key, if any.
    pub previous: Option<Id>,
}

/// The spec's items without repeats: the first of each key, in spec order.
pub fn unique<T>(items: &[T], key: impl Fn(&T) -> String) -> Vec<(String, &T)> {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .map(|item| (key(item), item))
        .filter(|(k, _)| seen.insert(k.clone()))
        .collect()
}

/// Resolve every item concurrently (the client bounds the calls). An item whose identity was
/// settled at the last reconcile reuses it when `reusable` says its identity cannot change
/// (a user's descriptor, a pipeline id); others are looked up again.
pub async fn resolve<'a, T, Id, F, Fut>(
    items: Vec<(String, &'a T)>,
    previous: &HashMap<String, Previous<Id>>,
    reusable: impl Fn(&T) -> bool,
    lookup: F,
) -> Vec<Item<Id>>
where
    Id: Clone,
    F: Fn(&'a T) -> Fut,
    Fut: Future<Output = Result<Id, Problem>>,
{
    let lookups = items.iter().map(|(key, item)| {
        let known = previous
            .get(key)
            .filter(|p| p.settled && reusable(item))
            .map(|p| p.id.clone());
        let lookup = &lookup;
        async move {
            match known {
                Some(id) => Ok(id),
                None => lookup(item).await,
            }
        }
    });
    let resolved = join_all(lookups).await;
    items
        .into_iter()
        .zip(resolved)
        .map(|((key, _), resolved)| Item {
            previous: previous.get(&key).map(|p| p.id.clone()),
            key,
            resolved,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_keeps_the_first_of_each_key_in_order() {
        let listed = ["b", "a", "b", "c", "a"];
        let keys: Vec<String> = unique(&listed, |s| s.to_string())
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["b", "a", "c"]);
    }

    #[tokio::test]
    async fn settled_identities_are_reused_and_others_looked_up() {
        let listed = ["alice", "bob", "carol"];
        let previous = HashMap::from([
            (
                "alice".to_string(),
                Previous {
                    id: 1,
                    settled: true,
                },
            ),
            (
                "bob".to_string(),
                Previous {
                    id: 2,
                    settled: false,
                },
            ),
        ]);
        let looked_up = std::sync::Mutex::new(Vec::new());
        let items = resolve(
            unique(&listed, |s| s.to_string()),
            &previous,
            |_| true,
            |name: &&str| {
                looked_up.lock().unwrap().push(name.to_string());
                let answer = match *name {
                    "bob" => Ok(20),
                    _ => Err(Problem::failed(Reason::UserNotFound, "no carol")),
                };
                async move { answer }
            },
        )
        .await;
        assert_eq!(*looked_up.lock().unwrap(), ["bob", "carol"]);
        assert_eq!(items[0].resolved, Ok(1));
        assert_eq!(items[1].resolved, Ok(20));
        assert_eq!(items[1].previous, Some(2));
        assert_eq!(items[2].previous, None);
        assert_eq!(
            items[2].resolved.as_ref().unwrap_err().reason,
            Reason::UserNotFound
        );
    }

    #[tokio::test]
    async fn items_that_are_not_reusable_are_always_looked_up() {
        let listed = ["ref"];
        let previous = HashMap::from([(
            "ref".to_string(),
            Previous {
                id: 1,
                settled: true,
            },
        )]);
        let items = resolve(
            unique(&listed, |s| s.to_string()),
            &previous,
            |_| false,
            |_| async { Ok(7) },
        )
        .await;
        assert_eq!(items[0].resolved, Ok(7));
    }
}
