//! The connection: one configured client for one connector, and its builder.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::auth::oauth::{self, Endpoint, TokenSettings, TokenSource};
use crate::auth::{self, Credential, Credentials};
use crate::descriptor::{
    ConnectorDescriptor, OAuthFlowKind, OperationDescriptor, SecuritySchemeKind,
};
use crate::dynamic::{self, ActionOutput};
use crate::error::Error;
use crate::pipeline::{self, Pipeline};
use crate::secret::Secret;
use crate::time::{Clock, FastRng, SystemClock};
use crate::variables::{self, Backend, Given};
use crate::versions::{VariableDescriptor, VersionDescriptor};
use crate::wire::args::Args;
use crate::wire::response::{Response, StreamingResponse};
use crate::wire::{encoding, server};

mod health_state;
mod reliability;
mod servers;

pub use health_state::HealthPolicy;
pub(crate) use health_state::{HealthSlot, HealthState};
use reliability::Reliability;
use servers::{Choice, OpServers};

/// Default whole-request timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default time before expiry at which an OAuth token is renewed.
const DEFAULT_REFRESH_WINDOW: Duration = Duration::from_secs(300);

/// Default lifetime of an OAuth token whose response gives no `expires_in`.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

/// Default whole-request timeout of a token request.
const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest timeout a connection accepts: a larger one is a configuration mistake (a value in
/// milliseconds given as seconds), and one beyond what `Duration` holds cannot be represented.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Connect timeout of the token endpoint's own client.
const TOKEN_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A configured connection to one connector's API.
///
/// Create it once and reuse it: clones share the HTTP client and its connection pool. `Debug`
/// shows the connector, base URL and the names of the configured security schemes, never a
/// credential.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

/// What a connection shares between its clones.
pub(crate) struct Inner {
    pub(crate) connector: Arc<ConnectorDescriptor>,
    pub(crate) base_url: String,
    /// Base URLs of the operations that declare servers of their own.
    op_servers: OpServers,
    /// Shared with connections derived by [`Connection::with_base_url`].
    pub(crate) pipeline: Arc<Pipeline>,
    /// Whether requests carry credentials, and whether those may go over plain http to
    /// loopback: a new base URL is checked as the first one was.
    sends_secrets: bool,
    allow_http_loopback: bool,
    /// The connector's catalogue and input validators, loaded on the first dynamic call.
    pub(crate) actions: Arc<dynamic::Actions>,
    /// Online or offline, when health checks are enabled.
    pub(crate) health: HealthSlot,
}

impl Connection {
    /// Starts configuring a connection to `connector`.
    pub fn builder(connector: &ConnectorDescriptor) -> ConnectionBuilder {
        ConnectionBuilder::new(connector.clone())
    }

    /// Whether the spec marks `op` `x-connector-idempotent` (read from the catalogue).
    fn marked_idempotent(&self, op: &OperationDescriptor) -> bool {
        self.inner
            .actions
            .marked_idempotent(&self.inner.connector, op)
    }

    /// Starts configuring a connection pinned to one version of a connector: its operations,
    /// auth and backend variables (see [`ConnectionBuilder::variable`]).
    pub fn version_builder(version: &VersionDescriptor) -> ConnectionBuilder {
        let mut builder = ConnectionBuilder::new(version.connector.as_ref().clone());
        builder.declared = version.variables.to_vec();
        builder
    }

    /// Sends one operation with its arguments and returns the 2xx response.
    ///
    /// Arguments and credentials are checked before anything is sent; a non-2xx status is
    /// [`Error::Status`], wrapped in [`Error::RetriesExhausted`] (or another retry variant,
    /// whose [`Error::last`] it is) when the call was retried or stopped for safety.
    pub async fn execute(&self, op: &OperationDescriptor, args: Args) -> Result<Response, Error> {
        self.inner.health.check()?;
        pipeline::execute(
            &self.inner.pipeline,
            &self.inner.base_url_for(op)?,
            op,
            &args,
            pipeline::CallOptions::marked(self.marked_idempotent(op)),
        )
        .await
    }

    /// Like [`execute`](Self::execute), but the 2xx body is left unread, to be streamed with
    /// [`StreamingResponse::chunk`]: for downloads larger than the buffering limit.
    pub async fn execute_streaming(
        &self,
        op: &OperationDescriptor,
        args: Args,
    ) -> Result<StreamingResponse, Error> {
        self.inner.health.check()?;
        pipeline::execute_streaming(
            &self.inner.pipeline,
            &self.inner.base_url_for(op)?,
            op,
            &args,
            pipeline::CallOptions::marked(self.marked_idempotent(op)),
        )
        .await
    }

    /// Runs the operation whose id is `action`, taking and returning JSON.
    ///
    /// `input` is an object whose keys are parameter names, plus `body` for the request body.
    /// When the connector has a [`Catalogue`](crate::catalogue::Catalogue) the input is first
    /// validated against the action's input schema, and every problem is reported at once in
    /// [`Error::InvalidActionInput`]; nothing is sent then. The result is the response body as
    /// JSON, `null` when it is empty, or a JSON string when the body is not JSON.
    pub async fn execute_json(&self, action: &str, input: Value) -> Result<Value, Error> {
        Ok(self.execute_action(action, input).await?.body)
    }

    /// Like [`execute_json`](Self::execute_json), but also returns the status and the response
    /// headers the action declares for it.
    pub async fn execute_action(&self, action: &str, input: Value) -> Result<ActionOutput, Error> {
        self.inner.health.check()?;
        dynamic::execute(
            &self.inner.pipeline,
            |op| self.inner.base_url_for(op),
            &self.inner.actions,
            action,
            input,
        )
        .await
    }

    /// Checks `input` against `action`'s input schema as [`execute_json`](Self::execute_json)
    /// would, without sending anything: `Err(Error::InvalidActionInput)` lists every problem.
    /// A connector without a catalogue accepts any input.
    pub fn validate_input(&self, action: &str, input: &Value) -> Result<(), Error> {
        dynamic::validate(&self.inner.pipeline, &self.inner.actions, action, input)
    }

    /// What a failed call of an action answered, for the dynamic interface: the status, the
    /// declared headers, the body as JSON, the declared response it matched (`404`, `4XX`,
    /// `default`) and its schema's name. `None` when the call did not end with a non-2xx answer
    /// (a timeout, a refused connection, bad input).
    pub fn error_output(&self, err: &Error) -> Option<dynamic::ErrorOutput> {
        dynamic::error_output(&self.inner.actions, &self.inner.connector, err)
    }

    /// The connector's action catalogue, parsed on first use; `None` when the connector has none.
    pub fn catalogue(&self) -> Result<Option<&crate::catalogue::Catalogue>, Error> {
        self.inner.actions.catalogue(&self.inner.connector)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The connector this connection talks to.
    pub fn connector(&self) -> &ConnectorDescriptor {
        &self.inner.connector
    }

    /// The base URL operation paths are appended to, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The base URL `op`'s path is appended to: [`base_url`](Self::base_url), unless the
    /// operation declares servers of its own (then the one this connection chose, see
    /// [`OperationDescriptor::servers`]). An error when the spec made that server unusable.
    pub fn base_url_for(
        &self,
        op: &OperationDescriptor,
    ) -> Result<std::borrow::Cow<'_, str>, Error> {
        self.inner.base_url_for(op)
    }

    /// A connection like this one that sends to `url` (an absolute `http` or `https` URL):
    /// for a backend moved to another address or version. Client, tokens, limits and retry
    /// budget are shared; calls already running on this connection keep their base URL for all
    /// their attempts, and only calls made on the new connection go to `url`.
    pub fn with_base_url(&self, url: &str) -> Result<Connection, Error> {
        let base_url = server::check_base_url(url)?;
        check_transport(
            &base_url,
            self.inner.sends_secrets,
            self.inner.allow_http_loopback,
        )?;
        Ok(Connection {
            inner: Arc::new(Inner {
                connector: self.inner.connector.clone(),
                base_url,
                // The new URL wins over every server, as a `base_url` override does.
                op_servers: OpServers::default(),
                pipeline: self.inner.pipeline.clone(),
                actions: self.inner.actions.clone(),
                health: HealthSlot::default(),
                sends_secrets: self.inner.sends_secrets,
                allow_http_loopback: self.inner.allow_http_loopback,
            }),
        })
    }
}

impl Inner {
    /// The base URL of `op`: the connection's, or that of the operation's own servers.
    pub(crate) fn base_url_for(
        &self,
        op: &OperationDescriptor,
    ) -> Result<std::borrow::Cow<'_, str>, Error> {
        if op.servers.is_empty() {
            return Ok(std::borrow::Cow::Borrowed(&self.base_url));
        }
        self.op_servers.base_url(op, &self.base_url)
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("connector", &self.inner.connector.name)
            .field("base_url", &self.inner.base_url)
            .field(
                "credentials",
                &self.inner.pipeline.credentials.keys().collect::<Vec<_>>(),
            )
            .field("timeout", &self.inner.pipeline.timeout)
            .field(
                "extra_headers",
                &self
                    .inner
                    .pipeline
                    .extra_headers
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
            .field(
                "extra_query",
                &self
                    .inner
                    .pipeline
                    .extra_query
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The token family a credential's refresh tokens belong to: the login's, else its starting
/// refresh token's fingerprint. Rotated refresh tokens are shared (through Redis) and kept (in
/// the secrets file) per family, so that a new login, or a new token written into the
/// connection file, never picks up an older one's.
fn family(oauth: &auth::OAuth2Credential) -> String {
    oauth.family.clone().unwrap_or_else(|| {
        oauth
            .refresh_token
            .as_ref()
            .map(|t| crate::shared::fingerprint(t.expose()))
            .unwrap_or_default()
    })
}

/// Configures a [`Connection`]; every problem is reported by [`ConnectionBuilder::build`].
#[must_use]
pub struct ConnectionBuilder {
    connector: ConnectorDescriptor,
    server: usize,
    variables: Vec<(String, String)>,
    base_url: Option<String>,
    credentials: Vec<(String, Credential)>,
    timeout: Duration,
    user_agent: Option<String>,
    client: Option<reqwest::ClientBuilder>,
    allow_http_loopback: bool,
    clock: Arc<dyn Clock>,
    refresh_window: Duration,
    token_ttl: Duration,
    token_timeout: Duration,
    max_concurrency: Option<usize>,
    proxy: Option<(String, Option<(String, Secret)>)>,
    extra_headers: Vec<(String, Secret)>,
    extra_query: Vec<(String, Secret)>,
    auth_failure_statuses: Vec<u16>,
    follow_cross_origin: bool,
    auth_failure_body: Option<(Vec<String>, Vec<String>)>,
    reliability: Reliability,
    declared: Vec<VariableDescriptor>,
    given: Vec<(String, Given)>,
    tls: crate::tls::Tls,
    secrets_file: Option<crate::secrets_file::SecretsFile>,
}

impl ConnectionBuilder {
    fn new(connector: ConnectorDescriptor) -> Self {
        Self {
            connector,
            server: 0,
            variables: Vec::new(),
            base_url: None,
            credentials: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            user_agent: None,
            client: None,
            allow_http_loopback: false,
            clock: Arc::new(SystemClock),
            refresh_window: DEFAULT_REFRESH_WINDOW,
            token_ttl: DEFAULT_TOKEN_TTL,
            token_timeout: DEFAULT_TOKEN_TIMEOUT,
            max_concurrency: None,
            proxy: None,
            extra_headers: Vec::new(),
            extra_query: Vec::new(),
            auth_failure_statuses: vec![401],
            follow_cross_origin: false,
            auth_failure_body: None,
            reliability: Reliability::default(),
            declared: Vec::new(),
            given: Vec::new(),
            tls: crate::tls::Tls::default(),
            secrets_file: None,
        }
    }

    /// Keeps a refresh token the server rotates (with the access token it came with) in this
    /// secrets file, so that the next process starts from the current one. Default: none (a
    /// connection file sets its own, see `ConnectionConfig::secrets_file`).
    pub fn secrets_file(mut self, file: crate::secrets_file::SecretsFile) -> Self {
        self.secrets_file = Some(file);
        self
    }

    /// Declares the backend variables a connection file's pinned version has.
    pub(crate) fn declare_variables(mut self, declared: Vec<VariableDescriptor>) -> Self {
        if !declared.is_empty() {
            self.declared = declared;
        }
        self
    }

    pub(crate) fn tls(mut self, tls: crate::tls::Tls) -> Self {
        self.tls = tls;
        self
    }

    /// Gives a backend variable of the pinned version (see [`Connection::version_builder`]), or
    /// a server URL variable, its value: text, a number or a boolean. Every value is checked by
    /// [`build`](Self::build), which reports all problems at once. Default: the variable's
    /// default. A value in a path parameter or JSON body field replaces the caller's.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.given.push((name.into(), Given::Plain(value.into())));
        self
    }

    /// Gives a `secret` backend variable its value; it is never shown in `Debug`, errors or logs.
    pub fn secret_variable(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.given.push((name.into(), Given::Secret(value.into())));
        self
    }

    /// Trusts the certificate authorities in this PEM text too, besides the system's roots, for
    /// a backend or proxy with a private CA. Default: only the built-in roots.
    pub fn root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.roots.push(pem.into());
        self
    }

    /// Presents this client certificate for mutual TLS: `pem` holds the certificate (chain)
    /// and its private key. Default: no client certificate.
    pub fn client_identity_pem(mut self, pem: impl Into<Secret>) -> Self {
        self.tls.identity = Some(pem.into());
        self
    }

    /// Picks a server by its index in the connector's server list. Default: 0, the first.
    pub fn server(mut self, index: usize) -> Self {
        self.server = index;
        self
    }

    /// Sets a variable of the chosen server's URL. Default: the variable's default value.
    ///
    /// The value must be one of the variable's allowed values when it has any; otherwise it must
    /// be a DNS label when it lands in the host, and free of `/ ? # @ %`, whitespace and control
    /// characters (and not `.` or `..`) elsewhere. Ignored when [`base_url`](Self::base_url) is set.
    pub fn server_variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.variables.push((name.into(), value.into()));
        self
    }

    /// Uses this absolute `http` or `https` URL instead of the connector's servers. Default: the
    /// chosen server's URL. A trailing `/` is removed.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Supplies the credential for the security scheme named `scheme` in the spec. Default: no
    /// credentials, so only operations that allow anonymous access can run.
    pub fn credential(mut self, scheme: impl Into<String>, credential: Credential) -> Self {
        self.credentials.push((scheme.into(), credential));
        self
    }

    /// Limits each request, from connecting until its body is read. Default: 30 seconds; at
    /// most 24 hours, and more than zero.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the `User-Agent` header. Default: `connector-runtime/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Builds the connection's HTTP client from `builder`, for proxies, TLS roots, a resolver
    /// or other transport settings. Default: a client of the runtime's own. The timeout and user
    /// agent of this builder apply to it too.
    ///
    /// A builder rather than a built client, because the runtime must override two settings
    /// whatever the builder says: the client follows no redirect itself (the runtime follows
    /// same-origin ones and refuses, or strips credentials from, the others) and sends no
    /// `Referer` (which would carry a query API key). A built `reqwest::Client` could have
    /// redirects on, and its settings cannot be read or changed. HTTP/2 response header lists
    /// are also held to the size HTTP/1 heads are.
    ///
    /// With [`follow_cross_origin_redirects`](Self::follow_cross_origin_redirects), a redirect to
    /// another origin is followed by a client of the runtime's own, not one from this builder:
    /// headers the builder adds to every request (`default_headers`) or its cookie store could
    /// carry credentials the runtime cannot see, so none of its settings go there.
    pub fn http_client(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.client = Some(builder);
        self
    }

    /// Allows credentials over plain `http://` to a loopback address (`127.0.0.0/8`, `::1`,
    /// `localhost`), for tests and local development. Default: `false`: a connection with
    /// credentials needs an `https://` base URL and token endpoint, and plain http to any other
    /// host is refused even with this set.
    pub fn allow_http_loopback(mut self, allow: bool) -> Self {
        self.allow_http_loopback = allow;
        self
    }

    /// Reads the time for token expiry from `clock`. Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Renews an OAuth token this long before it expires (at most three quarters of its
    /// lifetime). Default: 5 minutes.
    pub fn token_refresh_window(mut self, window: Duration) -> Self {
        self.refresh_window = window;
        self
    }

    /// Uses an OAuth token whose response gives no `expires_in` for this long. Default: 5 minutes.
    pub fn token_default_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Limits each token or discovery request, from connecting until its body is read (the
    /// connect phase alone is limited to 10 seconds). Default: 30 seconds; at most 24 hours, and
    /// more than zero.
    pub fn token_timeout(mut self, timeout: Duration) -> Self {
        self.token_timeout = timeout;
        self
    }

    /// Allows at most `limit` requests of this connection (and its clones) in flight at once,
    /// at most 50 (a larger value is clamped); further actions wait, first come, first served.
    /// Default: 25.
    pub fn max_concurrency(mut self, limit: usize) -> Self {
        self.max_concurrency = Some(limit);
        self
    }

    /// Sends every request, token requests included, through this `http`/`https` proxy, with
    /// basic credentials when `auth` is given. Default: reqwest's, which reads the usual proxy
    /// environment variables. Cannot be combined with [`http_client`](Self::http_client).
    pub fn proxy(mut self, url: impl Into<String>, auth: Option<(String, Secret)>) -> Self {
        self.proxy = Some((url.into(), auth));
        self
    }

    /// Adds a header to every request, for APIs whose auth the spec does not describe. The
    /// value is treated as a secret. Default: none.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// Adds a query parameter to every request, for APIs whose auth the spec does not describe.
    /// The value is treated as a secret. Default: none.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.extra_query.push((name.into(), value.into()));
        self
    }

    /// Treats this status as a rejected token too (as 401 is): an OAuth token is renewed once
    /// and the request retried. Default: only 401.
    pub fn auth_failure_status(mut self, status: u16) -> Self {
        if !self.auth_failure_statuses.contains(&status) {
            self.auth_failure_statuses.push(status);
        }
        self
    }

    /// Treats a successful response whose JSON body has one of `values` at `path` (dot-separated,
    /// such as `error.code`) as a rejected token, for APIs that answer 200 with an error body:
    /// an OAuth token is renewed once and the request retried; otherwise, or if the retry is
    /// rejected too, the call fails with [`Error::AuthRejected`]. Success bodies are then read
    /// into memory before they are returned. Default: no body check.
    pub fn auth_failure_body<V: Into<String>>(
        mut self,
        path: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let path = path.split('.').map(str::to_owned).collect();
        self.auth_failure_body = Some((path, values.into_iter().map(Into::into).collect()));
        self
    }

    /// Follows a redirect to another origin, sending none of the connection's credentials
    /// there: no `Authorization`, `Proxy-Authorization` or `Cookie` header, no API-key header
    /// or query parameter, no connection-wide header or query value. Default: `false`, where
    /// such a redirect ends the call with [`Error::CrossOriginRedirect`].
    pub fn follow_cross_origin_redirects(mut self, follow: bool) -> Self {
        self.follow_cross_origin = follow;
        self
    }

    /// Checks the configuration and creates the connection.
    pub fn build(mut self) -> Result<Connection, Error> {
        check_timeout("timeout", self.timeout)?;
        check_timeout("token_timeout", self.token_timeout)?;
        let built = self.reliability.build(self.max_concurrency)?;
        let backend = self.backend()?;
        self.variables.extend(backend.server.iter().cloned());
        let base_url = match &self.base_url {
            Some(url) => server::check_base_url(url)?,
            None => {
                self.check_server_variable_names()?;
                self.server_url()?
            }
        };

        let mut credentials = Credentials::new();
        for (name, credential) in &self.credentials {
            let scheme = self
                .connector
                .security_scheme(name)
                .ok_or_else(|| unknown_scheme(&self.connector, name))?;
            auth::check(scheme, credential)?;
            if matches!(credential, Credential::ClientCertificate) && self.tls.identity.is_none() {
                return Err(Error::Config {
                    key: "tls.client_cert".into(),
                    message: format!("security scheme `{name}` is mutual TLS, but the connection has no client certificate"),
                });
            }
            credentials.insert(name.clone(), credential.clone());
        }
        // A client certificate satisfies every mutual TLS scheme of the connector.
        if self.tls.identity.is_some() {
            for scheme in self.connector.security_schemes.iter() {
                if scheme.kind == SecuritySchemeKind::MutualTls
                    && credentials.get(&scheme.name).is_none()
                {
                    credentials.insert(scheme.name.to_string(), Credential::ClientCertificate);
                }
            }
        }

        let sends_secrets = !credentials.is_empty()
            || !self.extra_headers.is_empty()
            || !self.extra_query.is_empty()
            || backend.sends_secrets();
        check_transport(&base_url, sends_secrets, self.allow_http_loopback)?;
        let op_servers = match &self.base_url {
            Some(_) => OpServers::default(),
            None => OpServers::resolve(
                &self.connector,
                Choice {
                    chosen: self
                        .connector
                        .servers
                        .get(self.server)
                        .map(|s| s.url.to_string()),
                    values: self.variables.clone(),
                    sends_secrets,
                    allow_http_loopback: self.allow_http_loopback,
                },
                &base_url,
            )?,
        };

        let extra_headers = self
            .extra_headers
            .iter()
            .map(|(name, value)| {
                let invalid = |what: &str| Error::Config {
                    key: format!("headers.{name}"),
                    message: format!("not a valid HTTP header {what}"),
                };
                let header =
                    HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("name"))?;
                let mut value =
                    HeaderValue::from_str(value.expose()).map_err(|_| invalid("value"))?;
                value.set_sensitive(true);
                Ok((header, value))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let mut extra_headers = extra_headers;
        extra_headers.extend(backend.headers.iter().cloned());
        let mut extra_query: Vec<(String, String)> = self
            .extra_query
            .iter()
            .map(|(name, value)| {
                (
                    encoding::component(name),
                    encoding::component(value.expose()),
                )
            })
            .collect();
        extra_query.extend(backend.query_pairs());

        let user_agent = match &self.user_agent {
            Some(agent) => HeaderValue::from_str(agent).map_err(|_| Error::Config {
                key: "user_agent".into(),
                message: "contains characters not allowed in an HTTP header".into(),
            })?,
            None => {
                HeaderValue::from_static(concat!("connector-runtime/", env!("CARGO_PKG_VERSION")))
            }
        };

        if self.client.is_some() && !self.tls.is_empty() {
            return Err(Error::Config {
                key: "tls".into(),
                message: "set certificates on the injected HTTP client instead".into(),
            });
        }
        let proxy = match &self.proxy {
            None => None,
            Some(_) if self.client.is_some() => {
                return Err(Error::Config {
                    key: "proxy".into(),
                    message: "set the proxy on the injected HTTP client instead".into(),
                })
            }
            Some((url, auth)) => {
                // The URL is not quoted: it may carry user info.
                let mut proxy = reqwest::Proxy::all(url.as_str()).map_err(|_| Error::Config {
                    key: "proxy".into(),
                    message: "not a valid proxy URL".into(),
                })?;
                if let Some((user, password)) = auth {
                    proxy = proxy.basic_auth(user, password.expose());
                }
                Some(proxy)
            }
        };
        let new_client = |connect_timeout: Option<Duration>| {
            let mut builder = reqwest::Client::builder();
            if let Some(proxy) = &proxy {
                builder = builder.proxy(proxy.clone());
            }
            if let Some(timeout) = connect_timeout {
                builder = builder.connect_timeout(timeout);
            }
            // Idle connections kept: as many as the connection may use at once.
            let builder = builder.pool_max_idle_per_host(built.limit.size());
            let builder = self.reliability.resolve_through_guard(builder);
            let builder = self.tls.apply(builder)?;
            safe_client(builder, "could not create the default HTTP client")
        };
        let injected = self.client.is_some();
        let client = match self.client.take() {
            Some(builder) => safe_client(
                self.reliability.resolve_through_guard(
                    builder.connect_timeout(self.reliability.connect_timeout),
                ),
                "could not build the injected HTTP client",
            )?,
            None => new_client(Some(self.reliability.connect_timeout))?,
        };
        let cross_origin_client = if injected && self.follow_cross_origin {
            Some(new_client(Some(self.reliability.connect_timeout))?)
        } else {
            None
        };

        let mut tokens = BTreeMap::new();
        let settings = TokenSettings {
            refresh_window: self.refresh_window,
            default_ttl: self.token_ttl,
            timeout: self.token_timeout,
            allow_http_loopback: self.allow_http_loopback,
        };
        for (name, credential) in &credentials {
            let Credential::OAuth2(oauth) = credential else {
                continue;
            };
            let endpoint = self.token_endpoint(name, oauth, &base_url)?;
            let endpoint_text = format!("{endpoint:?}");
            let token_client = new_client(Some(TOKEN_CONNECT_TIMEOUT))?;
            let source = TokenSource::new(
                name.clone(),
                oauth.clone(),
                endpoint,
                token_client,
                self.clock.clone(),
                settings,
                oauth::Links {
                    guard: built.guard.clone(),
                    shared: self.reliability.shared.as_ref().map(|(state, namespace)| {
                        // Named after the credential, never holding it.
                        let key = format!(
                            "{namespace}:token:{name}:{}",
                            crate::shared::fingerprint(&format!(
                                "{}\n{}",
                                oauth.client_id.as_deref().unwrap_or_default(),
                                endpoint_text
                            ))
                        );
                        oauth::SharedTokens {
                            state: state.clone(),
                            refresh_key: format!("{key}:refresh:{}", family(oauth)),
                            key,
                        }
                    }),
                    persist: self.secrets_file.clone().map(|file| oauth::Persist {
                        file,
                        scheme: name.clone(),
                        family: Some(family(oauth)),
                    }),
                },
            )?;
            tokens.insert(name.clone(), Arc::new(source));
        }

        let connector = Arc::new(self.connector);
        Ok(Connection {
            inner: Arc::new(Inner {
                connector: connector.clone(),
                base_url,
                op_servers,
                sends_secrets,
                actions: Arc::default(),
                health: HealthSlot::default(),
                allow_http_loopback: self.allow_http_loopback,
                pipeline: Arc::new(Pipeline {
                    connector,
                    credentials,
                    client,
                    timeout: self.timeout,
                    user_agent,
                    tokens,
                    extra_headers,
                    extra_query,
                    limit: built.limit,
                    rate: built.rate,
                    retry: self.reliability.retry,
                    action_retry: self.reliability.action_retry,
                    budget: self.reliability.budget.clone().unwrap_or_default(),
                    deadline: self.reliability.deadline,
                    connect_timeout: self.reliability.connect_timeout,
                    idle_timeout: self.reliability.idle_timeout,
                    clock: self.clock,
                    sleeper: self.reliability.sleeper,
                    rng: self.reliability.rng,
                    ids: FastRng::default(),
                    idempotent: self.reliability.idempotent,
                    idempotency_header: built.idempotency_header,
                    request_id_header: built.request_id_header,
                    guard: built.guard,
                    backend,
                    shared: self.reliability.shared.clone(),
                    auth_failure_statuses: self.auth_failure_statuses,
                    follow_cross_origin: self.follow_cross_origin,
                    cross_origin_client,
                    auth_failure_body: self.auth_failure_body,
                    base_urls: Default::default(),
                }),
            }),
        })
    }

    /// Where the token source of scheme `name` gets tokens: the credential's override, else the
    /// spec's flow for the credential's grant, else (OpenID Connect) discovery.
    fn token_endpoint(
        &self,
        name: &str,
        credential: &auth::OAuth2Credential,
        base_url: &str,
    ) -> Result<Endpoint, Error> {
        let in_scheme = |err: Error| match err {
            Error::Config { message, .. } => Error::Config {
                key: format!("{name}.token_url"),
                message,
            },
            other => other,
        };
        let check = |url: &str| {
            oauth::check_token_url(url, Some(base_url), self.allow_http_loopback).map_err(in_scheme)
        };
        // A given access token with no refresh token never reaches a token endpoint, so the
        // spec's token URL (often `http://` in examples) carries no credential and is not checked.
        if credential.grant == auth::Grant::AccessToken && credential.refresh_token.is_none() {
            return Ok(Endpoint::None);
        }
        if let Some(url) = &credential.token_url {
            return Ok(Endpoint::Fixed(check(url)?));
        }
        let kind = self.connector.security_scheme(name).map(|s| &s.kind);
        match kind {
            Some(SecuritySchemeKind::OAuth2 { flows }) => {
                let wanted = match credential.grant {
                    auth::Grant::ClientCredentials => Some(OAuthFlowKind::ClientCredentials),
                    _ => None,
                };
                let flow = flows
                    .iter()
                    .filter(|f| wanted.is_none_or(|kind| kind == f.kind))
                    .find(|f| f.token_url.is_some() || f.refresh_url.is_some());
                let url = flow.and_then(|f| {
                    // A refresh uses the refresh URL when the flow names one.
                    if credential.grant == auth::Grant::ClientCredentials {
                        f.token_url.as_deref()
                    } else {
                        f.refresh_url.as_deref().or(f.token_url.as_deref())
                    }
                });
                match (url, credential.grant) {
                    (Some(url), _) => Ok(Endpoint::Fixed(check(url)?)),
                    (None, auth::Grant::AccessToken) => Ok(Endpoint::None),
                    (None, _) => Err(Error::Config {
                        key: name.to_owned(),
                        message: "the spec declares no token URL for this grant; set `token_url`"
                            .into(),
                    }),
                }
            }
            Some(SecuritySchemeKind::OpenIdConnect { url }) => Ok(Endpoint::Discover(check(url)?)),
            _ => Ok(Endpoint::None),
        }
    }

    /// Checks the backend variables of the pinned version and those of the servers: the chosen
    /// one and the operations' own.
    fn backend(&self) -> Result<Backend, Error> {
        let servers = server::settable(&self.connector, self.server);
        let server_variables = server::variable_names(&servers);
        variables::check(&self.declared, &server_variables, &self.given).map_err(|problems| {
            Error::Config {
                key: "variables".into(),
                message: problems.join("; "),
            }
        })
    }

    fn server_url(&self) -> Result<String, Error> {
        let servers = &self.connector.servers;
        let server = servers.get(self.server).ok_or_else(|| Error::Config {
            key: "server".into(),
            message: if servers.is_empty() {
                format!(
                    "connector `{}` declares no servers; set `base_url`",
                    self.connector.name
                )
            } else {
                format!(
                    "server index {} is out of range: connector `{}` declares {} server(s)",
                    self.server,
                    self.connector.name,
                    servers.len()
                )
            },
        })?;
        let own: Vec<(String, String)> = self
            .variables
            .iter()
            .filter(|(name, _)| server.variables.iter().any(|v| v.name == *name))
            .cloned()
            .collect();
        server::resolve(server, &own)
    }

    /// Refuses a server variable that neither the chosen server nor an operation's server has.
    fn check_server_variable_names(&self) -> Result<(), Error> {
        let servers = server::settable(&self.connector, self.server);
        let known = server::variable_names(&servers);
        match self
            .variables
            .iter()
            .find(|(name, _)| !known.contains(&name.as_str()))
        {
            None => Ok(()),
            Some((name, value)) => Err(Error::InvalidServerVariable {
                name: name.clone(),
                value: value.clone(),
                reason: format!(
                    "connector `{}` has no server with such a variable (they have: {}){}",
                    self.connector.name,
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    },
                    crate::error::hint(name, known.iter().copied())
                ),
            }),
        }
    }
}

impl fmt::Debug for ConnectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schemes: Vec<&str> = self.credentials.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ConnectionBuilder")
            .field("connector", &self.connector.name)
            .field("server", &self.server)
            .field("base_url", &self.base_url)
            .field("credentials", &schemes)
            .field("timeout", &self.timeout)
            .field("allow_http_loopback", &self.allow_http_loopback)
            .field("max_concurrency", &self.max_concurrency)
            .field("proxy", &self.proxy.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a client that cannot leak credentials on its own: it follows no redirect (the runtime
/// decides which to follow and what they carry, SE-4) and sends no `Referer`, whatever `builder`
/// asked for.
fn safe_client(builder: reqwest::ClientBuilder, what: &str) -> Result<reqwest::Client, Error> {
    builder
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .http2_max_header_list_size(crate::wire::read::MAX_HEAD_BYTES as u32)
        .build()
        .map_err(|err| Error::Config {
            key: "http_client".into(),
            message: format!("{what}: {err}"),
        })
}

/// Refuses credentials over plain http, except to loopback when the connection allows it (AU-6).
fn check_transport(base_url: &str, sends_secrets: bool, allow_loopback: bool) -> Result<(), Error> {
    if !sends_secrets {
        return Ok(());
    }
    let parsed = reqwest::Url::parse(base_url).map_err(|err| Error::Config {
        key: "base_url".into(),
        message: format!("not a valid URL: {err}"),
    })?;
    if server::transport_allowed(&parsed, allow_loopback) {
        return Ok(());
    }
    Err(Error::Config {
        key: "base_url".into(),
        message: if server::is_loopback(&parsed) {
            "credentials would be sent over plain http; use https, or allow http to loopback addresses for tests (`allow_http_loopback`)".into()
        } else {
            "credentials would be sent over plain http; use https".into()
        },
    })
}

fn check_timeout(key: &str, timeout: Duration) -> Result<(), Error> {
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        return Err(Error::Config {
            key: key.into(),
            message: format!(
                "must be more than zero and at most {} hours",
                MAX_TIMEOUT.as_secs() / 3600
            ),
        });
    }
    Ok(())
}

fn unknown_scheme(connector: &ConnectorDescriptor, name: &str) -> Error {
    let known: Vec<&str> = connector
        .security_schemes
        .iter()
        .map(|s| s.name.as_ref())
        .collect();
    Error::Config {
        key: name.to_owned(),
        message: format!(
            "connector `{}` has no security scheme of that name (it has: {})",
            connector.name,
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Connection>();
        assert_send_sync::<ConnectionBuilder>();
        assert_send_sync::<Args>();
        assert_send_sync::<Response>();
        assert_send_sync::<Credential>();
    }

    #[test]
    fn execute_futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        fn check(conn: &Connection, op: &OperationDescriptor) {
            assert_send(&conn.execute(op, Args::new()));
            assert_send(&conn.execute_json("x", Value::Null));
        }
        let _ = check;
    }
}
