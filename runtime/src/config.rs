//! Connection files: a connection as data (TOML, YAML or JSON), validated against its connector
//! before any request, with secrets read from the environment or from files.
//!
//! Every problem of a file is reported at once, each with the path of the key at fault; values
//! are never quoted, because any of them may be a secret.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::auth::Credential;
use crate::connection::{Connection, ConnectionBuilder};
use crate::descriptor::ConnectorDescriptor;
use crate::error::Error;
use crate::secret::Secret;
use crate::secrets_file::SecretsFile;
use crate::tls::Tls;
use crate::variables::Given;
use crate::versions::{VariableDescriptor, VersionState, VersionedConnector};

mod validate;

use validate::Validator;

/// What `Serialize` writes in place of a secret.
const MASK: &str = "******";

/// File extensions a connection file may have.
const EXTENSIONS: &[&str] = &["toml", "yaml", "yml", "json"];

/// A connection read from a file: validated against its connector, secrets resolved.
///
/// `Debug` and `Serialize` never show a secret: `Debug` prints `[REDACTED]`, `Serialize` writes
/// `******` (so a serialized config can be inspected or diffed, but not used to leak).
#[derive(Clone)]
pub struct ConnectionConfig {
    name: String,
    connector: String,
    version: Option<String>,
    server: Option<usize>,
    base_url: Option<String>,
    variables: Vec<(String, String)>,
    credentials: Vec<(String, Credential)>,
    timeout: Option<Duration>,
    token_timeout: Option<Duration>,
    max_concurrency: Option<usize>,
    proxy: Option<(String, Option<(String, Secret)>)>,
    headers: Vec<(String, Secret)>,
    query: Vec<(String, Secret)>,
    allow_http_loopback: bool,
    auth_failure_statuses: Vec<u16>,
    reliability: validate::ReliabilityConfig,
    warnings: Vec<String>,
    /// Backend variables of the pinned version, and the values the file gives them.
    declared: Vec<VariableDescriptor>,
    backend: Vec<(String, Given)>,
    tls: Tls,
    webhooks: Option<crate::webhooks::WebhookSettings>,
    /// Where `login` stores tokens and rotated refresh tokens are kept.
    secrets_file: Option<SecretsFile>,
}

impl ConnectionConfig {
    /// Reads and validates the connection file at `path`; its format follows the extension
    /// (`.toml`, `.yaml`/`.yml`, `.json`). `{ file = "..." }` secrets are read relative to the
    /// file's folder. The connection is named after the file's stem.
    pub fn from_file(
        connector: &ConnectorDescriptor,
        path: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let fail = |problem: String| Error::ConnectionFile {
            file: file.clone(),
            problems: vec![problem],
        };
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let text = std::fs::read_to_string(path)
            .map_err(|err| fail(format!("cannot read the file: {}", err.kind())))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = path.parent().map(Path::to_path_buf);
        let value = parse(&text, &extension).map_err(fail)?;
        Self::from_value(connector, value, &name, dir.as_deref(), None, Some(path))
            .map_err(|problems| Error::ConnectionFile { file, problems })
    }

    /// Reads and validates a connection file of a connector with versions: the file's `version`
    /// picks one (it may be left out when the connector has a single version), and its
    /// `[variables]` are checked against that version's backend variables. A deprecated
    /// version works, with a warning.
    pub fn from_file_in(
        connector: &VersionedConnector,
        path: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let fail = |problems: Vec<String>| Error::ConnectionFile {
            file: file.clone(),
            problems,
        };
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let text = std::fs::read_to_string(path)
            .map_err(|err| fail(vec![format!("cannot read the file: {}", err.kind())]))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let value = parse(&text, &extension).map_err(|p| fail(vec![p]))?;
        let version = pinned(connector, &value).map_err(|p| fail(vec![p]))?;
        Self::from_value(
            &version.connector,
            value,
            &name,
            path.parent(),
            Some(version),
            Some(path),
        )
        .map_err(fail)
    }

    /// Creates the connection to the version the file pins.
    pub fn connect_in(&self, connector: &VersionedConnector) -> Result<Connection, Error> {
        let id = self.version.as_deref();
        let version = connector.select(id).map_err(|message| Error::Config {
            key: "version".into(),
            message,
        })?;
        self.connect(&version.connector)
    }

    /// The version the file pins, if it names one.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Validates a connection given as text in `format` (`toml`, `yaml` or `json`), named
    /// `name`; relative secret files are read from `dir`, or the working directory.
    pub fn from_text(
        connector: &ConnectorDescriptor,
        text: &str,
        format: &str,
        name: &str,
        dir: Option<&Path>,
    ) -> Result<Self, Error> {
        let fail = |problems: Vec<String>| Error::ConnectionFile {
            file: name.to_owned(),
            problems,
        };
        let value = parse(text, format).map_err(|p| fail(vec![p]))?;
        Self::from_value(connector, value, name, dir, None, None).map_err(fail)
    }

    fn from_value(
        connector: &ConnectorDescriptor,
        value: Value,
        name: &str,
        dir: Option<&Path>,
        pinned: Option<&crate::versions::VersionDescriptor>,
        path: Option<&Path>,
    ) -> Result<Self, Vec<String>> {
        let mut v = Validator {
            problems: Vec::new(),
            warnings: Vec::new(),
            dir: dir.map(Path::to_path_buf),
            pinned: pinned.cloned(),
            default_secrets: path.map(SecretsFile::beside),
            stored: BTreeMap::new(),
        };
        if let Some(version) = pinned.filter(|v| v.state == VersionState::Deprecated) {
            v.warnings.push(format!(
                "version `{}` of connector `{}` is deprecated; move the connection to a newer version",
                version.id, connector.name
            ));
        }
        let mut config = v.connection(connector, &value, name);
        if let Some(version) = pinned {
            config.version = Some(version.id.to_string());
        }
        if v.problems.is_empty() {
            for warning in &v.warnings {
                tracing::warn!(connection = %name, "{warning}");
            }
            Ok(ConnectionConfig {
                warnings: v.warnings,
                ..config
            })
        } else {
            Err(v.problems)
        }
    }

    /// The connection's name (the file's stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `[webhooks]` table: how the events this connection receives are verified.
    pub fn webhooks(&self) -> Option<&crate::webhooks::WebhookSettings> {
        self.webhooks.as_ref()
    }

    /// The secrets file: the one the file names with `secrets_file`, else `NAME.secrets.json`
    /// beside the connection file (`None` for a connection given as text without one).
    pub fn secrets_file(&self) -> Option<&SecretsFile> {
        self.secrets_file.as_ref()
    }

    /// The OAuth 2 credential of `scheme`, as the file gives it.
    #[cfg(feature = "login")]
    pub(crate) fn oauth_credential(&self, scheme: &str) -> Option<&crate::auth::OAuth2Credential> {
        self.credentials.iter().find_map(|(name, c)| match c {
            Credential::OAuth2(oauth) if name == scheme => Some(oauth),
            _ => None,
        })
    }

    /// The names of the schemes the file gives OAuth 2 credentials for.
    #[cfg(feature = "login")]
    pub(crate) fn oauth_schemes(&self) -> Vec<&str> {
        self.credentials
            .iter()
            .filter(|(_, c)| matches!(c, Credential::OAuth2(_)))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Whether loopback `http://` URLs are allowed (`allow_http_loopback`).
    #[cfg(feature = "login")]
    pub(crate) fn allows_http_loopback(&self) -> bool {
        self.allow_http_loopback
    }

    /// Things that work but deserve attention, such as secrets written inline.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// A builder configured from this file, for settings a file cannot hold (an HTTP client,
    /// a clock).
    pub fn builder(&self, connector: &ConnectorDescriptor) -> ConnectionBuilder {
        let mut b = Connection::builder(connector)
            .declare_variables(self.declared.clone())
            .tls(self.tls.clone());
        for (name, value) in &self.backend {
            b = match value {
                Given::Plain(value) => b.variable(name, value.clone()),
                Given::Secret(secret) => b.secret_variable(name, secret.clone()),
            };
        }
        if let Some(server) = self.server {
            b = b.server(server);
        }
        for (name, value) in &self.variables {
            b = b.server_variable(name, value);
        }
        if let Some(url) = &self.base_url {
            b = b.base_url(url);
        }
        for (scheme, credential) in &self.credentials {
            b = b.credential(scheme, credential.clone());
        }
        if let Some(timeout) = self.timeout {
            b = b.timeout(timeout);
        }
        if let Some(timeout) = self.token_timeout {
            b = b.token_timeout(timeout);
        }
        if let Some(limit) = self.max_concurrency {
            b = b.max_concurrency(limit);
        }
        if let Some((url, auth)) = &self.proxy {
            b = b.proxy(url, auth.clone());
        }
        for (name, value) in &self.headers {
            b = b.header(name, value.clone());
        }
        for (name, value) in &self.query {
            b = b.query(name, value.clone());
        }
        for status in &self.auth_failure_statuses {
            b = b.auth_failure_status(*status);
        }
        if let Some(file) = &self.secrets_file {
            b = b.secrets_file(file.clone());
        }
        self.reliability
            .apply(b)
            .allow_http_loopback(self.allow_http_loopback)
    }

    /// Creates the connection.
    pub fn connect(&self, connector: &ConnectorDescriptor) -> Result<Connection, Error> {
        self.builder(connector).build()
    }
}

impl Connection {
    /// Reads, validates and connects the connection file at `path` (see [`ConnectionConfig`]).
    pub fn from_file(
        connector: &ConnectorDescriptor,
        path: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        ConnectionConfig::from_file(connector, path)?.connect(connector)
    }
}

/// Loads every connection file of `connector` in `dir`, keyed by file stem, so that many
/// connections of one connector (one per customer, say) sit side by side.
///
/// Files whose `connector` names another connector are skipped, so one folder can serve
/// several connectors. Problems of all files are reported together.
pub fn load_dir(
    connector: &ConnectorDescriptor,
    dir: impl AsRef<Path>,
) -> Result<BTreeMap<String, Connection>, Error> {
    let dir = dir.as_ref();
    let fail = |problems: Vec<String>| Error::ConnectionFile {
        file: dir.display().to_string(),
        problems,
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|err| fail(vec![format!("cannot read the folder: {}", err.kind())]))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        })
        .collect();
    paths.sort();
    let mut problems = Vec::new();
    let mut out = BTreeMap::new();
    for path in paths {
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A file of another connector is not ours to judge.
        if let Ok(text) = std::fs::read_to_string(&path) {
            let extension = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default();
            if let Ok(value) = parse(&text, &extension.to_ascii_lowercase()) {
                let other = value
                    .get("connector")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c != connector.name);
                if other {
                    tracing::debug!(file = %label, "skipped: a connection of another connector");
                    continue;
                }
            }
        }
        let result = ConnectionConfig::from_file(connector, &path).and_then(|config| {
            let name = config.name().to_owned();
            config.connect(connector).map(|c| (name, c))
        });
        match result {
            Ok((name, connection)) => {
                if out.insert(name.clone(), connection).is_some() {
                    problems.push(format!(
                        "{label}: another file also defines connection `{name}`"
                    ));
                }
            }
            Err(Error::ConnectionFile {
                problems: inner, ..
            }) => {
                problems.extend(inner.into_iter().map(|p| format!("{label}: {p}")));
            }
            Err(other) => problems.push(format!("{label}: {other}")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(fail(problems))
    }
}

/// The version a parsed file pins: its `version` key, or the only version there is.
fn pinned<'c>(
    connector: &'c VersionedConnector,
    value: &Value,
) -> Result<&'c crate::versions::VersionDescriptor, String> {
    match value.get("version") {
        Some(Value::String(id)) => connector
            .select(Some(id))
            .map_err(|m| format!("`version`: {m}")),
        Some(_) => Err("`version`: expected the id of a version, as text".into()),
        None if connector.versions.len() == 1 => connector.select(None),
        None => {
            let ids: Vec<&str> = connector.versions.iter().map(|v| v.id.as_ref()).collect();
            Err(format!(
                "`version`: missing: pin one of the versions of connector `{}`: {}",
                connector.name,
                ids.join(", ")
            ))
        }
    }
}

/// Parses text of a format into a JSON value; the message never quotes the text.
fn parse(text: &str, format: &str) -> Result<Value, String> {
    match format {
        #[cfg(feature = "toml")]
        "toml" => toml::from_str::<Value>(text).map_err(|err| {
            let line = err
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            // Only the message: the error's Display quotes the offending line.
            let message = err.message().trim().replace('\n', "; ");
            match line {
                Some(line) => format!("TOML syntax error at line {line}: {message}"),
                None => format!("TOML syntax error: {message}"),
            }
        }),
        #[cfg(feature = "yaml")]
        "yaml" | "yml" => serde_yaml::from_str::<Value>(text).map_err(|err| match err.location() {
            Some(at) => format!("YAML syntax error at line {}", at.line()),
            None => "YAML syntax error".to_owned(),
        }),
        "json" => serde_json::from_str::<Value>(text)
            .map_err(|err| format!("JSON syntax error at line {}", err.line())),
        other => Err(format!(
            "files of type `{other}` are not supported (this build reads: {})",
            supported().join(", ")
        )),
    }
}

fn supported() -> Vec<&'static str> {
    let mut formats = Vec::new();
    if cfg!(feature = "toml") {
        formats.push("toml");
    }
    if cfg!(feature = "yaml") {
        formats.push("yaml");
    }
    formats.push("json");
    formats
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("name", &self.name)
            .field("connector", &self.connector)
            .field("server", &self.server)
            .field("base_url", &self.base_url)
            .field("variables", &self.variables)
            .field(
                "backend_variables",
                &self.backend.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            // Credential and Secret print `[REDACTED]` for every secret.
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .field("max_concurrency", &self.max_concurrency)
            .field("proxy", &self.proxy.as_ref().map(|_| "[REDACTED]"))
            .field("headers", &self.headers)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl Serialize for ConnectionConfig {
    /// Writes the configuration with every secret masked as `******`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let credentials: Map<String, Value> = self
            .credentials
            .iter()
            .map(|(name, credential)| (name.clone(), masked(credential)))
            .collect();
        let masked_pairs = |pairs: &[(String, Secret)]| -> Map<String, Value> {
            pairs
                .iter()
                .map(|(n, _)| (n.clone(), json!(MASK)))
                .collect()
        };
        json!({
            "connector": self.connector,
            "version": self.version,
            "server": self.server,
            "base_url": self.base_url,
            "variables": self.variables.iter().cloned().collect::<BTreeMap<_, _>>(),
            "backend_variables": self
                .backend
                .iter()
                .map(|(name, value)| {
                    let shown = match value {
                        Given::Plain(value) => value.clone(),
                        Given::Secret(_) => json!(MASK),
                    };
                    (name.clone(), shown)
                })
                .collect::<Map<String, Value>>(),
            "credentials": credentials,
            "timeout": self.timeout.map(|t| t.as_secs_f64()),
            "token_timeout": self.token_timeout.map(|t| t.as_secs_f64()),
            "max_concurrency": self.max_concurrency,
            "proxy": self.proxy.as_ref().map(|_| MASK),
            "headers": masked_pairs(&self.headers),
            "query": masked_pairs(&self.query),
            "allow_http_loopback": self.allow_http_loopback,
        })
        .serialize(serializer)
    }
}

fn masked(credential: &Credential) -> Value {
    match credential {
        Credential::ApiKey(_) => json!({ "key": MASK }),
        Credential::Bearer(_) => json!({ "token": MASK }),
        Credential::Basic { username, .. } => json!({ "username": username, "password": MASK }),
        Credential::Raw(_) => json!({ "value": MASK }),
        Credential::OAuth2(c) => {
            let mask = |present: bool| present.then_some(MASK);
            json!({
                "client_id": c.client_id,
                "client_secret": mask(c.client_secret.is_some()),
                "access_token": mask(c.access_token.is_some()),
                "refresh_token": mask(c.refresh_token.is_some()),
                "scopes": c.scopes,
                "token_url": c.token_url,
            })
        }
        Credential::ClientCertificate => json!({ "client_certificate": "[tls]" }),
    }
}
