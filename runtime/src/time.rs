//! Time and chance, injectable: the clock token caching and deadlines read, the sleeper retries
//! wait on, and the random source backoff jitter draws from. Tests inject their own so that
//! schedules are asserted exactly and run fast.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the runtime reads the current time: token expiry, deadlines, rate limits.
///
/// The default is [`SystemClock`]; tests inject a clock they move forward by hand
/// ([`ConnectionBuilder::clock`](crate::ConnectionBuilder::clock)).
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;

    /// The current wall-clock time, for `Retry-After` dates. Default: the system's.
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A future a [`Sleeper`] returns.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How the runtime waits between attempts and for rate-limit permits.
///
/// The default is [`TokioSleeper`]; tests inject one that records the requested durations and
/// completes at once ([`ConnectionBuilder::sleeper`](crate::ConnectionBuilder::sleeper)).
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// Sleeps on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The random source of backoff jitter.
///
/// The default is [`FastRng`]; tests pin it to the ends of the jitter range
/// ([`ConnectionBuilder::rng`](crate::ConnectionBuilder::rng)).
pub trait Rng: Send + Sync + fmt::Debug {
    /// A number in `[0, 1]`.
    fn unit(&self) -> f64;
}

/// A small, non-cryptographic generator (splitmix64) seeded from the system clock: jitter only
/// needs to spread callers apart, not to be unpredictable.
#[derive(Debug)]
pub struct FastRng {
    state: AtomicU64,
}

impl FastRng {
    /// A generator with this seed (the same seed gives the same sequence).
    pub fn seeded(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        let mut z = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Default for FastRng {
    fn default() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x2545_F491_4F6C_DD1D);
        Self::seeded(nanos ^ (std::process::id() as u64).rotate_left(32))
    }
}

impl Rng for FastRng {
    fn unit(&self) -> f64 {
        // 53 random bits: every value is exactly representable.
        (self.next_u64() >> 11) as f64 / ((1u64 << 53) - 1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_rng_stays_in_the_unit_interval_and_spreads() {
        let rng = FastRng::seeded(7);
        let draws: Vec<f64> = (0..1000).map(|_| rng.unit()).collect();
        assert!(draws.iter().all(|x| (0.0..=1.0).contains(x)));
        assert!(draws.iter().any(|x| *x < 0.1) && draws.iter().any(|x| *x > 0.9));
        assert_eq!(FastRng::seeded(7).unit(), draws[0]);
    }
}
