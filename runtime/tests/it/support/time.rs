//! Injected time for schedule tests: a sleeper that records what it was asked and returns at
//! once (moving a manual clock forward), and a random source pinned to one value.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use connector_runtime::{Clock, Rng, Sleep, Sleeper};

/// A clock that moves only when told (or when the recording sleeper sleeps).
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    wall: SystemTime,
    offset: Mutex<Duration>,
}

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }

    /// The wall-clock time the clock reports now.
    pub fn wall_now(&self) -> SystemTime {
        self.wall + *self.offset.lock().unwrap()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap()
    }

    fn wall(&self) -> SystemTime {
        self.wall_now()
    }
}

/// Records every requested sleep and completes at once, advancing `clock` when it has one.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    pub slept: Mutex<Vec<Duration>>,
    clock: Option<Arc<ManualClock>>,
}

impl RecordingSleeper {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn with_clock(clock: Arc<ManualClock>) -> Arc<Self> {
        Arc::new(Self {
            slept: Mutex::new(Vec::new()),
            clock: Some(clock),
        })
    }

    pub fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> Sleep {
        self.slept.lock().unwrap().push(duration);
        if let Some(clock) = &self.clock {
            clock.advance(duration);
        }
        Box::pin(async {})
    }
}

/// A random source pinned to one value of `[0, 1]`: 1.0 is the top of the jitter range.
#[derive(Debug)]
pub struct PinnedRng(pub f64);

impl Rng for PinnedRng {
    fn unit(&self) -> f64 {
        self.0
    }
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The number of tasks alive in this runtime once it has come down to `expected` (or after 2 s):
/// tasks that end as connections close need a moment.
pub async fn settled_tasks(expected: usize) -> usize {
    let metrics = tokio::runtime::Handle::current().metrics();
    let mut alive = metrics.num_alive_tasks();
    for _ in 0..200 {
        if alive <= expected {
            break;
        }
        tokio::time::sleep(ms(10)).await;
        alive = metrics.num_alive_tasks();
    }
    alive
}
