//! Entities and pagination as the catalogue describes them: the resources behind the actions,
//! with the actions that list, get, create, update and delete their records, and how a list
//! action's pages follow each other.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A resource found in the paths (`/pets` + `/pets/{petId}`), exposed with List, Get, Create,
/// Update and Delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Unique, stable, snake_case name (`pets`, `owner_pets`).
    pub name: String,
    /// The record's key field (`id`), when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The item path's last parameter, which carries the key (`petId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_param: Option<String>,
    /// JSON Schema (draft 2020-12) of one record.
    #[serde(default)]
    pub record_schema: Value,
    /// The record's top-level fields, with their flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EntityField>,
    /// Parameters of the parent resources every operation needs (`ownerId`), in path order.
    #[serde(default)]
    pub scope: Vec<String>,
    /// The action id of each operation the entity has, by kind (`list`, `get`, `create`,
    /// `update`, `delete`).
    pub operations: BTreeMap<OperationKind, String>,
}

/// What an entity operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// Lists the records, page by page.
    List,
    /// Reads one record by key.
    Get,
    /// Creates a record.
    Create,
    /// Changes a record (PATCH preferred over PUT).
    Update,
    /// Deletes a record.
    Delete,
}

impl OperationKind {
    /// Every kind, in the order they are shown.
    pub const ALL: [OperationKind; 5] = [
        OperationKind::List,
        OperationKind::Get,
        OperationKind::Create,
        OperationKind::Update,
        OperationKind::Delete,
    ];

    /// `list`, `get`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::List => "list",
            OperationKind::Get => "get",
            OperationKind::Create => "create",
            OperationKind::Update => "update",
            OperationKind::Delete => "delete",
        }
    }

    /// Parses `list`, `get`, ... (as `x-connector-entity` writes them).
    pub fn parse(text: &str) -> Option<OperationKind> {
        OperationKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One top-level field of an entity's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityField {
    /// Property name on the wire.
    pub name: String,
    /// JSON type (`string`, `integer`, `number`, `boolean`, `array`, `object`), or `any`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether this is the key field.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub key: bool,
    /// Whether the server sets it (`readOnly`): not sent on create or update.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// Whether it may be null or absent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nullable: bool,
}

/// How an action's response holds records and how its pages follow each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    /// Where the records are in the response body: property names from the top (empty when
    /// the body is the array itself).
    #[serde(default)]
    pub records: Vec<String>,
    /// How to get the next page; `None` when the action returns everything at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
}

/// A pagination style and its page-size parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    /// The style.
    #[serde(flatten)]
    pub style: PageStyle,
    /// The query parameter that sets the page size (`limit`, `per_page`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_param: Option<String>,
}

/// How the next page is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "style", rename_all = "snake_case")]
pub enum PageStyle {
    /// A `Link` response header with `rel="next"`; its URL's query parameters ask for the next
    /// page.
    LinkHeader,
    /// A next URL in the body at `next`; its query parameters ask for the next page.
    NextUrl {
        /// Where the URL is in the body.
        next: Vec<String>,
    },
    /// A cursor in the body at `next`, sent back as the query parameter `param`.
    Cursor {
        /// The query parameter that takes the cursor.
        param: String,
        /// Where the next cursor is in the body.
        next: Vec<String>,
    },
    /// A page number in the query parameter `param`, starting at `first`.
    Page {
        /// The page-number parameter.
        param: String,
        /// The number of the first page.
        #[serde(default = "one")]
        first: u64,
    },
    /// A record offset in the query parameter `param`, starting at 0.
    Offset {
        /// The offset parameter.
        param: String,
    },
}

fn one() -> u64 {
    1
}

/// Reads the value at `path` (property names) in `value`.
pub fn at_path<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| v.get(key.as_str()))
}
