//! The classifier: after a failed attempt, retry (with the server's wait, if it gave one), not
//! retry for safety, or stop.

use std::time::{Duration, SystemTime};

use super::retry::{RetryCost, RetryPolicy};
use crate::error::{retry_after, retryable_status, Error, NotRetriedReason};

/// What to do after a failed attempt.
#[derive(Debug, PartialEq)]
pub(crate) enum Decision {
    /// Try again, after `wait` when the server asked for one (else after backoff).
    Retry {
        cost: RetryCost,
        wait: Option<Duration>,
    },
    /// The failure is of a retryable kind, but sending the request again is not safe.
    NotRetried(NotRetriedReason),
    /// The failure will not go away by trying again.
    Stop,
}

/// Classifies `err`. `safe`: the request may be sent twice (idempotent method or idempotency
/// key); `replayable`: its body can be sent again.
pub(crate) fn classify(
    err: &Error,
    safe: bool,
    replayable: bool,
    policy: &RetryPolicy,
    now: SystemTime,
) -> Decision {
    // `unprocessed`: the server cannot have acted on the request (nothing was sent, or it
    // refused it before processing, as a 429 says).
    let (cost, wait, unprocessed) = match err {
        Error::Status {
            status, headers, ..
        } if retryable_status(*status) => (
            RetryCost::Error,
            retry_after(headers, now),
            *status == 429 && policy.retry_post_on_429,
        ),
        Error::ConnectTimeout { .. } => (RetryCost::Timeout, None, true),
        Error::Transport { source, .. } if source.is_connect() => (RetryCost::Error, None, true),
        Error::AttemptTimeout { .. } | Error::Timeout { .. } => (RetryCost::Timeout, None, false),
        Error::Transport { .. } | Error::IncompleteBody { .. } => (RetryCost::Error, None, false),
        _ => return Decision::Stop,
    };
    if !replayable {
        return Decision::NotRetried(NotRetriedReason::BodyNotReplayable);
    }
    if safe || unprocessed {
        return Decision::Retry { cost, wait };
    }
    Decision::NotRetried(if matches!(err, Error::Status { .. }) {
        NotRetriedReason::NonIdempotent
    } else {
        NotRetriedReason::OutcomeUnknown
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> Error {
        Error::Status {
            operation: "op".into(),
            status,
            headers: Default::default(),
            body: Default::default(),
        }
    }

    fn decide(err: &Error, safe: bool) -> Decision {
        classify(err, safe, true, &RetryPolicy::default(), SystemTime::now())
    }

    #[test]
    fn rt2_statuses_for_idempotent_requests() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(
                matches!(decide(&status(code), true), Decision::Retry { .. }),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 405, 409, 410, 422, 501] {
            assert_eq!(decide(&status(code), true), Decision::Stop, "{code}");
        }
    }

    #[test]
    fn rt3_post_is_retried_only_when_unprocessed() {
        assert_eq!(
            decide(&status(503), false),
            Decision::NotRetried(NotRetriedReason::NonIdempotent)
        );
        assert!(matches!(
            decide(&status(429), false),
            Decision::Retry { .. }
        ));
        let strict = RetryPolicy::default().with_retry_post_on_429(false);
        assert_eq!(
            classify(&status(429), false, true, &strict, SystemTime::now()),
            Decision::NotRetried(NotRetriedReason::NonIdempotent)
        );
        let timeout = Error::AttemptTimeout {
            operation: "op".into(),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(
            decide(&timeout, false),
            Decision::NotRetried(NotRetriedReason::OutcomeUnknown)
        );
        assert_eq!(
            classify(
                &status(503),
                true,
                false,
                &RetryPolicy::default(),
                SystemTime::now()
            ),
            Decision::NotRetried(NotRetriedReason::BodyNotReplayable)
        );
    }
}
