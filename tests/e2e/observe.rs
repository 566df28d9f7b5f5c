//! Observe mode end to end: every sample under `--observe` writes nothing to Azure DevOps (the
//! simulator's request log) and reports what Manage would change; the same objects converge
//! once the operator manages them; one object's Observe → Manage switch writes exactly the
//! reported plan; deleting an observed object writes nothing.

use std::time::Duration;

use azdo_operator::api::{DevOpsMembership, ManagementPolicy};
use azdo_operator::reason::Reason;
use azdo_sim::RequestRecord;
use kube::api::DynamicObject;

use crate::operator_env::{OperatorEnv, TestResult};
use crate::sim_api::{descriptor_of, members_of};
use crate::support::kit::fixtures::{target_ref, users};
use crate::support::kit::{typed, ToObject};

const WAIT: Duration = Duration::from_secs(90);

/// Requests that may change Azure DevOps: every method but GET and HEAD, except Entra token
/// requests and the Graph's read-only POSTs (subject query and lookup).
fn writes(requests: &[RequestRecord]) -> Vec<String> {
    requests
        .iter()
        .filter(|r| r.method != "GET" && r.method != "HEAD")
        .filter(|r| !r.route.contains("oauth2"))
        .filter(|r| !r.route.ends_with("/subjectquery") && !r.route.ends_with("/subjectlookup"))
        .map(|r| format!("{} {}", r.method, r.route))
        .collect()
}

/// The object's Ready reason and `status.drift.count`, as the apiserver has them now.
async fn reason_and_drift(
    env: &OperatorEnv,
    obj: &DynamicObject,
) -> TestResult<(String, Option<u64>)> {
    let live = env.get(obj).await?;
    let ready = env.ready(obj).await?;
    let count = live.data["status"]["drift"]["count"].as_u64();
    Ok((ready.map(|r| r.reason).unwrap_or_default(), count))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_observed_writes_nothing_and_manage_then_applies_it() -> TestResult {
    let mut env = OperatorEnv::start("observe-all").await?;
    env.create_team_service_account().await?;
    env.start_operator(&[
        "--observe",
        "true",
        "--resync-interval",
        "3s",
        "--resync-jitter",
        "0",
    ])
    .await?;
    let samples = env.samples()?;
    let (orgs, objects): (Vec<_>, Vec<_>) = samples.iter().cloned().partition(|o| {
        o.types
            .as_ref()
            .is_some_and(|t| t.kind.contains("Organization"))
    });
    env.sim.control().clear_requests();
    env.apply(&samples).await?;
    env.wait_ready(&orgs, "True", WAIT).await?;
    // Every object reports what Manage would do: drift (the samples create almost everything),
    // in sync (the Entra group sample is already in the organization), or waiting for a group
    // that does not exist yet (a membership of a group Manage would create).
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let mut seen = Vec::new();
        for obj in &objects {
            let (reason, count) = reason_and_drift(&env, obj).await?;
            let reported = match reason.as_str() {
                "DriftDetected" => count.is_some_and(|c| c > 0),
                "InSync" | "GroupNotReady" | "GroupNotFound" => true,
                _ => false,
            };
            seen.push((
                obj.metadata.name.clone().unwrap_or_default(),
                reason,
                count,
                reported,
            ));
        }
        if seen.iter().all(|s| s.3) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "observed objects that do not report drift: {seen:?}\n{}",
            env.tail()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Several resyncs later: still nothing written.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let observed = writes(&env.sim.control().requests().requests);
    assert!(
        observed.is_empty(),
        "Observe wrote to Azure DevOps: {observed:?}"
    );

    // The same objects under Manage: the operator without --observe converges them all.
    env.kill_operator().await;
    env.start_operator(&["--resync-interval", "3s", "--resync-jitter", "0"])
        .await?;
    env.wait_ready(&objects, "True", WAIT).await?;
    for obj in &objects {
        let live = env.get(obj).await?;
        assert!(
            live.data["status"]["drift"].is_null(),
            "Manage leaves no drift on status: {:?}",
            live.data["status"]
        );
    }
    env.delete_in_order(&samples, WAIT).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_to_manage_writes_exactly_the_reported_plan_and_observed_deletion_writes_nothing(
) -> TestResult {
    let mut env = OperatorEnv::start("observe-one").await?;
    env.start_operator(&["--resync-interval", "3s", "--resync-jitter", "0"])
        .await?;
    let org = env.fixtures().cluster_organization().object();
    let group = env.fixtures().group("observed", "Observed Team").object();
    env.apply(&[org.clone(), group.clone()]).await?;
    env.wait_ready(&[org.clone(), group.clone()], "True", WAIT)
        .await?;
    let container = descriptor_of(&env, "[Storefront]\\Observed Team").ok_or("no group")?;

    // Observe: two members Manage would add; nothing is written.
    let upns = ["adele.vance@contoso.com", "alex.wilber@contoso.com"];
    let mut m: DevOpsMembership =
        env.fixtures()
            .membership("observed-members", target_ref("observed"), users(&upns));
    m.spec.management_policy = ManagementPolicy::Observe;
    env.sim.control().clear_requests();
    env.apply(&[m.object()]).await?;
    let ready = env
        .wait_for_reason(&m.object(), Reason::DriftDetected, WAIT)
        .await?;
    assert_eq!(ready.status, "False", "drift is not Ready: {ready:?}");
    let live: DevOpsMembership = typed(&env.get(&m.object()).await?)?;
    let drift = live
        .status
        .as_ref()
        .and_then(|s| s.common.drift.clone())
        .ok_or("no status.drift")?;
    assert_eq!(drift.count, 2, "{drift:?}");
    assert_eq!(
        drift.changes,
        vec![
            "add member user:adele.vance@contoso.com".to_string(),
            "add member user:alex.wilber@contoso.com".to_string()
        ]
    );
    let observed = writes(&env.sim.control().requests().requests);
    assert!(observed.is_empty(), "Observe wrote: {observed:?}");
    assert!(members_of(&env, &container).is_empty());

    // Manage: exactly those two members are added, and the drift is gone.
    m.spec.management_policy = ManagementPolicy::Manage;
    env.sim.control().clear_requests();
    env.apply(&[m.object()]).await?;
    env.wait_for_reason(&m.object(), Reason::Synced, WAIT)
        .await?;
    let managed = writes(&env.sim.control().requests().requests);
    let adds = managed
        .iter()
        .filter(|w| w.starts_with("PUT") && w.contains("memberships"))
        .count();
    assert_eq!(adds, 2, "one membership PUT per member: {managed:?}");
    assert!(
        managed.iter().all(|w| !w.starts_with("DELETE")),
        "nothing removed: {managed:?}"
    );
    assert_eq!(members_of(&env, &container).len(), 2);

    // Back to Observe, then deleted: the members it added stay, nothing is written.
    m.spec.management_policy = ManagementPolicy::Observe;
    env.apply(&[m.object()]).await?;
    env.wait_for_reason(&m.object(), Reason::InSync, WAIT)
        .await?;
    env.sim.control().clear_requests();
    env.delete_and_wait(&[m.object()], WAIT).await?;
    let deleted = writes(&env.sim.control().requests().requests);
    assert!(
        deleted.is_empty(),
        "deleting an observed object wrote: {deleted:?}"
    );
    assert_eq!(members_of(&env, &container).len(), 2);

    env.delete_in_order(&[group, org], WAIT).await?;
    Ok(())
}
