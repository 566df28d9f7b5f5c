//! Reconciler of `DevOpsGroup`: create or adopt the group, repair drift, recreate it when it was
//! deleted out of band, and delete it per `deletionPolicy` (under Observe: `observe.rs`).

mod observe;

use async_trait::async_trait;
use kube::runtime::events::EventType;

use crate::ado::{AdoClient, EntraGroupKey, GraphGroup};
use crate::api::{DevOpsGroup, DevOpsGroupStatus};
use crate::reason::Reason;

use super::claims::Key;
use super::error::{Error, Retry};
use super::ledger::{Entry, Origin};
use super::object_context::Cx;
use super::protection;
use super::reconcile::{Ready, Reconciled};

#[async_trait]
impl Reconciled for DevOpsGroup {
    async fn converge(&self, ctx: &Cx<'_>, status: &mut Self::Status) -> Result<Ready, Error> {
        let org = ctx.org();
        if let Some(name) = &self.spec.display_name {
            if org.spec.is_protected(name) {
                return Err(Error::new(
                    Reason::ProtectedGroup,
                    format!("{name:?} is protected in {}: the organization's protectedGroups must leave it out before objects can manage it", org.spec.key),
                    Retry::AwaitChange,
                ));
            }
        }
        // What this object manages comes from the operator's ledger, never from its status.
        let before = ctx.ledger.read(self).await?;
        let mut entry = before.clone();
        // An observed group is looked for again under Manage (and adopted, if granted).
        if !ctx.observing()
            && entry
                .group
                .as_ref()
                .is_some_and(|(_, o)| *o == Origin::Observed)
        {
            entry.group = None;
        }
        let result = match (&self.spec.display_name, &self.spec.entra_group) {
            (Some(name), _) if ctx.observing() => {
                observe::azure_devops_group(self, name, status, &mut entry, ctx).await
            }
            (Some(name), _) => {
                apply_azure_devops_group(self, name, &org.client, status, &mut entry, ctx).await
            }
            (None, Some(entra)) => {
                let key = match (&entra.object_id, &entra.mail_address) {
                    (Some(id), _) => EntraGroupKey::ObjectId(id.clone()),
                    (None, Some(mail)) => EntraGroupKey::Mail(mail.clone()),
                    (None, None) => {
                        return Err(Error::invalid("entraGroup needs objectId or mailAddress"))
                    }
                };
                match ctx.observing() {
                    true => observe::entra_group(self, key, status, &mut entry, ctx).await,
                    false => {
                        apply_entra_group(self, key, &org.client, status, &mut entry, ctx).await
                    }
                }
            }
            (None, None) => Err(Error::invalid("set displayName or entraGroup")),
        };
        ctx.ledger.write(self, &before, &entry).await?;
        result
    }

    async fn cleanup(&self, ctx: &Cx<'_>) -> Result<(), Error> {
        let done = ctx.ledger.read(self).await?;
        let Some((descriptor, origin)) = &done.group else {
            return Ok(()); // it never got to manage a group
        };
        if *origin == Origin::Observed {
            return Ok(()); // it only ever observed the group
        }
        let built_in = self.spec.display_name.as_deref().is_some_and(is_built_in);
        let left = match origin {
            _ if built_in => Some("a built-in group; it is never deleted"),
            Origin::Adopted if !ctx.granted().delete_adopted_groups() => Some(
                "adopted, not created, by this object; it is left in place (a grant may allow deleteAdoptedGroups)",
            ),
            _ => None,
        };
        if let Some(why) = left {
            let note = format!("{descriptor} is {why}");
            ctx.publish(self, EventType::Normal, Reason::Orphaned, note)
                .await;
            return Ok(());
        }
        if protection::leave_protected(ctx, self, descriptor, None, "it is not deleted").await? {
            return Ok(());
        }
        ctx.org()
            .client
            .delete_group(descriptor)
            .await
            .map_err(|e| Error::ado("deleting the group", e))?;
        let note = format!("deleted group {descriptor}");
        ctx.publish(self, EventType::Normal, Reason::Deleted, note)
            .await;
        Ok(())
    }
}

/// Groups every project or organization has from birth: adopted like any other, never deleted.
const BUILT_IN_GROUPS: [&str; 12] = [
    "Project Collection Administrators",
    "Project Collection Build Administrators",
    "Project Collection Build Service Accounts",
    "Project Collection Proxy Service Accounts",
    "Project Collection Service Accounts",
    "Project Collection Test Service Accounts",
    "Project Collection Valid Users",
    "Project Administrators",
    "Contributors",
    "Readers",
    "Build Administrators",
    "Project Valid Users",
];

fn is_built_in(name: &str) -> bool {
    BUILT_IN_GROUPS
        .iter()
        .any(|b| b.eq_ignore_ascii_case(name.trim()))
}

/// The Ready condition of a group that matches its spec. It reads the same whatever this
/// reconcile did (created, adopted, repaired: the Events say that), so the reconcile that the
/// status write itself triggers finds nothing to change and writes nothing.
fn in_sync(group: &GraphGroup, display_name: &str) -> Ready {
    Ready::new(
        Reason::Synced,
        format!(
            "group {} is in sync",
            group.principal_name.as_deref().unwrap_or(display_name)
        ),
    )
}

/// The Ready condition of a materialized Entra group (stable, like [`in_sync`]).
fn materialized(group: &GraphGroup) -> Ready {
    Ready::new(
        Reason::Synced,
        format!(
            "Entra group {} is materialized in the organization",
            group.display_name
        ),
    )
}

fn record(status: &mut DevOpsGroupStatus, group: &GraphGroup) {
    status.descriptor = Some(group.descriptor.clone());
    status.principal_name = group.principal_name.clone();
    status.origin_id = group.origin_id.clone();
}

async fn apply_azure_devops_group(
    group: &DevOpsGroup,
    display_name: &str,
    client: &AdoClient,
    status: &mut DevOpsGroupStatus,
    entry: &mut Entry,
    ctx: &Cx<'_>,
) -> Result<Ready, Error> {
    let url = ctx.org().spec.url.clone();
    let (scope, project_id) = match &group.spec.project {
        Some(project) => {
            let found = ctx.project(project).await?;
            ctx.granted().project(&found)?;
            status.project_id = Some(found.id.clone());
            let scope = client
                .project_scope_descriptor(&found.id)
                .await
                .map_err(|e| Error::ado(&format!("reading the scope of project {project:?}"), e))?;
            (Some(scope), Some(found.id))
        }
        None => {
            ctx.granted().organization_scope()?;
            (None, None)
        }
    };
    // The name in its scope, claimed before a create: of two objects creating one group,
    // however spelled, one goes on and the other is a Conflict that wrote nothing.
    let name_key = Key::group_name(&url, project_id.as_deref(), display_name);
    if let Some((descriptor, origin)) = entry.group.clone() {
        match client.get_group(&descriptor).await {
            Ok(existing) if !existing.is_deleted => {
                if !lives_in(&existing, project_id.as_deref()) {
                    return Err(Error::invalid(format!(
                        "{} lives in another scope than spec.project names: a group does not move between projects (restore spec.project, or create a new DevOpsGroup)",
                        principal_name(&existing, display_name)
                    )));
                }
                let updated = repair(group, &existing, origin, &name_key, entry, ctx).await?;
                let group_key = Key::group(&url, &existing.descriptor);
                ctx.claims
                    .release_others(group, entry, &[&name_key, &group_key])
                    .await?;
                let now = updated.as_ref().unwrap_or(&existing);
                record(status, now);
                // From the ledger, not the status: a reconcile that recorded the adoption but
                // failed before writing its status left `adopted` unset there.
                status.adopted = origin == Origin::Adopted;
                return Ok(in_sync(now, display_name));
            }
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(Error::ado("reading the group", e)),
        }
        ctx.publish(
            group,
            EventType::Warning,
            Reason::DeletedOutOfBand,
            format!("group {descriptor} was deleted outside the operator; recreating it"),
        )
        .await;
        status.descriptor = None;
        status.adopted = false;
        entry.group = None;
    }
    let (found, origin) =
        find_or_create(group, display_name, scope.as_deref(), &name_key, entry, ctx).await?;
    entry.group = Some((found.descriptor.clone(), origin));
    let group_key = Key::group(&url, &found.descriptor);
    ctx.claims
        .release_others(group, entry, &[&name_key, &group_key])
        .await?;
    record(status, &found);
    status.adopted = origin == Origin::Adopted;
    let (reason, verb) = match origin {
        Origin::Adopted => (Reason::Adopted, "adopted existing"),
        _ => (Reason::Created, "created"),
    };
    let note = format!("{verb} group {}", principal_name(&found, display_name));
    ctx.publish(group, EventType::Normal, reason, note).await;
    let description = group.spec.description.as_deref();
    match description.filter(|d| found.description.as_deref().unwrap_or("") != *d) {
        Some(d) if origin == Origin::Adopted => {
            let updated = client
                .update_group(&found.descriptor, None, Some(d))
                .await
                .map_err(|e| Error::ado("setting the adopted group's description", e))?;
            record(status, &updated);
            Ok(in_sync(&updated, display_name))
        }
        _ => Ok(in_sync(&found, display_name)),
    }
}

/// The group of that name in `scope`, adopted if it exists (never recorded as created: the
/// scope is listed, never searched, before creating, because the search can lag behind a recent
/// create; concurrent creates share one listing begun after they asked), created otherwise (its
/// name claimed first); claimed by descriptor either way. The grants are checked before any
/// claim, so an object refused holds none.
async fn find_or_create(
    group: &DevOpsGroup,
    display_name: &str,
    scope: Option<&str>,
    name_key: &Key,
    entry: &mut Entry,
    ctx: &Cx<'_>,
) -> Result<(GraphGroup, Origin), Error> {
    let (client, url) = (&ctx.org().client, &ctx.org().spec.url);
    let lookup = |e| Error::ado("looking for an existing group of that name", e);
    let existing = client
        .find_group_exhaustive(scope, display_name)
        .await
        .map_err(lookup)?;
    if let Some(existing) = existing {
        protection::refuse_group(ctx, &existing).await?;
        // The group this object set out to create (the create's answer was lost, or it failed
        // after landing): the scope was listed empty just before, so it is this object's own.
        if entry.creating.as_deref() == Some(name_key.as_str()) {
            ctx.claims
                .take(group, entry, &Key::group(url, &existing.descriptor))
                .await?;
            entry.creating = None;
            return Ok((existing, Origin::Created));
        }
        // Another object's group is a Conflict whatever this namespace was granted.
        ctx.claims
            .refuse_held(group, &Key::group(url, &existing.descriptor))
            .await?;
        ctx.granted()
            .existing_group(principal_name(&existing, display_name))?;
        ctx.claims
            .take(group, entry, &Key::group(url, &existing.descriptor))
            .await?;
        return Ok((existing, Origin::Adopted));
    }
    ctx.claims.take(group, entry, name_key).await?;
    // The intent is recorded before the create is sent, so a create whose answer is lost is
    // still known as this object's at the next attempt.
    entry.creating = Some(name_key.as_str().to_string());
    ctx.ledger.write(group, &Entry::default(), entry).await?;
    let created = client
        .create_group(scope, display_name, group.spec.description.as_deref())
        .await
        .map_err(|e| Error::ado("creating the group", e))?;
    // The service may answer a create with an existing group: one another object already
    // claimed stays theirs, and a protected one is refused.
    ctx.claims
        .take(group, entry, &Key::group(url, &created.descriptor))
        .await?;
    protection::refuse_group(ctx, &created).await?;
    entry.creating = None;
    Ok((created, Origin::Created))
}

/// Whether a group lives in the project `project_id` (or at organization scope for `None`), as
/// its domain (`vstfs:///Classification/TeamProject/{projectId}`) says. A group without a domain
/// is taken at its word.
fn lives_in(group: &GraphGroup, project_id: Option<&str>) -> bool {
    let in_project = group
        .domain
        .as_deref()
        .and_then(|d| d.split_once("/TeamProject/"))
        .map(|(_, id)| id.trim_matches('/'));
    match (group.domain.as_deref(), in_project, project_id) {
        (None, _, _) => true,
        (Some(_), Some(id), Some(want)) => id.eq_ignore_ascii_case(want),
        (Some(_), None, None) => true,
        _ => false,
    }
}

/// The group this object manages exists: check it may still be managed, claim it, and repair
/// drift (a rename only of a group the operator created). `Some` when something was written.
async fn repair(
    group: &DevOpsGroup,
    existing: &GraphGroup,
    origin: Origin,
    name_key: &Key,
    entry: &mut Entry,
    ctx: &Cx<'_>,
) -> Result<Option<GraphGroup>, Error> {
    let url = &ctx.org().spec.url;
    let display_name = group.spec.display_name.as_deref().unwrap_or_default();
    let name = principal_name(existing, display_name);
    protection::refuse_group(ctx, existing).await?;
    // Where the group really lives must still be granted: a narrowed grant, or a spec that now
    // names another project, does not carry the group along.
    ctx.group_scope_granted(name).await?;
    ctx.claims
        .take(group, entry, &Key::group(url, &existing.descriptor))
        .await?;
    if origin != Origin::Created {
        ctx.granted().existing_group(name)?;
        if !existing.display_name.eq_ignore_ascii_case(display_name) {
            return Err(Error::new(
                Reason::NotAllowed,
                format!(
                    "{name} was adopted, not created, by this object: it is never renamed (set displayName back to {:?}, or manage a group of your own)",
                    existing.display_name
                ),
                Retry::AwaitChange,
            ));
        }
    }
    // A rename takes the new name's claim first.
    ctx.claims.take(group, entry, name_key).await?;
    // Only a group the operator created for this object is ever renamed.
    let rename = (origin == Origin::Created && existing.display_name != display_name)
        .then_some(display_name);
    let description = group.spec.description.as_deref();
    let redescribe = description.filter(|d| existing.description.as_deref().unwrap_or("") != *d);
    if rename.is_none() && redescribe.is_none() {
        return Ok(None);
    }
    let updated = ctx
        .org()
        .client
        .update_group(&existing.descriptor, rename, redescribe)
        .await
        .map_err(|e| Error::ado("repairing the group's name or description", e))?;
    let note = format!(
        "repaired drift on {}",
        principal_name(&updated, display_name)
    );
    ctx.publish(group, EventType::Normal, Reason::Updated, note)
        .await;
    Ok(Some(updated))
}

async fn apply_entra_group(
    group: &DevOpsGroup,
    key: EntraGroupKey,
    client: &AdoClient,
    status: &mut DevOpsGroupStatus,
    entry: &mut Entry,
    ctx: &Cx<'_>,
) -> Result<Ready, Error> {
    ctx.granted().organization_scope()?;
    let url = ctx.org().spec.url.clone();
    if let Some((descriptor, origin)) = entry.group.clone() {
        match client.get_group(&descriptor).await {
            Ok(existing) if !existing.is_deleted => {
                protection::refuse_group(ctx, &existing).await?;
                let group_key = Key::group(&url, &existing.descriptor);
                ctx.claims.take(group, entry, &group_key).await?;
                ctx.claims
                    .release_others(group, entry, &[&group_key])
                    .await?;
                record(status, &existing);
                status.adopted = origin == Origin::Adopted;
                return Ok(materialized(&existing));
            }
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(Error::ado("reading the Entra group", e)),
        }
        status.descriptor = None;
        entry.group = None;
    }
    // An Entra group already in the organization is adopted (nothing is written, and it is
    // never deleted unless a grant allows deleting adopted groups); only one the operator
    // materializes here is recorded as materialized. Materializing answers with the group's
    // descriptor, where objects naming it by object id and by mail meet their claim.
    let not_found = |e: crate::ado::AdoError| match e.is_not_found() {
        true => Error::not_found(
            Reason::EntraGroupNotFound,
            format!("Entra group {key:?} does not exist in the organization's directory"),
        ),
        false => Error::ado("materializing the Entra group", e),
    };
    let (found, origin) = match client
        .find_entra_group(&key)
        .await
        .map_err(|e| Error::ado("looking for the Entra group in the organization", e))?
    {
        Some(existing) => (existing, Origin::Adopted),
        None => {
            let made = client.materialize_entra_group(key.clone()).await;
            (made.map_err(not_found)?, Origin::Materialized)
        }
    };
    protection::refuse_group(ctx, &found).await?;
    let group_key = Key::group(&url, &found.descriptor);
    ctx.claims.take(group, entry, &group_key).await?;
    entry.group = Some((found.descriptor.clone(), origin));
    ctx.claims
        .release_others(group, entry, &[&group_key])
        .await?;
    record(status, &found);
    status.adopted = origin == Origin::Adopted;
    let (reason, verb) = match origin {
        Origin::Adopted => (Reason::Adopted, "adopted Entra group"),
        _ => (Reason::Materialized, "materialized Entra group"),
    };
    let note = format!("{verb} {}", found.display_name);
    ctx.publish(group, EventType::Normal, reason, note).await;
    Ok(materialized(&found))
}

/// A group's principal name (`[Scope]\Name`), or its display name when Azure DevOps gave none.
fn principal_name<'a>(group: &'a GraphGroup, display_name: &'a str) -> &'a str {
    group.principal_name.as_deref().unwrap_or(display_name)
}
