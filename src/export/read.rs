//! The reading half of `export`: everything it exports, read through the operator's own
//! throttled [`AdoClient`] (the throttle bounds requests in flight and paces on the service's
//! rate-limit headers, so a large organization is read without tripping its limit).
//!
//! Calls: projects 1 (per page); groups 1 (per page, the whole organization); members 1 per
//! group read; subjects 1 per 500 members that are not groups; per project exported with
//! authorizations or role assignments: resources 6 (+ agent pools 1 in all); with
//! authorizations: pipelines 1, and 1 permission read per resource (agent pools: per project);
//! with role assignments: 1 read per resource (repositories have no roles), the Library and
//! each agent pool, 1 per distinct role holder (its descriptor) and 1 per 500 holders not
//! read yet (`subjectlookup`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context};
use futures::{StreamExt, TryStreamExt};

use super::build::{is_service_maintained, ExportKind};
use super::inventory::{Inventory, ResourceAuthorizations, ResourceRoles};
use super::progress::Progress;
use crate::ado::{AdoClient, AdoError, GraphGroup, Project, ResourceKind, ResourceRef, RoleScope};

/// What to read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Project names or ids; empty: every project (and the organization's groups).
    pub projects: Vec<String>,
    pub kinds: BTreeSet<ExportKind>,
    /// Reads in flight at once (the client's throttle bounds them too).
    pub concurrency: usize,
}

/// Read what `options` asks for.
pub async fn read(
    client: &AdoClient,
    options: &ReadOptions,
    progress: &Progress,
) -> anyhow::Result<Inventory> {
    let mut inventory = Inventory {
        organization: client.organization().to_string(),
        ..Inventory::default()
    };
    progress.step("projects");
    inventory.projects = select_projects(
        client.list_projects().await.context("listing projects")?,
        &options.projects,
    )?;
    let wants_groups = options.kinds.contains(&ExportKind::Group)
        || options.kinds.contains(&ExportKind::Membership);
    if wants_groups {
        read_groups(client, options, progress, &mut inventory).await?;
    }
    let wants_authorizations = options.kinds.contains(&ExportKind::Authorization);
    let wants_roles = options.kinds.contains(&ExportKind::RoleAssignment);
    if wants_authorizations || wants_roles {
        let resources = list_resources(client, &inventory.projects, progress).await?;
        if wants_authorizations {
            read_authorizations(client, options, progress, &mut inventory, &resources).await?;
        }
        if wants_roles {
            read_roles(client, options, progress, &mut inventory, &resources).await?;
        }
    }
    progress.done();
    Ok(inventory)
}

/// The projects asked for (by name or id, case-insensitive), or all of them.
fn select_projects(all: Vec<Project>, wanted: &[String]) -> anyhow::Result<Vec<Project>> {
    if wanted.is_empty() {
        return Ok(all);
    }
    let mut selected = Vec::new();
    for want in wanted {
        let Some(project) = all
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(want) || p.id.eq_ignore_ascii_case(want))
        else {
            bail!("project {want:?} was not found (or this identity may not see it)");
        };
        if !selected.contains(project) {
            selected.push(project.clone());
        }
    }
    Ok(selected)
}

/// Groups, their direct members, and the subjects among those members that are not groups.
async fn read_groups(
    client: &AdoClient,
    options: &ReadOptions,
    progress: &Progress,
    inventory: &mut Inventory,
) -> anyhow::Result<()> {
    progress.step("groups");
    let all = client.list_groups(None).await.context("listing groups")?;
    // Organization groups are always read: a project group nested in a protected
    // organization group is protected too.
    inventory.groups = all
        .into_iter()
        .filter(|g| !g.is_deleted)
        .filter(|g| g.project_id().is_none() || inventory.project_of(g).is_some())
        .collect();
    let to_read: Vec<&GraphGroup> = inventory
        .groups
        .iter()
        .filter(|g| g.is_azure_devops_group() && !is_service_maintained(g))
        .collect();
    let total = to_read.len();
    let done = AtomicUsize::new(0);
    let members: BTreeMap<String, Vec<String>> = futures::stream::iter(to_read)
        .map(|group| {
            let done = &done;
            async move {
                let members = client
                    .list_members(&group.descriptor)
                    .await
                    .with_context(|| {
                        format!(
                            "listing the members of {}",
                            group
                                .principal_name
                                .as_deref()
                                .unwrap_or(&group.display_name)
                        )
                    })?;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.count("memberships", n, total);
                anyhow::Ok((group.descriptor.clone(), members))
            }
        })
        .buffer_unordered(options.concurrency.max(1))
        .try_collect()
        .await?;
    inventory.members = members;
    let known: BTreeSet<&str> = inventory
        .groups
        .iter()
        .map(|g| g.descriptor.as_str())
        .collect();
    let unknown: Vec<String> = inventory
        .members
        .values()
        .flatten()
        .filter(|d| !known.contains(d.as_str()))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    progress.step("members");
    inventory.subjects = client
        .lookup_subjects(&unknown)
        .await
        .context("looking up members")?;
    Ok(())
}

/// Every protected resource of the exported projects (agent pools once, from the
/// organization), as (project, resource).
async fn list_resources(
    client: &AdoClient,
    projects: &[Project],
    progress: &Progress,
) -> anyhow::Result<Listed> {
    progress.step("agent pools");
    let pools = client
        .list_resources("", ResourceKind::AgentPool)
        .await
        .context("listing agent pools")?;
    let mut resources = Vec::new();
    for project in projects {
        progress.step(&format!("resources of {}", project.name));
        for kind in ResourceKind::ALL {
            if kind == ResourceKind::AgentPool {
                continue;
            }
            let found = client
                .list_resources(&project.name, kind)
                .await
                .with_context(|| format!("listing the {kind}s of {}", project.name))?;
            resources.extend(found.into_iter().map(|r| (project.clone(), r)));
        }
    }
    Ok((pools, resources))
}

/// The pipeline permissions of every resource (agent pools: per project, as pipelines are),
/// and the projects' pipelines (to name them).
async fn read_authorizations(
    client: &AdoClient,
    options: &ReadOptions,
    progress: &Progress,
    inventory: &mut Inventory,
    (pools, resources): &Listed,
) -> anyhow::Result<()> {
    for project in &inventory.projects {
        let pipelines = client
            .list_pipelines(&project.name)
            .await
            .with_context(|| format!("listing the pipelines of {}", project.name))?;
        inventory.pipelines.insert(project.name.clone(), pipelines);
    }
    let mut checks: Vec<(String, ResourceRef)> = resources
        .iter()
        .map(|(p, r)| (p.name.clone(), r.clone()))
        .collect();
    for project in &inventory.projects {
        checks.extend(
            pools
                .iter()
                .map(|pool| (project.name.clone(), pool.clone())),
        );
    }
    let total = checks.len();
    let done = AtomicUsize::new(0);
    let found: Vec<Option<ResourceAuthorizations>> = futures::stream::iter(checks)
        .map(|(project, resource)| {
            let done = &done;
            async move {
                let read = client
                    .pipeline_permissions(&project, resource.kind, &resource.id)
                    .await;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.count("pipeline permissions", n, total);
                let document = match read {
                    Ok(document) => document,
                    // Deleted since it was listed.
                    Err(AdoError::NotFound(_)) => return anyhow::Ok(None),
                    Err(e) => {
                        return Err(e).with_context(|| {
                            format!(
                                "reading the pipeline permissions of {} {} in {project}",
                                resource.kind, resource.name
                            )
                        })
                    }
                };
                let mut pipelines: Vec<i64> = document
                    .pipelines
                    .iter()
                    .filter(|p| p.authorized)
                    .map(|p| p.id)
                    .collect();
                pipelines.sort_unstable();
                pipelines.dedup();
                let all_pipelines = document
                    .all_pipelines
                    .as_ref()
                    .is_some_and(|p| p.authorized);
                Ok(
                    (!pipelines.is_empty() || all_pipelines).then_some(ResourceAuthorizations {
                        project,
                        resource,
                        pipelines,
                        all_pipelines,
                    }),
                )
            }
        })
        .buffered(options.concurrency.max(1))
        .try_collect()
        .await?;
    inventory.authorizations = found.into_iter().flatten().collect();
    Ok(())
}

/// The security role scope of a resource kind (repositories have none).
fn role_scope(kind: ResourceKind) -> Option<RoleScope> {
    Some(match kind {
        ResourceKind::Queue => RoleScope::Queue,
        ResourceKind::AgentPool => RoleScope::AgentPool,
        ResourceKind::Environment => RoleScope::Environment,
        ResourceKind::Endpoint => RoleScope::Endpoint,
        ResourceKind::VariableGroup => RoleScope::VariableGroup,
        ResourceKind::SecureFile => RoleScope::SecureFile,
        ResourceKind::Repository => return None,
    })
}

/// The explicit role assignments of every resource (agent pools once), each project's Library,
/// the identities' descriptors (1 call per distinct identity) and the subjects not read yet.
async fn read_roles(
    client: &AdoClient,
    options: &ReadOptions,
    progress: &Progress,
    inventory: &mut Inventory,
    (pools, resources): &Listed,
) -> anyhow::Result<()> {
    // (project, scope, resource id, name)
    let mut checks: Vec<(Option<Project>, RoleScope, String, String)> = Vec::new();
    for (project, resource) in resources {
        if let Some(scope) = role_scope(resource.kind) {
            checks.push((
                Some(project.clone()),
                scope,
                resource.id.clone(),
                resource.name.clone(),
            ));
        }
    }
    for project in &inventory.projects {
        checks.push((
            Some(project.clone()),
            RoleScope::Library,
            String::new(),
            "Library".to_string(),
        ));
    }
    for pool in pools {
        checks.push((
            None,
            RoleScope::AgentPool,
            pool.id.clone(),
            pool.name.clone(),
        ));
    }
    let total = checks.len();
    let done = AtomicUsize::new(0);
    let read: Vec<Option<ResourceRolesRaw>> = futures::stream::iter(checks)
        .map(|(project, scope, id, name)| {
            let done = &done;
            async move {
                let resource_id =
                    scope.resource_id(project.as_ref().map(|p| p.id.as_str()), &id)?;
                let read = client.role_assignments(scope, &resource_id).await;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress.count("role assignments", n, total);
                let assignments = match read {
                    Ok(assignments) => assignments,
                    Err(AdoError::NotFound(_)) => return anyhow::Ok(None),
                    Err(e) => {
                        return Err(e).with_context(|| {
                            format!("reading the role assignments of {scope} {name}")
                        })
                    }
                };
                let explicit: Vec<(String, String)> = assignments
                    .into_iter()
                    .filter(|a| a.is_assigned())
                    .map(|a| (a.role.name, a.identity.id))
                    .collect();
                Ok((!explicit.is_empty()).then(|| ResourceRolesRaw {
                    project: project.map(|p| p.name),
                    scope,
                    id,
                    name,
                    assignments: explicit,
                }))
            }
        })
        .buffered(options.concurrency.max(1))
        .try_collect()
        .await?;
    let read: Vec<_> = read.into_iter().flatten().collect();
    let identities: BTreeSet<String> = read
        .iter()
        .flat_map(|r| r.assignments.iter().map(|(_, id)| id.clone()))
        .collect();
    progress.step("role holders");
    let descriptors: BTreeMap<String, String> = futures::stream::iter(identities)
        .map(|id| async move {
            let descriptor = client
                .descriptor_of(&id)
                .await
                .with_context(|| format!("reading the descriptor of identity {id}"))?;
            anyhow::Ok((id, descriptor))
        })
        .buffer_unordered(options.concurrency.max(1))
        .try_collect()
        .await?;
    let known: BTreeSet<&str> = inventory
        .groups
        .iter()
        .map(|g| g.descriptor.as_str())
        .chain(inventory.subjects.keys().map(String::as_str))
        .collect();
    let unknown: Vec<String> = descriptors
        .values()
        .filter(|d| !known.contains(d.as_str()))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let found = client
        .lookup_subjects(&unknown)
        .await
        .context("looking up role holders")?;
    inventory.subjects.extend(found);
    inventory.roles = read
        .into_iter()
        .map(|raw| ResourceRoles {
            project: raw.project,
            scope: raw.scope,
            id: raw.id,
            name: raw.name,
            assignments: raw
                .assignments
                .into_iter()
                .map(|(role, id)| (role, descriptors[&id].clone()))
                .collect(),
        })
        .collect();
    Ok(())
}

/// A resource with explicit assignments, before its identities are resolved.
struct ResourceRolesRaw {
    project: Option<String>,
    scope: RoleScope,
    id: String,
    name: String,
    /// (role name, identity id).
    assignments: Vec<(String, String)>,
}

/// Agent pools, and every other resource with its project.
type Listed = (Vec<ResourceRef>, Vec<(Project, ResourceRef)>);

#[cfg(test)]
mod tests {
    use super::*;

    fn project(name: &str, id: &str) -> Project {
        Project {
            id: id.into(),
            name: name.into(),
            state: None,
        }
    }

    #[test]
    fn projects_are_selected_by_name_or_id_once_each() {
        let all = vec![project("Web", "1"), project("Api", "2")];
        assert_eq!(select_projects(all.clone(), &[]).unwrap(), all);
        let picked =
            select_projects(all.clone(), &["web".into(), "2".into(), "WEB".into()]).unwrap();
        assert_eq!(picked, vec![project("Web", "1"), project("Api", "2")]);
        let err = select_projects(all, &["Nope".into()]).unwrap_err();
        assert!(err.to_string().contains("\"Nope\""), "{err}");
    }
}
