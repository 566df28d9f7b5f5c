//! Security roles on protected resources: the scopes, the roles each defines, and per resource
//! the explicit assignments (one role per identity) and whether it inherits its parent's.

use serde::Serialize;
use uuid::Uuid;

use super::resources::Project;
use super::Organization;

/// A security role scope and the shape of its resource ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RoleScope {
    Environment,
    Endpoint,
    Queue,
    AgentPool,
    VariableGroup,
    SecureFile,
    Library,
}

/// One role: name, permission bits and description.
pub struct RoleDefinition {
    pub name: &'static str,
    pub allow: u32,
    pub description: &'static str,
}

const fn role(name: &'static str, allow: u32, description: &'static str) -> RoleDefinition {
    RoleDefinition {
        name,
        allow,
        description,
    }
}

const READER: RoleDefinition = role("Reader", 1, "Reader can view the resource.");
const USER: RoleDefinition = role("User", 3, "User can view and use the resource.");
const CREATOR: RoleDefinition = role("Creator", 5, "Creator can create resources of this kind.");
const ADMINISTRATOR: RoleDefinition = role(
    "Administrator",
    27,
    "Administrator can use, manage and secure the resource.",
);
const SERVICE_ACCOUNT: RoleDefinition = role(
    "Service Account",
    3,
    "Service Account can view agents, create sessions and listen for jobs.",
);

impl RoleScope {
    pub const ALL: [RoleScope; 7] = [
        RoleScope::Environment,
        RoleScope::Endpoint,
        RoleScope::Queue,
        RoleScope::AgentPool,
        RoleScope::VariableGroup,
        RoleScope::SecureFile,
        RoleScope::Library,
    ];

    pub fn scope_id(self) -> &'static str {
        match self {
            RoleScope::Environment => "distributedtask.environmentreferencerole",
            RoleScope::Endpoint => "distributedtask.serviceendpointrole",
            RoleScope::Queue => "distributedtask.agentqueuerole",
            RoleScope::AgentPool => "distributedtask.globalagentpoolrole",
            RoleScope::VariableGroup => "distributedtask.variablegroup",
            RoleScope::SecureFile => "distributedtask.securefile",
            RoleScope::Library => "distributedtask.library",
        }
    }

    /// Scope ids are case-insensitive.
    pub fn parse(scope_id: &str) -> Option<RoleScope> {
        RoleScope::ALL
            .into_iter()
            .find(|s| s.scope_id().eq_ignore_ascii_case(scope_id))
    }

    /// The roles the scope defines, lowest first.
    pub fn roles(self) -> &'static [RoleDefinition] {
        match self {
            RoleScope::Environment | RoleScope::VariableGroup | RoleScope::SecureFile => {
                &[READER, USER, ADMINISTRATOR]
            }
            RoleScope::Endpoint | RoleScope::Queue | RoleScope::Library => {
                &[READER, USER, CREATOR, ADMINISTRATOR]
            }
            RoleScope::AgentPool => &[READER, SERVICE_ACCOUNT, ADMINISTRATOR],
        }
    }

    pub fn role(self, name: &str) -> Option<&'static RoleDefinition> {
        self.roles()
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// The canonical resource id if `raw` names an existing resource of this scope (`0` names
    /// the project-level collection, the parent of each resource), else `None`.
    pub fn resolve(self, org: &Organization, raw: &str) -> Option<String> {
        let raw = raw.trim();
        if self == RoleScope::AgentPool {
            let id: u32 = raw.parse().ok()?;
            return (id == 0 || org.pools.iter().any(|p| p.id == id)).then(|| id.to_string());
        }
        let separator = match self {
            RoleScope::Environment | RoleScope::Endpoint | RoleScope::Queue => '_',
            _ => '$',
        };
        let (project_part, id_part) = raw.split_once(separator)?;
        let project_id = Uuid::parse_str(project_part).ok()?;
        let project = org.projects.iter().find(|p| p.id == project_id)?;
        let id = canonical_id(self, project, id_part)?;
        Some(format!("{project_id}{separator}{id}"))
    }

    /// Where a resource inherits from: the project-level collection of its kind (`…_0`), and
    /// for variable groups and secure files the project's Library (`…$0`).
    pub fn parent(self, resource_id: &str) -> Option<(RoleScope, String)> {
        match self {
            RoleScope::AgentPool => (resource_id != "0").then(|| (self, "0".to_string())),
            RoleScope::Environment | RoleScope::Endpoint | RoleScope::Queue => {
                let (project, id) = resource_id.split_once('_')?;
                (id != "0").then(|| (self, format!("{project}_0")))
            }
            RoleScope::VariableGroup | RoleScope::SecureFile | RoleScope::Library => {
                let (project, id) = resource_id.split_once('$')?;
                (self != RoleScope::Library || id != "0")
                    .then(|| (RoleScope::Library, format!("{project}$0")))
            }
        }
    }
}

/// The resource's own id as the scope spells it, if it exists in the project.
fn canonical_id(scope: RoleScope, project: &Project, raw: &str) -> Option<String> {
    let int = || raw.parse::<u32>().ok();
    let guid = || Uuid::parse_str(raw).ok();
    match scope {
        RoleScope::Environment => {
            let n = int()?;
            (n == 0 || project.environments.iter().any(|e| e.id == n)).then(|| n.to_string())
        }
        RoleScope::Queue => {
            let n = int()?;
            (n == 0 || project.queues.iter().any(|q| q.id == n)).then(|| n.to_string())
        }
        RoleScope::VariableGroup => {
            let n = int()?;
            project
                .variable_groups
                .iter()
                .any(|g| g.id == n)
                .then(|| n.to_string())
        }
        RoleScope::Library => (int()? == 0).then(|| "0".to_string()),
        RoleScope::Endpoint => {
            if raw == "0" {
                return Some("0".into());
            }
            let g = guid()?;
            project
                .service_endpoints
                .iter()
                .any(|e| e.id == g)
                .then(|| g.to_string())
        }
        RoleScope::SecureFile => {
            let g = guid()?;
            project
                .secure_files
                .iter()
                .any(|f| f.id == g)
                .then(|| g.to_string())
        }
        RoleScope::AgentPool => None,
    }
}

/// One explicit assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// The identity id (the subject's storage key).
    pub identity_id: Uuid,
    pub role: String,
}

/// The role assignments of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleResource {
    pub scope: RoleScope,
    pub resource_id: String,
    /// Whether the resource shows its parent's assignments (Azure DevOps' default: true).
    pub inherit: bool,
    pub assignments: Vec<Assignment>,
}

impl Organization {
    pub fn role_resource(&self, scope: RoleScope, resource_id: &str) -> Option<&RoleResource> {
        self.role_assignments
            .iter()
            .find(|r| r.scope == scope && r.resource_id == resource_id)
    }

    pub fn role_resource_mut(&mut self, scope: RoleScope, resource_id: &str) -> &mut RoleResource {
        let index = match self
            .role_assignments
            .iter()
            .position(|r| r.scope == scope && r.resource_id == resource_id)
        {
            Some(index) => index,
            None => {
                self.role_assignments.push(RoleResource {
                    scope,
                    resource_id: resource_id.to_string(),
                    inherit: true,
                    assignments: Vec::new(),
                });
                self.role_assignments.len() - 1
            }
        };
        &mut self.role_assignments[index]
    }

    /// The live subject whose storage key (identity id) is `id`.
    pub fn subject_by_identity_id(&self, id: Uuid) -> Option<&super::subjects::Subject> {
        self.subjects.with_storage_key(id).find(|s| !s.deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_case_insensitively_and_define_their_roles() {
        assert_eq!(
            RoleScope::parse("DistributedTask.EnvironmentReferenceRole"),
            Some(RoleScope::Environment)
        );
        assert_eq!(RoleScope::parse("distributedtask.nosuchrole"), None);
        assert!(RoleScope::Endpoint.role("creator").is_some());
        assert!(RoleScope::Environment.role("Creator").is_none());
        assert!(RoleScope::AgentPool.role("Service Account").is_some());
    }

    #[test]
    fn parents_are_the_project_collection_or_the_library() {
        let p = "28dfcdfe-1601-476a-9ce5-4f022eb6ee7f";
        assert_eq!(
            RoleScope::Environment.parent(&format!("{p}_7")),
            Some((RoleScope::Environment, format!("{p}_0")))
        );
        assert_eq!(RoleScope::Environment.parent(&format!("{p}_0")), None);
        assert_eq!(
            RoleScope::VariableGroup.parent(&format!("{p}$4")),
            Some((RoleScope::Library, format!("{p}$0")))
        );
        assert_eq!(RoleScope::Library.parent(&format!("{p}$0")), None);
        assert_eq!(
            RoleScope::AgentPool.parent("9"),
            Some((RoleScope::AgentPool, "0".into()))
        );
    }
}
