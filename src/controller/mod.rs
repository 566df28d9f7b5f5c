//! The controllers: one reconciler per kind, sharing one [`Context`].

mod authorization;
mod check;
mod claims;
mod context;
mod cycles;
mod entitlement;
mod error;
mod fairness;
mod grants;
mod group;
mod ledger;
mod membership;
mod object_context;
mod observe;
mod organization;
mod organization_registry;
mod outcome;
// `export` derives an organization's name and Graph URL the way organizations do.
pub(crate) use organization_registry::{graph_url_of, organization_name_of};
mod protection;
mod reconcile;
mod resync;
mod role_assignment;
mod set_sync;
mod status;
mod stored;

use context::backoff_key;
pub use context::{Context, Settings, Stores};
pub use error::{Error, Retry};
pub use organization_registry::{OrgHandle, OrgKey, OrgSpec, OrganizationRegistry};
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
use kube::runtime::{predicates, watcher, Predicate, PredicateConfig, WatchStreamExt};
use kube::{Api, Resource, ResourceExt};

use crate::api::{
    ClusterDevOpsOrganization, DevOpsEntitlement, DevOpsGroup, DevOpsMembership,
    DevOpsOrganization, DevOpsRoleAssignment, OrganizationKind, OrganizationRef,
    PipelineResourceAuthorization, PipelineResourceCheck,
};
use crate::telemetry::ReadyCounts;

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
        + stored::Cached
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
    .for_each(log_watch_errors(K::kind(&()).into_owned()))
    .boxed();
    (store, fill)
}

/// A `for_each` step for a cache's watch stream that logs its errors (see [`watch_failed`]).
fn log_watch_errors<T>(kind: String) -> impl FnMut(Result<T, watcher::Error>) -> future::Ready<()> {
    move |event| {
        if let Err(err) = event {
            watch_failed(&kind, &err);
        }
        future::ready(())
    }
}

/// Log a failed watch of `kind`. Each failure is one line: the watch retries with
/// [`watch_backoff`], so a watch that keeps failing logs at most one line per attempt (every
/// 2 s at the most). 410 Gone is expected (the watch's resource version expired, as after every
/// apiserver restart; the watcher lists again at once) and logged at debug only.
fn watch_failed(kind: &str, err: &watcher::Error) {
    let expired = match err {
        watcher::Error::WatchError(status) => status.code == 410,
        watcher::Error::WatchFailed(kube::Error::Api(status))
        | watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status)) => status.code == 410,
        _ => false,
    };
    if expired {
        tracing::debug!(kind, error = %err, "watch expired; listing again");
    } else {
        tracing::warn!(kind, error = %err, "watch failed; retrying");
    }
}

/// A cache of every object of one kind as stored (readable or not), and the task that fills it.
fn stored_cache_of<K: Reconciled>(
    kube: &kube::Client,
) -> (Store<Stored<K>>, future::BoxFuture<'static, ()>) {
    let (store, writer) = reflector::store();
    let fill = watcher(
        Api::<Stored<K>>::all(kube.clone()),
        watcher::Config::default(),
    )
    .backoff(watch_backoff())
    .reflect(writer)
    .for_each(log_watch_errors(K::kind(&()).into_owned()))
    .boxed();
    (store, fill)
}

/// The controllers whose caches reconcilers of other kinds read too (cycle detection reads every
/// DevOpsGroup and DevOpsMembership): built before the [`Context`] that holds their stores.
pub struct SharedControllers {
    groups: Controller<Stored<DevOpsGroup>>,
    memberships: Controller<Stored<DevOpsMembership>>,
}

/// Start reflectors for the objects reconcilers look up (the organizations and namespaces are
/// waited for by [`caches_ready`]). DevOpsGroups and DevOpsMemberships are cached once: by
/// their controllers when those watch every namespace (their caches fill once they run, so
/// readers wait with [`Stores::related_ready`]), by caches of their own otherwise.
pub async fn start_caches(
    kube: &kube::Client,
    scope: &Scope,
) -> anyhow::Result<(Stores, SharedControllers, impl Future<Output = ()> + Send)> {
    let (cluster_orgs, fill_cluster_orgs) = cache_of::<ClusterDevOpsOrganization>(kube);
    let (orgs, fill_orgs) = cache_of::<DevOpsOrganization>(kube);
    let shared = SharedControllers {
        groups: controller_of(scope.api(kube)),
        memberships: memberships(kube, scope),
    };
    let mut fills = Vec::new();
    let (groups, memberships) = if scope.watches_every_namespace() {
        (shared.groups.store(), shared.memberships.store())
    } else {
        let (groups, fill_groups) = stored_cache_of::<DevOpsGroup>(kube);
        let (memberships, fill_memberships) = stored_cache_of::<DevOpsMembership>(kube);
        fills.extend([fill_groups, fill_memberships]);
        (groups, memberships)
    };
    let (namespaces, writer) = reflector::store();
    let fill_namespaces = watcher(
        Api::<PartialObjectMeta<Namespace>>::all(kube.clone()),
        watcher::Config::default(),
    )
    .backoff(watch_backoff())
    .reflect(writer)
    .for_each(log_watch_errors("Namespace".to_string()))
    .boxed();
    fills.extend([fill_cluster_orgs, fill_orgs, fill_namespaces]);
    let task = future::join_all(fills).map(|_| ());
    Ok((
        Stores {
            cluster_orgs,
            orgs,
            groups,
            memberships,
            namespaces,
        },
        shared,
        task,
    ))
}

/// Wait until every cache has its first full list.
pub async fn caches_ready(stores: &Stores) -> anyhow::Result<()> {
    stores.cluster_orgs.wait_until_ready().await?;
    stores.orgs.wait_until_ready().await?;
    stores.namespaces.wait_until_ready().await?;
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

    /// Whether the controllers' caches hold every namespace (one namespace is watched alone).
    fn watches_every_namespace(&self) -> bool {
        self.namespaces.len() != 1
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
/// [`Stored`]). An object is reconciled when its generation changes (a spec change, or its
/// deletion) or its annotations do (`kubectl annotate` asks for a reconcile at once), not on a
/// change of its status alone: the status the operator just
/// wrote would otherwise reconcile every object a second time, with every read again. Other
/// objects' changes (organizations, groups, memberships) still trigger it through `watches`,
/// the resync through the requeue, and the finalizer is added without waiting for its event
/// (see `reconcile::add_finalizer`).
fn controller_of<K: Reconciled>(api: Api<Stored<K>>) -> Controller<Stored<K>> {
    let (reader, writer) = reflector::store();
    let changed = watcher(api, watcher::Config::default())
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::annotations),
            PredicateConfig::default(),
        );
    Controller::for_stream(changed, reader).trigger_backoff(watch_backoff())
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

/// Add a watch on DevOpsGroups that triggers the objects naming the changed group by
/// `groupRef` (always one of their own namespace). An object applied with its group reports
/// `GroupNotReady` and is retried only at its resync (a new membership waits silently); this
/// wakes it as soon as the group reports. Metadata only: the trigger needs the group's name and namespace.
fn watch_groups<K: Reconciled>(
    controller: Controller<Stored<K>>,
    kube: &kube::Client,
    group_refs: fn(&K) -> Vec<&str>,
) -> Controller<Stored<K>> {
    let store = controller.store();
    let changed = watcher(
        Api::<PartialObjectMeta<DevOpsGroup>>::all(kube.clone()),
        watcher::Config::default(),
    )
    .backoff(watch_backoff())
    .touched_objects();
    controller.watches_stream(changed, move |group: PartialObjectMeta<DevOpsGroup>| {
        naming_group(
            &store,
            group.namespace().as_deref(),
            &group.name_any(),
            group_refs,
        )
    })
}

/// The objects of `store` in `namespace` whose `group_refs` name the group `name`.
fn naming_group<K>(
    store: &Store<Stored<K>>,
    namespace: Option<&str>,
    name: &str,
    group_refs: fn(&K) -> Vec<&str>,
) -> Vec<ObjectRef<Stored<K>>>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    stored::valid(store.state())
        .into_iter()
        .filter(|o| o.namespace().as_deref() == namespace && group_refs(o).contains(&name))
        .map(|o| stored::retype(ObjectRef::from_obj(&*o)))
        .collect()
}

/// The DevOpsGroups (by name, in the object's namespace) a membership's group and members, an
/// entitlement's principal, a role assignment's members or a check's approvers name. (A
/// membership's cached copy keeps its group and every member that may be a group.)
fn membership_group_refs(m: &DevOpsMembership) -> Vec<&str> {
    let mut refs = members_group_refs(&m.spec.members);
    refs.extend(m.spec.group.group_ref.iter().map(|r| r.name.as_str()));
    refs
}

fn entitlement_group_refs(e: &DevOpsEntitlement) -> Vec<&str> {
    e.spec
        .principal
        .group_ref
        .iter()
        .map(|r| r.name.as_str())
        .collect()
}

fn role_assignment_group_refs(r: &DevOpsRoleAssignment) -> Vec<&str> {
    r.spec
        .assignments
        .iter()
        .flat_map(|role| members_group_refs(&role.members))
        .collect()
}

fn check_group_refs(c: &PipelineResourceCheck) -> Vec<&str> {
    c.spec
        .checks
        .iter()
        .filter_map(|check| check.approval.as_ref())
        .flat_map(|approval| members_group_refs(&approval.approvers))
        .collect()
}

fn members_group_refs(members: &[crate::api::Member]) -> Vec<&str> {
    members
        .iter()
        .filter_map(|m| m.group_ref.as_ref())
        .map(|r| r.name.as_str())
        .collect()
}

/// Run every controller until `shutdown` resolves. A kind is one line here (plus the watches
/// of related kinds that trigger it).
pub async fn run_controllers(
    ctx: Arc<Context>,
    scope: Scope,
    shared: SharedControllers,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Clone + Send + Sync + 'static,
) {
    let kube = ctx.kube.clone();
    let kinds = Controllers {
        ctx,
        config: ControllerConfig::default().concurrency(concurrency),
        shutdown,
    };
    future::join_all([
        kinds.run(
            controller_of::<ClusterDevOpsOrganization>(Api::all(kube.clone())),
            Scope::default(),
        ),
        kinds.run(
            controller_of::<DevOpsOrganization>(scope.api(&kube)),
            scope.clone(),
        ),
        kinds.run(
            watch_organizations(shared.groups, &kube, |g: &DevOpsGroup| {
                &g.spec.organization_ref
            }),
            scope.clone(),
        ),
        kinds.run(shared.memberships, scope.clone()),
        kinds.run(
            watch_organizations(
                controller_of(scope.api(&kube)),
                &kube,
                |p: &PipelineResourceAuthorization| &p.spec.organization_ref,
            ),
            scope.clone(),
        ),
        kinds.run(
            watch_groups(
                watch_organizations(
                    controller_of(scope.api(&kube)),
                    &kube,
                    |r: &DevOpsRoleAssignment| &r.spec.organization_ref,
                ),
                &kube,
                role_assignment_group_refs,
            ),
            scope.clone(),
        ),
        kinds.run(
            watch_groups(
                watch_organizations(
                    controller_of(scope.api(&kube)),
                    &kube,
                    |c: &PipelineResourceCheck| &c.spec.organization_ref,
                ),
                &kube,
                check_group_refs,
            ),
            scope.clone(),
        ),
        kinds.run(
            watch_groups(
                watch_organizations(
                    controller_of(scope.api(&kube)),
                    &kube,
                    |e: &DevOpsEntitlement| &e.spec.organization_ref,
                ),
                &kube,
                entitlement_group_refs,
            ),
            scope,
        ),
        organization::forget_deleted(kinds.ctx.clone(), kinds.shutdown.clone()).boxed(),
    ])
    .await;
}

/// The memberships' controller: besides organizations, a change to any membership may open or
/// close a cycle elsewhere (memberships that refused a member for a cycle look again at once
/// instead of at their next resync), and a group's change concerns the memberships naming it.
fn memberships(kube: &kube::Client, scope: &Scope) -> Controller<Stored<DevOpsMembership>> {
    let controller = watch_organizations(
        controller_of(scope.api::<Stored<DevOpsMembership>>(kube)),
        kube,
        |m: &DevOpsMembership| &m.spec.organization_ref,
    );
    let refused_store = controller.store();
    let controller = controller.watches(
        Api::<Stored<DevOpsMembership>>::all(kube.clone()),
        watcher::Config::default(),
        move |changed| {
            membership::refused_for_cycle(&stored::valid(refused_store.state()), &changed)
                .into_iter()
                .map(stored::retype)
                .collect::<Vec<_>>()
        },
    );
    watch_groups(controller, kube, membership_group_refs)
}

/// What every controller shares.
struct Controllers<S> {
    ctx: Arc<Context>,
    config: ControllerConfig,
    shutdown: S,
}

impl<S: Future<Output = ()> + Clone + Send + Sync + 'static> Controllers<S> {
    /// Run `controller` on the objects inside `scope` until shutdown. Its cache also feeds
    /// the `azdo_objects` gauge: only the running (leading) operator reports it, so a sum over
    /// replicas counts every object once.
    fn run<K: Reconciled>(
        &self,
        controller: Controller<Stored<K>>,
        scope: Scope,
    ) -> future::BoxFuture<'static, ()> {
        self.ctx.metrics.count_objects(
            K::kind(&()),
            readiness_of(controller.store(), scope.clone()),
        );
        let ctx = self.ctx.clone();
        controller
            .with_config(self.config.clone())
            .graceful_shutdown_on(self.shutdown.clone())
            .run(scoped::<K>(scope), stored_error_policy, self.ctx.clone())
            .for_each(move |result| {
                log::<K>(result, &ctx);
                future::ready(())
            })
            .boxed()
    }
}

/// The objects of a controller's cache inside `scope`, by Ready status; `None` until the cache
/// has its first full list.
fn readiness_of<K: Reconciled>(
    store: Store<Stored<K>>,
    scope: Scope,
) -> impl Fn() -> Option<ReadyCounts> + Send + Sync + 'static {
    move || {
        store.wait_until_ready().now_or_never()?.ok()?;
        let mut counts = ReadyCounts::default();
        for obj in store.state() {
            if scope.contains(obj.namespace()) {
                counts.add(stored::ready_status(&obj));
            }
        }
        Some(counts)
    }
}

/// What a controller's stream reports besides reconciles.
type ControllerError = kube::runtime::controller::Error<Error, watcher::Error>;

/// Log what the controller stream reports about `K`.
///
/// - A failed watch (of `K` or of a kind that triggers it): at warn (see [`watch_failed`]).
/// - A reconciler error: at debug only. A reconcile that ends Ready=False is no error here (it
///   is reported on the object's status, Events and logs); what does come here (status writes,
///   finalizer patches) went through [`error_policy`] first, which logs it at warn with the
///   object, so a second warn line would only repeat it.
/// - An object not found: at debug. A requeue came due for an object that has left the cache
///   (deleted); nothing is wrong, and its backoff entry is dropped.
/// - The runner failing (its cache never filled): at warn.
fn log<K: Reconciled>(
    result: Result<(ObjectRef<Stored<K>>, kube::runtime::controller::Action), ControllerError>,
    ctx: &Context,
) {
    use kube::runtime::controller::Error as E;
    match result {
        Ok(_) => {}
        Err(E::QueueError(err)) => watch_failed(&K::kind(&()), &err),
        Err(E::ReconcilerFailed(err, obj)) => tracing::debug!(
            kind = &*K::kind(&()),
            namespace = obj.namespace.as_deref().unwrap_or_default(),
            name = %obj.name,
            error = %err,
            "reconcile failed (handled by the error policy)"
        ),
        Err(E::ObjectNotFound(obj)) => {
            tracing::debug!(
                kind = &*K::kind(&()),
                namespace = obj.namespace.as_deref().unwrap_or_default(),
                name = %obj.name,
                "object gone before its requeue"
            );
            ctx.reset_backoff(&backoff_key(
                &K::kind(&()),
                obj.namespace.as_deref(),
                &obj.name,
            ));
        }
        Err(err @ E::RunnerError(_)) => {
            tracing::warn!(kind = &*K::kind(&()), error = %err, "controller stopped running")
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    /// Log lines written while `f` runs, at debug and above.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Lines(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let out = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || out.clone())
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let text = lines.0.lock().unwrap().clone();
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn a_failed_watch_is_a_warning_naming_the_kind_but_an_expired_one_is_not() {
        let forbidden = watcher::Error::InitialListFailed(kube::Error::Api(
            Status::failure("devopsgroups is forbidden", "Forbidden")
                .with_code(403)
                .boxed(),
        ));
        let log = logged(|| watch_failed("DevOpsGroup", &forbidden));
        assert!(log.contains(" WARN "), "{log}");
        assert!(log.contains("kind=\"DevOpsGroup\""), "{log}");
        assert!(log.contains("devopsgroups is forbidden"), "{log}");

        let expired = watcher::Error::WatchError(
            Status::failure("too old resource version", "Expired")
                .with_code(410)
                .boxed(),
        );
        let log = logged(|| watch_failed("DevOpsGroup", &expired));
        assert!(log.contains(" DEBUG "), "{log}");
        assert!(!log.contains(" WARN "), "{log}");
    }

    #[test]
    fn a_cache_watch_logs_its_errors_and_keeps_going() {
        let mut step = log_watch_errors::<()>("Namespace".to_string());
        let log = logged(|| {
            step(Ok(())).into_inner();
            step(Err(watcher::Error::NoResourceVersion)).into_inner();
        });
        assert_eq!(log.matches(" WARN ").count(), 1, "{log}");
        assert!(log.contains("kind=\"Namespace\""), "{log}");
    }

    #[test]
    fn a_group_change_wakes_the_objects_of_its_namespace_that_name_it() {
        let entitlement = |namespace: &str, name: &str, principal: serde_json::Value| {
            let e: DevOpsEntitlement = serde_json::from_value(serde_json::json!({
                "apiVersion": "azdo.io/v1alpha1",
                "kind": "DevOpsEntitlement",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {
                    "organizationRef": {"name": "org"},
                    "principal": principal,
                    "accessLevel": "Stakeholder"
                }
            }))
            .unwrap();
            Stored::Valid(Arc::new(e))
        };
        let (store, mut writer) = reflector::store();
        for e in [
            entitlement(
                "team-a",
                "by-ref",
                serde_json::json!({"groupRef": {"name": "ops"}}),
            ),
            entitlement(
                "team-a",
                "other",
                serde_json::json!({"groupRef": {"name": "dev"}}),
            ),
            entitlement(
                "team-a",
                "user",
                serde_json::json!({"user": "ops@contoso.com"}),
            ),
            entitlement(
                "team-b",
                "same-name",
                serde_json::json!({"groupRef": {"name": "ops"}}),
            ),
        ] {
            writer.apply_watcher_event(&watcher::Event::Apply(e));
        }
        let woken = naming_group(&store, Some("team-a"), "ops", entitlement_group_refs);
        let names: Vec<_> = woken.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["by-ref"]);
        assert_eq!(woken[0].namespace.as_deref(), Some("team-a"));
        assert!(naming_group(&store, Some("team-c"), "ops", entitlement_group_refs).is_empty());
    }
}
