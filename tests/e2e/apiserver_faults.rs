//! Faults of the Kubernetes side (issue 9), each on a control plane of the test's own because
//! they would disturb the tests sharing one: kube-apiserver killed and restarted under a
//! running operator, and a stored object the operator cannot read.

use azdo_operator::reason::Reason;
use std::time::{Duration, Instant};

use azdo_operator::api::DevOpsGroup;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};

use crate::operator_env::{private_control_plane, OperatorEnv, TestResult};
use crate::sim_api::{descriptor_of, groups_named, members_of, SimApi};
use crate::support::kit::objects::reference;
use crate::support::kit::{api_for, Check, Ready, ToObject};
use crate::support::ControlPlane;

/// How long kube-apiserver stays down: longer than a few resyncs, shorter than the Lease.
const OUTAGE: Duration = Duration::from_secs(8);
const RESYNC: &str = "2s";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_rides_out_an_apiserver_restart() -> TestResult {
    let cp = private_control_plane().await?;
    let outcome = apiserver_restart(cp).await;
    cp.stop();
    outcome
}

async fn apiserver_restart(cp: &'static ControlPlane) -> TestResult {
    let mut env = OperatorEnv::start_on(cp, "apiserver-restart").await?;
    env.create_team_service_account().await?;
    env.start_replica(
        "only-replica",
        &["--resync-interval", RESYNC, "--resync-jitter", "0"],
    )
    .await?;
    let samples = env.samples()?;
    env.apply(&samples).await?;
    env.wait_ready(&samples, "True", Duration::from_secs(60))
        .await?;
    let operators = groups_named(&env, "[Storefront]\\Storefront Operators");
    assert_eq!(operators.len(), 1);
    let container = operators[0].0.clone();
    let expected = members_of(&env, &container);
    assert_eq!(expected.len(), 4, "{expected:?}");

    // kube-apiserver dies. While it is down, somebody removes a member in Azure DevOps.
    cp.kill_apiserver();
    let requests_before = env.sim.control().requests().total;
    let adele = descriptor_of(&env, "adele.vance@contoso.com").ok_or("adele")?;
    SimApi::new(&env)?.remove_member(&adele, &container).await?;
    tokio::time::sleep(OUTAGE).await;
    let during_outage = env.sim.control().requests().total - requests_before - 1;
    let restarted_in = cp.start_apiserver_again().await?;
    eprintln!(
        "apiserver down {:.1}s (restart took {:.1}s); the operator sent {during_outage} \
         Azure DevOps requests meanwhile",
        (OUTAGE + restarted_in).as_secs_f64(),
        restarted_in.as_secs_f64()
    );
    assert!(
        env.operator_exit(0).is_none(),
        "the operator survived the outage\n{}",
        env.tail()
    );
    // Resyncs go on while the apiserver is away (every 2 s, 7 reads each for the samples), but
    // failing status writes must not turn them into a hot loop.
    assert!(
        during_outage < 120,
        "{during_outage} requests during an {OUTAGE:?} outage: no hot loop"
    );

    // Back: the drift is repaired, and the watches resumed (a new object converges).
    let started = Instant::now();
    let late = env
        .fixtures()
        .group("after-restart", "After Restart")
        .object();
    env.apply(std::slice::from_ref(&late)).await?;
    env.wait_ready(std::slice::from_ref(&late), "True", Duration::from_secs(30))
        .await?;
    let late_ready = started.elapsed();
    env.until(
        "the drift to be repaired after the restart",
        Duration::from_secs(30),
        || async {
            let members = members_of(&env, &container);
            Ok(if members == expected {
                Check::Done(())
            } else {
                Check::NotYet(format!("{members:?}"))
            })
        },
    )
    .await?;
    eprintln!(
        "after the restart: a new group Ready in {:.1}s, the drift repaired in {:.1}s",
        late_ready.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        groups_named(&env, "[Storefront]\\Storefront Operators").len(),
        1,
        "no duplicate group"
    );
    assert_eq!(groups_named(&env, "[Storefront]\\After Restart").len(), 1);
    env.wait_ready(&samples, "True", Duration::from_secs(30))
        .await?;
    assert!(env.operator_exit(0).is_none(), "{}", env.tail());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_object_is_reported_and_the_rest_keeps_working() -> TestResult {
    let cp = private_control_plane().await?;
    let outcome = unreadable_object(cp).await;
    cp.stop();
    outcome
}

/// Store a DevOpsGroup that the operator's types cannot decode, the way it happens in real
/// clusters: written while a looser schema was installed (an older CRD), then the current CRD
/// comes back. Stored objects are not rewritten by a schema change.
async fn store_unreadable_group(env: &OperatorEnv, name: &str) -> TestResult {
    let client = env.client().await?;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut crd = crds.get("devopsgroups.azdo.io").await?;
    for version in &mut crd.spec.versions {
        version.schema = Some(serde_json::from_value(serde_json::json!({
            "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }))?);
        version.additional_printer_columns = None;
        version.selectable_fields = None;
    }
    crds.replace("devopsgroups.azdo.io", &PostParams::default(), &crd)
        .await?;
    let broken: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "azdo.io/v1alpha1",
        "kind": "DevOpsGroup",
        "metadata": {"name": name, "namespace": env.namespace},
        "spec": {
            "organizationRef": {"name": "contoso"},
            "project": "Storefront",
            "displayName": {"written": "by an older tool"}
        }
    }))?;
    let groups = api_for(&client, &broken)?;
    // The looser schema takes effect a moment after the CRD update.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match groups.create(&PostParams::default(), &broken).await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                eprintln!("the loose schema is not in effect yet: {e}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The current CRD again (server-side apply, forced, as an upgrade would do it).
    env.cp
        .install_crds(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds"))
        .await?;
    Ok(())
}

async fn unreadable_object(cp: &'static ControlPlane) -> TestResult {
    let mut env = OperatorEnv::start_on(cp, "unreadable").await?;
    env.create_team_service_account().await?;
    store_unreadable_group(&env, "written-long-ago").await?;
    let broken = reference::<DevOpsGroup>(Some(&env.namespace), "written-long-ago");
    env.start_operator(&[]).await?;
    let samples = env.samples()?;
    env.apply(&samples).await?;
    // Every sample converges, including the DevOpsGroups of the same kind as the broken one
    // and the memberships that watch DevOpsGroups.
    env.wait_ready(&samples, "True", Duration::from_secs(60))
        .await?;
    // The report: a Warning Event always; Ready=False on the status only where the apiserver
    // accepts a status write, which it does not here (it checks the spec's CEL rules on every
    // write, and the stored displayName breaks one).
    let message = env
        .until(
            "the broken object to be reported",
            Duration::from_secs(30),
            || async {
                let events = crate::operator_env::events_for(&env, "written-long-ago").await?;
                Ok(
                    match events
                        .iter()
                        .find(|(reason, _)| Reason::parse(reason) == Some(Reason::MalformedObject))
                    {
                        Some((_, message)) => Check::Done(message.clone()),
                        None => Check::NotYet(format!("{events:?}")),
                    },
                )
            },
        )
        .await?;
    assert!(
        message.contains("spec.displayName: invalid type: map, expected a string"),
        "the message says what does not fit: {message}"
    );
    eprintln!("reported: {message}");
    let api = api_for(&env.client().await?, &broken)?;
    let ready = Ready::of(&api.get("written-long-ago").await?);
    assert!(
        ready.is_none()
            || ready
                .as_ref()
                .is_some_and(|r| r.has(Reason::MalformedObject)),
        "{ready:?}"
    );
    let calls_for_it = env
        .operator_log()
        .lines()
        .filter(|l| l.contains("written-long-ago") && l.contains("azure devops call"))
        .count();
    assert_eq!(calls_for_it, 0, "nothing was done in Azure DevOps for it");

    // Fixed by its owner, it is reconciled like any other.
    api.patch(
        "written-long-ago",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"displayName": "Mended Group"}})),
    )
    .await?;
    env.wait_ready(
        std::slice::from_ref(&broken),
        "True",
        Duration::from_secs(30),
    )
    .await?;
    assert_eq!(groups_named(&env, "[Storefront]\\Mended Group").len(), 1);
    Ok(())
}
