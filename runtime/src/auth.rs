//! Credentials and where each security scheme puts them on a request.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use crate::descriptor::{
    ApiKeyLocation, ConnectorDescriptor, OperationDescriptor, SecuritySchemeDescriptor,
    SecuritySchemeKind,
};
use crate::encoding;
use crate::error::Error;
use crate::secret::Secret;

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

    fn kind(&self) -> &'static str {
        match self {
            Credential::ApiKey(_) => "API key",
            Credential::Bearer(_) => "bearer token",
            Credential::Basic { .. } => "basic",
            Credential::Raw(_) => "raw",
        }
    }
}

/// Credentials by security scheme name.
pub(crate) type Credentials = BTreeMap<String, Credential>;

/// What the chosen credentials add to one request.
#[derive(Default)]
pub(crate) struct AuthParts {
    /// Headers, each marked sensitive.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Encoded query pairs.
    pub(crate) query: Vec<(String, String)>,
    /// Encoded `name=value` cookie pairs.
    pub(crate) cookies: Vec<String>,
}

/// Picks the first security alternative of `op` that the credentials satisfy and places them.
pub(crate) fn authorize(
    connector: &ConnectorDescriptor,
    op: &OperationDescriptor,
    credentials: &Credentials,
) -> Result<AuthParts, Error> {
    let mut parts = AuthParts::default();
    if op.security.is_empty() {
        return Ok(parts);
    }
    let chosen = op.security.iter().find(|requirement| {
        requirement
            .iter()
            .all(|name| credentials.contains_key(name.as_ref()))
    });
    let Some(requirement) = chosen else {
        return Err(Error::MissingCredentials {
            operation: op.id.to_string(),
            alternatives: op
                .security
                .iter()
                .map(|r| r.iter().map(|name| name.to_string()).collect())
                .collect(),
        });
    };
    for name in requirement.iter() {
        let scheme = connector.security_scheme(name).ok_or_else(|| Error::Config {
            key: name.to_string(),
            message: format!(
                "operation `{}` requires security scheme `{name}`, which the connector does not declare",
                op.id
            ),
        })?;
        if let Some(credential) = credentials.get(name.as_ref()) {
            place(scheme, credential, &mut parts)?;
        }
    }
    Ok(parts)
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
            Kind::HttpBearer | Kind::OAuth2 | Kind::OpenIdConnect,
            Credential::Bearer(token) | Credential::ApiKey(token) | Credential::Raw(token),
        ) => authorization(scheme, &format!("Bearer {}", token.expose()), parts)?,
        (Kind::HttpOther { scheme: name }, Credential::Raw(value) | Credential::ApiKey(value)) => {
            authorization(scheme, &format!("{name} {}", value.expose()), parts)?;
        }
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
        SecuritySchemeKind::OAuth2 => "oauth2",
        SecuritySchemeKind::OpenIdConnect => "openIdConnect",
        SecuritySchemeKind::HttpOther { .. } => "http",
    }
}

fn expected(kind: &SecuritySchemeKind) -> &'static str {
    match kind {
        SecuritySchemeKind::ApiKey { .. } => "Credential::api_key",
        SecuritySchemeKind::HttpBasic => "Credential::basic",
        SecuritySchemeKind::HttpOther { .. } => "Credential::raw",
        _ => "Credential::bearer",
    }
}
