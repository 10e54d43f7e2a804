//! Versioned migrations: each component of the crate (events, sync, ...) owns a list of steps,
//! each written for both dialects, applied in order and recorded in `flows_migrations`.

use super::{Postgres, Sqlite};
use crate::error::Error;

/// One step of a component's schema, in both dialects.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// 1, 2, 3, ... in order, never reused.
    pub version: u32,
    /// A few words on what it does.
    pub name: &'static str,
    /// The SQL for SQLite (several statements allowed).
    pub sqlite: &'static str,
    /// The SQL for Postgres (several statements allowed).
    pub postgres: &'static str,
}

/// The migrations of one component, applied in version order. Steps already applied are never
/// run again nor edited: a change is a new step.
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    /// The component's name, the key of its rows in `flows_migrations`.
    pub component: &'static str,
    /// Its steps, versions 1, 2, 3, ...
    pub steps: &'static [Migration],
}

const SQLITE_TABLE: &str = "CREATE TABLE IF NOT EXISTS flows_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at_ms INTEGER NOT NULL,
    PRIMARY KEY (component, version)
)";

const POSTGRES_TABLE: &str = "CREATE TABLE IF NOT EXISTS flows_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    applied_at_ms BIGINT NOT NULL,
    PRIMARY KEY (component, version)
)";

/// Applies the steps SQLite lacks, all in one write transaction (which also keeps a second
/// process from migrating at the same time).
pub(super) async fn sqlite(db: &Sqlite, migrations: &'static Migrations) -> Result<(), Error> {
    check_steps(migrations)?;
    let outcome = db
        .write(move |tx| {
            tx.execute_batch(SQLITE_TABLE)?;
            let current: i64 = tx.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM flows_migrations WHERE component = ?1",
                [migrations.component],
                |row| row.get(0),
            )?;
            if current > i64::from(latest(migrations)) {
                return Ok(Err(current));
            }
            for step in migrations
                .steps
                .iter()
                .filter(|s| i64::from(s.version) > current)
            {
                tx.execute_batch(step.sqlite)?;
                tx.execute(
                    "INSERT INTO flows_migrations (component, version, name, applied_at_ms) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![migrations.component, step.version, step.name, crate::now_ms()],
                )?;
            }
            Ok(Ok(()))
        })
        .await?;
    outcome.map_err(|found| too_new(migrations, found))
}

/// Applies the steps Postgres lacks in one transaction, under an advisory lock so that
/// receivers starting together do not migrate twice.
pub(super) async fn postgres(db: &Postgres, migrations: &'static Migrations) -> Result<(), Error> {
    check_steps(migrations)?;
    let fail = |err: tokio_postgres::Error| Error::Postgres {
        action: "migrating",
        store: db.label(),
        message: crate::error::postgres_message(&err),
    };
    let mut client = db.client().await?;
    let tx = client.transaction().await.map_err(fail)?;
    // One lock for every component: migrations are rare and short.
    tx.execute("SELECT pg_advisory_xact_lock(7318842650419)", &[])
        .await
        .map_err(fail)?;
    tx.batch_execute(POSTGRES_TABLE).await.map_err(fail)?;
    let row = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM flows_migrations WHERE component = $1",
            &[&migrations.component],
        )
        .await
        .map_err(fail)?;
    let current: i32 = row.try_get(0).map_err(fail)?;
    if i64::from(current) > i64::from(latest(migrations)) {
        return Err(too_new(migrations, i64::from(current)));
    }
    for step in migrations
        .steps
        .iter()
        .filter(|s| i64::from(s.version) > i64::from(current))
    {
        tx.batch_execute(step.postgres).await.map_err(fail)?;
        let version = i32::try_from(step.version).unwrap_or(i32::MAX);
        tx.execute(
            "INSERT INTO flows_migrations (component, version, name, applied_at_ms) VALUES ($1, $2, $3, $4)",
            &[&migrations.component, &version, &step.name, &crate::now_ms()],
        )
        .await
        .map_err(fail)?;
    }
    tx.commit().await.map_err(fail)
}

fn latest(migrations: &Migrations) -> u32 {
    migrations
        .steps
        .iter()
        .map(|s| s.version)
        .max()
        .unwrap_or(0)
}

/// Steps must be numbered 1, 2, 3, ... in order: a gap or a repeat is a bug of this crate, caught
/// before anything is applied.
fn check_steps(migrations: &Migrations) -> Result<(), Error> {
    for (index, step) in migrations.steps.iter().enumerate() {
        if usize::try_from(step.version).ok() != Some(index + 1) {
            return Err(Error::Store(format!(
                "the migrations of `{}` are not numbered 1, 2, 3, ...: step {} has version {}",
                migrations.component,
                index + 1,
                step.version
            )));
        }
    }
    Ok(())
}

fn too_new(migrations: &Migrations, found: i64) -> Error {
    Error::Store(format!(
        "the store's `{}` tables are at version {found}, newer than this program knows ({}): use a newer connector-gen with this store",
        migrations.component,
        latest(migrations)
    ))
}
