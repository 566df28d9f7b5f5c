//! DevOpsRoleAssignment end to end: create, add, remove, Exclusive failing closed, drift
//! repair, the resource deleted out of band, both deletion policies, and inheritance. The
//! simulator's state is read directly; out-of-band changes are made in it as another
//! administrator would.

use std::collections::BTreeMap;
use std::time::Duration;

use azdo_operator::api::{
    DeletionPolicy, DevOpsRoleAssignment, Grant, Member, MembershipMode, RoleGrant, RoleMembers,
    RoleResource, RoleResourceType,
};
use azdo_operator::reason::Reason;
use azdo_sim::model::roles::{Assignment, RoleScope};
use kube::api::DynamicObject;
use uuid::Uuid;

use crate::operator_env::{OperatorEnv, TestResult};
use crate::support::kit::fixtures::storefront_grant;
use crate::support::kit::{Check, ToObject};

pub const WAIT: Duration = Duration::from_secs(60);
const RESYNC: &str = "3s";
/// Longer than one resync.
pub const A_RESYNC: Duration = Duration::from_secs(4);
pub const STOREFRONT_ID: &str = "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b";
/// `storefront-production`'s security roles resource id.
pub const PRODUCTION: &str = "3f2a1b0c-4d5e-4f60-8a7b-9c0d1e2f3a4b_2";

pub async fn start(prefix: &str) -> TestResult<OperatorEnv> {
    let mut env = OperatorEnv::start(prefix).await?;
    env.start_operator(&["--resync-interval", RESYNC, "--resync-jitter", "0"])
        .await?;
    Ok(env)
}

/// ClusterDevOpsOrganization granting the test's namespace [`storefront_grant`] (roles on the
/// `storefront-*` environments), with Exclusive mode too when `exclusive`; applied and Ready.
pub async fn organization(
    env: &OperatorEnv,
    exclusive: bool,
    others: Vec<Grant>,
) -> TestResult<DynamicObject> {
    let mut grant = storefront_grant(&[env.namespace.as_str()]);
    grant.role_assignments = vec![RoleGrant {
        type_: Some(RoleResourceType::Environment),
        names: vec!["storefront-*".into()],
        exclusive,
        ..RoleGrant::default()
    }];
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

pub fn user(upn: &str) -> Member {
    Member {
        user: Some(upn.to_string()),
        ..Member::default()
    }
}

pub fn environment(name: &str) -> RoleResource {
    RoleResource {
        type_: RoleResourceType::Environment,
        id: None,
        name: Some(name.to_string()),
    }
}

/// DevOpsRoleAssignment `name` on `resource` with `roles` (role, UPNs) in `mode`.
pub fn roles(
    env: &OperatorEnv,
    name: &str,
    resource: RoleResource,
    roles: &[(&str, &[&str])],
    mode: MembershipMode,
) -> DevOpsRoleAssignment {
    let assignments = roles
        .iter()
        .map(|(role, upns)| RoleMembers {
            role: role.to_string(),
            members: upns.iter().map(|u| user(u)).collect(),
        })
        .collect();
    let mut r = env.fixtures().role_assignment(name, resource, assignments);
    r.spec.mode = mode;
    r
}

/// The explicit assignments on a resource in the simulator: principal name -> role.
pub fn held(env: &OperatorEnv, scope: RoleScope, resource_id: &str) -> BTreeMap<String, String> {
    env.sim.control().with_state(|state| {
        let org = state.organization("contoso").expect("contoso");
        org.role_resource(scope, resource_id)
            .map(|r| {
                r.assignments
                    .iter()
                    .map(|a| {
                        let who = org.subject_by_identity_id(a.identity_id).map_or_else(
                            || a.identity_id.to_string(),
                            |s| s.principal_name.clone(),
                        );
                        (who.to_lowercase(), a.role.clone())
                    })
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// Assign `role` to `principal` (materialized already) out of band.
pub fn assign_out_of_band(env: &OperatorEnv, resource_id: &str, principal: &str, role: &str) {
    env.sim.control().with_state(|state| {
        let org = state.organization_mut("contoso").expect("contoso");
        let id: Uuid = org
            .subjects
            .iter()
            .find(|s| s.principal_name.eq_ignore_ascii_case(principal))
            .map(|s| s.storage_key)
            .unwrap_or_else(|| panic!("{principal} is not a subject"));
        let resource = org.role_resource_mut(RoleScope::Environment, resource_id);
        resource.assignments.retain(|a| a.identity_id != id);
        resource.assignments.push(Assignment {
            identity_id: id,
            role: role.to_string(),
        });
    });
}

/// Remove `principal`'s assignment out of band.
pub fn unassign_out_of_band(env: &OperatorEnv, resource_id: &str, principal: &str) {
    env.sim.control().with_state(|state| {
        let org = state.organization_mut("contoso").expect("contoso");
        let id = org
            .subjects
            .iter()
            .find(|s| s.principal_name.eq_ignore_ascii_case(principal))
            .map(|s| s.storage_key);
        let resource = org.role_resource_mut(RoleScope::Environment, resource_id);
        resource.assignments.retain(|a| Some(a.identity_id) != id);
    });
}

/// Requests to the simulator for `method` on the role assignments route.
pub fn assignment_calls(env: &OperatorEnv, method: &str) -> u64 {
    env.sim.control().requests().count(
        method,
        "/{org}/_apis/securityroles/scopes/{scope_id}/roleassignments/resources/{resource_id}",
    )
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(p, r)| (p.to_string(), r.to_string()))
        .collect()
}

/// Wait until the simulator holds exactly `want` on the resource.
pub async fn until_held(env: &OperatorEnv, resource_id: &str, want: &[(&str, &str)]) -> TestResult {
    let want = expect(want);
    env.until("the resource's role assignments", WAIT, || async {
        let now = held(env, RoleScope::Environment, resource_id);
        Ok(match now == want {
            true => Check::Done(()),
            false => Check::NotYet(format!("{now:?}, want {want:?}")),
        })
    })
    .await
}

const ADELE: &str = "adele.vance@contoso.com";
const ALEX: &str = "alex.wilber@contoso.com";
const SANJAY: &str = "sanjay.shah@contoso.com";

/// Create with two roles, a steady resync costs one read and no write, add a member, change a
/// role, remove a member (only what the object assigned; someone else's assignment stays),
/// and deletion (policy Delete) removes what it assigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_assigned_changed_and_removed() -> TestResult {
    let env = start("roles-crud").await?;
    let org = organization(&env, false, vec![]).await?;
    assign_out_of_band(&env, PRODUCTION, SANJAY, "Reader");
    let mut r = roles(
        &env,
        "prod",
        environment("storefront-production"),
        &[("User", &[ADELE]), ("Reader", &[ALEX])],
        MembershipMode::Additive,
    );
    env.apply(&[r.object()]).await?;
    env.wait_ready(&[r.object()], "True", WAIT).await?;
    until_held(
        &env,
        PRODUCTION,
        &[(ADELE, "User"), (ALEX, "Reader"), (SANJAY, "Reader")],
    )
    .await?;

    // Steady state: a resync reads once and writes nothing.
    env.sim.control().clear_requests();
    tokio::time::sleep(A_RESYNC).await;
    let reads = assignment_calls(&env, "GET");
    assert!((1..=2).contains(&reads), "one read per resync, saw {reads}");
    assert_eq!(
        assignment_calls(&env, "PUT") + assignment_calls(&env, "PATCH"),
        0
    );

    // Alex becomes User, Omar is added as Reader.
    r.spec.assignments = vec![
        RoleMembers {
            role: "User".into(),
            members: vec![user(ADELE), user(ALEX)],
        },
        RoleMembers {
            role: "reader".into(),
            members: vec![user("omar.haddad@contoso.com")],
        },
    ];
    env.apply(&[r.object()]).await?;
    until_held(
        &env,
        PRODUCTION,
        &[
            (ADELE, "User"),
            (ALEX, "User"),
            ("omar.haddad@contoso.com", "Reader"),
            (SANJAY, "Reader"),
        ],
    )
    .await?;

    // Adele leaves the list: removed; Sanjay (not ours) stays.
    r.spec.assignments[0].members = vec![user(ALEX)];
    env.apply(&[r.object()]).await?;
    until_held(
        &env,
        PRODUCTION,
        &[
            (ALEX, "User"),
            ("omar.haddad@contoso.com", "Reader"),
            (SANJAY, "Reader"),
        ],
    )
    .await?;
    env.wait_ready(&[r.object()], "True", WAIT).await?;

    env.delete_in_order(&[r.object()], WAIT).await?;
    until_held(&env, PRODUCTION, &[(SANJAY, "Reader")]).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Exclusive mode: nothing is removed while a listed member does not resolve; once it does,
/// every unlisted assignment goes; drift (an assignment added or removed out of band) is
/// repaired at the next resync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_fails_closed_and_repairs_drift() -> TestResult {
    let env = start("roles-exclusive").await?;
    let org = organization(&env, true, vec![]).await?;
    assign_out_of_band(&env, PRODUCTION, SANJAY, "User");
    let mut r = roles(
        &env,
        "prod",
        environment("storefront-production"),
        &[("User", &[ADELE, "no.such.user@contoso.com"])],
        MembershipMode::Exclusive,
    );
    env.apply(&[r.object()]).await?;
    env.wait_for_reason(&r.object(), Reason::UserNotFound, WAIT)
        .await?;
    tokio::time::sleep(A_RESYNC).await;
    assert_eq!(
        held(&env, RoleScope::Environment, PRODUCTION),
        expect(&[(ADELE, "User"), (SANJAY, "User")]),
        "adds go ahead, nothing is removed while an item fails"
    );

    r.spec.assignments[0].members = vec![user(ADELE)];
    env.apply(&[r.object()]).await?;
    until_held(&env, PRODUCTION, &[(ADELE, "User")]).await?;
    env.wait_ready(&[r.object()], "True", WAIT).await?;

    // Drift: someone removes Adele and adds Alex as Administrator.
    unassign_out_of_band(&env, PRODUCTION, ADELE);
    assign_out_of_band(&env, PRODUCTION, SANJAY, "Administrator");
    until_held(&env, PRODUCTION, &[(ADELE, "User")]).await?;

    env.delete_in_order(&[r.object()], WAIT).await?;
    until_held(&env, PRODUCTION, &[]).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// The environment is deleted out of band: the object reports ResourceNotFound (it does not
/// recreate assignments anywhere), and deleting it then finishes. With deletionPolicy Orphan,
/// deleting the object leaves its assignments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_resource_is_reported_and_orphan_keeps_assignments() -> TestResult {
    let env = start("roles-gone").await?;
    let org = organization(&env, false, vec![]).await?;
    let staging = format!("{STOREFRONT_ID}_1");
    let mut kept = roles(
        &env,
        "prod",
        environment("storefront-production"),
        &[("Reader", &[ADELE])],
        MembershipMode::Additive,
    );
    kept.spec.deletion_policy = DeletionPolicy::Orphan;
    let gone = roles(
        &env,
        "staging",
        environment("storefront-staging"),
        &[("User", &[ALEX])],
        MembershipMode::Additive,
    );
    env.apply(&[kept.object(), gone.object()]).await?;
    env.wait_ready(&[kept.object(), gone.object()], "True", WAIT)
        .await?;
    until_held(&env, &staging, &[(ALEX, "User")]).await?;

    env.sim.control().with_state(|state| {
        let org = state.organization_mut("contoso").expect("contoso");
        let project = org.project_mut("Storefront").expect("Storefront");
        project
            .environments
            .retain(|e| e.name != "storefront-staging");
        org.role_assignments
            .retain(|r| r.resource_id != format!("{STOREFRONT_ID}_1"));
    });
    env.wait_for_reason(&gone.object(), Reason::ResourceNotFound, WAIT)
        .await?;
    tokio::time::sleep(A_RESYNC).await;
    assert!(
        held(&env, RoleScope::Environment, &staging).is_empty(),
        "nothing is assigned on a resource that is gone"
    );
    env.delete_in_order(&[gone.object()], WAIT).await?;

    env.delete_in_order(&[kept.object()], WAIT).await?;
    tokio::time::sleep(A_RESYNC).await;
    assert_eq!(
        held(&env, RoleScope::Environment, PRODUCTION),
        expect(&[(ADELE, "Reader")]),
        "Orphan leaves the assignments"
    );
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Whether the simulator's resource inherits its parent's assignments.
fn inherits(env: &OperatorEnv, resource_id: &str) -> bool {
    env.sim.control().with_state(|state| {
        state
            .organization("contoso")
            .and_then(|o| o.role_resource(RoleScope::Environment, resource_id))
            .is_none_or(|r| r.inherit)
    })
}

async fn until_inherits(env: &OperatorEnv, resource_id: &str, want: bool) -> TestResult {
    env.eventually(&format!("inherit = {want}"), WAIT, || async {
        Ok(inherits(env, resource_id) == want)
    })
    .await
}

/// `inheritance: false` (granted with `administrator`) switches inheritance off; switched back
/// on out of band while the parent has assignments, it is switched off again; deleting the
/// object turns it back on and removes what it assigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inheritance_is_switched_off_kept_off_and_restored() -> TestResult {
    let env = start("roles-inherit").await?;
    let mut grant = storefront_grant(&[env.namespace.as_str()]);
    grant.role_assignments = vec![RoleGrant {
        type_: Some(RoleResourceType::Environment),
        names: vec!["storefront-production".into()],
        administrator: true,
        ..RoleGrant::default()
    }];
    let org = env
        .fixtures()
        .cluster_organization_granting(vec![grant])
        .object();
    env.apply(std::slice::from_ref(&org)).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", WAIT)
        .await?;
    // The project-level collection of environments has an assignment every environment inherits.
    let all_environments = format!("{STOREFRONT_ID}_0");
    assign_out_of_band(&env, &all_environments, SANJAY, "Reader");
    let mut r = roles(
        &env,
        "prod",
        environment("storefront-production"),
        &[("Administrator", &[ADELE])],
        MembershipMode::Additive,
    );
    r.spec.inheritance = Some(false);
    env.apply(&[r.object()]).await?;
    env.wait_ready(&[r.object()], "True", WAIT).await?;
    until_inherits(&env, PRODUCTION, false).await?;
    until_held(&env, PRODUCTION, &[(ADELE, "Administrator")]).await?;

    env.sim.control().clear_requests();
    tokio::time::sleep(A_RESYNC).await;
    assert_eq!(assignment_calls(&env, "PATCH"), 0, "no write once in place");

    // Switched back on by hand: the inherited Reader shows, and the operator switches it off.
    env.sim.control().with_state(|state| {
        let org = state.organization_mut("contoso").expect("contoso");
        org.role_resource_mut(RoleScope::Environment, PRODUCTION)
            .inherit = true;
    });
    until_inherits(&env, PRODUCTION, false).await?;

    env.delete_in_order(&[r.object()], WAIT).await?;
    until_inherits(&env, PRODUCTION, true).await?;
    until_held(&env, PRODUCTION, &[]).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Entra object id of a directory group or service principal of the seed.
fn directory_id(env: &OperatorEnv, display_name: &str) -> String {
    env.sim.control().with_state(|state| {
        let d = &state.directory;
        d.groups
            .iter()
            .find(|g| g.display_name == display_name)
            .map(|g| g.object_id)
            .or_else(|| {
                d.service_principals
                    .iter()
                    .find(|s| s.display_name == display_name)
                    .map(|s| s.object_id)
            })
            .map(|id| id.to_string())
            .unwrap_or_else(|| panic!("{display_name} is not in the directory"))
    })
}

/// Role held on a resource by the subject with this Entra object id (or principal name).
fn role_of(env: &OperatorEnv, scope: RoleScope, resource_id: &str, who: &str) -> Option<String> {
    env.sim.control().with_state(|state| {
        let org = state.organization("contoso")?;
        let subject = org.subjects.iter().find(|s| {
            s.origin_id.eq_ignore_ascii_case(who) || s.principal_name.eq_ignore_ascii_case(who)
        })?;
        org.role_resource(scope, resource_id)?
            .assignments
            .iter()
            .find(|a| a.identity_id == subject.storage_key)
            .map(|a| a.role.clone())
    })
}

/// A variable group by id (Entra group and service principal members), an organization agent
/// pool by name (no project), and the project's Library (a project group): each lands on its
/// own scope and resource id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_resource_types_and_member_forms() -> TestResult {
    let env = start("roles-types").await?;
    let mut grant = storefront_grant(&[env.namespace.as_str()]);
    let entry = |type_, names: &[&str]| RoleGrant {
        type_: Some(type_),
        names: names.iter().map(|n| n.to_string()).collect(),
        ..RoleGrant::default()
    };
    grant.role_assignments = vec![
        entry(RoleResourceType::Variablegroup, &["storefront-*"]),
        entry(RoleResourceType::Agentpool, &["linux-x64"]),
        entry(RoleResourceType::Library, &["Library"]),
    ];
    let org = env
        .fixtures()
        .cluster_organization_granting(vec![grant])
        .object();
    env.apply(std::slice::from_ref(&org)).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", WAIT)
        .await?;
    let developers = directory_id(&env, "Storefront Developers");
    let deploy_bot = directory_id(&env, "deploy-bot");
    let fx = env.fixtures();
    let secrets = fx.role_assignment(
        "secrets",
        RoleResource {
            type_: RoleResourceType::Variablegroup,
            id: Some("6".into()),
            name: None,
        },
        vec![
            RoleMembers {
                role: "User".into(),
                members: vec![Member {
                    entra_group: Some(developers.clone()),
                    ..Member::default()
                }],
            },
            RoleMembers {
                role: "Reader".into(),
                members: vec![Member {
                    service_principal: Some(deploy_bot.clone()),
                    ..Member::default()
                }],
            },
        ],
    );
    let pool = fx.role_assignment(
        "pool",
        RoleResource {
            type_: RoleResourceType::Agentpool,
            id: None,
            name: Some("linux-x64".into()),
        },
        vec![RoleMembers {
            role: "Reader".into(),
            members: vec![user(ADELE)],
        }],
    );
    let library = fx.role_assignment(
        "library",
        RoleResource {
            type_: RoleResourceType::Library,
            id: None,
            name: None,
        },
        vec![RoleMembers {
            role: "Creator".into(),
            members: vec![Member {
                group: Some(r"[Storefront]\Readers".into()),
                ..Member::default()
            }],
        }],
    );
    let objs = [secrets.object(), pool.object(), library.object()];
    env.apply(&objs).await?;
    env.wait_ready(&objs, "True", WAIT).await?;
    let group = format!("{STOREFRONT_ID}$6");
    let lib = format!("{STOREFRONT_ID}$0");
    let vg = RoleScope::VariableGroup;
    assert_eq!(
        role_of(&env, vg, &group, &developers).as_deref(),
        Some("User")
    );
    assert_eq!(
        role_of(&env, vg, &group, &deploy_bot).as_deref(),
        Some("Reader")
    );
    assert_eq!(
        role_of(&env, RoleScope::AgentPool, "12", ADELE).as_deref(),
        Some("Reader")
    );
    assert_eq!(
        role_of(&env, RoleScope::Library, &lib, r"[Storefront]\Readers").as_deref(),
        Some("Creator")
    );
    env.delete_in_order(&objs, WAIT).await?;
    assert_eq!(role_of(&env, vg, &group, &developers), None);
    assert_eq!(role_of(&env, RoleScope::AgentPool, "12", ADELE), None);
    assert_eq!(
        role_of(&env, RoleScope::Library, &lib, r"[Storefront]\Readers"),
        None
    );
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}
