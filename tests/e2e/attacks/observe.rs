//! Attacks through Observe (issue 20): `managementPolicy: Observe` writes nothing, so a tenant
//! may try it as a reconnaissance tool (an Exclusive member list that "would remove" everyone
//! lists a group's members) or as a squatter (an observer holding a name another namespace
//! needs). Observe passes every check Manage would (protection, grants, another object's claim)
//! before it reads, reports no drift when refused, takes no claim, and writes nothing.

use azdo_operator::api::ManagementPolicy;

use super::*;

fn observed(mut m: DevOpsMembership) -> DynamicObject {
    m.spec.management_policy = ManagementPolicy::Observe;
    m.object()
}

/// Observed memberships that would read a protected group, a group nested in one, another
/// project's group, and a granted group in a mode not granted (Exclusive, which lists every
/// member to remove) are all refused as Manage would refuse them, with no `status.drift` (so no
/// member name leaks), and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observe_is_no_reconnaissance_tool() -> TestResult {
    let env = start("attacks-observe-recon").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let payments_admins = r"[Payments]\Project Administrators";
    let attacks = [
        observed(membership(
            &env,
            &ns,
            "pca",
            target_principal(PCA),
            MembershipMode::Exclusive,
            &[],
        )),
        observed(membership(
            &env,
            &ns,
            "pca-d",
            target_descriptor(&descriptor(&env, PCA)?),
            MembershipMode::Exclusive,
            &[],
        )),
        observed(membership(
            &env,
            &ns,
            "payments",
            target_principal(payments_admins),
            MembershipMode::Exclusive,
            &[],
        )),
        observed(membership(
            &env,
            &ns,
            "contributors-x",
            target_principal(CONTRIBUTORS),
            MembershipMode::Exclusive,
            &[],
        )),
    ];
    env.apply(&attacks).await?;
    all_refused(
        &env,
        &attacks,
        &[Reason::ProtectedGroup, Reason::NotAllowed],
    )
    .await?;
    for obj in &attacks {
        let live = env.get(obj).await?;
        assert!(
            live.data["status"]["drift"].is_null(),
            "a refused observer reports no drift: {}",
            live.data["status"]
        );
    }
    untouched(&env, &before).await?;
    env.delete_in_order(&attacks, WAIT).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// An observed DevOpsGroup takes no claim: another namespace creates the group it observes
/// (the observer does not squat on the name), and from then on the observer is refused as a
/// Conflict (it would read another team's group) instead of reporting on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_squats_on_nothing_and_reads_no_other_teams_group() -> TestResult {
    let env = start("attacks-observe-squat").await?;
    let ns = env.namespace.clone();
    let rival = env.cp.new_namespace("attacks-observe-owner").await?;
    let org = organization(&env, vec![storefront_grant(&[rival.as_str()])]).await?;
    let mut watcher = group(&env, &ns, "watch", Some("Storefront"), "Watched Crew");
    watcher.spec.management_policy = ManagementPolicy::Observe;
    let watcher = watcher.object();
    env.apply(std::slice::from_ref(&watcher)).await?;
    let drift = env
        .wait_for_reason(&watcher, Reason::DriftDetected, WAIT)
        .await?;
    assert!(drift.message.contains("create group"), "{}", drift.message);
    assert!(groups_named(&env, r"[Storefront]\Watched Crew").is_empty());

    let owner = group(&env, &rival, "own", Some("Storefront"), "Watched Crew").object();
    env.apply(std::slice::from_ref(&owner)).await?;
    env.wait_ready(std::slice::from_ref(&owner), "True", WAIT)
        .await?;
    let refusal = refused(&env, &watcher, &[Reason::Conflict]).await?;
    assert!(
        refusal.message.contains("already manages this group"),
        "{}",
        refusal.message
    );
    let live = env.get(&watcher).await?;
    assert!(
        live.data["status"]["drift"].is_null(),
        "{}",
        live.data["status"]
    );

    // Deleting the observer writes nothing; the owner's group stays.
    baseline(&env);
    env.delete_in_order(std::slice::from_ref(&watcher), WAIT)
        .await?;
    assert!(writes(&env).is_empty(), "{:?}", writes(&env));
    assert_eq!(groups_named(&env, r"[Storefront]\Watched Crew").len(), 1);
    env.delete_in_order(&[owner, org], WAIT).await?;
    Ok(())
}
