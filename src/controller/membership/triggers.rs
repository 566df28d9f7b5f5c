//! Which memberships another object's change should wake.

use std::sync::Arc;

use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use crate::api::{DevOpsGroup, DevOpsMembership, HasCommonStatus};
use crate::controller::context::Stores;
use crate::controller::stored::Stored;
use crate::reason::Reason;

/// The DevOpsGroup a membership names by `groupRef`, when the cache has it and it has not
/// finished a reconcile yet (no Ready condition at all): the membership would only report
/// `GroupNotReady`, and the group's first status wakes it (the group watch of `controller::watch_groups`).
pub fn group_never_reconciled(
    membership: &DevOpsMembership,
    stores: &Stores,
) -> Option<(Reason, String)> {
    let reference = membership.spec.group.group_ref.as_ref()?;
    let namespace = membership.namespace()?;
    let cached = stores
        .groups
        .get(&ObjectRef::<Stored<DevOpsGroup>>::new(&reference.name).within(&namespace))?;
    let group = cached.valid()?;
    group.ready_condition().is_none().then(|| {
        (
            Reason::GroupNotReady,
            format!("DevOpsGroup {namespace}/{}", reference.name),
        )
    })
}

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

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use kube::runtime::reflector;
    use kube::runtime::watcher;
    use serde_json::json;

    use super::*;

    pub(crate) fn membership(created: &str) -> DevOpsMembership {
        serde_json::from_value(json!({
            "apiVersion": "azdo.io/v1alpha1",
            "kind": "DevOpsMembership",
            "metadata": {"name": "m", "namespace": "team-a", "creationTimestamp": created},
            "spec": {
                "organizationRef": {"name": "org"},
                "group": {"groupRef": {"name": "deployers"}},
                "members": [{"user": "alex@contoso.com"}]
            }
        }))
        .unwrap()
    }

    /// Stores holding one DevOpsGroup `deployers` in `team-a`, with a Ready condition or none.
    pub(crate) fn stores_with_group(ready: Option<&str>) -> Stores {
        let mut group = json!({
            "apiVersion": "azdo.io/v1alpha1",
            "kind": "DevOpsGroup",
            "metadata": {"name": "deployers", "namespace": "team-a"},
            "spec": {"organizationRef": {"name": "org"}, "displayName": "Deployers"}
        });
        if let Some(status) = ready {
            group["status"] = json!({"conditions": [{
                "type": "Ready", "status": status, "reason": "Failed", "message": "",
                "lastTransitionTime": "2026-01-01T00:00:00Z"
            }]});
        }
        let group: DevOpsGroup = serde_json::from_value(group).unwrap();
        let (groups, mut writer) = reflector::store();
        writer.apply_watcher_event(&watcher::Event::Apply(Stored::Valid(Arc::new(group))));
        Stores {
            cluster_orgs: reflector::store().0,
            orgs: reflector::store().0,
            groups,
            memberships: reflector::store().0,
            namespaces: reflector::store().0,
        }
    }

    #[test]
    fn only_a_group_without_any_ready_condition_is_awaited() {
        let m = membership("2026-01-01T00:00:00Z");
        let (reason, what) = group_never_reconciled(&m, &stores_with_group(None)).unwrap();
        assert_eq!(reason, Reason::GroupNotReady);
        assert_eq!(what, "DevOpsGroup team-a/deployers");
        // A group that reported anything (even a failure) is not awaited: the membership says why.
        assert!(group_never_reconciled(&m, &stores_with_group(Some("False"))).is_none());
        assert!(group_never_reconciled(&m, &stores_with_group(Some("True"))).is_none());
        // Another namespace's group of that name is not this membership's group.
        let mut elsewhere = m.clone();
        elsewhere.metadata.namespace = Some("team-b".into());
        assert!(group_never_reconciled(&elsewhere, &stores_with_group(None)).is_none());
    }
}
