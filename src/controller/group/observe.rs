//! `DevOpsGroup` under Observe: find the group (by what this object managed, else by name),
//! pass the same checks `Manage` would (protection, grants, another object's claim), record it
//! as observed, and say what `Manage` would do: create, materialize, rename, describe. Nothing
//! is written to Azure DevOps and no claim is taken.

use crate::ado::{EntraGroupKey, GraphGroup};
use crate::api::{DevOpsGroup, DevOpsGroupStatus};
use crate::controller::claims::Key;
use crate::controller::error::Error;
use crate::controller::ledger::{Entry, Origin};
use crate::controller::object_context::Cx;
use crate::controller::protection;
use crate::controller::reconcile::Ready;
use crate::reason::Reason;

use super::{in_sync, lives_in, materialized, principal_name, record};

/// An Azure DevOps group, observed.
pub async fn azure_devops_group(
    group: &DevOpsGroup,
    display_name: &str,
    status: &mut DevOpsGroupStatus,
    entry: &mut Entry,
    cx: &Cx<'_>,
) -> Result<Ready, Error> {
    let client = &cx.org().client;
    let (scope, project_id) = match &group.spec.project {
        Some(project) => {
            let found = cx.project(project).await?;
            cx.granted().project(&found)?;
            status.project_id = Some(found.id.clone());
            let scope = client
                .project_scope_descriptor(&found.id)
                .await
                .map_err(|e| Error::ado(&format!("reading the scope of project {project:?}"), e))?;
            (Some(scope), Some(found.id))
        }
        None => {
            cx.granted().organization_scope()?;
            (None, None)
        }
    };
    let managed = match entry.group.clone() {
        Some((descriptor, origin)) if origin != Origin::Observed => {
            match client.get_group(&descriptor).await {
                Ok(g) if !g.is_deleted && lives_in(&g, project_id.as_deref()) => Some((g, origin)),
                Ok(_) => None,
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(Error::ado("reading the group", e)),
            }
        }
        _ => None,
    };
    let found = match managed {
        Some(found) => Some(found),
        None => {
            let lookup = |e| Error::ado("looking for an existing group of that name", e);
            let by_name = match client
                .find_group(scope.as_deref(), display_name)
                .await
                .map_err(lookup)?
            {
                Some(g) => Some(g),
                None => client
                    .find_group_exhaustive(scope.as_deref(), display_name)
                    .await
                    .map_err(lookup)?,
            };
            by_name.map(|g| (g, Origin::Observed))
        }
    };
    let Some((existing, origin)) = found else {
        let scope_name = group.spec.project.as_deref().unwrap_or("the organization");
        cx.would(format!("create group {display_name:?} in {scope_name}"));
        status.descriptor = None;
        status.principal_name = None;
        return Ok(Ready::new(Reason::InSync, "the group does not exist"));
    };
    let name = principal_name(&existing, display_name).to_string();
    may_read(group, cx, &existing).await?;
    match origin {
        Origin::Created => cx.group_scope_granted(&name).await?,
        _ => cx.granted().existing_group(&name)?,
    }
    if origin == Origin::Created && existing.display_name != display_name {
        cx.would(format!("rename group {name} to {display_name:?}"));
    }
    let description = group.spec.description.as_deref();
    if let Some(d) = description.filter(|d| existing.description.as_deref().unwrap_or("") != *d) {
        cx.would(format!("set the description of group {name} to {d:?}"));
    }
    if origin == Origin::Observed {
        entry.group = Some((existing.descriptor.clone(), Origin::Observed));
    }
    record(status, &existing);
    Ok(in_sync(&existing, display_name))
}

/// An Entra group, observed.
pub async fn entra_group(
    group: &DevOpsGroup,
    key: EntraGroupKey,
    status: &mut DevOpsGroupStatus,
    entry: &mut Entry,
    cx: &Cx<'_>,
) -> Result<Ready, Error> {
    cx.granted().organization_scope()?;
    let found = cx
        .org()
        .client
        .find_entra_group(&key)
        .await
        .map_err(|e| Error::ado("looking for the Entra group in the organization", e))?;
    let Some(existing) = found else {
        cx.would(format!(
            "materialize Entra group {key:?} in the organization"
        ));
        status.descriptor = None;
        return Ok(Ready::new(
            Reason::InSync,
            "the Entra group is not in the organization",
        ));
    };
    may_read(group, cx, &existing).await?;
    let managed = entry
        .group
        .as_ref()
        .is_some_and(|(d, o)| *o != Origin::Observed && *d == existing.descriptor);
    if !managed {
        entry.group = Some((existing.descriptor.clone(), Origin::Observed));
    }
    record(status, &existing);
    Ok(materialized(&existing))
}

/// What `Manage` would refuse before anything else: a protected group, or one another object
/// manages (observing it would read another team's group).
async fn may_read(group: &DevOpsGroup, cx: &Cx<'_>, existing: &GraphGroup) -> Result<(), Error> {
    protection::refuse_group(cx, existing).await?;
    let key = Key::group(&cx.org().spec.url, &existing.descriptor);
    cx.claims.refuse_held(group, &key).await
}
