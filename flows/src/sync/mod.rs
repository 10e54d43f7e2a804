//! Data sync: keep one connection's entity in step with another connection's entity, or with
//! a database table, on a schedule or on change, losing and duplicating nothing.
//!
//! A sync is defined in a file ([`Definition`], documented in `docs/sync.md`), checked against
//! the connectors' catalogues before anything is read, and run by [`Sync::run`]: source pages
//! are read lazily, each record mapped ([`mapping`], jq in a sandbox: [`jq`]), validated against
//! the destination's input schema, and created, updated or skipped by content hash; the id map,
//! counts and resume point are checkpointed after every page in one transaction ([`state`]),
//! under a lease that keeps the sync in one worker at a time ([`lease`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), connector_flows::Error> {
//! # #[cfg(feature = "specs")] {
//! use connector_flows::sync::Sync;
//!
//! let sync = Sync::from_file("orders-to-crm.toml").await?;
//! let report = sync.run().await?;
//! println!("{} created, {} updated, {} unchanged", report.counts.created, report.counts.updated, report.counts.unchanged);
//! # }
//! # Ok(()) }
//! ```
//!
//! A typed connector drives it with its own connections: [`Sync::new`] takes the definition
//! (whose `connector` keys may then be left out) and the connections.

pub mod definition;
mod endpoint;
pub mod jq;
pub mod lease;
pub mod mapping;
#[cfg(feature = "specs")]
mod resolve;
mod run;
pub mod schedule;
mod sql;
pub mod state;
pub mod table;
mod watch;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use connector_runtime::Connection;
use serde::Serialize;
use serde_json::Value;

pub use definition::{Definition, DeleteMode, DestinationDef};
pub use run::{content_hash, idempotency_key, Observer, Quiet, Report, RunOptions};
pub use state::{Counts, Quarantined, RunRow};
pub use watch::watch;

use endpoint::{ApiDestination, Destination, Source};
use mapping::Mapping;
use state::{Run, State};

use crate::error::Error;
use crate::store::Store;

/// A sync, checked and ready to run.
#[derive(Debug)]
pub struct Sync {
    def: Definition,
    source: Source,
    destination: Destination,
    mapping: Mapping,
    state: State,
    worker: String,
}

/// A sync's state as `connector-gen sync status` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The sync.
    pub sync: String,
    /// The state store (without a password).
    pub store: String,
    /// Its size in bytes (the SQLite file, or the sync tables on Postgres).
    pub store_bytes: Option<u64>,
    /// The cursor of the next incremental run.
    pub cursor: Option<Value>,
    /// Source records in the id map.
    pub records: i64,
    /// The last runs, newest first.
    pub runs: Vec<RunRow>,
    /// The records in quarantine, with their problems.
    pub quarantined: Vec<Quarantined>,
}

/// A lease held for one run: the hold its writes check, and the heartbeat renewing it.
struct Holding {
    hold: Arc<lease::Hold>,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Sync {
    /// Reads the sync file at `path`, lowers the specs or manifests it names, reads their
    /// connection files and checks everything against the catalogues; every problem is
    /// reported at once, naming its key.
    #[cfg(feature = "specs")]
    pub async fn from_file(path: impl AsRef<std::path::Path>) -> Result<Sync, Error> {
        let def = Definition::from_file(path)?;
        let mut problems = Vec::new();
        let source = resolve::connection(&def.source.endpoint, "source")
            .map_err(|p| problems.push(p))
            .ok();
        let destination = match &def.destination {
            DestinationDef::Api { endpoint, .. } => resolve::connection(endpoint, "destination")
                .map_err(|p| problems.push(p))
                .ok(),
            DestinationDef::Table { .. } => None,
        };
        match source {
            Some(source) if problems.is_empty() => Sync::new(def, source, destination).await,
            _ => Err(Error::SyncFile {
                file: def.file.display().to_string(),
                problems,
            }),
        }
    }

    /// The sync `def` between `source` and `destination` (`None` for a table destination):
    /// checked against their catalogues, its mapping compiled and its state store opened.
    pub async fn new(
        def: Definition,
        source: Connection,
        destination: Option<Connection>,
    ) -> Result<Sync, Error> {
        let mut problems = Vec::new();
        let checked_source = Source::check(&def, source, &mut problems);
        let api = match (&def.destination, destination) {
            (DestinationDef::Api { .. }, Some(connection)) => {
                ApiDestination::check(&def, connection, &mut problems)
            }
            (DestinationDef::Api { .. }, None) => {
                problems.push("destination: an entity destination needs its connection".into());
                None
            }
            (DestinationDef::Table { .. }, _) => None,
        };
        let mapping = match Mapping::compile(def.mapping.as_ref()) {
            Ok(mapping) => Some(mapping),
            Err(errors) => {
                problems.extend(errors.into_iter().map(|e| format!("mapping.jq: {e}")));
                None
            }
        };
        let fail = |problems: Vec<String>| Error::SyncFile {
            file: def.file.display().to_string(),
            problems,
        };
        let (Some(source), Some(mapping), true) = (checked_source, mapping, problems.is_empty())
        else {
            return Err(fail(problems));
        };
        let destination = match (&def.destination, api) {
            (_, Some(api)) => Destination::Api(Box::new(api)),
            (
                DestinationDef::Table {
                    database,
                    table,
                    key,
                },
                None,
            ) => {
                let key = key.clone().unwrap_or_else(|| source.key.clone());
                Destination::Table(table::Table::open(database, table, &key).await?)
            }
            (DestinationDef::Api { .. }, None) => {
                return Err(fail(vec!["destination: unresolved".into()]))
            }
        };
        let state = State::open(Store::open(&def.state.store).await?, &def.name).await?;
        Ok(Sync {
            def,
            source,
            destination,
            mapping,
            state,
            worker: lease::worker_id(),
        })
    }

    /// The definition.
    pub fn definition(&self) -> &Definition {
        &self.def
    }

    /// This process's worker id (leases name it).
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Whether creates can be repeated safely: a table (upserts), `match`, or idempotency
    /// keys. Without any, a run killed between a create and its checkpoint can create a record
    /// twice; `connector-gen sync` warns about it.
    pub fn creates_are_idempotent(&self) -> bool {
        match &self.destination {
            Destination::Table(_) => true,
            Destination::Api(api) => api.matching.is_some() || api.idempotency.is_some(),
        }
    }

    /// Runs once (resuming an interrupted run), as `connector-gen sync FILE` does.
    pub async fn run(&self) -> Result<Report, Error> {
        self.run_with(RunOptions::default(), &Quiet).await
    }

    /// The table row key of a mapped record: its key field, else the source key.
    fn row_key(&self, mapped: &Value, source_key: &str) -> Value {
        if let Destination::Table(table) = &self.destination {
            if let Some(key) = mapped.get(table.key()).filter(|k| !k.is_null()) {
                return key.clone();
            }
        }
        serde_json::from_str(source_key).unwrap_or(Value::String(source_key.to_owned()))
    }

    /// Every problem `mapped` has for the destination.
    fn validate(&self, mapped: &Value, update: Option<&str>) -> Result<(), Vec<String>> {
        match &self.destination {
            Destination::Api(api) => api.validate(mapped, update),
            Destination::Table(_) => {
                let problems: Vec<String> = mapped
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.keys())
                    .filter_map(|k| table::column_name_problem(k))
                    .collect();
                if problems.is_empty() {
                    Ok(())
                } else {
                    Err(problems)
                }
            }
        }
    }

    /// Runs once with `options`, telling `observer` of its progress. Fails with
    /// [`Error::Busy`] when another worker holds the sync's lease.
    pub async fn run_with(
        &self,
        options: RunOptions,
        observer: &dyn Observer,
    ) -> Result<Report, Error> {
        let started = Instant::now();
        let quarantined: HashSet<String> = self
            .state
            .quarantined()
            .await?
            .into_iter()
            .map(|q| q.source_key)
            .collect();
        if options.dry_run {
            let since = self.state.cursor().await?;
            let run = Run {
                id: 0,
                full: options.full || self.source.incremental.is_none() || since.is_none(),
                resume: None,
                since,
                max_cursor: None,
                counts: Counts::default(),
                resumed: false,
                started_ms: crate::now_ms(),
            };
            let mut runner = run::Runner {
                sync: self,
                run,
                worker: self.worker.clone(),
                options,
                observer,
                lease: Arc::new(lease::Hold::unlimited()),
                started,
                quarantined,
            };
            runner.retry_quarantined().await?;
            runner.scan().await?;
            return Ok(self.report(&runner.run, started, None, None).await);
        }
        let store = self.state.store().clone();
        let asked = Instant::now();
        match lease::acquire(&store, &self.def.name, &self.worker, self.def.state.lease).await? {
            lease::Acquired::Taken => {}
            lease::Acquired::Held { worker, expires_ms } => {
                return Err(Error::Busy {
                    sync: self.def.name.clone(),
                    worker,
                    expires_ms,
                })
            }
        }
        let holding = self.hold(asked);
        let outcome = self
            .run_leased(options, observer, &holding.hold, started, quarantined)
            .await;
        self.give_back(holding).await;
        outcome
    }

    /// Holds the lease taken by a request sent at `asked`, renewing it until
    /// [`Sync::give_back`].
    fn hold(&self, asked: Instant) -> Holding {
        let hold = Arc::new(lease::Hold::taken(asked, self.def.state.lease));
        let heartbeat = self.heartbeat(Arc::clone(&hold));
        Holding { hold, heartbeat }
    }

    /// Stops renewing the lease and gives it back, unless another worker has it now: giving
    /// it back would free it under them.
    async fn give_back(&self, holding: Holding) {
        holding.heartbeat.abort();
        if holding.hold.is_lost() {
            return;
        }
        let store = self.state.store();
        if let Err(err) = lease::release(store, &self.def.name, &self.worker).await {
            tracing::warn!(sync = %self.def.name, error = %err, "giving the lease back failed; it expires by itself");
        }
    }

    /// Renews the lease every third of its time while a run goes on, extending `hold`; loses
    /// it when another worker has the lease.
    fn heartbeat(&self, hold: Arc<lease::Hold>) -> tokio::task::JoinHandle<()> {
        let store = self.state.store().clone();
        let (sync, worker, lease) = (
            self.def.name.clone(),
            self.worker.clone(),
            self.def.state.lease,
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let sent = Instant::now();
                match lease::renew(&store, &sync, &worker, lease).await {
                    Ok(true) => hold.renewed(sent),
                    Ok(false) => {
                        hold.lose();
                        return;
                    }
                    Err(err) => {
                        tracing::warn!(sync = %sync, error = %err, "renewing the lease failed; trying again")
                    }
                }
            }
        })
    }

    async fn run_leased(
        &self,
        options: RunOptions,
        observer: &dyn Observer,
        lease: &Arc<lease::Hold>,
        started: Instant,
        quarantined: HashSet<String>,
    ) -> Result<Report, Error> {
        let run = self
            .state
            .begin(
                &self.worker,
                options.full,
                self.source.incremental.is_some(),
            )
            .await?;
        let mut runner = run::Runner {
            sync: self,
            run,
            worker: self.worker.clone(),
            options,
            observer,
            lease: Arc::clone(lease),
            started,
            quarantined,
        };
        let outcome = async {
            runner.retry_quarantined().await?;
            runner.scan().await?;
            runner.deletes().await
        }
        .await;
        match outcome {
            Ok(skipped) => {
                self.state.finish(&self.worker, &runner.run, None).await?;
                observer.progress(&runner.run.counts, started.elapsed());
                let cursor = self.state.cursor().await?;
                Ok(self.report(&runner.run, started, cursor, skipped).await)
            }
            Err(err) => {
                if !matches!(err, Error::LeaseLost(_)) {
                    let _ = self
                        .state
                        .finish(&self.worker, &runner.run, Some(&err.to_string()))
                        .await;
                }
                Err(err)
            }
        }
    }

    async fn report(
        &self,
        run: &Run,
        started: Instant,
        cursor: Option<Value>,
        skipped: Option<String>,
    ) -> Report {
        let in_quarantine = self.state.quarantined().await.map_or(0, |q| q.len() as u64);
        Report {
            sync: self.def.name.clone(),
            run: run.id,
            full: run.full,
            resumed: run.resumed,
            counts: run.counts,
            in_quarantine,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            cursor,
            deletes_skipped: skipped,
        }
    }

    /// The sync's state; needs only the definition (no connector, no API).
    pub async fn status(def: &Definition, runs: i64) -> Result<Status, Error> {
        let store = Store::open(&def.state.store).await?;
        let state = State::open(store.clone(), &def.name).await?;
        Ok(Status {
            sync: def.name.clone(),
            store: store.label(),
            store_bytes: store_bytes(&store).await,
            cursor: state.cursor().await?,
            records: state.records().await?,
            runs: state.runs(runs).await?,
            quarantined: state.quarantined().await?,
        })
    }
}

/// The store's size: the SQLite file with its WAL, or the sync tables on Postgres.
async fn store_bytes(store: &Store) -> Option<u64> {
    match store {
        Store::Sqlite(db) => {
            let path = db.path();
            let main = std::fs::metadata(path).ok()?.len();
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            let wal = std::fs::metadata(std::path::PathBuf::from(wal)).map_or(0, |m| m.len());
            Some(main + wal)
        }
        Store::Postgres(db) => {
            let client = db.client().await.ok()?;
            let row = client
                .query_one(
                    "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c
                     WHERE c.relname IN ('sync_state', 'sync_records', 'sync_quarantine', 'sync_runs', 'sync_leases')
                     AND c.relnamespace = current_schema()::regnamespace",
                    &[],
                )
                .await
                .ok()?;
            row.try_get::<_, i64>(0)
                .ok()
                .and_then(|n| u64::try_from(n).ok())
        }
    }
}
