//! Check configurations over HTTP: preview-only, the published shapes (settings only with
//! `$expand=settings`), each check type's settings, validation errors that change nothing,
//! update and delete, the query by resources, access per project, and the state snapshot.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

const CHECKS: &str = "Storefront/_apis/pipelines/checks/configurations";
const APPROVAL: &str = "8c6f20a7-a545-4486-9777-f762fafe0d4d";
const TASK_CHECK: &str = "fe1de3ee-a436-41b4-bb20-f6eb4cb879a7";
const EXCLUSIVE_LOCK: &str = "2EF31AD6-BAA0-403A-8B45-2CBC9B4E5563";
const EXTENDS_CHECK: &str = "4020e66e-b0f3-47e1-bc88-48f3cc59b5f3";

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

fn production() -> Value {
    json!({"type": "environment", "id": "2", "name": "storefront-production"})
}

async fn post(h: &Harness, body: Value) -> reqwest::Response {
    h.core_request(Method::POST, CHECKS, OPERATOR, PREVIEW)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn on_production(h: &Harness, expand: &str) -> Value {
    json(
        h.core_request(Method::GET, CHECKS, OPERATOR, PREVIEW)
            .query(&[
                ("resourceType", "Environment"),
                ("resourceId", "2"),
                ("$expand", expand),
            ])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

#[tokio::test]
async fn preview_only_and_an_approval_answers_the_published_shape() {
    let h = Harness::start().await;
    vss_error(
        h.core_request(Method::GET, CHECKS, OPERATOR, "7.1")
            .send()
            .await
            .unwrap(),
        400,
        "VssInvalidPreviewVersionException",
    )
    .await;
    let sanjay = storage_key(&h, "sanjay.shah@contoso.com");
    let created = json(
        post(
            &h,
            json!({
                "type": {"id": APPROVAL, "name": "Approval"},
                "resource": production(),
                "timeout": 1440,
                "settings": {
                    "approvers": [{"displayName": null, "id": sanjay}],
                    "executionOrder": "anyOrder",
                    "minRequiredApprovers": 1,
                    "instructions": "Check the change record",
                    "blockedApprovers": [],
                    "requesterCannotBeApprover": true
                }
            }),
        )
        .await,
        200,
    )
    .await;
    let id = created["id"].as_u64().expect("an integer id");
    assert_eq!(created["type"], json!({"id": APPROVAL, "name": "Approval"}));
    assert_eq!(created["resource"], production());
    assert_eq!(created["timeout"], 1440);
    assert_eq!(created["settings"]["approvers"][0]["id"], sanjay.as_str());
    assert_eq!(created["settings"]["requesterCannotBeApprover"], true);
    assert!(created["createdBy"]["id"].is_string());
    assert!(created["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/_apis/pipelines/checks/configurations/{id}")));
    assert_eq!(created["_links"]["self"]["href"], created["url"]);

    let plain = on_production(&h, "none").await;
    assert_eq!(plain["count"], 1);
    assert!(
        plain["value"][0].get("settings").is_none(),
        "no settings without $expand"
    );
    let expanded = on_production(&h, "settings").await;
    assert_eq!(expanded["value"][0]["settings"], created["settings"]);
    // The Terraform provider sends $expand=1.
    assert_eq!(on_production(&h, "1").await, expanded);

    let one = json(
        h.core_request(Method::GET, &format!("{CHECKS}/{id}"), OPERATOR, PREVIEW)
            .query(&[("$expand", "settings")])
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(one, expanded["value"][0]);
}

#[tokio::test]
async fn each_check_type_takes_its_settings_and_bad_settings_change_nothing() {
    let h = Harness::start().await;
    let hours = json!({
        "type": {"id": TASK_CHECK, "name": "Task Check"},
        "resource": production(),
        "timeout": 43200,
        "settings": {
            "displayName": "Business Hours",
            "definitionRef": {"id": "445fde2f-6c39-441c-807f-8a59ff2e075f", "name": "evaluateBusinessHours", "version": "0.0.1"},
            "inputs": {"businessDays": "Monday,Tuesday,Wednesday,Thursday,Friday", "timeZone": "UTC", "startTime": "04:00", "endTime": "11:00"},
            "retryInterval": 5
        }
    });
    let branches = json!({
        "type": {"id": TASK_CHECK},
        "resource": production(),
        "settings": {
            "displayName": "Branch control",
            "definitionRef": {"id": "86b05a0c-73e6-4f7d-b3cf-e38f3b39a75b", "name": "evaluatebranchProtection", "version": "0.0.1"},
            "inputs": {"allowedBranches": "refs/heads/main", "ensureProtectionOfBranch": "true", "allowUnknownStatusBranch": "false"},
            "retryInterval": 10
        }
    });
    let lock = json!({"type": {"id": EXCLUSIVE_LOCK, "name": "ExclusiveLock"}, "resource": production(), "settings": {}, "timeout": 60});
    let template = json!({
        "type": {"id": EXTENDS_CHECK},
        "resource": production(),
        "settings": {"extendsChecks": [{"repositoryType": "git", "repositoryName": "Storefront/storefront", "repositoryRef": "refs/heads/main", "templatePath": "templates/deploy.yml"}]}
    });
    for body in [&hours, &branches, &lock, &template] {
        json(post(&h, body.clone()).await, 200).await;
    }
    let all = on_production(&h, "settings").await;
    assert_eq!(all["count"], 4);
    let names: Vec<&str> = all["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Task Check", "Task Check", "ExclusiveLock", "ExtendsCheck"]
    );
    assert_eq!(all["value"][0]["settings"]["inputs"]["endTime"], "11:00");
    assert_eq!(
        all["value"][1]["settings"]["definitionRef"]["name"],
        "evaluatebranchProtection"
    );
    assert_eq!(all["value"][1]["timeout"], 43200, "the default timeout");
    assert_eq!(all["value"][2]["settings"], json!({}));
    assert_eq!(
        all["value"][3]["settings"]["extendsChecks"][0]["templatePath"],
        "templates/deploy.yml"
    );

    let mut bad_hours = hours.clone();
    bad_hours["settings"]["inputs"]["endTime"] = json!("03:00");
    let mut no_approvers =
        json!({"type": {"id": APPROVAL}, "resource": production(), "settings": {"approvers": []}});
    let mut unknown_approver = no_approvers.clone();
    unknown_approver["settings"]["approvers"] =
        json!([{"id": "00000000-0000-0000-0000-0000000000aa"}]);
    let mut bad_timeout = lock.clone();
    bad_timeout["timeout"] = json!(50000);
    let mut bad_type = lock.clone();
    bad_type["type"]["id"] = json!("11111111-2222-3333-4444-555555555555");
    let mut pool = lock.clone();
    pool["resource"] = json!({"type": "agentpool", "id": "1"});
    no_approvers["timeout"] = json!(10);
    for body in [
        bad_hours,
        no_approvers,
        unknown_approver,
        bad_timeout,
        bad_type,
        pool,
    ] {
        vss_error(
            post(&h, body).await,
            400,
            "InvalidCheckConfigurationException",
        )
        .await;
    }
    let mut missing = lock.clone();
    missing["resource"]["id"] = json!("99");
    vss_error(post(&h, missing).await, 404, "ResourceNotFoundException").await;
    assert_eq!(on_production(&h, "none").await["count"], 4, "nothing added");
}

#[tokio::test]
async fn update_replaces_settings_and_delete_removes() {
    let h = Harness::start().await;
    let body = json!({
        "type": {"id": TASK_CHECK},
        "resource": {"type": "queue", "id": "31"},
        "settings": {
            "definitionRef": {"id": "445fde2f-6c39-441c-807f-8a59ff2e075f"},
            "inputs": {"businessDays": "Monday", "timeZone": "UTC", "startTime": "04:00", "endTime": "11:00"}
        }
    });
    let created = json(post(&h, body.clone()).await, 200).await;
    let id = created["id"].as_u64().unwrap();
    assert_eq!(created["resource"]["name"], "Default");
    let path = format!("{CHECKS}/{id}");
    let mut changed = body.clone();
    changed["settings"]["inputs"]["endTime"] = json!("12:00");
    changed["timeout"] = json!(120);
    let updated = json(
        h.core_request(Method::PATCH, &path, OPERATOR, PREVIEW)
            .json(&changed)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(updated["id"], id);
    assert_eq!(updated["timeout"], 120);
    assert_eq!(updated["settings"]["inputs"]["endTime"], "12:00");
    assert_eq!(updated["createdOn"], created["createdOn"]);

    let mut moved = changed.clone();
    moved["resource"] = production();
    vss_error(
        h.core_request(Method::PATCH, &path, OPERATOR, PREVIEW)
            .json(&moved)
            .send()
            .await
            .unwrap(),
        400,
        "InvalidCheckConfigurationException",
    )
    .await;

    // The query by resources finds it (the spec's queryconfigurations).
    let queried = json(
        h.core_request(
            Method::POST,
            "Storefront/_apis/pipelines/checks/queryconfigurations",
            OPERATOR,
            PREVIEW,
        )
        .query(&[("$expand", "settings")])
        .json(&json!([{"type": "queue", "id": "31"}, {"type": "environment", "id": "2"}]))
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(queried["count"], 1);
    assert_eq!(
        queried["value"][0]["settings"]["inputs"]["endTime"],
        "12:00"
    );

    // In the simulator's state snapshot.
    let snapshot = h
        .sim
        .control()
        .with_state(|s| serde_json::to_value(s).unwrap());
    let storefront = snapshot["organizations"][0]["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Storefront")
        .cloned()
        .unwrap();
    assert_eq!(storefront["checks"][0]["id"], id);
    assert_eq!(storefront["checks"][0]["timeout"], 120);

    let deleted = h
        .core_request(Method::DELETE, &path, OPERATOR, PREVIEW)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    vss_error(
        h.core_request(Method::GET, &path, OPERATOR, PREVIEW)
            .send()
            .await
            .unwrap(),
        404,
        "CheckConfigurationNotFoundException",
    )
    .await;
    vss_error(
        h.core_request(Method::DELETE, &path, OPERATOR, PREVIEW)
            .send()
            .await
            .unwrap(),
        404,
        "CheckConfigurationNotFoundException",
    )
    .await;
    // Ids are not reused.
    let again = json(post(&h, body).await, 200).await;
    assert!(again["id"].as_u64().unwrap() > id);
}

#[tokio::test]
async fn access_follows_the_callers_projects_and_read_only_flag() {
    let h = Harness::start().await;
    let lock =
        json!({"type": {"id": EXCLUSIVE_LOCK}, "resource": {"type": "environment", "id": "7"}});
    vss_error(
        h.core_request(
            Method::POST,
            "Payments/_apis/pipelines/checks/configurations",
            STOREFRONT_ONLY,
            PREVIEW,
        )
        .json(&lock)
        .send()
        .await
        .unwrap(),
        403,
        "InvalidAccessException",
    )
    .await;
    vss_error(
        h.core_request(Method::POST, CHECKS, AUDITOR, PREVIEW)
            .json(&json!({"type": {"id": EXCLUSIVE_LOCK}, "resource": production()}))
            .send()
            .await
            .unwrap(),
        403,
        "InvalidAccessException",
    )
    .await;
    json(
        h.core_request(Method::GET, CHECKS, AUDITOR, PREVIEW)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
}

/// A lost answer (`loseAnswers`): the create is carried out, the client gets no answer, and
/// the next matching request is answered again.
#[tokio::test]
async fn a_create_whose_answer_is_lost_still_lands() {
    let h = Harness::start().await;
    let control = h.sim.control();
    control.set_faults(azdo_sim::Faults {
        lose_answers: vec![azdo_sim::LostAnswer {
            method: "POST".into(),
            path_contains: "/pipelines/checks/configurations".into(),
            times: 1,
            ..Default::default()
        }],
        ..azdo_sim::Faults::default()
    });
    let lock = json!({"type": {"id": EXCLUSIVE_LOCK}, "resource": production(), "timeout": 60});
    let lost = h
        .core_request(Method::POST, CHECKS, OPERATOR, PREVIEW)
        .json(&lock)
        .send()
        .await;
    assert!(lost.is_err(), "no answer reaches the client: {lost:?}");
    let listed = on_production(&h, "none").await;
    assert_eq!(listed["count"], 1, "the create landed: {listed}");
    let logged = control.requests();
    assert!(
        logged
            .requests
            .iter()
            .any(|r| r.method == "POST" && r.status == 200),
        "logged with the status it would have answered"
    );
    let answered = post(&h, lock).await;
    assert_eq!(answered.status(), 200, "the entry is spent");
    assert_eq!(on_production(&h, "none").await["count"], 2);
}
