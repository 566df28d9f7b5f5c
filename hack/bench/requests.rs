//! The simulator's request log, summarized: Azure DevOps requests by route, split into reads
//! and writes, throttled answers, and the requests of the pass (first to last).

use azdo_sim::{HostKind, RequestLogSnapshot};
use serde::Serialize;

/// Whether a request can change Azure DevOps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Effect {
    Read,
    Write,
}

/// GET and HEAD read; so do the POSTs that only search (`subjectquery`, `subjectlookup`).
/// Every other POST, PUT, PATCH and DELETE writes (materializing a user is a POST: it is
/// idempotent, but it is a write on the wire and is counted as one).
pub fn effect(method: &str, route: &str) -> Effect {
    let searching = route.ends_with("/subjectquery") || route.ends_with("/subjectlookup");
    match method.to_ascii_uppercase().as_str() {
        "GET" | "HEAD" => Effect::Read,
        "POST" if searching => Effect::Read,
        _ => Effect::Write,
    }
}

/// Requests to one route with one method.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteTraffic {
    pub method: String,
    pub route: String,
    pub effect: Effect,
    pub count: u64,
    /// Answers with status 429.
    pub throttled: u64,
}

/// Azure DevOps traffic of one scenario (the Entra token endpoint is counted apart).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Traffic {
    pub reads: u64,
    pub writes: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// Requests to the Entra token endpoint (not Azure DevOps).
    pub token_requests: u64,
    pub routes: Vec<RouteTraffic>,
    /// Seconds from the first to the last Azure DevOps request of the log.
    pub span_seconds: f64,
    /// Requests of the identity that arrived less than a second (the shortest Retry-After)
    /// after it was answered 429, with the longest such gap: what the simulator counts as
    /// Retry-After violations, and whether they were already on their way when the 429 left.
    pub early_after_429: EarlyArrivals,
    /// Requests per second over the span: is the load flat or in bursts?
    pub rate: Rate,
    /// How long the simulator took to answer (injected latency included), over the requests
    /// its log still holds (the last 20,000): time beyond the latency is spent in the
    /// simulator, not on the wire or in the operator.
    pub service: ServiceTime,
}

/// Milliseconds from a request's arrival at the simulator to its answer.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTime {
    pub requests: usize,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    /// The routes the simulator spent the most time on (count times mean), slowest first.
    pub slowest_routes: Vec<RouteServiceTime>,
}

/// Service time of one route with one method.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteServiceTime {
    pub method: String,
    pub route: String,
    pub requests: usize,
    pub mean_ms: f64,
    pub p95_ms: f64,
}

/// How many routes `slowest_routes` keeps.
const SLOWEST_ROUTES: usize = 8;

impl ServiceTime {
    pub fn of(mut durations_ms: Vec<f64>) -> Self {
        if durations_ms.is_empty() {
            return ServiceTime::default();
        }
        durations_ms.sort_by(f64::total_cmp);
        let n = durations_ms.len();
        let at = |q: f64| durations_ms[((n - 1) as f64 * q).round() as usize];
        ServiceTime {
            requests: n,
            mean_ms: durations_ms.iter().sum::<f64>() / n as f64,
            p50_ms: at(0.5),
            p95_ms: at(0.95),
            max_ms: durations_ms[n - 1],
            slowest_routes: Vec::new(),
        }
    }

    /// Over `(method, route, milliseconds)` of each request, with the slowest routes.
    pub fn by_route<'a>(requests: impl Iterator<Item = (&'a str, &'a str, f64)>) -> Self {
        let mut routes: std::collections::BTreeMap<(&str, &str), Vec<f64>> = Default::default();
        let mut all = Vec::new();
        for (method, route, ms) in requests {
            routes.entry((method, route)).or_default().push(ms);
            all.push(ms);
        }
        let mut slowest: Vec<RouteServiceTime> = routes
            .into_iter()
            .map(|((method, route), durations)| {
                let time = ServiceTime::of(durations);
                RouteServiceTime {
                    method: method.to_string(),
                    route: route.to_string(),
                    requests: time.requests,
                    mean_ms: time.mean_ms,
                    p95_ms: time.p95_ms,
                }
            })
            .collect();
        slowest.sort_by(|a, b| {
            (b.mean_ms * b.requests as f64).total_cmp(&(a.mean_ms * a.requests as f64))
        });
        slowest.truncate(SLOWEST_ROUTES);
        ServiceTime {
            slowest_routes: slowest,
            ..ServiceTime::of(all)
        }
    }
}

/// Azure DevOps requests per second, from the first request's second to the last's.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rate {
    /// The busiest second.
    pub peak: u64,
    /// Requests over the seconds of the span.
    pub mean: f64,
    /// Requests in each second.
    pub per_second: Vec<u64>,
}

impl Rate {
    /// From arrival times in milliseconds (any order).
    pub fn of(mut arrivals_ms: Vec<f64>) -> Self {
        arrivals_ms.sort_by(f64::total_cmp);
        let (Some(first), Some(last)) = (arrivals_ms.first(), arrivals_ms.last()) else {
            return Rate::default();
        };
        let seconds = ((last - first) / 1000.0).floor() as usize + 1;
        let mut per_second = vec![0u64; seconds];
        for at in &arrivals_ms {
            per_second[((at - first) / 1000.0).floor() as usize] += 1;
        }
        Rate {
            peak: per_second.iter().copied().max().unwrap_or(0),
            mean: arrivals_ms.len() as f64 / seconds as f64,
            per_second,
        }
    }

    /// The rate in `buckets` equal slices of the span (requests per second in each), for a
    /// one-line picture of a long pass.
    pub fn profile(&self, buckets: usize) -> Vec<f64> {
        let n = self.per_second.len();
        if n == 0 || buckets == 0 {
            return Vec::new();
        }
        let buckets = buckets.min(n);
        (0..buckets)
            .map(|b| {
                let (from, to) = (b * n / buckets, (b + 1) * n / buckets);
                let sum: u64 = self.per_second[from..to].iter().sum();
                sum as f64 / (to - from).max(1) as f64
            })
            .collect()
    }
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EarlyArrivals {
    pub count: u64,
    pub max_gap_ms: f64,
}

impl Traffic {
    pub fn total(&self) -> u64 {
        self.reads + self.writes
    }

    pub fn from_log(log: &RequestLogSnapshot) -> Self {
        let mut traffic = Traffic::default();
        for counter in &log.counters {
            if counter.host == Some(HostKind::Login) {
                traffic.token_requests += counter.count;
                continue;
            }
            let effect = effect(&counter.method, &counter.route);
            match effect {
                Effect::Read => traffic.reads += counter.count,
                Effect::Write => traffic.writes += counter.count,
            }
            let throttled = counter.by_status.get(&429).copied().unwrap_or(0);
            traffic.throttled += throttled;
            traffic.routes.push(RouteTraffic {
                method: counter.method.clone(),
                route: counter.route.clone(),
                effect,
                count: counter.count,
                throttled,
            });
        }
        traffic.routes.sort_by_key(|r| std::cmp::Reverse(r.count));
        let times: Vec<_> = log
            .requests
            .iter()
            .filter(|r| r.host != HostKind::Login)
            .map(|r| r.at)
            .collect();
        if let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) {
            traffic.span_seconds = (*last - *first).num_milliseconds() as f64 / 1000.0;
        }
        traffic.early_after_429 = early_arrivals(log);
        traffic.rate = Rate::of(
            log.requests
                .iter()
                .filter(|r| r.host != HostKind::Login)
                .map(arrival_ms)
                .collect(),
        );
        traffic.service = ServiceTime::by_route(
            log.requests
                .iter()
                .filter(|r| r.host != HostKind::Login)
                .map(|r| (r.method.as_str(), r.route.as_str(), r.duration_ms)),
        );
        traffic
    }

    /// Requests with this method to routes ending with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> u64 {
        self.routes
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.route.ends_with(suffix))
            .map(|r| r.count)
            .sum()
    }
}

/// Arrival time of a request in milliseconds since the epoch (`at` is when it was answered).
fn arrival_ms(r: &azdo_sim::RequestRecord) -> f64 {
    r.at.timestamp_micros() as f64 / 1000.0 - r.duration_ms
}

fn early_arrivals(log: &RequestLogSnapshot) -> EarlyArrivals {
    const SHORTEST_RETRY_AFTER_MS: f64 = 1000.0;
    let mut requests: Vec<(f64, bool, Option<&str>)> = log
        .requests
        .iter()
        .filter(|r| r.host != HostKind::Login)
        .map(|r| (arrival_ms(r), r.status == 429, r.identity.as_deref()))
        .collect();
    requests.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut last_429: std::collections::HashMap<Option<&str>, f64> = Default::default();
    let mut early = EarlyArrivals::default();
    for (at, throttled, identity) in requests {
        if let Some(blocked_at) = last_429.get(&identity) {
            let gap = at - blocked_at;
            if gap > 0.0 && gap < SHORTEST_RETRY_AFTER_MS {
                early.count += 1;
                early.max_gap_ms = early.max_gap_ms.max(gap);
            }
        }
        if throttled {
            last_429.insert(identity, at);
        }
    }
    early
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_time_takes_quantiles_of_the_sorted_durations() {
        let s = ServiceTime::of((1..=100).rev().map(f64::from).collect());
        assert_eq!(s.requests, 100);
        assert_eq!(s.mean_ms, 50.5);
        assert_eq!((s.p50_ms, s.p95_ms, s.max_ms), (51.0, 95.0, 100.0));
        assert_eq!(ServiceTime::of(Vec::new()).requests, 0);
    }

    #[test]
    fn slowest_routes_are_ranked_by_the_time_spent_on_them() {
        let requests = [
            ("PUT", "/m", 26.0),
            ("PUT", "/m", 28.0),
            ("PUT", "/m", 27.0),
            ("GET", "/g", 60.0),
            ("GET", "/m", 30.0),
        ];
        let s = ServiceTime::by_route(requests.iter().map(|&(m, r, ms)| (m, r, ms)));
        assert_eq!(s.requests, 5);
        let ranked: Vec<_> = s
            .slowest_routes
            .iter()
            .map(|r| (r.method.as_str(), r.route.as_str(), r.requests, r.mean_ms))
            .collect();
        assert_eq!(
            ranked,
            [
                ("PUT", "/m", 3, 27.0),
                ("GET", "/g", 1, 60.0),
                ("GET", "/m", 1, 30.0)
            ]
        );
    }

    #[test]
    fn the_rate_counts_each_second_of_the_span() {
        let rate = Rate::of(vec![2500.0, 1000.0, 1200.0, 1999.0, 4000.5]);
        // Seconds from 1000 ms: [1000, 2000) holds 3, [2000, 3000) 1, [3000, 4000) 0, then 1.
        assert_eq!(rate.per_second, [3, 1, 0, 1]);
        assert_eq!(rate.peak, 3);
        assert!((rate.mean - 1.25).abs() < 1e-9);
        assert_eq!(rate.profile(2), [2.0, 0.5]);
        assert!(Rate::of(Vec::new()).per_second.is_empty());
    }

    #[test]
    fn searches_read_and_materializations_write() {
        assert_eq!(
            effect("POST", "/{org}/_apis/graph/subjectquery"),
            Effect::Read
        );
        assert_eq!(effect("POST", "/{org}/_apis/graph/users"), Effect::Write);
        assert_eq!(
            effect(
                "HEAD",
                "/{org}/_apis/graph/memberships/{subject}/{container}"
            ),
            Effect::Read
        );
        assert_eq!(
            effect(
                "PUT",
                "/{org}/_apis/graph/memberships/{subject}/{container}"
            ),
            Effect::Write
        );
        assert_eq!(effect("patch", "/x"), Effect::Write);
    }
}
