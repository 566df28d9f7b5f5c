//! Reconciler of `DevOpsMembership`, on the shared [set-sync core](super::set_sync): resolve the
//! group and the members to descriptors, read the group's direct members with one list call,
//! plan (Additive or Exclusive, failing closed), add and remove, and report per member.

mod cached;
pub(crate) mod resolve;
mod triggers;

pub use resolve::member as resolve_member;
pub use resolve::without_writes as resolve_without_writes;
#[cfg(test)]
pub(crate) use triggers::tests as tests_support;
pub use triggers::{group_never_reconciled, refused_for_cycle};

use std::collections::BTreeSet;

use async_trait::async_trait;
use futures::future::join_all;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};

use crate::ado::{is_group_descriptor, AdoClient};
use crate::api::{
    DevOpsGroup, DevOpsMembership, Member, MemberState, MemberStatus, MembershipMode,
};
use crate::reason::Reason;

use super::claims::{hold_only, Key};
use super::cycles;
use super::error::{Error, Retry};
use super::ledger::{Entry, Origin};
use super::object_context::Cx;
use super::protection;
use super::reconcile::{Ready, Reconciled};
use super::set_sync::{self, ItemState, ItemStatus, Mode, Nouns, Plan, Problem, Written};

#[async_trait]
impl Reconciled for DevOpsMembership {
    async fn converge(&self, cx: &Cx<'_>, status: &mut Self::Status) -> Result<Ready, Error> {
        let (container, container_name) = resolve::container(self, cx).await?;
        status.group_descriptor = Some(container.clone());
        status.group_principal_name = container_name.clone();
        may_manage(self, cx, &container, container_name.as_deref()).await?;
        let client = &cx.org().client;
        // Protected by name, or nested in a protected group (read from Azure DevOps).
        let (org, name) = (&cx.org().spec, container_name.as_deref());
        let refused = "its members cannot be managed here";
        protection::refuse_protected(org, client, &container, name, refused).await?;
        // One object cluster-wide decides a group's members exclusively (claimed only once
        // every check passed, so a refused object holds nothing).
        let exclusive = Key::exclusive_members(&cx.org().spec.url, &container);
        let keep: Vec<&Key> = match self.spec.mode {
            MembershipMode::Exclusive => vec![&exclusive],
            MembershipMode::Additive => vec![],
        };
        let before = hold_only(cx, self, cx.ledger.read(self).await?, &keep).await?;

        // One read of what the group holds (under Observe, also what listed members match).
        let current = client
            .list_members(&container)
            .await
            .map(BTreeSet::from_iter)
            .map_err(|e| Error::ado("reading the group's members", e));
        let none = BTreeSet::new();
        let members = resolve::CurrentMembers::new(current.as_ref().unwrap_or(&none));
        let items = set_sync::resolve(
            set_sync::unique(&self.spec.members, Member::key),
            &set_sync::previous(self.status.iter().flat_map(|s| &s.members).map(|ms| {
                let present = ms.state == MemberState::Present;
                (ms.member.clone(), ms.descriptor.clone(), present)
            })),
            // Descriptors of users, Entra groups and service principals never change; a
            // DevOpsGroup reference is always read again.
            |member| member.group_ref.is_none(),
            |member| async {
                let resolved = match cx.observing() {
                    true => resolve::observed_member(member, cx, &members).await,
                    false => resolve::member(member, cx).await,
                };
                match resolved {
                    Ok(d) if d == container => Err(Problem::failed(
                        Reason::SelfMembership,
                        "a group cannot be a member of itself",
                    )),
                    other => other,
                }
            },
        )
        .await;
        let ours = match before.target.as_deref() {
            Some(target) if target != container => BTreeSet::new(),
            _ => before.added.clone(),
        };
        // Cycles are judged on every DevOpsGroup and DevOpsMembership: their caches must be full.
        cx.stores.related_ready().await?;
        let mut graph = None;
        let plan = set_sync::plan(
            &items,
            current.as_ref().ok(),
            &ours,
            mode(self.spec.mode),
            |descriptor| {
                if !is_group_descriptor(descriptor) {
                    return None;
                }
                let graph = graph.get_or_insert_with(|| cycles::declared(&cx.stores, self));
                let chain = cycles::path(graph, descriptor, &container)?;
                let member = items
                    .iter()
                    .find(|i| i.resolved.as_ref().ok() == Some(descriptor))
                    .map_or(descriptor.as_str(), |i| i.key.as_str());
                let target = container_name.as_deref().unwrap_or(&container);
                let message = cycles::refusal(&cx.stores, member, target, &chain);
                Some(Problem::failed(Reason::MembershipCycle, message))
            },
        );
        let current = current.as_ref().map_err(Clone::clone)?;
        let written = match cx.observing() {
            true => observe(cx, &items, &plan, &members).await,
            false => write(client, &container, &plan).await,
        };
        self.announce(cx, &written).await;
        let settled = set_sync::settle(items, &plan, &written, Some(current), ours);
        let now = Entry {
            target: Some(container.clone()),
            added: settled.ours.clone(),
            ..before.clone()
        };
        if !cx.observing() {
            cx.ledger.write(self, &before, &now).await?;
        }
        status.added = settled.ours.iter().cloned().collect();
        status.members = settled.statuses();
        status.summary = Some(settled.summary());
        if let Some(err) = written.remove_error {
            return Err(err);
        }
        set_sync::ready(&settled, &NOUNS, plan.held_back)
    }

    async fn cleanup(&self, cx: &Cx<'_>) -> Result<(), Error> {
        let done = cx.ledger.read(self).await?;
        if let Some(container) = &done.target {
            let left = "its members are left as they are";
            if protection::leave_protected(cx, self, container, None, left).await? {
                return Ok(());
            }
            let written = write(&cx.org().client, container, &set_sync::undo(&done.added)).await;
            self.announce(cx, &written).await;
            if let Some(err) = written.remove_error {
                return Err(err);
            }
        }
        Ok(())
    }

    fn awaits_first_reconcile(&self, stores: &super::context::Stores) -> Option<(Reason, String)> {
        group_never_reconciled(self, stores)
    }
}

/// Refuse a group this object may not manage: a protected one, one a DevOpsGroup in another
/// namespace manages, or (unless a DevOpsGroup of this namespace created it) one the grants do
/// not name, or name without Exclusive mode.
async fn may_manage(
    m: &DevOpsMembership,
    cx: &Cx<'_>,
    container: &str,
    container_name: Option<&str>,
) -> Result<(), Error> {
    let exclusive = m.spec.mode == MembershipMode::Exclusive;
    may_manage_group(
        cx,
        m.namespace().as_deref(),
        exclusive,
        container,
        container_name,
    )
    .await
}

/// The same for any object of `namespace` acting on a group (a membership's container, a
/// DevOpsEntitlement's group rule); `exclusive`: it would decide the group exclusively.
pub(crate) async fn may_manage_group(
    cx: &Cx<'_>,
    namespace: Option<&str>,
    exclusive: bool,
    container: &str,
    container_name: Option<&str>,
) -> Result<(), Error> {
    let org = &cx.org().spec;
    let name = container_name.unwrap_or(container);
    if org.is_protected(name) {
        return Err(Error::new(
            Reason::ProtectedGroup,
            format!(
                "{name} is protected in {}: its members cannot be managed here",
                org.key
            ),
            Retry::AwaitChange,
        ));
    }
    // Who manages the group is the claim on its descriptor (created by the DevOpsGroup that
    // manages it); whether that object created it, its ledger. Neither is tenant-writable.
    let url = &org.url;
    let holder = cx
        .claims
        .live_holder::<DevOpsGroup>(&Key::group(url, container))
        .await?;
    let creator = match holder {
        Some(h) if Some(h.namespace.as_str()) != namespace => {
            return Err(Error::new(
                Reason::Conflict,
                format!("the group is managed by {h} in another namespace"),
                Retry::Backoff,
            ));
        }
        Some(h) if h.kind == DevOpsGroup::kind(&()) => {
            let done = cx.ledger.read_uid(&h.uid).await?;
            done.group == Some((container.to_string(), Origin::Created))
        }
        _ => false,
    };
    // A group this namespace created needs the scope it lives in still granted; any other
    // group needs a grant naming it.
    if creator {
        cx.group_scope_granted(name).await?;
    } else {
        cx.granted().existing_group(name)?;
        if exclusive {
            cx.granted().exclusive_membership(name)?;
        }
    }
    Ok(())
}

fn mode(mode: MembershipMode) -> Mode {
    match mode {
        MembershipMode::Additive => Mode::Additive,
        MembershipMode::Exclusive => Mode::Exclusive,
    }
}

/// Under Observe: say what `Manage` would add and remove, and write nothing.
async fn observe(
    cx: &Cx<'_>,
    items: &[set_sync::Item<String>],
    plan: &Plan<String>,
    members: &resolve::CurrentMembers<'_>,
) -> Written<String> {
    for descriptor in &plan.add {
        let key = items
            .iter()
            .find(|i| i.resolved.as_ref().ok() == Some(descriptor))
            .map_or(descriptor.as_str(), |i| i.key.as_str());
        cx.would(format!("add member {key}"));
    }
    for descriptor in &plan.remove {
        cx.would(format!(
            "remove member {}",
            members.name_of(cx, descriptor).await
        ));
    }
    Written::observed(plan)
}

/// Add, then remove, one call per member (the client bounds the concurrency).
async fn write(client: &AdoClient, container: &str, plan: &Plan<String>) -> Written<String> {
    let adds = join_all(plan.add.iter().map(|d| client.add_member(d, container))).await;
    let removes = join_all(
        plan.remove
            .iter()
            .map(|d| client.remove_member(d, container)),
    )
    .await;
    let mut written = Written::default();
    for (descriptor, result) in plan.add.iter().zip(adds) {
        match result {
            Ok(()) => written.added.push(descriptor.clone()),
            Err(e) => written.add_failed.push((
                descriptor.clone(),
                Problem::from_ado("adding the member", Reason::NotFound, e),
            )),
        }
    }
    for (descriptor, result) in plan.remove.iter().zip(removes) {
        match result {
            Ok(()) => written.removed.push(descriptor.clone()),
            Err(e) => written.remove_error = Some(Error::ado("removing a member", e)),
        }
    }
    written
}

impl ItemStatus<String> for MemberStatus {
    fn of(member: String, descriptor: Option<String>, problem: Option<&Problem>) -> Self {
        let state = match problem.map(|p| p.state) {
            None => MemberState::Present,
            Some(ItemState::Pending) => MemberState::Pending,
            Some(ItemState::Failed) => MemberState::Failed,
        };
        let (reason, message) = set_sync::why(problem);
        MemberStatus {
            member,
            // An Observe stand-in is no descriptor.
            descriptor: descriptor.filter(|d| !d.starts_with(resolve::ABSENT)),
            state,
            reason,
            message,
        }
    }
}

impl DevOpsMembership {
    /// Events for what the writes changed in the group.
    async fn announce(&self, cx: &Cx<'_>, written: &Written<String>) {
        if !written.added.is_empty() {
            let note = format!("added {} member(s)", written.added.len());
            cx.publish(self, EventType::Normal, Reason::MembersAdded, note)
                .await;
        }
        if !written.removed.is_empty() {
            let note = format!("removed {} member(s)", written.removed.len());
            cx.publish(self, EventType::Normal, Reason::MembersRemoved, note)
                .await;
        }
    }
}

/// How memberships name their items in Ready messages.
const NOUNS: Nouns = Nouns {
    in_place: "members present",
    field: "status.members",
    several_failed: Reason::MembersFailed,
};
