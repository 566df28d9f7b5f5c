//! Core resources on the dev host: projects, build definitions, task agent queues and pools,
//! environments, variable groups, secure files, service endpoints, git repositories.

mod projects;
mod resources;
mod shapes;

use resources::{get, list};

use super::auth::{Caller, Need};
use super::discovery::{catalog, ApiRoutes};
use super::error::{ApiError, ApiResult};
use crate::model::resources::{
    Environment, Pipeline, Project, Queue, Repository, SecureFile, ServiceEndpoint, VariableGroup,
};
use crate::model::{Organization, State};

pub fn routes() -> ApiRoutes {
    ApiRoutes::new()
        .serve(&catalog::LIST_PROJECTS, projects::list)
        .serve(&catalog::GET_PROJECT, projects::get_one)
        .serve(&catalog::LIST_PROCESSES, projects::processes)
        .serve(&catalog::GET_PROCESS, projects::process_one)
        .serve(&catalog::LIST_POOLS, resources::pools)
        .serve(&catalog::GET_POOL, resources::pool)
        .serve(&catalog::LIST_DEFINITIONS, list::<Pipeline>)
        .serve(&catalog::GET_DEFINITION, get::<Pipeline>)
        .serve(&catalog::LIST_QUEUES, list::<Queue>)
        .serve(&catalog::GET_QUEUE, get::<Queue>)
        .serve(&catalog::LIST_ENVIRONMENTS, list::<Environment>)
        .serve(&catalog::GET_ENVIRONMENT, get::<Environment>)
        .serve(&catalog::LIST_VARIABLE_GROUPS, list::<VariableGroup>)
        .serve(&catalog::GET_VARIABLE_GROUP, get::<VariableGroup>)
        .serve(&catalog::LIST_SECURE_FILES, list::<SecureFile>)
        .serve(&catalog::GET_SECURE_FILE, get::<SecureFile>)
        .serve(&catalog::LIST_SERVICE_ENDPOINTS, list::<ServiceEndpoint>)
        .serve(&catalog::GET_SERVICE_ENDPOINT, get::<ServiceEndpoint>)
        .serve(&catalog::LIST_REPOSITORIES, list::<Repository>)
        .serve(&catalog::GET_REPOSITORY, get::<Repository>)
}

/// The organization and project of a project-level route, after the caller's access check.
pub fn project_for<'a>(
    state: &'a State,
    caller: &Caller,
    org: &str,
    project: &str,
    need: Need,
    permission: &str,
) -> ApiResult<(&'a Organization, &'a Project)> {
    let organization = state
        .organization(org)
        .ok_or_else(|| ApiError::organization_not_found(org))?;
    let found = organization
        .project(project)
        .ok_or_else(|| ApiError::project_not_found(project))?;
    caller.require_project(&found.name, need, permission)?;
    Ok((organization, found))
}

/// Case-insensitive match with `*` wildcards (as the name filters of these APIs accept).
pub fn name_matches(pattern: &str, name: &str) -> bool {
    fn matches(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| matches(rest, &n[i..])),
            Some((c, rest)) => n
                .split_first()
                .is_some_and(|(m, tail)| c == m && matches(rest, tail)),
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let n: Vec<char> = name.to_lowercase().chars().collect();
    matches(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn wildcards() {
        assert!(name_matches("storefront-ci", "Storefront-CI"));
        assert!(name_matches("storefront-*", "storefront-deploy"));
        assert!(name_matches("*deploy*", "storefront-deploy-staging"));
        assert!(!name_matches("storefront", "storefront-ci"));
    }
}
