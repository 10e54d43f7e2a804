//! A successful (2xx) response, fully read.

use std::fmt;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use crate::descriptor::Text;
use crate::error::Error;

/// How much of a body error messages quote.
const SNIPPET_BYTES: usize = 512;

/// The response to an operation whose status was 2xx, with its body read into memory.
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
        decoded.map_err(|source| Error::Decode {
            operation: self.operation.to_string(),
            status: self.status,
            snippet: snippet(&self.body, SNIPPET_BYTES),
            source,
        })
    }

    /// Discards the body, for operations that return nothing useful.
    pub fn into_unit(self) -> Result<(), Error> {
        Ok(())
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body may be megabytes; its length is what a log line needs.
        f.debug_struct("Response")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A 2xx response whose body is read chunk by chunk, for downloads too large to buffer.
pub struct StreamingResponse {
    operation: Text,
    response: reqwest::Response,
}

impl StreamingResponse {
    pub(crate) fn new(operation: Text, response: reqwest::Response) -> Self {
        Self {
            operation,
            response,
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
        self.response.chunk().await.map_err(|err| Error::Transport {
            operation: self.operation.to_string(),
            // SE-3: the URL may carry an API key in its query.
            source: err.without_url(),
        })
    }
}

impl fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("operation", &self.operation)
            .field("status", &self.status())
            .field("headers", self.headers())
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
