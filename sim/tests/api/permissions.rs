//! Pipeline permissions: GET and PATCH per resource, batch PATCH, types and id formats.

use std::time::Duration;

use azdo_sim::{Faults, SimOptions};
use reqwest::Method;
use serde_json::json;

use crate::support::*;

const BASE: &str = "Storefront/_apis/pipelines/pipelinepermissions";

fn authorized_ids(body: &serde_json::Value) -> Vec<u64> {
    body["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["authorized"] == true)
        .map(|p| p["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn get_shows_seeded_state_and_patch_merges() {
    let h = Harness::start().await;
    let before = json(
        h.core_request(Method::GET, &format!("{BASE}/queue/31"), OPERATOR, PREVIEW)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(before["resource"]["type"], "queue");
    assert_eq!(before["resource"]["id"], "31");
    assert_eq!(authorized_ids(&before), vec![16, 17]);
    assert!(before["pipelines"][0]["authorizedBy"]["displayName"].is_string());

    let patched = json(
        h.core_request(Method::PATCH, &format!("{BASE}/Queue/31"), OPERATOR, PREVIEW)
            .json(&json!({"resource": {"type": "queue", "id": "31"}, "pipelines": [{"id": 18, "authorized": true}]}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(authorized_ids(&patched), vec![16, 17, 18]);
    let new_entry = &patched["pipelines"][2];
    assert_eq!(new_entry["authorizedBy"]["displayName"], "azdo-operator");
    assert!(new_entry["authorizedOn"].is_string());

    let revoked = json(
        h.core_request(
            Method::PATCH,
            &format!("{BASE}/queue/31"),
            OPERATOR,
            PREVIEW,
        )
        .json(&json!({"pipelines": [{"id": 16, "authorized": false}]}))
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(authorized_ids(&revoked), vec![17, 18]);

    let all = json(
        h.core_request(
            Method::PATCH,
            &format!("{BASE}/environment/1"),
            OPERATOR,
            PREVIEW,
        )
        .json(&json!({"allPipelines": {"authorized": true}}))
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(all["allPipelines"]["authorized"], true);
}

#[tokio::test]
async fn batch_patch_returns_every_resource() {
    let h = Harness::start().await;
    let repo_id = format!("{STOREFRONT_ID}.9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d");
    let body = json(
        h.core_request(Method::PATCH, BASE, OPERATOR, PREVIEW)
            .json(&json!([
                {"resource": {"type": "endpoint", "id": "4a3b2c1d-0e9f-4a8b-7c6d-5e4f3a2b1c0d", "name": "azure-prod"}, "pipelines": [{"id": 18, "authorized": true}]},
                {"resource": {"type": "repository", "id": repo_id}, "pipelines": [{"id": 16, "authorized": true}]},
                {"resource": {"type": "variablegroup", "id": "5"}, "pipelines": [{"id": 16, "authorized": true}]},
                {"resource": {"type": "securefile", "id": "0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b"}, "pipelines": [{"id": 18, "authorized": true}]},
                {"resource": {"type": "agentpool", "id": "12"}, "pipelines": [{"id": 16, "authorized": true}]}
            ]))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(body["count"], 5);
    assert_eq!(body["value"][1]["resource"]["id"], repo_id.as_str());
    assert_eq!(authorized_ids(&body["value"][0]), vec![18]);
    let read = json(
        h.core_request(
            Method::GET,
            &format!("{BASE}/repository/{repo_id}"),
            OPERATOR,
            PREVIEW,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(authorized_ids(&read), vec![16]);
}

#[tokio::test]
async fn id_formats_unknown_resources_and_versions_are_checked() {
    let h = Harness::start().await;
    let malformed = h
        .core_request(
            Method::GET,
            &format!("{BASE}/endpoint/31"),
            OPERATOR,
            PREVIEW,
        )
        .send()
        .await
        .unwrap();
    vss_error(malformed, 400, "ArgumentException").await;
    let bad_repo = h
        .core_request(
            Method::GET,
            &format!("{BASE}/repository/9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"),
            OPERATOR,
            PREVIEW,
        )
        .send()
        .await
        .unwrap();
    vss_error(bad_repo, 400, "ArgumentException").await;
    let unknown = h
        .core_request(Method::GET, &format!("{BASE}/queue/999"), OPERATOR, PREVIEW)
        .send()
        .await
        .unwrap();
    vss_error(unknown, 404, "ResourceNotFoundException").await;
    let other_project_queue = h
        .core_request(Method::GET, &format!("{BASE}/queue/51"), OPERATOR, PREVIEW)
        .send()
        .await
        .unwrap();
    vss_error(other_project_queue, 404, "ResourceNotFoundException").await;
    let bad_type = h
        .core_request(Method::GET, &format!("{BASE}/widget/1"), OPERATOR, PREVIEW)
        .send()
        .await
        .unwrap();
    vss_error(bad_type, 400, "ArgumentException").await;
    let released = h
        .core_request(Method::GET, &format!("{BASE}/queue/31"), OPERATOR, "7.1")
        .send()
        .await
        .unwrap();
    vss_error(released, 400, "VssInvalidPreviewVersionException").await;
}

#[tokio::test]
async fn new_authorizations_lag_for_readers() {
    let h = Harness::with(SimOptions {
        faults: Faults {
            consistency_lag_ms: 600,
            ..Faults::default()
        },
        ..SimOptions::default()
    })
    .await;
    let patched = json(
        h.core_request(
            Method::PATCH,
            &format!("{BASE}/environment/2"),
            OPERATOR,
            PREVIEW,
        )
        .json(&json!({"pipelines": [{"id": 18, "authorized": true}]}))
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        authorized_ids(&patched),
        vec![18],
        "the writer sees the merged state"
    );
    let read = |h: &Harness| {
        h.core_request(
            Method::GET,
            &format!("{BASE}/environment/2"),
            OPERATOR,
            PREVIEW,
        )
        .send()
    };
    let early = json(read(&h).await.unwrap(), 200).await;
    assert!(authorized_ids(&early).is_empty());
    tokio::time::sleep(Duration::from_millis(700)).await;
    let later = json(read(&h).await.unwrap(), 200).await;
    assert_eq!(authorized_ids(&later), vec![18]);
}
