//! Member Entitlement Management over HTTP (vsaex host): user and service principal
//! entitlements with 200 + `isSuccess: false` failures, licence limits, project entitlements as
//! project group memberships, group rules applied asynchronously through an operation.

use std::collections::BTreeMap;
use std::time::Duration;

use azdo_sim::{Behaviours, SimOptions};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

const V: &str = "7.1";
const SP_PREVIEW: &str = "7.1-preview.1";

async fn harness(licences: &[(&str, u32)], apply_ms: u64) -> Harness {
    let behaviours = Behaviours {
        available_licences: licences
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<_, _>>(),
        group_rule_apply_ms: apply_ms,
        ..Behaviours::default()
    };
    Harness::with(SimOptions {
        behaviours: Some(behaviours),
        ..SimOptions::default()
    })
    .await
}

fn directory_group(h: &Harness, name: &str) -> String {
    h.sim.control().with_state(|s| {
        s.directory
            .groups
            .iter()
            .find(|g| g.display_name == name)
            .map(|g| g.object_id.to_string())
            .expect("directory group")
    })
}

fn directory_sp(h: &Harness, name: &str) -> (String, String) {
    h.sim.control().with_state(|s| {
        s.directory
            .service_principals
            .iter()
            .find(|p| p.display_name == name)
            .map(|p| (p.object_id.to_string(), p.app_id.to_string()))
            .expect("directory service principal")
    })
}

/// Whether the subject named `principal` is a direct member of `[project]\group`.
fn in_project_group(h: &Harness, principal: &str, project: &str, group: &str) -> bool {
    h.sim.control().with_state(|s| {
        let org = s.organization(ORG).unwrap();
        let member = org
            .subjects
            .iter()
            .find(|x| x.principal_name.eq_ignore_ascii_case(principal) || x.origin_id == principal)
            .map(|x| x.descriptor.clone());
        let container = org
            .subjects
            .iter()
            .find(|x| x.principal_name == format!("[{project}]\\{group}"))
            .map(|x| x.descriptor.clone());
        match (member, container) {
            (Some(m), Some(c)) => org.has_membership(&c, &m),
            _ => false,
        }
    })
}

async fn add_user(h: &Harness, upn: &str, level: &str, projects: Value) -> Value {
    json(
        h.vsaex_request(Method::POST, "_apis/userentitlements", OPERATOR, V)
            .json(&json!({
                "accessLevel": {"licensingSource": "account", "accountLicenseType": level},
                "user": {"principalName": upn, "subjectKind": "user"},
                "projectEntitlements": projects,
            }))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

fn first_error(body: &Value, result: &str) -> (u64, String) {
    let e = &body[result]["errors"][0];
    (
        e["key"].as_u64().unwrap_or_default(),
        e["value"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn user_entitlements_add_read_update_delete() {
    let h = harness(&[], 0).await;
    let body = add_user(
        &h,
        "alex.wilber@contoso.com",
        "stakeholder",
        json!([{"group": {"groupType": "projectContributor"}, "projectRef": {"id": PAYMENTS_ID}}]),
    )
    .await;
    assert_eq!(body["isSuccess"], true, "{body}");
    let id = body["operationResult"]["userId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(body["userEntitlement"]["id"], id.as_str());
    assert_eq!(
        body["userEntitlement"]["accessLevel"]["accountLicenseType"],
        "stakeholder"
    );
    assert!(in_project_group(
        &h,
        "alex.wilber@contoso.com",
        "Payments",
        "Contributors"
    ));

    // Read by id, routes case-insensitive.
    let read = json(
        h.vsaex_request(
            Method::GET,
            &format!("_apis/UserEntitlements/{id}"),
            OPERATOR,
            V,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(read["user"]["principalName"], "alex.wilber@contoso.com");
    assert_eq!(
        read["projectEntitlements"][0]["group"]["groupType"],
        "projectContributor"
    );
    assert_eq!(
        read["projectEntitlements"][0]["projectRef"]["name"],
        "Payments"
    );

    // Update: level up, project swapped.
    let patched = json(
        h.vsaex_request(Method::PATCH, &format!("_apis/userentitlements/{id}"), OPERATOR, V)
            .header("content-type", "application/json-patch+json")
            .json(&json!([
                {"op": "replace", "path": "/accessLevel", "value": {"accountLicenseType": "express", "licensingSource": "account"}},
                {"op": "remove", "path": format!("/projectEntitlements/{PAYMENTS_ID}")},
                {"op": "add", "path": "/projectEntitlements", "value": {"projectRef": {"id": STOREFRONT_ID}, "group": {"groupType": "projectReader"}}},
            ]))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(patched["isSuccess"], true, "{patched}");
    assert_eq!(patched["operationResults"][0]["isSuccess"], true);
    assert_eq!(
        patched["userEntitlement"]["accessLevel"]["licenseDisplayName"],
        "Basic"
    );
    assert!(!in_project_group(
        &h,
        "alex.wilber@contoso.com",
        "Payments",
        "Contributors"
    ));
    assert!(in_project_group(
        &h,
        "alex.wilber@contoso.com",
        "Storefront",
        "Readers"
    ));

    // Adding again is a failure in a 200.
    let again = add_user(&h, "alex.wilber@contoso.com", "express", json!([])).await;
    assert_eq!(again["isSuccess"], false);
    assert_eq!(first_error(&again, "operationResult").0, 5102);

    // Delete: gone from the organization.
    let response = h
        .vsaex_request(
            Method::DELETE,
            &format!("_apis/userentitlements/{id}"),
            OPERATOR,
            V,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    vss_error(
        h.vsaex_request(
            Method::GET,
            &format!("_apis/userentitlements/{id}"),
            OPERATOR,
            V,
        )
        .send()
        .await
        .unwrap(),
        404,
        "MemberNotFoundException",
    )
    .await;
    assert!(!in_project_group(
        &h,
        "alex.wilber@contoso.com",
        "Storefront",
        "Readers"
    ));
}

#[tokio::test]
async fn failures_are_200_with_is_success_false_and_change_nothing() {
    let h = harness(&[("express", 1)], 0).await;
    let unknown = add_user(&h, "nobody@contoso.com", "express", json!([])).await;
    assert_eq!(unknown["isSuccess"], false);
    assert!(unknown["userEntitlement"].is_null());
    assert_eq!(first_error(&unknown, "operationResult").0, 5000);

    let bad_project = add_user(
        &h,
        "lee.gu@contoso.com",
        "stakeholder",
        json!([{"group": {"groupType": "projectContributor"}, "projectRef": {"id": "00000000-0000-0000-0000-000000000001"}}]),
    )
    .await;
    assert_eq!(first_error(&bad_project, "operationResult").0, 5005);

    let first = add_user(&h, "lee.gu@contoso.com", "express", json!([])).await;
    assert_eq!(first["isSuccess"], true, "{first}");
    let second = add_user(
        &h,
        "megan.bowen@contoso.com",
        "express",
        json!([{"group": {"groupType": "projectReader"}, "projectRef": {"id": STOREFRONT_ID}}]),
    )
    .await;
    assert_eq!(second["isSuccess"], false);
    let (code, message) = first_error(&second, "operationResult");
    assert_eq!(code, 5032);
    assert!(message.contains("Basic"), "{message}");
    assert!(!in_project_group(
        &h,
        "megan.bowen@contoso.com",
        "Storefront",
        "Readers"
    ));

    // Stakeholder is unlimited; the summary counts what is assigned.
    let third = add_user(&h, "megan.bowen@contoso.com", "stakeholder", json!([])).await;
    assert_eq!(third["isSuccess"], true);
    let summary = json(
        h.vsaex_request(Method::GET, "_apis/userentitlementsummary", OPERATOR, V)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let express = summary["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["accountLicenseType"] == "express")
        .unwrap();
    assert_eq!(express["assigned"], 1);
    assert_eq!(express["available"], 0);
    assert_eq!(express["total"], 1);

    // A PATCH past the limit fails the same way, in operationResults.
    let id = third["operationResult"]["userId"].as_str().unwrap();
    let patched = json(
        h.vsaex_request(Method::PATCH, &format!("_apis/userentitlements/{id}"), OPERATOR, V)
            .json(&json!([{"op": "replace", "path": "/accessLevel", "value": {"accountLicenseType": "express"}}]))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(patched["isSuccess"], false);
    assert_eq!(patched["operationResults"][0]["errors"][0]["key"], 5032);

    // Reading needs no write rights; writing needs organization rights.
    let denied = h
        .vsaex_request(Method::POST, "_apis/userentitlements", STOREFRONT_ONLY, V)
        .json(&json!({"accessLevel": {"accountLicenseType": "stakeholder"}, "user": {"principalName": "lee.gu@contoso.com"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
}

#[tokio::test]
async fn service_principals_by_object_id_not_app_id() {
    let h = harness(&[], 0).await;
    let (object_id, app_id) = directory_sp(&h, "deploy-bot");
    let post = |origin_id: String| {
        h.vsaex_request(
            Method::POST,
            "_apis/serviceprincipalentitlements",
            OPERATOR,
            SP_PREVIEW,
        )
        .json(&json!({
            "accessLevel": {"accountLicenseType": "express"},
            "servicePrincipal": {"origin": "aad", "originId": origin_id, "subjectKind": "servicePrincipal"},
        }))
        .send()
    };
    let by_app = json(post(app_id).await.unwrap(), 200).await;
    assert_eq!(by_app["isSuccess"], false);
    assert_eq!(first_error(&by_app, "operationResult").0, 5000);
    let body = json(post(object_id.clone()).await.unwrap(), 200).await;
    assert_eq!(body["isSuccess"], true, "{body}");
    let id = body["operationResult"]["servicePrincipalId"]
        .as_str()
        .unwrap();
    let read = json(
        h.vsaex_request(
            Method::GET,
            &format!("_apis/serviceprincipalentitlements/{id}"),
            OPERATOR,
            SP_PREVIEW,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(read["servicePrincipal"]["originId"], object_id.as_str());
    assert_eq!(read["accessLevel"]["accountLicenseType"], "express");
    // Preview only: the released version is refused.
    let released = h
        .vsaex_request(
            Method::GET,
            &format!("_apis/serviceprincipalentitlements/{id}"),
            OPERATOR,
            V,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(released.status(), 400);
}

async fn operation_status(h: &Harness, url: &str) -> Value {
    json(
        h.client
            .get(url)
            .bearer_auth(h.token(OPERATOR))
            .query(&[("api-version", "7.1-preview.1")])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

async fn until_done(h: &Harness, url: &str) -> Value {
    for _ in 0..100 {
        let op = operation_status(h, url).await;
        if op["status"] == "succeeded" || op["status"] == "failed" {
            return op;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("operation {url} never finished");
}

#[tokio::test]
async fn group_rules_apply_asynchronously_to_members_and_project_groups() {
    let h = harness(&[], 400).await;
    let group = directory_group(&h, "Contractors");
    let created = json(
        h.vsaex_request(Method::POST, "_apis/groupentitlements", OPERATOR, V)
            .json(&json!({
                "group": {"origin": "aad", "originId": group, "subjectKind": "group"},
                "licenseRule": {"licensingSource": "account", "accountLicenseType": "express"},
                "projectEntitlements": [{"group": {"groupType": "projectContributor"}, "projectRef": {"id": PAYMENTS_ID}}],
            }))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(created["status"], "queued", "{created}");
    assert_eq!(created["completed"], false);
    assert_eq!(created["results"][0]["isSuccess"], true);
    let group_id = created["results"][0]["groupId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(created["results"][0]["result"]["status"], "applyPending");
    let url = created["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&h.sim.vsaex_url()), "{url}");

    // Pending: in progress, nothing applied yet.
    let pending = operation_status(&h, &url).await;
    assert_eq!(pending["status"], "inProgress");
    assert!(!in_project_group(&h, &group, "Payments", "Contributors"));

    let done = until_done(&h, &url).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let rule = json(
        h.vsaex_request(
            Method::GET,
            &format!("_apis/groupentitlements/{group_id}"),
            OPERATOR,
            V,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(rule["status"], "applied");
    assert_eq!(rule["licenseRule"]["accountLicenseType"], "express");
    assert_eq!(rule["members"].as_array().unwrap().len(), 3, "{rule}");
    assert!(in_project_group(&h, &group, "Payments", "Contributors"));

    // A member's entitlement says where it comes from.
    let member = &rule["members"][0];
    assert_eq!(member["accessLevel"]["assignmentSource"], "groupRule");
    assert_eq!(member["groupAssignments"][0]["id"], group_id.as_str());

    // Listing shows it; deleting removes it (members lose the level it gave).
    let list = json(
        h.vsaex_request(Method::GET, "_apis/groupentitlements", OPERATOR, V)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["count"], 1);
    let member_id = member["id"].as_str().unwrap().to_string();
    let deleted = json(
        h.vsaex_request(
            Method::DELETE,
            &format!("_apis/groupentitlements/{group_id}"),
            OPERATOR,
            V,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(deleted["results"][0]["isSuccess"], true);
    vss_error(
        h.vsaex_request(
            Method::GET,
            &format!("_apis/userentitlements/{member_id}"),
            OPERATOR,
            V,
        )
        .send()
        .await
        .unwrap(),
        404,
        "MemberNotFoundException",
    )
    .await;
}

#[tokio::test]
async fn a_licence_shortage_leaves_the_rule_unable_to_apply() {
    let h = harness(&[("advanced", 2)], 0).await;
    let group = directory_group(&h, "QA Team");
    let created = json(
        h.vsaex_request(Method::POST, "_apis/groupentitlements", OPERATOR, V)
            .json(&json!({
                "group": {"origin": "aad", "originId": group},
                "licenseRule": {"accountLicenseType": "advanced"},
            }))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let url = created["url"].as_str().unwrap().to_string();
    let done = until_done(&h, &url).await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["resultMessage"].as_str().unwrap().contains("1 of 3"),
        "{done}"
    );
    let group_id = created["results"][0]["groupId"].as_str().unwrap();
    let rule = json(
        h.vsaex_request(
            Method::GET,
            &format!("_apis/groupentitlements/{group_id}"),
            OPERATOR,
            V,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(rule["status"], "unableToApply");
    assert!(rule["licenseRule"]["statusMessage"]
        .as_str()
        .unwrap()
        .contains("VS403283"));
    assert_eq!(rule["members"].as_array().unwrap().len(), 2);

    // Updating the rule to an unlimited level applies it to everyone.
    let updated = json(
        h.vsaex_request(Method::PATCH, &format!("_apis/groupentitlements/{group_id}"), OPERATOR, V)
            .json(&json!([{"op": "replace", "path": "/licenseRule", "value": {"accountLicenseType": "stakeholder"}}]))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let done = until_done(&h, updated["url"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded");

    // A second rule on the same group is refused in the result; an unknown group too.
    let again = json(
        h.vsaex_request(Method::POST, "_apis/groupentitlements", OPERATOR, V)
            .json(&json!({"group": {"origin": "aad", "originId": group}, "licenseRule": {"accountLicenseType": "stakeholder"}}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(again["results"][0]["isSuccess"], false);
    assert_eq!(again["results"][0]["errors"][0]["key"], 5102);
    assert_eq!(again["haveResultsSucceeded"], false);
    let unknown = json(
        h.vsaex_request(Method::POST, "_apis/groupentitlements", OPERATOR, V)
            .json(&json!({"group": {"origin": "aad", "originId": "00000000-0000-0000-0000-0000000000aa"}, "licenseRule": {"accountLicenseType": "stakeholder"}}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(unknown["results"][0]["errors"][0]["key"], 5000);
}

#[tokio::test]
async fn the_entitlement_area_is_discovered_on_its_own_host() {
    let h = harness(&[], 0).await;
    let area = json(
        h.core_request(
            Method::GET,
            "_apis/resourceAreas/68ddce18-2501-45f1-a17b-7931a9922690",
            OPERATOR,
            "7.1-preview.1",
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(area["locationUrl"], format!("{}/{ORG}/", h.sim.vsaex_url()));
    // The dev host does not serve it.
    let response = h
        .client
        .get(h.core("_apis/userentitlements"))
        .bearer_auth(h.token(OPERATOR))
        .query(&[("api-version", V)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// The entitlement answers use the published models' field names and types. One difference
/// is kept on purpose: the spec types `EntitlementOperationResultBase.result` as a string,
/// while its own examples (and the official SDKs) carry the entitlement object there.
#[tokio::test]
async fn entitlement_models_follow_the_published_spec() {
    use crate::spec_models::check;
    let h = harness(&[], 0).await;
    let mut problems = std::collections::BTreeSet::new();
    let mut post = add_user(
        &h,
        "lee.gu@contoso.com",
        "express",
        json!([{"group": {"groupType": "projectReader"}, "projectRef": {"id": PAYMENTS_ID}}]),
    )
    .await;
    let entitlement = post["userEntitlement"].clone();
    check("UserEntitlement", &entitlement, &mut problems);
    check("AccessLevel", &entitlement["accessLevel"], &mut problems);
    check(
        "ProjectEntitlement",
        &entitlement["projectEntitlements"][0],
        &mut problems,
    );
    post["operationResult"]["result"] = Value::Null;
    check(
        "UserEntitlementOperationResult",
        &post["operationResult"],
        &mut problems,
    );
    check("UserEntitlementsPostResponse", &post, &mut problems);

    let group = directory_group(&h, "Release Managers");
    let mut reference = json(
        h.vsaex_request(Method::POST, "_apis/groupentitlements", OPERATOR, V)
            .json(&json!({"group": {"origin": "aad", "originId": group}, "licenseRule": {"accountLicenseType": "stakeholder"}}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let rule = reference["results"][0]["result"].clone();
    check("GroupEntitlement", &rule, &mut problems);
    check("AccessLevel", &rule["licenseRule"], &mut problems);
    check(
        "GroupOperationResult",
        &reference["results"][0],
        &mut problems,
    );
    reference["results"] = json!([]);
    check(
        "GroupEntitlementOperationReference",
        &reference,
        &mut problems,
    );

    let search = json(
        h.vsaex_request(Method::GET, "_apis/userentitlements", OPERATOR, V)
            .query(&[("$filter", "name eq 'lee.gu'")])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(search["items"].as_array().unwrap().len(), 1, "{search}");
    check("PagedUserEntitlementsList", &search, &mut problems);
    let summary = json(
        h.vsaex_request(Method::GET, "_apis/userentitlementsummary", OPERATOR, V)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    check("UsersSummary", &summary, &mut problems);
    check("LicenseSummaryData", &summary["licenses"][0], &mut problems);
    assert!(
        problems.is_empty(),
        "fields that differ from the published models:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}
