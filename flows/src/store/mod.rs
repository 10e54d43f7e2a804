//! One store over SQLite and Postgres: an enum over the native drivers, opened from a URL.
//!
//! The store layer knows connections, durability and migrations, nothing about what the tables
//! hold: each part of the crate (events here, sync state next) owns its tables, writes its
//! migrations as versioned SQL files beside each other for both dialects, and runs its queries on
//! the native connection of each variant:
//!
//! ```no_run
//! # async fn demo() -> Result<(), connector_flows::Error> {
//! use connector_flows::store::{Migration, Migrations, Store};
//!
//! static NOTES: Migrations = Migrations {
//!     component: "notes",
//!     steps: &[Migration {
//!         version: 1,
//!         name: "notes",
//!         sqlite: "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",
//!         postgres: "CREATE TABLE notes (id BIGINT PRIMARY KEY, text TEXT NOT NULL)",
//!     }],
//! };
//!
//! let store = Store::open("sqlite:flows.db").await?;
//! store.migrate(&NOTES).await?;
//! match &store {
//!     Store::Sqlite(db) => {
//!         db.write(|tx| tx.execute("INSERT INTO notes VALUES (1, 'hi')", []).map(drop))
//!             .await?
//!     }
//!     Store::Postgres(db) => {
//!         let client = db.client().await?;
//!         client.execute("INSERT INTO notes VALUES (1, 'hi')", &[]).await?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Durability is explicit: SQLite runs in WAL mode with `synchronous=FULL`, so a committed
//! write survives a power cut, not only a crash of the process; Postgres sessions set
//! `synchronous_commit=on`, so a commit returns once its WAL is flushed. Either way, a caller
//! that acknowledges after the commit has returned acknowledges only what is stored.

mod migrate;
mod postgres;
mod sqlite;

use std::fmt;
use std::path::PathBuf;

pub use migrate::{Migration, Migrations};
pub use postgres::{Client as PostgresClient, Postgres};
/// The SQLite driver, re-exported so that code on a [`Sqlite`] store uses the same version.
pub use rusqlite;
pub use sqlite::Sqlite;
/// The Postgres driver, re-exported so that code on a [`Postgres`] store uses the same version.
pub use tokio_postgres;

use crate::error::Error;

/// A store: a SQLite file (one process, or several on one machine) or a Postgres database
/// (several processes, on several machines, sharing it). Cheap to clone: both variants hold
/// their pool behind an `Arc`.
#[derive(Clone)]
pub enum Store {
    /// A SQLite database file.
    Sqlite(Sqlite),
    /// A Postgres database.
    Postgres(Postgres),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Store::Sqlite(db) => f.debug_tuple("Sqlite").field(&db.path()).finish(),
            // The URL may hold a password: only the redacted form is ever printed.
            Store::Postgres(db) => f.debug_tuple("Postgres").field(&db.label()).finish(),
        }
    }
}

/// Where a store is, as parsed from its URL.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite:PATH`, `sqlite://PATH` or a plain path: a SQLite file.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: a Postgres connection string.
    Postgres(String),
}

impl StoreUrl {
    /// Parses a store URL: `postgres://USER:PASSWORD@HOST:PORT/DB` (or `postgresql://`), or
    /// `sqlite:PATH` / `sqlite://PATH` / a path for a SQLite file (created when missing).
    pub fn parse(url: &str) -> Result<StoreUrl, Error> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::StoreUrl("the store URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err(Error::StoreUrl(
                "`sqlite:` needs a file path, such as sqlite:events.db".into(),
            ));
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(Error::StoreUrl(format!(
                "unknown store scheme `{scheme}`: use sqlite:PATH or postgres://USER@HOST/DB"
            )));
        }
        Ok(StoreUrl::Sqlite(PathBuf::from(path)))
    }
}

impl fmt::Display for StoreUrl {
    /// The URL with any password replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            StoreUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A Postgres URL without its password (`postgres://user:***@host/db`).
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "postgres://***".into();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            if user_info.contains(':') {
                format!("{scheme}://{user}:***@{host}{}", strip_password(tail))
            } else {
                format!("{scheme}://{user}@{host}{}", strip_password(tail))
            }
        }
        None => format!("{scheme}://{authority}{}", strip_password(tail)),
    }
}

/// The query string without a `password=` parameter's value.
fn strip_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

impl Store {
    /// Opens the store at `url` (see [`StoreUrl::parse`]): a SQLite file is created when
    /// missing; a Postgres server is connected to once, so that a wrong URL or password fails
    /// here rather than at the first event.
    pub async fn open(url: &str) -> Result<Store, Error> {
        match StoreUrl::parse(url)? {
            StoreUrl::Sqlite(path) => Ok(Store::Sqlite(Sqlite::open(path).await?)),
            StoreUrl::Postgres(url) => Ok(Store::Postgres(Postgres::connect(&url).await?)),
        }
    }

    /// Brings `migrations` up to date (see [`Migrations`]); safe to call from several processes
    /// at once.
    pub async fn migrate(&self, migrations: &'static Migrations) -> Result<(), Error> {
        match self {
            Store::Sqlite(db) => migrate::sqlite(db, migrations).await,
            Store::Postgres(db) => migrate::postgres(db, migrations).await,
        }
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Where the store is, for messages: the SQLite path, or the Postgres URL without its
    /// password.
    pub fn label(&self) -> String {
        match self {
            Store::Sqlite(db) => format!("sqlite:{}", db.path().display()),
            Store::Postgres(db) => db.label(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            StoreUrl::parse("sqlite:a/b.db").ok(),
            Some(StoreUrl::Sqlite("a/b.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///tmp/x.db").ok(),
            Some(StoreUrl::Sqlite("/tmp/x.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("events.db").ok(),
            Some(StoreUrl::Sqlite("events.db".into()))
        );
        assert!(StoreUrl::parse("mysql://x").is_err());
        assert!(StoreUrl::parse("sqlite:").is_err());
        assert!(StoreUrl::parse("  ").is_err());
    }

    #[test]
    fn passwords_never_print() {
        let url = StoreUrl::parse(
            "postgres://app:s3cr3t-CANARY@db.local:5432/events?sslmode=disable&password=CANARY2",
        )
        .unwrap_or(StoreUrl::Sqlite("x".into()));
        let shown = format!("{url} {url:?}");
        assert!(!shown.contains("CANARY"), "{shown}");
        assert!(
            shown.contains("postgres://app:***@db.local:5432/events"),
            "{shown}"
        );
        assert_eq!(redact("postgres://db.local/x"), "postgres://db.local/x");
        assert_eq!(
            redact("postgres://me@db.local/x"),
            "postgres://me@db.local/x"
        );
    }
}
