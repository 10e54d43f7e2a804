//! Ping and connection health: a cheap call that tells whether a connection works, and (when
//! enabled) an offline mark that makes actions fail fast while the runtime re-probes in the
//! background with capped, jittered exponential backoff.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

use crate::catalogue::at_path;
pub use crate::catalogue::{BodyCheck, PingSpec};
pub use crate::connection::HealthPolicy;
use crate::connection::{Connection, HealthState};
use crate::error::Error;
/// Re-exported: the re-probe loop waits through the runtime's injectable [`Sleeper`].
pub use crate::time::{Sleep, Sleeper, TokioSleeper};

/// What a ping found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PingResult {
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
        let inner = self.inner();
        // One attempt: a ping reports what one request found, not what retries hid.
        let outcome = crate::dynamic::execute_with(
            &inner.pipeline,
            &inner.base_url,
            &inner.actions,
            &spec.action,
            input,
            true,
        )
        .await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut result = PingResult {
            ok: false,
            reachable: false,
            credentials_accepted: None,
            status: None,
            latency_ms,
            action: spec.action.clone(),
            problem: None,
        };
        match outcome {
            Ok(output) => {
                result.reachable = true;
                result.credentials_accepted = Some(true);
                result.status = Some(output.status);
                match &spec.check {
                    Some(check) if at_path(&output.body, &check.path) != Some(&check.equals) => {
                        result.problem = Some(format!(
                            "the answer's `{}` is not {}",
                            check.path.join("."),
                            check.equals
                        ));
                    }
                    _ => result.ok = true,
                }
            }
            Err(err) => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
