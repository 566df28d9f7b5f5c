//! Which memberships another object's change should wake.

use std::sync::Arc;

use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use crate::api::{DevOpsGroup, DevOpsMembership, HasCommonStatus};
use crate::reason::Reason;

/// The memberships other than `changed` whose Ready reason is `MembershipCycle`.
pub fn refused_for_cycle<C: kube::Resource>(
    memberships: &[Arc<DevOpsMembership>],
    changed: &C,
) -> Vec<ObjectRef<DevOpsMembership>> {
    memberships
        .iter()
        .filter(|m| m.uid() != changed.meta().uid)
        .filter(|m| {
            m.ready_condition()
                .is_some_and(|c| Reason::parse(&c.reason) == Some(Reason::MembershipCycle))
        })
        .map(|m| ObjectRef::from_obj(&**m))
        .collect()
}

/// Memberships that wait on (or list) a DevOpsGroup, for the group watch.
pub fn referencing(
    memberships: &[Arc<DevOpsMembership>],
    group: &DevOpsGroup,
) -> Vec<ObjectRef<DevOpsMembership>> {
    let ns = group.namespace();
    let name = group.name_any();
    memberships
        .iter()
        .filter(|m| m.namespace() == ns)
        .filter(|m| {
            m.spec
                .group
                .group_ref
                .as_ref()
                .is_some_and(|r| r.name == name)
                || m.spec
                    .members
                    .iter()
                    .any(|x| x.group_ref.as_ref().is_some_and(|r| r.name == name))
        })
        .map(|m| ObjectRef::from_obj(&**m))
        .collect()
}
