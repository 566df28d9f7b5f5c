//! Security roles over HTTP: preview-only versions, case-insensitive routes, the collection
//! shape, access per project, and all-or-nothing PUTs.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

const ROLES: &str = "_apis/securityroles/scopes";

fn storage_key(h: &Harness, upn: &str) -> String {
    h.sim.control().with_state(|state| {
        state
            .organization(ORG)
            .and_then(|o| {
                o.subjects
                    .iter()
                    .find(|s| s.principal_name.eq_ignore_ascii_case(upn))
            })
            .map(|s| s.storage_key.to_string())
            .expect("a materialized subject")
    })
}

fn production() -> String {
    format!("{STOREFRONT_ID}_2")
}

#[tokio::test]
async fn preview_only_and_routes_are_case_insensitive() {
    let h = Harness::start().await;
    let path = format!("{ROLES}/distributedtask.environmentreferencerole/roledefinitions");
    vss_error(
        h.core_request(Method::GET, &path, OPERATOR, "7.1")
            .send()
            .await
            .unwrap(),
        400,
        "VssInvalidPreviewVersionException",
    )
    .await;
    let body = json(
        h.core_request(
            Method::GET,
            "_apis/SecurityRoles/Scopes/DistributedTask.EnvironmentReferenceRole/RoleDefinitions",
            OPERATOR,
            PREVIEW,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(body["count"], 3);
    assert_eq!(body["value"][2]["name"], "Administrator");
    assert_eq!(
        body["value"][2]["identifier"],
        "distributedtask.environmentreferencerole.Administrator"
    );
}

#[tokio::test]
async fn a_put_is_all_or_nothing_and_answers_the_published_shape() {
    let h = Harness::start().await;
    let sanjay = storage_key(&h, "sanjay.shah@contoso.com");
    let path = format!(
        "{ROLES}/distributedtask.environmentreferencerole/roleassignments/resources/{}",
        production()
    );
    vss_error(
        h.core_request(Method::PUT, &path, OPERATOR, PREVIEW)
            .json(&json!([
                {"roleName": "User", "userId": sanjay},
                {"roleName": "Owner", "userId": sanjay}
            ]))
            .send()
            .await
            .unwrap(),
        400,
        "InvalidRoleException",
    )
    .await;
    let empty = json(
        h.core_request(Method::GET, &path, OPERATOR, PREVIEW)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(empty, json!({"count": 0, "value": []}), "nothing applied");

    let set = json(
        h.core_request(Method::PUT, &path, OPERATOR, PREVIEW)
            .json(&json!([{"roleName": "user", "userId": sanjay}]))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let one = &set["value"][0];
    assert_eq!(one["identity"]["id"], sanjay.as_str());
    assert_eq!(one["role"]["name"], "User");
    assert_eq!(
        one["role"]["scope"],
        "distributedtask.environmentreferencerole"
    );
    assert_eq!(one["access"], "assigned");
    assert_eq!(one["accessDisplayName"], "Assigned");
}

#[tokio::test]
async fn access_follows_the_callers_projects_and_read_only_flag() {
    let h = Harness::start().await;
    let sanjay = storage_key(&h, "sanjay.shah@contoso.com");
    let payments = format!(
        "{ROLES}/distributedtask.environmentreferencerole/roleassignments/resources/{PAYMENTS_ID}_7"
    );
    vss_error(
        h.core_request(Method::GET, &payments, STOREFRONT_ONLY, PREVIEW)
            .send()
            .await
            .unwrap(),
        403,
        "InvalidAccessException",
    )
    .await;
    let storefront = format!(
        "{ROLES}/distributedtask.environmentreferencerole/roleassignments/resources/{}",
        production()
    );
    vss_error(
        h.core_request(Method::PUT, &storefront, AUDITOR, PREVIEW)
            .json(&json!([{"roleName": "Reader", "userId": sanjay}]))
            .send()
            .await
            .unwrap(),
        403,
        "InvalidAccessException",
    )
    .await;
    // Agent pools belong to the organization: a project-limited identity may not touch them.
    vss_error(
        h.core_request(
            Method::PUT,
            &format!("{ROLES}/distributedtask.globalagentpoolrole/roleassignments/resources/12"),
            STOREFRONT_ONLY,
            PREVIEW,
        )
        .json(&json!([{"roleName": "Reader", "userId": sanjay}]))
        .send()
        .await
        .unwrap(),
        403,
        "InvalidAccessException",
    )
    .await;
    vss_error(
        h.core_request(
            Method::GET,
            &format!("{ROLES}/distributedtask.nosuchrole/roleassignments/resources/1"),
            OPERATOR,
            PREVIEW,
        )
        .send()
        .await
        .unwrap(),
        404,
        "SecurityRoleScopeNotFoundException",
    )
    .await;
}
