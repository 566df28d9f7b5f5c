//! The attacks suite (issue 15). The test's namespace is a tenant granted exactly what the
//! samples' organization grants team-a ([`storefront_grant`]: project Storefront, members of
//! `[Storefront]\Contributors` in Additive mode only, pipeline authorizations on the project's
//! `storefront-*` environments) and reaches for more. Each attempt must end `Ready=False` with
//! its reason, while the simulator's state (groups, memberships, pipeline permissions) stays as
//! it was a resync later and the operator sends it no write.
//!
//! An attack found not refused is kept as a test, `#[ignore]`d with what happens instead (none
//! today): `cargo test --test e2e attacks -- --ignored` then shows them failing.

mod fairness;
mod observe;
mod ownership;
mod roles;

use std::time::Duration;

use azdo_operator::api::{
    DevOpsGroup, DevOpsMembership, EntraGroupRef, Grant, GroupTarget, MembershipMode,
    PipelineResourceAuthorization, ResourceSelector, ResourceType,
};
use azdo_operator::reason::Reason;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::Value;

use crate::operator_env::{sim_snapshot, OperatorEnv, TestResult};
use crate::sim_api::{descriptor_of, groups_named, members_of, SimApi};
use crate::support::kit::fixtures::{
    pipeline_named, resource_named, storefront_grant, target_principal, target_ref, users,
};
use crate::support::kit::objects::{api_for, describe};
use crate::support::kit::{typed, Check, Ready, ToObject};

/// How long an object may take to be refused (or to converge).
const WAIT: Duration = Duration::from_secs(60);
/// The operator's resync interval in these tests.
const RESYNC: &str = "3s";
/// Longer than one resync: every refused object has been reconciled again by then.
const A_RESYNC: Duration = Duration::from_secs(4);

const PAYMENTS_ID: &str = "5c4d3e2f-1a0b-4c9d-8e7f-6a5b4c3d2e1f";
const STOREFRONT_ID: &str = "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const CONTRIBUTORS: &str = r"[Storefront]\Contributors";
const PCA: &str = r"[contoso]\Project Collection Administrators";

/// An operator (short resync) and a simulator for this test, with the default seed.
async fn start(prefix: &str) -> TestResult<OperatorEnv> {
    start_with_seed(prefix, |_| Ok(())).await
}

/// The same with the default seed changed by `customize`.
async fn start_with_seed(
    prefix: &str,
    customize: impl FnOnce(&mut serde_yaml::Value) -> TestResult,
) -> TestResult<OperatorEnv> {
    let mut env = OperatorEnv::start_with_seed(prefix, customize).await?;
    env.start_operator(&["--resync-interval", RESYNC, "--resync-jitter", "0"])
        .await?;
    Ok(env)
}

/// ClusterDevOpsOrganization `contoso` granting the tenant (the test's namespace) exactly
/// [`storefront_grant`], and `others` what they say; applied and Ready.
async fn organization(env: &OperatorEnv, others: Vec<Grant>) -> TestResult<DynamicObject> {
    let mut grants = vec![storefront_grant(&[env.namespace.as_str()])];
    grants.extend(others);
    let org = env
        .fixtures()
        .cluster_organization_granting(grants)
        .object();
    env.apply(std::slice::from_ref(&org)).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", WAIT)
        .await?;
    Ok(org)
}

/// The simulator's state now, with its request log cleared: what [`untouched`] compares with.
fn baseline(env: &OperatorEnv) -> Value {
    env.sim.control().clear_requests();
    sim_snapshot(&env.sim)
}

/// The writes the simulator received since its request log was cleared: everything but reads
/// (including the Graph's POST queries and lookups) and token requests.
fn writes(env: &OperatorEnv) -> Vec<String> {
    env.sim
        .control()
        .requests()
        .requests
        .iter()
        .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
        .filter(|r| {
            !["oauth2", "subjectquery", "subjectlookup"]
                .iter()
                .any(|read| r.route.contains(read))
        })
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

/// A resync after the refusals, nothing was written and the simulator's state is `before`.
async fn untouched(env: &OperatorEnv, before: &Value) -> TestResult {
    tokio::time::sleep(A_RESYNC).await;
    let written = writes(env);
    assert!(
        written.is_empty(),
        "the operator wrote to Azure DevOps: {written:#?}"
    );
    let after = sim_snapshot(&env.sim);
    assert!(
        &after == before,
        "the simulator's state changed:\nbefore: {before:#}\nafter: {after:#}"
    );
    Ok(())
}

/// Wait until `obj` reports Ready=False for its current generation with one of `reasons`.
async fn refused(env: &OperatorEnv, obj: &DynamicObject, reasons: &[Reason]) -> TestResult<Ready> {
    env.until(
        &format!("{} to be refused with {reasons:?}", describe(obj)),
        WAIT,
        || async {
            Ok(match env.ready(obj).await? {
                Some(r) if r.is("False") && reasons.iter().any(|x| r.has(*x)) => Check::Done(r),
                other => Check::NotYet(format!("{other:?}")),
            })
        },
    )
    .await
}

/// [`refused`] for every object; returns their conditions in the same order.
async fn all_refused(
    env: &OperatorEnv,
    objs: &[DynamicObject],
    reasons: &[Reason],
) -> TestResult<Vec<Ready>> {
    let mut conditions = Vec::new();
    for obj in objs {
        conditions.push(refused(env, obj, reasons).await?);
    }
    Ok(conditions)
}

/// DevOpsMembership `name` in `namespace` on `group`: `upns` in `mode`.
fn membership(
    env: &OperatorEnv,
    namespace: &str,
    name: &str,
    group: GroupTarget,
    mode: MembershipMode,
    upns: &[&str],
) -> DevOpsMembership {
    let mut m = env.fixtures().membership(name, group, users(upns));
    m.metadata.namespace = Some(namespace.to_string());
    m.spec.mode = mode;
    m
}

/// DevOpsGroup `name` in `namespace` for `display` in `project` (none: organization level).
fn group(
    env: &OperatorEnv,
    namespace: &str,
    name: &str,
    project: Option<&str>,
    display: &str,
) -> DevOpsGroup {
    let mut g = env.fixtures().group(name, display);
    g.metadata.namespace = Some(namespace.to_string());
    g.spec.project = project.map(str::to_string);
    g
}

/// A group's descriptor in the simulator.
fn descriptor(env: &OperatorEnv, principal_name: &str) -> TestResult<String> {
    Ok(descriptor_of(env, principal_name).ok_or(format!("no group {principal_name}"))?)
}

/// A target group by descriptor.
fn target_descriptor(descriptor: &str) -> GroupTarget {
    GroupTarget {
        descriptor: Some(descriptor.to_string()),
        ..GroupTarget::default()
    }
}

/// Attack 1: organization-level groups, whether on the protected list or not, and groups
/// nested in a protected one, named by principal name or descriptor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_level_groups_take_no_members_from_a_tenant() -> TestResult {
    let env = start("attacks-orggroups").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let me = &["alex.wilber@contoso.com"];
    let pcba = r"[contoso]\Project Collection Build Administrators";
    let attacks = [
        membership(
            &env,
            &ns,
            "pcba",
            target_principal(pcba),
            MembershipMode::Additive,
            me,
        ),
        membership(
            &env,
            &ns,
            "pcba-x",
            target_principal(pcba),
            MembershipMode::Exclusive,
            &[],
        ),
        membership(
            &env,
            &ns,
            "pcba-d",
            target_descriptor(&descriptor(&env, pcba)?),
            MembershipMode::Additive,
            me,
        ),
        // Platform Admins is a member of [Platform]\Project Administrators.
        membership(
            &env,
            &ns,
            "platform-admins",
            target_principal(r"[contoso]\Platform Admins"),
            MembershipMode::Additive,
            me,
        ),
        membership(
            &env,
            &ns,
            "pca-d",
            target_descriptor(&descriptor(&env, PCA)?),
            MembershipMode::Additive,
            me,
        ),
    ]
    .map(|m| m.object());
    env.apply(&attacks).await?;
    let conditions = all_refused(
        &env,
        &attacks,
        &[Reason::NotAllowed, Reason::ProtectedGroup],
    )
    .await?;
    assert!(
        conditions[4].has(Reason::ProtectedGroup),
        "Project Collection Administrators by descriptor: {:?}",
        conditions[4]
    );
    assert!(
        conditions[0]
            .message
            .contains("Project Collection Build Administrators"),
        "the refusal names the group: {}",
        conditions[0].message
    );
    untouched(&env, &before).await?;
    let mut all = attacks.to_vec();
    all.push(org);
    env.delete_in_order(&all, WAIT).await?;
    assert_eq!(
        sim_snapshot(&env.sim),
        before,
        "deleting them undid nothing"
    );
    Ok(())
}

/// Attack 1, through nesting: a group the tenant was granted, once nested (out of band) in
/// Project Collection Administrators, is protected too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_group_nested_in_a_protected_one_takes_no_members() -> TestResult {
    let env = start("attacks-nested").await?;
    let ns = env.namespace.clone();
    let api = SimApi::new(&env)?;
    api.add_member(&descriptor(&env, CONTRIBUTORS)?, &descriptor(&env, PCA)?)
        .await?;
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let attack = membership(
        &env,
        &ns,
        "via-contributors",
        target_principal(CONTRIBUTORS),
        MembershipMode::Additive,
        &["alex.wilber@contoso.com", "omar.haddad@contoso.com"],
    )
    .object();
    env.apply(std::slice::from_ref(&attack)).await?;
    refused(&env, &attack, &[Reason::ProtectedGroup]).await?;
    untouched(&env, &before).await?;
    env.delete_in_order(&[attack, org], WAIT).await?;
    Ok(())
}

/// Attack 2: Exclusive membership listing nobody on the granted `[Storefront]\Contributors`
/// (granted for Additive only), and anything on another project's built-in group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_empty_a_group_it_did_not_create() -> TestResult {
    let env = start("attacks-exclusive").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    // What the grant does allow: adding a member to Contributors.
    let allowed = membership(
        &env,
        &ns,
        "contributors",
        target_principal(CONTRIBUTORS),
        MembershipMode::Additive,
        &["adele.vance@contoso.com"],
    )
    .object();
    env.apply(std::slice::from_ref(&allowed)).await?;
    env.wait_ready(std::slice::from_ref(&allowed), "True", WAIT)
        .await?;
    let contributors = descriptor(&env, CONTRIBUTORS)?;
    let members = members_of(&env, &contributors);
    assert!(members.iter().any(|m| m == "adele.vance@contoso.com"));
    assert!(
        members.len() > 1,
        "Contributors has other members: {members:?}"
    );

    let before = baseline(&env);
    let payments = r"[Payments]\Contributors";
    let attacks = [
        membership(
            &env,
            &ns,
            "empty",
            target_principal(CONTRIBUTORS),
            MembershipMode::Exclusive,
            &[],
        ),
        membership(
            &env,
            &ns,
            "empty-d",
            target_descriptor(&contributors),
            MembershipMode::Exclusive,
            &[],
        ),
        membership(
            &env,
            &ns,
            "only-me",
            target_principal(CONTRIBUTORS),
            MembershipMode::Exclusive,
            &["adele.vance@contoso.com"],
        ),
        membership(
            &env,
            &ns,
            "empty-payments",
            target_principal(payments),
            MembershipMode::Exclusive,
            &[],
        ),
        membership(
            &env,
            &ns,
            "join-payments",
            target_principal(payments),
            MembershipMode::Additive,
            &["alex.wilber@contoso.com"],
        ),
    ]
    .map(|m| m.object());
    env.apply(&attacks).await?;
    let conditions = all_refused(&env, &attacks, &[Reason::NotAllowed]).await?;
    assert!(
        conditions[0].message.contains("exclusiveMembership"),
        "{}",
        conditions[0].message
    );
    assert!(
        conditions[4].message.contains(payments),
        "{}",
        conditions[4].message
    );
    untouched(&env, &before).await?;
    env.delete_in_order(&attacks, WAIT).await?;
    assert_eq!(
        sim_snapshot(&env.sim),
        before,
        "deleting them undid nothing"
    );
    env.delete_in_order(&[allowed, org], WAIT).await?;
    assert!(!members_of(&env, &contributors)
        .iter()
        .any(|m| m == "adele.vance@contoso.com"));
    Ok(())
}

/// Attack 3: another team's group, made by its DevOpsGroup: emptied (Exclusive) or joined
/// (Additive) by principal name or descriptor, or claimed by a DevOpsGroup of the same name
/// (its project spelled by name or by id). Team B's own objects keep converging meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_teams_group_is_out_of_reach_and_that_team_keeps_converging() -> TestResult {
    let env = start("attacks-teams").await?;
    let ns = env.namespace.clone();
    let team_b = env.cp.new_namespace("attacks-team-b").await?;
    let mut b_grant = storefront_grant(&[team_b.as_str()]);
    b_grant.groups.clear();
    b_grant.pipeline_resources.clear();
    let org = organization(&env, vec![b_grant]).await?;

    let crew = r"[Storefront]\Checkout Crew";
    let b_group = group(&env, &team_b, "crew", Some("Storefront"), "Checkout Crew").object();
    let b_members = |upns: &[&str]| {
        membership(
            &env,
            &team_b,
            "crew",
            target_ref("crew"),
            MembershipMode::Additive,
            upns,
        )
        .object()
    };
    let b_membership = b_members(&["debra.berger@contoso.com"]);
    env.apply(&[b_group.clone(), b_membership.clone()]).await?;
    env.wait_ready(&[b_group.clone(), b_membership.clone()], "True", WAIT)
        .await?;
    let crew_descriptor = descriptor(&env, crew)?;
    assert_eq!(
        members_of(&env, &crew_descriptor),
        ["debra.berger@contoso.com"]
    );

    let before = baseline(&env);
    let memberships = [
        membership(
            &env,
            &ns,
            "empty",
            target_principal(crew),
            MembershipMode::Exclusive,
            &[],
        ),
        membership(
            &env,
            &ns,
            "empty-d",
            target_descriptor(&crew_descriptor),
            MembershipMode::Exclusive,
            &[],
        ),
        membership(
            &env,
            &ns,
            "join",
            target_principal(crew),
            MembershipMode::Additive,
            &["alex.wilber@contoso.com"],
        ),
        membership(
            &env,
            &ns,
            "join-d",
            target_descriptor(&crew_descriptor),
            MembershipMode::Additive,
            &["alex.wilber@contoso.com"],
        ),
    ]
    .map(|m| m.object());
    let claims = [
        group(&env, &ns, "claim", Some("Storefront"), "Checkout Crew").object(),
        group(
            &env,
            &ns,
            "claim-by-id",
            Some(STOREFRONT_ID),
            "Checkout Crew",
        )
        .object(),
    ];
    env.apply(&memberships).await?;
    env.apply(&claims).await?;
    for m in &memberships {
        let r = refused(&env, m, &[Reason::Conflict, Reason::NotAllowed]).await?;
        assert!(
            r.has(Reason::Conflict),
            "a group another namespace manages is a Conflict: {r:?}"
        );
    }
    all_refused(&env, &claims, &[Reason::Conflict, Reason::NotAllowed]).await?;
    untouched(&env, &before).await?;

    // Meanwhile team B's objects keep converging: a change to its membership is applied.
    let b_membership = b_members(&["debra.berger@contoso.com", "nestor.wilke@contoso.com"]);
    env.apply(std::slice::from_ref(&b_membership)).await?;
    env.wait_ready(&[b_group.clone(), b_membership.clone()], "True", WAIT)
        .await?;
    env.eventually("team B's new member added", WAIT, || async {
        Ok(members_of(&env, &crew_descriptor)
            == ["debra.berger@contoso.com", "nestor.wilke@contoso.com"])
    })
    .await?;
    for obj in memberships.iter().chain(&claims) {
        let r = env.ready(obj).await?.ok_or("no Ready")?;
        assert!(r.is("False"), "still refused: {} {r:?}", describe(obj));
    }

    // Deleting the refused objects deletes nothing, removes nobody.
    let mut attacks = memberships.to_vec();
    attacks.extend(claims);
    env.delete_in_order(&attacks, WAIT).await?;
    assert_eq!(
        groups_named(&env, crew).len(),
        1,
        "team B's group is still there"
    );
    assert_eq!(
        members_of(&env, &crew_descriptor),
        ["debra.berger@contoso.com", "nestor.wilke@contoso.com"]
    );
    env.delete_in_order(&[b_membership, b_group, org], WAIT)
        .await?;
    Ok(())
}

/// Attack 4: adopting an existing group the grants do not name (a seeded group, a built-in one,
/// the project spelled by id); deleting the refused object deletes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_groups_the_grants_do_not_name_are_not_adopted_nor_deleted() -> TestResult {
    let env = start("attacks-adopt").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let attacks = [
        group(
            &env,
            &ns,
            "approvers",
            Some("Storefront"),
            "Release Approvers",
        ),
        group(
            &env,
            &ns,
            "approvers-by-id",
            Some(STOREFRONT_ID),
            "Release Approvers",
        ),
        group(&env, &ns, "readers", Some("Storefront"), "Readers"),
        group(&env, &ns, "frontend", Some("Storefront"), "frontend"),
    ]
    .map(|g| g.object());
    env.apply(&attacks).await?;
    let conditions = all_refused(&env, &attacks, &[Reason::NotAllowed]).await?;
    assert!(
        conditions[0]
            .message
            .contains(r"[Storefront]\Release Approvers"),
        "{}",
        conditions[0].message
    );
    for obj in &attacks {
        let status = typed::<DevOpsGroup>(&env.get(obj).await?)?.status;
        assert!(
            status
                .as_ref()
                .and_then(|s| s.descriptor.as_ref())
                .is_none(),
            "a refused group records no descriptor: {status:?}"
        );
    }
    untouched(&env, &before).await?;
    env.delete_in_order(&attacks, WAIT).await?;
    for name in [
        r"[Storefront]\Release Approvers",
        r"[Storefront]\Readers",
        r"[Storefront]\Frontend",
    ] {
        assert_eq!(groups_named(&env, name).len(), 1, "{name} still exists");
    }
    assert_eq!(
        sim_snapshot(&env.sim),
        before,
        "deleting them deleted nothing"
    );
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Attack 4, through the granted group: `[Storefront]\Contributors` may be adopted, but
/// renaming it (the DevOpsGroup's displayName) must be refused before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adopted_built_in_group_is_not_renamed() -> TestResult {
    let env = start("attacks-rename").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let adopted = group(
        &env,
        &ns,
        "contributors",
        Some("Storefront"),
        "Contributors",
    )
    .object();
    env.apply(std::slice::from_ref(&adopted)).await?;
    let ready = env
        .wait_ready(std::slice::from_ref(&adopted), "True", WAIT)
        .await?;
    let contributors = descriptor(&env, CONTRIBUTORS)?;
    let status = typed::<DevOpsGroup>(&ready[0])?.status.ok_or("no status")?;
    assert!(status.adopted, "{status:?}");
    assert_eq!(status.descriptor.as_deref(), Some(contributors.as_str()));

    let before = baseline(&env);
    let renamed = group(
        &env,
        &ns,
        "contributors",
        Some("Storefront"),
        "Contributors Renamed",
    )
    .object();
    env.apply(std::slice::from_ref(&renamed)).await?;
    refused(&env, &renamed, &[Reason::NotAllowed]).await?;
    untouched(&env, &before).await?;
    env.delete_in_order(std::slice::from_ref(&renamed), WAIT)
        .await?;
    assert_eq!(
        groups_named(&env, CONTRIBUTORS)
            .first()
            .map(|g| g.0.as_str()),
        Some(contributors.as_str()),
        "the built-in group is still there, under its name"
    );
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Attack 4 with a grant naming one more existing group, `[Storefront]\Frontend` (seeded, not
/// built in), so that it may be adopted: the organization, and the
/// adopted group's DevOpsGroup, Ready.
async fn adopted_frontend(env: &OperatorEnv) -> TestResult<(DynamicObject, DynamicObject, String)> {
    let mut grant = storefront_grant(&[env.namespace.as_str()]);
    grant.groups.push(FRONTEND.to_string());
    let org = env
        .fixtures()
        .cluster_organization_granting(vec![grant])
        .object();
    env.apply(std::slice::from_ref(&org)).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", WAIT)
        .await?;
    let adopted = group(
        env,
        &env.namespace,
        "frontend",
        Some("Storefront"),
        "Frontend",
    )
    .object();
    env.apply(std::slice::from_ref(&adopted)).await?;
    let ready = env
        .wait_ready(std::slice::from_ref(&adopted), "True", WAIT)
        .await?;
    let descriptor = descriptor(env, FRONTEND)?;
    let status = typed::<DevOpsGroup>(&ready[0])?.status.ok_or("no status")?;
    assert!(status.adopted, "{status:?}");
    assert_eq!(status.descriptor.as_deref(), Some(descriptor.as_str()));
    Ok((org, adopted, descriptor))
}

const FRONTEND: &str = r"[Storefront]\Frontend";

/// The group `descriptor` in the simulator: `(principal name, deleted)`.
fn subject(env: &OperatorEnv, descriptor: &str) -> Option<(String, bool)> {
    env.sim.control().with_state(|s| {
        s.organization("contoso").and_then(|o| {
            o.subject(descriptor)
                .map(|x| (x.principal_name.clone(), x.deleted))
        })
    })
}

/// Attack 4: an adopted group is not renamed (only a group the operator created is).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adopted_group_is_not_renamed() -> TestResult {
    let env = start("attacks-adopted-rename").await?;
    let (org, _, descriptor) = adopted_frontend(&env).await?;
    let before = baseline(&env);
    let renamed = group(
        &env,
        &env.namespace,
        "frontend",
        Some("Storefront"),
        "Frontend Renamed",
    )
    .object();
    env.apply(std::slice::from_ref(&renamed)).await?;
    refused(&env, &renamed, &[Reason::NotAllowed]).await?;
    assert_eq!(
        subject(&env, &descriptor),
        Some((FRONTEND.to_string(), false)),
        "not renamed"
    );
    untouched(&env, &before).await?;
    env.delete_in_order(&[renamed, org], WAIT).await?;
    assert_eq!(
        subject(&env, &descriptor),
        Some((FRONTEND.to_string(), false))
    );
    Ok(())
}

/// Attack 4: deleting the DevOpsGroup (deletionPolicy Delete) of an adopted group leaves the
/// group alone: the grant does not allow deleteAdoptedGroups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adopted_group_is_not_deleted_with_its_object() -> TestResult {
    let env = start("attacks-adopted-delete").await?;
    let (org, adopted, descriptor) = adopted_frontend(&env).await?;
    let members = members_of(&env, &descriptor);
    assert!(!members.is_empty(), "Frontend has its seeded members");
    let before = baseline(&env);
    env.delete_in_order(std::slice::from_ref(&adopted), WAIT)
        .await?;
    assert_eq!(
        subject(&env, &descriptor),
        Some((FRONTEND.to_string(), false)),
        "the adopted group outlives its object"
    );
    assert_eq!(members_of(&env, &descriptor), members);
    let written = writes(&env);
    assert!(written.is_empty(), "{written:#?}");
    assert_eq!(sim_snapshot(&env.sim), before);
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Attack 5: groups in a project not granted (by name and by id) or at organization level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_group_is_created_outside_the_granted_projects() -> TestResult {
    let env = start("attacks-projects").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let attacks = [
        group(&env, &ns, "payments", Some("Payments"), "Payments Crew"),
        group(
            &env,
            &ns,
            "payments-by-id",
            Some(PAYMENTS_ID),
            "Payments Crew",
        ),
        group(&env, &ns, "platform", Some("Platform"), "Platform Crew"),
        group(&env, &ns, "org-level", None, "Org Crew"),
    ]
    .map(|g| g.object());
    env.apply(&attacks).await?;
    let conditions = all_refused(&env, &attacks, &[Reason::NotAllowed]).await?;
    assert!(
        conditions[1].message.contains("project Payments"),
        "a project named by id is refused as the project it is: {}",
        conditions[1].message
    );
    assert!(
        conditions[3].message.contains("organizationScope"),
        "{}",
        conditions[3].message
    );
    untouched(&env, &before).await?;
    assert!(groups_named(&env, r"[Payments]\Payments Crew").is_empty());
    assert!(groups_named(&env, r"[contoso]\Org Crew").is_empty());
    let mut all = attacks.to_vec();
    all.push(org);
    env.delete_in_order(&all, WAIT).await?;
    Ok(())
}

/// Attack 6: an Entra group materialized through the cluster organization, by mail address or
/// by object id, without organizationScope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_entra_group_is_materialized_without_organization_scope() -> TestResult {
    let env = start("attacks-entra").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let contractors = env.sim.control().with_state(|s| {
        s.directory
            .groups
            .iter()
            .find(|g| g.display_name == "Contractors")
            .map(|g| g.object_id.to_string())
    });
    let entra = |name: &str, object_id: Option<String>, mail: Option<&str>| {
        let mut g = group(&env, &ns, name, None, "unused");
        g.spec.display_name = None;
        g.spec.entra_group = Some(EntraGroupRef {
            object_id,
            mail_address: mail.map(str::to_string),
        });
        g.object()
    };
    let before = baseline(&env);
    let attacks = [
        entra(
            "release-managers",
            None,
            Some("release-managers@contoso.com"),
        ),
        entra(
            "contractors",
            Some(contractors.ok_or("no Contractors")?),
            None,
        ),
        // Already in the organization (a member of [Payments]\Contributors).
        entra("payments-devs", None, Some("payments-devs@contoso.com")),
    ];
    env.apply(&attacks).await?;
    let conditions = all_refused(&env, &attacks, &[Reason::NotAllowed]).await?;
    assert!(
        conditions[0].message.contains("organizationScope"),
        "{}",
        conditions[0].message
    );
    untouched(&env, &before).await?;
    let mut all = attacks.to_vec();
    all.push(org);
    env.delete_in_order(&all, WAIT).await?;
    assert_eq!(
        sim_snapshot(&env.sim),
        before,
        "deleting them removed no Entra group from the organization"
    );
    Ok(())
}

/// The default seed with one more Storefront environment whose name the grant's
/// `storefront-*` does not match.
fn with_checkout_environment(seed: &mut serde_yaml::Value) -> TestResult {
    let environments = seed["organizations"][0]["projects"][0]["environments"]
        .as_sequence_mut()
        .ok_or("Storefront has environments")?;
    environments.push(serde_yaml::from_str(
        "{ id: 3, name: checkout-production }",
    )?);
    Ok(())
}

/// Attack 7: pipeline authorizations on resources not granted (every other type, an
/// environment outside `storefront-*` by name and by id, another project's environment), and
/// `allPipelines` on a granted environment (opening it) or on another team's open endpoint
/// (closing it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelines_are_authorized_only_on_granted_resources() -> TestResult {
    let env = start_with_seed("attacks-pipelines", with_checkout_environment).await?;
    let fx = env.fixtures();
    let org = organization(&env, vec![]).await?;
    let deploy = || vec![pipeline_named("storefront-deploy", None)];
    // What the grant does allow.
    let allowed = fx
        .authorization(
            "production",
            resource_named(ResourceType::Environment, "storefront-production"),
            deploy(),
        )
        .object();
    env.apply(std::slice::from_ref(&allowed)).await?;
    env.wait_ready(std::slice::from_ref(&allowed), "True", WAIT)
        .await?;

    let before = baseline(&env);
    let by_id = |type_: ResourceType, id: &str| ResourceSelector {
        type_,
        id: Some(id.to_string()),
        name: None,
        project: None,
    };
    let named = |name: &str, resource: ResourceSelector| fx.authorization(name, resource, deploy());
    let all_pipelines = |name: &str, resource: ResourceSelector, open: bool| {
        let mut a = fx.authorization(name, resource, vec![]);
        a.spec.all_pipelines = Some(open);
        a
    };
    let mut payments_env = fx.authorization(
        "payments-env",
        resource_named(ResourceType::Environment, "payments-production"),
        vec![pipeline_named("payments-api-deploy", None)],
    );
    payments_env.spec.project = "Payments".into();
    let mut payments_repo = named(
        "payments-repo",
        resource_named(ResourceType::Repository, "payments-api"),
    );
    payments_repo.spec.resource.project = Some("Payments".into());
    let attacks: Vec<PipelineResourceAuthorization> = vec![
        named(
            "endpoint",
            resource_named(ResourceType::Endpoint, "azure-prod"),
        ),
        named(
            "variable-group",
            resource_named(ResourceType::Variablegroup, "storefront-secrets"),
        ),
        named(
            "secure-file",
            resource_named(ResourceType::Securefile, "signing.pfx"),
        ),
        named(
            "repository",
            resource_named(ResourceType::Repository, "storefront"),
        ),
        named("queue", resource_named(ResourceType::Queue, "linux-x64")),
        named(
            "checkout",
            resource_named(ResourceType::Environment, "checkout-production"),
        ),
        named("checkout-by-id", by_id(ResourceType::Environment, "3")),
        named("payments-env-by-id", by_id(ResourceType::Environment, "7")),
        payments_env,
        payments_repo,
        all_pipelines(
            "open-staging",
            resource_named(ResourceType::Environment, "storefront-staging"),
            true,
        ),
        all_pipelines(
            "close-github",
            resource_named(ResourceType::Endpoint, "github-contoso"),
            false,
        ),
    ];
    let attacks: Vec<DynamicObject> = attacks.iter().map(ToObject::object).collect();
    env.apply(&attacks).await?;
    let conditions = all_refused(&env, &attacks, &[Reason::NotAllowed]).await?;
    assert!(
        conditions[0].message.contains("pipelineResources"),
        "{}",
        conditions[0].message
    );
    assert!(
        conditions[10].message.contains("allPipelines"),
        "opening a granted environment needs allPipelines: {}",
        conditions[10].message
    );
    untouched(&env, &before).await?;
    env.delete_in_order(&attacks, WAIT).await?;
    assert_eq!(
        sim_snapshot(&env.sim),
        before,
        "deleting them revoked nothing"
    );
    env.delete_in_order(&[allowed, org], WAIT).await?;
    Ok(())
}

/// Attack 8: a namespace no grant names uses the organization.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_no_grant_names_writes_nothing() -> TestResult {
    let env = start("attacks-ungranted").await?;
    let stranger = env.cp.new_namespace("attacks-stranger").await?;
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let mut authorization = env.fixtures().authorization(
        "staging",
        resource_named(ResourceType::Environment, "storefront-staging"),
        vec![pipeline_named("storefront-deploy", None)],
    );
    authorization.metadata.namespace = Some(stranger.clone());
    let attacks = [
        group(&env, &stranger, "crew", Some("Storefront"), "Stranger Crew").object(),
        membership(
            &env,
            &stranger,
            "contributors",
            target_principal(CONTRIBUTORS),
            MembershipMode::Additive,
            &["alex.wilber@contoso.com"],
        )
        .object(),
        authorization.object(),
    ];
    env.apply(&attacks).await?;
    for r in all_refused(&env, &attacks, &[Reason::NotAllowed]).await? {
        assert!(
            r.message
                .contains(&format!("grants nothing to namespace {stranger}")),
            "{}",
            r.message
        );
    }
    untouched(&env, &before).await?;
    let mut all = attacks.to_vec();
    all.push(org);
    env.delete_in_order(&all, WAIT).await?;
    assert_eq!(sim_snapshot(&env.sim), before);
    Ok(())
}

/// Replace the organization's grants (the platform team narrowing what it granted).
async fn set_grants(env: &OperatorEnv, org: &DynamicObject, grants: Vec<Grant>) -> TestResult {
    let patch = serde_json::json!({"spec": {"grants": grants}});
    api_for(&env.client().await?, org)?
        .patch(
            &org.metadata.name.clone().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    Ok(())
}

/// Attack 9: objects that were Ready under a grant turn NotAllowed once the grant is removed, and
/// write nothing further: a new member is not added, a member removed out of band is not put
/// back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_grant_stops_every_write() -> TestResult {
    let env = start("attacks-revoked").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let crew = group(&env, &ns, "crew", Some("Storefront"), "Revoked Crew").object();
    let crew_members = |upns: &[&str]| {
        membership(
            &env,
            &ns,
            "crew",
            target_ref("crew"),
            MembershipMode::Additive,
            upns,
        )
        .object()
    };
    let members = crew_members(&["adele.vance@contoso.com"]);
    let contributors = membership(
        &env,
        &ns,
        "contributors",
        target_principal(CONTRIBUTORS),
        MembershipMode::Additive,
        &["omar.haddad@contoso.com"],
    )
    .object();
    let objects = [crew.clone(), members.clone(), contributors.clone()];
    env.apply(&objects).await?;
    env.wait_ready(&objects, "True", WAIT).await?;
    let crew_descriptor = descriptor(&env, r"[Storefront]\Revoked Crew")?;
    assert_eq!(
        members_of(&env, &crew_descriptor),
        ["adele.vance@contoso.com"]
    );

    // The platform team takes the grant away (the organization then grants another namespace).
    set_grants(&env, &org, vec![storefront_grant(&["somewhere-else"])]).await?;
    all_refused(&env, &objects, &[Reason::NotAllowed]).await?;
    // Out of band, adele leaves the group; the tenant adds alex to its membership.
    let api = SimApi::new(&env)?;
    api.remove_member(
        &descriptor(&env, "adele.vance@contoso.com")?,
        &crew_descriptor,
    )
    .await?;
    let before = baseline(&env);
    let members = crew_members(&["adele.vance@contoso.com", "alex.wilber@contoso.com"]);
    env.apply(std::slice::from_ref(&members)).await?;
    refused(&env, &members, &[Reason::NotAllowed]).await?;
    untouched(&env, &before).await?;
    assert!(members_of(&env, &crew_descriptor).is_empty());
    env.delete_in_order(&[members, contributors, crew, org], WAIT)
        .await?;
    Ok(())
}

/// Attack 9, narrowed rather than removed: the grant keeps the namespace but no longer names
/// project Storefront. A membership of the group the namespace created there, named by its
/// principal name, must stop writing too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrowed_grant_stops_writes_in_the_project_it_no_longer_names() -> TestResult {
    let env = start("attacks-narrowed").await?;
    let ns = env.namespace.clone();
    let org = organization(&env, vec![]).await?;
    let principal = r"[Storefront]\Narrowed Crew";
    let crew = group(&env, &ns, "crew", Some("Storefront"), "Narrowed Crew").object();
    let crew_members = |upns: &[&str]| {
        membership(
            &env,
            &ns,
            "crew",
            target_principal(principal),
            MembershipMode::Additive,
            upns,
        )
        .object()
    };
    let members = crew_members(&["adele.vance@contoso.com"]);
    env.apply(&[crew.clone(), members.clone()]).await?;
    env.wait_ready(&[crew.clone(), members.clone()], "True", WAIT)
        .await?;
    let crew_descriptor = descriptor(&env, principal)?;

    let mut narrowed = storefront_grant(&[ns.as_str()]);
    narrowed.projects = vec!["Payments".into()];
    narrowed.groups.clear();
    narrowed.pipeline_resources.clear();
    set_grants(&env, &org, vec![narrowed]).await?;
    refused(&env, &crew, &[Reason::NotAllowed]).await?;
    let before = baseline(&env);
    let members = crew_members(&["adele.vance@contoso.com", "alex.wilber@contoso.com"]);
    env.apply(std::slice::from_ref(&members)).await?;
    refused(&env, &members, &[Reason::NotAllowed]).await?;
    untouched(&env, &before).await?;
    assert_eq!(
        members_of(&env, &crew_descriptor),
        ["adele.vance@contoso.com"]
    );
    env.delete_in_order(&[members, crew, org], WAIT).await?;
    Ok(())
}

/// Forging status (anyone granted `*/status` can): a tenant points its own DevOpsGroup's
/// `status.descriptor` at another team's group. That team's membership of its own group keeps
/// converging (no Conflict from a forged status), and deleting the forger's object deletes only
/// the group the operator created for it, as its ledger says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_status_neither_blocks_another_team_nor_steers_cleanup() -> TestResult {
    let env = start("attacks-forged").await?;
    let ns = env.namespace.clone();
    let team_b = env.cp.new_namespace("attacks-forger").await?;
    let org = organization(&env, vec![storefront_grant(&[team_b.as_str()])]).await?;

    let victim = group(&env, &ns, "alpha", Some("Storefront"), "Alpha Crew").object();
    let victim_members = |upns: &[&str]| {
        membership(
            &env,
            &ns,
            "alpha",
            target_ref("alpha"),
            MembershipMode::Additive,
            upns,
        )
        .object()
    };
    let decoy = group(&env, &team_b, "decoy", Some("Storefront"), "Decoy Crew").object();
    env.apply(&[
        victim.clone(),
        victim_members(&["debra.berger@contoso.com"]),
        decoy.clone(),
    ])
    .await?;
    env.wait_ready(&[victim.clone(), decoy.clone()], "True", WAIT)
        .await?;
    let alpha = descriptor(&env, r"[Storefront]\Alpha Crew")?;
    let decoy_descriptor = descriptor(&env, r"[Storefront]\Decoy Crew")?;

    let forged = serde_json::json!({"status": {"descriptor": alpha, "adopted": false}});
    api_for(&env.client().await?, &decoy)?
        .patch_status("decoy", &PatchParams::default(), &Patch::Merge(&forged))
        .await?;
    // The victim changes its membership: it converges, with no Conflict from the forgery.
    let changed = victim_members(&["debra.berger@contoso.com", "alex.wilber@contoso.com"]);
    env.apply(std::slice::from_ref(&changed)).await?;
    env.wait_ready(std::slice::from_ref(&changed), "True", WAIT)
        .await?;
    let mut present = members_of(&env, &alpha);
    present.sort();
    assert_eq!(
        present,
        ["alex.wilber@contoso.com", "debra.berger@contoso.com"]
    );

    // Deleting the forger's object deletes its own group, never the one its status names.
    env.delete_in_order(std::slice::from_ref(&decoy), WAIT)
        .await?;
    assert_eq!(
        subject(&env, &alpha),
        Some((r"[Storefront]\Alpha Crew".to_string(), false)),
        "the victim's group survives the forger's cleanup"
    );
    assert_eq!(
        subject(&env, &decoy_descriptor).map(|(_, deleted)| deleted),
        Some(true),
        "the forger's own group is what its deletion removed"
    );
    env.delete_in_order(&[changed, victim, org], WAIT).await?;
    Ok(())
}
