//! Operations with servers of their own (path- or operation-level `servers`): which of those
//! servers a connection uses, and the base URL it gives, resolved once when the connection is
//! built so that a call only looks its base URL up.

use std::borrow::Cow;

use crate::descriptor::{ConnectorDescriptor, List, OperationDescriptor, ServerDescriptor};
use crate::error::Error;
use crate::wire::server;

/// Where a connection sends the operations that declare servers.
#[derive(Default)]
pub(crate) struct OpServers {
    /// `None` under a `base_url` override, which sends every operation to that URL (a facade or
    /// proxy knows where each operation goes).
    resolved: Option<Resolved>,
}

struct Resolved {
    /// What the connection chose; kept for operations that are not the connector's own.
    choice: Choice,
    /// Each distinct server list of the connector's operations, with its base URL, or why the
    /// spec's server cannot be used (reported when such an operation is called).
    bases: Vec<(List<ServerDescriptor>, Result<String, String>)>,
}

/// The connection's choices that decide an operation's base URL.
pub(crate) struct Choice {
    /// URL template of the server the connection chose for the connector, if it has one.
    pub(crate) chosen: Option<String>,
    /// Server variable values the connection gives.
    pub(crate) values: Vec<(String, String)>,
    /// Whether requests carry credentials, and whether those may go to loopback over http.
    pub(crate) sends_secrets: bool,
    pub(crate) allow_http_loopback: bool,
}

impl OpServers {
    /// Resolves the servers of every operation of `connector` that has its own; `base_url` is
    /// the connector's, which relative operation servers are joined to. Refused values and
    /// credentials bound for plain http are errors now; a server the spec made unusable (an
    /// undeclared variable, a URL that does not parse) fails only the calls that need it.
    pub(crate) fn resolve(
        connector: &ConnectorDescriptor,
        choice: Choice,
        base_url: &str,
    ) -> Result<Self, Error> {
        let mut bases: Vec<(List<ServerDescriptor>, Result<String, String>)> = Vec::new();
        for op in connector.operations.iter() {
            if op.servers.is_empty() || bases.iter().any(|(s, _)| *s == op.servers) {
                continue;
            }
            let base = base_of(op, &choice, base_url)?;
            bases.push((op.servers.clone(), base));
        }
        Ok(Self {
            resolved: Some(Resolved { choice, bases }),
        })
    }

    /// The base URL of `op`, which has servers of its own: the one resolved when the
    /// connection was built, or, for an operation that is not the connector's, resolved now.
    pub(crate) fn base_url<'a>(
        &'a self,
        op: &OperationDescriptor,
        default: &'a str,
    ) -> Result<Cow<'a, str>, Error> {
        let Some(resolved) = &self.resolved else {
            return Ok(Cow::Borrowed(default));
        };
        let base = match resolved.bases.iter().find(|(s, _)| *s == op.servers) {
            Some((_, base)) => base.as_deref().map(Cow::Borrowed).map_err(Clone::clone),
            None => base_of(op, &resolved.choice, default)?.map(Cow::Owned),
        };
        base.map_err(|message| Error::Config {
            key: "server".into(),
            message: format!("action `{}`: {message}", op.id),
        })
    }
}

/// The base URL of `op`'s own servers: the server the connection chose for the connector when
/// `op` lists it, else `op`'s first. The inner error is a problem of the spec's server.
fn base_of(
    op: &OperationDescriptor,
    choice: &Choice,
    connector_base: &str,
) -> Result<Result<String, String>, Error> {
    let chosen = choice
        .chosen
        .as_deref()
        .and_then(|url| op.servers.iter().find(|s| s.url == url));
    let Some(server) = chosen.or(op.servers.first()) else {
        return Ok(Ok(connector_base.to_owned()));
    };
    let own: Vec<(String, String)> = choice
        .values
        .iter()
        .filter(|(name, _)| server.variables.iter().any(|v| v.name == *name))
        .cloned()
        .collect();
    let unusable = |message: String| Ok(Err(format!("server `{}`: {message}", server.url)));
    let url = match server::substitute(server, &own) {
        Ok(url) => url,
        Err(Error::Config { message, .. }) => return unusable(message),
        Err(other) => return Err(other),
    };
    let checked = if server::is_relative(&url) {
        server::join(connector_base, &url)
    } else {
        server::check_base_url(&url)
    };
    let url = match checked {
        Ok(url) => url,
        Err(Error::Config { message, .. }) => return unusable(message),
        Err(other) => return Err(other),
    };
    super::check_transport(&url, choice.sends_secrets, choice.allow_http_loopback).map_err(
        |err| match err {
            Error::Config { message, .. } => Error::Config {
                key: "server".into(),
                message: format!("action `{}`, server `{}`: {message}", op.id, server.url),
            },
            other => other,
        },
    )?;
    Ok(Ok(url))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::descriptor::{Method, ServerVariableDescriptor};

    fn server(url: &str, variables: &[&str]) -> ServerDescriptor {
        ServerDescriptor {
            url: url.to_owned().into(),
            description: None,
            variables: variables
                .iter()
                .map(|name| ServerVariableDescriptor {
                    name: (*name).to_owned().into(),
                    default: "d".into(),
                    allowed: Cow::Borrowed(&[]),
                    description: None,
                })
                .collect(),
        }
    }

    fn op(id: &str, servers: Vec<ServerDescriptor>) -> OperationDescriptor {
        OperationDescriptor {
            id: id.to_owned().into(),
            method: Method::Get,
            path: "/x".into(),
            summary: None,
            params: Cow::Borrowed(&[]),
            body: None,
            responses: Cow::Borrowed(&[]),
            security: Cow::Borrowed(&[]),
            deprecated: false,
            servers: Cow::Owned(servers),
        }
    }

    fn connector(ops: Vec<OperationDescriptor>) -> ConnectorDescriptor {
        ConnectorDescriptor {
            name: "c".into(),
            title: "C".into(),
            version: "1".into(),
            servers: Cow::Owned(vec![server("https://api.example.com/v1", &[])]),
            security_schemes: Cow::Borrowed(&[]),
            operations: Cow::Owned(ops),
            catalogue: None,
        }
    }

    fn choice(values: &[(&str, &str)]) -> Choice {
        Choice {
            chosen: Some("https://api.example.com/v1".into()),
            values: values
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            sends_secrets: false,
            allow_http_loopback: false,
        }
    }

    const BASE: &str = "https://api.example.com/v1";

    #[test]
    fn a_server_the_spec_broke_fails_only_its_actions_calls() {
        let broken = op("broken", vec![server("https://{nope}.example.com", &[])]);
        let fine = op(
            "fine",
            vec![server("https://{zone}.example.com", &["zone"])],
        );
        let connector = connector(vec![broken.clone(), fine.clone()]);
        let servers = OpServers::resolve(&connector, choice(&[("zone", "eu")]), BASE).unwrap();
        assert_eq!(
            servers.base_url(&fine, BASE).unwrap(),
            "https://eu.example.com"
        );
        let err = servers.base_url(&broken, BASE).unwrap_err().to_string();
        assert!(
            err.contains("action `broken`") && err.contains("undeclared variable `nope`"),
            "{err}"
        );
    }

    #[test]
    fn relative_servers_are_joined_to_the_connectors() {
        let connector = connector(vec![
            op("root", vec![server("/v2", &[])]),
            op("below", vec![server("{stage}/beta", &["stage"])]),
        ]);
        let servers = OpServers::resolve(&connector, choice(&[("stage", "s1")]), BASE).unwrap();
        let base = |i: usize| {
            servers
                .base_url(&connector.operations[i], BASE)
                .unwrap()
                .into_owned()
        };
        assert_eq!(base(0), "https://api.example.com/v2");
        assert_eq!(base(1), "https://api.example.com/v1/s1/beta");
        // A value cannot climb out of its segment of a relative URL either.
        let err = OpServers::resolve(&connector, choice(&[("stage", "..")]), BASE);
        assert!(matches!(err, Err(Error::InvalidServerVariable { .. })));
    }

    #[test]
    fn an_operation_from_elsewhere_is_resolved_when_called() {
        let servers = OpServers::resolve(&connector(Vec::new()), choice(&[]), BASE).unwrap();
        let foreign = op("foreign", vec![server("https://other.example.com/", &[])]);
        assert_eq!(
            servers.base_url(&foreign, BASE).unwrap(),
            "https://other.example.com"
        );
        // Under a base URL override every operation goes to the connection's URL.
        let overridden = OpServers::default();
        assert_eq!(overridden.base_url(&foreign, BASE).unwrap(), BASE);
    }
}
