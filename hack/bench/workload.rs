//! What the bench asks of the operator: how many objects of each kind, and their manifests.
//! Everything is derived from the sizes, so the same scale always gives the same objects.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Value};

/// The project that holds the bench's groups, pipelines and environments.
pub const PROJECT: &str = "Bench";
/// The organization object every bench object uses.
pub const ORGANIZATION: &str = "contoso";
/// Folder of the generated pipelines.
pub const PIPELINE_FOLDER: &str = "\\Bench";
const FIRST_PIPELINE_ID: usize = 10_001;
const FIRST_ENVIRONMENT_ID: usize = 5_001;

/// Sizes of the workload. Full scale: 200 groups, 200 memberships of 25 members drawn from
/// 2,000 directory users, 100 authorizations of 5 pipelines each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    pub groups: usize,
    pub memberships: usize,
    pub members_per_membership: usize,
    pub directory_users: usize,
    pub authorizations: usize,
    pub pipelines_per_authorization: usize,
}

impl Workload {
    pub const FULL: Workload = Workload {
        groups: 200,
        memberships: 200,
        members_per_membership: 25,
        directory_users: 2_000,
        authorizations: 100,
        pipelines_per_authorization: 5,
    };

    /// The full workload with object counts and the directory scaled by `scale` (at least one
    /// of each); members per membership and pipelines per authorization stay as they are.
    pub fn at_scale(scale: f64) -> Self {
        let scaled = |n: usize| ((n as f64 * scale).round() as usize).max(1);
        let groups = scaled(Self::FULL.groups);
        Workload {
            groups,
            memberships: groups,
            members_per_membership: Self::FULL.members_per_membership,
            directory_users: scaled(Self::FULL.directory_users)
                .max(Self::FULL.members_per_membership),
            authorizations: scaled(Self::FULL.authorizations),
            pipelines_per_authorization: Self::FULL.pipelines_per_authorization,
        }
    }

    pub fn objects(&self) -> usize {
        self.groups + self.memberships + self.authorizations
    }

    pub fn edges(&self) -> usize {
        self.memberships * self.members_per_membership
    }

    pub fn pipelines(&self) -> usize {
        self.authorizations * self.pipelines_per_authorization
    }

    /// Memberships in Exclusive mode (the odd ones; the others are Additive).
    pub fn exclusive_memberships(&self) -> usize {
        self.memberships / 2
    }

    /// The users membership `index` lists: a window sliding over the directory, so every user
    /// is drawn before any is drawn twice.
    pub fn members_of(&self, index: usize) -> Vec<String> {
        (0..self.members_per_membership)
            .map(|k| user_upn((index * self.members_per_membership + k) % self.directory_users))
            .collect()
    }

    /// Distinct users the memberships list (each must be materialized once).
    pub fn distinct_members(&self) -> usize {
        (0..self.memberships)
            .flat_map(|i| self.members_of(i))
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// Every object, in creation order: groups, memberships, authorizations.
    pub fn manifests(&self, namespace: &str) -> Vec<Value> {
        let groups = (0..self.groups).map(|i| group_manifest(namespace, i));
        let memberships = (0..self.memberships).map(|i| self.membership_manifest(namespace, i));
        let authorizations =
            (0..self.authorizations).map(|i| self.authorization_manifest(namespace, i));
        groups.chain(memberships).chain(authorizations).collect()
    }

    fn membership_manifest(&self, namespace: &str, index: usize) -> Value {
        let members: Vec<Value> = self
            .members_of(index)
            .into_iter()
            .map(|upn| json!({"user": upn}))
            .collect();
        json!({
            "apiVersion": "azdo.io/v1alpha1",
            "kind": "DevOpsMembership",
            "metadata": {"name": format!("bench-membership-{index:04}"), "namespace": namespace},
            "spec": {
                "organizationRef": {"name": ORGANIZATION},
                "group": {"groupRef": {"name": group_name(index % self.groups)}},
                "mode": if index % 2 == 1 { "Exclusive" } else { "Additive" },
                "members": members,
            }
        })
    }

    fn authorization_manifest(&self, namespace: &str, index: usize) -> Value {
        let pipelines: Vec<Value> = (0..self.pipelines_per_authorization)
            .map(|k| {
                json!({
                    "name": pipeline_name(index * self.pipelines_per_authorization + k),
                    "path": PIPELINE_FOLDER,
                })
            })
            .collect();
        json!({
            "apiVersion": "azdo.io/v1alpha1",
            "kind": "PipelineResourceAuthorization",
            "metadata": {"name": format!("bench-authorization-{index:04}"), "namespace": namespace},
            "spec": {
                "organizationRef": {"name": ORGANIZATION},
                "project": PROJECT,
                "resource": {"type": "environment", "name": environment_name(index)},
                "pipelines": pipelines,
            }
        })
    }
}

fn group_name(index: usize) -> String {
    format!("bench-group-{index:04}")
}

fn group_manifest(namespace: &str, index: usize) -> Value {
    json!({
        "apiVersion": "azdo.io/v1alpha1",
        "kind": "DevOpsGroup",
        "metadata": {"name": group_name(index), "namespace": namespace},
        "spec": {
            "organizationRef": {"name": ORGANIZATION},
            "project": PROJECT,
            // Names are unique per namespace: a second namespace's objects must not target
            // (and conflict over) the first one's groups.
            "displayName": format!("{namespace} group {index:04}"),
            "description": format!("Benchmark group {index}"),
        }
    })
}

pub fn user_upn(index: usize) -> String {
    format!("bench.user{index:04}@contoso.com")
}

pub fn pipeline_name(index: usize) -> String {
    format!("bench-pipeline-{index:04}")
}

pub fn pipeline_id(index: usize) -> usize {
    FIRST_PIPELINE_ID + index
}

pub fn environment_name(index: usize) -> String {
    format!("bench-env-{index:04}")
}

pub fn environment_id(index: usize) -> usize {
    FIRST_ENVIRONMENT_ID + index
}

/// The ClusterDevOpsOrganization the objects use: the simulator, the operator's own workload
/// identity, every namespace allowed.
pub fn organization_manifest(url: &str, graph_url: &str) -> Value {
    json!({
        "apiVersion": "azdo.io/v1alpha1",
        "kind": "ClusterDevOpsOrganization",
        "metadata": {"name": ORGANIZATION},
        "spec": {"url": url, "graphUrl": graph_url, "auth": {"workloadIdentity": {}}}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_draws_every_user_and_counts_edges() {
        let w = Workload::FULL;
        assert_eq!(w.edges(), 5_000);
        assert_eq!(w.distinct_members(), 2_000);
        assert_eq!(w.pipelines(), 500);
        assert_eq!(w.manifests("ns").len(), 500);
    }

    #[test]
    fn a_tenth_keeps_the_shape() {
        let w = Workload::at_scale(0.1);
        assert_eq!((w.groups, w.memberships, w.authorizations), (20, 20, 10));
        assert_eq!(w.directory_users, 200);
        assert_eq!(w.edges(), 500);
        assert_eq!(w.distinct_members(), 200);
    }
}
