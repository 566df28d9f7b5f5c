//! `make demo`: a real control plane, azdo-sim with the default seed, and the operator, with
//! config/samples/ applied. Runs until SIGTERM/SIGINT (`make demo-stop`); everything it started
//! stops with it.
//!
//! Usage: demo <state-dir>. Writes `<state-dir>/env.sh` (KUBECONFIG and friends),
//! `<state-dir>/summary.txt`, and `<state-dir>/ready` once every sample is Ready.

#[path = "../../tests/e2e/operator_env.rs"]
#[allow(dead_code)]
mod operator_env;
#[path = "../../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use operator_env::{sim_snapshot, OperatorEnv, TestResult};

fn step(message: &str) {
    eprintln!("demo: {message}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> TestResult {
    let state = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/demo".into()),
    );
    std::fs::create_dir_all(&state)?;
    let _ = std::fs::remove_file(state.join("ready"));
    step("starting the control plane (etcd + kube-apiserver) and azdo-sim");
    let mut env = OperatorEnv::start_in_namespace("team-a").await?;
    env.create_team_service_account().await.or_else(|e| {
        if e.to_string().contains("AlreadyExists") {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    step("starting azdo-operator (workload identity: a TokenRequest token exchanged at azdo-sim's Entra endpoint)");
    env.start_operator(&["--resync-interval", "2m"]).await?;
    let samples = env.samples()?;
    step(&format!(
        "applying config/samples/ ({} objects) into namespace team-a",
        samples.len()
    ));
    let started = Instant::now();
    env.apply(&samples).await?;
    env.wait_ready(&samples, "True", Duration::from_secs(120))
        .await?;
    let converged = started.elapsed();

    let kubeconfig = env.cp.kubeconfig_path().display().to_string();
    let kubectl = env.cp.bin_dir().join("kubectl").display().to_string();
    let env_sh = format!(
        "export KUBECONFIG={kubeconfig}\nexport PATH={}:$PATH\nexport AZDO_SIM_DEV={}\nexport AZDO_SIM_VSSPS={}\nexport AZDO_SIM_LOGIN={}\nexport AZDO_SIM_CA={}\n",
        env.cp.bin_dir().display(),
        env.sim.dev_url(),
        env.sim.vssps_url(),
        env.sim.login_url(),
        env.dir.join("sim-ca.pem").display()
    );
    std::fs::write(state.join("env.sh"), &env_sh)?;
    let get = std::process::Command::new(&kubectl)
        .args(["get", "azdo", "-A"])
        .env("KUBECONFIG", &kubeconfig)
        .output()?;
    let mut summary = String::new();
    writeln!(
        summary,
        "Every sample is Ready ({} objects, {:.1}s after apply).\n",
        samples.len(),
        converged.as_secs_f64()
    )?;
    writeln!(
        summary,
        "$ kubectl get azdo -A\n{}",
        String::from_utf8_lossy(&get.stdout)
    )?;
    let snapshot = sim_snapshot(&env.sim);
    writeln!(summary, "azdo-sim now holds (organization contoso):")?;
    for line in snapshot["memberships"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
    {
        if line.contains("Storefront Operators")
            || line.contains("christie")
            || line.contains("QA Team")
        {
            writeln!(summary, "  membership  {line}")?;
        }
    }
    for line in snapshot["permissions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
    {
        if line.starts_with("Storefront/environment/2") {
            writeln!(summary, "  authorized  {line}")?;
        }
    }
    writeln!(
        summary,
        "\nTry it:\n  source {state}/env.sh\n  kubectl get azdo -A\n  kubectl -n team-a describe devopsmembership storefront-operators\n  kubectl -n team-a edit devopsmembership storefront-operators   # change members, watch it converge\n  curl --cacert $AZDO_SIM_CA $AZDO_SIM_DEV/_sim/state | head   # the simulator's state\nOperator log: {log}\nStop everything: make demo-stop",
        state = state.display(),
        log = env.dir.join("operator.log").display()
    )?;
    std::fs::write(state.join("summary.txt"), &summary)?;
    std::fs::write(state.join("ready"), "")?;
    step("ready");

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    step("stopping");
    env.kill_operator().await;
    Ok(())
}
