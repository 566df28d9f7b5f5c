//! Route discovery as the official SDKs use it: `GET {org}/_apis/ResourceAreas` tells which
//! host serves each resource area, and `OPTIONS {org}/_apis` lists the API resource locations
//! a host serves (ids, route templates, versions), from which clients negotiate the version
//! and build every URL. Both are authenticated like every other call (a client that cannot
//! discover gets the same 401 it would get anywhere), at organization level and at deployment
//! level (no organization in the path: any valid identity).
//!
//! Everything published here comes from [`catalog`], the table the routers register through.

pub mod api_routes;
pub mod catalog;
mod locations;
mod resource_areas;

use axum::extract::{Path, State};
use axum::routing::options;
use axum::Router;

pub use api_routes::ApiRoutes;
use catalog::Host;

use super::app::SharedApp;

/// The resource area endpoints (every host serves them).
pub fn resource_area_routes() -> ApiRoutes {
    ApiRoutes::new()
        .serve(&catalog::LIST_RESOURCE_AREAS, resource_areas::list)
        .serve(&catalog::GET_RESOURCE_AREA, resource_areas::get_one)
        .serve(
            &catalog::LIST_DEPLOYMENT_RESOURCE_AREAS,
            resource_areas::list_deployment,
        )
        .serve(
            &catalog::GET_DEPLOYMENT_RESOURCE_AREA,
            resource_areas::get_deployment,
        )
}

/// Resource areas and `OPTIONS _apis` for one host.
pub fn routes(host: Host) -> Router<SharedApp> {
    resource_area_routes()
        .into_router()
        .route(
            "/{org}/_apis",
            options(move |state: State<SharedApp>, org: Path<String>| {
                locations::organization(state, org, host)
            }),
        )
        .route(
            "/_apis",
            options(move || std::future::ready(locations::deployment(host))),
        )
}
