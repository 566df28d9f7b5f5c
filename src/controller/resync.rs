//! When an object is compared with Azure DevOps again: every resync interval, each object at
//! its own slot in the interval (a hash of its key), so that the reads of many objects are
//! spread evenly over the interval instead of arriving in the burst in which they were created
//! or in which the operator started. Each resync moves an object at most `spread` of the
//! interval towards its slot; with `spread` 0 the delay is exactly the interval.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The requeue delay of the object `key` after a reconcile that ended now.
pub fn delay(interval: Duration, spread: f64, key: &str) -> Duration {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    delay_at(interval, spread, slot_hash(key), now_ms)
}

/// A stable hash of `key` (the same in every operator process and version of it that uses this
/// function: the slots survive restarts).
fn slot_hash(key: &str) -> u64 {
    // FNV-1a, 64 bits.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// [`delay`] at the wall-clock time `now_ms` for an object whose key hashes to `hash`: the
/// interval, moved towards the next time the wall clock passes the object's slot (at most by
/// half an interval, and at most `spread` of it).
pub fn delay_at(interval: Duration, spread: f64, hash: u64, now_ms: u64) -> Duration {
    let interval_ms = interval.as_millis() as u64;
    if interval_ms == 0 {
        return interval;
    }
    let slot = hash % interval_ms;
    // From now until the clock next passes the slot, in [0, interval).
    let until_slot = (slot + interval_ms - now_ms % interval_ms) % interval_ms;
    // The shift from a plain interval that lands on the slot, in [-interval/2, interval/2).
    let shift = if until_slot >= interval_ms / 2 {
        until_slot as f64 - interval_ms as f64
    } else {
        until_slot as f64
    };
    let limit = spread.clamp(0.0, 0.5) * interval_ms as f64;
    let shift = shift.clamp(-limit, limit);
    Duration::from_millis((interval_ms as f64 + shift).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn without_spread_the_delay_is_the_interval() {
        for now in [0, 17_000, 59_999, 1_234_567] {
            assert_eq!(delay_at(MINUTE, 0.0, 42_000, now), MINUTE);
        }
    }

    #[test]
    fn an_object_resyncs_at_its_slot_and_then_every_interval() {
        // Slot at 42 s past each minute; reconciled at 10 s: the slot is 32 s away, nearer to
        // an interval than the one after (92 s).
        assert_eq!(
            delay_at(MINUTE, 0.5, 42_000, 10_000),
            Duration::from_secs(32)
        );
        // Reconciled at 42.050 s (on its slot, 50 ms of work): one interval less 50 ms.
        assert_eq!(
            delay_at(MINUTE, 0.5, 42_000, 60_000 + 42_050),
            Duration::from_millis(59_950)
        );
        // Reconciled at 30 s: the slot is 12 s away, too soon; the next one, 72 s away.
        assert_eq!(
            delay_at(MINUTE, 0.5, 42_000, 30_000),
            Duration::from_secs(72)
        );
        // Reconciled at 50 s: the slot passed 8 s ago; the next is 52 s away.
        assert_eq!(
            delay_at(MINUTE, 0.5, 42_000, 50_000),
            Duration::from_secs(52)
        );
    }

    #[test]
    fn the_move_towards_the_slot_is_bounded_by_the_spread() {
        // 0.1 of a minute: at most 6 s either way.
        assert_eq!(
            delay_at(MINUTE, 0.1, 42_000, 10_000),
            Duration::from_secs(54)
        );
        assert_eq!(
            delay_at(MINUTE, 0.1, 42_000, 30_000),
            Duration::from_secs(66)
        );
        // Spread beyond one half is one half.
        assert_eq!(
            delay_at(MINUTE, 0.9, 42_000, 10_000),
            delay_at(MINUTE, 0.5, 42_000, 10_000)
        );
    }

    #[test]
    fn objects_reconciled_together_spread_over_the_interval() {
        // 6,000 objects all reconciled at the same instant: their next resyncs fill the
        // interval's seconds evenly (no second holds more than twice its share).
        let now = 1_000_000;
        let mut per_second = vec![0u32; 120];
        for i in 0..6_000 {
            let key = format!("DevOpsMembership/team-{}/m-{i}", i % 7);
            let d = delay_at(MINUTE, 0.5, slot_hash(&key), now);
            assert!(d >= MINUTE / 2 && d <= MINUTE * 3 / 2, "{d:?}");
            per_second[((now + d.as_millis() as u64) / 1000 % 120) as usize] += 1;
        }
        let busiest = per_second.iter().max().copied().unwrap_or(0);
        assert!(busiest <= 200, "share 100 per second, busiest {busiest}");
    }

    #[test]
    fn the_slot_hash_is_stable() {
        assert_eq!(slot_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(slot_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
