//! A database table as a destination: created from the mapped records (scalar top-level fields
//! as typed columns, objects and arrays as JSON), grown by a column when a new field appears,
//! and written by upserts on the key column, a page in one transaction. Two bookkeeping
//! columns: `_synced_at_ms` (when the row was last written) and `_deleted_at_ms` (set by soft
//! deletes, cleared when the record comes back).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::sql::{self, Kind, Stmt, P};
use crate::error::Error;
use crate::store::Store;

/// A column's type, as the sync writes values into it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Int,
    Real,
    Bool,
    Text,
    Json,
    /// A column the table had already, of this SQL type (Postgres: its `data_type`).
    Other(String),
}

impl Column {
    fn of(value: &Value) -> Column {
        match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Column::Int,
            Value::Number(_) => Column::Real,
            Value::Bool(_) => Column::Bool,
            Value::Object(_) | Value::Array(_) => Column::Json,
            Value::String(_) | Value::Null => Column::Text,
        }
    }

    fn sql(&self, store: &Store) -> String {
        let postgres = matches!(store, Store::Postgres(_));
        match (self, postgres) {
            (Column::Int, false) | (Column::Bool, false) => "INTEGER".into(),
            (Column::Real, false) => "REAL".into(),
            (Column::Text, false) | (Column::Json, false) => "TEXT".into(),
            (Column::Int, true) => "BIGINT".into(),
            (Column::Real, true) => "DOUBLE PRECISION".into(),
            (Column::Bool, true) => "BOOLEAN".into(),
            (Column::Text, true) => "TEXT".into(),
            (Column::Json, true) => "JSONB".into(),
            (Column::Other(t), _) => t.clone(),
        }
    }

    fn read(sql_type: &str) -> Column {
        match sql_type.to_ascii_lowercase().as_str() {
            "bigint" | "integer" | "int" => Column::Int,
            "double precision" | "real" => Column::Real,
            "boolean" => Column::Bool,
            "text" => Column::Text,
            "jsonb" => Column::Json,
            other => Column::Other(other.to_owned()),
        }
    }
}

/// A table destination. Cheap to share; writes take its column lock.
#[derive(Debug)]
pub struct Table {
    store: Store,
    name: String,
    key: String,
    /// The table's columns once known (`None`: not created or read yet).
    columns: Mutex<Option<BTreeMap<String, Column>>>,
}

/// `"name"`, quoted for both dialects.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether `name` can be a column name (Postgres keeps at most 63 bytes).
pub fn column_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 63 || name.contains('\0') {
        Some(format!(
            "/{name}: a field name must be 1 to 63 bytes without NUL to be a column"
        ))
    } else if name.starts_with("_synced_at_ms") || name.starts_with("_deleted_at_ms") {
        Some(format!("/{name}: this column name is the sync's own"))
    } else {
        None
    }
}

impl Table {
    /// The table `name` of the database at `url`, keyed by `key`.
    pub async fn open(url: &str, name: &str, key: &str) -> Result<Table, Error> {
        let store = Store::open(url).await?;
        Ok(Table {
            store,
            name: name.to_owned(),
            key: key.to_owned(),
            columns: Mutex::new(None),
        })
    }

    /// The key column.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    async fn read_columns(&self) -> Result<BTreeMap<String, Column>, Error> {
        let postgres = matches!(self.store, Store::Postgres(_));
        let stmt = if postgres {
            Stmt::new(
                "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = ?1",
                vec![P::text(&self.name)],
            )
        } else {
            Stmt::new(
                "SELECT name, type FROM pragma_table_info(?1)",
                vec![P::text(&self.name)],
            )
        };
        let rows = sql::query(&self.store, stmt, &[Kind::Text, Kind::Text]).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let name = r[0].as_text().unwrap_or_default().to_owned();
                let column = Column::read(r[1].as_text().unwrap_or_default());
                (name, column)
            })
            .collect())
    }

    /// Creates the table, or adds the columns `records` need that it lacks.
    async fn ensure(
        &self,
        known: &mut Option<BTreeMap<String, Column>>,
        records: &[(Value, &Map<String, Value>)],
    ) -> Result<(), Error> {
        if known.is_none() {
            let existing = self.read_columns().await?;
            if existing.is_empty() {
                let key_type =
                    records
                        .first()
                        .map_or(Column::Text, |(key, _)| match Column::of(key) {
                            Column::Int => Column::Int,
                            _ => Column::Text,
                        });
                let sql = format!(
                    "CREATE TABLE IF NOT EXISTS {} ({} {} PRIMARY KEY, _synced_at_ms {}, _deleted_at_ms {})",
                    quote(&self.name),
                    quote(&self.key),
                    key_type.sql(&self.store),
                    Column::Int.sql(&self.store),
                    Column::Int.sql(&self.store),
                );
                sql::batch(&self.store, None, vec![Stmt::new(sql, vec![])]).await?;
                *known = Some(self.read_columns().await?);
            } else {
                *known = Some(existing);
            }
        }
        let Some(columns) = known.as_mut() else {
            return Ok(());
        };
        let mut wanted: BTreeMap<String, Column> = BTreeMap::new();
        for (_, record) in records {
            for (field, value) in record.iter() {
                if columns.contains_key(field) {
                    continue;
                }
                let column = Column::of(value);
                match wanted.get(field) {
                    Some(Column::Text) if !value.is_null() => {
                        wanted.insert(field.clone(), column);
                    }
                    Some(_) => {}
                    None => {
                        wanted.insert(field.clone(), column);
                    }
                }
            }
        }
        for (field, column) in wanted {
            let sql = format!(
                "ALTER TABLE {} ADD COLUMN {} {}",
                quote(&self.name),
                quote(&field),
                column.sql(&self.store)
            );
            // Another worker may have added it meanwhile: the columns are read again below.
            if let Err(err) = sql::batch(&self.store, None, vec![Stmt::new(sql, vec![])]).await {
                tracing::debug!(error = %err, column = %field, "adding a column failed; reading the columns again");
            }
        }
        *known = Some(self.read_columns().await?);
        Ok(())
    }

    fn value(&self, column: &Column, value: Option<&Value>) -> P {
        let postgres = matches!(self.store, Store::Postgres(_));
        match value {
            None | Some(Value::Null) => P::Text(None),
            Some(Value::Bool(b)) if !postgres => P::int(i64::from(*b)),
            Some(Value::Number(n)) if !postgres && n.is_i64() => P::Int(n.as_i64()),
            Some(Value::String(s)) => P::text(s),
            Some(other) if *column == Column::Json || !postgres => P::text(other.to_string()),
            Some(other) => P::text(other.to_string()),
        }
    }

    fn placeholder(&self, column: &Column, n: usize) -> String {
        match self.store {
            // The parameter is text, cast by the server: `CAST($n AS BIGINT)` alone would make
            // the driver expect a BIGINT parameter.
            Store::Postgres(_) => {
                format!("CAST(CAST(?{n} AS TEXT) AS {})", column.sql(&self.store))
            }
            Store::Sqlite(_) => format!("?{n}"),
        }
    }

    fn upsert_stmt(
        &self,
        columns: &BTreeMap<String, Column>,
        key: &Value,
        record: &Map<String, Value>,
        now: i64,
    ) -> Stmt {
        let key_column = columns.get(&self.key).cloned().unwrap_or(Column::Text);
        let mut names = vec![quote(&self.key)];
        let mut values = vec![self.placeholder(&key_column, 1)];
        let mut params = vec![match key {
            Value::String(s) => P::text(s),
            other => self.value(&key_column, Some(other)),
        }];
        for (name, column) in columns {
            if name == &self.key || name == "_synced_at_ms" || name == "_deleted_at_ms" {
                continue;
            }
            names.push(quote(name));
            params.push(self.value(column, record.get(name)));
            values.push(self.placeholder(column, params.len()));
        }
        names.push("_synced_at_ms".into());
        params.push(match self.store {
            Store::Postgres(_) => P::text(now.to_string()),
            Store::Sqlite(_) => P::int(now),
        });
        values.push(self.placeholder(&Column::Int, params.len()));
        let updates: Vec<String> = names[1..]
            .iter()
            .map(|n| format!("{n} = excluded.{n}"))
            .chain(["_deleted_at_ms = NULL".to_owned()])
            .collect();
        Stmt::new(
            format!(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
                quote(&self.name),
                names.join(", "),
                values.join(", "),
                quote(&self.key),
                updates.join(", ")
            ),
            params,
        )
    }

    /// Upserts `rows` (key, record) in one transaction; when that fails, row by row, so that
    /// only the rows the database refuses fail (with its message).
    pub async fn upsert(
        &self,
        rows: &[(Value, &Map<String, Value>)],
    ) -> Result<Vec<Result<(), String>>, Error> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut known = self.columns.lock().await;
        self.ensure(&mut known, rows).await?;
        let columns = known.clone().unwrap_or_default();
        let now = crate::now_ms();
        let stmts: Vec<Stmt> = rows
            .iter()
            .map(|(key, record)| self.upsert_stmt(&columns, key, record, now))
            .collect();
        if sql::batch(&self.store, None, stmts.clone()).await.is_ok() {
            return Ok(vec![Ok(()); rows.len()]);
        }
        let mut out = Vec::with_capacity(rows.len());
        for stmt in stmts {
            out.push(
                sql::batch(&self.store, None, vec![stmt])
                    .await
                    .map(drop)
                    .map_err(|e| format!("the database refused the row: {e}")),
            );
        }
        Ok(out)
    }

    /// Deletes the rows of `keys` (`soft`: sets their `_deleted_at_ms`).
    pub async fn delete(&self, keys: &[Value], soft: bool) -> Result<(), Error> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut known = self.columns.lock().await;
        if known.is_none() {
            let existing = self.read_columns().await?;
            if existing.is_empty() {
                return Ok(());
            }
            *known = Some(existing);
        }
        let key_column = known
            .as_ref()
            .and_then(|c| c.get(&self.key).cloned())
            .unwrap_or(Column::Text);
        let now = crate::now_ms();
        let stmts = keys
            .iter()
            .map(|key| {
                let key_param = match key {
                    Value::String(s) => P::text(s),
                    other => self.value(&key_column, Some(other)),
                };
                let at = self.placeholder(&key_column, 1);
                if soft {
                    let when = match self.store {
                        Store::Postgres(_) => P::text(now.to_string()),
                        Store::Sqlite(_) => P::int(now),
                    };
                    Stmt::new(
                        format!(
                            "UPDATE {} SET _deleted_at_ms = {} WHERE {} = {at}",
                            quote(&self.name),
                            self.placeholder(&Column::Int, 2),
                            quote(&self.key)
                        ),
                        vec![key_param, when],
                    )
                } else {
                    Stmt::new(
                        format!(
                            "DELETE FROM {} WHERE {} = {at}",
                            quote(&self.name),
                            quote(&self.key)
                        ),
                        vec![key_param],
                    )
                }
            })
            .collect();
        sql::batch(&self.store, None, stmts).await.map(drop)
    }
}
