//! Two replicas with leader election (kill the leader, the other takes over), and an operator
//! killed in the middle of reconciling (no duplicates after the restart).

use std::time::{Duration, Instant};

use azdo_sim::{Faults, Latency};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::operator_env::{OperatorEnv, TestResult};
use crate::sim_api::{groups_named, members_of};
use crate::support::kit::ToObject;

async fn holder(env: &OperatorEnv) -> TestResult<Option<String>> {
    let api: Api<Lease> = Api::namespaced(env.client().await?, &env.namespace);
    Ok(api
        .get_opt("azdo-operator-leader")
        .await?
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_replica_takes_over_when_the_leader_dies() -> TestResult {
    let mut env = OperatorEnv::start("leader").await?;
    for identity in ["replica-a", "replica-b"] {
        env.start_replica(identity, &["--lease-duration", "3s"])
            .await?;
    }
    let fx = env.fixtures();
    let org = fx.cluster_organization().object();
    let first = fx.group("first", "Leader First").object();
    env.apply(&[org.clone(), first.clone()]).await?;
    env.wait_ready(
        &[org.clone(), first.clone()],
        "True",
        Duration::from_secs(30),
    )
    .await?;
    let leader = holder(&env).await?.ok_or("no Lease holder")?;
    let (leader_index, survivor) = if leader == "replica-a" {
        (0, "replica-b")
    } else {
        (1, "replica-a")
    };
    env.kill_operator_at(leader_index).await;
    let killed = Instant::now();
    let second = fx.group("second", "Leader Second").object();
    env.apply(std::slice::from_ref(&second)).await?;
    env.wait_ready(
        std::slice::from_ref(&second),
        "True",
        Duration::from_secs(30),
    )
    .await?;
    eprintln!(
        "{survivor} took over and reconciled within {:?} of the leader's death",
        killed.elapsed()
    );
    assert_eq!(holder(&env).await?.as_deref(), Some(survivor));

    // A graceful stop (SIGTERM, as in a rolling update) releases the Lease: a standby replica
    // takes over well before the Lease would have expired.
    env.start_replica("replica-c", &["--lease-duration", "3s"])
        .await?;
    let survivor_index = 1 - leader_index;
    env.terminate_operator_at(survivor_index).await?;
    let stopped = Instant::now();
    let third = fx.group("third", "Leader Third").object();
    env.apply(std::slice::from_ref(&third)).await?;
    env.wait_ready(
        std::slice::from_ref(&third),
        "True",
        Duration::from_secs(30),
    )
    .await?;
    eprintln!(
        "replica-c reconciled {:?} after a graceful stop of the leader",
        stopped.elapsed()
    );
    assert_eq!(holder(&env).await?.as_deref(), Some("replica-c"));
    assert!(
        env.operator_log_all().contains("released the leader Lease"),
        "the stopping leader released its Lease"
    );
    assert_eq!(groups_named(&env, "[Storefront]\\Leader First").len(), 1);
    assert_eq!(groups_named(&env, "[Storefront]\\Leader Second").len(), 1);
    env.delete_in_order(&[first, second, third, org], Duration::from_secs(30))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_killed_mid_reconcile_leaves_no_duplicates() -> TestResult {
    let mut env = OperatorEnv::start("restart").await?;
    env.create_team_service_account().await?;
    // Slow Azure DevOps so the kill lands while calls are in flight.
    env.sim.control().set_faults(Faults {
        latency: Some(Latency {
            fixed_ms: 150,
            jitter_ms: 50,
        }),
        ..Faults::default()
    });
    env.start_operator(&[]).await?;
    let samples = env.samples()?;
    env.apply(&samples).await?;
    // SIGKILL at points drawn from fixed seeds (reproducible), each while calls are in flight.
    for seed in [7u64, 19, 42, 1234] {
        let kill_after = 150 + seed.wrapping_mul(2_654_435_761) % 900;
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        env.kill_operator().await;
        env.start_operator(&[]).await?;
    }
    env.wait_ready(&samples, "True", Duration::from_secs(90))
        .await?;
    assert_eq!(
        groups_named(&env, "[Storefront]\\Storefront Operators").len(),
        1,
        "no duplicate group"
    );
    let operators = groups_named(&env, "[Storefront]\\Storefront Operators")[0]
        .0
        .clone();
    assert_eq!(
        members_of(&env, &operators).len(),
        4,
        "{:?}",
        members_of(&env, &operators)
    );
    env.sim.control().set_faults(Faults::default());
    env.delete_in_order(&samples, Duration::from_secs(90))
        .await?;
    assert!(groups_named(&env, "[Storefront]\\Storefront Operators").is_empty());
    Ok(())
}
