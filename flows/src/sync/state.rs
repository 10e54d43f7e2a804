//! A sync's state in its store: the id map (source key → destination key and the hash of what
//! was written), the cursor, the run in progress with its resume point, quarantined records,
//! and the runs' history. Every change of a page is one transaction, fenced by the lease: a
//! worker that lost its lease commits nothing more.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::sql::{self, Guard, Guarded, Kind, Stmt, P};
use crate::error::Error;
use crate::store::{Migration, Migrations, Store};

/// The sync tables' migrations (kept apart from the events' tables).
pub static MIGRATIONS: Migrations = Migrations {
    component: "sync",
    steps: &[Migration {
        version: 1,
        name: "sync state, id map, quarantine, runs and leases",
        sqlite: include_str!("../../migrations/sync/0001_sync.sqlite.sql"),
        postgres: include_str!("../../migrations/sync/0001_sync.postgres.sql"),
    }],
};

/// What a run did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Source records read.
    pub read: u64,
    /// Destination records created.
    pub created: u64,
    /// Destination records updated.
    pub updated: u64,
    /// Records whose mapped content had not changed: nothing written.
    pub unchanged: u64,
    /// Destination records deleted or marked deleted.
    pub deleted: u64,
    /// Records quarantined in this run.
    pub quarantined: u64,
    /// Records the mapping left out.
    pub filtered: u64,
    /// Source pages read.
    pub pages: u64,
}

/// The run in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Its number, per sync.
    pub id: i64,
    /// A full scan (else incremental, from `since`).
    pub full: bool,
    /// The input of the next page to read (`None`: from the first page).
    pub resume: Option<Map<String, Value>>,
    /// The cursor the run reads changes from (incremental runs).
    pub since: Option<Value>,
    /// The greatest cursor value read so far.
    pub max_cursor: Option<Value>,
    /// Its counts so far.
    pub counts: Counts,
    /// Whether it was started by an earlier process and is being resumed.
    pub resumed: bool,
    /// When it started, in milliseconds since the epoch.
    pub started_ms: i64,
}

/// A source record's row of the id map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its destination record's key (JSON text); `None` before it was created.
    pub dest_key: Option<String>,
    /// The hash of the mapped record last written.
    pub hash: Option<String>,
    /// Deleted (or marked) in the destination.
    pub deleted: bool,
    /// The idempotency key of a create that may have happened (written ahead of it).
    pub pending: Option<String>,
}

/// A quarantined record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quarantined {
    /// Its source key (JSON text).
    pub source_key: String,
    /// The source record as read.
    pub record: Value,
    /// Every problem, each starting with the JSON pointer of the value at fault when there is
    /// one.
    pub problems: Vec<String>,
    /// The run that quarantined it last.
    pub run: i64,
    /// How many runs tried it.
    pub attempts: i64,
}

/// One page's changes, committed together.
#[derive(Debug, Clone, Default)]
pub struct Checkpoint {
    /// Records written: source key, destination key, hash.
    pub written: Vec<(String, Option<String>, String)>,
    /// Source keys read by a full scan and left as they were.
    pub seen: Vec<String>,
    /// Source keys whose destination record was deleted (`hard`) or marked (`soft`).
    pub deleted: Vec<(String, bool)>,
    /// Records quarantined: source key, record, problems.
    pub quarantined: Vec<(String, Value, Vec<String>)>,
    /// Source keys leaving the quarantine (written or left out now).
    pub released: Vec<String>,
    /// The next page's input (`Some(None)`: the listing is done).
    pub resume: Option<Option<Map<String, Value>>>,
    /// The last event handled (on change).
    pub event_seq: Option<i64>,
}

/// One finished (or running) run, as `sync status` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    /// Its number.
    pub run: i64,
    /// Who ran it.
    pub worker: String,
    /// A full scan.
    pub full: bool,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Started, ms since the epoch.
    pub started_ms: i64,
    /// Finished, ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<i64>,
    /// Duration in milliseconds (so far, for a running run).
    pub duration_ms: i64,
    /// The counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// The cursor after the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Value>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A sync's state in a store.
#[derive(Debug, Clone)]
pub struct State {
    store: Store,
    sync: String,
}

impl State {
    /// The state of the sync `sync` in `store`, its tables migrated.
    pub async fn open(store: Store, sync: &str) -> Result<State, Error> {
        store.migrate(&MIGRATIONS).await?;
        Ok(State {
            store,
            sync: sync.to_owned(),
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn sync(&self) -> P {
        P::text(&self.sync)
    }

    /// The fence: the lease row must name `worker`.
    pub(crate) fn guard(&self, worker: &str) -> Guard {
        let sql = match self.store {
            Store::Sqlite(_) => "SELECT worker FROM sync_leases WHERE sync = ?1",
            Store::Postgres(_) => "SELECT worker FROM sync_leases WHERE sync = ?1 FOR UPDATE",
        };
        Guard {
            stmt: Stmt::new(sql, vec![self.sync()]),
            expected: worker.to_owned(),
        }
    }

    async fn apply(&self, worker: &str, stmts: Vec<Stmt>) -> Result<(), Error> {
        match sql::batch(&self.store, Some(self.guard(worker)), stmts).await? {
            Guarded::Applied => Ok(()),
            Guarded::Refused => Err(Error::LeaseLost(self.sync.clone())),
        }
    }

    /// The cursor of the next incremental run.
    pub async fn cursor(&self) -> Result<Option<Value>, Error> {
        let rows = sql::query(
            &self.store,
            Stmt::new(
                "SELECT cursor FROM sync_state WHERE sync = ?1",
                vec![self.sync()],
            ),
            &[Kind::Text],
        )
        .await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(P::into_text)
            .and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Resumes the run in progress, or starts one: a full scan when `full`, when the sync is
    /// not incremental, or when it has no cursor yet.
    pub async fn begin(&self, worker: &str, full: bool, incremental: bool) -> Result<Run, Error> {
        let rows = sql::query(
            &self.store,
            Stmt::new(
                "SELECT s.run_id, s.run_full, s.run_resume, s.run_cursor, s.cursor, r.counts, r.started_ms
                 FROM sync_state s LEFT JOIN sync_runs r ON r.sync = s.sync AND r.run_id = s.run_id
                 WHERE s.sync = ?1",
                vec![self.sync()],
            ),
            &[Kind::Int, Kind::Int, Kind::Text, Kind::Text, Kind::Text, Kind::Text, Kind::Int],
        )
        .await?;
        let json = |p: &P| {
            p.as_text()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
        };
        if let Some(row) = rows.first() {
            if let Some(id) = row[0].as_int() {
                return Ok(Run {
                    id,
                    full: row[1].as_int() == Some(1),
                    resume: json(&row[2]).and_then(|v| match v {
                        Value::Object(map) => Some(map),
                        _ => None,
                    }),
                    max_cursor: json(&row[3]),
                    since: json(&row[4]),
                    counts: row[5]
                        .as_text()
                        .and_then(|t| serde_json::from_str(t).ok())
                        .unwrap_or_default(),
                    resumed: true,
                    started_ms: row[6].as_int().unwrap_or_else(crate::now_ms),
                });
            }
        }
        let since = rows.first().and_then(|row| json(&row[4]));
        let full = full || !incremental || since.is_none();
        let last = sql::query(
            &self.store,
            Stmt::new(
                "SELECT COALESCE(MAX(run_id), 0) FROM sync_runs WHERE sync = ?1",
                vec![self.sync()],
            ),
            &[Kind::Int],
        )
        .await?;
        let id = last
            .first()
            .and_then(|r| r[0].as_int())
            .unwrap_or(0)
            .saturating_add(1);
        let now = crate::now_ms();
        let counts = serde_json::to_string(&Counts::default()).unwrap_or_default();
        self.apply(
            worker,
            vec![
                Stmt::new(
                    "INSERT INTO sync_runs (sync, run_id, worker, full_scan, started_ms, status, counts)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)",
                    vec![self.sync(), P::int(id), P::text(worker), P::int(i64::from(full)), P::int(now), P::text(counts)],
                ),
                Stmt::new(
                    "INSERT INTO sync_state (sync, run_id, run_full) VALUES (?1, ?2, ?3)
                     ON CONFLICT (sync) DO UPDATE SET run_id = excluded.run_id, run_full = excluded.run_full,
                     run_resume = NULL, run_cursor = NULL",
                    vec![self.sync(), P::int(id), P::int(i64::from(full))],
                ),
            ],
        )
        .await?;
        Ok(Run {
            id,
            full,
            resume: None,
            since,
            max_cursor: None,
            counts: Counts::default(),
            resumed: false,
            started_ms: now,
        })
    }

    /// The id map's rows of `keys`.
    pub async fn lookup(&self, keys: &[String]) -> Result<HashMap<String, Entry>, Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(500) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("?{}", i + 2)).collect();
            let mut params = vec![self.sync()];
            params.extend(chunk.iter().map(P::text));
            let rows = sql::query(
                &self.store,
                Stmt::new(
                    format!(
                        "SELECT source_key, dest_key, hash, deleted, pending FROM sync_records
                         WHERE sync = ?1 AND source_key IN ({})",
                        placeholders.join(", ")
                    ),
                    params,
                ),
                &[Kind::Text, Kind::Text, Kind::Text, Kind::Int, Kind::Text],
            )
            .await?;
            for row in rows {
                let mut cells = row.into_iter();
                let mut next = || cells.next().unwrap_or(P::Text(None));
                let key = next().into_text().unwrap_or_default();
                let dest_key = next().into_text();
                let hash = next().into_text();
                let deleted = next().as_int() == Some(1);
                let pending = next().into_text();
                out.insert(
                    key,
                    Entry {
                        dest_key,
                        hash,
                        deleted,
                        pending,
                    },
                );
            }
        }
        Ok(out)
    }

    /// Writes ahead the creates about to be made (source key, idempotency key), so that a
    /// process killed between a create and its checkpoint finds them on resume.
    pub async fn intents(&self, worker: &str, intents: &[(String, String)]) -> Result<(), Error> {
        if intents.is_empty() {
            return Ok(());
        }
        let now = crate::now_ms();
        let stmts = intents
            .iter()
            .map(|(key, idem)| {
                Stmt::new(
                    "INSERT INTO sync_records (sync, source_key, pending, updated_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (sync, source_key) DO UPDATE SET pending = excluded.pending, updated_ms = excluded.updated_ms",
                    vec![self.sync(), P::text(key), P::text(idem), P::int(now)],
                )
            })
            .collect();
        self.apply(worker, stmts).await
    }

    /// Commits one page's changes with the run's counts, resume point and greatest cursor.
    pub async fn checkpoint(&self, worker: &str, run: &Run, cp: Checkpoint) -> Result<(), Error> {
        let now = crate::now_ms();
        let mut stmts = Vec::new();
        for (key, dest, hash) in cp.written {
            stmts.push(Stmt::new(
                "INSERT INTO sync_records (sync, source_key, dest_key, hash, seen_run, deleted, pending, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, NULL, ?6)
                 ON CONFLICT (sync, source_key) DO UPDATE SET dest_key = excluded.dest_key, hash = excluded.hash,
                 seen_run = excluded.seen_run, deleted = 0, pending = NULL, updated_ms = excluded.updated_ms",
                vec![self.sync(), P::text(key), P::Text(dest), P::text(hash), P::int(run.id), P::int(now)],
            ));
        }
        for key in cp.seen {
            stmts.push(Stmt::new(
                "UPDATE sync_records SET seen_run = ?3 WHERE sync = ?1 AND source_key = ?2",
                vec![self.sync(), P::text(key), P::int(run.id)],
            ));
        }
        for (key, hard) in cp.deleted {
            let sql = if hard {
                "UPDATE sync_records SET deleted = 1, dest_key = NULL, hash = NULL, pending = NULL, updated_ms = ?3 WHERE sync = ?1 AND source_key = ?2"
            } else {
                "UPDATE sync_records SET deleted = 1, updated_ms = ?3 WHERE sync = ?1 AND source_key = ?2"
            };
            stmts.push(Stmt::new(sql, vec![self.sync(), P::text(key), P::int(now)]));
        }
        for key in cp.released {
            stmts.push(Stmt::new(
                "DELETE FROM sync_quarantine WHERE sync = ?1 AND source_key = ?2",
                vec![self.sync(), P::text(key)],
            ));
        }
        for (key, record, problems) in cp.quarantined {
            stmts.push(Stmt::new(
                "INSERT INTO sync_quarantine (sync, source_key, record, problems, run_id, attempts, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
                 ON CONFLICT (sync, source_key) DO UPDATE SET record = excluded.record, problems = excluded.problems,
                 attempts = sync_quarantine.attempts + 1, run_id = excluded.run_id, at_ms = excluded.at_ms",
                vec![
                    self.sync(),
                    P::text(key),
                    P::text(record.to_string()),
                    P::text(serde_json::to_string(&problems).unwrap_or_default()),
                    P::int(run.id),
                    P::int(now),
                ],
            ));
        }
        if let Some(resume) = cp.resume {
            let resume = resume.map(|m| Value::Object(m).to_string());
            stmts.push(Stmt::new(
                "UPDATE sync_state SET run_resume = ?2 WHERE sync = ?1",
                vec![self.sync(), P::Text(resume)],
            ));
        }
        if let Some(seq) = cp.event_seq {
            stmts.push(Stmt::new(
                "INSERT INTO sync_state (sync, event_seq) VALUES (?1, ?2)
                 ON CONFLICT (sync) DO UPDATE SET event_seq = excluded.event_seq",
                vec![self.sync(), P::int(seq)],
            ));
        }
        if run.id > 0 {
            stmts.push(Stmt::new(
                "UPDATE sync_state SET run_cursor = ?2 WHERE sync = ?1",
                vec![
                    self.sync(),
                    P::Text(run.max_cursor.as_ref().map(Value::to_string)),
                ],
            ));
            stmts.push(Stmt::new(
                "UPDATE sync_runs SET counts = ?3 WHERE sync = ?1 AND run_id = ?2",
                vec![
                    self.sync(),
                    P::int(run.id),
                    P::text(serde_json::to_string(&run.counts).unwrap_or_default()),
                ],
            ));
        }
        self.apply(worker, stmts).await
    }

    /// Source keys of destination records the full scan `run` did not see (their source
    /// record is gone), with their destination key.
    pub async fn unseen(&self, run: i64) -> Result<Vec<(String, Option<String>)>, Error> {
        let rows = sql::query(
            &self.store,
            Stmt::new(
                "SELECT source_key, dest_key FROM sync_records
                 WHERE sync = ?1 AND deleted = 0 AND (seen_run IS NULL OR seen_run < ?2)
                 ORDER BY source_key",
                vec![self.sync(), P::int(run)],
            ),
            &[Kind::Text, Kind::Text],
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                let dest = r.pop().and_then(P::into_text);
                let key = r.pop().and_then(P::into_text).unwrap_or_default();
                (key, dest)
            })
            .collect())
    }

    /// The quarantined records.
    pub async fn quarantined(&self) -> Result<Vec<Quarantined>, Error> {
        let rows = sql::query(
            &self.store,
            Stmt::new(
                "SELECT source_key, record, problems, run_id, attempts FROM sync_quarantine
                 WHERE sync = ?1 ORDER BY source_key",
                vec![self.sync()],
            ),
            &[Kind::Text, Kind::Text, Kind::Text, Kind::Int, Kind::Int],
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Quarantined {
                source_key: r[0].as_text().unwrap_or_default().to_owned(),
                record: r[1]
                    .as_text()
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or(Value::Null),
                problems: r[2]
                    .as_text()
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or_default(),
                run: r[3].as_int().unwrap_or(0),
                attempts: r[4].as_int().unwrap_or(0),
            })
            .collect())
    }

    /// Ends `run`: the cursor of the next incremental run becomes the greatest one read (when
    /// `error` is `None`), and the run is recorded as done or failed. A failed run stays the
    /// run in progress, so the next run resumes it.
    pub async fn finish(&self, worker: &str, run: &Run, error: Option<&str>) -> Result<(), Error> {
        let now = crate::now_ms();
        let counts = serde_json::to_string(&run.counts).unwrap_or_default();
        let mut stmts = Vec::new();
        match error {
            None => {
                let cursor = match (&run.max_cursor, &run.since) {
                    (Some(max), Some(since)) if super::run::cursor_before(max, since) => {
                        Some(since)
                    }
                    (Some(max), _) => Some(max),
                    (None, since) => since.as_ref(),
                };
                stmts.push(Stmt::new(
                    "UPDATE sync_state SET run_id = NULL, run_resume = NULL, run_cursor = NULL,
                     cursor = COALESCE(?2, cursor) WHERE sync = ?1",
                    vec![self.sync(), P::Text(cursor.map(Value::to_string))],
                ));
                stmts.push(Stmt::new(
                    "UPDATE sync_runs SET status = 'done', finished_ms = ?3, counts = ?4, cursor = ?5, error = NULL
                     WHERE sync = ?1 AND run_id = ?2",
                    vec![self.sync(), P::int(run.id), P::int(now), P::text(counts), P::Text(cursor.map(Value::to_string))],
                ));
            }
            Some(error) => stmts.push(Stmt::new(
                "UPDATE sync_runs SET status = 'failed', finished_ms = ?3, counts = ?4, error = ?5
                 WHERE sync = ?1 AND run_id = ?2",
                vec![
                    self.sync(),
                    P::int(run.id),
                    P::int(now),
                    P::text(counts),
                    P::text(error),
                ],
            )),
        }
        self.apply(worker, stmts).await
    }

    /// The last event handled on change.
    pub async fn event_seq(&self) -> Result<i64, Error> {
        let rows = sql::query(
            &self.store,
            Stmt::new(
                "SELECT event_seq FROM sync_state WHERE sync = ?1",
                vec![self.sync()],
            ),
            &[Kind::Int],
        )
        .await?;
        Ok(rows.first().and_then(|r| r[0].as_int()).unwrap_or(0))
    }

    /// The last `limit` runs, newest first.
    pub async fn runs(&self, limit: i64) -> Result<Vec<RunRow>, Error> {
        let rows = sql::query(
            &self.store,
            Stmt::new(
                "SELECT run_id, worker, full_scan, status, started_ms, finished_ms, counts, cursor, error
                 FROM sync_runs WHERE sync = ?1 ORDER BY run_id DESC LIMIT ?2",
                vec![self.sync(), P::int(limit)],
            ),
            &[Kind::Int, Kind::Text, Kind::Int, Kind::Text, Kind::Int, Kind::Int, Kind::Text, Kind::Text, Kind::Text],
        )
        .await?;
        let now = crate::now_ms();
        Ok(rows
            .into_iter()
            .map(|r| {
                let started = r[4].as_int().unwrap_or(0);
                let finished = r[5].as_int();
                RunRow {
                    run: r[0].as_int().unwrap_or(0),
                    worker: r[1].as_text().unwrap_or_default().to_owned(),
                    full: r[2].as_int() == Some(1),
                    status: r[3].as_text().unwrap_or_default().to_owned(),
                    started_ms: started,
                    finished_ms: finished,
                    duration_ms: finished.unwrap_or(now).saturating_sub(started),
                    counts: r[6]
                        .as_text()
                        .and_then(|t| serde_json::from_str(t).ok())
                        .unwrap_or_default(),
                    cursor: r[7].as_text().and_then(|t| serde_json::from_str(t).ok()),
                    error: r[8].as_text().map(str::to_owned),
                }
            })
            .collect())
    }

    /// How many source records the id map holds (deleted ones included).
    pub async fn records(&self) -> Result<i64, Error> {
        let rows = sql::query(
            &self.store,
            Stmt::new(
                "SELECT COUNT(*) FROM sync_records WHERE sync = ?1",
                vec![self.sync()],
            ),
            &[Kind::Int],
        )
        .await?;
        Ok(rows.first().and_then(|r| r[0].as_int()).unwrap_or(0))
    }
}
