//! The connection: one configured client for one connector, and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde_json::Value;

use crate::args::Args;
use crate::auth::{self, Credential, Credentials};
use crate::descriptor::{ConnectorDescriptor, OperationDescriptor};
use crate::error::Error;
use crate::response::{Response, StreamingResponse};
use crate::{dynamic, executor, server};

/// Default whole-request timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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
    pub(crate) connector: ConnectorDescriptor,
    pub(crate) base_url: String,
    pub(crate) credentials: Credentials,
    pub(crate) client: reqwest::Client,
    pub(crate) timeout: Duration,
    pub(crate) user_agent: HeaderValue,
}

impl Connection {
    /// Starts configuring a connection to `connector`.
    pub fn builder(connector: &ConnectorDescriptor) -> ConnectionBuilder {
        ConnectionBuilder::new(connector.clone())
    }

    /// Sends one operation with its arguments and returns the 2xx response.
    ///
    /// Arguments and credentials are checked before anything is sent; a non-2xx status is
    /// [`Error::Status`].
    pub async fn execute(&self, op: &OperationDescriptor, args: Args) -> Result<Response, Error> {
        executor::execute(&self.inner, op, &args).await
    }

    /// Like [`execute`](Self::execute), but the 2xx body is left unread, to be streamed with
    /// [`StreamingResponse::chunk`]: for downloads larger than the buffering limit.
    pub async fn execute_streaming(
        &self,
        op: &OperationDescriptor,
        args: Args,
    ) -> Result<StreamingResponse, Error> {
        executor::execute_streaming(&self.inner, op, &args).await
    }

    /// Runs the operation whose id is `action`, taking and returning JSON.
    ///
    /// `input` is an object whose keys are parameter names, plus `body` for the request body.
    /// The result is the response body as JSON, `null` when it is empty, or a JSON string when
    /// the body is not JSON.
    pub async fn execute_json(&self, action: &str, input: Value) -> Result<Value, Error> {
        let op = self
            .inner
            .connector
            .operation(action)
            .ok_or_else(|| Error::UnknownAction {
                name: action.to_owned(),
            })?;
        let args = dynamic::args_from_json(op, input)?;
        let response = executor::execute(&self.inner, op, &args).await?;
        Ok(dynamic::response_to_json(&response))
    }

    /// The connector this connection talks to.
    pub fn connector(&self) -> &ConnectorDescriptor {
        &self.inner.connector
    }

    /// The base URL operation paths are appended to, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("connector", &self.inner.connector.name)
            .field("base_url", &self.inner.base_url)
            .field(
                "credentials",
                &self.inner.credentials.keys().collect::<Vec<_>>(),
            )
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
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
    client: Option<reqwest::Client>,
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
        }
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

    /// Limits each request, from connecting until its body is read. Default: 30 seconds.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the `User-Agent` header. Default: `connector-runtime/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Uses this HTTP client, to share a pool or set proxies and TLS. Default: a client of its
    /// own that does not follow redirects, so credentials never travel to another origin. The
    /// timeout and user agent of this builder apply to an injected client too.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Checks the configuration and creates the connection.
    pub fn build(self) -> Result<Connection, Error> {
        let base_url = match &self.base_url {
            Some(url) => server::check_base_url(url)?,
            None => self.server_url()?,
        };

        let mut credentials = Credentials::new();
        for (name, credential) in self.credentials {
            let scheme = self
                .connector
                .security_scheme(&name)
                .ok_or_else(|| unknown_scheme(&self.connector, &name))?;
            auth::check(scheme, &credential)?;
            credentials.insert(name, credential);
        }

        let user_agent = match self.user_agent {
            Some(agent) => HeaderValue::from_str(&agent).map_err(|_| Error::Config {
                key: "user_agent".into(),
                message: "contains characters not allowed in an HTTP header".into(),
            })?,
            None => {
                HeaderValue::from_static(concat!("connector-runtime/", env!("CARGO_PKG_VERSION")))
            }
        };

        let client = match self.client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|err| Error::Config {
                    key: "http_client".into(),
                    message: format!("could not create the default HTTP client: {err}"),
                })?,
        };

        Ok(Connection {
            inner: Arc::new(Inner {
                connector: self.connector,
                base_url,
                credentials,
                client,
                timeout: self.timeout,
                user_agent,
            }),
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
        server::resolve(server, &self.variables)
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
            .finish_non_exhaustive()
    }
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
