//! The apiserver side: create the workload with bounded concurrency, and watch readiness with
//! one list call per kind (never per object).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::{stream, StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::discovery::ApiResource;

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

/// Poll every `interval` until `expected` objects of the namespace are Ready; returns when
/// that was first seen, measured from `since`.
pub async fn wait_all_ready(
    client: &kube::Client,
    namespace: &str,
    expected: usize,
    since: Instant,
    interval: Duration,
    timeout: Duration,
) -> TestResult<Duration> {
    let what = format!("{expected} objects Ready");
    let left = timeout.saturating_sub(since.elapsed());
    until_every(&what, left, interval, || async {
        let state = readiness(client, namespace).await?;
        let ready: usize = state.values().map(|r| r.ready).sum();
        Ok(if ready >= expected {
            Check::Done(since.elapsed())
        } else {
            Check::NotYet(format!("only {ready}/{expected}: {state:#?}"))
        })
    })
    .await
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
