//! `Debug` for [`Error`], bounded: a variant that holds what a server sent (headers, a body,
//! a content type) shows a bounded part of it, so that logging an error costs at most a few KiB
//! whatever the server answered.

use std::fmt;

use reqwest::header::HeaderMap;

use super::Error;

/// Most bytes of a body, and of each header value, that `Debug` shows.
pub(crate) const SHOWN_BODY: usize = 1024;
const SHOWN_VALUE: usize = 128;
/// Most headers `Debug` lists.
const SHOWN_HEADERS: usize = 32;

/// `debug_struct` of one variant with the named fields, each shown through `Debug`.
macro_rules! variant {
    ($f:expr, $name:literal $(, $field:ident)*) => {{
        $f.debug_struct($name)$(.field(stringify!($field), $field))*.finish()
    }};
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { key, message } => variant!(f, "Config", key, message),
            Error::InvalidServerVariable {
                name,
                value,
                reason,
            } => variant!(f, "InvalidServerVariable", name, value, reason),
            Error::MissingCredentials {
                operation,
                alternatives,
            } => variant!(f, "MissingCredentials", operation, alternatives),
            Error::Auth { scheme, message } => variant!(f, "Auth", scheme, message),
            Error::TokenEndpointRedirect { scheme } => variant!(f, "TokenEndpointRedirect", scheme),
            Error::AuthorizationRefused { scheme, reason } => {
                variant!(f, "AuthorizationRefused", scheme, reason)
            }
            Error::CrossOriginRedirect { operation } => {
                variant!(f, "CrossOriginRedirect", operation)
            }
            Error::TooManyRedirects { operation, limit } => {
                variant!(f, "TooManyRedirects", operation, limit)
            }
            Error::ConnectionFile { file, problems } => {
                variant!(f, "ConnectionFile", file, problems)
            }
            Error::MissingParameter {
                operation,
                name,
                location,
            } => variant!(f, "MissingParameter", operation, name, location),
            Error::InvalidParameter {
                operation,
                name,
                reason,
            } => variant!(f, "InvalidParameter", operation, name, reason),
            Error::InvalidHeaderValue { name } => variant!(f, "InvalidHeaderValue", name),
            Error::InvalidInput { message } => variant!(f, "InvalidInput", message),
            Error::Offline { reason } => variant!(f, "Offline", reason),
            Error::UnknownAction { name, hint } => variant!(f, "UnknownAction", name, hint),
            Error::InvalidActionInput { action, problems } => {
                variant!(f, "InvalidActionInput", action, problems)
            }
            Error::Encode { source } => variant!(f, "Encode", source),
            Error::Decode {
                operation,
                status,
                snippet,
                source,
            } => {
                let snippet = &Bounded(snippet.as_bytes(), SHOWN_BODY);
                variant!(f, "Decode", operation, status, snippet, source)
            }
            Error::DecodeRecord {
                operation,
                index,
                snippet,
                source,
            } => {
                let snippet = &Bounded(snippet.as_bytes(), SHOWN_BODY);
                variant!(f, "DecodeRecord", operation, index, snippet, source)
            }
            Error::UnexpectedContentType {
                operation,
                status,
                content_type,
                snippet,
                source,
            } => {
                let content_type = &Bounded(content_type.as_bytes(), SHOWN_VALUE);
                let snippet = &Bounded(snippet.as_bytes(), SHOWN_BODY);
                variant!(
                    f,
                    "UnexpectedContentType",
                    operation,
                    status,
                    content_type,
                    snippet,
                    source
                )
            }
            Error::InvalidUtf8 {
                operation,
                status,
                source,
            } => variant!(f, "InvalidUtf8", operation, status, source),
            Error::AuthRejected { operation, status } => {
                variant!(f, "AuthRejected", operation, status)
            }
            Error::Status {
                operation,
                status,
                headers,
                body,
            } => {
                let headers = &Headers(headers);
                let body = &Bounded(body, SHOWN_BODY);
                variant!(f, "Status", operation, status, headers, body)
            }
            Error::ResponseTooLarge {
                operation,
                limit,
                part,
            } => variant!(f, "ResponseTooLarge", operation, limit, part),
            Error::Timeout { operation } => variant!(f, "Timeout", operation),
            Error::Transport { operation, source } => {
                variant!(f, "Transport", operation, source)
            }
            Error::ConnectTimeout { operation, timeout } => {
                variant!(f, "ConnectTimeout", operation, timeout)
            }
            Error::AttemptTimeout { operation, timeout } => {
                variant!(f, "AttemptTimeout", operation, timeout)
            }
            Error::ReadTimeout { operation, idle } => variant!(f, "ReadTimeout", operation, idle),
            Error::IncompleteBody { operation, source } => {
                variant!(f, "IncompleteBody", operation, source)
            }
            Error::DeadlineExceeded {
                operation,
                deadline,
                attempts,
            } => variant!(f, "DeadlineExceeded", operation, deadline, attempts),
            Error::RetriesExhausted {
                operation,
                attempts,
                last_status,
                last,
            } => variant!(
                f,
                "RetriesExhausted",
                operation,
                attempts,
                last_status,
                last
            ),
            Error::NotRetried {
                operation,
                reason,
                attempts,
                last,
            } => variant!(f, "NotRetried", operation, reason, attempts, last),
            Error::RateLimited {
                operation,
                retry_after,
                attempts,
                last,
            } => variant!(f, "RateLimited", operation, retry_after, attempts, last),
            Error::BlockedAddress {
                operation,
                host,
                reason,
            } => variant!(f, "BlockedAddress", operation, host, reason),
            Error::RetryBudgetExhausted {
                operation,
                attempts,
                last,
            } => variant!(f, "RetryBudgetExhausted", operation, attempts, last),
        }
    }
}

/// At most the first `.1` bytes, as an escaped string, with the full length when cut.
pub(crate) struct Bounded<'a>(pub(crate) &'a [u8], pub(crate) usize);

impl fmt::Debug for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Bounded(bytes, limit) = *self;
        let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(limit)]);
        write!(f, "{:?}", shown)?;
        if bytes.len() > limit {
            write!(f, "... ({} bytes in all)", bytes.len())?;
        }
        Ok(())
    }
}

/// The first headers, each value cut short; sensitive values hidden as `HeaderMap` does. Also
/// what response types print, since their headers come from the server too.
pub(crate) struct Headers<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0.iter().take(SHOWN_HEADERS) {
            let name = Bounded(name.as_str().as_bytes(), SHOWN_VALUE);
            if value.is_sensitive() {
                map.entry(&name, &"Sensitive");
            } else {
                map.entry(&name, &Bounded(value.as_bytes(), SHOWN_VALUE));
            }
        }
        if self.0.len() > SHOWN_HEADERS {
            map.entry(&"...", &format_args!("{} headers in all", self.0.len()));
        }
        map.finish()
    }
}
