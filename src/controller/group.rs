//! Reconciler of `DevOpsGroup`: create or adopt the group, repair drift, recreate it when it was
//! deleted out of band, and delete it per `deletionPolicy`.

use async_trait::async_trait;
use kube::runtime::events::EventType;
use kube::runtime::reflector::ObjectRef;
use kube::ResourceExt;

use crate::ado::{AdoClient, EntraGroupKey, GraphGroup};
use crate::api::{DevOpsGroup, DevOpsGroupStatus, OrganizationKind, READY};
use crate::reason::Reason;

use super::context::Context;
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
        if let Some(owner) = conflicting_owner(self, ctx) {
            return Err(Error::new(
                Reason::Conflict,
                format!("DevOpsGroup {owner} already manages this group; change nothing until it is deleted"),
                Retry::Resync,
            ));
        }
        // What this object manages comes from the operator's ledger, never from its status.
        let before = ctx.ledger.read(self).await?;
        let mut entry = before.clone();
        let result = match (&self.spec.display_name, &self.spec.entra_group) {
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
                apply_entra_group(self, key, &org.client, status, &mut entry, ctx).await
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

/// Whether a Ready reason says the object never got to manage its group (so it owns nothing).
fn never_managed(reason: &str) -> bool {
    matches!(
        Reason::parse(reason),
        Some(Reason::Conflict | Reason::NotAllowed | Reason::ProtectedGroup)
    )
}

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

/// A key that identifies the Azure DevOps group an object targets, for conflict detection.
fn target_key(group: &DevOpsGroup, ctx: &Context) -> Option<String> {
    let ns = group.namespace().unwrap_or_default();
    let org_url = match group.spec.organization_ref.kind {
        OrganizationKind::ClusterDevOpsOrganization => ctx
            .stores
            .cluster_orgs
            .get(&ObjectRef::new(&group.spec.organization_ref.name))
            .map(|o| o.spec.url.clone()),
        OrganizationKind::DevOpsOrganization => ctx
            .stores
            .orgs
            .get(&ObjectRef::new(&group.spec.organization_ref.name).within(&ns))
            .map(|o| o.spec.url.clone()),
    }?;
    let org = org_url.trim_end_matches('/').to_lowercase();
    let identity = match (&group.spec.display_name, &group.spec.entra_group) {
        (Some(name), _) => format!(
            "ado|{}|{}",
            group.spec.project.as_deref().unwrap_or("").to_lowercase(),
            name.to_lowercase()
        ),
        (None, Some(entra)) => format!(
            "entra|{}|{}",
            entra.object_id.as_deref().unwrap_or("").to_lowercase(),
            entra.mail_address.as_deref().unwrap_or("").to_lowercase()
        ),
        (None, None) => return None,
    };
    Some(format!("{org}|{identity}"))
}

/// The older object that already manages the same group, if any.
fn conflicting_owner(group: &DevOpsGroup, ctx: &Context) -> Option<String> {
    let mine = target_key(group, ctx)?;
    let my_age = (
        group.creation_timestamp(),
        group.namespace(),
        group.name_any(),
    );
    ctx.stores
        .groups
        .state()
        .into_iter()
        .filter(|other| other.uid() != group.uid() && other.metadata.deletion_timestamp.is_none())
        .filter(|other| {
            // An object that never got to manage the group does not own it.
            !other
                .status
                .as_ref()
                .and_then(|s| s.common.conditions.iter().find(|c| c.type_ == READY))
                .is_some_and(|c| never_managed(&c.reason))
        })
        .filter(|other| {
            (
                other.creation_timestamp(),
                other.namespace(),
                other.name_any(),
            ) < my_age
        })
        .find(|other| target_key(other, ctx).as_deref() == Some(mine.as_str()))
        .map(|other| {
            format!(
                "{}/{}",
                other.namespace().unwrap_or_default(),
                other.name_any()
            )
        })
}

async fn apply_azure_devops_group(
    group: &DevOpsGroup,
    display_name: &str,
    client: &AdoClient,
    status: &mut DevOpsGroupStatus,
    entry: &mut Entry,
    ctx: &Cx<'_>,
) -> Result<Ready, Error> {
    let scope = match &group.spec.project {
        Some(project) => {
            let found = ctx.project(project).await?;
            ctx.granted().project(&found)?;
            status.project_id = Some(found.id.clone());
            Some(
                client
                    .project_scope_descriptor(&found.id)
                    .await
                    .map_err(|e| {
                        Error::ado(&format!("reading the scope of project {project:?}"), e)
                    })?,
            )
        }
        None => {
            ctx.granted().organization_scope()?;
            None
        }
    };
    let description = group.spec.description.as_deref();
    if let Some((descriptor, origin)) = entry.group.clone() {
        match client.get_group(&descriptor).await {
            Ok(existing) if !existing.is_deleted => {
                protection::refuse_group(ctx, &existing).await?;
                if origin != Origin::Created {
                    ctx.granted()
                        .existing_group(principal_name(&existing, display_name))?;
                    if !existing.display_name.eq_ignore_ascii_case(display_name) {
                        return Err(Error::new(
                            Reason::NotAllowed,
                            format!(
                                "{} was adopted, not created, by this object: it is never renamed (set displayName back to {:?}, or manage a group of your own)",
                                principal_name(&existing, display_name),
                                existing.display_name
                            ),
                            Retry::AwaitChange,
                        ));
                    }
                }
                // Only a group the operator created for this object is ever renamed.
                let rename = (origin == Origin::Created && existing.display_name != display_name)
                    .then_some(display_name);
                let redescribe =
                    description.filter(|d| existing.description.as_deref().unwrap_or("") != *d);
                if rename.is_none() && redescribe.is_none() {
                    record(status, &existing);
                    return Ok(in_sync(&existing, display_name));
                }
                let updated = client
                    .update_group(&descriptor, rename, redescribe)
                    .await
                    .map_err(|e| Error::ado("repairing the group's name or description", e))?;
                record(status, &updated);
                let note = format!(
                    "repaired drift on {}",
                    updated.principal_name.as_deref().unwrap_or(display_name)
                );
                ctx.publish(group, EventType::Normal, Reason::Updated, note)
                    .await;
                return Ok(in_sync(&updated, display_name));
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
    // A group that exists is adopted, never recorded as created: the search can lag behind a
    // recent create, so when it finds nothing the scope is listed before creating.
    let lookup = |e| Error::ado("looking for an existing group of that name", e);
    let existing = match client
        .find_group(scope.as_deref(), display_name)
        .await
        .map_err(lookup)?
    {
        Some(found) => Some(found),
        None => client
            .find_group_exhaustive(scope.as_deref(), display_name)
            .await
            .map_err(lookup)?,
    };
    match existing {
        Some(existing) => {
            protection::refuse_group(ctx, &existing).await?;
            ctx.granted()
                .existing_group(principal_name(&existing, display_name))?;
            entry.group = Some((existing.descriptor.clone(), Origin::Adopted));
            record(status, &existing);
            status.adopted = true;
            let note = format!(
                "adopted existing group {}",
                existing.principal_name.as_deref().unwrap_or(display_name)
            );
            ctx.publish(group, EventType::Normal, Reason::Adopted, note)
                .await;
            if let Some(d) =
                description.filter(|d| existing.description.as_deref().unwrap_or("") != *d)
            {
                let updated = client
                    .update_group(&existing.descriptor, None, Some(d))
                    .await
                    .map_err(|e| Error::ado("setting the adopted group's description", e))?;
                record(status, &updated);
                return Ok(in_sync(&updated, display_name));
            }
            Ok(in_sync(&existing, display_name))
        }
        None => {
            let created = client
                .create_group(scope.as_deref(), display_name, description)
                .await
                .map_err(|e| Error::ado("creating the group", e))?;
            entry.group = Some((created.descriptor.clone(), Origin::Created));
            // The service may answer a create with an existing group.
            protection::refuse_group(ctx, &created).await?;
            record(status, &created);
            status.adopted = false;
            let note = format!(
                "created group {}",
                created.principal_name.as_deref().unwrap_or(display_name)
            );
            ctx.publish(group, EventType::Normal, Reason::Created, note)
                .await;
            Ok(in_sync(&created, display_name))
        }
    }
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
    if let Some((descriptor, _)) = entry.group.clone() {
        match client.get_group(&descriptor).await {
            Ok(existing) if !existing.is_deleted => {
                protection::refuse_group(ctx, &existing).await?;
                record(status, &existing);
                return Ok(materialized(&existing));
            }
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(Error::ado("reading the Entra group", e)),
        }
        status.descriptor = None;
        entry.group = None;
    }
    let found = client
        .materialize_entra_group(key.clone())
        .await
        .map_err(|e| match e.is_not_found() {
            true => Error::not_found(
                Reason::EntraGroupNotFound,
                format!("Entra group {key:?} does not exist in the organization's directory"),
            ),
            false => Error::ado("materializing the Entra group", e),
        })?;
    protection::refuse_group(ctx, &found).await?;
    entry.group = Some((found.descriptor.clone(), Origin::Materialized));
    record(status, &found);
    let note = format!("materialized Entra group {}", found.display_name);
    ctx.publish(group, EventType::Normal, Reason::Materialized, note)
        .await;
    Ok(materialized(&found))
}

/// A group's principal name (`[Scope]\Name`), or its display name when Azure DevOps gave none.
fn principal_name<'a>(group: &'a GraphGroup, display_name: &'a str) -> &'a str {
    group.principal_name.as_deref().unwrap_or(display_name)
}
