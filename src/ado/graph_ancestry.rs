//! Graph ancestry: every group a subject belongs to, directly or through any depth of nesting.
//!
//! Azure DevOps answers `GET _apis/graph/Memberships/{descriptor}?direction=up` with the
//! subject's direct containers only (depth 1 is the only supported depth), so the transitive
//! containers are a breadth-first walk of that call, one call per group reached. Each
//! container's principal name comes from the groups GET. Both answers are cached briefly
//! (membership changes made outside the operator are seen within [`ANCESTRY_TTL`]) and fetched
//! single-flight; the walk is bounded ([`MAX_DEPTH`], [`MAX_CONTAINERS`]) and visits each group
//! once, so a membership cycle in Azure DevOps does not loop.

use std::collections::HashSet;
use std::time::Duration;

use futures::future::join_all;

use super::api_version;
use super::cache::TtlCache;
use super::client::AdoClient;
use super::types::Membership;
use super::AdoError;

/// How long a subject's direct containers and a group's principal name are reused (shorter
/// when the client's subject TTL is shorter).
pub const ANCESTRY_TTL: Duration = Duration::from_secs(30);
/// Levels of nesting followed above the subject.
pub const MAX_DEPTH: usize = 32;
/// Containers collected before the walk stops.
pub const MAX_CONTAINERS: usize = 1_000;

/// The caches of the walk (part of the client's caches).
pub(super) struct AncestryCaches {
    /// descriptor -> descriptors of its direct containers.
    parents: TtlCache<String, Vec<String>>,
    /// group descriptor -> principal name (`None`: the group no longer exists).
    names: TtlCache<String, Option<String>>,
}

impl AncestryCaches {
    pub(super) fn new(subject_ttl: Duration, capacity: usize) -> Self {
        let ttl = Some(subject_ttl.min(ANCESTRY_TTL));
        Self {
            parents: TtlCache::new(ttl, capacity),
            names: TtlCache::new(ttl, capacity),
        }
    }

    pub(super) fn clear(&self) {
        self.parents.clear();
        self.names.clear();
    }

    /// Forget every subject's containers (a membership was added: any subject below the
    /// member may have gained ancestors).
    pub(super) fn forget_parents(&self) {
        self.parents.clear();
    }
}

/// One group above the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    pub descriptor: String,
    /// `[Scope]\Name`; `None` when the group could not be found (deleted meanwhile).
    pub principal_name: Option<String>,
    /// 1 for a direct container of the subject.
    pub depth: usize,
    /// The member through which this group was reached (the subject itself at depth 1).
    pub via: String,
}

/// Every group above a subject, nearest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ancestry {
    pub subject: String,
    pub containers: Vec<Ancestor>,
    /// The walk stopped at [`MAX_DEPTH`] or [`MAX_CONTAINERS`]: groups above may be missing.
    pub truncated: bool,
}

impl Ancestry {
    pub fn get(&self, descriptor: &str) -> Option<&Ancestor> {
        self.containers.iter().find(|a| a.descriptor == descriptor)
    }

    /// The groups from the subject's direct container up to `descriptor` (inclusive), in
    /// order; empty when `descriptor` is not above the subject.
    pub fn chain(&self, descriptor: &str) -> Vec<&Ancestor> {
        let mut chain = Vec::new();
        let mut next = self.get(descriptor);
        while let Some(ancestor) = next {
            if chain.len() > self.containers.len() {
                break;
            }
            chain.push(ancestor);
            next = self.get(&ancestor.via);
        }
        chain.reverse();
        chain
    }
}

impl AdoClient {
    /// Every group `descriptor` is a member of, directly or through nested groups, each with
    /// its principal name. Calls: one `Memberships?direction=up` per group reached plus one
    /// groups GET per container, each cached for [`ANCESTRY_TTL`]; a second walk within that
    /// time sends nothing. A subject that does not exist has no containers.
    pub async fn ancestry(&self, descriptor: &str) -> Result<Ancestry, AdoError> {
        let mut ancestry = Ancestry {
            subject: descriptor.to_string(),
            ..Ancestry::default()
        };
        let mut seen: HashSet<String> = HashSet::from([descriptor.to_string()]);
        let mut level = vec![descriptor.to_string()];
        let mut depth = 0;
        while !level.is_empty() {
            if depth == MAX_DEPTH {
                ancestry.truncated = true;
                break;
            }
            depth += 1;
            let parents = join_all(level.iter().map(|d| self.direct_containers(d))).await;
            let mut next = Vec::new();
            for (member, parents) in level.iter().zip(parents) {
                for parent in parents? {
                    if !seen.insert(parent.clone()) {
                        continue;
                    }
                    if ancestry.containers.len() == MAX_CONTAINERS {
                        ancestry.truncated = true;
                        break;
                    }
                    ancestry.containers.push(Ancestor {
                        descriptor: parent.clone(),
                        principal_name: None,
                        depth,
                        via: member.clone(),
                    });
                    next.push(parent);
                }
            }
            if ancestry.truncated {
                break;
            }
            level = next;
        }
        let names = join_all(
            ancestry
                .containers
                .iter()
                .map(|a| self.group_principal_name(&a.descriptor)),
        )
        .await;
        for (ancestor, name) in ancestry.containers.iter_mut().zip(names) {
            ancestor.principal_name = name?;
        }
        Ok(ancestry)
    }

    /// The principal name of a group, cached for [`ANCESTRY_TTL`] (or taken from the
    /// organization's protection snapshot, as fresh); `None` when it does not exist (or is
    /// deleted). 1 call on a miss.
    pub async fn group_principal_name(&self, descriptor: &str) -> Result<Option<String>, AdoError> {
        // The organization's protection snapshot lists every group with its name, as fresh.
        if let Some(name) = self.inner.caches.protected.name_of(descriptor) {
            return Ok(Some(name));
        }
        let cache = &self.inner.caches.ancestry.names;
        let key = descriptor.to_string();
        if let Some(name) = cache.get(&key) {
            return Ok(name);
        }
        let _guard = cache.fetching(&key).await;
        if let Some(name) = cache.get(&key) {
            return Ok(name);
        }
        let name = match self.get_group(descriptor).await {
            Ok(group) if group.is_deleted => None,
            Ok(group) => Some(group.principal_name.unwrap_or(group.display_name)),
            Err(error) if error.is_not_found() => None,
            Err(error) => return Err(error),
        };
        cache.insert(key, name.clone());
        Ok(name)
    }

    /// Descriptors of the groups `descriptor` is a direct member of, cached. 1 call per page
    /// on a miss.
    async fn direct_containers(&self, descriptor: &str) -> Result<Vec<String>, AdoError> {
        let cache = &self.inner.caches.ancestry.parents;
        let key = descriptor.to_string();
        if let Some(parents) = cache.get(&key) {
            return Ok(parents);
        }
        let _guard = cache.fetching(&key).await;
        if let Some(parents) = cache.get(&key) {
            return Ok(parents);
        }
        let mut url = self.graph_url(&["Memberships", descriptor])?;
        url.query_pairs_mut().append_pair("direction", "up");
        let parents = match self
            .get_all_pages::<Membership>("graph.memberships.up", url, api_version::GRAPH)
            .await
        {
            Ok(memberships) => {
                let mut parents: Vec<String> = Vec::new();
                for m in memberships {
                    if !parents.contains(&m.container_descriptor) {
                        parents.push(m.container_descriptor);
                    }
                }
                parents
            }
            // A subject that does not exist belongs to nothing.
            Err(error) if error.is_not_found() => Vec::new(),
            Err(error) => return Err(error),
        };
        cache.insert(key, parents.clone());
        Ok(parents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ancestor(descriptor: &str, depth: usize, via: &str) -> Ancestor {
        Ancestor {
            descriptor: descriptor.to_string(),
            principal_name: Some(format!("[o]\\{descriptor}")),
            depth,
            via: via.to_string(),
        }
    }

    #[test]
    fn chain_runs_from_the_direct_container_up() {
        let ancestry = Ancestry {
            subject: "s".to_string(),
            containers: vec![
                ancestor("a", 1, "s"),
                ancestor("x", 1, "s"),
                ancestor("b", 2, "a"),
                ancestor("c", 3, "b"),
            ],
            truncated: false,
        };
        let chain: Vec<_> = ancestry
            .chain("c")
            .iter()
            .map(|a| a.descriptor.as_str())
            .collect();
        assert_eq!(chain, ["a", "b", "c"]);
        assert_eq!(ancestry.chain("x").len(), 1);
        assert!(ancestry.chain("nowhere").is_empty());
    }
}
