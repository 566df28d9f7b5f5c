//! What the bench reads from the running operator: CPU time and peak resident memory from
//! `/proc/<pid>`, and reconcile counts from its Prometheus endpoint.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("reading /proc/{pid}/{file}: {source}")]
    Proc {
        pid: u32,
        file: &'static str,
        source: std::io::Error,
    },
    #[error("/proc/{pid}/{file} has no {field}")]
    Field {
        pid: u32,
        file: &'static str,
        field: &'static str,
    },
    #[error("scraping the operator's metrics: {0}")]
    Metrics(#[from] reqwest::Error),
}

/// CPU seconds and peak RSS of the operator over one scenario.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Footprint {
    pub cpu_seconds: f64,
    pub peak_rss_mib: f64,
}

/// One operator process.
#[derive(Debug, Clone)]
pub struct Operator {
    pub pid: u32,
    metrics_url: String,
    http: reqwest::Client,
}

/// The CPU time at the start of a measurement.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    cpu_seconds: f64,
}

impl Operator {
    pub fn new(pid: u32, metrics_port: u16) -> Self {
        Self {
            pid,
            metrics_url: format!("http://127.0.0.1:{metrics_port}/metrics"),
            http: reqwest::Client::new(),
        }
    }

    fn read(&self, file: &'static str) -> Result<String, ProbeError> {
        std::fs::read_to_string(format!("/proc/{}/{file}", self.pid)).map_err(|source| {
            ProbeError::Proc {
                pid: self.pid,
                file,
                source,
            }
        })
    }

    /// utime + stime, in seconds.
    pub fn cpu_seconds(&self) -> Result<f64, ProbeError> {
        let stat = self.read("stat")?;
        // Fields after the command name (which may contain spaces) start at field 3.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .ok_or(ProbeError::Field {
                pid: self.pid,
                file: "stat",
                field: "command",
            })?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
        // utime and stime are fields 14 and 15: indexes 11 and 12 after the command.
        let (Some(user), Some(system)) = (ticks(11), ticks(12)) else {
            return Err(ProbeError::Field {
                pid: self.pid,
                file: "stat",
                field: "utime/stime",
            });
        };
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Ok((user + system) as f64 / hz)
    }

    /// VmHWM (peak resident set) in MiB.
    pub fn peak_rss_mib(&self) -> Result<f64, ProbeError> {
        let status = self.read("status")?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or(ProbeError::Field {
                pid: self.pid,
                file: "status",
                field: "VmHWM",
            })?;
        Ok(kib as f64 / 1024.0)
    }

    /// Start a measurement: reset the peak RSS to the current RSS (`clear_refs` 5) and note
    /// the CPU time.
    pub fn start(&self) -> Result<Sample, ProbeError> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").map_err(|source| {
            ProbeError::Proc {
                pid: self.pid,
                file: "clear_refs",
                source,
            }
        })?;
        Ok(Sample {
            cpu_seconds: self.cpu_seconds()?,
        })
    }

    /// CPU seconds since `since` and the peak RSS since then.
    pub fn footprint(&self, since: Sample) -> Result<Footprint, ProbeError> {
        Ok(Footprint {
            cpu_seconds: self.cpu_seconds()? - since.cpu_seconds,
            peak_rss_mib: self.peak_rss_mib()?,
        })
    }

    /// Reconciles so far by kind (every outcome), from `azdo_reconciles_total`.
    pub async fn reconciles(&self) -> Result<BTreeMap<String, u64>, ProbeError> {
        let text = self
            .http
            .get(&self.metrics_url)
            .timeout(Duration::from_secs(5))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(parse_reconciles(&text))
    }

    /// Wait until the metrics endpoint answers (the operator has started).
    pub async fn wait_serving(&self, timeout: Duration) -> Result<(), ProbeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.reconciles().await {
                Ok(_) => return Ok(()),
                Err(e) if tokio::time::Instant::now() > deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// `azdo_reconciles_total{kind="K",outcome="O"} N` summed per kind.
fn parse_reconciles(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("azdo_reconciles_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.split_once('}') else {
            continue;
        };
        let kind = labels
            .split(',')
            .find_map(|l| l.trim().strip_prefix("kind="))
            .map(|k| k.trim_matches('"').to_string());
        let value = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok());
        if let (Some(kind), Some(value)) = (kind, value) {
            *counts.entry(kind).or_insert(0) += value as u64;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconciles_are_summed_per_kind() {
        let text = "# HELP azdo_reconciles Reconciles\n\
            azdo_reconciles_total{kind=\"DevOpsGroup\",outcome=\"ready\"} 7\n\
            azdo_reconciles_total{kind=\"DevOpsGroup\",outcome=\"not_ready\"} 2\n\
            azdo_reconciles_total{kind=\"DevOpsMembership\",outcome=\"ready\"} 3\n\
            azdo_reconcile_errors_total{kind=\"DevOpsGroup\",reason=\"X\"} 9\n";
        let counts = parse_reconciles(text);
        assert_eq!(counts.get("DevOpsGroup"), Some(&9));
        assert_eq!(counts.get("DevOpsMembership"), Some(&3));
        assert_eq!(counts.len(), 2);
    }

    #[test]
    fn this_process_can_be_probed() {
        let me = Operator::new(std::process::id(), 0);
        let start = me.start().expect("clear_refs");
        assert!(me.peak_rss_mib().expect("VmHWM") > 1.0);
        let f = me.footprint(start).expect("footprint");
        assert!(f.cpu_seconds >= 0.0);
    }
}
