//! Authentication (203 sign-in page vs 401), PATs, identities unknown to the organization,
//! per-identity permissions (403) and api-version rules.

use std::time::Duration;

use azdo_sim::SimOptions;
use base64::Engine;
use reqwest::Method;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn missing_or_bad_tokens_get_a_sign_in_page_unless_suppressed() {
    let h = Harness::start().await;
    let url = h.core("_apis/projects?api-version=7.1");
    let anonymous = h.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 203);
    assert!(anonymous.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(anonymous.text().await.unwrap().contains("Sign In"));

    let garbage = h
        .client
        .get(&url)
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 203);

    let suppressed = h
        .client
        .get(&url)
        .bearer_auth("not-a-token")
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .send()
        .await
        .unwrap();
    assert_eq!(suppressed.status(), 401);
    let challenge = suppressed.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer authorization_uri="),
        "{challenge}"
    );
    assert!(challenge.contains("Basic realm="), "{challenge}");
    // No wrapped exception: the SDKs map a bodiless 401 to their authentication error.
    assert!(suppressed.headers().get("content-type").is_none());
    assert_eq!(suppressed.text().await.unwrap(), "");
}

#[tokio::test]
async fn expired_tokens_are_rejected() {
    let h = Harness::with(SimOptions {
        access_token_lifetime: Duration::from_secs(1),
        ..SimOptions::default()
    })
    .await;
    let token = h.token(OPERATOR);
    let url = h.core("_apis/projects?api-version=7.1");
    let fresh = h.client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = h
        .client
        .get(&url)
        .bearer_auth(&token)
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .send()
        .await
        .unwrap();
    // Reads get the sign-in page even with redirects suppressed; writes a 401 TF400813.
    assert_eq!(expired.status(), 203);
    let write = h
        .client
        .patch(h.core("Storefront/_apis/pipelines/pipelinepermissions?api-version=7.1-preview.1"))
        .json(&serde_json::json!([]))
        .bearer_auth(&token)
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 401);
    assert!(write.text().await.unwrap().contains("TF400813"));
    // The older answer, a challenge like any unknown credential.
    h.sim.control().set_behaviours(azdo_sim::Behaviours {
        expired_token: azdo_sim::ExpiredToken::Challenge,
        ..azdo_sim::Behaviours::default()
    });
    let challenged = h
        .client
        .get(&url)
        .bearer_auth(&token)
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .send()
        .await
        .unwrap();
    assert_eq!(challenged.status(), 401);
}

#[tokio::test]
async fn personal_access_tokens_work_as_basic_auth() {
    let h = Harness::start().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(":{OPERATOR_PAT}"));
    let response = h
        .client
        .get(h.core("_apis/projects?api-version=7.1"))
        .header("Authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(response, 200).await["count"], 3);
    let wrong = base64::engine::general_purpose::STANDARD.encode(":wrong");
    let response = h
        .client
        .get(h.core("_apis/projects?api-version=7.1"))
        .header("Authorization", format!("Basic {wrong}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 203);
}

#[tokio::test]
async fn identities_unknown_to_the_organization_get_401() {
    let h = Harness::start().await;
    let response = h
        .core_request(Method::GET, "_apis/projects", OUTSIDER, "7.1")
        .send()
        .await
        .unwrap();
    vss_error(response, 401, "UnauthorizedRequestException").await;
}

#[tokio::test]
async fn project_scoped_identities_get_403_elsewhere() {
    let h = Harness::start().await;
    let own = h
        .core_request(
            Method::GET,
            "Storefront/_apis/build/definitions",
            STOREFRONT_ONLY,
            "7.1",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let other = h
        .core_request(
            Method::GET,
            "Payments/_apis/build/definitions",
            STOREFRONT_ONLY,
            "7.1",
        )
        .send()
        .await
        .unwrap();
    vss_error(other, 403, "InvalidAccessException").await;
    let projects = json(
        h.core_request(Method::GET, "_apis/projects", STOREFRONT_ONLY, "7.1")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(projects["count"], 1);

    let mut visible = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = h.graph_request(Method::GET, "groups", STOREFRONT_ONLY);
        if let Some(t) = &token {
            request = request.query(&[("continuationToken", t.as_str())]);
        }
        let response = request.send().await.unwrap();
        token = response
            .headers()
            .get("x-ms-continuationtoken")
            .map(|v| v.to_str().unwrap().to_string());
        let body = json(response, 200).await;
        visible.extend(
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["principalName"].as_str().unwrap().to_string()),
        );
        if token.is_none() {
            break;
        }
    }
    assert!(visible.iter().any(|n| n == "[Storefront]\\Contributors"));
    assert!(visible
        .iter()
        .any(|n| n == "[contoso]\\Project Collection Administrators"));
    assert!(
        !visible.iter().any(|n| n.starts_with("[Payments]")),
        "{visible:?}"
    );

    let payments_scope = h.scope_descriptor(PAYMENTS_ID).await;
    let graph = h
        .graph_request(Method::GET, "groups", STOREFRONT_ONLY)
        .query(&[("scopeDescriptor", payments_scope.as_str())])
        .send()
        .await
        .unwrap();
    vss_error(graph, 403, "InvalidAccessException").await;
    let org_group = h
        .graph_request(Method::POST, "groups", STOREFRONT_ONLY)
        .json(&json!({"displayName": "Not allowed"}))
        .send()
        .await
        .unwrap();
    vss_error(org_group, 403, "InvalidAccessException").await;
    let storefront_scope = h.scope_descriptor(STOREFRONT_ID).await;
    let allowed = h
        .graph_request(Method::POST, "groups", STOREFRONT_ONLY)
        .query(&[("scopeDescriptor", storefront_scope.as_str())])
        .json(&json!({"displayName": "Allowed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 201);
}

#[tokio::test]
async fn read_only_identities_cannot_write() {
    let h = Harness::start().await;
    let read = h
        .graph_request(Method::GET, "groups", AUDITOR)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let write = h
        .graph_request(Method::POST, "groups", AUDITOR)
        .json(&json!({"displayName": "Audit Trail"}))
        .send()
        .await
        .unwrap();
    vss_error(write, 403, "InvalidAccessException").await;
    let authorize = h
        .core_request(
            Method::PATCH,
            "Storefront/_apis/pipelines/pipelinepermissions/queue/31",
            AUDITOR,
            PREVIEW,
        )
        .json(&json!({"pipelines": [{"id": 18, "authorized": true}]}))
        .send()
        .await
        .unwrap();
    vss_error(authorize, 403, "InvalidAccessException").await;
}

#[tokio::test]
async fn graph_requires_the_preview_flag_in_query_or_accept_header() {
    let h = Harness::start().await;
    let token = h.token(OPERATOR);
    let plain = h
        .client
        .get(h.graph("groups"))
        .bearer_auth(&token)
        .query(&[("api-version", "7.1")])
        .send()
        .await
        .unwrap();
    let body = vss_error(plain, 400, "VssInvalidPreviewVersionException").await;
    assert!(body["message"].as_str().unwrap().contains("-preview"));
    let header = h
        .client
        .get(h.graph("groups"))
        .bearer_auth(&token)
        .header("Accept", "application/json;api-version=7.1-preview.1")
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);
    let seven_two = h
        .client
        .get(h.graph("groups"))
        .bearer_auth(&token)
        .query(&[("api-version", "7.2-preview.1")])
        .send()
        .await
        .unwrap();
    assert_eq!(seven_two.status(), 200);
    let missing = h
        .client
        .get(h.graph("groups"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    vss_error(missing, 400, "VssVersionNotSpecifiedException").await;
    let too_new = h
        .client
        .get(h.core("_apis/projects"))
        .bearer_auth(&token)
        .query(&[("api-version", "9.0")])
        .send()
        .await
        .unwrap();
    vss_error(too_new, 400, "VssVersionOutOfRangeException").await;
}
