//! `GET _apis/ResourceAreas[/{areaId}]`: which host serves each resource area, for an
//! organization (in the path, or `?organizationName=` / `?accountName=` at deployment level),
//! or for the deployment itself.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::catalog::{AreaHost, Host, AREAS, KNOWN_AREAS};
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

/// Where an area lives: a host of the simulator, or another host of the real service.
#[derive(Clone, Copy)]
enum Place {
    Sim(Host),
    Organization(&'static str),
    Global(&'static str),
}

/// The areas clients can look up: those the simulator serves, then every other area the
/// official SDKs know (on the real service's host).
fn published() -> impl Iterator<Item = (&'static str, &'static str, Place)> {
    let served = AREAS
        .iter()
        .filter_map(|area| Some((area.id?, area.name, Place::Sim(area.host?))));
    let known = KNOWN_AREAS.iter().map(|known| {
        let place = match known.host {
            AreaHost::Sim(host) => Place::Sim(host),
            AreaHost::Organization(host) => Place::Organization(host),
            AreaHost::Global(host) => Place::Global(host),
        };
        (known.id, known.name, place)
    });
    served.chain(known)
}

fn area_json(app: &SharedApp, scope: &Scope, id: &str, name: &str, place: Place) -> Value {
    let base = match place {
        Place::Sim(Host::Dev) => app.urls.dev.clone(),
        Place::Sim(Host::Vssps) => app.urls.vssps.clone(),
        Place::Sim(Host::Vsaex) => app.urls.vsaex.clone(),
        Place::Organization(host) | Place::Global(host) => format!("https://{host}"),
    };
    let location_url = match (scope, place) {
        (_, Place::Global(_)) | (Scope::Deployment, _) => format!("{base}/"),
        (Scope::Organization(org), _) => format!("{base}/{org}/"),
    };
    json!({ "id": id, "name": name, "locationUrl": location_url })
}

fn list_for(app: &SharedApp, scope: Scope) -> ApiResult {
    let values = published()
        .map(|(id, name, place)| area_json(app, &scope, id, name, place))
        .collect();
    Ok(ok(collection(values)))
}

fn one_for(app: &SharedApp, scope: Scope, area_id: &str) -> ApiResult {
    published()
        .find(|(id, _, _)| id.eq_ignore_ascii_case(area_id))
        .map(|(id, name, place)| ok(area_json(app, &scope, id, name, place)))
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
