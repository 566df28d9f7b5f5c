//! The HTTP side: one router per simulated host.

pub mod app;
pub mod auth;
mod checks;
mod control_api;
mod core;
pub mod discovery;
mod entitlements;
mod entra;
pub mod error;
mod graph;
pub mod middleware;
pub mod params;
mod permissions;
mod respond;
mod security_roles;
pub mod version;

use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::Router;

use app::SharedApp;
use discovery::catalog::{Endpoint, Host};
use discovery::ApiRoutes;
use error::ApiError;
use middleware::LogConfig;

use crate::control::Control;
use crate::log::HostKind;

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    ApiError::route_not_found(uri.path()).into_response()
}

fn log_layer(app: &SharedApp, host: HostKind) -> LogConfig {
    LogConfig {
        app: app.clone(),
        host,
    }
}

/// Authentication, throttling, faults and logging around Azure DevOps routes.
fn azure_devops_layers(router: Router<SharedApp>, app: &SharedApp, host: HostKind) -> Router {
    router
        .fallback(not_found)
        .layer(from_fn_with_state(app.clone(), middleware::inject_faults))
        .layer(from_fn_with_state(
            app.clone(),
            middleware::version_switches,
        ))
        .layer(from_fn_with_state(app.clone(), middleware::throttle))
        .layer(from_fn_with_state(app.clone(), auth::authenticate))
        .layer(from_fn_with_state(
            log_layer(app, host),
            middleware::log_requests,
        ))
        .with_state(app.clone())
}

/// The Azure DevOps routes of a host (discovery aside).
fn api_routes(host: Host) -> ApiRoutes {
    match host {
        Host::Dev => core::routes()
            .merge(permissions::routes())
            .merge(checks::routes())
            .merge(security_roles::routes()),
        Host::Vssps => graph::routes(),
        Host::Vsaex => entitlements::routes(),
    }
}

/// Every catalog endpoint a host's router serves, as registered.
pub fn registered_endpoints(host: Host) -> Vec<&'static Endpoint> {
    let mut endpoints = api_routes(host).served().to_vec();
    endpoints.extend(discovery::resource_area_routes().served());
    endpoints
}

fn azure_devops_host(app: &SharedApp, host: Host, kind: HostKind) -> Router {
    let routes = api_routes(host)
        .into_router()
        .merge(discovery::routes(host));
    azure_devops_layers(routes, app, kind)
}

/// `dev.azure.com`: core resources, pipeline permissions, discovery, and the `/_sim` control API.
pub fn dev_router(app: &SharedApp, control: Control) -> Router {
    Router::new()
        .nest("/_sim", control_api::routes(control))
        .merge(azure_devops_host(app, Host::Dev, HostKind::Dev))
}

/// `vssps.dev.azure.com`: Graph and discovery.
pub fn vssps_router(app: &SharedApp) -> Router {
    azure_devops_host(app, Host::Vssps, HostKind::Vssps)
}

/// `vsaex.dev.azure.com`: Member Entitlement Management, its operations, and discovery.
pub fn vsaex_router(app: &SharedApp) -> Router {
    azure_devops_host(app, Host::Vsaex, HostKind::Vsaex)
}

/// `login.microsoftonline.com`: token endpoint, discovery, managed identity.
pub fn login_router(app: &SharedApp) -> Router {
    entra::routes()
        .fallback(not_found)
        .layer(from_fn_with_state(
            log_layer(app, HostKind::Login),
            middleware::log_requests,
        ))
        .with_state(app.clone())
}

#[cfg(test)]
mod coverage_tests {
    use super::discovery::catalog::{endpoints_of, Host};
    use super::registered_endpoints;

    fn key(e: &super::Endpoint) -> (super::discovery::catalog::Verb, &'static str) {
        (e.verb, e.path)
    }

    /// The routers serve exactly what the catalog (and so discovery) publishes, once each.
    #[test]
    fn routers_serve_exactly_the_catalog() {
        for host in Host::ALL {
            let mut registered: Vec<_> = registered_endpoints(host).into_iter().map(key).collect();
            let count = registered.len();
            registered.sort();
            registered.dedup();
            assert_eq!(
                registered.len(),
                count,
                "{host:?}: an endpoint is registered twice"
            );
            let mut published: Vec<_> = endpoints_of(host).map(key).collect();
            published.sort();
            assert_eq!(registered, published, "{host:?}");
        }
    }
}

pub mod normalize {
    //! Azure DevOps routes are case-insensitive (`_apis/graph/Memberships`, `_apis/Graph/Groups`):
    //! the fixed words of the routes (from the catalog) are lowercased before routing (by the
    //! server, since router layers run after routing).

    use axum::http::Uri;

    use super::discovery::catalog::ROUTE_WORDS;

    pub fn normalized(path: &str) -> String {
        path.split('/')
            .map(|segment| {
                let lower = segment.to_ascii_lowercase();
                if ROUTE_WORDS.contains(lower.as_str()) {
                    lower
                } else {
                    segment.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The URI with its route words lowercased (unchanged when nothing needs it).
    pub fn normalize_uri(uri: &Uri) -> Option<Uri> {
        let path = uri.path();
        let new_path = normalized(path);
        if new_path == path {
            return None;
        }
        let path_and_query = match uri.query() {
            Some(query) => format!("{new_path}?{query}"),
            None => new_path,
        };
        let mut parts = uri.clone().into_parts();
        parts.path_and_query = Some(path_and_query.parse().ok()?);
        Uri::from_parts(parts).ok()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn lowercases_route_words_only() {
            assert_eq!(
                super::normalized("/contoso/_apis/Graph/Memberships/aad.QUJD/vssgp.WFla"),
                "/contoso/_apis/graph/memberships/aad.QUJD/vssgp.WFla"
            );
            assert_eq!(
                super::normalized(
                    "/contoso/Storefront/_apis/Pipelines/PipelinePermissions/Queue/1"
                ),
                "/contoso/Storefront/_apis/pipelines/pipelinepermissions/Queue/1"
            );
        }
    }
}
