//! The sync file (`sync.toml`, or YAML): what it may say, read with every mistake of form
//! reported at once, each naming its key. Paths in it are relative to the file. Whether the
//! entities, operations and fields it names exist is checked later, against the connectors
//! (see [`super::Sync`]), still before anything is read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::schedule::{parse_duration, Cron};
use crate::error::Error;

/// A sync definition, as read from its file.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The file it was read from (messages name it).
    pub file: PathBuf,
    /// The sync's name: its key in the state store.
    pub name: String,
    /// Where records come from.
    pub source: SourceDef,
    /// Where they go.
    pub destination: DestinationDef,
    /// How a source record becomes a destination record (`None`: as it is).
    pub mapping: Option<MappingDef>,
    /// What happens to destination records whose source record disappeared.
    pub deletes: DeletesDef,
    /// When `--watch` runs it.
    pub schedule: ScheduleDef,
    /// Where its state is kept.
    pub state: StateDef,
    /// The events that trigger it (`schedule.on_change`).
    pub events: Option<EventsDef>,
}

/// A connector and connection, as the source or an API destination names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The spec or manifest (`None`: the caller supplies the connection).
    pub connector: Option<PathBuf>,
    /// For a manifest: the version (default: the connection's, else the newest active one).
    pub version: Option<String>,
    /// The connection file.
    pub connection: Option<PathBuf>,
    /// The entity.
    pub entity: String,
    /// Scope parameters of a scoped entity (`shopId`).
    pub scope: Map<String, Value>,
}

/// `[source]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDef {
    /// The connector, connection and entity.
    pub endpoint: Endpoint,
    /// The record field that identifies a record (default: the entity's key).
    pub key: Option<String>,
    /// Incremental reads, when the List action can ask for changes only.
    pub incremental: Option<Incremental>,
    /// Records per page asked for.
    pub page_size: Option<u64>,
}

/// `source.incremental`: the record field that grows with each change, and the List
/// parameter that asks for records whose field is at or after a value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incremental {
    /// The record field (`updated_at`).
    pub field: String,
    /// The List action's parameter (`updated_since`).
    pub param: String,
}

/// `[destination]`: an entity of another connector, or a database table.
#[derive(Debug, Clone, PartialEq)]
pub enum DestinationDef {
    /// An entity of a connector.
    Api {
        /// The connector, connection and entity.
        endpoint: Endpoint,
        /// Finding an existing record for a source record that has none yet.
        matching: Option<Match>,
    },
    /// A table of a database.
    Table {
        /// `sqlite:PATH` or `postgres://…` (a relative SQLite path is relative to the file).
        database: String,
        /// The table's name.
        table: String,
        /// The mapped record's field that keys the rows (default: the source's key field).
        key: Option<String>,
    },
}

/// `destination.match`: the mapped record's field and the destination List parameter that
/// finds records by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The field of the mapped record (`externalId`).
    pub field: String,
    /// The List action's parameter (default: the field's name).
    pub param: String,
}

/// `[mapping]`.
#[derive(Debug, Clone, PartialEq)]
pub enum MappingDef {
    /// A jq program run on each record.
    Jq {
        /// The program.
        program: String,
        /// Its limits.
        limits: super::jq::Limits,
    },
    /// Destination field = dotted path of a source field.
    Fields(Vec<(String, String)>),
}

/// `[deletes]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeletesDef {
    /// What happens.
    pub mode: DeleteMode,
    /// `soft` on an API destination: the change that marks a record (`{archived = true}`).
    pub patch: Option<Value>,
}

/// What happens to a destination record whose source record is gone (seen on full scans).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeleteMode {
    /// Nothing.
    #[default]
    Ignore,
    /// Marked: `deletes.patch` sent as an update, or the row's `_deleted_at_ms` set.
    Soft,
    /// Deleted.
    Hard,
}

/// `[schedule]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScheduleDef {
    /// Run this often.
    pub every: Option<Duration>,
    /// Run at these times (UTC).
    pub cron: Option<Cron>,
    /// Run for the records named by stored events (see [`EventsDef`]).
    pub on_change: bool,
}

/// `[state]`.
#[derive(Debug, Clone, PartialEq)]
pub struct StateDef {
    /// The store URL (default: `sqlite:NAME.state.db` beside the file).
    pub store: String,
    /// How long a worker's lease on the sync lasts without renewal (default 30 s).
    pub lease: Duration,
}

/// `[events]`: where the webhook receiver stores the source's events, and how an event names
/// its record.
#[derive(Debug, Clone, PartialEq)]
pub struct EventsDef {
    /// The event store's URL (default: `sqlite:events.db` beside the file).
    pub store: String,
    /// Only events stored under this source (the `listen --source`).
    pub source: Option<String>,
    /// Only events of these types (default: every type).
    pub types: Vec<String>,
    /// JSON pointer to the record's key in the event's payload (default `/id`).
    pub key: String,
}

// The file's raw shape: every table and key, unknown ones refused.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: String,
    source: RawSource,
    destination: RawDestination,
    mapping: Option<RawMapping>,
    #[serde(default)]
    deletes: RawDeletes,
    #[serde(default)]
    schedule: RawSchedule,
    #[serde(default)]
    state: RawState,
    events: Option<RawEvents>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    connector: Option<String>,
    version: Option<String>,
    connection: Option<String>,
    entity: String,
    #[serde(default)]
    scope: Map<String, Value>,
    key: Option<String>,
    incremental: Option<Incremental>,
    page_size: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDestination {
    connector: Option<String>,
    version: Option<String>,
    connection: Option<String>,
    entity: Option<String>,
    #[serde(default)]
    scope: Map<String, Value>,
    #[serde(rename = "match")]
    matching: Option<RawMatch>,
    database: Option<String>,
    table: Option<String>,
    key: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawMatch {
    Field(String),
    Full {
        field: String,
        param: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    jq: Option<String>,
    /// Kept in the file's order (serde_json's map preserves it in this workspace).
    fields: Option<Map<String, Value>>,
    max_steps: Option<u64>,
    max_time_ms: Option<u64>,
    max_size: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDeletes {
    #[serde(default)]
    mode: DeleteMode,
    patch: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    every: Option<String>,
    cron: Option<String>,
    #[serde(default)]
    on_change: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawState {
    store: Option<String>,
    lease: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvents {
    store: Option<String>,
    source: Option<String>,
    #[serde(default)]
    types: Vec<String>,
    key: Option<String>,
}

impl Definition {
    /// Reads the sync file at `path` (TOML, or YAML for `.yaml`/`.yml`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Definition, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            action: format!("reading the sync file {}", path.display()),
            source,
        })?;
        Definition::from_text(&text, path)
    }

    /// Reads a sync definition from `text`, as if it were the file `path` (its format and the
    /// folder relative paths start from follow the path).
    pub fn from_text(text: &str, path: &Path) -> Result<Definition, Error> {
        let file = path.display().to_string();
        let fail = |problems: Vec<String>| Error::SyncFile {
            file: file.clone(),
            problems,
        };
        let yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        let raw: RawFile = if yaml {
            serde_yaml::from_str(text).map_err(|e| fail(vec![yaml_message(&e)]))?
        } else {
            toml::from_str(text).map_err(|e| fail(vec![toml_message(&e)]))?
        };
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut problems = Vec::new();
        let definition = build(raw, path, &dir, &mut problems);
        if problems.is_empty() {
            Ok(definition)
        } else {
            Err(fail(problems))
        }
    }

    /// The source's endpoint.
    pub fn source_endpoint(&self) -> &Endpoint {
        &self.source.endpoint
    }
}

fn toml_message(err: &toml::de::Error) -> String {
    let keys = err.message().to_owned();
    match err.span() {
        Some(span) => format!("{keys} (at byte {})", span.start),
        None => keys,
    }
}

fn yaml_message(err: &serde_yaml::Error) -> String {
    match err.location() {
        Some(at) => format!("{err} (line {})", at.line()),
        None => err.to_string(),
    }
}

/// A relative path of the file taken from the file's folder.
fn relative(dir: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

/// A store or database URL whose SQLite path is relative to the file's folder.
fn store_url(dir: &Path, url: &str) -> String {
    match crate::store::StoreUrl::parse(url) {
        Ok(crate::store::StoreUrl::Sqlite(path)) if path.is_relative() => {
            format!("sqlite:{}", dir.join(path).display())
        }
        _ => url.to_owned(),
    }
}

fn build(raw: RawFile, path: &Path, dir: &Path, problems: &mut Vec<String>) -> Definition {
    let name = raw.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        problems.push("name: give the sync a name (at most 200 characters)".into());
    }
    let source = SourceDef {
        endpoint: Endpoint {
            connector: raw.source.connector.as_deref().map(|c| relative(dir, c)),
            version: raw.source.version,
            connection: raw.source.connection.as_deref().map(|c| relative(dir, c)),
            entity: raw.source.entity,
            scope: raw.source.scope,
        },
        key: raw.source.key,
        incremental: raw.source.incremental,
        page_size: raw.source.page_size,
    };
    if source.page_size == Some(0) {
        problems.push("source.page_size: must be at least 1".into());
    }
    let destination = destination(raw.destination, dir, problems);
    let mapping = raw.mapping.and_then(|m| mapping(m, problems));
    let deletes = DeletesDef {
        mode: raw.deletes.mode,
        patch: raw.deletes.patch,
    };
    if deletes.mode == DeleteMode::Soft {
        let api = matches!(destination, DestinationDef::Api { .. });
        match (&deletes.patch, api) {
            (None, true) => problems.push(
                "deletes.patch: soft deletes on an API destination need the change that marks a record, such as patch = { archived = true }".into(),
            ),
            (Some(p), true) if !p.is_object() => {
                problems.push("deletes.patch: must be a table (an object)".into())
            }
            _ => {}
        }
    }
    let schedule = schedule(raw.schedule, problems);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sync".into());
    let lease = match raw.state.lease.as_deref().map(parse_duration) {
        None => Duration::from_secs(30),
        Some(Ok(d)) if d >= Duration::from_secs(1) => d,
        Some(Ok(_)) => {
            problems.push("state.lease: at least 1s".into());
            Duration::from_secs(30)
        }
        Some(Err(e)) => {
            problems.push(format!("state.lease: {e}"));
            Duration::from_secs(30)
        }
    };
    let state = StateDef {
        store: raw.state.store.as_deref().map_or_else(
            || format!("sqlite:{}", dir.join(format!("{stem}.state.db")).display()),
            |s| store_url(dir, s),
        ),
        lease,
    };
    if let Err(e) = crate::store::StoreUrl::parse(&state.store) {
        problems.push(format!("state.store: {e}"));
    }
    let events = raw.events.map(|e| EventsDef {
        store: e.store.as_deref().map_or_else(
            || format!("sqlite:{}", dir.join("events.db").display()),
            |s| store_url(dir, s),
        ),
        source: e.source,
        types: e.types,
        key: e.key.unwrap_or_else(|| "/id".into()),
    });
    if let Some(events) = &events {
        if !events.key.is_empty() && !events.key.starts_with('/') {
            problems.push(format!(
                "events.key: `{}` is not a JSON pointer (such as /data/id)",
                events.key
            ));
        }
    }
    if schedule.on_change && events.is_none() {
        problems.push("schedule.on_change: needs an [events] table saying where the events are stored and where an event names its record".into());
    }
    Definition {
        file: path.to_path_buf(),
        name,
        source,
        destination,
        mapping,
        deletes,
        schedule,
        state,
        events,
    }
}

fn destination(raw: RawDestination, dir: &Path, problems: &mut Vec<String>) -> DestinationDef {
    match (&raw.database, &raw.entity) {
        (Some(database), None) => {
            for (key, given) in [
                ("connector", raw.connector.is_some()),
                ("connection", raw.connection.is_some()),
                ("match", raw.matching.is_some()),
                ("version", raw.version.is_some()),
                ("scope", !raw.scope.is_empty()),
            ] {
                if given {
                    problems.push(format!("destination.{key}: a database destination has no {key} (it takes database, table and key)"));
                }
            }
            let table = raw.table.clone().unwrap_or_default();
            if table.is_empty() || table.len() > 63 || table.chars().any(char::is_control) {
                problems.push(
                    "destination.table: name the table (1 to 63 characters) to write into".into(),
                );
            }
            if let Err(e) = crate::store::StoreUrl::parse(database) {
                problems.push(format!("destination.database: {e}"));
            }
            DestinationDef::Table {
                database: store_url(dir, database),
                table,
                key: raw.key,
            }
        }
        (None, Some(entity)) => {
            for (key, given) in [("table", raw.table.is_some()), ("key", raw.key.is_some())] {
                if given {
                    problems.push(format!(
                        "destination.{key}: only a database destination has a {key}"
                    ));
                }
            }
            let matching = raw.matching.map(|m| match m {
                RawMatch::Field(field) => Match {
                    param: field.clone(),
                    field,
                },
                RawMatch::Full { field, param } => Match {
                    param: param.unwrap_or_else(|| field.clone()),
                    field,
                },
            });
            DestinationDef::Api {
                endpoint: Endpoint {
                    connector: raw.connector.as_deref().map(|c| relative(dir, c)),
                    version: raw.version,
                    connection: raw.connection.as_deref().map(|c| relative(dir, c)),
                    entity: entity.clone(),
                    scope: raw.scope,
                },
                matching,
            }
        }
        (Some(_), Some(_)) => {
            problems.push("destination: give either an entity (with connector and connection) or a database and table, not both".into());
            DestinationDef::Table {
                database: String::new(),
                table: String::new(),
                key: None,
            }
        }
        (None, None) => {
            problems.push("destination: give an entity (with connector and connection) or a database and table".into());
            DestinationDef::Table {
                database: String::new(),
                table: String::new(),
                key: None,
            }
        }
    }
}

fn mapping(raw: RawMapping, problems: &mut Vec<String>) -> Option<MappingDef> {
    let defaults = super::jq::Limits::default();
    let limits = super::jq::Limits {
        max_steps: raw.max_steps.unwrap_or(defaults.max_steps),
        max_time: raw
            .max_time_ms
            .map_or(defaults.max_time, Duration::from_millis),
        max_size: raw.max_size.unwrap_or(defaults.max_size),
    };
    match (raw.jq, raw.fields) {
        (Some(program), None) => Some(MappingDef::Jq { program, limits }),
        (None, Some(fields)) => {
            let mut pairs = Vec::new();
            for (to, from) in fields {
                match from {
                    Value::String(from) if !from.is_empty() => pairs.push((to, from)),
                    _ => problems.push(format!(
                        "mapping.fields.{to}: give the source field's dotted path as a string (such as \"customer.name\")"
                    )),
                }
            }
            Some(MappingDef::Fields(pairs))
        }
        (Some(_), Some(_)) => {
            problems.push("mapping: give either jq or fields, not both".into());
            None
        }
        (None, None) => {
            problems.push("mapping: give jq = '...' or fields = { ... }".into());
            None
        }
    }
}

fn schedule(raw: RawSchedule, problems: &mut Vec<String>) -> ScheduleDef {
    let every = raw.every.as_deref().and_then(|e| match parse_duration(e) {
        Ok(d) if d >= Duration::from_secs(1) => Some(d),
        Ok(_) => {
            problems.push("schedule.every: at least 1s".into());
            None
        }
        Err(err) => {
            problems.push(format!("schedule.every: {err}"));
            None
        }
    });
    let cron = raw.cron.as_deref().and_then(|c| match Cron::parse(c) {
        Ok(cron) => Some(cron),
        Err(err) => {
            problems.push(format!("schedule.cron: {err}"));
            None
        }
    });
    if every.is_some() && cron.is_some() {
        problems.push("schedule: give every or cron, not both".into());
    }
    ScheduleDef {
        every,
        cron,
        on_change: raw.on_change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Definition, Vec<String>> {
        Definition::from_text(text, Path::new("dir/orders.toml")).map_err(|e| match e {
            Error::SyncFile { problems, .. } => problems,
            other => vec![other.to_string()],
        })
    }

    #[test]
    fn a_full_file_reads_with_paths_relative_to_it() {
        let d = read(
            r#"
name = "orders-to-crm"
[source]
connector = "shop.yaml"
connection = "shop.toml"
entity = "orders"
scope = { shopId = "42" }
incremental = { field = "updated_at", param = "updated_since" }
[destination]
connector = "crm.yaml"
connection = "/etc/crm.toml"
entity = "deals"
match = "externalId"
[mapping]
jq = '{title: .number}'
[deletes]
mode = "soft"
patch = { archived = true }
[schedule]
every = "15m"
"#,
        )
        .unwrap();
        assert_eq!(
            d.source.endpoint.connector,
            Some(PathBuf::from("dir/shop.yaml"))
        );
        assert_eq!(d.state.store, "sqlite:dir/orders.state.db");
        assert_eq!(d.schedule.every, Some(Duration::from_secs(900)));
        match &d.destination {
            DestinationDef::Api {
                endpoint,
                matching: Some(m),
            } => {
                assert_eq!(endpoint.connection, Some(PathBuf::from("/etc/crm.toml")));
                assert_eq!(m.param, "externalId");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_mistake_is_reported_with_its_key() {
        let problems = read(
            r#"
name = ""
[source]
entity = "orders"
page_size = 0
[destination]
database = "sqlite:w.db"
entity = "x"
[deletes]
mode = "soft"
[schedule]
every = "soon"
cron = "* * *"
on_change = true
"#,
        )
        .unwrap_err();
        let text = problems.join("\n");
        for key in [
            "name:",
            "source.page_size",
            "destination:",
            "schedule.every",
            "schedule.cron",
            "schedule.on_change",
        ] {
            assert!(text.contains(key), "{key} in {text}");
        }
        let unknown = read("name = \"x\"\n[source]\nentity = \"o\"\nentitty = 1\n[destination]\ndatabase = \"a.db\"\ntable = \"t\"").unwrap_err();
        assert!(unknown[0].contains("entitty"), "{unknown:?}");
    }
}
