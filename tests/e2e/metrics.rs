//! The `azdo_objects` gauge is computed from the operator's caches, so a restarted operator
//! reports every object by kind and readiness at once, though no object changes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use azdo_operator::api::{OrganizationKind, OrganizationRef};
use kube::api::{Api, DynamicObject, ListParams};
use kube::ResourceExt;

use crate::operator_env::{OperatorEnv, TestResult};
use crate::support::kit::objects::{describe, resource_of};
use crate::support::kit::{Ready, ToObject};

/// `(kind, ready)` to the number of objects.
type Counts = BTreeMap<(String, String), i64>;

/// Every kind the operator serves, from its CRDs.
fn kinds() -> Vec<String> {
    azdo_operator::api::all_crds()
        .into_iter()
        .map(|crd| crd.spec.names.kind)
        .collect()
}

/// A group whose organization does not exist: Ready=False for good.
fn orphan_group(env: &OperatorEnv) -> DynamicObject {
    let mut group = env.fixtures().group("orphan", "Orphan");
    group.spec.organization_ref = OrganizationRef {
        kind: OrganizationKind::DevOpsOrganization,
        name: "nowhere".into(),
    };
    group.object()
}

/// The address of the operator that logged `serving /healthz` last (a restarted operator
/// appends to the same log).
fn metrics_address(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .find(|l| l.contains("serving /healthz"))
        .and_then(|l| l.split("address=").nth(1))
        .map(|a| {
            a.trim_matches(|c: char| !c.is_ascii_digit() && c != '.' && c != ':')
                .to_string()
        })
}

/// The `azdo_objects` samples of a scrape.
fn parse_objects(metrics: &str) -> Counts {
    let label = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let len = line[start..].find('"')?;
        Some(line[start..start + len].to_string())
    };
    metrics
        .lines()
        .filter(|l| l.starts_with("azdo_objects{"))
        .filter_map(|l| {
            let value = l.rsplit(' ').next()?.parse().ok()?;
            Some(((label(l, "kind")?, label(l, "ready")?), value))
        })
        .collect()
}

/// Every kind's objects the operator watches (the test's namespace, and every cluster
/// organization), by the status of their Ready condition, as the apiserver has them.
async fn expected(env: &OperatorEnv) -> TestResult<Counts> {
    let client = env.client().await?;
    let mut counts = Counts::new();
    for kind in kinds() {
        for ready in ["true", "false", "unknown"] {
            counts.insert((kind.to_string(), ready.to_string()), 0);
        }
        let resource = resource_of(&kind).ok_or("a CRD of every kind")?;
        let api: Api<DynamicObject> = if kind == "ClusterDevOpsOrganization" {
            Api::all_with(client.clone(), &resource)
        } else {
            Api::namespaced_with(client.clone(), &env.namespace, &resource)
        };
        for obj in api.list(&ListParams::default()).await? {
            let ready = match Ready::of(&obj).map(|r| r.status) {
                Some(s) if s == "True" => "true",
                Some(s) if s == "False" => "false",
                _ => "unknown",
            };
            *counts
                .entry((kind.to_string(), ready.to_string()))
                .or_default() += 1;
        }
    }
    Ok(counts)
}

/// Scrape until `azdo_objects` equals `want` (the operator fills its caches after it starts
/// serving), or fail with the last scrape.
async fn wait_for_gauge(env: &OperatorEnv, want: &Counts, timeout: Duration) -> TestResult {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + timeout;
    let mut last = String::from("(no scrape yet)");
    loop {
        if let Some(address) = metrics_address(&env.operator_log()) {
            if let Ok(response) = http.get(format!("http://{address}/metrics")).send().await {
                last = response.text().await?;
                if &parse_objects(&last) == want {
                    return Ok(());
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "azdo_objects is not {want:#?}; last scrape:\n{}\n{}",
                last.lines()
                    .filter(|l| l.contains("azdo_objects"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                env.tail()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// resourceVersion of each object, to show that none changed.
async fn versions(env: &OperatorEnv, objs: &[DynamicObject]) -> TestResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for obj in objs {
        let live = env.get(obj).await?;
        out.push((describe(obj), live.resource_version().unwrap_or_default()));
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_objects_gauge_is_right_after_a_restart() -> TestResult {
    let mut env = OperatorEnv::start("gauge").await?;
    env.create_team_service_account().await?;
    let ns = env.namespace.clone();
    let args = ["--watch-namespaces", ns.as_str()];
    env.start_operator(&args).await?;

    let samples = env.samples()?;
    let orphan = orphan_group(&env);
    env.apply(&samples).await?;
    env.apply(std::slice::from_ref(&orphan)).await?;
    env.wait_ready(&samples, "True", Duration::from_secs(90))
        .await?;
    env.wait_ready(
        std::slice::from_ref(&orphan),
        "False",
        Duration::from_secs(30),
    )
    .await?;

    let want = expected(&env).await?;
    // The test's own objects, so the comparison below is not one of zeros.
    for (kind, ready, n) in [
        ("DevOpsOrganization", "true", 1),
        ("DevOpsGroup", "true", 2),
        ("DevOpsGroup", "false", 1),
        ("DevOpsMembership", "true", 2),
        ("PipelineResourceAuthorization", "true", 1),
    ] {
        assert_eq!(
            want.get(&(kind.to_string(), ready.to_string())),
            Some(&n),
            "{kind} ready={ready}: {want:#?}"
        );
    }
    assert!(want[&("ClusterDevOpsOrganization".to_string(), "true".to_string())] >= 1);
    wait_for_gauge(&env, &want, Duration::from_secs(30)).await?;

    let mut all = samples.clone();
    all.push(orphan.clone());
    let before = versions(&env, &all).await?;
    env.kill_operator().await;
    let restarted = Instant::now();
    env.start_operator(&args).await?;
    wait_for_gauge(&env, &want, Duration::from_secs(60)).await?;
    eprintln!(
        "the restarted operator reported every object within {:?}",
        restarted.elapsed()
    );
    assert_eq!(
        versions(&env, &all).await?,
        before,
        "no object changed: the gauge comes from the caches, not from transitions"
    );
    assert_eq!(expected(&env).await?, want, "the cluster is as before");

    env.delete_in_order(&all, Duration::from_secs(90)).await?;
    env.kill_operator().await;
    Ok(())
}
