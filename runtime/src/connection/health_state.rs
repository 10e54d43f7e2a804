//! A connection's online/offline mark and the policy that re-probes it: kept with the connection
//! (which checks the mark before every action) so that `health`, which pings through the
//! connection, sits above it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::error::Error;
use crate::time::{Clock, Sleeper, TokioSleeper};

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
            clock: Arc::new(crate::time::SystemClock),
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
    pub(crate) fn random(&self) -> f64 {
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
    pub(crate) state: OnceLock<Arc<HealthState>>,
}

pub(crate) struct HealthState {
    pub(crate) policy: HealthPolicy,
    pub(crate) online: AtomicBool,
    pub(crate) probing: AtomicBool,
    pub(crate) last: Mutex<Option<String>>,
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
