//! The crate's one error type.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

pub(crate) mod debug;
mod declared;
mod hint;
mod retry;

pub use declared::{ActionErrors, ErrorAnswer};
pub(crate) use hint::hint;
use retry::LastStatus;
pub use retry::NotRetriedReason;
pub(crate) use retry::{retry_after, retryable_status};

/// Everything that can go wrong while configuring a connection or running an operation.
///
/// `Display` describes this layer only; the underlying cause, if any, is available through
/// [`std::error::Error::source`]. No variant ever holds a credential, and transport errors are
/// stripped of their URL because a query-string API key would otherwise be part of it.
///
/// `Debug` is bounded too: bodies, header values and content types a server sent are cut short.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection configuration is invalid.
    #[error("invalid connection setting `{key}`: {message}")]
    Config {
        /// The setting at fault (such as `base_url`, `server` or a security scheme name).
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },

    /// A server variable was given a value its server does not accept.
    #[error("invalid value {value:?} for server variable `{name}`: {reason}")]
    InvalidServerVariable {
        /// The variable's name.
        name: String,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// No security requirement of the operation can be met with the configured credentials.
    #[error(
        "operation `{operation}` needs credentials for one of: {}",
        Alternatives(alternatives)
    )]
    MissingCredentials {
        /// The operation id.
        operation: String,
        /// The operation's alternatives; each lists the schemes that must all be configured.
        alternatives: Vec<Vec<String>>,
    },

    /// An OAuth 2 access token could not be obtained or renewed.
    #[error("could not obtain an access token for security scheme `{scheme}`: {message}")]
    Auth {
        /// The security scheme.
        scheme: String,
        /// What went wrong; never the token endpoint's body, which may echo secrets.
        message: String,
    },

    /// The token endpoint (or discovery document) answered with a redirect, which is not
    /// followed: client secrets and refresh tokens must not travel to another address.
    #[error("the token endpoint of security scheme `{scheme}` answered with a redirect, which is not followed")]
    TokenEndpointRedirect {
        /// The security scheme.
        scheme: String,
    },

    /// `login` got no tokens: the user or the authorization server refused, the device code
    /// expired, no authorization arrived in time, or the redirect did not belong to the login.
    #[error("login for security scheme `{scheme}` failed: {reason}")]
    AuthorizationRefused {
        /// The security scheme.
        scheme: String,
        /// What happened (an OAuth error code, never a token).
        reason: String,
    },

    /// The server redirected to another origin; the redirect is not followed, so credentials
    /// never reach it.
    #[error("operation `{operation}` was redirected to another origin; not followed")]
    CrossOriginRedirect {
        /// The operation id.
        operation: String,
    },

    /// More same-origin redirects than the runtime follows.
    #[error("operation `{operation}` was redirected more than {limit} times")]
    TooManyRedirects {
        /// The operation id.
        operation: String,
        /// How many redirects are followed.
        limit: usize,
    },

    /// A connection file (or folder of them) is invalid; every problem found is listed.
    #[error("invalid connection file {file}: {}", Problems(problems))]
    ConnectionFile {
        /// The file, as given.
        file: String,
        /// Each problem, starting with the path of the key at fault.
        problems: Vec<String>,
    },

    /// A required parameter (or the required body) was not supplied.
    #[error("operation `{operation}` is missing the required {location} parameter `{name}`")]
    MissingParameter {
        /// The operation id.
        operation: String,
        /// The parameter's name (`body` for the request body).
        name: String,
        /// `path`, `query`, `header`, `cookie` or `body`.
        location: &'static str,
    },

    /// A parameter value cannot be sent, or the operation does not declare the parameter.
    #[error("invalid parameter `{name}` for operation `{operation}`: {reason}")]
    InvalidParameter {
        /// The operation id.
        operation: String,
        /// The parameter's name.
        name: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A header parameter's value contains characters that could split or end the header.
    #[error("value of header parameter `{name}` contains CR, LF, NUL or another character not allowed in a header")]
    InvalidHeaderValue {
        /// The header's name.
        name: String,
    },

    /// The input of a dynamic call does not fit the operation.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What is wrong with the input.
        message: String,
    },

    /// Health checks are on and the connection's last ping failed: nothing is sent until a
    /// background re-probe succeeds.
    #[error("the connection is offline (last ping: {reason}); it is re-probed in the background")]
    Offline {
        /// Why the last ping failed.
        reason: String,
    },

    /// The connector has no operation with this id.
    #[error("the connector has no action `{name}`{hint}")]
    UnknownAction {
        /// The requested action.
        name: String,
        /// `; did you mean `x`?` naming the closest action id, or empty.
        hint: String,
    },

    /// The input of a dynamic call does not validate against the action's input schema; every
    /// problem is listed, each starting with the JSON pointer of the value at fault.
    #[error("invalid input for action `{action}`: {}", Problems(problems))]
    InvalidActionInput {
        /// The action id.
        action: String,
        /// Each problem, as `/body/tags/2: expected string, got 7`.
        problems: Vec<String>,
    },

    /// A request value could not be serialised to JSON.
    #[error("could not serialise a request value to JSON")]
    Encode {
        /// The serialiser's error.
        #[source]
        source: serde_json::Error,
    },

    /// A successful response's body could not be decoded into the requested type.
    #[error("could not decode the HTTP {status} response of operation `{operation}` (body starts with {})", Snippet(snippet.as_bytes()))]
    Decode {
        /// The operation id.
        operation: String,
        /// The response status.
        status: u16,
        /// The start of the body, for diagnosis.
        snippet: String,
        /// The deserialiser's error.
        #[source]
        source: serde_json::Error,
    },

    /// A record of a listing (a page of a paginated action, or an entity's List) could not be
    /// decoded into the requested type: the records before it were delivered, and the stream
    /// goes on with the next one.
    #[error("could not decode record {index} of action `{operation}` (the record starts with {})", Snippet(snippet.as_bytes()))]
    DecodeRecord {
        /// The listing action's id.
        operation: String,
        /// The record's position in the listing, counted from 0 across pages.
        index: u64,
        /// The start of the record, for diagnosis.
        snippet: String,
        /// The deserialiser's error.
        #[source]
        source: serde_json::Error,
    },

    /// A successful response that should be JSON came with another `Content-Type` (often an HTML
    /// page from a proxy or a login portal) and a body that is not JSON at all.
    #[error("the HTTP {status} response of operation `{operation}` has Content-Type {content_type:?}, not JSON (body starts with {})", Snippet(snippet.as_bytes()))]
    UnexpectedContentType {
        /// The operation id.
        operation: String,
        /// The response status.
        status: u16,
        /// The `Content-Type` the server sent.
        content_type: String,
        /// The start of the body, for diagnosis.
        snippet: String,
        /// The JSON deserialiser's error.
        #[source]
        source: serde_json::Error,
    },

    /// A response body asked for as text is not UTF-8.
    #[error("the HTTP {status} response of operation `{operation}` is not UTF-8 text")]
    InvalidUtf8 {
        /// The operation id.
        operation: String,
        /// The response status.
        status: u16,
        /// Where decoding failed.
        #[source]
        source: std::str::Utf8Error,
    },

    /// A successful response's body said the credentials were rejected (see
    /// `ConnectionBuilder::auth_failure_body`), and renewing the token, where possible, did not help.
    #[error("operation `{operation}` was refused: the HTTP {status} response body reports rejected credentials")]
    AuthRejected {
        /// The operation id.
        operation: String,
        /// The response status (a 2xx).
        status: u16,
    },

    /// The server answered with a status outside 2xx.
    #[error(
        "operation `{operation}` failed with HTTP status {status}: {}",
        Snippet(body)
    )]
    Status {
        /// The operation id.
        operation: String,
        /// The response status.
        status: u16,
        /// The response headers (boxed to keep `Result<_, Error>` small).
        headers: Box<HeaderMap>,
        /// The start of the response body, as received (at most 8 KiB): decode a declared error
        /// body with [`Error::body_json`].
        body: Bytes,
    },

    /// A part of the response exceeded the size the runtime is willing to read: the body
    /// (10 MiB buffered) or the head (status line and headers, about 408 KiB). The rest is not
    /// read and the connection is dropped.
    #[error("the response of operation `{operation}` is too large: its {part} passed the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The operation id.
        operation: String,
        /// The limit that was hit, in bytes.
        limit: usize,
        /// Which limit was hit: `"body"` or `"headers"`.
        part: &'static str,
    },

    /// The request did not complete within the connection's timeout.
    #[error("operation `{operation}` timed out")]
    Timeout {
        /// The operation id.
        operation: String,
    },

    /// The request could not be sent or its response could not be read.
    #[error("request of operation `{operation}` failed")]
    Transport {
        /// The operation id.
        operation: String,
        /// The HTTP client's error, without the request URL.
        #[source]
        source: reqwest::Error,
    },

    /// The connection could not be opened within the connect timeout (default 10 s).
    #[error("operation `{operation}` timed out connecting (limit {timeout:?})")]
    ConnectTimeout {
        /// The operation id.
        operation: String,
        /// The connect timeout.
        timeout: Duration,
    },

    /// One attempt (connecting, sending, and reading the whole buffered body) took longer than
    /// the per-attempt timeout (default 30 s).
    #[error("an attempt of operation `{operation}` timed out after {timeout:?}")]
    AttemptTimeout {
        /// The operation id.
        operation: String,
        /// The per-attempt timeout.
        timeout: Duration,
    },

    /// A streamed body sent nothing for longer than the stream idle timeout (default 30 s).
    #[error(
        "the streamed response of operation `{operation}` timed out: nothing arrived for {idle:?}"
    )]
    ReadTimeout {
        /// The operation id.
        operation: String,
        /// The idle timeout.
        idle: Duration,
    },

    /// The body ended before the length the server announced, or the connection broke while it
    /// was read.
    #[error("the response body of operation `{operation}` was cut short")]
    IncompleteBody {
        /// The operation id.
        operation: String,
        /// The HTTP client's error, without the request URL.
        #[source]
        source: reqwest::Error,
    },

    /// The call did not complete within its overall deadline (default 120 s); no attempt was
    /// started after it passed.
    #[error("operation `{operation}` did not complete within its deadline of {deadline:?} ({attempts} attempt(s))")]
    DeadlineExceeded {
        /// The operation id.
        operation: String,
        /// The deadline.
        deadline: Duration,
        /// Attempts made.
        attempts: u32,
    },

    /// Every attempt the retry policy allows failed; the last failure is the source.
    #[error("operation `{operation}` failed after {attempts} attempts{}", LastStatus(*last_status))]
    RetriesExhausted {
        /// The operation id.
        operation: String,
        /// Attempts made.
        attempts: u32,
        /// The status of the last response, when one arrived.
        last_status: Option<u16>,
        /// The last attempt's failure (with the response status, headers and capped body).
        #[source]
        last: Box<Error>,
    },

    /// The attempt failed in a way that is usually retried, but this call could not be retried
    /// safely; the failure is the source.
    #[error("operation `{operation}` was not retried: {reason}")]
    NotRetried {
        /// The operation id.
        operation: String,
        /// Why it was not retried.
        reason: NotRetriedReason,
        /// Attempts made.
        attempts: u32,
        /// The failure.
        #[source]
        last: Box<Error>,
    },

    /// The server asked to wait longer than the call can (its `Retry-After` passes the deadline
    /// or the longest wait the policy allows): the call ends at once so that the caller can
    /// reschedule it.
    #[error("operation `{operation}` was rate limited: the server asks to wait {retry_after:?}")]
    RateLimited {
        /// The operation id.
        operation: String,
        /// The wait the server asked for.
        retry_after: Duration,
        /// Attempts made.
        attempts: u32,
        /// The response that asked for the wait.
        #[source]
        last: Box<Error>,
    },

    /// The network policy does not allow the address a request (or a redirect, or a token
    /// request) would go to; nothing was sent.
    #[error("request of operation `{operation}` to host `{host}` blocked: {reason}")]
    BlockedAddress {
        /// The operation id (or `token endpoint of <scheme>`).
        operation: String,
        /// The host, as written in the URL.
        host: String,
        /// Why: the address it resolves to, or the scheme.
        reason: String,
    },

    /// The host's retry budget is spent (it has been failing for a while), so the call was not
    /// retried; the failure is the source.
    #[error("operation `{operation}` was not retried: the retry budget of its host is spent")]
    RetryBudgetExhausted {
        /// The operation id.
        operation: String,
        /// Attempts made.
        attempts: u32,
        /// The failure.
        #[source]
        last: Box<Error>,
    },
}

impl Error {
    /// The HTTP status of the response, when the error is about a response that arrived: a
    /// non-2xx status, or a body that could not be decoded.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. }
            | Error::Decode { status, .. }
            | Error::UnexpectedContentType { status, .. }
            | Error::InvalidUtf8 { status, .. } => Some(*status),
            _ => self.last().and_then(Error::status),
        }
    }

    /// The body of a non-2xx response ([`Error::Status`]), as received (at most 8 KiB).
    pub fn body(&self) -> Option<&[u8]> {
        match self {
            Error::Status { body, .. } => Some(body),
            _ => self.last().and_then(Error::body),
        }
    }

    /// Decodes the body of a non-2xx response as JSON into `T`, such as the error type an
    /// operation declares for the status (generated action docs list them). `None` when the
    /// error is not about a non-2xx response or the body is not a `T`.
    ///
    /// ```no_run
    /// # #[derive(serde::Deserialize)] struct ApiError { message: String }
    /// # fn handle(err: connector_runtime::Error) {
    /// if let (Some(404), Some(problem)) = (err.status(), err.body_json::<ApiError>()) {
    ///     eprintln!("not found: {}", problem.message);
    /// }
    /// # }
    /// ```
    pub fn body_json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(self.body()?).ok()
    }

    /// Whether the failure is about authentication: a 401 or 403 status, missing credentials,
    /// or a token that could not be obtained.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Error::MissingCredentials { .. }
                | Error::Auth { .. }
                | Error::AuthRejected { .. }
                | Error::AuthorizationRefused { .. }
                | Error::TokenEndpointRedirect { .. }
        ) || matches!(self.status(), Some(401 | 403))
    }
}

/// Shows the start of a body in a message: at most 200 characters, invalid UTF-8 replaced and
/// control characters escaped so that a server cannot forge log lines.
struct Snippet<'a>(&'a [u8]);

impl fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 200;
        if self.0.is_empty() {
            return f.write_str("an empty body");
        }
        // 4 bytes per character at most: enough to show SHOWN characters and see there are more.
        let text = String::from_utf8_lossy(&self.0[..self.0.len().min(4 * SHOWN + 4)]);
        for c in text.chars().take(SHOWN) {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        if text.chars().nth(SHOWN).is_some() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// Formats connection-file problems one per line.
struct Problems<'a>(&'a [String]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(f, "{count} problem{}", if count == 1 { "" } else { "s" })?;
        for problem in self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

/// Formats security alternatives as `a + b or c`.
struct Alternatives<'a>(&'a [Vec<String>]);

impl fmt::Display for Alternatives<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            f.write_str(&requirement.join(" + "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Error;
    use bytes::Bytes;

    fn status(status: u16) -> Error {
        Error::Status {
            operation: "op".into(),
            status,
            headers: Default::default(),
            body: Bytes::from_static(br#"{"code":7}"#),
        }
    }

    #[test]
    fn decodes_status_bodies() {
        #[derive(serde::Deserialize)]
        struct Problem {
            code: u8,
        }
        let err = status(404);
        assert_eq!(err.body(), Some(&br#"{"code":7}"#[..]));
        assert_eq!(err.body_json::<Problem>().map(|p| p.code), Some(7));
        assert!(err.body_json::<Vec<u8>>().is_none());
        let timeout = Error::Timeout {
            operation: "op".into(),
        };
        assert!(timeout.body_json::<Problem>().is_none());
        assert!(err.to_string().ends_with(r#"HTTP status 404: {"code":7}"#));
    }

    #[test]
    fn classifies_statuses() {
        assert!(status(503).is_retryable());
        assert!(status(429).is_retryable());
        assert!(status(408).is_retryable());
        assert!(!status(501).is_retryable());
        assert!(!status(404).is_retryable());
        assert!(status(401).is_auth());
        assert!(status(403).is_auth());
        assert!(!status(500).is_auth());
        assert_eq!(status(418).status(), Some(418));
        assert!(Error::Timeout {
            operation: "op".into()
        }
        .is_timeout());
        assert!(Error::Timeout {
            operation: "op".into()
        }
        .is_retryable());
    }

    #[test]
    fn lists_missing_credential_alternatives() {
        let error = Error::MissingCredentials {
            operation: "getPet".into(),
            alternatives: vec![vec!["a".into(), "b".into()], vec!["c".into()]],
        };
        assert!(error.is_auth());
        assert_eq!(
            error.to_string(),
            "operation `getPet` needs credentials for one of: a + b or c"
        );
    }

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }
}
