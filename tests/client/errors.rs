//! Each error class as the simulator produces it, with reason, transience and call counts.

use crate::support::{
    fast_limits, Harness, AUDITOR_CLIENT_ID, AUDITOR_SECRET, OUTSIDER_CLIENT_ID, OUTSIDER_SECRET,
    STOREFRONT_CLIENT_ID, STOREFRONT_SECRET,
};
use azdo_operator::ado::{AdoError, ClientLimits, RetryLimits};
use azdo_sim::{Faults, Throttling};
use std::time::{Duration, Instant};

const GROUP: &str = "/{org}/_apis/graph/groups/{descriptor}";

#[tokio::test]
async fn not_found_carries_status_type_key_and_message() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let error = client.get_group("vssgp.Tm9TdWNoR3JvdXA").await.unwrap_err();
    assert!(matches!(error, AdoError::NotFound(_)), "{error:?}");
    assert_eq!(error.status(), Some(404));
    assert!(
        error
            .type_key()
            .is_some_and(|k| k.ends_with("NotFoundException")),
        "{error:?}"
    );
    assert_eq!(error.reason(), azdo_operator::reason::Reason::NotFound);
    assert!(!error.is_transient());
    assert!(!error.detail().unwrap().message.is_empty());
    assert_eq!(h.count("GET", GROUP), 1, "not retried");
}

#[tokio::test]
async fn forbidden_for_an_identity_without_the_permission() {
    let h = Harness::start().await;
    // May only touch Storefront.
    let storefront = h.client(
        h.secret(STOREFRONT_CLIENT_ID, STOREFRONT_SECRET).await,
        fast_limits(),
    );
    let scope = h
        .pat_client()
        .await
        .project_scope_descriptor("Payments")
        .await
        .unwrap();
    let error = storefront
        .create_group(Some(&scope), "Sneaky", None)
        .await
        .unwrap_err();
    assert!(matches!(error, AdoError::Forbidden(_)), "{error:?}");
    assert_eq!(error.status(), Some(403));
    assert_eq!(error.reason(), azdo_operator::reason::Reason::Forbidden);
    assert!(error.type_key().is_some(), "{error:?}");
    // Read-only identity: reads work, writes are forbidden.
    let auditor = h.client(
        h.secret(AUDITOR_CLIENT_ID, AUDITOR_SECRET).await,
        fast_limits(),
    );
    let approvers = h.subject("[Storefront]\\Release Approvers");
    assert!(!auditor
        .list_members(&approvers.descriptor)
        .await
        .unwrap()
        .is_empty());
    let sanjay = h.subject("sanjay.shah@contoso.com");
    let denied = auditor
        .add_member(&sanjay.descriptor, &approvers.descriptor)
        .await
        .unwrap_err();
    assert!(matches!(denied, AdoError::Forbidden(_)), "{denied:?}");
}

#[tokio::test]
async fn invalid_input_is_not_retried() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let group = h.subject("[contoso]\\Auditors");
    let error = client
        .add_member(&group.descriptor, &group.descriptor)
        .await
        .unwrap_err();
    assert!(matches!(error, AdoError::InvalidInput(_)), "{error:?}");
    assert_eq!(error.status(), Some(400));
    assert_eq!(
        error.reason(),
        azdo_operator::reason::Reason::InvalidRequest
    );
    assert!(error.to_string().contains("VS860024"), "{error}");
    assert_eq!(
        h.count(
            "PUT",
            "/{org}/_apis/graph/memberships/{subject}/{container}"
        ),
        1
    );
}

#[tokio::test]
async fn a_wrong_pat_is_unauthorized_after_exactly_one_retry() {
    let h = Harness::start().await;
    let client = h.client(h.pat("not-a-valid-pat").await, fast_limits());
    let error = client.project("Storefront").await.unwrap_err();
    assert!(matches!(error, AdoError::Unauthorized(_)), "{error:?}");
    assert_eq!(error.status(), Some(401));
    assert_eq!(
        error.reason(),
        azdo_operator::reason::Reason::AuthenticationFailed
    );
    assert_eq!(h.count("GET", "/{org}/_apis/projects/{project}"), 2);
    assert_eq!(
        h.metrics
            .retries_for("contoso", "projects.get", "unauthorized"),
        1
    );
}

#[tokio::test]
async fn an_identity_outside_the_organization_refreshes_its_token_once_then_fails() {
    let h = Harness::start().await;
    let client = h.client(
        h.secret(OUTSIDER_CLIENT_ID, OUTSIDER_SECRET).await,
        fast_limits(),
    );
    let error = client.check_access().await.unwrap_err();
    assert!(matches!(error, AdoError::Unauthorized(_)), "{error:?}");
    assert_eq!(h.token_requests(), 2, "the token was refreshed once");
    assert_eq!(h.count("GET", "/{org}/_apis/projects"), 2);
}

#[tokio::test]
async fn server_errors_are_retried_within_the_budget_then_reported_as_transient() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    h.sim.control().set_faults(Faults {
        error_rate: 1.0,
        error_status: 503,
        ..Faults::default()
    });
    let error = client.get_group("vssgp.x").await.unwrap_err();
    assert!(matches!(error, AdoError::Transient(_)), "{error:?}");
    assert_eq!(error.status(), Some(503));
    assert_eq!(
        error.reason(),
        azdo_operator::reason::Reason::AzureDevOpsUnavailable
    );
    assert!(error.is_transient());
    assert_eq!(
        h.count("GET", GROUP),
        u64::from(fast_limits().retry.max_attempts)
    );
    assert_eq!(
        h.metrics
            .retries_for("contoso", "graph.groups.get", "server_error"),
        5
    );
}

#[tokio::test]
async fn occasional_server_errors_are_absorbed_by_retries() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    let admins = h.subject("[contoso]\\Platform Admins");
    h.sim.control().set_faults(Faults {
        error_rate: 0.3,
        error_status: 502,
        ..Faults::default()
    });
    for _ in 0..10 {
        assert_eq!(
            client
                .get_group(&admins.descriptor)
                .await
                .unwrap()
                .display_name,
            "Platform Admins"
        );
    }
}

#[tokio::test]
async fn dropped_connections_are_retried_for_safe_calls_and_reported_as_transient() {
    let h = Harness::start().await;
    let client = h.pat_client().await;
    h.sim.control().set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let error = client.get_group("vssgp.x").await.unwrap_err();
    assert!(matches!(error, AdoError::Transient(_)), "{error:?}");
    assert_eq!(error.status(), None);
    assert!(error.is_transient());
    assert!(
        h.metrics
            .retries_for("contoso", "graph.groups.get", "network")
            >= 1
    );
    // A dropped create is not blindly repeated: the transport sends it once per round and the
    // group is looked up in between (the lookups fail here too, ending the attempt).
    let scope = "scp.ZGVmYXVsdA";
    let error = client
        .create_group(Some(scope), "Never", None)
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(h.count("POST", "/{org}/_apis/graph/groups"), 1);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_budget_returns_throttled_at_once() {
    let h = Harness::start().await;
    let limits = ClientLimits {
        retry: RetryLimits {
            max_elapsed: Duration::from_secs(3),
            ..fast_limits().retry
        },
        ..fast_limits()
    };
    let client = h.client(h.pat(crate::support::OPERATOR_PAT).await, limits);
    h.sim.control().set_faults(Faults {
        throttling: Some(Throttling {
            budget: 2.0,
            window_seconds: 60,
            cost_per_request: 1.0,
            delay_from: 1.0,
            delay_ms: 0,
        }),
        ..Faults::default()
    });
    client.project("Storefront").await.unwrap();
    client.project("Payments").await.unwrap();
    let started = Instant::now();
    let error = client.project("Platform").await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "did not wait out a long Retry-After"
    );
    assert!(matches!(error, AdoError::Throttled { .. }), "{error:?}");
    assert_eq!(error.reason(), azdo_operator::reason::Reason::Throttled);
    assert!(error.is_transient());
    let wait = error.retry_after().expect("the server's Retry-After");
    assert!(wait > Duration::from_secs(30), "{wait:?}");
    assert_eq!(h.count("GET", "/{org}/_apis/projects/{project}"), 3);
    // Another call during the wait is not sent either: it fails fast with the remaining wait.
    let next = client.get_group("vssgp.x").await.unwrap_err();
    assert!(matches!(next, AdoError::Throttled { .. }), "{next:?}");
    assert!(next.retry_after().unwrap() <= wait);
    assert_eq!(h.count("GET", GROUP), 0);
    assert_eq!(h.sim.control().total_retry_after_violations(), 0);
}
