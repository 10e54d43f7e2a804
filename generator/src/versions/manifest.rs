//! The connector manifest (`connector.toml`, or YAML): the connector's name and its versions,
//! each with its spec, state, auth schemes, ping action, operation filter, backend variables and
//! the events the API sends (for a spec that declares none).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::lower::manifest_events::{HeaderSpec, WebhookSpec};
pub use crate::lower::Include;
use crate::Error;

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The connector's name (the crate's name; connection files give it as `connector`).
    pub name: String,
    /// Versions, oldest first.
    pub versions: Vec<VersionEntry>,
}

/// One `[[versions]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VersionEntry {
    /// The version's id (`v1`): letters, digits, `_` and `-`, starting with a letter.
    pub id: String,
    /// The spec file, relative to the manifest.
    pub spec: PathBuf,
    /// `active` (default) or `deprecated`.
    #[serde(default)]
    pub state: State,
    /// Security schemes of the spec that this version offers. Default: all of them.
    #[serde(default)]
    pub auth: Option<Vec<String>>,
    /// The action that tells whether a connection works: an action id, or a table with the keys
    /// of `x-connector-ping` (`action`, `successPath`, `successValues`, `failPath`, ...).
    #[serde(default)]
    pub ping: Option<serde_json::Value>,
    /// Which operations the version has. Default: all of them.
    #[serde(default)]
    pub include: Include,
    /// Backend variables by name.
    #[serde(default)]
    pub variables: BTreeMap<String, VariableSpec>,
    /// Events the API sends for this version, for a spec that declares none
    /// (`[[versions.webhooks]]`).
    #[serde(default)]
    pub webhooks: Vec<WebhookSpec>,
    /// How this version's event requests are signed: the keys of
    /// `x-connector-webhook-signature` (`scheme`, `header`, ...); wins over the spec's.
    #[serde(default)]
    pub webhook_signature: Option<serde_json::Value>,
    /// How an event's type and id are found: the keys of `x-connector-webhook-event` (`type`,
    /// `id`); wins over the spec's.
    #[serde(default)]
    pub webhook_event: Option<serde_json::Value>,
}

impl VersionEntry {
    /// The version's `webhook_signature`, parsed; the error says what is wrong with it.
    pub fn webhook_signature(
        &self,
    ) -> Result<Option<connector_model::catalogue::WebhookSignature>, String> {
        self.webhook_signature
            .as_ref()
            .map(crate::lower::manifest_events::signature)
            .transpose()
    }

    /// The version's `webhook_event`, parsed; the error says what is wrong with it.
    pub fn webhook_event(&self) -> Result<Option<connector_model::catalogue::EventKeys>, String> {
        self.webhook_event
            .as_ref()
            .map(crate::lower::manifest_events::event_keys)
            .transpose()
    }

    /// The ping's action id, however the ping is written.
    pub fn ping_action(&self) -> Option<&str> {
        match self.ping.as_ref()? {
            serde_json::Value::String(action) => Some(action),
            declared => declared.get("action")?.as_str(),
        }
    }
}

/// Whether a version is offered to new connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Offered.
    #[default]
    Active,
    /// Works for connections that pin it, with a warning.
    Deprecated,
}

impl State {
    /// The state as the manifest writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Deprecated => "deprecated",
        }
    }
}

/// A backend variable as the manifest declares it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    /// `string`, `integer`, `boolean`, `enum` or `secret`.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// For `enum`: the allowed values.
    #[serde(default)]
    pub values: Vec<String>,
    /// Whether a connection must give a value.
    #[serde(default)]
    pub required: bool,
    /// Required only when another variable has a value: `{ region = "eu" }`.
    #[serde(default)]
    pub required_when: Option<BTreeMap<String, String>>,
    /// Value used when the connection gives none.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// Regular expression the whole value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Where the value goes: `"server"`, or `{ header = "X-Tenant" }`, `{ query = "..." }`,
    /// `{ path = "..." }`, `{ body = "/json/pointer" }`.
    pub location: LocationSpec,
    /// What the value is, for whoever configures a connection.
    #[serde(default)]
    pub description: Option<String>,
}

/// A variable's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Text.
    String,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// One of `values`.
    Enum,
    /// Text never shown.
    Secret,
}

/// Where a variable's value goes, as written in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum LocationSpec {
    /// `"server"`: a server URL variable of the spec.
    Word(String),
    /// `{ header = "X-Tenant" }` and the like: one key.
    Table(BTreeMap<String, String>),
}

/// Where a variable's value goes, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A server URL variable of the same name.
    Server,
    /// A header.
    Header(String),
    /// A query parameter.
    Query(String),
    /// A path parameter.
    Path(String),
    /// A field of the JSON body, by JSON pointer.
    Body(String),
}

impl LocationSpec {
    /// The location, or what is wrong with it.
    pub fn checked(&self) -> Result<Location, String> {
        match self {
            LocationSpec::Word(word) if word == "server" => Ok(Location::Server),
            LocationSpec::Table(table) if table.len() == 1 => {
                let (key, value) = table.iter().next().ok_or("empty table")?;
                match key.as_str() {
                    "header" => Ok(Location::Header(value.clone())),
                    "query" => Ok(Location::Query(value.clone())),
                    "path" => Ok(Location::Path(value.clone())),
                    "body" if value.starts_with('/') => Ok(Location::Body(value.clone())),
                    "body" => Err(format!(
                        "`{value}` is not a JSON pointer (it starts with `/`)"
                    )),
                    other => Err(format!(
                        "`{other}` is not a location; use server, header, query, path or body"
                    )),
                }
            }
            _ => Err(
                "expected \"server\" or one of { header | query | path | body = \"...\" }".into(),
            ),
        }
    }
}

/// Whether `path` names a manifest rather than a spec: a `.toml` file, or a YAML file whose top
/// level has `versions` and no `openapi`/`swagger`.
pub fn is_manifest(path: &Path) -> bool {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match extension.as_str() {
        "toml" => true,
        "yaml" | "yml" => std::fs::read_to_string(path).is_ok_and(|text| {
            text.lines().any(|l| l.starts_with("versions:"))
                && !text
                    .lines()
                    .any(|l| l.starts_with("openapi:") || l.starts_with("swagger:"))
        }),
        _ => false,
    }
}

/// Reads and parses the manifest at `path`; errors name the key at fault.
pub fn read(path: &Path) -> Result<Manifest, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "reading manifest",
        path: path.to_path_buf(),
        source,
    })?;
    let fail = |message: String| Error::Manifest {
        path: path.to_path_buf(),
        message,
    };
    let manifest: Manifest = if path.extension().is_some_and(|e| e == "toml") {
        let value: toml::Value = toml::from_str(&text).map_err(|err| {
            fail(format!(
                "not valid TOML: {}",
                err.message().trim().replace('\n', "; ")
            ))
        })?;
        serde_path_to_error::deserialize(value)
            .map_err(|err| fail(format!("at `{}`: {}", err.path(), err.inner())))?
    } else {
        let de = serde_yaml::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de)
            .map_err(|err| fail(format!("at `{}`: {}", err.path(), err.inner())))?
    };
    check(&manifest).map_err(|problems| fail(problems.join("; ")))?;
    Ok(manifest)
}

/// Checks what the types cannot: ids, duplicates, locations, enum values, patterns.
fn check(manifest: &Manifest) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    if manifest.versions.is_empty() {
        problems.push("`versions`: the manifest lists no version".to_owned());
    }
    for (i, version) in manifest.versions.iter().enumerate() {
        let at = format!("versions[{i}]");
        let id_ok = version
            .id
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && version
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !id_ok {
            problems.push(format!(
                "`{at}.id`: `{}` must start with a letter and hold only letters, digits, `_` and `-`",
                version.id
            ));
        }
        if manifest.versions[..i].iter().any(|v| v.id == version.id) {
            problems.push(format!("`{at}.id`: `{}` is listed twice", version.id));
        }
        problems.extend(webhook_problems(version, &at));
        for (name, variable) in &version.variables {
            let at = format!("{at}.variables.{name}");
            if let Err(message) = variable.location.checked() {
                problems.push(format!("`{at}.location`: {message}"));
            }
            if variable.kind == Kind::Enum && variable.values.is_empty() {
                problems.push(format!("`{at}.values`: an enum variable lists its values"));
            }
            if let Some(pattern) = &variable.pattern {
                if regex_syntax_error(pattern) {
                    problems.push(format!("`{at}.pattern`: not a valid regular expression"));
                }
            }
            if let Some(when) = &variable.required_when {
                if when.len() != 1 {
                    problems.push(format!(
                        "`{at}.required_when`: name exactly one variable and its value, such as {{ region = \"eu\" }}"
                    ));
                }
                for other in when.keys() {
                    if !version.variables.contains_key(other) {
                        problems.push(format!(
                            "`{at}.required_when`: `{other}` is not a variable of this version"
                        ));
                    }
                }
            }
            if let Some(default) = &variable.default {
                if !matches!(
                    default,
                    serde_json::Value::String(_)
                        | serde_json::Value::Number(_)
                        | serde_json::Value::Bool(_)
                ) {
                    problems.push(format!(
                        "`{at}.default`: expected text, a number or a boolean"
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// What is wrong with a version's events, their signature and their keys (`at` is the
/// version's key); their schemas are checked against the spec when it is lowered.
fn webhook_problems(version: &VersionEntry, at: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, webhook) in version.webhooks.iter().enumerate() {
        let at = format!("{at}.webhooks[{index}]");
        problems.extend(webhook.problems(&at));
        if version.webhooks[..index]
            .iter()
            .any(|w| w.name == webhook.name)
        {
            problems.push(format!("`{at}.name`: `{}` is declared twice", webhook.name));
        }
    }
    if let Err(message) = version.webhook_signature() {
        problems.push(format!("`{at}.webhook_signature`: {message}"));
    }
    if let Err(message) = version.webhook_event() {
        problems.push(format!("`{at}.webhook_event`: {message}"));
    }
    problems
}

fn regex_syntax_error(pattern: &str) -> bool {
    // The runtime checks values with the `regex` crate, whose syntax is `regex-syntax`'s: parsing
    // alone says whether a pattern is valid, without compiling a regex engine into the generator.
    regex_syntax::parse(pattern).is_err()
}
