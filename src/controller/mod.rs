//! The controllers: one reconciler per kind, sharing one [`Context`].

mod authorization;
mod context;
mod cycles;
mod error;
mod group;
mod membership;
mod object_context;
mod organization;
mod organizations;
mod protection;
mod reconcile;
mod set_sync;
mod status;
mod stored;

pub use context::{Context, Settings, Stores};
pub use error::{Error, Retry};
pub use organizations::{OrgHandle, OrgKey, OrgSpec, OrganizationRegistry};
pub use reconcile::{error_policy, reconcile, Reconciled};
pub use status::FIELD_MANAGER;
pub use stored::Stored;

use std::future::Future;
use std::sync::Arc;

use futures::{future, FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Resource, ResourceExt};

use crate::api::{
    ClusterDevOpsOrganization, DevOpsGroup, DevOpsMembership, DevOpsOrganization, OrganizationKind,
    OrganizationRef, PipelineResourceAuthorization,
};

/// Longest wait between two attempts of a failing watch.
const WATCH_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// The backoff of every watch and controller trigger stream: exponential from 250 ms, with
/// jitter, capped at [`WATCH_BACKOFF_MAX`], reset by the first event that gets through.
///
/// kube-runtime's default grows to 30 s, and a controller shares one backoff among all its
/// watches (its own kind, the organizations, the groups). After kube-apiserver restarts, each
/// of those watches first fails once with 410 Gone (its resource version predates the new
/// apiserver's watch cache) before it lists again, and the shared backoff serves those
/// failures one after the other: with the default a controller stayed deaf to new objects for
/// over a minute (seen in the e2e apiserver-restart test). With this cap it hears them again
/// within seconds, and a dead apiserver still gets at most one attempt every 2 s per stream.
fn watch_backoff() -> watcher::ExponentialBackoff {
    backon::ExponentialBuilder::default()
        .with_min_delay(std::time::Duration::from_millis(250))
        .with_max_delay(WATCH_BACKOFF_MAX)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .into()
}

/// A cache of the readable objects of one kind, and the task that fills it.
fn cache_of<K>(kube: &kube::Client) -> (Store<K>, future::BoxFuture<'static, ()>)
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (store, writer) = reflector::store();
    let fill = stored::only_valid(
        watcher(
            Api::<Stored<K>>::all(kube.clone()),
            watcher::Config::default(),
        )
        .backoff(watch_backoff()),
    )
    .reflect(writer)
    .for_each(|_| future::ready(()))
    .boxed();
    (store, fill)
}

/// Start reflectors for the objects reconcilers look up and wait until they are filled.
pub async fn start_caches(
    kube: &kube::Client,
) -> anyhow::Result<(Stores, impl Future<Output = ()> + Send)> {
    let (cluster_orgs, fill_cluster_orgs) = cache_of::<ClusterDevOpsOrganization>(kube);
    let (orgs, fill_orgs) = cache_of::<DevOpsOrganization>(kube);
    let (groups, fill_groups) = cache_of::<DevOpsGroup>(kube);
    let (memberships, fill_memberships) = cache_of::<DevOpsMembership>(kube);
    let (namespaces, writer) = reflector::store();
    let fill_namespaces = watcher(
        Api::<PartialObjectMeta<Namespace>>::all(kube.clone()),
        watcher::Config::default(),
    )
    .backoff(watch_backoff())
    .reflect(writer)
    .for_each(|_| future::ready(()))
    .boxed();
    let task = future::join_all([
        fill_cluster_orgs,
        fill_orgs,
        fill_groups,
        fill_memberships,
        fill_namespaces,
    ])
    .map(|_| ());
    Ok((
        Stores {
            cluster_orgs,
            orgs,
            groups,
            memberships,
            namespaces,
        },
        task,
    ))
}

/// Wait until every cache has its first full list.
pub async fn caches_ready(stores: &Stores) -> anyhow::Result<()> {
    stores.cluster_orgs.wait_until_ready().await?;
    stores.orgs.wait_until_ready().await?;
    stores.groups.wait_until_ready().await?;
    stores.namespaces.wait_until_ready().await?;
    stores.memberships.wait_until_ready().await?;
    Ok(())
}

/// Which namespaces the controllers act in.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Empty: all namespaces.
    pub namespaces: Vec<String>,
}

impl Scope {
    fn api<K>(&self, kube: &kube::Client) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        match self.namespaces.as_slice() {
            [one] => Api::namespaced(kube.clone(), one),
            _ => Api::all(kube.clone()),
        }
    }

    fn contains(&self, namespace: Option<String>) -> bool {
        self.namespaces.is_empty() || namespace.is_some_and(|ns| self.namespaces.contains(&ns))
    }
}

fn refers_to(
    reference: &OrganizationRef,
    namespace: Option<String>,
    kind: OrganizationKind,
    org_ns: Option<&str>,
    org_name: &str,
) -> bool {
    reference.kind == kind
        && reference.name == org_name
        && (kind == OrganizationKind::ClusterDevOpsOrganization || namespace.as_deref() == org_ns)
}

/// The objects of a store that use an organization.
fn users_of<K>(
    store: &Store<Stored<K>>,
    kind: OrganizationKind,
    org_ns: Option<String>,
    org_name: String,
    reference: fn(&K) -> &OrganizationRef,
) -> Vec<ObjectRef<Stored<K>>>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    stored::valid(store.state())
        .into_iter()
        .filter(|o| {
            refers_to(
                reference(o),
                o.namespace(),
                kind,
                org_ns.as_deref(),
                &org_name,
            )
        })
        .map(|o| stored::retype(ObjectRef::from_obj(&*o)))
        .collect()
}

/// A controller of `K` that watches every stored object of the kind, readable or not (see
/// [`Stored`]).
fn controller_of<K: Reconciled>(api: Api<Stored<K>>) -> Controller<Stored<K>> {
    Controller::new(api, watcher::Config::default()).trigger_backoff(watch_backoff())
}

/// Add watches on both organization kinds that trigger the objects using them.
fn watch_organizations<K: Reconciled>(
    controller: Controller<Stored<K>>,
    kube: &kube::Client,
    reference: fn(&K) -> &OrganizationRef,
) -> Controller<Stored<K>> {
    let store = controller.store();
    let store2 = store.clone();
    controller
        .watches(
            Api::<Stored<ClusterDevOpsOrganization>>::all(kube.clone()),
            watcher::Config::default(),
            move |org| {
                users_of(
                    &store,
                    OrganizationKind::ClusterDevOpsOrganization,
                    None,
                    org.name_any(),
                    reference,
                )
            },
        )
        .watches(
            Api::<Stored<DevOpsOrganization>>::all(kube.clone()),
            watcher::Config::default(),
            move |org| {
                users_of(
                    &store2,
                    OrganizationKind::DevOpsOrganization,
                    org.namespace(),
                    org.name_any(),
                    reference,
                )
            },
        )
}

/// Run every controller until `shutdown` resolves.
pub async fn run_controllers(
    ctx: Arc<Context>,
    scope: Scope,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Clone + Send + Sync + 'static,
) {
    let kube = ctx.kube.clone();
    let config = ControllerConfig::default().concurrency(concurrency);
    let everywhere = Scope::default();

    let cluster_orgs = controller_of(Api::<Stored<ClusterDevOpsOrganization>>::all(kube.clone()))
        .with_config(config.clone())
        .graceful_shutdown_on(shutdown.clone())
        .run(
            scoped::<ClusterDevOpsOrganization>(everywhere),
            stored_error_policy,
            ctx.clone(),
        )
        .for_each(log::<_>("ClusterDevOpsOrganization"));

    let orgs = controller_of(scope.api::<Stored<DevOpsOrganization>>(&kube))
        .with_config(config.clone())
        .graceful_shutdown_on(shutdown.clone())
        .run(
            scoped::<DevOpsOrganization>(scope.clone()),
            stored_error_policy,
            ctx.clone(),
        )
        .for_each(log::<_>("DevOpsOrganization"));

    let groups = watch_organizations(
        controller_of(scope.api::<Stored<DevOpsGroup>>(&kube)),
        &kube,
        |g: &DevOpsGroup| &g.spec.organization_ref,
    )
    .with_config(config.clone())
    .graceful_shutdown_on(shutdown.clone())
    .run(
        scoped::<DevOpsGroup>(scope.clone()),
        stored_error_policy,
        ctx.clone(),
    )
    .for_each(log::<_>("DevOpsGroup"));

    let memberships_controller = watch_organizations(
        controller_of(scope.api::<Stored<DevOpsMembership>>(&kube)),
        &kube,
        |m: &DevOpsMembership| &m.spec.organization_ref,
    );
    let membership_store = memberships_controller.store();
    let refused_store = membership_store.clone();
    let memberships = memberships_controller
        // Any change to a membership may open or close a cycle elsewhere: memberships that
        // refused a member for a cycle look again at once instead of at their next resync.
        .watches(
            Api::<Stored<DevOpsMembership>>::all(kube.clone()),
            watcher::Config::default(),
            move |changed| {
                membership::refused_for_cycle(&stored::valid(refused_store.state()), &changed)
                    .into_iter()
                    .map(stored::retype)
                    .collect::<Vec<_>>()
            },
        )
        .watches(
            Api::<Stored<DevOpsGroup>>::all(kube.clone()),
            watcher::Config::default(),
            move |group| match group.valid() {
                Some(group) => {
                    membership::referencing(&stored::valid(membership_store.state()), group)
                        .into_iter()
                        .map(stored::retype)
                        .collect()
                }
                None => Vec::new(),
            },
        )
        .with_config(config.clone())
        .graceful_shutdown_on(shutdown.clone())
        .run(
            scoped::<DevOpsMembership>(scope.clone()),
            stored_error_policy,
            ctx.clone(),
        )
        .for_each(log::<_>("DevOpsMembership"));

    let authorizations = watch_organizations(
        controller_of(scope.api::<Stored<PipelineResourceAuthorization>>(&kube)),
        &kube,
        |p: &PipelineResourceAuthorization| &p.spec.organization_ref,
    )
    .with_config(config)
    .graceful_shutdown_on(shutdown)
    .run(
        scoped::<PipelineResourceAuthorization>(scope),
        stored_error_policy,
        ctx,
    )
    .for_each(log::<_>("PipelineResourceAuthorization"));

    future::join5(cluster_orgs, orgs, groups, memberships, authorizations).await;
}

/// Log what the controller stream reports (reconcile errors are already logged and in status).
fn log<T>(
    kind: &'static str,
) -> impl FnMut(Result<T, kube::runtime::controller::Error<Error, watcher::Error>>) -> future::Ready<()>
{
    move |result| {
        if let Err(err) = result {
            tracing::debug!(kind, error = %err, "controller event");
        }
        future::ready(())
    }
}

/// Wrap [`reconcile`] so objects outside the watched namespaces are left alone and objects
/// that cannot be read are reported instead of reconciled.
#[allow(clippy::type_complexity)]
fn scoped<K: Reconciled>(
    scope: Scope,
) -> impl FnMut(
    Arc<Stored<K>>,
    Arc<Context>,
) -> future::BoxFuture<'static, Result<kube::runtime::controller::Action, Error>> {
    move |obj, ctx| {
        let inside = scope.contains(obj.namespace());
        Box::pin(async move {
            if !inside {
                return Ok(kube::runtime::controller::Action::await_change());
            }
            match obj.valid() {
                Some(valid) => reconcile(valid.clone(), ctx).await,
                None => Ok(stored::report_malformed(&obj, &ctx).await),
            }
        })
    }
}

/// [`error_policy`] for [`Stored`] objects (only valid ones reach reconcile errors).
fn stored_error_policy<K: Reconciled>(
    obj: Arc<Stored<K>>,
    err: &Error,
    ctx: Arc<Context>,
) -> kube::runtime::controller::Action {
    match obj.valid() {
        Some(valid) => error_policy(valid.clone(), err, ctx),
        None => kube::runtime::controller::Action::await_change(),
    }
}
