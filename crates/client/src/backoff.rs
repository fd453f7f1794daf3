//! Exponential backoff with full jitter for throttled calls (DynamoDB, the management API).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many times a throttled call is tried in all.
pub(crate) const MAX_TRIES: u32 = 5;

/// The first retry waits up to this long; each next one up to twice as long as the last.
const BASE: Duration = Duration::from_millis(25);

/// No single wait exceeds this (a handler has seconds, not minutes).
const CAP: Duration = Duration::from_secs(2);

/// Waits before try number `tries_so_far + 1`: a random time in `[0, min(CAP, BASE·2^n))`.
/// Full jitter spreads retries of many concurrent posts instead of retrying them in lockstep.
pub(crate) async fn wait(tries_so_far: u32) {
    tokio::time::sleep(delay(tries_so_far, random_fraction())).await;
}

fn delay(tries_so_far: u32, fraction: f64) -> Duration {
    let ceiling = BASE
        .saturating_mul(1 << tries_so_far.saturating_sub(1).min(16))
        .min(CAP);
    ceiling.mul_f64(fraction.clamp(0.0, 1.0))
}

/// A cheap pseudo-random number in [0, 1): the clock's nanoseconds through a xorshift, mixed with
/// a per-process counter so calls in the same nanosecond differ. Good enough for jitter.
fn random_fraction() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or_default();
    let mut x = nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        assert_eq!(delay(1, 1.0), Duration::from_millis(25));
        assert_eq!(delay(2, 1.0), Duration::from_millis(50));
        assert_eq!(delay(4, 1.0), Duration::from_millis(200));
        assert_eq!(delay(30, 1.0), CAP);
        assert_eq!(delay(3, 0.5), Duration::from_millis(50));
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..1000 {
            let fraction = random_fraction();
            assert!((0.0..1.0).contains(&fraction), "{fraction}");
        }
    }
}
