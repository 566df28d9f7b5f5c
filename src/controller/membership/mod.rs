//! Reconciler of `DevOpsMembership`, on the shared [set-sync core](super::set_sync): resolve the
//! group and the members to descriptors, read the group's direct members with one list call,
//! plan (Additive or Exclusive, failing closed), add and remove, and report per member.

mod resolve;
mod triggers;

pub use triggers::{referencing, refused_for_cycle};

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use futures::future::join_all;
use kube::runtime::events::EventType;
use kube::ResourceExt;

use crate::ado::AdoClient;
use crate::api::{
    DeletionPolicy, DevOpsMembership, DevOpsMembershipStatus, Member, MemberState, MemberStatus,
    MembershipMode,
};
use crate::reason::Reason;

use super::context::Context;
use super::cycles;
use super::error::{Error, Retry};
use super::organizations::OrgHandle;
use super::reconcile::{Ready, Reconciled};
use super::set_sync::{self, ItemState, Mode, Nouns, Plan, Previous, Problem, Settled, Written};

const NOUNS: Nouns = Nouns {
    in_place: "members present",
    field: "status.members",
    several_failed: Reason::MembersFailed,
};

#[async_trait]
impl Reconciled for DevOpsMembership {
    const FINALIZER: Option<&'static str> = Some("azdo.io/membership");

    async fn converge(
        &self,
        ctx: &Context,
        status: &mut DevOpsMembershipStatus,
    ) -> Result<Ready, Error> {
        let ns = self.namespace().unwrap_or_default();
        let org = ctx.organization(&self.spec.organization_ref, &ns).await?;
        let client = &org.client;
        let (container, container_name) = resolve::container(self, &org, ctx).await?;
        status.group_descriptor = Some(container.clone());
        status.group_principal_name = container_name.clone();
        may_manage(self, ctx, &org, &container, container_name.as_deref())?;

        let items = set_sync::resolve(
            set_sync::unique(&self.spec.members, Member::key),
            &previous_members(self),
            // Descriptors of users, Entra groups and service principals never change; a
            // DevOpsGroup reference is always read again.
            |member| member.group_ref.is_none(),
            |member| async {
                match resolve::member(member, &ns, client, ctx).await {
                    Ok(d) if d == container => Err(Problem::failed(
                        Reason::SelfMembership,
                        "a group cannot be a member of itself",
                    )),
                    other => other,
                }
            },
        )
        .await;
        let current = client
            .list_members(&container)
            .await
            .map(BTreeSet::from_iter)
            .map_err(|e| Error::ado("reading the group's members", e));
        let ours = added_before(self);
        let mut graph = None;
        let plan = set_sync::plan(
            &items,
            current.as_ref().ok(),
            &ours,
            mode(self.spec.mode),
            |descriptor| {
                let graph = graph.get_or_insert_with(|| cycles::declared(&ctx.stores, self));
                let chain = cycles::path(graph, descriptor, &container)?;
                let member = items
                    .iter()
                    .find(|i| i.resolved.as_ref().ok() == Some(descriptor))
                    .map_or(descriptor.as_str(), |i| i.key.as_str());
                let target = container_name.as_deref().unwrap_or(&container);
                let message = cycles::refusal(&ctx.stores, member, target, &chain);
                Some(Problem::failed(Reason::MembershipCycle, message))
            },
        );
        let current = current?;
        let written = write(client, &container, &plan).await;
        self.announce(ctx, &written).await;
        let settled = set_sync::settle(items, &plan, &written, Some(&current), ours);
        record(status, &settled);
        if let Some(err) = written.remove_error {
            return Err(err);
        }
        set_sync::ready(&settled, &NOUNS, plan.held_back)
    }

    async fn cleanup(&self, ctx: &Context) -> Result<(), Error> {
        if self.spec.deletion_policy == DeletionPolicy::Orphan {
            return Ok(());
        }
        let Some(status) = &self.status else {
            return Ok(());
        };
        let (Some(container), false) = (&status.group_descriptor, status.added.is_empty()) else {
            return Ok(());
        };
        let ns = self.namespace().unwrap_or_default();
        let Some(org) = ctx
            .organization_for_cleanup(&self.spec.organization_ref, &ns, "the members")
            .await?
        else {
            return Ok(());
        };
        let written = write(&org.client, container, &set_sync::undo(&added_before(self))).await;
        self.announce(ctx, &written).await;
        match written.remove_error {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}

/// Refuse a group this object may not manage: a protected one, or one a DevOpsGroup in another
/// namespace manages.
fn may_manage(
    m: &DevOpsMembership,
    ctx: &Context,
    org: &OrgHandle,
    container: &str,
    container_name: Option<&str>,
) -> Result<(), Error> {
    if let Some(name) = container_name.filter(|name| org.spec.is_protected(name)) {
        return Err(Error::new(
            Reason::ProtectedGroup,
            format!(
                "{name} is protected in {}: its members cannot be managed here",
                org.spec.key
            ),
            Retry::AwaitChange,
        ));
    }
    let ns = m.namespace();
    let owner = ctx
        .stores
        .groups
        .state()
        .into_iter()
        .filter(|g| g.namespace() != ns)
        .find(|g| g.status.as_ref().and_then(|s| s.descriptor.as_deref()) == Some(container));
    match owner {
        Some(g) => Err(Error::new(
            Reason::Conflict,
            format!(
                "the group is managed by DevOpsGroup {}/{} in another namespace",
                g.namespace().unwrap_or_default(),
                g.name_any()
            ),
            Retry::Resync,
        )),
        None => Ok(()),
    }
}

fn mode(mode: MembershipMode) -> Mode {
    match mode {
        MembershipMode::Additive => Mode::Additive,
        MembershipMode::Exclusive => Mode::Exclusive,
    }
}

/// Each listed member's descriptor at the last reconcile; settled when it was Present.
fn previous_members(m: &DevOpsMembership) -> HashMap<String, Previous<String>> {
    let Some(status) = &m.status else {
        return HashMap::new();
    };
    status
        .members
        .iter()
        .filter_map(|ms| {
            let id = ms.descriptor.clone()?;
            let settled = ms.state == MemberState::Present;
            Some((ms.member.clone(), Previous { id, settled }))
        })
        .collect()
}

/// The descriptors this object added to the group.
fn added_before(m: &DevOpsMembership) -> BTreeSet<String> {
    m.status
        .iter()
        .flat_map(|s| s.added.iter().cloned())
        .collect()
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

/// The status of each listed member, the summary and the ledger.
fn record(status: &mut DevOpsMembershipStatus, settled: &Settled<String>) {
    status.added = settled.ours.iter().cloned().collect();
    status.members = settled
        .items
        .iter()
        .map(|(member, descriptor, problem)| MemberStatus {
            member: member.clone(),
            descriptor: descriptor.clone(),
            state: match problem.as_ref().map(|p| p.state) {
                None => MemberState::Present,
                Some(ItemState::Pending) => MemberState::Pending,
                Some(ItemState::Failed) => MemberState::Failed,
            },
            reason: problem.as_ref().map(|p| p.reason.as_str().into()),
            message: problem.as_ref().map(|p| p.message.clone()),
        })
        .collect();
    status.summary = Some(format!("{}/{}", settled.in_place(), settled.items.len()));
}

impl DevOpsMembership {
    /// Events for what the writes changed in the group.
    async fn announce(&self, ctx: &Context, written: &Written<String>) {
        if !written.added.is_empty() {
            let note = format!("added {} member(s)", written.added.len());
            ctx.publish(self, EventType::Normal, Reason::MembersAdded, note)
                .await;
        }
        if !written.removed.is_empty() {
            let note = format!("removed {} member(s)", written.removed.len());
            ctx.publish(self, EventType::Normal, Reason::MembersRemoved, note)
                .await;
        }
    }
}
