//! Watching: syncs run on their schedule (`every`, `cron`) and, with `on_change`, for the
//! records named by events the webhook receiver stored, each under its lease, until a stop
//! signal. A worker that finds a sync's lease held skips it; one that finds an interrupted run
//! (its worker died) resumes it once the lease has expired.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::run::{Observer, Report, RunOptions, Runner};
use super::state::{Counts, Run};
use super::{lease, Sync};
use crate::error::Error;
use crate::events::{EventQuery, EventStore};
use crate::store::Store;

/// How often a watching worker looks at schedules and events.
const POLL: Duration = Duration::from_millis(200);

/// After a failed run, the wait before the next try (unless the schedule is longer).
const RETRY_AFTER_MS: i64 = 30_000;

/// Runs `syncs` on their schedules and on change until `stop` resolves; a run under way when
/// it does is dropped like a killed one (it resumes from its last checkpoint).
pub async fn watch(
    syncs: &[Sync],
    observer: &dyn Observer,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
    let mut stores: BTreeMap<String, EventStore> = BTreeMap::new();
    for sync in syncs {
        if let (true, Some(events)) = (sync.def.schedule.on_change, &sync.def.events) {
            if !stores.contains_key(&events.store) {
                let store = EventStore::open(Store::open(&events.store).await?).await?;
                stores.insert(events.store.clone(), store);
            }
        }
    }
    tokio::pin!(stop);
    loop {
        for sync in syncs {
            let work = async {
                if sync.due().await? {
                    match sync.run_with(RunOptions::default(), observer).await {
                        Ok(report) => observer.finished(&report),
                        Err(Error::Busy { .. }) => {}
                        Err(err) => observer.failed(&sync.def.name, &err),
                    }
                }
                let events = sync.def.events.as_ref().and_then(|e| stores.get(&e.store));
                if let (true, Some(events)) = (sync.def.schedule.on_change, events) {
                    match sync.changes(events, observer).await {
                        Ok(Some(report)) => observer.finished(&report),
                        Ok(None) | Err(Error::Busy { .. }) => {}
                        Err(err) => observer.failed(&sync.def.name, &err),
                    }
                }
                Ok::<(), Error>(())
            };
            tokio::select! {
                _ = &mut stop => return Ok(()),
                done = work => if let Err(err) = done { observer.failed(&sync.def.name, &err) },
            }
        }
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

impl Sync {
    /// Whether the schedule says the sync should run now: never run, a run to resume, or its
    /// time has come.
    async fn due(&self) -> Result<bool, Error> {
        let Some(last) = self.state.runs(1).await?.into_iter().next() else {
            return Ok(true);
        };
        let now = crate::now_ms();
        let every = self
            .def
            .schedule
            .every
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        match last.status.as_str() {
            "running" => return Ok(true),
            "failed" => {
                let wait = every.map_or(RETRY_AFTER_MS, |e| e.min(RETRY_AFTER_MS));
                return Ok(last.finished_ms.unwrap_or(0).saturating_add(wait) <= now);
            }
            _ => {}
        }
        if let Some(every) = every {
            return Ok(last.finished_ms.unwrap_or(0).saturating_add(every) <= now);
        }
        if let Some(cron) = &self.def.schedule.cron {
            return Ok(cron.next_after(last.started_ms).is_some_and(|at| at <= now));
        }
        Ok(false)
    }

    /// Handles the events stored since the last one handled: each names a source record,
    /// which is read again and written like any other (or deleted when the source has it no
    /// more). `None` when there was nothing to do.
    async fn changes(
        &self,
        events: &EventStore,
        observer: &dyn Observer,
    ) -> Result<Option<Report>, Error> {
        let Some(def) = &self.def.events else {
            return Ok(None);
        };
        let after = self.state.event_seq().await?;
        let query = |after: i64| EventQuery {
            after: Some(after),
            limit: Some(200),
            ..EventQuery::default()
        };
        if events.list(&query(after)).await?.is_empty() {
            return Ok(None);
        }
        let store = self.state.store().clone();
        let asked = std::time::Instant::now();
        match lease::acquire(&store, &self.def.name, &self.worker, self.def.state.lease).await? {
            lease::Acquired::Taken => {}
            lease::Acquired::Held { .. } => return Ok(None),
        }
        let holding = self.hold(asked);
        let outcome = async {
            // Read again under the lease: another worker may have handled them meanwhile.
            let after = self.state.event_seq().await?;
            let batch = events.list(&query(after)).await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                return Ok(None);
            };
            let mut keys: Vec<Value> = Vec::new();
            for event in &batch {
                let wanted_source = def.source.as_ref().is_none_or(|s| *s == event.source);
                let wanted_type = def.types.is_empty() || def.types.contains(&event.event_type);
                if !(wanted_source && wanted_type) {
                    continue;
                }
                match event.payload.pointer(&def.key) {
                    Some(key) if !key.is_null() => {
                        if !keys.contains(key) {
                            keys.push(key.clone());
                        }
                    }
                    _ => tracing::warn!(sync = %self.def.name, seq = event.seq, pointer = %def.key, "the event names no record at its key pointer; skipped"),
                }
            }
            let started = std::time::Instant::now();
            let mut records = Vec::new();
            let mut gone = Vec::new();
            for key in &keys {
                match self.source.get(key).await? {
                    Some(record) => records.push(record),
                    None => gone.push(key.to_string()),
                }
            }
            let quarantined = self.state.quarantined().await?.into_iter().map(|q| q.source_key).collect();
            let mut runner = Runner {
                sync: self,
                run: Run {
                    id: 0,
                    full: false,
                    resume: None,
                    since: None,
                    max_cursor: None,
                    counts: Counts::default(),
                    resumed: false,
                    started_ms: crate::now_ms(),
                },
                worker: self.worker.clone(),
                options: RunOptions::default(),
                observer,
                lease: std::sync::Arc::clone(&holding.hold),
                started,
                quarantined,
            };
            runner.page(records, gone, None, Some(last)).await?;
            Ok(Some(self.report(&runner.run, started, None, None).await))
        }
        .await;
        self.give_back(holding).await;
        outcome
    }
}
