//! Faults and the control API: throttling (delays with X-RateLimit-* then 429 with Retry-After),
//! Retry-After violations, server errors, dropped connections, latency, request log, reset.

use std::time::{Duration, Instant};

use azdo_sim::{Faults, Latency, SimOptions, Throttling};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

fn throttling() -> Faults {
    Faults {
        throttling: Some(Throttling {
            budget: 10.0,
            window_seconds: 60,
            cost_per_request: 1.0,
            delay_from: 0.5,
            delay_ms: 50,
        }),
        ..Faults::default()
    }
}

#[tokio::test]
async fn throttling_delays_then_blocks_with_retry_after() {
    let h = Harness::with(SimOptions {
        faults: throttling(),
        ..SimOptions::default()
    })
    .await;
    let token = h.token(OPERATOR);
    let url = h.core("_apis/projects?api-version=7.1");
    let mut statuses = Vec::new();
    for i in 0..10 {
        let started = Instant::now();
        let response = h.client.get(&url).bearer_auth(&token).send().await.unwrap();
        statuses.push(response.status().as_u16());
        let headers = response.headers();
        if i < 5 {
            assert!(
                headers.get("x-ratelimit-delay").is_none(),
                "request {i} is not delayed"
            );
        } else {
            assert!(started.elapsed() >= Duration::from_millis(50));
            assert_eq!(headers["x-ratelimit-delay"], "0.050");
            assert_eq!(headers["x-ratelimit-limit"], "10");
            assert_eq!(
                headers["x-ratelimit-remaining"],
                (9 - i).to_string().as_str()
            );
            assert_eq!(headers["x-ratelimit-resource"], "Core");
            assert!(headers["x-ratelimit-reset"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .is_ok());
        }
    }
    assert!(statuses.iter().all(|s| *s == 200));
    let blocked = h.client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(blocked.headers()["retry-after"], "60");
    assert!(blocked.headers().get("x-ratelimit-remaining").is_some());
    let body = vss_error(blocked, 429, "RequestBlockedException").await;
    assert!(body["message"].as_str().unwrap().starts_with("TF400733"));
    assert_eq!(h.sim.control().total_retry_after_violations(), 0);

    // Coming back before Retry-After has elapsed is recorded against the identity (once past
    // the moment a request could still have been in flight when the 429 left).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let early = h.client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(early.status(), 429);
    assert_eq!(
        h.sim.control().retry_after_violations().get(OPERATOR),
        Some(&1)
    );

    // Budgets are per identity.
    let other = h
        .core_request(Method::GET, "_apis/projects", AUDITOR, "7.1")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn server_errors_dropped_connections_and_latency() {
    let h = Harness::start().await;
    let control = h.sim.control();
    let url = h.core("_apis/projects?api-version=7.1");
    let token = h.token(OPERATOR);

    control.set_faults(Faults {
        error_rate: 1.0,
        error_status: 502,
        ..Faults::default()
    });
    let failed = h.client.get(&url).bearer_auth(&token).send().await.unwrap();
    vss_error(failed, 502, "VssServiceException").await;

    control.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let dropped = h.client.get(&url).bearer_auth(&token).send().await;
    assert!(
        dropped.is_err(),
        "the connection is closed without a response"
    );
    assert!(control.requests().requests.iter().any(|r| r.status == 0));

    control.set_faults(Faults {
        latency: Some(Latency {
            fixed_ms: 300,
            jitter_ms: 0,
        }),
        ..Faults::default()
    });
    let started = Instant::now();
    let slow = h.client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(slow.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn request_log_counts_per_method_and_route() {
    let h = Harness::start().await;
    for _ in 0..3 {
        h.graph_request(Method::GET, "groups", OPERATOR)
            .send()
            .await
            .unwrap();
    }
    h.core_request(Method::GET, "_apis/projects/Storefront", AUDITOR, "7.1")
        .send()
        .await
        .unwrap();
    let log = h.sim.control().requests();
    assert_eq!(log.count("GET", "/{org}/_apis/graph/groups"), 3);
    assert_eq!(log.count("GET", "/{org}/_apis/projects/{project}"), 1);
    let record = log
        .requests
        .iter()
        .find(|r| r.route == "/{org}/_apis/projects/{project}")
        .unwrap();
    assert_eq!(record.identity.as_deref(), Some(AUDITOR));
    assert_eq!(record.status, 200);

    // The same over HTTP.
    let over_http: Value = h
        .client
        .get(format!("{}/_sim/requests", h.sim.dev_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http["total"], 4);
    let cleared = h
        .client
        .delete(format!("{}/_sim/requests", h.sim.dev_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);
    assert_eq!(h.sim.control().requests().total, 0);
}

#[tokio::test]
async fn control_api_sets_faults_and_resets_state() {
    let h = Harness::start().await;
    let sim_url = |path: &str| format!("{}/_sim/{path}", h.sim.dev_url());
    let put = h
        .client
        .put(sim_url("faults"))
        .json(&json!({"errorRate": 1.0, "errorStatus": 503}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(h.sim.control().faults().error_rate, 1.0);
    let failing = h
        .core_request(Method::GET, "_apis/projects", OPERATOR, "7.1")
        .send()
        .await
        .unwrap();
    assert_eq!(failing.status(), 503);
    let bad = h
        .client
        .put(sim_url("faults"))
        .json(&json!({"nonsense": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let descriptor = {
        h.sim.control().set_faults(Faults::default());
        h.group_descriptor("[contoso]\\Auditors").await
    };
    let deleted = h
        .graph_request(Method::DELETE, &format!("groups/{descriptor}"), OPERATOR)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let state: Value = h
        .client
        .get(sim_url("state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let auditors = |state: &Value| {
        state["organizations"][0]["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["descriptor"] == descriptor.as_str())
            .map(|s| s["deleted"].as_bool().unwrap())
    };
    assert_eq!(auditors(&state), Some(true));
    h.sim.control().set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let reset = h.client.post(sim_url("reset")).send().await.unwrap();
    assert_eq!(reset.status(), 204);
    let state: Value = h
        .client
        .get(sim_url("state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(auditors(&state), Some(false));
    assert_eq!(
        h.sim.control().faults(),
        Faults::default(),
        "faults are back to the start options"
    );
    assert!(
        state.to_string().find("sim-operator-secret").is_none(),
        "no secrets in the state dump"
    );
}
