//! Leases: a sync runs in one worker at a time. A worker takes the sync's lease row for a
//! while (Postgres: `SELECT … FOR UPDATE SKIP LOCKED`, so a worker never waits on another's
//! lock; SQLite: its one write transaction at a time), renews it while it runs, and gives it
//! back at the end. A worker that dies stops renewing; once its lease has expired another
//! takes it over and resumes the run where the dead one checkpointed it. Expiry is read from
//! the store's clock on Postgres, so workers on machines with different clocks agree.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::store::Store;

/// What [`acquire`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// The lease is this worker's until it expires.
    Taken,
    /// Another worker holds it (until `expires_ms`, on the store's clock).
    Held {
        /// The holder.
        worker: String,
        /// When its lease expires.
        expires_ms: i64,
    },
}

/// A worker id: the process id and a random part, so that a restarted process on the same
/// machine is another worker.
pub fn worker_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{:08x}", std::process::id(), nanos ^ 0x5bd1_e995)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

const PG_NOW: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// Takes the lease of `sync` for `worker` for `lease`, unless another worker holds it and it
/// has not expired.
pub async fn acquire(
    store: &Store,
    sync: &str,
    worker: &str,
    lease: Duration,
) -> Result<Acquired, Error> {
    let lease = ms(lease);
    match store {
        Store::Sqlite(db) => {
            let (sync, worker) = (sync.to_owned(), worker.to_owned());
            db.write(move |tx| {
                let now = crate::now_ms();
                tx.execute(
                    "INSERT INTO sync_leases (sync, worker, expires_ms) VALUES (?1, '', 0) ON CONFLICT (sync) DO NOTHING",
                    [&sync],
                )?;
                let (holder, expires): (String, i64) = tx.query_row(
                    "SELECT worker, expires_ms FROM sync_leases WHERE sync = ?1",
                    [&sync],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )?;
                if holder != worker && expires > now {
                    return Ok(Acquired::Held { worker: holder, expires_ms: expires });
                }
                tx.execute(
                    "UPDATE sync_leases SET worker = ?2, expires_ms = ?3 WHERE sync = ?1",
                    rusqlite::params![sync, worker, now + lease],
                )?;
                Ok(Acquired::Taken)
            })
            .await
        }
        Store::Postgres(db) => {
            let fail = |err: tokio_postgres::Error| Error::Postgres {
                action: "taking a sync lease",
                store: db.label(),
                message: crate::error::postgres_message(&err),
            };
            let mut client = db.client().await?;
            client
                .execute(
                    "INSERT INTO sync_leases (sync, worker, expires_ms) VALUES ($1, '', 0) ON CONFLICT (sync) DO NOTHING",
                    &[&sync],
                )
                .await
                .map_err(fail)?;
            let tx = client.transaction().await.map_err(fail)?;
            let row = tx
                .query_opt(
                    &format!("SELECT worker, expires_ms, {PG_NOW} FROM sync_leases WHERE sync = $1 FOR UPDATE SKIP LOCKED"),
                    &[&sync],
                )
                .await
                .map_err(fail)?;
            let Some(row) = row else {
                // Another worker is taking or renewing it right now.
                tx.rollback().await.map_err(fail)?;
                return Ok(Acquired::Held {
                    worker: "(another worker)".into(),
                    expires_ms: 0,
                });
            };
            let holder: String = row.try_get(0).map_err(fail)?;
            let expires: i64 = row.try_get(1).map_err(fail)?;
            let now: i64 = row.try_get(2).map_err(fail)?;
            if holder != worker && expires > now {
                tx.rollback().await.map_err(fail)?;
                return Ok(Acquired::Held {
                    worker: holder,
                    expires_ms: expires,
                });
            }
            tx.execute(
                "UPDATE sync_leases SET worker = $2, expires_ms = $3 WHERE sync = $1",
                &[&sync, &worker, &(now + lease)],
            )
            .await
            .map_err(fail)?;
            tx.commit().await.map_err(fail)?;
            Ok(Acquired::Taken)
        }
    }
}

/// Extends `worker`'s lease by `lease` from now; `false` when it is no longer its lease.
pub async fn renew(
    store: &Store,
    sync: &str,
    worker: &str,
    lease: Duration,
) -> Result<bool, Error> {
    let lease = ms(lease);
    match store {
        Store::Sqlite(db) => {
            let (sync, worker) = (sync.to_owned(), worker.to_owned());
            db.write(move |tx| {
                tx.execute(
                    "UPDATE sync_leases SET expires_ms = ?3 WHERE sync = ?1 AND worker = ?2",
                    rusqlite::params![sync, worker, crate::now_ms() + lease],
                )
                .map(|n| n == 1)
            })
            .await
        }
        Store::Postgres(db) => {
            let client = db.client().await?;
            let n = client
                .execute(
                    &format!("UPDATE sync_leases SET expires_ms = {PG_NOW} + $3 WHERE sync = $1 AND worker = $2"),
                    &[&sync, &worker, &lease],
                )
                .await
                .map_err(|err| Error::Postgres {
                    action: "renewing a sync lease",
                    store: db.label(),
                    message: crate::error::postgres_message(&err),
                })?;
            Ok(n == 1)
        }
    }
}

/// Gives the lease back (when it is still `worker`'s), so another worker need not wait for
/// it to expire.
pub async fn release(store: &Store, sync: &str, worker: &str) -> Result<(), Error> {
    match store {
        Store::Sqlite(db) => {
            let (sync, worker) = (sync.to_owned(), worker.to_owned());
            db.write(move |tx| {
                tx.execute(
                    "UPDATE sync_leases SET worker = '', expires_ms = 0 WHERE sync = ?1 AND worker = ?2",
                    [&sync, &worker],
                )
                .map(drop)
            })
            .await
        }
        Store::Postgres(db) => {
            let client = db.client().await?;
            client
                .execute(
                    "UPDATE sync_leases SET worker = '', expires_ms = 0 WHERE sync = $1 AND worker = $2",
                    &[&sync, &worker],
                )
                .await
                .map_err(|err| Error::Postgres {
                    action: "releasing a sync lease",
                    store: db.label(),
                    message: crate::error::postgres_message(&err),
                })
                .map(drop)
        }
    }
}

/// A worker's hold on a sync's lease while it writes. Writing stops when another worker has
/// taken the lease, and also when the lease may be running out because no renewal has
/// succeeded in time: a worker slowed down past its lease (a loaded machine, a slow store)
/// must not go on writing beside the worker that took the sync over.
#[derive(Debug)]
pub struct Hold {
    origin: Instant,
    lease: Duration,
    /// Until when the lease is surely this worker's, in milliseconds since `origin`: when the
    /// last successful request was sent, plus the lease (the store counts from its receipt,
    /// which is later).
    until_ms: AtomicU64,
    lost: AtomicBool,
}

impl Hold {
    /// The hold of a lease taken (or renewed) by a request sent at `sent`.
    pub fn taken(sent: Instant, lease: Duration) -> Self {
        Self {
            origin: sent,
            lease,
            until_ms: AtomicU64::new(millis(lease)),
            lost: AtomicBool::new(false),
        }
    }

    /// A hold that never runs out, for a run that takes no lease (a dry run).
    pub fn unlimited() -> Self {
        Self {
            origin: Instant::now(),
            lease: Duration::ZERO,
            until_ms: AtomicU64::new(u64::MAX),
            lost: AtomicBool::new(false),
        }
    }

    /// A renewal sent at `sent` succeeded.
    pub fn renewed(&self, sent: Instant) {
        let until = millis(sent.saturating_duration_since(self.origin) + self.lease);
        self.until_ms.fetch_max(until, Ordering::Relaxed);
    }

    /// Another worker has the lease.
    pub fn lose(&self) {
        self.lost.store(true, Ordering::Relaxed);
    }

    /// Whether another worker has the lease.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Where the hold stands now (see [`Standing`]).
    pub fn standing(&self) -> Standing {
        self.standing_at(Instant::now())
    }

    fn standing_at(&self, now: Instant) -> Standing {
        let elapsed = now.saturating_duration_since(self.origin);
        let until = self.until_ms.load(Ordering::Relaxed);
        if self.is_lost() || millis(elapsed) >= until {
            Standing::Gone
        } else if millis(elapsed + self.lease / 3) <= until {
            Standing::Writable
        } else {
            Standing::Renewing
        }
    }
}

/// `d` in whole milliseconds, as a [`Hold`] counts its time.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Where a [`Hold`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// At least a third of the lease is left: a write may start. Renewals come every third of
    /// the lease, so a worker whose renewals succeed always has more; the third left is the
    /// time a write in progress may still take.
    Writable,
    /// Less than a third is left and no renewal has succeeded yet: no write may start until one
    /// does.
    Renewing,
    /// Another worker has the lease, or it has run out: the run ends.
    Gone,
}

#[cfg(test)]
mod hold_tests {
    use super::*;

    #[test]
    fn a_hold_runs_out_unless_renewed_in_time() {
        let start = Instant::now();
        let lease = Duration::from_secs(3);
        let hold = Hold::taken(start, lease);
        let at = |ms| hold.standing_at(start + Duration::from_millis(ms));
        assert_eq!(at(0), Standing::Writable);
        assert_eq!(at(2_000), Standing::Writable);
        // Less than a third of the lease left: no new write starts until a renewal succeeds.
        assert_eq!(at(2_100), Standing::Renewing);
        assert_eq!(at(3_000), Standing::Gone);
        // A renewal sent at 1 s holds it until 4 s, so writing goes on until 3 s.
        hold.renewed(start + Duration::from_secs(1));
        assert_eq!(at(2_900), Standing::Writable);
        assert_eq!(at(3_100), Standing::Renewing);
        assert_eq!(at(4_000), Standing::Gone);
        // An older renewal that answers late never shortens it.
        hold.renewed(start + Duration::from_millis(500));
        assert_eq!(at(2_900), Standing::Writable);
        hold.lose();
        assert_eq!(at(0), Standing::Gone);
        assert!(hold.is_lost());
    }

    #[test]
    fn an_unlimited_hold_never_runs_out() {
        let hold = Hold::unlimited();
        assert_eq!(
            hold.standing_at(Instant::now() + Duration::from_secs(86_400 * 365)),
            Standing::Writable
        );
    }
}
