//! The orchestrator every call runs through: the one place requests leave the process.
//!
//! The connection builder assembles a [`Pipeline`]; the pipeline never sees the connection.
//! [`attempt`] holds one exchange (token, transmit with same-origin redirects, auth renewal).

pub(crate) mod attempt;
mod classify;
pub(crate) mod limits;
pub(crate) mod retry;
mod timer;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Url;
use tracing::Instrument as _;

use crate::auth::oauth::TokenSource;
use crate::auth::{self, Credentials};
use crate::descriptor::Method;
use crate::descriptor::{ConnectorDescriptor, OperationDescriptor};
use crate::error::Error;
use crate::time::{Clock, FastRng, Rng, Sleeper};
use crate::wire::args::Args;
use crate::wire::read::{self, ReadError};
use crate::wire::request;
use crate::wire::response::{Response, StreamingResponse};
use attempt::Outgoing;
use classify::Decision;
use limits::{ConcurrencyLimit, RateLimiter};
use retry::{RetryBudget, RetryPolicy};

/// Everything a call needs after the connection is built, shared by the connection's clones.
pub(crate) struct Pipeline {
    /// The connector: its security schemes decide where credentials go and what a redirect to
    /// another origin must not carry.
    pub(crate) connector: Arc<ConnectorDescriptor>,
    pub(crate) credentials: Credentials,
    pub(crate) client: reqwest::Client,
    pub(crate) timeout: Duration,
    pub(crate) user_agent: HeaderValue,
    /// Token sources of the OAuth schemes the runtime obtains tokens for, by scheme name.
    pub(crate) tokens: BTreeMap<String, Arc<TokenSource>>,
    /// Connection-wide headers (custom auth), marked sensitive.
    pub(crate) extra_headers: Vec<(HeaderName, HeaderValue)>,
    /// Connection-wide encoded query pairs (custom auth).
    pub(crate) extra_query: Vec<(String, String)>,
    /// Bounds the requests in flight (possibly shared with other connections).
    pub(crate) limit: ConcurrencyLimit,
    /// The client-side rate limit, when the connection sets one.
    pub(crate) rate: Option<RateLimiter>,
    /// The connection's retry policy, and the ones set for single actions.
    pub(crate) retry: RetryPolicy,
    pub(crate) action_retry: BTreeMap<String, RetryPolicy>,
    /// Retry tokens per host.
    pub(crate) budget: RetryBudget,
    /// Overall time per call, across attempts and waits.
    pub(crate) deadline: Duration,
    /// Connect timeout of the client (reported in [`Error::ConnectTimeout`]).
    pub(crate) connect_timeout: Duration,
    /// Longest pause between chunks of a streamed body.
    pub(crate) idle_timeout: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) rng: Arc<dyn Rng>,
    /// Source of request ids and idempotency keys (not the jitter source, which tests pin).
    pub(crate) ids: FastRng,
    /// Operations whose POST/PATCH carries an idempotency key (by operation id).
    pub(crate) idempotent: BTreeSet<String>,
    pub(crate) idempotency_header: HeaderName,
    /// The header carrying the call's request id; `None` sends none.
    pub(crate) request_id_header: Option<HeaderName>,
    /// The store shared with other processes, and this connection's key prefix in it.
    pub(crate) shared: Option<retry::Shared>,
    /// Backend variables of the pinned version placed in path parameters and JSON bodies.
    pub(crate) backend: crate::variables::Backend,
    /// The SSRF guard: checked before every hop.
    pub(crate) guard: crate::wire::guard::Guard,
    /// Statuses that mean "token rejected": the token is renewed once and the request retried.
    pub(crate) auth_failure_statuses: Vec<u16>,
    /// Whether a redirect to another origin is followed (always without credentials).
    pub(crate) follow_cross_origin: bool,
    /// The client that follows a redirect to another origin when the connection's own client
    /// was built from an injected builder: a builder's default headers (or cookie store) are
    /// invisible to the runtime and so cannot be stripped, and must not go there.
    pub(crate) cross_origin_client: Option<reqwest::Client>,
    /// A success body that means "token rejected": the JSON path (split on `.`) and its values.
    pub(crate) auth_failure_body: Option<(Vec<String>, Vec<String>)>,
    /// The base URLs of this connection and the ones derived from it, each parsed once.
    pub(crate) base_urls: crate::wire::base_url::BaseUrls,
}

/// Largest successful body the runtime buffers.
pub(crate) const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How much of an error body [`Error::Status`] keeps: enough for any sensible declared error
/// body, little enough that a misbehaving server cannot make errors large.
pub(crate) const ERROR_BODY_BYTES: usize = 8 * 1024;

/// What one call asks of the pipeline beyond the connection's settings.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallOptions {
    /// The action is marked idempotent: a POST or PATCH carries an idempotency key and may be
    /// retried.
    pub(crate) idempotent: bool,
    /// Exactly one attempt, whatever the retry policy says: a ping reports what one request
    /// found rather than hiding an outage behind retries.
    pub(crate) single_attempt: bool,
}

impl CallOptions {
    /// Options for an action that may or may not be marked idempotent.
    pub(crate) fn marked(idempotent: bool) -> Self {
        Self {
            idempotent,
            single_attempt: false,
        }
    }
}

/// Executes `op` with `args` and reads the whole 2xx body.
///
/// Not an `async fn`: the call's future is handed to the caller as it is, not moved into one
/// more future around it (every such move copies all of it).
pub(crate) fn execute<'a>(
    pipeline: &'a Pipeline,
    base_url: &'a str,
    op: &'a OperationDescriptor,
    args: &'a Args,
    options: CallOptions,
) -> impl Future<Output = Result<Response, Error>> + 'a {
    invoke(
        pipeline,
        base_url,
        op,
        args,
        options,
        move |response| async move {
            let mut response = response;
            let status = response.status().as_u16();
            // Taken, not cloned: the body is read from the response, not its headers.
            let headers = std::mem::take(response.headers_mut());
            let body = read::read_capped(&mut response, MAX_BODY_BYTES)
                .await
                .map_err(|err| match err {
                    ReadError::TooLarge => Error::ResponseTooLarge {
                        operation: op.id.to_string(),
                        limit: MAX_BODY_BYTES,
                        part: "body",
                    },
                    ReadError::Transport(err) => body_error(pipeline, op, err),
                })?;
            Ok(Response::new(op.id.clone(), status, headers, body))
        },
    )
}

/// Executes `op` with `args` and hands back the 2xx body unread, to be streamed: the attempt
/// (and its concurrency permit) ends when the headers arrive, and the stream is bounded by the
/// idle timeout between chunks instead.
pub(crate) fn execute_streaming<'a>(
    pipeline: &'a Pipeline,
    base_url: &'a str,
    op: &'a OperationDescriptor,
    args: &'a Args,
    options: CallOptions,
) -> impl Future<Output = Result<StreamingResponse, Error>> + 'a {
    let idle = pipeline.idle_timeout;
    invoke(
        pipeline,
        base_url,
        op,
        args,
        options,
        move |response| async move { Ok(StreamingResponse::new(op.id.clone(), response, idle)) },
    )
}

/// One call: prepare once, then the retry loop, each attempt under the deadline and limits.
/// `finish` turns a 2xx response into the result inside the attempt (reading the body counts
/// toward the attempt's timeout and holds its permit).
async fn invoke<'a, T, F, Fut>(
    pipeline: &'a Pipeline,
    base_url: &str,
    op: &'a OperationDescriptor,
    args: &Args,
    options: CallOptions,
    finish: F,
) -> Result<T, Error>
where
    F: Fn(reqwest::Response) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    // Backend variables placed in path parameters and JSON bodies.
    let filled = pipeline.backend.fill(op, args);
    let args = filled.as_ref().unwrap_or(args);
    let parts = auth::authorize(&pipeline.connector, op, &pipeline.credentials)?;
    let prepared = request::prepare(op, args, base_url, &pipeline.user_agent, parts)?;
    let (mut out, mut stream) = attempt::outgoing(pipeline, op, base_url, prepared)?;
    let request_id = Uuid::v4(&pipeline.ids);
    // A header the operation declares as a parameter is the caller's to send or not.
    let declared = |name: &HeaderName| {
        op.params.iter().any(|p| {
            p.location == crate::descriptor::ParamLocation::Header
                && p.name.eq_ignore_ascii_case(name.as_str())
        })
    };
    if let Some(name) = pipeline
        .request_id_header
        .as_ref()
        .filter(|name| !out.headers.contains_key(*name) && !declared(name))
    {
        if let Some(value) = request_id.header_value() {
            out.headers.insert(name.clone(), value);
        }
    }
    let keyed = !is_idempotent(op.method)
        && (options.idempotent || pipeline.idempotent.contains(op.id.as_ref()));
    if keyed && !out.headers.contains_key(&pipeline.idempotency_header) {
        if let Some(value) = Uuid::v4(&pipeline.ids).header_value() {
            out.headers
                .insert(pipeline.idempotency_header.clone(), value);
        }
    }
    let safe = is_idempotent(op.method) || out.headers.contains_key(&pipeline.idempotency_header);
    let policy = if options.single_attempt {
        RetryPolicy {
            max_attempts: 1,
            ..pipeline.retry
        }
    } else {
        pipeline
            .action_retry
            .get(op.id.as_ref())
            .copied()
            .unwrap_or(pipeline.retry)
    };
    let span = tracing::info_span!(
        "action",
        action = %op.id,
        method = %out.method,
        path = out.url.path(),
        request_id = %request_id.as_str(),
    );
    let call = Call {
        pipeline,
        op,
        policy,
        safe,
        host: OnceLock::new(),
        start: pipeline.clock.now(),
    };
    // A streamed upload is consumed by its first attempt.
    let replayable = stream.is_none();
    async move {
        let mut attempts = 0;
        loop {
            let started = match attempts {
                0 => call.start,
                _ => pipeline.clock.now(),
            };
            let remaining = call.remaining_at(started);
            if remaining.is_zero() {
                return Err(call.deadline_exceeded(attempts));
            }
            attempts += 1;
            // Read only when a debug event is recorded.
            let elapsed = || pipeline.clock.now().saturating_duration_since(started);
            let outcome = call
                .attempt(&out, stream.take(), &finish, remaining)
                .instrument(tracing::debug_span!("attempt", attempt = attempts))
                .await;
            let err = match outcome {
                Some(Ok(value)) => {
                    pipeline.limit.succeeded();
                    call.refund(&out.url).await;
                    tracing::debug!(
                        attempt = attempts,
                        duration_ms = elapsed().as_millis() as u64,
                        "call succeeded"
                    );
                    return Ok(value);
                }
                Some(Err(err)) => {
                    if err.status() == Some(429) {
                        pipeline.limit.throttled();
                    }
                    err
                }
                None => return Err(call.deadline_exceeded(attempts)),
            };
            // The error's Display holds no secret (SE-1..3); the reason names what failed.
            let reason = err.to_string();
            tracing::debug!(
                attempt = attempts,
                status = err.status(),
                duration_ms = elapsed().as_millis() as u64,
                reason = %reason,
                "attempt failed"
            );
            // Boxed: the failure path's futures would otherwise make every call's future larger.
            match Box::pin(call.next_step(err, attempts, replayable, &out.url)).await {
                Ok(wait) => {
                    tracing::debug!(
                        attempt = attempts,
                        wait_ms = wait.as_millis() as u64,
                        reason = %reason,
                        "retrying"
                    );
                    pipeline.sleeper.sleep(wait.min(call.remaining())).await;
                }
                Err(err) => return Err(err),
            }
        }
    }
    .instrument(span)
    .await
}

/// The fixed parts of one call.
struct Call<'a> {
    pipeline: &'a Pipeline,
    op: &'a OperationDescriptor,
    policy: RetryPolicy,
    /// Whether sending the request twice is harmless (idempotent method or idempotency key).
    safe: bool,
    /// The retry budget's key: the request's origin, formed when the budget is first used.
    host: OnceLock<String>,
    start: Instant,
}

impl Call<'_> {
    fn remaining(&self) -> Duration {
        self.remaining_at(self.pipeline.clock.now())
    }

    fn remaining_at(&self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.start);
        self.pipeline.deadline.saturating_sub(elapsed)
    }

    fn host(&self, url: &Url) -> &str {
        self.host.get_or_init(|| url.origin().ascii_serialization())
    }

    /// A success gives the host's retry budget a token back.
    async fn refund(&self, url: &Url) {
        let pipeline = self.pipeline;
        match &pipeline.shared {
            Some(shared) => {
                Box::pin(pipeline.budget.give(Some(shared), self.host(url))).await;
            }
            // A host's bucket is opened by its first retry; until then there is nothing to refill.
            None if pipeline.budget.opened() => pipeline.budget.refund(self.host(url)),
            None => {}
        }
    }

    fn deadline_exceeded(&self, attempts: u32) -> Error {
        Error::DeadlineExceeded {
            operation: self.op.id.to_string(),
            deadline: self.pipeline.deadline,
            attempts,
        }
    }

    /// One attempt under the limits, the per-attempt timeout and what is left of the call's
    /// deadline (`remaining`): `None` when the deadline passed first.
    ///
    /// One timer serves both limits: it fires at the earlier of the two, and the attempt's own
    /// timeout is reported when it has passed by then (as it was when each limit had a timer of
    /// its own, the inner one winning a tie).
    async fn attempt<T, F, Fut>(
        &self,
        out: &Outgoing,
        stream: Option<reqwest::Body>,
        finish: &F,
        remaining: Duration,
    ) -> Option<Result<T, Error>>
    where
        F: Fn(reqwest::Response) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let pipeline = self.pipeline;
        let mut now = tokio::time::Instant::now();
        let deadline = after(now, remaining);
        if let Some(rate) = &pipeline.rate {
            // The wait for a slot counts toward the deadline, not toward the attempt's timeout.
            let acquire = Box::pin(rate.acquire(
                pipeline.shared.as_ref(),
                &*pipeline.clock,
                &*pipeline.sleeper,
                &*pipeline.rng,
            ));
            tokio::time::timeout_at(deadline, acquire).await.ok()?;
            now = tokio::time::Instant::now();
        }
        let timeout = pipeline.timeout;
        let timed_out = after(now, timeout);
        let exchange = async {
            // The permit is held until the body is read (or, for a stream, until the headers
            // arrive), and released before the next attempt.
            let (response, _permit) = attempt::send(pipeline, self.op, out, stream).await?;
            if !response.status().is_success() {
                return Err(Box::pin(status_error(self.op, response)).await);
            }
            tracing::debug!(status = response.status().as_u16(), "response received");
            finish(response).await
        };
        match timer::until(timed_out.min(deadline), exchange).await {
            Some(result) => Some(result),
            None if tokio::time::Instant::now() >= timed_out => Some(Err(Error::AttemptTimeout {
                operation: self.op.id.to_string(),
                timeout,
            })),
            None => None,
        }
    }

    /// After a failed attempt: how long to wait before the next one, or the error that ends
    /// the call.
    async fn next_step(
        &self,
        err: Error,
        attempts: u32,
        replayable: bool,
        url: &Url,
    ) -> Result<Duration, Error> {
        let pipeline = self.pipeline;
        let operation = self.op.id.to_string();
        let decision = classify::classify(
            &err,
            self.safe,
            replayable,
            &self.policy,
            pipeline.clock.wall(),
        );
        let (cost, server_wait) = match decision {
            Decision::Stop => return Err(err),
            Decision::NotRetried(reason) => {
                if self.policy.max_attempts <= 1 {
                    return Err(err);
                }
                tracing::debug!(%reason, "not retried");
                return Err(Error::NotRetried {
                    operation,
                    reason,
                    attempts,
                    last: Box::new(err),
                });
            }
            Decision::Retry { cost, wait } => (cost, wait),
        };
        if attempts >= self.policy.max_attempts {
            if self.policy.max_attempts <= 1 {
                return Err(err);
            }
            return Err(Error::RetriesExhausted {
                operation,
                attempts,
                last_status: err.status(),
                last: Box::new(err),
            });
        }
        if let Some(wait) = server_wait {
            if wait > self.policy.max_retry_after || wait >= self.remaining() {
                return Err(Error::RateLimited {
                    operation,
                    retry_after: wait,
                    attempts,
                    last: Box::new(err),
                });
            }
        }
        let paid = pipeline
            .budget
            .take(pipeline.shared.as_ref(), self.host(url), cost)
            .await;
        if !paid {
            return Err(Error::RetryBudgetExhausted {
                operation,
                attempts,
                last: Box::new(err),
            });
        }
        // A backoff that outlasts the deadline is cut to it; the loop then reports the deadline.
        Ok(server_wait.unwrap_or_else(|| self.policy.backoff(attempts, &*pipeline.rng)))
    }
}

/// The tokio instant `duration` after `now`, as `tokio::time::timeout` computes it (a duration
/// too long to add is as good as forever).
fn after(now: tokio::time::Instant, duration: Duration) -> tokio::time::Instant {
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

/// A non-2xx response as [`Error::Status`], with its body read up to a bound and kept raw, so
/// callers can decode declared error bodies.
async fn status_error(op: &OperationDescriptor, response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = read::read_prefix(response, ERROR_BODY_BYTES).await;
    Error::Status {
        operation: op.id.to_string(),
        status,
        headers: Box::new(headers),
        body,
    }
}

/// A random (version 4) UUID in its hyphenated lower-case text form, as idempotency keys and
/// request ids use; formed in place, as every call makes one.
struct Uuid([u8; 36]);

impl Uuid {
    fn v4(rng: &FastRng) -> Self {
        let high = rng.next_u64();
        let low = rng.next_u64();
        let high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
        let low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
        let bytes = (u128::from(high) << 64 | u128::from(low)).to_be_bytes();
        let mut text = [b'-'; 36];
        let mut at = 0;
        for (i, byte) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                at += 1;
            }
            text[at] = HEX[usize::from(byte >> 4)];
            text[at + 1] = HEX[usize::from(byte & 0xF)];
            at += 2;
        }
        Uuid(text)
    }

    fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_bytes(&self.0).ok()
    }

    fn as_str(&self) -> &str {
        // Hex digits and hyphens only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A transport failure as the error a caller can act on. The URL is dropped: its query may
/// carry an API key (SE-3).
pub(crate) fn transport(
    pipeline: &Pipeline,
    op: &OperationDescriptor,
    err: reqwest::Error,
) -> Error {
    let operation = op.id.to_string();
    if read::head_too_large(&err) {
        Error::ResponseTooLarge {
            operation,
            limit: read::MAX_HEAD_BYTES,
            part: "headers",
        }
    } else if err.is_connect() && err.is_timeout() {
        Error::ConnectTimeout {
            operation,
            timeout: pipeline.connect_timeout,
        }
    } else if err.is_timeout() {
        Error::Timeout { operation }
    } else {
        Error::Transport {
            operation,
            source: err.without_url(),
        }
    }
}

/// A failure while a 2xx body was read: the body was cut short.
fn body_error(pipeline: &Pipeline, op: &OperationDescriptor, err: reqwest::Error) -> Error {
    if err.is_body() || err.is_decode() {
        return Error::IncompleteBody {
            operation: op.id.to_string(),
            source: err.without_url(),
        };
    }
    transport(pipeline, op, err)
}

/// Whether sending the request twice has the effect of sending it once (RFC 9110 §9.2.2).
pub(crate) fn is_idempotent(method: Method) -> bool {
    !matches!(method, Method::Post | Method::Patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let rng = FastRng::seeded(1);
        let id = Uuid::v4(&rng).as_str().to_owned();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(Uuid::v4(&rng).as_str(), id);
    }

    #[test]
    fn uuid_text_is_the_hyphenated_hex_of_its_bits() {
        let rng = FastRng::seeded(7);
        let expected = {
            let copy = FastRng::seeded(7);
            let high = (copy.next_u64() & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
            let low = (copy.next_u64() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
            format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                high >> 32,
                (high >> 16) & 0xFFFF,
                high & 0xFFFF,
                low >> 48,
                low & 0xFFFF_FFFF_FFFF
            )
        };
        let uuid = Uuid::v4(&rng);
        assert_eq!(uuid.as_str(), expected);
        let value = uuid.header_value().unwrap();
        assert_eq!(value.clone().to_str().unwrap(), expected);
        assert_eq!(value.to_str().unwrap(), expected);
    }
}
