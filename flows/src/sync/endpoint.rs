//! The two sides of a sync as the run sees them: the source entity, and the destination (an
//! entity of another connector, or a table), each checked against its catalogue when built,
//! with every problem named by its key in the sync file.

use connector_runtime::catalogue::{Entity, OperationKind, PageStyle};
use connector_runtime::paginate::{ListOptions, PageStream};
use connector_runtime::Connection;
use serde_json::{Map, Value};

use super::definition::{Definition, DeleteMode, DestinationDef, Endpoint, Incremental, Match};
use super::table::Table;
use crate::error::Error;

/// The source entity.
#[derive(Debug, Clone)]
pub struct Source {
    /// The connection.
    pub connection: Connection,
    /// The entity.
    pub entity: Entity,
    /// Its scope values.
    pub scope: Map<String, Value>,
    /// The record field that keys it.
    pub key: String,
    /// Incremental reads.
    pub incremental: Option<Incremental>,
    /// Records per page asked for.
    pub page_size: Option<u64>,
    /// Whether a resumed listing may have missed records (page number or offset pagination
    /// shifts when records come and go): deletes are then left for the next full scan.
    pub shifting_pages: bool,
}

/// An entity destination.
#[derive(Debug, Clone)]
pub struct ApiDestination {
    /// The connection.
    pub connection: Connection,
    /// The entity.
    pub entity: Entity,
    /// Its scope values.
    pub scope: Map<String, Value>,
    /// The record field that keys it (read from create answers).
    pub key: String,
    /// Finding an existing record.
    pub matching: Option<Match>,
    /// The create action's header parameter that takes an idempotency key, if it has one.
    pub idempotency: Option<String>,
    /// The create and update actions (validation).
    pub create: String,
    /// The update action.
    pub update: String,
}

/// Where records go.
#[derive(Debug)]
pub enum Destination {
    /// An entity of a connector.
    Api(Box<ApiDestination>),
    /// A database table.
    Table(Table),
}

fn entity_of(
    connection: &Connection,
    endpoint: &Endpoint,
    at: &str,
    problems: &mut Vec<String>,
) -> Option<Entity> {
    let catalogue = match connection.catalogue() {
        Ok(Some(catalogue)) => catalogue,
        Ok(None) => {
            problems.push(format!(
                "{at}.connector: the connector carries no catalogue, so its entities are unknown"
            ));
            return None;
        }
        Err(err) => {
            problems.push(format!("{at}.connector: {err}"));
            return None;
        }
    };
    match catalogue
        .entities
        .iter()
        .find(|e| e.name == endpoint.entity)
    {
        Some(entity) => {
            for param in &entity.scope {
                if !endpoint.scope.contains_key(param) {
                    problems.push(format!(
                        "{at}.scope: entity `{}` is scoped by `{param}`: give it, as scope = {{ {param} = \"...\" }}",
                        entity.name
                    ));
                }
            }
            for given in endpoint.scope.keys() {
                if !entity.scope.contains(given) {
                    problems.push(format!(
                        "{at}.scope.{given}: entity `{}` has no scope parameter `{given}`{}",
                        entity.name,
                        if entity.scope.is_empty() {
                            " (it is not scoped)".to_owned()
                        } else {
                            format!(" (it takes {})", entity.scope.join(", "))
                        }
                    ));
                }
            }
            Some(entity.clone())
        }
        None => {
            let names: Vec<&str> = catalogue.entities.iter().map(|e| e.name.as_str()).collect();
            problems.push(format!(
                "{at}.entity: the connector has no entity `{}`{}",
                endpoint.entity,
                suggest(&endpoint.entity, &names)
            ));
            None
        }
    }
}

fn suggest(name: &str, names: &[&str]) -> String {
    let close = names
        .iter()
        .filter(|n| strsim_like(name, n) <= 2)
        .min_by_key(|n| strsim_like(name, n));
    match close {
        Some(best) => format!("; did you mean `{best}`?"),
        None if names.is_empty() => "; it has none".into(),
        None => format!("; it has {}", names.join(", ")),
    }
}

/// Levenshtein distance (names are short).
fn strsim_like(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn needs(
    entity: &Entity,
    kind: OperationKind,
    at: &str,
    why: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    let found = entity.operations.get(&kind).cloned();
    if found.is_none() {
        let has: Vec<&str> = entity.operations.keys().map(|k| k.as_str()).collect();
        problems.push(format!(
            "{at}.entity: `{}` has no {} operation, which {why} needs (it has {})",
            entity.name,
            kind.as_str(),
            has.join(", ")
        ));
    }
    found
}

fn input_properties(connection: &Connection, action: &str) -> Map<String, Value> {
    connection
        .catalogue()
        .ok()
        .flatten()
        .and_then(|c| c.action(action))
        .and_then(|a| a.input_schema.get("properties"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

impl Source {
    /// The source of `def`, on `connection`; problems are added to `problems`.
    pub fn check(
        def: &Definition,
        connection: Connection,
        problems: &mut Vec<String>,
    ) -> Option<Source> {
        let endpoint = &def.source.endpoint;
        let entity = entity_of(&connection, endpoint, "source", problems)?;
        let list = needs(&entity, OperationKind::List, "source", "reading", problems);
        if def.schedule.on_change {
            needs(
                &entity,
                OperationKind::Get,
                "source",
                "schedule.on_change",
                problems,
            );
        }
        let key = match def.source.key.clone().or_else(|| entity.key.clone()) {
            Some(key) => key,
            None => {
                problems.push(format!(
                    "source.key: entity `{}` has no known key field; name the field that identifies a record",
                    entity.name
                ));
                String::new()
            }
        };
        let mut shifting_pages = false;
        if let Some(list) = &list {
            let properties = input_properties(&connection, list);
            if let Some(incremental) = &def.source.incremental {
                if !properties.contains_key(&incremental.param) {
                    let names: Vec<&str> = properties.keys().map(String::as_str).collect();
                    problems.push(format!(
                        "source.incremental.param: `{list}` has no parameter `{}`{}",
                        incremental.param,
                        suggest(&incremental.param, &names)
                    ));
                }
                if !entity.fields.is_empty()
                    && !entity.fields.iter().any(|f| f.name == incremental.field)
                {
                    let names: Vec<&str> = entity.fields.iter().map(|f| f.name.as_str()).collect();
                    problems.push(format!(
                        "source.incremental.field: the records of `{}` have no field `{}`{}",
                        entity.name,
                        incremental.field,
                        suggest(&incremental.field, &names)
                    ));
                }
            }
            let paging = connection
                .catalogue()
                .ok()
                .flatten()
                .and_then(|c| c.action(list))
                .and_then(|a| a.paging.clone());
            shifting_pages = matches!(
                paging.and_then(|p| p.pagination).map(|p| p.style),
                Some(PageStyle::Page { .. } | PageStyle::Offset { .. })
            );
        }
        if !key.is_empty()
            && !entity.fields.is_empty()
            && !entity.fields.iter().any(|f| f.name == key)
        {
            problems.push(format!(
                "source.key: the records of `{}` have no field `{key}`",
                entity.name
            ));
        }
        Some(Source {
            connection,
            scope: endpoint.scope.clone(),
            entity,
            key,
            incremental: def.source.incremental.clone(),
            page_size: def.source.page_size,
            shifting_pages,
        })
    }

    /// The pages of a listing from `input` (the scope, and the incremental parameter or a
    /// stored resume point).
    pub fn pages(&self, input: Map<String, Value>) -> Result<PageStream, Error> {
        let options = ListOptions {
            page_size: self.page_size,
            ..ListOptions::default()
        };
        self.connection
            .list_entity_pages(&self.entity.name, input, options)
            .map_err(|source| Error::Api {
                what: format!("listing `{}`", self.entity.name),
                source,
            })
    }

    /// The record whose key is `key`; `None` when the API says it does not exist (404 or 410).
    pub async fn get(&self, key: &Value) -> Result<Option<Value>, Error> {
        match self
            .connection
            .get_entity(&self.entity.name, self.scope.clone(), key.clone())
            .await
        {
            Ok(record) => Ok(Some(record)),
            Err(err) if matches!(err.status(), Some(404 | 410)) => Ok(None),
            Err(source) => Err(Error::Api {
                what: format!("reading `{}` {key}", self.entity.name),
                source,
            }),
        }
    }
}

impl ApiDestination {
    /// The API destination of `def`, on `connection`.
    pub fn check(
        def: &Definition,
        connection: Connection,
        problems: &mut Vec<String>,
    ) -> Option<ApiDestination> {
        let DestinationDef::Api { endpoint, matching } = &def.destination else {
            return None;
        };
        let entity = entity_of(&connection, endpoint, "destination", problems)?;
        let create = needs(
            &entity,
            OperationKind::Create,
            "destination",
            "creating records",
            problems,
        );
        let update = needs(
            &entity,
            OperationKind::Update,
            "destination",
            "updating records",
            problems,
        );
        match def.deletes.mode {
            DeleteMode::Hard => {
                needs(
                    &entity,
                    OperationKind::Delete,
                    "destination",
                    "deletes.mode = \"hard\"",
                    problems,
                );
            }
            DeleteMode::Soft | DeleteMode::Ignore => {}
        }
        if let Some(m) = matching {
            if let Some(list) = needs(
                &entity,
                OperationKind::List,
                "destination",
                "match",
                problems,
            ) {
                if !input_properties(&connection, &list).contains_key(&m.param) {
                    problems.push(format!(
                        "destination.match: `{list}` has no parameter `{}` to find records by",
                        m.param
                    ));
                }
            }
        }
        let idempotency = create.as_ref().and_then(|create| {
            input_properties(&connection, create)
                .keys()
                .find(|k| {
                    k.eq_ignore_ascii_case("idempotency-key")
                        || k.eq_ignore_ascii_case("header:idempotency-key")
                })
                .cloned()
        });
        let key = entity.key.clone().unwrap_or_else(|| "id".into());
        Some(ApiDestination {
            connection,
            scope: endpoint.scope.clone(),
            entity,
            key,
            matching: matching.clone(),
            idempotency,
            create: create.unwrap_or_default(),
            update: update.unwrap_or_default(),
        })
    }

    fn input(&self, body: &Value) -> Map<String, Value> {
        let mut input = self.scope.clone();
        input.insert("body".into(), body.clone());
        input
    }

    /// Every problem `record` has as the body of a create (`update`: of an update), each with
    /// the JSON pointer of the field at fault.
    /// `update` holds the destination key (JSON text) of the record an update would change.
    pub fn validate(&self, record: &Value, update: Option<&str>) -> Result<(), Vec<String>> {
        let mut input = self.input(record);
        let action = match (update, &self.entity.key_param) {
            (Some(key), Some(param)) => {
                let key = serde_json::from_str(key).unwrap_or(Value::String(key.to_owned()));
                input.insert(param.clone(), key);
                &self.update
            }
            (Some(_), None) => &self.update,
            (None, _) => &self.create,
        };
        match self
            .connection
            .validate_input(action, &Value::Object(input))
        {
            Ok(()) => Ok(()),
            Err(connector_runtime::Error::InvalidActionInput { problems, .. }) => Err(problems
                .into_iter()
                .map(|p| p.strip_prefix("/body").map_or(p.clone(), str::to_owned))
                .collect()),
            Err(other) => Err(vec![other.to_string()]),
        }
    }

    /// The key of a record the API answered with.
    fn key_of(&self, answer: &Value) -> Option<Value> {
        answer.get(&self.key).filter(|k| !k.is_null()).cloned()
    }

    /// An existing record whose match field equals `record`'s, by the List parameter.
    pub async fn find(&self, record: &Value) -> Result<Option<Value>, connector_runtime::Error> {
        use futures_util::StreamExt;
        let Some(m) = &self.matching else {
            return Ok(None);
        };
        let Some(wanted) = record.get(&m.field).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let mut input = self.scope.clone();
        input.insert(m.param.clone(), wanted.clone());
        let options = ListOptions {
            max_records: Some(50),
            ..ListOptions::default()
        };
        let mut found = self
            .connection
            .list_entities(&self.entity.name, input, options)?;
        while let Some(candidate) = found.next().await {
            let candidate = candidate?;
            // An API that ignores the filter must not make any record a match.
            if candidate.get(&m.field) == Some(wanted) {
                return Ok(self.key_of(&candidate));
            }
        }
        Ok(None)
    }

    /// Creates `record` (with `idempotency_key` when the API takes one); the new record's key.
    pub async fn create(
        &self,
        record: &Value,
        idempotency_key: &str,
    ) -> Result<Option<Value>, connector_runtime::Error> {
        let mut input = self.input(record);
        if let Some(header) = &self.idempotency {
            input.insert(header.clone(), Value::String(idempotency_key.to_owned()));
        }
        let action = self
            .entity
            .operations
            .get(&OperationKind::Create)
            .cloned()
            .unwrap_or_default();
        let answer = self
            .connection
            .execute_json(&action, Value::Object(input))
            .await?;
        Ok(self.key_of(&answer))
    }

    /// Updates the record `key` with `record`.
    pub async fn update(
        &self,
        key: &Value,
        record: &Value,
    ) -> Result<(), connector_runtime::Error> {
        self.connection
            .update_entity(
                &self.entity.name,
                self.scope.clone(),
                key.clone(),
                record.clone(),
            )
            .await
            .map(drop)
    }

    /// Deletes the record `key` (already gone counts as deleted).
    pub async fn delete(&self, key: &Value) -> Result<(), connector_runtime::Error> {
        match self
            .connection
            .delete_entity(&self.entity.name, self.scope.clone(), key.clone())
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if matches!(err.status(), Some(404 | 410)) => Ok(()),
            Err(err) => Err(err),
        }
    }
}

/// Whether an API error is about this one record (the API refused it: 400, 409, 422, ...), so
/// the record is quarantined and the run goes on, rather than about the API or the connection.
pub fn refused_record(err: &connector_runtime::Error) -> bool {
    match err.status() {
        Some(401 | 403 | 407 | 408 | 429) => false,
        Some(status) => (400..500).contains(&status),
        None => {
            err.is_bad_input() && !matches!(err, connector_runtime::Error::UnknownAction { .. })
        }
    }
}

/// An API error's words for a quarantined record: the status and the start of the body.
pub fn refusal(err: &connector_runtime::Error) -> String {
    let mut text = err.to_string();
    if text.len() > 600 {
        let mut cut = 600;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}
