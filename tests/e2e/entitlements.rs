//! DevOpsEntitlement end to end: a user's and a service principal's access level and project
//! entitlements (create, steady state, drift repair, both deletion policies), and a group rule
//! applied asynchronously (Progressing while its operation runs) that runs out of licences
//! (LicenceUnavailable on status). The simulator's state is read directly; out-of-band changes
//! are made in it as another administrator would.

use std::collections::BTreeMap;

use azdo_operator::api::{
    AccessLevel, DeletionPolicy, DevOpsEntitlement, Grant, LocalRef, Principal,
    ProjectEntitlementState, ProjectGroupType,
};
use azdo_operator::reason::Reason;
use azdo_sim::model::entitlements::Licence;
use azdo_sim::Behaviours;
use k8s_openapi::api::core::v1::Event;
use kube::api::{DynamicObject, ListParams};
use kube::Api;

use crate::operator_env::{OperatorEnv, TestResult};
use crate::roles::{start, A_RESYNC, WAIT};
use crate::sim_api::{descriptor_of, members_of};
use crate::support::kit::fixtures::{storefront_grant, target_ref, users};
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

/// Remove a subject's project entitlements by hand (and the project group memberships they
/// gave, as Azure DevOps does).
fn drop_projects(env: &OperatorEnv, principal: &str) {
    env.sim.control().with_state(|state| {
        let org = state.organization_mut("contoso").expect("contoso");
        let descriptor = org
            .subjects
            .iter()
            .find(|s| s.principal_name.eq_ignore_ascii_case(principal) || s.origin_id == principal)
            .map(|s| s.descriptor.clone())
            .expect("a subject");
        let m = org
            .entitlements
            .member_mut(&descriptor)
            .expect("an entitlement");
        let gone = std::mem::take(&mut m.projects);
        assert!(
            !gone.is_empty(),
            "there was a project entitlement to remove"
        );
        org.leave_project_groups(&descriptor, &gone);
    });
}

/// `(type, reason)` of every Event about the object `name` in the test's namespace.
pub async fn event_types(env: &OperatorEnv, name: &str) -> TestResult<Vec<(String, String)>> {
    let api: Api<Event> = Api::namespaced(env.client().await?, &env.namespace);
    let events = api
        .list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
        .await?;
    Ok(events
        .items
        .into_iter()
        .map(|e| (e.type_.unwrap_or_default(), e.reason.unwrap_or_default()))
        .collect())
}

/// A pending operation is no error: no Warning Event says `Progressing` about `name`.
pub async fn no_progressing_warning(env: &OperatorEnv, name: &str) -> TestResult<usize> {
    let events = event_types(env, name).await?;
    let warnings: Vec<_> = events
        .iter()
        .filter(|(t, r)| t == "Warning" && r == Reason::Progressing.as_str())
        .collect();
    assert!(
        warnings.is_empty(),
        "Warning Events for Progressing: {events:?}"
    );
    Ok(events
        .iter()
        .filter(|(t, r)| t == "Normal" && r == Reason::Progressing.as_str())
        .count())
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
    // Drift: someone removes the project entitlement by hand; it is given again.
    drop_projects(&env, LEE);
    assert_eq!(direct(&env, LEE), Some((Licence::Stakeholder, vec![])));
    until_direct(
        &env,
        LEE,
        Some((Licence::Stakeholder, vec![storefront.clone()])),
    )
    .await?;
    env.wait_ready(&[e.object()], "True", WAIT).await?;

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

/// A service principal (by object id) gets Basic and Storefront Readers; a level changed by
/// hand and a project entitlement removed by hand are repaired; with `deletionPolicy: Orphan`
/// deleting the object leaves it. An entitlement that existed before is adopted: deletion
/// (Delete) restores the level it replaced instead of removing the principal, and leaves the
/// project entitlement it did not give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_principal_entitlements_drift_and_both_deletion_policies() -> TestResult {
    let env = start("ent-sp").await?;
    let org = organization(&env, &[AccessLevel::Basic], &[], vec![]).await?;
    let storefront = crate::roles::STOREFRONT_ID.to_string();
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
        &[("Storefront", ProjectGroupType::Readers)],
    );
    sp.spec.deletion_policy = DeletionPolicy::Orphan;
    env.apply(&[sp.object()]).await?;
    env.wait_ready(&[sp.object()], "True", WAIT).await?;
    let given = Some((Licence::Express, vec![storefront.clone()]));
    until_direct(&env, &object_id, given.clone()).await?;

    // Drift: Stakeholder by hand, then the project entitlement removed by hand.
    set_level(&env, &object_id, Licence::Stakeholder);
    until_direct(&env, &object_id, given.clone()).await?;
    drop_projects(&env, &object_id);
    until_direct(&env, &object_id, given.clone()).await?;
    env.wait_ready(&[sp.object()], "True", WAIT).await?;

    env.delete_in_order(&[sp.object()], WAIT).await?;
    tokio::time::sleep(A_RESYNC).await;
    assert_eq!(
        direct(&env, &object_id),
        given,
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
    until_direct(
        &env,
        &object_id,
        Some((Licence::Stakeholder, vec![storefront.clone()])),
    )
    .await?;
    env.delete_in_order(&[adopt.object()], WAIT).await?;
    until_direct(&env, &object_id, given).await?;
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
    // The shortage was a Warning; the operations applying the rule were not.
    let normal = no_progressing_warning(&env, "contractors").await?;
    assert!(normal >= 1, "a Normal Event said Progressing");
    let events = event_types(&env, "contractors").await?;
    assert!(
        events.contains(&("Warning".into(), Reason::LicenceUnavailable.as_str().into())),
        "{events:?}"
    );

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

/// A group rule's state in the simulator by group descriptor: (level, status, licensed
/// members, project ids).
fn rule_on(env: &OperatorEnv, group: &str) -> Option<(Licence, String, usize, Vec<String>)> {
    env.sim.control().with_state(|state| {
        let org = state.organization("contoso").expect("contoso");
        let r = org.entitlements.rule(group)?;
        Some((
            r.licence,
            r.status.wire_name().to_string(),
            r.licensed.len(),
            r.projects.iter().map(|p| p.project.to_string()).collect(),
        ))
    })
}

/// A member's effective level in the simulator and whether a group rule gives it.
fn effective(env: &OperatorEnv, upn: &str) -> Option<(Licence, bool)> {
    let descriptor = descriptor_of(env, upn)?;
    env.sim.control().with_state(|state| {
        state
            .organization("contoso")?
            .entitlements
            .effective(&descriptor)
    })
}

/// Change a group rule by hand, as another administrator would: `level`, and drop its project
/// entitlements (and the project group memberships they gave the group).
fn edit_rule(env: &OperatorEnv, group: &str, level: Option<Licence>, drop_projects: bool) {
    env.sim.control().with_state(|state| {
        let org = state.organization_mut("contoso").expect("contoso");
        let r = org.entitlements.rule_mut(group).expect("a rule");
        if let Some(level) = level {
            r.licence = level;
        }
        if drop_projects {
            let gone = std::mem::take(&mut r.projects);
            org.leave_project_groups(group, &gone);
        }
    });
}

async fn until_rule(
    env: &OperatorEnv,
    group: &str,
    want: Option<(Licence, &str, usize, Vec<String>)>,
) -> TestResult {
    let want = want.map(|(l, s, n, p)| (l, s.to_string(), n, p));
    env.until("the simulator's group rule", WAIT, || async {
        let now = rule_on(env, group);
        Ok(match now == want {
            true => Check::Done(()),
            false => Check::NotYet(format!("{now:?}, want {want:?}")),
        })
    })
    .await
}

/// A group rule on the namespace's own DevOpsGroup (`groupRef`): the rule is applied
/// asynchronously (Ready=False `Progressing` with Normal Events only, then Ready), the group's
/// members get the access level, the project entitlement puts the group into the project's
/// Readers; a level and a project entitlement changed by hand are repaired; deletion with
/// `Delete` removes the rule (ledger-driven), with `Orphan` keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_rule_on_the_namespaces_own_group() -> TestResult {
    let env = start("ent-groupref").await?;
    env.sim.control().set_behaviours(Behaviours {
        group_rule_apply_ms: 1_500,
        ..Behaviours::default()
    });
    let org = organization(&env, &[], &[], vec![]).await?;
    let storefront = crate::roles::STOREFRONT_ID.to_string();
    let f = env.fixtures();
    let crew = f.group("crew", "Entitled Crew");
    env.apply(&[crew.object()]).await?;
    env.wait_ready(&[crew.object()], "True", WAIT).await?;
    let members = ["alex.wilber@contoso.com", "emily.braun@contoso.com"];
    let membership = f.membership("crew-members", target_ref("crew"), users(&members));
    env.apply(&[membership.object()]).await?;
    env.wait_ready(&[membership.object()], "True", WAIT).await?;
    let crew_descriptor = descriptor_of(&env, r"[Storefront]\Entitled Crew").ok_or("no crew")?;
    let readers = descriptor_of(&env, r"[Storefront]\Readers").ok_or("no Readers")?;
    let in_readers = || {
        members_of(&env, &readers)
            .iter()
            .any(|m| m.eq_ignore_ascii_case(r"[Storefront]\Entitled Crew"))
    };
    assert!(!in_readers(), "the crew starts outside Readers");

    let on_crew = Principal {
        group_ref: Some(LocalRef {
            name: "crew".into(),
        }),
        ..Principal::default()
    };
    let rule = f.entitlement(
        "crew-rule",
        on_crew.clone(),
        AccessLevel::Stakeholder,
        &[("Storefront", ProjectGroupType::Readers)],
    );
    env.apply(&[rule.object()]).await?;
    let progressing = env
        .wait_for_reason(&rule.object(), Reason::Progressing, WAIT)
        .await?;
    assert!(progressing.is("False"), "{progressing:?}");
    assert!(progressing.message.contains("operation"), "{progressing:?}");
    env.wait_ready(&[rule.object()], "True", WAIT).await?;
    let applied = Some((Licence::Stakeholder, "applied", 2, vec![storefront.clone()]));
    until_rule(&env, &crew_descriptor, applied.clone()).await?;
    for upn in members {
        assert_eq!(
            effective(&env, upn),
            Some((Licence::Stakeholder, true)),
            "{upn} is licensed by the rule"
        );
    }
    assert!(
        in_readers(),
        "the project entitlement puts the crew in Readers"
    );
    let live: DevOpsEntitlement = crate::support::kit::typed(&env.get(&rule.object()).await?)?;
    let status = live.status.expect("a status");
    assert_eq!(status.target.as_deref(), Some("GroupRule"));
    assert_eq!(status.rule_status.as_deref(), Some("applied"));
    assert_eq!(status.assignment_source.as_deref(), Some("groupRule"));
    assert_eq!(status.operation_id, None);
    assert_eq!(
        status.projects.iter().map(|p| p.state).collect::<Vec<_>>(),
        vec![ProjectEntitlementState::Granted]
    );
    let normal = no_progressing_warning(&env, "crew-rule").await?;
    assert!(normal >= 1, "a Normal Event said Progressing");

    // Drift: the rule's level raised by hand is put back (re-applied: Progressing again).
    edit_rule(&env, &crew_descriptor, Some(Licence::Express), false);
    until_rule(&env, &crew_descriptor, applied.clone()).await?;
    env.wait_ready(&[rule.object()], "True", WAIT).await?;
    // Drift: the rule's project entitlement removed by hand is given again.
    edit_rule(&env, &crew_descriptor, None, true);
    assert!(!in_readers());
    until_rule(&env, &crew_descriptor, applied.clone()).await?;
    env.until("the crew back in Readers", WAIT, || async {
        Ok(match in_readers() {
            true => Check::Done(()),
            false => Check::NotYet("not in Readers".into()),
        })
    })
    .await?;
    env.wait_ready(&[rule.object()], "True", WAIT).await?;
    // One Normal Event per start of an operation (the create and two repairs), none per poll.
    let normal = no_progressing_warning(&env, "crew-rule").await?;
    assert!((1..=3).contains(&normal), "{normal} Progressing Events");

    // Delete: the rule this object created goes, and with it the crew's Readers membership.
    env.delete_in_order(&[rule.object()], WAIT).await?;
    until_rule(&env, &crew_descriptor, None).await?;
    assert!(!in_readers(), "the rule's project entitlement is removed");

    // Orphan: a rule created by an object that orphans stays after the object is deleted.
    let mut kept = f.entitlement(
        "crew-rule-kept",
        on_crew,
        AccessLevel::Stakeholder,
        &[("Storefront", ProjectGroupType::Readers)],
    );
    kept.spec.deletion_policy = DeletionPolicy::Orphan;
    env.apply(&[kept.object()]).await?;
    env.wait_ready(&[kept.object()], "True", WAIT).await?;
    until_rule(&env, &crew_descriptor, applied.clone()).await?;
    env.delete_in_order(&[kept.object()], WAIT).await?;
    tokio::time::sleep(A_RESYNC).await;
    assert_eq!(
        rule_on(&env, &crew_descriptor),
        applied.map(|(l, s, n, p)| (l, s.to_string(), n, p)),
        "Orphan keeps the rule"
    );
    assert!(in_readers(), "Orphan keeps the project entitlement");
    no_progressing_warning(&env, "crew-rule-kept").await?;

    env.delete_in_order(&[membership.object(), crew.object()], WAIT)
        .await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}
