//! `GET _apis/ResourceAreas[/{areaId}]`: which host serves each resource area, for an
//! organization (in the path, or `?organizationName=` / `?accountName=` at deployment level),
//! or for the deployment itself.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::catalog::{Area, Host, AREAS};
use crate::http::app::SharedApp;
use crate::http::error::{ApiError, ApiResult};
use crate::http::params::Params;
use crate::http::respond::{collection, ok};

/// Whose URLs to hand out: an organization's (by its canonical name) or the deployment's.
enum Scope {
    Organization(String),
    Deployment,
}

fn scope_for(app: &SharedApp, org: Option<&str>) -> Result<Scope, ApiError> {
    let Some(name) = org else {
        return Ok(Scope::Deployment);
    };
    let state = app.state();
    let organization = state
        .organization(name)
        .ok_or_else(|| ApiError::organization_not_found(name))?;
    Ok(Scope::Organization(organization.name.clone()))
}

fn deployment_scope(app: &SharedApp, params: &Params) -> Result<Scope, ApiError> {
    let org = params
        .get("organizationName")
        .or_else(|| params.get("accountName"));
    scope_for(app, org)
}

/// The areas clients can look up: those with an id.
fn published() -> impl Iterator<Item = (&'static Area, &'static str, Host)> {
    AREAS
        .iter()
        .filter_map(|area| Some((*area, area.id?, area.host?)))
}

fn area_json(app: &SharedApp, scope: &Scope, area: &Area, id: &str, host: Host) -> Value {
    let base = match host {
        Host::Dev => &app.urls.dev,
        Host::Vssps => &app.urls.vssps,
    };
    let location_url = match scope {
        Scope::Organization(org) => format!("{base}/{org}/"),
        Scope::Deployment => format!("{base}/"),
    };
    json!({ "id": id, "name": area.name, "locationUrl": location_url })
}

fn list_for(app: &SharedApp, scope: Scope) -> ApiResult {
    let values = published()
        .map(|(area, id, host)| area_json(app, &scope, area, id, host))
        .collect();
    Ok(ok(collection(values)))
}

fn one_for(app: &SharedApp, scope: Scope, area_id: &str) -> ApiResult {
    published()
        .find(|(_, id, _)| id.eq_ignore_ascii_case(area_id))
        .map(|(area, id, host)| ok(area_json(app, &scope, area, id, host)))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "ResourceAreaNotFoundException",
                format!("The resource area {area_id} was not found."),
            )
        })
}

pub async fn list(State(app): State<SharedApp>, Path(org): Path<String>) -> ApiResult {
    let scope = scope_for(&app, Some(&org))?;
    list_for(&app, scope)
}

pub async fn get_one(
    State(app): State<SharedApp>,
    Path((org, area_id)): Path<(String, String)>,
) -> ApiResult {
    let scope = scope_for(&app, Some(&org))?;
    one_for(&app, scope, &area_id)
}

pub async fn list_deployment(State(app): State<SharedApp>, params: Params) -> ApiResult {
    let scope = deployment_scope(&app, &params)?;
    list_for(&app, scope)
}

pub async fn get_deployment(
    State(app): State<SharedApp>,
    Path(area_id): Path<String>,
    params: Params,
) -> ApiResult {
    let scope = deployment_scope(&app, &params)?;
    one_for(&app, scope, &area_id)
}
