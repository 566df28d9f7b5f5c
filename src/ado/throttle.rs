//! Per-organization admission control shared by every call of one client (one organization,
//! one identity): a concurrency bound, a "not before" barrier set by `Retry-After` (on any
//! status, a 200 included) or `X-RateLimit-Delay` (no request is sent before it passes), and
//! pacing that spaces requests out as `X-RateLimit-Remaining` approaches zero (the
//! `X-RateLimit-*` headers arrive before any delay starts). After a `Retry-After`, requests
//! resume one at a time (a single probe) until a response arrives without one, so a whole wave
//! of concurrent requests is not thrown at a service that just said it is saturated.
//!
//! Azure DevOps keeps two budgets: the identity's, and the pipelines' beside it. Each [`Lane`]
//! has its own barrier, probe and pacing, so running out of the pipelines' budget does not hold
//! back the identity's calls. Which budget an answer speaks of is its `X-RateLimit-Resource`
//! (`Pipelines`, or another name: the identity's); an answer without one speaks of the calling
//! lane. A pipelines call also waits for the identity's barrier (a shared budget blocks both);
//! the concurrency bound is shared.

use reqwest::header::HeaderMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Tuning of `Throttle`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleConfig {
    /// Maximum requests in flight for the organization.
    pub max_concurrency: usize,
    /// Start pacing when `Remaining / Limit` falls below this fraction.
    pub slowdown_below: f64,
    /// Upper bound of the pacing interval between two requests.
    pub max_pace: Duration,
    /// Upper bound applied to server-sent delays (guards against absurd values).
    pub max_server_delay: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            max_concurrency: 4,
            slowdown_below: 0.2,
            max_pace: Duration::from_secs(5),
            max_server_delay: Duration::from_secs(300),
        }
    }
}

/// Rate-limit information of one response.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ServerHints {
    pub retry_after: Option<Duration>,
    pub delay: Option<Duration>,
    pub remaining: Option<f64>,
    pub limit: Option<f64>,
    pub reset: Option<SystemTime>,
    /// `X-RateLimit-Resource`: which budget the answer speaks of.
    pub resource: Option<String>,
}

impl ServerHints {
    pub(crate) fn from_headers(headers: &HeaderMap, now: SystemTime) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let number = |name: &str| {
            text(name)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite())
        };
        Self {
            retry_after: text("retry-after").and_then(|v| parse_retry_after(v, now)),
            delay: number("x-ratelimit-delay")
                .filter(|v| *v > 0.0)
                .map(Duration::from_secs_f64),
            remaining: number("x-ratelimit-remaining"),
            limit: number("x-ratelimit-limit"),
            reset: number("x-ratelimit-reset")
                .filter(|v| *v > 0.0)
                .map(|secs| UNIX_EPOCH + Duration::from_secs_f64(secs)),
            resource: text("x-ratelimit-resource")
                .filter(|v| !v.is_empty())
                .map(String::from),
        }
    }
}

/// `Retry-After`: delta-seconds (decimals tolerated) or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(date.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Which rate-limit budget a call draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// The identity's budget (Graph, projects, task agent, endpoints, git, ...).
    Identity,
    /// The pipelines' own budget: the build and pipelines areas.
    Pipelines,
}

impl Lane {
    /// The lane of a request path: `.../_apis/build/...` and `.../_apis/pipelines/...` are
    /// pipelines calls.
    pub(crate) fn of_path(path: &str) -> Lane {
        let lower = path.to_ascii_lowercase();
        if lower.contains("/_apis/build/") || lower.contains("/_apis/pipelines/") {
            Lane::Pipelines
        } else {
            Lane::Identity
        }
    }

    /// The budget an answer to a call on `calling` speaks of.
    fn of_answer(calling: Lane, hints: &ServerHints) -> Lane {
        match hints.resource.as_deref() {
            Some(resource) if resource.eq_ignore_ascii_case("pipelines") => Lane::Pipelines,
            Some(_) => Lane::Identity,
            None => calling,
        }
    }

    fn index(self) -> usize {
        match self {
            Lane::Identity => 0,
            Lane::Pipelines => 1,
        }
    }
}

#[derive(Debug)]
struct State {
    blocked_until: Option<Instant>,
    pace: Duration,
    next_slot: Option<Instant>,
    /// Set by a `Retry-After`, cleared by the next response without one.
    probing: bool,
}

/// Shared admission control.
#[derive(Debug)]
pub(crate) struct Throttle {
    permits: std::sync::Arc<Semaphore>,
    lanes: [LaneState; 2],
    config: ThrottleConfig,
}

#[derive(Debug)]
struct LaneState {
    probe: std::sync::Arc<AsyncMutex<()>>,
    state: Mutex<State>,
}

impl LaneState {
    fn new() -> Self {
        Self {
            probe: std::sync::Arc::new(AsyncMutex::new(())),
            state: Mutex::new(State {
                blocked_until: None,
                pace: Duration::ZERO,
                next_slot: None,
                probing: false,
            }),
        }
    }
}

/// Admission to send one request; hold it until the response body has been read.
pub(crate) struct Admission {
    _permit: OwnedSemaphorePermit,
    _probe: Option<OwnedMutexGuard<()>>,
    /// Time spent waiting for throttling (barrier and pacing, not the concurrency bound).
    pub throttled_for: Duration,
}

impl Throttle {
    pub(crate) fn new(config: ThrottleConfig) -> Self {
        Self {
            permits: std::sync::Arc::new(Semaphore::new(config.max_concurrency.max(1))),
            lanes: [LaneState::new(), LaneState::new()],
            config,
        }
    }

    fn lock(&self, lane: Lane) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another task panicked mid-update of plain data.
        self.lanes[lane.index()]
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The barrier currently in force for calls on a lane, if any: a pipelines call also waits
    /// for the identity's.
    pub(crate) fn blocked_until(&self, lane: Lane) -> Option<Instant> {
        let own = |l: Lane| self.lock(l).blocked_until.filter(|t| *t > Instant::now());
        match lane {
            Lane::Identity => own(Lane::Identity),
            Lane::Pipelines => own(Lane::Pipelines).max(own(Lane::Identity)),
        }
    }

    /// Wait until a request may be sent: past its lane's barrier, within the concurrency bound,
    /// and in its lane's pacing slot.
    pub(crate) async fn admit(&self, lane: Lane) -> Admission {
        let mut throttled_for = Duration::ZERO;
        loop {
            if let Some(until) = self.blocked_until(lane) {
                let started = Instant::now();
                tokio::time::sleep_until(until).await;
                throttled_for += started.elapsed();
                continue;
            }
            // While probing, one request at a time.
            let probe = if self.lock(lane).probing {
                let started = Instant::now();
                let guard = self.lanes[lane.index()].probe.clone().lock_owned().await;
                throttled_for += started.elapsed();
                self.lock(lane).probing.then_some(guard)
            } else {
                None
            };
            if self.blocked_until(lane).is_some() {
                continue;
            }
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                unreachable!("the semaphore is never closed");
            };
            // A barrier may have been set while we waited for a permit: the lane's own, or (for
            // a pipelines call) the identity's, which the check below under the lane's lock
            // does not see.
            if self.blocked_until(lane).is_some() {
                drop(permit);
                continue;
            }
            let slot = {
                let mut state = self.lock(lane);
                let now = Instant::now();
                if state.blocked_until.is_some_and(|t| t > now) {
                    None
                } else if state.pace.is_zero() {
                    Some(now)
                } else {
                    let slot = state.next_slot.map_or(now, |s| s.max(now));
                    state.next_slot = Some(slot + state.pace);
                    Some(slot)
                }
            };
            let Some(slot) = slot else {
                drop(permit);
                continue;
            };
            let now = Instant::now();
            if slot > now {
                tokio::time::sleep_until(slot).await;
                throttled_for += slot - now;
                if self.blocked_until(lane).is_some() {
                    drop(permit);
                    continue;
                }
            }
            return Admission {
                _permit: permit,
                _probe: probe,
                throttled_for,
            };
        }
    }

    /// Record the rate-limit headers of a response. Returns the `Retry-After` that now holds
    /// every request back, if the response carried one.
    pub(crate) fn observe(&self, calling: Lane, hints: &ServerHints) -> Option<Duration> {
        let now = Instant::now();
        let cap = self.config.max_server_delay;
        let mut state = self.lock(Lane::of_answer(calling, hints));
        let mut block = |delay: Duration| {
            let until = now + delay.min(cap);
            if state.blocked_until.is_none_or(|t| t < until) {
                state.blocked_until = Some(until);
            }
        };
        let retry_after = hints.retry_after.map(|d| d.min(cap));
        if let Some(delay) = retry_after {
            block(delay);
        }
        if let Some(delay) = hints.delay {
            block(delay);
        }
        state.probing = retry_after.is_some();
        state.pace = self.pace_for(hints, SystemTime::now());
        if state.pace.is_zero() {
            state.next_slot = None;
        }
        retry_after
    }

    /// Interval between requests given the remaining budget: zero while comfortably within it,
    /// otherwise the remaining window spread over the remaining requests.
    fn pace_for(&self, hints: &ServerHints, now: SystemTime) -> Duration {
        let (Some(remaining), Some(limit)) = (hints.remaining, hints.limit) else {
            return Duration::ZERO;
        };
        if limit <= 0.0 {
            return Duration::ZERO;
        }
        let remaining = remaining.max(0.0);
        let fraction = remaining / limit;
        if fraction >= self.config.slowdown_below {
            return Duration::ZERO;
        }
        let max = self.config.max_pace;
        let pace = match hints.reset.and_then(|r| r.duration_since(now).ok()) {
            Some(window) => window.div_f64(remaining + 1.0),
            None => max.mul_f64(1.0 - fraction / self.config.slowdown_below),
        };
        pace.min(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn hints_are_parsed_from_headers() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let hints = ServerHints::from_headers(
            &headers(&[
                ("Retry-After", "7"),
                ("X-RateLimit-Delay", "0.25"),
                ("X-RateLimit-Remaining", "12"),
                ("X-RateLimit-Limit", "200"),
                ("X-RateLimit-Reset", "1700000060"),
            ]),
            now,
        );
        assert_eq!(hints.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(hints.delay, Some(Duration::from_millis(250)));
        assert_eq!(hints.remaining, Some(12.0));
        assert_eq!(hints.limit, Some(200.0));
        assert_eq!(hints.reset, Some(now + Duration::from_secs(60)));
        assert_eq!(
            ServerHints::from_headers(&HeaderMap::new(), now),
            ServerHints::default()
        );
    }

    #[test]
    fn retry_after_accepts_seconds_decimals_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn pacing_starts_below_the_threshold_and_grows_as_the_budget_shrinks() {
        let throttle = Throttle::new(ThrottleConfig::default());
        let now = SystemTime::now();
        let hints = |remaining: f64, reset: Option<u64>| ServerHints {
            remaining: Some(remaining),
            limit: Some(200.0),
            reset: reset.map(|s| now + Duration::from_secs(s)),
            ..Default::default()
        };
        assert_eq!(throttle.pace_for(&hints(150.0, None), now), Duration::ZERO);
        assert_eq!(throttle.pace_for(&hints(40.0, None), now), Duration::ZERO);
        let at_30 = throttle.pace_for(&hints(30.0, None), now);
        let at_5 = throttle.pace_for(&hints(5.0, None), now);
        assert!(at_30 > Duration::ZERO && at_30 < at_5, "{at_30:?} {at_5:?}");
        assert_eq!(
            throttle.pace_for(&hints(0.0, None), now),
            Duration::from_secs(5)
        );
        // With a reset time the window is spread over what is left.
        assert_eq!(
            throttle.pace_for(&hints(9.0, Some(10)), now),
            Duration::from_secs(1)
        );
        assert_eq!(
            throttle.pace_for(&hints(0.0, Some(60)), now),
            Duration::from_secs(5)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_admitted_before_retry_after_elapses() {
        let throttle = Throttle::new(ThrottleConfig::default());
        let start = Instant::now();
        let applied = throttle.observe(
            Lane::Identity,
            &ServerHints {
                retry_after: Some(Duration::from_secs(4)),
                ..Default::default()
            },
        );
        assert_eq!(applied, Some(Duration::from_secs(4)));
        let admission = throttle.admit(Lane::Identity).await;
        assert!(start.elapsed() >= Duration::from_secs(4));
        assert!(admission.throttled_for >= Duration::from_secs(4));
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_retry_after_requests_resume_one_at_a_time_until_one_succeeds() {
        let throttle = Arc::new(Throttle::new(ThrottleConfig::default()));
        throttle.observe(
            Lane::Identity,
            &ServerHints {
                retry_after: Some(Duration::from_secs(1)),
                ..Default::default()
            },
        );
        let probe = throttle.admit(Lane::Identity).await;
        let waiting = {
            let throttle = throttle.clone();
            tokio::spawn(async move { throttle.admit(Lane::Identity).await })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(
            !waiting.is_finished(),
            "a second request went out during the probe"
        );
        // The probe's response carries no Retry-After: back to full concurrency.
        throttle.observe(Lane::Identity, &ServerHints::default());
        drop(probe);
        let second = waiting.await.unwrap();
        let third = tokio::time::timeout(Duration::from_millis(1), throttle.admit(Lane::Identity))
            .await
            .expect("not probing any more");
        drop((second, third));
    }

    #[tokio::test(start_paused = true)]
    async fn lanes_keep_their_own_barrier_and_pace() {
        let throttle = Throttle::new(ThrottleConfig::default());
        throttle.observe(
            Lane::Pipelines,
            &ServerHints {
                retry_after: Some(Duration::from_secs(60)),
                remaining: Some(0.0),
                limit: Some(200.0),
                resource: Some("Pipelines".into()),
                ..Default::default()
            },
        );
        let start = Instant::now();
        drop(throttle.admit(Lane::Identity).await);
        drop(throttle.admit(Lane::Identity).await);
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the identity's budget is untouched"
        );
        drop(throttle.admit(Lane::Pipelines).await);
        assert!(start.elapsed() >= Duration::from_secs(60));
        assert_eq!(
            Lane::of_path("/contoso/Web/_apis/build/definitions"),
            Lane::Pipelines
        );
        assert_eq!(
            Lane::of_path("/contoso/Web/_apis/Pipelines/pipelinepermissions/queue/1"),
            Lane::Pipelines
        );
        assert_eq!(Lane::of_path("/contoso/_apis/graph/groups"), Lane::Identity);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shared_budget_blocks_every_lane() {
        let throttle = Throttle::new(ThrottleConfig::default());
        // A pipelines call answered by the identity's budget (`Core`): everyone waits.
        throttle.observe(
            Lane::Pipelines,
            &ServerHints {
                retry_after: Some(Duration::from_secs(7)),
                resource: Some("Core".into()),
                ..Default::default()
            },
        );
        let start = Instant::now();
        drop(throttle.admit(Lane::Identity).await);
        assert!(start.elapsed() >= Duration::from_secs(7));
        // And the identity's barrier holds pipelines calls too.
        throttle.observe(
            Lane::Identity,
            &ServerHints {
                retry_after: Some(Duration::from_secs(5)),
                ..Default::default()
            },
        );
        let start = Instant::now();
        drop(throttle.admit(Lane::Pipelines).await);
        assert!(start.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn server_delays_are_capped() {
        let throttle = Throttle::new(ThrottleConfig {
            max_server_delay: Duration::from_secs(2),
            ..Default::default()
        });
        let start = Instant::now();
        throttle.observe(
            Lane::Identity,
            &ServerHints {
                retry_after: Some(Duration::from_secs(86_400)),
                ..Default::default()
            },
        );
        let _admission = throttle.admit(Lane::Identity).await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_never_exceeds_the_bound() {
        let throttle = Arc::new(Throttle::new(ThrottleConfig {
            max_concurrency: 3,
            ..Default::default()
        }));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (throttle, in_flight, peak) =
                    (throttle.clone(), in_flight.clone(), peak.clone());
                tokio::spawn(async move {
                    let _admission = throttle.admit(Lane::Identity).await;
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_spaces_out_admissions() {
        let throttle = Throttle::new(ThrottleConfig {
            max_concurrency: 10,
            ..Default::default()
        });
        throttle.observe(
            Lane::Identity,
            &ServerHints {
                remaining: Some(0.0),
                limit: Some(200.0),
                ..Default::default()
            },
        );
        let start = Instant::now();
        for _ in 0..3 {
            drop(throttle.admit(Lane::Identity).await);
        }
        // First immediately, then one per pace (5s at zero remaining).
        assert_eq!(start.elapsed().as_secs(), 10);
        // A response without rate-limit headers ends the pacing.
        throttle.observe(Lane::Identity, &ServerHints::default());
        let start = Instant::now();
        drop(throttle.admit(Lane::Identity).await);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
