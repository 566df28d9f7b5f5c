//! Attacks on entitlements (issue 18): a licence the grant does not give (Basic + Test Plans
//! when only Stakeholder is granted), project entitlements in another team's project or in a
//! project group the grant does not name (Project Administrators), and group rules on a
//! privileged group or on another team's group. Each refused attempt ends `Ready=False` with no
//! write and the simulator's entitlements untouched. A second namespace declaring the same
//! user, service principal or group another namespace's object manages is refused until that
//! object is deleted and its claim released. A forged `status.entitlementId` (another team's
//! user's entitlement) steers neither the object's writes nor its cleanup.

use azdo_operator::api::{AccessLevel, Principal, ProjectGroupType};
use kube::ResourceExt;

use super::*;

const LEE: &str = "lee.gu@contoso.com";
const DEBRA: &str = "debra.berger@contoso.com";

fn user(upn: &str) -> Principal {
    Principal {
        user: Some(upn.into()),
        ..Principal::default()
    }
}

fn group(principal_name: &str) -> Principal {
    Principal {
        group: Some(principal_name.into()),
        ..Principal::default()
    }
}

/// A licence level, a project and a project group the grant does not give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entitlements_give_only_granted_levels_projects_and_groups() -> TestResult {
    let env = start("attacks-ent-levels").await?;
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let f = env.fixtures();
    let test_plans = f.entitlement(
        "test-plans",
        user(LEE),
        AccessLevel::BasicPlusTestPlans,
        &[],
    );
    let basic = f.entitlement("basic", user(LEE), AccessLevel::Basic, &[]);
    let payments = f.entitlement(
        "payments",
        user(LEE),
        AccessLevel::Stakeholder,
        &[("Payments", ProjectGroupType::Readers)],
    );
    let payments_by_id = f.entitlement(
        "payments-by-id",
        user(LEE),
        AccessLevel::Stakeholder,
        &[(PAYMENTS_ID, ProjectGroupType::Readers)],
    );
    let admins = f.entitlement(
        "admins",
        user(LEE),
        AccessLevel::Stakeholder,
        &[("Storefront", ProjectGroupType::ProjectAdministrators)],
    );
    let objects: Vec<DynamicObject> = [&test_plans, &basic, &payments, &payments_by_id, &admins]
        .iter()
        .map(|o| o.object())
        .collect();
    env.apply(&objects).await?;
    for obj in &objects {
        let ready = refused(&env, obj, &[Reason::NotAllowed]).await?;
        assert!(
            ready.message.contains("entitlements") || ready.message.contains("projects"),
            "{}: {}",
            describe(obj),
            ready.message
        );
    }
    untouched(&env, &before).await?;
    env.delete_in_order(&objects, WAIT).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Group rules on a privileged group (Project Collection Administrators: its members would get
/// the level and the projects) and on another team's group the grant does not name: refused.
/// Without `groupRules` in the grant, even a granted group is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_rules_only_on_groups_the_namespace_may_reach() -> TestResult {
    let env = start("attacks-ent-rules").await?;
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let f = env.fixtures();
    let pca = f.entitlement("pca", group(PCA), AccessLevel::Stakeholder, &[]);
    let approvers = f.entitlement(
        "approvers",
        group(r"[Storefront]\Release Approvers"),
        AccessLevel::Stakeholder,
        &[],
    );
    let payments = f.entitlement(
        "payments-contributors",
        group(r"[Payments]\Contributors"),
        AccessLevel::Stakeholder,
        &[],
    );
    env.apply(&[pca.object(), approvers.object(), payments.object()])
        .await?;
    refused(
        &env,
        &pca.object(),
        &[Reason::ProtectedGroup, Reason::NotAllowed],
    )
    .await?;
    refused(&env, &approvers.object(), &[Reason::NotAllowed]).await?;
    refused(&env, &payments.object(), &[Reason::NotAllowed]).await?;
    untouched(&env, &before).await?;

    // The grant's own group, but group rules not granted.
    let mut grant = storefront_grant(&[env.namespace.as_str()]);
    if let Some(e) = grant.entitlements.as_mut() {
        e.group_rules = false;
    }
    let narrowed = env
        .fixtures()
        .cluster_organization_granting(vec![grant])
        .object();
    env.apply(std::slice::from_ref(&narrowed)).await?;
    let contributors = f.entitlement(
        "contributors",
        group(CONTRIBUTORS),
        AccessLevel::Stakeholder,
        &[],
    );
    env.apply(&[contributors.object()]).await?;
    let ready = refused(&env, &contributors.object(), &[Reason::NotAllowed]).await?;
    assert!(ready.message.contains("groupRules"), "{}", ready.message);
    let before = baseline(&env);
    untouched(&env, &before).await?;
    env.delete_in_order(
        &[
            pca.object(),
            approvers.object(),
            payments.object(),
            contributors.object(),
        ],
        WAIT,
    )
    .await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

const A_CREW: &str = r"[Storefront]\A Crew";

/// Writes to Member Entitlement Management since [`baseline`] (B's principal resolution may
/// materialize a user in the Graph, which changes nothing of A's).
fn entitlement_writes(env: &OperatorEnv) -> Vec<String> {
    writes(env)
        .into_iter()
        .filter(|w| w.contains("entitlements"))
        .collect()
}

/// What A's objects hold in the simulator: each principal's direct entitlement (level,
/// projects) and the rule on A's group (level, projects, licensed members).
fn held(env: &OperatorEnv, principals: &[&str], crew: &str) -> Vec<String> {
    env.sim.control().with_state(|state| {
        let org = state.organization("contoso").expect("contoso");
        let mut out: Vec<String> = principals
            .iter()
            .map(|p| {
                let m = org
                    .subjects
                    .iter()
                    .find(|s| s.principal_name.eq_ignore_ascii_case(p) || s.origin_id == *p)
                    .and_then(|s| org.entitlements.member(&s.descriptor));
                format!("{p}: {:?}", m.map(|m| (m.licence, m.projects.clone())))
            })
            .collect();
        out.push(format!(
            "rule: {:?}",
            org.entitlements.rule(crew).map(|r| (
                r.licence,
                r.projects.clone(),
                r.licensed.clone(),
                r.status
            ))
        ));
        out
    })
}

/// Tenant B declares DevOpsEntitlements for the user, the service principal and the group
/// (A's DevOpsGroup, by principal name and by a `groupRef` B cannot point across namespaces)
/// that tenant A's objects already manage, and B is granted the level it asks for (Basic) and
/// A's group by name. B is refused (`EntitlementHeldElsewhere`, `Conflict`, `GroupNotFound`)
/// and sends no entitlement write; A's entitlements (level, projects, the rule) are untouched,
/// also when B's objects are deleted (Delete and Orphan). A's claim is released only when A's
/// object goes: then B converges (on the user A removed: B creates it; on the service principal
/// A orphaned: B adopts it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_namespace_cannot_take_a_principal_another_manages() -> TestResult {
    let env = start("attacks-ent-principal").await?;
    env.sim.control().set_behaviours(azdo_sim::Behaviours {
        group_rule_apply_ms: 500,
        ..azdo_sim::Behaviours::default()
    });
    let ns = env.namespace.clone();
    let rival = env.cp.new_namespace("attacks-ent-rival").await?;
    let mut b_grant = storefront_grant(&[rival.as_str()]);
    if let Some(e) = b_grant.entitlements.as_mut() {
        e.access_levels.push(AccessLevel::Basic);
    }
    b_grant.groups.push(A_CREW.to_string());
    let org = organization(&env, vec![b_grant]).await?;
    let f = env.fixtures();
    let sp_id = env
        .sim
        .control()
        .with_state(|s| s.directory.service_principals[0].object_id.to_string());
    let sp = |oid: &str| Principal {
        service_principal: Some(oid.to_string()),
        ..Principal::default()
    };
    let crew_ref = |name: &str| Principal {
        group_ref: Some(azdo_operator::api::LocalRef { name: name.into() }),
        ..Principal::default()
    };
    let in_ns = |mut e: azdo_operator::api::DevOpsEntitlement, namespace: &str| {
        e.metadata.namespace = Some(namespace.to_string());
        e
    };

    // Tenant A: Lee (Stakeholder, Storefront Readers), the deploy bot (Stakeholder, Orphan),
    // and a rule on its own group.
    let a_crew = super::group(&env, &ns, "a-crew", Some("Storefront"), "A Crew");
    env.apply(&[a_crew.object()]).await?;
    env.wait_ready(&[a_crew.object()], "True", WAIT).await?;
    let a_lee = f.entitlement(
        "lee",
        user(LEE),
        AccessLevel::Stakeholder,
        &[("Storefront", ProjectGroupType::Readers)],
    );
    let mut a_bot = f.entitlement("bot", sp(&sp_id), AccessLevel::Stakeholder, &[]);
    a_bot.spec.deletion_policy = azdo_operator::api::DeletionPolicy::Orphan;
    let a_rule = f.entitlement(
        "crew-rule",
        crew_ref("a-crew"),
        AccessLevel::Stakeholder,
        &[("Storefront", ProjectGroupType::Readers)],
    );
    let a_objects = [a_lee.object(), a_bot.object(), a_rule.object()];
    env.apply(&a_objects).await?;
    env.wait_ready(&a_objects, "True", WAIT).await?;
    let crew = descriptor(&env, A_CREW)?;
    let principals = [LEE, sp_id.as_str()];
    let a_holds = held(&env, &principals, &crew);
    assert!(
        a_holds.iter().all(|h| !h.ends_with("None")),
        "A holds all three: {a_holds:#?}"
    );
    let before = baseline(&env);

    // Tenant B reaches for the same principals, with both deletion policies.
    let b = |name: &str, principal: Principal, level: AccessLevel, orphan: bool| {
        let mut e = in_ns(
            f.entitlement(
                name,
                principal,
                level,
                &[("Storefront", ProjectGroupType::Contributors)],
            ),
            &rival,
        );
        if orphan {
            e.spec.deletion_policy = azdo_operator::api::DeletionPolicy::Orphan;
        }
        e.object()
    };
    let b_held = [
        b("lee", user(LEE), AccessLevel::Basic, false),
        b("lee-kept", user(LEE), AccessLevel::Basic, true),
        b("bot", sp(&sp_id), AccessLevel::Basic, false),
        b("bot-kept", sp(&sp_id), AccessLevel::Basic, true),
    ];
    let b_by_name = b("crew-by-name", group(A_CREW), AccessLevel::Basic, false);
    let b_by_ref = b("crew-by-ref", crew_ref("a-crew"), AccessLevel::Basic, false);
    env.apply(&b_held).await?;
    env.apply(&[b_by_name.clone(), b_by_ref.clone()]).await?;
    for obj in &b_held {
        let r = refused(&env, obj, &[Reason::EntitlementHeldElsewhere]).await?;
        assert!(
            r.message.contains(&format!("{ns}/")),
            "{}: names the holder: {}",
            describe(obj),
            r.message
        );
    }
    let by_name = refused(&env, &b_by_name, &[Reason::Conflict]).await?;
    assert!(
        by_name.message.contains("another namespace"),
        "{}",
        by_name.message
    );
    // A groupRef names a DevOpsGroup of B's own namespace: there is none called a-crew.
    refused(&env, &b_by_ref, &[Reason::GroupNotFound]).await?;
    tokio::time::sleep(A_RESYNC).await;
    let written = entitlement_writes(&env);
    assert!(written.is_empty(), "B wrote entitlements: {written:#?}");
    assert_eq!(held(&env, &principals, &crew), a_holds, "A's entitlements");
    assert_eq!(sim_snapshot(&env.sim), before, "the simulator's state");

    // Deleting B's objects (Delete and Orphan) undoes nothing of A's.
    let mut b_all = b_held.to_vec();
    b_all.extend([b_by_name, b_by_ref]);
    env.delete_in_order(&b_all, WAIT).await?;
    tokio::time::sleep(A_RESYNC).await;
    let written = entitlement_writes(&env);
    assert!(written.is_empty(), "B's deletion wrote: {written:#?}");
    assert_eq!(held(&env, &principals, &crew), a_holds, "A's entitlements");
    env.wait_ready(&a_objects, "True", WAIT).await?;

    // B tries again and waits; A's objects go (Delete for Lee: the entitlement is removed;
    // Orphan for the bot: it stays); their claims are released and B converges.
    let b_lee = b("lee-next", user(LEE), AccessLevel::Basic, false);
    let b_bot = b("bot-next", sp(&sp_id), AccessLevel::Basic, false);
    env.apply(&[b_lee.clone(), b_bot.clone()]).await?;
    all_refused(
        &env,
        &[b_lee.clone(), b_bot.clone()],
        &[Reason::EntitlementHeldElsewhere],
    )
    .await?;
    env.delete_in_order(&[a_lee.object(), a_bot.object()], WAIT)
        .await?;
    let released = std::time::Instant::now();
    env.wait_ready(&[b_lee.clone(), b_bot.clone()], "True", WAIT)
        .await?;
    eprintln!(
        "B converged {:.1} s after A's objects were gone",
        released.elapsed().as_secs_f64()
    );
    let now = held(&env, &principals, &crew);
    for (i, p) in principals.iter().enumerate() {
        assert!(
            now[i].contains("Express") && now[i].contains(STOREFRONT_ID),
            "{p} is B's now (Basic, Storefront): {now:#?}"
        );
    }
    // B created Lee's entitlement (A's deletion removed it) and adopted the bot's (A orphaned
    // it): deleting B's objects removes the one and restores the other's level.
    env.delete_in_order(&[b_lee, b_bot], WAIT).await?;
    let after = held(&env, &principals, &crew);
    assert_eq!(after[0], format!("{LEE}: None"), "{after:#?}");
    assert!(after[1].contains("Stakeholder"), "{after:#?}");

    env.delete_in_order(&[a_rule.object(), a_crew.object()], WAIT)
        .await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// The entitlement id a DevOpsEntitlement's status recorded spares resolving its principal
/// again, but only where Azure DevOps confirms it: tenant B writes tenant A's user's
/// entitlement id into its own object's status (a status is writable by more than the
/// operator). B's next reconciles find that entitlement is not B's principal's, resolve B's
/// own, and write nothing to A's; B's status names B's own entitlement again, and A's
/// entitlement is what A gave, also after B's object is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_entitlement_id_in_status_steers_nothing() -> TestResult {
    let env = start("attacks-ent-forged").await?;
    let rival = env.cp.new_namespace("attacks-ent-forger").await?;
    let org = organization(&env, vec![storefront_grant(&[rival.as_str()])]).await?;
    let f = env.fixtures();
    let a_lee = f
        .entitlement(
            "lee",
            user(LEE),
            AccessLevel::Stakeholder,
            &[("Storefront", ProjectGroupType::Readers)],
        )
        .object();
    let mut b_own = f.entitlement("own", user(DEBRA), AccessLevel::Stakeholder, &[]);
    b_own.metadata.namespace = Some(rival.clone());
    let b_own = b_own.object();
    env.apply(&[a_lee.clone(), b_own.clone()]).await?;
    env.wait_ready(&[a_lee.clone(), b_own.clone()], "True", WAIT)
        .await?;
    let client = env.client().await?;
    let entitlement_id = |obj: &DynamicObject| {
        let api = api_for(&client, obj);
        let name = obj.name_any();
        async move {
            let live = api?.get(&name).await?;
            TestResult::Ok(
                live.data["status"]["entitlementId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        }
    };
    let lee_id = entitlement_id(&a_lee).await?;
    let debra_id = entitlement_id(&b_own).await?;
    assert!(!lee_id.is_empty() && !debra_id.is_empty() && lee_id != debra_id);
    let a_holds = held(&env, &[LEE], "none");
    let debra_before = held(&env, &[DEBRA], "none");
    baseline(&env);

    // B points its status at A's entitlement and changes its spec (a project entitlement the
    // grant gives), so that the forged id meets a reconcile that would write.
    let forged = serde_json::json!({"status": {"entitlementId": lee_id}});
    api_for(&client, &b_own)?
        .patch_status("own", &PatchParams::default(), &Patch::Merge(&forged))
        .await?;
    let mut b_changed = f.entitlement(
        "own",
        user(DEBRA),
        AccessLevel::Stakeholder,
        &[("Storefront", ProjectGroupType::Contributors)],
    );
    b_changed.metadata.namespace = Some(rival.clone());
    let b_changed = b_changed.object();
    env.apply(std::slice::from_ref(&b_changed)).await?;
    env.wait_ready(std::slice::from_ref(&b_changed), "True", WAIT)
        .await?;
    tokio::time::sleep(A_RESYNC).await;
    assert_eq!(
        entitlement_id(&b_changed).await?,
        debra_id,
        "B's own entitlement"
    );
    let written = entitlement_writes(&env);
    assert!(
        !written.is_empty() && written.iter().all(|w| w.contains(&debra_id)),
        "B wrote only its own entitlement: {written:#?}"
    );
    assert!(
        written.iter().all(|w| !w.contains(&lee_id)),
        "nothing written to A's entitlement: {written:#?}"
    );
    assert_eq!(held(&env, &[LEE], "none"), a_holds, "A's entitlement");
    let debra_holds = held(&env, &[DEBRA], "none");
    assert!(
        debra_holds != debra_before && !debra_holds[0].ends_with("None"),
        "B's change went to B's principal: {debra_before:?} -> {debra_holds:?}"
    );

    // Deleting B's object removes B's entitlement, never A's.
    env.delete_in_order(std::slice::from_ref(&b_changed), WAIT)
        .await?;
    assert_eq!(held(&env, &[LEE], "none"), a_holds, "A's entitlement");
    let written = entitlement_writes(&env);
    assert!(
        written.iter().all(|w| !w.contains(&lee_id)),
        "B's deletion wrote nothing to A's entitlement: {written:#?}"
    );
    assert_eq!(
        held(&env, &[DEBRA], "none")[0],
        format!("{DEBRA}: None"),
        "B's own entitlement is what its deletion removed"
    );
    env.delete_in_order(&[a_lee, org], WAIT).await?;
    Ok(())
}
