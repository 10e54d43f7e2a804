//! Postgres through tokio-postgres, with deadpool's pool of connections.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use crate::error::Error;

/// Connections kept open to the server at most, per process.
const POOL_SIZE: usize = 16;

/// A Postgres database. Cheap to clone.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    label: Arc<str>,
}

/// A pooled connection: derefs to a [`tokio_postgres::Client`], back to the pool on drop.
pub type Client = deadpool_postgres::Object;

impl Postgres {
    /// Connects to the database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DB`), checking
    /// once that it answers. Sessions commit synchronously (`synchronous_commit=on`, whatever
    /// the server's default), so a returned commit is on the server's disk. TLS is not
    /// offered: use a Unix socket or loopback address, or a tunnel.
    pub async fn connect(url: &str) -> Result<Postgres, Error> {
        let label: Arc<str> = super::redact(url).into();
        let mut config = tokio_postgres::Config::from_str(url).map_err(|err| {
            // The driver's message never quotes the URL, which may hold a password.
            Error::StoreUrl(format!("invalid Postgres URL {label}: {err}"))
        })?;
        config.options("-c synchronous_commit=on");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("connector-flows");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|err| Error::Store(format!("cannot build a pool for {label}: {err}")))?;
        let db = Postgres { pool, label };
        drop(db.client().await?);
        Ok(db)
    }

    /// A connection from the pool.
    pub async fn client(&self) -> Result<Client, Error> {
        self.pool.get().await.map_err(|err| Error::Postgres {
            action: "connecting",
            store: self.label.to_string(),
            message: pool_error(&err),
        })
    }

    /// The URL without its password.
    pub fn label(&self) -> String {
        self.label.to_string()
    }
}

/// The pool's error in words, its driver cause included (the driver never quotes the URL).
fn pool_error(err: &deadpool_postgres::PoolError) -> String {
    match err {
        deadpool_postgres::PoolError::Backend(err) => crate::error::postgres_message(err),
        other => other.to_string(),
    }
}
