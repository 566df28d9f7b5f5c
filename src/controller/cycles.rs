//! Cycles of group memberships. Azure DevOps groups may contain groups, and two
//! DevOpsMemberships that each put the other's group into their own (directly or through more
//! groups) would make a cycle: every member of one is then a member of all, which nobody means.
//! Before a membership adds a group to its group, the memberships declared in the cluster are
//! searched for a path back; when one exists, that member is refused with `MembershipCycle`.
//!
//! Edges come from what the cluster declares (every DevOpsMembership, whether it converged yet
//! or not: a `groupRef` is resolved through the DevOpsGroup cache, other members through the
//! membership's status), so two memberships applied together refuse each other instead of both
//! being added. An edge already present in Azure DevOps is never refused again.

use std::collections::{HashMap, HashSet, VecDeque};

use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use crate::api::{DevOpsGroup, DevOpsMembership};

use super::context::Stores;

/// One declared edge: `member` is (to be) a member of the container, according to `via`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub member: String,
    /// `namespace/name` of the DevOpsMembership that declares it.
    pub via: String,
}

/// Container descriptor → its declared members.
pub type Graph = HashMap<String, Vec<Edge>>;

/// The descriptor of a Ready-or-not DevOpsGroup, as far as the cache knows it.
fn cached_group(stores: &Stores, namespace: &str, name: &str) -> Option<String> {
    stores
        .groups
        .get(&ObjectRef::<DevOpsGroup>::new(name).within(namespace))?
        .status
        .as_ref()?
        .descriptor
        .clone()
}

/// Every edge the DevOpsMemberships other than `except` declare.
pub fn declared(stores: &Stores, except: &DevOpsMembership) -> Graph {
    let mut graph = Graph::new();
    for m in stores.memberships.state() {
        if m.uid().is_some() && m.uid() == except.uid() {
            continue;
        }
        let ns = m.namespace().unwrap_or_default();
        let status = m.status.as_ref();
        let container = match &m.spec.group.group_ref {
            Some(r) => cached_group(stores, &ns, &r.name),
            None => m.spec.group.descriptor.clone(),
        }
        .or_else(|| status.and_then(|s| s.group_descriptor.clone()));
        let Some(container) = container else {
            continue;
        };
        let via = format!("{ns}/{}", m.name_any());
        for member in &m.spec.members {
            let key = member.key();
            let descriptor = match &member.group_ref {
                Some(r) => cached_group(stores, &ns, &r.name),
                None => member.descriptor.clone(),
            }
            .or_else(|| {
                status
                    .and_then(|s| s.members.iter().find(|x| x.member == key))
                    .and_then(|x| x.descriptor.clone())
            });
            if let Some(member) = descriptor {
                graph.entry(container.clone()).or_default().push(Edge {
                    member,
                    via: via.clone(),
                });
            }
        }
    }
    graph
}

/// The chain of edges by which `from` already (transitively) contains `to`, if any: adding
/// `from` to `to` would then close a cycle.
pub fn path(graph: &Graph, from: &str, to: &str) -> Option<Vec<(String, Edge)>> {
    let mut came_from: HashMap<&str, (&str, &Edge)> = HashMap::new();
    let mut seen: HashSet<&str> = HashSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        for edge in graph.get(node).into_iter().flatten() {
            if !seen.insert(edge.member.as_str()) {
                continue;
            }
            came_from.insert(edge.member.as_str(), (node, edge));
            if edge.member == to {
                let mut chain = Vec::new();
                let mut at = to;
                while let Some((container, edge)) = came_from.get(at) {
                    chain.push((container.to_string(), (*edge).clone()));
                    at = container;
                }
                chain.reverse();
                return Some(chain);
            }
            queue.push_back(edge.member.as_str());
        }
    }
    None
}

/// A group's principal name, as far as the caches know it.
fn group_name(stores: &Stores, descriptor: &str) -> String {
    let managed = stores.groups.state().into_iter().find_map(|g| {
        let status = g.status.as_ref()?;
        (status.descriptor.as_deref() == Some(descriptor))
            .then(|| status.principal_name.clone())
            .flatten()
    });
    managed
        .or_else(|| {
            stores.memberships.state().into_iter().find_map(|m| {
                let status = m.status.as_ref()?;
                (status.group_descriptor.as_deref() == Some(descriptor))
                    .then(|| status.group_principal_name.clone())
                    .flatten()
            })
        })
        .unwrap_or_else(|| descriptor.to_string())
}

/// Why adding `member` to `container` is refused: the chain by which it already contains it.
pub fn refusal(stores: &Stores, member: &str, container: &str, chain: &[(String, Edge)]) -> String {
    let hops: Vec<String> = chain
        .iter()
        .map(|(from, edge)| {
            format!(
                "{} contains {} (DevOpsMembership {})",
                group_name(stores, from),
                group_name(stores, &edge.member),
                edge.via
            )
        })
        .collect();
    format!(
        "adding {member} to {container} would make a cycle of group memberships: {}",
        hops.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (container, member, via) in edges {
            g.entry(container.to_string()).or_default().push(Edge {
                member: member.to_string(),
                via: via.to_string(),
            });
        }
        g
    }

    #[test]
    fn a_path_back_is_found_with_the_memberships_on_it() {
        // b contains c, c contains a: adding b to a closes a -> b -> c -> a.
        let g = graph(&[
            ("b", "c", "ns/b"),
            ("c", "a", "ns/c"),
            ("c", "user", "ns/c"),
        ]);
        let chain = path(&g, "b", "a").expect("a cycle");
        let hops: Vec<(&str, &str, &str)> = chain
            .iter()
            .map(|(c, e)| (c.as_str(), e.member.as_str(), e.via.as_str()))
            .collect();
        assert_eq!(hops, [("b", "c", "ns/b"), ("c", "a", "ns/c")]);
    }

    #[test]
    fn no_path_no_cycle_even_with_loops_elsewhere() {
        let g = graph(&[("x", "y", "ns/x"), ("y", "x", "ns/y"), ("b", "x", "ns/b")]);
        assert!(path(&g, "b", "a").is_none());
        assert!(path(&g, "user", "a").is_none());
    }
}
