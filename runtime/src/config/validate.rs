//! Validation of a parsed connection file: every problem collected, each with its key's path.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use super::ConnectionConfig;

mod reliability;
mod webhooks;

use crate::auth::{ClientAuth, Credential, Grant, LoginFlow, OAuth2Credential};
use crate::descriptor::{ConnectorDescriptor, SecuritySchemeKind};
use crate::error::hint;
use crate::secret::Secret;
use crate::secrets_file::{SecretsFile, StoredTokens};
use crate::variables::{self, Given};
use crate::versions::{VariableKind, VariableLocation, VersionDescriptor};
pub(super) use reliability::ReliabilityConfig;

/// Walks a parsed file, collecting every problem.
pub(super) struct Validator {
    pub(super) problems: Vec<String>,
    pub(super) warnings: Vec<String>,
    pub(super) dir: Option<PathBuf>,
    /// The version the file pins, when the connector has versions.
    pub(super) pinned: Option<VersionDescriptor>,
    /// The secrets file when the connection file does not name one (beside it), if known.
    pub(super) default_secrets: Option<SecretsFile>,
    /// What the secrets file in effect holds, by scheme.
    pub(super) stored: BTreeMap<String, StoredTokens>,
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
    "tls",
    "webhooks",
    "secrets_file",
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
            Value::Number(n) => n.as_f64().and_then(seconds),
            Value::String(s) => parse_duration(s),
            _ => None,
        };
        if parsed.is_none() {
            self.problem(
                path,
                format!(
                    "expected a positive duration of at most {} hours: seconds as a number, or a string such as \"500ms\", \"30s\" or \"2m\"",
                    crate::connection::MAX_TIMEOUT.as_secs() / 3600
                ),
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

    pub(super) fn connection(
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
            reliability: ReliabilityConfig::default(),
            warnings: Vec::new(),
            declared: self
                .pinned
                .as_ref()
                .map(|v| v.variables.to_vec())
                .unwrap_or_default(),
            backend: Vec::new(),
            tls: crate::tls::Tls::default(),
            webhooks: None,
            secrets_file: None,
        };
        let known: Vec<&str> = TOP_KEYS.iter().chain(reliability::KEYS).copied().collect();
        let Some(map) = self.table(value, "(top level)", &known) else {
            return config;
        };
        config.reliability = self.reliability(connector, map);
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
                let expected = match &self.pinned {
                    Some(pinned) => pinned.id.clone(),
                    None => connector.version.clone(),
                };
                if given != expected {
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
        if let Some(Value::String(url)) = map.get("server") {
            // A server chosen by its URL template, as the spec writes it.
            match connector.servers.iter().position(|s| s.url == *url) {
                Some(index) => config.server = Some(index),
                None => {
                    let urls: Vec<&str> =
                        connector.servers.iter().map(|s| s.url.as_ref()).collect();
                    self.problem(
                        "server",
                        format!(
                            "connector `{}` has no server with that URL (it has: {})",
                            connector.name,
                            if urls.is_empty() {
                                "none".into()
                            } else {
                                urls.join(", ")
                            }
                        ),
                    );
                }
            }
        } else if let Some(v) = map.get("server") {
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
                &mut config.backend,
            );
        } else if !config.declared.is_empty() {
            self.variables(
                connector,
                &Value::Object(Map::new()),
                config.server.unwrap_or(0),
                &mut config.variables,
                &mut config.backend,
            );
        }
        if let Some(v) = map.get("tls") {
            config.tls = self.tls(v);
        }
        if let Some(v) = map.get("webhooks") {
            config.webhooks = self.webhooks(v);
        }
        config.secrets_file = self.secrets_file(map.get("secrets_file"));
        if let Some(v) = map.get("credentials") {
            self.credentials(connector, v, &mut config.credentials);
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

    /// Server variables go to `out` (checked by the server's rules, one by one so that every
    /// problem shows); backend variables of the pinned version to `backend`, checked together.
    fn variables(
        &mut self,
        connector: &ConnectorDescriptor,
        value: &Value,
        server: usize,
        out: &mut Vec<(String, String)>,
        backend: &mut Vec<(String, Given)>,
    ) {
        let Some(map) = value.as_object() else {
            self.problem(
                "variables",
                format!("expected a table, found {}", kind(value)),
            );
            return;
        };
        let declared = self
            .pinned
            .as_ref()
            .map(|v| v.variables.to_vec())
            .unwrap_or_default();
        let chosen = connector.servers.get(server);
        // Operations' own servers have variables a connection sets too.
        let servers = crate::wire::server::settable(connector, server);
        let server_names = crate::wire::server::variable_names(&servers);
        let mut given = Vec::new();
        for (name, value) in map {
            let at = join("variables", name);
            let rule = declared.iter().find(|d| d.name == *name);
            let secret = rule.is_some_and(|d| d.kind == VariableKind::Secret);
            let entry = match value {
                Value::Object(_) | Value::String(_) if secret => match self.secret(value, &at) {
                    Some(s) => Given::Secret(s),
                    None => continue,
                },
                other => Given::Plain(other.clone()),
            };
            let in_server = server_names.contains(&name.as_str())
                && rule.is_none_or(|d| d.location == VariableLocation::Server);
            if let (true, Given::Plain(plain)) = (in_server, &entry) {
                let text = match plain {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        self.problem(&at, format!("expected text, found {}", kind(other)));
                        continue;
                    }
                };
                match check_server_value(chosen, &servers, name, &text) {
                    Ok(()) => out.push((name.clone(), text)),
                    Err(err) => self.problem(&at, server_problem(err)),
                }
                // The manifest's rules (type, pattern) are checked below; a refused value is
                // still given, so it is not also reported as missing.
                if rule.is_none() {
                    continue;
                }
            }
            given.push((name.clone(), entry));
        }
        match variables::check(&declared, &server_names, &given) {
            Ok(_) => backend.extend(given),
            Err(problems) => self.problems.extend(problems),
        }
    }

    /// `tls = { ca_file = "ca.pem", client_cert = "client.pem", client_key = { file = "client.key" } }`
    fn tls(&mut self, value: &Value) -> crate::tls::Tls {
        let mut tls = crate::tls::Tls::default();
        let Some(map) = self.table(value, "tls", &["ca_file", "client_cert", "client_key"]) else {
            return tls;
        };
        let read = |this: &mut Self, key: &str| -> Option<String> {
            let at = join("tls", key);
            let file = this.string(map.get(key)?, &at)?;
            let full = match &this.dir {
                Some(dir) => dir.join(&file),
                None => PathBuf::from(&file),
            };
            match std::fs::read_to_string(&full) {
                Ok(text) if text.contains("-----BEGIN CERTIFICATE-----") => Some(text),
                Ok(_) => {
                    this.problem(&at, format!("`{file}` holds no PEM certificate"));
                    None
                }
                Err(err) => {
                    this.problem(&at, format!("cannot read `{file}`: {}", err.kind()));
                    None
                }
            }
        };
        if let Some(ca) = read(self, "ca_file") {
            tls.roots.push(ca.into_bytes());
        }
        let cert = read(self, "client_cert");
        let key = map
            .get("client_key")
            .and_then(|k| self.secret_with(k, "tls.client_key", false));
        match (cert, key) {
            (Some(cert), Some(key)) => {
                tls.identity = Some(Secret::new(format!("{cert}\n{}\n", key.expose())));
            }
            (None, None) => {}
            _ if map.contains_key("client_cert") != map.contains_key("client_key") => {
                self.problem(
                    "tls",
                    "give both `client_cert` and `client_key`, or neither",
                );
            }
            // A part was given but unreadable: already reported.
            _ => {}
        }
        tls
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
            if let Some(credential) = self.credential(&scheme.kind, value, &at, name) {
                out.push((name.clone(), credential));
            }
        }
    }

    fn credential(
        &mut self,
        kind: &SecuritySchemeKind,
        value: &Value,
        at: &str,
        name: &str,
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
                "username",
                "password",
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
            Kind::OAuth2 { .. } | Kind::OpenIdConnect { .. } => self.oauth(map, at, name),
            _ => {
                let raw = required(self, "value")?;
                Some(Credential::raw(self.secret(raw, &join(at, "value"))?))
            }
        }
    }

    fn oauth(&mut self, map: &Map<String, Value>, at: &str, name: &str) -> Option<Credential> {
        let stored = self.stored.get(name).cloned().unwrap_or_default();
        let mut login_flow = None;
        let grant = match map.get("grant") {
            Some(v) => match self.string(v, &join(at, "grant"))?.as_str() {
                "client_credentials" => Grant::ClientCredentials,
                "refresh_token" => Grant::RefreshToken,
                "access_token" => Grant::AccessToken,
                flow @ ("authorization_code" | "device_code" | "password") => {
                    login_flow = Some(match flow {
                        "authorization_code" => LoginFlow::AuthorizationCode,
                        "device_code" => LoginFlow::Device,
                        _ => LoginFlow::Password,
                    });
                    Grant::AccessToken
                }
                other => {
                    let known = [
                        "client_credentials",
                        "refresh_token",
                        "access_token",
                        "authorization_code",
                        "device_code",
                        "password",
                    ];
                    self.problem(
                        &join(at, "grant"),
                        format!("unknown grant{}", hint(other, known.into_iter())),
                    );
                    return None;
                }
            },
            // The grant follows from what the file gives (or `login` stored).
            None if map.contains_key("access_token") => Grant::AccessToken,
            None if map.contains_key("refresh_token") => Grant::RefreshToken,
            None if stored.access_token.is_some() => Grant::AccessToken,
            None if stored.refresh_token.is_some() => Grant::RefreshToken,
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
        // The file's own tokens win over what `login` stored, unless the stored ones descend
        // from the file's refresh token (the server rotated it since, and the runtime kept the
        // rotation): presenting the file's spent token would get the family revoked.
        let file_access = secret(self, "access_token");
        let file_refresh = secret(self, "refresh_token");
        let from_file = map.contains_key("access_token") || map.contains_key("refresh_token");
        let descends = file_refresh.as_ref().is_some_and(|rt| {
            stored.family.as_deref() == Some(crate::shared::fingerprint(rt.expose()).as_str())
        });
        let use_stored = ((!from_file || descends) && stored.refresh_token.is_some())
            || (!from_file && stored.access_token.is_some());
        let (access_token, refresh_token) = if use_stored {
            (stored.access_token.clone(), stored.refresh_token.clone())
        } else {
            (file_access, file_refresh)
        };
        let username = text(self, "username");
        let password = secret(self, "password");
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
            Grant::AccessToken if login_flow.is_some() && access_token.is_none() => {
                let flow = login_flow?;
                if !needs(
                    self,
                    client_id.is_some(),
                    "client_id",
                    "`login` needs the client's id",
                ) {
                    return None;
                }
                if refresh_token.is_none() {
                    self.warnings.push(format!(
                        "`{at}`: no tokens yet; obtain them with `connector-gen login` (or the connector's `login` command)"
                    ));
                }
                let mut c = OAuth2Credential::from_login(client_id?, flow);
                if let Some(refresh) = refresh_token {
                    c = c.with_refresh_token(refresh);
                }
                if let Some(secret) = client_secret {
                    c = c.with_client_secret(secret);
                }
                c
            }
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
                    "the client credentials grant needs it (or set `grant = \"authorization_code\"` or `\"device_code\"` and obtain tokens with `login`)",
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
        if use_stored {
            // A refresh grant starts from the stored access token too, while it lasts.
            credential.access_token = access_token_kept(credential.access_token, &stored);
            credential.expires_at = stored.expires_at;
            credential.family = stored.family;
        }
        credential.login_flow = credential.login_flow.or(login_flow);
        credential.username = username;
        credential.password = password;
        Some(Credential::oauth2(credential))
    }

    /// The secrets file in effect (the named one, else the default beside the connection file),
    /// its tokens read into `stored`.
    fn secrets_file(&mut self, value: Option<&Value>) -> Option<SecretsFile> {
        let file = match value {
            None => self.default_secrets.clone()?,
            Some(v) => {
                let name = self.string(v, "secrets_file")?;
                SecretsFile::new(match &self.dir {
                    Some(dir) => dir.join(name),
                    None => PathBuf::from(name),
                })
            }
        };
        match file.read() {
            Ok(stored) => self.stored = stored,
            Err(crate::error::Error::Config { message, .. }) => {
                self.problem("secrets_file", message)
            }
            Err(other) => self.problem("secrets_file", other),
        }
        Some(file)
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

/// Checks a server variable's value by the rules of every server that has the variable: the
/// chosen one's whole URL, the operations' servers' variable alone (one may be relative).
fn check_server_value(
    chosen: Option<&crate::descriptor::ServerDescriptor>,
    servers: &[&crate::descriptor::ServerDescriptor],
    name: &str,
    value: &str,
) -> Result<(), crate::error::Error> {
    let pair = [(name.to_owned(), value.to_owned())];
    for server in servers {
        if !server.variables.iter().any(|v| v.name == name) {
            continue;
        }
        if Some(*server) == chosen {
            crate::wire::server::resolve(server, &pair)?;
        } else {
            // The spec's own problems are reported when the connection is built.
            if let Err(err @ crate::error::Error::InvalidServerVariable { .. }) =
                crate::wire::server::substitute(server, &pair)
            {
                return Err(err);
            }
        }
    }
    Ok(())
}

/// The reason of a server variable's error, which names the variable already by its key.
fn server_problem(err: crate::error::Error) -> String {
    match err {
        crate::error::Error::InvalidServerVariable { reason, .. } => reason,
        crate::error::Error::Config { message, .. } => message,
        other => other.to_string(),
    }
}

/// `a.b`, or `b` at the top level.
/// The credential's access token, else the stored one.
fn access_token_kept(given: Option<Secret>, stored: &StoredTokens) -> Option<Secret> {
    given.or_else(|| stored.access_token.clone())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() || path == "(top level)" {
        key.to_owned()
    } else {
        format!("{path}.{key}")
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
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    seconds(number * scale)
}

/// A duration of `seconds`, when it is positive, finite and within the longest timeout the
/// runtime accepts: anything else (`1e20`, `-1`, NaN, infinity) is a problem to report, and
/// would make `Duration::from_secs_f64` panic.
fn seconds(seconds: f64) -> Option<Duration> {
    if seconds.is_nan() || seconds <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| *d <= crate::connection::MAX_TIMEOUT)
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
        assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
        for out_of_range in ["25h", "99999999999999999999s", "1e20", "-1s", "nan", "inf"] {
            assert_eq!(parse_duration(out_of_range), None, "{out_of_range}");
        }
        for bad in [1e20, -1.0, 0.0, f64::NAN, f64::INFINITY, f64::MAX] {
            assert_eq!(seconds(bad), None, "{bad}");
        }
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
