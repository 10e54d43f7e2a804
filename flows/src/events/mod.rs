//! Received webhook events: what is stored, and the store's event tables.
//!
//! An event is stored once per `(source, event_id)`: the same event sent again (a retry of the
//! sender, a duplicate, or the same event reaching two receivers on one Postgres store) finds
//! the row already there and is acknowledged without a second row. Each event carries its
//! delivery state (`pending`, `done`, `dead`), which [`EventStore::next_pending`] and
//! [`EventStore::record_attempt`] move forward.

mod store;

use serde::Serialize;
use serde_json::Value;

pub use store::{EventQuery, EventStore, MIGRATIONS};

/// An event about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Who sent it: the connector (and connection) whose receiver took it. De-duplication is
    /// per source.
    pub source: String,
    /// The sender's id of the event (a delivery id header, or the body's `id`).
    pub event_id: String,
    /// The event's type (`push`, `invoice.paid`), or the name of the spec's event.
    pub event_type: String,
    /// The request headers worth keeping, as a JSON object text (`{}` for none); signature and
    /// credential headers are never kept.
    pub headers: String,
    /// The body as received (verified JSON text).
    pub body: String,
    /// When it was received, in milliseconds since the Unix epoch.
    pub received_at_ms: i64,
}

impl NewEvent {
    /// An event with no headers kept, received now.
    pub fn new(
        source: impl Into<String>,
        event_id: impl Into<String>,
        event_type: impl Into<String>,
        body: impl Into<String>,
    ) -> NewEvent {
        NewEvent {
            source: source.into(),
            event_id: event_id.into(),
            event_type: event_type.into(),
            headers: "{}".into(),
            body: body.into(),
            received_at_ms: crate::now_ms(),
        }
    }
}

/// What [`EventStore::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// The event is new; stored under this sequence number.
    New(i64),
    /// The event was stored before, under this sequence number; nothing was written.
    Duplicate(i64),
}

impl Inserted {
    /// The event's sequence number in the store.
    pub fn seq(self) -> i64 {
        match self {
            Inserted::New(seq) | Inserted::Duplicate(seq) => seq,
        }
    }

    /// Whether this call stored it.
    pub fn is_new(self) -> bool {
        matches!(self, Inserted::New(_))
    }
}

/// Where an event is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not yet delivered (never tried, or tried and failed with attempts left).
    Pending,
    /// Delivered: the consumer took it.
    Done,
    /// Given up after the last attempt (dead letter); kept for a person to look at.
    Dead,
}

impl DeliveryState {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Done => "done",
            DeliveryState::Dead => "dead",
        }
    }

    fn parse(text: &str) -> DeliveryState {
        match text {
            "done" => DeliveryState::Done,
            "dead" => DeliveryState::Dead,
            _ => DeliveryState::Pending,
        }
    }
}

/// An event as stored, as `connector-gen events` prints it (one JSON object per line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    /// Its sequence number in the store: increasing in the order events were stored.
    pub seq: i64,
    /// Who sent it.
    pub source: String,
    /// The sender's id of the event.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it was received, in milliseconds since the Unix epoch.
    pub received_at_ms: i64,
    /// The headers kept.
    pub headers: Value,
    /// The body: its JSON value (as text when, unexpectedly, it is not JSON).
    pub payload: Value,
    /// Its delivery state.
    pub state: DeliveryState,
    /// Delivery attempts made.
    pub attempts: u32,
    /// Why the last attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl StoredEvent {
    #[allow(clippy::too_many_arguments)]
    fn from_columns(
        seq: i64,
        source: String,
        id: String,
        event_type: String,
        received_at_ms: i64,
        headers: &str,
        body: String,
        state: &str,
        attempts: i64,
        last_error: Option<String>,
    ) -> StoredEvent {
        StoredEvent {
            seq,
            source,
            id,
            event_type,
            received_at_ms,
            headers: serde_json::from_str(headers).unwrap_or(Value::Null),
            payload: serde_json::from_str(&body).unwrap_or(Value::String(body)),
            state: DeliveryState::parse(state),
            attempts: u32::try_from(attempts).unwrap_or(0),
            last_error,
        }
    }
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The consumer took the event.
    Done,
    /// It failed; `dead` when it was the last attempt.
    Failed {
        /// Why, in words (a command's exit status and the end of its stderr).
        error: String,
        /// Whether the event now goes to the dead letters.
        dead: bool,
    },
}

/// How many events are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Pending events.
    pub pending: u64,
    /// Delivered events.
    pub done: u64,
    /// Dead letters.
    pub dead: u64,
}

impl Counts {
    /// Events in the store.
    pub fn total(&self) -> u64 {
        self.pending + self.done + self.dead
    }
}
