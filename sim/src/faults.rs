//! Injected faults: latency, throttling, server errors, dropped connections, answers lost after
//! the request was carried out, token outage and eventual-consistency lag. Configured as a whole (`PUT /_sim/faults`, `Control::set_faults`).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every Azure DevOps request (dev and vssps hosts).
    pub latency: Option<Latency>,
    /// A per-identity TSTU budget over a sliding window.
    pub throttling: Option<Throttling>,
    /// How throttling reports itself (headers before delays, Retry-After on delayed 200s, the
    /// pipelines' budget).
    pub rate_limits: RateLimits,
    /// Fraction (0..=1) of Azure DevOps requests answered with `error_status`.
    pub error_rate: f64,
    /// Status used by `error_rate` (500, 502, 503 or 504); 503 when 0.
    pub error_status: u16,
    /// Fraction (0..=1) of Azure DevOps requests whose connection is closed without a response.
    pub drop_rate: f64,
    /// When true the Entra token endpoints answer 503 `temporarily_unavailable`.
    pub token_outage: bool,
    /// New memberships and pipeline authorizations stay invisible to reads for this long.
    pub consistency_lag_ms: u64,
    /// Scripted errors: the next `times` requests matching each entry get its answer (the
    /// documented passing errors `TF401349` and `VS800075`, a 404 right after a create, ...).
    pub inject_errors: Vec<InjectedError>,
    /// Scripted lost answers: the next `times` requests matching each entry are carried out
    /// (a write lands) and then their connection closes before the answer is sent, as when the
    /// network fails between the service and the client after the service committed.
    pub lose_answers: Vec<LostAnswer>,
}

/// Requests whose answer is lost after they were carried out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LostAnswer {
    /// Only this method (any when empty).
    pub method: String,
    /// Only paths containing this (case-insensitive; any when empty).
    pub path_contains: String,
    /// How many matching requests lose their answer (then the entry is spent).
    pub times: u32,
    /// How long the connection stays open, unanswered, before it closes (a slow network
    /// failing); 0: it closes at once.
    pub hold_ms: u64,
}

impl LostAnswer {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && (self.method.is_empty() || self.method.eq_ignore_ascii_case(method))
            && path
                .to_ascii_lowercase()
                .contains(&self.path_contains.to_ascii_lowercase())
    }
}

/// One scripted error answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct InjectedError {
    /// Only this method (any when empty).
    pub method: String,
    /// Only paths containing this (case-insensitive; any when empty).
    pub path_contains: String,
    pub status: u16,
    pub type_key: String,
    pub message: String,
    /// How many matching requests get it (then the entry is spent).
    pub times: u32,
}

impl InjectedError {
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.times > 0
            && (self.method.is_empty() || self.method.eq_ignore_ascii_case(method))
            && path
                .to_ascii_lowercase()
                .contains(&self.path_contains.to_ascii_lowercase())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Latency {
    pub fixed_ms: u64,
    pub jitter_ms: u64,
}

impl Latency {
    pub fn sample(&self) -> Duration {
        let jitter = if self.jitter_ms > 0 {
            rand::rng().random_range(0..=self.jitter_ms)
        } else {
            0
        };
        Duration::from_millis(self.fixed_ms + jitter)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Throttling {
    /// TSTUs per identity per window (Azure DevOps: 200 per 5 minutes).
    pub budget: f64,
    pub window_seconds: u64,
    /// TSTUs one request costs.
    pub cost_per_request: f64,
    /// Fraction of the budget from which requests are delayed (still answered).
    pub delay_from: f64,
    /// How long a delayed request is held.
    pub delay_ms: u64,
}

/// How throttling (when on) reports itself, beyond the budget: Microsoft's documented headers
/// and budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RateLimits {
    /// Fraction of the budget from which `X-RateLimit-Resource/Limit/Remaining/Reset` are sent
    /// on requests that pass undelayed (Microsoft sends them before any delay starts, so a
    /// client can slow down early); `X-RateLimit-Delay` only comes with delays.
    pub warn_from: f64,
    /// Delayed 200s also carry `Retry-After` (the delay, rounded up to whole seconds), and a
    /// request arriving before it elapses counts as a violation.
    pub retry_after_on_delay: bool,
    /// The pipelines' own budget (TSTUs per window) beside the identity's, for the build and
    /// pipelines areas (`X-RateLimit-Resource: Pipelines`); 0: they share the identity's.
    pub pipelines_budget: f64,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            warn_from: 0.5,
            retry_after_on_delay: false,
            pipelines_budget: 0.0,
        }
    }
}

impl Default for Throttling {
    fn default() -> Self {
        Throttling {
            budget: 200.0,
            window_seconds: 300,
            cost_per_request: 1.0,
            delay_from: 0.8,
            delay_ms: 200,
        }
    }
}

/// What throttling decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum ThrottleDecision {
    Pass,
    /// Passes undelayed, with the rate-limit headers (no `X-RateLimit-Delay`).
    Warn {
        headers: RateLimitHeaders,
    },
    Delay {
        delay: Duration,
        headers: RateLimitHeaders,
    },
    Block {
        retry_after_secs: u64,
        headers: RateLimitHeaders,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitHeaders {
    pub resource: String,
    pub delay_secs: f64,
    pub limit: f64,
    pub remaining: f64,
    pub reset_epoch: u64,
}

/// Requests arriving this soon after a Retry-After was sent may have left the client before it
/// arrived there (a client with several requests in flight cannot call them back): they are not
/// counted as violations. A client that ignores Retry-After keeps sending through the whole
/// wait (at least a second) and is still caught.
pub const IN_FLIGHT_GRACE: Duration = Duration::from_millis(250);

/// Per-identity usage and Retry-After bookkeeping.
#[derive(Debug, Default)]
pub struct ThrottleState {
    usage: HashMap<String, VecDeque<(Instant, f64)>>,
    /// When the last Retry-After was sent, and until when it holds.
    retry_not_before: HashMap<String, (Instant, Instant)>,
    violations: HashMap<String, u64>,
}

impl ThrottleState {
    /// Records a request from `identity` and tells whether it arrived before a Retry-After it was
    /// given had elapsed (counted per identity).
    pub fn note_arrival(&mut self, identity: &str, now: Instant) -> bool {
        match self.retry_not_before.get(identity) {
            Some((sent, not_before)) if now < *not_before && now >= *sent + IN_FLIGHT_GRACE => {
                *self.violations.entry(identity.to_string()).or_default() += 1;
                true
            }
            _ => false,
        }
    }

    /// Remembers that `identity` was told to wait `secs` seconds.
    pub fn note_retry_after(&mut self, identity: &str, now: Instant, secs: u64) {
        // A client may round down to whole seconds; allow a small tolerance for transit.
        let not_before = now + Duration::from_secs(secs) - Duration::from_millis(50);
        let entry = self
            .retry_not_before
            .entry(identity.to_string())
            .or_insert((now, not_before));
        if entry.1 < not_before {
            *entry = (now, not_before);
        }
    }

    pub fn violations(&self) -> HashMap<String, u64> {
        self.violations.clone()
    }

    pub fn clear(&mut self) {
        *self = ThrottleState::default();
    }

    pub fn decide(
        &mut self,
        identity: &str,
        config: &Throttling,
        now: Instant,
    ) -> ThrottleDecision {
        self.decide_in(identity, "Core", config.budget, config, 1.0, now)
    }

    /// [`Self::decide`] against a named budget (`key` is its usage bucket, `resource` the
    /// `X-RateLimit-Resource` it reports).
    pub fn decide_in(
        &mut self,
        key: &str,
        resource: &str,
        budget: f64,
        config: &Throttling,
        warn_from: f64,
        now: Instant,
    ) -> ThrottleDecision {
        let config = &Throttling {
            budget,
            ..config.clone()
        };
        let identity = key;
        let window = Duration::from_secs(config.window_seconds.max(1));
        let entries = self.usage.entry(identity.to_string()).or_default();
        while let Some((at, _)) = entries.front() {
            if now.duration_since(*at) >= window {
                entries.pop_front();
            } else {
                break;
            }
        }
        let used: f64 = entries.iter().map(|(_, cost)| cost).sum();
        let epoch_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let reset_epoch = entries
            .front()
            .map(|(at, _)| epoch_now + (window - now.duration_since(*at)).as_secs() + 1)
            .unwrap_or(epoch_now + window.as_secs());
        let headers = |delay_secs: f64, remaining: f64| RateLimitHeaders {
            resource: resource.to_string(),
            delay_secs,
            limit: config.budget,
            remaining: remaining.max(0.0),
            reset_epoch,
        };
        if used + config.cost_per_request > config.budget {
            // Blocked: wait until enough usage has left the window to fit this request.
            let mut freed = 0.0;
            let mut wait = window;
            for (at, cost) in entries.iter() {
                freed += cost;
                if used - freed + config.cost_per_request <= config.budget {
                    wait = window.saturating_sub(now.duration_since(*at));
                    break;
                }
            }
            let retry_after_secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            return ThrottleDecision::Block {
                retry_after_secs,
                headers: headers(0.0, config.budget - used),
            };
        }
        entries.push_back((now, config.cost_per_request));
        let used = used + config.cost_per_request;
        if used > config.budget * config.delay_from {
            let delay = Duration::from_millis(config.delay_ms);
            ThrottleDecision::Delay {
                delay,
                headers: headers(delay.as_secs_f64(), config.budget - used),
            }
        } else if used > config.budget * warn_from {
            ThrottleDecision::Warn {
                headers: headers(0.0, config.budget - used),
            }
        } else {
            ThrottleDecision::Pass
        }
    }
}

/// True with probability `rate`.
pub fn roll(rate: f64) -> bool {
    rate > 0.0 && rand::rng().random_bool(rate.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Throttling {
        Throttling {
            budget: 10.0,
            window_seconds: 60,
            cost_per_request: 1.0,
            delay_from: 0.5,
            delay_ms: 10,
        }
    }

    #[test]
    fn headers_come_before_delays() {
        let mut state = ThrottleState::default();
        let now = Instant::now();
        let decisions: Vec<_> = (0..6)
            .map(|_| state.decide_in("op", "Core", 10.0, &config(), 0.2, now))
            .collect();
        assert!(decisions[..2].iter().all(|d| *d == ThrottleDecision::Pass));
        match &decisions[2] {
            ThrottleDecision::Warn { headers } => {
                assert_eq!(headers.remaining, 7.0);
                assert_eq!(headers.delay_secs, 0.0);
            }
            other => panic!("expected headers without a delay, got {other:?}"),
        }
        assert!(matches!(decisions[5], ThrottleDecision::Delay { .. }));
    }

    #[test]
    fn passes_then_delays_then_blocks() {
        let mut state = ThrottleState::default();
        let now = Instant::now();
        let decisions: Vec<_> = (0..12)
            .map(|_| state.decide("op", &config(), now))
            .collect();
        assert!(decisions[..5].iter().all(|d| *d == ThrottleDecision::Pass));
        assert!(matches!(decisions[5], ThrottleDecision::Delay { .. }));
        assert!(matches!(decisions[9], ThrottleDecision::Delay { .. }));
        match &decisions[10] {
            ThrottleDecision::Block {
                retry_after_secs,
                headers,
            } => {
                assert_eq!(*retry_after_secs, 60);
                assert_eq!(headers.remaining, 0.0);
            }
            other => panic!("expected a block, got {other:?}"),
        }
        // Another identity has its own budget.
        assert_eq!(
            state.decide("other", &config(), now),
            ThrottleDecision::Pass
        );
    }

    #[test]
    fn usage_leaves_the_window() {
        let mut state = ThrottleState::default();
        let start = Instant::now();
        for _ in 0..10 {
            state.decide("op", &config(), start);
        }
        assert!(matches!(
            state.decide("op", &config(), start),
            ThrottleDecision::Block { .. }
        ));
        let later = start + Duration::from_secs(61);
        assert_eq!(state.decide("op", &config(), later), ThrottleDecision::Pass);
    }

    #[test]
    fn early_retries_are_counted() {
        let mut state = ThrottleState::default();
        let now = Instant::now();
        state.note_retry_after("op", now, 2);
        assert!(state.note_arrival("op", now + Duration::from_millis(500)));
        assert!(!state.note_arrival("op", now + Duration::from_secs(3)));
        // In flight when the Retry-After was sent: not the client's fault.
        assert!(!state.note_arrival("op", now + Duration::from_millis(100)));
        assert!(!state.note_arrival("other", now));
        assert_eq!(state.violations().get("op"), Some(&1));
    }
}
