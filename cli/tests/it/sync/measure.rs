//! Throughput, measured on demand (`cargo test -p connector-gen-cli --test it sync::measure --
//! --ignored --nocapture`, with `SYNC_BENCH_BIN` pointing at a release build): a first sync of
//! 10,000 orders and an incremental run after 1,000 of them changed, into SQLite, Postgres and
//! the CRM API, with the state store's size after each.

use std::time::Instant;

use serde_json::{json, Value};

use super::{fixture, fresh_postgres, Fixture};

const RECORDS: i64 = 10_000;
const CHANGED: i64 = 1_000;

async fn measure(f: &Fixture, label: &str, file: &str) {
    let timed = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = Instant::now();
        let report = f.sync_ok(&args, 0).await;
        (report, started.elapsed())
    };
    let (first, first_wall) = timed(vec!["--quiet".into(), file.into()]).await;
    for id in (1..=RECORDS).step_by((RECORDS / CHANGED) as usize) {
        f.shop
            .put(id, json!({"total_cents": 777_777 + id, "status": "paid"}));
    }
    let (second, second_wall) = timed(vec!["--quiet".into(), file.into()]).await;
    let (idle, idle_wall) = timed(vec!["--quiet".into(), file.into()]).await;
    let status = f.command(&["sync", "status", file]).output().unwrap();
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let rate =
        |n: &Value, ms: &Value| n.as_f64().unwrap_or(0.0) / (ms.as_f64().unwrap_or(1.0) / 1000.0);
    let written =
        |r: &Value| json!(r["created"].as_u64().unwrap_or(0) + r["updated"].as_u64().unwrap_or(0));
    println!(
        "| {label} | {} in {} ms ({:.0} records/s; process {:.2} s) | {} written of {} read in {} ms ({:.0} records/s; process {:.2} s) | {} read, 0 written, in {} ms (process {:.2} s) | {:.1} MiB |",
        first["created"], first["duration_ms"], rate(&first["created"], &first["duration_ms"]), first_wall.as_secs_f64(),
        written(&second), second["read"], second["duration_ms"], rate(&written(&second), &second["duration_ms"]), second_wall.as_secs_f64(),
        idle["read"], idle["duration_ms"], idle_wall.as_secs_f64(),
        status["store_bytes"].as_f64().unwrap_or(0.0) / 1048576.0,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it with --ignored and SYNC_BENCH_BIN=target/release/connector-gen"]
async fn throughput() {
    println!("| destination | first sync of {RECORDS} | incremental, {CHANGED} changed | incremental, nothing changed | state store |");
    println!("| --- | --- | --- | --- | --- |");
    let f = fixture().await;
    f.shop.seed(RECORDS);
    let db = f.path("bench.db");
    let file = f.table_sync("bench-sqlite.toml", &format!("sqlite:{}", db.display()), "");
    measure(&f, "SQLite (state: SQLite)", file.to_str().unwrap()).await;

    if let Some(url) = fresh_postgres().await {
        let f = fixture().await;
        f.shop.seed(RECORDS);
        let file = f.table_sync(
            "bench-postgres.toml",
            &url,
            &format!("[state]\nstore = \"{url}\""),
        );
        measure(&f, "Postgres (state: Postgres)", file.to_str().unwrap()).await;
    }

    let f = fixture().await;
    f.shop.seed(RECORDS);
    let file = f.crm_sync("bench-crm.toml", "");
    measure(
        &f,
        "CRM API, `match` (state: SQLite)",
        file.to_str().unwrap(),
    )
    .await;
    let f = fixture().await;
    f.shop.seed(RECORDS);
    let destination = f.crm_destination().replace("match = \"externalId\"", "");
    let file = f.sync_file(
        "bench-crm-keys.toml",
        &destination,
        &format!("[mapping]\njq = '{}'", super::CRM_MAPPING),
    );
    measure(
        &f,
        "CRM API, idempotency keys only (state: SQLite)",
        file.to_str().unwrap(),
    )
    .await;
}
