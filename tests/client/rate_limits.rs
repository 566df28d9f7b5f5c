//! Rate limits as Microsoft documents them: `Retry-After` on a 200, `X-RateLimit-*` headers
//! before any delay (the client slows down as Remaining falls), and the pipelines' own budget.

use crate::support::{fast_limits, Harness, OPERATOR_PAT};
use azdo_operator::ado::{AdoError, ClientLimits, ThrottleConfig};
use azdo_sim::{Faults, RateLimits, Throttling};
use std::time::{Duration, Instant};

fn throttled(throttling: Throttling, rate_limits: RateLimits) -> Faults {
    Faults {
        throttling: Some(throttling),
        rate_limits,
        ..Faults::default()
    }
}

/// Delayed requests are answered 200 with `Retry-After: 1`: the client sends nothing before it
/// elapses (the simulator counts early arrivals).
#[tokio::test]
async fn retry_after_on_a_200_is_honoured() {
    let h = Harness::start().await;
    h.sim.control().set_faults(throttled(
        Throttling {
            budget: 20.0,
            window_seconds: 60,
            delay_from: 0.5,
            delay_ms: 50,
            ..Throttling::default()
        },
        RateLimits {
            retry_after_on_delay: true,
            ..RateLimits::default()
        },
    ));
    let client = h.pat_client().await;
    let admins = h.subject("[contoso]\\Platform Admins").descriptor;
    let started = Instant::now();
    for _ in 0..14 {
        client.get_group(&admins).await.unwrap();
    }
    let records = h.sim.control().requests().requests;
    assert_eq!(records.len(), 14);
    assert!(records.iter().all(|r| r.status == 200), "all answered 200");
    assert_eq!(h.sim.control().total_retry_after_violations(), 0);
    // Four 200s carried Retry-After: 1 before the last request.
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// `X-RateLimit-Limit/Remaining/Reset` arrive from half the budget on, before any delay: the
/// client spaces its requests out as Remaining falls and never reaches the delays.
#[tokio::test]
async fn the_client_slows_down_before_any_delay_starts() {
    let h = Harness::start().await;
    h.sim.control().set_faults(throttled(
        Throttling {
            budget: 40.0,
            window_seconds: 10,
            delay_from: 0.95,
            delay_ms: 5000,
            ..Throttling::default()
        },
        RateLimits {
            warn_from: 0.5,
            ..RateLimits::default()
        },
    ));
    let limits = ClientLimits {
        throttle: ThrottleConfig {
            slowdown_below: 0.5,
            max_pace: Duration::from_millis(300),
            ..fast_limits().throttle
        },
        ..fast_limits()
    };
    let client = h.client(h.pat(OPERATOR_PAT).await, limits);
    let admins = h.subject("[contoso]\\Platform Admins").descriptor;
    for _ in 0..20 {
        client.get_group(&admins).await.unwrap();
    }
    let paced_from = Instant::now();
    for _ in 0..10 {
        client.get_group(&admins).await.unwrap();
    }
    let paced = paced_from.elapsed();
    assert!(
        paced >= Duration::from_secs(2),
        "not slowed down: {paced:?}"
    );
    let slowest = h
        .sim
        .control()
        .requests()
        .requests
        .iter()
        .map(|r| r.duration_ms)
        .fold(0.0, f64::max);
    assert!(
        slowest < 4000.0,
        "a request was delayed by the service: {slowest} ms"
    );
}

/// Pipelines draw on a budget of their own: blocked there (429 `TF400733`, a long
/// Retry-After), the client still makes Graph calls at once, and sends no pipelines call before
/// the Retry-After.
#[tokio::test]
async fn the_pipelines_budget_is_separate_from_the_identitys() {
    let h = Harness::start().await;
    h.sim.control().set_faults(throttled(
        Throttling {
            budget: 200.0,
            window_seconds: 60,
            delay_from: 1.0,
            ..Throttling::default()
        },
        RateLimits {
            warn_from: 1.0,
            pipelines_budget: 3.0,
            ..RateLimits::default()
        },
    ));
    let client = h.pat_client().await;
    for id in [16, 17, 18] {
        client.get_pipeline("Storefront", id).await.unwrap();
    }
    let error = client.get_pipeline("Storefront", 20).await.unwrap_err();
    assert!(matches!(error, AdoError::Throttled { .. }), "{error:?}");
    assert!(error.to_string().contains("TF400733"), "{error}");
    let admins = h.subject("[contoso]\\Platform Admins").descriptor;
    let started = Instant::now();
    client.get_group(&admins).await.unwrap();
    // Not held back by the pipelines' Retry-After (about 60 s).
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // Another pipelines call (a listing this time) waits for the Retry-After: refused without
    // being sent.
    let again = client
        .find_pipelines("Storefront", "storefront-deploy-staging", None)
        .await
        .unwrap_err();
    assert!(matches!(again, AdoError::Throttled { .. }), "{again:?}");
    assert_eq!(
        h.count("GET", "/{org}/{project}/_apis/build/definitions/{id}"),
        4
    );
    assert_eq!(
        h.count("GET", "/{org}/{project}/_apis/build/definitions"),
        0
    );
    assert_eq!(h.sim.control().total_retry_after_violations(), 0);
}
