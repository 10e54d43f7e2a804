//! A successful (2xx) response, fully read.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::descriptor::Text;
use crate::error::debug::Headers;
use crate::error::Error;

/// How much of a body error messages quote.
const SNIPPET_BYTES: usize = 512;

/// How much of a `Content-Type` error messages keep.
const CONTENT_TYPE_CHARS: usize = 256;

/// The response to an operation whose status was 2xx, with its body read into memory.
#[derive(Clone)]
pub struct Response {
    operation: Text,
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Response {
    pub(crate) fn new(operation: Text, status: u16, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            operation,
            status,
            headers,
            body,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body as received.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text.
    pub fn text(&self) -> Result<&str, Error> {
        std::str::from_utf8(&self.body).map_err(|source| Error::InvalidUtf8 {
            operation: self.operation.to_string(),
            status: self.status,
            source,
        })
    }

    /// Decodes the body as JSON. An empty body decodes as `null`, so `()` and `Option<T>` accept
    /// a `204 No Content`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let decoded = if self.body.iter().all(u8::is_ascii_whitespace) {
            serde_json::from_value(serde_json::Value::Null)
        } else {
            serde_json::from_slice(&self.body)
        };
        decoded.map_err(|source| {
            let operation = self.operation.to_string();
            let status = self.status;
            let snippet = snippet(&self.body, SNIPPET_BYTES);
            // Only a body that is not JSON at all is blamed on its type: servers that label JSON
            // `text/plain` keep working, and JSON of the wrong shape stays a decode error.
            let not_json = source.classify() != serde_json::error::Category::Data;
            match self.content_type().filter(|ct| not_json && !is_json(ct)) {
                Some(content_type) => Error::UnexpectedContentType {
                    operation,
                    status,
                    // A header may be hundreds of KiB; the error keeps what identifies the type.
                    content_type: content_type.chars().take(CONTENT_TYPE_CHARS).collect(),
                    snippet,
                    source,
                },
                None => Error::Decode {
                    operation,
                    status,
                    snippet,
                    source,
                },
            }
        })
    }

    /// Decodes the body as JSON, like [`Response::json`], keeping status and headers beside it.
    pub fn json_with_headers<T: DeserializeOwned>(self) -> Result<Typed<T>, Error> {
        let value = self.json()?;
        Ok(self.head().with(value))
    }

    /// Discards the body, for operations that return nothing useful.
    pub fn into_unit(self) -> Result<(), Error> {
        Ok(())
    }

    /// Discards the body, keeping status and headers.
    pub fn unit_with_headers(self) -> Result<Typed<()>, Error> {
        Ok(self.head())
    }

    /// Status and headers, without the body: [`Typed::with`] attaches the decoded value.
    pub fn head(&self) -> Typed<()> {
        Typed {
            value: (),
            status: self.status,
            headers: self.headers.clone(),
        }
    }

    /// The `Content-Type` header, when present and readable.
    fn content_type(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body may be megabytes; its length is what a log line needs.
        f.debug_struct("Response")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("headers", &Headers(&self.headers))
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A decoded success value with the status and headers it came with: what actions return when
/// their success response declares headers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Typed<T> {
    /// The decoded body.
    pub value: T,
    /// The HTTP status.
    pub status: u16,
    /// The response headers (declared ones are listed in the action's docs).
    pub headers: HeaderMap,
}

impl<T> Typed<T> {
    /// The same status and headers around another value.
    pub fn with<U>(self, value: U) -> Typed<U> {
        Typed {
            value,
            status: self.status,
            headers: self.headers,
        }
    }

    /// The value of header `name` as text, when present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The decoded body, dropping status and headers.
    pub fn into_value(self) -> T {
        self.value
    }
}

/// Whether a `Content-Type` names JSON (`application/json`, `*+json`).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// A 2xx response whose body is read chunk by chunk, for downloads too large to buffer.
///
/// Reading is bounded by the connection's stream idle timeout (default 30 s) between chunks,
/// not by the per-attempt timeout, so a large download can take as long as it needs while a
/// stalled one ends with [`Error::ReadTimeout`].
pub struct StreamingResponse {
    operation: Text,
    response: reqwest::Response,
    idle: Duration,
}

impl StreamingResponse {
    pub(crate) fn new(operation: Text, response: reqwest::Response, idle: Duration) -> Self {
        Self {
            operation,
            response,
            idle,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.response.status().as_u16()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// The next chunk of the body, or `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let operation = || self.operation.to_string();
        match tokio::time::timeout(self.idle, self.response.chunk()).await {
            Err(_) => Err(Error::ReadTimeout {
                operation: operation(),
                idle: self.idle,
            }),
            Ok(result) => result.map_err(|err| Error::IncompleteBody {
                operation: operation(),
                // SE-3: the URL may carry an API key in its query.
                source: err.without_url(),
            }),
        }
    }
}

impl fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("operation", &self.operation)
            .field("status", &self.status())
            .field("headers", &Headers(self.headers()))
            .finish_non_exhaustive()
    }
}

/// The first `limit` bytes of a body as text, invalid UTF-8 replaced.
pub(crate) fn snippet(body: &[u8], limit: usize) -> String {
    String::from_utf8_lossy(&body[..body.len().min(limit)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &'static str) -> Response {
        Response::new(
            "op".into(),
            200,
            HeaderMap::new(),
            Bytes::from_static(body.as_bytes()),
        )
    }

    #[test]
    fn empty_body_decodes_as_null() {
        response("").json::<()>().unwrap();
        assert_eq!(response(" \n").json::<Option<u8>>().unwrap(), None);
        assert_eq!(response("3").json::<Option<u8>>().unwrap(), Some(3));
    }

    #[test]
    fn decode_failure_names_operation_and_quotes_body() {
        let err = response("<html>").json::<u8>().unwrap_err();
        match err {
            Error::Decode {
                operation,
                status,
                snippet,
                ..
            } => {
                assert_eq!(
                    (operation.as_str(), status, snippet.as_str()),
                    ("op", 200, "<html>")
                );
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn undecodable_html_names_its_content_type() {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            "text/html; charset=utf-8".parse().unwrap(),
        );
        let html = Response::new(
            "op".into(),
            200,
            headers.clone(),
            Bytes::from_static(b"<html>"),
        );
        let err = html.json::<u8>().unwrap_err();
        assert!(
            matches!(&err, Error::UnexpectedContentType { status: 200, content_type, snippet, .. }
                if content_type == "text/html; charset=utf-8" && snippet == "<html>"),
            "{err:?}"
        );
        assert_eq!(err.status(), Some(200));
        // JSON labelled as something else still decodes, or fails as JSON of the wrong shape.
        let labelled = Response::new("op".into(), 200, headers, Bytes::from_static(b"3"));
        assert_eq!(labelled.json::<u8>().unwrap(), 3);
        assert!(matches!(
            labelled.json::<String>(),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn typed_keeps_status_and_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("x-rate-limit", "10".parse().unwrap());
        let r = Response::new("op".into(), 201, headers, Bytes::from_static(b"4"));
        let typed = r.json_with_headers::<u8>().unwrap();
        assert_eq!((typed.value, typed.status), (4, 201));
        assert_eq!(typed.header("X-Rate-Limit"), Some("10"));
        assert_eq!(typed.with("x").into_value(), "x");
    }

    #[test]
    fn text_rejects_invalid_utf8() {
        let r = Response::new(
            "op".into(),
            200,
            HeaderMap::new(),
            Bytes::from_static(b"\xff"),
        );
        assert!(matches!(r.text(), Err(Error::InvalidUtf8 { .. })));
    }
}
