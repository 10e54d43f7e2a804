//! Ping and connection health: a cheap call that tells whether a connection works, and (when
//! enabled) an offline mark that makes actions fail fast while the runtime re-probes in the
//! background with capped, jittered exponential backoff.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::catalogue::at_path;
use crate::clock::Clock;
use crate::connection::Connection;
use crate::error::Error;

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

/// A future a [`Sleeper`] returns.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How the re-probe loop waits; tests inject one that records the waits and returns at once.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// Sleeps on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// How a connection with health checks re-probes once offline.
#[derive(Debug, Clone)]
pub struct HealthPolicy {
    /// The first wait before a re-probe.
    pub initial_backoff: Duration,
    /// The longest wait between re-probes.
    pub max_backoff: Duration,
    /// Fraction of each wait drawn at random (0 = none, 0.5 = up to half shorter), so that many
    /// connections to one API do not probe in step.
    pub jitter: f64,
    /// How the loop waits.
    pub sleeper: Arc<dyn Sleeper>,
    /// The clock whose reading spreads the jitter (inject a fixed one for exact waits).
    pub clock: Arc<dyn Clock>,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            jitter: 0.2,
            sleeper: Arc::new(TokioSleeper),
            clock: Arc::new(crate::clock::SystemClock),
        }
    }
}

impl HealthPolicy {
    /// The wait before re-probe number `attempt` (0-based): doubling from `initial_backoff`,
    /// capped at `max_backoff`, shortened by up to `jitter` of itself.
    pub fn backoff(&self, attempt: u32, random: f64) -> Duration {
        let doubled = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(attempt.min(31)));
        let capped = doubled.min(self.max_backoff);
        let cut = self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        capped.mul_f64(1.0 - cut)
    }

    /// A number in `[0, 1]` from the clock's nanoseconds: jitter only needs to spread callers.
    fn random(&self) -> f64 {
        let epoch = *EPOCH.get_or_init(std::time::Instant::now);
        let nanos = self
            .clock
            .now()
            .saturating_duration_since(epoch)
            .subsec_nanos();
        f64::from(nanos % 1_000_000) / 1_000_000.0
    }
}

static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();

/// A connection's health state: empty until health checks are enabled.
#[derive(Default)]
pub(crate) struct HealthSlot {
    state: OnceLock<Arc<HealthState>>,
}

struct HealthState {
    policy: HealthPolicy,
    online: AtomicBool,
    probing: AtomicBool,
    last: Mutex<Option<String>>,
}

impl HealthSlot {
    /// Fails fast when health checks are on and the connection is offline.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let Some(state) = self.state.get() else {
            return Ok(());
        };
        if state.online.load(Ordering::Acquire) {
            return Ok(());
        }
        let reason = state
            .last
            .lock()
            .map(|last| last.clone().unwrap_or_default())
            .unwrap_or_default();
        Err(Error::Offline { reason })
    }
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
        let outcome = crate::dynamic::execute(self.inner(), &spec.action, input).await;
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

/// Which action pings a connection, what it sends and what its answer must say.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PingSpec {
    /// The action id.
    pub action: String,
    /// Its input (a page size of 1 for a List).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub input: Value,
    /// A check on the answer's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<BodyCheck>,
    /// Whether the spec declared it (`x-connector-ping`) rather than the default rule chose it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub declared: bool,
}

/// The value a ping's answer must hold at a path.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BodyCheck {
    /// Property names from the top of the body.
    pub path: Vec<String>,
    /// The value required there.
    pub equals: Value,
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
