//! Lookups of pipelines and protected resources, by name (the real filters) and by id.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;

use super::{name_matches, project_for, shapes};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{collection, ok};
use crate::model::build::normalize_folder;

const VIEW: &str = "View project-level information";

fn not_found(type_key: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, type_key, message)
}

/// True when no filter is given or any of the comma separated names matches.
fn filter_names(filter: &[String], name: &str) -> bool {
    filter.is_empty() || filter.iter().any(|f| name_matches(f, name))
}

fn ids<T: std::str::FromStr>(params: &Params, name: &str) -> Vec<T> {
    params
        .list(name)
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect()
}

pub async fn pools(
    State(app): State<SharedApp>,
    Path(org_name): Path<String>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let org = state
        .organization(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let names = params.list("poolName");
    let wanted: Vec<u32> = ids(&params, "poolIds");
    let values = org
        .pools
        .iter()
        .filter(|p| filter_names(&names, &p.name))
        .filter(|p| wanted.is_empty() || wanted.contains(&p.id))
        .map(|p| shapes::pool(org, p))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn pool(
    State(app): State<SharedApp>,
    Path((org_name, id)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = state
        .organization(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let pool = org
        .pools
        .iter()
        .find(|p| p.id.to_string() == id)
        .ok_or_else(|| {
            not_found(
                "TaskAgentPoolNotFoundException",
                format!("Agent pool {id} not found."),
            )
        })?;
    Ok(ok(shapes::pool(org, pool)))
}

pub async fn definitions(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let name = params.get("name");
    let path = params.get("path").map(normalize_folder);
    let wanted: Vec<u32> = ids(&params, "definitionIds");
    let values = project
        .pipelines
        .iter()
        .filter(|p| name.is_none_or(|n| name_matches(n, &p.name)))
        .filter(|p| {
            path.as_deref()
                .is_none_or(|f| p.path.eq_ignore_ascii_case(f))
        })
        .filter(|p| wanted.is_empty() || wanted.contains(&p.id))
        .map(|p| shapes::definition(&app.urls.dev, org, project, p))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn definition(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let pipeline = project
        .pipelines
        .iter()
        .find(|p| p.id.to_string() == id)
        .ok_or_else(|| {
            not_found(
                "DefinitionNotFoundException",
                format!("The requested build definition {id} cannot be found."),
            )
        })?;
    Ok(ok(shapes::definition(
        &app.urls.dev,
        org,
        project,
        pipeline,
    )))
}

pub async fn queues(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let mut names = params.list("queueName");
    names.extend(params.list("queueNames"));
    let wanted: Vec<u32> = ids(&params, "queueIds");
    let values = project
        .queues
        .iter()
        .filter(|q| filter_names(&names, &q.name))
        .filter(|q| wanted.is_empty() || wanted.contains(&q.id))
        .map(|q| shapes::queue(org, project, q))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn queue(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let queue = project
        .queues
        .iter()
        .find(|q| q.id.to_string() == id)
        .ok_or_else(|| {
            not_found(
                "TaskAgentQueueNotFoundException",
                format!("Agent queue {id} not found."),
            )
        })?;
    Ok(ok(shapes::queue(org, project, queue)))
}

pub async fn environments(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let name = params.get("name");
    let values = project
        .environments
        .iter()
        .filter(|e| name.is_none_or(|n| name_matches(n, &e.name)))
        .map(|e| shapes::environment(org, project, e))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn environment(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let environment = project
        .environments
        .iter()
        .find(|e| e.id.to_string() == id)
        .ok_or_else(|| {
            not_found(
                "EnvironmentNotFoundException",
                format!("Environment with id {id} does not exist."),
            )
        })?;
    Ok(ok(shapes::environment(org, project, environment)))
}

pub async fn variable_groups(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let name = params.get("groupName");
    let wanted: Vec<u32> = ids(&params, "groupIds");
    let values = project
        .variable_groups
        .iter()
        .filter(|g| name.is_none_or(|n| name_matches(n, &g.name)))
        .filter(|g| wanted.is_empty() || wanted.contains(&g.id))
        .map(|g| shapes::variable_group(org, project, g))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn variable_group(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let group = project
        .variable_groups
        .iter()
        .find(|g| g.id.to_string() == id)
        .ok_or_else(|| {
            not_found(
                "VariableGroupNotFoundException",
                format!("Variable group {id} not found."),
            )
        })?;
    Ok(ok(shapes::variable_group(org, project, group)))
}

pub async fn secure_files(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let pattern = params.get("namePattern");
    let names = params.list("secureFileNames");
    let wanted = params.list("secureFileIds");
    let values = project
        .secure_files
        .iter()
        .filter(|f| pattern.is_none_or(|n| name_matches(n, &f.name)))
        .filter(|f| filter_names(&names, &f.name))
        .filter(|f| {
            wanted.is_empty()
                || wanted
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(&f.id.to_string()))
        })
        .map(|f| shapes::secure_file(org, f))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn secure_file(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let file = project
        .secure_files
        .iter()
        .find(|f| f.id.to_string().eq_ignore_ascii_case(&id))
        .ok_or_else(|| {
            not_found(
                "SecureFileNotFoundException",
                format!("Secure file {id} not found."),
            )
        })?;
    Ok(ok(shapes::secure_file(org, file)))
}

pub async fn endpoints(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let names = params.list("endpointNames");
    let wanted = params.list("endpointIds");
    let kind = params.get("type");
    let values = project
        .service_endpoints
        .iter()
        .filter(|e| names.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case(&e.name)))
        .filter(|e| {
            wanted.is_empty()
                || wanted
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(&e.id.to_string()))
        })
        .filter(|e| kind.is_none_or(|k| k.eq_ignore_ascii_case(&e.endpoint_type)))
        .map(|e| shapes::endpoint(org, project, e))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn endpoint(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let endpoint = project
        .service_endpoints
        .iter()
        .find(|e| e.id.to_string().eq_ignore_ascii_case(&id))
        .ok_or_else(|| {
            not_found(
                "ServiceEndpointNotFoundException",
                format!("Service endpoint {id} not found."),
            )
        })?;
    Ok(ok(shapes::endpoint(org, project, endpoint)))
}

pub async fn repositories(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let values = project
        .repositories
        .iter()
        .map(|r| shapes::repository(&app.urls.dev, org, project, r))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn repository(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project, id)): Path<(String, String, String)>,
) -> ApiResult {
    let state = app.state();
    let (org, project) = project_for(&state, &caller, &org_name, &project, Need::Read, VIEW)?;
    let repo = project
        .repositories
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(&id) || r.id.to_string().eq_ignore_ascii_case(&id))
        .ok_or_else(|| {
            not_found(
                "GitRepositoryNotFoundException",
                format!("TF401019: The Git repository with name or identifier {id} does not exist or you do not have permissions for the operation you are attempting."),
            )
        })?;
    Ok(ok(shapes::repository(&app.urls.dev, org, project, repo)))
}
