//! Path- and operation-level servers (`specs/servers.yaml`): each action goes to its own server
//! through the typed client, the dynamic interface and `connector-gen run`, with the server
//! variables of the connection substituted; the operation's server wins over its path's, which
//! wins over the connector's; a connection's base URL wins over all of them.

use std::borrow::Cow;

use crate::support::cli::{connector_gen, run};
use connector_runtime::versions::{VariableDescriptor, VariableKind, VariableLocation};
use connector_runtime::versions::{VersionDescriptor, VersionState};
use connector_runtime::{Connection, ConnectionBuilder, ConnectionConfig, Credential, Error};
use connector_tests::servers::{self, types};
use serde_json::{json, Value};
use wiremock::matchers::{any, method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The API (every server but uploads, told apart by path) and the upload service.
struct Servers {
    api: MockServer,
    uploads: MockServer,
}

impl Servers {
    async fn start() -> Self {
        let servers = Self {
            api: MockServer::start().await,
            uploads: MockServer::start().await,
        };
        for server in [&servers.api, &servers.uploads] {
            answer(server).await;
        }
        servers
    }

    fn port(server: &MockServer) -> String {
        server.address().port().to_string()
    }

    /// A connection at the spec's servers, on these ports, with the premium reports edition.
    fn builder(&self) -> ConnectionBuilder {
        Connection::builder(&servers::CONNECTOR)
            .variable("port", Self::port(&self.api))
            .variable("uploadPort", Self::port(&self.uploads))
            .variable("edition", "premium")
    }

    /// Each request either server received since the last call, as `api /path` or
    /// `uploads /path`, sorted, then forgets them.
    async fn received(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for (name, server) in [("api", &self.api), ("uploads", &self.uploads)] {
            for request in server.received_requests().await.unwrap_or_default() {
                seen.push(format!("{name} {}", request.url.path()));
            }
            server.reset().await;
            answer(server).await;
        }
        seen.sort();
        seen
    }

    /// Checks that the calls since the last check went exactly to `expected`.
    async fn assert_went(&self, expected: &[&str]) {
        let mut expected = expected.to_vec();
        expected.sort_unstable();
        assert_eq!(self.received().await, expected);
    }
}

/// A listing answers a list of reports; everything else a report or a status.
async fn answer(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path_regex("/reports$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 7}])))
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 7, "status": "ok"})))
        .mount(server)
        .await;
}

/// Where each action of the scenario goes when the connection uses the first server.
const EXPECTED: [&str; 5] = [
    "api /main/status",
    "api /reports/premium/reports",
    "api /archive-v2/archive/7",
    "api /mirror/mirror",
    "uploads /upload/reports",
];

async fn typed_calls(connection: Connection) -> Result<(), Error> {
    let client = servers::Client::new(connection);
    client.get_status().await?;
    client
        .list_reports(&types::ListReportsOptions::default())
        .await?;
    let report = types::Report {
        id: 7,
        title: Some("Q1".into()),
    };
    client.upload_report(&report).await?;
    client.get_archived_report(7).await?;
    client.get_mirror().await?;
    Ok(())
}

async fn dynamic_calls(connection: Connection) -> Result<(), Error> {
    for (action, input) in [
        ("getStatus", json!({})),
        ("listReports", json!({"year": 2024})),
        ("uploadReport", json!({"body": {"id": 7, "title": "Q1"}})),
        ("getArchivedReport", json!({"id": 7})),
        ("getMirror", json!({})),
    ] {
        connection.execute_json(action, input).await?;
    }
    Ok(())
}

#[tokio::test]
async fn each_action_goes_to_its_own_server_typed_and_dynamic() {
    let servers = Servers::start().await;
    typed_calls(servers.builder().build().unwrap())
        .await
        .unwrap();
    servers.assert_went(&EXPECTED).await;
    dynamic_calls(servers.builder().build().unwrap())
        .await
        .unwrap();
    servers.assert_went(&EXPECTED).await;

    // The same from a connection file: the operation-level variables are known variables.
    let file = format!(
        "connector = \"servers\"\n[variables]\nport = \"{}\"\nuploadPort = \"{}\"\nedition = \"premium\"\n",
        Servers::port(&servers.api),
        Servers::port(&servers.uploads)
    );
    let config =
        ConnectionConfig::from_text(&servers::CONNECTOR, &file, "toml", "file", None).unwrap();
    dynamic_calls(config.connect(&servers::CONNECTOR).unwrap())
        .await
        .unwrap();
    servers.assert_went(&EXPECTED).await;
}

#[tokio::test]
async fn defaults_of_operation_variables_apply() {
    let servers = Servers::start().await;
    // No `edition`: the path's server takes its default.
    let connection = Connection::builder(&servers::CONNECTOR)
        .variable("port", Servers::port(&servers.api))
        .build()
        .unwrap();
    let client = servers::Client::new(connection);
    client
        .list_reports(&types::ListReportsOptions::default())
        .await
        .unwrap();
    servers
        .assert_went(&["api /reports/standard/reports"])
        .await;
}

#[tokio::test]
async fn the_chosen_connector_server_is_used_by_operations_that_list_it() {
    let servers = Servers::start().await;
    let sandbox = [
        "api /sandbox/status",
        "api /reports/premium/reports",
        "api /archive-v2/archive/7",
        "api /sandbox/mirror",
        "uploads /upload/reports",
    ];
    dynamic_calls(servers.builder().server(1).build().unwrap())
        .await
        .unwrap();
    servers.assert_went(&sandbox).await;

    // Chosen by its URL in a connection file.
    let file = format!(
        "connector = \"servers\"\nserver = \"http://127.0.0.1:{{port}}/sandbox\"\n[variables]\nport = \"{}\"\nuploadPort = \"{}\"\nedition = \"premium\"\n",
        Servers::port(&servers.api),
        Servers::port(&servers.uploads)
    );
    let config =
        ConnectionConfig::from_text(&servers::CONNECTOR, &file, "toml", "file", None).unwrap();
    typed_calls(config.connect(&servers::CONNECTOR).unwrap())
        .await
        .unwrap();
    servers.assert_went(&sandbox).await;
}

#[tokio::test]
async fn a_base_url_override_wins_over_every_server() {
    let servers = Servers::start().await;
    let facade = format!("{}/facade", servers.api.uri());
    let facaded = [
        "api /facade/status",
        "api /facade/reports",
        "api /facade/archive/7",
        "api /facade/mirror",
        "api /facade/reports",
    ];
    let connection = servers.builder().base_url(&facade).build().unwrap();
    let op = &servers::operations::OPERATIONS[servers::operations::UPLOAD_REPORT];
    assert_eq!(connection.base_url_for(op).unwrap(), facade);
    dynamic_calls(connection).await.unwrap();
    servers.assert_went(&facaded).await;

    // A connection moved to another base URL sends everything there too.
    let moved = servers
        .builder()
        .build()
        .unwrap()
        .with_base_url(&facade)
        .unwrap();
    typed_calls(moved).await.unwrap();
    servers.assert_went(&facaded).await;
}

#[test]
fn operation_variables_are_checked_before_any_request() {
    // A misspelt operation-level variable is unknown, with a hint.
    let err = Connection::builder(&servers::CONNECTOR)
        .variable("uploadPrt", "1")
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`variables.uploadPrt`: unknown variable"),
        "{err}"
    );
    assert!(err.contains("did you mean `uploadPort`"), "{err}");
    // An operation-level enum and host are enforced.
    let err = Connection::builder(&servers::CONNECTOR)
        .server_variable("edition", "gold")
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidServerVariable { name, .. } if name == "edition"),
        "{err:?}"
    );
    assert!(err.to_string().contains("standard, premium"), "{err}");
    for bad in ["evil.com/x", "a@b", "a:1", ".."] {
        let err = Connection::builder(&servers::CONNECTOR)
            .variable("uploadHost", bad)
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidServerVariable { name, .. } if name == "uploadHost"),
            "{bad}: {err:?}"
        );
    }
    // A connection file reports them by key, all at once.
    let file = "connector = \"servers\"\n[variables]\nedition = \"gold\"\nuploadHost = \"a@b\"\nuploadPrt = \"1\"\n";
    let problems = ConnectionConfig::from_text(&servers::CONNECTOR, file, "toml", "file", None)
        .unwrap_err()
        .to_string();
    for key in [
        "`variables.edition`",
        "`variables.uploadHost`",
        "`variables.uploadPrt`",
    ] {
        assert!(problems.contains(key), "{key}: {problems}");
    }

    // A version that requires an operation-level variable without a default names it.
    let version = VersionDescriptor {
        id: "v1".into(),
        state: VersionState::Active,
        ping: None,
        variables: Cow::Owned(vec![VariableDescriptor {
            name: "uploadHost".into(),
            description: Some("Host of the upload service".into()),
            kind: VariableKind::String,
            required: true,
            required_when: None,
            default: None,
            pattern: None,
            location: VariableLocation::Server,
        }]),
        connector: Cow::Borrowed(&servers::CONNECTOR),
    };
    let err = Connection::version_builder(&version)
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("`variables.uploadHost`: missing"), "{err}");
}

#[tokio::test]
async fn credentials_never_go_to_an_operation_server_over_plain_http() {
    let servers = Servers::start().await;
    let secured = |host: &str| {
        servers
            .builder()
            .variable("uploadHost", host)
            .credential("key", Credential::api_key("k-1"))
            .allow_http_loopback(true)
    };
    // Loopback, allowed for tests: the key reaches the upload service.
    let connection = secured("localhost").build().unwrap();
    let op = &servers::operations::OPERATIONS[servers::operations::UPLOAD_REPORT];
    assert_eq!(
        connection.base_url_for(op).unwrap(),
        format!(
            "http://localhost:{}/upload",
            Servers::port(&servers.uploads)
        )
    );
    // Another host over plain http is refused when the connection is built, naming the action.
    let err = secured("uploads").build().unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, Error::Config { key, .. } if key == "server"),
        "{err:?}"
    );
    assert!(
        text.contains("uploadReport") && text.contains("plain http"),
        "{text}"
    );
    // Without credentials nothing secret travels, so plain http is fine.
    servers
        .builder()
        .variable("uploadHost", "uploads")
        .build()
        .unwrap();
}

#[test]
fn the_catalogue_shows_each_actions_servers_and_variables() {
    let connection = Connection::builder(&servers::CONNECTOR).build().unwrap();
    let catalogue = connection.catalogue().unwrap().unwrap();
    let servers_of = |id: &str| {
        let action = catalogue.actions.iter().find(|a| a.id == id).unwrap();
        action.servers.clone()
    };
    assert_eq!(
        servers_of("uploadReport"),
        ["http://{uploadHost}:{uploadPort}/upload"]
    );
    assert_eq!(servers_of("getArchivedReport"), ["/archive-v2"]);
    assert!(servers_of("getStatus").is_empty());
    let versions = connector_runtime::versions::VersionedConnector::single(&servers::CONNECTOR);
    let variables: Vec<Value> = versions.catalogue()["versions"][0]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].clone())
        .collect();
    assert_eq!(
        variables,
        [
            json!("port"),
            json!("edition"),
            json!("uploadHost"),
            json!("uploadPort")
        ]
    );
}

/// `connector-gen run` interprets the spec with the same descriptors: the same servers.
#[tokio::test]
async fn connector_gen_run_sends_each_action_to_its_server() {
    let servers = Servers::start().await;
    let api = format!("port={}", Servers::port(&servers.api));
    let uploads = format!("uploadPort={}", Servers::port(&servers.uploads));
    let bin = connector_gen();
    let mut expected = Vec::new();
    for (action, input, path) in [
        ("listReports", "{}", "api /reports/premium/reports"),
        (
            "uploadReport",
            r#"{"body": {"id": 7}}"#,
            "uploads /upload/reports",
        ),
        (
            "getArchivedReport",
            r#"{"id": 7}"#,
            "api /archive-v2/archive/7",
        ),
    ] {
        let args = [
            "run",
            "specs/servers.yaml",
            action,
            "--input",
            input,
            "--var",
            &api,
            "--var",
            &uploads,
            "--var",
            "edition=premium",
        ];
        let ran = run(&bin, &args, None);
        assert_eq!(ran.code, 0, "{action}: {ran:?}");
        expected.push(path);
    }
    servers.assert_went(&expected).await;

    // A bad operation-level value is refused before any request.
    let args = [
        "run",
        "specs/servers.yaml",
        "listReports",
        "--var",
        &api,
        "--var",
        "edition=gold",
    ];
    let ran = run(&bin, &args, None);
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("edition"), "{ran:?}");
    assert!(servers.received().await.is_empty());
}
