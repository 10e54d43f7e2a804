//! What an error says about retrying: how many attempts were made, why the runtime stopped, and
//! whether (and when) trying again may help.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use super::Error;

/// Why a failure that is usually retried was not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotRetriedReason {
    /// The method (POST, PATCH) is not idempotent and the request carried no idempotency key:
    /// sending it again could apply it twice.
    NonIdempotent,
    /// The request was sent and the connection broke before the response arrived: whether the
    /// server applied it is unknown, and a non-idempotent request is not sent again.
    OutcomeUnknown,
    /// The request body was a stream, which cannot be sent a second time.
    BodyNotReplayable,
}

impl fmt::Display for NotRetriedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotRetriedReason::NonIdempotent => {
                "the method is not idempotent and the request has no idempotency key"
            }
            NotRetriedReason::OutcomeUnknown => {
                "outcome unknown: the connection broke after the request was sent"
            }
            NotRetriedReason::BodyNotReplayable => "body not replayable (a streamed upload)",
        })
    }
}

/// `; last status N` in a message, or nothing.
pub(super) struct LastStatus(pub(super) Option<u16>);

impl fmt::Display for LastStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(status) => write!(f, "; the last answered HTTP status {status}"),
            None => Ok(()),
        }
    }
}

impl Error {
    /// The failure a retry variant wraps ([`Error::RetriesExhausted`], [`Error::NotRetried`],
    /// [`Error::RateLimited`], [`Error::RetryBudgetExhausted`]).
    pub fn last(&self) -> Option<&Error> {
        match self {
            Error::RetriesExhausted { last, .. }
            | Error::NotRetried { last, .. }
            | Error::RateLimited { last, .. }
            | Error::RetryBudgetExhausted { last, .. } => Some(last),
            _ => None,
        }
    }

    /// How many attempts the call made: more than 1 when it was retried, 0 when it failed
    /// before anything was sent or by its deadline before its first attempt.
    pub fn attempts(&self) -> u32 {
        match self {
            Error::RetriesExhausted { attempts, .. }
            | Error::NotRetried { attempts, .. }
            | Error::RateLimited { attempts, .. }
            | Error::RetryBudgetExhausted { attempts, .. }
            | Error::DeadlineExceeded { attempts, .. } => *attempts,
            err if err.is_bad_input() => 0,
            _ => 1,
        }
    }

    /// Whether the call was refused before anything was sent, because of what the caller or
    /// the connection's configuration gave (a setting, a parameter, the input, the action).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Error::Config { .. }
                | Error::InvalidServerVariable { .. }
                | Error::MissingCredentials { .. }
                | Error::ConnectionFile { .. }
                | Error::MissingParameter { .. }
                | Error::InvalidParameter { .. }
                | Error::InvalidHeaderValue { .. }
                | Error::InvalidInput { .. }
                | Error::InvalidActionInput { .. }
                | Error::UnknownAction { .. }
                | Error::Encode { .. }
        )
    }

    /// Whether the request timed out: connecting, an attempt, a stalled stream, or the call's
    /// deadline.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. }
            | Error::ConnectTimeout { .. }
            | Error::AttemptTimeout { .. }
            | Error::ReadTimeout { .. }
            | Error::DeadlineExceeded { .. } => true,
            Error::Transport { source, .. } => source.is_timeout(),
            _ => self.last().is_some_and(Error::is_timeout),
        }
    }

    /// Whether sending the same request again (later) may succeed: 408, 429, 5xx other than
    /// 501, timeouts, connection failures, a cut-short body, a rate limit or a spent budget.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Status { status, .. } => retryable_status(*status),
            Error::Timeout { .. }
            | Error::ConnectTimeout { .. }
            | Error::AttemptTimeout { .. }
            | Error::ReadTimeout { .. }
            | Error::IncompleteBody { .. }
            | Error::DeadlineExceeded { .. }
            | Error::RateLimited { .. } => true,
            Error::Transport { source, .. } => source.is_connect() || source.is_timeout(),
            _ => self.last().is_some_and(Error::is_retryable),
        }
    }

    /// The wait the server asked for: [`Error::RateLimited`]'s, or the `Retry-After` (or
    /// `retry-after-ms`) of a non-2xx response.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            Error::Status { headers, .. } => retry_after(headers, SystemTime::now()),
            _ => self.last().and_then(Error::retry_after),
        }
    }
}

/// 408, 429 and 5xx other than 501 (not implemented, which will not change on a retry).
pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || ((500..=599).contains(&status) && status != 501)
}

/// The wait a response asks for: `retry-after-ms` (milliseconds, as Azure sends), else
/// `Retry-After` in whole seconds or as an HTTP date relative to `now`. Values that are negative,
/// not numbers, or absurd (more than a day) are ignored, and normal backoff applies.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    const MOST: Duration = Duration::from_secs(24 * 3600);
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|t| t.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 && ms <= MOST.as_millis() as f64 {
            return Some(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    let value = text("retry-after")?;
    if value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: u64 = value.parse().ok()?;
        return Some(Duration::from_secs(seconds)).filter(|d| *d <= MOST);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    // A date in the past means "now".
    let wait = date.duration_since(now).unwrap_or(Duration::ZERO);
    Some(wait).filter(|d| *d <= MOST)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("test header"));
        }
        map
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = |h: &[(&'static str, &str)]| retry_after(&headers(h), now);
        assert_eq!(at(&[("retry-after", "2")]), Some(Duration::from_secs(2)));
        assert_eq!(
            at(&[("retry-after-ms", "1500")]),
            Some(Duration::from_millis(1500))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(3));
        assert_eq!(at(&[("retry-after", &date)]), Some(Duration::from_secs(3)));
        for bad in ["-1", "abc", "1e9", "18446744073709551616", "99999999"] {
            assert_eq!(at(&[("retry-after", bad)]), None, "{bad}");
        }
        assert_eq!(at(&[]), None);
    }

    #[test]
    fn input_errors_sent_nothing() {
        let invalid = Error::InvalidActionInput {
            action: "listPets".into(),
            problems: vec!["/limt: unknown key".into()],
        };
        assert!(invalid.is_bad_input());
        assert_eq!(invalid.attempts(), 0);
        let refused = Error::ConnectTimeout {
            operation: "listPets".into(),
            timeout: Duration::from_secs(1),
        };
        assert!(!refused.is_bad_input());
    }
}
