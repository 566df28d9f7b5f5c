//! The apiserver side: create the workload with bounded concurrency, and watch readiness (one
//! watch per kind; a list per kind only to explain a timeout).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{stream, StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::discovery::ApiResource;
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;

use crate::support::kit::objects::resource_of;
use crate::support::kit::{api_for, until_every, Check, Ready, TestResult};

/// The namespaced kinds of the workload.
pub const KINDS: [&str; 6] = [
    "DevOpsGroup",
    "DevOpsMembership",
    "PipelineResourceAuthorization",
    "DevOpsRoleAssignment",
    "PipelineResourceCheck",
    "DevOpsEntitlement",
];

fn resource(kind: &str) -> ApiResource {
    resource_of(kind).unwrap_or_else(|| panic!("{kind} is not one of the operator's kinds"))
}

/// Create every manifest, `concurrency` at a time.
pub async fn create_all(
    client: &kube::Client,
    objs: &[DynamicObject],
    concurrency: usize,
) -> TestResult {
    stream::iter(objs.iter().cloned())
        .map(|obj| {
            let client = client.clone();
            async move {
                api_for(&client, &obj)?
                    .create(&PostParams::default(), &obj)
                    .await?;
                TestResult::Ok(())
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// Objects of one kind in a namespace: how many, how many are Ready=True for their
/// generation, and a few of the others with their Ready condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readiness {
    pub total: usize,
    pub ready: usize,
    pub pending: Vec<String>,
}

const PENDING_SHOWN: usize = 5;

/// Readiness per kind, one list call per kind.
pub async fn readiness(
    client: &kube::Client,
    namespace: &str,
) -> TestResult<BTreeMap<&'static str, Readiness>> {
    let mut out = BTreeMap::new();
    for kind in KINDS {
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &resource(kind));
        let list = api.list(&ListParams::default()).await?;
        let mut state = Readiness {
            total: list.items.len(),
            ..Readiness::default()
        };
        for o in &list.items {
            let ready = Ready::of(o);
            if ready.as_ref().is_some_and(Ready::is_true) {
                state.ready += 1;
            } else if state.pending.len() < PENDING_SHOWN {
                state.pending.push(format!(
                    "{}: {ready:?} (generation {:?}, observed {:?})",
                    o.metadata.name.as_deref().unwrap_or(""),
                    o.metadata.generation,
                    o.data["status"]["observedGeneration"].as_i64()
                ));
            }
        }
        out.insert(kind, state);
    }
    Ok(out)
}

/// Wait until `expected` objects of the namespace are Ready; returns when that was first seen,
/// measured from `since`. One watch per kind: each change arrives once. (Listing every object
/// every `interval` instead cost the bench, at 8,000 objects, more CPU than the operator used.)
/// `interval` is how often the watches' tally is looked at.
pub async fn wait_all_ready(
    client: &kube::Client,
    namespace: &str,
    expected: usize,
    since: Instant,
    interval: Duration,
    timeout: Duration,
) -> TestResult<Duration> {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let watches: Vec<_> = KINDS
        .iter()
        .map(|kind| {
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), namespace, &resource(kind));
            let tally = tally.clone();
            AbortOnDrop(tokio::spawn(async move {
                let events = watcher(api, watcher::Config::default()).default_backoff();
                let mut events = std::pin::pin!(events);
                while let Some(event) = events.next().await {
                    // The watcher retries on its own (with backoff); an error is only noted.
                    if let Ok(event) = event {
                        tally
                            .lock()
                            .expect("tally")
                            .apply(kind, event, expected, since);
                    }
                }
            }))
        })
        .collect();
    let what = format!("{expected} objects Ready");
    let left = timeout.saturating_sub(since.elapsed());
    let waited = until_every(&what, left, interval, || async {
        let tally = tally.lock().expect("tally");
        Ok(match tally.done_at {
            Some(at) => Check::Done(at),
            None => Check::NotYet(format!("{}/{expected} Ready", tally.ready.len())),
        })
    })
    .await;
    drop(watches);
    match waited {
        Ok(at) => Ok(at),
        // Say which objects were not Ready (one list per kind, once).
        Err(e) => Err(format!("{e}; {:#?}", readiness(client, namespace).await?).into()),
    }
}

/// The objects the watches saw Ready, and when there were first `expected` of them.
#[derive(Default)]
struct Tally {
    ready: HashSet<(&'static str, String)>,
    done_at: Option<Duration>,
}

impl Tally {
    fn apply(
        &mut self,
        kind: &'static str,
        event: watcher::Event<DynamicObject>,
        expected: usize,
        since: Instant,
    ) {
        match event {
            // A new listing of the kind follows: what it does not list is gone.
            watcher::Event::Init => self.ready.retain(|(k, _)| *k != kind),
            watcher::Event::InitDone => {}
            watcher::Event::Apply(o) | watcher::Event::InitApply(o) => {
                let key = (kind, o.name_any());
                if Ready::of(&o).is_some_and(|r| r.is_true()) {
                    self.ready.insert(key);
                } else {
                    self.ready.remove(&key);
                }
            }
            watcher::Event::Delete(o) => {
                self.ready.remove(&(kind, o.name_any()));
            }
        }
        if self.done_at.is_none() && self.ready.len() >= expected {
            self.done_at = Some(since.elapsed());
        }
    }
}

/// A spawned task stopped when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Descriptors of the bench's groups, from the DevOpsGroups' status.
pub async fn group_descriptors(client: &kube::Client, namespace: &str) -> TestResult<Vec<String>> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &resource("DevOpsGroup"));
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .filter_map(|g| g.data["status"]["descriptor"].as_str().map(String::from))
        .collect())
}
