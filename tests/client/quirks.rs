//! Protocol quirks played by the scripted server: authentication failures in disguise,
//! ambiguous create failures, hand-made paging, server hints on any status.

use crate::scripted::{Reply, ScriptedServer};
use crate::support::fast_limits;
use azdo_operator::ado::{
    build_http_client, AdoClient, AdoError, AdoMetrics, EntraGroupKey, OrganizationEndpoint,
};
use azdo_operator::auth::{PatTokenSource, SecretString};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn client_for(server: &ScriptedServer) -> AdoClient {
    let org = format!("{}/contoso", server.base);
    AdoClient::new(
        OrganizationEndpoint::new("contoso", &org, &org).unwrap(),
        build_http_client(None).unwrap(),
        Arc::new(PatTokenSource::new(SecretString::new("scripted-pat")).unwrap()),
        fast_limits(),
        Arc::new(AdoMetrics::unregistered()),
    )
}

fn group_json(descriptor: &str, name: &str) -> serde_json::Value {
    json!({
        "subjectKind": "group", "descriptor": descriptor, "displayName": name, "origin": "vsts",
        "isDeleted": false,
        "principalName": format!("[contoso]\\{name}"),
        "domain": "vstfs:///Framework/IdentityDomain/1b6f0c2e-8a4d-4e3b-9c7a-5d2e1f0a9b8c"
    })
}

const SIGN_IN: &str = "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body>Sign in</body></html>";

#[tokio::test]
async fn a_203_sign_in_page_is_unauthorized_after_one_refresh() {
    let server = ScriptedServer::start(vec![
        Reply::text(203, "text/html; charset=utf-8", SIGN_IN),
        Reply::text(203, "text/html; charset=utf-8", SIGN_IN),
    ])
    .await;
    let error = client_for(&server).get_group("vssgp.x").await.unwrap_err();
    assert!(matches!(error, AdoError::Unauthorized(_)), "{error:?}");
    assert_eq!(
        error.reason(),
        azdo_operator::reason::Reason::AuthenticationFailed
    );
    assert_eq!(error.status(), Some(203));
    assert!(!error.to_string().contains("<html"), "{error}");
    let received = server.received();
    assert_eq!(received.len(), 2, "one refresh, then give up");
    for request in &received {
        assert_eq!(request.headers["x-tfs-fedauthredirect"], "Suppress");
        assert_eq!(
            request.headers["authorization"],
            "Basic OnNjcmlwdGVkLXBhdA=="
        );
        assert!(
            request.query.contains("api-version=7.1-preview.1"),
            "{}",
            request.query
        );
    }
}

#[tokio::test]
async fn redirects_and_non_json_bodies_are_authentication_failures() {
    let server = ScriptedServer::start(vec![
        Reply::text(302, "text/html", "")
            .header("location", "https://app.vssps.visualstudio.com/_signin"),
        Reply::text(302, "text/html", "")
            .header("location", "https://app.vssps.visualstudio.com/_signin"),
        Reply::text(200, "text/html", SIGN_IN),
        Reply::text(200, "text/html", SIGN_IN),
    ])
    .await;
    let client = client_for(&server);
    let redirected = client.get_group("vssgp.x").await.unwrap_err();
    assert!(
        matches!(redirected, AdoError::Unauthorized(_)),
        "{redirected:?}"
    );
    assert_eq!(redirected.status(), Some(302));
    let html = client.get_group("vssgp.x").await.unwrap_err();
    assert!(matches!(html, AdoError::Unauthorized(_)), "{html:?}");
    assert_eq!(server.received().len(), 4, "the redirect was not followed");
}

#[tokio::test]
async fn an_ambiguous_create_failure_finds_the_group_instead_of_creating_it_twice() {
    let server = ScriptedServer::start(vec![
        // The POST reached the service, the answer did not come back well.
        Reply::json(
            500,
            json!({"message": "Internal error", "typeKey": "InternalServerError"}),
        ),
        // Listing the scope (two pages) finds it.
        Reply::json(
            200,
            json!({"count": 1, "value": [group_json("vssgp.a", "Auditors")]}),
        )
        .header("x-ms-continuationtoken", "page2"),
        Reply::json(
            200,
            json!({"count": 1, "value": [group_json("vssgp.new", "Deployers")]}),
        ),
    ])
    .await;
    let group = client_for(&server)
        .create_group(None, "deployers", None)
        .await
        .unwrap();
    assert_eq!(group.descriptor, "vssgp.new");
    let received = server.received();
    let posts = received.iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "never POSTed again");
    assert_eq!(received[0].body, r#"{"displayName":"deployers"}"#);
    assert!(
        received
            .iter()
            .all(|r| r.path == "/contoso/_apis/graph/groups"),
        "{received:?}"
    );
    assert!(
        received[2].query.contains("continuationToken=page2"),
        "{}",
        received[2].query
    );
}

#[tokio::test]
async fn an_ambiguous_create_failure_posts_again_only_when_the_group_is_absent() {
    let server = ScriptedServer::start(vec![
        Reply::json(503, json!({"message": "busy"})),
        Reply::json(200, json!({"count": 0, "value": []})),
        Reply::json(201, group_json("vssgp.new", "Deployers")),
    ])
    .await;
    let group = client_for(&server)
        .create_group(None, "Deployers", Some("d"))
        .await
        .unwrap();
    assert_eq!(group.descriptor, "vssgp.new");
    let methods: Vec<_> = server
        .received()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(methods, ["POST", "GET", "POST"]);
}

#[tokio::test]
async fn empty_pages_with_a_token_are_followed_and_a_stuck_token_is_an_error() {
    let server = ScriptedServer::start(vec![
        Reply::json(
            200,
            json!({"count": 1, "value": [group_json("vssgp.1", "One")]}),
        )
        .header("X-MS-ContinuationToken", "t1"),
        Reply::json(200, json!({"count": 0, "value": []})).header("X-MS-ContinuationToken", "t2"),
        Reply::json(200, json!({"count": 0, "value": []})).header("X-MS-ContinuationToken", "t3"),
        Reply::json(
            200,
            json!({"count": 1, "value": [group_json("vssgp.2", "Two")]}),
        ),
        // Second listing: the token never advances.
        Reply::json(200, json!({"count": 0, "value": []})).header("X-MS-ContinuationToken", "same"),
        Reply::json(200, json!({"count": 0, "value": []})).header("X-MS-ContinuationToken", "same"),
    ])
    .await;
    let client = client_for(&server);
    let groups = client.list_groups(Some("scp.abc")).await.unwrap();
    let names: Vec<_> = groups.iter().map(|g| g.display_name.as_str()).collect();
    assert_eq!(names, ["One", "Two"]);
    let queries: Vec<_> = server.received().iter().map(|r| r.query.clone()).collect();
    assert!(
        queries[0].contains("scopeDescriptor=scp.abc") && !queries[0].contains("continuationToken")
    );
    assert!(queries[1].contains("continuationToken=t1"));
    assert!(queries[3].contains("continuationToken=t3"));
    let stuck = client.list_groups(None).await.unwrap_err();
    assert!(matches!(stuck, AdoError::Decode(_)), "{stuck:?}");
}

#[tokio::test]
async fn retry_after_and_rate_limit_delay_on_a_success_hold_back_the_next_request() {
    let server = ScriptedServer::start(vec![
        Reply::json(200, group_json("vssgp.1", "One")).header("Retry-After", "1"),
        Reply::json(200, group_json("vssgp.1", "One")).header("X-RateLimit-Delay", "0.6"),
        Reply::json(200, group_json("vssgp.1", "One")),
    ])
    .await;
    let client = client_for(&server);
    for _ in 0..3 {
        client.get_group("vssgp.1").await.unwrap();
    }
    let at: Vec<_> = server.received().iter().map(|r| r.at).collect();
    assert!(
        at[1] - at[0] >= Duration::from_millis(950),
        "{:?}",
        at[1] - at[0]
    );
    assert!(
        at[2] - at[1] >= Duration::from_millis(550),
        "{:?}",
        at[2] - at[1]
    );
}

#[tokio::test]
async fn a_server_error_with_retry_after_is_retried_after_the_wait() {
    let server = ScriptedServer::start(vec![
        Reply::json(503, json!({"message": "maintenance"})).header("Retry-After", "1"),
        Reply::json(200, group_json("vssgp.1", "One")),
    ])
    .await;
    let group = client_for(&server).get_group("vssgp.1").await.unwrap();
    assert_eq!(group.descriptor, "vssgp.1");
    let at: Vec<_> = server.received().iter().map(|r| r.at).collect();
    assert!(
        at[1] - at[0] >= Duration::from_millis(950),
        "{:?}",
        at[1] - at[0]
    );
}

#[tokio::test]
async fn a_plain_text_503_while_materializing_is_a_permanent_entra_lookup_failure() {
    let plain = || {
        Reply::text(
            503,
            "text/plain; charset=utf-8",
            "\"VS860015: The identity could not be found in the directory.\"",
        )
    };
    let server = ScriptedServer::start(vec![plain(), plain()]).await;
    let error = client_for(&server)
        .materialize_entra_group(EntraGroupKey::Mail("team@contoso.com".into()))
        .await
        .unwrap_err();
    assert!(matches!(error, AdoError::EntraLookup(_)), "{error:?}");
    assert!(!error.is_transient());
    assert_eq!(
        error.reason(),
        azdo_operator::reason::Reason::EntraLookupFailed
    );
    assert!(error.to_string().contains("VS860015"), "{error}");
    assert_eq!(server.received().len(), 2, "tried twice, no more");
    assert_eq!(server.remaining(), 0);
}

#[tokio::test]
async fn json_patch_updates_use_the_patch_content_type() {
    let server =
        ScriptedServer::start(vec![Reply::json(200, group_json("vssgp.1", "Renamed"))]).await;
    client_for(&server)
        .update_group("vssgp.1", Some("Renamed"), None)
        .await
        .unwrap();
    let request = &server.received()[0];
    assert_eq!(request.method, "PATCH");
    assert_eq!(
        request.headers["content-type"],
        "application/json-patch+json"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&request.body).unwrap(),
        json!([{"op": "replace", "path": "/displayName", "value": "Renamed"}])
    );
}

#[tokio::test]
async fn a_409_for_a_group_that_cannot_be_found_is_reported_as_conflict() {
    let server = ScriptedServer::start(vec![
        Reply::json(
            409,
            json!({"message": "TF50624: A group named Deployers already exists in scope X.", "typeKey": "GroupCreationException"}),
        ),
        Reply::json(200, json!({"count": 0, "value": []})),
    ])
    .await;
    let error = client_for(&server)
        .create_group(None, "Deployers", None)
        .await
        .unwrap_err();
    assert!(matches!(error, AdoError::Conflict(_)), "{error:?}");
    assert_eq!(error.reason(), azdo_operator::reason::Reason::Conflict);
    assert_eq!(error.type_key(), Some("GroupCreationException"));
    assert!(error.to_string().contains("TF50624"), "{error}");
    let methods: Vec<_> = server
        .received()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(
        methods,
        ["POST", "GET"],
        "looked up once, never POSTed again"
    );
}

#[tokio::test]
async fn an_unexpected_json_shape_is_a_decode_error_and_not_retried() {
    let server = ScriptedServer::start(vec![Reply::json(200, json!({"unexpected": true}))]).await;
    let error = client_for(&server).get_group("vssgp.1").await.unwrap_err();
    assert!(matches!(error, AdoError::Decode(_)), "{error:?}");
    assert_eq!(
        error.reason(),
        azdo_operator::reason::Reason::UnexpectedResponse
    );
    assert!(!error.is_transient());
    assert_eq!(server.received().len(), 1);
}

/// A check's create and update are verified from their answers when those show the settings;
/// an answer without them costs one read back, and a read back that differs is a failure.
#[tokio::test]
async fn a_check_write_answered_without_its_settings_is_read_back() {
    use azdo_operator::ado::{CheckSettings, DesiredCheck, ResourceKind};
    let desired = DesiredCheck {
        settings: CheckSettings::Approval {
            approvers: vec!["3b3db741-9d03-4e32-a7c0-6c3dfc2013c1".into()],
            min_required: 0,
            requester_cannot_approve: false,
            in_sequence: false,
            instructions: "Instructions".into(),
        },
        timeout: 43200,
    };
    let check = |id: i64, settings: Option<serde_json::Value>| {
        let mut body = json!({
            "id": id,
            "type": desired.settings.kind().type_ref(),
            "resource": {"type": "environment", "id": "2"},
            "timeout": desired.timeout,
        });
        if let Some(settings) = settings {
            body["settings"] = settings;
        }
        Reply::json(200, body)
    };
    let shown = desired.settings.to_wire();
    let mut other = shown.clone();
    other["instructions"] = json!("Something else");
    let server = ScriptedServer::start(vec![
        // Shown in the answer: nothing more.
        check(7, Some(shown.clone())),
        // Not shown: read back, which shows it.
        check(8, None),
        check(8, Some(shown.clone())),
        // Not shown, and the read back differs.
        check(9, None),
        check(9, Some(other)),
        // An update answered with something else than the check: read back.
        Reply::json(200, json!({})),
        check(7, Some(shown.clone())),
    ])
    .await;
    let c = client_for(&server);
    let created = c
        .create_check("p", ResourceKind::Environment, "2", &desired)
        .await
        .unwrap();
    assert_eq!((created.id, server.received().len()), (7, 1));
    let created = c
        .create_check("p", ResourceKind::Environment, "2", &desired)
        .await
        .unwrap();
    assert_eq!(created.id, 8);
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert_eq!(received[2].method, axum::http::Method::GET);
    assert!(
        received[2].path.ends_with("/configurations/8"),
        "{}",
        received[2].path
    );
    assert!(
        received[2].query.contains("expand=settings"),
        "{}",
        received[2].query
    );
    let error = c
        .create_check("p", ResourceKind::Environment, "2", &desired)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("not what was written"),
        "{error}"
    );
    let updated = c
        .update_check("p", 7, ResourceKind::Environment, "2", &desired)
        .await
        .unwrap();
    assert_eq!(updated.id, 7);
    let received = server.received();
    assert_eq!(received.len(), 7);
    assert_eq!(received[5].method, axum::http::Method::PATCH);
    assert_eq!(received[6].method, axum::http::Method::GET);
    assert_eq!(server.remaining(), 0);
}
