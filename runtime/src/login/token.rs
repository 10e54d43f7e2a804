//! The requests `login` makes to the authorization server: token requests of every grant, the
//! device authorization request, and the OpenID Connect discovery document. Redirects are never
//! followed, bodies are read with a limit, and nothing a server sends back is quoted but its
//! OAuth error code (a failing endpoint may echo the submitted form).

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;
use serde_json::Value;

use crate::auth::oauth::{
    describe_transport, form_encode, MAX_DISCOVERY_BYTES, MAX_TOKEN_RESPONSE_BYTES,
};
use crate::auth::ClientAuth;
use crate::error::Error;
use crate::secret::Secret;
use crate::wire::read::{self, ReadError};

/// How long the authorization server may take to answer one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Tokens a token endpoint issued.
#[derive(Debug)]
pub(crate) struct Issued {
    pub(crate) access_token: Secret,
    pub(crate) refresh_token: Option<Secret>,
    pub(crate) expires_in: Option<Duration>,
    pub(crate) scopes: Vec<String>,
}

/// What a token endpoint answered.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Tokens.
    Issued(Issued),
    /// An OAuth error (`invalid_grant`, `authorization_pending`, ...), with the status.
    Refused { code: String, status: u16 },
}

/// The client `login` authenticates as, and its HTTP client.
pub(crate) struct TokenClient {
    pub(crate) scheme: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<Secret>,
    pub(crate) client_auth: ClientAuth,
    http: reqwest::Client,
}

impl TokenClient {
    pub(crate) fn new(
        scheme: &str,
        client_id: String,
        client_secret: Option<Secret>,
        client_auth: ClientAuth,
    ) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|_| Error::Auth {
                scheme: scheme.to_owned(),
                message: "could not create the HTTP client".into(),
            })?;
        Ok(Self {
            scheme: scheme.to_owned(),
            client_id,
            client_secret,
            client_auth,
            http,
        })
    }

    fn unreachable(&self, message: String) -> Error {
        Error::Auth {
            scheme: self.scheme.clone(),
            message,
        }
    }

    /// Posts `form` to `url` as the client (client authentication per RFC 6749 §2.3.1), and
    /// reads the JSON answer: the body and the status.
    pub(crate) async fn post(
        &self,
        url: &Url,
        mut form: Vec<(&str, &str)>,
    ) -> Result<(u16, Option<Value>), Error> {
        let mut request = self
            .http
            .post(url.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        match (self.client_auth, &self.client_secret) {
            (ClientAuth::Basic, Some(secret)) => {
                let pair = format!(
                    "{}:{}",
                    form_encode(&self.client_id),
                    form_encode(secret.expose())
                );
                let mut value = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(pair)))
                    .map_err(|_| {
                        self.unreachable("the client credentials cannot be sent in a header".into())
                    })?;
                value.set_sensitive(true);
                request = request.header(AUTHORIZATION, value);
            }
            (_, secret) => {
                form.push(("client_id", &self.client_id));
                if let Some(secret) = secret {
                    form.push(("client_secret", secret.expose()));
                }
            }
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut response = request
            .body(body)
            .send()
            .await
            .map_err(|err| self.unreachable(describe_transport(&err)))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(Error::TokenEndpointRedirect {
                scheme: self.scheme.clone(),
            });
        }
        let bytes = read::read_capped(&mut response, MAX_TOKEN_RESPONSE_BYTES)
            .await
            .map_err(|err| match err {
                ReadError::TooLarge => self.unreachable(format!(
                    "the answer is larger than {MAX_TOKEN_RESPONSE_BYTES} bytes; not read"
                )),
                ReadError::Transport(err) => self.unreachable(describe_transport(&err)),
            })?;
        Ok((status.as_u16(), serde_json::from_slice(&bytes).ok()))
    }

    /// A token request of any grant.
    pub(crate) async fn token(&self, url: &Url, form: Vec<(&str, &str)>) -> Result<Reply, Error> {
        let (status, json) = self.post(url, form).await?;
        if !(200..300).contains(&status) {
            return Ok(Reply::Refused {
                code: error_code(json.as_ref()),
                status,
            });
        }
        let json = json.ok_or_else(|| self.unreachable("the token response is not JSON".into()))?;
        let text = |key: &str| {
            json.get(key)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
        };
        let access = text("access_token")
            .ok_or_else(|| self.unreachable("the token response has no `access_token`".into()))?;
        if let Some(kind) = text("token_type") {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(self.unreachable(format!(
                    "the token endpoint issued a `{}` token; only bearer tokens are supported",
                    kind.chars().take(32).collect::<String>()
                )));
            }
        }
        let expires_in = match json.get("expires_in") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .map(|s| Duration::from_secs(s.min(366 * 24 * 3600)));
        Ok(Reply::Issued(Issued {
            access_token: Secret::new(access),
            refresh_token: text("refresh_token").map(Secret::new),
            expires_in,
            scopes: text("scope")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        }))
    }

    /// The OpenID Connect discovery document.
    pub(crate) async fn discovery(&self, url: &Url) -> Result<Value, Error> {
        let mut response = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| self.unreachable(describe_transport(&err)))?;
        if !response.status().is_success() {
            return Err(self.unreachable(format!(
                "the OpenID Connect discovery document answered HTTP {}",
                response.status().as_u16()
            )));
        }
        let bytes = read::read_capped(&mut response, MAX_DISCOVERY_BYTES)
            .await
            .map_err(|_| self.unreachable("the discovery document could not be read".into()))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| self.unreachable("the discovery document is not JSON".into()))
    }
}

/// The OAuth `error` of an answer, when it is a plain code; else a generic word.
pub(crate) fn error_code(json: Option<&Value>) -> String {
    json.and_then(|v| v.get("error"))
        .and_then(Value::as_str)
        .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .unwrap_or("an error")
        .to_owned()
}
