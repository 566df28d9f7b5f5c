//! Attacks on ownership (issue 15, items 3–5): racing another namespace for one group under
//! another spelling, claiming a group's members exclusively twice, claiming a resource's
//! `allPipelines` switch twice, forging what a membership added, and undoing after a grant was
//! narrowed. Ownership is a claim on the resolved identity, taken before any write; what
//! cleanup undoes is the operator's ledger.

use azdo_operator::api::{DevOpsMembership, ResourceType};
use kube::api::{DynamicObject, Patch, PatchParams};

use super::*;

/// How many writes the simulator received since [`baseline`] whose path contains `part`.
fn writes_to(env: &OperatorEnv, method: &str, part: &str) -> usize {
    writes(env)
        .iter()
        .filter(|w| w.starts_with(method) && w.contains(part))
        .count()
}

/// Of `objs`, which ended Ready=True and which Conflict, waiting until each is one or the other.
async fn winners_and_losers(
    env: &OperatorEnv,
    objs: &[DynamicObject],
) -> TestResult<(Vec<DynamicObject>, Vec<DynamicObject>)> {
    let (mut won, mut lost) = (Vec::new(), Vec::new());
    for obj in objs {
        let r = env
            .until(&format!("{} to settle", describe(obj)), WAIT, || async {
                Ok(match env.ready(obj).await? {
                    Some(r) if r.is("True") || r.has(Reason::Conflict) => Check::Done(r),
                    other => Check::NotYet(format!("{other:?}")),
                })
            })
            .await?;
        if r.is("True") {
            won.push(obj.clone());
        } else {
            lost.push(obj.clone());
        }
    }
    Ok((won, lost))
}

/// Two namespaces, both granted project Storefront, create a DevOpsGroup for one group in the
/// same instant, one naming the project by name, the other by id and the group in other case.
/// Exactly one wins; the other is a Conflict that sent no create; deleting the loser deletes
/// nothing, deleting the winner deletes the group it created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_objects_racing_for_one_group_under_two_spellings_one_wins() -> TestResult {
    let env = start("attacks-race").await?;
    let ns = env.namespace.clone();
    let rival = env.cp.new_namespace("attacks-rival").await?;
    let org = organization(&env, vec![storefront_grant(&[rival.as_str()])]).await?;
    baseline(&env);
    let racers = [
        group(&env, &ns, "race", Some("Storefront"), "Race Crew").object(),
        group(&env, &rival, "race", Some(STOREFRONT_ID), "race crew").object(),
    ];
    env.apply(&racers).await?;
    let (won, lost) = winners_and_losers(&env, &racers).await?;
    assert_eq!((won.len(), lost.len()), (1, 1), "exactly one wins");
    let principal = r"[Storefront]\Race Crew";
    assert_eq!(groups_named(&env, principal).len(), 1, "one group exists");
    assert_eq!(
        writes_to(&env, "POST", "/graph/groups"),
        1,
        "one create was sent: {:#?}",
        writes(&env)
    );
    let message = env.ready(&lost[0]).await?.ok_or("no Ready")?.message;
    assert!(message.contains("already manages this group"), "{message}");

    env.delete_in_order(&lost, WAIT).await?;
    let crew = descriptor(&env, principal)?;
    assert_eq!(
        subject(&env, &crew).map(|(_, deleted)| deleted),
        Some(false),
        "the loser's deletion deletes nothing"
    );
    env.delete_in_order(&won, WAIT).await?;
    assert_eq!(
        subject(&env, &crew).map(|(_, deleted)| deleted),
        Some(true),
        "the winner created the group and its deletion deletes it"
    );
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Two Exclusive memberships of one group (the namespace's own), one naming it by groupRef, the
/// other by principal name: one decides its members, the other is a Conflict and writes
/// nothing, so the two can never fight over the member list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_groups_members_are_claimed_exclusively_once() -> TestResult {
    let env = start("attacks-exclusive").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let principal = r"[Storefront]\Solo Crew";
    let crew = group(&env, &ns, "crew", Some("Storefront"), "Solo Crew").object();
    env.apply(std::slice::from_ref(&crew)).await?;
    env.wait_ready(std::slice::from_ref(&crew), "True", WAIT)
        .await?;
    let rivals = [
        membership(
            &env,
            &ns,
            "by-ref",
            target_ref("crew"),
            MembershipMode::Exclusive,
            &["adele.vance@contoso.com"],
        )
        .object(),
        membership(
            &env,
            &ns,
            "by-name",
            target_principal(principal),
            MembershipMode::Exclusive,
            &["alex.wilber@contoso.com"],
        )
        .object(),
    ];
    env.apply(&rivals).await?;
    let (won, lost) = winners_and_losers(&env, &rivals).await?;
    assert_eq!((won.len(), lost.len()), (1, 1), "exactly one wins");
    let winner = typed::<DevOpsMembership>(&won[0])?;
    let expected: Vec<String> = winner
        .spec
        .members
        .iter()
        .filter_map(|m| m.user.clone())
        .collect();
    // A resync later the group still holds exactly the winner's list.
    tokio::time::sleep(A_RESYNC).await;
    assert_eq!(members_of(&env, &descriptor(&env, principal)?), expected);
    env.delete_in_order(&[lost[0].clone(), won[0].clone(), crew, org], WAIT)
        .await?;
    Ok(())
}

/// Two authorizations both setting one environment's `allPipelines` (one opens, one closes):
/// one holds the switch, the other is a Conflict, so they cannot flip it back and forth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resources_all_pipelines_switch_is_claimed_once() -> TestResult {
    let env = start_with_seed("attacks-switch", with_checkout_environment).await?;
    let mut grant = storefront_grant(&[env.namespace.as_str()]);
    grant.all_pipelines = true;
    let org = env
        .fixtures()
        .cluster_organization_granting(vec![grant])
        .object();
    env.apply(std::slice::from_ref(&org)).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", WAIT)
        .await?;
    let fx = env.fixtures();
    let switch = |name: &str, open: bool| {
        let mut a = fx.authorization(
            name,
            resource_named(ResourceType::Environment, "storefront-production"),
            vec![],
        );
        a.spec.all_pipelines = Some(open);
        a.object()
    };
    let rivals = [switch("open", true), switch("close", false)];
    env.apply(&rivals).await?;
    let (won, lost) = winners_and_losers(&env, &rivals).await?;
    assert_eq!((won.len(), lost.len()), (1, 1), "exactly one wins");
    let message = env.ready(&lost[0]).await?.ok_or("no Ready")?.message;
    assert!(message.contains("allPipelines"), "{message}");
    // The holder keeps it: a resync later, nothing flips it.
    baseline(&env);
    tokio::time::sleep(A_RESYNC).await;
    assert_eq!(
        writes(&env),
        Vec::<String>::new(),
        "no write after settling"
    );
    env.delete_in_order(&[lost[0].clone(), won[0].clone(), org], WAIT)
        .await?;
    Ok(())
}

/// Forging a membership's `status.added` to list a member someone else put in the group:
/// deleting the membership removes only what the operator's ledger says it added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_added_list_does_not_steer_cleanup() -> TestResult {
    let env = start("attacks-forged-added").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let crew = group(&env, &ns, "crew", Some("Storefront"), "Forged Crew").object();
    let members = membership(
        &env,
        &ns,
        "crew",
        target_ref("crew"),
        MembershipMode::Additive,
        &["adele.vance@contoso.com"],
    )
    .object();
    env.apply(&[crew.clone(), members.clone()]).await?;
    env.wait_ready(&[crew.clone(), members.clone()], "True", WAIT)
        .await?;
    let crew_descriptor = descriptor(&env, r"[Storefront]\Forged Crew")?;
    // Someone else adds alex to the group; the tenant claims it added alex.
    let alex = descriptor(&env, "alex.wilber@contoso.com")?;
    let adele = descriptor(&env, "adele.vance@contoso.com")?;
    SimApi::new(&env)?
        .add_member(&alex, &crew_descriptor)
        .await?;
    let forged = serde_json::json!({"status": {"added": [adele, alex]}});
    api_for(&env.client().await?, &members)?
        .patch_status("crew", &PatchParams::default(), &Patch::Merge(&forged))
        .await?;
    env.delete_in_order(std::slice::from_ref(&members), WAIT)
        .await?;
    assert_eq!(
        members_of(&env, &crew_descriptor),
        ["alex.wilber@contoso.com"],
        "only the member the operator added is removed"
    );
    env.delete_in_order(&[crew, org], WAIT).await?;
    Ok(())
}

/// After the grant is narrowed (the namespace keeps it, but not project Storefront), the
/// objects stop writing; deleting them still undoes what they did: undoing is always allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_after_a_narrowed_grant_still_undoes_what_was_done() -> TestResult {
    let env = start("attacks-undo").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let principal = r"[Storefront]\Undone Crew";
    let crew = group(&env, &ns, "crew", Some("Storefront"), "Undone Crew").object();
    let members = membership(
        &env,
        &ns,
        "contributors",
        target_principal(CONTRIBUTORS),
        MembershipMode::Additive,
        &["omar.haddad@contoso.com"],
    )
    .object();
    env.apply(&[crew.clone(), members.clone()]).await?;
    env.wait_ready(&[crew.clone(), members.clone()], "True", WAIT)
        .await?;
    let crew_descriptor = descriptor(&env, principal)?;
    let contributors = descriptor(&env, CONTRIBUTORS)?;
    assert!(members_of(&env, &contributors).contains(&"omar.haddad@contoso.com".to_string()));

    let mut narrowed = storefront_grant(&[ns.as_str()]);
    narrowed.projects = vec!["Payments".into()];
    narrowed.groups.clear();
    narrowed.pipeline_resources.clear();
    set_grants(&env, &org, vec![narrowed]).await?;
    all_refused(
        &env,
        &[crew.clone(), members.clone()],
        &[Reason::NotAllowed],
    )
    .await?;

    env.delete_in_order(&[members, crew], WAIT).await?;
    assert!(
        !members_of(&env, &contributors).contains(&"omar.haddad@contoso.com".to_string()),
        "the member it added is removed"
    );
    assert_eq!(
        subject(&env, &crew_descriptor).map(|(_, deleted)| deleted),
        Some(true),
        "the group it created is deleted"
    );
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}
