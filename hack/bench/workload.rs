//! What the bench asks of the operator: how many objects of each kind, and their manifests.
//! Everything is derived from the sizes, so the same scale always gives the same objects.

use std::collections::BTreeSet;

use azdo_operator::api::{
    AccessLevel, ApprovalCheck, Check, ExclusiveLockCheck, MembershipMode, Principal,
    ProjectGroupType, ResourceType, RoleMembers, RoleResource, RoleResourceType,
};
use kube::api::DynamicObject;
use serde::Serialize;

use crate::support::kit::fixtures::{
    pipeline_named, resource_named, target_ref, users, workload_identity,
};
pub use crate::support::kit::ORGANIZATION;
use crate::support::kit::{Fixtures, ToObject};

/// The project that holds the bench's groups, pipelines and environments.
pub const PROJECT: &str = "Bench";
/// Folder of the generated pipelines.
pub const PIPELINE_FOLDER: &str = "\\Bench";
const FIRST_PIPELINE_ID: usize = 10_001;
const FIRST_ENVIRONMENT_ID: usize = 5_001;

/// Sizes of the workload. Full scale: 200 groups, 200 memberships of 25 members drawn from
/// 2,000 directory users, 100 authorizations of 5 pipelines each, 100 role assignments of 5
/// members each and 100 resource checks of 2 checks each (an approval, an exclusive lock), on
/// the same environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    pub groups: usize,
    pub memberships: usize,
    pub members_per_membership: usize,
    pub directory_users: usize,
    pub authorizations: usize,
    pub pipelines_per_authorization: usize,
    pub role_assignments: usize,
    pub members_per_role_assignment: usize,
    pub resource_checks: usize,
    pub checks_per_resource: usize,
    /// User entitlements (Stakeholder with Readers in the project), for users no role
    /// assignment lists (each needs its own identity id).
    pub entitlements: usize,
}

impl Workload {
    pub const FULL: Workload = Workload {
        groups: 200,
        memberships: 200,
        members_per_membership: 25,
        directory_users: 2_000,
        authorizations: 100,
        pipelines_per_authorization: 5,
        role_assignments: 100,
        members_per_role_assignment: 5,
        resource_checks: 100,
        checks_per_resource: 2,
        entitlements: 100,
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
            role_assignments: scaled(Self::FULL.role_assignments),
            members_per_role_assignment: Self::FULL.members_per_role_assignment,
            resource_checks: scaled(Self::FULL.resource_checks),
            checks_per_resource: Self::FULL.checks_per_resource,
            entitlements: scaled(Self::FULL.entitlements),
        }
    }

    pub fn objects(&self) -> usize {
        self.groups
            + self.memberships
            + self.authorizations
            + self.role_assignments
            + self.resource_checks
            + self.entitlements
    }

    /// The user entitlement `index` gives: counted from the end of the directory, away from the
    /// role members at its start.
    pub fn entitled_user(&self, index: usize) -> String {
        user_upn(self.directory_users - 1 - index % self.directory_users)
    }

    /// Checks the resource check objects list in all.
    pub fn checks(&self) -> usize {
        self.resource_checks * self.checks_per_resource
    }

    /// The users role assignment `index` makes User of its environment (a window over the
    /// directory, like the memberships').
    pub fn role_members_of(&self, index: usize) -> Vec<String> {
        (0..self.members_per_role_assignment)
            .map(|k| {
                user_upn((index * self.members_per_role_assignment + k) % self.directory_users)
            })
            .collect()
    }

    /// Distinct users the role assignments list (each needs its identity id once).
    pub fn distinct_role_members(&self) -> usize {
        (0..self.role_assignments)
            .flat_map(|i| self.role_members_of(i))
            .collect::<BTreeSet<_>>()
            .len()
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

    /// Every object, in creation order: groups, memberships, authorizations, role assignments,
    /// resource checks, user entitlements; the entitlements given to the users from
    /// `first_user` on (a second namespace must not name the users the first one's objects
    /// hold).
    pub fn manifests_entitling_from(
        &self,
        namespace: &str,
        first_user: usize,
    ) -> Vec<DynamicObject> {
        let fx = fixtures(namespace);
        let groups = (0..self.groups).map(|i| group_manifest(&fx, i));
        let memberships = (0..self.memberships).map(|i| self.membership_manifest(&fx, i));
        let authorizations = (0..self.authorizations).map(|i| self.authorization_manifest(&fx, i));
        let roles = (0..self.role_assignments).map(|i| self.role_assignment_manifest(&fx, i));
        let checks = (0..self.resource_checks).map(|i| self.resource_check_manifest(&fx, i));
        let entitlements =
            (0..self.entitlements).map(|i| self.entitlement_manifest(&fx, i, first_user + i));
        groups
            .chain(memberships)
            .chain(authorizations)
            .chain(roles)
            .chain(checks)
            .chain(entitlements)
            .collect()
    }

    /// Stakeholder access with Readers in the project for one directory user.
    fn entitlement_manifest(&self, fx: &Fixtures, index: usize, user: usize) -> DynamicObject {
        fx.entitlement(
            &format!("bench-entitlement-{index:04}"),
            Principal {
                user: Some(self.entitled_user(user)),
                ..Principal::default()
            },
            AccessLevel::Stakeholder,
            &[(PROJECT, ProjectGroupType::Readers)],
        )
        .object()
    }

    /// An approval by the first user of the matching role assignment (an identity id already
    /// resolved there) and an exclusive lock, on environment `index`.
    fn resource_check_manifest(&self, fx: &Fixtures, index: usize) -> DynamicObject {
        let approver = self.role_members_of(index % self.role_assignments.max(1))[0].clone();
        fx.resource_check(
            &format!("bench-checks-{index:04}"),
            resource_named(
                ResourceType::Environment,
                &environment_name(index % self.authorizations.max(1)),
            ),
            vec![
                Check {
                    approval: Some(ApprovalCheck {
                        approvers: users(&[approver.as_str()]),
                        ..ApprovalCheck::default()
                    }),
                    ..Check::default()
                },
                Check {
                    exclusive_lock: Some(ExclusiveLockCheck {}),
                    ..Check::default()
                },
            ],
        )
        .object()
    }

    fn role_assignment_manifest(&self, fx: &Fixtures, index: usize) -> DynamicObject {
        let upns = self.role_members_of(index);
        let upns: Vec<&str> = upns.iter().map(String::as_str).collect();
        fx.role_assignment(
            &format!("bench-roles-{index:04}"),
            RoleResource {
                type_: RoleResourceType::Environment,
                id: None,
                name: Some(environment_name(index % self.authorizations.max(1))),
            },
            vec![RoleMembers {
                role: "User".to_string(),
                members: users(&upns),
            }],
        )
        .object()
    }

    fn membership_manifest(&self, fx: &Fixtures, index: usize) -> DynamicObject {
        let upns = self.members_of(index);
        let upns: Vec<&str> = upns.iter().map(String::as_str).collect();
        let mut membership = fx.membership(
            &format!("bench-membership-{index:04}"),
            target_ref(&group_name(index % self.groups)),
            users(&upns),
        );
        membership.spec.mode = if index % 2 == 1 {
            MembershipMode::Exclusive
        } else {
            MembershipMode::Additive
        };
        membership.object()
    }

    fn authorization_manifest(&self, fx: &Fixtures, index: usize) -> DynamicObject {
        let pipelines = (0..self.pipelines_per_authorization)
            .map(|k| {
                pipeline_named(
                    &pipeline_name(index * self.pipelines_per_authorization + k),
                    Some(PIPELINE_FOLDER),
                )
            })
            .collect();
        fx.authorization(
            &format!("bench-authorization-{index:04}"),
            resource_named(ResourceType::Environment, &environment_name(index)),
            pipelines,
        )
        .object()
    }
}

/// The bench's objects go into `namespace` and the project [`PROJECT`].
fn fixtures(namespace: &str) -> Fixtures {
    Fixtures {
        project: PROJECT.to_string(),
        ..Fixtures::new(namespace, "", "")
    }
}

fn group_name(index: usize) -> String {
    format!("bench-group-{index:04}")
}

fn group_manifest(fx: &Fixtures, index: usize) -> DynamicObject {
    // Names are unique per namespace: a second namespace's objects must not target (and
    // conflict over) the first one's groups.
    let mut group = fx.group(
        &group_name(index),
        &format!("{} group {index:04}", fx.namespace),
    );
    group.spec.description = Some(format!("Benchmark group {index}"));
    group.object()
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
pub fn organization_manifest(url: &str, graph_url: &str, entitlement_url: &str) -> DynamicObject {
    Fixtures::new("", url, graph_url)
        .with_entitlement_url(entitlement_url)
        .cluster_organization_named(ORGANIZATION, workload_identity(), &[])
        .object()
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
        assert_eq!(w.distinct_role_members(), 500);
        assert_eq!(w.manifests_entitling_from("ns", 0).len(), 800);
        assert_eq!(w.checks(), 200);
        let entitled: BTreeSet<String> = (0..w.entitlements).map(|i| w.entitled_user(i)).collect();
        let role_members: BTreeSet<String> = (0..w.role_assignments)
            .flat_map(|i| w.role_members_of(i))
            .collect();
        assert_eq!(entitled.len(), 100);
        assert!(entitled.is_disjoint(&role_members));
        // The rate-limited run's second namespace entitles the next 100 users.
        let second: BTreeSet<String> = (0..w.entitlements)
            .map(|i| w.entitled_user(w.entitlements + i))
            .collect();
        assert_eq!(second.len(), 100);
        assert!(second.is_disjoint(&entitled) && second.is_disjoint(&role_members));
    }

    #[test]
    fn a_tenth_keeps_the_shape() {
        let w = Workload::at_scale(0.1);
        assert_eq!((w.groups, w.memberships, w.authorizations), (20, 20, 10));
        assert_eq!(w.role_assignments, 10);
        assert_eq!(w.directory_users, 200);
        assert_eq!(w.edges(), 500);
        assert_eq!(w.distinct_members(), 200);
    }
}
