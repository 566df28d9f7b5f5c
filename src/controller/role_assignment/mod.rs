//! Reconciler of `DevOpsRoleAssignment`, on the shared [set-sync core](super::set_sync): resolve
//! the resource, the roles and the members (to identity ids), check the grants, read the
//! resource's assignments once, plan (Additive or Exclusive, failing closed), then one PUT for
//! every addition, one PATCH for every removal (an identity whose role changes is replaced by
//! the PUT, not removed), and a read back that proves the writes landed.

mod resolve;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use kube::runtime::events::EventType;

use crate::ado::{assigned_roles, RoleAssignment};
use crate::api::{
    AssignmentState, AssignmentStatus, DevOpsRoleAssignment, Member, MembershipMode,
    RoleResourceType,
};
use crate::reason::Reason;

use super::claims::{hold_only, Key};
use super::error::Error;
use super::grants::{Project, RoleAsks, RoleTarget};
use super::ledger::Entry;
use super::object_context::Cx;
use super::reconcile::{Ready, Reconciled};
use super::set_sync::{self, Item, ItemState, ItemStatus, Mode, Nouns, Plan, Problem, Written};
use resolve::{Held, Target};

#[async_trait]
impl Reconciled for DevOpsRoleAssignment {
    async fn converge(&self, cx: &Cx<'_>, status: &mut Self::Status) -> Result<Ready, Error> {
        let client = &cx.org().client;
        let scope = resolve::scope_of(self.spec.resource.type_);
        let project = match &self.spec.project {
            Some(name) if scope.in_project() => Some(cx.project(name).await?),
            _ => None,
        };
        // The resource is immutable in the spec: once resolved, its ids (and name, which the
        // grants judge) come from the ledger, never from status.
        let before = cx.ledger.read(self).await?;
        let target = match before
            .target
            .as_deref()
            .and_then(|t| Target::parse(t, scope))
        {
            Some(target) => target,
            None => resolve::resource(self, cx, project.as_ref()).await?,
        };
        status.scope = Some(scope.scope_id().to_string());
        status.resource_id = Some(target.resource_id.clone());
        status.resource_name = Some(target.name.clone());
        self.may_manage(cx, project.as_ref(), &target)?;
        // One object cluster-wide decides a resource's explicit assignments exclusively.
        let exclusive =
            Key::exclusive_roles(&cx.org().spec.url, scope.scope_id(), &target.resource_id);
        let keep: Vec<&Key> = match self.spec.mode {
            MembershipMode::Exclusive => vec![&exclusive],
            MembershipMode::Additive => vec![],
        };
        let before = hold_only(cx, self, before, &keep).await?;
        if self.spec.mode == MembershipMode::Additive {
            // Adding to a set another object decides exclusively would only fight it.
            cx.claims.refuse_held(self, &exclusive).await?;
        }

        // One read of what the resource holds (under Observe, also what listed users match).
        let read = client
            .role_assignments(scope, &target.resource_id)
            .await
            .map_err(|e| match e.is_not_found() {
                true => Error::not_found(
                    Reason::ResourceNotFound,
                    format!(
                        "{} {} ({} {}) is gone: {e}",
                        self.spec.resource.type_.as_str(),
                        target.name,
                        scope,
                        target.resource_id
                    ),
                ),
                false => Error::ado("reading the resource's role assignments", e),
            });
        let none = Vec::new();
        let now_assigned = read.as_ref().unwrap_or(&none);
        let listed = listed(self);
        let items =
            set_sync::resolve(
                set_sync::unique(&listed, |(role, member)| key(role, member)),
                &set_sync::previous(self.status.iter().flat_map(|s| &s.assignments).filter_map(
                    |a| {
                        let (role, _) = a.assignment.split_once('/')?;
                        let id = a.identity_id.as_deref().map(|id| Held::new(id, role));
                        Some((
                            a.assignment.clone(),
                            id,
                            a.state == AssignmentState::Assigned,
                        ))
                    },
                )),
                // Identity ids of users, Entra groups and service principals never change; a
                // DevOpsGroup reference is always read again.
                |(_, member)| member.group_ref.is_none(),
                |(role, member)| resolve::assignment(cx, scope, role, member, now_assigned),
            )
            .await;
        let items = one_role_per_identity(items);

        if read
            .as_ref()
            .is_err_and(|e| e.reason == Reason::ResourceNotFound)
        {
            // Looked up again (by name) next time: a recreated resource has a new id.
            if !cx.observing() {
                self.forget_target(cx, &before).await?;
            }
        }
        let current: Option<BTreeSet<Held>> = read.as_ref().ok().map(|all| held(all));
        let ours = ours(&before, &target);
        let plan = set_sync::plan(
            &items,
            current.as_ref(),
            &ours,
            mode(self.spec.mode),
            |wanted| match (self.spec.mode, &current) {
                (MembershipMode::Additive, Some(current)) => held_elsewhere(current, &ours, wanted),
                _ => None,
            },
        );
        let assignments = read.as_ref().map_err(Clone::clone)?;
        let current = current.unwrap_or_default();
        let written = match cx.observing() {
            true => Ok(observe(cx, &items, &plan)),
            false => self.write(cx, &target, &plan).await,
        };
        let written = match written {
            Ok(written) => written,
            Err(err) => {
                // The PUT may have landed before a later step failed: the adds count as this
                // object's, so its deletion can undo them (the next read settles what stands).
                let now = Entry {
                    target: Some(target.recorded()),
                    added: ours.iter().chain(&plan.add).map(Held::recorded).collect(),
                    ..before.clone()
                };
                cx.ledger.write(self, &before, &now).await?;
                return Err(err);
            }
        };
        let inheritance = self.inheritance(cx, &target, &before, assignments).await?;
        let settled = set_sync::settle(items, &plan, &written, Some(&current), ours);
        let now = Entry {
            target: Some(target.recorded()),
            added: settled.ours.iter().map(Held::recorded).collect(),
            inheritance,
            ..before.clone()
        };
        if !cx.observing() {
            cx.ledger.write(self, &before, &now).await?;
        }
        status.assigned = settled.ours.iter().map(Held::recorded).collect();
        status.assignments = settled.statuses();
        status.summary = Some(settled.summary());
        set_sync::ready(&settled, &NOUNS, plan.held_back)
    }

    async fn cleanup(&self, cx: &Cx<'_>) -> Result<(), Error> {
        let done = cx.ledger.read(self).await?;
        let scope = resolve::scope_of(self.spec.resource.type_);
        let Some(target) = done.target.as_deref().and_then(|t| Target::parse(t, scope)) else {
            return Ok(());
        };
        let client = &cx.org().client;
        let ours = ours(&done, &target);
        let restore_inheritance = done.inheritance == Some(false);
        if ours.is_empty() && !restore_inheritance {
            return Ok(());
        }
        let current = match client.role_assignments(scope, &target.resource_id).await {
            Ok(all) => held(&all),
            // The resource is gone, and its assignments with it.
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(Error::ado("reading the resource's role assignments", e)),
        };
        // Only what still stands as this object set it (a role someone changed since is theirs).
        let plan = set_sync::undo(&ours.intersection(&current).cloned().collect());
        let remove: Vec<String> = plan.remove.iter().map(|h| h.identity.clone()).collect();
        client
            .apply_role_assignments(scope, &target.resource_id, &BTreeMap::new(), &remove)
            .await
            .map_err(|e| Error::ado("removing the role assignments this object made", e))?;
        if restore_inheritance {
            client
                .set_role_inheritance(scope, &target.resource_id, true)
                .await
                .map_err(|e| Error::ado("restoring the resource's inheritance", e))?;
        }
        if !remove.is_empty() {
            let note = format!("removed {} role assignment(s)", remove.len());
            cx.publish(self, EventType::Normal, Reason::RolesRemoved, note)
                .await;
        }
        Ok(())
    }
}

impl DevOpsRoleAssignment {
    /// Refuse, before any write, a resource or a role the namespace was not granted.
    fn may_manage(
        &self,
        cx: &Cx<'_>,
        project: Option<&Project>,
        target: &Target,
    ) -> Result<(), Error> {
        let asks = RoleAsks {
            administrator: self.spec.inheritance.is_some()
                || self
                    .spec
                    .assignments
                    .iter()
                    .any(|a| a.role.trim().eq_ignore_ascii_case("Administrator")),
            exclusive: self.spec.mode == MembershipMode::Exclusive,
        };
        let type_ = self.spec.resource.type_;
        let target = RoleTarget {
            type_,
            project: project.filter(|_| type_ != RoleResourceType::Agentpool),
            id: &target.own_id,
            name: &target.name,
        };
        cx.granted().role_resource(&target, asks)
    }

    /// One PUT with every addition and one PATCH with every removal, read back. Nothing when
    /// the plan is empty (steady state: 0 writes).
    async fn write(
        &self,
        cx: &Cx<'_>,
        target: &Target,
        plan: &Plan<Held>,
    ) -> Result<Written<Held>, Error> {
        if plan.add.is_empty() && plan.remove.is_empty() {
            return Ok(Written::default());
        }
        let client = &cx.org().client;
        let mut set = BTreeMap::new();
        for held in &plan.add {
            let role = client
                .role_named(target.scope, &held.role)
                .await
                .map_err(|e| Error::ado("reading the scope's roles", e))?
                .map_or_else(|| held.role.clone(), |r| r.name);
            set.insert(held.identity.clone(), role);
        }
        // An identity whose role changes is replaced by the PUT: removing it would drop it.
        let remove: Vec<String> = plan
            .remove
            .iter()
            .map(|h| h.identity.clone())
            .filter(|id| !set.contains_key(id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        client
            .apply_role_assignments(target.scope, &target.resource_id, &set, &remove)
            .await
            .map_err(|e| Error::ado("writing the resource's role assignments", e))?;
        let mut changes = Vec::new();
        if !plan.add.is_empty() {
            changes.push(format!("assigned {} role(s)", plan.add.len()));
        }
        if !remove.is_empty() {
            changes.push(format!("removed {} assignment(s)", remove.len()));
        }
        cx.publish(
            self,
            EventType::Normal,
            Reason::RolesAssigned,
            changes.join("; "),
        )
        .await;
        Ok(Written::all_done(plan))
    }

    /// Switch inheritance when the spec asks and this object has not set it yet, or when it
    /// is to be off and the resource still shows inherited assignments (drift). What this
    /// object set, as the ledger will record it.
    async fn inheritance(
        &self,
        cx: &Cx<'_>,
        target: &Target,
        before: &Entry,
        assignments: &[RoleAssignment],
    ) -> Result<Option<bool>, Error> {
        let Some(want) = self.spec.inheritance else {
            return Ok(before.inheritance);
        };
        let drifted = !want && assignments.iter().any(|a| !a.is_assigned());
        if before.inheritance == Some(want) && !drifted {
            return Ok(before.inheritance);
        }
        if cx.observing() {
            if drifted || before.inheritance != Some(want) && !want {
                cx.would(format!("set inheritance to {want}"));
            }
            return Ok(before.inheritance);
        }
        cx.org()
            .client
            .set_role_inheritance(target.scope, &target.resource_id, want)
            .await
            .map_err(|e| Error::ado("setting the resource's inheritance", e))?;
        let note = format!("set inheritance to {want}");
        cx.publish(self, EventType::Normal, Reason::Updated, note)
            .await;
        Ok(Some(want))
    }

    /// Drop the recorded resource (and what was assigned on it: it went with the resource).
    async fn forget_target(&self, cx: &Cx<'_>, before: &Entry) -> Result<(), Error> {
        if self.spec.resource.name.is_none() || before.target.is_none() {
            return Ok(());
        }
        let now = Entry {
            target: None,
            added: BTreeSet::new(),
            inheritance: None,
            ..before.clone()
        };
        cx.ledger.write(self, before, &now).await
    }
}

/// Under Observe: say what the PUT and PATCH would change, and send nothing.
fn observe(cx: &Cx<'_>, items: &[Item<Held>], plan: &Plan<Held>) -> Written<Held> {
    for held in &plan.add {
        let key = items
            .iter()
            .find(|i| i.resolved.as_ref().ok() == Some(held))
            .map_or(held.identity.clone(), |i| i.key.clone());
        cx.would(format!("assign {key}"));
    }
    for held in &plan.remove {
        cx.would(format!(
            "remove role {} of identity {}",
            held.role, held.identity
        ));
    }
    Written::observed(plan)
}

/// Every (role, member) of the spec, in order.
fn listed(r: &DevOpsRoleAssignment) -> Vec<(String, Member)> {
    r.spec
        .assignments
        .iter()
        .flat_map(|a| {
            a.members
                .iter()
                .map(|m| (a.role.trim().to_string(), m.clone()))
        })
        .collect()
}

/// `role/member`, e.g. `User/user:alice@contoso.com`.
fn key(role: &str, member: &Member) -> String {
    format!("{role}/{}", member.key())
}

/// An identity listed under two roles: the later ones fail (an identity holds one role per
/// resource), so the plan never sends two roles for one identity.
fn one_role_per_identity(items: Vec<Item<Held>>) -> Vec<Item<Held>> {
    let mut first: BTreeMap<String, (String, String)> = BTreeMap::new();
    items
        .into_iter()
        .map(|mut item| {
            if let Ok(held) = &item.resolved {
                match first.get(&held.identity) {
                    Some((role, key)) if *role != held.role => {
                        item.resolved = Err(Problem::failed(
                            Reason::InvalidSpec,
                            format!(
                                "{} is the same identity as {key}, listed with another role: an identity holds one role per resource",
                                item.key
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        first.insert(held.identity.clone(), (held.role.clone(), item.key.clone()));
                    }
                }
            }
            item
        })
        .collect()
}

/// The explicit assignments of a read.
fn held(all: &[RoleAssignment]) -> BTreeSet<Held> {
    assigned_roles(all)
        .iter()
        .map(|(id, role)| Held::new(id, role))
        .collect()
}

/// What this object assigned on this resource, as its ledger records it.
fn ours(done: &Entry, target: &Target) -> BTreeSet<Held> {
    if done.target.as_deref() != Some(target.recorded().as_str()) {
        return BTreeSet::new();
    }
    done.added.iter().filter_map(|h| Held::parse(h)).collect()
}

/// Additive mode never changes a role someone else gave: an identity holding another role,
/// not assigned by this object, is refused.
fn held_elsewhere(
    current: &BTreeSet<Held>,
    ours: &BTreeSet<Held>,
    wanted: &Held,
) -> Option<Problem> {
    let other = current
        .iter()
        .find(|h| h.identity == wanted.identity && h.role != wanted.role)?;
    if ours.contains(other) {
        return None;
    }
    Some(Problem::failed(
        Reason::RoleHeldElsewhere,
        format!(
            "identity {} already holds role {:?} on this resource, not assigned by this object; Additive mode leaves it (list that role, or use Exclusive mode)",
            wanted.identity, other.role
        ),
    ))
}

fn mode(mode: MembershipMode) -> Mode {
    match mode {
        MembershipMode::Additive => Mode::Additive,
        MembershipMode::Exclusive => Mode::Exclusive,
    }
}

impl ItemStatus<Held> for AssignmentStatus {
    fn of(assignment: String, held: Option<Held>, problem: Option<&Problem>) -> Self {
        let state = match problem.map(|p| p.state) {
            None => AssignmentState::Assigned,
            Some(ItemState::Pending) => AssignmentState::Pending,
            Some(ItemState::Failed) => AssignmentState::Failed,
        };
        let (reason, message) = set_sync::why(problem);
        AssignmentStatus {
            assignment,
            identity_id: held
                .map(|h| h.identity)
                .filter(|id| !id.starts_with(resolve::ABSENT)),
            state,
            reason,
            message,
        }
    }
}

/// How role assignments name their items in Ready messages.
const NOUNS: Nouns = Nouns {
    in_place: "roles assigned",
    field: "status.assignments",
    several_failed: Reason::RolesFailed,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, identity: &str, role: &str) -> Item<Held> {
        Item {
            key: key.into(),
            resolved: Ok(Held::new(identity, role)),
            previous: None,
        }
    }

    #[test]
    fn an_identity_listed_under_two_roles_fails_the_later_entry() {
        let items = one_role_per_identity(vec![
            item("User/user:a@x", "A", "User"),
            item("Reader/descriptor:aad.a", "a", "Reader"),
            item("User/descriptor:aad.a", "a", "user"),
        ]);
        assert!(items[0].resolved.is_ok());
        let problem = items[1].resolved.as_ref().unwrap_err();
        assert_eq!(problem.reason, Reason::InvalidSpec);
        assert!(
            problem.message.contains("User/user:a@x"),
            "{}",
            problem.message
        );
        assert!(
            items[2].resolved.is_ok(),
            "the same role again is one assignment"
        );
    }

    #[test]
    fn additive_mode_leaves_a_role_someone_else_gave() {
        let current = BTreeSet::from([Held::new("a", "Administrator")]);
        let wanted = Held::new("a", "Reader");
        let refused = held_elsewhere(&current, &BTreeSet::new(), &wanted).unwrap();
        assert_eq!(refused.reason, Reason::RoleHeldElsewhere);
        let ours = BTreeSet::from([Held::new("a", "administrator")]);
        assert_eq!(
            held_elsewhere(&current, &ours, &wanted),
            None,
            "ours to change"
        );
        assert_eq!(
            held_elsewhere(&current, &BTreeSet::new(), &Held::new("b", "Reader")),
            None
        );
    }

    #[test]
    fn a_role_change_is_one_put_and_no_removal() {
        // Exclusive: a holds Reader, the spec says User; b is unlisted.
        let items = vec![item("User/x", "a", "User")];
        let current = BTreeSet::from([Held::new("a", "Reader"), Held::new("b", "User")]);
        let plan = set_sync::plan(
            &items,
            Some(&current),
            &BTreeSet::new(),
            Mode::Exclusive,
            |_| None,
        );
        assert_eq!(plan.add, vec![Held::new("a", "User")]);
        assert_eq!(
            plan.remove,
            vec![Held::new("a", "Reader"), Held::new("b", "User")]
        );
        let set: BTreeSet<&str> = plan.add.iter().map(|h| h.identity.as_str()).collect();
        let removed: Vec<&str> = plan
            .remove
            .iter()
            .map(|h| h.identity.as_str())
            .filter(|id| !set.contains(id))
            .collect();
        assert_eq!(removed, ["b"], "a is replaced by the PUT, not removed");
    }

    #[test]
    fn ours_is_what_the_ledger_recorded_for_this_resource() {
        let target = Target {
            scope: crate::ado::RoleScope::Environment,
            resource_id: "p_7".into(),
            own_id: "7".into(),
            name: "prod".into(),
        };
        let done = Entry {
            target: Some(target.recorded()),
            added: ["a=user".to_string(), "garbage".to_string()].into(),
            ..Entry::default()
        };
        assert_eq!(
            ours(&done, &target),
            BTreeSet::from([Held::new("A", "User")])
        );
        let other = Target {
            resource_id: "p_8".into(),
            ..target
        };
        assert!(ours(&done, &other).is_empty());
    }
}
