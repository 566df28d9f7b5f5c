//! A membership's group and members, resolved to Graph descriptors.

use kube::runtime::reflector::ObjectRef;
use kube::Api;

use crate::ado::{EntraGroupKey, GraphSubject};
use crate::api::{DevOpsGroup, DevOpsMembership, GroupTarget, HasCommonStatus, LocalRef, Member};
use crate::controller::error::{Error, Retry};
use crate::controller::object_context::Cx;
use crate::controller::protection;
use crate::controller::set_sync::Problem;
use crate::controller::stored::Stored;
use crate::reason::Reason;

/// The group whose members are managed: its descriptor and principal name.
pub async fn container(
    m: &DevOpsMembership,
    cx: &Cx<'_>,
) -> Result<(String, Option<String>), Error> {
    let org = cx.org();
    let GroupTarget {
        group_ref,
        principal_name,
        descriptor,
    } = &m.spec.group;
    if let Some(reference) = group_ref {
        let descriptor = group_ref_descriptor(cx, reference).await.map_err(|p| {
            let retry = if p.transient {
                Retry::Backoff
            } else {
                Retry::Resync
            };
            Error::new(p.reason, p.message, retry)
        })?;
        return named(cx, descriptor).await;
    }
    let not_found = |what: &str| {
        Error::not_found(
            Reason::GroupNotFound,
            format!("group {what} does not exist"),
        )
    };
    if let Some(name) = principal_name {
        let group = org
            .client
            .resolve_group_by_principal_name(name)
            .await
            .map_err(|e| match e.is_not_found() {
                true => not_found(name),
                false => Error::ado(&format!("resolving group {name}"), e),
            })?;
        return Ok((
            group.descriptor,
            group.principal_name.or_else(|| Some(name.clone())),
        ));
    }
    if let Some(descriptor) = descriptor {
        return named(cx, descriptor.clone()).await;
    }
    Err(Error::invalid(
        "group must set groupRef, principalName or descriptor",
    ))
}

/// A group descriptor with its principal name as Azure DevOps reports it (cached briefly), never
/// as a status says: grants and protection judge that name.
async fn named(cx: &Cx<'_>, descriptor: String) -> Result<(String, Option<String>), Error> {
    // The protection check that follows needs the snapshot, which names every group.
    protection::warm(&cx.org().spec, &cx.org().client)
        .await
        .map_err(|e| Error::ado("reading the organization's protected groups", e))?;
    match cx.org().client.group_principal_name(&descriptor).await {
        Ok(Some(name)) => Ok((descriptor, Some(name))),
        Ok(None) => Err(Error::not_found(
            Reason::GroupNotFound,
            format!("group {descriptor} does not exist"),
        )),
        Err(e) => Err(Error::ado("reading the group", e)),
    }
}

/// One listed member's descriptor, or why it has none.
pub async fn member(member: &Member, cx: &Cx<'_>) -> Result<String, Problem> {
    let client = &cx.org().client;
    let missing = |reason, what: String| {
        move |e: crate::ado::AdoError| match e.is_not_found() {
            true => Problem::failed(reason, format!("{what} does not exist")),
            false => Problem::from_ado(&format!("resolving {what}"), reason, e),
        }
    };
    if let Some(upn) = &member.user {
        return client
            .resolve_user(upn)
            .await
            .map_err(|e| match e.is_not_found() {
                true => Problem::failed(
                    Reason::UserNotFound,
                    format!("user {upn} is not in the organization's directory"),
                ),
                false => {
                    Problem::from_ado(&format!("resolving user {upn}"), Reason::UserNotFound, e)
                }
            });
    }
    if let Some(id) = &member.entra_user {
        return client
            .resolve_entra_user(id)
            .await
            .map_err(missing(Reason::UserNotFound, format!("Entra user {id}")));
    }
    if let Some(id) = &member.entra_group {
        return client
            .materialize_entra_group(EntraGroupKey::ObjectId(id.clone()))
            .await
            .map(|g| g.descriptor)
            .map_err(missing(
                Reason::EntraGroupNotFound,
                format!("Entra group {id}"),
            ));
    }
    if let Some(id) = &member.service_principal {
        return client.resolve_service_principal(id).await.map_err(missing(
            Reason::ServicePrincipalNotFound,
            format!("service principal {id}"),
        ));
    }
    if let Some(name) = &member.group {
        return client
            .resolve_group_by_principal_name(name)
            .await
            .map(|g| g.descriptor)
            .map_err(missing(Reason::GroupNotFound, format!("group {name}")));
    }
    if let Some(reference) = &member.group_ref {
        return group_ref_descriptor(cx, reference).await;
    }
    if let Some(descriptor) = &member.descriptor {
        return Ok(descriptor.clone());
    }
    Err(Problem::failed(
        Reason::InvalidSpec,
        "the member sets no field",
    ))
}

/// Whether a DevOpsGroup is Ready for its generation, or observed with drift (the group may
/// exist and differ only in its description; whether it exists is the ledger's answer).
fn ready_group(group: &DevOpsGroup) -> bool {
    let generation = group.metadata.generation;
    let drifting = group
        .ready_condition()
        .is_some_and(|c| Reason::parse(&c.reason) == Some(Reason::DriftDetected))
        && group.common_status().and_then(|s| s.observed_generation) == generation;
    group.is_ready(generation) || drifting
}

/// The group a Ready DevOpsGroup manages, as the operator's ledger records it (its status is
/// writable by anyone granted `*/status` and only says whether to look).
async fn managed_by(cx: &Cx<'_>, group: &DevOpsGroup, name: &str) -> Result<String, Problem> {
    let done = cx.ledger.read(group).await.map_err(|e| {
        Problem::retry_soon(
            Reason::KubernetesApiError,
            format!("reading the ledger of {name}: {}", e.message),
        )
    })?;
    done.group.map(|(descriptor, _)| descriptor).ok_or_else(|| {
        Problem::pending(
            Reason::GroupNotReady,
            format!("waiting for {name} to manage a group"),
        )
    })
}

/// A DevOpsGroup of the same namespace that is Ready, as a descriptor. The cache answers when
/// it has the group Ready; otherwise the apiserver is asked, because the watch that woke this
/// reconcile (a DevOpsGroup that became Ready) is a different stream from the cache's and may
/// be ahead of it: answering from a stale cache would leave the membership waiting until its
/// next resync.
async fn group_ref_descriptor(cx: &Cx<'_>, reference: &LocalRef) -> Result<String, Problem> {
    let namespace = cx.namespace.as_str();
    let cached = cx
        .stores
        .groups
        .get(&ObjectRef::<Stored<DevOpsGroup>>::new(&reference.name).within(namespace));
    let name = format!("DevOpsGroup {namespace}/{}", reference.name);
    let cached = cached.as_deref().and_then(Stored::valid);
    if let Some(group) = cached.filter(|g| ready_group(g)) {
        return managed_by(cx, group, &name).await;
    }
    let live = Api::<DevOpsGroup>::namespaced(cx.kube.clone(), namespace)
        .get_opt(&reference.name)
        .await
        .map_err(|e| {
            Problem::retry_soon(Reason::KubernetesApiError, format!("reading {name}: {e}"))
        })?;
    let Some(group) = live else {
        return Err(Problem::pending(
            Reason::GroupNotFound,
            format!("{name} does not exist"),
        ));
    };
    if !ready_group(&group) {
        return Err(Problem::pending(
            Reason::GroupNotReady,
            format!("waiting for {name} to be Ready"),
        ));
    }
    managed_by(cx, &group, &name).await
}

/// Prefix of the stand-in identity, under Observe, of a listed member that is not in the group:
/// `Manage` would add it (materializing it first if needed), Observe does not look further.
pub const ABSENT: &str = "absent:";

/// The group's current members, as subjects, read once (one batch lookup) when first needed.
pub struct CurrentMembers<'c> {
    pub descriptors: &'c std::collections::BTreeSet<String>,
    subjects: tokio::sync::OnceCell<std::collections::HashMap<String, GraphSubject>>,
}

impl<'c> CurrentMembers<'c> {
    pub fn new(descriptors: &'c std::collections::BTreeSet<String>) -> Self {
        Self {
            descriptors,
            subjects: tokio::sync::OnceCell::new(),
        }
    }

    /// Every current member's subject (names, Entra object ids).
    pub async fn subjects(
        &self,
        cx: &Cx<'_>,
    ) -> Result<&std::collections::HashMap<String, GraphSubject>, Problem> {
        self.subjects
            .get_or_try_init(|| async {
                let all: Vec<String> = self.descriptors.iter().cloned().collect();
                cx.org().client.lookup_subjects(&all).await.map_err(|e| {
                    Problem::from_ado("reading the group's members", Reason::NotFound, e)
                })
            })
            .await
    }

    /// A member's principal name (or its descriptor), for drift messages.
    pub async fn name_of(&self, cx: &Cx<'_>, descriptor: &str) -> String {
        match self.subjects(cx).await {
            Ok(found) => found
                .get(descriptor)
                .and_then(|s| s.principal_name.clone().or(s.display_name.clone()))
                .unwrap_or_else(|| descriptor.to_string()),
            Err(_) => descriptor.to_string(),
        }
    }
}

/// Under Observe: a listed member's descriptor when it is in the group (matched on what Azure
/// DevOps reports of the current members: principal name, mail, Entra object id), else a
/// stand-in ([`ABSENT`]) that `Manage` would add. Nothing is materialized to find out: that is
/// a write. Groups (by name or reference) and descriptors resolve as under Manage (reads only).
pub async fn observed_member(
    member: &Member,
    cx: &Cx<'_>,
    current: &CurrentMembers<'_>,
) -> Result<String, Problem> {
    let same =
        |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    let wanted: Box<dyn Fn(&GraphSubject) -> bool + Send + Sync> = if let Some(upn) = &member.user {
        let upn = upn.clone();
        Box::new(move |s| same(&s.principal_name, &upn) || same(&s.mail_address, &upn))
    } else if let Some(id) = member
        .entra_user
        .as_ref()
        .or(member.entra_group.as_ref())
        .or(member.service_principal.as_ref())
    {
        let id = id.clone();
        Box::new(move |s| same(&s.origin_id, &id))
    } else {
        return self::member(member, cx).await;
    };
    let subjects = current.subjects(cx).await?;
    if let Some(found) = subjects.values().find(|s| wanted(s)) {
        return Ok(found.descriptor.clone());
    }
    Ok(without_writes(member, cx)
        .await?
        .unwrap_or_else(|| format!("{ABSENT}{}", member.key())))
}

/// A member's descriptor when Azure DevOps already has the identity, found without writing
/// (Observe): users by a subject query, Entra groups among the organization's groups, groups
/// and descriptors as under Manage. `None` for an identity the organization does not have yet,
/// and for Entra users and service principals (found by object id only by materializing them).
pub async fn without_writes(member: &Member, cx: &Cx<'_>) -> Result<Option<String>, Problem> {
    let client = &cx.org().client;
    if let Some(upn) = &member.user {
        return client
            .find_user(upn)
            .await
            .map(|found| found.map(|s| s.descriptor))
            .map_err(|e| {
                Problem::from_ado(&format!("looking up user {upn}"), Reason::UserNotFound, e)
            });
    }
    if let Some(id) = &member.entra_group {
        return client
            .find_entra_group(&EntraGroupKey::ObjectId(id.clone()))
            .await
            .map(|found| found.map(|g| g.descriptor))
            .map_err(|e| {
                Problem::from_ado(
                    &format!("looking up Entra group {id}"),
                    Reason::EntraGroupNotFound,
                    e,
                )
            });
    }
    if member.entra_user.is_some() || member.service_principal.is_some() {
        return Ok(None);
    }
    self::member(member, cx).await.map(Some)
}
