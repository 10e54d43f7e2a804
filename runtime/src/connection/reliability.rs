//! The builder's settings for dependable calls: retries, timeouts and deadlines, limits,
//! idempotency keys and request ids, and the injected time and random sources.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderName;

use super::{check_timeout, ConnectionBuilder};
use crate::error::Error;
use crate::pipeline::limits::{ConcurrencyLimit, RateLimiter};
use crate::pipeline::retry::{RetryBudget, RetryPolicy};
use crate::shared::SharedState;
use crate::time::{FastRng, Rng, Sleeper, TokioSleeper};
use crate::wire::guard::{Guard, GuardedResolve, NetworkPolicy, Resolver, SystemResolver};

/// Default connect timeout.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default overall deadline of one call, across its attempts and waits.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);
/// Default longest pause between two chunks of a streamed body.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default header of idempotency keys.
pub(crate) const DEFAULT_IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Default header of request ids.
pub(crate) const DEFAULT_REQUEST_ID_HEADER: &str = "X-Request-Id";

/// The reliability settings a builder collects.
#[derive(Debug)]
pub(super) struct Reliability {
    pub(super) retry: RetryPolicy,
    pub(super) action_retry: BTreeMap<String, RetryPolicy>,
    pub(super) connect_timeout: Duration,
    pub(super) deadline: Duration,
    pub(super) idle_timeout: Duration,
    pub(super) concurrency: Option<ConcurrencyLimit>,
    pub(super) adaptive: bool,
    pub(super) budget: Option<RetryBudget>,
    pub(super) rate: Option<(f64, u32)>,
    pub(super) sleeper: Arc<dyn Sleeper>,
    pub(super) rng: Arc<dyn Rng>,
    pub(super) idempotent: BTreeSet<String>,
    pub(super) idempotency_header: String,
    pub(super) request_id_header: Option<String>,
    pub(super) policy: NetworkPolicy,
    pub(super) resolver: Option<Arc<dyn Resolver>>,
    pub(super) shared: Option<(Arc<dyn SharedState>, String)>,
    /// Why the shared store given by URL could not be set up, reported by `build`.
    pub(super) shared_error: Option<String>,
}

impl Default for Reliability {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            action_retry: BTreeMap::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            concurrency: None,
            adaptive: false,
            budget: None,
            rate: None,
            sleeper: Arc::new(TokioSleeper),
            rng: Arc::new(FastRng::default()),
            idempotent: BTreeSet::new(),
            idempotency_header: DEFAULT_IDEMPOTENCY_HEADER.into(),
            request_id_header: Some(DEFAULT_REQUEST_ID_HEADER.into()),
            policy: NetworkPolicy::AllowAll,
            resolver: None,
            shared: None,
            shared_error: None,
        }
    }
}

/// What `build` turns the settings into.
pub(super) struct Built {
    pub(super) limit: ConcurrencyLimit,
    pub(super) rate: Option<RateLimiter>,
    pub(super) idempotency_header: HeaderName,
    pub(super) request_id_header: Option<HeaderName>,
    pub(super) guard: Guard,
}

impl Reliability {
    /// Checks the settings and builds the limiters and header names.
    pub(super) fn build(&self, max_concurrency: Option<usize>) -> Result<Built, Error> {
        if let Some(message) = &self.shared_error {
            return Err(Error::Config {
                key: "shared_state.redis".into(),
                message: message.clone(),
            });
        }
        check_timeout("connect_timeout", self.connect_timeout)?;
        check_timeout("deadline", self.deadline)?;
        check_timeout("stream_idle_timeout", self.idle_timeout)?;
        for (key, policy) in std::iter::once(("retries", &self.retry))
            .chain(self.action_retry.iter().map(|(k, p)| (k.as_str(), p)))
        {
            check_policy(key, policy)?;
        }
        let limit = match (&self.concurrency, max_concurrency) {
            (Some(shared), _) => shared.clone(),
            (None, Some(0)) => {
                return Err(Error::Config {
                    key: "max_concurrency".into(),
                    message: "must be at least 1".into(),
                })
            }
            (None, n) => {
                let n = n.unwrap_or(crate::pipeline::limits::DEFAULT_CONCURRENCY);
                if self.adaptive {
                    ConcurrencyLimit::adaptive(n)
                } else {
                    ConcurrencyLimit::new(n)
                }
            }
        };
        let rate = match self.rate {
            None => None,
            Some((per_second, burst)) => {
                if !(per_second.is_finite() && per_second > 0.0 && per_second <= 1e6) {
                    return Err(Error::Config {
                        key: "rate_limit.per_second".into(),
                        message:
                            "must be a number of requests per second above 0 and at most 1000000"
                                .into(),
                    });
                }
                if burst == 0 {
                    return Err(Error::Config {
                        key: "rate_limit.burst".into(),
                        message: "must be at least 1".into(),
                    });
                }
                Some(RateLimiter::new(per_second, burst))
            }
        };
        let header = |key: &str, name: &str| {
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::Config {
                key: key.into(),
                message: format!("{name:?} is not a valid HTTP header name"),
            })
        };
        Ok(Built {
            guard: self.guard(),
            limit,
            rate,
            idempotency_header: header("idempotency_header", &self.idempotency_header)?,
            request_id_header: self
                .request_id_header
                .as_deref()
                .map(|name| header("request_id_header", name))
                .transpose()?,
        })
    }
}

impl Reliability {
    fn guard(&self) -> Guard {
        Guard {
            policy: self.policy,
            resolver: self
                .resolver
                .clone()
                .unwrap_or_else(|| Arc::new(SystemResolver)),
        }
    }

    /// Makes `builder` resolve through the guard (when a policy or resolver is set), so that a
    /// connection is only ever opened to an address the policy allows.
    pub(super) fn resolve_through_guard(
        &self,
        builder: reqwest::ClientBuilder,
    ) -> reqwest::ClientBuilder {
        if self.policy == NetworkPolicy::AllowAll && self.resolver.is_none() {
            return builder;
        }
        builder.dns_resolver(Arc::new(GuardedResolve(self.guard())))
    }
}

fn check_policy(key: &str, policy: &RetryPolicy) -> Result<(), Error> {
    let bad = |field: &str, message: &str| Error::Config {
        key: format!("{key}.{field}"),
        message: message.into(),
    };
    if policy.max_attempts == 0 || policy.max_attempts > 100 {
        return Err(bad("attempts", "must be between 1 and 100"));
    }
    if policy.base.is_zero() || policy.base > policy.cap {
        return Err(bad(
            "backoff_base",
            "must be more than zero and at most the backoff cap",
        ));
    }
    if policy.cap > super::MAX_TIMEOUT {
        return Err(bad("backoff_cap", "must be at most 24 hours"));
    }
    if policy.max_retry_after > super::MAX_TIMEOUT {
        return Err(bad("max_retry_after", "must be at most 24 hours"));
    }
    Ok(())
}

impl ConnectionBuilder {
    /// Retries failed attempts with `policy`. Default: [`RetryPolicy::default`] (3 attempts,
    /// backoff 100 ms doubling to 20 s with full jitter, `Retry-After` honoured up to 60 s).
    /// GET, HEAD, OPTIONS, PUT and DELETE are retried on 408, 429, 5xx other than 501, timeouts
    /// and connection failures; POST and PATCH only when nothing was sent, on 429, or with an
    /// idempotency key.
    pub fn retries(mut self, policy: RetryPolicy) -> Self {
        self.reliability.retry = policy;
        self
    }

    /// Retries the operation `action` with `policy` instead of the connection's. Default: the
    /// connection's policy.
    pub fn action_retries(mut self, action: impl Into<String>, policy: RetryPolicy) -> Self {
        self.reliability.action_retry.insert(action.into(), policy);
        self
    }

    /// Limits connecting to the server. Default: 10 seconds.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.reliability.connect_timeout = timeout;
        self
    }

    /// Limits one call from start to end, across its attempts and the waits between them; no
    /// attempt starts after it. Default: 120 seconds.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.reliability.deadline = deadline;
        self
    }

    /// Limits the pause between two chunks of a streamed body
    /// ([`Connection::execute_streaming`](crate::Connection::execute_streaming)). Default: 30
    /// seconds.
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.reliability.idle_timeout = timeout;
        self
    }

    /// Shares `limit` with other connections: together they keep at most its size of requests
    /// in flight. Replaces [`max_concurrency`](Self::max_concurrency).
    pub fn concurrency_limit(mut self, limit: &ConcurrencyLimit) -> Self {
        self.reliability.concurrency = Some(limit.clone());
        self
    }

    /// Shares `budget` (retry tokens per host) with other connections: a host that fails for
    /// all of them stops being retried by all of them. Default: a budget of the connection's own.
    pub fn retry_budget(mut self, budget: &RetryBudget) -> Self {
        self.reliability.budget = Some(budget.clone());
        self
    }

    /// Lets the concurrency bound adapt to the server: halved on every 429 answer, grown back
    /// by one after each run of successes, up to [`max_concurrency`](Self::max_concurrency)
    /// (see [`ConcurrencyLimit::adaptive`]). Default: `false`, a fixed bound.
    pub fn adaptive_concurrency(mut self, adaptive: bool) -> Self {
        self.reliability.adaptive = adaptive;
        self
    }

    /// Starts at most `per_second` requests per second, `burst` of them at once; callers wait
    /// for their turn in arrival order. Default: no rate limit.
    pub fn rate_limit(mut self, per_second: f64, burst: u32) -> Self {
        self.reliability.rate = Some((per_second, burst));
        self
    }

    /// Waits between attempts and for rate-limit slots with `sleeper`. Default: the tokio timer.
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.reliability.sleeper = sleeper;
        self
    }

    /// Draws backoff jitter from `rng`. Default: a [`FastRng`] seeded from the clock.
    pub fn rng(mut self, rng: Arc<dyn Rng>) -> Self {
        self.reliability.rng = rng;
        self
    }

    /// Sends an idempotency key with every POST or PATCH of the operation `action`, the same
    /// across the attempts of one call, which makes them safe to retry. Operations whose spec
    /// marks them `x-connector-idempotent` need not be listed. Default: none.
    pub fn idempotent_action(mut self, action: impl Into<String>) -> Self {
        self.reliability.idempotent.insert(action.into());
        self
    }

    /// Names the idempotency-key header. Default: `Idempotency-Key`.
    pub fn idempotency_header(mut self, name: impl Into<String>) -> Self {
        self.reliability.idempotency_header = name.into();
        self
    }

    /// Sends requests (redirects and token requests included) only where `policy` allows,
    /// checked after DNS resolution. Default: [`NetworkPolicy::AllowAll`].
    pub fn network_policy(mut self, policy: NetworkPolicy) -> Self {
        self.reliability.policy = policy;
        self
    }

    /// Resolves host names with `resolver`, for the network policy and the HTTP clients alike
    /// (it replaces the resolver of an injected client builder). Default: the system resolver.
    pub fn resolver(mut self, resolver: Arc<dyn Resolver>) -> Self {
        self.reliability.resolver = Some(resolver);
        self
    }

    /// Keeps the state that the processes running this connection must share (rate-limit
    /// slots, retry budgets, OAuth tokens with single-flight renewal) in `state`, under keys
    /// starting with `namespace`: processes whose connections name the same namespace (and
    /// store) stay within one rate limit and use one token. Default: this process only.
    pub fn shared_state(
        mut self,
        state: Arc<dyn SharedState>,
        namespace: impl Into<String>,
    ) -> Self {
        self.reliability.shared = Some((state, namespace.into()));
        self
    }

    /// Shares state through the Redis server at `url` (`redis://host:port/db`, or `rediss://`
    /// for TLS), under keys starting with `connector-runtime:` and `namespace`; see
    /// [`shared_state`](Self::shared_state). The connection to Redis is opened on first use.
    #[cfg(feature = "redis")]
    pub fn shared_state_redis(mut self, url: &str, namespace: impl Into<String>) -> Self {
        match crate::shared::RedisState::new(url, "connector-runtime") {
            Ok(state) => {
                self.reliability.shared = Some((Arc::new(state), namespace.into()));
            }
            Err(err) => self.reliability.shared_error = Some(err.to_string()),
        }
        self
    }

    /// Names the request-id header (a UUID per call, the same across its attempts), or sends
    /// none with `None`. Default: `X-Request-Id`.
    pub fn request_id_header(mut self, name: Option<String>) -> Self {
        self.reliability.request_id_header = name;
        self
    }
}
