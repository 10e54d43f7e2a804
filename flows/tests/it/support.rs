//! Helpers: a fresh SQLite file or Postgres database per test.

use std::sync::atomic::{AtomicU32, Ordering};

use connector_flows::store::Store;

/// The server scripts/test.sh started, as `postgres://USER@HOST:PORT/DB`.
pub fn postgres_server() -> Option<String> {
    match std::env::var("CONNECTOR_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("POSTGRES_REQUIRED").as_deref() != Ok("1"),
                "POSTGRES_REQUIRED=1 but CONNECTOR_TEST_POSTGRES_URL is not set (scripts/test.sh starts a server)"
            );
            eprintln!(
                "SKIPPED: no Postgres server (CONNECTOR_TEST_POSTGRES_URL); run scripts/test.sh"
            );
            None
        }
    }
}

/// A new, empty database on the test server, as its URL.
pub async fn fresh_postgres() -> Option<String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = postgres_server()?;
    let name = format!(
        "flows_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let Ok(Store::Postgres(admin)) = Store::open(&server).await else {
        panic!("cannot connect to the test Postgres server");
    };
    let client = admin.client().await.expect("a connection");
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("creating a test database");
    let (base, _) = server.rsplit_once('/').expect("a database in the URL");
    Some(format!("{base}/{name}"))
}

/// A SQLite store URL in a new temporary folder (kept alive by the returned guard).
pub fn fresh_sqlite() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite:{}", dir.path().join("events.db").display());
    (dir, url)
}
