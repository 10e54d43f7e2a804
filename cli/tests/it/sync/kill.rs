//! Kill and resume (SY-1), as a property test: `connector-gen sync` is killed with SIGKILL at
//! random points over many runs against a shop of a few thousand orders that keeps changing
//! between runs, into the CRM and into a SQLite table at once; run to completion at the end,
//! the destinations hold exactly the shop's orders, none twice, with their latest content, and
//! the id map agrees with them.
//!
//! `SYNC_KILLS` sets the number of kills (default 20), `SYNC_KILL_RECORDS` the orders (default
//! 3,000) and `SYNC_KILL_SEED` the seed (printed, to replay a failure).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::{fixture, sqlite_rows};

/// A small deterministic generator (SplitMix64): the seed replays a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Starts `sync` and kills it with SIGKILL after `after` (or lets it finish first).
async fn run_and_kill(f: &super::Fixture, file: &str, full: bool, after: Duration) -> bool {
    let args: &[&str] = if full {
        &["sync", "--quiet", "--full", file]
    } else {
        &["sync", "--quiet", file]
    };
    let mut child = f
        .command(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(after).await;
    let finished = child.try_wait().unwrap().is_some();
    if !finished {
        // SIGKILL: no destructor, no flush, no goodbye.
        child.kill().unwrap();
    }
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    if !finished {
        // The killed process's lease (1 s here) must expire before the next run can take it.
        tokio::time::sleep(LEASE + Duration::from_millis(100)).await;
    }
    finished
}

/// The syncs' lease: short, since every kill leaves one to expire.
const LEASE: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn killed_anywhere_the_sync_loses_and_duplicates_nothing() {
    let kills = env("SYNC_KILLS", 20);
    let records = env("SYNC_KILL_RECORDS", 3000) as i64;
    let seed = env(
        "SYNC_KILL_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    );
    eprintln!("kill and resume: {kills} kills, {records} orders, SYNC_KILL_SEED={seed}");
    let mut rng = Rng(seed);
    let f = fixture().await;
    f.shop.seed(records);
    let state = "[state]\nlease = \"1s\"";
    let crm = f.crm_sync("kill-crm.toml", state);
    let crm = crm.to_str().unwrap().to_owned();
    let db = f.path("kill.db");
    let table = f.table_sync(
        "kill-table.toml",
        &format!("sqlite:{}", db.display()),
        state,
    );
    let table = table.to_str().unwrap().to_owned();

    let mut finished = 0;
    for kill in 0..kills {
        // Kill points spread over a whole first run: early (while starting or on the first
        // pages) and late (among the writes); every third run a full scan.
        let after = Duration::from_millis(if kill % 4 == 0 {
            20 + rng.below(200)
        } else {
            rng.below(1500)
        });
        let full = kill % 3 == 2;
        let (a, b) = tokio::join!(
            run_and_kill(&f, &crm, full, after),
            run_and_kill(
                &f,
                &table,
                full,
                after + Duration::from_millis(rng.below(300))
            )
        );
        finished += usize::from(a) + usize::from(b);
        // The shop goes on: some orders change between runs.
        for _ in 0..rng.below(400) {
            let id = 1 + rng.below(records as u64) as i64;
            let status = ["open", "paid", "shipped"][rng.below(3) as usize];
            f.shop.put(
                id,
                json!({"total_cents": rng.below(1_000_000), "status": status}),
            );
        }
    }
    eprintln!(
        "{finished} of {} runs finished before their kill",
        2 * kills
    );
    // Then to completion (incremental, then a full scan that must find nothing left to do).
    f.sync_ok(&[&crm], 0).await;
    f.sync_ok(&[&table], 0).await;
    let full = f.sync_ok(&["--full", &crm], 0).await;
    assert_eq!(
        full["created"], 0,
        "a full scan after the runs found records never created: {full}"
    );
    assert_eq!(
        full["updated"], 0,
        "a full scan after the runs found records not up to date: {full}"
    );

    // The CRM: one deal per order (by_external_id fails on a second), each with the latest
    // mapped content.
    let deals = f.crm.by_external_id();
    assert_eq!(deals.len(), records as usize, "deals: {}", deals.len());
    for id in f.shop.ids() {
        let order = f.shop.order(id).unwrap();
        let deal = &deals[&id.to_string()];
        let amount = order["total_cents"].as_f64().unwrap() / 100.0;
        assert_eq!(
            deal["amount"].as_f64(),
            Some(amount),
            "order {id}: {order} / {deal}"
        );
        let stage = if order["status"] == "paid" {
            "won"
        } else {
            "new"
        };
        assert_eq!(deal["stage"], stage, "order {id}");
    }
    // The table: one row per order, with its latest content.
    let rows = sqlite_rows(&db, "orders");
    assert_eq!(rows.len(), records as usize);
    let by_id: BTreeMap<i64, &serde_json::Map<String, Value>> = rows
        .iter()
        .map(|r| (r["id"].as_i64().unwrap(), r))
        .collect();
    for id in f.shop.ids() {
        let order = f.shop.order(id).unwrap();
        assert_eq!(by_id[&id]["status"], order["status"], "order {id}");
        assert_eq!(
            by_id[&id]["total"].as_f64(),
            Some(order["total_cents"].as_f64().unwrap() / 100.0),
            "order {id}"
        );
    }
    // The id map agrees with the CRM: every entry names the deal of its order.
    let state = sqlite_rows(&f.path("kill-crm.state.db"), "sync_records");
    assert_eq!(state.len(), records as usize);
    let by_deal_id: BTreeMap<String, &Value> = deals
        .values()
        .map(|d| (d["id"].as_str().unwrap().to_owned(), d))
        .collect();
    for entry in state {
        let dest: String = serde_json::from_str(entry["dest_key"].as_str().unwrap()).unwrap();
        assert_eq!(
            by_deal_id[&dest]["externalId"].as_str(),
            entry["source_key"].as_str(),
            "{entry:?}"
        );
        assert!(entry["pending"].is_null(), "{entry:?}");
    }
}
