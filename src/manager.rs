//! `azdo-operator run`: the controller manager. Connects to Kubernetes, serves health and
//! metrics, elects a leader, fills the caches and runs every controller until SIGTERM/SIGINT.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use futures::future::{FutureExt, Shared};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_lease_manager::LeaseManagerBuilder;
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::ado::{AdoMetrics, ClientLimits, ThrottleConfig};
use crate::cli::RunArgs;
use crate::controller::{self, Context, OrganizationRegistry, Scope, Settings};
use crate::telemetry::{self, ControllerMetrics, EventPublisher, Health};

/// A future that resolves once, when shutdown starts; cheap to clone.
pub type ShutdownSignal = Shared<futures::future::BoxFuture<'static, ()>>;

fn shutdown_signal(trigger: watch::Receiver<bool>) -> ShutdownSignal {
    async move {
        let mut trigger = trigger;
        let _ = trigger.wait_for(|stop| *stop).await;
    }
    .boxed()
    .shared()
}

async fn os_signals(stop: watch::Sender<bool>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => futures::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = futures::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down");
    let _ = stop.send(true);
}

async fn kube_client(args: &RunArgs) -> anyhow::Result<kube::Client> {
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?
        }
        None => kube::Config::infer()
            .await
            .context("no in-cluster configuration and no kubeconfig")?,
    };
    Ok(kube::Client::try_from(config)?)
}

/// Run every controller until shutdown.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    telemetry::init_logging(args.log_format, &args.log_level)?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let kube = kube_client(&args).await?;
    let identity = args.replica_identity();
    tracing::info!(version = crate::VERSION, identity = %identity, "starting azdo-operator");

    let mut registry = Registry::default();
    let controller_metrics = Arc::new(ControllerMetrics::register(&mut registry));
    let ado_metrics = Arc::new(AdoMetrics::register(&mut registry));
    let registry = Arc::new(Mutex::new(registry));
    let health = Arc::new(Health::default());

    let (stop_tx, stop_rx) = watch::channel(false);
    let shutdown = shutdown_signal(stop_rx);
    tokio::spawn(os_signals(stop_tx.clone()));
    let (bound, server) = telemetry::serve(
        args.metrics_addr,
        registry.clone(),
        health.clone(),
        shutdown.clone(),
    )
    .await?;
    tracing::info!(address = %bound, "serving /healthz, /readyz and /metrics");

    let extra_ca = match &args.extra_ca_file {
        Some(path) => Some(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => None,
    };
    let limits = ClientLimits {
        throttle: ThrottleConfig {
            max_concurrency: args.org_concurrency.max(1),
            ..ThrottleConfig::default()
        },
        ..ClientLimits::default()
    };
    let orgs = OrganizationRegistry::new(
        kube.clone(),
        ado_metrics,
        limits,
        args.authority_host.clone(),
        extra_ca,
    );
    let events = EventPublisher::new(kube.clone(), "azdo-operator", identity.clone());

    let scope = Scope {
        namespaces: args.watch_namespaces.clone(),
    };
    let (stores, shared_controllers, cache_task) = controller::start_caches(&kube, &scope).await?;
    let cache_task = tokio::spawn(cache_task);
    tokio::select! {
        ready = controller::caches_ready(&stores) => ready?,
        _ = shutdown.clone() => return Ok(()),
    }
    health.set_ready(true);
    tracing::info!("caches synced");

    // Leader election: only the holder of the Lease reconciles; losing it ends the process so
    // the replacement starts from a clean slate.
    let mut lease_task = None;
    let mut lost_leadership = futures::future::pending::<()>().boxed();
    if args.leader_election {
        let manager = LeaseManagerBuilder::new(kube.clone(), &args.leader_election_lease)
            .with_namespace(args.lease_namespace())
            .with_identity(&identity)
            .with_duration(args.lease_duration.as_secs().max(2) as _)
            .with_grace((args.lease_duration.as_secs() / 3).max(1) as _)
            .build()
            .await
            .context("setting up leader election")?;
        let (mut channel, task) = manager.watch().await;
        tracing::info!(lease = %args.leader_election_lease, "waiting for leadership");
        loop {
            if *channel.borrow_and_update() {
                break;
            }
            tokio::select! {
                changed = channel.changed() => changed.context("leader election stopped")?,
                _ = shutdown.clone() => return Ok(()),
            }
        }
        tracing::info!("acquired leadership");
        let stop = stop_tx.clone();
        lost_leadership = async move {
            while channel.changed().await.is_ok() {
                if !*channel.borrow() {
                    break;
                }
            }
            tracing::error!("lost leadership; stopping");
            let _ = stop.send(true);
        }
        .boxed();
        lease_task = Some(task);
    }

    let ctx = Arc::new(Context::new(
        kube.clone(),
        Settings {
            resync: args.resync_interval,
            jitter: args.resync_jitter,
            ledger_namespace: args.lease_namespace(),
            reconcile_timeout: args.reconcile_timeout,
            observe: args.observe,
            reconcile_concurrency: usize::from(args.reconcile_concurrency),
            namespace_share: usize::from(
                args.namespace_share
                    .unwrap_or(args.reconcile_concurrency.div_ceil(2)),
            ),
        },
        orgs,
        controller_metrics,
        events,
        stores,
    ));
    let controllers = controller::run_controllers(
        ctx,
        scope,
        shared_controllers,
        args.reconcile_concurrency,
        shutdown.clone(),
    );
    tokio::select! {
        _ = controllers => {}
        _ = lost_leadership => {}
    }
    health.set_ready(false);
    cache_task.abort();
    // The leadership watcher (and its channel) is gone now, so the lease task ends and hands
    // back its manager: release the Lease so a standby replica takes over at once.
    if let Some(task) = lease_task {
        match tokio::time::timeout(Duration::from_secs(5), task).await {
            Ok(Ok(Ok(manager))) => match manager.release().await {
                Ok(()) => tracing::info!("released the leader Lease"),
                Err(err) => tracing::warn!(error = %err, "cannot release the leader Lease"),
            },
            Ok(Ok(Err(err))) => tracing::warn!(error = %err, "leader election ended with an error"),
            Ok(Err(err)) => tracing::warn!(error = %err, "leader election task failed"),
            Err(_) => tracing::warn!("leader election did not stop in time"),
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    tracing::info!("stopped");
    Ok(())
}
