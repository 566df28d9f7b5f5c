//! The simulator: four TLS listeners on loopback (dev, vssps, vsaex, login hosts).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::issuers::IssuerKeys;
use crate::auth::tokens::TokenService;
use crate::control::{Control, Initial};
use crate::http::app::{App, AppParts, SharedApp, Urls};
use crate::http::middleware::ConnectionHandle;
use crate::http::normalize::normalize_uri;
use crate::model::build_state;
use crate::options::SimOptions;
use crate::seed::Seed;
use crate::tls::ServerIdentity;

/// A running simulator. Dropping it without [`Simulator::shutdown`] also stops it (the
/// listener tasks end when their shutdown channel closes).
pub struct Simulator {
    dev_addr: SocketAddr,
    vssps_addr: SocketAddr,
    vsaex_addr: SocketAddr,
    login_addr: SocketAddr,
    ca_pem: String,
    control: Control,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("dev", &self.dev_addr)
            .field("vssps", &self.vssps_addr)
            .field("vsaex", &self.vsaex_addr)
            .field("login", &self.login_addr)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    pub async fn start(seed: Seed, options: SimOptions) -> anyhow::Result<Simulator> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let state = build_state(&seed)?;
        let identity = ServerIdentity::generate()?;
        let acceptor = TlsAcceptor::from(identity.server_config()?);

        let dev = TcpListener::bind((options.listen, options.dev_port)).await?;
        let vssps = TcpListener::bind((options.listen, options.vssps_port)).await?;
        let vsaex = TcpListener::bind((options.listen, options.vsaex_port)).await?;
        let login = TcpListener::bind((options.listen, options.login_port)).await?;
        let (dev_addr, vssps_addr, vsaex_addr, login_addr) = (
            dev.local_addr()?,
            vssps.local_addr()?,
            vsaex.local_addr()?,
            login.local_addr()?,
        );
        let url = |addr: SocketAddr| format!("https://{addr}");
        let urls = Urls {
            dev: url(dev_addr),
            vssps: url(vssps_addr),
            vsaex: url(vsaex_addr),
            login: url(login_addr),
        };

        let mut trusted = seed.trusted_issuers.clone();
        trusted.extend(options.trusted_issuers.iter().cloned());
        let mut issuer_ca = identity.ca_pem.clone();
        if let Some(extra) = &options.issuer_ca_pem {
            issuer_ca.push('\n');
            issuer_ca.push_str(extra);
        }
        let issuers = IssuerKeys::new(trusted, Some(&issuer_ca))?;
        let behaviours = options
            .behaviours
            .clone()
            .or_else(|| seed.behaviours.clone())
            .unwrap_or_default();
        let app: SharedApp = Arc::new(App::new(AppParts {
            seed,
            state,
            urls,
            tokens: TokenService::generate()?,
            issuers,
            behaviours: behaviours.clone(),
            faults: options.faults.clone(),
            access_token_lifetime: options.access_token_lifetime,
            managed_identity_secret: options.managed_identity_secret.clone(),
        }));
        let control = Control::new(
            app.clone(),
            Initial {
                behaviours,
                faults: options.faults.clone(),
            },
        );

        let (shutdown, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        // A handler panic becomes a 500 instead of a reset connection.
        let routers = [
            (dev, crate::http::dev_router(&app, control.clone())),
            (vssps, crate::http::vssps_router(&app)),
            (vsaex, crate::http::vsaex_router(&app)),
            (login, crate::http::login_router(&app)),
        ]
        .map(|(listener, router)| (listener, router.layer(CatchPanicLayer::new())));
        for (listener, router) in routers {
            tasks.spawn(accept_loop(
                listener,
                acceptor.clone(),
                router,
                shutdown.subscribe(),
            ));
        }
        Ok(Simulator {
            dev_addr,
            vssps_addr,
            vsaex_addr,
            login_addr,
            ca_pem: identity.ca_pem,
            control,
            shutdown,
            tasks,
        })
    }

    /// `https://127.0.0.1:PORT` (the `dev.azure.com` host); an organization URL is `{dev_url}/{org}`.
    pub fn dev_url(&self) -> String {
        format!("https://{}", self.dev_addr)
    }

    /// The Graph host (`vssps.dev.azure.com`).
    pub fn vssps_url(&self) -> String {
        format!("https://{}", self.vssps_addr)
    }

    /// The Member Entitlement Management host (`vsaex.dev.azure.com`).
    pub fn vsaex_url(&self) -> String {
        format!("https://{}", self.vsaex_addr)
    }

    /// The Entra authority host (`AZURE_AUTHORITY_HOST`).
    pub fn login_url(&self) -> String {
        format!("https://{}", self.login_addr)
    }

    /// The managed identity endpoint for `IDENTITY_ENDPOINT` (App Service style).
    pub fn managed_identity_endpoint(&self) -> String {
        format!("{}/msi/token", self.login_url())
    }

    /// The CA that signed the serving certificate, as PEM.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    pub fn control(&self) -> Control {
        self.control.clone()
    }

    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

pub(crate) async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let (stream, _) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let shutdown = shutdown.clone();
        connections.spawn(serve_connection(stream, acceptor, router, shutdown));
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
    }
    connections.shutdown().await;
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    // Answers go out as soon as they are written (as from any HTTP front end): with Nagle's
    // algorithm, the frames of an answer could wait for the client's acknowledgement of the
    // previous ones.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
    let tls = match acceptor.accept(stream).await {
        Ok(tls) => tls,
        Err(e) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            return;
        }
    };
    let killer = Arc::new(Notify::new());
    let handle = ConnectionHandle(killer.clone());
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let router = router.clone();
        let handle = handle.clone();
        async move {
            request.extensions_mut().insert(handle);
            if let Some(uri) = normalize_uri(request.uri()) {
                *request.uri_mut() = uri;
            }
            router.oneshot(request.map(Body::new)).await
        }
    });
    let builder = Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        _ = killer.notified() => {
            // Dropped-connection fault: close the socket without answering.
        }
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}
