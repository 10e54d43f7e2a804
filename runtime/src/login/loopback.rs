//! The loopback redirect of the authorization code flow (RFC 8252 §7.3): a listener on
//! `127.0.0.1` with a port the system picks, waiting for the browser to bring the code back.
//!
//! Only the request line is read (at most 8 KiB of head), nothing of the request is ever echoed
//! into the page, and a callback whose `state` is not the one sent ends the login.

use std::time::Duration;

use reqwest::Url;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::error::Error;

/// The path the authorization server redirects to.
const CALLBACK: &str = "/callback";

/// Most bytes of a request head read.
const MAX_HEAD: usize = 8 * 1024;

/// How long one connection may take to send its request line.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener for the redirect.
pub(crate) struct Loopback {
    listener: TcpListener,
    port: u16,
}

/// What the callback brought.
enum Callback {
    /// Another path (a browser asks for `/favicon.ico`): answered 404, and the wait goes on.
    Elsewhere,
    /// The code, with the state that came with it.
    Code { code: String, state: Option<String> },
    /// The authorization server's error code.
    Denied {
        error: String,
        state: Option<String>,
    },
    /// A callback with neither.
    Malformed,
}

impl Loopback {
    /// Listens on `127.0.0.1` on a port the system picks.
    pub(crate) async fn bind(scheme: &str) -> Result<Self, Error> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|err| Error::Auth {
                scheme: scheme.to_owned(),
                message: format!("cannot listen on a loopback port for the redirect: {err}"),
            })?;
        let port = listener
            .local_addr()
            .map_err(|err| Error::Auth {
                scheme: scheme.to_owned(),
                message: format!("cannot read the loopback port: {err}"),
            })?
            .port();
        Ok(Self { listener, port })
    }

    /// The redirect URI to register the request with.
    pub(crate) fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK}", self.port)
    }

    /// Waits until `deadline` for the callback carrying `state`; returns its code.
    pub(crate) async fn wait(
        self,
        scheme: &str,
        state: &str,
        deadline: Instant,
    ) -> Result<String, Error> {
        let refused = |reason: String| Error::AuthorizationRefused {
            scheme: scheme.to_owned(),
            reason,
        };
        loop {
            let accepted = tokio::time::timeout_at(deadline, self.listener.accept()).await;
            let mut stream = match accepted {
                Err(_) => {
                    return Err(refused(
                        "no authorization arrived in time; run login again".into(),
                    ))
                }
                Ok(Err(err)) => {
                    tracing::debug!("loopback accept failed: {err}");
                    continue;
                }
                Ok(Ok((stream, _))) => stream,
            };
            let target = match tokio::time::timeout(READ_TIMEOUT, request_target(&mut stream)).await
            {
                Ok(Some(target)) => target,
                _ => {
                    respond(&mut stream, 400, "Bad request.").await;
                    continue;
                }
            };
            let (outcome, got_state) = match parse(&target) {
                Callback::Elsewhere => {
                    respond(&mut stream, 404, "Not found.").await;
                    continue;
                }
                Callback::Malformed => {
                    respond(&mut stream, 400, "This is not an authorization response.").await;
                    continue;
                }
                Callback::Code { code, state } => (Ok(code), state),
                Callback::Denied { error, state } => (Err(error), state),
            };
            if got_state.as_deref() != Some(state) {
                respond(
                    &mut stream,
                    400,
                    "This authorization response does not belong to the login under way; it was refused.",
                )
                .await;
                return Err(refused(
                    "the authorization response's `state` is not the one this login sent (a forged or stale redirect); nothing was exchanged"
                        .into(),
                ));
            }
            return match outcome {
                Ok(code) => {
                    respond(
                        &mut stream,
                        200,
                        "Authorized. You can close this window and return to the command line.",
                    )
                    .await;
                    Ok(code)
                }
                Err(error) => {
                    respond(&mut stream, 400, "The authorization was not granted.").await;
                    Err(refused(format!(
                        "the authorization server answered `{error}`"
                    )))
                }
            };
        }
    }
}

/// The request target of the request on `stream`, read from its request line. The whole head
/// is read first: closing a socket with unread bytes resets it, and the browser would lose the
/// page.
async fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 || head.len() + read > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    (method == "GET").then(|| target.to_owned())
}

fn parse(target: &str) -> Callback {
    let Ok(url) = Url::parse(&format!("http://127.0.0.1{target}")) else {
        return Callback::Malformed;
    };
    if url.path() != CALLBACK {
        return Callback::Elsewhere;
    }
    let get = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let state = get("state");
    if let Some(error) = get("error") {
        // An error code is a token of a few characters; anything else is not repeated.
        let error = if error.len() <= 64
            && error
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            error
        } else {
            "an unreadable error".to_owned()
        };
        return Callback::Denied { error, state };
    }
    match get("code") {
        Some(code) if !code.is_empty() => Callback::Code { code, state },
        _ => Callback::Malformed,
    }
}

/// A small page, never quoting the request.
async fn respond(stream: &mut TcpStream, status: u16, message: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>connector-gen login</title><p>{message}</p>\n"
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_read_from_the_request_target() {
        assert!(matches!(
            parse("/callback?code=c1&state=s1"),
            Callback::Code { code, state: Some(state) } if code == "c1" && state == "s1"
        ));
        assert!(matches!(parse("/favicon.ico"), Callback::Elsewhere));
        assert!(matches!(
            parse("/callback?error=access_denied&state=s1"),
            Callback::Denied { error, .. } if error == "access_denied"
        ));
        assert!(matches!(
            parse("/callback?error=%3Cscript%3E"),
            Callback::Denied { error, .. } if error == "an unreadable error"
        ));
        assert!(matches!(parse("/callback?state=s1"), Callback::Malformed));
    }
}
