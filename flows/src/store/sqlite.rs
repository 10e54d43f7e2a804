//! SQLite through rusqlite: one writer connection (SQLite allows one writer at a time anyway)
//! and a few reader connections, which WAL mode lets read while the writer writes. Every call
//! runs on tokio's blocking pool, so async callers never block a worker thread on disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction};

use crate::error::Error;

/// How many idle reader connections are kept.
const READERS: usize = 4;

/// A SQLite database file. Cheap to clone.
#[derive(Clone)]
pub struct Sqlite {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl Sqlite {
    /// Opens (creating when missing) the database at `path`, in WAL mode with
    /// `synchronous=FULL`: a transaction that returned from commit is on disk.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Sqlite, Error> {
        let path = path.into();
        let opened = path.clone();
        let writer = blocking(move || open(&opened, true)).await??;
        Ok(Sqlite {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`), committed when `f` returns `Ok`
    /// and rolled back otherwise. Writes are serialised: one at a time per store, which is all
    /// SQLite allows; batch several changes into one call to share a commit (and its fsync).
    pub async fn write<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            // A panic while the lock was held leaves a connection that still works: SQLite
            // rolled the transaction back when it was dropped.
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let tx =
                rusqlite::Transaction::new(&mut conn, rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await?
    }

    /// Runs `f` on a reader connection: it sees what was committed before it started, and
    /// does not wait for the writer.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let idle = inner
                .readers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop();
            let conn = match idle {
                Some(conn) => conn,
                None => open(&inner.path, false)?,
            };
            let value = f(&conn);
            let mut readers = inner.readers.lock().unwrap_or_else(|p| p.into_inner());
            if readers.len() < READERS {
                readers.push(conn);
            }
            Ok(value?)
        })
        .await?
    }
}

/// Opens one connection with the store's settings; the writer also sets the journal mode,
/// which is a property of the file.
fn open(path: &Path, writer: bool) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|source| Error::Sqlite {
        action: "opening the database",
        source,
    })?;
    conn.busy_timeout(Duration::from_secs(10))?;
    if writer {
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Store(format!(
                "SQLite refused WAL mode (it kept `{mode}`) for {}",
                path.display()
            )));
        }
    }
    // FULL: the WAL is synced at every commit, so an acknowledged write survives a power cut;
    // NORMAL would lose the last commits then.
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
    Ok(conn)
}

/// Runs blocking database work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|err| Error::Store(format!("a database task failed: {err}")))
}
