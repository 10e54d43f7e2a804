//! A first full sync, incremental runs sending only changes, unchanged records skipped, each
//! delete mode, quarantined records that succeed once fixed, dry runs, and definitions whose
//! mistakes are all reported before anything is read: into the CRM, SQLite and Postgres.

use serde_json::{json, Value};

use super::fixture;

fn report_count(report: &Value, key: &str) -> u64 {
    report[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_orders_into_the_crm() {
    let f = fixture().await;
    f.shop.seed(250);
    // A currency the CRM's schema refuses (`^[A-Z]{3}$`): quarantined, the run goes on.
    f.shop.put(7, json!({"currency": "eur"}));
    let file = f.crm_sync(
        "orders-to-crm.toml",
        "[deletes]\nmode = \"soft\"\npatch = { archived = true }",
    );
    let file = file.to_str().unwrap().to_owned();

    let first = f.sync_ok(&[&file], 5).await;
    assert_eq!(report_count(&first, "read"), 250, "{first}");
    assert_eq!(report_count(&first, "created"), 249, "{first}");
    assert_eq!(report_count(&first, "quarantined"), 1, "{first}");
    assert_eq!(first["full"], true);
    let deals = f.crm.by_external_id();
    assert_eq!(deals.len(), 249);
    assert_eq!(deals["12"]["title"], "Order SO-00012");
    assert_eq!(deals["12"]["amount"], json!(10.12));
    assert_eq!(deals["12"]["contact"], "Customer 12");
    assert!(!deals.contains_key("7"));

    // Status: the run's counts and the quarantined record with its problem's pointer.
    let status = f.command(&["sync", "status", &file]).output().unwrap();
    assert!(status.status.success());
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["runs"][0]["created"], 249);
    assert_eq!(status["quarantined"][0]["source_key"], "7");
    let problems = status["quarantined"][0]["problems"].to_string();
    assert!(problems.contains("/currency"), "{problems}");

    // Nothing changed: an incremental run reads from the cursor on and writes nothing.
    let writes = f.crm.calls("create") + f.crm.calls("update");
    let second = f.sync_ok(&[&file], 5).await;
    assert_eq!(second["full"], false, "{second}");
    assert_eq!(
        report_count(&second, "created") + report_count(&second, "updated"),
        0,
        "{second}"
    );
    assert!(report_count(&second, "read") >= 1, "{second}");
    assert_eq!(f.crm.calls("create") + f.crm.calls("update"), writes);
    let since = f.shop.lists().last().cloned().flatten();
    assert_eq!(
        since.as_deref(),
        first["cursor"].as_str(),
        "the second run asks for changes since the first's cursor"
    );

    // Three orders change and the bad one is fixed: exactly those are written.
    for id in [3, 40, 41] {
        f.shop
            .put(id, json!({"total_cents": 99_900 + id, "status": "paid"}));
    }
    f.shop.put(7, json!({"currency": "EUR"}));
    let third = f.sync_ok(&[&file], 0).await;
    assert_eq!(report_count(&third, "updated"), 3, "{third}");
    assert_eq!(report_count(&third, "created"), 1, "{third}");
    assert_eq!(report_count(&third, "in_quarantine"), 0, "{third}");
    assert_eq!(f.crm.calls("create") + f.crm.calls("update"), writes + 4);
    let deals = f.crm.by_external_id();
    assert_eq!(deals.len(), 250);
    assert_eq!(deals["40"]["amount"], json!(999.4));
    assert_eq!(deals["40"]["stage"], "won");
    assert_eq!(deals["7"]["currency"], "EUR");

    // A dry run prints the change it would make and writes nothing.
    f.shop.put(5, json!({"status": "cancelled"}));
    let writes = f.crm.calls("create") + f.crm.calls("update");
    let dry = f.sync(&["--dry-run", &file]).await;
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&dry.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["op"], "update");
    assert_eq!(lines[0]["record"]["stage"], "lost");
    assert_eq!(f.crm.calls("create") + f.crm.calls("update"), writes);

    // Deletes, on full scans: soft marks the deal, hard deletes it, ignore leaves it.
    f.shop.remove(10);
    let soft = f.sync_ok(&["--full", &file], 0).await;
    assert_eq!(report_count(&soft, "deleted"), 1, "{soft}");
    assert_eq!(f.crm.by_external_id()["10"]["archived"], true);
    let hard = f.crm_sync("orders-to-crm.toml", "[deletes]\nmode = \"hard\"");
    f.shop.remove(11);
    let report = f.sync_ok(&["--full", hard.to_str().unwrap()], 0).await;
    assert_eq!(report_count(&report, "deleted"), 1, "{report}");
    let deals = f.crm.by_external_id();
    assert!(!deals.contains_key("11"));
    assert_eq!(
        deals["10"]["archived"], true,
        "a record deleted before is not deleted again"
    );
    let ignore = f.crm_sync("orders-to-crm.toml", "[deletes]\nmode = \"ignore\"");
    f.shop.remove(12);
    let report = f.sync_ok(&["--full", ignore.to_str().unwrap()], 0).await;
    assert_eq!(report_count(&report, "deleted"), 0, "{report}");
    assert!(f.crm.by_external_id().contains_key("12"));
}

/// The mapping loops for orders whose status is `loop` (SY-5): quarantined, then fixed.
const LOOPING: &str = r#"[mapping]
jq = 'if .status == "loop" then (def f: f; f) else {id, number, customer: .customer.name, total: (.total_cents / 100), currency, status, details: {customer: .customer}, updated_at} end'
max_steps = 200000
"#;

async fn into_a_table(
    database: &str,
    check: impl Fn(&str) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Value>> + Send>>,
) {
    let f = fixture().await;
    f.shop.seed(300);
    f.shop.put(13, json!({"status": "loop"}));
    let file = f.sync_file(
        "orders-to-table.toml",
        &format!("database = \"{database}\"\ntable = \"orders\""),
        &format!("{LOOPING}\n[deletes]\nmode = \"soft\""),
    );
    let file = file.to_str().unwrap().to_owned();
    let first = f.sync_ok(&[&file], 5).await;
    assert_eq!(report_count(&first, "created"), 299, "{first}");
    let status: Value = serde_json::from_slice(
        &f.command(&["sync", "status", &file])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let problem = status["quarantined"][0]["problems"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        problem.contains("steps") && problem.contains("orders-to-table") && problem.contains("13"),
        "{problem}"
    );
    let rows = check(
        "SELECT id, number, total, currency, details, _deleted_at_ms FROM orders ORDER BY id",
    )
    .await;
    assert_eq!(rows.len(), 299);
    assert_eq!(rows[0]["number"], "SO-00001");
    assert_eq!(rows[0]["total"].as_f64(), Some(10.01));
    let details: Value = match &rows[0]["details"] {
        Value::String(text) => serde_json::from_str(text).unwrap(),
        other => other.clone(),
    };
    assert_eq!(details["customer"]["name"], "Customer 1");

    // Two changes and the looping record fixed: only they are written.
    f.shop.put(2, json!({"total_cents": 500}));
    f.shop.put(200, json!({"status": "shipped"}));
    f.shop.put(13, json!({"status": "paid"}));
    let second = f.sync_ok(&[&file], 0).await;
    assert_eq!(second["full"], false);
    assert_eq!(report_count(&second, "updated"), 2, "{second}");
    assert_eq!(report_count(&second, "created"), 1, "{second}");
    let rows =
        check("SELECT id, total, status FROM orders WHERE id IN (2, 13, 200) ORDER BY id").await;
    assert_eq!(rows[0]["total"].as_f64(), Some(5.0));
    assert_eq!(rows[1]["status"], "paid");
    assert_eq!(rows[2]["status"], "shipped");
    let third = f.sync_ok(&[&file], 0).await;
    assert_eq!(
        report_count(&third, "updated") + report_count(&third, "created"),
        0,
        "{third}"
    );

    // Soft, hard and ignore deletes of rows.
    f.shop.remove(20);
    let soft = f.sync_ok(&["--full", &file], 0).await;
    assert_eq!(report_count(&soft, "deleted"), 1, "{soft}");
    let rows = check("SELECT id, _deleted_at_ms FROM orders WHERE id = 20").await;
    assert!(!rows[0]["_deleted_at_ms"].is_null(), "{rows:?}");
    let hard = f.sync_file(
        "orders-to-table.toml",
        &format!("database = \"{database}\"\ntable = \"orders\""),
        &format!("{LOOPING}\n[deletes]\nmode = \"hard\""),
    );
    f.shop.remove(21);
    f.sync_ok(&["--full", hard.to_str().unwrap()], 0).await;
    assert!(check("SELECT id FROM orders WHERE id = 21")
        .await
        .is_empty());
    assert_eq!(check("SELECT id FROM orders WHERE id = 20").await.len(), 1);
    let ignore = f.sync_file(
        "orders-to-table.toml",
        &format!("database = \"{database}\"\ntable = \"orders\""),
        &format!("{LOOPING}\n[deletes]\nmode = \"ignore\""),
    );
    f.shop.remove(22);
    f.sync_ok(&["--full", ignore.to_str().unwrap()], 0).await;
    assert_eq!(check("SELECT id FROM orders WHERE id = 22").await.len(), 1);
    assert_eq!(check("SELECT id FROM orders").await.len(), 299);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_orders_into_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("warehouse.db");
    let path = db.clone();
    into_a_table(&format!("sqlite:{}", db.display()), move |sql| {
        let path = path.clone();
        let sql = sql.to_owned();
        Box::pin(async move {
            let conn = connector_flows::store::rusqlite::Connection::open(&path).unwrap();
            let mut statement = conn.prepare(&sql).unwrap();
            let names: Vec<String> = statement
                .column_names()
                .iter()
                .map(|s| s.to_string())
                .collect();
            let rows = statement
                .query_map([], |row| {
                    let mut map = serde_json::Map::new();
                    for (i, name) in names.iter().enumerate() {
                        use connector_flows::store::rusqlite::types::ValueRef;
                        let value = match row.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(n) => n.into(),
                            ValueRef::Real(f) => f.into(),
                            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                            ValueRef::Blob(_) => Value::Null,
                        };
                        map.insert(name.clone(), value);
                    }
                    Ok(Value::Object(map))
                })
                .unwrap();
            rows.map(Result::unwrap).collect()
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_orders_into_postgres() {
    let Some(url) = super::fresh_postgres().await else {
        return;
    };
    let query_url = url.clone();
    into_a_table(&url, move |sql| {
        let url = query_url.clone();
        let sql = format!("SELECT row_to_json(t)::TEXT FROM ({sql}) t");
        Box::pin(async move {
            let client = super::postgres_client(&url).await;
            let rows = client.query(&sql, &[]).await.unwrap();
            rows.iter()
                .map(|r| serde_json::from_str(&r.get::<_, String>(0)).unwrap())
                .collect()
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mistake_is_named_before_anything_is_read() {
    let f = fixture().await;
    f.shop.seed(5);
    let bad = f.sync_file(
        "bad.toml",
        &format!(
            "connector = \"{}\"\nconnection = \"crm.toml\"\nentity = \"deal\"",
            super::spec("crm.yaml")
        ),
        "[mapping]\njq = '{title: .number'",
    );
    let text = std::fs::read_to_string(&bad)
        .unwrap()
        .replace("field = \"updated_at\"", "field = \"changed_at\"")
        .replace("param = \"updated_since\"", "param = \"since\"");
    std::fs::write(&bad, text).unwrap();
    let output = f.sync(&[bad.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for expected in [
        "destination.entity: the connector has no entity `deal`; did you mean `deals`?",
        "source.incremental.param: `listOrders` has no parameter `since`",
        "source.incremental.field",
        "mapping.jq",
    ] {
        assert!(stderr.contains(expected), "{expected} in {stderr}");
    }
    assert!(f.shop.lists().is_empty(), "nothing was read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_was_lost_is_not_made_twice() {
    let f = fixture().await;
    f.shop.seed(30);
    f.crm
        .lose_answers
        .store(3, std::sync::atomic::Ordering::SeqCst);
    // No `match`: the idempotency key alone finds the first deal again (SY-2).
    let destination = f.crm_destination().replace("match = \"externalId\"", "");
    let file = f.sync_file(
        "lost.toml",
        &destination,
        &format!("[mapping]\njq = '{}'", super::CRM_MAPPING),
    );
    let report = f.sync_ok(&[file.to_str().unwrap()], 0).await;
    assert_eq!(report["created"], 30, "{report}");
    assert_eq!(
        f.crm.lose_answers.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "answers were lost"
    );
    assert_eq!(f.crm.by_external_id().len(), 30);
    assert_eq!(f.crm.calls("create"), 33, "three creates were repeated");
}
