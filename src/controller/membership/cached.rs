//! What the caches keep of a DevOpsMembership. Its cached copy is read by other reconcilers and
//! triggers for a few things only: the group it manages, its Ready condition, and the members
//! that are (or may be) groups, for cycle detection and for the DevOpsGroups it references.
//! Users and service principals, and `status.added`, are most of its size (at 25 members about
//! 11 KiB of a 12 KiB object) and are dropped; its own reconcile reads the whole object first.

use crate::ado::is_group_descriptor;
use crate::api::{DevOpsMembership, Member};
use crate::controller::stored::Cached;

impl Cached for DevOpsMembership {
    const PARTIAL: bool = true;

    fn keep_in_cache(&mut self) {
        self.spec.members.retain(may_be_a_group);
        self.spec.members.shrink_to_fit();
        if let Some(status) = &mut self.status {
            status
                .members
                .retain(|m| m.descriptor.as_deref().is_some_and(is_group_descriptor));
            status.members.shrink_to_fit();
            status.added = Vec::new();
        }
    }
}

/// A listed member that is a group, or may resolve to one (a descriptor of a group).
fn may_be_a_group(member: &Member) -> bool {
    member.group.is_some()
        || member.group_ref.is_some()
        || member.entra_group.is_some()
        || member
            .descriptor
            .as_deref()
            .is_some_and(is_group_descriptor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{LocalRef, MemberState, MemberStatus};

    fn status(member: &str, descriptor: &str) -> MemberStatus {
        MemberStatus {
            member: member.into(),
            descriptor: Some(descriptor.into()),
            state: MemberState::Present,
            reason: None,
            message: None,
        }
    }

    #[test]
    fn the_cache_keeps_group_members_and_drops_users() {
        let json = serde_json::json!({
            "apiVersion": "azdo.io/v1alpha1",
            "kind": "DevOpsMembership",
            "metadata": {"name": "m", "namespace": "team-a"},
            "spec": {
                "organizationRef": {"name": "org"},
                "group": {"groupRef": {"name": "deployers"}},
                "members": [
                    {"user": "alex@contoso.com"},
                    {"servicePrincipal": "00000000-0000-0000-0000-000000000001"},
                    {"groupRef": {"name": "readers"}},
                    {"group": "[Storefront]\\Release Approvers"},
                    {"entraGroup": "00000000-0000-0000-0000-000000000002"},
                    {"descriptor": "vssgp.abc"},
                    {"descriptor": "aad.def"}
                ]
            }
        });
        let mut m: DevOpsMembership = serde_json::from_value(json).unwrap();
        let mut s = crate::api::DevOpsMembershipStatus {
            group_descriptor: Some("vssgp.container".into()),
            members: vec![
                status("user:alex@contoso.com", "aad.alex"),
                status("group:[Storefront]\\Release Approvers", "vssgp.approvers"),
                status("entraGroup:2", "aadgp.entra"),
            ],
            added: vec!["aad.alex".into(), "vssgp.approvers".into()],
            ..Default::default()
        };
        s.summary = Some("3/3".into());
        m.status = Some(s);
        m.keep_in_cache();
        let kept: Vec<_> = m.spec.members.iter().map(Member::key).collect();
        assert_eq!(kept.len(), 4, "{kept:?}");
        assert!(m.spec.members.iter().all(|x| x.user.is_none()
            && x.service_principal.is_none()
            && x.descriptor.as_deref() != Some("aad.def")));
        assert!(m.spec.members.iter().any(|x| x.group_ref
            == Some(LocalRef {
                name: "readers".into()
            })));
        let status = m.status.as_ref().unwrap();
        let descriptors: Vec<_> = status
            .members
            .iter()
            .filter_map(|x| x.descriptor.as_deref())
            .collect();
        assert_eq!(descriptors, ["vssgp.approvers", "aadgp.entra"]);
        assert!(status.added.is_empty());
        // What the other readers need stays.
        assert_eq!(status.group_descriptor.as_deref(), Some("vssgp.container"));
        assert_eq!(status.summary.as_deref(), Some("3/3"));
        assert_eq!(m.spec.group.group_ref.as_ref().unwrap().name, "deployers");
    }
}
