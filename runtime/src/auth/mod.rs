//! Credentials and where each security scheme puts them on a request.

pub(crate) mod oauth;

use std::collections::{btree_map, BTreeMap};
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use crate::descriptor::{
    ApiKeyLocation, ConnectorDescriptor, OperationDescriptor, SecurityRequirement,
    SecuritySchemeDescriptor, SecuritySchemeKind,
};
use crate::error::Error;
use crate::secret::Secret;
use crate::wire::encoding;
use crate::wire::request::{AuthParts, Authorized};

/// A credential for one security scheme of a connector.
///
/// `Debug` shows the kind (and a basic-auth user name) but never a secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Credential {
    /// An API key, for `apiKey` schemes; also accepted as a bearer token.
    ApiKey(Secret),
    /// A bearer token, for `http`/`bearer`, `oauth2` and `openIdConnect` schemes.
    Bearer(Secret),
    /// A user name and password, for `http`/`basic` schemes.
    Basic {
        /// The user name; RFC 7617 forbids a colon in it.
        username: String,
        /// The password.
        password: Secret,
    },
    /// The part of an `Authorization` value after `<scheme> `, for other `http` schemes.
    Raw(Secret),
    /// What the runtime needs to obtain and renew OAuth 2 tokens itself, for `oauth2` and
    /// `openIdConnect` schemes.
    OAuth2(OAuth2Credential),
    /// The connection's client certificate, for `mutualTLS` schemes: the builder gives it to
    /// every such scheme when the connection has one ([`client_identity_pem`], `[tls]
    /// client_cert`), and refuses it when the connection has none.
    ///
    /// [`client_identity_pem`]: crate::ConnectionBuilder::client_identity_pem
    ClientCertificate,
}

impl Credential {
    /// An API key.
    pub fn api_key(key: impl Into<Secret>) -> Self {
        Credential::ApiKey(key.into())
    }

    /// A bearer token.
    pub fn bearer(token: impl Into<Secret>) -> Self {
        Credential::Bearer(token.into())
    }

    /// A user name and password for HTTP basic authentication.
    pub fn basic(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credential::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// A raw `Authorization` credential, sent after the scheme name.
    pub fn raw(value: impl Into<Secret>) -> Self {
        Credential::Raw(value.into())
    }

    /// OAuth 2 credentials from which the runtime obtains access tokens.
    pub fn oauth2(credential: OAuth2Credential) -> Self {
        Credential::OAuth2(credential)
    }

    fn kind(&self) -> &'static str {
        match self {
            Credential::ApiKey(_) => "API key",
            Credential::Bearer(_) => "bearer token",
            Credential::Basic { .. } => "basic",
            Credential::Raw(_) => "raw",
            Credential::OAuth2(_) => "OAuth 2",
            Credential::ClientCertificate => "client certificate",
        }
    }
}

/// How the runtime gets OAuth 2 access tokens for a scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// Requests tokens with `grant_type=client_credentials`.
    ClientCredentials,
    /// Starts from a stored refresh token (`grant_type=refresh_token`).
    RefreshToken,
    /// Starts from an access token obtained elsewhere (authorization code, implicit, password),
    /// renewed with its refresh token when there is one.
    AccessToken,
}

/// How `login` obtains tokens for an OAuth 2 scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginFlow {
    /// The authorization code grant with PKCE (RFC 7636), redirected to a loopback address
    /// (RFC 8252): the user authorizes in a browser.
    AuthorizationCode,
    /// The device authorization grant (RFC 8628): the user authorizes on another device.
    Device,
    /// The resource owner password grant, where the spec declares it.
    Password,
}

impl LoginFlow {
    /// The flow's name in connection files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginFlow::AuthorizationCode => "authorization_code",
            LoginFlow::Device => "device_code",
            LoginFlow::Password => "password",
        }
    }
}

/// How an OAuth 2 client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_secret_basic`: an `Authorization: Basic` header of the form-encoded id and
    /// secret. The default, as RFC 6749 asks servers to support it.
    #[default]
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
}

/// OAuth 2 credentials: a client, and a refresh or access token when the grant needs one.
///
/// `Debug` shows the grant, client id, scopes and token URL, never a secret or token.
#[derive(Debug, Clone)]
#[must_use]
pub struct OAuth2Credential {
    pub(crate) grant: Grant,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) access_token: Option<Secret>,
    pub(crate) refresh_token: Option<Secret>,
    pub(crate) scopes: Vec<String>,
    pub(crate) token_url: Option<String>,
    pub(crate) client_auth: ClientAuth,
    /// When the given access token expires, if known.
    pub(crate) expires_at: Option<std::time::SystemTime>,
    /// The login the refresh token descends from (see [`crate::StoredTokens::family`]).
    pub(crate) family: Option<String>,
    /// How `login` gets tokens for the scheme, when the connection file says.
    pub(crate) login_flow: Option<LoginFlow>,
    /// The resource owner's name and password, for the password flow of `login`.
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
}

impl OAuth2Credential {
    fn new(grant: Grant) -> Self {
        Self {
            grant,
            client_id: None,
            client_secret: None,
            access_token: None,
            refresh_token: None,
            scopes: Vec::new(),
            token_url: None,
            client_auth: ClientAuth::default(),
            expires_at: None,
            family: None,
            login_flow: None,
            username: None,
            password: None,
        }
    }

    /// Tokens to come from `login` (kept in the connection's secrets file): until it has run,
    /// calls fail with an error that says so.
    pub fn from_login(client_id: impl Into<String>, flow: LoginFlow) -> Self {
        Self {
            client_id: Some(client_id.into()),
            login_flow: Some(flow),
            ..Self::new(Grant::AccessToken)
        }
    }

    /// When the access token expires: it is then renewed ahead of time, as an obtained one is.
    /// Default: unknown, so it is used until the API rejects it.
    pub fn with_expires_at(mut self, expires_at: std::time::SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The client credentials grant: the runtime requests, caches and renews tokens itself.
    pub fn client_credentials(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self {
            client_id: Some(client_id.into()),
            client_secret: Some(client_secret.into()),
            ..Self::new(Grant::ClientCredentials)
        }
    }

    /// The refresh token grant, starting from a stored refresh token. A refresh token the
    /// server rotates is kept in place of the old one.
    pub fn refresh_token(client_id: impl Into<String>, refresh_token: impl Into<Secret>) -> Self {
        Self {
            client_id: Some(client_id.into()),
            refresh_token: Some(refresh_token.into()),
            ..Self::new(Grant::RefreshToken)
        }
    }

    /// An access token obtained outside the runtime (authorization code, implicit or password
    /// flow). Without [`with_refresh_token`](Self::with_refresh_token) it is used until the API
    /// rejects it.
    pub fn access_token(access_token: impl Into<Secret>) -> Self {
        Self {
            access_token: Some(access_token.into()),
            ..Self::new(Grant::AccessToken)
        }
    }

    /// The client's id, needed to refresh an access token. Default: none.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The client's secret. Default: none (a public client).
    pub fn with_client_secret(mut self, client_secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(client_secret.into());
        self
    }

    /// A refresh token used to renew the access token. Default: none.
    pub fn with_refresh_token(mut self, refresh_token: impl Into<Secret>) -> Self {
        self.refresh_token = Some(refresh_token.into());
        self
    }

    /// Scopes requested with each token. Default: none, so the server grants its default scopes.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Uses this token endpoint instead of the one the spec declares. Default: the spec's
    /// (for OpenID Connect, the one the discovery document names).
    pub fn with_token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// How the client authenticates to the token endpoint. Default: [`ClientAuth::Basic`].
    pub fn with_client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.client_auth = client_auth;
        self
    }
}

/// Credentials by security scheme name, each with what it puts on a request, worked out on
/// first use: every request of a scheme carries the same parts.
#[derive(Default)]
pub(crate) struct Credentials {
    entries: BTreeMap<String, Entry>,
}

pub(crate) struct Entry {
    credential: Credential,
    /// The credential's parts for its scheme, or the key and message of the configuration
    /// error that forming them gives (the builder checks every credential against its scheme
    /// first, so that is reported, never expected).
    placed: OnceLock<Result<AuthParts, (String, String)>>,
}

type Pairs<'a> = std::iter::Map<
    btree_map::Iter<'a, String, Entry>,
    fn((&'a String, &'a Entry)) -> (&'a String, &'a Credential),
>;

impl Credentials {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn insert(&mut self, name: String, credential: Credential) {
        let placed = OnceLock::new();
        self.entries.insert(name, Entry { credential, placed });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The scheme names, in order.
    pub(crate) fn keys(&self) -> btree_map::Keys<'_, String, Entry> {
        self.entries.keys()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Credential> {
        self.entries.get(name).map(|entry| &entry.credential)
    }

    fn contains_key(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }
}

impl<'a> IntoIterator for &'a Credentials {
    type Item = (&'a String, &'a Credential);
    type IntoIter = Pairs<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries
            .iter()
            .map(|(name, entry)| (name, &entry.credential))
    }
}

/// Picks the first security alternative of `op` that the credentials satisfy and places them.
pub(crate) fn authorize<'a>(
    connector: &ConnectorDescriptor,
    op: &OperationDescriptor,
    credentials: &'a Credentials,
) -> Result<Authorized<'a>, Error> {
    let mut chosen = Authorized::Anonymous;
    let Some(requirement) = choose(op, credentials)? else {
        return Ok(chosen);
    };
    for name in requirement.iter() {
        let scheme = connector.security_scheme(name).ok_or_else(|| Error::Config {
            key: name.to_string(),
            message: format!(
                "operation `{}` requires security scheme `{name}`, which the connector does not declare",
                op.id
            ),
        })?;
        let Some(entry) = credentials.entries.get(name.as_ref()) else {
            continue;
        };
        let placed = entry.placed.get_or_init(|| {
            let mut placed = AuthParts::default();
            match place(scheme, &entry.credential, &mut placed) {
                Ok(()) => Ok(placed),
                Err(Error::Config { key, message }) => Err((key, message)),
                Err(other) => Err((scheme.name.to_string(), other.to_string())),
            }
        });
        let placed = placed.as_ref().map_err(|(key, message)| Error::Config {
            key: key.clone(),
            message: message.clone(),
        })?;
        chosen = chosen.and(placed);
    }
    Ok(chosen)
}

/// The first security alternative of `op` whose schemes all have credentials; `None` when the
/// operation needs no auth.
fn choose<'a>(
    op: &'a OperationDescriptor,
    credentials: &Credentials,
) -> Result<Option<&'a SecurityRequirement>, Error> {
    if op.security.is_empty() {
        return Ok(None);
    }
    let chosen = op.security.iter().find(|requirement| {
        requirement
            .iter()
            .all(|name| credentials.contains_key(name.as_ref()))
    });
    match chosen {
        Some(requirement) => Ok(Some(requirement)),
        None => Err(Error::MissingCredentials {
            operation: op.id.to_string(),
            alternatives: op
                .security
                .iter()
                .map(|r| r.iter().map(|name| name.to_string()).collect())
                .collect(),
        }),
    }
}

/// The schemes of the chosen alternative whose tokens the runtime obtains itself: each adds an
/// `Authorization: Bearer` header when the request is sent.
pub(crate) fn token_schemes<'a>(
    op: &'a OperationDescriptor,
    credentials: &Credentials,
) -> Result<Vec<&'a str>, Error> {
    let Some(requirement) = choose(op, credentials)? else {
        return Ok(Vec::new());
    };
    Ok(requirement
        .iter()
        .map(|name| name.as_ref())
        .filter(|name| matches!(credentials.get(name), Some(Credential::OAuth2(_))))
        .collect())
}

/// Checks, when the connection is built, that a credential fits its scheme.
pub(crate) fn check(
    scheme: &SecuritySchemeDescriptor,
    credential: &Credential,
) -> Result<(), Error> {
    place(scheme, credential, &mut AuthParts::default())
}

fn place(
    scheme: &SecuritySchemeDescriptor,
    credential: &Credential,
    parts: &mut AuthParts,
) -> Result<(), Error> {
    use SecuritySchemeKind as Kind;
    match (&scheme.kind, credential) {
        (
            Kind::ApiKey {
                location,
                parameter,
            },
            Credential::ApiKey(key),
        ) => match location {
            ApiKeyLocation::Header => {
                let name = HeaderName::from_bytes(parameter.as_bytes()).map_err(|_| {
                    config(scheme, format!("`{parameter}` is not a valid header name"))
                })?;
                parts.headers.push((name, sensitive(scheme, key.expose())?));
            }
            ApiKeyLocation::Query => parts.query.push((
                encoding::component(parameter),
                encoding::component(key.expose()),
            )),
            ApiKeyLocation::Cookie => parts
                .cookies
                .push(encoding::cookie_pair(parameter, key.expose())),
        },
        (Kind::HttpBasic, Credential::Basic { username, password }) => {
            if username.contains(':') {
                return Err(config(
                    scheme,
                    "the user name contains `:`, which RFC 7617 does not allow".into(),
                ));
            }
            let token = STANDARD.encode(format!("{username}:{}", password.expose()));
            authorization(scheme, &format!("Basic {token}"), parts)?;
        }
        (
            Kind::HttpBearer | Kind::OAuth2 { .. } | Kind::OpenIdConnect { .. },
            Credential::Bearer(token) | Credential::ApiKey(token) | Credential::Raw(token),
        ) => authorization(scheme, &format!("Bearer {}", token.expose()), parts)?,
        // Placed when the request is sent, from the scheme's token source.
        (Kind::OAuth2 { .. } | Kind::OpenIdConnect { .. }, Credential::OAuth2(_)) => {}
        (Kind::HttpOther { scheme: name }, Credential::Raw(value) | Credential::ApiKey(value)) => {
            authorization(scheme, &format!("{name} {}", value.expose()), parts)?;
        }
        // The certificate goes in the TLS handshake, not on the request.
        (Kind::MutualTls, Credential::ClientCertificate) => {}
        (kind, credential) => {
            return Err(config(
                scheme,
                format!(
                    "a {} credential cannot be used for this {} scheme; use {}",
                    credential.kind(),
                    kind_name(kind),
                    expected(kind)
                ),
            ))
        }
    }
    Ok(())
}

fn authorization(
    scheme: &SecuritySchemeDescriptor,
    value: &str,
    parts: &mut AuthParts,
) -> Result<(), Error> {
    parts
        .headers
        .push((AUTHORIZATION, sensitive(scheme, value)?));
    Ok(())
}

/// A header value that HTTP/2 HPACK will not index and that `Debug` prints as `Sensitive`.
fn sensitive(scheme: &SecuritySchemeDescriptor, value: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        config(
            scheme,
            "the credential contains characters not allowed in an HTTP header".into(),
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

fn config(scheme: &SecuritySchemeDescriptor, message: String) -> Error {
    Error::Config {
        key: scheme.name.to_string(),
        message,
    }
}

fn kind_name(kind: &SecuritySchemeKind) -> &'static str {
    match kind {
        SecuritySchemeKind::ApiKey { .. } => "apiKey",
        SecuritySchemeKind::HttpBasic => "http basic",
        SecuritySchemeKind::HttpBearer => "http bearer",
        SecuritySchemeKind::OAuth2 { .. } => "oauth2",
        SecuritySchemeKind::OpenIdConnect { .. } => "openIdConnect",
        SecuritySchemeKind::HttpOther { .. } => "http",
        SecuritySchemeKind::MutualTls => "mutualTLS",
    }
}

fn expected(kind: &SecuritySchemeKind) -> &'static str {
    match kind {
        SecuritySchemeKind::ApiKey { .. } => "Credential::api_key",
        SecuritySchemeKind::HttpBasic => "Credential::basic",
        SecuritySchemeKind::HttpOther { .. } => "Credential::raw",
        SecuritySchemeKind::OAuth2 { .. } | SecuritySchemeKind::OpenIdConnect { .. } => {
            "Credential::oauth2 or Credential::bearer"
        }
        SecuritySchemeKind::MutualTls => {
            "a client certificate on the connection (`client_identity_pem`, `[tls] client_cert`)"
        }
        _ => "Credential::bearer",
    }
}
