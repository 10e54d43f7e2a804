//! The two-version Acme connector (`specs/acme`): the same scenario on both versions through the
//! typed client, the dynamic interface and `connector-gen run`, with the exact URL, headers and
//! body at the server; variables validated together; `diff` against the expected list; the lock
//! file refusing a changed spec.

use crate::support;
use std::path::{Path, PathBuf};

use crate::support::cli::{connector_gen, generated_acme_binary, run};
use crate::support::prism::repo_root;
use connector_runtime::versions::VersionState;
use connector_runtime::{Connection, ConnectionConfig, Credential, Error};
use connector_tests::acme;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const MANIFEST: &str = "specs/acme/connector.toml";

/// The Acme crate as `connector-gen generate` writes it, built with its `cli` feature (and
/// `mcp` and `listen`, so that one build serves every test of its binary).
fn acme_binary() -> PathBuf {
    generated_acme_binary()
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1, "item": "book"})))
        .mount(&server)
        .await;
    server
}

/// What each version must send for "create an order for 2 books".
struct Expected {
    id: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    headers: &'static [(&'static str, &'static str)],
    body: Value,
}

fn expected(id: &str) -> Expected {
    match id {
        "v1" => Expected {
            id: "v1",
            path: "/api/v1/orders",
            query: None,
            headers: &[("x-workspace", "ws-1"), ("x-api-key", "key-1")],
            body: json!({"item": "book", "quantity": 2}),
        },
        _ => Expected {
            id: "v2",
            path: "/api/v2/orders",
            query: Some("route=direct"),
            headers: &[
                ("x-acme-workspace", "ws-1"),
                ("authorization", "Bearer tok-2"),
            ],
            body: json!({"item": "book", "quantity": 2, "currency": "EUR", "meta": {"account": "acc-9"}}),
        },
    }
}

fn input(id: &str) -> Value {
    match id {
        "v1" => json!({"item": "book", "quantity": 2}),
        _ => json!({"item": "book", "quantity": 2, "currency": "EUR"}),
    }
}

fn check(request: &Request, expected: &Expected) {
    assert_eq!(request.method.as_str(), "POST", "{}", expected.id);
    assert_eq!(request.url.path(), expected.path, "{}", expected.id);
    assert_eq!(request.url.query(), expected.query, "{}", expected.id);
    for (name, value) in expected.headers {
        assert_eq!(
            request
                .headers
                .get(*name)
                .map(|v| v.to_str().unwrap_or_default()),
            Some(*value),
            "{}: header {name}",
            expected.id
        );
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, expected.body, "{}", expected.id);
}

/// A connection to `id` through the builder, at the local server.
fn connect(id: &str, server: &MockServer) -> Connection {
    let version = acme::VERSIONS.version(id).unwrap();
    let builder = Connection::version_builder(version)
        .base_url(format!("{}/api/{id}", server.uri()))
        .allow_http_loopback(true)
        .variable("tenant", "shop-7")
        .variable("workspace", "ws-1");
    match id {
        "v1" => builder.credential("api_key", Credential::api_key("key-1")),
        _ => builder
            .credential("token", Credential::bearer("tok-2"))
            .secret_variable("account", "acc-9"),
    }
    .build()
    .unwrap()
}

/// The same connection as a file.
fn connection_file(id: &str, server: &MockServer, dir: &Path) -> PathBuf {
    let (credential, account) = match id {
        "v1" => ("api_key = { key = \"key-1\" }", ""),
        _ => ("token = { token = \"tok-2\" }", "account = \"acc-9\"\n"),
    };
    let text = format!(
        "connector = \"acme\"\nversion = \"{id}\"\nbase_url = \"{}/api/{id}\"\nallow_http_loopback = true\n[variables]\ntenant = \"shop-7\"\nworkspace = \"ws-1\"\n{account}[credentials]\n{credential}\n",
        server.uri()
    );
    let path = dir.join(format!("acme-{id}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn the_same_scenario_on_both_versions_through_every_interface() {
    let dir = tempfile::tempdir().unwrap();
    for id in ["v1", "v2"] {
        let server = server().await;
        let connection = connect(id, &server);
        // Typed.
        match id {
            "v1" => {
                let body = serde_json::from_value(input(id)).unwrap();
                acme::v1::Client::new(connection.clone())
                    .create_order(&body)
                    .await
                    .unwrap();
            }
            _ => {
                let body = serde_json::from_value(input(id)).unwrap();
                acme::v2::Client::new(connection.clone())
                    .create_order(&body)
                    .await
                    .unwrap();
            }
        }
        // Dynamic.
        connection
            .execute_json("createOrder", json!({ "body": input(id) }))
            .await
            .unwrap();
        // `connector-gen run` on the manifest, the version pinned by the connection file.
        let file = connection_file(id, &server, dir.path());
        let file = file.to_string_lossy().into_owned();
        let body = json!({ "body": input(id) }).to_string();
        let ran = run(
            &connector_gen(),
            &[
                "run",
                MANIFEST,
                "createOrder",
                "--connection",
                &file,
                "--input",
                &body,
            ],
            None,
        );
        assert_eq!(ran.code, 0, "{ran:?}");
        // The generated crate's own binary, the version chosen on the command line.
        let ran = run(
            &acme_binary(),
            &[
                "--version",
                id,
                "run",
                "createOrder",
                "--connection",
                &file,
                "--input",
                &body,
            ],
            None,
        );
        assert_eq!(ran.code, 0, "{ran:?}");
        if id == "v2" {
            let clash = run(
                &acme_binary(),
                &[
                    "--version",
                    "v1",
                    "run",
                    "createOrder",
                    "--connection",
                    &file,
                    "--input",
                    &body,
                ],
                None,
            );
            assert_eq!(clash.code, 2, "{clash:?}");
            assert!(
                clash.stderr.contains("pins version `v2`"),
                "{}",
                clash.stderr
            );
        }
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 4, "{id}");
        for request in &requests {
            check(request, &expected(id));
        }
        // The host variable lands in the host when no base URL overrides the server.
        let version = acme::VERSIONS.version(id).unwrap();
        let direct = ConnectionConfig::from_text(
            &version.connector,
            "connector = \"acme\"\n[variables]\ntenant = \"shop-7\"\n",
            "toml",
            "direct",
            None,
        );
        assert!(direct.is_ok(), "{direct:?}");
        let direct = Connection::version_builder(version)
            .variable("tenant", "shop-7")
            .variable("workspace", "ws-1")
            .secret_variable("account", "acc-9")
            .build();
        let direct = match (id, direct) {
            // v1 declares no `account`.
            ("v1", Err(err)) => {
                assert!(err
                    .to_string()
                    .contains("`variables.account`: unknown variable"));
                Connection::version_builder(version)
                    .variable("tenant", "shop-7")
                    .variable("workspace", "ws-1")
                    .build()
                    .unwrap()
            }
            (_, direct) => direct.unwrap(),
        };
        assert_eq!(
            direct.base_url(),
            format!("https://shop-7.acme.example.com/api/{id}")
        );
    }
}

#[test]
fn the_catalogue_lists_versions_and_the_default_is_the_newest_active() {
    let versions = &acme::VERSIONS.versions;
    let ids: Vec<(&str, VersionState)> =
        versions.iter().map(|v| (v.id.as_ref(), v.state)).collect();
    assert_eq!(
        ids,
        [
            ("v1", VersionState::Deprecated),
            ("v2", VersionState::Active)
        ]
    );
    assert_eq!(acme::VERSIONS.select(None).unwrap().id, "v2");
    assert!(versions
        .iter()
        .all(|v| v.ping.as_deref() == Some("getStatus")));
    // The statics the build printed equal what the generator maps at run time.
    let loaded = connector_gen::versions::load_manifest(
        &repo_root().join(MANIFEST),
        &connector_gen::Options::default(),
    )
    .unwrap();
    let runtime = connector_gen::versions::versioned_descriptor(&loaded);
    for (printed, mapped) in versions.iter().zip(runtime.versions.iter()) {
        assert_eq!(printed.variables, mapped.variables);
        assert_eq!(printed.connector.operations, mapped.connector.operations);
    }
    // v2 offers only the `token` scheme; v1 its api key.
    assert_eq!(versions[1].connector.security_schemes.len(), 1);
    assert_eq!(versions[1].connector.security_schemes[0].name, "token");
    assert!(versions[1].connector.operation("deleteOrder").is_none());
}

#[test]
fn every_bad_value_is_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "connector = \"acme\"\nversion = \"v2\"\n[variables]\ntenant = \"Shop_7\"\naccount = 42\nroute = \"tunnel\"\ntenent = \"x\"\n",
    )
    .unwrap();
    let Err(Error::ConnectionFile { problems, .. }) =
        ConnectionConfig::from_file_in(&acme::VERSIONS, &path)
    else {
        panic!("accepted");
    };
    let text = problems.join("\n");
    for expected in [
        "`variables.tenant`: a host part must be",
        "`variables.account`: expected a secret",
        "`variables.route`: must be one of: direct, facade",
        "`variables.tenent`: unknown variable; did you mean `tenant`?",
        "`variables.workspace`: missing",
    ] {
        assert!(text.contains(expected), "{expected} not in:\n{text}");
    }
    assert!(
        !text.contains("Shop_7") && !text.contains("tunnel"),
        "{text}"
    );
}

#[test]
fn host_variables_cannot_reach_another_host() {
    let v2 = acme::VERSIONS.version("v2").unwrap();
    for bad in ["eu.evil.com/x", "a@b", "a:1", "..", "a.b"] {
        let built = Connection::version_builder(v2)
            .variable("tenant", bad)
            .variable("workspace", "w")
            .secret_variable("account", "a")
            .build();
        assert!(built.is_err(), "{bad:?} accepted");
    }
}

#[test]
fn a_deprecated_version_warns_and_an_unknown_one_lists_the_versions() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.toml");
    std::fs::write(
        &old,
        "connector = \"acme\"\nversion = \"v1\"\n[variables]\ntenant = \"t\"\nworkspace = \"w\"\n",
    )
    .unwrap();
    let config = ConnectionConfig::from_file_in(&acme::VERSIONS, &old).unwrap();
    assert!(config
        .warnings()
        .iter()
        .any(|w| w.contains("`v1`") && w.contains("deprecated")));
    std::fs::write(&old, "connector = \"acme\"\nversion = \"v9\"\n").unwrap();
    let err = ConnectionConfig::from_file_in(&acme::VERSIONS, &old).unwrap_err();
    assert!(
        err.to_string().contains("v1 (deprecated), v2 (active)"),
        "{err}"
    );
}

#[test]
fn diff_finds_exactly_the_breaking_changes_of_the_sample() {
    let old = format!("{MANIFEST}:v1");
    let new = format!("{MANIFEST}:v2");
    let ran = run(&connector_gen(), &["diff", &old, &new, "--json"], None);
    assert_eq!(ran.code, 1, "{ran:?}");
    let json = ran.json();
    let mut found: Vec<(bool, String, String)> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["breaking"].as_bool().unwrap(),
                c["kind"].as_str().unwrap().to_owned(),
                c["at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let mut expected: Vec<(bool, String, String)> = [
        (true, "action-removed", "deleteOrder"),
        (true, "auth-removed", "api_key"),
        (true, "enum-narrowed", "listOrders.status"),
        (true, "field-removed", "createOrder.body.note"),
        (true, "field-required", "createOrder.body.currency"),
        (true, "parameter-required", "listOrders.channel"),
        (true, "parameter-retyped", "getOrder.orderId"),
        (true, "server-changed", "servers[0]"),
        (false, "action-added", "cancelOrder"),
        (false, "action-moved", "getStatus"),
        (false, "auth-added", "token"),
        (false, "field-added", "createOrder.response.currency"),
        (false, "field-added", "getOrder.response.currency"),
        (false, "field-added", "listOrders.response[].currency"),
    ]
    .iter()
    .map(|(b, k, a)| (*b, (*k).to_owned(), (*a).to_owned()))
    .collect();
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(json["breaking"], 8);
    // Human output, and nothing breaking from a version to itself.
    let same = run(&connector_gen(), &["diff", &new, &new], None);
    assert_eq!(same.code, 0, "{same:?}");
    assert_eq!(same.stdout, "0 change(s), 0 breaking\n");
    // Two plain specs work the same way; a side that cannot be read exits 2.
    let specs = run(
        &connector_gen(),
        &[
            "diff",
            "specs/acme/acme-v1.yaml",
            "specs/acme/acme-v2.yaml",
            "--json",
        ],
        None,
    );
    assert_eq!(specs.code, 1, "{specs:?}");
    assert_eq!(specs.json()["breaking"], 8);
    let missing = run(
        &connector_gen(),
        &["diff", "specs/acme/none.yaml", &new],
        None,
    );
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("none.yaml"), "{}", missing.stderr);
    let human = run(&connector_gen(), &["diff", &old, &new], None);
    assert!(
        human
            .stdout
            .contains("BREAKING  action `deleteOrder` was removed"),
        "{human:?}"
    );
}

#[test]
fn the_lock_file_refuses_a_changed_spec() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("acme");
    std::fs::create_dir(&specs).unwrap();
    for file in ["connector.toml", "acme-v1.yaml", "acme-v2.yaml"] {
        std::fs::copy(repo_root().join("specs/acme").join(file), specs.join(file)).unwrap();
    }
    let manifest = specs.join("connector.toml").to_string_lossy().into_owned();
    let out = dir.path().join("out").to_string_lossy().into_owned();
    let generate = |extra: &[&str]| {
        let mut args = vec!["generate", manifest.as_str(), "--out", out.as_str()];
        args.extend(extra);
        run(&connector_gen(), &args, None)
    };
    let first = generate(&[]);
    assert_eq!(first.code, 0, "{first:?}");
    let lock = specs.join("connector.lock");
    let locked = std::fs::read_to_string(&lock).unwrap();
    assert!(
        locked.contains("v1 = \"sha256:") && locked.contains("v2 = \"sha256:"),
        "{locked}"
    );
    // Unchanged specs: nothing is written.
    let again = generate(&[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again.stdout.contains(" 0 files written"),
        "{}",
        again.stdout
    );
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), locked);
    // A published version's spec changed: refused, nothing written.
    let v1 = specs.join("acme-v1.yaml");
    let text = std::fs::read_to_string(&v1).unwrap();
    std::fs::write(&v1, text.replace("version: 1.4.0", "version: 1.4.1")).unwrap();
    let refused = generate(&[]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused.stderr.contains("published version(s) `v1`")
            && refused.stderr.contains("--allow-changed-spec"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), locked);
    let allowed = generate(&["--allow-changed-spec"]);
    assert_eq!(allowed.code, 0, "{allowed:?}");
    assert_ne!(std::fs::read_to_string(&lock).unwrap(), locked);
}

#[test]
fn describe_takes_a_version() {
    let v1 = run(
        &connector_gen(),
        &["describe", MANIFEST, "--version", "v1", "--json"],
        None,
    );
    assert_eq!(v1.code, 0, "{v1:?}");
    let ids = |ran: &support::cli::Ran| -> Vec<String> {
        ran.json()["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(ids(&v1).contains(&"deleteOrder".to_owned()));
    let newest = run(&connector_gen(), &["describe", MANIFEST, "--json"], None);
    assert!(ids(&newest).contains(&"cancelOrder".to_owned()));
    let unknown = run(
        &connector_gen(),
        &["describe", MANIFEST, "--version", "v7"],
        None,
    );
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(unknown.stderr.contains("v1, v2"), "{}", unknown.stderr);
}

#[test]
fn the_binary_lists_every_version_with_state_actions_and_variables() {
    let ran = run(&acme_binary(), &["versions"], None);
    assert_eq!(ran.code, 0, "{ran:?}");
    let json = ran.json();
    assert_eq!(json, acme::VERSIONS.catalogue());
    assert_eq!(json["default_version"], "v2");
    let v1 = &json["versions"][0];
    assert_eq!(v1["state"], "deprecated");
    assert_eq!(v1["ping"], "getStatus");
    assert!(v1["actions"]
        .as_array()
        .unwrap()
        .contains(&json!("deleteOrder")));
    let v2 = &json["versions"][1];
    let names: Vec<&str> = v2["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["account", "route", "tenant", "workspace"]);
    assert_eq!(v2["variables"][0]["type"], "secret");
    assert_eq!(
        v2["variables"][0]["location"],
        json!({"body": "/meta/account"})
    );
}

/// The entity commands and `ping` connect as `run` does: to the version the connection file
/// pins, with that version's backend variables (a header the plain connector does not know).
#[tokio::test]
async fn entity_commands_and_ping_use_the_pinned_version_and_its_variables() {
    let dir = tempfile::tempdir().unwrap();
    for id in ["v1", "v2"] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": 1, "item": "book", "quantity": 2})),
            )
            .mount(&server)
            .await;
        let file = connection_file(id, &server, dir.path());
        let file = file.to_string_lossy().into_owned();
        let get = ["get", MANIFEST, "orders", "1", "--connection", &file];
        let ping = ["ping", MANIFEST, "--connection", &file];
        for (program, args) in [
            (connector_gen(), &get[..]),
            (connector_gen(), &ping[..]),
            (
                acme_binary(),
                &["get", "orders", "1", "--connection", &file][..],
            ),
            (acme_binary(), &["ping", "--connection", &file][..]),
        ] {
            let ran = run(&program, args, None);
            assert_eq!(ran.code, 0, "{id} {args:?}: {ran:?}");
        }
        let requests = server.received_requests().await.unwrap();
        let paths: Vec<&str> = requests.iter().map(|r| r.url.path()).collect();
        let order = format!("/api/{id}/orders/1");
        // v2 moved its status action to `/health`.
        let status = format!("/api/{id}/{}", if id == "v1" { "status" } else { "health" });
        assert_eq!(paths, [&order, &status, &order, &status], "{id}");
        let workspace = match id {
            "v1" => "x-workspace",
            _ => "x-acme-workspace",
        };
        for request in &requests {
            assert_eq!(
                request.headers.get(workspace).map(|v| v.as_bytes()),
                Some(&b"ws-1"[..]),
                "{id} {}",
                request.url
            );
        }
    }
}

#[test]
fn connector_gen_lists_and_inspects_every_version_of_a_manifest() {
    let listed = run(&connector_gen(), &["versions", MANIFEST], None);
    assert_eq!(listed.code, 0, "{listed:?}");
    // The same connector-level catalogue as the generated crate's, entities included.
    assert_eq!(listed.json(), acme::VERSIONS.catalogue());
    assert_eq!(listed.json()["versions"][1]["entities"], json!(["orders"]));
    let single = run(&connector_gen(), &["versions", "specs/petstore.yaml"], None);
    assert_eq!(single.code, 0, "{single:?}");
    assert_eq!(single.json()["versions"][0]["id"], "1.2.0");

    let inspected = run(&connector_gen(), &["inspect", MANIFEST, "--json"], None);
    assert_eq!(inspected.code, 0, "{inspected:?}");
    let versions: Vec<(String, String, usize)> = inspected.json()["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_owned(),
                v["state"].as_str().unwrap().to_owned(),
                v["connector"]["operations"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            ("v1".to_owned(), "deprecated".to_owned(), 5),
            ("v2".to_owned(), "active".to_owned(), 5)
        ]
    );
    let one = run(
        &connector_gen(),
        &["inspect", MANIFEST, "--version", "v2"],
        None,
    );
    assert_eq!(one.code, 0, "{one:?}");
    assert!(
        one.stdout.starts_with("version v2 (active)"),
        "{}",
        one.stdout
    );
    assert!(one.stdout.contains("cancelOrder"), "{}", one.stdout);
    assert!(!one.stdout.contains("version v1"), "{}", one.stdout);
    // A single spec is one version: asking it for another is bad input naming its own.
    let wrong = run(
        &connector_gen(),
        &["describe", "specs/petstore.yaml", "--version", "v9"],
        None,
    );
    assert_eq!(wrong.code, 2, "{wrong:?}");
    assert!(wrong.stderr.contains("`1.2.0`"), "{}", wrong.stderr);
}
