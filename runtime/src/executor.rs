//! Sends a prepared request and reads its response: the one place requests leave the process.

use crate::args::Args;
use crate::connection::Inner;
use crate::descriptor::OperationDescriptor;
use crate::error::Error;
use tokio::sync::OwnedSemaphorePermit;

use crate::read::{self, ReadError};
use crate::response::{Response, StreamingResponse};
use crate::{request, send};

/// Largest successful body the runtime buffers.
pub(crate) const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How much of an error body [`Error::Status`] keeps: enough for any sensible declared error
/// body, little enough that a misbehaving server cannot make errors large.
pub(crate) const ERROR_BODY_BYTES: usize = 8 * 1024;

/// Executes `op` with `args` over the connection and reads the whole 2xx body.
pub(crate) async fn execute(
    inner: &Inner,
    op: &OperationDescriptor,
    args: &Args,
) -> Result<Response, Error> {
    // The concurrency permit is held until the body is read.
    let (mut response, _permit) = send(inner, op, args).await?;
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
    inner: &Inner,
    op: &OperationDescriptor,
    args: &Args,
) -> Result<StreamingResponse, Error> {
    // A stream may be read for a long time; its concurrency permit ends when the headers arrive.
    let (response, _permit) = send(inner, op, args).await?;
    Ok(StreamingResponse::new(op.id.clone(), response))
}

/// Prepares and sends the request; a non-2xx status becomes [`Error::Status`]. Returns the
/// response with the connection's concurrency permit, if it has a limit.
async fn send(
    inner: &Inner,
    op: &OperationDescriptor,
    args: &Args,
) -> Result<(reqwest::Response, Option<OwnedSemaphorePermit>), Error> {
    let prepared = request::prepare(inner, op, args)?;
    // Tokens, redirects and the one retry after a rejected token happen around this send.
    let (response, permit) = send::send(inner, op, prepared).await?;
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
