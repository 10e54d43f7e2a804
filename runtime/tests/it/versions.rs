//! Versions and backend variables: values placed where their version says, checked all at once,
//! connection files pinning a version, and server variables that cannot move the host.

use crate::support;
use std::borrow::Cow;

use crate::support::{op, param, text, with_params};
use connector_runtime::descriptor::*;
use connector_runtime::versions::*;
use connector_runtime::{Args, Connection, ConnectionConfig, Error};
use serde_json::json;

fn variable(name: &str, kind: VariableKind, location: VariableLocation) -> VariableDescriptor {
    VariableDescriptor {
        name: text(name),
        description: None,
        kind,
        required: true,
        required_when: None,
        default: None,
        pattern: None,
        location,
    }
}

/// `POST /sites/{site}/orders` with a JSON body, and variables in a header, the query, the path
/// and the body.
fn version(id: &str, state: VersionState) -> VersionDescriptor {
    let mut create = with_params(
        op("createOrder", Method::Post, "/sites/{site}/orders"),
        vec![param("site", ParamLocation::Path)],
    );
    create.body = Some(BodyDescriptor {
        media_types: Cow::Owned(vec![text("application/json")]),
        required: true,
        encoding: Cow::Owned(Vec::new()),
    });
    let mut tenant = variable(
        "tenant",
        VariableKind::String,
        VariableLocation::Header(text("X-Tenant")),
    );
    tenant.pattern = Some(text("[a-z0-9-]{1,32}"));
    let region = variable(
        "region",
        VariableKind::Enum(Cow::Owned(vec![text("eu"), text("us")])),
        VariableLocation::Query(text("region")),
    );
    let site = variable(
        "site",
        VariableKind::String,
        VariableLocation::Path(text("site")),
    );
    let account = variable(
        "account",
        VariableKind::Secret,
        VariableLocation::Body(text("/context/account")),
    );
    let mut connector = support::connector(vec![create], Vec::new());
    connector.name = text("acme");
    connector.servers = Cow::Owned(vec![ServerDescriptor {
        url: text("https://{host}.acme.example.com/api"),
        description: None,
        variables: Cow::Owned(vec![ServerVariableDescriptor {
            name: text("host"),
            default: text("eu"),
            allowed: Cow::Owned(Vec::new()),
            description: None,
        }]),
    }]);
    VersionDescriptor {
        id: text(id),
        state,
        ping: None,
        variables: Cow::Owned(vec![tenant, region, site, account]),
        connector: Cow::Owned(connector),
    }
}

fn acme() -> VersionedConnector {
    VersionedConnector {
        name: text("acme"),
        versions: Cow::Owned(vec![
            version("v1", VersionState::Deprecated),
            version("v2", VersionState::Active),
        ]),
    }
}

#[tokio::test]
async fn variables_land_in_header_query_path_and_body() {
    let server = support::server().await;
    let acme = acme();
    let v2 = acme.select(None).unwrap();
    assert_eq!(v2.id, "v2", "the newest active version is the default");
    let connection = Connection::version_builder(v2)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .variable("tenant", "shop-7")
        .variable("region", "eu")
        .variable("site", "main")
        .secret_variable("account", "acc_CANARY_1")
        .build()
        .unwrap();
    let mut args = Args::new();
    // The caller's site is replaced: the connection decides which backend it reaches.
    args.path("site", "other").unwrap();
    args.json_body(&json!({"item": "book"})).unwrap();
    let op = v2.connector.operation("createOrder").unwrap();
    connection.execute(op, args).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let request = &requests[0];
    assert_eq!(request.url.path(), "/sites/main/orders");
    assert_eq!(request.url.query(), Some("region=eu"));
    assert_eq!(request.headers.get("x-tenant").unwrap(), "shop-7");
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(
        body,
        json!({"item": "book", "context": {"account": "acc_CANARY_1"}})
    );
    assert!(!format!("{connection:?}").contains("CANARY"));
}

#[test]
fn builder_reports_every_bad_value_at_once() {
    let acme = acme();
    let err = Connection::version_builder(acme.version("v2").unwrap())
        .base_url("https://api.example.com")
        .variable("tenant", "Bad Tenant!")
        .variable("region", "mars")
        .variable("regoin", "eu")
        .secret_variable("account", "acc_CANARY_2")
        .build()
        .unwrap_err();
    let text = err.to_string();
    for expected in [
        "`variables.tenant`: does not match the pattern",
        "`variables.region`: must be one of: eu, us",
        "`variables.site`: missing",
        "`variables.regoin`: unknown variable; did you mean `region`?",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    assert!(!text.contains("mars") && !text.contains("Bad Tenant") && !text.contains("CANARY"));
}

fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const GOOD: &str = r#"
connector = "acme"
version = "VERSION"
base_url = "URL"
allow_http_loopback = true
[variables]
tenant = "shop-7"
region = "us"
site = "main"
account = { env = "ACME_TEST_ACCOUNT" }
"#;

#[tokio::test]
async fn a_file_pins_a_version_and_a_deprecated_one_warns() {
    std::env::set_var("ACME_TEST_ACCOUNT", "acc_CANARY_3");
    let dir = tempfile::tempdir().unwrap();
    let server = support::server().await;
    let acme = acme();
    for (id, deprecated) in [("v1", true), ("v2", false)] {
        let text = GOOD.replace("VERSION", id).replace("URL", &server.uri());
        let path = file(&dir, &format!("{id}.toml"), &text);
        let config = ConnectionConfig::from_file_in(&acme, &path).unwrap();
        assert_eq!(config.version(), Some(id));
        let warned = config.warnings().iter().any(|w| w.contains("deprecated"));
        assert_eq!(warned, deprecated, "{:?}", config.warnings());
        assert!(!format!("{config:?}").contains("CANARY"));
        assert!(!serde_json::to_string(&config).unwrap().contains("CANARY"));
        let connection = config.connect_in(&acme).unwrap();
        let mut args = Args::new();
        args.json_body(&json!({})).unwrap();
        let op = connection
            .connector()
            .operation("createOrder")
            .unwrap()
            .clone();
        connection.execute(&op, args).await.unwrap();
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.url.query() == Some("region=us")));
}

#[test]
fn a_file_pinning_an_unknown_or_no_version_lists_the_versions() {
    let dir = tempfile::tempdir().unwrap();
    let acme = acme();
    let unknown = file(&dir, "a.toml", "connector = \"acme\"\nversion = \"v3\"\n");
    let err = ConnectionConfig::from_file_in(&acme, &unknown).unwrap_err();
    assert!(
        err.to_string().contains("v1 (deprecated), v2 (active)"),
        "{err}"
    );
    let missing = file(&dir, "b.toml", "connector = \"acme\"\n");
    let err = ConnectionConfig::from_file_in(&acme, &missing).unwrap_err();
    assert!(err.to_string().contains("v1, v2"), "{err}");
}

#[test]
fn a_file_reports_every_bad_variable_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        &dir,
        "bad.toml",
        r#"
connector = "acme"
version = "v2"
[variables]
tenant = 42
region = "mars"
tennant = "x"
host = "eu.evil.com/x"
"#,
    );
    let Err(Error::ConnectionFile { problems, .. }) =
        ConnectionConfig::from_file_in(&acme(), &path)
    else {
        panic!("accepted");
    };
    let text = problems.join("\n");
    for expected in [
        "`variables.tenant`: expected text, found a number",
        "`variables.region`: must be one of: eu, us",
        "`variables.tennant`: unknown variable; did you mean `tenant`?",
        "`variables.site`: missing",
        "`variables.account`: missing",
        "`variables.host`: a host part must be",
    ] {
        assert!(text.contains(expected), "{expected} not in:\n{text}");
    }
    assert_eq!(problems.len(), 6, "{text}");
}

#[test]
fn a_host_variable_cannot_move_the_request_elsewhere() {
    let acme = acme();
    let v2 = acme.version("v2").unwrap();
    let connect = |host: &str| {
        Connection::version_builder(v2)
            .variable("host", host)
            .variable("tenant", "t")
            .variable("region", "eu")
            .variable("site", "s")
            .secret_variable("account", "a")
            .build()
    };
    for bad in [
        "eu.evil.com/x",
        "a@b",
        "a:1",
        "..",
        "evil.com#",
        "a.b",
        "%2e",
    ] {
        assert!(connect(bad).is_err(), "{bad:?} accepted");
    }
    let connection = connect("us-2").unwrap();
    assert_eq!(connection.base_url(), "https://us-2.acme.example.com/api");
}

#[test]
fn a_single_spec_is_a_connector_with_one_version() {
    let connector = support::connector(Vec::new(), Vec::new());
    let single = VersionedConnector::single(&connector);
    assert_eq!(single.select(None).unwrap().id, "1.0.0");
    let dir = tempfile::tempdir().unwrap();
    // Files written before versions existed keep working, with or without `version`.
    for (name, text) in [
        (
            "old.toml",
            "connector = \"test\"\nbase_url = \"https://a.example.com\"\n",
        ),
        (
            "pinned.toml",
            "connector = \"test\"\nversion = \"1.0.0\"\nbase_url = \"https://a.example.com\"\n",
        ),
    ] {
        let path = file(&dir, name, text);
        ConnectionConfig::from_file_in(&single, &path)
            .unwrap()
            .connect_in(&single)
            .unwrap();
        ConnectionConfig::from_file(&connector, &path).unwrap();
    }
}

#[test]
fn a_file_chooses_a_server_by_index_or_url() {
    let mut connector = support::connector(Vec::new(), Vec::new());
    connector.servers = Cow::Owned(
        ["https://eu.example.com/api", "https://us.example.com/api"]
            .iter()
            .map(|url| ServerDescriptor {
                url: text(url),
                description: None,
                variables: Cow::Owned(Vec::new()),
            })
            .collect(),
    );
    let connect = |server: &str| {
        ConnectionConfig::from_text(
            &connector,
            &format!("connector = \"test\"\nserver = {server}\n"),
            "toml",
            "c",
            None,
        )
        .and_then(|c| c.connect(&connector))
    };
    assert_eq!(
        connect("1").unwrap().base_url(),
        "https://us.example.com/api"
    );
    assert_eq!(
        connect("\"https://us.example.com/api\"")
            .unwrap()
            .base_url(),
        "https://us.example.com/api"
    );
    let err = connect("\"https://evil.example.com\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no server with that URL"), "{err}");
}
