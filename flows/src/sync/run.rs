//! One run: quarantined records retried, source pages read lazily, each record mapped,
//! validated, compared by content hash and created, updated or skipped; the id map, counts
//! and resume point checkpointed after every page in one transaction; deletes applied after a
//! full scan. A run killed anywhere resumes from its last checkpoint: creates are written
//! ahead (their idempotency key), so a create whose checkpoint was lost is found again by
//! `match` or repeated with the same idempotency key instead of made twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::definition::DeleteMode;
use super::endpoint::{refusal, refused_record, Destination};
use super::lease::{Hold, Standing};
use super::state::{Checkpoint, Counts, Entry, Run};
use super::Sync;
use crate::error::Error;

/// How to run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Read everything (and apply deletes), even when the sync is incremental.
    pub full: bool,
    /// Print what would change and write nothing (no destination write, no state).
    pub dry_run: bool,
}

/// Hears of a run's progress; every method has a default that ignores it.
pub trait Observer: Send + std::marker::Sync {
    /// After each page (and at the end), the run's counts so far.
    fn progress(&self, _counts: &Counts, _elapsed: Duration) {}
    /// A dry run's planned change (`{"op": "create", "source_key", "record"}`).
    fn planned(&self, _change: &Value) {}
    /// A watched sync's run (or batch of changes) ended.
    fn finished(&self, _report: &Report) {}
    /// A watched sync's run failed; the worker goes on and tries again later.
    fn failed(&self, _sync: &str, _error: &Error) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The sync.
    pub sync: String,
    /// The run's number (0 for a dry run).
    pub run: i64,
    /// A full scan.
    pub full: bool,
    /// Whether it resumed an interrupted run.
    pub resumed: bool,
    /// The counts, over the whole run (an interrupted part included).
    #[serde(flatten)]
    pub counts: Counts,
    /// Records in quarantine after the run.
    pub in_quarantine: u64,
    /// How long this process ran it, in milliseconds.
    pub duration_ms: u64,
    /// The cursor of the next incremental run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Value>,
    /// Deletes left for the next full scan (the reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletes_skipped: Option<String>,
}

/// Whether cursor value `a` comes before `b` (numbers by value, text by its order).
pub fn cursor_before(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().unwrap_or(f64::MIN) < y.as_f64().unwrap_or(f64::MIN)
        }
        (Value::String(x), Value::String(y)) => x < y,
        _ => false,
    }
}

/// JSON text with object keys sorted, so that equal records hash equally whatever the order
/// of their fields.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The content hash of a mapped record.
pub fn content_hash(record: &Value) -> String {
    let mut text = String::new();
    canonical(record, &mut text);
    hex(&Sha256::digest(text.as_bytes()))[..32].to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The idempotency key of a create: the same for the same sync, source record and content.
pub fn idempotency_key(sync: &str, source_key: &str, hash: &str) -> String {
    let digest = Sha256::digest(format!("{sync}\n{source_key}\n{hash}").as_bytes());
    format!("sync-{}", &hex(&digest)[..40])
}

/// A record's key as the id map keeps it: its JSON text.
fn key_text(record: &Value, field: &str) -> Option<String> {
    match record.get(field)? {
        Value::Null => None,
        key => Some(key.to_string()),
    }
}

/// What to do with one record.
enum Plan {
    Create {
        mapped: Value,
        hash: String,
        idem: String,
    },
    Update {
        dest: String,
        mapped: Value,
        hash: String,
    },
    Unchanged,
    Filtered,
    Quarantine(Vec<String>),
}

/// A run's working set: the sync, the run and the hold on its lease.
pub(super) struct Runner<'a> {
    pub sync: &'a Sync,
    pub run: Run,
    pub worker: String,
    pub options: RunOptions,
    pub observer: &'a dyn Observer,
    pub lease: Arc<Hold>,
    pub started: Instant,
    /// Keys in quarantine when the run started: they leave it when they succeed.
    pub quarantined: HashSet<String>,
}

impl Runner<'_> {
    /// Waits until the lease may be written under: a renewal that is late (a loaded machine,
    /// a slow store) pauses the writes rather than ending the run, and only a lease lost to
    /// another worker, or run out altogether, ends it.
    async fn check_lease(&self) -> Result<(), Error> {
        loop {
            match self.lease.standing() {
                Standing::Writable => return Ok(()),
                Standing::Gone => return Err(Error::LeaseLost(self.sync.def.name.clone())),
                Standing::Renewing => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    /// Processes one page of source records (`gone`: keys whose record no longer exists, from
    /// events) and checkpoints it with `resume` and `event_seq`.
    pub async fn page(
        &mut self,
        records: Vec<Value>,
        gone: Vec<String>,
        resume: Option<Option<Map<String, Value>>>,
        event_seq: Option<i64>,
    ) -> Result<(), Error> {
        self.check_lease().await?;
        let sync = self.sync;
        let key_field = &sync.source.key;
        let mut keyed = Vec::with_capacity(records.len());
        for record in records {
            let key = key_text(&record, key_field)
                .unwrap_or_else(|| format!("(no key) {}", content_hash(&record)));
            keyed.push((key, record));
        }
        let mut all_keys: Vec<String> = keyed.iter().map(|(k, _)| k.clone()).collect();
        all_keys.extend(gone.iter().cloned());
        let entries = sync.state.lookup(&all_keys).await?;
        let mut cp = Checkpoint {
            resume,
            event_seq,
            ..Checkpoint::default()
        };
        let records: Vec<Value> = keyed.iter().map(|(_, r)| r.clone()).collect();
        let mapped = sync.mapping.map_all(&records).await;
        let mut plans = Vec::with_capacity(keyed.len());
        for ((key, record), mapped) in keyed.iter().zip(mapped) {
            self.run.counts.read += 1;
            if let Some(inc) = &sync.source.incremental {
                if let Some(value) = record.get(&inc.field).filter(|v| !v.is_null()) {
                    let newer = match &self.run.max_cursor {
                        None => true,
                        Some(max) => cursor_before(max, value),
                    };
                    if newer {
                        self.run.max_cursor = Some(value.clone());
                    }
                }
            }
            let plan = if key.starts_with("(no key)") {
                Plan::Quarantine(vec![format!("/{key_field}: the record has no key")])
            } else {
                self.plan(key, mapped, entries.get(key))
            };
            plans.push(plan);
        }
        if self.options.dry_run {
            for ((key, record), plan) in keyed.iter().zip(&plans) {
                let line = match plan {
                    Plan::Create { mapped, .. } => {
                        json!({"op": "create", "source_key": key, "record": mapped})
                    }
                    Plan::Update { dest, mapped, .. } => {
                        json!({"op": "update", "source_key": key, "destination_key": serde_json::from_str::<Value>(dest).unwrap_or(Value::Null), "record": mapped})
                    }
                    Plan::Quarantine(problems) => {
                        json!({"op": "quarantine", "source_key": key, "problems": problems, "source_record": record})
                    }
                    Plan::Unchanged | Plan::Filtered => continue,
                };
                self.observer.planned(&line);
            }
            for plan in &plans {
                self.count(plan);
            }
            return Ok(());
        }
        // Creates written ahead: a kill after the create and before the checkpoint leaves the
        // intent, found on resume.
        if matches!(sync.destination, Destination::Api(_)) {
            let intents: Vec<(String, String)> = keyed
                .iter()
                .zip(&plans)
                .filter_map(|((key, _), plan)| match plan {
                    Plan::Create { idem, .. }
                        if entries.get(key).and_then(|e| e.pending.as_ref()) != Some(idem) =>
                    {
                        Some((key.clone(), idem.clone()))
                    }
                    _ => None,
                })
                .collect();
            sync.state.intents(&self.worker, &intents).await?;
        }
        let outcome = self.write(&keyed, plans, &mut cp).await;
        for key in &gone {
            if let Some(entry) = entries.get(key) {
                self.delete_one(key, entry.dest_key.as_deref(), &mut cp)
                    .await?;
            }
        }
        if outcome.is_err() {
            // What was written is kept; the page is read again on resume.
            cp.resume = None;
            cp.event_seq = None;
        }
        sync.state.checkpoint(&self.worker, &self.run, cp).await?;
        self.observer
            .progress(&self.run.counts, self.started.elapsed());
        outcome
    }

    fn plan(
        &self,
        key: &str,
        mapped: Result<Option<Value>, String>,
        entry: Option<&Entry>,
    ) -> Plan {
        let sync = self.sync;
        let mapped = match mapped {
            Ok(Some(mapped)) => mapped,
            Ok(None) => return Plan::Filtered,
            Err(problem) => {
                return Plan::Quarantine(vec![format!(
                    "{problem} (sync `{}`, record {key})",
                    sync.def.name
                )])
            }
        };
        let hash = content_hash(&mapped);
        let existing = entry.and_then(|e| e.dest_key.clone());
        let unchanged =
            entry.is_some_and(|e| !e.deleted && e.hash.as_deref() == Some(hash.as_str()));
        if existing.is_some() && unchanged {
            return Plan::Unchanged;
        }
        if let Err(problems) = sync.validate(&mapped, existing.as_deref()) {
            return Plan::Quarantine(problems);
        }
        match existing {
            Some(dest) => Plan::Update { dest, mapped, hash },
            None => {
                let idem = entry
                    .and_then(|e| e.pending.clone())
                    .unwrap_or_else(|| idempotency_key(&sync.def.name, key, &hash));
                Plan::Create { mapped, hash, idem }
            }
        }
    }

    fn count(&mut self, plan: &Plan) {
        let counts = &mut self.run.counts;
        match plan {
            Plan::Create { .. } => counts.created += 1,
            Plan::Update { .. } => counts.updated += 1,
            Plan::Unchanged => counts.unchanged += 1,
            Plan::Filtered => counts.filtered += 1,
            Plan::Quarantine(_) => counts.quarantined += 1,
        }
    }

    fn quarantine(
        &mut self,
        cp: &mut Checkpoint,
        key: &str,
        record: &Value,
        problems: Vec<String>,
    ) {
        self.run.counts.quarantined += 1;
        cp.quarantined
            .push((key.to_owned(), record.clone(), problems));
        if self.run.full {
            cp.seen.push(key.to_owned());
        }
    }

    fn release(&self, cp: &mut Checkpoint, key: &str) {
        if self.quarantined.contains(key) {
            cp.released.push(key.to_owned());
        }
    }

    /// Carries out `plans`; an error that is not about one record (the API is down, the
    /// credentials were refused) stops the page there.
    async fn write(
        &mut self,
        keyed: &[(String, Value)],
        plans: Vec<Plan>,
        cp: &mut Checkpoint,
    ) -> Result<(), Error> {
        let sync = self.sync;
        match &sync.destination {
            Destination::Table(table) => {
                let mut rows = Vec::new();
                let mut pending = Vec::new();
                for ((key, record), plan) in keyed.iter().zip(plans) {
                    match plan {
                        Plan::Create { mapped, hash, .. } => {
                            let row_key = sync.row_key(&mapped, key);
                            pending.push((
                                key.clone(),
                                record.clone(),
                                mapped,
                                hash,
                                row_key,
                                true,
                            ));
                        }
                        Plan::Update { mapped, hash, .. } => {
                            let row_key = sync.row_key(&mapped, key);
                            pending.push((
                                key.clone(),
                                record.clone(),
                                mapped,
                                hash,
                                row_key,
                                false,
                            ));
                        }
                        Plan::Quarantine(problems) => self.quarantine(cp, key, record, problems),
                        Plan::Unchanged => {
                            self.run.counts.unchanged += 1;
                            self.release(cp, key);
                            if self.run.full {
                                cp.seen.push(key.clone());
                            }
                        }
                        Plan::Filtered => {
                            self.run.counts.filtered += 1;
                            self.release(cp, key);
                            if self.run.full {
                                cp.seen.push(key.clone());
                            }
                        }
                    }
                }
                for (_, _, mapped, _, row_key, _) in &pending {
                    if let Value::Object(map) = mapped {
                        rows.push((row_key.clone(), map));
                    }
                }
                let results = table.upsert(&rows).await?;
                for ((key, record, _, hash, row_key, created), result) in
                    pending.iter().zip(results)
                {
                    match result {
                        Ok(()) => {
                            if *created {
                                self.run.counts.created += 1;
                            } else {
                                self.run.counts.updated += 1;
                            }
                            cp.written
                                .push((key.clone(), Some(row_key.to_string()), hash.clone()));
                            self.release(cp, key);
                        }
                        Err(problem) => self.quarantine(cp, key, record, vec![problem]),
                    }
                }
                Ok(())
            }
            Destination::Api(api) => {
                for ((key, record), plan) in keyed.iter().zip(plans) {
                    // Each write checks the lease: a page may take longer than what is left
                    // of it. What was written before is kept by the page's checkpoint.
                    self.check_lease().await?;
                    let outcome = match plan {
                        Plan::Quarantine(problems) => {
                            self.quarantine(cp, key, record, problems);
                            continue;
                        }
                        Plan::Unchanged | Plan::Filtered => {
                            let filtered = matches!(plan, Plan::Filtered);
                            if filtered {
                                self.run.counts.filtered += 1;
                            } else {
                                self.run.counts.unchanged += 1;
                            }
                            self.release(cp, key);
                            if self.run.full {
                                cp.seen.push(key.clone());
                            }
                            continue;
                        }
                        Plan::Update { dest, mapped, hash } => {
                            let dest_value = serde_json::from_str::<Value>(&dest)
                                .unwrap_or(Value::String(dest.clone()));
                            match api.update(&dest_value, &mapped).await {
                                Ok(()) => Ok((Some(dest), hash, false)),
                                // Deleted on the other side meanwhile: made again.
                                Err(err) if matches!(err.status(), Some(404 | 410)) => {
                                    let idem = idempotency_key(&sync.def.name, key, &hash);
                                    api.create(&mapped, &idem)
                                        .await
                                        .map(|k| (k.map(|k| k.to_string()), hash, true))
                                }
                                Err(err) => Err(err),
                            }
                        }
                        Plan::Create { mapped, hash, idem } => match api.find(&mapped).await {
                            Ok(Some(found)) => api
                                .update(&found, &mapped)
                                .await
                                .map(|()| (Some(found.to_string()), hash, false)),
                            Ok(None) => api
                                .create(&mapped, &idem)
                                .await
                                .map(|k| (k.map(|k| k.to_string()), hash, true)),
                            Err(err) => Err(err),
                        },
                    };
                    match outcome {
                        Ok((Some(dest), hash, created)) => {
                            if created {
                                self.run.counts.created += 1;
                            } else {
                                self.run.counts.updated += 1;
                            }
                            cp.written.push((key.clone(), Some(dest), hash));
                            self.release(cp, key);
                        }
                        Ok((None, _, _)) => self.quarantine(
                            cp,
                            key,
                            record,
                            vec![format!("the API's answer to the create has no `{}`: the record may exist without the sync knowing its key", api.key)],
                        ),
                        Err(err) if refused_record(&err) => {
                            self.quarantine(cp, key, record, vec![refusal(&err)])
                        }
                        Err(source) => {
                            return Err(Error::Api {
                                what: format!("writing `{}` record {key}", api.entity.name),
                                source,
                            })
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Deletes (or marks) the destination record of `key`.
    async fn delete_one(
        &mut self,
        key: &str,
        dest: Option<&str>,
        cp: &mut Checkpoint,
    ) -> Result<(), Error> {
        let sync = self.sync;
        let mode = sync.def.deletes.mode;
        if mode == DeleteMode::Ignore {
            return Ok(());
        }
        let Some(dest) = dest else {
            cp.deleted.push((key.to_owned(), true));
            return Ok(());
        };
        let dest_value =
            serde_json::from_str::<Value>(dest).unwrap_or(Value::String(dest.to_owned()));
        match &sync.destination {
            Destination::Table(table) => {
                table
                    .delete(&[dest_value], mode == DeleteMode::Soft)
                    .await?;
            }
            Destination::Api(api) => {
                let result = match mode {
                    DeleteMode::Hard => api.delete(&dest_value).await,
                    _ => {
                        let patch = sync.def.deletes.patch.clone().unwrap_or(Value::Null);
                        match api.update(&dest_value, &patch).await {
                            Err(err) if matches!(err.status(), Some(404 | 410)) => Ok(()),
                            other => other,
                        }
                    }
                };
                result.map_err(|source| Error::Api {
                    what: format!("deleting `{}` record {dest}", api.entity.name),
                    source,
                })?;
            }
        }
        self.run.counts.deleted += 1;
        cp.deleted.push((key.to_owned(), mode == DeleteMode::Hard));
        Ok(())
    }

    /// After a complete full scan: the destination records whose source record was not seen.
    pub async fn deletes(&mut self) -> Result<Option<String>, Error> {
        let sync = self.sync;
        if sync.def.deletes.mode == DeleteMode::Ignore || !self.run.full || self.options.dry_run {
            return Ok(None);
        }
        if self.run.resumed && sync.source.shifting_pages {
            return Ok(Some(
                "this full scan was resumed and the source pages by number or offset, so records may have shifted past it; deletes wait for the next full scan".into(),
            ));
        }
        let unseen = sync.state.unseen(self.run.id).await?;
        for chunk in unseen.chunks(100) {
            self.check_lease().await?;
            let mut cp = Checkpoint::default();
            for (key, dest) in chunk {
                self.delete_one(key, dest.as_deref(), &mut cp).await?;
            }
            sync.state.checkpoint(&self.worker, &self.run, cp).await?;
        }
        Ok(None)
    }

    /// The whole listing, from the run's resume point.
    pub async fn scan(&mut self) -> Result<(), Error> {
        let sync = self.sync;
        let input = match &self.run.resume {
            Some(resume) => resume.clone(),
            None => {
                let mut input = sync.source.scope.clone();
                if let (false, Some(inc), Some(since)) =
                    (self.run.full, &sync.source.incremental, &self.run.since)
                {
                    input.insert(inc.param.clone(), since.clone());
                }
                input
            }
        };
        let mut pages = sync.source.pages(input)?;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|source| Error::Api {
                what: format!("listing `{}`", sync.source.entity.name),
                source,
            })?;
            self.run.counts.pages += 1;
            let next = page.next.clone();
            self.page(page.records, Vec::new(), Some(next.clone()), None)
                .await?;
            self.run.resume = next;
        }
        Ok(())
    }

    /// Quarantined records first: read again when the source can get one record (else as
    /// stored), mapped and written like any other.
    pub async fn retry_quarantined(&mut self) -> Result<(), Error> {
        let sync = self.sync;
        let stored = sync.state.quarantined().await?;
        let can_get = sync
            .source
            .entity
            .operations
            .contains_key(&connector_runtime::catalogue::OperationKind::Get);
        for chunk in stored.chunks(100) {
            let mut records = Vec::new();
            let mut gone = Vec::new();
            for q in chunk {
                if q.source_key.starts_with("(no key)") {
                    continue;
                }
                let key = serde_json::from_str::<Value>(&q.source_key)
                    .unwrap_or(Value::String(q.source_key.clone()));
                if can_get {
                    match sync.source.get(&key).await? {
                        Some(record) => records.push(record),
                        None => gone.push(q.source_key.clone()),
                    }
                } else {
                    records.push(q.record.clone());
                }
            }
            // Records gone from the source leave the quarantine.
            self.quarantined.extend(gone.iter().cloned());
            let mut cp_gone = Checkpoint::default();
            for key in &gone {
                cp_gone.released.push(key.clone());
            }
            if !gone.is_empty() && !self.options.dry_run {
                sync.state
                    .checkpoint(&self.worker, &self.run, cp_gone)
                    .await?;
            }
            if !records.is_empty() {
                self.page(records, Vec::new(), None, None).await?;
            }
        }
        Ok(())
    }
}
