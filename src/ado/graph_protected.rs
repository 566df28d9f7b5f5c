//! The organization's protected groups and every group nested in them, read top-down once per
//! [`ANCESTRY_TTL`](super::ANCESTRY_TTL) for the whole organization, instead of walking up from
//! every group an object names (one or more reads per object per resync).
//!
//! One snapshot costs the pages of the organization's group list plus one
//! `Memberships?direction=down` per protected group and per group nested in one, however many
//! objects ask. Which names are protected is the caller's policy (given as two predicates and a
//! key naming them: a snapshot is reused only for the same policy). A group the snapshot does
//! not know (created after it, or in a scope the listing did not show) is for the caller to
//! judge another way (the bottom-up walk, [`AdoClient::ancestry`]); so is everything when the
//! snapshot was cut short ([`ProtectedSet::truncated`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::join_all;

use super::api_version;
use super::client::AdoClient;
use super::types::{is_group_descriptor, Membership};
use super::{AdoError, MAX_CONTAINERS};

/// Why a group of the snapshot is protected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protected {
    /// Its own name is protected.
    Listed { name: String },
    /// It is nested in the protected group `protected`, through `through` (the groups between
    /// them, nearest to this group first; empty for a direct member).
    Nested {
        protected: String,
        through: Vec<String>,
    },
}

/// One snapshot of the organization's protection.
#[derive(Debug, Default)]
pub struct ProtectedSet {
    /// The policy it was built for.
    pub policy: String,
    /// Every group the organization's list showed, by descriptor, with its principal name:
    /// those absent from `protected` are not protected (as of the snapshot).
    pub names: HashMap<String, String>,
    pub protected: HashMap<String, Protected>,
    /// The walk down stopped at [`MAX_CONTAINERS`] nested groups: judge nothing from it.
    pub truncated: bool,
}

impl ProtectedSet {
    /// What the snapshot says about `descriptor`: `Some(None)` not protected, `Some(Some(why))`
    /// protected, `None` unknown to it (or the snapshot is unusable).
    pub fn judge(&self, descriptor: &str) -> Option<Option<&Protected>> {
        if self.truncated {
            return None;
        }
        match self.protected.get(descriptor) {
            Some(why) => Some(Some(why)),
            None if self.names.contains_key(descriptor) => Some(None),
            None => None,
        }
    }

    /// Whether adding a member to `container` can change the snapshot (only a member added to
    /// a protected group becomes protected).
    pub fn guards(&self, container: &str) -> bool {
        self.protected.contains_key(container)
    }
}

/// The cached snapshot, fetched single-flight.
pub(super) struct ProtectedCache {
    current: Mutex<Option<(Arc<ProtectedSet>, Instant)>>,
    fetch: tokio::sync::Mutex<()>,
    ttl: Duration,
}

impl ProtectedCache {
    pub(super) fn new(ttl: Duration) -> Self {
        Self {
            current: Mutex::new(None),
            fetch: tokio::sync::Mutex::new(()),
            ttl,
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<(Arc<ProtectedSet>, Instant)>> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The snapshot for `policy` if younger than `max_age`.
    fn younger_than(&self, policy: &str, max_age: Duration) -> Option<Arc<ProtectedSet>> {
        self.slot()
            .as_ref()
            .filter(|(set, at)| set.policy == policy && at.elapsed() < max_age)
            .map(|(set, _)| set.clone())
    }

    /// The principal name of an existing group, from a snapshot younger than the TTL (of any
    /// policy); `None` when there is none or it does not list the group.
    pub(super) fn name_of(&self, descriptor: &str) -> Option<String> {
        self.slot()
            .as_ref()
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .and_then(|(set, _)| set.names.get(descriptor).cloned())
    }

    pub(super) fn clear(&self) {
        *self.slot() = None;
    }

    /// Drop the snapshot when a member was added to a group it protects.
    pub(super) fn member_added(&self, container: &str) {
        let mut slot = self.slot();
        if slot.as_ref().is_some_and(|(set, _)| set.guards(container)) {
            *slot = None;
        }
    }
}

/// How names are judged: `listed` names are protected themselves; members of `source` names
/// (listed names whose membership grants something) are protected through them.
pub struct ProtectionPolicy<'a> {
    pub key: &'a str,
    pub listed: &'a (dyn Fn(&str) -> bool + Sync),
    pub source: &'a (dyn Fn(&str) -> bool + Sync),
}

impl AdoClient {
    /// The organization's protection snapshot for `policy` (cached; at most one fetch at a
    /// time). Calls on a miss: the pages of `GET graph/groups`, then one
    /// `Memberships?direction=down` per protected group and per group nested in one.
    pub async fn protected_set(
        &self,
        policy: &ProtectionPolicy<'_>,
    ) -> Result<Arc<ProtectedSet>, AdoError> {
        self.protected_set_younger_than(policy, self.inner.caches.protected.ttl)
            .await
    }

    /// [`AdoClient::protected_set`], read again unless younger than `max_age` (for a group the
    /// snapshot does not know yet: most likely created since; concurrent callers share one
    /// read).
    pub async fn protected_set_younger_than(
        &self,
        policy: &ProtectionPolicy<'_>,
        max_age: Duration,
    ) -> Result<Arc<ProtectedSet>, AdoError> {
        let cache = &self.inner.caches.protected;
        let max_age = max_age.min(cache.ttl);
        if let Some(set) = cache.younger_than(policy.key, max_age) {
            return Ok(set);
        }
        let _guard = cache.fetch.lock().await;
        if let Some(set) = cache.younger_than(policy.key, max_age) {
            return Ok(set);
        }
        let set = Arc::new(self.read_protected_set(policy).await?);
        *cache.slot() = Some((set.clone(), Instant::now()));
        Ok(set)
    }

    async fn read_protected_set(
        &self,
        policy: &ProtectionPolicy<'_>,
    ) -> Result<ProtectedSet, AdoError> {
        let groups: Vec<_> = self
            .list_groups(None)
            .await?
            .into_iter()
            .filter(|g| !g.is_deleted)
            .collect();
        let names: HashMap<String, String> = groups
            .iter()
            .map(|g| {
                let name = g
                    .principal_name
                    .clone()
                    .unwrap_or_else(|| g.display_name.clone());
                (g.descriptor.clone(), name)
            })
            .collect();
        let mut set = ProtectedSet {
            policy: policy.key.to_string(),
            ..ProtectedSet::default()
        };
        let mut sources = Vec::new();
        for (descriptor, name) in &names {
            if (policy.listed)(name) {
                set.protected
                    .insert(descriptor.clone(), Protected::Listed { name: name.clone() });
                if (policy.source)(name) {
                    sources.push(descriptor.clone());
                }
            }
        }
        sources.sort();
        // Breadth-first from every source at once: each group is reached once, by its
        // nearest source; `via` leads back up to it.
        let mut via: HashMap<String, String> = HashMap::new();
        let mut seen: HashSet<String> = sources.iter().cloned().collect();
        let mut level: VecDeque<String> = sources.iter().cloned().collect();
        let mut nested = 0usize;
        while !level.is_empty() {
            let batch: Vec<String> = level.drain(..).collect();
            let members = join_all(batch.iter().map(|d| self.member_groups(d))).await;
            for (container, members) in batch.iter().zip(members) {
                for member in members? {
                    if !seen.insert(member.clone()) {
                        continue;
                    }
                    nested += 1;
                    if nested > MAX_CONTAINERS {
                        set.truncated = true;
                        return Ok(set);
                    }
                    via.insert(member.clone(), container.clone());
                    level.push_back(member);
                }
            }
        }
        let name_of = |d: &str| names.get(d).cloned().unwrap_or_else(|| d.to_string());
        for member in via.keys() {
            if set.protected.contains_key(member) {
                continue;
            }
            // Up from the member's container to the source.
            let mut through = Vec::new();
            let mut at = via[member].clone();
            while let Some(up) = via.get(&at) {
                through.push(name_of(&at));
                at = up.clone();
            }
            set.protected.insert(
                member.clone(),
                Protected::Nested {
                    protected: name_of(&at),
                    through,
                },
            );
        }
        set.names = names;
        Ok(set)
    }

    /// Descriptors of the groups that are direct members of `container` (users are skipped).
    async fn member_groups(&self, container: &str) -> Result<Vec<String>, AdoError> {
        let mut url = self.graph_url(&["Memberships", container])?;
        url.query_pairs_mut()
            .append_pair("direction", "down")
            .append_pair("depth", "1");
        let memberships: Vec<Membership> = match self
            .get_all_pages("graph.memberships.list", url, api_version::GRAPH)
            .await
        {
            Ok(m) => m,
            // A group deleted since the listing has no members.
            Err(error) if error.is_not_found() => Vec::new(),
            Err(error) => return Err(error),
        };
        Ok(memberships
            .into_iter()
            .map(|m| m.member_descriptor)
            .filter(|d| is_group_descriptor(d))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_judges_only_what_it_knows() {
        let mut set = ProtectedSet::default();
        set.names
            .insert("a".into(), "[o]\\Project Collection Administrators".into());
        set.names.insert("b".into(), "[o]\\Team".into());
        set.protected.insert(
            "a".into(),
            Protected::Listed {
                name: "[o]\\Project Collection Administrators".into(),
            },
        );
        assert!(matches!(
            set.judge("a"),
            Some(Some(Protected::Listed { .. }))
        ));
        assert_eq!(set.judge("b"), Some(None));
        assert_eq!(set.judge("c"), None);
        assert!(set.guards("a") && !set.guards("b"));
        set.truncated = true;
        assert_eq!(set.judge("b"), None);
    }
}
