//! Streamable HTTP (RELIABILITY MC-4): rmcp's stateless service on hyper's HTTP/1 server.
//!
//! Loopback by default. Another address is refused unless a bearer token is set, which every
//! request must then carry (`Authorization: Bearer TOKEN`, compared in constant time; 401
//! without it). Stateless: no session lives in the process, so several instances behind a load
//! balancer serve one fleet. On loopback the `Host` header must name loopback too, against DNS
//! rebinding from a browser.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::server::McpServer;
use crate::secret::Secret;

/// The path the MCP endpoint is served at.
pub const ENDPOINT: &str = "/mcp";

/// How the HTTP transport is exposed.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The bearer token clients must present; required on a non-loopback address.
    pub token: Option<Secret>,
    /// Cancel to stop accepting and end the server.
    pub shutdown: CancellationToken,
}

/// Why the HTTP transport did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// A non-loopback address without a token.
    #[error("refusing to serve MCP on {0} without a bearer token: bind a loopback address (127.0.0.1), or set one with --token-env NAME")]
    NoToken(SocketAddr),
    /// The address could not be bound or read.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Checks that `listener`'s address may be served with `options` (MC-4).
pub fn check_exposure(addr: SocketAddr, options: &HttpOptions) -> Result<(), HttpError> {
    if addr.ip().is_loopback() || options.token.is_some() {
        Ok(())
    } else {
        Err(HttpError::NoToken(addr))
    }
}

/// Serves `server` on `listener` until `options.shutdown` is cancelled.
pub async fn serve(
    server: McpServer,
    listener: TcpListener,
    options: HttpOptions,
) -> Result<(), HttpError> {
    let addr = listener.local_addr().map_err(|source| HttpError::Bind {
        addr: "the listener".into(),
        source,
    })?;
    check_exposure(addr, &options)?;
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_cancellation_token(options.shutdown.child_token());
    if !addr.ip().is_loopback() {
        // Reached by name from other machines; the token guards it instead.
        config = config.disable_allowed_hosts();
    }
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let token = options.token.map(Arc::new);
    loop {
        let accepted = tokio::select! {
            () = options.shutdown.cancelled() => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        // A failed accept (out of descriptors, a reset) drops that one connection only.
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let service = service.clone();
        let token = token.clone();
        let shutdown = options.shutdown.clone();
        tokio::spawn(async move {
            let handler = service_fn(move |request: hyper::Request<Incoming>| {
                let service = service.clone();
                let token = token.clone();
                async move {
                    if !authorised(&request, token.as_deref()) {
                        return Ok::<_, Infallible>(unauthorised());
                    }
                    if request.uri().path() != ENDPOINT {
                        return Ok(plain(
                            hyper::StatusCode::NOT_FOUND,
                            "not found: MCP is served at /mcp\n",
                        ));
                    }
                    Ok(service.handle(request).await)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), handler);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = shutdown.cancelled() => connection.as_mut().graceful_shutdown(),
            }
        });
    }
}

/// Whether the request carries the token (always, when there is none).
fn authorised<B>(request: &hyper::Request<B>, token: Option<&Secret>) -> bool {
    let Some(token) = token else {
        return true;
    };
    let given = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
        })
        .unwrap_or_default();
    constant_time_eq(given.as_bytes(), token.expose().as_bytes())
}

/// Equality whose time depends on the lengths only, not on where the bytes differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = u8::from(a.len() != b.len());
    let padded = a.len().max(b.len());
    for i in 0..padded {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        difference |= x ^ y;
    }
    difference == 0
}

fn unauthorised() -> hyper::Response<BoxBody<Bytes, Infallible>> {
    let mut response = plain(
        hyper::StatusCode::UNAUTHORIZED,
        "unauthorised: send the server's token as `Authorization: Bearer TOKEN`\n",
    );
    response.headers_mut().insert(
        hyper::header::WWW_AUTHENTICATE,
        hyper::header::HeaderValue::from_static("Bearer"),
    );
    response
}

fn plain(
    status: hyper::StatusCode,
    text: &'static str,
) -> hyper::Response<BoxBody<Bytes, Infallible>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn only_loopback_goes_without_a_token() {
        let open = HttpOptions {
            token: None,
            shutdown: CancellationToken::new(),
        };
        assert!(check_exposure("127.0.0.1:1".parse().unwrap(), &open).is_ok());
        assert!(check_exposure("[::1]:1".parse().unwrap(), &open).is_ok());
        assert!(check_exposure("0.0.0.0:1".parse().unwrap(), &open).is_err());
        let guarded = HttpOptions {
            token: Some(Secret::new("t")),
            ..open
        };
        assert!(check_exposure("0.0.0.0:1".parse().unwrap(), &guarded).is_ok());
    }
}
