//! The HTTP side: one router per simulated host.

pub mod app;
pub mod auth;
mod control_api;
mod core;
mod entra;
pub mod error;
mod graph;
pub mod middleware;
pub mod params;
mod permissions;
mod respond;
pub mod version;

use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::Router;

use app::SharedApp;
use error::ApiError;
use middleware::LogConfig;
use version::VersionPolicy;

use crate::control::Control;
use crate::log::HostKind;

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    ApiError::route_not_found(uri.path()).into_response()
}

/// Authentication, throttling, faults and logging around Azure DevOps routes.
fn azure_devops_layers(router: Router<SharedApp>, app: &SharedApp, host: HostKind) -> Router {
    router
        .fallback(not_found)
        .layer(from_fn_with_state(app.clone(), middleware::inject_faults))
        .layer(from_fn_with_state(app.clone(), middleware::throttle))
        .layer(from_fn_with_state(app.clone(), auth::authenticate))
        .layer(from_fn_with_state(
            LogConfig {
                app: app.clone(),
                host,
            },
            middleware::log_requests,
        ))
        .with_state(app.clone())
}

/// `dev.azure.com`: core resources, pipeline permissions, and the `/_sim` control API.
pub fn dev_router(app: &SharedApp, control: Control) -> Router {
    let core = core::routes().route_layer(from_fn_with_state(
        VersionPolicy {
            preview_only: false,
        },
        version::enforce,
    ));
    let permissions = permissions::routes().route_layer(from_fn_with_state(
        VersionPolicy { preview_only: true },
        version::enforce,
    ));
    let ado = azure_devops_layers(core.merge(permissions), app, HostKind::Dev);
    Router::new()
        .nest("/_sim", control_api::routes(control))
        .merge(ado)
}

/// `vssps.dev.azure.com`: Graph.
pub fn vssps_router(app: &SharedApp) -> Router {
    let graph = graph::routes().route_layer(from_fn_with_state(
        VersionPolicy { preview_only: true },
        version::enforce,
    ));
    azure_devops_layers(graph, app, HostKind::Vssps)
}

/// `login.microsoftonline.com`: token endpoint, discovery, managed identity.
pub fn login_router(app: &SharedApp) -> Router {
    entra::routes()
        .fallback(not_found)
        .layer(from_fn_with_state(
            LogConfig {
                app: app.clone(),
                host: HostKind::Login,
            },
            middleware::log_requests,
        ))
        .with_state(app.clone())
}

pub mod normalize {
    //! Azure DevOps routes are case-insensitive (`_apis/graph/Memberships`, `_apis/Graph/Groups`):
    //! the fixed words of the routes are lowercased before routing (by the server, since
    //! router layers run after routing).

    use axum::http::Uri;

    const ROUTE_WORDS: &[&str] = &[
        "_apis",
        "graph",
        "groups",
        "users",
        "serviceprincipals",
        "memberships",
        "membershipstates",
        "descriptors",
        "storagekeys",
        "subjectquery",
        "subjectlookup",
        "subjects",
        "projects",
        "build",
        "definitions",
        "distributedtask",
        "queues",
        "pools",
        "environments",
        "variablegroups",
        "securefiles",
        "serviceendpoint",
        "endpoints",
        "git",
        "repositories",
        "pipelines",
        "pipelinepermissions",
    ];

    pub fn normalized(path: &str) -> String {
        path.split('/')
            .map(|segment| {
                let lower = segment.to_ascii_lowercase();
                if ROUTE_WORDS.contains(&lower.as_str()) {
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
