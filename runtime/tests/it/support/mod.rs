//! Descriptors built at run time (owned `Cow`s, as a spec interpreter would) and a loopback
//! server that records what it receives.

#![allow(dead_code)]

pub mod authz;
pub mod logs;
pub mod process;
pub mod proxy;
pub mod raw;
pub mod scripted;
pub mod time;

// Not every test binary that includes this module isolates tests in processes.
#[allow(unused_imports)]
pub use process::in_own_process;

use std::borrow::Cow;

use connector_runtime::descriptor::*;
use connector_runtime::{Connection, ConnectionBuilder, Credential};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const CANARY: &str = "sk_live_CANARY_7f3a";

pub fn text(s: &str) -> Text {
    Cow::Owned(s.to_owned())
}

pub fn op(id: &str, method: Method, path: &str) -> OperationDescriptor {
    OperationDescriptor {
        id: text(id),
        method,
        path: text(path),
        summary: None,
        params: Cow::Owned(Vec::new()),
        body: None,
        responses: Cow::Owned(Vec::new()),
        security: Cow::Owned(Vec::new()),
        deprecated: false,
        servers: Cow::Owned(Vec::new()),
    }
}

/// A parameter with its location's default style, optional unless it is in the path.
pub fn param(name: &str, location: ParamLocation) -> ParamDescriptor {
    let (style, explode) = match location {
        ParamLocation::Path | ParamLocation::Header => (ParamStyle::Simple, false),
        ParamLocation::Query | ParamLocation::Cookie => (ParamStyle::Form, true),
    };
    ParamDescriptor {
        name: text(name),
        location,
        required: location == ParamLocation::Path,
        style,
        explode,
        allow_reserved: false,
        json: false,
    }
}

pub fn required(param: ParamDescriptor) -> ParamDescriptor {
    ParamDescriptor {
        required: true,
        ..param
    }
}

pub fn with_params(op: OperationDescriptor, params: Vec<ParamDescriptor>) -> OperationDescriptor {
    OperationDescriptor {
        params: Cow::Owned(params),
        ..op
    }
}

/// Security alternatives, each a list of scheme names that must all be present.
pub fn with_security(op: OperationDescriptor, alternatives: &[&[&str]]) -> OperationDescriptor {
    let security = alternatives
        .iter()
        .map(|names| Cow::Owned(names.iter().map(|n| text(n)).collect()))
        .collect();
    OperationDescriptor {
        security: Cow::Owned(security),
        ..op
    }
}

pub fn scheme(name: &str, kind: SecuritySchemeKind) -> SecuritySchemeDescriptor {
    SecuritySchemeDescriptor {
        name: text(name),
        kind,
    }
}

pub fn api_key(location: ApiKeyLocation, parameter: &str) -> SecuritySchemeKind {
    SecuritySchemeKind::ApiKey {
        location,
        parameter: text(parameter),
    }
}

pub fn connector(
    operations: Vec<OperationDescriptor>,
    schemes: Vec<SecuritySchemeDescriptor>,
) -> ConnectorDescriptor {
    ConnectorDescriptor {
        name: text("test"),
        title: text("Test API"),
        version: text("1.0.0"),
        servers: Cow::Owned(Vec::new()),
        security_schemes: Cow::Owned(schemes),
        operations: Cow::Owned(operations),
        catalogue: None,
    }
}

/// A server answering every request with `response`.
pub async fn server_with(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

/// A server answering every request with `200 {}`.
pub async fn server() -> MockServer {
    server_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({}))).await
}

/// A builder for the loopback server, which needs the plain-http opt-in (AU-6).
pub fn builder(server: &MockServer, connector: &ConnectorDescriptor) -> ConnectionBuilder {
    Connection::builder(connector)
        .base_url(server.uri())
        .allow_http_loopback(true)
}

/// An OAuth 2 scheme whose client credentials flow uses `token_url`.
pub fn oauth2(token_url: &str) -> SecuritySchemeKind {
    SecuritySchemeKind::OAuth2 {
        flows: Cow::Owned(vec![OAuthFlowDescriptor {
            kind: OAuthFlowKind::ClientCredentials,
            authorization_url: None,
            token_url: Some(text(token_url)),
            refresh_url: None,
            scopes: Cow::Owned(vec![text("read")]),
        }]),
    }
}

pub fn connect(
    server: &MockServer,
    connector: &ConnectorDescriptor,
    credentials: Vec<(&str, Credential)>,
) -> Connection {
    credentials
        .into_iter()
        .fold(builder(server, connector), |b, (name, c)| {
            b.credential(name, c)
        })
        .build()
        .expect("test connection")
}

pub async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording is on")
}

/// The single request the server received.
pub async fn only_request(server: &MockServer) -> Request {
    let mut all = requests(server).await;
    assert_eq!(all.len(), 1, "expected exactly one request");
    all.remove(0)
}

pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().expect("ascii header"))
}

pub fn query(request: &Request) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// How often `needle` appears in the request's URL, headers and body together.
pub fn occurrences(request: &Request, needle: &str) -> usize {
    let mut haystack = request.url.to_string();
    for (name, value) in &request.headers {
        haystack.push_str(&format!(
            "\n{name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    haystack.push_str(&String::from_utf8_lossy(&request.body));
    haystack.matches(needle).count()
}

/// A server with nothing mounted: the test mounts what it needs.
pub async fn server_with_nothing() -> MockServer {
    MockServer::start().await
}
