//! The retry policy: how many attempts, how long to wait between them (exponential backoff
//! with full jitter, or the server's `Retry-After`), and the per-host retry budget that keeps
//! an outage from multiplying traffic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::shared::SharedState;
use crate::time::Rng;

/// How a connection (or one action) retries a failed attempt.
///
/// Defaults: 3 attempts, backoff base 100 ms and cap 20 s with full jitter, `Retry-After`
/// honoured up to 60 s, a 429 answer to a POST or PATCH retried (the server refused it before
/// processing it).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts per call, the first included; 1 turns retries off.
    pub max_attempts: u32,
    /// Backoff before the first retry (before jitter); it doubles for each further retry.
    pub base: Duration,
    /// Longest backoff (before jitter).
    pub cap: Duration,
    /// Longest `Retry-After` (or `retry-after-ms`) the runtime waits for; a longer one ends the
    /// call at once with [`Error::RateLimited`](crate::Error::RateLimited).
    pub max_retry_after: Duration,
    /// Whether a 429 answer to a POST or PATCH without an idempotency key is retried.
    pub retry_post_on_429: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            retry_post_on_429: true,
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt per call.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The default policy with `attempts` attempts per call (at least 1).
    pub fn attempts(attempts: u32) -> Self {
        Self {
            max_attempts: attempts.max(1),
            ..Self::default()
        }
    }

    /// This policy with another backoff base and cap.
    pub fn with_backoff(self, base: Duration, cap: Duration) -> Self {
        Self { base, cap, ..self }
    }

    /// This policy with another longest `Retry-After` wait.
    pub fn with_max_retry_after(self, max_retry_after: Duration) -> Self {
        Self {
            max_retry_after,
            ..self
        }
    }

    /// This policy with 429 answers to POST and PATCH retried or not.
    pub fn with_retry_post_on_429(self, retry: bool) -> Self {
        Self {
            retry_post_on_429: retry,
            ..self
        }
    }

    /// The wait before retry number `retry` (1 for the first retry): full jitter over
    /// `[0, min(cap, base * 2^(retry-1))]`.
    pub(crate) fn backoff(&self, retry: u32, rng: &dyn Rng) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let ceiling = self
            .base
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.cap)
            .min(self.cap);
        ceiling.mul_f64(rng.unit().clamp(0.0, 1.0))
    }
}

/// What a retry costs in the per-host budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryCost {
    /// A retry after an error status or a connection failure.
    Error,
    /// A retry after a timeout, which holds resources longer and so costs more.
    Timeout,
}

impl RetryCost {
    fn tokens(self) -> u32 {
        match self {
            RetryCost::Error => 5,
            RetryCost::Timeout => 10,
        }
    }
}

/// A shared store and the prefix of this connection's keys in it.
pub(crate) type Shared = (Arc<dyn SharedState>, String);

/// Retry tokens per host: a token bucket (500 tokens; a retry costs 5, a retry after a timeout
/// 10; a success gives 1 back), as the AWS SDKs' standard retry mode does. While a host keeps
/// failing, retries stop once its bucket is empty, so an outage does not multiply traffic; they
/// resume as successes refill it.
///
/// Each connection has its own unless given one to share
/// ([`ConnectionBuilder::retry_budget`](crate::ConnectionBuilder::retry_budget)); clones share
/// the buckets.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    capacity: u32,
    buckets: Arc<Mutex<HashMap<String, u32>>>,
    /// Whether any bucket exists: until a first retry opens one, a success has nothing to
    /// refill and need not take the lock.
    opened: Arc<AtomicBool>,
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self::new(500)
    }
}

impl RetryBudget {
    /// A budget of `capacity` tokens per host (the default is 500).
    pub fn new(capacity: u32) -> Self {
        Self {
            capacity,
            buckets: Arc::new(Mutex::new(HashMap::new())),
            opened: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Takes the cost of one retry to `host`, from the shared store when there is one (falling
    /// back to this process's bucket when the store fails); `false` when it cannot be paid.
    pub(crate) async fn take(&self, shared: Option<&Shared>, host: &str, cost: RetryCost) -> bool {
        if let Some((state, prefix)) = shared {
            let key = format!("{prefix}:budget:{host}");
            match state.withdraw(&key, cost.tokens(), self.capacity).await {
                Ok(taken) => return taken,
                Err(err) => tracing::warn!("{err}; using this process's retry budget"),
            }
        }
        self.withdraw(host, cost)
    }

    /// Gives one token back to `host` after a success.
    pub(crate) async fn give(&self, shared: Option<&Shared>, host: &str) {
        if let Some((state, prefix)) = shared {
            let key = format!("{prefix}:budget:{host}");
            match state.deposit(&key, 1, self.capacity).await {
                Ok(()) => return,
                Err(err) => tracing::warn!("{err}; using this process's retry budget"),
            }
        }
        self.refund(host);
    }

    /// Takes the cost of one retry to `host`; `false` when the bucket cannot pay for it.
    pub(crate) fn withdraw(&self, host: &str, cost: RetryCost) -> bool {
        let cost = cost.tokens();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        self.opened.store(true, Ordering::Release);
        let tokens = buckets.entry(host.to_owned()).or_insert(self.capacity);
        if *tokens < cost {
            return false;
        }
        *tokens -= cost;
        true
    }

    /// Whether a retry has opened a bucket for some host yet.
    pub(crate) fn opened(&self) -> bool {
        self.opened.load(Ordering::Acquire)
    }

    /// Gives one token back to `host` after a success.
    pub(crate) fn refund(&self, host: &str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tokens) = buckets.get_mut(host) {
            *tokens = (*tokens + 1).min(self.capacity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Pinned(f64);
    impl Rng for Pinned {
        fn unit(&self) -> f64 {
            self.0
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy =
            RetryPolicy::default().with_backoff(Duration::from_millis(100), Duration::from_secs(2));
        let max: Vec<u128> = (1..=7)
            .map(|n| policy.backoff(n, &Pinned(1.0)).as_millis())
            .collect();
        assert_eq!(max, [100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(policy.backoff(1, &Pinned(0.0)), Duration::ZERO);
        assert_eq!(
            policy.backoff(u32::MAX, &Pinned(1.0)),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn budget_runs_out_per_host_and_refills() {
        let budget = RetryBudget::new(10);
        assert!(budget.withdraw("a", RetryCost::Error));
        assert!(budget.withdraw("a", RetryCost::Error));
        assert!(!budget.withdraw("a", RetryCost::Error));
        assert!(budget.withdraw("b", RetryCost::Timeout));
        for _ in 0..5 {
            budget.refund("a");
        }
        assert!(budget.withdraw("a", RetryCost::Error));
    }

    #[test]
    fn budget_is_opened_by_the_first_retry_and_shared_by_clones() {
        let budget = RetryBudget::new(10);
        let clone = budget.clone();
        assert!(!clone.opened());
        assert!(budget.withdraw("a", RetryCost::Error));
        assert!(clone.opened());
    }
}
