//! Results: one record per scenario (measured figures beside their lower bounds, the targets
//! checked), printed as a table and written as JSON.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::bounds::{Bound, Pace};
use crate::probe::Footprint;
use crate::requests::Traffic;
use crate::workload::Workload;

/// A target and whether the measurement meets it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

impl Check {
    pub fn new(target: impl Into<String>, measured: impl Into<String>, met: bool) -> Self {
        Self {
            target: target.into(),
            measured: measured.into(),
            met,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    /// `a`..`e`, as in the issue.
    pub id: &'static str,
    pub name: &'static str,
    /// Objects the scenario concerns.
    pub objects: usize,
    /// What `seconds` measures.
    pub seconds_meaning: &'static str,
    pub seconds: f64,
    pub traffic: Traffic,
    pub retry_after_violations: u64,
    pub footprint: Footprint,
    pub bound: Bound,
    /// Scenario-specific figures (drift size, repair time, resync interval...).
    pub notes: Vec<(String, String)>,
    pub checks: Vec<Check>,
}

impl ScenarioResult {
    pub fn requests_ratio(&self) -> f64 {
        ratio(self.traffic.total() as f64, self.bound.requests() as f64)
    }

    pub fn seconds_ratio(&self) -> f64 {
        ratio(self.seconds, self.bound.seconds)
    }
}

/// Measured over bound (1 when both are 0, infinite when only the bound is).
pub fn ratio(measured: f64, bound: f64) -> f64 {
    if bound > 0.0 {
        measured / bound
    } else if measured == 0.0 {
        1.0
    } else {
        f64::INFINITY
    }
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub scale: f64,
    pub workload: Workload,
    pub pace: Pace,
    pub operator_args: Vec<String>,
    pub operator_binary: String,
    pub started_at: String,
    pub wall_seconds: f64,
    pub load_average_before: String,
    pub scenarios: Vec<ScenarioResult>,
}

impl Report {
    pub fn all_met(&self) -> bool {
        self.scenarios
            .iter()
            .all(|s| s.checks.iter().all(|c| c.met))
    }

    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text)
    }

    /// The table (markdown, so it can be pasted into docs/benchmark.md as it is).
    pub fn table(&self) -> String {
        let mut out = String::new();
        let w = &self.workload;
        let _ = writeln!(
            out,
            "azdo-operator bench: scale {} ({} groups, {} memberships x {} members = {} edges from {} users, {} authorizations x {} pipelines, {} role assignments x {} members, {} resource checks x {} checks, {} user entitlements); latency {:.0} ms, org concurrency {}; wall {:.0} s\n",
            self.scale,
            w.groups,
            w.memberships,
            w.members_per_membership,
            w.edges(),
            w.directory_users,
            w.authorizations,
            w.pipelines_per_authorization,
            w.role_assignments,
            w.members_per_role_assignment,
            w.resource_checks,
            w.checks_per_resource,
            w.entitlements,
            self.pace.latency_seconds * 1000.0,
            self.pace.concurrency,
            self.wall_seconds
        );
        let _ = writeln!(
            out,
            "| scenario | time s (bound, x) | requests (bound, x) | reads (bound) | writes (bound) | req/object | 429s | Retry-After violations | peak RSS MiB | CPU s |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
        for s in &self.scenarios {
            let _ = writeln!(
                out,
                "| {} {} | {:.1} ({:.1}, {:.2}x) | {} ({}, {:.2}x) | {} ({}) | {} ({}) | {:.2} | {} | {} | {:.1} | {:.1} |",
                s.id,
                s.name,
                s.seconds,
                s.bound.seconds,
                s.seconds_ratio(),
                s.traffic.total(),
                s.bound.requests(),
                s.requests_ratio(),
                s.traffic.reads,
                s.bound.reads,
                s.traffic.writes,
                s.bound.writes,
                s.traffic.total() as f64 / s.objects.max(1) as f64,
                s.traffic.throttled,
                s.retry_after_violations,
                s.footprint.peak_rss_mib,
                s.footprint.cpu_seconds,
            );
        }
        for s in &self.scenarios {
            let _ = writeln!(
                out,
                "\n{} {}: time = {}; {} token request(s) to Entra",
                s.id, s.name, s.seconds_meaning, s.traffic.token_requests
            );
            for (k, v) in &s.notes {
                let _ = writeln!(out, "  {k}: {v}");
            }
            let profile: Vec<String> = s
                .traffic
                .rate
                .profile(12)
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect();
            let _ = writeln!(
                out,
                "  requests per second: peak {}, mean {:.1}; in 12 slices of the span: {}",
                s.traffic.rate.peak,
                s.traffic.rate.mean,
                profile.join(" ")
            );
            let service = &s.traffic.service;
            let _ = writeln!(
                out,
                "  simulator service time (last {} requests, latency included): mean {:.1} ms, p50 {:.1}, p95 {:.1}, max {:.1}",
                service.requests, service.mean_ms, service.p50_ms, service.p95_ms, service.max_ms
            );
            for r in &service.slowest_routes {
                let _ = writeln!(
                    out,
                    "    {:>6} x {:>5.1} ms (p95 {:>5.1})  {:<6} {}",
                    r.requests, r.mean_ms, r.p95_ms, r.method, r.route
                );
            }
            let _ = writeln!(out, "  requests by route:");
            for r in &s.traffic.routes {
                let throttled = if r.throttled > 0 {
                    format!(" ({} answered 429)", r.throttled)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "    {:>6}  {:<5} {:<6} {}{}",
                    r.count,
                    format!("{:?}", r.effect).to_lowercase(),
                    r.method,
                    r.route,
                    throttled
                );
            }
            let _ = writeln!(out, "  lower bound:");
            for t in &s.bound.terms {
                let _ = writeln!(
                    out,
                    "    {:>6} reads {:>6} writes  {}",
                    t.reads, t.writes, t.what
                );
            }
            for c in &s.checks {
                let _ = writeln!(
                    out,
                    "  [{}] {}: {}",
                    if c.met { "met" } else { "MISSED" },
                    c.target,
                    c.measured
                );
            }
        }
        out
    }
}
