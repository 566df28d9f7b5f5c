//! The curve: the cold converge, the restart and the steady resync at several scales, one row
//! per scale, so that the growth of time, requests, memory and CPU with the organization's size
//! is visible in one table (`bench --curve 0.1,1,3,10`).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::report::{ratio, Report, ScenarioResult};

/// One scale's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurveRow {
    pub scale: f64,
    pub objects: usize,
    pub cold_seconds: f64,
    pub cold_seconds_bound: f64,
    pub cold_requests: u64,
    pub cold_requests_bound: u64,
    pub restart_reads_per_object: f64,
    pub restart_writes: u64,
    pub steady_reads_per_object: f64,
    pub steady_writes: u64,
    /// Requests per second over the steady resync: the busiest second and the mean.
    pub steady_peak_rate: u64,
    pub steady_mean_rate: f64,
    /// The highest peak RSS of the run's scenarios.
    pub peak_rss_mib: f64,
    pub cpu_seconds: f64,
    /// Every target of the run met.
    pub all_met: bool,
}

impl CurveRow {
    pub fn of(report: &Report) -> Self {
        let find = |id: &str| report.scenarios.iter().find(|s| s.id == id);
        let per_object = |s: Option<&ScenarioResult>| {
            s.map_or(0.0, |s| s.traffic.reads as f64 / s.objects.max(1) as f64)
        };
        let (cold, restart, steady) = (find("a"), find("e"), find("b"));
        let objects = report.workload.objects();
        CurveRow {
            scale: report.scale,
            objects,
            cold_seconds: cold.map_or(0.0, |s| s.seconds),
            cold_seconds_bound: cold.map_or(0.0, |s| s.bound.seconds),
            cold_requests: cold.map_or(0, |s| s.traffic.total()),
            cold_requests_bound: cold.map_or(0, |s| s.bound.requests()),
            restart_reads_per_object: per_object(restart),
            restart_writes: restart.map_or(0, |s| s.traffic.writes),
            steady_reads_per_object: per_object(steady),
            steady_writes: steady.map_or(0, |s| s.traffic.writes),
            steady_peak_rate: steady.map_or(0, |s| s.traffic.rate.peak),
            steady_mean_rate: steady.map_or(0.0, |s| s.traffic.rate.mean),
            peak_rss_mib: report
                .scenarios
                .iter()
                .map(|s| s.footprint.peak_rss_mib)
                .fold(0.0, f64::max),
            cpu_seconds: report
                .scenarios
                .iter()
                .map(|s| s.footprint.cpu_seconds)
                .sum(),
            all_met: report.all_met(),
        }
    }
}

/// The curve as a markdown table, with the memory each object adds between consecutive scales.
pub fn table(rows: &[CurveRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| scale | objects | cold s (bound, x) | cold requests (bound, x) | restart reads/object (writes) | steady reads/object (writes) | steady req/s peak (mean) | peak RSS MiB | KiB/object (marginal) | CPU s | targets |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
    let mut previous: Option<&CurveRow> = None;
    for r in rows {
        let marginal = previous
            .filter(|p| r.objects > p.objects)
            .map(|p| {
                format!(
                    "{:.1}",
                    (r.peak_rss_mib - p.peak_rss_mib) * 1024.0 / (r.objects - p.objects) as f64
                )
            })
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} ({:.1}, {:.2}x) | {} ({}, {:.2}x) | {:.2} ({}) | {:.2} ({}) | {} ({:.1}) | {:.1} | {:.1} ({marginal}) | {:.1} | {} |",
            r.scale,
            r.objects,
            r.cold_seconds,
            r.cold_seconds_bound,
            ratio(r.cold_seconds, r.cold_seconds_bound),
            r.cold_requests,
            r.cold_requests_bound,
            ratio(r.cold_requests as f64, r.cold_requests_bound as f64),
            r.restart_reads_per_object,
            r.restart_writes,
            r.steady_reads_per_object,
            r.steady_writes,
            r.steady_peak_rate,
            r.steady_mean_rate,
            r.peak_rss_mib,
            r.peak_rss_mib * 1024.0 / r.objects.max(1) as f64,
            r.cpu_seconds,
            if r.all_met { "met" } else { "MISSED" },
        );
        previous = Some(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scale: f64, objects: usize, rss: f64) -> CurveRow {
        CurveRow {
            scale,
            objects,
            cold_seconds: 10.0,
            cold_seconds_bound: 8.0,
            cold_requests: 120,
            cold_requests_bound: 100,
            restart_reads_per_object: 1.0,
            restart_writes: 0,
            steady_reads_per_object: 1.0,
            steady_writes: 0,
            steady_peak_rate: 9,
            steady_mean_rate: 4.5,
            peak_rss_mib: rss,
            cpu_seconds: 1.0,
            all_met: true,
        }
    }

    #[test]
    fn the_table_gives_the_memory_each_object_adds_between_scales() {
        let t = table(&[row(0.1, 100, 20.0), row(1.0, 1100, 30.0)]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4);
        // 10 MiB over 1,000 more objects: 10.24 KiB each.
        assert!(lines[3].contains("(10.2)"), "{}", lines[3]);
        assert!(lines[2].contains("(-)"), "{}", lines[2]);
        assert!(lines[3].contains("120 (100, 1.20x)"), "{}", lines[3]);
    }
}
