//! The dynamic entity interface: List, Get, Create, Update and Delete by entity name, with JSON,
//! on top of the catalogue's entities and the one executor; and [`EntityHandle`], the typed face
//! generated connectors wrap.

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
                    crate::error::hint(name, entities.iter().map(|e| e.name.as_str()))
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

    /// The records of entity `name` a page at a time, each page with the input that fetches
    /// the next one (see [`crate::paginate::pages`]): pass a stored `next` as `input` to resume.
    pub fn list_entity_pages(
        &self,
        name: &str,
        input: Map<String, Value>,
        options: ListOptions,
    ) -> Result<crate::paginate::PageStream, Error> {
        let entity = self.entity(name)?;
        let action = action_of(&entity, OperationKind::List)?;
        check_scope(&entity, &input)?;
        crate::paginate::pages(self, action, input, options)
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

pub use crate::paginate::TypedStream;

/// The typed face of one entity, which generated connectors wrap: values in and out are
/// (de)serialised with serde, and the work is done by the dynamic interface.
#[derive(Debug, Clone)]
pub struct EntityHandle {
    connection: Connection,
    name: &'static str,
    scope: Map<String, Value>,
}

impl EntityHandle {
    /// The entity `name` of `connection`'s connector.
    pub fn new(connection: &Connection, name: &'static str) -> Self {
        EntityHandle {
            connection: connection.clone(),
            name,
            scope: Map::new(),
        }
    }

    /// Adds the value of scope parameter `param` (a parent's key, such as `ownerId`).
    pub fn scoped(mut self, param: &str, value: impl Into<Value>) -> Self {
        self.scope.insert(param.to_owned(), value.into());
        self
    }

    /// Streams the records, decoded as `T`; a record that does not decode is an
    /// [`Error::DecodeRecord`] naming its index, and the stream goes on with the next.
    pub fn list<T>(&self, options: &ListOptions) -> Result<TypedStream<T>, Error>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let entity = self.connection.entity(self.name)?;
        let action = action_of(&entity, OperationKind::List)?.to_owned();
        let stream =
            self.connection
                .list_entities(self.name, self.scope.clone(), options.clone())?;
        Ok(crate::paginate::typed_records(action, stream))
    }

    /// Reads the record whose key is `id`.
    pub async fn get<T: serde::de::DeserializeOwned>(
        &self,
        id: impl serde::Serialize,
    ) -> Result<T, Error> {
        let id = to_json(id)?;
        let value = self
            .connection
            .get_entity(self.name, self.scope.clone(), id)
            .await?;
        self.decode_as(OperationKind::Get, value)
    }

    /// Creates a record; returns the API's answer.
    pub async fn create<T: serde::de::DeserializeOwned>(
        &self,
        record: &impl serde::Serialize,
    ) -> Result<T, Error> {
        let value = self
            .connection
            .create_entity(self.name, self.scope.clone(), to_json(record)?)
            .await?;
        self.decode_as(OperationKind::Create, value)
    }

    /// Changes the record whose key is `id`; returns the API's answer.
    pub async fn update<T: serde::de::DeserializeOwned>(
        &self,
        id: impl serde::Serialize,
        patch: &impl serde::Serialize,
    ) -> Result<T, Error> {
        let value = self
            .connection
            .update_entity(self.name, self.scope.clone(), to_json(id)?, to_json(patch)?)
            .await?;
        self.decode_as(OperationKind::Update, value)
    }

    /// Deletes the record whose key is `id`.
    pub async fn delete(&self, id: impl serde::Serialize) -> Result<(), Error> {
        self.connection
            .delete_entity(self.name, self.scope.clone(), to_json(id)?)
            .await
            .map(drop)
    }

    fn decode_as<T: serde::de::DeserializeOwned>(
        &self,
        kind: OperationKind,
        value: Value,
    ) -> Result<T, Error> {
        let entity = self.connection.entity(self.name)?;
        decode(action_of(&entity, kind)?, value)
    }
}

fn to_json(value: impl serde::Serialize) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|source| Error::Encode { source })
}

/// A 2xx answer's JSON as `T`; a mismatch is a decode error of that action.
fn decode<T: serde::de::DeserializeOwned>(action: &str, value: Value) -> Result<T, Error> {
    let snippet: String = value.to_string().chars().take(64).collect();
    serde_json::from_value(value).map_err(|source| Error::Decode {
        operation: action.to_owned(),
        // The dynamic interface has already checked the status was 2xx; the exact one is gone.
        status: 200,
        snippet,
        source,
    })
}
