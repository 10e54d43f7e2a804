//! Connection configuration and secret hygiene (SE-1, SE-3).

use std::borrow::Cow;

use crate::support::*;
use connector_runtime::descriptor::{
    ApiKeyLocation, ConnectorDescriptor, Method, OperationDescriptor, SecuritySchemeDescriptor,
    SecuritySchemeKind, ServerDescriptor, ServerVariableDescriptor,
};
use connector_runtime::{Args, Connection, Credential, Error};
use wiremock::ResponseTemplate;

fn all_schemes() -> Vec<SecuritySchemeDescriptor> {
    vec![
        scheme("header", api_key(ApiKeyLocation::Header, "X-API-Key")),
        scheme("query", api_key(ApiKeyLocation::Query, "api_key")),
        scheme("cookie", api_key(ApiKeyLocation::Cookie, "sid")),
        scheme("basic", SecuritySchemeKind::HttpBasic),
        scheme("bearer", SecuritySchemeKind::HttpBearer),
        scheme("oauth", oauth2("https://auth.example.com/token")),
        scheme(
            "other",
            SecuritySchemeKind::HttpOther {
                scheme: text("Token"),
            },
        ),
    ]
}

#[test]
fn debug_shows_scheme_names_but_no_secret() {
    let connector = connector(vec![], all_schemes());
    let builder = Connection::builder(&connector)
        .base_url("https://api.example.com/v1/")
        .credential("header", Credential::api_key(CANARY))
        .credential("query", Credential::api_key(CANARY))
        .credential("cookie", Credential::api_key(CANARY))
        .credential("basic", Credential::basic("user", CANARY))
        .credential("bearer", Credential::bearer(CANARY))
        .credential("oauth", Credential::bearer(CANARY))
        .credential("other", Credential::raw(CANARY));
    let builder_debug = format!("{builder:?}");
    let conn = builder.build().unwrap();
    let debug = format!("{conn:?}");
    for text in [&builder_debug, &debug] {
        assert!(!text.contains(CANARY), "{text}");
        assert!(
            text.contains("\"bearer\"") && text.contains("\"test\""),
            "{text}"
        );
    }
    assert!(debug.contains("https://api.example.com/v1\""), "{debug}");
    assert_eq!(conn.base_url(), "https://api.example.com/v1");
    assert!(!format!("{:?}", Credential::basic("user", CANARY)).contains(CANARY));
}

fn keyed_op() -> OperationDescriptor {
    with_security(op("list", Method::Get, "/items"), &[&["query"]])
}

#[tokio::test]
async fn transport_error_does_not_show_a_query_api_key() {
    // A port that was just free: connecting to it is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let op = keyed_op();
    let connector = connector(vec![op.clone()], all_schemes());
    let conn = Connection::builder(&connector)
        .base_url(format!("http://127.0.0.1:{port}"))
        .allow_http_loopback(true)
        .credential("query", Credential::api_key(CANARY))
        .build()
        .unwrap();
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    assert_eq!(err.attempts(), 3, "{err:?}");
    assert!(
        matches!(err.last(), Some(Error::Transport { .. })),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_no_canary(&err);
    assert_no_canary(err.last().expect("the last failure"));
}

#[tokio::test]
async fn status_error_does_not_show_a_query_api_key() {
    let server = server_with(ResponseTemplate::new(404)).await;
    let op = keyed_op();
    let connector = connector(vec![op.clone()], all_schemes());
    let conn = connect(
        &server,
        &connector,
        vec![("query", Credential::api_key(CANARY))],
    );
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_no_canary(&err);
}

fn assert_no_canary(err: &Error) {
    let mut text = format!("{err}\n{err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!("\n{cause}\n{cause:?}"));
        source = cause.source();
    }
    assert!(!text.contains(CANARY), "{text}");
}

fn with_servers(servers: Vec<ServerDescriptor>) -> ConnectorDescriptor {
    ConnectorDescriptor {
        servers: Cow::Owned(servers),
        ..connector(vec![], vec![])
    }
}

fn server_at(url: &str) -> ServerDescriptor {
    ServerDescriptor {
        url: text(url),
        description: None,
        variables: Cow::Owned(vec![ServerVariableDescriptor {
            name: text("region"),
            default: text("eu"),
            allowed: Cow::Owned(Vec::new()),
            description: None,
        }]),
    }
}

#[test]
fn servers_are_chosen_by_index_and_variables_are_checked() {
    let connector = with_servers(vec![
        server_at("https://{region}.example.com/"),
        server_at("https://example.com/{region}"),
    ]);
    let url = |b: connector_runtime::ConnectionBuilder| b.build().map(|c| c.base_url().to_owned());
    let builder = || Connection::builder(&connector);
    assert_eq!(url(builder()).unwrap(), "https://eu.example.com");
    assert_eq!(url(builder().server(1)).unwrap(), "https://example.com/eu");
    assert_eq!(
        url(builder().server_variable("region", "us")).unwrap(),
        "https://us.example.com"
    );
    assert!(matches!(
        url(builder().server_variable("region", "evil.com/x?")),
        Err(Error::InvalidServerVariable { .. })
    ));
    assert!(matches!(
        url(builder().server(1).server_variable("region", "..")),
        Err(Error::InvalidServerVariable { .. })
    ));
    assert!(matches!(
        url(builder().server(2)),
        Err(Error::Config { .. })
    ));
    // An explicit base URL replaces the servers entirely.
    assert_eq!(
        url(builder().base_url("http://localhost:8080/")).unwrap(),
        "http://localhost:8080"
    );
}

#[test]
fn relative_or_missing_servers_ask_for_a_base_url() {
    for connector in [with_servers(vec![server_at("/v1")]), with_servers(vec![])] {
        let err = Connection::builder(&connector).build().unwrap_err();
        assert!(matches!(&err, Error::Config { .. }), "{err:?}");
        assert!(err.to_string().contains("base_url"), "{err}");
    }
}
