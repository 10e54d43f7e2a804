//! Connector versions and their backend variables: the data contract of a connector made from a
//! manifest (several specs, one per version) or from a single spec (one version).
//!
//! A version never changes once published; a connection pins one. Each version declares typed
//! backend variables, whose values a connection supplies and the runtime validates before any
//! request (see `ConnectionBuilder::variable` in `connector-runtime`).

use std::borrow::Cow;

use crate::descriptor::{ConnectorDescriptor, List, Text};

/// A connector with all its versions.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedConnector {
    /// Machine name of the connector, as connection files give it.
    pub name: Text,
    /// Every version, oldest first.
    pub versions: List<VersionDescriptor>,
}

impl VersionedConnector {
    /// A connector made from one spec: one active version whose id is the spec's `info.version`
    /// and whose only variables are its server variables.
    pub fn single(connector: &ConnectorDescriptor) -> Self {
        Self {
            name: connector.name.clone(),
            versions: Cow::Owned(vec![VersionDescriptor {
                id: connector.version.clone(),
                state: VersionState::Active,
                ping: None,
                variables: Cow::Borrowed(&[]),
                connector: Cow::Owned(connector.clone()),
            }]),
        }
    }

    /// The connector-level catalogue as JSON: every version with its state, ping action,
    /// actions and backend variables (secrets have no default to show; none is ever shown).
    pub fn catalogue(&self) -> serde_json::Value {
        let versions: Vec<serde_json::Value> = self
            .versions
            .iter()
            .map(|v| {
                let variables: Vec<serde_json::Value> = v
                    .variables
                    .iter()
                    .map(|var| {
                        let (location, at) = match &var.location {
                            VariableLocation::Server => ("server", var.name.as_ref()),
                            VariableLocation::Header(h) => ("header", h.as_ref()),
                            VariableLocation::Query(q) => ("query", q.as_ref()),
                            VariableLocation::Path(p) => ("path", p.as_ref()),
                            VariableLocation::Body(b) => ("body", b.as_ref()),
                        };
                        let values = match &var.kind {
                            VariableKind::Enum(values) => Some(values.to_vec()),
                            _ => None,
                        };
                        serde_json::json!({
                            "name": var.name,
                            "type": var.kind.as_str(),
                            "values": values,
                            "required": var.required,
                            "required_when": var.required_when.as_ref().map(|(k, val)| serde_json::json!({ k.as_ref(): val })),
                            "default": var.default,
                            "pattern": var.pattern,
                            "location": { location: at },
                            "description": var.description,
                        })
                    })
                    .collect();
                // Server variables without manifest rules are backend variables too: the
                // first server's, then those of servers operations declare for themselves.
                let servers = v.connector.settable_servers(0);
                let mut listed: Vec<&str> = v.variables.iter().map(|d| d.name.as_ref()).collect();
                let server: Vec<serde_json::Value> = servers
                    .iter()
                    .flat_map(|s| s.variables.iter())
                    .filter(|sv| {
                        let new = !listed.contains(&sv.name.as_ref());
                        listed.push(&sv.name);
                        new
                    })
                    .map(|sv| {
                        serde_json::json!({
                            "name": sv.name,
                            "type": if sv.allowed.is_empty() { "string" } else { "enum" },
                            "values": if sv.allowed.is_empty() { None } else { Some(sv.allowed.to_vec()) },
                            "required": false,
                            "default": sv.default,
                            "location": { "server": sv.name },
                            "description": sv.description,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "id": v.id,
                    "state": v.state.as_str(),
                    "api_version": v.connector.version,
                    "ping": v.ping,
                    "actions": v.connector.operations.iter().map(|op| op.id.as_ref()).collect::<Vec<_>>(),
                    "entities": entity_names(&v.connector),
                    "variables": variables.into_iter().chain(server).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({
            "name": self.name,
            "default_version": self.default_version().map(|v| v.id.as_ref()),
            "versions": versions,
        })
    }

    /// Finds a version by id.
    pub fn version(&self, id: &str) -> Option<&VersionDescriptor> {
        self.versions.iter().find(|v| v.id == id)
    }

    /// The newest active version (the last active one listed), else the newest version.
    pub fn default_version(&self) -> Option<&VersionDescriptor> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.state == VersionState::Active)
            .or_else(|| self.versions.last())
    }

    /// The version `id`, or the default one when `id` is `None`; the error lists the versions
    /// there are.
    pub fn select(&self, id: Option<&str>) -> Result<&VersionDescriptor, String> {
        let found = match id {
            Some(id) => self.version(id),
            None => self.default_version(),
        };
        found.ok_or_else(|| {
            let ids: Vec<String> = self
                .versions
                .iter()
                .map(|v| format!("{} ({})", v.id, v.state.as_str()))
                .collect();
            let there = if ids.is_empty() {
                "none".to_owned()
            } else {
                ids.join(", ")
            };
            match id {
                Some(id) => format!(
                    "connector `{}` has no version `{id}`; its versions are: {there}",
                    self.name
                ),
                None => format!("connector `{}` has no versions", self.name),
            }
        })
    }
}

/// One version of a connector: its own operations, auth and backend variables.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionDescriptor {
    /// The version's id (`v1`), as connection files pin it.
    pub id: Text,
    /// Whether new connections should use it.
    pub state: VersionState,
    /// The action that tells whether a connection works, when the manifest names one.
    pub ping: Option<Text>,
    /// Backend variables the manifest declares; server variables come from the connector's
    /// servers, and appear here only when the manifest adds rules to one.
    pub variables: List<VariableDescriptor>,
    /// The version's operations, servers and security schemes.
    pub connector: Cow<'static, ConnectorDescriptor>,
}

/// Whether a version is offered to new connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    /// In use and offered.
    Active,
    /// Still works for connections that pin it, with a warning; not offered to new ones.
    Deprecated,
}

impl VersionState {
    /// `active` or `deprecated`.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Active => "active",
            VersionState::Deprecated => "deprecated",
        }
    }
}

/// A backend variable a version declares.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableDescriptor {
    /// Name, as the connection's `[variables]` table gives it.
    pub name: Text,
    /// What the value is, for whoever configures the connection.
    pub description: Option<Text>,
    /// The type of the value.
    pub kind: VariableKind,
    /// Whether a connection must give a value (a default counts as one).
    pub required: bool,
    /// Required only when another variable (first) has a given value (second).
    pub required_when: Option<(Text, Text)>,
    /// The value used when the connection gives none.
    pub default: Option<Text>,
    /// A regular expression the whole value must match (string and secret variables).
    pub pattern: Option<Text>,
    /// Where the value goes in each request.
    pub location: VariableLocation,
}

/// The type of a backend variable.
#[derive(Debug, Clone, PartialEq)]
pub enum VariableKind {
    /// Any text.
    String,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// One of the listed values.
    Enum(List<Text>),
    /// Text that is never shown: not in `Debug`, errors or logs.
    Secret,
}

impl VariableKind {
    /// The type's name as a manifest writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            VariableKind::String => "string",
            VariableKind::Integer => "integer",
            VariableKind::Boolean => "boolean",
            VariableKind::Enum(_) => "enum",
            VariableKind::Secret => "secret",
        }
    }
}

/// Where a backend variable's value goes.
#[derive(Debug, Clone, PartialEq)]
pub enum VariableLocation {
    /// The server URL variable of the same name: the manifest adds a type, a pattern or
    /// `required` to what the spec's `servers[].variables` says.
    Server,
    /// A request header of this name, on every request.
    Header(Text),
    /// A query parameter of this name, on every request.
    Query(Text),
    /// The path parameter of this name, in every operation whose path has it.
    Path(Text),
    /// The field at this JSON pointer (`/tenant/id`) of every JSON object body.
    Body(Text),
}

/// The names of a connector's entities, from its catalogue (none when it has no catalogue or
/// the catalogue does not parse: listing versions must not fail on it).
fn entity_names(connector: &ConnectorDescriptor) -> Vec<String> {
    connector
        .catalogue
        .as_deref()
        .and_then(|text| crate::catalogue::Catalogue::from_json(text).ok())
        .map(|catalogue| catalogue.entities.into_iter().map(|e| e.name).collect())
        .unwrap_or_default()
}
