//! The dynamic entity interface: List, Get, Create, Update and Delete by entity name, with JSON,
//! on top of the catalogue's entities and the one executor.

use serde_json::{Map, Value};

use crate::catalogue::{Entity, OperationKind};
use crate::connection::Connection;
use crate::error::Error;
use crate::paginate::{paginate, ListOptions, RecordStream};

impl Connection {
    /// The entity named `name`, from the catalogue.
    pub fn entity(&self, name: &str) -> Result<Entity, Error> {
        let catalogue = self.catalogue()?;
        let entities = catalogue.map(|c| c.entities.as_slice()).unwrap_or_default();
        entities
            .iter()
            .find(|e| e.name == name)
            .cloned()
            .ok_or_else(|| Error::InvalidInput {
                message: format!(
                    "the connector has no entity `{name}`{}",
                    crate::config::hint(name, entities.iter().map(|e| e.name.as_str()))
                ),
            })
    }

    /// Streams the records of entity `name`. `input` holds the scope (`ownerId`) and any filter
    /// parameters of its List action.
    pub fn list_entities(
        &self,
        name: &str,
        input: Map<String, Value>,
        options: ListOptions,
    ) -> Result<RecordStream, Error> {
        let entity = self.entity(name)?;
        let action = action_of(&entity, OperationKind::List)?;
        check_scope(&entity, &input)?;
        paginate(self, action, input, options)
    }

    /// Reads the record of entity `name` whose key is `id`.
    pub async fn get_entity(
        &self,
        name: &str,
        scope: Map<String, Value>,
        id: Value,
    ) -> Result<Value, Error> {
        self.entity_call(name, OperationKind::Get, scope, Some(id), None)
            .await
    }

    /// Creates a record of entity `name`; returns what the API answers (usually the record).
    pub async fn create_entity(
        &self,
        name: &str,
        scope: Map<String, Value>,
        record: Value,
    ) -> Result<Value, Error> {
        self.entity_call(name, OperationKind::Create, scope, None, Some(record))
            .await
    }

    /// Changes the record of entity `name` whose key is `id`.
    pub async fn update_entity(
        &self,
        name: &str,
        scope: Map<String, Value>,
        id: Value,
        patch: Value,
    ) -> Result<Value, Error> {
        self.entity_call(name, OperationKind::Update, scope, Some(id), Some(patch))
            .await
    }

    /// Deletes the record of entity `name` whose key is `id`.
    pub async fn delete_entity(
        &self,
        name: &str,
        scope: Map<String, Value>,
        id: Value,
    ) -> Result<Value, Error> {
        self.entity_call(name, OperationKind::Delete, scope, Some(id), None)
            .await
    }

    async fn entity_call(
        &self,
        name: &str,
        kind: OperationKind,
        mut input: Map<String, Value>,
        id: Option<Value>,
        body: Option<Value>,
    ) -> Result<Value, Error> {
        let entity = self.entity(name)?;
        let action = action_of(&entity, kind)?.to_owned();
        check_scope(&entity, &input)?;
        if let Some(id) = id {
            let Some(param) = &entity.key_param else {
                return Err(Error::InvalidInput {
                    message: format!("entity `{name}` has no key parameter to take an id"),
                });
            };
            input.insert(param.clone(), id);
        }
        if let Some(body) = body {
            input.insert("body".to_owned(), body);
        }
        self.execute_json(&action, Value::Object(input)).await
    }
}

fn action_of(entity: &Entity, kind: OperationKind) -> Result<&str, Error> {
    entity
        .operations
        .get(&kind)
        .map(String::as_str)
        .ok_or_else(|| {
            let has: Vec<&str> = entity.operations.keys().map(|k| k.as_str()).collect();
            Error::InvalidInput {
                message: format!(
                    "entity `{}` has no {} operation; it has: {}",
                    entity.name,
                    kind.as_str(),
                    has.join(", ")
                ),
            }
        })
}

/// Every scope parameter must be given: the message names the missing ones.
fn check_scope(entity: &Entity, input: &Map<String, Value>) -> Result<(), Error> {
    let missing: Vec<&str> = entity
        .scope
        .iter()
        .filter(|s| !input.contains_key(s.as_str()))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidInput {
        message: format!(
            "entity `{}` is scoped: give {} (as --scope NAME=VALUE on the command line)",
            entity.name,
            missing.join(", ")
        ),
    })
}
