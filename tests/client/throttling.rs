//! Manners under throttling, measured by the simulator: nothing is sent before a Retry-After
//! elapses, concurrency stays within its bound, a 429 storm ends with the work done and a
//! bounded number of requests, and requests slow down as the budget runs out.

use crate::support::{fast_limits, Harness, OPERATOR_PAT};
use azdo_operator::ado::{ClientLimits, ThrottleConfig};
use azdo_sim::{Faults, Latency, RequestRecord, Throttling};
use chrono::Duration as ChronoDuration;
use std::time::Duration;

/// Largest number of requests the simulator was handling at the same time.
fn peak_concurrency(records: &[RequestRecord]) -> usize {
    let mut edges: Vec<(chrono::DateTime<chrono::Utc>, i32)> = Vec::new();
    for r in records {
        let end = r.at;
        let start = end - ChronoDuration::microseconds((r.duration_ms * 1000.0) as i64);
        edges.push((start, 1));
        edges.push((end, -1));
    }
    // Ends sort before starts at the same instant.
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut current, mut peak) = (0i32, 0i32);
    for (_, delta) in edges {
        current += delta;
        peak = peak.max(current);
    }
    peak as usize
}

#[tokio::test]
async fn concurrency_never_exceeds_the_per_organization_bound() {
    let h = Harness::start().await;
    let limits = ClientLimits {
        throttle: ThrottleConfig {
            max_concurrency: 3,
            ..ThrottleConfig::default()
        },
        ..fast_limits()
    };
    let client = h.client(h.pat(OPERATOR_PAT).await, limits);
    h.sim.control().set_faults(Faults {
        latency: Some(Latency {
            fixed_ms: 80,
            jitter_ms: 20,
        }),
        ..Faults::default()
    });
    let admins = h.subject("[contoso]\\Platform Admins").descriptor;
    let tasks: Vec<_> = (0..15)
        .map(|_| {
            let (client, admins) = (client.clone(), admins.clone());
            tokio::spawn(async move { client.get_group(&admins).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let records = h.sim.control().requests().requests;
    assert_eq!(records.len(), 15);
    let peak = peak_concurrency(&records);
    assert!((2..=3).contains(&peak), "peak concurrency {peak}");
}

#[tokio::test]
async fn a_429_storm_ends_with_the_work_done_no_early_request_and_bounded_requests() {
    let h = Harness::start().await;
    let limits = ClientLimits {
        throttle: ThrottleConfig {
            max_concurrency: 6,
            ..ThrottleConfig::default()
        },
        ..fast_limits()
    };
    let client = h.client(h.pat(OPERATOR_PAT).await, limits);
    h.sim.control().set_faults(Faults {
        throttling: Some(Throttling {
            budget: 12.0,
            window_seconds: 2,
            cost_per_request: 1.0,
            delay_from: 0.75,
            delay_ms: 50,
        }),
        ..Faults::default()
    });
    let groups = [
        "[contoso]\\Platform Admins",
        "[contoso]\\Auditors",
        "[Storefront]\\Frontend",
    ]
    .map(|p| h.subject(p).descriptor);
    let calls = 36;
    let tasks: Vec<_> = (0..calls)
        .map(|i| {
            let client = client.clone();
            let descriptor = groups[i % groups.len()].clone();
            tokio::spawn(async move { client.get_group(&descriptor).await })
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap()
            .expect("every call completes despite throttling");
    }
    let control = h.sim.control();
    let log = control.requests();
    // No request may start between a 429 and the end of its Retry-After (at least 1 s), except
    // those already on the wire when the 429 was answered (a short grace).
    let grace = ChronoDuration::milliseconds(100);
    let shortest_wait = ChronoDuration::milliseconds(950);
    for blocked in log.requests.iter().filter(|r| r.status == 429) {
        for other in &log.requests {
            let start =
                other.at - ChronoDuration::microseconds((other.duration_ms * 1000.0) as i64);
            assert!(
                start <= blocked.at + grace || start >= blocked.at + shortest_wait,
                "request #{} started {:?} after the 429 of #{}",
                other.seq,
                start - blocked.at,
                blocked.seq
            );
        }
    }
    // The simulator also counts requests arriving during a Retry-After; only requests already in
    // flight when a 429 was answered can be among them.
    let violations = control.total_retry_after_violations();
    println!("simulator-counted Retry-After violations: {violations}");

    assert!(violations <= 5, "{violations}");
    let throttled = log.requests.iter().filter(|r| r.status == 429).count();
    let ok = log.requests.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, calls);
    // Once blocked, the client waits for the whole window instead of hammering: at most one
    // wave of in-flight requests per Retry-After.
    assert!(throttled <= 2 * 6, "{throttled} blocked requests");
    assert!(log.requests.len() <= calls + 2 * 6);
    assert!(h.metrics.throttle_wait_seconds("contoso") > 0.5);
}

#[tokio::test]
async fn requests_slow_down_as_the_remaining_budget_nears_zero() {
    let h = Harness::start().await;
    let client = h.client(h.pat(OPERATOR_PAT).await, fast_limits());
    h.sim.control().set_faults(Faults {
        throttling: Some(Throttling {
            budget: 20.0,
            window_seconds: 4,
            cost_per_request: 1.0,
            delay_from: 0.5,
            delay_ms: 10,
        }),
        ..Faults::default()
    });
    let admins = h.subject("[contoso]\\Platform Admins").descriptor;
    let started = std::time::Instant::now();
    for _ in 0..20 {
        client.get_group(&admins).await.unwrap();
    }
    let elapsed = started.elapsed();
    let control = h.sim.control();
    let log = control.requests();
    // Pacing spread the last requests over the window, so the budget never ran out.
    assert_eq!(
        log.requests.iter().filter(|r| r.status == 429).count(),
        0,
        "paced requests were never blocked"
    );
    assert!(elapsed > Duration::from_secs(1), "{elapsed:?}: no slowdown");
    assert!(h.metrics.throttle_wait_seconds("contoso") > 0.5);
    assert_eq!(control.total_retry_after_violations(), 0);
}
