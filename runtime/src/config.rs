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

use crate::auth::{ClientAuth, Credential, Grant, OAuth2Credential};
use crate::connection::{Connection, ConnectionBuilder};
use crate::descriptor::{ConnectorDescriptor, SecuritySchemeKind};
use crate::error::Error;
use crate::secret::Secret;

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
    warnings: Vec<String>,
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
        Self::from_value(connector, value, &name, dir.as_deref())
            .map_err(|problems| Error::ConnectionFile { file, problems })
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
        Self::from_value(connector, value, name, dir).map_err(fail)
    }

    fn from_value(
        connector: &ConnectorDescriptor,
        value: Value,
        name: &str,
        dir: Option<&Path>,
    ) -> Result<Self, Vec<String>> {
        let mut v = Validator {
            problems: Vec::new(),
            warnings: Vec::new(),
            dir: dir.map(Path::to_path_buf),
        };
        let config = v.connection(connector, &value, name);
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

    /// Things that work but deserve attention, such as secrets written inline.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// A builder configured from this file, for settings a file cannot hold (an HTTP client,
    /// a clock).
    pub fn builder(&self, connector: &ConnectorDescriptor) -> ConnectionBuilder {
        let mut b = Connection::builder(connector);
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
        b.allow_http_loopback(self.allow_http_loopback)
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

/// Walks a parsed file, collecting every problem.
struct Validator {
    problems: Vec<String>,
    warnings: Vec<String>,
    dir: Option<PathBuf>,
}

const TOP_KEYS: &[&str] = &[
    "connector",
    "version",
    "server",
    "base_url",
    "variables",
    "credentials",
    "timeout",
    "token_timeout",
    "max_concurrency",
    "proxy",
    "headers",
    "query",
    "allow_http_loopback",
    "auth_failure_statuses",
];

impl Validator {
    fn problem(&mut self, path: &str, message: impl fmt::Display) {
        self.problems.push(format!("`{path}`: {message}"));
    }

    /// The value as a table, reporting unknown keys with a hint.
    fn table<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = value.as_object() else {
            self.problem(path, format!("expected a table, found {}", kind(value)));
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                let at = join(path, key);
                self.problem(
                    &at,
                    format!("unknown key{}", hint(key, known.iter().copied())),
                );
            }
        }
        Some(map)
    }

    fn string(&mut self, value: &Value, path: &str) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            other => {
                self.problem(path, format!("expected a string, found {}", kind(other)));
                None
            }
        }
    }

    fn integer(&mut self, value: &Value, path: &str, min: u64) -> Option<u64> {
        match value.as_u64() {
            Some(n) if n >= min => Some(n),
            _ => {
                self.problem(
                    path,
                    format!(
                        "expected an integer of at least {min}, found {}",
                        kind(value)
                    ),
                );
                None
            }
        }
    }

    fn duration(&mut self, value: &Value, path: &str) -> Option<Duration> {
        let parsed = match value {
            Value::Number(n) => n
                .as_f64()
                .filter(|s| *s > 0.0 && s.is_finite())
                .map(Duration::from_secs_f64),
            Value::String(s) => parse_duration(s),
            _ => None,
        };
        if parsed.is_none() {
            self.problem(
                path,
                "expected a positive duration: seconds as a number, or a string such as \"500ms\", \"30s\" or \"2m\"",
            );
        }
        parsed
    }

    /// A secret: inline text (flagged), `{ env = "NAME" }` or `{ file = "path" }`.
    fn secret(&mut self, value: &Value, path: &str) -> Option<Secret> {
        self.secret_with(value, path, false)
    }

    fn secret_with(&mut self, value: &Value, path: &str, templates: bool) -> Option<Secret> {
        let secret = match value {
            Value::String(s) => {
                self.warnings.push(format!(
                    "`{path}` is written inline; prefer {{ env = \"NAME\" }} or {{ file = \"path\" }} so the file can be shared"
                ));
                s.clone()
            }
            Value::Object(_) => {
                let known: &[&str] = if templates {
                    &["env", "file", "template"]
                } else {
                    &["env", "file"]
                };
                let map = self.table(value, path, known)?;
                let raw = match (map.get("env"), map.get("file")) {
                    (Some(env), None) => {
                        let name = self.string(env, &join(path, "env"))?;
                        match std::env::var(&name) {
                            Ok(value) => value,
                            Err(_) => {
                                self.problem(
                                    path,
                                    format!(
                                        "environment variable `{name}` is not set (or not UTF-8)"
                                    ),
                                );
                                return None;
                            }
                        }
                    }
                    (None, Some(file)) => {
                        let file = self.string(file, &join(path, "file"))?;
                        let full = match &self.dir {
                            Some(dir) => dir.join(&file),
                            None => PathBuf::from(&file),
                        };
                        match std::fs::read_to_string(&full) {
                            Ok(text) => text.trim_end_matches(['\r', '\n']).to_owned(),
                            Err(err) => {
                                self.problem(
                                    path,
                                    format!("cannot read secret file `{file}`: {}", err.kind()),
                                );
                                return None;
                            }
                        }
                    }
                    _ => {
                        self.problem(path, "give exactly one of `env` or `file`");
                        return None;
                    }
                };
                match map.get("template") {
                    Some(template) => {
                        let template = self.string(template, &join(path, "template"))?;
                        if !template.contains("{value}") {
                            self.problem(
                                &join(path, "template"),
                                "must contain `{value}`, where the secret goes",
                            );
                            return None;
                        }
                        template.replace("{value}", &raw)
                    }
                    None => raw,
                }
            }
            other => {
                self.problem(
                    path,
                    format!("expected a secret (text, {{ env = \"NAME\" }} or {{ file = \"path\" }}), found {}", kind(other)),
                );
                return None;
            }
        };
        if secret.is_empty() {
            self.problem(path, "the secret is empty");
            return None;
        }
        Some(Secret::new(secret))
    }

    fn connection(
        &mut self,
        connector: &ConnectorDescriptor,
        value: &Value,
        name: &str,
    ) -> ConnectionConfig {
        let mut config = ConnectionConfig {
            name: name.to_owned(),
            connector: connector.name.to_string(),
            version: None,
            server: None,
            base_url: None,
            variables: Vec::new(),
            credentials: Vec::new(),
            timeout: None,
            token_timeout: None,
            max_concurrency: None,
            proxy: None,
            headers: Vec::new(),
            query: Vec::new(),
            allow_http_loopback: false,
            auth_failure_statuses: Vec::new(),
            warnings: Vec::new(),
        };
        let Some(map) = self.table(value, "(top level)", TOP_KEYS) else {
            return config;
        };
        match map.get("connector") {
            None => self.problem(
                "connector",
                format!("missing: name the connector, `{}`", connector.name),
            ),
            Some(v) => {
                if let Some(given) = self.string(v, "connector") {
                    if given != connector.name {
                        self.problem(
                            "connector",
                            format!("this file is for `{given}`, not `{}`", connector.name),
                        );
                    }
                }
            }
        }
        if let Some(v) = map.get("version") {
            if let Some(given) = self.string(v, "version") {
                if given != connector.version {
                    self.problem(
                        "version",
                        format!(
                            "connector `{}` is version {}, not {given}",
                            connector.name, connector.version
                        ),
                    );
                }
                config.version = Some(given);
            }
        }
        if let Some(v) = map.get("server") {
            if let Some(index) = self.integer(v, "server", 0) {
                match usize::try_from(index)
                    .ok()
                    .filter(|i| *i < connector.servers.len())
                {
                    Some(index) => config.server = Some(index),
                    None => self.problem(
                        "server",
                        format!(
                            "connector `{}` declares {} server(s), counted from 0",
                            connector.name,
                            connector.servers.len()
                        ),
                    ),
                }
            }
        }
        if let Some(v) = map.get("base_url") {
            config.base_url = self.string(v, "base_url");
        }
        if let Some(v) = map.get("variables") {
            self.variables(
                connector,
                v,
                config.server.unwrap_or(0),
                &mut config.variables,
            );
        }
        match map.get("credentials") {
            Some(v) => self.credentials(connector, v, &mut config.credentials),
            None => {}
        }
        if let Some(v) = map.get("timeout") {
            config.timeout = self.duration(v, "timeout");
        }
        if let Some(v) = map.get("token_timeout") {
            config.token_timeout = self.duration(v, "token_timeout");
        }
        if let Some(v) = map.get("max_concurrency") {
            config.max_concurrency = self
                .integer(v, "max_concurrency", 1)
                .and_then(|n| usize::try_from(n).ok());
        }
        if let Some(v) = map.get("proxy") {
            config.proxy = self.proxy(v);
        }
        for (key, out) in [
            ("headers", &mut config.headers),
            ("query", &mut config.query),
        ] {
            let Some(v) = map.get(key) else { continue };
            let Some(table) = v.as_object() else {
                self.problem(
                    key,
                    format!("expected a table of names and values, found {}", kind(v)),
                );
                continue;
            };
            for (name, value) in table {
                let at = join(key, name);
                let resolved = match value {
                    // Plain text is configuration, not a secret: it may name variables.
                    Value::String(text) => {
                        self.template(text, &at, &config.variables).map(Secret::new)
                    }
                    other => self.secret_with(other, &at, true),
                };
                if let Some(value) = resolved {
                    out.push((name.clone(), value));
                }
            }
        }
        if let Some(v) = map.get("allow_http_loopback") {
            match v.as_bool() {
                Some(b) => config.allow_http_loopback = b,
                None => self.problem(
                    "allow_http_loopback",
                    format!("expected true or false, found {}", kind(v)),
                ),
            }
        }
        if let Some(v) = map.get("auth_failure_statuses") {
            match v.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let at = format!("auth_failure_statuses[{i}]");
                        match item.as_u64().filter(|s| (400..600).contains(s)) {
                            Some(status) => config.auth_failure_statuses.push(status as u16),
                            None => self.problem(&at, "expected an HTTP error status (400 to 599)"),
                        }
                    }
                }
                None => self.problem(
                    "auth_failure_statuses",
                    format!("expected a list of statuses, found {}", kind(v)),
                ),
            }
        }
        config
    }

    fn variables(
        &mut self,
        connector: &ConnectorDescriptor,
        value: &Value,
        server: usize,
        out: &mut Vec<(String, String)>,
    ) {
        let Some(map) = value.as_object() else {
            self.problem(
                "variables",
                format!("expected a table, found {}", kind(value)),
            );
            return;
        };
        let declared = connector
            .servers
            .get(server)
            .map(|s| &s.variables[..])
            .unwrap_or(&[]);
        for (name, value) in map {
            let at = join("variables", name);
            let Some(variable) = declared.iter().find(|v| v.name == *name) else {
                self.problem(
                    &at,
                    format!(
                        "unknown variable{}",
                        hint(name, declared.iter().map(|v| v.name.as_ref()))
                    ),
                );
                continue;
            };
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    self.problem(&at, format!("expected text, found {}", kind(other)));
                    continue;
                }
            };
            if !variable.allowed.is_empty() && !variable.allowed.iter().any(|a| *a == text) {
                let allowed: Vec<&str> = variable.allowed.iter().map(|a| a.as_ref()).collect();
                self.problem(&at, format!("must be one of: {}", allowed.join(", ")));
                continue;
            }
            out.push((name.clone(), text));
        }
    }

    fn credentials(
        &mut self,
        connector: &ConnectorDescriptor,
        value: &Value,
        out: &mut Vec<(String, Credential)>,
    ) {
        let Some(map) = value.as_object() else {
            self.problem(
                "credentials",
                format!(
                    "expected a table of security schemes, found {}",
                    kind(value)
                ),
            );
            return;
        };
        for (name, value) in map {
            let at = join("credentials", name);
            let Some(scheme) = connector.security_scheme(name) else {
                let known = connector.security_schemes.iter().map(|s| s.name.as_ref());
                self.problem(
                    &at,
                    format!(
                        "connector `{}` has no security scheme of that name{}",
                        connector.name,
                        hint(name, known)
                    ),
                );
                continue;
            };
            if let Some(credential) = self.credential(&scheme.kind, value, &at) {
                out.push((name.clone(), credential));
            }
        }
    }

    fn credential(
        &mut self,
        kind: &SecuritySchemeKind,
        value: &Value,
        at: &str,
    ) -> Option<Credential> {
        use SecuritySchemeKind as Kind;
        let known: &[&str] = match kind {
            Kind::ApiKey { .. } => &["key"],
            Kind::HttpBasic => &["username", "password"],
            Kind::HttpBearer => &["token"],
            Kind::OAuth2 { .. } | Kind::OpenIdConnect { .. } => &[
                "grant",
                "client_id",
                "client_secret",
                "access_token",
                "refresh_token",
                "scopes",
                "token_url",
                "client_auth",
            ],
            _ => &["value"],
        };
        let map = self.table(value, at, known)?;
        let required = |v: &mut Self, key: &str| match map.get(key) {
            Some(value) => Some(value),
            None => {
                v.problem(&join(at, key), "missing");
                None
            }
        };
        match kind {
            Kind::ApiKey { .. } => {
                let key = required(self, "key")?;
                Some(Credential::api_key(self.secret(key, &join(at, "key"))?))
            }
            Kind::HttpBasic => {
                let user =
                    required(self, "username").and_then(|u| self.string(u, &join(at, "username")));
                let password =
                    required(self, "password").and_then(|p| self.secret(p, &join(at, "password")));
                Some(Credential::basic(user?, password?))
            }
            Kind::HttpBearer => {
                let token = required(self, "token")?;
                Some(Credential::bearer(self.secret(token, &join(at, "token"))?))
            }
            Kind::OAuth2 { .. } | Kind::OpenIdConnect { .. } => self.oauth(map, at),
            _ => {
                let raw = required(self, "value")?;
                Some(Credential::raw(self.secret(raw, &join(at, "value"))?))
            }
        }
    }

    fn oauth(&mut self, map: &Map<String, Value>, at: &str) -> Option<Credential> {
        let grant = match map.get("grant") {
            Some(v) => match self.string(v, &join(at, "grant"))?.as_str() {
                "client_credentials" => Grant::ClientCredentials,
                "refresh_token" => Grant::RefreshToken,
                "access_token" => Grant::AccessToken,
                other => {
                    let known = ["client_credentials", "refresh_token", "access_token"];
                    self.problem(
                        &join(at, "grant"),
                        format!("unknown grant{}", hint(other, known.into_iter())),
                    );
                    return None;
                }
            },
            // The grant follows from what the file gives.
            None if map.contains_key("access_token") => Grant::AccessToken,
            None if map.contains_key("refresh_token") => Grant::RefreshToken,
            None => Grant::ClientCredentials,
        };
        let text = |v: &mut Self, key: &str| map.get(key).and_then(|x| v.string(x, &join(at, key)));
        let client_id = text(self, "client_id");
        let token_url = text(self, "token_url");
        let client_auth = match text(self, "client_auth").as_deref() {
            None | Some("basic") => ClientAuth::Basic,
            Some("post") => ClientAuth::Post,
            Some(other) => {
                self.problem(
                    &join(at, "client_auth"),
                    format!(
                        "expected `basic` or `post`{}",
                        hint(other, ["basic", "post"].into_iter())
                    ),
                );
                ClientAuth::Basic
            }
        };
        let secret =
            |v: &mut Self, key: &str| map.get(key).and_then(|x| v.secret(x, &join(at, key)));
        let client_secret = secret(self, "client_secret");
        let access_token = secret(self, "access_token");
        let refresh_token = secret(self, "refresh_token");
        let scopes = match map.get("scopes") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, s)| self.string(s, &format!("{}[{i}]", join(at, "scopes"))))
                .collect(),
            Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
            Some(other) => {
                self.problem(
                    &join(at, "scopes"),
                    format!("expected a list of scopes, found {}", kind(other)),
                );
                Vec::new()
            }
        };
        let needs = |v: &mut Self, present: bool, key: &str, why: &str| {
            if !present && !map.contains_key(key) {
                v.problem(&join(at, key), format!("missing: {why}"));
            }
            present
        };
        let mut credential = match grant {
            Grant::ClientCredentials => {
                let ok = needs(
                    self,
                    client_id.is_some(),
                    "client_id",
                    "the client credentials grant needs it",
                );
                let ok = needs(
                    self,
                    client_secret.is_some(),
                    "client_secret",
                    "the client credentials grant needs it",
                ) && ok;
                if !ok {
                    return None;
                }
                OAuth2Credential::client_credentials(client_id?, client_secret?)
            }
            Grant::RefreshToken => {
                let ok = needs(
                    self,
                    client_id.is_some(),
                    "client_id",
                    "the refresh token grant needs it",
                );
                let ok = needs(
                    self,
                    refresh_token.is_some(),
                    "refresh_token",
                    "the refresh token grant needs it",
                ) && ok;
                if !ok {
                    return None;
                }
                let mut c = OAuth2Credential::refresh_token(client_id?, refresh_token?);
                if let Some(secret) = client_secret {
                    c = c.with_client_secret(secret);
                }
                c
            }
            Grant::AccessToken => {
                if !needs(
                    self,
                    access_token.is_some(),
                    "access_token",
                    "give the access token obtained for this connection",
                ) {
                    return None;
                }
                let mut c = OAuth2Credential::access_token(access_token?);
                if let Some(id) = client_id {
                    c = c.with_client_id(id);
                }
                if let Some(secret) = client_secret {
                    c = c.with_client_secret(secret);
                }
                if let Some(refresh) = refresh_token {
                    c = c.with_refresh_token(refresh);
                }
                c
            }
        };
        credential = credential.with_scopes(scopes).with_client_auth(client_auth);
        if let Some(url) = token_url {
            credential = credential.with_token_url(url);
        }
        Some(Credential::oauth2(credential))
    }

    fn proxy(&mut self, value: &Value) -> Option<(String, Option<(String, Secret)>)> {
        match value {
            Value::String(url) => Some((url.clone(), None)),
            Value::Object(_) => {
                let map = self.table(value, "proxy", &["url", "username", "password"])?;
                let url = match map.get("url") {
                    Some(u) => self.string(u, "proxy.url"),
                    None => {
                        self.problem("proxy.url", "missing");
                        None
                    }
                };
                let username = map
                    .get("username")
                    .and_then(|u| self.string(u, "proxy.username"));
                let password = map
                    .get("password")
                    .and_then(|p| self.secret(p, "proxy.password"));
                let auth = match (username, password) {
                    (Some(u), Some(p)) => Some((u, p)),
                    (None, None) => None,
                    _ => {
                        self.problem("proxy", "give both `username` and `password`, or neither");
                        None
                    }
                };
                Some((url?, auth))
            }
            other => {
                self.problem(
                    "proxy",
                    format!(
                        "expected a URL or a table with `url`, found {}",
                        kind(other)
                    ),
                );
                None
            }
        }
    }

    /// Substitutes `{name}` with the connection's variable values.
    fn template(&mut self, text: &str, at: &str, variables: &[(String, String)]) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|i| open + i) else {
                break;
            };
            let name = &rest[open + 1..close];
            let Some((_, value)) = variables.iter().find(|(n, _)| n == name) else {
                let known = variables.iter().map(|(n, _)| n.as_str());
                self.problem(
                    at,
                    format!(
                        "`{{{name}}}` names no variable set in `variables`{}",
                        hint(name, known)
                    ),
                );
                return None;
            };
            out.push_str(&rest[..open]);
            out.push_str(value);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        Some(out)
    }
}

/// `a.b`, or `b` at the top level.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() || path == "(top level)" {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `; did you mean `x`?` for the closest known name, if one is close: at most two edits
/// (a swap of neighbours counts as one) and fewer than half the name's length.
fn hint<'a>(given: &str, known: impl Iterator<Item = &'a str>) -> String {
    let given_lower = given.to_ascii_lowercase();
    let best = known
        .map(|k| {
            (
                strsim::damerau_levenshtein(&given_lower, &k.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(distance, _)| *distance <= 2 && distance * 2 <= given.chars().count())
        .min_by_key(|(distance, _)| *distance);
    match best {
        Some((_, name)) => format!("; did you mean `{name}`?"),
        None => String::new(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|i| text.split_at(i))
        .unwrap_or((text, "s"));
    let number: f64 = number
        .parse()
        .ok()
        .filter(|n: &f64| *n > 0.0 && n.is_finite())?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

impl fmt::Debug for ConnectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionConfig")
            .field("name", &self.name)
            .field("connector", &self.connector)
            .field("server", &self.server)
            .field("base_url", &self.base_url)
            .field("variables", &self.variables)
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("12"), Some(Duration::from_secs(12)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn hints_the_closest_key() {
        assert_eq!(
            hint("tiemout", TOP_KEYS.iter().copied()),
            "; did you mean `timeout`?"
        );
        assert_eq!(hint("zzz", TOP_KEYS.iter().copied()), "");
    }
}
