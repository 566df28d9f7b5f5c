//! Attacks on security role assignments (issue 17): another team's resource, a type or the
//! organization's pools the grant does not name, Administrator, inheritance or Exclusive mode
//! without a grant saying so, a second Exclusive object wiping the first one's set, and a
//! forged status steering cleanup. Each refused attempt ends `Ready=False` with no write.

use azdo_operator::api::{DevOpsRoleAssignment, RoleGrant, RoleResource, RoleResourceType};
use azdo_sim::model::roles::RoleScope;

use super::*;
use crate::roles::{assign_out_of_band, held, roles, until_held, PRODUCTION};

const ADELE: &str = "adele.vance@contoso.com";
const ALEX: &str = "alex.wilber@contoso.com";
const SANJAY: &str = "sanjay.shah@contoso.com";

fn resource(type_: RoleResourceType, id: Option<&str>, name: Option<&str>) -> RoleResource {
    RoleResource {
        type_,
        id: id.map(str::to_string),
        name: name.map(str::to_string),
    }
}

fn reader(env: &OperatorEnv, name: &str, resource: RoleResource) -> DevOpsRoleAssignment {
    roles(
        env,
        name,
        resource,
        &[("Reader", &[ADELE])],
        MembershipMode::Additive,
    )
}

/// Another project's environment (by name, and by its id under the tenant's project), a
/// service connection and an organization agent pool the grant does not name: refused, and
/// nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_assignments_reach_only_granted_resources() -> TestResult {
    let env = start("attacks-roles-reach").await?;
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let environment = RoleResourceType::Environment;
    let mut payments = reader(
        &env,
        "payments",
        resource(environment, None, Some("payments-production")),
    );
    payments.spec.project = Some("Payments".into());
    let by_id = reader(&env, "by-id", resource(environment, Some("7"), None));
    let endpoint = reader(
        &env,
        "endpoint",
        resource(RoleResourceType::Endpoint, None, Some("azure-prod")),
    );
    let pool = reader(
        &env,
        "pool",
        resource(RoleResourceType::Agentpool, None, Some("Default")),
    );
    let library = reader(
        &env,
        "library",
        resource(RoleResourceType::Library, None, None),
    );
    let objs = [payments, by_id, endpoint, pool, library].map(|o| o.object());
    env.apply(&objs).await?;
    let conditions =
        all_refused(&env, &objs, &[Reason::NotAllowed, Reason::ResourceNotFound]).await?;
    assert!(conditions[0].has(Reason::NotAllowed), "{:?}", conditions[0]);
    assert!(
        conditions[1].has(Reason::ResourceNotFound),
        "environment 7 is Payments', not Storefront's: {:?}",
        conditions[1]
    );
    for c in &conditions[2..] {
        assert!(c.has(Reason::NotAllowed), "{c:?}");
    }
    untouched(&env, &before).await?;
    env.delete_in_order(&objs, WAIT).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// On a granted environment, Administrator, switching inheritance and Exclusive mode each need
/// the grant to say so: refused, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrator_inheritance_and_exclusive_need_their_grant() -> TestResult {
    let env = start("attacks-roles-admin").await?;
    let org = organization(&env, vec![]).await?;
    let before = baseline(&env);
    let prod = || {
        resource(
            RoleResourceType::Environment,
            None,
            Some("storefront-production"),
        )
    };
    let admin = roles(
        &env,
        "admin",
        prod(),
        &[("Reader", &[ALEX]), ("administrator", &[ADELE])],
        MembershipMode::Additive,
    );
    let mut inheritance = reader(&env, "inheritance", prod());
    inheritance.spec.inheritance = Some(false);
    let exclusive = roles(
        &env,
        "exclusive",
        prod(),
        &[("User", &[ADELE])],
        MembershipMode::Exclusive,
    );
    let objs = [admin, inheritance, exclusive].map(|o| o.object());
    env.apply(&objs).await?;
    let conditions = all_refused(&env, &objs, &[Reason::NotAllowed]).await?;
    assert!(
        conditions[0].message.contains("Administrator"),
        "{}",
        conditions[0].message
    );
    assert!(
        conditions[2].message.contains("Exclusive"),
        "{}",
        conditions[2].message
    );
    untouched(&env, &before).await?;
    env.delete_in_order(&objs, WAIT).await?;
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}

/// Two namespaces granted Exclusive mode on the same environment: the second Exclusive object
/// (naming the environment by id rather than name) is a Conflict and writes nothing, so it
/// cannot wipe the first one's assignments; an Additive object on that environment is a
/// Conflict too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_exclusive_object_cannot_wipe_the_first_ones_set() -> TestResult {
    let env = start("attacks-roles-wipe").await?;
    let ns = env.namespace.clone();
    let rival = env.cp.new_namespace("attacks-roles-rival").await?;
    let exclusive_grant = |namespace: &str| {
        let mut g = storefront_grant(&[namespace]);
        g.role_assignments = vec![RoleGrant {
            type_: Some(RoleResourceType::Environment),
            names: vec!["storefront-*".into()],
            exclusive: true,
            ..RoleGrant::default()
        }];
        g
    };
    let org = env
        .fixtures()
        .cluster_organization_granting(vec![exclusive_grant(&ns), exclusive_grant(&rival)])
        .object();
    env.apply(std::slice::from_ref(&org)).await?;
    env.wait_ready(std::slice::from_ref(&org), "True", WAIT)
        .await?;
    let first = roles(
        &env,
        "team",
        resource(
            RoleResourceType::Environment,
            None,
            Some("storefront-production"),
        ),
        &[("User", &[ADELE])],
        MembershipMode::Exclusive,
    )
    .object();
    env.apply(std::slice::from_ref(&first)).await?;
    env.wait_ready(std::slice::from_ref(&first), "True", WAIT)
        .await?;
    until_held(&env, PRODUCTION, &[(ADELE, "User")]).await?;

    let before = baseline(&env);
    let mut wiper = roles(
        &env,
        "wiper",
        resource(RoleResourceType::Environment, Some("2"), None),
        &[("User", &[ALEX])],
        MembershipMode::Exclusive,
    );
    wiper.metadata.namespace = Some(rival.clone());
    let wiper = wiper.object();
    env.apply(std::slice::from_ref(&wiper)).await?;
    let refusal = refused(&env, &wiper, &[Reason::Conflict]).await?;
    assert!(refusal.message.contains("Exclusive"), "{}", refusal.message);
    // Nor can an Additive object add to the set the first one decides (the two would fight).
    let mut adder = roles(
        &env,
        "adder",
        resource(
            RoleResourceType::Environment,
            None,
            Some("storefront-production"),
        ),
        &[("Reader", &[ALEX])],
        MembershipMode::Additive,
    );
    adder.metadata.namespace = Some(rival.clone());
    let adder = adder.object();
    env.apply(std::slice::from_ref(&adder)).await?;
    refused(&env, &adder, &[Reason::Conflict]).await?;
    untouched(&env, &before).await?;
    env.delete_in_order(&[wiper, adder, first, org], WAIT)
        .await?;
    Ok(())
}

/// Forging `status.assigned` to claim an assignment someone else made: deleting the object
/// removes only what the operator's ledger says it assigned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_status_does_not_steer_role_cleanup() -> TestResult {
    let env = start("attacks-roles-forged").await?;
    let org = organization(&env, vec![]).await?;
    let r = reader(
        &env,
        "prod",
        resource(
            RoleResourceType::Environment,
            None,
            Some("storefront-production"),
        ),
    )
    .object();
    env.apply(std::slice::from_ref(&r)).await?;
    env.wait_ready(std::slice::from_ref(&r), "True", WAIT)
        .await?;
    assign_out_of_band(&env, PRODUCTION, SANJAY, "Administrator");
    let sanjay_id = env.sim.control().with_state(|s| {
        s.organization("contoso")
            .and_then(|o| {
                o.subjects
                    .iter()
                    .find(|x| x.principal_name.eq_ignore_ascii_case(SANJAY))
            })
            .map(|x| x.storage_key.to_string())
            .expect("sanjay")
    });
    let forged =
        serde_json::json!({"status": {"assigned": [format!("{sanjay_id}=administrator")]}});
    api_for(&env.client().await?, &r)?
        .patch_status("prod", &PatchParams::default(), &Patch::Merge(&forged))
        .await?;
    env.delete_in_order(std::slice::from_ref(&r), WAIT).await?;
    assert_eq!(
        held(&env, RoleScope::Environment, PRODUCTION),
        [(SANJAY.to_string(), "Administrator".to_string())].into(),
        "only the assignment the operator made is removed"
    );
    env.delete_in_order(&[org], WAIT).await?;
    Ok(())
}
