//! Registering handlers through the catalog: the path, the method and the api-version policy
//! of every Azure DevOps route come from its [`Endpoint`], and the registry remembers what it
//! served so tests can hold the routers and the catalog to each other.

use axum::handler::Handler;
use axum::middleware::from_fn_with_state;
use axum::routing::on;
use axum::Router;

use super::catalog::Endpoint;
use crate::http::app::SharedApp;
use crate::http::version::{self, VersionPolicy};

#[derive(Default)]
pub struct ApiRoutes {
    router: Router<SharedApp>,
    served: Vec<&'static Endpoint>,
}

impl ApiRoutes {
    pub fn new() -> ApiRoutes {
        ApiRoutes::default()
    }

    /// Serves `endpoint` with `handler`, enforcing its location's api-version rules.
    pub fn serve<H, T>(mut self, endpoint: &'static Endpoint, handler: H) -> ApiRoutes
    where
        H: Handler<T, SharedApp>,
        T: 'static,
    {
        let policy = VersionPolicy::released_at(
            endpoint.location.released_version,
            endpoint.location.resource_version,
        );
        let method_router = on(endpoint.verb.filter(), handler)
            .route_layer(from_fn_with_state(policy, version::enforce));
        self.router = self.router.route(endpoint.path, method_router);
        self.served.push(endpoint);
        self
    }

    pub fn merge(mut self, other: ApiRoutes) -> ApiRoutes {
        self.router = self.router.merge(other.router);
        self.served.extend(other.served);
        self
    }

    /// The endpoints registered so far, in registration order.
    pub fn served(&self) -> &[&'static Endpoint] {
        &self.served
    }

    pub fn into_router(self) -> Router<SharedApp> {
        self.router
    }
}
