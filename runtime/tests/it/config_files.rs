//! Connection files: formats, secret sources, validation with every problem at once, folders.

use std::borrow::Cow;

use crate::support::*;
use connector_runtime::descriptor::{
    ApiKeyLocation, ConnectorDescriptor, Method, OperationDescriptor, SecuritySchemeKind,
    ServerDescriptor, ServerVariableDescriptor,
};
use connector_runtime::{load_dir, Args, Connection, ConnectionConfig, Error};

fn keyed_op() -> OperationDescriptor {
    with_security(op("list", Method::Get, "/items"), &[&["key"], &["basic"]])
}

fn shop() -> ConnectorDescriptor {
    ConnectorDescriptor {
        servers: Cow::Owned(vec![ServerDescriptor {
            url: text("https://{region}.shop.example.com"),
            description: None,
            variables: Cow::Owned(vec![ServerVariableDescriptor {
                name: text("region"),
                default: text("eu"),
                allowed: Cow::Owned(vec![text("eu"), text("us")]),
                description: None,
            }]),
        }]),
        ..connector(
            vec![keyed_op()],
            vec![
                scheme("key", api_key(ApiKeyLocation::Header, "X-API-Key")),
                scheme("basic", SecuritySchemeKind::HttpBasic),
                scheme("oauth", oauth2("https://auth.shop.example.com/token")),
            ],
        )
    }
}

fn problems(err: Error) -> Vec<String> {
    match err {
        Error::ConnectionFile { problems, .. } => problems,
        other => panic!("expected a connection file error, got {other:?}"),
    }
}

#[tokio::test]
async fn toml_file_with_env_and_file_secrets_drives_requests() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(dir.path().join("secrets/password"), "from-file\n").unwrap();
    std::env::set_var("CONFIG_TEST_KEY", CANARY);
    let file = dir.path().join("acme.toml");
    std::fs::write(
        &file,
        format!(
            r#"
connector = "test"
version = "1.0.0"
base_url = "{}"
allow_http_loopback = true
timeout = "5s"
max_concurrency = 2

[credentials.key]
key = {{ env = "CONFIG_TEST_KEY" }}

[credentials.basic]
username = "ann"
password = {{ file = "secrets/password" }}

[headers]
X-Tenant = "acme"
X-Signature = {{ env = "CONFIG_TEST_KEY", template = "sig={{value}}" }}

[query]
account = "42"
"#,
            server.uri()
        ),
    )
    .unwrap();
    let config = ConnectionConfig::from_file(&shop(), &file).unwrap();
    assert_eq!(config.name(), "acme");
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    let conn = config.connect(&shop()).unwrap();
    conn.execute(&keyed_op(), Args::new()).await.unwrap();
    let request = only_request(&server).await;
    assert_eq!(header(&request, "x-api-key"), Some(CANARY));
    assert_eq!(header(&request, "x-tenant"), Some("acme"));
    assert_eq!(
        header(&request, "x-signature"),
        Some(format!("sig={CANARY}").as_str())
    );
    assert_eq!(query(&request), [("account".to_owned(), "42".to_owned())]);
    assert!(!format!("{conn:?}").contains(CANARY));
}

#[test]
fn every_problem_is_reported_at_once_with_its_path_and_a_hint() {
    let text = r#"
connector = "test"
tiemout = 30
max_concurrency = "many"
server = 3

[variables]
regoin = "eu"

[credentials.key]
kye = "x"

[credentials.basic]
username = 7
password = { env = "CONFIG_TEST_SURELY_UNSET_VARIABLE" }

[credentials.oath]
client_id = "c"

[credentials.oauth]
client_id = "c"
client_auth = "bsaic"
"#;
    let problems =
        problems(ConnectionConfig::from_text(&shop(), text, "toml", "bad", None).unwrap_err());
    let all = problems.join("\n");
    for expected in [
        "`tiemout`: unknown key; did you mean `timeout`?",
        "`max_concurrency`: expected an integer of at least 1, found text",
        "`server`: connector `test` declares 1 server(s)",
        "`variables.regoin`: unknown variable; did you mean `region`?",
        "`credentials.key.kye`: unknown key; did you mean `key`?",
        "`credentials.key.key`: missing",
        "`credentials.basic.username`: expected a string, found an integer",
        "`credentials.basic.password`: environment variable `CONFIG_TEST_SURELY_UNSET_VARIABLE` is not set",
        "`credentials.oath`: connector `test` has no security scheme of that name; did you mean `oauth`?",
        "`credentials.oauth.client_auth`: expected `basic` or `post`; did you mean `basic`?",
        "`credentials.oauth.client_secret`: missing",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }
    assert!(problems.len() >= 11, "{all}");
}

#[test]
fn problems_never_quote_values() {
    let text = format!(
        r#"
connector = "test"
[credentials.key]
key = ["{CANARY}"]
[credentials.basic]
username = "u"
password = {{ env = "NOPE_NOT_SET_{CANARY}", extra = "{CANARY}" }}
"#
    );
    let err = ConnectionConfig::from_text(&shop(), &text, "toml", "bad", None).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("credentials.key.key"), "{message}");
    // The env var name is configuration, but the value lists never appear.
    assert!(!message.contains(&format!("[\"{CANARY}\"]")), "{message}");
    assert!(
        !message.contains(&format!("extra = \"{CANARY}\"")),
        "{message}"
    );
    // A syntax error does not quote the offending line.
    let err = ConnectionConfig::from_text(
        &shop(),
        &format!("connector = \"test\"\nkey = \"{CANARY}"),
        "toml",
        "bad",
        None,
    )
    .unwrap_err();
    assert!(!err.to_string().contains(CANARY), "{err}");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn wrong_connector_and_missing_connector_are_reported() {
    let err =
        ConnectionConfig::from_text(&shop(), "connector = \"crm\"", "toml", "x", None).unwrap_err();
    assert!(err.to_string().contains("for `crm`, not `test`"), "{err}");
    let err =
        ConnectionConfig::from_text(&shop(), "version = \"9\"", "toml", "x", None).unwrap_err();
    let all = problems(err).join("\n");
    assert!(all.contains("`connector`: missing"), "{all}");
    assert!(
        all.contains("`version`: connector `test` is version 1.0.0, not 9"),
        "{all}"
    );
}

#[test]
fn yaml_and_json_files_read_like_toml() {
    std::env::set_var("CONFIG_TEST_YAML_KEY", "k");
    let yaml = "connector: test\nvariables:\n  region: us\ncredentials:\n  key:\n    key: { env: CONFIG_TEST_YAML_KEY }\n";
    let json = r#"{"connector": "test", "variables": {"region": "us"}, "credentials": {"key": {"key": {"env": "CONFIG_TEST_YAML_KEY"}}}}"#;
    let mut cases = vec![(json, "json")];
    if cfg!(feature = "yaml") {
        cases.push((yaml, "yaml"));
    }
    for (text, format) in cases {
        let config = ConnectionConfig::from_text(&shop(), text, format, "x", None).unwrap();
        let conn = config.connect(&shop()).unwrap();
        assert_eq!(conn.base_url(), "https://us.shop.example.com", "{format}");
    }
    if cfg!(feature = "yaml") {
        let err =
            ConnectionConfig::from_text(&shop(), "connector: [", "yaml", "x", None).unwrap_err();
        assert!(err.to_string().contains("YAML syntax error"), "{err}");
    }
    let err = ConnectionConfig::from_text(
        &shop(),
        "{\"variables\": {\"region\": \"mars\"}}",
        "json",
        "x",
        None,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("`variables.region`: must be one of: eu, us"),
        "{err}"
    );
}

#[test]
fn oauth_credentials_from_a_file() {
    std::env::set_var("CONFIG_TEST_CLIENT_SECRET", "s");
    let text = r#"
connector = "test"
[credentials.oauth]
client_id = "client-1"
client_secret = { env = "CONFIG_TEST_CLIENT_SECRET" }
scopes = ["read", "write"]
client_auth = "post"
token_url = "https://login.example.com/oauth2/token"
"#;
    let config = ConnectionConfig::from_text(&shop(), text, "toml", "x", None).unwrap();
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["credentials"]["oauth"]["client_secret"], "******");
    assert_eq!(
        json["credentials"]["oauth"]["token_url"],
        "https://login.example.com/oauth2/token"
    );
    config.connect(&shop()).unwrap();

    // An access token from an authorization code flow, with a refresh token.
    let text = r#"
connector = "test"
[credentials.oauth]
access_token = { env = "CONFIG_TEST_CLIENT_SECRET" }
refresh_token = { env = "CONFIG_TEST_CLIENT_SECRET" }
client_id = "client-1"
"#;
    ConnectionConfig::from_text(&shop(), text, "toml", "x", None)
        .unwrap()
        .connect(&shop())
        .unwrap();
}

#[test]
fn a_folder_holds_many_connections_of_one_connector() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("CONFIG_TEST_FOLDER_KEY", "k");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "acme.toml",
        "connector = \"test\"\n[variables]\nregion = \"us\"\n[credentials.key]\nkey = { env = \"CONFIG_TEST_FOLDER_KEY\" }\n",
    );
    write(
        "globex.json",
        r#"{"connector": "test", "credentials": {"key": {"key": {"env": "CONFIG_TEST_FOLDER_KEY"}}}}"#,
    );
    write("crm-main.toml", "connector = \"crm\"\nanything = 1\n");
    write("notes.txt", "not a connection");
    let connections = load_dir(&shop(), dir.path()).unwrap();
    let names: Vec<&str> = connections.keys().map(String::as_str).collect();
    assert_eq!(names, ["acme", "globex"]);
    assert_eq!(
        connections["acme"].base_url(),
        "https://us.shop.example.com"
    );
    assert_eq!(
        connections["globex"].base_url(),
        "https://eu.shop.example.com"
    );

    // Problems of every file come back together.
    write("broken.toml", "connector = \"test\"\ntimeout = -1\n");
    write(
        "worse.json",
        "{\"connector\": \"test\", \"credentials\": {\"nope\": {}}}",
    );
    let all = problems(load_dir(&shop(), dir.path()).unwrap_err()).join("\n");
    assert!(all.contains("broken.toml: `timeout`"), "{all}");
    assert!(all.contains("worse.json: `credentials.nope`"), "{all}");
}

#[test]
fn connection_from_file_reports_a_missing_file() {
    let err = Connection::from_file(&shop(), "does/not/exist.toml").unwrap_err();
    assert!(err.to_string().contains("does/not/exist.toml"), "{err}");
}

#[tokio::test]
async fn proxy_from_the_file_carries_every_request() {
    // The proxy is a loopback mock: a request for an http:// target reaches it in absolute form,
    // so nothing leaves the machine.
    let proxy = server().await;
    let text = format!(
        "connector = \"test\"\nbase_url = \"http://api.shop.invalid\"\nproxy = \"{}\"\n",
        proxy.uri()
    );
    let conn = ConnectionConfig::from_text(&shop(), &text, "toml", "x", None)
        .unwrap()
        .connect(&shop())
        .unwrap();
    let public = op("public", Method::Get, "/items");
    conn.execute(&public, Args::new()).await.unwrap();
    let request = only_request(&proxy).await;
    assert_eq!(request.url.host_str(), Some("api.shop.invalid"));
    assert_eq!(request.url.path(), "/items");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_bounds_requests_in_flight() {
    let server = server_with(
        wiremock::ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(150)),
    )
    .await;
    let text = format!(
        "connector = \"test\"\nbase_url = \"{}\"\nmax_concurrency = 2\n",
        server.uri()
    );
    let conn = ConnectionConfig::from_text(&shop(), &text, "toml", "x", None)
        .unwrap()
        .connect(&shop())
        .unwrap();
    let started = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let conn = conn.clone();
        set.spawn(async move {
            conn.execute(&op("public", Method::Get, "/items"), Args::new())
                .await
                .map(|_| ())
        });
    }
    while let Some(result) = set.join_next().await {
        result.unwrap().unwrap();
    }
    // Six requests two at a time take at least three server delays.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(440),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&server).await.len(), 6);
}

/// Issue 8 item 6: `Duration::from_secs_f64` panicked on `timeout = 1e20`; every out-of-range
/// duration is now a problem naming its key.
#[test]
fn out_of_range_durations_are_problems_naming_the_key() {
    let cases = [
        ("1e20", "1e20"),
        ("1.8446744073709552e19", "1e300"),
        ("-1", "-0.5"),
        ("nan", "inf"),
        ("-inf", "0"),
        ("\"99999999999999999999s\"", "\"25h\""),
        ("\"1e400s\"", "\"-3s\""),
    ];
    for (timeout, token_timeout) in cases {
        let text =
            format!("connector = \"test\"\ntimeout = {timeout}\ntoken_timeout = {token_timeout}\n");
        let result = std::panic::catch_unwind(|| {
            ConnectionConfig::from_text(&shop(), &text, "toml", "hostile", None)
        });
        let result = result.unwrap_or_else(|_| panic!("panicked on {text}"));
        let all = problems(result.unwrap_err()).join("\n");
        for key in ["`timeout`", "`token_timeout`"] {
            assert!(
                all.lines()
                    .any(|l| l.starts_with(key) && l.contains("at most 24 hours")),
                "{text} -> {all}"
            );
        }
    }
    // The same keys in JSON (no NaN there) and at the edge of the range.
    let json = r#"{"connector": "test", "timeout": 1e300, "token_timeout": 86401}"#;
    let all = problems(ConnectionConfig::from_text(&shop(), json, "json", "j", None).unwrap_err())
        .join("\n");
    assert!(
        all.contains("`timeout`") && all.contains("`token_timeout`"),
        "{all}"
    );
    let edge = "connector = \"test\"\ntimeout = 86400\ntoken_timeout = \"24h\"\n";
    ConnectionConfig::from_text(&shop(), edge, "toml", "edge", None).unwrap();
}

/// The builder refuses the same timeouts a file would, rather than handing them to the client.
#[test]
fn builder_refuses_zero_and_huge_timeouts() {
    let too_long = std::time::Duration::from_secs(24 * 3600 + 1);
    for (timeout, token_timeout, key) in [
        (std::time::Duration::ZERO, None, "timeout"),
        (too_long, None, "timeout"),
        (std::time::Duration::MAX, None, "timeout"),
        (
            std::time::Duration::from_secs(1),
            Some(std::time::Duration::MAX),
            "token_timeout",
        ),
    ] {
        let mut builder = Connection::builder(&shop()).timeout(timeout);
        if let Some(t) = token_timeout {
            builder = builder.token_timeout(t);
        }
        match builder.build() {
            Err(Error::Config { key: found, .. }) => assert_eq!(found, key),
            other => panic!("expected a config error naming `{key}`, got {other:?}"),
        }
    }
}
