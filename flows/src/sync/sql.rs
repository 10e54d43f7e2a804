//! SQL written once for both stores: statements use `?1`, `?2`, ... (rewritten to `$1`, `$2`
//! for Postgres), parameters and cells are integers or text, and a batch of statements runs in
//! one transaction, optionally guarded by a query that must return an expected value (the
//! lease check that fences a worker which lost its lease).

use std::error::Error as StdError;

use bytes::BytesMut;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

use crate::error::Error;
use crate::store::Store;

/// A parameter or cell: an integer or text, either possibly NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum P {
    /// An integer (BIGINT / INTEGER).
    Int(Option<i64>),
    /// Text.
    Text(Option<String>),
}

impl P {
    /// Text.
    pub fn text(s: impl Into<String>) -> P {
        P::Text(Some(s.into()))
    }

    /// An integer.
    pub fn int(n: i64) -> P {
        P::Int(Some(n))
    }

    /// The integer, if it is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            P::Int(n) => *n,
            P::Text(t) => t.as_deref().and_then(|t| t.parse().ok()),
        }
    }

    /// The text, if it is some.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            P::Text(t) => t.as_deref(),
            P::Int(_) => None,
        }
    }

    /// Takes the text out.
    pub fn into_text(self) -> Option<String> {
        match self {
            P::Text(t) => t,
            P::Int(n) => n.map(|n| n.to_string()),
        }
    }
}

impl ToSql for P {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            P::Int(n) => ToSql::to_sql(n, ty, out),
            P::Text(t) => ToSql::to_sql(t, ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <String as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl rusqlite::ToSql for P {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            P::Int(n) => rusqlite::ToSql::to_sql(n),
            P::Text(t) => rusqlite::ToSql::to_sql(t),
        }
    }
}

/// The type of a result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// BIGINT / INTEGER.
    Int,
    /// TEXT.
    Text,
}

/// One statement and its parameters.
#[derive(Debug, Clone)]
pub struct Stmt {
    /// The SQL with `?N` placeholders.
    pub sql: String,
    /// Its parameters.
    pub params: Vec<P>,
}

impl Stmt {
    /// A statement.
    pub fn new(sql: impl Into<String>, params: Vec<P>) -> Stmt {
        Stmt {
            sql: sql.into(),
            params,
        }
    }
}

/// `?N` placeholders as Postgres's `$N` (outside quoted text).
pub fn dollars(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

fn pg_fail<'a>(
    store: &'a Store,
    action: &'static str,
) -> impl Fn(tokio_postgres::Error) -> Error + 'a {
    move |err| Error::Postgres {
        action,
        store: store.label(),
        message: crate::error::postgres_message(&err),
    }
}

/// Runs a query; each row as cells of `kinds`.
pub async fn query(
    store: &Store,
    stmt: Stmt,
    kinds: &'static [Kind],
) -> Result<Vec<Vec<P>>, Error> {
    match store {
        Store::Sqlite(db) => {
            db.read(move |conn| {
                let mut statement = conn.prepare_cached(&stmt.sql)?;
                let params = rusqlite::params_from_iter(stmt.params.iter());
                let rows = statement.query_map(params, |row| sqlite_row(row, kinds))?;
                rows.collect()
            })
            .await
        }
        Store::Postgres(db) => {
            let client = db.client().await?;
            let params: Vec<&(dyn ToSql + Sync)> = stmt
                .params
                .iter()
                .map(|p| p as &(dyn ToSql + Sync))
                .collect();
            let rows = client
                .query(&dollars(&stmt.sql), &params)
                .await
                .map_err(pg_fail(store, "reading sync state"))?;
            rows.iter()
                .map(|row| pg_row(row, kinds))
                .collect::<Result<_, _>>()
                .map_err(pg_fail(store, "reading sync state"))
        }
    }
}

fn sqlite_row(row: &rusqlite::Row<'_>, kinds: &[Kind]) -> rusqlite::Result<Vec<P>> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind {
                Kind::Int => P::Int(row.get(i)?),
                Kind::Text => P::Text(row.get(i)?),
            })
        })
        .collect()
}

fn pg_row(row: &tokio_postgres::Row, kinds: &[Kind]) -> Result<Vec<P>, tokio_postgres::Error> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind {
                Kind::Int => P::Int(row.try_get(i)?),
                Kind::Text => P::Text(row.try_get(i)?),
            })
        })
        .collect()
}

/// A guard of a batch: `sql` must return one row whose first (text) cell is `expected`, else
/// the batch is not applied and [`Guarded::Refused`] is returned.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The query (it should lock what it reads: `FOR UPDATE` on Postgres; SQLite's write
    /// transaction holds the whole database).
    pub stmt: Stmt,
    /// The value it must return.
    pub expected: String,
}

/// What a guarded batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    /// Committed.
    Applied,
    /// The guard did not hold: nothing was written.
    Refused,
}

/// Runs `stmts` in one transaction (after `guard`, when given); all or nothing.
pub async fn batch(
    store: &Store,
    guard: Option<Guard>,
    stmts: Vec<Stmt>,
) -> Result<Guarded, Error> {
    match store {
        Store::Sqlite(db) => {
            db.write(move |tx| {
                if let Some(guard) = &guard {
                    let found: Option<String> = {
                        let mut statement = tx.prepare_cached(&guard.stmt.sql)?;
                        let mut rows = statement
                            .query(rusqlite::params_from_iter(guard.stmt.params.iter()))?;
                        match rows.next()? {
                            Some(row) => row.get(0)?,
                            None => None,
                        }
                    };
                    if found.as_deref() != Some(guard.expected.as_str()) {
                        return Ok(Guarded::Refused);
                    }
                }
                for stmt in &stmts {
                    let mut statement = tx.prepare_cached(&stmt.sql)?;
                    statement.execute(rusqlite::params_from_iter(stmt.params.iter()))?;
                }
                Ok(Guarded::Applied)
            })
            .await
        }
        Store::Postgres(db) => {
            let fail = pg_fail(store, "writing sync state");
            let mut client = db.client().await?;
            let tx = client.transaction().await.map_err(&fail)?;
            if let Some(guard) = &guard {
                let params: Vec<&(dyn ToSql + Sync)> = guard
                    .stmt
                    .params
                    .iter()
                    .map(|p| p as &(dyn ToSql + Sync))
                    .collect();
                let row = tx
                    .query_opt(&dollars(&guard.stmt.sql), &params)
                    .await
                    .map_err(&fail)?;
                let found: Option<String> = match row {
                    Some(row) => row.try_get(0).map_err(&fail)?,
                    None => None,
                };
                if found.as_deref() != Some(guard.expected.as_str()) {
                    tx.rollback().await.map_err(&fail)?;
                    return Ok(Guarded::Refused);
                }
            }
            // Prepared once per distinct text, then sent without waiting for each answer:
            // tokio-postgres pipelines the statements of futures polled together.
            let mut prepared = std::collections::HashMap::new();
            for stmt in &stmts {
                if !prepared.contains_key(&stmt.sql) {
                    let statement = tx.prepare(&dollars(&stmt.sql)).await.map_err(&fail)?;
                    prepared.insert(stmt.sql.clone(), statement);
                }
            }
            let mut runs = Vec::with_capacity(stmts.len());
            let tx_ref = &tx;
            for stmt in &stmts {
                let statement = &prepared[&stmt.sql];
                let params: Vec<&(dyn ToSql + Sync)> = stmt
                    .params
                    .iter()
                    .map(|p| p as &(dyn ToSql + Sync))
                    .collect();
                runs.push(async move { tx_ref.execute(statement, &params).await });
            }
            for result in futures_util::future::join_all(runs).await {
                result.map_err(&fail)?;
            }
            tx.commit().await.map_err(&fail)?;
            Ok(Guarded::Applied)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(
            dollars("a = ?1 AND b = '?x' AND c = ?12"),
            "a = $1 AND b = '?x' AND c = $12"
        );
    }
}
