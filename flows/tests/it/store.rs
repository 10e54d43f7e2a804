//! The store layer and the event tables, the same checks on SQLite and on Postgres.

use std::collections::BTreeSet;

use connector_flows::events::{Attempt, DeliveryState, EventQuery, EventStore, Inserted, NewEvent};
use connector_flows::store::{Migration, Migrations, Store};

use crate::support::{fresh_postgres, fresh_sqlite};

/// What every store must do with events: de-duplicate, list in order, filter, move delivery
/// states forward.
async fn events_behave(url: &str) {
    let store = Store::open(url).await.expect("opening the store");
    let events = EventStore::open(store.clone()).await.expect("migrating");
    // Opening again (a restarted receiver) migrates nothing twice.
    let events_again = EventStore::open(store).await.expect("migrating twice");

    let first = events
        .insert(NewEvent::new("github", "d-1", "push", r#"{"ref":"main"}"#))
        .await
        .expect("storing");
    assert!(first.is_new());
    let same = events_again
        .insert(NewEvent::new("github", "d-1", "push", r#"{"ref":"other"}"#))
        .await
        .expect("storing a duplicate");
    assert_eq!(same, Inserted::Duplicate(first.seq()));
    // Another source may reuse the id.
    let other = events
        .insert(NewEvent::new("stripe", "d-1", "invoice.paid", "{}"))
        .await
        .expect("storing");
    assert!(other.is_new() && other.seq() > first.seq());
    let third = events
        .insert(NewEvent::new("github", "d-2", "issues", "[1, 2]"))
        .await
        .expect("storing");

    let all = events.list(&EventQuery::default()).await.expect("listing");
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![first.seq(), other.seq(), third.seq()]);
    assert_eq!(
        all[0].payload,
        serde_json::json!({"ref": "main"}),
        "the first body is kept"
    );
    assert_eq!(all[0].state, DeliveryState::Pending);

    let after = events
        .list(&EventQuery {
            after: Some(first.seq()),
            event_type: Some("issues".into()),
            ..Default::default()
        })
        .await
        .expect("listing");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, "d-2");

    let next = events
        .next_pending(None)
        .await
        .expect("next")
        .expect("one pending");
    assert_eq!(next.seq, first.seq());
    events
        .record_attempt(
            next.seq,
            &Attempt::Failed {
                error: "exit 1".into(),
                dead: false,
            },
        )
        .await
        .expect("recording");
    let again = events
        .next_pending(None)
        .await
        .expect("next")
        .expect("still pending");
    assert_eq!((again.seq, again.attempts), (first.seq(), 1));
    assert_eq!(again.last_error.as_deref(), Some("exit 1"));
    events
        .record_attempt(again.seq, &Attempt::Done)
        .await
        .expect("recording");
    events
        .record_attempt(
            other.seq(),
            &Attempt::Failed {
                error: "exit 3".into(),
                dead: true,
            },
        )
        .await
        .expect("recording");
    let next = events
        .next_pending(None)
        .await
        .expect("next")
        .expect("one left");
    assert_eq!(next.seq, third.seq());
    let counts = events.counts().await.expect("counting");
    assert_eq!((counts.pending, counts.done, counts.dead), (1, 1, 1));
    let dead = events
        .list(&EventQuery {
            state: Some(DeliveryState::Dead),
            ..Default::default()
        })
        .await
        .expect("listing");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].source, "stripe");
}

/// Concurrent inserts of overlapping ids through two stores opened on the same database (two
/// receivers) end as exactly the distinct ids.
async fn concurrent_duplicates(url: &str) {
    let a = EventStore::open(Store::open(url).await.expect("open"))
        .await
        .expect("migrate");
    let b = EventStore::open(Store::open(url).await.expect("open"))
        .await
        .expect("migrate");
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let store = if worker % 2 == 0 {
            a.clone()
        } else {
            b.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut new = 0;
            for i in 0..50 {
                // Each id is sent by two workers, one per store.
                let id = format!("e-{}", (worker / 2) * 50 + i);
                let inserted = store
                    .insert(NewEvent::new("src", id, "t", "{}"))
                    .await
                    .expect("storing");
                new += usize::from(inserted.is_new());
            }
            new
        }));
    }
    let mut new = 0;
    for task in tasks {
        new += task.await.expect("a worker");
    }
    assert_eq!(new, 400, "each distinct id stored exactly once");
    let all = a
        .list(&EventQuery {
            limit: Some(10_000),
            ..Default::default()
        })
        .await
        .expect("list");
    let ids: BTreeSet<&str> = all.iter().map(|e| e.id.as_str()).collect();
    assert_eq!((all.len(), ids.len()), (400, 400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_events() {
    let (_dir, url) = fresh_sqlite();
    events_behave(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_events() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    events_behave(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_duplicates() {
    let (_dir, url) = fresh_sqlite();
    concurrent_duplicates(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_duplicates() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    concurrent_duplicates(&url).await;
}

static BROKEN: Migrations = Migrations {
    component: "broken",
    steps: &[Migration {
        version: 2,
        name: "gap",
        sqlite: "SELECT 1",
        postgres: "SELECT 1",
    }],
};

static NOTES_V1: Migrations = Migrations {
    component: "notes",
    steps: &[Migration {
        version: 1,
        name: "notes",
        sqlite: "CREATE TABLE notes (id INTEGER PRIMARY KEY)",
        postgres: "CREATE TABLE notes (id BIGINT PRIMARY KEY)",
    }],
};

static NOTES_V2: Migrations = Migrations {
    component: "notes",
    steps: &[
        NOTES_V1.steps[0],
        Migration {
            version: 2,
            name: "note text",
            sqlite: "ALTER TABLE notes ADD COLUMN text TEXT",
            postgres: "ALTER TABLE notes ADD COLUMN text TEXT",
        },
    ],
};

async fn migrations_behave(url: &str) {
    let store = Store::open(url).await.expect("open");
    let err = store.migrate(&BROKEN).await.expect_err("a gap in versions");
    assert!(err.to_string().contains("not numbered 1, 2, 3"), "{err}");
    store.migrate(&NOTES_V1).await.expect("v1");
    store.migrate(&NOTES_V2).await.expect("v1 -> v2");
    store
        .migrate(&NOTES_V2)
        .await
        .expect("v2 again: nothing to do");
    // A program that knows only v1 refuses a store at v2 rather than misreading it.
    let err = store
        .migrate(&NOTES_V1)
        .await
        .expect_err("store newer than the program");
    assert!(
        err.to_string().contains("newer than this program knows"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrations() {
    let (_dir, url) = fresh_sqlite();
    migrations_behave(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    migrations_behave(&url).await;
}

#[tokio::test]
async fn sqlite_is_durable_by_configuration() {
    let (_dir, url) = fresh_sqlite();
    let Store::Sqlite(db) = Store::open(&url).await.expect("open") else {
        panic!("a SQLite store");
    };
    let (mode, sync): (String, i64) = db
        .read(|c| {
            let mode = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let sync = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
            Ok((mode, sync))
        })
        .await
        .expect("pragmas");
    assert_eq!(
        (mode.as_str(), sync),
        ("wal", 2),
        "WAL with synchronous=FULL (2)"
    );
}

#[tokio::test]
async fn postgres_commits_synchronously() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let Store::Postgres(db) = Store::open(&url).await.expect("open") else {
        panic!("a Postgres store");
    };
    let client = db.client().await.expect("client");
    let row = client
        .query_one("SHOW synchronous_commit", &[])
        .await
        .expect("show");
    assert_eq!(row.get::<_, String>(0), "on");
}

#[tokio::test]
async fn bad_urls_are_refused_without_their_password() {
    let err = Store::open("postgres://app:CANARY-pw@127.0.0.1:1/db")
        .await
        .expect_err("no server on port 1");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("CANARY"), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
    let err = Store::open("mysql://x").await.expect_err("unknown scheme");
    assert!(err.to_string().contains("unknown store scheme"), "{err}");
}
