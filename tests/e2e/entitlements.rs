//! DevOpsEntitlement end to end: a user's and a service principal's access level and project
//! entitlements (create, steady state, drift repair, both deletion policies), and a group rule
//! applied asynchronously (Progressing while its operation runs) that runs out of licences
//! (LicenceUnavailable on status). The simulator's state is read directly; out-of-band changes
//! are made in it as another administrator would.

use std::collections::BTreeMap;

use azdo_operator::api::{
    AccessLevel, DeletionPolicy, DevOpsEntitlement, Grant, Principal, ProjectGroupType,
};
use azdo_operator::reason::Reason;
use azdo_sim::model::entitlements::Licence;
use azdo_sim::Behaviours;
use kube::api::DynamicObject;

use crate::operator_env::{OperatorEnv, TestResult};
use crate::roles::{start, A_RESYNC, WAIT};
use crate::support::kit::fixtures::storefront_grant;
use crate::support::kit::{Check, ToObject};

const LEE: &str = "lee.gu@contoso.com";

/// ClusterDevOpsOrganization granting the test's namespace [`storefront_grant`] (Stakeholder;
/// Readers and Contributors in Storefront; group rules) plus `levels` and `groups`.
pub async fn organization(
    env: &OperatorEnv,
    levels: &[AccessLevel],
    groups: &[&str],
    others: Vec<Grant>,
) -> TestResult<DynamicObject> {
    let mut grant = storefront_grant(&[env.namespace.as_str()]);
    if let Some(e) = grant.entitlements.as_mut() {
        e.access_levels.extend_from_slice(levels);
    }
    grant.groups.extend(groups.iter().map(|g| g.to_string()));
    let mut grants = vec![grant];
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

pub fn user(upn: &str) -> Principal {
    Principal {
        user: Some(upn.into()),
        ..Principal::default()
    }
}

/// A subject's direct entitlement in the simulator: level and project ids.
pub fn direct(env: &OperatorEnv, principal: &str) -> Option<(Licence, Vec<String>)> {
    env.sim.control().with_state(|state| {
        let org = state.organization("contoso").expect("contoso");
        let subject = org.subjects.iter().find(|s| {
            s.principal_name.eq_ignore_ascii_case(principal) || s.origin_id == principal
        })?;
        let m = org.entitlements.member(&subject.descriptor)?;
        Some((
            m.licence,
            m.projects.iter().map(|p| p.project.to_string()).collect(),
        ))
    })
}

/// Set a subject's level out of band.
fn set_level(env: &OperatorEnv, principal: &str, licence: Licence) {
    env.sim.control().with_state(|state| {
        let org = state.organization_mut("contoso").expect("contoso");
        let descriptor = org
            .subjects
            .iter()
            .find(|s| s.principal_name.eq_ignore_ascii_case(principal) || s.origin_id == principal)
            .map(|s| s.descriptor.clone())
            .expect("a subject");
        org.entitlements
            .member_mut(&descriptor)
            .expect("an entitlement")
            .licence = licence;
    });
}

/// Requests for `method` on a vsaex route.
pub fn calls(env: &OperatorEnv, method: &str, route: &str) -> u64 {
    env.sim.control().requests().count(method, route)
}

const USER: &str = "/{org}/_apis/userentitlements/{user_id}";
const USERS: &str = "/{org}/_apis/userentitlements";

async fn until_direct(
    env: &OperatorEnv,
    principal: &str,
    want: Option<(Licence, Vec<String>)>,
) -> TestResult {
    env.until("the simulator's entitlement", WAIT, || async {
        let now = direct(env, principal);
        Ok(match now == want {
            true => Check::Done(()),
            false => Check::NotYet(format!("{now:?}, want {want:?}")),
        })
    })
    .await
}

/// A user gets Stakeholder and Storefront Readers; a resync reads once and writes nothing;
/// a level changed by hand is repaired with one PATCH; adding a project is one PATCH; deletion
/// (Delete) removes the entitlement it created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_entitlement_is_created_kept_repaired_and_removed() -> TestResult {
    let env = start("ent-user").await?;
    let org = organization(&env, &[AccessLevel::Basic], &[], vec![]).await?;
    let storefront = crate::roles::STOREFRONT_ID.to_string();
    let mut e = env.fixtures().entitlement(
        "lee",
        user(LEE),
        AccessLevel::Stakeholder,
        &[("Storefront", ProjectGroupType::Readers)],
    );
    env.apply(&[e.object()]).await?;
    env.wait_ready(&[e.object()], "True", WAIT).await?;
    until_direct(
        &env,
        LEE,
        Some((Licence::Stakeholder, vec![storefront.clone()])),
    )
    .await?;
    let live: DevOpsEntitlement = crate::support::kit::typed(&env.get(&e.object()).await?)?;
    let status = live.status.expect("a status");
    assert_eq!(status.access_level.as_deref(), Some("Stakeholder"));
    assert_eq!(status.target.as_deref(), Some("User"));
    assert_eq!(status.projects.len(), 1);

    // Steady state: one read per resync, no write.
    env.sim.control().clear_requests();
    tokio::time::sleep(A_RESYNC).await;
    let reads = calls(&env, "GET", USER);
    assert!((1..=2).contains(&reads), "one read per resync, saw {reads}");
    assert_eq!(calls(&env, "PATCH", USER) + calls(&env, "POST", USERS), 0);

    // Drift: someone gives Basic by hand; the next resync puts Stakeholder back.
    set_level(&env, LEE, Licence::Express);
    until_direct(
        &env,
        LEE,
        Some((Licence::Stakeholder, vec![storefront.clone()])),
    )
    .await?;

    // Basic, and Contributors instead of Readers.
    e.spec.access_level = AccessLevel::Basic;
    e.spec.project_entitlements[0].group = ProjectGroupType::Contributors;
    env.apply(&[e.object()]).await?;
    until_direct(
        &env,
        LEE,
        Some((Licence::Express, vec![storefront.clone()])),
    )
    .await?;
    env.wait_ready(&[e.object()], "True", WAIT).await?;

    env.delete_in_order(&[e.object()], WAIT).await?;
    until_direct(&env, LEE, None).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// A service principal (by object id) gets Basic; with `deletionPolicy: Orphan` deleting the
/// object leaves it. An entitlement that existed before is adopted: deletion (Delete) restores
/// the level it replaced instead of removing the principal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_principal_entitlements_and_both_deletion_policies() -> TestResult {
    let env = start("ent-sp").await?;
    let org = organization(&env, &[AccessLevel::Basic], &[], vec![]).await?;
    let object_id = env
        .sim
        .control()
        .with_state(|s| s.directory.service_principals[0].object_id.to_string());
    let mut sp = env.fixtures().entitlement(
        "deploy-bot",
        Principal {
            service_principal: Some(object_id.clone()),
            ..Principal::default()
        },
        AccessLevel::Basic,
        &[],
    );
    sp.spec.deletion_policy = DeletionPolicy::Orphan;
    env.apply(&[sp.object()]).await?;
    env.wait_ready(&[sp.object()], "True", WAIT).await?;
    until_direct(&env, &object_id, Some((Licence::Express, vec![]))).await?;
    env.delete_in_order(&[sp.object()], WAIT).await?;
    tokio::time::sleep(A_RESYNC).await;
    assert_eq!(
        direct(&env, &object_id),
        Some((Licence::Express, vec![])),
        "Orphan keeps the entitlement"
    );

    // Now adopted: it exists (Basic); the object wants Stakeholder; deletion restores Basic.
    let adopt = env.fixtures().entitlement(
        "deploy-bot-2",
        Principal {
            service_principal: Some(object_id.clone()),
            ..Principal::default()
        },
        AccessLevel::Stakeholder,
        &[],
    );
    env.apply(&[adopt.object()]).await?;
    env.wait_ready(&[adopt.object()], "True", WAIT).await?;
    until_direct(&env, &object_id, Some((Licence::Stakeholder, vec![]))).await?;
    env.delete_in_order(&[adopt.object()], WAIT).await?;
    until_direct(&env, &object_id, Some((Licence::Express, vec![]))).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

fn directory_group(env: &OperatorEnv, name: &str) -> String {
    env.sim.control().with_state(|s| {
        s.directory
            .groups
            .iter()
            .find(|g| g.display_name == name)
            .map(|g| g.object_id.to_string())
            .expect("a directory group")
    })
}

/// The group rule's state in the simulator: (level, status, licensed members).
fn rule(env: &OperatorEnv, origin_id: &str) -> Option<(Licence, String, usize)> {
    env.sim.control().with_state(|state| {
        let org = state.organization("contoso").expect("contoso");
        let group = org.subject_by_origin_id(origin_id)?;
        let r = org.entitlements.rule(&group.descriptor)?;
        Some((
            r.licence,
            r.status.wire_name().to_string(),
            r.licensed.len(),
        ))
    })
}

/// A group rule on an Entra group the grant names: Progressing while the operation runs, then a
/// licence shortage on status (2 Basic licences for 3 members); raising the limit and touching
/// the object applies it to everyone; deletion removes the rule and its project entitlement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_rule_applies_asynchronously_and_reports_a_licence_shortage() -> TestResult {
    let env = start("ent-rule").await?;
    env.sim.control().set_behaviours(Behaviours {
        available_licences: BTreeMap::from([("express".to_string(), 2)]),
        group_rule_apply_ms: 2_500,
        ..Behaviours::default()
    });
    let org = organization(
        &env,
        &[AccessLevel::Basic],
        &[r"[TEAM FOUNDATION]\Contractors"],
        vec![],
    )
    .await?;
    let contractors = directory_group(&env, "Contractors");
    let mut e = env.fixtures().entitlement(
        "contractors",
        Principal {
            entra_group: Some(contractors.clone()),
            ..Principal::default()
        },
        AccessLevel::Basic,
        &[("Storefront", ProjectGroupType::Readers)],
    );
    env.apply(&[e.object()]).await?;
    let progressing = env
        .wait_for_reason(&e.object(), Reason::Progressing, WAIT)
        .await?;
    assert!(progressing.message.contains("operation"), "{progressing:?}");
    let short = env
        .wait_for_reason(&e.object(), Reason::LicenceUnavailable, WAIT)
        .await?;
    assert!(
        short.message.contains("2 of 3") || short.message.contains("1 of 3"),
        "{short:?}"
    );
    let live: DevOpsEntitlement = crate::support::kit::typed(&env.get(&e.object()).await?)?;
    let status = live.status.expect("a status");
    assert_eq!(status.rule_status.as_deref(), Some("unableToApply"));
    assert!(status.rule_message.is_some_and(|m| m.contains("VS403283")));
    assert_eq!(
        rule(&env, &contractors),
        Some((Licence::Express, "unableToApply".into(), 2))
    );

    // More licences, and a change (Contributors) re-applies the rule to everyone.
    env.sim.control().set_behaviours(Behaviours {
        group_rule_apply_ms: 500,
        ..Behaviours::default()
    });
    e.spec.project_entitlements[0].group = ProjectGroupType::Contributors;
    env.apply(&[e.object()]).await?;
    env.until("the rule applied to every member", WAIT, || async {
        let now = rule(&env, &contractors);
        Ok(match now {
            Some((_, ref s, 3)) if s == "applied" => Check::Done(()),
            other => Check::NotYet(format!("{other:?}")),
        })
    })
    .await?;
    env.wait_ready(&[e.object()], "True", WAIT).await?;

    env.delete_in_order(&[e.object()], WAIT).await?;
    env.until("the rule removed", WAIT, || async {
        Ok(match rule(&env, &contractors) {
            None => Check::Done(()),
            some => Check::NotYet(format!("{some:?}")),
        })
    })
    .await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}
