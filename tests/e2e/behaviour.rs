//! What each controller does with Azure DevOps, end to end: adoption, drift repair, out-of-band
//! deletion, deletion policies, conflicts, the namespace policy, protected groups, Exclusive
//! membership failing closed, waiting on a referenced group, and throttling.

use azdo_operator::reason::Reason;
use std::time::{Duration, Instant};

use azdo_operator::api::{
    DeletionPolicy, DevOpsGroup, DevOpsMembership, MemberState, MembershipMode,
};
use azdo_sim::{Faults, Throttling};

use crate::operator_env::{OperatorEnv, TestResult};
use crate::sim_api::{descriptor_of, groups_named, members_of, SimApi};
use crate::support::kit::fixtures::{target_principal, target_ref, users};
use crate::support::kit::{typed, ToObject};

/// How long a test waits for one Ready reason.
const REASON: Duration = Duration::from_secs(30);

/// DevOpsGroup `name` for `display`, with a description and `policy`.
fn group(env: &OperatorEnv, name: &str, display: &str, policy: DeletionPolicy) -> DevOpsGroup {
    let mut g = env.fixtures().group(name, display);
    g.spec.description = Some("Managed by azdo-operator".into());
    g.spec.deletion_policy = Some(policy);
    g
}

/// DevOpsMembership `name` of the namespace's DevOpsGroup `group_ref`: `users` in `mode`.
fn membership(
    env: &OperatorEnv,
    name: &str,
    group_ref: &str,
    mode: MembershipMode,
    upns: &[&str],
) -> DevOpsMembership {
    let mut m = env
        .fixtures()
        .membership(name, target_ref(group_ref), users(upns));
    m.spec.mode = mode;
    m
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
    let org = env.fixtures().cluster_organization().object();
    let g = group(
        &env,
        "operators",
        "Storefront Operators",
        DeletionPolicy::Delete,
    )
    .object();
    env.apply(&[org.clone(), g.clone()]).await?;
    let ready = env
        .wait_ready(&[org.clone(), g.clone()], "True", Duration::from_secs(30))
        .await?;
    let status = typed::<DevOpsGroup>(&ready[1])?.status.unwrap_or_default();
    assert_eq!(
        status.descriptor.as_deref(),
        Some(existing.as_str()),
        "adopted, not duplicated"
    );
    assert!(status.adopted);
    let principal = "[Storefront]\\Storefront Operators";
    assert_eq!(groups_named(&env, principal).len(), 1);
    assert_eq!(
        groups_named(&env, principal)[0].1.as_deref(),
        Some("Managed by azdo-operator"),
        "description set on adoption"
    );

    // Drift: a description changed by hand comes back within a resync.
    api.set_description(&existing, "tampered").await?;
    env.eventually("description repaired", Duration::from_secs(15), || async {
        Ok(groups_named(&env, principal)
            .first()
            .and_then(|g| g.1.clone())
            .as_deref()
            == Some("Managed by azdo-operator"))
    })
    .await?;

    // Deleted out of band: recreated, and status follows the new descriptor.
    api.delete_group(&existing).await?;
    env.eventually("group recreated", Duration::from_secs(15), || async {
        let live = groups_named(&env, principal);
        let status = typed::<DevOpsGroup>(&env.get(&g).await?)?
            .status
            .and_then(|s| s.descriptor);
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
    let org = env
        .fixtures()
        .cluster_organization_allowing(&[env.namespace.as_str(), other_ns.as_str()])
        .object();
    let owner = group(&env, "release", "Release Crew", DeletionPolicy::Orphan).object();
    let mut intruder = group(&env, "release-copy", "Release Crew", DeletionPolicy::Delete);
    intruder.metadata.namespace = Some(other_ns.clone());
    let intruder = intruder.object();
    env.apply(&[org.clone(), owner.clone()]).await?;
    env.wait_ready(
        std::slice::from_ref(&owner),
        "True",
        Duration::from_secs(30),
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1100)).await; // a strictly later creationTimestamp
    env.apply(std::slice::from_ref(&intruder)).await?;
    let message = env
        .wait_for_reason(&intruder, Reason::Conflict, REASON)
        .await?
        .message;
    assert!(message.contains("already manages this group"), "{message}");
    let principal = "[Storefront]\\Release Crew";
    // Nor may another namespace change the members of a group this namespace manages.
    let mut meddler = membership(
        &env,
        "meddler",
        "unused",
        MembershipMode::Exclusive,
        &["adele.vance@contoso.com"],
    );
    meddler.metadata.namespace = Some(other_ns.clone());
    meddler.spec.group = target_principal(principal);
    let meddler = meddler.object();
    env.apply(std::slice::from_ref(&meddler)).await?;
    let message = env
        .wait_for_reason(&meddler, Reason::Conflict, REASON)
        .await?
        .message;
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
    let org = env
        .fixtures()
        .cluster_organization_allowing(&["somewhere-else"])
        .object();
    let g = group(&env, "sneaky", "Sneaky Group", DeletionPolicy::Delete).object();
    env.apply(&[org.clone(), g.clone()]).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", Duration::from_secs(30))
        .await?;
    let message = env
        .wait_for_reason(&g, Reason::NotAllowed, REASON)
        .await?
        .message;
    assert!(message.contains("grants nothing to namespace"), "{message}");
    let requests = env.sim.control().requests();
    let graph_writes = requests
        .requests
        .iter()
        .filter(|r| r.method != "GET" && r.route.contains("graph"))
        .count();
    assert_eq!(graph_writes, 0, "nothing was written to Azure DevOps");
    assert!(groups_named(&env, "[Storefront]\\Sneaky Group").is_empty());
    env.delete_in_order(&[g, org], Duration::from_secs(20))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_groups_cannot_be_targeted() -> TestResult {
    let mut env = OperatorEnv::start("protected").await?;
    env.start_operator(&[]).await?;
    let org = env.fixtures().cluster_organization().object();
    let admins = group(
        &env,
        "admins",
        "Project Administrators",
        DeletionPolicy::Delete,
    )
    .object();
    let mut members = membership(
        &env,
        "pca",
        "unused",
        MembershipMode::Exclusive,
        &["adele.vance@contoso.com"],
    );
    members.spec.group = target_principal("[contoso]\\Project Collection Administrators");
    let members = members.object();
    env.apply(&[org.clone(), admins.clone(), members.clone()])
        .await?;
    env.wait_for_reason(&admins, Reason::ProtectedGroup, REASON)
        .await?;
    env.wait_for_reason(&members, Reason::ProtectedGroup, REASON)
        .await?;
    let pca =
        descriptor_of(&env, "[contoso]\\Project Collection Administrators").ok_or("no PCA")?;
    assert!(!members_of(&env, &pca)
        .iter()
        .any(|m| m == "adele.vance@contoso.com"));
    env.delete_in_order(&[admins, members, org], Duration::from_secs(20))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memberships_repair_drift_and_exclusive_mode_fails_closed() -> TestResult {
    let mut env = OperatorEnv::start("members").await?;
    let api = SimApi::new(&env)?;
    env.start_operator(&["--resync-interval", "2s", "--resync-jitter", "0"])
        .await?;
    let org = env.fixtures().cluster_organization().object();
    let g = group(&env, "crew", "Deploy Crew", DeletionPolicy::Delete).object();
    let m = membership(
        &env,
        "crew",
        "crew",
        MembershipMode::Exclusive,
        &["adele.vance@contoso.com", "alex.wilber@contoso.com"],
    )
    .object();
    env.apply(&[org.clone(), g.clone(), m.clone()]).await?;
    let ready = env
        .wait_ready(&[g.clone(), m.clone()], "True", Duration::from_secs(30))
        .await?;
    let container = typed::<DevOpsGroup>(&ready[0])?
        .status
        .and_then(|s| s.descriptor)
        .ok_or("no descriptor")?;
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
    env.eventually(
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
        MembershipMode::Exclusive,
        &[
            "adele.vance@contoso.com",
            "alex.wilber@contoso.com",
            "nobody@contoso.com",
        ],
    )
    .object();
    env.apply(std::slice::from_ref(&broken)).await?;
    let message = env
        .wait_for_reason(&broken, Reason::UserNotFound, REASON)
        .await?
        .message;
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
    let status = typed::<DevOpsMembership>(&env.get(&broken).await?)?
        .status
        .ok_or("no status")?;
    let failed: Vec<_> = status
        .members
        .iter()
        .filter(|x| x.state == MemberState::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{status:?}");
    assert_eq!(failed[0].member, "user:nobody@contoso.com");

    env.delete_and_wait(&[broken], Duration::from_secs(20))
        .await?;
    assert_eq!(
        members_of(&env, &container),
        ["christie.cline@contoso.com"],
        "deletion removes what the object added"
    );
    env.delete_in_order(&[g, org], Duration::from_secs(20))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_proceeds_as_soon_as_its_group_is_ready() -> TestResult {
    let mut env = OperatorEnv::start("waits").await?;
    // A long resync: only the watch on DevOpsGroup can wake the membership in time.
    env.start_operator(&["--resync-interval", "10m"]).await?;
    let org = env.fixtures().cluster_organization().object();
    let m = membership(
        &env,
        "late",
        "late-group",
        MembershipMode::Additive,
        &["adele.vance@contoso.com"],
    )
    .object();
    env.apply(&[org.clone(), m.clone()]).await?;
    let message = env
        .wait_for_reason(&m, Reason::GroupNotFound, REASON)
        .await?
        .message;
    assert!(message.contains("late-group"), "{message}");
    let g = group(&env, "late-group", "Late Group", DeletionPolicy::Delete).object();
    let started = Instant::now();
    env.apply(std::slice::from_ref(&g)).await?;
    env.wait_ready(&[g.clone(), m.clone()], "True", Duration::from_secs(20))
        .await?;
    eprintln!(
        "membership Ready {:?} after its group was created",
        started.elapsed()
    );
    env.delete_in_order(&[m, g, org], Duration::from_secs(20))
        .await?;
    Ok(())
}

/// The samples' entitlement, role assignment and check name `storefront-operators` by
/// `groupRef` (as principal, member and approver). Applied before it, each reports that the
/// group is missing; once it is applied, each proceeds at once, long before a resync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_naming_a_group_proceeds_as_soon_as_the_group_is_ready() -> TestResult {
    let mut env = OperatorEnv::start("waits-all").await?;
    env.create_team_service_account().await?;
    // A long resync: only the watch on DevOpsGroup can wake them in time.
    env.start_operator(&["--resync-interval", "10m"]).await?;
    let samples = env.samples()?;
    let kind = |o: &kube::api::DynamicObject| o.types.as_ref().map(|t| t.kind.clone());
    let (group, rest): (Vec<_>, Vec<_>) = samples.iter().cloned().partition(|o| {
        kind(o).as_deref() == Some("DevOpsGroup")
            && o.metadata.name.as_deref() == Some("storefront-operators")
    });
    assert_eq!(group.len(), 1, "the samples hold the group");
    let waiting: Vec<_> = rest
        .iter()
        .filter(|o| {
            matches!(
                kind(o).as_deref(),
                Some("DevOpsEntitlement" | "DevOpsRoleAssignment" | "PipelineResourceCheck")
            )
        })
        .cloned()
        .collect();
    assert_eq!(
        waiting.len(),
        3,
        "an entitlement, a role assignment, a check"
    );
    env.apply(&rest).await?;
    for obj in &waiting {
        env.wait_for_reason(obj, Reason::GroupNotFound, REASON)
            .await?;
    }
    let started = Instant::now();
    env.apply(&group).await?;
    env.wait_ready(&samples, "True", Duration::from_secs(30))
        .await?;
    eprintln!(
        "every sample Ready {:?} after the group was applied",
        started.elapsed()
    );
    env.delete_in_order(&samples, Duration::from_secs(60))
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
    env.delete_in_order(&samples, Duration::from_secs(90))
        .await?;
    Ok(())
}
