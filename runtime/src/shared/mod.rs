//! State that the processes running one connection must share: rate-limit slots, retry
//! budgets, and OAuth tokens with single-flight renewal. One small trait; the in-process
//! implementation is the default, and a Redis one (cargo feature `redis`) lets many processes
//! on many hosts stay within one limit and use one token.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use self::redis::RedisState;

/// The future a [`SharedState`] operation returns.
pub type SharedFuture<T> = Pin<Box<dyn Future<Output = Result<T, SharedStateError>> + Send>>;

/// A shared-state operation failed (the store is unreachable, say). The runtime then carries
/// on with what it knows in this process, and logs a warning.
#[derive(Debug, Clone, thiserror::Error)]
#[error("shared state: {0}")]
pub struct SharedStateError(pub String);

/// Where the state that processes share lives. Keys are chosen by the runtime; values never
/// leave this trait except as the runtime asked for them.
pub trait SharedState: Send + Sync + fmt::Debug {
    /// GCRA rate limiting: reserves the next slot of `key`, one per `interval`, `tolerance`
    /// early at most (the burst), and returns how long the caller must wait for it.
    fn reserve(&self, key: &str, interval: Duration, tolerance: Duration)
        -> SharedFuture<Duration>;

    /// Token bucket of `capacity` (full at first): takes `cost`, or answers `false` when the
    /// bucket holds less.
    fn withdraw(&self, key: &str, cost: u32, capacity: u32) -> SharedFuture<bool>;

    /// Gives `amount` back to the bucket, up to its capacity.
    fn deposit(&self, key: &str, amount: u32, capacity: u32) -> SharedFuture<()>;

    /// A token stored with [`store_token`](Self::store_token) and its remaining lifetime.
    fn token(&self, key: &str) -> SharedFuture<Option<(String, Duration)>>;

    /// Stores a token for `ttl`.
    fn store_token(&self, key: &str, token: &str, ttl: Duration) -> SharedFuture<()>;

    /// Takes the lock `key` for at most `ttl` unless someone holds it: `true` when taken.
    fn try_lock(&self, key: &str, ttl: Duration) -> SharedFuture<bool>;

    /// Releases the lock `key`.
    fn unlock(&self, key: &str) -> SharedFuture<()>;
}

/// The in-process implementation: shared by the clones of a connection (and by connections
/// given the same instance), not by processes.
#[derive(Debug, Default)]
pub struct LocalState {
    tats: Mutex<HashMap<String, Instant>>,
    buckets: Mutex<HashMap<String, u32>>,
    tokens: Mutex<HashMap<String, (String, Instant)>>,
    locks: Mutex<HashMap<String, Instant>>,
}

fn ready<T: Send + 'static>(value: T) -> SharedFuture<T> {
    Box::pin(std::future::ready(Ok(value)))
}

impl SharedState for LocalState {
    fn reserve(
        &self,
        key: &str,
        interval: Duration,
        tolerance: Duration,
    ) -> SharedFuture<Duration> {
        let now = Instant::now();
        let mut tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        let tat = tats.get(key).map_or(now, |t| (*t).max(now));
        let allowed_at = tat.checked_sub(tolerance).unwrap_or(now);
        tats.insert(key.to_owned(), tat + interval);
        ready(allowed_at.saturating_duration_since(now))
    }

    fn withdraw(&self, key: &str, cost: u32, capacity: u32) -> SharedFuture<bool> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let tokens = buckets.entry(key.to_owned()).or_insert(capacity);
        let taken = *tokens >= cost;
        if taken {
            *tokens -= cost;
        }
        ready(taken)
    }

    fn deposit(&self, key: &str, amount: u32, capacity: u32) -> SharedFuture<()> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tokens) = buckets.get_mut(key) {
            *tokens = tokens.saturating_add(amount).min(capacity);
        }
        ready(())
    }

    fn token(&self, key: &str) -> SharedFuture<Option<(String, Duration)>> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        ready(
            tokens
                .get(key)
                .filter(|(_, expires)| *expires > now)
                .map(|(token, expires)| (token.clone(), *expires - now)),
        )
    }

    fn store_token(&self, key: &str, token: &str, ttl: Duration) -> SharedFuture<()> {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.insert(key.to_owned(), (token.to_owned(), Instant::now() + ttl));
        ready(())
    }

    fn try_lock(&self, key: &str, ttl: Duration) -> SharedFuture<bool> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let free = locks.get(key).is_none_or(|until| *until <= now);
        if free {
            locks.insert(key.to_owned(), now + ttl);
        }
        ready(free)
    }

    fn unlock(&self, key: &str) -> SharedFuture<()> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        ready(())
    }
}

/// FNV-1a of `text` in hex: keys name credentials without holding them.
pub(crate) fn fingerprint(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_state_keeps_buckets_slots_tokens_and_locks() {
        let state = LocalState::default();
        assert!(state.withdraw("b", 5, 10).await.unwrap());
        assert!(state.withdraw("b", 5, 10).await.unwrap());
        assert!(!state.withdraw("b", 5, 10).await.unwrap());
        state.deposit("b", 5, 10).await.unwrap();
        assert!(state.withdraw("b", 5, 10).await.unwrap());

        let interval = Duration::from_millis(100);
        assert_eq!(
            state.reserve("r", interval, Duration::ZERO).await.unwrap(),
            Duration::ZERO
        );
        assert!(
            state.reserve("r", interval, Duration::ZERO).await.unwrap() > Duration::from_millis(90)
        );

        assert!(state.try_lock("l", Duration::from_secs(5)).await.unwrap());
        assert!(!state.try_lock("l", Duration::from_secs(5)).await.unwrap());
        state.unlock("l").await.unwrap();
        assert!(state.try_lock("l", Duration::from_secs(5)).await.unwrap());

        assert_eq!(state.token("t").await.unwrap(), None);
        state
            .store_token("t", "abc", Duration::from_secs(60))
            .await
            .unwrap();
        let (token, ttl) = state.token("t").await.unwrap().unwrap();
        assert_eq!(token, "abc");
        assert!(ttl <= Duration::from_secs(60) && ttl > Duration::from_secs(59));
    }
}
