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
