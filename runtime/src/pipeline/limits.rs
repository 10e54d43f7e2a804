//! Client-side limits: how many requests a connection has in flight, and how many it starts per
//! second. Both serve callers first come, first served.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::retry::Shared;
use crate::time::{Clock, Rng, Sleeper};

/// Most requests in flight a connection allows, whatever it asks for (integration platforms cap
/// connections the same way).
pub const MAX_CONCURRENCY: usize = 50;

/// Requests in flight when the connection sets no limit.
pub const DEFAULT_CONCURRENCY: usize = 25;

/// A bound on requests in flight, which several connections can share: clones share one bound.
///
/// Waiting callers are served in the order they arrived. A permit is held for one attempt (until
/// its body is read) and released between attempts, so a caller waiting to retry does not hold
/// a place.
#[derive(Clone)]
pub struct ConcurrencyLimit {
    semaphore: Arc<Semaphore>,
    size: usize,
}

impl ConcurrencyLimit {
    /// A bound of `limit` requests in flight, clamped to 1..=[`MAX_CONCURRENCY`].
    pub fn new(limit: usize) -> Self {
        let size = limit.clamp(1, MAX_CONCURRENCY);
        Self {
            semaphore: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// The bound, after clamping.
    pub fn size(&self) -> usize {
        self.size
    }

    pub(crate) async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        // The semaphore is never closed, so `None` cannot happen; it is handled all the same.
        self.semaphore.clone().acquire_owned().await.ok()
    }
}

impl fmt::Debug for ConcurrencyLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrencyLimit")
            .field("size", &self.size)
            .field("available", &self.semaphore.available_permits())
            .finish()
    }
}

/// A client-side rate limit: at most `per_second` requests per second on average, `burst` of
/// them at once. Implemented as GCRA (the generic cell rate algorithm): each caller reserves
/// the next free slot in arrival order and sleeps until it comes, so waiting callers leave one
/// by one rather than all in the same instant.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Duration,
    tolerance: Duration,
    /// Theoretical arrival time of the next request.
    tat: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub(crate) fn new(per_second: f64, burst: u32) -> Self {
        let interval = Duration::from_secs_f64(1.0 / per_second);
        Self {
            interval,
            tolerance: interval * burst.saturating_sub(1),
            tat: Mutex::new(None),
        }
    }

    /// How long the caller must wait for its slot, reserving it.
    pub(crate) fn reserve(&self, now: Instant) -> Duration {
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        let next = tat.map_or(now, |t| t.max(now));
        let allowed_at = next.checked_sub(self.tolerance).unwrap_or(now);
        *tat = Some(next + self.interval);
        allowed_at.saturating_duration_since(now)
    }

    /// Waits for a slot; a small jitter (up to 5 % of the interval) keeps callers that were
    /// released together from arriving in the same millisecond.
    pub(crate) async fn acquire(
        &self,
        shared: Option<&Shared>,
        clock: &dyn Clock,
        sleeper: &dyn Sleeper,
        rng: &dyn Rng,
    ) {
        let wait = match shared {
            Some((state, prefix)) => {
                let key = format!("{prefix}:rate");
                match state.reserve(&key, self.interval, self.tolerance).await {
                    Ok(wait) => wait,
                    Err(err) => {
                        tracing::warn!("{err}; using this process's rate limit");
                        self.reserve(clock.now())
                    }
                }
            }
            None => self.reserve(clock.now()),
        };
        if !wait.is_zero() {
            let jitter = self.interval.mul_f64(0.05 * rng.unit().clamp(0.0, 1.0));
            sleeper.sleep(wait + jitter).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_is_clamped() {
        assert_eq!(ConcurrencyLimit::new(80).size(), 50);
        assert_eq!(ConcurrencyLimit::new(0).size(), 1);
        assert_eq!(ConcurrencyLimit::new(25).size(), 25);
    }

    #[test]
    fn gcra_spaces_requests_after_the_burst() {
        let limiter = RateLimiter::new(10.0, 3);
        let start = Instant::now();
        let waits: Vec<u128> = (0..6).map(|_| limiter.reserve(start).as_millis()).collect();
        assert_eq!(waits, [0, 0, 0, 100, 200, 300]);
        // After a quiet second the burst is available again.
        let later = start + Duration::from_secs(2);
        assert_eq!(limiter.reserve(later), Duration::ZERO);
    }
}
