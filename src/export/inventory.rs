//! What `export` read from the organization: plain data, the input of the pure builders.

use std::collections::{BTreeMap, HashMap};

use crate::ado::{GraphGroup, GraphSubject, PipelineRef, Project, ResourceRef, RoleScope};

/// One protected resource and the pipelines authorized on it, seen from one project.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceAuthorizations {
    /// The pipelines' project (name).
    pub project: String,
    pub resource: ResourceRef,
    /// Pipeline ids explicitly authorized.
    pub pipelines: Vec<i64>,
    /// `allPipelines.authorized`.
    pub all_pipelines: bool,
}

/// The explicit security role assignments of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRoles {
    /// The resource's project (name); `None` for agent pools.
    pub project: Option<String>,
    pub scope: RoleScope,
    /// The resource's id (`""` for the Library).
    pub id: String,
    /// The resource's name (`Library` for the Library).
    pub name: String,
    /// (role name, the identity's Graph descriptor), explicit assignments only.
    pub assignments: Vec<(String, String)>,
}

/// Everything read.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The organization's name (`[contoso]\…` principal names).
    pub organization: String,
    /// The projects exported (all, or those asked for).
    pub projects: Vec<Project>,
    /// Groups in the exported scopes: organization groups (unless only projects were asked
    /// for) and the projects' groups; Azure DevOps and materialized Entra groups.
    pub groups: Vec<GraphGroup>,
    /// Direct members (descriptors) of each group read, by the group's descriptor.
    pub members: BTreeMap<String, Vec<String>>,
    /// Members that are not groups of `groups`, by descriptor.
    pub subjects: HashMap<String, GraphSubject>,
    /// Pipelines by project name.
    pub pipelines: BTreeMap<String, Vec<PipelineRef>>,
    /// Resources with at least one authorization.
    pub authorizations: Vec<ResourceAuthorizations>,
    /// Resources with at least one explicit role assignment.
    pub roles: Vec<ResourceRoles>,
}

impl Inventory {
    /// The project name of a group, if it is a project group of an exported project.
    pub fn project_of(&self, group: &GraphGroup) -> Option<&str> {
        let id = group.project_id()?;
        self.projects
            .iter()
            .find(|p| p.id.eq_ignore_ascii_case(id))
            .map(|p| p.name.as_str())
    }
}
