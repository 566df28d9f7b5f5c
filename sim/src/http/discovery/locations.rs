//! `OPTIONS {org}/_apis`: the API resource locations a host serves.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::catalog::{locations_of, Host, Location};
use crate::http::app::SharedApp;
use crate::http::error::{ApiError, ApiResult};
use crate::http::respond::{collection, ok};

/// An `ApiResourceLocation` (versions as strings, as the service writes them).
pub fn location_json(location: &Location) -> Value {
    json!({
        "id": location.id,
        "area": location.area.name,
        "resourceName": location.resource_name,
        "routeTemplate": location.route_template,
        "resourceVersion": location.resource_version,
        "minVersion": location.min_version,
        "maxVersion": location.max_version(),
        "releasedVersion": location.released_version,
    })
}

fn published(host: Host, deployment: bool) -> Response {
    ok(collection(
        locations_of(host, deployment).map(location_json).collect(),
    ))
}

pub async fn organization(
    State(app): State<SharedApp>,
    Path(org): Path<String>,
    host: Host,
) -> ApiResult {
    if app.state().organization(&org).is_none() {
        return Err(ApiError::organization_not_found(&org));
    }
    Ok(published(host, false))
}

pub fn deployment(host: Host) -> Response {
    published(host, true)
}
