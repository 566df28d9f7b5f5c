//! Attacks on approvals and checks (issue 19): checks on a resource the grant does not name
//! (another project's environment, by name or by id; a service connection), Exclusive mode
//! without a grant saying so, a second object's Exclusive mode removing a check another object
//! created, and cleanup steered to a check the object did not create (a hand-made check it
//! found in place, a forged status naming a foreign check id, a hand-made twin of a check whose
//! create's answer was lost). Each refused attempt ends `Ready=False` with no write, and nothing
//! the attacker did not create is removed.
//!
//! Approvers are not an attack surface of their own: listing a privileged group as approver
//! grants it nothing (an approval only gates a run), and the resource must be granted anyway.

use azdo_operator::api::{CheckGrant, MembershipMode, PipelineResourceCheck, ResourceSelector};
use azdo_sim::model::checks::CheckKind;
use azdo_sim::{Faults, LostAnswer};
use serde_json::json;

use super::*;
use crate::checks::{
    add_out_of_band, approval, checks, lock, on_environment, until_checks, user, ADELE, PRODUCTION,
};

fn on(
    env: &OperatorEnv,
    name: &str,
    resource: ResourceSelector,
    mode: MembershipMode,
) -> PipelineResourceCheck {
    let mut c = env
        .fixtures()
        .resource_check(name, resource, vec![lock(60)]);
    c.spec.mode = mode;
    c
}

fn by_id(type_: ResourceType, id: &str) -> ResourceSelector {
    ResourceSelector {
        type_,
        id: Some(id.to_string()),
        name: None,
        project: None,
    }
}

/// Another project's environment (by name, and by its id under the tenant's project), a
/// service connection and Exclusive mode on a granted environment: refused, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_reach_only_granted_resources_and_modes() -> TestResult {
    let env = start("attacks-checks-reach").await?;
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let mut payments = on(
        &env,
        "payments",
        resource_named(ResourceType::Environment, "payments-production"),
        MembershipMode::Additive,
    );
    payments.spec.project = "Payments".into();
    let other_id = on(
        &env,
        "by-id",
        by_id(ResourceType::Environment, "7"),
        MembershipMode::Additive,
    );
    let endpoint = on(
        &env,
        "endpoint",
        resource_named(ResourceType::Endpoint, "azure-prod"),
        MembershipMode::Additive,
    );
    let exclusive = on(
        &env,
        "exclusive",
        resource_named(ResourceType::Environment, "storefront-production"),
        MembershipMode::Exclusive,
    );
    let objs = [payments, other_id, endpoint, exclusive].map(|o| o.object());
    env.apply(&objs).await?;
    let conditions =
        all_refused(&env, &objs, &[Reason::NotAllowed, Reason::ResourceNotFound]).await?;
    assert!(conditions[0].has(Reason::NotAllowed), "{:?}", conditions[0]);
    assert!(
        conditions[1].has(Reason::ResourceNotFound),
        "environment 7 is Payments', not Storefront's: {:?}",
        conditions[1]
    );
    assert!(conditions[2].has(Reason::NotAllowed), "{:?}", conditions[2]);
    assert!(
        conditions[3].has(Reason::NotAllowed) && conditions[3].message.contains("Exclusive"),
        "{:?}",
        conditions[3]
    );
    untouched(&env, &before).await?;
    env.delete_in_order(&objs, WAIT).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Team B's check (an Additive object in another namespace) survives team A's Exclusive object
/// on the same resource: A reports CheckHeldElsewhere and removes nothing of B's, while it
/// still removes a hand-made check nobody holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_mode_does_not_remove_another_teams_check() -> TestResult {
    let env = start("attacks-checks-exclusive").await?;
    let team_b = env.cp.new_namespace("attacks-team-b").await?;
    let mut b_grant = storefront_grant(&[team_b.as_str()]);
    b_grant.checks = vec![CheckGrant {
        type_: Some(ResourceType::Environment),
        names: vec!["storefront-*".into()],
        ..CheckGrant::default()
    }];
    let mut a_grant = storefront_grant(&[env.namespace.as_str()]);
    a_grant.checks[0].exclusive = true;
    let org = env
        .fixtures()
        .cluster_organization_granting(vec![a_grant, b_grant])
        .object();
    env.apply(std::slice::from_ref(&org)).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", WAIT)
        .await?;

    let mut b = checks(
        &env,
        "team-b",
        vec![approval(vec![user(ADELE)], 1)],
        MembershipMode::Additive,
    );
    b.metadata.namespace = Some(team_b.clone());
    env.apply(&[b.object()]).await?;
    env.wait_ready(&[b.object()], "True", WAIT).await?;
    let hand_made = add_out_of_band(&env, CheckKind::ExclusiveLock, json!({}), 30);
    until_checks(&env, &["Approval min=1", "ExclusiveLock lock timeout=30"]).await?;

    let a = checks(&env, "team-a", vec![lock(60)], MembershipMode::Exclusive);
    env.apply(&[a.object()]).await?;
    let ready = env
        .wait_for_reason(&a.object(), Reason::CheckHeldElsewhere, WAIT)
        .await?;
    assert!(ready.status == "False", "{ready:?}");
    tokio::time::sleep(A_RESYNC).await;
    let now = until_checks(&env, &["Approval min=1", "ExclusiveLock lock timeout=60"]).await?;
    assert!(
        now.iter().all(|c| c.id != hand_made),
        "the hand-made lock nobody holds is removed"
    );

    env.delete_in_order(&[a.object()], WAIT).await?;
    until_checks(&env, &["Approval min=1"]).await?;
    env.delete_in_order(&[b.object()], WAIT).await?;
    until_checks(&env, &[]).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Cleanup undoes only what the ledger records: a hand-made check the object found already in
/// place stays, and a status forged to name another check's id steers nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_removes_only_checks_the_object_created() -> TestResult {
    let env = start("attacks-checks-cleanup").await?;
    let org = organization(&env, vec![]).await?;
    let found = add_out_of_band(&env, CheckKind::ExclusiveLock, json!({}), 60);
    let foreign = add_out_of_band(&env, CheckKind::ExclusiveLock, json!({}), 90);
    let c = checks(
        &env,
        "prod",
        vec![lock(60), approval(vec![user(ADELE)], 1)],
        MembershipMode::Additive,
    );
    let obj = c.object();
    env.apply(std::slice::from_ref(&obj)).await?;
    env.wait_ready(std::slice::from_ref(&obj), "True", WAIT)
        .await?;
    until_checks(
        &env,
        &[
            "ExclusiveLock lock timeout=60",
            "ExclusiveLock lock timeout=90",
            "Approval min=1",
        ],
    )
    .await?;
    // The tenant forges its status: every check id it can see.
    let api = api_for(&env.client().await?, &obj)?;
    let forged = json!({"status": {"checks": [
        {"check": "exclusiveLock#1", "id": foreign, "state": "Configured"},
        {"check": "approval#1", "id": found, "state": "Configured"}
    ]}});
    api.patch_status(
        &obj.metadata.name.clone().unwrap_or_default(),
        &PatchParams::default(),
        &Patch::Merge(&forged),
    )
    .await?;
    env.delete_in_order(std::slice::from_ref(&obj), WAIT)
        .await?;
    let left = until_checks(
        &env,
        &[
            "ExclusiveLock lock timeout=60",
            "ExclusiveLock lock timeout=90",
        ],
    )
    .await?;
    let mut ids: Vec<u32> = left.iter().map(|c| c.id).collect();
    ids.sort();
    assert_eq!(ids, vec![found, foreign]);
    assert!(on_environment(&env, PRODUCTION)
        .iter()
        .all(|c| c.kind != CheckKind::Approval));
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// A tenant counting on the lost-create recovery to take over a check someone made by hand
/// (so that deleting its object removes it): the object's create lands but its answer is lost,
/// and while it is on its way someone adds an identical check by hand. The resource now carries
/// two new identical checks and nothing tells which one the create added: neither is taken as
/// the object's, and deleting the object removes neither (its own stays behind, unrecorded,
/// rather than the hand-made one going).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_takes_over_no_hand_made_twin() -> TestResult {
    let env = start("attacks-checks-twin").await?;
    let org = organization(&env, vec![]).await?;
    env.sim.control().set_faults(Faults {
        lose_answers: vec![LostAnswer {
            method: "POST".into(),
            path_contains: "/pipelines/checks/configurations".into(),
            times: 1,
            hold_ms: 3000,
        }],
        ..Faults::default()
    });
    let c = checks(&env, "prod", vec![lock(60)], MembershipMode::Additive);
    let obj = c.object();
    env.apply(std::slice::from_ref(&obj)).await?;
    // The create landed; its answer is held, then lost.
    let landed = until_checks(&env, &["ExclusiveLock lock timeout=60"]).await?[0].id;
    let twin = add_out_of_band(&env, CheckKind::ExclusiveLock, json!({}), 60);
    env.wait_ready(std::slice::from_ref(&obj), "True", WAIT)
        .await?;
    let lost = env
        .sim
        .control()
        .requests()
        .requests
        .iter()
        .filter(|r| r.method == "POST" && r.route.contains("/pipelines/checks/"))
        .count();
    assert_eq!(lost, 1, "one create, its answer lost, none sent again");
    env.delete_in_order(std::slice::from_ref(&obj), WAIT)
        .await?;
    let mut left: Vec<u32> = on_environment(&env, PRODUCTION)
        .iter()
        .map(|c| c.id)
        .collect();
    left.sort();
    assert_eq!(left, vec![landed, twin], "neither twin was removed");
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}
