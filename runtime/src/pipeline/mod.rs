//! The orchestrator every call runs through: the one place requests leave the process.
//!
//! The connection builder assembles a [`Pipeline`]; the pipeline never sees the connection.
//! [`attempt`] holds one exchange (token, transmit with same-origin redirects, auth renewal).

pub(crate) mod attempt;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::oauth::TokenSource;
use crate::auth::{self, Credentials};
use crate::descriptor::{ConnectorDescriptor, OperationDescriptor};
use crate::error::Error;
use crate::wire::args::Args;
use crate::wire::read::{self, ReadError};
use crate::wire::request;
use crate::wire::response::{Response, StreamingResponse};

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
    /// Bounds the requests in flight, when the connection sets a limit.
    pub(crate) limit: Option<Arc<Semaphore>>,
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
}

/// Largest successful body the runtime buffers.
pub(crate) const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How much of an error body [`Error::Status`] keeps: enough for any sensible declared error
/// body, little enough that a misbehaving server cannot make errors large.
pub(crate) const ERROR_BODY_BYTES: usize = 8 * 1024;

/// Executes `op` with `args` over the connection and reads the whole 2xx body.
pub(crate) async fn execute(
    pipeline: &Pipeline,
    base_url: &str,
    op: &OperationDescriptor,
    args: &Args,
) -> Result<Response, Error> {
    // The concurrency permit is held until the body is read.
    let (mut response, _permit) = send(pipeline, base_url, op, args).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = read::read_capped(&mut response, MAX_BODY_BYTES)
        .await
        .map_err(|err| match err {
            ReadError::TooLarge => Error::ResponseTooLarge {
                operation: op.id.to_string(),
                limit: MAX_BODY_BYTES,
                part: "body",
            },
            ReadError::Transport(err) => transport(op, err),
        })?;
    Ok(Response::new(op.id.clone(), status, headers, body))
}

/// Executes `op` with `args` and hands back the 2xx body unread, to be streamed.
pub(crate) async fn execute_streaming(
    pipeline: &Pipeline,
    base_url: &str,
    op: &OperationDescriptor,
    args: &Args,
) -> Result<StreamingResponse, Error> {
    // A stream may be read for a long time; its concurrency permit ends when the headers arrive.
    let (response, _permit) = send(pipeline, base_url, op, args).await?;
    Ok(StreamingResponse::new(op.id.clone(), response))
}

/// Prepares and sends the request; a non-2xx status becomes [`Error::Status`]. Returns the
/// response with the connection's concurrency permit, if it has a limit.
async fn send(
    pipeline: &Pipeline,
    base_url: &str,
    op: &OperationDescriptor,
    args: &Args,
) -> Result<(reqwest::Response, Option<OwnedSemaphorePermit>), Error> {
    let parts = auth::authorize(&pipeline.connector, op, &pipeline.credentials)?;
    let prepared = request::prepare(op, args, base_url, &pipeline.user_agent, parts)?;
    // Tokens, redirects and the one retry after a rejected token happen around this send.
    let (response, permit) = attempt::send(pipeline, op, prepared).await?;
    if response.status().is_success() {
        return Ok((response, permit));
    }
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    // Error bodies are read up to a bound and kept raw, so callers can decode declared ones.
    let body = read::read_prefix(response, ERROR_BODY_BYTES).await;
    Err(Error::Status {
        operation: op.id.to_string(),
        status,
        headers: Box::new(headers),
        body,
    })
}

pub(crate) fn transport(op: &OperationDescriptor, err: reqwest::Error) -> Error {
    if read::head_too_large(&err) {
        Error::ResponseTooLarge {
            operation: op.id.to_string(),
            limit: read::MAX_HEAD_BYTES,
            part: "headers",
        }
    } else if err.is_timeout() {
        Error::Timeout {
            operation: op.id.to_string(),
        }
    } else {
        Error::Transport {
            operation: op.id.to_string(),
            // SE-3: the URL may carry an API key in its query.
            source: err.without_url(),
        }
    }
}
