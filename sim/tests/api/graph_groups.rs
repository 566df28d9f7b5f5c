//! Graph groups: paging, get, create and materialize, duplicates, JSON Patch, delete.

use azdo_sim::{Behaviours, DuplicateGroupCreate, SimOptions};
use reqwest::Method;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn listing_pages_with_continuation_tokens_including_empty_pages() {
    let h = Harness::start().await;
    let scope = h.scope_descriptor(PAYMENTS_ID).await;
    let mut token: Option<String> = None;
    let mut pages = 0;
    let mut empty_pages_with_token = 0;
    let mut names = Vec::new();
    loop {
        let mut request = h
            .graph_request(Method::GET, "groups", OPERATOR)
            .query(&[("scopeDescriptor", scope.as_str())]);
        if let Some(t) = &token {
            request = request.query(&[("continuationToken", t.as_str())]);
        }
        let response = request.send().await.unwrap();
        token = response
            .headers()
            .get("x-ms-continuationtoken")
            .map(|v| v.to_str().unwrap().to_string());
        let body = json(response, 200).await;
        let values = body["value"].as_array().unwrap();
        assert_eq!(body["count"], values.len());
        assert!(values.len() <= 5, "page size is 5 in the default seed");
        if values.is_empty() && token.is_some() {
            empty_pages_with_token += 1;
        }
        for group in values {
            assert_eq!(
                group["domain"],
                format!("vstfs:///Classification/TeamProject/{PAYMENTS_ID}")
            );
            names.push(group["principalName"].as_str().unwrap().to_string());
        }
        pages += 1;
        if token.is_none() {
            break;
        }
    }
    assert!(pages > 3);
    assert!(
        empty_pages_with_token >= 1,
        "the scope filter leaves empty pages that still carry a token"
    );
    for expected in [
        "[Payments]\\Project Administrators",
        "[Payments]\\Contributors",
        "[Payments]\\Readers",
        "[Payments]\\Build Administrators",
        "[Payments]\\Project Valid Users",
        "[Payments]\\Compliance",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
}

#[tokio::test]
async fn group_shape_and_get() {
    let h = Harness::start().await;
    let groups = h.all_groups(None).await;
    let pca = groups
        .iter()
        .find(|g| g["displayName"] == "Project Collection Administrators")
        .expect("organization group listed");
    assert_eq!(
        pca["principalName"],
        "[contoso]\\Project Collection Administrators"
    );
    assert_eq!(pca["subjectKind"], "group");
    assert_eq!(pca["origin"], "vsts");
    let descriptor = pca["descriptor"].as_str().unwrap();
    assert!(
        descriptor.starts_with("vssgp.Uy0xLTktMTU1MTM3NDI0NS0"),
        "{descriptor}"
    );
    assert!(pca["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/_apis/Graph/Groups/{descriptor}")));
    for link in ["self", "memberships", "membershipState", "storageKey"] {
        assert!(pca["_links"][link]["href"].is_string(), "{link}");
    }
    let entra = groups
        .iter()
        .find(|g| g["displayName"] == "Platform Engineers")
        .expect("materialized Entra group");
    assert_eq!(
        entra["principalName"],
        "[TEAM FOUNDATION]\\Platform Engineers"
    );
    assert_eq!(entra["origin"], "aad");
    assert!(entra["descriptor"].as_str().unwrap().starts_with("aadgp."));

    let got = json(
        h.graph_request(Method::GET, &format!("groups/{descriptor}"), OPERATOR)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(&got, pca);
    let missing = h
        .graph_request(Method::GET, "groups/vssgp.bm90LWEtZ3JvdXA", OPERATOR)
        .send()
        .await
        .unwrap();
    vss_error(missing, 404, "GraphSubjectNotFoundException").await;
}

#[tokio::test]
async fn create_project_group_returns_201_with_location_and_joins_parents() {
    let h = Harness::start().await;
    let scope = h.scope_descriptor(STOREFRONT_ID).await;
    let contributors = h.group_descriptor("[Storefront]\\Contributors").await;
    let response = h
        .graph_request(Method::POST, "groups", OPERATOR)
        .query(&[
            ("scopeDescriptor", scope.as_str()),
            ("groupDescriptors", contributors.as_str()),
        ])
        .json(&json!({"displayName": "Checkout Team", "description": "Owns checkout"}))
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let group = json(response, 201).await;
    assert_eq!(group["principalName"], "[Storefront]\\Checkout Team");
    assert_eq!(group["description"], "Owns checkout");
    assert_eq!(group["url"], location.as_str());
    let descriptor = group["descriptor"].as_str().unwrap();
    let head = h
        .client
        .head(h.graph(&format!("memberships/{descriptor}/{contributors}")))
        .bearer_auth(h.token(OPERATOR))
        .query(&[("api-version", PREVIEW)])
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let listed = h.all_groups(Some(&scope)).await;
    assert!(listed.iter().any(|g| g["descriptor"] == descriptor));
}

#[tokio::test]
async fn duplicate_create_conflicts_by_default() {
    let h = Harness::start().await;
    let scope = h.scope_descriptor(STOREFRONT_ID).await;
    let response = h
        .graph_request(Method::POST, "groups", OPERATOR)
        .query(&[("scopeDescriptor", scope.as_str())])
        .json(&json!({"displayName": "release approvers"}))
        .send()
        .await
        .unwrap();
    let body = vss_error(response, 409, "GroupCreationException").await;
    assert!(body["message"].as_str().unwrap().starts_with(
        "TF50624: A group named release approvers already exists in scope Storefront"
    ));
}

#[tokio::test]
async fn duplicate_create_can_return_the_existing_group() {
    let h = Harness::with(SimOptions {
        behaviours: Some(Behaviours {
            duplicate_group_create: DuplicateGroupCreate::ReturnExisting,
            ..Behaviours::default()
        }),
        ..SimOptions::default()
    })
    .await;
    let existing = h.group_descriptor("[Storefront]\\Release Approvers").await;
    let scope = h.scope_descriptor(STOREFRONT_ID).await;
    let response = h
        .graph_request(Method::POST, "groups", OPERATOR)
        .query(&[("scopeDescriptor", scope.as_str())])
        .json(&json!({"displayName": "Release Approvers"}))
        .send()
        .await
        .unwrap();
    let body = json(response, 201).await;
    assert_eq!(body["descriptor"], existing.as_str());
}

#[tokio::test]
async fn materialize_entra_group_by_origin_id_and_mail() {
    let h = Harness::start().await;
    let directory = h.sim.control().state().directory;
    let release = directory
        .groups
        .iter()
        .find(|g| g.display_name == "Release Managers")
        .unwrap();
    let by_id = json(
        h.graph_request(Method::POST, "groups", OPERATOR)
            .json(&json!({"originId": release.object_id}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(by_id["origin"], "aad");
    assert_eq!(by_id["originId"], release.object_id.to_string());
    assert_eq!(
        by_id["principalName"],
        "[TEAM FOUNDATION]\\Release Managers"
    );
    assert!(by_id["descriptor"].as_str().unwrap().starts_with("aadgp."));
    let by_mail = json(
        h.graph_request(Method::POST, "groups", OPERATOR)
            .json(&json!({"mailAddress": "release-managers@contoso.com"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(by_mail["descriptor"], by_id["descriptor"]);

    let scope = h.scope_descriptor(STOREFRONT_ID).await;
    let scoped = h
        .graph_request(Method::POST, "groups", OPERATOR)
        .query(&[("scopeDescriptor", scope.as_str())])
        .json(&json!({"originId": release.object_id}))
        .send()
        .await
        .unwrap();
    vss_error(scoped, 400, "GraphBadRequestException").await;
}

#[tokio::test]
async fn update_requires_json_patch_content_type() {
    let h = Harness::start().await;
    let descriptor = h.group_descriptor("[Storefront]\\Frontend").await;
    let patch = json!([
        {"op": "replace", "path": "/description", "value": "Web UI"},
        {"op": "replace", "path": "/displayName", "value": "Frontend Guild"}
    ]);
    let wrong = h
        .graph_request(Method::PATCH, &format!("groups/{descriptor}"), OPERATOR)
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 415);
    let right = h
        .graph_request(Method::PATCH, &format!("groups/{descriptor}"), OPERATOR)
        .header("content-type", "application/json-patch+json")
        .body(patch.to_string())
        .send()
        .await
        .unwrap();
    let body = json(right, 200).await;
    assert_eq!(body["displayName"], "Frontend Guild");
    assert_eq!(body["principalName"], "[Storefront]\\Frontend Guild");
    assert_eq!(body["description"], "Web UI");
    let other_path = h
        .graph_request(Method::PATCH, &format!("groups/{descriptor}"), OPERATOR)
        .header("content-type", "application/json-patch+json")
        .body(json!([{"op": "replace", "path": "/mailAddress", "value": "x@y"}]).to_string())
        .send()
        .await
        .unwrap();
    vss_error(other_path, 400, "GraphBadRequestException").await;
}

#[tokio::test]
async fn delete_returns_204_and_get_still_returns_the_deleted_group() {
    let h = Harness::start().await;
    let descriptor = h.group_descriptor("[contoso]\\Auditors").await;
    let deleted = h
        .graph_request(Method::DELETE, &format!("groups/{descriptor}"), OPERATOR)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let got = json(
        h.graph_request(Method::GET, &format!("groups/{descriptor}"), OPERATOR)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(got["isDeleted"], true);
    let listed = h.all_groups(None).await;
    assert!(!listed
        .iter()
        .any(|g| g["descriptor"] == descriptor.as_str()));
    let built_in = h.group_descriptor("[Storefront]\\Readers").await;
    let refused = h
        .graph_request(Method::DELETE, &format!("groups/{built_in}"), OPERATOR)
        .send()
        .await
        .unwrap();
    vss_error(refused, 400, "RemoveSpecialGroupException").await;
}
