//! Building the state from a seed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::permissions::{
    Actor, AuthorizationHistory, AuthorizationVersion, PipelineAuthorization, ResourcePermissions,
    ResourceType,
};
use super::resources::{
    Environment, Pipeline, Pool, Project, Queue, Repository, SecureFile, ServiceEndpoint,
    VariableGroup,
};
use super::subjects::{GroupScope, Membership};
use super::{
    Directory, DirectoryGroup, DirectoryServicePrincipal, DirectoryUser, IdSource, Identity,
    Organization, State,
};
use crate::ids::{scope_descriptor, stable_uuid};
use crate::seed::{GroupSeed, OrganizationSeed, ProjectAccess, ProjectSeed, Seed};

/// Organization groups every organization has, with their real descriptions.
pub const ORGANIZATION_GROUPS: &[(&str, &str)] = &[
    ("Project Collection Administrators", "Members of this application group can perform all privileged operations on the Team Project Collection."),
    ("Project Collection Valid Users", "This group contains all users and groups that have access to the Team Project Collection."),
    ("Project Collection Build Administrators", "Members of this group should include accounts for people who should be able to administer the build resources."),
    ("Project Collection Build Service Accounts", "This group contains build service accounts for the Team Project Collection."),
    ("Project Collection Service Accounts", "This group should only contain service accounts."),
    ("Project Collection Test Service Accounts", "Members of this group should include the service accounts used by the test controllers set up for this project collection."),
    ("Security Service Group", "Identities which are granted explicit permission to a resource will be automatically added to this group if they were not previously a member of any other group."),
];

/// Project groups every project has, with their real descriptions.
pub const PROJECT_GROUPS: &[(&str, &str)] = &[
    ("Project Administrators", "Members of this group can perform all operations in the team project."),
    ("Contributors", "Members of this group can add, modify, and delete items within the team project."),
    ("Readers", "Members of this group have access to the team project."),
    ("Build Administrators", "Members of this group can create, modify and delete build definitions and manage queued and completed builds."),
    ("Project Valid Users", "Members of this group have access to the team project."),
];

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{context}: member `{member}` does not resolve to a user, group or service principal")]
    UnknownMember { context: String, member: String },
    #[error("project `{project}`: queue `{queue}` refers to unknown pool `{pool}`")]
    UnknownPool {
        project: String,
        queue: String,
        pool: String,
    },
    #[error("project `{project}`: {message}")]
    Permission { project: String, message: String },
    #[error("directory group `{group}`: unknown member `{member}`")]
    UnknownDirectoryMember { group: String, member: String },
}

/// The instant all seed objects claim as their creation time.
fn seed_epoch() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-03-04T09:30:00Z")
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now())
}

pub fn build_state(seed: &Seed) -> Result<State, BuildError> {
    let tenant_id = seed.tenant.id;
    let tenant_domain = seed
        .tenant
        .domain
        .clone()
        .unwrap_or_else(|| "contoso.onmicrosoft.com".to_string());
    let directory = build_directory(seed)?;
    let identities = build_identities(seed);
    let mut state = State {
        tenant_id,
        tenant_domain,
        directory: std::sync::Arc::new(directory),
        organizations: Vec::new(),
        identities,
    };
    for org_seed in &seed.organizations {
        let org = build_organization(&state, org_seed)?;
        state.organizations.push(org);
    }
    Ok(state)
}

fn build_directory(seed: &Seed) -> Result<Directory, BuildError> {
    let mut directory = Directory::default();
    for user in &seed.directory.users {
        directory.users.push(DirectoryUser {
            object_id: user
                .object_id
                .unwrap_or_else(|| stable_uuid("entra-user", &[&user.upn])),
            upn: user.upn.clone(),
            display_name: user.display_name.clone(),
            mail: user.mail.clone().unwrap_or_else(|| user.upn.clone()),
        });
    }
    for group in &seed.directory.groups {
        directory.groups.push(DirectoryGroup {
            object_id: group
                .object_id
                .unwrap_or_else(|| stable_uuid("entra-group", &[&group.display_name])),
            display_name: group.display_name.clone(),
            mail: group.mail.clone(),
            description: group.description.clone(),
            members: Vec::new(),
        });
    }
    for (index, group) in seed.directory.groups.iter().enumerate() {
        let mut members = Vec::new();
        for member in &group.members {
            let id = directory
                .users
                .iter()
                .find(|u| u.upn.eq_ignore_ascii_case(member))
                .map(|u| u.object_id)
                .or_else(|| {
                    directory
                        .groups
                        .iter()
                        .find(|g| g.display_name.eq_ignore_ascii_case(member))
                        .map(|g| g.object_id)
                })
                .ok_or_else(|| BuildError::UnknownDirectoryMember {
                    group: group.display_name.clone(),
                    member: member.clone(),
                })?;
            members.push(id);
        }
        directory.groups[index].members = members;
    }
    for principal in &seed.directory.service_principals {
        directory
            .service_principals
            .push(DirectoryServicePrincipal {
                object_id: principal
                    .object_id
                    .unwrap_or_else(|| stable_uuid("entra-sp", &[&principal.app_id.to_string()])),
                app_id: principal.app_id,
                display_name: principal.display_name.clone(),
            });
    }
    // Every identity is a service principal of the directory too.
    for identity in &seed.identities {
        let object_id = identity_object_id(identity.object_id, identity.client_id);
        if !directory
            .service_principals
            .iter()
            .any(|p| p.app_id == identity.client_id)
        {
            directory
                .service_principals
                .push(DirectoryServicePrincipal {
                    object_id,
                    app_id: identity.client_id,
                    display_name: identity
                        .display_name
                        .clone()
                        .unwrap_or_else(|| identity.name.clone()),
                });
        }
    }
    directory.index_users();
    Ok(directory)
}

fn identity_object_id(object_id: Option<Uuid>, client_id: Uuid) -> Uuid {
    object_id.unwrap_or_else(|| stable_uuid("entra-sp", &[&client_id.to_string()]))
}

fn build_identities(seed: &Seed) -> Vec<Identity> {
    seed.identities
        .iter()
        .map(|i| Identity {
            name: i.name.clone(),
            display_name: i.display_name.clone().unwrap_or_else(|| i.name.clone()),
            client_id: i.client_id,
            object_id: identity_object_id(i.object_id, i.client_id),
            tenant_id: i.tenant_id.unwrap_or(seed.tenant.id),
            client_secret: i.client_secret.clone(),
            federated_credentials: i.federated_credentials.clone(),
            pats: i.pats.clone(),
            managed_identity: i.managed_identity,
            directory_read: i.directory_read,
            access: i.access.clone(),
        })
        .collect()
}

fn build_organization(state: &State, seed: &OrganizationSeed) -> Result<Organization, BuildError> {
    let id = seed
        .id
        .unwrap_or_else(|| stable_uuid("organization", &[&seed.name]));
    let mut org = Organization {
        name: seed.name.clone(),
        id,
        scope_descriptor: scope_descriptor(id),
        subjects: Default::default(),
        memberships: Default::default(),
        projects: Vec::new(),
        pools: seed
            .pools
            .iter()
            .map(|p| Pool {
                id: p.id,
                name: p.name.clone(),
                is_hosted: p.is_hosted,
                created_on: seed_epoch(),
            })
            .collect(),
        role_assignments: Vec::new(),
        last_check_id: 0,
        entitlements: Default::default(),
    };
    for (name, description) in ORGANIZATION_GROUPS {
        org.create_vsts_group(
            GroupScope::Organization,
            name,
            Some(description.to_string()),
            true,
            IdSource::Stable,
        );
    }
    for project_seed in &seed.projects {
        let project = build_project(&org, project_seed)?;
        let project_id = project.id;
        let project_name = project.name.clone();
        org.projects.push(project);
        for (name, description) in PROJECT_GROUPS {
            org.create_vsts_group(
                GroupScope::Project(project_id),
                name,
                Some(description.to_string()),
                true,
                IdSource::Stable,
            );
        }
        let team = format!("{project_name} Team");
        let team_descriptor = org.create_vsts_group(
            GroupScope::Project(project_id),
            &team,
            Some("The default project team.".to_string()),
            true,
            IdSource::Stable,
        );
        if let Some(contributors) = org.group_named(GroupScope::Project(project_id), "Contributors")
        {
            let container = contributors.descriptor.clone();
            add_membership(&mut org, &container, &team_descriptor);
        }
    }
    // Custom groups first (so members can refer to any of them), then members.
    let scoped_groups = scoped_group_seeds(&org, seed);
    for (scope, group) in &scoped_groups {
        match org.group_named(*scope, &group.name) {
            Some(existing) => {
                if let Some(description) = &group.description {
                    let descriptor = existing.descriptor.clone();
                    if let Some(subject) = org.subject_mut(&descriptor) {
                        subject.description = Some(description.clone());
                    }
                }
            }
            None => {
                org.create_vsts_group(
                    *scope,
                    &group.name,
                    group.description.clone(),
                    false,
                    IdSource::Stable,
                );
            }
        }
    }
    for (scope, group) in &scoped_groups {
        let container = org
            .group_named(*scope, &group.name)
            .map(|g| g.descriptor.clone())
            .unwrap_or_default();
        for member in &group.members {
            let context = format!("group `{}`", group.name);
            let descriptor = resolve_member(state, &mut org, *scope, member, &context)?;
            add_membership(&mut org, &container, &descriptor);
        }
    }
    for reference in &seed.materialized {
        resolve_member(
            state,
            &mut org,
            GroupScope::Organization,
            reference,
            "materialized",
        )?;
    }
    grant_identities(state, &mut org);
    Ok(org)
}

fn scoped_group_seeds<'a>(
    org: &Organization,
    seed: &'a OrganizationSeed,
) -> Vec<(GroupScope, &'a GroupSeed)> {
    let mut out: Vec<(GroupScope, &GroupSeed)> = seed
        .groups
        .iter()
        .map(|g| (GroupScope::Organization, g))
        .collect();
    for project_seed in &seed.projects {
        if let Some(project) = org.project(&project_seed.name) {
            out.extend(
                project_seed
                    .groups
                    .iter()
                    .map(|g| (GroupScope::Project(project.id), g)),
            );
        }
    }
    out
}

fn add_membership(org: &mut Organization, container: &str, member: &str) {
    if !org.has_membership(container, member) {
        org.memberships.insert(Membership {
            container: container.to_string(),
            member: member.to_string(),
            visible_at: seed_epoch(),
        });
    }
}

/// Resolves a member reference of the seed, materializing Entra subjects as needed.
fn resolve_member(
    state: &State,
    org: &mut Organization,
    scope: GroupScope,
    reference: &str,
    context: &str,
) -> Result<String, BuildError> {
    let unknown = || BuildError::UnknownMember {
        context: context.to_string(),
        member: reference.to_string(),
    };
    if let Some(name) = reference.strip_prefix("aad:") {
        let group = state
            .directory
            .groups
            .iter()
            .find(|g| g.display_name.eq_ignore_ascii_case(name))
            .ok_or_else(unknown)?;
        return Ok(org.materialize_entra_group(state.tenant_id, group).0);
    }
    if let Some(name) = reference.strip_prefix("sp:") {
        let principal = state
            .directory
            .service_principals
            .iter()
            .find(|p| p.display_name.eq_ignore_ascii_case(name))
            .ok_or_else(unknown)?;
        return Ok(org
            .materialize_service_principal(state.tenant_id, principal)
            .0);
    }
    if reference.contains('@') {
        // An object id has no '@': only a UPN or a mail can match.
        let user = state.directory.user(reference).ok_or_else(unknown)?;
        return Ok(org.materialize_user(state.tenant_id, user).0);
    }
    if let Some(rest) = reference.strip_prefix('[') {
        let (scope_name, name) = rest.split_once("]\\").ok_or_else(unknown)?;
        let target_scope = if scope_name.eq_ignore_ascii_case(&org.name) {
            GroupScope::Organization
        } else {
            GroupScope::Project(org.project(scope_name).ok_or_else(unknown)?.id)
        };
        return org
            .group_named(target_scope, name)
            .map(|g| g.descriptor.clone())
            .ok_or_else(unknown);
    }
    org.group_named(scope, reference)
        .map(|g| g.descriptor.clone())
        .ok_or_else(unknown)
}

/// Materializes each identity with access to the organization and puts it in the groups its
/// access level implies.
fn grant_identities(state: &State, org: &mut Organization) {
    for identity in &state.identities {
        let Some(access) = identity.access_to(&org.name) else {
            continue;
        };
        let Some(principal) = state
            .directory
            .service_principals
            .iter()
            .find(|p| p.app_id == identity.client_id)
        else {
            continue;
        };
        let (descriptor, _) = org.materialize_service_principal(state.tenant_id, principal);
        let mut containers = Vec::new();
        match (&access.projects, access.read_only) {
            (ProjectAccess::All, false) => {
                containers.extend(
                    org.group_named(
                        GroupScope::Organization,
                        "Project Collection Administrators",
                    )
                    .map(|g| g.descriptor.clone()),
                );
            }
            (ProjectAccess::All, true) => {
                containers.extend(
                    org.group_named(GroupScope::Organization, "Project Collection Valid Users")
                        .map(|g| g.descriptor.clone()),
                );
            }
            (ProjectAccess::Only(projects), read_only) => {
                let group = if read_only {
                    "Readers"
                } else {
                    "Project Administrators"
                };
                for name in projects {
                    if let Some(project) = org.project(name) {
                        containers.extend(
                            org.group_named(GroupScope::Project(project.id), group)
                                .map(|g| g.descriptor.clone()),
                        );
                    }
                }
            }
        }
        for container in containers {
            add_membership(org, &container, &descriptor);
        }
    }
}

fn build_project(org: &Organization, seed: &ProjectSeed) -> Result<Project, BuildError> {
    let id = seed
        .id
        .unwrap_or_else(|| stable_uuid("project", &[&org.name, &seed.name]));
    let created = seed_epoch();
    let mut project = Project {
        id,
        name: seed.name.clone(),
        description: seed.description.clone(),
        visibility: seed
            .visibility
            .clone()
            .unwrap_or_else(|| "private".to_string()),
        revision: 11,
        last_update_time: created,
        pipelines: seed
            .pipelines
            .iter()
            .map(|p| Pipeline {
                id: p.id,
                name: p.name.clone(),
                path: normalize_folder(p.path.as_deref().unwrap_or("\\")),
                revision: 1,
                created_date: created,
                repository: p
                    .repository
                    .clone()
                    .or_else(|| seed.repositories.first().map(|r| r.name.clone())),
            })
            .collect(),
        queues: Vec::new(),
        environments: seed
            .environments
            .iter()
            .map(|e| Environment {
                id: e.id,
                name: e.name.clone(),
                description: e.description.clone().unwrap_or_default(),
                created_on: created,
            })
            .collect(),
        variable_groups: seed
            .variable_groups
            .iter()
            .map(|g| VariableGroup {
                id: g.id,
                name: g.name.clone(),
                description: g.description.clone().unwrap_or_default(),
                variables: g.variables.clone(),
                created_on: created,
            })
            .collect(),
        secure_files: seed
            .secure_files
            .iter()
            .map(|f| SecureFile {
                id: f.id.unwrap_or_else(|| {
                    stable_uuid("secure-file", &[&org.name, &seed.name, &f.name])
                }),
                name: f.name.clone(),
                created_on: created,
            })
            .collect(),
        service_endpoints: seed
            .service_endpoints
            .iter()
            .map(|e| ServiceEndpoint {
                id: e
                    .id
                    .unwrap_or_else(|| stable_uuid("endpoint", &[&org.name, &seed.name, &e.name])),
                name: e.name.clone(),
                endpoint_type: e.endpoint_type.clone(),
                url: e
                    .url
                    .clone()
                    .unwrap_or_else(|| "https://management.azure.com/".to_string()),
                is_ready: e.is_ready,
            })
            .collect(),
        repositories: seed
            .repositories
            .iter()
            .map(|r| Repository {
                id: r.id.unwrap_or_else(|| {
                    stable_uuid("repository", &[&org.name, &seed.name, &r.name])
                }),
                name: r.name.clone(),
                default_branch: r
                    .default_branch
                    .clone()
                    .unwrap_or_else(|| "refs/heads/main".to_string()),
            })
            .collect(),
        permissions: Vec::new(),
        checks: Vec::new(),
    };
    for queue in &seed.queues {
        let pool = org
            .pools
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(&queue.pool))
            .ok_or_else(|| BuildError::UnknownPool {
                project: seed.name.clone(),
                queue: queue.name.clone(),
                pool: queue.pool.clone(),
            })?;
        project.queues.push(Queue {
            id: queue.id,
            name: queue.name.clone(),
            pool_id: pool.id,
        });
    }
    let seeder = Actor {
        display_name: "Project Collection Build Service".to_string(),
        id: stable_uuid("seed-actor", &[&org.name]).to_string(),
        unique_name: format!("Build\\{}", stable_uuid("seed-actor", &[&org.name])),
        descriptor: crate::ids::encode_descriptor(
            "svc",
            &format!(
                "{}:Build:{}",
                org.id,
                stable_uuid("seed-actor", &[&org.name])
            ),
        ),
    };
    for permission in &seed.pipeline_permissions {
        let invalid = |message: String| BuildError::Permission {
            project: seed.name.clone(),
            message,
        };
        let resource_type = ResourceType::parse(&permission.resource_type).ok_or_else(|| {
            invalid(format!(
                "unknown resource type `{}`",
                permission.resource_type
            ))
        })?;
        let resource_id = seed_resource_id(org, &project, resource_type, &permission.resource)
            .ok_or_else(|| {
                invalid(format!(
                    "no {} named `{}`",
                    resource_type.wire_name(),
                    permission.resource
                ))
            })?;
        let version = |authorized| AuthorizationVersion {
            authorized,
            authorized_by: seeder.clone(),
            authorized_on: created,
            visible_at: created,
        };
        let mut entry = ResourcePermissions {
            resource_type,
            resource_id,
            pipelines: Vec::new(),
            all_pipelines: AuthorizationHistory::default(),
        };
        for pipeline_id in &permission.pipelines {
            if !project.pipelines.iter().any(|p| p.id == *pipeline_id) {
                return Err(invalid(format!("unknown pipeline id {pipeline_id}")));
            }
            entry.pipelines.push(PipelineAuthorization {
                pipeline_id: *pipeline_id,
                history: AuthorizationHistory(vec![version(true)]),
            });
        }
        if permission.all_pipelines {
            entry.all_pipelines = AuthorizationHistory(vec![version(true)]);
        }
        project.permissions.push(entry);
    }
    Ok(project)
}

/// The API id of a named resource of a project being built.
fn seed_resource_id(
    org: &Organization,
    project: &Project,
    resource_type: ResourceType,
    name: &str,
) -> Option<String> {
    let eq = |a: &str| a.eq_ignore_ascii_case(name);
    Some(match resource_type {
        ResourceType::Queue => project.queues.iter().find(|q| eq(&q.name))?.id.to_string(),
        ResourceType::AgentPool => org.pools.iter().find(|p| eq(&p.name))?.id.to_string(),
        ResourceType::Environment => project
            .environments
            .iter()
            .find(|e| eq(&e.name))?
            .id
            .to_string(),
        ResourceType::VariableGroup => project
            .variable_groups
            .iter()
            .find(|g| eq(&g.name))?
            .id
            .to_string(),
        ResourceType::SecureFile => project
            .secure_files
            .iter()
            .find(|f| eq(&f.name))?
            .id
            .to_string(),
        ResourceType::Endpoint => project
            .service_endpoints
            .iter()
            .find(|e| eq(&e.name))?
            .id
            .to_string(),
        ResourceType::Repository => {
            let repo = project.repositories.iter().find(|r| eq(&r.name))?;
            format!("{}.{}", project.id, repo.id)
        }
    })
}

/// Folder paths use backslashes and start with one: `\`, `\Services\Web`.
pub fn normalize_folder(path: &str) -> String {
    let trimmed = path.replace('/', "\\");
    let trimmed = trimmed.trim_matches('\\');
    if trimmed.is_empty() {
        "\\".to_string()
    } else {
        format!("\\{trimmed}")
    }
}
