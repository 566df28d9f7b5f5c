//! Reconciler of `DevOpsMembership`: resolve the group and the members to descriptors, read the
//! current members with one list call, add what is missing and remove what the mode says.
//! Exclusive mode fails closed: nothing is removed unless every listed member resolved and the
//! read succeeded.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;
use kube::runtime::events::EventType;
use kube::runtime::reflector::ObjectRef;
use kube::{Api, ResourceExt};

use crate::ado::{AdoClient, AdoError, EntraGroupKey};
use crate::api::{
    DeletionPolicy, DevOpsGroup, DevOpsMembership, DevOpsMembershipStatus, GroupTarget,
    HasCommonStatus, LocalRef, Member, MemberState, MemberStatus, MembershipMode,
};

use super::context::Context;
use super::cycles;
use super::error::{Error, Retry};
use super::organization_registry::OrgHandle;
use super::reconcile::{Outcome, Ready, Reconciled};

/// Why a member has no descriptor.
#[derive(Debug, Clone)]
struct Problem {
    state: MemberState,
    reason: &'static str,
    message: String,
    transient: bool,
}

impl Problem {
    fn failed(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            state: MemberState::Failed,
            reason,
            message: message.into(),
            transient: false,
        }
    }

    fn pending(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            state: MemberState::Pending,
            reason,
            message: message.into(),
            transient: false,
        }
    }

    fn from_ado(what: &str, err: AdoError) -> Self {
        let transient = err.is_transient();
        let reason = if err.is_not_found() {
            "NotFound"
        } else {
            err.reason()
        };
        Self {
            state: MemberState::Failed,
            reason,
            message: format!("{what}: {err}"),
            transient,
        }
    }
}

/// The descriptor and principal name of a DevOpsGroup that is Ready for its generation.
fn ready_group(group: &DevOpsGroup) -> Option<(String, Option<String>)> {
    let status = group.status.as_ref()?;
    let descriptor = status.descriptor.clone()?;
    group
        .is_ready(group.metadata.generation)
        .then(|| (descriptor, status.principal_name.clone()))
}

/// A DevOpsGroup of the same namespace that is Ready, as a descriptor. The cache answers when
/// it has the group Ready; otherwise the apiserver is asked, because the watch that woke this
/// reconcile (a DevOpsGroup that became Ready) is a different stream from the cache's and may
/// be ahead of it: answering from a stale cache would leave the membership waiting until its
/// next resync.
async fn group_ref_descriptor(
    ctx: &Context,
    namespace: &str,
    reference: &LocalRef,
) -> Result<(String, Option<String>), Problem> {
    let cached = ctx
        .stores
        .groups
        .get(&ObjectRef::<DevOpsGroup>::new(&reference.name).within(namespace));
    if let Some(ready) = cached.as_deref().and_then(ready_group) {
        return Ok(ready);
    }
    let live = Api::<DevOpsGroup>::namespaced(ctx.kube.clone(), namespace)
        .get_opt(&reference.name)
        .await
        .map_err(|e| Problem {
            state: MemberState::Pending,
            reason: "KubernetesApiError",
            message: format!("reading DevOpsGroup {namespace}/{}: {e}", reference.name),
            transient: true,
        })?;
    let Some(group) = live else {
        return Err(Problem::pending(
            "GroupNotFound",
            format!("DevOpsGroup {namespace}/{} does not exist", reference.name),
        ));
    };
    ready_group(&group).ok_or_else(|| {
        Problem::pending(
            "GroupNotReady",
            format!(
                "waiting for DevOpsGroup {namespace}/{} to be Ready",
                reference.name
            ),
        )
    })
}

async fn resolve_member(
    member: &Member,
    namespace: &str,
    client: &AdoClient,
    ctx: &Context,
) -> Result<String, Problem> {
    if let Some(upn) = &member.user {
        return client
            .resolve_user(upn)
            .await
            .map(|s| s.descriptor)
            .map_err(|e| match e.is_not_found() {
                true => Problem::failed(
                    "UserNotFound",
                    format!("user {upn} is not in the organization's directory"),
                ),
                false => Problem::from_ado(&format!("resolving user {upn}"), e),
            });
    }
    if let Some(id) = &member.entra_user {
        return client
            .resolve_entra_user(id)
            .await
            .map(|s| s.descriptor)
            .map_err(|e| match e.is_not_found() {
                true => Problem::failed("UserNotFound", format!("Entra user {id} does not exist")),
                false => Problem::from_ado(&format!("resolving Entra user {id}"), e),
            });
    }
    if let Some(id) = &member.entra_group {
        return client
            .materialize_entra_group(EntraGroupKey::ObjectId(id.clone()))
            .await
            .map(|g| g.descriptor)
            .map_err(|e| match e.is_not_found() {
                true => Problem::failed(
                    "EntraGroupNotFound",
                    format!("Entra group {id} does not exist"),
                ),
                false => Problem::from_ado(&format!("materializing Entra group {id}"), e),
            });
    }
    if let Some(id) = &member.service_principal {
        return client
            .resolve_service_principal(id)
            .await
            .map(|s| s.descriptor)
            .map_err(|e| match e.is_not_found() {
                true => Problem::failed(
                    "ServicePrincipalNotFound",
                    format!("service principal {id} does not exist"),
                ),
                false => Problem::from_ado(&format!("resolving service principal {id}"), e),
            });
    }
    if let Some(name) = &member.group {
        return client
            .resolve_group_by_principal_name(name)
            .await
            .map(|g| g.descriptor)
            .map_err(|e| match e.is_not_found() {
                true => Problem::failed("GroupNotFound", format!("group {name} does not exist")),
                false => Problem::from_ado(&format!("resolving group {name}"), e),
            });
    }
    if let Some(reference) = &member.group_ref {
        return group_ref_descriptor(ctx, namespace, reference)
            .await
            .map(|(d, _)| d);
    }
    if let Some(descriptor) = &member.descriptor {
        return Ok(descriptor.clone());
    }
    Err(Problem::failed("InvalidSpec", "the member sets no field"))
}

/// The container group's descriptor and principal name.
async fn resolve_container(
    m: &DevOpsMembership,
    org: &OrgHandle,
    ctx: &Context,
) -> Result<(String, Option<String>), Error> {
    let ns = m.namespace().unwrap_or_default();
    let GroupTarget {
        group_ref,
        principal_name,
        descriptor,
    } = &m.spec.group;
    if let Some(reference) = group_ref {
        return group_ref_descriptor(ctx, &ns, reference)
            .await
            .map_err(|p| {
                let retry = if p.transient {
                    Retry::Backoff
                } else {
                    Retry::Resync
                };
                Error::new(p.reason, p.message, retry)
            });
    }
    if let Some(name) = principal_name {
        let group = org
            .client
            .resolve_group_by_principal_name(name)
            .await
            .map_err(|e| match e.is_not_found() {
                true => Error::not_found("GroupNotFound", format!("group {name} does not exist")),
                false => Error::ado(&format!("resolving group {name}"), e),
            })?;
        return Ok((
            group.descriptor,
            group.principal_name.or_else(|| Some(name.clone())),
        ));
    }
    if let Some(descriptor) = descriptor {
        let known = m
            .status
            .as_ref()
            .filter(|s| s.group_descriptor.as_deref() == Some(descriptor.as_str()));
        if let Some(name) = known.and_then(|s| s.group_principal_name.clone()) {
            return Ok((descriptor.clone(), Some(name)));
        }
        let group = org
            .client
            .get_group(descriptor)
            .await
            .map_err(|e| match e.is_not_found() {
                true => Error::not_found(
                    "GroupNotFound",
                    format!("group {descriptor} does not exist"),
                ),
                false => Error::ado("reading the group", e),
            })?;
        return Ok((group.descriptor, group.principal_name));
    }
    Err(Error::invalid(
        "group must set groupRef, principalName or descriptor",
    ))
}

/// A group's principal name, as far as the caches know it.
fn group_name(ctx: &Context, descriptor: &str) -> String {
    let managed = ctx.stores.groups.state().into_iter().find_map(|g| {
        let status = g.status.as_ref()?;
        (status.descriptor.as_deref() == Some(descriptor))
            .then(|| status.principal_name.clone())
            .flatten()
    });
    managed
        .or_else(|| {
            ctx.stores.memberships.state().into_iter().find_map(|m| {
                let status = m.status.as_ref()?;
                (status.group_descriptor.as_deref() == Some(descriptor))
                    .then(|| status.group_principal_name.clone())
                    .flatten()
            })
        })
        .unwrap_or_else(|| descriptor.to_string())
}

/// Why adding `member` to `container` is refused: the chain by which it already contains it.
fn cycle_message(
    ctx: &Context,
    member: &str,
    container: &str,
    chain: &[(String, cycles::Edge)],
) -> String {
    let hops: Vec<String> = chain
        .iter()
        .map(|(from, edge)| {
            format!(
                "{} contains {} (DevOpsMembership {})",
                group_name(ctx, from),
                group_name(ctx, &edge.member),
                edge.via
            )
        })
        .collect();
    format!(
        "adding {member} to {container} would make a cycle of group memberships: {}",
        hops.join(", ")
    )
}

/// A DevOpsGroup in another namespace that manages `descriptor`, if any.
fn managed_elsewhere(ctx: &Context, namespace: &str, descriptor: &str) -> Option<String> {
    ctx.stores
        .groups
        .state()
        .into_iter()
        .filter(|g| g.namespace().as_deref() != Some(namespace))
        .find(|g| g.status.as_ref().and_then(|s| s.descriptor.as_deref()) == Some(descriptor))
        .map(|g| format!("{}/{}", g.namespace().unwrap_or_default(), g.name_any()))
}

async fn converge(
    m: &DevOpsMembership,
    ctx: &Context,
    status: &mut DevOpsMembershipStatus,
) -> Result<Ready, Error> {
    let ns = m.namespace().unwrap_or_default();
    let org = ctx.organization(&m.spec.organization_ref, &ns).await?;
    let client = &org.client;
    let (container, container_name) = resolve_container(m, &org, ctx).await?;
    status.group_descriptor = Some(container.clone());
    status.group_principal_name = container_name.clone();
    if let Some(name) = &container_name {
        if org.spec.is_protected(name) {
            return Err(Error::new(
                "ProtectedGroup",
                format!(
                    "{name} is protected in {}: its members cannot be managed here",
                    org.spec.key
                ),
                Retry::AwaitChange,
            ));
        }
    }
    if let Some(owner) = managed_elsewhere(ctx, &ns, &container) {
        return Err(Error::new(
            "Conflict",
            format!("the group is managed by DevOpsGroup {owner} in another namespace"),
            Retry::Resync,
        ));
    }

    // Resolve every listed member (deduplicated), concurrently; the client bounds the calls.
    let mut members: Vec<&Member> = Vec::new();
    let mut seen = BTreeSet::new();
    for member in &m.spec.members {
        if seen.insert(member.key()) {
            members.push(member);
        }
    }
    // Members that were Present at the last reconcile keep their descriptor (descriptors of
    // users, Entra groups and service principals never change), so a steady-state resync
    // costs no lookups. DevOpsGroup references always come from the live object.
    let known: HashMap<String, String> = m
        .status
        .as_ref()
        .map(|s| {
            s.members
                .iter()
                .filter(|ms| ms.state == MemberState::Present)
                .filter_map(|ms| ms.descriptor.clone().map(|d| (ms.member.clone(), d)))
                .collect()
        })
        .unwrap_or_default();
    let resolved: Vec<Result<String, Problem>> = join_all(members.iter().map(|member| async {
        match known.get(&member.key()) {
            Some(descriptor) if member.group_ref.is_none() => Ok(descriptor.clone()),
            _ => resolve_member(member, &ns, client, ctx).await,
        }
    }))
    .await;
    let resolved: Vec<Result<String, Problem>> = resolved
        .into_iter()
        .map(|r| match r {
            Ok(d) if d == container => Err(Problem::failed(
                "SelfMembership",
                "a group cannot be a member of itself",
            )),
            other => other,
        })
        .collect();
    let previous: HashMap<String, String> = m
        .status
        .as_ref()
        .map(|s| {
            s.members
                .iter()
                .filter_map(|ms| ms.descriptor.clone().map(|d| (ms.member.clone(), d)))
                .collect()
        })
        .unwrap_or_default();

    // One read of the group's direct members. If it fails nothing is added or removed.
    let current: BTreeSet<String> = client
        .list_members(&container)
        .await
        .map_err(|e| Error::ado("reading the group's members", e))?
        .into_iter()
        .collect();

    let desired: BTreeSet<String> = resolved
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    let mut added: BTreeSet<String> = m
        .status
        .as_ref()
        .map(|s| s.added.iter().cloned().collect())
        .unwrap_or_default();
    let mut add_errors: HashMap<String, Problem> = HashMap::new();
    let mut to_add: Vec<&String> = desired.difference(&current).collect();
    if !to_add.is_empty() {
        let graph = cycles::declared(&ctx.stores, m);
        to_add.retain(|d| match cycles::path(&graph, d, &container) {
            None => true,
            Some(chain) => {
                let member = members
                    .iter()
                    .zip(&resolved)
                    .find(|(_, r)| r.as_ref().ok() == Some(*d))
                    .map(|(member, _)| member.key())
                    .unwrap_or_else(|| (*d).clone());
                let message = cycle_message(
                    ctx,
                    &member,
                    container_name.as_deref().unwrap_or(&container),
                    &chain,
                );
                add_errors.insert((*d).clone(), Problem::failed("MembershipCycle", message));
                false
            }
        });
    }
    let results = join_all(to_add.iter().map(|d| client.add_member(d, &container))).await;
    let mut now_present = current.clone();
    for (descriptor, result) in to_add.iter().zip(results) {
        match result {
            Ok(()) => {
                added.insert((*descriptor).clone());
                now_present.insert((*descriptor).clone());
            }
            Err(e) => {
                add_errors.insert(
                    (*descriptor).clone(),
                    Problem::from_ado("adding the member", e),
                );
            }
        }
    }
    if !to_add.is_empty() {
        let n = to_add.len() - add_errors.len();
        if n > 0 {
            ctx.publish(
                m,
                EventType::Normal,
                "MembersAdded",
                format!("added {n} member(s)"),
            )
            .await;
        }
    }

    // Removals. Members that did not resolve keep the descriptor they had, so they are never
    // removed because of a lookup failure.
    let unresolved = resolved.iter().any(|r| r.is_err());
    let mut keep = desired.clone();
    for (member, r) in members.iter().zip(&resolved) {
        if r.is_err() {
            if let Some(d) = previous.get(&member.key()) {
                keep.insert(d.clone());
            }
        }
    }
    let to_remove: Vec<String> = match m.spec.mode {
        MembershipMode::Additive => added
            .iter()
            .filter(|d| current.contains(*d) && !keep.contains(*d))
            .cloned()
            .collect(),
        MembershipMode::Exclusive if unresolved => Vec::new(),
        MembershipMode::Exclusive => current
            .iter()
            .filter(|d| !keep.contains(*d))
            .cloned()
            .collect(),
    };
    let results = join_all(
        to_remove
            .iter()
            .map(|d| client.remove_member(d, &container)),
    )
    .await;
    let mut remove_error: Option<Error> = None;
    let mut removed = 0;
    for (descriptor, result) in to_remove.iter().zip(results) {
        match result {
            Ok(()) => {
                added.remove(descriptor);
                now_present.remove(descriptor);
                removed += 1;
            }
            Err(e) => remove_error = Some(Error::ado("removing a member", e)),
        }
    }
    if removed > 0 {
        ctx.publish(
            m,
            EventType::Normal,
            "MembersRemoved",
            format!("removed {removed} member(s)"),
        )
        .await;
    }
    // Forget what left the group by other means and is no longer listed.
    added.retain(|d| now_present.contains(d) || keep.contains(d));
    status.added = added.into_iter().collect();

    // Per-member status.
    status.members = members
        .iter()
        .zip(&resolved)
        .map(|(member, r)| match r {
            Ok(d) => match add_errors.get(d) {
                Some(p) => MemberStatus {
                    member: member.key(),
                    descriptor: Some(d.clone()),
                    state: p.state,
                    reason: Some(p.reason.into()),
                    message: Some(p.message.clone()),
                },
                None => MemberStatus {
                    member: member.key(),
                    descriptor: Some(d.clone()),
                    state: MemberState::Present,
                    reason: None,
                    message: None,
                },
            },
            Err(p) => MemberStatus {
                member: member.key(),
                descriptor: previous.get(&member.key()).cloned(),
                state: p.state,
                reason: Some(p.reason.into()),
                message: Some(p.message.clone()),
            },
        })
        .collect();
    let present = status
        .members
        .iter()
        .filter(|s| s.state == MemberState::Present)
        .count();
    status.summary = Some(format!("{present}/{}", status.members.len()));

    if let Some(err) = remove_error {
        return Err(err);
    }
    let problems: Vec<&Problem> = resolved
        .iter()
        .filter_map(|r| r.as_ref().err())
        .chain(add_errors.values())
        .collect();
    if let Some(first) = problems.first() {
        let transient = problems.iter().any(|p| p.transient);
        let pending_only = problems.iter().all(|p| p.state == MemberState::Pending);
        let mut message = format!(
            "{present}/{} members present; {}",
            status.members.len(),
            first.message
        );
        if problems.len() > 1 {
            message.push_str(&format!(
                " (and {} more problem(s), see status.members)",
                problems.len() - 1
            ));
        }
        if m.spec.mode == MembershipMode::Exclusive && unresolved {
            message.push_str("; Exclusive mode removes nothing until every member resolves");
        }
        let retry = if transient {
            Retry::Backoff
        } else {
            Retry::Resync
        };
        let reason = if pending_only || problems.len() == 1 {
            first.reason
        } else {
            "MembersFailed"
        };
        return Err(Error::new(reason, message, retry));
    }
    Ok(Ready::new(
        "Synced",
        format!("{present}/{present} members present"),
    ))
}

#[async_trait]
impl Reconciled for DevOpsMembership {
    const KIND: &'static str = "DevOpsMembership";
    const FINALIZER: Option<&'static str> = Some("azdo.io/membership");

    fn api(kube: kube::Client, namespace: Option<&str>) -> kube::Api<Self> {
        kube::Api::namespaced(kube, namespace.unwrap_or("default"))
    }

    async fn apply(self: Arc<Self>, ctx: &Context) -> Outcome<Self::Status> {
        let mut status = self.status.clone().unwrap_or_default();
        let result = converge(&self, ctx, &mut status).await;
        Outcome { status, result }
    }

    async fn cleanup(self: Arc<Self>, ctx: &Context) -> Result<(), Error> {
        if self.spec.deletion_policy == DeletionPolicy::Orphan {
            return Ok(());
        }
        let Some(status) = &self.status else {
            return Ok(());
        };
        let Some(container) = &status.group_descriptor else {
            return Ok(());
        };
        if status.added.is_empty() {
            return Ok(());
        }
        let ns = self.namespace().unwrap_or_default();
        let Some(org) = ctx
            .organization_for_cleanup(&self.spec.organization_ref, &ns, "the members")
            .await?
        else {
            return Ok(());
        };
        let results = join_all(
            status
                .added
                .iter()
                .map(|d| org.client.remove_member(d, container)),
        )
        .await;
        if let Some(err) = results.into_iter().find_map(Result::err) {
            return Err(Error::ado("removing the members this object added", err));
        }
        ctx.publish(
            &*self,
            EventType::Normal,
            "MembersRemoved",
            format!(
                "removed the {} member(s) this object added",
                status.added.len()
            ),
        )
        .await;
        Ok(())
    }
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
                .is_some_and(|c| c.reason == "MembershipCycle")
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
