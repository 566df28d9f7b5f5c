//! Attacks on entitlements (issue 18): a licence the grant does not give (Basic + Test Plans
//! when only Stakeholder is granted), project entitlements in another team's project or in a
//! project group the grant does not name (Project Administrators), and group rules on a
//! privileged group or on another team's group. Each refused attempt ends `Ready=False` with no
//! write and the simulator's entitlements untouched.

use azdo_operator::api::{AccessLevel, Principal, ProjectGroupType};

use super::*;

const LEE: &str = "lee.gu@contoso.com";

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
