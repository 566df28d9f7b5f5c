//! Projects: list and get by name or id.

use axum::extract::{Path, State};
use axum::Extension;

use super::resources::{cut_page, set_continuation};
use super::shapes::{capabilities, process, project_full, project_reference, PROCESSES};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{collection, ok};

pub async fn list(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let org = state
        .organization(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let page_size = app.behaviours().list_page_size;
    let (slice, next) = if page_size > 0 {
        cut_page(&org.projects, &params, page_size)?
    } else {
        (org.projects.as_slice(), None)
    };
    let top = params.get("$top").and_then(|t| t.parse::<usize>().ok());
    let values = slice
        .iter()
        .filter(|p| caller.access.projects.allows(&p.name))
        .take(top.unwrap_or(usize::MAX))
        .map(|p| project_reference(&app.urls.dev, org, p))
        .collect();
    let mut response = ok(collection(values));
    if let Some(next) = next {
        set_continuation(&mut response, next);
    }
    Ok(response)
}

pub async fn get_one(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
    params: Params,
) -> ApiResult {
    let state = app.state();
    let (org, project) = super::project_for(
        &state,
        &caller,
        &org_name,
        &project,
        Need::Read,
        "View project-level information",
    )?;
    let mut body = project_full(&app.urls.dev, org, project);
    if params
        .get("includeCapabilities")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        body["capabilities"] = capabilities();
    }
    Ok(ok(body))
}

/// `GET _apis/process/processes`: the system processes.
pub async fn processes(State(app): State<SharedApp>, Path(org_name): Path<String>) -> ApiResult {
    let state = app.state();
    let org = state
        .organization(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let values = PROCESSES
        .into_iter()
        .map(|p| process(&app.urls.dev, org, p))
        .collect();
    Ok(ok(collection(values)))
}

/// `GET _apis/process/processes/{id}`.
pub async fn process_one(
    State(app): State<SharedApp>,
    Path((org_name, id)): Path<(String, String)>,
) -> ApiResult {
    let state = app.state();
    let org = state
        .organization(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let found = PROCESSES
        .into_iter()
        .find(|(pid, ..)| pid.eq_ignore_ascii_case(&id))
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "ProcessNotFoundByTypeIdException",
                format!("VS402362: The process with type id '{id}' does not exist."),
            )
        })?;
    Ok(ok(process(&app.urls.dev, org, found)))
}
