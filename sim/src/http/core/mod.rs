//! Core resources on the dev host: projects, build definitions, task agent queues and pools,
//! environments, variable groups, secure files, service endpoints, git repositories.

mod projects;
mod resources;
mod shapes;

use axum::routing::get;
use axum::Router;

use super::app::SharedApp;
use super::auth::{Caller, Need};
use super::error::{ApiError, ApiResult};
use crate::model::resources::Project;
use crate::model::{Organization, State};

pub fn routes() -> Router<SharedApp> {
    Router::new()
        .route("/{org}/_apis/projects", get(projects::list))
        .route("/{org}/_apis/projects/{project}", get(projects::get_one))
        .route("/{org}/_apis/distributedtask/pools", get(resources::pools))
        .route(
            "/{org}/_apis/distributedtask/pools/{id}",
            get(resources::pool),
        )
        .route(
            "/{org}/{project}/_apis/build/definitions",
            get(resources::definitions),
        )
        .route(
            "/{org}/{project}/_apis/build/definitions/{id}",
            get(resources::definition),
        )
        .route(
            "/{org}/{project}/_apis/distributedtask/queues",
            get(resources::queues),
        )
        .route(
            "/{org}/{project}/_apis/distributedtask/queues/{id}",
            get(resources::queue),
        )
        .route(
            "/{org}/{project}/_apis/distributedtask/environments",
            get(resources::environments),
        )
        .route(
            "/{org}/{project}/_apis/distributedtask/environments/{id}",
            get(resources::environment),
        )
        .route(
            "/{org}/{project}/_apis/distributedtask/variablegroups",
            get(resources::variable_groups),
        )
        .route(
            "/{org}/{project}/_apis/distributedtask/variablegroups/{id}",
            get(resources::variable_group),
        )
        .route(
            "/{org}/{project}/_apis/distributedtask/securefiles",
            get(resources::secure_files),
        )
        .route(
            "/{org}/{project}/_apis/distributedtask/securefiles/{id}",
            get(resources::secure_file),
        )
        .route(
            "/{org}/{project}/_apis/serviceendpoint/endpoints",
            get(resources::endpoints),
        )
        .route(
            "/{org}/{project}/_apis/serviceendpoint/endpoints/{id}",
            get(resources::endpoint),
        )
        .route(
            "/{org}/{project}/_apis/git/repositories",
            get(resources::repositories),
        )
        .route(
            "/{org}/{project}/_apis/git/repositories/{id}",
            get(resources::repository),
        )
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
