//! `make bench`: the real operator against a real kube-apiserver and azdo-sim with injected
//! latency, in five scenarios (cold converge, restart, steady resync, drift, rate-limited cold
//! converge). Prints a table beside the lower bounds and writes target/bench/result.json.
//! Method and results: docs/benchmark.md.
//!
//! Usage: bench [--scale 0.1] [--latency-ms 25] [--org-concurrency 8] [--resync 30s] ...
//!        bench --curve 0.1,1,3,10   (cold, restart and steady at each scale, one row each)

#[path = "../../tests/e2e/operator_env.rs"]
#[allow(dead_code)]
mod operator_env;
#[path = "../../tests/support/mod.rs"]
mod support;

mod bounds;
mod cluster;
mod curve;
mod probe;
mod report;
mod requests;
mod scenarios;
mod seed;
mod workload;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};

use bounds::{Pace, RateLimit};
use operator_env::{operator_binary, OperatorEnv, TestResult};
use report::Report;
use scenarios::{Bench, Settings};
use workload::Workload;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Cold,
    Restart,
    Steady,
    Drift,
    Throttled,
}

#[derive(Debug, Parser)]
#[command(about = "Benchmark azdo-operator against kube-apiserver and azdo-sim")]
struct Args {
    /// Fraction of the full workload (200 groups, 200 memberships x 25, 100 authorizations x 5,
    /// 100 role assignments x 5, 100 resource checks x 2, 100 user entitlements); above 1 the
    /// directory and the rate-limit budget grow with it.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Run the cold converge, the restart and the steady resync at each of these scales (a fresh
    /// control plane and simulator each; at scale 1 every `--scenarios`) and print one row per
    /// scale; `--scale` is then ignored.
    #[arg(long, value_delimiter = ',')]
    curve: Vec<f64>,
    /// Latency the simulator adds to every Azure DevOps request.
    #[arg(long, default_value_t = 25)]
    latency_ms: u64,
    /// The operator's --org-concurrency (Azure DevOps requests in flight).
    #[arg(long, default_value_t = 8)]
    org_concurrency: usize,
    /// The operator's --reconcile-concurrency.
    #[arg(long, default_value_t = 16)]
    reconcile_concurrency: usize,
    /// Objects created at once on the apiserver.
    #[arg(long, default_value_t = 16)]
    create_concurrency: usize,
    /// Resync interval for the restart, steady and drift scenarios (default 30 s, or 15 ms per
    /// object when that is longer, so that one resync pass fits the interval at any scale).
    #[arg(long, value_parser = humantime::parse_duration)]
    resync: Option<Duration>,
    /// Graph list page size of the simulator. Azure DevOps answers up to 500 groups or users
    /// per page (what the Azure DevOps CLI shows before it follows a continuation token); the
    /// simulator's own default is 5, to exercise paging in the tests.
    #[arg(long, default_value_t = 500)]
    graph_page_size: usize,
    /// Rate limit of the throttled scenario: requests per window (default 2000 x scale).
    #[arg(long)]
    throttle_budget: Option<u64>,
    #[arg(long, default_value_t = 30)]
    throttle_window_seconds: u64,
    /// Fraction of the budget from which the simulator delays answers (1.0: none, straight to
    /// 429 with Retry-After).
    #[arg(long, default_value_t = 0.8)]
    throttle_delay_from: f64,
    /// The operator binary (default: azdo-operator next to this executable's directory).
    #[arg(long)]
    operator: Option<PathBuf>,
    /// Extra arguments for `azdo-operator run` (repeatable).
    #[arg(long = "operator-arg", allow_hyphen_values = true)]
    operator_args: Vec<String>,
    /// Which scenarios to run (in the fixed order cold, restart, steady, drift, throttled;
    /// restart, steady and drift need cold).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "cold,restart,steady,drift,throttled"
    )]
    scenarios: Vec<Scenario>,
    /// Also write this scale's curve row there (used by `--curve`, which runs each scale in a
    /// process of its own).
    #[arg(long, hide = true)]
    row_out: Option<PathBuf>,
    /// Where to write the JSON result.
    #[arg(long, default_value = "target/bench/result.json")]
    out: PathBuf,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Largest scale the runner accepts (the simulator seeds 2,000 directory users per unit).
const MAX_SCALE: f64 = 20.0;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> TestResult {
    let args = Args::parse();
    // Quiet: the simulator's per-request debug lines would cost more than the operator.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .try_init();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let scales = if args.curve.is_empty() {
        vec![args.scale]
    } else {
        args.curve.clone()
    };
    if let Some(bad) = scales.iter().find(|s| !(**s > 0.0 && **s <= MAX_SCALE)) {
        return Err(format!("scale {bad} is outside (0, {MAX_SCALE}]").into());
    }
    if args.curve.is_empty() {
        let (report, outcome) = run_at(&args, args.scale, &args.scenarios).await?;
        report.write_json(&args.out)?;
        if let Some(row) = &args.row_out {
            std::fs::write(row, serde_json::to_string(&curve::CurveRow::of(&report))?)?;
        }
        println!("{}", report.table());
        println!("JSON: {}", args.out.display());
        if !report.all_met() {
            eprintln!("bench: some targets were missed (see [MISSED] above)");
        }
        return outcome;
    }
    // Each scale in a process of its own: the test harness shares one control plane per
    // process, and a scale's objects must not meet the next scale's operator.
    let mut rows = Vec::new();
    for &scale in &scales {
        let part = args.out.with_file_name(format!("curve-{scale}.json"));
        let row = part.with_file_name(format!("curve-{scale}.row.json"));
        let _ = std::fs::remove_file(&row);
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command.args(pass_through()).args([
            "--scale".to_string(),
            scale.to_string(),
            "--out".to_string(),
            part.display().to_string(),
            "--row-out".to_string(),
            row.display().to_string(),
        ]);
        // Every scale: cold, restart, steady. The documented workload (scale 1) also what
        // `--scenarios` asks (by default drift and the rate-limited cold converge too).
        if scale != 1.0 {
            command.args(["--scenarios", "cold,restart,steady"]);
        } else if !passed("--scenarios") {
            command.args(["--scenarios", "cold,restart,steady,drift,throttled"]);
        }
        let status = command.status()?;
        let text = std::fs::read_to_string(&row)
            .map_err(|e| format!("scale {scale} left no result ({status}): {e}"))?;
        rows.push(serde_json::from_str::<curve::CurveRow>(&text)?);
        // Written after every scale, so a long curve that stops early keeps what it measured.
        write_curve(&args.out, &rows)?;
        if !status.success() {
            return Err(format!("scale {scale} failed ({status}); see above").into());
        }
    }
    println!(
        "azdo-operator bench curve (latency {} ms, org concurrency {}):\n",
        args.latency_ms, args.org_concurrency
    );
    println!("{}", curve::table(&rows));
    println!("JSON: {}", args.out.display());
    if rows.iter().any(|r| !r.all_met) {
        eprintln!("bench: some targets were missed (see [MISSED] above)");
    }
    Ok(())
}

/// This process's arguments without `--curve`, `--out`, `--scale` and `--row-out` (and their
/// values), for the process of one scale.
fn pass_through() -> Vec<String> {
    const DROPPED: [&str; 4] = ["--curve", "--out", "--scale", "--row-out"];
    let mut out = Vec::new();
    let mut skip_value = false;
    for arg in std::env::args().skip(1) {
        if skip_value {
            skip_value = false;
            continue;
        }
        if DROPPED.contains(&arg.as_str()) {
            skip_value = true;
            continue;
        }
        if DROPPED.iter().any(|d| arg.starts_with(&format!("{d}="))) {
            continue;
        }
        out.push(arg);
    }
    out
}

/// Whether this process was given `flag`.
fn passed(flag: &str) -> bool {
    std::env::args().any(|a| a == flag || a.starts_with(&format!("{flag}=")))
}

fn write_curve(path: &std::path::Path, rows: &[curve::CurveRow]) -> TestResult {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::json!({ "curve": rows });
    std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    Ok(())
}

/// Run `wanted` at `scale` on a fresh control plane and simulator. The report holds what was
/// measured even when a scenario failed (the outcome says which).
async fn run_at(
    args: &Args,
    scale: f64,
    wanted_scenarios: &[Scenario],
) -> TestResult<(Report, TestResult)> {
    let workload = Workload::at_scale(scale);
    let operator = match &args.operator {
        Some(path) => path.clone(),
        None => operator_binary()?,
    };
    // By default 30 s, or 15 ms per object beyond that (about five times what one pass needs
    // at the default pace), so that the resync of every object fits the interval at any scale.
    let resync = args.resync.unwrap_or_else(|| {
        Duration::from_secs(30).max(Duration::from_millis(15) * workload.objects() as u32)
    });
    let settings = Settings {
        workload,
        pace: Pace {
            concurrency: args.org_concurrency,
            latency_seconds: args.latency_ms as f64 / 1000.0,
            rate_limit: None,
        },
        operator_binary: operator.clone(),
        operator_args: args.operator_args.clone(),
        reconcile_concurrency: args.reconcile_concurrency,
        create_concurrency: args.create_concurrency,
        resync,
        graph_page_size: args.graph_page_size,
        throttling: RateLimit {
            budget: args
                .throttle_budget
                .unwrap_or(((2000.0 * scale).round() as u64).max(20)),
            window_seconds: args.throttle_window_seconds as f64,
            delay_from: args.throttle_delay_from,
        },
    };
    let load_before = load_average();
    let started_at = chrono::Utc::now().to_rfc3339();
    let wall = Instant::now();
    eprintln!(
        "bench: scale {scale} ({} objects), operator {}, load average {load_before}",
        workload.objects(),
        operator.display()
    );
    eprintln!("bench: starting the control plane and azdo-sim");
    let env = OperatorEnv::start_with_seed("bench", |seed| {
        seed::extend(seed, &workload)?;
        Ok(())
    })
    .await?;
    let mut bench = Bench::new(env, settings.clone()).await?;
    let mut results = Vec::new();
    let wanted = |s: Scenario| wanted_scenarios.contains(&s);
    let outcome: TestResult = async {
        if wanted(Scenario::Cold) {
            eprintln!("bench: a) cold converge");
            results.push(bench.cold().await?);
            if wanted(Scenario::Restart) || wanted(Scenario::Steady) || wanted(Scenario::Drift) {
                eprintln!("bench: e) operator restart");
                let restart = bench.restart().await?;
                if wanted(Scenario::Steady) || wanted(Scenario::Drift) {
                    eprintln!("bench: b) steady resync");
                    let steady = bench.steady().await?;
                    if wanted(Scenario::Steady) {
                        results.push(steady);
                    }
                    if wanted(Scenario::Drift) {
                        eprintln!("bench: c) drift");
                        results.push(bench.drift().await?);
                    }
                }
                if wanted(Scenario::Restart) {
                    results.push(restart);
                }
            }
        }
        if wanted(Scenario::Throttled) {
            eprintln!("bench: d) cold converge, rate-limited");
            results.push(bench.throttled().await?);
        }
        Ok(())
    }
    .await;
    bench.finish().await?;
    if let Err(e) = &outcome {
        eprintln!("bench failed: {e}\n{}", bench.log_tail());
    }
    results.sort_by_key(|r| r.id);
    let report = Report {
        scale,
        workload,
        pace: settings.pace,
        operator_args: args.operator_args.clone(),
        operator_binary: operator.display().to_string(),
        started_at,
        wall_seconds: wall.elapsed().as_secs_f64(),
        load_average_before: load_before,
        scenarios: results,
    };
    Ok((report, outcome))
}
