//! The crate's one error type.

/// What can go wrong in a store, the receiver or delivery. Messages never hold a secret: store
/// URLs are printed without their password, and no payload or signature is quoted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A store URL that cannot be used.
    #[error("{0}")]
    StoreUrl(String),
    /// SQLite failed.
    #[error("SQLite failed {action}")]
    Sqlite {
        /// What was being done.
        action: &'static str,
        /// The driver's error.
        #[source]
        source: rusqlite::Error,
    },
    /// Postgres failed.
    #[error("Postgres ({store}) failed {action}: {message}")]
    Postgres {
        /// What was being done.
        action: &'static str,
        /// The store's URL without its password.
        store: String,
        /// The driver's message (with the server's, when it sent one).
        message: String,
    },
    /// Another store problem, in words.
    #[error("{0}")]
    Store(String),
    /// A problem with the receiver's or delivery's configuration.
    #[error("{0}")]
    Config(String),
    /// A sync definition with mistakes, every one listed, each naming its key.
    #[error("{file}: {}", Listed(problems))]
    SyncFile {
        /// The definition file.
        file: String,
        /// Each problem, as `source.entity: the connector has no entity ...`.
        problems: Vec<String>,
    },
    /// A call to a source's or destination's API failed (after the runtime's retries).
    #[error("{what}")]
    Api {
        /// What the sync was doing (`listing orders of shop`).
        what: String,
        /// The runtime's error: its status, and whether it was a connection failure.
        #[source]
        source: connector_runtime::Error,
    },
    /// The sync's lease was taken by another worker while this one ran (it was paused past
    /// the lease): it stopped without committing anything more.
    #[error("the lease of sync `{0}` was lost to another worker; this run stopped")]
    LeaseLost(String),
    /// Another worker holds the sync's lease (it is running the sync).
    #[error("sync `{sync}` is running in worker {worker} (its lease expires at {expires_ms} ms since the epoch); try later")]
    Busy {
        /// The sync.
        sync: String,
        /// The worker holding it.
        worker: String,
        /// When its lease expires.
        expires_ms: i64,
    },
    /// Reading or writing a file, or running a command, failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done.
        action: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl From<rusqlite::Error> for Error {
    fn from(source: rusqlite::Error) -> Self {
        Error::Sqlite {
            action: "running a query",
            source,
        }
    }
}

/// A tokio-postgres error with the server's own message when there is one (its `Display`
/// alone says only "db error").
pub(crate) fn postgres_message(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => {
            let mut message = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            message
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(err: tokio_postgres::Error) -> Self {
        Error::Postgres {
            action: "running a query",
            store: "postgres".into(),
            message: postgres_message(&err),
        }
    }
}

/// Problems as one line when there is one, else counted and listed one a line.
struct Listed<'a>(&'a [String]);

impl std::fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            [one] => f.write_str(one),
            many => {
                write!(f, "{} problems", many.len())?;
                for problem in many {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
        }
    }
}
