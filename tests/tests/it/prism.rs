//! End to end against Stoplight Prism: every action of every spec in `specs/` is called through
//! the connector generated from it, with inputs built from the spec's examples and schemas.
//! Prism validates each request against the spec; a violation (status 422 under `--errors`, or
//! an `sl-violations` header) fails the test. One Prism process per spec, started once.
//!
//! Needs Prism: `scripts/install-prism.sh` (or `PRISM_BIN`). Without it each test prints
//! `SKIPPED: ...` and passes, unless `PRISM_REQUIRED=1`.

use crate::support::cli::{connection_file, connector_gen, generated_petstore_binary, run};
use crate::support::examples::{input_for, load_spec};
use crate::support::prism::{prism_bin, repo_root, Prism};
use connector_runtime::descriptor::{ConnectorDescriptor, SecuritySchemeKind};
use connector_runtime::{Args, Binary, Connection, Credential, Error, Multipart};
use connector_tests::{
    auth, awkward, bodies, crm, inventory, kennel, parameters, petstore, responses, schemas,
    servers, shop, shop_events, warehouse,
};
use serde_json::{json, Value};

/// A connection to Prism with a credential for every security scheme of the connector.
fn connection(connector: &ConnectorDescriptor, prism: &Prism) -> Connection {
    let mut builder = Connection::builder(connector)
        .base_url(&prism.base_url)
        .allow_http_loopback(true);
    for scheme in connector.security_schemes.iter() {
        let credential = match &scheme.kind {
            SecuritySchemeKind::HttpBasic => Credential::basic("ann", "secret"),
            SecuritySchemeKind::ApiKey { .. } => Credential::api_key("test-key"),
            // Another HTTP scheme takes the whole value after the scheme name.
            SecuritySchemeKind::HttpOther { .. } => Credential::raw("test-value"),
            // The connection's client certificate; Prism serves plain HTTP, so there is none.
            SecuritySchemeKind::MutualTls => continue,
            _ => Credential::bearer("test-token"),
        };
        builder = builder.credential(scheme.name.to_string(), credential);
    }
    builder.build().expect("connection to prism")
}

/// Fails with Prism's own account of the violation.
fn fail(prism: &Prism, action: &str, what: &str) -> ! {
    panic!("{action}: {what}\n--- prism log ---\n{}", prism.log())
}

/// Checks one typed or dynamic call's outcome.
fn check<T>(prism: &mut Prism, action: &str, result: Result<T, Error>) -> T {
    prism.assert_alive();
    match result {
        Ok(value) => value,
        Err(err) => fail(prism, action, &format!("{err} ({err:?})")),
    }
}

/// Calls every action of `connector` with inputs from `spec` and checks Prism accepted each.
async fn every_action(prism: &mut Prism, spec: &str, connector: &ConnectorDescriptor) -> usize {
    let document = load_spec(&repo_root().join(spec));
    let connection = connection(connector, prism);
    let mut called = 0;
    for op in connector.operations.iter() {
        let method = op.method.as_str().to_ascii_lowercase();
        let input = input_for(&document, &op.path, &method);
        let args = Args::from_json(op, input.clone())
            .unwrap_or_else(|e| fail(prism, &op.id, &format!("input {input}: {e}")));
        let response = check(prism, &op.id, connection.execute(op, args).await);
        let violations = request_violations(response.headers());
        if !violations.is_empty() {
            fail(
                prism,
                &op.id,
                &format!("input {input}: violations {violations:?}"),
            );
        }
        called += 1;
    }
    assert_eq!(called, connector.operations.len());
    run_every_action(prism, spec, connector, &document);
    called
}

/// `connector-gen run` of every action, as a process, against the same Prism: each exits 0
/// with the response as JSON on stdout; invalid input exits 2 without reaching Prism.
fn run_every_action(
    prism: &mut Prism,
    spec: &str,
    connector: &ConnectorDescriptor,
    document: &Value,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = connection_file(connector, dir.path());
    let file = file.to_string_lossy();
    for op in connector.operations.iter() {
        let method = op.method.as_str().to_ascii_lowercase();
        let input = input_for(document, &op.path, &method).to_string();
        let ran = run(
            &connector_gen(),
            &[
                "run",
                spec,
                &op.id,
                "--name",
                &connector.name,
                "--input",
                &input,
                "--connection",
                &file,
                "--base-url",
                &prism.base_url,
            ],
            None,
        );
        prism.assert_alive();
        if ran.code != 0 {
            fail(prism, &op.id, &format!("connector-gen run: {ran:?}"));
        }
        if let Err(err) = serde_json::from_str::<Value>(&ran.stdout) {
            fail(
                prism,
                &op.id,
                &format!("stdout is not JSON ({err}): {ran:?}"),
            );
        }
    }
}

/// The violations Prism reports in `sl-violations` about the request (those located in the
/// response are about Prism's own generated answer).
fn request_violations(headers: &reqwest::header::HeaderMap) -> Vec<Value> {
    let Some(header) = headers.get("sl-violations") else {
        return Vec::new();
    };
    let all: Vec<Value> = serde_json::from_slice(header.as_bytes())
        .unwrap_or_else(|_| vec![json!({"unparsed": String::from_utf8_lossy(header.as_bytes())})]);
    all.into_iter()
        .filter(|v| v["location"][0] != "response")
        .filter(|v| !prism_cannot_check(v))
        .collect()
}

/// Prism 5.16 cannot validate some security schemes (an `http` scheme other than basic, bearer
/// or digest) and says so as a warning about the request: that is Prism's gap, not a fault in the
/// request, whose credential the runtime tests check exactly.
fn prism_cannot_check(violation: &Value) -> bool {
    violation["severity"] == "Warning"
        && violation["message"].as_str().is_some_and(|m| {
            m.starts_with("We currently do not support this type of security scheme")
        })
}

macro_rules! prism_or_skip {
    ($spec:expr) => {
        match prism_bin() {
            Some(bin) => Prism::start(&bin, $spec),
            None => return,
        }
    };
}

#[tokio::test]
async fn petstore_every_action() {
    let mut prism = prism_or_skip!("specs/petstore.yaml");
    every_action(&mut prism, "specs/petstore.yaml", &petstore::CONNECTOR).await;

    // The generated crate's own binary, against the same Prism.
    let bin = generated_petstore_binary();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = connection_file(&petstore::CONNECTOR, dir.path());
    let file = file.to_string_lossy();
    let base = prism.base_url.clone();
    let common = ["--connection", &*file, "--base-url", &base];
    let list = run(
        &bin,
        &[&["run", "listPets"][..], &common[..]].concat(),
        None,
    );
    assert_eq!(list.code, 0, "{list:?}");
    assert!(list.json()["items"].is_array(), "{list:?}");
    let input = r#"{"body": {"name": "Rex", "status": "available"}}"#;
    let args = [&["run", "createPet", "--input", input][..], &common[..]].concat();
    let created = run(&bin, &args, None);
    assert_eq!(created.code, 0, "{created:?}");
    // Prism rejects what the spec forbids; the local check rejects it before Prism sees it.
    let args = [
        &["run", "createPet", "--input", r#"{"body": {}}"#][..],
        &common[..],
    ]
    .concat();
    let invalid = run(&bin, &args, None);
    assert_eq!(invalid.code, 2, "{invalid:?}");
    prism.assert_alive();
}

#[tokio::test]
async fn openapi31_every_action() {
    let mut prism = prism_or_skip!("specs/openapi31.yaml");
    every_action(&mut prism, "specs/openapi31.yaml", &inventory::CONNECTOR).await;
}

#[tokio::test]
async fn swagger2_every_action() {
    let mut prism = prism_or_skip!("specs/swagger2.yaml");
    every_action(&mut prism, "specs/swagger2.yaml", &warehouse::CONNECTOR).await;
}

#[tokio::test]
async fn awkward_every_action() {
    let mut prism = prism_or_skip!("specs/awkward.yaml");
    every_action(&mut prism, "specs/awkward.yaml", &awkward::CONNECTOR).await;
}

#[tokio::test]
async fn entities_every_action() {
    let mut prism = prism_or_skip!("specs/entities.yaml");
    every_action(&mut prism, "specs/entities.yaml", &kennel::CONNECTOR).await;
}

/// Prism serves every path wherever the spec's servers say it lives: a connection's base URL
/// wins over the path- and operation-level servers, as it does for a facade.
#[tokio::test]
async fn servers_every_action() {
    let mut prism = prism_or_skip!("specs/servers.yaml");
    every_action(&mut prism, "specs/servers.yaml", &servers::CONNECTOR).await;
}

/// The spec with events still has an action of its own (the subscription the callback belongs
/// to); its events are received, not called (tests/tests/it/webhooks.rs).
#[tokio::test]
async fn webhooks_every_action() {
    let mut prism = prism_or_skip!("specs/webhooks.yaml");
    every_action(&mut prism, "specs/webhooks.yaml", &shop_events::CONNECTOR).await;
}

/// The data-sync samples (their syncs run against loopback servers with state in
/// cli/tests/it/sync/).
#[tokio::test]
async fn shop_every_action() {
    let mut prism = prism_or_skip!("specs/shop.yaml");
    every_action(&mut prism, "specs/shop.yaml", &shop::CONNECTOR).await;
}

#[tokio::test]
async fn crm_every_action() {
    let mut prism = prism_or_skip!("specs/crm.yaml");
    every_action(&mut prism, "specs/crm.yaml", &crm::CONNECTOR).await;
}

#[tokio::test]
async fn auth_every_action() {
    let mut prism = prism_or_skip!("specs/auth.yaml");
    every_action(&mut prism, "specs/auth.yaml", &auth::CONNECTOR).await;
}

#[tokio::test]
async fn schemas_every_action() {
    let mut prism = prism_or_skip!("specs/schemas.yaml");
    every_action(&mut prism, "specs/schemas.yaml", &schemas::CONNECTOR).await;
}

#[tokio::test]
async fn parameters_every_action_and_typed_calls() {
    let mut prism = prism_or_skip!("specs/parameters.yaml");
    every_action(&mut prism, "specs/parameters.yaml", &parameters::CONNECTOR).await;

    // The typed client: required parameters are arguments, optional ones an options struct.
    use parameters::types::*;
    let client = parameters::Client::new(connection(&parameters::CONNECTOR, &prism));
    let color = Color { r: 1, g: 2, b: 3 };
    let one = OneColor { r: 9 };
    let size = Size {
        width: 1,
        height: 2,
    };
    let result = client
        .get_item(
            7,
            &GetItemOptions {
                verbose: Some(false),
            },
        )
        .await;
    check(&mut prism, "getItem", result);
    let result = client.path_simple("a b", &vec![1], &one).await;
    check(&mut prism, "pathSimple", result);
    let result = client.path_label("x", &vec![2], &vec![3, 4], &one).await;
    check(&mut prism, "pathLabel", result);
    let result = client.path_matrix(5, &vec![6], &vec![7, 8], &color).await;
    check(&mut prism, "pathMatrix", result);
    let options = QueryFormOptions { num: None };
    let strings = vec!["p q".to_owned(), "r&s".to_owned()];
    let result = client
        .query_form("?&=#+", &vec![4, 5], &strings, &color, &size, &options)
        .await;
    check(&mut prism, "queryForm", result);
    let result = client.query_delimited(&vec![1], &vec![2, 3]).await;
    check(&mut prism, "queryDelimited", result);
    let result = client.query_deep_object(&color).await;
    check(&mut prism, "queryDeepObject", result);
    let result = client.query_allow_reserved("/x/y:v1").await;
    check(&mut prism, "queryAllowReserved", result);
    let result = client.query_content(&size).await;
    check(&mut prism, "queryContent", result);
    let options = HeaderSimpleOptions {
        x_json: Some(size.clone()),
    };
    let result = client
        .header_simple("v", &vec![1], &color, &color, &options)
        .await;
    check(&mut prism, "headerSimple", result);
    let options = CookieFormOptions {
        ids: Some(vec![1, 2, 3]),
        pref: Some(size.clone()),
    };
    let result = client.cookie_form("s=1; t", &options).await;
    check(&mut prism, "cookieForm", result);
    // Prism rejects what the spec forbids: the harness would notice a lenient mock.
    let result = client.query_allow_reserved("no-slash").await;
    assert_eq!(result.expect_err("pattern violated").status(), Some(422));
}

#[tokio::test]
async fn bodies_every_action_and_typed_calls() {
    let mut prism = prism_or_skip!("specs/bodies.yaml");
    every_action(&mut prism, "specs/bodies.yaml", &bodies::CONNECTOR).await;

    use bodies::types::*;
    let client = bodies::Client::new(connection(&bodies::CONNECTOR, &prism));
    let note = Note {
        title: "Milk".into(),
        tags: Some(vec!["x".into()]),
        pinned: None,
    };
    let created = check(&mut prism, "createNote", client.create_note(&note).await);
    assert_eq!(
        created.title, "Groceries",
        "Prism answers with the declared example"
    );
    check(
        &mut prism,
        "createNoteVendor",
        client.create_note_vendor(&note).await,
    );
    check(&mut prism, "touchNote", client.touch_note(None).await);
    check(
        &mut prism,
        "touchNote",
        client.touch_note(Some(&note)).await,
    );
    let login = Login {
        user: "ann".into(),
        password: "a&b=c".into(),
        scopes: Some(vec![LoginScopesItem::Read]),
        device: Some(Device { os: "linux".into() }),
    };
    check(&mut prism, "submitForm", client.submit_form(&login).await);
    let photo = Multipart::new()
        .text("caption", "Beach")
        .text("rating", "4")
        .json("meta", &json!({"place": "Nice"}))
        .expect("json part")
        .file(
            "file",
            "beach.png",
            "image/png",
            vec![0x89, b'P', b'N', b'G', 0, 1, 2],
        );
    let meta = check(&mut prism, "uploadPhoto", client.upload_photo(photo).await);
    assert_eq!(meta.place, "Nice");
    check(
        &mut prism,
        "uploadBlob",
        client.upload_blob(vec![0u8, 1, 2, 255]).await,
    );
    let stream = reqwest_body_stream();
    check(
        &mut prism,
        "uploadBlob",
        client.upload_blob(Binary::stream(stream)).await,
    );
    let blob = check(&mut prism, "downloadBlob", client.download_blob().await);
    assert!(!blob.bytes().is_empty());
    check(&mut prism, "sendText", client.send_text("plain text").await);
    check(
        &mut prism,
        "sendXml",
        client.send_xml("<order><id>2</id></order>").await,
    );
    check(&mut prism, "sendCsv", client.send_csv("a,b\n3,4\n").await);
    let report = check(&mut prism, "downloadReport", client.download_report().await);
    assert_eq!(report.text().expect("utf-8"), "a,b\n1,2\n");
    let default = CreateNoteAnyFormatOptions::default();
    check(
        &mut prism,
        "createNoteAnyFormat",
        client.create_note_any_format(&default, &note).await,
    );
    let as_form = CreateNoteAnyFormatOptions {
        content_type: Some(CreateNoteAnyFormatContentType::ApplicationXWwwFormUrlencoded),
    };
    check(
        &mut prism,
        "createNoteAnyFormat",
        client.create_note_any_format(&as_form, &note).await,
    );

    // A streamed download through the same executor.
    let op = &bodies::operations::OPERATIONS[bodies::operations::DOWNLOAD_BLOB];
    let connection = connection(&bodies::CONNECTOR, &prism);
    let mut streamed = check(
        &mut prism,
        "downloadBlob",
        connection.execute_streaming(op, Args::new()).await,
    );
    let mut total = Vec::new();
    while let Some(chunk) = check(&mut prism, "downloadBlob", streamed.chunk().await) {
        total.extend_from_slice(&chunk);
    }
    assert_eq!(total, blob.bytes().as_ref());
}

#[tokio::test]
async fn responses_every_action_and_typed_calls() {
    let mut prism = prism_or_skip!("specs/responses.yaml");
    every_action(&mut prism, "specs/responses.yaml", &responses::CONNECTOR).await;

    use responses::types::*;
    let client = responses::Client::new(connection(&responses::CONNECTOR, &prism));
    let things = check(&mut prism, "listThings", client.list_things().await);
    assert_eq!(things[0].name, "Cup");
    let cup = Thing {
        id: 1,
        name: "Cup".into(),
    };
    let created = check(&mut prism, "createThing", client.create_thing(&cup).await);
    assert!(
        matches!(created.value, CreateThingResponse::Ok(_)),
        "{created:?}"
    );
    let got = check(&mut prism, "getThing", client.get_thing(1).await);
    assert_eq!(got.value.name, "Cup");
    assert_eq!(got.header("X-Rate-Limit-Remaining"), Some("99"));
    let put = check(&mut prism, "putThing", client.put_thing(1, &cup).await);
    assert!(matches!(put, PutThingResponse::Ok(_)), "{put:?}");
    check(&mut prism, "deleteThing", client.delete_thing(1).await);
    let touched = check(&mut prism, "touchThing", client.touch_thing(1).await);
    assert_eq!(touched.status, 204);
    check(&mut prism, "downloadThing", client.download_thing(1).await);
    let csv = check(&mut prism, "exportThings", client.export_things().await);
    assert_eq!(csv.text().expect("utf-8"), "id,name\n1,Cup\n");
    let pong = check(&mut prism, "ping", client.ping().await);
    assert!(matches!(pong, PingResponse::Ok(_)), "{pong:?}");
}

/// A body streamed from a file, as a large upload would be.
fn reqwest_body_stream() -> reqwest::Body {
    let path = std::env::temp_dir().join(format!("prism-upload-{}.bin", std::process::id()));
    std::fs::write(&path, vec![7u8; 64 * 1024]).expect("temp file");
    let file = std::fs::File::open(&path).expect("temp file");
    let _ = std::fs::remove_file(&path);
    reqwest::Body::from(tokio::fs::File::from_std(file))
}

/// Every sample spec has its Prism test above: a spec added to `specs/` without one fails here.
#[test]
fn every_sample_spec_is_checked_against_prism() {
    let covered = [
        "auth",
        "awkward",
        "bodies",
        "crm",
        "entities",
        "openapi31",
        "parameters",
        "petstore",
        "responses",
        "schemas",
        "servers",
        "shop",
        "swagger2",
        "webhooks",
    ];
    let mut found: Vec<String> = std::fs::read_dir(repo_root().join("specs"))
        .expect("specs folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    found.sort();
    assert_eq!(found, covered);
}
