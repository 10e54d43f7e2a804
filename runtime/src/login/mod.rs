//! `login` (cargo feature `login`, which `cli` enables): obtains OAuth 2 tokens for a security
//! scheme of a connection and stores them in the connection's secrets file, from where the
//! connection uses them and keeps the refresh token the server rotates.
//!
//! Three flows: the authorization code grant with PKCE (`S256`) and `state`, redirected to
//! `127.0.0.1` on a port the system picks (RFC 8252); the device authorization grant (RFC 8628)
//! for machines without a browser, from the scheme's device flow or an OpenID Connect discovery
//! document's `device_authorization_endpoint`; and the password grant where the spec declares
//! it. The caller shows what the user must do ([`Prompt`]).
//!
//! ```no_run
//! # async fn run(connector: &connector_runtime::descriptor::ConnectorDescriptor) -> Result<(), connector_runtime::Error> {
//! use connector_runtime::login::{Login, LoginOptions, Prompt};
//! use connector_runtime::ConnectionConfig;
//!
//! let config = ConnectionConfig::from_file(connector, "connections/acme.toml")?;
//! let login = Login::plan(connector, &config, &LoginOptions::default()).await?;
//! let outcome = login
//!     .run(&|prompt| match prompt {
//!         Prompt::OpenUrl(url) => eprintln!("open {url}"),
//!         Prompt::EnterCode { uri, user_code, .. } => eprintln!("visit {uri}, enter {user_code}"),
//!         // A later version may ask for something else; say so rather than stay silent.
//!         other => eprintln!("{other:?}"),
//!     })
//!     .await?;
//! println!("tokens stored in {}", outcome.secrets_file);
//! # Ok(())
//! # }
//! ```

mod loopback;
mod pkce;
mod token;

use std::time::{Duration, SystemTime};

use reqwest::Url;
use serde::Serialize;
use serde_json::Value;

use crate::auth::oauth::check_token_url;
pub use crate::auth::LoginFlow;
use crate::config::ConnectionConfig;
use crate::descriptor::{ConnectorDescriptor, OAuthFlowKind, SecuritySchemeKind};
use crate::error::Error;
use crate::secret::Secret;
use crate::secrets_file::{SecretsFile, StoredTokens};
use token::{Issued, Reply, TokenClient};

/// How long the user has to authorize, by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(300);

/// The polling interval of the device flow when the server gives none (RFC 8628 §3.2).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// What the caller chooses; the rest comes from the spec and the connection file.
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    /// The security scheme. Default: the connection file's only OAuth 2 (or OpenID Connect) one.
    pub scheme: Option<String>,
    /// The flow. Default: the connection file's `grant`, else the first the scheme offers of
    /// authorization code, device authorization and password.
    pub flow: Option<LoginFlow>,
    /// The scopes to ask for. Default: the connection file's.
    pub scopes: Option<Vec<String>>,
    /// How long the user has to authorize. Default: [`DEFAULT_WAIT`].
    pub wait: Option<Duration>,
}

/// What the user must do, told to the caller as the flow goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Prompt {
    /// Open this URL in a browser and authorize (the authorization code flow).
    OpenUrl(String),
    /// Visit `uri` on any device and enter `user_code` (the device flow); `complete` is a URI
    /// with the code in it, when the server gives one.
    EnterCode {
        /// The verification URI.
        uri: String,
        /// The code the user enters.
        user_code: String,
        /// The verification URI with the code, when the server gives one.
        complete: Option<String>,
    },
}

/// What a login obtained: never the tokens, which went to the secrets file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginOutcome {
    /// The security scheme.
    pub scheme: String,
    /// The flow: `authorization_code`, `device_code` or `password`.
    pub flow: &'static str,
    /// Where the tokens are.
    pub secrets_file: String,
    /// The access token's lifetime in seconds, when the server said.
    pub expires_in: Option<u64>,
    /// Whether a refresh token came with it (without one the connection works until the access
    /// token expires, then needs another login).
    pub refresh_token: bool,
    /// The scopes granted (as the server said, else as asked).
    pub scopes: Vec<String>,
}

/// A login, planned: the scheme, flow, endpoints and client, checked before the user is asked
/// to do anything.
pub struct Login {
    scheme: String,
    flow: LoginFlow,
    client: TokenClient,
    authorization_url: Option<Url>,
    token_url: Url,
    scopes: Vec<String>,
    username: Option<String>,
    password: Option<Secret>,
    secrets: SecretsFile,
    wait: Duration,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("scheme", &self.scheme)
            .field("flow", &self.flow)
            .field("token_url", &self.token_url.as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Login {
    /// Plans a login for a scheme of the connection `config` describes: its client, the flow,
    /// and the endpoints the spec declares (or an OpenID Connect discovery document names).
    pub async fn plan(
        connector: &ConnectorDescriptor,
        config: &ConnectionConfig,
        options: &LoginOptions,
    ) -> Result<Self, Error> {
        let setup = |key: &str, message: String| Error::Config {
            key: key.to_owned(),
            message,
        };
        let scheme = match &options.scheme {
            Some(scheme) => scheme.clone(),
            None => match config.oauth_schemes().as_slice() {
                [one] => (*one).to_owned(),
                [] => {
                    return Err(setup(
                        "credentials",
                        "the connection file gives no OAuth 2 credentials: add a `[credentials.SCHEME]` table with `client_id` (and `grant = \"authorization_code\"`)".into(),
                    ))
                }
                many => {
                    return Err(setup(
                        "scheme",
                        format!("the connection has several OAuth 2 schemes; choose one of {} with --scheme", many.join(", ")),
                    ))
                }
            },
        };
        let credential = config.oauth_credential(&scheme).ok_or_else(|| {
            setup(
                &format!("credentials.{scheme}"),
                "the connection file gives no OAuth 2 credentials for this scheme".into(),
            )
        })?;
        let client_id = credential.client_id.clone().ok_or_else(|| {
            setup(
                &format!("credentials.{scheme}.client_id"),
                "missing: login needs the client's id".into(),
            )
        })?;
        let secrets = config.secrets_file().cloned().ok_or_else(|| {
            setup(
                "secrets_file",
                "the connection has no secrets file to store tokens in; give the connection as a file".into(),
            )
        })?;
        let kind = connector
            .security_scheme(&scheme)
            .map(|s| s.kind.clone())
            .ok_or_else(|| {
                setup(
                    "scheme",
                    format!(
                        "connector `{}` has no security scheme `{scheme}`",
                        connector.name
                    ),
                )
            })?;
        let client = TokenClient::new(
            &scheme,
            client_id,
            credential.client_secret.clone(),
            credential.client_auth,
        )?;
        // Relative URLs in the spec are relative to the connection's server.
        let base = config
            .connect(connector)
            .ok()
            .map(|c| c.base_url().to_owned());
        let allow_http = config.allows_http_loopback();
        let check = |url: &str| {
            check_token_url(url, base.as_deref(), allow_http).map_err(|err| match err {
                Error::Config { message, .. } => setup(&scheme, message),
                other => other,
            })
        };
        let offered = Offered::of(&kind, &client, &check).await?;
        let flow = match options.flow.or(credential.login_flow) {
            Some(flow) => flow,
            None => [
                LoginFlow::AuthorizationCode,
                LoginFlow::Device,
                LoginFlow::Password,
            ]
            .into_iter()
            .find(|flow| offered.endpoints(*flow).is_some())
            .ok_or_else(|| {
                setup(
                    &scheme,
                    "the scheme offers no flow login can run (authorization code, device authorization or password)".into(),
                )
            })?,
        };
        let (authorization_url, token_url) = offered.endpoints(flow).ok_or_else(|| {
            setup(
                &scheme,
                format!(
                    "the spec declares no {} flow for this scheme{}",
                    flow_name(flow),
                    if flow == LoginFlow::Device {
                        " (declare `x-connector-device-authorization-url` on it, or use OpenID Connect discovery)"
                    } else {
                        ""
                    }
                ),
            )
        })?;
        let token_url = match &credential.token_url {
            Some(url) => check(url)?,
            None => check(&token_url)?,
        };
        let authorization_url = authorization_url.as_deref().map(check).transpose()?;
        Ok(Self {
            scopes: options
                .scopes
                .clone()
                .unwrap_or_else(|| credential.scopes.clone()),
            username: credential.username.clone(),
            password: credential.password.clone(),
            wait: options.wait.unwrap_or(DEFAULT_WAIT),
            scheme,
            flow,
            client,
            authorization_url,
            token_url,
            secrets,
        })
    }

    /// The scheme the login is for.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The flow it runs.
    pub fn flow(&self) -> LoginFlow {
        self.flow
    }

    /// Runs the flow, telling `prompt` what the user must do, and stores the tokens in the
    /// secrets file (created with mode 0600).
    pub async fn run(self, prompt: &(dyn Fn(Prompt) + Sync)) -> Result<LoginOutcome, Error> {
        let issued = match self.flow {
            LoginFlow::AuthorizationCode => self.authorization_code(prompt).await?,
            LoginFlow::Device => self.device(prompt).await?,
            LoginFlow::Password => self.password_grant().await?,
        };
        let scopes = if issued.scopes.is_empty() {
            self.scopes.clone()
        } else {
            issued.scopes.clone()
        };
        let tokens = StoredTokens {
            access_token: Some(issued.access_token),
            expires_at: issued.expires_in.map(|l| SystemTime::now() + l),
            refresh_token: issued.refresh_token.clone(),
            scopes: scopes.clone(),
            // Processes sharing rotated refresh tokens share them per login.
            family: Some(pkce::random_token(12)?),
        };
        let secrets = self.secrets.clone();
        let scheme = self.scheme.clone();
        tokio::task::spawn_blocking(move || secrets.store(&scheme, &tokens))
            .await
            .map_err(|_| Error::Config {
                key: "secrets_file".into(),
                message: "could not write the secrets file".into(),
            })??;
        Ok(LoginOutcome {
            flow: self.flow.as_str(),
            secrets_file: self.secrets.path().display().to_string(),
            expires_in: issued.expires_in.map(|d| d.as_secs()),
            refresh_token: issued.refresh_token.is_some(),
            scopes,
            scheme: self.scheme,
        })
    }

    fn refused(&self, reason: String) -> Error {
        Error::AuthorizationRefused {
            scheme: self.scheme.clone(),
            reason,
        }
    }

    /// Tokens from a token endpoint's reply, or why not.
    fn issued(&self, reply: Reply) -> Result<Issued, Error> {
        match reply {
            Reply::Issued(issued) => Ok(issued),
            Reply::Refused { code, status } => Err(self.refused(format!(
                "the token endpoint answered HTTP {status} ({code})"
            ))),
        }
    }

    async fn authorization_code(&self, prompt: &(dyn Fn(Prompt) + Sync)) -> Result<Issued, Error> {
        let Some(authorization_url) = &self.authorization_url else {
            return Err(self.refused("the scheme names no authorization URL".into()));
        };
        let pkce = pkce::Pkce::new()?;
        let state = pkce::random_token(16)?;
        let loopback = loopback::Loopback::bind(&self.scheme).await?;
        let redirect_uri = loopback.redirect_uri();
        let mut url = authorization_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.client.client_id)
                .append_pair("redirect_uri", &redirect_uri);
            if !self.scopes.is_empty() {
                query.append_pair("scope", &self.scopes.join(" "));
            }
            query
                .append_pair("state", &state)
                .append_pair("code_challenge", &pkce.challenge)
                .append_pair("code_challenge_method", "S256");
        }
        prompt(Prompt::OpenUrl(url.to_string()));
        let deadline = tokio::time::Instant::now() + self.wait;
        let code = loopback.wait(&self.scheme, &state, deadline).await?;
        let reply = self
            .client
            .token(
                &self.token_url,
                vec![
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", &redirect_uri),
                    ("code_verifier", &pkce.verifier),
                ],
            )
            .await?;
        self.issued(reply)
    }

    async fn device(&self, prompt: &(dyn Fn(Prompt) + Sync)) -> Result<Issued, Error> {
        let Some(device_url) = &self.authorization_url else {
            return Err(self.refused("the scheme names no device authorization URL".into()));
        };
        let scope = self.scopes.join(" ");
        let mut form = Vec::new();
        if !scope.is_empty() {
            form.push(("scope", scope.as_str()));
        }
        let (status, json) = self.client.post(device_url, form).await?;
        if !(200..300).contains(&status) {
            return Err(self.refused(format!(
                "the device authorization endpoint answered HTTP {status} ({})",
                token::error_code(json.as_ref())
            )));
        }
        let json = json.unwrap_or(Value::Null);
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        let seconds = |key: &str| match json.get(key) {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let (Some(device_code), Some(user_code)) = (text("device_code"), text("user_code")) else {
            return Err(self.refused(
                "the device authorization answer has no `device_code` or `user_code`".into(),
            ));
        };
        // Google's endpoint says `verification_url`.
        let Some(uri) = text("verification_uri").or_else(|| text("verification_url")) else {
            return Err(
                self.refused("the device authorization answer has no `verification_uri`".into())
            );
        };
        prompt(Prompt::EnterCode {
            uri,
            user_code,
            complete: text("verification_uri_complete"),
        });
        let lifetime = seconds("expires_in")
            .map(Duration::from_secs)
            .unwrap_or(self.wait)
            .min(self.wait);
        let deadline = tokio::time::Instant::now() + lifetime;
        let mut interval = seconds("interval")
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_INTERVAL);
        loop {
            if tokio::time::Instant::now() + interval > deadline {
                return Err(self.refused(
                    "the device code expired before it was authorized; run login again".into(),
                ));
            }
            tokio::time::sleep(interval).await;
            let reply = self
                .client
                .token(
                    &self.token_url,
                    vec![
                        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                        ("device_code", &device_code),
                    ],
                )
                .await?;
            match reply {
                Reply::Issued(issued) => return Ok(issued),
                Reply::Refused { code, .. } if code == "authorization_pending" => {}
                // RFC 8628 §3.5: five seconds more for this and every later request.
                Reply::Refused { code, .. } if code == "slow_down" => {
                    interval += Duration::from_secs(5)
                }
                Reply::Refused { code, .. } if code == "expired_token" => {
                    return Err(self.refused(
                        "the device code expired before it was authorized; run login again".into(),
                    ))
                }
                Reply::Refused { code, .. } if code == "access_denied" => {
                    return Err(self.refused("the user denied the authorization".into()))
                }
                other => return self.issued(other),
            }
        }
    }

    async fn password_grant(&self) -> Result<Issued, Error> {
        let (Some(username), Some(password)) = (&self.username, &self.password) else {
            return Err(Error::Config {
                key: format!("credentials.{}", self.scheme),
                message: "the password flow needs `username` and `password` in the credential"
                    .into(),
            });
        };
        let scope = self.scopes.join(" ");
        let mut form = vec![
            ("grant_type", "password"),
            ("username", username.as_str()),
            ("password", password.expose()),
        ];
        if !scope.is_empty() {
            form.push(("scope", scope.as_str()));
        }
        let reply = self.client.token(&self.token_url, form).await?;
        self.issued(reply)
    }
}

/// The endpoints a scheme offers, by flow: the spec's flows, or an OpenID Connect discovery
/// document's endpoints.
struct Offered {
    /// (flow, authorization or device URL, token URL)
    flows: Vec<(LoginFlow, Option<String>, String)>,
}

impl Offered {
    async fn of(
        kind: &SecuritySchemeKind,
        client: &TokenClient,
        check: &dyn Fn(&str) -> Result<Url, Error>,
    ) -> Result<Self, Error> {
        let mut flows = Vec::new();
        match kind {
            SecuritySchemeKind::OAuth2 { flows: declared } => {
                for flow in declared.iter() {
                    let login = match flow.kind {
                        OAuthFlowKind::AuthorizationCode => LoginFlow::AuthorizationCode,
                        OAuthFlowKind::DeviceAuthorization => LoginFlow::Device,
                        OAuthFlowKind::Password => LoginFlow::Password,
                        _ => continue,
                    };
                    if let Some(token_url) = &flow.token_url {
                        flows.push((
                            login,
                            flow.authorization_url.as_ref().map(|u| u.to_string()),
                            token_url.to_string(),
                        ));
                    }
                }
            }
            SecuritySchemeKind::OpenIdConnect { url } => {
                let document = client.discovery(&check(url)?).await?;
                let text = |key: &str| document.get(key).and_then(Value::as_str).map(str::to_owned);
                if let Some(token_url) = text("token_endpoint") {
                    if let Some(authorize) = text("authorization_endpoint") {
                        flows.push((
                            LoginFlow::AuthorizationCode,
                            Some(authorize),
                            token_url.clone(),
                        ));
                    }
                    if let Some(device) = text("device_authorization_endpoint") {
                        flows.push((LoginFlow::Device, Some(device), token_url.clone()));
                    }
                }
            }
            _ => {
                return Err(Error::Config {
                    key: client.scheme.clone(),
                    message: "login obtains tokens for OAuth 2 and OpenID Connect schemes only"
                        .into(),
                })
            }
        }
        Ok(Self { flows })
    }

    /// The authorization (or device) URL and the token URL of `flow`.
    fn endpoints(&self, flow: LoginFlow) -> Option<(Option<String>, String)> {
        self.flows
            .iter()
            .find(|(f, auth, _)| *f == flow && (flow == LoginFlow::Password || auth.is_some()))
            .map(|(_, auth, token)| (auth.clone(), token.clone()))
    }
}

fn flow_name(flow: LoginFlow) -> &'static str {
    match flow {
        LoginFlow::AuthorizationCode => "authorization code",
        LoginFlow::Device => "device authorization",
        LoginFlow::Password => "password",
    }
}
