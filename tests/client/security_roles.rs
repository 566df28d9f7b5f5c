//! Security role definitions and assignments against azdo-sim: every scope's resource-id
//! format, set/replace/remove, inheritance, the error answers, and the read back that catches a
//! write Azure DevOps silently ignored.

use std::collections::BTreeMap;

use crate::support::{Harness, ORG};
use azdo_operator::ado::{assigned_roles, RoleGrantRef, RoleScope};
use azdo_sim::options::{Behaviours, UnknownRoleTarget};
use azdo_sim::SimOptions;

const ASSIGNMENTS: &str =
    "/{org}/_apis/securityroles/scopes/{scope_id}/roleassignments/resources/{resource_id}";
const DEFINITIONS: &str = "/{org}/_apis/securityroles/scopes/{scope_id}/roledefinitions";

fn project_id(h: &Harness, name: &str) -> String {
    h.sim.control().with_state(|s| {
        s.organization(ORG)
            .and_then(|o| o.project(name))
            .map(|p| p.id.to_string())
            .expect("project")
    })
}

async fn identity_of(client: &azdo_operator::ado::AdoClient, upn: &str) -> String {
    let user = client.resolve_user(upn).await.expect("user");
    client.storage_key(&user).await.expect("storage key")
}

#[tokio::test]
async fn role_definitions_per_scope_are_read_once() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let roles = client.role_definitions(RoleScope::Endpoint).await.unwrap();
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Reader", "User", "Creator", "Administrator"]);
    let pool = client.role_definitions(RoleScope::AgentPool).await.unwrap();
    assert!(pool.iter().any(|r| r.name == "Service Account"));
    assert_eq!(
        client
            .role_named(RoleScope::Endpoint, "administrator")
            .await
            .unwrap()
            .map(|r| r.name),
        Some("Administrator".to_string())
    );
    assert_eq!(
        client
            .role_named(RoleScope::Environment, "Creator")
            .await
            .unwrap(),
        None
    );
    assert_eq!(h.count("GET", DEFINITIONS), 3, "one read per scope");
    client.role_definitions(RoleScope::Endpoint).await.unwrap();
    client
        .role_named(RoleScope::Environment, "User")
        .await
        .unwrap();
    assert_eq!(h.count("GET", DEFINITIONS), 3, "then cached");
}

#[tokio::test]
async fn every_scope_takes_its_resource_id_and_writes_are_read_back() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let storefront = project_id(&h, "Storefront");
    let alice = identity_of(&client, "adele.vance@contoso.com").await;
    let cases = [
        (RoleScope::Environment, "2"),
        (RoleScope::Endpoint, "4a3b2c1d-0e9f-4a8b-7c6d-5e4f3a2b1c0d"),
        (RoleScope::Queue, "31"),
        (RoleScope::AgentPool, "12"),
        (RoleScope::VariableGroup, "5"),
        (
            RoleScope::SecureFile,
            "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b",
        ),
        (RoleScope::Library, ""),
    ];
    for (scope, own_id) in cases {
        let project = scope.in_project().then_some(storefront.as_str());
        let resource = scope.resource_id(project, own_id).unwrap();
        let set = BTreeMap::from([(alice.clone(), "Reader".to_string())]);
        let back = client
            .apply_role_assignments(scope, &resource, &set, &[])
            .await
            .unwrap_or_else(|e| panic!("{scope} {resource}: {e}"))
            .expect("a write was made");
        assert_eq!(
            assigned_roles(&back).get(&alice).map(String::as_str),
            Some("Reader"),
            "{scope}"
        );
        let gone = client
            .apply_role_assignments(
                scope,
                &resource,
                &BTreeMap::new(),
                std::slice::from_ref(&alice),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(!assigned_roles(&gone).contains_key(&alice), "{scope}");
    }
    // Per scope: PUT + read back, PATCH + read back.
    assert_eq!(h.count("GET", ASSIGNMENTS), 14);
    assert_eq!(h.count("PUT", ASSIGNMENTS), 7);
    assert_eq!(h.count("PATCH", ASSIGNMENTS), 7);
    // Nothing to write: no call at all.
    let none = client
        .apply_role_assignments(RoleScope::Library, "x", &BTreeMap::new(), &[])
        .await
        .unwrap();
    assert!(none.is_none());
    assert_eq!(h.count("GET", ASSIGNMENTS), 14);
}

#[tokio::test]
async fn a_put_replaces_an_identitys_role_and_inheritance_shows_the_parents() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let storefront = project_id(&h, "Storefront");
    let adele = identity_of(&client, "adele.vance@contoso.com").await;
    let alex = identity_of(&client, "alex.wilber@contoso.com").await;
    let env = RoleScope::Environment;
    let prod = env.resource_id(Some(&storefront), "2").unwrap();
    let all_envs = env.resource_id(Some(&storefront), "0").unwrap();
    let grant = |id: &str, role: &str| RoleGrantRef {
        role_name: role.into(),
        user_id: id.into(),
    };
    client
        .set_role_assignments(env, &prod, &[grant(&adele, "User")])
        .await
        .unwrap();
    let replaced = client
        .set_role_assignments(env, &prod, &[grant(&adele, "administrator")])
        .await
        .unwrap();
    assert_eq!(replaced[0].role.name, "Administrator");
    let now = client.role_assignments(env, &prod).await.unwrap();
    assert_eq!(assigned_roles(&now).len(), 1, "one role per identity");

    // The project-level collection's assignments show on each environment while it inherits.
    client
        .set_role_assignments(env, &all_envs, &[grant(&alex, "Reader")])
        .await
        .unwrap();
    let with_parent = client.role_assignments(env, &prod).await.unwrap();
    let inherited: Vec<_> = with_parent.iter().filter(|a| !a.is_assigned()).collect();
    assert_eq!(inherited.len(), 1);
    assert_eq!(inherited[0].identity.id.to_lowercase(), alex);
    assert!(!assigned_roles(&with_parent).contains_key(&alex));

    client
        .set_role_inheritance(env, &prod, false)
        .await
        .unwrap();
    let alone = client.role_assignments(env, &prod).await.unwrap();
    assert!(alone.iter().all(|a| a.is_assigned()), "{alone:?}");
    client.set_role_inheritance(env, &prod, true).await.unwrap();
    assert_eq!(client.role_assignments(env, &prod).await.unwrap().len(), 2);

    client
        .remove_role_assignment(env, &prod, &adele)
        .await
        .unwrap();
    assert!(assigned_roles(&client.role_assignments(env, &prod).await.unwrap()).is_empty());

    // The state snapshot records it all.
    let state = h.sim.control().state_json();
    let resources = state["organizations"][0]["roleAssignments"]
        .as_array()
        .unwrap();
    let prod_state = resources
        .iter()
        .find(|r| r["resourceId"] == prod.as_str())
        .expect("recorded");
    assert_eq!(prod_state["inherit"], true);
    assert_eq!(prod_state["assignments"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn unknown_scopes_resources_roles_and_identities_are_errors() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let storefront = project_id(&h, "Storefront");
    let adele = identity_of(&client, "adele.vance@contoso.com").await;
    let env = RoleScope::Environment;
    let prod = env.resource_id(Some(&storefront), "2").unwrap();
    let grant = |id: &str, role: &str| RoleGrantRef {
        role_name: role.into(),
        user_id: id.into(),
    };

    let wrong_resource = env.resource_id(Some(&storefront), "999").unwrap();
    let err = client
        .role_assignments(env, &wrong_resource)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    // An environment id under the endpoint scope is no endpoint.
    let err = client
        .role_assignments(RoleScope::Endpoint, &prod)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    let err = client
        .set_role_assignments(env, &prod, &[grant(&adele, "Creator")])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
    assert_eq!(err.type_key(), Some("InvalidRoleException"));

    let nobody = "00000000-0000-0000-0000-0000000000aa";
    let err = client
        .set_role_assignments(env, &prod, &[grant(nobody, "User")])
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.type_key(), Some("IdentityNotFoundException"));
    // Nothing was half-applied.
    assert!(assigned_roles(&client.role_assignments(env, &prod).await.unwrap()).is_empty());

    // The Payments project's resource with Storefront's project id is no resource.
    let payments_env = env.resource_id(Some(&storefront), "7").unwrap();
    assert!(client
        .role_assignments(env, &payments_env)
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn a_write_the_service_silently_ignores_never_passes_for_success() {
    let h = Harness::with_options(SimOptions {
        behaviours: Some(Behaviours {
            unknown_role_target: UnknownRoleTarget::SilentlyIgnored,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    })
    .await;
    let client = h.pat_client().await;
    let storefront = project_id(&h, "Storefront");
    let adele = identity_of(&client, "adele.vance@contoso.com").await;
    // `{projectId}${id}` is the variable group format, not the environment one.
    let wrong = format!("{storefront}$2");
    let set = BTreeMap::from([(adele.clone(), "User".to_string())]);
    // The PUT itself answers 200.
    let echoed = client
        .set_role_assignments(
            RoleScope::Environment,
            &wrong,
            &[RoleGrantRef {
                role_name: "User".into(),
                user_id: adele.clone(),
            }],
        )
        .await
        .unwrap();
    assert!(echoed.is_empty());
    let err = client
        .apply_role_assignments(RoleScope::Environment, &wrong, &set, &[])
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(
        err.to_string().contains("wrong scope or resource id"),
        "{err}"
    );
}
