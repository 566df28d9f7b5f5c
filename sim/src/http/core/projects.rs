//! Projects: list and get by name or id.

use axum::extract::{Path, State};
use axum::Extension;

use super::shapes::{project_full, project_reference};
use crate::http::app::SharedApp;
use crate::http::auth::{Caller, Need};
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond::{collection, ok};

pub async fn list(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path(org_name): Path<String>,
) -> ApiResult {
    let state = app.state();
    let org = state
        .organization(&org_name)
        .ok_or_else(|| ApiError::organization_not_found(&org_name))?;
    let values = org
        .projects
        .iter()
        .filter(|p| caller.access.projects.allows(&p.name))
        .map(|p| project_reference(&app.urls.dev, org, p))
        .collect();
    Ok(ok(collection(values)))
}

pub async fn get_one(
    State(app): State<SharedApp>,
    Extension(caller): Extension<Caller>,
    Path((org_name, project)): Path<(String, String)>,
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
    Ok(ok(project_full(&app.urls.dev, org, project)))
}
