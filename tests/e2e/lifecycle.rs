//! The samples under config/samples, end to end: they converge to Ready, Azure DevOps (the
//! simulator) ends up as they describe, and deleting them restores it, apart from what a
//! deletionPolicy keeps.

use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::operator_env::{sim_snapshot, OperatorEnv, TestResult};

/// `N requests: METHOD route xK, ...` for a closing note.
fn summarize(log: &azdo_sim::RequestLogSnapshot) -> String {
    let mut parts: Vec<String> = log
        .counters
        .iter()
        .map(|c| format!("{} {} x{}", c.method, c.route, c.count))
        .collect();
    parts.sort();
    format!("{} requests: {}", log.total, parts.join(", "))
}

fn strings(v: &Json, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_converge_and_deleting_them_restores_azure_devops() -> TestResult {
    let mut env = OperatorEnv::start("samples").await?;
    env.create_team_service_account().await?;
    let before = sim_snapshot(&env.sim);
    env.start_operator(&["--resync-interval", "4s", "--resync-jitter", "0"])
        .await?;

    let samples = env.samples()?;
    env.sim.control().clear_requests();
    let started = Instant::now();
    env.apply(&samples).await?;
    env.wait_ready(&samples, "True", Duration::from_secs(90))
        .await?;
    eprintln!("samples converged in {:?}", started.elapsed());
    let converge = env.sim.control().requests();
    eprintln!("calls to converge: {}", summarize(&converge));

    // One steady-state resync: reads only.
    env.sim.control().clear_requests();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let resync = env.sim.control().requests();
    eprintln!(
        "calls in one steady-state resync (4 s): {}",
        summarize(&resync)
    );
    let writes: Vec<&azdo_sim::RequestRecord> = resync
        .requests
        .iter()
        .filter(|r| r.method != "GET" && r.method != "HEAD" && !r.route.contains("oauth2"))
        .collect();
    assert!(
        writes.is_empty(),
        "a no-op resync writes nothing: {:?}",
        writes
            .iter()
            .map(|r| format!("{} {}", r.method, r.route))
            .collect::<Vec<_>>()
    );

    let after = sim_snapshot(&env.sim);
    let groups = strings(&after, "groups");
    let memberships = strings(&after, "memberships");
    let permissions = strings(&after, "permissions");
    assert!(
        groups
            .iter()
            .any(|g| g == "[Storefront]\\Storefront Operators"),
        "{groups:#?}"
    );
    for expected in [
        "[Storefront]\\Storefront Operators <- adele.vance@contoso.com",
        "[Storefront]\\Storefront Operators <- alex.wilber@contoso.com",
        "[Storefront]\\Storefront Operators <- [Storefront]\\Frontend",
        "[Storefront]\\Contributors <- [Storefront]\\Storefront Operators",
        "[Storefront]\\Contributors <- christie.cline@contoso.com",
    ] {
        assert!(
            memberships.iter().any(|m| m == expected),
            "missing {expected}: {memberships:#?}"
        );
    }
    assert!(
        memberships
            .iter()
            .any(|m| m.starts_with("[Storefront]\\Storefront Operators <- ")
                && m.contains("QA Team")),
        "the Entra group is a member: {memberships:#?}"
    );
    let operators_members = memberships
        .iter()
        .filter(|m| m.starts_with("[Storefront]\\Storefront Operators <- "))
        .count();
    assert_eq!(
        operators_members, 4,
        "Exclusive: exactly the listed members: {memberships:#?}"
    );
    assert!(
        permissions
            .iter()
            .any(|p| p.starts_with("Storefront/environment/2: [18, 20]")),
        "{permissions:#?}"
    );

    // Health and metrics, as a scraper sees them.
    let log = env.operator_log();
    let address = log
        .lines()
        .find(|l| l.contains("serving /healthz"))
        .and_then(|l| l.split("address=").nth(1))
        .map(|a| {
            a.trim_matches(|c: char| !c.is_ascii_digit() && c != '.' && c != ':')
                .to_string()
        })
        .ok_or("the operator did not log its metrics address")?;
    let http = reqwest::Client::new();
    for path in ["healthz", "readyz"] {
        let status = http
            .get(format!("http://{address}/{path}"))
            .send()
            .await?
            .status();
        assert!(status.is_success(), "/{path}: {status}");
    }
    let metrics = http
        .get(format!("http://{address}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for family in [
        "azdo_reconciles_total{kind=\"DevOpsMembership\",outcome=\"ready\"}",
        "azdo_reconcile_duration_seconds_bucket",
        "azdo_objects{kind=\"DevOpsGroup\",ready=\"true\"} 2",
        "azdo_client_requests_total",
        "azdo_client_request_duration_seconds_bucket",
        "azdo_auth_token_acquisitions_total",
    ] {
        assert!(
            metrics.contains(family),
            "/metrics lacks {family}:\n{metrics}"
        );
    }

    // Delete what the tenant created (organizations last, so cleanup can still authenticate).
    env.delete_in_order(&samples, Duration::from_secs(90))
        .await?;

    let end = sim_snapshot(&env.sim);
    let (now, then) = (
        strings(&end, "memberships"),
        strings(&before, "memberships"),
    );
    if now != then {
        let extra: Vec<_> = now.iter().filter(|m| !then.contains(m)).collect();
        let missing: Vec<_> = then.iter().filter(|m| !now.contains(m)).collect();
        let log = env.operator_log();
        let tail: Vec<&str> = log.lines().rev().take(80).collect();
        panic!(
            "memberships not restored: left behind {extra:#?}, lost {missing:#?}\n\
             the operator's last log lines:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    assert_eq!(
        strings(&end, "permissions"),
        strings(&before, "permissions"),
        "authorizations restored"
    );
    let mut expected_groups = strings(&before, "groups");
    let kept: Vec<String> = strings(&end, "groups")
        .into_iter()
        .filter(|g| !expected_groups.contains(g))
        .collect();
    assert!(
        kept.iter().all(|g| g.contains("QA Team")),
        "only the orphaned Entra group stays: {kept:?}"
    );
    expected_groups.extend(kept);
    expected_groups.sort();
    assert_eq!(strings(&end, "groups"), expected_groups);
    env.kill_operator().await;
    Ok(())
}
