//! The action catalogue: a connector's actions as data, with the JSON Schemas of what each one
//! takes and returns.
//!
//! The generator produces it from the same IR as the connector's code: a generated crate embeds
//! it as one JSON text in [`ConnectorDescriptor::catalogue`], `connector-gen run` builds it from
//! the spec at run time, and both parse it with [`Catalogue::from_json`], so they agree exactly.
//!
//! [`ConnectorDescriptor::catalogue`]: crate::descriptor::ConnectorDescriptor::catalogue

mod entities;
mod standalone;
mod webhooks;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use entities::{at_path, Entity, EntityField, OperationKind, PageStyle, Pagination, Paging};
pub use webhooks::{EventKeys, Locator, SignatureScheme, Webhook, WebhookHeader, WebhookSignature};

/// Everything a caller needs to discover a connector's actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    /// Machine name of the connector: the name connection files use.
    pub name: String,
    /// Human title, from `info.title`.
    pub title: String,
    /// API version, from `info.version`.
    pub version: String,
    /// `info.description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `info.summary` (OpenAPI 3.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `info.license`: the API's license (`name`, and `identifier` or `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<Value>,
    /// Security schemes, in spec order.
    #[serde(default)]
    pub security_schemes: Vec<SecuritySchemeInfo>,
    /// Actions, in spec order.
    #[serde(default)]
    pub actions: Vec<Action>,
    /// Entities, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Entity>,
    /// The action that pings a connection: declared with `x-connector-ping`, else the cheapest
    /// GET without required parameters (a List with a page size of 1 preferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ping: Option<PingSpec>,
    /// Events the API sends to its subscribers (3.1 `webhooks`, 3.0 `x-webhooks` and
    /// `callbacks`, a manifest's `webhooks` table): listed, never called.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<Webhook>,
    /// How the events' requests are signed (`x-connector-webhook-signature`), without a secret:
    /// a connection's `[webhooks]` table gives the secret, and may choose another scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_signature: Option<WebhookSignature>,
    /// How an event's type and id are found in its request (`x-connector-webhook-event`).
    #[serde(default, skip_serializing_if = "EventKeys::is_empty")]
    pub webhook_keys: EventKeys,
    /// The named JSON Schemas that the actions' and entities' schemas refer to as
    /// `{"$ref": "#/$defs/NAME"}`, each kept once for the whole catalogue. [`Catalogue::standalone`]
    /// makes one schema self-contained again.
    #[serde(rename = "$defs", default, skip_serializing_if = "Map::is_empty")]
    pub definitions: Map<String, Value>,
}

/// A security scheme as the catalogue shows it (OpenAPI's vocabulary).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecuritySchemeInfo {
    /// Name in `components.securitySchemes`: the key of its credential in a connection.
    pub name: String,
    /// `apiKey`, `http`, `oauth2`, `openIdConnect` or `mutualTLS`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `http`: the scheme (`basic`, `bearer`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// For `apiKey`: `header`, `query` or `cookie`.
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// For `apiKey`: the name of the header, query parameter or cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// For `oauth2`: the flows, by OpenAPI name (`clientCredentials`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flows: BTreeMap<String, Value>,
    /// For `openIdConnect`: the discovery document's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_id_connect_url: Option<String>,
    /// The scheme's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One action: an operation of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// The operation id (or one derived from method and path): the name to call it by.
    pub id: String,
    /// HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// `summary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Whether the spec marks it deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// Whether a POST or PATCH of this action carries an idempotency key (the spec's
    /// `x-connector-idempotent: true`), which makes it safe to retry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idempotent: bool,
    /// Security alternatives: each lists schemes that must all be configured; an empty
    /// alternative allows anonymous access, no alternative at all means no auth.
    #[serde(default)]
    pub auth: Vec<Vec<String>>,
    /// JSON Schema (draft 2020-12) of the input: an object with one property per parameter,
    /// plus `body` for the request body.
    pub input_schema: Value,
    /// JSON Schema of the output, by declared status (`200`, `2XX`, `default`).
    #[serde(default)]
    pub output_schemas: BTreeMap<String, Value>,
    /// Declared response headers, by declared status.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub output_headers: BTreeMap<String, Vec<String>>,
    /// Where the records of a listing are and how its pages follow each other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paging: Option<Paging>,
    /// URL templates of the servers the action declares for itself (its own `servers`, else its
    /// path's); empty when it goes to the connector's server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
}

impl Catalogue {
    /// Parses a catalogue from its JSON text.
    pub fn from_json(text: &str) -> Result<Catalogue, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The catalogue as pretty-printed JSON.
    pub fn to_json_pretty(&self) -> String {
        // Serialising plain data into a string cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Finds an action by id.
    pub fn action(&self, id: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.id == id)
    }

    /// Finds an event by name.
    pub fn webhook(&self, name: &str) -> Option<&Webhook> {
        self.webhooks.iter().find(|w| w.name == name)
    }

    /// Finds an entity by name.
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.name == name)
    }
}

impl Action {
    /// The declared response headers for `status` (an exact code, else its range, else
    /// `default`).
    pub fn headers_for(&self, status: u16) -> &[String] {
        let range = format!("{}XX", status / 100);
        [status.to_string(), range, "default".to_owned()]
            .iter()
            .find_map(|key| self.output_headers.get(key))
            .map_or(&[], Vec::as_slice)
    }

    /// The declared response `status` falls under (its exact code, else its range such as
    /// `4XX`, else `default`), as its key in [`output_schemas`](Self::output_schemas) and the
    /// name of its schema when that is a named one (`Error` for `{"$ref": "#/$defs/Error"}`).
    pub fn declared_response(&self, status: u16) -> Option<(&str, Option<&str>)> {
        let range = format!("{}XX", status / 100);
        let (key, schema) = [status.to_string(), range, "default".to_owned()]
            .into_iter()
            .find_map(|key| self.output_schemas.get_key_value(key.as_str()))?;
        let name = schema
            .get("$ref")
            .and_then(serde_json::Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"));
        Some((key.as_str(), name))
    }
}

/// Security alternatives as `a+b | c`: `anonymous` for an empty alternative, `none` when the
/// action needs no auth at all.
pub fn auth_summary(alternatives: &[Vec<String>]) -> String {
    if alternatives.is_empty() {
        return "none".to_owned();
    }
    alternatives
        .iter()
        .map(|alt| {
            if alt.is_empty() {
                "anonymous".to_owned()
            } else {
                alt.join("+")
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Which action pings a connection, what it sends and what its answer must say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct PingSpec {
    /// The action id.
    pub action: String,
    /// Its input (a page size of 1 for a List).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub input: Value,
    /// A check on the answer's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<BodyCheck>,
    /// Whether the spec declared it (`x-connector-ping`) rather than the default rule chose it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub declared: bool,
    /// A 2xx answer is healthy only when the body holds one of these values at this path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<ValuesCheck>,
    /// An answer (even a 2xx) whose body holds one of these values at this path means the
    /// credentials were refused, for APIs that report an expired token in a 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<ValuesCheck>,
    /// Where the body keeps a readable error message, for `PingOutcome::Unhealthy` (in `connector-runtime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_path: Option<Vec<String>>,
    /// How long the ping waits for its answer; the runtime's default (10 s) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// Values of which the answer's body must hold one at a path.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ValuesCheck {
    /// Property names from the top of the body.
    pub path: Vec<String>,
    /// The accepted values.
    pub values: Vec<Value>,
}

impl ValuesCheck {
    /// Whether `body` holds one of the values at the path.
    pub fn holds(&self, body: &Value) -> bool {
        at_path(body, &self.path).is_some_and(|found| self.values.contains(found))
    }
}

/// The value a ping's answer must hold at a path.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BodyCheck {
    /// Property names from the top of the body.
    pub path: Vec<String>,
    /// The value required there.
    pub equals: Value,
}
