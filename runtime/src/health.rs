//! Ping and connection health: a cheap call that tells whether a connection works, and (when
//! enabled) an offline mark that makes actions fail fast while the runtime re-probes in the
//! background with capped, jittered exponential backoff.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::catalogue::at_path;
pub use crate::catalogue::{BodyCheck, PingSpec, ValuesCheck};
pub use crate::connection::HealthPolicy;
use crate::connection::{Connection, HealthState};
use crate::error::Error;
/// Re-exported: the re-probe loop waits through the runtime's injectable [`Sleeper`].
pub use crate::time::{Sleep, Sleeper, TokioSleeper};

/// How long a ping waits for its one answer unless [`PingSpec::timeout_ms`] says otherwise.
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// The verdict of a ping, in the four cases callers act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PingOutcome {
    /// The API answered 2xx and the success check (if any) held.
    Healthy,
    /// The credentials were refused: 401/403, missing credentials, or a body matching the fail
    /// check. Holds the status, if there was an answer.
    AuthFailed {
        /// The answer's status.
        status: Option<u16>,
    },
    /// The API answered, but not well.
    Unhealthy {
        /// The answer's status.
        status: u16,
        /// The text at the error path of the body, else what went wrong.
        message: String,
    },
    /// No answer within the ping timeout: connection refused, DNS, TLS, or the timeout itself.
    Unreachable,
}

/// What a ping found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PingResult {
    /// The verdict.
    pub outcome: PingOutcome,
    /// Whether the ping succeeded (a 2xx answer that passed the declared check).
    pub ok: bool,
    /// Whether the API answered at all.
    pub reachable: bool,
    /// Whether the credentials were accepted: `false` on 401/403 or when they are missing,
    /// `None` when the API could not tell.
    pub credentials_accepted: Option<bool>,
    /// The status of the answer, if there was one.
    pub status: Option<u16>,
    /// Time from sending to the answer (or the failure), in milliseconds.
    pub latency_ms: u64,
    /// The action used.
    pub action: String,
    /// What went wrong, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl Connection {
    /// Pings the API once: the connector's declared ping action, else a cheap default (see
    /// [`Catalogue::ping`](crate::catalogue::Catalogue::ping)). Never fails: the result says
    /// what happened. It is sent even when the connection is marked offline.
    pub async fn ping(&self) -> PingResult {
        let spec = self.catalogue().ok().flatten().and_then(|c| c.ping.clone());
        let Some(spec) = spec else {
            return PingResult {
                outcome: PingOutcome::Unreachable,
                ok: false,
                reachable: false,
                credentials_accepted: None,
                status: None,
                latency_ms: 0,
                action: String::new(),
                problem: Some("the connector has no action that can serve as a ping".into()),
            };
        };
        let started = std::time::Instant::now();
        let input = match &spec.input {
            Value::Null => Value::Object(serde_json::Map::new()),
            given => given.clone(),
        };
        let limit = spec
            .timeout_ms
            .map_or(DEFAULT_PING_TIMEOUT, Duration::from_millis);
        let inner = self.inner();
        // One attempt: a ping reports what one request found, not what retries hid.
        let call = crate::dynamic::execute_with(
            &inner.pipeline,
            |op| inner.base_url_for(op),
            &inner.actions,
            &spec.action,
            input,
            true,
        );
        let outcome = tokio::time::timeout(limit, call).await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut result = PingResult {
            outcome: PingOutcome::Unreachable,
            ok: false,
            reachable: false,
            credentials_accepted: None,
            status: None,
            latency_ms,
            action: spec.action.clone(),
            problem: None,
        };
        match outcome {
            Err(_) => {
                result.problem = Some(format!("no answer within {} ms", limit.as_millis()));
            }
            Ok(Ok(output)) => {
                result.reachable = true;
                result.status = Some(output.status);
                judge_body(&spec, output.status, &output.body, &mut result);
            }
            Ok(Err(err)) => {
                let status = err.status();
                result.status = status;
                result.reachable = status.is_some();
                result.credentials_accepted = match (&err, status) {
                    (Error::MissingCredentials { .. } | Error::AuthRejected { .. }, _) => {
                        Some(false)
                    }
                    (_, Some(401 | 403)) => Some(false),
                    _ => None,
                };
                let mut problem = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(cause) = source {
                    problem = format!("{problem}: {cause}");
                    source = cause.source();
                }
                result.outcome = match (result.credentials_accepted, status) {
                    (Some(false), status) => PingOutcome::AuthFailed { status },
                    (_, Some(status)) => PingOutcome::Unhealthy {
                        status,
                        message: error_message(&spec, &err).unwrap_or_else(|| problem.clone()),
                    },
                    (_, None) => PingOutcome::Unreachable,
                };
                result.problem = Some(problem);
            }
        }
        result
    }

    /// Turns on health checks: from now on, a failed [`check_health`](Self::check_health)
    /// marks the connection offline, actions fail fast with [`Error::Offline`], and the runtime
    /// re-probes in the background until a ping succeeds. Needs a tokio runtime. Calling it again
    /// keeps the first policy.
    pub fn enable_health_checks(&self, policy: HealthPolicy) {
        let _ = self.inner().health.state.set(Arc::new(HealthState {
            policy,
            online: AtomicBool::new(true),
            probing: AtomicBool::new(false),
            last: Mutex::new(None),
        }));
    }

    /// Whether the connection is online: always, unless health checks are on and the last
    /// ping failed.
    pub fn is_online(&self) -> bool {
        self.inner().health.check().is_ok()
    }

    /// Pings, and with health checks on, marks the connection offline on failure and starts
    /// re-probing in the background.
    pub async fn check_health(&self) -> PingResult {
        let result = self.ping().await;
        if let Some(state) = self.inner().health.state.get() {
            if result.ok {
                state.online.store(true, Ordering::Release);
            } else {
                if let Ok(mut last) = state.last.lock() {
                    *last = result.problem.clone();
                }
                state.online.store(false, Ordering::Release);
                self.start_probing(state.clone());
            }
        }
        result
    }

    fn start_probing(&self, state: Arc<HealthState>) {
        if state.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            state.probing.store(false, Ordering::Release);
            return;
        };
        let connection = self.clone();
        handle.spawn(async move {
            let mut attempt = 0u32;
            loop {
                let wait = state.policy.backoff(attempt, state.policy.random());
                state.policy.sleeper.sleep(wait).await;
                attempt = attempt.saturating_add(1);
                let result = connection.ping().await;
                if result.ok {
                    state.online.store(true, Ordering::Release);
                    break;
                }
                if let Ok(mut last) = state.last.lock() {
                    *last = result.problem;
                }
            }
            state.probing.store(false, Ordering::Release);
        });
    }
}

/// Sorts a 2xx answer into healthy, refused credentials, or unhealthy by the spec's checks.
fn judge_body(spec: &PingSpec, status: u16, body: &Value, result: &mut PingResult) {
    if spec.fail.as_ref().is_some_and(|fail| fail.holds(body)) {
        result.credentials_accepted = Some(false);
        result.outcome = PingOutcome::AuthFailed {
            status: Some(status),
        };
        result.problem = Some("the answer reports refused credentials".into());
        return;
    }
    result.credentials_accepted = Some(true);
    let problem = match (&spec.check, &spec.success) {
        (Some(check), _) if at_path(body, &check.path) != Some(&check.equals) => Some(format!(
            "the answer's `{}` is not {}",
            check.path.join("."),
            check.equals
        )),
        (_, Some(success)) if !success.holds(body) => Some(format!(
            "the answer's `{}` is none of the healthy values",
            success.path.join(".")
        )),
        _ => None,
    };
    match problem {
        None => {
            result.ok = true;
            result.outcome = PingOutcome::Healthy;
        }
        Some(problem) => {
            let message = spec
                .error_path
                .as_ref()
                .and_then(|path| text_at(body, path))
                .unwrap_or_else(|| problem.clone());
            result.outcome = PingOutcome::Unhealthy { status, message };
            result.problem = Some(problem);
        }
    }
}

/// The error path's text in a non-2xx answer's JSON body.
fn error_message(spec: &PingSpec, err: &Error) -> Option<String> {
    text_at(&err.body_json::<Value>()?, spec.error_path.as_ref()?)
}

/// A short, single-line text of the value at `path`: server text is bounded before it is shown.
fn text_at(body: &Value, path: &[String]) -> Option<String> {
    let text = match at_path(body, path)? {
        Value::String(text) => text.clone(),
        Value::Null => return None,
        other => other.to_string(),
    };
    Some(text.chars().filter(|c| !c.is_control()).take(200).collect())
}

impl fmt::Display for PingResult {
    /// One line for people; never a credential (it shows no request, only the verdict).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status =
            |status: Option<u16>| status.map_or_else(|| "no status".into(), |s| s.to_string());
        match &self.outcome {
            PingOutcome::Healthy => write!(f, "healthy")?,
            PingOutcome::AuthFailed { status: s } => {
                write!(f, "credentials refused ({})", status(*s))?;
            }
            PingOutcome::Unhealthy { status, message } => {
                write!(f, "unhealthy ({status}): {message}")?;
            }
            PingOutcome::Unreachable => write!(f, "unreachable")?,
        }
        write!(f, " [{} in {} ms]", self.action, self.latency_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters_down() {
        let policy = HealthPolicy {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            jitter: 0.5,
            ..HealthPolicy::default()
        };
        let waits: Vec<u64> = (0..6).map(|n| policy.backoff(n, 0.0).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 10, 10]);
        assert_eq!(policy.backoff(3, 1.0), Duration::from_secs(4));
        assert_eq!(policy.backoff(200, 0.0), Duration::from_secs(10));
    }
}
