//! Retry delays: exponential backoff with "equal jitter" (half fixed, half random), so retries
//! of many reconcilers spread out but never collapse to zero.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// Delay before the first retry (before jitter).
    pub base: Duration,
    /// Upper bound of any single delay.
    pub max: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

impl BackoffPolicy {
    /// Delay before retry number `retry` (1 = first retry). `jitter` is uniform in [0, 1).
    pub fn delay(&self, retry: u32, jitter: f64) -> Duration {
        let exponent = retry.saturating_sub(1).min(30);
        let ceiling = self.base.saturating_mul(1u32 << exponent).min(self.max);
        let half = ceiling / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// Delay with a random jitter.
    pub fn delay_random(&self, retry: u32) -> Duration {
        self.delay(retry, rand::random::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_until_the_cap_and_jitter_stays_in_the_upper_half() {
        let policy = BackoffPolicy {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(policy.delay(1, 0.0), Duration::from_millis(50));
        assert_eq!(policy.delay(1, 1.0), Duration::from_millis(100));
        assert_eq!(policy.delay(2, 0.0), Duration::from_millis(100));
        assert_eq!(policy.delay(3, 0.5), Duration::from_millis(300));
        assert_eq!(policy.delay(4, 1.0), Duration::from_millis(800));
        // Capped from the 5th retry on (1.6s > 1s), for any attempt number.
        assert_eq!(policy.delay(5, 1.0), Duration::from_secs(1));
        assert_eq!(policy.delay(500, 0.0), Duration::from_millis(500));
        assert_eq!(policy.delay(0, 0.0), Duration::from_millis(50));
    }

    #[test]
    fn random_delays_stay_within_bounds() {
        let policy = BackoffPolicy::default();
        for retry in 1..10 {
            let ceiling = (policy.base * (1 << (retry - 1))).min(policy.max);
            for _ in 0..50 {
                let d = policy.delay_random(retry);
                assert!(d >= ceiling / 2 && d <= ceiling, "retry {retry}: {d:?}");
            }
        }
    }
}
