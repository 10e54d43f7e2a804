//! `connector-gen sync` against two loopback APIs with real state (the shop and the CRM of
//! specs/shop.yaml and specs/crm.yaml) and SQLite and Postgres tables.

#![allow(dead_code)]

pub mod apis;
mod basics;
mod change;
mod kill;
mod measure;
mod pages;
mod samples;
mod workers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use apis::{Crm, Shop, CRM_TOKEN, SHOP_KEY};

/// The two APIs, served, with connection files and sync files in a temporary folder.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub shop: Shop,
    pub crm: Crm,
}

/// Starts the shop and the CRM and writes their connection files (`shop.toml`, `crm.toml`).
pub async fn fixture() -> Fixture {
    let shop = Shop::default();
    let crm = Crm::default();
    let shop_addr = apis::serve(shop.router()).await;
    let crm_addr = apis::serve(crm.router()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shop.toml"),
        format!(
            "connector = \"shop\"\nbase_url = \"http://{shop_addr}\"\nallow_http_loopback = true\n\n[credentials.shop_key]\nkey = {{ env = \"SHOP_KEY\" }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("crm.toml"),
        format!(
            "connector = \"crm\"\nbase_url = \"http://{crm_addr}\"\nallow_http_loopback = true\n\n[credentials.token]\ntoken = {{ env = \"CRM_TOKEN\" }}\n"
        ),
    )
    .unwrap();
    Fixture { dir, shop, crm }
}

pub fn spec(name: &str) -> String {
    crate::support::repo()
        .join("specs")
        .join(name)
        .display()
        .to_string()
}

/// A shop-to-CRM sync file (extra TOML appended), as `orders-to-crm.toml`.
pub const CRM_MAPPING: &str = r#"{title: "Order \(.number)", amount: (.total_cents / 100), currency: .currency, externalId: (.id | tostring), contact: .customer.name, stage: (if .status == "paid" then "won" elif .status == "cancelled" then "lost" else "new" end), archived: false}"#;

impl Fixture {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a sync file `name` from the shop's orders to `destination` (TOML of the
    /// `[destination]` table's keys) with `extra` tables after it.
    pub fn sync_file(&self, name: &str, destination: &str, extra: &str) -> PathBuf {
        let text = format!(
            r#"name = "{stem}"

[source]
connector = "{shop}"
connection = "shop.toml"
entity = "shop_orders"
scope = {{ shopId = "42" }}
incremental = {{ field = "updated_at", param = "updated_since" }}
page_size = 100

[destination]
{destination}

{extra}
"#,
            stem = name.trim_end_matches(".toml"),
            shop = spec("shop.yaml"),
        );
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The CRM destination's keys.
    pub fn crm_destination(&self) -> String {
        format!(
            "connector = \"{}\"\nconnection = \"crm.toml\"\nentity = \"deals\"\nmatch = \"externalId\"",
            spec("crm.yaml")
        )
    }

    /// A sync into the CRM, with the usual mapping.
    pub fn crm_sync(&self, name: &str, extra: &str) -> PathBuf {
        let extra = format!("[mapping]\njq = '{CRM_MAPPING}'\n\n{extra}");
        self.sync_file(name, &self.crm_destination(), &extra)
    }

    /// A sync into a table of `database`.
    pub fn table_sync(&self, name: &str, database: &str, extra: &str) -> PathBuf {
        let mapping = r#"[mapping]
jq = '{id, number, customer: .customer.name, email: .customer.email, total: (.total_cents / 100), currency, status, details: {customer: .customer}, updated_at}'
"#;
        self.sync_file(
            name,
            &format!("database = \"{database}\"\ntable = \"orders\""),
            &format!("{mapping}\n{extra}"),
        )
    }

    /// `connector-gen ARGS` with the credentials in the environment.
    pub fn command(&self, args: &[&str]) -> Command {
        // SYNC_BENCH_BIN: another build of the binary (a release build, for measurements).
        let binary = std::env::var_os("SYNC_BENCH_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_connector-gen").into());
        let mut command = Command::new(binary);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("SHOP_KEY", SHOP_KEY)
            .env("CRM_TOKEN", CRM_TOKEN)
            .stdin(Stdio::null());
        command
    }

    /// Runs `connector-gen sync ARGS` to its end (off the async workers, which serve the APIs).
    pub async fn sync(&self, args: &[&str]) -> Output {
        let mut command = self.command(&["sync"]);
        command.args(args);
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    }

    /// Like [`sync`](Self::sync), expecting exit code `code`; the report (stdout's last line).
    pub async fn sync_ok(&self, args: &[&str], code: i32) -> serde_json::Value {
        let output = self.sync(args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(code),
            "sync {args:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or(serde_json::Value::Null)
    }
}

/// The rows of `table` in the SQLite file `path`, as JSON objects keyed by column.
pub fn sqlite_rows(path: &Path, table: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let conn = connector_flows::store::rusqlite::Connection::open(path).unwrap();
    let mut statement = conn
        .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))
        .unwrap();
    let names: Vec<String> = statement
        .column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows = statement
        .query_map([], |row| {
            let mut map = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                use connector_flows::store::rusqlite::types::ValueRef;
                let value = match row.get_ref(i)? {
                    ValueRef::Null => serde_json::Value::Null,
                    ValueRef::Integer(n) => n.into(),
                    ValueRef::Real(f) => f.into(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                    ValueRef::Blob(_) => "(blob)".into(),
                };
                map.insert(name.clone(), value);
            }
            Ok(map)
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

pub use crate::flows_support::fresh_postgres;

/// A client of the database at `url`.
pub async fn postgres_client(url: &str) -> connector_flows::store::PostgresClient {
    let Ok(connector_flows::store::Store::Postgres(db)) =
        connector_flows::store::Store::open(url).await
    else {
        panic!("cannot connect to the test Postgres server");
    };
    db.client().await.unwrap()
}
