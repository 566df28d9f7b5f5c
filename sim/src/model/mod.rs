//! The simulator's mutable world: directory, organizations, projects, subjects, memberships,
//! resources and pipeline permissions. Built from a [`Seed`](crate::seed::Seed) by [`build`].

pub mod build;
pub mod checks;
pub mod entitlements;
pub mod indexed;
mod materialize;
pub mod permissions;
pub mod resources;
pub mod roles;
pub mod subjects;

use serde::Serialize;
use uuid::Uuid;

pub use build::{build_state, BuildError};
pub use materialize::IdSource;
use resources::{Pool, Project};
use subjects::{GroupScope, Subject};

use crate::seed::{AccessSeed, FederatedCredentialSeed};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub tenant_id: Uuid,
    pub tenant_domain: String,
    /// Read-only once built: shared, so a handler can hold it beside a mutable organization.
    pub directory: std::sync::Arc<Directory>,
    pub organizations: Vec<Organization>,
    pub identities: Vec<Identity>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    pub users: Vec<DirectoryUser>,
    pub groups: Vec<DirectoryGroup>,
    pub service_principals: Vec<DirectoryServicePrincipal>,
    /// Lower-cased UPN, mail and object id of each user: the first user with that key.
    #[serde(skip)]
    user_keys: std::collections::HashMap<String, usize>,
}

impl Directory {
    /// Index the users (once they are all added: the directory is read-only afterwards).
    pub fn index_users(&mut self) {
        self.user_keys.clear();
        for (at, user) in self.users.iter().enumerate() {
            for key in [&user.upn, &user.mail, &user.object_id.to_string()] {
                self.user_keys.entry(key.to_ascii_lowercase()).or_insert(at);
            }
        }
    }

    /// The first user whose UPN, mail or object id is `key` (case-insensitive).
    pub fn user(&self, key: &str) -> Option<&DirectoryUser> {
        self.user_any(&[key])
    }

    /// The first user (in directory order) whose UPN, mail or object id is any of `keys`.
    pub fn user_any<K: AsRef<str>>(&self, keys: &[K]) -> Option<&DirectoryUser> {
        keys.iter()
            .filter_map(|k| self.user_keys.get(&k.as_ref().to_ascii_lowercase()))
            .min()
            .map(|&at| &self.users[at])
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryUser {
    pub object_id: Uuid,
    pub upn: String,
    pub display_name: String,
    pub mail: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryGroup {
    pub object_id: Uuid,
    pub display_name: String,
    pub mail: Option<String>,
    pub description: Option<String>,
    pub members: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryServicePrincipal {
    pub object_id: Uuid,
    pub app_id: Uuid,
    pub display_name: String,
}

/// An application that authenticates against the simulated Entra ID.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub name: String,
    pub display_name: String,
    pub client_id: Uuid,
    pub object_id: Uuid,
    pub tenant_id: Uuid,
    #[serde(skip)]
    pub client_secret: Option<String>,
    pub federated_credentials: Vec<FederatedCredentialSeed>,
    #[serde(skip)]
    pub pats: Vec<String>,
    pub managed_identity: bool,
    pub directory_read: bool,
    pub access: Vec<AccessSeed>,
}

impl Identity {
    pub fn access_to(&self, organization: &str) -> Option<&AccessSeed> {
        self.access
            .iter()
            .find(|a| a.organization.eq_ignore_ascii_case(organization))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub name: String,
    pub id: Uuid,
    pub scope_descriptor: String,
    pub subjects: indexed::Subjects,
    pub memberships: indexed::Memberships,
    pub projects: Vec<Project>,
    pub pools: Vec<Pool>,
    /// Security role assignments of protected resources (see `roles.rs`).
    pub role_assignments: Vec<roles::RoleResource>,
    /// The last check configuration id handed out (ids are organization-wide, never reused).
    pub last_check_id: u32,
    /// Access levels, project entitlements and group rules (see `entitlements.rs`).
    pub entitlements: entitlements::Entitlements,
}

impl Organization {
    pub fn subject(&self, descriptor: &str) -> Option<&Subject> {
        self.subjects.get(descriptor)
    }

    pub fn subject_mut(&mut self, descriptor: &str) -> Option<&mut Subject> {
        self.subjects.get_mut(descriptor)
    }

    /// A project by name (case-insensitive) or id.
    pub fn project(&self, name_or_id: &str) -> Option<&Project> {
        let id = Uuid::parse_str(name_or_id).ok();
        self.projects
            .iter()
            .find(|p| Some(p.id) == id || p.name.eq_ignore_ascii_case(name_or_id))
    }

    pub fn project_mut(&mut self, name_or_id: &str) -> Option<&mut Project> {
        let id = Uuid::parse_str(name_or_id).ok();
        self.projects
            .iter_mut()
            .find(|p| Some(p.id) == id || p.name.eq_ignore_ascii_case(name_or_id))
    }

    /// The scope a scope descriptor names: the organization itself or one of its projects.
    pub fn scope_of(&self, scope_descriptor: &str) -> Option<GroupScope> {
        if scope_descriptor == self.scope_descriptor {
            return Some(GroupScope::Organization);
        }
        self.projects
            .iter()
            .find(|p| crate::ids::scope_descriptor(p.id) == scope_descriptor)
            .map(|p| GroupScope::Project(p.id))
    }

    pub fn project_name(&self, id: Uuid) -> Option<&str> {
        self.projects
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.as_str())
    }

    /// A live (not deleted) group with this display name in this scope.
    pub fn group_named(&self, scope: GroupScope, name: &str) -> Option<&Subject> {
        self.subjects.iter().find(|s| {
            s.is_group()
                && !s.deleted
                && s.scope == scope
                && s.origin == subjects::Origin::Vsts
                && s.display_name.eq_ignore_ascii_case(name)
        })
    }

    /// A live subject with this Entra object id.
    pub fn subject_by_origin_id(&self, origin_id: &str) -> Option<&Subject> {
        self.subjects
            .with_origin_id(origin_id)
            .find(|s| s.origin == subjects::Origin::Aad)
    }

    pub fn has_membership(&self, container: &str, member: &str) -> bool {
        self.memberships.contains(container, member)
    }
}

impl State {
    pub fn organization(&self, name: &str) -> Option<&Organization> {
        self.organizations
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }

    pub fn organization_mut(&mut self, name: &str) -> Option<&mut Organization> {
        self.organizations
            .iter_mut()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }

    pub fn identity_by_client_id(&self, client_id: &str) -> Option<&Identity> {
        let id = Uuid::parse_str(client_id).ok()?;
        self.identities.iter().find(|i| i.client_id == id)
    }

    pub fn identity_by_name(&self, name: &str) -> Option<&Identity> {
        self.identities.iter().find(|i| i.name == name)
    }
}
