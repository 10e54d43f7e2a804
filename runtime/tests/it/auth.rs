//! Credential placement and selection of security alternatives.

use crate::support::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use connector_runtime::descriptor::{
    ApiKeyLocation, Method, OperationDescriptor, SecuritySchemeDescriptor, SecuritySchemeKind,
};
use connector_runtime::{Args, Connection, Credential, Error};

fn secured(alternatives: &[&[&str]]) -> OperationDescriptor {
    with_security(op("secured", Method::Get, "/secure"), alternatives)
}

/// Runs one request with `scheme` required and `credential` given for it.
async fn send_with(kind: SecuritySchemeKind, credential: Credential) -> wiremock::Request {
    let server = server().await;
    let op = secured(&[&["auth"]]);
    let connector = connector(vec![op.clone()], vec![scheme("auth", kind)]);
    let conn = connect(&server, &connector, vec![("auth", credential)]);
    conn.execute(&op, Args::new()).await.unwrap();
    only_request(&server).await
}

#[tokio::test]
async fn api_key_in_header() {
    let request = send_with(
        api_key(ApiKeyLocation::Header, "X-API-Key"),
        Credential::api_key(CANARY),
    )
    .await;
    assert_eq!(header(&request, "x-api-key"), Some(CANARY));
    assert_eq!(occurrences(&request, CANARY), 1);
    assert!(header(&request, "authorization").is_none());
}

#[tokio::test]
async fn api_key_in_query() {
    let request = send_with(
        api_key(ApiKeyLocation::Query, "api_key"),
        Credential::api_key(CANARY),
    )
    .await;
    assert_eq!(query(&request), [("api_key".to_owned(), CANARY.to_owned())]);
    assert_eq!(occurrences(&request, CANARY), 1);
}

#[tokio::test]
async fn api_key_in_cookie() {
    let request = send_with(
        api_key(ApiKeyLocation::Cookie, "sid"),
        Credential::api_key(CANARY),
    )
    .await;
    assert_eq!(
        header(&request, "cookie"),
        Some(format!("sid={CANARY}").as_str())
    );
    assert_eq!(occurrences(&request, CANARY), 1);
}

#[tokio::test]
async fn basic_is_rfc_7617() {
    let request = send_with(
        SecuritySchemeKind::HttpBasic,
        Credential::basic("alice", "p@ss:wörd"),
    )
    .await;
    let expected = format!("Basic {}", STANDARD.encode("alice:p@ss:wörd".as_bytes()));
    assert_eq!(header(&request, "authorization"), Some(expected.as_str()));
    assert_eq!(request.headers.get_all("authorization").iter().count(), 1);
}

#[tokio::test]
async fn bearer_schemes_send_a_bearer_token() {
    let expected = format!("Bearer {CANARY}");
    for (kind, credential) in [
        (SecuritySchemeKind::HttpBearer, Credential::bearer(CANARY)),
        (
            oauth2("https://auth.example.com/token"),
            Credential::bearer(CANARY),
        ),
        (
            SecuritySchemeKind::OpenIdConnect {
                url: text("https://auth.example.com/.well-known/openid-configuration"),
            },
            Credential::api_key(CANARY),
        ),
    ] {
        let request = send_with(kind, credential).await;
        assert_eq!(header(&request, "authorization"), Some(expected.as_str()));
        assert_eq!(occurrences(&request, CANARY), 1);
    }
}

#[tokio::test]
async fn other_http_scheme_uses_its_name() {
    let kind = SecuritySchemeKind::HttpOther {
        scheme: text("Token"),
    };
    let request = send_with(kind, Credential::raw(CANARY)).await;
    let expected = format!("Token {CANARY}");
    assert_eq!(header(&request, "authorization"), Some(expected.as_str()));
}

fn schemes() -> Vec<SecuritySchemeDescriptor> {
    vec![
        scheme("key", api_key(ApiKeyLocation::Header, "X-API-Key")),
        scheme("app", api_key(ApiKeyLocation::Query, "app_id")),
        scheme("token", SecuritySchemeKind::HttpBearer),
    ]
}

#[tokio::test]
async fn first_satisfied_alternative_wins() {
    let server = server().await;
    let op = secured(&[&["key", "app"], &["token"]]);
    let connector = connector(vec![op.clone()], schemes());
    // Only `key` of the first alternative is configured, so the second is used.
    let conn = connect(
        &server,
        &connector,
        vec![
            ("key", Credential::api_key("k")),
            ("token", Credential::bearer("t")),
        ],
    );
    conn.execute(&op, Args::new()).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(header(&request, "authorization"), Some("Bearer t"));
    assert!(header(&request, "x-api-key").is_none());
}

#[tokio::test]
async fn empty_requirement_allows_anonymous_access() {
    let server = server().await;
    let op = secured(&[&["token"], &[]]);
    let connector = connector(vec![op.clone()], schemes());
    let conn = connect(&server, &connector, vec![]);
    conn.execute(&op, Args::new()).await.unwrap();
    assert!(header(&only_request(&server).await, "authorization").is_none());
}

#[tokio::test]
async fn missing_credentials_fail_before_sending() {
    let server = server().await;
    let op = secured(&[&["key", "app"], &["token"]]);
    let connector = connector(vec![op.clone()], schemes());
    let conn = connect(&server, &connector, vec![("key", Credential::api_key("k"))]);
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    match &err {
        Error::MissingCredentials {
            operation,
            alternatives,
        } => {
            assert_eq!(operation, "secured");
            assert_eq!(alternatives, &[vec!["key", "app"], vec!["token"]]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_auth());
    assert!(requests(&server).await.is_empty());
}

#[test]
fn wrong_credential_kind_is_a_config_error_naming_the_scheme() {
    let connector = connector(vec![], schemes());
    let err = Connection::builder(&connector)
        .base_url("http://127.0.0.1:1")
        .credential("token", Credential::basic("u", "p"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config { key, .. } if key == "token"),
        "{err:?}"
    );
}

#[test]
fn unknown_scheme_is_named_with_the_known_ones() {
    let connector = connector(vec![], schemes());
    let err = Connection::builder(&connector)
        .base_url("http://127.0.0.1:1")
        .credential("tokn", Credential::bearer("t"))
        .build()
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("tokn") && message.contains("key, app, token"),
        "{message}"
    );
}

#[test]
fn basic_user_name_with_colon_is_rejected() {
    let connector = connector(vec![], vec![scheme("basic", SecuritySchemeKind::HttpBasic)]);
    let err = Connection::builder(&connector)
        .base_url("http://127.0.0.1:1")
        .credential("basic", Credential::basic("a:b", "p"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config { key, .. } if key == "basic"),
        "{err:?}"
    );
}
