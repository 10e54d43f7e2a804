//! No secret in Debug, Display, serialized config or logs (SE-1 to SE-3), and redirects never
//! carry credentials to another origin (SE-4).

use crate::support;
use std::time::Duration;

use crate::support::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use connector_runtime::descriptor::{
    ApiKeyLocation, Method, OperationDescriptor, SecuritySchemeDescriptor,
};
use connector_runtime::{Args, Connection, ConnectionConfig, Credential, Error, OAuth2Credential};
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const BASIC_PASSWORD: &str = "pw_CANARY_basic_91c2";
const REFRESH: &str = "rt_CANARY_refresh_5d0e";
const CLIENT_SECRET: &str = "cs_CANARY/secret+1 4b";

/// Every canary, with the encoded forms it may take on the wire.
fn canaries() -> Vec<String> {
    let mut out = Vec::new();
    for secret in [CANARY, BASIC_PASSWORD, REFRESH, CLIENT_SECRET] {
        out.push(secret.to_owned());
        out.push(STANDARD.encode(secret));
        out.push(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect());
    }
    out.push(STANDARD.encode(format!("user:{BASIC_PASSWORD}")));
    out
}

fn assert_clean(text: &str) {
    for canary in canaries() {
        assert!(!text.contains(&canary), "found {canary:?} in:\n{text}");
    }
}

fn schemes(token_url: &str) -> Vec<SecuritySchemeDescriptor> {
    vec![
        scheme("header", api_key(ApiKeyLocation::Header, "X-API-Key")),
        scheme("query", api_key(ApiKeyLocation::Query, "api_key")),
        scheme("cookie", api_key(ApiKeyLocation::Cookie, "sid")),
        scheme(
            "basic",
            connector_runtime::descriptor::SecuritySchemeKind::HttpBasic,
        ),
        scheme(
            "bearer",
            connector_runtime::descriptor::SecuritySchemeKind::HttpBearer,
        ),
        scheme("oauth", oauth2(token_url)),
    ]
}

fn op_for(scheme: &str) -> OperationDescriptor {
    with_security(
        op(scheme, Method::Post, &format!("/{scheme}")),
        &[&[scheme]],
    )
}

fn all_ops() -> Vec<OperationDescriptor> {
    ["header", "query", "cookie", "basic", "bearer", "oauth"]
        .into_iter()
        .map(|scheme| with_body(op_for(scheme)))
        .collect()
}

fn oauth_credential() -> Credential {
    Credential::oauth2(
        OAuth2Credential::client_credentials("client-1", CLIENT_SECRET).with_refresh_token(REFRESH),
    )
}

fn full_builder(server: &MockServer) -> connector_runtime::ConnectionBuilder {
    let connector = connector(all_ops(), schemes(&format!("{}/token", server.uri())));
    builder(server, &connector)
        .credential("header", Credential::api_key(CANARY))
        .credential("query", Credential::api_key(CANARY))
        .credential("cookie", Credential::api_key(CANARY))
        .credential("basic", Credential::basic("user", BASIC_PASSWORD))
        .credential("bearer", Credential::bearer(CANARY))
        .credential("oauth", oauth_credential())
        .header("X-Custom-Auth", CANARY)
        .query("sig", CANARY)
}

#[tokio::test]
async fn se1_debug_display_and_serialized_config_hide_every_secret() {
    let server = server().await;
    let b = full_builder(&server);
    let builder_debug = format!("{b:?}");
    let conn = b.build().unwrap();
    assert_clean(&format!("{builder_debug}\n{conn:?}\n{conn:#?}"));
    assert_clean(&format!("{:?}", oauth_credential()));

    std::env::set_var("SE1_CANARY_KEY", CANARY);
    let config = ConnectionConfig::from_text(
        &connector(all_ops(), schemes("https://auth.example.com/token")),
        &format!(
            r#"
            connector = "test"
            base_url = "https://api.example.com"
            proxy = {{ url = "http://proxy.example.com:3128", username = "p", password = "{CANARY}" }}
            [credentials.header]
            key = {{ env = "SE1_CANARY_KEY" }}
            [credentials.basic]
            username = "user"
            password = "{BASIC_PASSWORD}"
            [credentials.oauth]
            client_id = "client-1"
            client_secret = "{CLIENT_SECRET}"
            refresh_token = "{REFRESH}"
            grant = "client_credentials"
            [headers]
            X-Custom-Auth = {{ env = "SE1_CANARY_KEY", template = "Token {{value}}" }}
            "#
        ),
        "toml",
        "se1",
        None,
    )
    .unwrap();
    let serialized = serde_json::to_string(&config).unwrap();
    assert_clean(&serialized);
    assert!(serialized.contains("******"), "{serialized}");
    assert_clean(&format!("{config:?}"));
    assert!(format!("{config:?}").contains("[REDACTED]"));
    // Secrets written inline are allowed but flagged.
    assert!(
        config
            .warnings()
            .iter()
            .any(|w| w.contains("credentials.basic.password")),
        "{:?}",
        config.warnings()
    );
}

fn error_text(err: &Error) -> String {
    let mut text = format!("{err}\n{err:?}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!("\n{cause}\n{cause:?}"));
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn se2_se3_logs_and_errors_hold_no_secret_under_success_and_failure() {
    // A global subscriber, and logs of this test alone: in its own process.
    if !support::in_own_process(
        "secrets::se2_se3_logs_and_errors_hold_no_secret_under_success_and_failure",
    ) {
        return;
    }
    // The other tests' logs land here too, and must be clean too.
    let logs = support::logs::capture();
    let mut outputs = String::new();

    // Success with every scheme.
    let server = server_with_nothing().await;
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": CANARY, "expires_in": 3600, "refresh_token": REFRESH
        })))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    // The token endpoint then fails, echoing the submitted form.
    Mock::given(path("/token"))
        .respond_with(|request: &wiremock::Request| {
            ResponseTemplate::new(400).set_body_string(format!(
                "{{\"error\":\"invalid_client\",\"echo\":{:?}}}",
                String::from_utf8_lossy(&request.body)
            ))
        })
        .mount(&server)
        .await;
    // /oauth: 401 once (refresh + retry); /query: 404; /basic: 500; /bearer: slow; /cookie:
    // redirect to another origin; the rest succeed.
    Mock::given(path("/oauth"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/query"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(path("/basic"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    Mock::given(path("/bearer"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let other = server_with_nothing().await;
    Mock::given(path("/cookie"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("location", format!("{}/x", other.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let conn = full_builder(&server)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    for op in all_ops() {
        let mut args = Args::new();
        args.json_body(&json!({"note": "hello"})).unwrap();
        let result = conn.execute(&op, args).await;
        if let Err(err) = &result {
            outputs.push_str(&error_text(err));
        }
    }
    // The second token request happened on the 401; a third (failing, echoing) is forced by a
    // connection that must renew.
    let renew = full_builder(&server).build().unwrap();
    let err = renew
        .execute(&op_for("oauth"), Args::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    outputs.push_str(&error_text(&err));

    // SE-3: connection refused with a query key.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = Connection::builder(&connector(all_ops(), schemes("https://a.example.com/t")))
        .base_url(format!("http://127.0.0.1:{port}"))
        .allow_http_loopback(true)
        .credential("query", Credential::api_key(CANARY))
        .build()
        .unwrap();
    let err = closed
        .execute(&op_for("query"), Args::new())
        .await
        .unwrap_err();
    outputs.push_str(&error_text(&err));

    assert!(
        requests(&other).await.is_empty(),
        "credentials followed a redirect"
    );

    // Panics: a panic whose message formats a configured connection is captured and clean too.
    let sink = logs.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(mut out) = sink.0.lock() {
            out.extend_from_slice(format!("panic: {info}\n").as_bytes());
        }
    }));
    let conn = full_builder(&server).build().unwrap();
    let joined = std::thread::spawn(move || panic!("connection {conn:?} failed")).join();
    std::panic::set_hook(previous);
    assert!(joined.is_err());

    let logs = logs.text();
    assert!(
        logs.contains("panic: "),
        "the panic was not captured:\n{logs}"
    );
    assert!(
        logs.contains("sending request"),
        "nothing was logged:\n{logs}"
    );
    assert!(logs.contains("token rejected"), "{logs}");
    assert_clean(&logs);
    assert_clean(&outputs);
    assert!(
        outputs.contains("404") && outputs.contains("500") && outputs.contains("timed out"),
        "{outputs}"
    );
}

#[tokio::test]
async fn se4_cross_origin_redirect_is_not_followed() {
    let a = server_with_nothing().await;
    let b = server().await;
    Mock::given(path("/header"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("location", format!("{}/landing", b.uri())),
        )
        .mount(&a)
        .await;
    let conn = full_builder(&a).build().unwrap();
    for scheme in ["header", "query"] {
        let err = conn.execute(&op_for(scheme), Args::new()).await;
        if scheme == "header" {
            assert!(
                matches!(err, Err(Error::CrossOriginRedirect { .. })),
                "{err:?}"
            );
        }
    }
    assert!(requests(&b).await.is_empty());
}

#[tokio::test]
async fn se4_cross_origin_redirect_opt_in_follows_without_any_credential() {
    let a = server_with_nothing().await;
    let b = server().await;
    for scheme in ["header", "query", "cookie", "basic", "bearer"] {
        Mock::given(path(format!("/{scheme}")))
            .respond_with(ResponseTemplate::new(307).insert_header(
                "location",
                format!("{}/landing?api_key={CANARY}&sig={CANARY}&keep=1", b.uri()),
            ))
            .mount(&a)
            .await;
    }
    let conn = full_builder(&a)
        .follow_cross_origin_redirects(true)
        .build()
        .unwrap();
    for scheme in ["header", "query", "cookie", "basic", "bearer"] {
        let mut args = Args::new();
        args.json_body(&serde_json::json!({"n": 1})).unwrap();
        conn.execute(&with_body(op_for(scheme)), args)
            .await
            .unwrap_or_else(|e| panic!("{scheme}: {e}"));
    }
    let seen = requests(&b).await;
    assert_eq!(seen.len(), 5);
    for request in seen {
        for name in [
            "authorization",
            "proxy-authorization",
            "cookie",
            "x-api-key",
            "x-custom-auth",
        ] {
            assert!(
                request.headers.get(name).is_none(),
                "{name} reached the other origin"
            );
        }
        let query = request.url.query().unwrap_or_default().to_owned();
        assert_eq!(query, "keep=1", "only non-credential query values survive");
        assert_clean(&format!("{:?} {}", request.headers, request.url));
    }
}

#[tokio::test]
async fn se4_a_change_of_scheme_is_another_origin() {
    // Same host and port, other scheme: refused like any cross-origin redirect, which is what
    // keeps an https->http downgrade from ever carrying credentials.
    let a = server_with_nothing().await;
    let other_scheme = a.uri().replacen("http://", "https://", 1);
    Mock::given(path("/header"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("location", format!("{other_scheme}/header")),
        )
        .mount(&a)
        .await;
    let conn = full_builder(&a).build().unwrap();
    let err = conn.execute(&op_for("header"), Args::new()).await;
    assert!(
        matches!(err, Err(Error::CrossOriginRedirect { .. })),
        "{err:?}"
    );
    assert_eq!(requests(&a).await.len(), 1);
}

#[tokio::test]
async fn se4_same_origin_redirect_keeps_method_body_and_credentials() {
    let server = server_with_nothing().await;
    Mock::given(path("/header"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/moved"))
        .mount(&server)
        .await;
    Mock::given(path("/moved"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let connector = connector(
        vec![with_body(op_for("header"))],
        vec![scheme(
            "header",
            api_key(ApiKeyLocation::Header, "X-API-Key"),
        )],
    );
    let conn = connect(
        &server,
        &connector,
        vec![("header", Credential::api_key(CANARY))],
    );
    let mut args = Args::new();
    args.json_body(&json!({"a": 1})).unwrap();
    conn.execute(&connector.operations[0], args).await.unwrap();
    let all = requests(&server).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].url.path(), "/moved");
    assert_eq!(all[1].method.as_str(), "POST");
    assert_eq!(all[1].body, br#"{"a":1}"#);
    assert_eq!(header(&all[1], "x-api-key"), Some(CANARY));
}

#[tokio::test]
async fn se4_redirect_loop_stops_after_five_hops() {
    let server = server_with_nothing().await;
    Mock::given(path("/header"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/header"))
        .mount(&server)
        .await;
    let connector = connector(
        vec![op_for("header")],
        vec![scheme(
            "header",
            api_key(ApiKeyLocation::Header, "X-API-Key"),
        )],
    );
    let conn = connect(
        &server,
        &connector,
        vec![("header", Credential::api_key(CANARY))],
    );
    let err = conn
        .execute(&connector.operations[0], Args::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TooManyRedirects { limit: 5, .. }),
        "{err:?}"
    );
    assert_eq!(requests(&server).await.len(), 6);
}

fn with_body(op: OperationDescriptor) -> OperationDescriptor {
    OperationDescriptor {
        body: Some(connector_runtime::descriptor::BodyDescriptor {
            media_types: std::borrow::Cow::Owned(vec![text("application/json")]),
            required: false,
            encoding: std::borrow::Cow::Owned(Vec::new()),
        }),
        ..op
    }
}

/// Issue 8 item 2: a client the user supplies asks to follow redirects and send `Referer`; the
/// runtime overrides both, so a 302 to another origin is still refused by default, and when the
/// connection opts in, the other origin gets neither a credential (the connection's or the
/// builder's default headers) nor a `Referer` quoting the query API key.
#[tokio::test]
async fn se4_injected_client_neither_follows_redirects_nor_sends_referer() {
    let a = server_with_nothing().await;
    let b = server().await;
    for scheme in ["header", "query"] {
        Mock::given(path(format!("/{scheme}")))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("{}/landing", b.uri())),
            )
            .mount(&a)
            .await;
    }
    // The builder also adds a credential of its own to every request, which the runtime
    // cannot see: it must not reach the other origin either.
    let eager = || {
        let mut defaults = reqwest::header::HeaderMap::new();
        defaults.insert("x-client-secret", CANARY.parse().unwrap());
        defaults.insert("authorization", format!("Bearer {CANARY}").parse().unwrap());
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(10))
            .referer(true)
            .default_headers(defaults)
    };
    let conn = full_builder(&a).http_client(eager()).build().unwrap();
    for scheme in ["header", "query"] {
        let err = conn.execute(&op_for(scheme), Args::new()).await;
        assert!(
            matches!(err, Err(Error::CrossOriginRedirect { .. })),
            "{scheme}: {err:?}"
        );
    }
    assert!(
        requests(&b).await.is_empty(),
        "the injected client followed the redirect itself"
    );

    let conn = full_builder(&a)
        .http_client(eager())
        .follow_cross_origin_redirects(true)
        .build()
        .unwrap();
    for scheme in ["header", "query"] {
        conn.execute(&op_for(scheme), Args::new())
            .await
            .unwrap_or_else(|e| panic!("{scheme}: {e}"));
    }
    let seen = requests(&b).await;
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert!(request.headers.get("referer").is_none(), "{request:?}");
        assert!(request.headers.get("x-api-key").is_none(), "{request:?}");
        assert!(
            request.headers.get("authorization").is_none(),
            "{request:?}"
        );
        assert_eq!(occurrences(request, CANARY), 0, "{request:?}");
    }
    let at_a = requests(&a).await;
    assert_eq!(at_a.len(), 4);
    // The builder's own settings do apply to the connection's origin.
    assert!(at_a
        .iter()
        .all(|r| header(r, "x-client-secret") == Some(CANARY)));
}
