//! [`SharedState`] in Redis: every update is one Lua script or one atomic command, so processes
//! on many hosts see one rate limit, one retry budget per host, and one token.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands as _, Script};
use tokio::sync::OnceCell;

use super::{SharedFuture, SharedState, SharedStateError};

/// GCRA on the server's clock (so hosts whose clocks differ agree): returns the wait in
/// microseconds and stores the new theoretical arrival time.
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.floor((new_tat - now) / 1000) + 1000)
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
return wait
";

/// Takes ARGV[1] tokens from a bucket of ARGV[2] (full when absent): 1 when taken, else 0.
const WITHDRAW: &str = r"
local capacity = tonumber(ARGV[2])
local tokens = tonumber(redis.call('GET', KEYS[1]) or capacity)
local cost = tonumber(ARGV[1])
if tokens < cost then return 0 end
redis.call('SET', KEYS[1], tokens - cost, 'EX', 3600)
return 1
";

/// Gives ARGV[1] tokens back, up to ARGV[2].
const DEPOSIT: &str = r"
local capacity = tonumber(ARGV[2])
local tokens = redis.call('GET', KEYS[1])
if not tokens then return 0 end
local next = math.min(capacity, tonumber(tokens) + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], next, 'EX', 3600)
return 1
";

/// Shared state in a Redis server (`redis://host:port/db`), under a key prefix.
///
/// The connection is opened on first use. Tokens are stored in Redis: protect it as you would
/// the credentials themselves (authentication, TLS with `rediss://`, a private network).
pub struct RedisState {
    client: redis::Client,
    prefix: String,
    connection: Arc<OnceCell<MultiplexedConnection>>,
}

impl fmt::Debug for RedisState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password.
        f.debug_struct("RedisState")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisState {
    /// State in the Redis server at `url`, every key starting with `prefix`.
    pub fn new(url: &str, prefix: &str) -> Result<Self, SharedStateError> {
        let client = redis::Client::open(url)
            .map_err(|err| SharedStateError(format!("invalid Redis URL ({:?})", err.kind())))?;
        Ok(Self {
            client,
            prefix: prefix.to_owned(),
            connection: Arc::new(OnceCell::new()),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    /// Runs `op` with the connection, opened on first use and shared by every operation.
    fn with<T, F, Fut>(&self, op: F) -> SharedFuture<T>
    where
        T: Send + 'static,
        F: FnOnce(MultiplexedConnection) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = redis::RedisResult<T>> + Send,
    {
        let client = self.client.clone();
        let cell = self.connection.clone();
        Box::pin(async move {
            let conn = cell
                .get_or_try_init(|| async move {
                    client
                        .get_multiplexed_async_connection()
                        .await
                        .map_err(failed)
                })
                .await?
                .clone();
            op(conn).await.map_err(failed)
        })
    }
}

fn failed(err: redis::RedisError) -> SharedStateError {
    // The error's text can quote the URL; only its kind is kept.
    SharedStateError(format!(
        "Redis failed ({:?}{})",
        err.kind(),
        if err.is_timeout() { ", timed out" } else { "" }
    ))
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl SharedState for RedisState {
    fn reserve(
        &self,
        key: &str,
        interval: Duration,
        tolerance: Duration,
    ) -> SharedFuture<Duration> {
        let key = self.key(key);
        self.with(move |mut conn| async move {
            let wait: u64 = Script::new(RESERVE)
                .key(key)
                .arg(micros(interval))
                .arg(micros(tolerance))
                .invoke_async(&mut conn)
                .await?;
            Ok(Duration::from_micros(wait))
        })
    }

    fn withdraw(&self, key: &str, cost: u32, capacity: u32) -> SharedFuture<bool> {
        let key = self.key(key);
        self.with(move |mut conn| async move {
            let taken: i64 = Script::new(WITHDRAW)
                .key(key)
                .arg(cost)
                .arg(capacity)
                .invoke_async(&mut conn)
                .await?;
            Ok(taken == 1)
        })
    }

    fn deposit(&self, key: &str, amount: u32, capacity: u32) -> SharedFuture<()> {
        let key = self.key(key);
        self.with(move |mut conn| async move {
            let _: i64 = Script::new(DEPOSIT)
                .key(key)
                .arg(amount)
                .arg(capacity)
                .invoke_async(&mut conn)
                .await?;
            Ok(())
        })
    }

    fn token(&self, key: &str) -> SharedFuture<Option<(String, Duration)>> {
        let key = self.key(key);
        self.with(move |mut conn| async move {
            let (token, ttl): (Option<String>, i64) = redis::pipe()
                .atomic()
                .get(&key)
                .pttl(&key)
                .query_async(&mut conn)
                .await?;
            Ok(token
                .filter(|_| ttl > 0)
                .map(|t| (t, Duration::from_millis(ttl.unsigned_abs()))))
        })
    }

    fn store_token(&self, key: &str, token: &str, ttl: Duration) -> SharedFuture<()> {
        let key = self.key(key);
        let token = token.to_owned();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.with(move |mut conn| async move {
            let _: () = redis::cmd("SET")
                .arg(&key)
                .arg(token)
                .arg("PX")
                .arg(ms)
                .query_async(&mut conn)
                .await?;
            Ok(())
        })
    }

    fn try_lock(&self, key: &str, ttl: Duration) -> SharedFuture<bool> {
        let key = self.key(key);
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.with(move |mut conn| async move {
            let set: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ms)
                .query_async(&mut conn)
                .await?;
            Ok(set.is_some())
        })
    }

    fn unlock(&self, key: &str) -> SharedFuture<()> {
        let key = self.key(key);
        self.with(move |mut conn| async move {
            let _: i64 = conn.del(&key).await?;
            Ok(())
        })
    }
}
