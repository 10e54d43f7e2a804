//! The time source token caching reads, injectable so that expiry schedules are tested exactly.

use std::fmt;
use std::time::Instant;

/// Where the runtime reads the current time when it decides whether a token is still fresh.
///
/// The default is [`SystemClock`]; tests inject a clock they move forward by hand
/// ([`ConnectionBuilder::clock`](crate::ConnectionBuilder::clock)).
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}
