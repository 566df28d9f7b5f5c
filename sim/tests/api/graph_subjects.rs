//! Graph descriptors, storage keys, users, service principals, subject query and lookup.

use reqwest::Method;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn project_scope_descriptor_and_storage_keys() {
    let h = Harness::start().await;
    let scope = h.scope_descriptor(STOREFRONT_ID).await;
    assert!(scope.starts_with("scp."));
    let key = json(
        h.graph_request(Method::GET, &format!("storagekeys/{scope}"), OPERATOR)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(key["value"], STOREFRONT_ID);

    let group = h.group_descriptor("[Storefront]\\Contributors").await;
    let group_key = json(
        h.graph_request(Method::GET, &format!("storagekeys/{group}"), OPERATOR)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let group_key = group_key["value"].as_str().unwrap().to_string();
    let (_, decoded) = azdo_sim::ids::decode_descriptor(&group).unwrap();
    assert_ne!(
        group_key, decoded,
        "storage keys are not derived from descriptors"
    );
    let back = json(
        h.graph_request(Method::GET, &format!("descriptors/{group_key}"), OPERATOR)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(back["value"], group.as_str());
}

#[tokio::test]
async fn users_materialize_by_principal_name_origin_id_and_mail() {
    let h = Harness::start().await;
    let created = h
        .graph_request(Method::POST, "users", OPERATOR)
        .json(&json!({"principalName": "zara.ahmed@contoso.com"}))
        .send()
        .await
        .unwrap();
    assert!(created.headers().get("location").is_some());
    let user = json(created, 201).await;
    assert_eq!(user["subjectKind"], "user");
    assert_eq!(user["origin"], "aad");
    assert_eq!(user["principalName"], "zara.ahmed@contoso.com");
    assert_eq!(user["mailAddress"], "zara.ahmed@contoso.com");
    assert_eq!(user["domain"], TENANT);
    let descriptor = user["descriptor"].as_str().unwrap().to_string();
    assert!(descriptor.starts_with("aad."));
    let origin_id = user["originId"].as_str().unwrap().to_string();

    let again = json(
        h.graph_request(Method::POST, "users", OPERATOR)
            .json(&json!({"originId": origin_id}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(again["descriptor"], descriptor.as_str());
    let by_mail = json(
        h.graph_request(Method::POST, "users", OPERATOR)
            .json(&json!({"mailAddress": "ZARA.AHMED@contoso.com"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(by_mail["descriptor"], descriptor.as_str());

    let got = json(
        h.graph_request(Method::GET, &format!("users/{descriptor}"), OPERATOR)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(got["displayName"], "Zara Ahmed");

    let unknown = h
        .graph_request(Method::POST, "users", OPERATOR)
        .json(&json!({"principalName": "nobody@contoso.com"}))
        .send()
        .await
        .unwrap();
    vss_error(unknown, 404, "IdentityNotFoundException").await;

    let list = json(
        h.graph_request(Method::GET, "users", OPERATOR)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(list["value"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["subjectKind"] == "user"));
}

#[tokio::test]
async fn service_principals_materialize_by_origin_id() {
    let h = Harness::start().await;
    let backup = h
        .sim
        .control()
        .state()
        .directory
        .service_principals
        .iter()
        .find(|p| p.display_name == "backup-agent")
        .cloned()
        .unwrap();
    let sp = json(
        h.graph_request(Method::POST, "serviceprincipals", OPERATOR)
            .json(&json!({"originId": backup.object_id}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(sp["subjectKind"], "servicePrincipal");
    assert_eq!(sp["applicationId"], backup.app_id.to_string());
    assert!(sp["descriptor"].as_str().unwrap().starts_with("aadsp."));
}

#[tokio::test]
async fn subject_query_is_a_prefix_search_within_a_scope() {
    let h = Harness::start().await;
    let scope = h.scope_descriptor(STOREFRONT_ID).await;
    let body = json(
        h.graph_request(Method::POST, "subjectquery", OPERATOR)
            .json(&json!({"query": "Rel", "subjectKind": ["Group"], "scopeDescriptor": scope}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let names: Vec<_> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["principalName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["[Storefront]\\Release Approvers".to_string()]);

    let no_infix = json(
        h.graph_request(Method::POST, "subjectquery", OPERATOR)
            .json(
                &json!({"query": "Approvers", "subjectKind": ["Group"], "scopeDescriptor": scope}),
            )
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(no_infix["count"], 0, "prefix match only");

    let users = json(
        h.graph_request(Method::POST, "subjectquery", OPERATOR)
            .json(&json!({"query": "a", "subjectKind": ["User"]}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let users = users["value"].as_array().unwrap();
    assert!(!users.is_empty() && users.len() <= 100);
    assert!(users.iter().all(|u| u["subjectKind"] == "user"));
}

#[tokio::test]
async fn subject_lookup_maps_descriptors_to_subjects() {
    let h = Harness::start().await;
    let a = h.group_descriptor("[Payments]\\Compliance").await;
    let b = h.group_descriptor("[contoso]\\Platform Admins").await;
    let body = json(
        h.graph_request(Method::POST, "subjectlookup", OPERATOR)
            .json(&json!({"lookupKeys": [{"descriptor": a}, {"descriptor": b}, {"descriptor": "vssgp.bm9uZQ"}]}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(body["count"], 2);
    assert_eq!(body["value"][&a]["displayName"], "Compliance");
    assert_eq!(body["value"][&b]["displayName"], "Platform Admins");
}

#[tokio::test]
async fn materializing_without_directory_read_is_a_503_with_a_plain_string() {
    let mut seed = azdo_sim::Seed::default_seed();
    seed.identities
        .iter_mut()
        .find(|i| i.name == STOREFRONT_ONLY)
        .unwrap()
        .directory_read = false;
    let options = azdo_sim::SimOptions {
        behaviours: Some(azdo_sim::Behaviours {
            directory_read_error_body: azdo_sim::DirectoryReadErrorBody::String,
            ..azdo_sim::Behaviours::default()
        }),
        ..azdo_sim::SimOptions::default()
    };
    let h = Harness::with_seed(seed, options).await;
    let contributors = h.group_descriptor("[Storefront]\\Contributors").await;
    let response = h
        .graph_request(Method::POST, "users", STOREFRONT_ONLY)
        .query(&[("groupDescriptors", contributors.as_str())])
        .json(&json!({"principalName": "lee.gu@contoso.com"}))
        .send()
        .await
        .unwrap();
    let body = json(response, 503).await;
    assert!(body.is_string(), "the body is a bare JSON string: {body}");
    // Azure DevOps groups need no directory access.
    let scope = h.scope_descriptor(STOREFRONT_ID).await;
    let group = h
        .graph_request(Method::POST, "groups", STOREFRONT_ONLY)
        .query(&[("scopeDescriptor", scope.as_str())])
        .json(&json!({"displayName": "Local Only"}))
        .send()
        .await
        .unwrap();
    assert_eq!(group.status(), 201);
}

/// Descriptors and storage keys are released resources (the SDKs' 7.0 clients call them with a
/// plain `7.0`); groups and the rest of Graph still need the preview flag.
#[tokio::test]
async fn descriptors_and_storage_keys_are_released() {
    let h = Harness::start().await;
    let token = h.token(OPERATOR);
    for version in ["7.0", "7.1"] {
        let descriptor = h
            .client
            .get(h.graph(&format!("descriptors/{STOREFRONT_ID}")))
            .bearer_auth(&token)
            .query(&[("api-version", version)])
            .send()
            .await
            .unwrap();
        let scope = json(descriptor, 200).await["value"]
            .as_str()
            .unwrap()
            .to_string();
        let key = h
            .client
            .get(h.graph(&format!("storagekeys/{scope}")))
            .bearer_auth(&token)
            .query(&[("api-version", version)])
            .send()
            .await
            .unwrap();
        assert_eq!(json(key, 200).await["value"], STOREFRONT_ID);
    }
    let groups = h
        .client
        .get(h.graph("groups"))
        .bearer_auth(&token)
        .query(&[("api-version", "7.0")])
        .send()
        .await
        .unwrap();
    vss_error(groups, 400, "VssInvalidPreviewVersionException").await;
}
