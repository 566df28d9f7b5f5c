//! The simulator's mutable world: directory, organizations, projects, subjects, memberships,
//! resources and pipeline permissions. Built from a [`Seed`](crate::seed::Seed) by [`build`].

pub mod build;
pub mod checks;
pub mod entitlements;
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
use subjects::{GroupScope, Membership, Subject};

use crate::seed::{AccessSeed, FederatedCredentialSeed};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub tenant_id: Uuid,
    pub tenant_domain: String,
    pub directory: Directory,
    pub organizations: Vec<Organization>,
    pub identities: Vec<Identity>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    pub users: Vec<DirectoryUser>,
    pub groups: Vec<DirectoryGroup>,
    pub service_principals: Vec<DirectoryServicePrincipal>,
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
    pub subjects: Vec<Subject>,
    pub memberships: Vec<Membership>,
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
        self.subjects.iter().find(|s| s.descriptor == descriptor)
    }

    pub fn subject_mut(&mut self, descriptor: &str) -> Option<&mut Subject> {
        self.subjects
            .iter_mut()
            .find(|s| s.descriptor == descriptor)
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
        self.subjects.iter().find(|s| {
            s.origin == subjects::Origin::Aad && s.origin_id.eq_ignore_ascii_case(origin_id)
        })
    }

    pub fn has_membership(&self, container: &str, member: &str) -> bool {
        self.memberships
            .iter()
            .any(|m| m.container == container && m.member == member)
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
