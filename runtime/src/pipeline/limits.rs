//! Client-side limits: how many requests a connection has in flight, and how many it starts per
//! second. Both serve callers first come, first served.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

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
/// a place. An [adaptive](Self::adaptive) bound halves when the server answers 429 and grows
/// back by one after each round of successes, up to its size.
#[derive(Clone)]
pub struct ConcurrencyLimit {
    semaphore: Arc<Semaphore>,
    size: usize,
    adaptive: Option<Arc<Adaptive>>,
}

/// The state of an adaptive bound (additive increase, multiplicative decrease).
#[derive(Debug)]
struct Adaptive {
    /// Places currently allowed, 1..=size.
    allowed: Mutex<usize>,
    /// Permits to take out of circulation when they come back (the decrease found them in use).
    debt: AtomicUsize,
    /// Successes since the last increase.
    successes: AtomicUsize,
}

impl ConcurrencyLimit {
    /// A bound of `limit` requests in flight, clamped to 1..=[`MAX_CONCURRENCY`].
    pub fn new(limit: usize) -> Self {
        let size = limit.clamp(1, MAX_CONCURRENCY);
        Self {
            semaphore: Arc::new(Semaphore::new(size)),
            size,
            adaptive: None,
        }
    }

    /// Like [`new`](Self::new), but the bound adapts to the server: every 429 answer halves it
    /// (down to 1), and each run of as many successes as it allows raises it by one, up to
    /// `limit` (the target).
    pub fn adaptive(limit: usize) -> Self {
        let mut bound = Self::new(limit);
        bound.adaptive = Some(Arc::new(Adaptive {
            allowed: Mutex::new(bound.size),
            debt: AtomicUsize::new(0),
            successes: AtomicUsize::new(0),
        }));
        bound
    }

    /// The bound, after clamping.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The places allowed now: the size, or less while an adaptive bound is backing off.
    pub fn current(&self) -> usize {
        match &self.adaptive {
            Some(adaptive) => *adaptive.allowed.lock().unwrap_or_else(|e| e.into_inner()),
            None => self.size,
        }
    }

    pub(crate) async fn acquire(&self) -> Option<Permit> {
        // A free place is taken without queueing; there is none while others wait, so this
        // keeps the order callers arrived in. The semaphore is never closed, so `None` cannot
        // happen; it is handled all the same.
        let permit = match self.semaphore.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(TryAcquireError::NoPermits) => self.semaphore.clone().acquire_owned().await.ok()?,
            Err(TryAcquireError::Closed) => return None,
        };
        Some(Permit {
            permit: Some(permit),
            adaptive: self.adaptive.clone(),
        })
    }

    /// The server said "too many requests": halve the places (adaptive bounds only).
    pub(crate) fn throttled(&self) {
        let Some(adaptive) = &self.adaptive else {
            return;
        };
        let mut allowed = adaptive.allowed.lock().unwrap_or_else(|e| e.into_inner());
        let next = (*allowed / 2).max(1);
        let removed = *allowed - next;
        *allowed = next;
        adaptive.successes.store(0, Ordering::SeqCst);
        let forgotten = self.semaphore.forget_permits(removed);
        adaptive
            .debt
            .fetch_add(removed - forgotten, Ordering::SeqCst);
    }

    /// An attempt succeeded: after as many successes as places, one place more (adaptive
    /// bounds only, up to the size).
    pub(crate) fn succeeded(&self) {
        let Some(adaptive) = &self.adaptive else {
            return;
        };
        let mut allowed = adaptive.allowed.lock().unwrap_or_else(|e| e.into_inner());
        if *allowed >= self.size {
            return;
        }
        if adaptive.successes.fetch_add(1, Ordering::SeqCst) + 1 < *allowed {
            return;
        }
        adaptive.successes.store(0, Ordering::SeqCst);
        *allowed += 1;
        let repaid = adaptive
            .debt
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| d.checked_sub(1))
            .is_ok();
        if !repaid {
            self.semaphore.add_permits(1);
        }
    }
}

/// A place in a [`ConcurrencyLimit`], given back when dropped (or taken out of circulation
/// when an adaptive bound shrank while it was in use).
pub(crate) struct Permit {
    permit: Option<OwnedSemaphorePermit>,
    adaptive: Option<Arc<Adaptive>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let Some(adaptive) = &self.adaptive else {
            return;
        };
        let owed = adaptive
            .debt
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |d| d.checked_sub(1))
            .is_ok();
        if let (true, Some(permit)) = (owed, self.permit.take()) {
            permit.forget();
        }
    }
}

impl fmt::Debug for ConcurrencyLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrencyLimit")
            .field("size", &self.size)
            .field("current", &self.current())
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
    fn adaptive_bound_halves_and_grows_back() {
        let limit = ConcurrencyLimit::adaptive(8);
        limit.throttled();
        assert_eq!(limit.current(), 4);
        limit.throttled();
        limit.throttled();
        limit.throttled();
        assert_eq!(limit.current(), 1);
        assert_eq!(limit.semaphore.available_permits(), 1);
        limit.succeeded();
        assert_eq!(limit.current(), 2);
        for _ in 0..2 {
            limit.succeeded();
        }
        assert_eq!(limit.current(), 3);
        assert_eq!(limit.semaphore.available_permits(), 3);
        assert_eq!(ConcurrencyLimit::new(8).current(), 8);
    }

    #[tokio::test]
    async fn places_in_use_are_taken_out_when_they_come_back() {
        let limit = ConcurrencyLimit::adaptive(4);
        let held: Vec<_> = futures_util::future::join_all((0..4).map(|_| limit.acquire())).await;
        limit.throttled();
        assert_eq!(limit.current(), 2);
        drop(held);
        assert_eq!(limit.semaphore.available_permits(), 2);
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
