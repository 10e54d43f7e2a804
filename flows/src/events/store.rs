//! The event tables on both stores. SQLite inserts go through one writer task that commits
//! the inserts waiting at that moment together (group commit): each commit costs an fsync, and
//! fifty senders at once share it instead of queueing for fifty of them.

use rusqlite::OptionalExtension;
use tokio::sync::{mpsc, oneshot};

use super::{Attempt, Counts, DeliveryState, Inserted, NewEvent, StoredEvent};
use crate::error::Error;
use crate::store::{Migration, Migrations, Sqlite, Store};

/// The event tables' migrations.
pub static MIGRATIONS: Migrations = Migrations {
    component: "events",
    steps: &[Migration {
        version: 1,
        name: "events with their delivery state",
        sqlite: include_str!("../../migrations/events/0001_events.sqlite.sql"),
        postgres: include_str!("../../migrations/events/0001_events.postgres.sql"),
    }],
};

/// Inserts committed together at most.
const BATCH: usize = 256;

const COLUMNS: &str =
    "seq, source, event_id, event_type, received_at_ms, headers, body, state, attempts, last_error";

/// Which stored events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only events stored after this sequence number.
    pub after: Option<i64>,
    /// Only events of this type.
    pub event_type: Option<String>,
    /// Only events in this state.
    pub state: Option<DeliveryState>,
    /// At most this many (default 1,000).
    pub limit: Option<u32>,
}

/// The events of a store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EventStore {
    store: Store,
    /// SQLite's group-commit writer.
    writer: Option<mpsc::Sender<Pending>>,
}

type Pending = (NewEvent, oneshot::Sender<Result<Inserted, String>>);

impl EventStore {
    /// The events of `store`, its tables migrated. Needs a tokio runtime (SQLite's writer is a
    /// task of it).
    pub async fn open(store: Store) -> Result<EventStore, Error> {
        store.migrate(&MIGRATIONS).await?;
        let writer = match &store {
            Store::Sqlite(db) => {
                let (tx, rx) = mpsc::channel(4 * BATCH);
                tokio::spawn(write_batches(db.clone(), rx));
                Some(tx)
            }
            Store::Postgres(_) => None,
        };
        Ok(EventStore { store, writer })
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stores `event` unless its `(source, event_id)` is stored already; returns once the
    /// outcome is durable (committed with `synchronous=FULL`, or by a Postgres commit).
    pub async fn insert(&self, event: NewEvent) -> Result<Inserted, Error> {
        match (&self.store, &self.writer) {
            (Store::Sqlite(_), Some(writer)) => {
                let (reply, answer) = oneshot::channel();
                writer
                    .send((event, reply))
                    .await
                    .map_err(|_| Error::Store("the SQLite writer has stopped".into()))?;
                answer
                    .await
                    .map_err(|_| Error::Store("the SQLite writer has stopped".into()))?
                    .map_err(Error::Store)
            }
            (Store::Postgres(db), _) => {
                let fail = pg_fail(db, "storing an event");
                let client = db.client().await?;
                let inserted = client
                    .query_opt(
                        "INSERT INTO webhook_events (source, event_id, event_type, received_at_ms, headers, body, updated_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $6, $4)
                         ON CONFLICT (source, event_id) DO NOTHING RETURNING seq",
                        &[
                            &event.source,
                            &event.event_id,
                            &event.event_type,
                            &event.received_at_ms,
                            &event.headers,
                            &event.body,
                        ],
                    )
                    .await
                    .map_err(&fail)?;
                if let Some(row) = inserted {
                    return Ok(Inserted::New(row.try_get(0).map_err(&fail)?));
                }
                // The row that won: its commit came before our conflict was decided, so this
                // statement's snapshot sees it.
                let row = client
                    .query_one(
                        "SELECT seq FROM webhook_events WHERE source = $1 AND event_id = $2",
                        &[&event.source, &event.event_id],
                    )
                    .await
                    .map_err(&fail)?;
                Ok(Inserted::Duplicate(row.try_get(0).map_err(&fail)?))
            }
            (Store::Sqlite(_), None) => Err(Error::Store("the SQLite writer is missing".into())),
        }
    }

    /// Stored events in sequence order.
    pub async fn list(&self, query: &EventQuery) -> Result<Vec<StoredEvent>, Error> {
        let after = query.after.unwrap_or(0);
        let limit = i64::from(query.limit.unwrap_or(1000));
        let state = query.state.map(DeliveryState::as_str);
        let event_type = query.event_type.clone();
        match &self.store {
            Store::Sqlite(db) => {
                db.read(move |conn| {
                    let mut statement = conn.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM webhook_events WHERE seq > ?1
                         AND (?2 IS NULL OR event_type = ?2) AND (?3 IS NULL OR state = ?3)
                         ORDER BY seq LIMIT ?4"
                    ))?;
                    let rows = statement.query_map(
                        rusqlite::params![after, event_type, state, limit],
                        sqlite_row,
                    )?;
                    rows.collect()
                })
                .await
            }
            Store::Postgres(db) => {
                let client = db.client().await?;
                let rows = client
                    .query(
                        &format!(
                            "SELECT {COLUMNS} FROM webhook_events WHERE seq > $1
                             AND ($2::TEXT IS NULL OR event_type = $2) AND ($3::TEXT IS NULL OR state = $3)
                             ORDER BY seq LIMIT $4"
                        ),
                        &[&after, &event_type, &state, &limit],
                    )
                    .await
                    .map_err(pg_fail(db, "reading events"))?;
                rows.iter()
                    .map(postgres_row)
                    .collect::<Result<_, _>>()
                    .map_err(pg_fail(db, "reading events"))
            }
        }
    }

    /// The pending event with the lowest sequence number (of `event_type` only, when given):
    /// the next to deliver, in the order events were stored.
    pub async fn next_pending(
        &self,
        event_type: Option<&str>,
    ) -> Result<Option<StoredEvent>, Error> {
        let query = EventQuery {
            state: Some(DeliveryState::Pending),
            event_type: event_type.map(str::to_owned),
            limit: Some(1),
            after: None,
        };
        Ok(self.list(&query).await?.into_iter().next())
    }

    /// Records one delivery attempt of the event `seq`: done, or failed (and dead when it was
    /// the last attempt). A done or dead event is never delivered again.
    pub async fn record_attempt(&self, seq: i64, attempt: &Attempt) -> Result<(), Error> {
        let (state, error) = match attempt {
            Attempt::Done => (DeliveryState::Done, None),
            Attempt::Failed { error, dead } => (
                if *dead {
                    DeliveryState::Dead
                } else {
                    DeliveryState::Pending
                },
                Some(error.clone()),
            ),
        };
        let state = state.as_str();
        let now = crate::now_ms();
        match &self.store {
            Store::Sqlite(db) => {
                db.write(move |tx| {
                    tx.execute(
                        "UPDATE webhook_events SET state = ?2, attempts = attempts + 1,
                         last_error = COALESCE(?3, last_error), updated_at_ms = ?4 WHERE seq = ?1",
                        rusqlite::params![seq, state, error, now],
                    )
                    .map(drop)
                })
                .await
            }
            Store::Postgres(db) => {
                let client = db.client().await?;
                client
                    .execute(
                        "UPDATE webhook_events SET state = $2, attempts = attempts + 1,
                         last_error = COALESCE($3, last_error), updated_at_ms = $4 WHERE seq = $1",
                        &[&seq, &state, &error, &now],
                    )
                    .await
                    .map_err(pg_fail(db, "recording a delivery"))
                    .map(drop)
            }
        }
    }

    /// How many events are in each delivery state.
    pub async fn counts(&self) -> Result<Counts, Error> {
        let rows: Vec<(String, i64)> = match &self.store {
            Store::Sqlite(db) => {
                db.read(|conn| {
                    let mut statement = conn.prepare_cached(
                        "SELECT state, COUNT(*) FROM webhook_events GROUP BY state",
                    )?;
                    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
                    rows.collect()
                })
                .await?
            }
            Store::Postgres(db) => {
                let client = db.client().await?;
                client
                    .query(
                        "SELECT state, COUNT(*) FROM webhook_events GROUP BY state",
                        &[],
                    )
                    .await
                    .map_err(pg_fail(db, "counting events"))?
                    .iter()
                    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                    .collect::<Result<_, tokio_postgres::Error>>()
                    .map_err(pg_fail(db, "counting events"))?
            }
        };
        let mut counts = Counts::default();
        for (state, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match DeliveryState::parse(&state) {
                DeliveryState::Pending => counts.pending += n,
                DeliveryState::Done => counts.done += n,
                DeliveryState::Dead => counts.dead += n,
            }
        }
        Ok(counts)
    }
}

/// SQLite's writer: takes the inserts waiting, commits them in one transaction, answers each.
async fn write_batches(db: Sqlite, mut queue: mpsc::Receiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (events, replies): (Vec<NewEvent>, Vec<_>) = batch.into_iter().unzip();
        let outcome = db.write(move |tx| insert_all(tx, &events)).await;
        match outcome {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    // A receiver that gave up waiting (its client went away) needs no answer.
                    let _ = reply.send(Ok(result));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "storing a batch of events failed; none of it was stored");
                for reply in replies {
                    let _ = reply.send(Err(err.to_string()));
                }
            }
        }
    }
}

/// Inserts each event unless stored already; one duplicate within the batch finds the first.
fn insert_all(
    tx: &rusqlite::Transaction<'_>,
    events: &[NewEvent],
) -> rusqlite::Result<Vec<Inserted>> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO webhook_events (source, event_id, event_type, received_at_ms, headers, body, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4) ON CONFLICT (source, event_id) DO NOTHING RETURNING seq",
    )?;
    let mut existing =
        tx.prepare_cached("SELECT seq FROM webhook_events WHERE source = ?1 AND event_id = ?2")?;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let new: Option<i64> = insert
            .query_row(
                rusqlite::params![
                    e.source,
                    e.event_id,
                    e.event_type,
                    e.received_at_ms,
                    e.headers,
                    e.body
                ],
                |row| row.get(0),
            )
            .optional()?;
        out.push(match new {
            Some(seq) => Inserted::New(seq),
            None => Inserted::Duplicate(
                existing.query_row(rusqlite::params![e.source, e.event_id], |row| row.get(0))?,
            ),
        });
    }
    Ok(out)
}

fn sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    let headers: String = row.get(5)?;
    let state: String = row.get(7)?;
    Ok(StoredEvent::from_columns(
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        &headers,
        row.get(6)?,
        &state,
        row.get(8)?,
        row.get(9)?,
    ))
}

fn postgres_row(row: &tokio_postgres::Row) -> Result<StoredEvent, tokio_postgres::Error> {
    let headers: String = row.try_get(5)?;
    let state: String = row.try_get(7)?;
    let attempts: i32 = row.try_get(8)?;
    Ok(StoredEvent::from_columns(
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        &headers,
        row.try_get(6)?,
        &state,
        i64::from(attempts),
        row.try_get(9)?,
    ))
}

fn pg_fail<'a>(
    db: &'a crate::store::Postgres,
    action: &'static str,
) -> impl Fn(tokio_postgres::Error) -> Error + 'a {
    move |err| Error::Postgres {
        action,
        store: db.label(),
        message: crate::error::postgres_message(&err),
    }
}
