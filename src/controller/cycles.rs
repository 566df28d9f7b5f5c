//! Cycles of group memberships. Azure DevOps groups may contain groups, and two
//! DevOpsMemberships that each put the other's group into their own (directly or through more
//! groups) would make a cycle: every member of one is then a member of all, which nobody means.
//! Before a membership adds a group to its group, the memberships declared in the cluster are
//! searched for a path back; when one exists, that member is refused with `MembershipCycle`.
//!
//! Which edges are trusted depends on whose they are. The memberships of the namespace itself
//! count as declared, whether they converged yet or not (a `groupRef` is resolved through the
//! DevOpsGroup cache, other members through the membership's status), so two memberships
//! applied together refuse each other instead of both being added. Another namespace's
//! membership counts only when it is Ready for its generation in the same organization, and
//! only for the members it reports present: a tenant cannot block another team's nesting by
//! declaring an edge that does not exist. An edge already present in Azure DevOps is never
//! refused again.
//!
//! Only group members can close a cycle (a user or service principal has no members), so the
//! graph keeps only edges whose member is a group, and an added user is never checked: the cost
//! grows with the nesting declared, not with the number of members.

use std::collections::{HashMap, HashSet, VecDeque};

use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use crate::ado::is_group_descriptor;
use crate::api::{DevOpsGroup, DevOpsMembership, HasCommonStatus, MemberState, OrganizationKind};

use super::context::Stores;
use super::stored::{self, Stored};

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
        .get(&ObjectRef::<Stored<DevOpsGroup>>::new(name).within(namespace))?
        .valid()?
        .status
        .as_ref()?
        .descriptor
        .clone()
}

/// Every edge the DevOpsMemberships other than `except` declare that it trusts (see the module
/// documentation).
pub fn declared(stores: &Stores, except: &DevOpsMembership) -> Graph {
    let mut graph = Graph::new();
    let own_namespace = except.namespace().unwrap_or_default();
    let own_org = organization_url(stores, &own_namespace, except);
    for m in stored::valid(stores.memberships.state()) {
        if m.uid().is_some() && m.uid() == except.uid() {
            continue;
        }
        let ns = m.namespace().unwrap_or_default();
        let via = format!("{ns}/{}", m.name_any());
        let edges = if ns == own_namespace {
            declared_edges(stores, &m)
        } else if m.is_ready(m.metadata.generation)
            && own_org.is_some()
            && organization_url(stores, &ns, &m) == own_org
        {
            present_edges(&m)
        } else {
            continue;
        };
        for (container, member) in edges {
            graph.entry(container).or_default().push(Edge {
                member,
                via: via.clone(),
            });
        }
    }
    graph
}

/// What a membership of the namespace itself declares, converged or not.
fn declared_edges(stores: &Stores, m: &DevOpsMembership) -> Vec<(String, String)> {
    let ns = m.namespace().unwrap_or_default();
    let status = m.status.as_ref();
    let container = match &m.spec.group.group_ref {
        Some(r) => cached_group(stores, &ns, &r.name),
        None => m.spec.group.descriptor.clone(),
    }
    .or_else(|| status.and_then(|s| s.group_descriptor.clone()));
    let Some(container) = container else {
        return Vec::new();
    };
    m.spec
        .members
        .iter()
        .filter_map(|member| {
            let key = member.key();
            match &member.group_ref {
                Some(r) => cached_group(stores, &ns, &r.name),
                None => member.descriptor.clone(),
            }
            .or_else(|| {
                status
                    .and_then(|s| s.members.iter().find(|x| x.member == key))
                    .and_then(|x| x.descriptor.clone())
            })
        })
        .filter(|member| is_group_descriptor(member))
        .map(|member| (container.clone(), member))
        .collect()
}

/// What a Ready membership of another namespace reports present in its group.
fn present_edges(m: &DevOpsMembership) -> Vec<(String, String)> {
    let Some(status) = m.status.as_ref() else {
        return Vec::new();
    };
    let Some(container) = status.group_descriptor.clone() else {
        return Vec::new();
    };
    status
        .members
        .iter()
        .filter(|x| x.state == MemberState::Present)
        .filter_map(|x| x.descriptor.clone())
        .filter(|member| is_group_descriptor(member))
        .map(|member| (container.clone(), member))
        .collect()
}

/// The URL of the organization a membership works in, as the caches know it.
fn organization_url(stores: &Stores, namespace: &str, m: &DevOpsMembership) -> Option<String> {
    let reference = &m.spec.organization_ref;
    let url = match reference.kind {
        OrganizationKind::ClusterDevOpsOrganization => stores
            .cluster_orgs
            .get(&ObjectRef::new(&reference.name))
            .map(|o| o.spec.url.clone()),
        OrganizationKind::DevOpsOrganization => stores
            .orgs
            .get(&ObjectRef::new(&reference.name).within(namespace))
            .map(|o| o.spec.url.clone()),
    }?;
    Some(url.trim_end_matches('/').to_lowercase())
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
    let managed = stored::valid(stores.groups.state())
        .into_iter()
        .find_map(|g| {
            let status = g.status.as_ref()?;
            (status.descriptor.as_deref() == Some(descriptor))
                .then(|| status.principal_name.clone())
                .flatten()
        });
    managed
        .or_else(|| {
            stored::valid(stores.memberships.state())
                .into_iter()
                .find_map(|m| {
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
