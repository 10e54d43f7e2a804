//! The exchange around the executor's one send point: connection-wide headers and query
//! parameters, OAuth tokens, same-origin redirects, and one token renewal after a 401.

use std::borrow::Cow;

use bytes::Bytes;
use futures_util::StreamExt as _;
use reqwest::header::{
    HeaderMap, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION, PROXY_AUTHORIZATION,
};
use reqwest::{Method, StatusCode, Url};

use super::limits::Permit;
use super::transport;
use super::Pipeline;
use crate::auth;
use crate::auth::oauth::TokenSource;
use crate::descriptor::{ApiKeyLocation, OperationDescriptor, SecuritySchemeKind};
use crate::error::Error;
use crate::wire::read;
use crate::wire::request::Prepared;

/// How many same-origin redirects are followed.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// A request ready to be sent as often as the retry loop needs: every attempt sends the same
/// method, URL, headers and body bytes.
pub(crate) struct Outgoing {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    /// The body, when it is held in memory (and so can be replayed).
    pub(crate) body: Option<Bytes>,
}

/// Adds the connection-wide query pairs and headers to `prepared`; a streamed body is returned
/// apart, since it can be sent once only.
pub(crate) fn outgoing(
    pipeline: &Pipeline,
    op: &OperationDescriptor,
    base_url: &str,
    prepared: Prepared,
) -> Result<(Outgoing, Option<reqwest::Body>), Error> {
    let Prepared {
        method,
        url,
        mut headers,
        body,
    } = prepared;
    let url = with_query(url, &pipeline.extra_query);
    let url = pipeline
        .base_urls
        .parse(base_url, &url)
        .map_err(|err| Error::InvalidInput {
            // The URL itself is not quoted: its query may carry an API key.
            message: format!(
                "operation `{}` produced an invalid request URL: {err}",
                op.id
            ),
        })?;
    for (name, value) in &pipeline.extra_headers {
        headers.insert(name.clone(), value.clone());
    }
    let (body, stream) = match body {
        Some(body) => match body.as_bytes() {
            Some(bytes) => (Some(Bytes::copy_from_slice(bytes)), None),
            None => (None, Some(body)),
        },
        None => (None, None),
    };
    Ok((
        Outgoing {
            method,
            url,
            headers,
            body,
        },
        stream,
    ))
}

/// One attempt: adds tokens, sends `out` (or `stream` as its body), follows same-origin
/// redirects, and renews a rejected token once.
pub(crate) async fn send(
    pipeline: &Pipeline,
    op: &OperationDescriptor,
    out: &Outgoing,
    stream: Option<reqwest::Body>,
) -> Result<(reqwest::Response, Option<Permit>), Error> {
    let Outgoing {
        method,
        url,
        headers,
        body,
    } = out;
    // Only OAuth schemes have token sources; without them the chosen alternative (already
    // checked by `auth::authorize`) needs no token.
    let sources: Vec<&TokenSource> = if pipeline.tokens.is_empty() {
        Vec::new()
    } else {
        auth::token_schemes(op, &pipeline.credentials)?
            .into_iter()
            .filter_map(|name| pipeline.tokens.get(name).map(|source| &**source))
            .collect()
    };
    // The request's headers are copied only when a token is added to them.
    let mut headers = Cow::Borrowed(headers);
    for source in &sources {
        // Boxed, like every path most calls do not take, so that the call's future stays small.
        let (value, _) = Box::pin(source.token(0)).await?;
        headers.to_mut().insert(AUTHORIZATION, value);
    }
    // Taken after the token: a token request is not an API request, and callers waiting for
    // one token must not hold places others could use.
    let permit = pipeline.limit.acquire().await;

    if let Some(stream) = stream {
        let response = Box::pin(send_stream(pipeline, op, out, headers.into_owned(), stream));
        return Ok((response.await?, permit));
    }
    let response = exchange(pipeline, op, method, url, &headers, body.as_ref()).await?;
    let status = response.status().as_u16();
    let renewable = !sources.is_empty() && sources.iter().all(|s| s.can_renew());
    let (response, body_rejected) = if pipeline.auth_failure_body.is_some() {
        Box::pin(check_body(pipeline, op, response)).await?
    } else {
        (response, false)
    };
    let status_rejected = pipeline.auth_failure_statuses.contains(&status);
    if !(status_rejected || body_rejected) {
        return Ok((response, permit));
    }
    if !renewable {
        // Nothing to renew: a rejected status reaches the caller as it is; a rejecting body
        // must not pass for a success.
        if body_rejected {
            return Err(auth_rejected(op, status));
        }
        return Ok((response, permit));
    }

    // The token was rejected: renew it once and retry once (AU-4). The new token must come
    // from a request started after this response, not one already in flight (AU-3).
    tracing::debug!(operation = %op.id, status, "token rejected; renewing it and retrying once");
    drop(response);
    let response = Box::pin(renew_and_resend(
        pipeline,
        op,
        out,
        headers.into_owned(),
        &sources,
    ));
    Ok((response.await?, permit))
}

/// Sends a request whose body is a stream (sent once, never replayed, no redirects followed).
async fn send_stream(
    pipeline: &Pipeline,
    op: &OperationDescriptor,
    out: &Outgoing,
    headers: HeaderMap,
    stream: reqwest::Body,
) -> Result<reqwest::Response, Error> {
    let Outgoing { method, url, .. } = out;
    check_address(pipeline, op, url).await?;
    tracing::debug!(operation = %op.id, method = %method, path = url.path(), "sending streamed request");
    pipeline
        .client
        .request(method.clone(), url.clone())
        .headers(headers)
        .body(stream)
        .send()
        .await
        .map_err(|err| transport(pipeline, op, err))
}

/// After a rejected token: renews every token of the request from a token request started
/// after the rejection, and sends the request once more.
async fn renew_and_resend(
    pipeline: &Pipeline,
    op: &OperationDescriptor,
    out: &Outgoing,
    mut headers: HeaderMap,
    sources: &[&TokenSource],
) -> Result<reqwest::Response, Error> {
    for source in sources {
        let barrier = source.barrier();
        let (value, _) = source.token(barrier + 1).await?;
        headers.insert(AUTHORIZATION, value);
    }
    let Outgoing {
        method, url, body, ..
    } = out;
    let response = exchange(pipeline, op, method, url, &headers, body.as_ref()).await?;
    let status = response.status().as_u16();
    let (response, body_rejected) = check_body(pipeline, op, response).await?;
    if body_rejected {
        return Err(auth_rejected(op, status));
    }
    Ok(response)
}

fn auth_rejected(op: &OperationDescriptor, status: u16) -> Error {
    Error::AuthRejected {
        operation: op.id.to_string(),
        status,
    }
}

/// Largest success body read to look for a rejection (AU-4); larger ones are passed on as they are.
const MAX_CHECKED_BODY: usize = 1024 * 1024;

/// When the connection declares a rejection body, reads a success body (up to
/// [`MAX_CHECKED_BODY`]) and tells whether it matches; the body is handed on unchanged. A longer
/// body is not checked: what was read goes on ahead of the unread rest, so memory stays bounded
/// whatever the server sends.
async fn check_body(
    pipeline: &Pipeline,
    op: &OperationDescriptor,
    mut response: reqwest::Response,
) -> Result<(reqwest::Response, bool), Error> {
    let Some((path, values)) = &pipeline.auth_failure_body else {
        return Ok((response, false));
    };
    let small = !matches!(response.content_length(), Some(n) if n > MAX_CHECKED_BODY as u64);
    if !response.status().is_success() || !small {
        return Ok((response, false));
    }
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let (bytes, complete) = read::read_until(&mut response, MAX_CHECKED_BODY)
        .await
        .map_err(|err| transport(pipeline, op, err))?;
    let rebuild = |body: reqwest::Body| {
        let mut rebuilt = http::Response::new(body);
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = version;
        *rebuilt.headers_mut() = headers;
        reqwest::Response::from(rebuilt)
    };
    if !complete {
        let rest = response.bytes_stream();
        let whole = futures_util::stream::once(async move { Ok(bytes) }).chain(rest);
        return Ok((rebuild(reqwest::Body::wrap_stream(whole)), false));
    }
    let rejected = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|json| {
            path.iter()
                .try_fold(&json, |value, key| value.get(key.as_str()))
                .cloned()
        })
        .is_some_and(|found| {
            let text = match &found {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            values.contains(&text)
        });
    Ok((rebuild(reqwest::Body::from(bytes)), rejected))
}

/// Refuses an address the network policy does not allow (RQ-5), before anything is sent.
async fn check_address(
    pipeline: &Pipeline,
    op: &OperationDescriptor,
    url: &Url,
) -> Result<(), Error> {
    pipeline
        .guard
        .check(url)
        .await
        .map_err(|blocked| Error::BlockedAddress {
            operation: op.id.to_string(),
            host: blocked.host,
            reason: blocked.reason,
        })
}

/// One request, following same-origin redirects (SE-4): a redirect to another origin is not
/// followed, so credentials never reach it.
async fn exchange(
    pipeline: &Pipeline,
    op: &OperationDescriptor,
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
    body: Option<&Bytes>,
) -> Result<reqwest::Response, Error> {
    // Borrowed until a redirect changes them: the first hop copies each part once, into the
    // request it sends.
    let mut method = Cow::Borrowed(method);
    let mut url = Cow::Borrowed(url);
    let mut headers = Cow::Borrowed(headers);
    let mut body = body;
    // Once a redirect has left the origin, the rest of the chain goes through the client that
    // carries nothing of an injected builder (see `Pipeline::cross_origin_client`).
    let mut client = &pipeline.client;
    for hop in 0..=MAX_REDIRECTS {
        tracing::debug!(
            operation = %op.id,
            method = %method,
            path = url.path(),
            hop,
            "sending request"
        );
        if pipeline.guard.is_active() {
            Box::pin(check_address(pipeline, op, &url)).await?;
        }
        let mut request = reqwest::Request::new(method.as_ref().clone(), url.as_ref().clone());
        *request.headers_mut() = headers.as_ref().clone();
        *request.body_mut() = body.cloned().map(reqwest::Body::from);
        let response = client
            .execute(request)
            .await
            .map_err(|err| transport(pipeline, op, err))?;
        let status = response.status();
        let next = match status {
            StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT => response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|location| url.join(location).ok()),
            _ => None,
        };
        let Some(next) = next else {
            tracing::debug!(operation = %op.id, status = status.as_u16(), "response received");
            return Ok(response);
        };
        let mut next = next;
        if next.origin() != url.origin() {
            if !pipeline.follow_cross_origin {
                tracing::warn!(
                    operation = %op.id,
                    status = status.as_u16(),
                    "redirect to another origin not followed"
                );
                return Err(Error::CrossOriginRedirect {
                    operation: op.id.to_string(),
                });
            }
            tracing::debug!(
                operation = %op.id,
                status = status.as_u16(),
                "following a redirect to another origin without credentials"
            );
            strip_credentials(pipeline, headers.to_mut(), &mut next);
            client = pipeline
                .cross_origin_client
                .as_ref()
                .unwrap_or(&pipeline.client);
        }
        if hop == MAX_REDIRECTS {
            break;
        }
        // 307 and 308 keep method and body; 303 (and 301/302 after POST, as browsers do)
        // become a GET without a body.
        let to_get = status == StatusCode::SEE_OTHER && *method != Method::HEAD
            || matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                && *method == Method::POST;
        if to_get {
            method = Cow::Owned(Method::GET);
            body = None;
            let headers = headers.to_mut();
            headers.remove(CONTENT_TYPE);
            headers.remove(CONTENT_LENGTH);
        }
        url = Cow::Owned(next);
    }
    Err(Error::TooManyRedirects {
        operation: op.id.to_string(),
        limit: MAX_REDIRECTS,
    })
}

/// Removes every credential the connection could have put on a request: the auth headers, the
/// API-key headers and query parameters of the connector's schemes, and the connection-wide
/// headers and query values (custom auth).
fn strip_credentials(pipeline: &Pipeline, headers: &mut HeaderMap, url: &mut Url) {
    for name in [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE] {
        headers.remove(name);
    }
    for (name, _) in &pipeline.extra_headers {
        headers.remove(name);
    }
    let mut query_names: Vec<&str> = pipeline
        .extra_query
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    for scheme in pipeline.connector.security_schemes.iter() {
        if let SecuritySchemeKind::ApiKey {
            location,
            parameter,
        } = &scheme.kind
        {
            match location {
                ApiKeyLocation::Header => {
                    headers.remove(parameter.as_ref());
                }
                ApiKeyLocation::Query => query_names.push(parameter),
                ApiKeyLocation::Cookie => {}
            }
        }
    }
    if url.query().is_some() && !query_names.is_empty() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| !query_names.contains(&name.as_ref()))
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(kept);
        if url.query() == Some("") {
            url.set_query(None);
        }
    }
}

/// Appends connection-wide query pairs (already encoded) to a URL built by the request module.
fn with_query(mut url: String, pairs: &[(String, String)]) -> String {
    for (name, value) in pairs {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(name);
        url.push('=');
        url.push_str(value);
    }
    url
}
