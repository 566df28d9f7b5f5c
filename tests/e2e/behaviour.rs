//! What each controller does with Azure DevOps, end to end: adoption, drift repair, out-of-band
//! deletion, deletion policies, conflicts, the namespace policy, protected groups, Exclusive
//! membership failing closed, waiting on a referenced group, and throttling.

use std::future::Future;
use std::time::{Duration, Instant};

use azdo_sim::{Faults, Throttling};
use kube::api::DynamicObject;
use serde_yaml::Value;

use crate::operator_env::{dynamic_api, ready_of, OperatorEnv, TestResult};
use crate::sim_api::{descriptor_of, groups_named, members_of, SimApi};

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("test manifest")
}

/// The cluster organization, allowing `namespaces` (default: the test's own).
fn organization(env: &OperatorEnv, namespaces: &[&str]) -> Value {
    let mut org = yaml("apiVersion: azdo.io/v1alpha1\nkind: ClusterDevOpsOrganization\nmetadata: {name: contoso}\nspec:\n  url: x\n  auth: {workloadIdentity: {}}");
    env.localize(&mut org);
    if !namespaces.is_empty() {
        org["spec"]["allowedNamespaces"] =
            serde_yaml::to_value(serde_json::json!({"names": namespaces})).unwrap();
    }
    org
}

fn group(env: &OperatorEnv, name: &str, display: &str, policy: &str) -> Value {
    let mut g = yaml(&format!(
        "apiVersion: azdo.io/v1alpha1\nkind: DevOpsGroup\nmetadata: {{name: {name}}}\nspec:\n  organizationRef: {{name: contoso}}\n  project: Storefront\n  displayName: {display}\n  description: Managed by azdo-operator\n  deletionPolicy: {policy}"
    ));
    env.localize(&mut g);
    g
}

fn membership(env: &OperatorEnv, name: &str, group_ref: &str, mode: &str, users: &[&str]) -> Value {
    let members: Vec<serde_json::Value> = users
        .iter()
        .map(|u| serde_json::json!({"user": u}))
        .collect();
    let mut m = yaml(&format!(
        "apiVersion: azdo.io/v1alpha1\nkind: DevOpsMembership\nmetadata: {{name: {name}}}\nspec:\n  organizationRef: {{name: contoso}}\n  group: {{groupRef: {{name: {group_ref}}}}}\n  mode: {mode}"
    ));
    m["spec"]["members"] = serde_yaml::to_value(members).unwrap();
    env.localize(&mut m);
    m
}

async fn get(env: &OperatorEnv, doc: &Value) -> TestResult<DynamicObject> {
    let obj: DynamicObject = serde_yaml::from_value(doc.clone())?;
    Ok(dynamic_api(&env.client().await?, &obj)?
        .get(&kube::ResourceExt::name_any(&obj))
        .await?)
}

/// Poll `check` until it returns true or `timeout` passes.
async fn eventually<F, Fut>(
    env: &OperatorEnv,
    what: &str,
    timeout: Duration,
    mut check: F,
) -> TestResult
where
    F: FnMut() -> Fut,
    Fut: Future<Output = TestResult<bool>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await? {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for: {what}\n{}", env.tail()).into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn reason(env: &OperatorEnv, doc: &Value) -> TestResult<Option<(String, String, String)>> {
    Ok(ready_of(&get(env, doc).await?))
}

async fn wait_reason(env: &OperatorEnv, doc: &Value, want: &str) -> TestResult<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let current = reason(env, doc).await?;
        if let Some((_, reason, message)) = &current {
            if reason == want {
                return Ok(message.clone());
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "timed out waiting for Ready reason {want}, have {current:?}\n{}",
                env.tail()
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_adopted_repaired_recreated_and_deleted() -> TestResult {
    let mut env = OperatorEnv::start("group").await?;
    let api = SimApi::new(&env)?;
    let scope = api.project_scope(&env, "Storefront").await?;
    let existing = api
        .create_group(Some(&scope), "Storefront Operators", "made by hand")
        .await?;
    env.start_operator(&["--resync-interval", "2s", "--resync-jitter", "0"])
        .await?;
    let org = organization(&env, &[]);
    let g = group(&env, "operators", "Storefront Operators", "Delete");
    env.apply(&[org.clone(), g.clone()]).await?;
    let ready = env
        .wait_ready(&[org.clone(), g.clone()], "True", Duration::from_secs(30))
        .await?;
    let status = &ready[1].data["status"];
    assert_eq!(
        status["descriptor"],
        existing.as_str(),
        "adopted, not duplicated"
    );
    assert_eq!(status["adopted"], true);
    let principal = "[Storefront]\\Storefront Operators";
    assert_eq!(groups_named(&env, principal).len(), 1);
    assert_eq!(
        groups_named(&env, principal)[0].1.as_deref(),
        Some("Managed by azdo-operator"),
        "description set on adoption"
    );

    // Drift: a description changed by hand comes back within a resync.
    api.set_description(&existing, "tampered").await?;
    eventually(
        &env,
        "description repaired",
        Duration::from_secs(15),
        || async {
            Ok(groups_named(&env, principal)
                .first()
                .and_then(|g| g.1.clone())
                .as_deref()
                == Some("Managed by azdo-operator"))
        },
    )
    .await?;

    // Deleted out of band: recreated, and status follows the new descriptor.
    api.delete_group(&existing).await?;
    eventually(&env, "group recreated", Duration::from_secs(15), || async {
        let live = groups_named(&env, principal);
        let status = get(&env, &g).await?.data["status"]["descriptor"]
            .as_str()
            .map(str::to_string);
        Ok(live.len() == 1
            && live[0].0 != existing
            && status.as_deref() == Some(live[0].0.as_str()))
    })
    .await?;

    // Deletion with deletionPolicy Delete removes it.
    env.delete_and_wait(&[g], Duration::from_secs(20)).await?;
    assert!(
        groups_named(&env, principal).is_empty(),
        "deleted with the object"
    );
    env.delete_and_wait(&[org], Duration::from_secs(20)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphan_policy_keeps_the_group_and_a_second_owner_is_a_conflict() -> TestResult {
    let mut env = OperatorEnv::start("orphan").await?;
    let other_ns = env.cp.new_namespace("orphan-other").await?;
    env.start_operator(&[]).await?;
    let org = organization(&env, &[env.namespace.as_str(), other_ns.as_str()]);
    let owner = group(&env, "release", "Release Crew", "Orphan");
    let mut intruder = group(&env, "release-copy", "Release Crew", "Delete");
    intruder["metadata"]["namespace"] = Value::from(other_ns.clone());
    env.apply(&[org.clone(), owner.clone()]).await?;
    env.wait_ready(
        std::slice::from_ref(&owner),
        "True",
        Duration::from_secs(30),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1100)).await; // a strictly later creationTimestamp
    env.apply(std::slice::from_ref(&intruder)).await?;
    let message = wait_reason(&env, &intruder, "Conflict").await?;
    assert!(message.contains("already manages this group"), "{message}");
    let principal = "[Storefront]\\Release Crew";
    // Nor may another namespace change the members of a group this namespace manages.
    let mut meddler = membership(
        &env,
        "meddler",
        "unused",
        "Exclusive",
        &["adele.vance@contoso.com"],
    );
    meddler["metadata"]["namespace"] = Value::from(other_ns.clone());
    meddler["spec"]["group"] =
        serde_yaml::to_value(serde_json::json!({"principalName": principal}))?;
    env.apply(std::slice::from_ref(&meddler)).await?;
    let message = wait_reason(&env, &meddler, "Conflict").await?;
    assert!(message.contains("another namespace"), "{message}");
    let crew = groups_named(&env, principal)[0].0.clone();
    assert!(
        members_of(&env, &crew).is_empty(),
        "the other namespace changed nothing"
    );
    env.delete_and_wait(&[meddler], Duration::from_secs(20))
        .await?;
    env.delete_and_wait(&[intruder], Duration::from_secs(20))
        .await?;
    assert_eq!(
        groups_named(&env, principal).len(),
        1,
        "the conflicting object deleted nothing"
    );
    env.delete_and_wait(&[owner], Duration::from_secs(20))
        .await?;
    assert_eq!(
        groups_named(&env, principal).len(),
        1,
        "Orphan keeps the group"
    );
    env.delete_and_wait(&[org], Duration::from_secs(20)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_the_organization_does_not_allow_gets_not_allowed_and_nothing_happens(
) -> TestResult {
    let mut env = OperatorEnv::start("notallowed").await?;
    env.start_operator(&[]).await?;
    let org = organization(&env, &["somewhere-else"]);
    let g = group(&env, "sneaky", "Sneaky Group", "Delete");
    env.apply(&[org.clone(), g.clone()]).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", Duration::from_secs(30))
        .await?;
    let message = wait_reason(&env, &g, "NotAllowed").await?;
    assert!(message.contains("does not allow namespace"), "{message}");
    let requests = env.sim.control().requests();
    let graph_writes = requests
        .requests
        .iter()
        .filter(|r| r.method != "GET" && r.route.contains("graph"))
        .count();
    assert_eq!(graph_writes, 0, "nothing was written to Azure DevOps");
    assert!(groups_named(&env, "[Storefront]\\Sneaky Group").is_empty());
    env.delete_and_wait(&[g, org], Duration::from_secs(20))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_groups_cannot_be_targeted() -> TestResult {
    let mut env = OperatorEnv::start("protected").await?;
    env.start_operator(&[]).await?;
    let org = organization(&env, &[]);
    let admins = group(&env, "admins", "Project Administrators", "Delete");
    let mut members = membership(
        &env,
        "pca",
        "unused",
        "Exclusive",
        &["adele.vance@contoso.com"],
    );
    members["spec"]["group"] = serde_yaml::to_value(
        serde_json::json!({"principalName": "[contoso]\\Project Collection Administrators"}),
    )?;
    env.apply(&[org.clone(), admins.clone(), members.clone()])
        .await?;
    wait_reason(&env, &admins, "ProtectedGroup").await?;
    wait_reason(&env, &members, "ProtectedGroup").await?;
    let pca =
        descriptor_of(&env, "[contoso]\\Project Collection Administrators").ok_or("no PCA")?;
    assert!(!members_of(&env, &pca)
        .iter()
        .any(|m| m == "adele.vance@contoso.com"));
    env.delete_and_wait(&[admins, members, org], Duration::from_secs(20))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memberships_repair_drift_and_exclusive_mode_fails_closed() -> TestResult {
    let mut env = OperatorEnv::start("members").await?;
    let api = SimApi::new(&env)?;
    env.start_operator(&["--resync-interval", "2s", "--resync-jitter", "0"])
        .await?;
    let org = organization(&env, &[]);
    let g = group(&env, "crew", "Deploy Crew", "Delete");
    let m = membership(
        &env,
        "crew",
        "crew",
        "Exclusive",
        &["adele.vance@contoso.com", "alex.wilber@contoso.com"],
    );
    env.apply(&[org.clone(), g.clone(), m.clone()]).await?;
    let ready = env
        .wait_ready(&[g.clone(), m.clone()], "True", Duration::from_secs(30))
        .await?;
    let container = ready[0].data["status"]["descriptor"]
        .as_str()
        .ok_or("no descriptor")?
        .to_string();
    assert_eq!(
        members_of(&env, &container),
        ["adele.vance@contoso.com", "alex.wilber@contoso.com"]
    );

    // Out of band: a listed member removed, an unlisted one added. Both repaired in a resync.
    let adele = descriptor_of(&env, "adele.vance@contoso.com").ok_or("adele")?;
    let christie = descriptor_of(&env, "christie.cline@contoso.com")
        .ok_or("christie is materialized in the seed")?;
    api.remove_member(&adele, &container).await?;
    api.add_member(&christie, &container).await?;
    eventually(
        &env,
        "membership drift repaired",
        Duration::from_secs(15),
        || async {
            Ok(members_of(&env, &container)
                == ["adele.vance@contoso.com", "alex.wilber@contoso.com"])
        },
    )
    .await?;

    // Fail closed: one member cannot be resolved, so nothing is removed any more.
    let broken = membership(
        &env,
        "crew",
        "crew",
        "Exclusive",
        &[
            "adele.vance@contoso.com",
            "alex.wilber@contoso.com",
            "nobody@contoso.com",
        ],
    );
    env.apply(std::slice::from_ref(&broken)).await?;
    let message = wait_reason(&env, &broken, "UserNotFound").await?;
    assert!(
        message.contains("nobody@contoso.com") && message.contains("removes nothing"),
        "{message}"
    );
    api.add_member(&christie, &container).await?;
    tokio::time::sleep(Duration::from_secs(5)).await; // two resyncs
    assert_eq!(
        members_of(&env, &container),
        [
            "adele.vance@contoso.com",
            "alex.wilber@contoso.com",
            "christie.cline@contoso.com"
        ],
        "Exclusive removed nothing while a member did not resolve"
    );
    let status = get(&env, &broken).await?.data["status"].clone();
    let failed: Vec<&serde_json::Value> = status["members"]
        .as_array()
        .ok_or("members")?
        .iter()
        .filter(|x| x["state"] == "Failed")
        .collect();
    assert_eq!(failed.len(), 1, "{status}");
    assert_eq!(failed[0]["member"], "user:nobody@contoso.com");

    env.delete_and_wait(&[broken], Duration::from_secs(20))
        .await?;
    assert_eq!(
        members_of(&env, &container),
        ["christie.cline@contoso.com"],
        "deletion removes what the object added"
    );
    env.delete_and_wait(&[g, org], Duration::from_secs(20))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_proceeds_as_soon_as_its_group_is_ready() -> TestResult {
    let mut env = OperatorEnv::start("waits").await?;
    // A long resync: only the watch on DevOpsGroup can wake the membership in time.
    env.start_operator(&["--resync-interval", "10m"]).await?;
    let org = organization(&env, &[]);
    let m = membership(
        &env,
        "late",
        "late-group",
        "Additive",
        &["adele.vance@contoso.com"],
    );
    env.apply(&[org.clone(), m.clone()]).await?;
    let message = wait_reason(&env, &m, "GroupNotFound").await?;
    assert!(message.contains("late-group"), "{message}");
    let g = group(&env, "late-group", "Late Group", "Delete");
    let started = Instant::now();
    env.apply(std::slice::from_ref(&g)).await?;
    env.wait_ready(&[g.clone(), m.clone()], "True", Duration::from_secs(20))
        .await?;
    eprintln!(
        "membership Ready {:?} after its group was created",
        started.elapsed()
    );
    env.delete_and_wait(&[m, g, org], Duration::from_secs(20))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_samples_converge_without_sending_before_retry_after() -> TestResult {
    let mut env = OperatorEnv::start("throttled").await?;
    env.create_team_service_account().await?;
    env.sim.control().set_faults(Faults {
        throttling: Some(Throttling {
            budget: 25.0,
            window_seconds: 4,
            cost_per_request: 1.0,
            delay_from: 0.6,
            delay_ms: 100,
        }),
        ..Faults::default()
    });
    env.start_operator(&[]).await?;
    let samples = env.samples()?;
    env.apply(&samples).await?;
    env.wait_ready(&samples, "True", Duration::from_secs(90))
        .await?;
    let requests = env.sim.control().requests();
    let throttled = requests.requests.iter().filter(|r| r.status == 429).count();
    assert!(
        throttled > 0,
        "the budget was small enough to throttle ({} requests)",
        requests.requests.len()
    );
    assert_eq!(
        env.sim.control().total_retry_after_violations(),
        0,
        "nothing sent before Retry-After elapsed"
    );
    env.sim.control().set_faults(Faults::default());
    let (orgs, others): (Vec<_>, Vec<_>) = samples.iter().cloned().partition(|d| {
        d["kind"]
            .as_str()
            .is_some_and(|k| k.ends_with("DevOpsOrganization"))
    });
    env.delete_and_wait(&others, Duration::from_secs(60))
        .await?;
    env.delete_and_wait(&orgs, Duration::from_secs(30)).await?;
    Ok(())
}
