//! An organization's subjects and memberships, kept in the order they were added (lists answer
//! in that order) and indexed by what requests name them by: a descriptor, an origin id, a
//! storage key, a (container, member) pair. At ten times the benchmark's workload an
//! organization holds 22,000 subjects and 50,000 memberships, and a linear search per request
//! (under the state's lock) made the simulator, not the injected latency, the slowest part of
//! every answer.

use std::collections::HashMap;

use serde::{Serialize, Serializer};
use uuid::Uuid;

use super::subjects::{Membership, Subject};

/// Subjects are never removed (a deleted subject is flagged), so the indexes only grow. The
/// fields they are keyed by (descriptor, origin id, storage key) never change after a push.
#[derive(Debug, Clone, Default)]
pub struct Subjects {
    list: Vec<Subject>,
    by_descriptor: HashMap<String, usize>,
    /// Lower-cased origin id (Entra object ids are compared case-insensitively).
    by_origin_id: HashMap<String, Vec<usize>>,
    by_storage_key: HashMap<Uuid, Vec<usize>>,
}

impl Subjects {
    pub fn push(&mut self, subject: Subject) {
        let at = self.list.len();
        self.by_descriptor
            .entry(subject.descriptor.clone())
            .or_insert(at);
        self.by_origin_id
            .entry(subject.origin_id.to_ascii_lowercase())
            .or_default()
            .push(at);
        self.by_storage_key
            .entry(subject.storage_key)
            .or_default()
            .push(at);
        self.list.push(subject);
    }

    pub fn get(&self, descriptor: &str) -> Option<&Subject> {
        self.by_descriptor.get(descriptor).map(|&at| &self.list[at])
    }

    /// For changes to anything but the descriptor, origin id and storage key.
    pub fn get_mut(&mut self, descriptor: &str) -> Option<&mut Subject> {
        self.by_descriptor
            .get(descriptor)
            .map(|&at| &mut self.list[at])
    }

    /// Subjects with this origin id (case-insensitive), in the order they were added.
    pub fn with_origin_id<'a>(&'a self, origin_id: &str) -> impl Iterator<Item = &'a Subject> {
        self.by_origin_id
            .get(&origin_id.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .map(|&at| &self.list[at])
    }

    /// The first subject with this origin id (case-insensitive) that `matches`, for changes to
    /// anything but the descriptor, origin id and storage key.
    pub fn with_origin_id_mut(
        &mut self,
        origin_id: &str,
        matches: impl Fn(&Subject) -> bool,
    ) -> Option<&mut Subject> {
        let at = self
            .by_origin_id
            .get(&origin_id.to_ascii_lowercase())?
            .iter()
            .copied()
            .find(|&at| matches(&self.list[at]))?;
        Some(&mut self.list[at])
    }

    /// Subjects with this storage key, in the order they were added.
    pub fn with_storage_key(&self, key: Uuid) -> impl Iterator<Item = &Subject> {
        self.by_storage_key
            .get(&key)
            .into_iter()
            .flatten()
            .map(|&at| &self.list[at])
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Subject> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl Serialize for Subjects {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(serializer)
    }
}

/// At most one membership per (container, member) pair.
#[derive(Debug, Clone, Default)]
pub struct Memberships {
    list: Vec<Membership>,
    /// Container, then member: the position in `list`.
    by_pair: HashMap<String, HashMap<String, usize>>,
    /// Member, then container: the position in `list`.
    by_member: HashMap<String, HashMap<String, usize>>,
}

impl Memberships {
    /// Adds the membership unless its pair is there already; whether it was added.
    pub fn insert(&mut self, membership: Membership) -> bool {
        if self.contains(&membership.container, &membership.member) {
            return false;
        }
        self.index(self.list.len(), &membership);
        self.list.push(membership);
        true
    }

    fn index(&mut self, at: usize, m: &Membership) {
        self.by_pair
            .entry(m.container.clone())
            .or_default()
            .insert(m.member.clone(), at);
        self.by_member
            .entry(m.member.clone())
            .or_default()
            .insert(m.container.clone(), at);
    }

    /// The memberships whose container is `container`, in insertion order.
    pub fn of_container(&self, container: &str) -> Vec<&Membership> {
        self.in_order(self.by_pair.get(container))
    }

    /// The memberships whose member is `member`, in insertion order.
    pub fn of_member(&self, member: &str) -> Vec<&Membership> {
        self.in_order(self.by_member.get(member))
    }

    fn in_order(&self, positions: Option<&HashMap<String, usize>>) -> Vec<&Membership> {
        let mut at: Vec<usize> = positions
            .map(|p| p.values().copied().collect())
            .unwrap_or_default();
        at.sort_unstable();
        at.into_iter().map(|i| &self.list[i]).collect()
    }

    pub fn get(&self, container: &str, member: &str) -> Option<&Membership> {
        self.by_pair
            .get(container)?
            .get(member)
            .map(|&at| &self.list[at])
    }

    pub fn contains(&self, container: &str, member: &str) -> bool {
        self.get(container, member).is_some()
    }

    /// Keeps the memberships for which `keep` holds (in order) and reindexes if any went.
    pub fn retain(&mut self, keep: impl FnMut(&Membership) -> bool) {
        let before = self.list.len();
        self.list.retain(keep);
        if self.list.len() != before {
            self.by_pair.clear();
            self.by_member.clear();
            let list = std::mem::take(&mut self.list);
            for (at, m) in list.iter().enumerate() {
                self.index(at, m);
            }
            self.list = list;
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Membership> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl Serialize for Memberships {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::subjects::{GroupScope, Origin, SubjectKind};
    use chrono::Utc;

    fn subject(descriptor: &str, origin_id: &str, storage_key: Uuid) -> Subject {
        Subject {
            kind: SubjectKind::User,
            descriptor: descriptor.into(),
            storage_key,
            origin: Origin::Aad,
            origin_id: origin_id.into(),
            display_name: descriptor.into(),
            principal_name: descriptor.into(),
            mail_address: None,
            description: None,
            domain: String::new(),
            scope: GroupScope::Organization,
            deleted: false,
            directory_alias: None,
            application_id: None,
            built_in: false,
        }
    }

    fn membership(container: &str, member: &str) -> Membership {
        Membership {
            container: container.into(),
            member: member.into(),
            visible_at: Utc::now(),
        }
    }

    #[test]
    fn subjects_are_found_by_each_key_and_listed_in_order() {
        let key = Uuid::new_v4();
        let mut subjects = Subjects::default();
        subjects.push(subject("aad.B", "ABC-1", key));
        subjects.push(subject("aad.A", "def-2", Uuid::new_v4()));
        subjects.push(subject("aad.C", "abc-1", key));
        assert_eq!(subjects.get("aad.A").unwrap().origin_id, "def-2");
        assert!(subjects.get("aad.a").is_none(), "descriptors are exact");
        let same_origin: Vec<_> = subjects
            .with_origin_id("Abc-1")
            .map(|s| s.descriptor.as_str())
            .collect();
        assert_eq!(same_origin, ["aad.B", "aad.C"]);
        let same_key: Vec<_> = subjects
            .with_storage_key(key)
            .map(|s| s.descriptor.as_str())
            .collect();
        assert_eq!(same_key, ["aad.B", "aad.C"]);
        subjects
            .with_origin_id_mut("abc-1", |s| s.descriptor == "aad.C")
            .unwrap()
            .deleted = true;
        assert!(subjects.get("aad.C").unwrap().deleted);
        let order: Vec<_> = subjects.iter().map(|s| s.descriptor.as_str()).collect();
        assert_eq!(order, ["aad.B", "aad.A", "aad.C"]);
        assert_eq!(
            serde_json::to_value(&subjects).unwrap()[1]["descriptor"],
            "aad.A"
        );
    }

    #[test]
    fn memberships_are_unique_per_pair_and_reindexed_after_removal() {
        let mut memberships = Memberships::default();
        assert!(memberships.insert(membership("g1", "u1")));
        assert!(memberships.insert(membership("g1", "u2")));
        assert!(memberships.insert(membership("g2", "u1")));
        assert!(!memberships.insert(membership("g1", "u2")));
        assert_eq!(memberships.len(), 3);
        memberships.retain(|m| m.member != "u2");
        assert!(!memberships.contains("g1", "u2"));
        assert!(
            memberships.contains("g2", "u1"),
            "indexes moved with the list"
        );
        assert!(memberships.contains("g1", "u1"));
        let order: Vec<_> = memberships.iter().map(|m| m.container.as_str()).collect();
        assert_eq!(order, ["g1", "g2"]);
        assert!(memberships.insert(membership("g1", "u2")));
    }

    #[test]
    fn memberships_are_listed_by_container_and_by_member_in_insertion_order() {
        let mut memberships = Memberships::default();
        for (container, member) in [("g1", "u3"), ("g2", "u1"), ("g1", "u1"), ("g1", "u2")] {
            memberships.insert(membership(container, member));
        }
        let members = |m: &Memberships, c: &str| -> Vec<String> {
            m.of_container(c).iter().map(|m| m.member.clone()).collect()
        };
        let containers = |m: &Memberships, u: &str| -> Vec<String> {
            m.of_member(u).iter().map(|m| m.container.clone()).collect()
        };
        assert_eq!(members(&memberships, "g1"), ["u3", "u1", "u2"]);
        assert_eq!(containers(&memberships, "u1"), ["g2", "g1"]);
        assert!(memberships.of_container("g9").is_empty());
        memberships.retain(|m| m.container != "g2");
        assert_eq!(containers(&memberships, "u1"), ["g1"]);
        assert_eq!(members(&memberships, "g1"), ["u3", "u1", "u2"]);
    }
}
