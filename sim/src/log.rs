//! The request log: every request to the simulated services, plus counters per method and route.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::Serialize;

const MAX_RECORDS: usize = 20_000;

/// Which simulated host served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum HostKind {
    /// `dev.azure.com`
    Dev,
    /// `vssps.dev.azure.com`
    Vssps,
    /// `vsaex.dev.azure.com`
    Vsaex,
    /// `login.microsoftonline.com`
    Login,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub method: String,
    pub host: HostKind,
    /// The route template, e.g. `/{org}/_apis/graph/groups/{descriptor}`.
    pub route: String,
    pub path: String,
    /// The query string (without `?`; empty when none).
    pub query: String,
    /// 0 when the connection was dropped without a response.
    pub status: u16,
    /// The calling identity's name, when it authenticated.
    pub identity: Option<String>,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteCounter {
    pub method: String,
    pub host: Option<HostKind>,
    pub route: String,
    pub count: u64,
    pub by_status: BTreeMap<u16, u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestLogSnapshot {
    pub total: u64,
    pub requests: Vec<RequestRecord>,
    pub counters: Vec<RouteCounter>,
}

impl RequestLogSnapshot {
    /// How many requests matched `method` and `route` (template).
    pub fn count(&self, method: &str, route: &str) -> u64 {
        self.counters
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method) && c.route == route)
            .map(|c| c.count)
            .sum()
    }
}

#[derive(Debug, Default)]
pub struct RequestLog {
    next_seq: u64,
    records: VecDeque<RequestRecord>,
    counters: BTreeMap<(String, HostKind, String), RouteCounter>,
}

impl RequestLog {
    pub fn record(&mut self, mut record: RequestRecord) {
        self.next_seq += 1;
        record.seq = self.next_seq;
        let counter = self
            .counters
            .entry((record.method.clone(), record.host, record.route.clone()))
            .or_insert_with(|| RouteCounter {
                method: record.method.clone(),
                host: Some(record.host),
                route: record.route.clone(),
                ..RouteCounter::default()
            });
        counter.count += 1;
        *counter.by_status.entry(record.status).or_default() += 1;
        if self.records.len() == MAX_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    pub fn snapshot(&self) -> RequestLogSnapshot {
        RequestLogSnapshot {
            total: self.next_seq,
            requests: self.records.iter().cloned().collect(),
            counters: self.counters.values().cloned().collect(),
        }
    }

    pub fn clear(&mut self) {
        *self = RequestLog::default();
    }
}
