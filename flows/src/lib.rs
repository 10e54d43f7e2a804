//! connector-flows: what platforms run beside their connectors. Stores over SQLite and Postgres
//! ([`store`]), the received webhook events kept in them ([`events`]), the [`receiver`] that
//! verifies and stores them before answering, their [`delivery`] to a command, and data
//! [`sync`] between connections (or into a database table).
//!
//! Connector users do not compile this crate: a connector that receives no webhooks depends on
//! `connector-runtime` only.
//!
//! ```no_run
//! # async fn demo() -> Result<(), connector_flows::Error> {
//! use connector_flows::events::{EventStore, NewEvent};
//! use connector_flows::store::Store;
//!
//! let events = EventStore::open(Store::open("sqlite:events.db").await?).await?;
//! let stored = events
//!     .insert(NewEvent::new("github", "72d3162e", "push", "{}"))
//!     .await?;
//! println!("stored as {} (new: {})", stored.seq(), stored.is_new());
//! # Ok(()) }
//! ```
//!
//! Cargo features: `cli` (the `listen` and `events` commands, for connector-gen and generated
//! binaries) and `specs` (`sync::Sync::from_file`: the specs and manifests a sync file names
//! are lowered at run time by connector-gen's library).
#![deny(missing_docs)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod delivery;
mod error;
pub mod events;
pub mod receiver;
mod serve;
pub mod store;
pub mod sync;

pub use error::Error;
pub use serve::{serve, shutdown_signal};

/// Milliseconds since the Unix epoch, the time unit of every stored timestamp.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
