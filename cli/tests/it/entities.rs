//! Entities: found for every sample spec (a checked-in snapshot), listed page by page in every
//! pagination style against an in-process server, and driven from the command line as a process.

use std::path::{Path, PathBuf};
use std::process::Command;

use connector_gen::{interpret, Options};
use connector_runtime::paginate::ListOptions;
use connector_runtime::{Connection, Error};
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

#[test]
fn entities_of_every_sample_spec_match_the_snapshot() {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(repo("specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    let mut text = String::new();
    for spec in specs {
        let lowered = connector_gen::load_spec(&spec, &Options::default()).unwrap();
        let name = spec.file_name().unwrap().to_string_lossy().into_owned();
        text += &format!("== {name}\n");
        text += &connector_gen::inspect::entities_table(&lowered.connector);
        text += &connector_gen::inspect::entity_explanation(&lowered.connector);
        for (action, paging) in &lowered.connector.paging {
            text += &format!(
                "  paging {action}: {}\n",
                serde_json::to_string(paging).unwrap()
            );
        }
    }
    insta::assert_snapshot!("entities_of_sample_specs", text);
}

#[test]
fn inspect_json_lists_entities_with_record_schema_scope_and_operations() {
    let out = Command::new(env!("CARGO_BIN_EXE_connector-gen"))
        .args(["inspect", "--json"])
        .arg(repo("specs/entities.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pets = doc["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "owner_pets")
        .unwrap();
    assert_eq!(pets["key"], "id");
    assert_eq!(pets["scope"], json!(["ownerId"]));
    assert_eq!(pets["operations"]["list"], "listOwnerPets");
    assert_eq!(pets["operations"]["delete"], "removeOwnerPet");
    assert!(pets["operations"].get("update").is_none());
    assert_eq!(pets["record_schema"]["$ref"], "#/$defs/Pet");
    assert_eq!(pets["record_schema"]["$defs"]["Pet"]["type"], "object");
    assert!(pets["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "id" && f["key"] == true && f["read_only"] == true));
}

async fn connection(server: &MockServer) -> Connection {
    let descriptor =
        interpret::load_descriptor(&repo("specs/entities.yaml"), &Options::default()).unwrap();
    Connection::builder(&descriptor)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .credential("token", connector_runtime::Credential::bearer("t0ken"))
        .build()
        .unwrap()
}

async fn collect(
    conn: &Connection,
    entity: &str,
    input: Value,
    options: ListOptions,
) -> Vec<Result<Value, Error>> {
    let Value::Object(input) = input else {
        panic!("input must be an object")
    };
    conn.list_entities(entity, input, options)
        .unwrap()
        .collect()
        .await
}

fn ids(results: Vec<Result<Value, Error>>) -> Vec<Value> {
    results
        .into_iter()
        .map(|r| r.unwrap()["id"].clone())
        .collect()
}

fn page(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn cursor_pages_follow_until_a_repeated_cursor() {
    let server = MockServer::start().await;
    let pets = "/owners/o1/pets";
    Mock::given(path(pets))
        .and(query_param_is_missing("cursor"))
        .respond_with(page(
            json!({"items": [{"id": 1}, {"id": 2}], "meta": {"next_cursor": "c2"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(path(pets))
        .and(query_param("cursor", "c2"))
        .respond_with(page(
            json!({"items": [{"id": 3}], "meta": {"next_cursor": "c3"}}),
        ))
        .mount(&server)
        .await;
    // The third page points back at itself: the stream must end, not loop.
    Mock::given(path(pets))
        .and(query_param("cursor", "c3"))
        .respond_with(page(
            json!({"items": [{"id": 4}], "meta": {"next_cursor": "c3"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(&server).await;
    let got = collect(
        &conn,
        "owner_pets",
        json!({"ownerId": "o1"}),
        ListOptions::default(),
    )
    .await;
    assert_eq!(ids(got), vec![json!(1), json!(2), json!(3), json!(4)]);
    // --limit: stops early, without fetching the pages after.
    let options = ListOptions {
        max_records: Some(2),
        page_size: Some(2),
        ..ListOptions::default()
    };
    let got = collect(&conn, "owner_pets", json!({"ownerId": "o1"}), options).await;
    assert_eq!(ids(got), vec![json!(1), json!(2)]);
    let sent = server.received_requests().await.unwrap();
    assert!(sent
        .last()
        .unwrap()
        .url
        .query()
        .unwrap_or("")
        .contains("limit=2"));
}

#[tokio::test]
async fn offset_pages_end_on_an_empty_page() {
    let server = MockServer::start().await;
    for (offset, body) in [
        ("0", json!({"data": [{"id": "a"}, {"id": "b"}]})),
        ("2", json!({"data": [{"id": "c"}, {"id": "d"}]})),
        ("4", json!({"data": [{"id": "e"}]})),
        ("5", json!({"data": []})),
    ] {
        Mock::given(path("/owners"))
            .and(query_param("offset", offset))
            .respond_with(page(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let conn = connection(&server).await;
    let got = collect(
        &conn,
        "owners",
        json!({"offset": 0}),
        ListOptions::default(),
    )
    .await;
    assert_eq!(
        ids(got),
        ["a", "b", "c", "d", "e"].map(Value::from).to_vec()
    );
}

#[tokio::test]
async fn page_numbers_count_up_from_one() {
    let server = MockServer::start().await;
    for (number, body) in [
        ("1", json!([{"id": 1}, {"id": 2}])),
        ("2", json!([{"id": 3}])),
        ("3", json!([{"id": 4}])),
        ("4", json!([])),
    ] {
        Mock::given(path("/toys"))
            .and(query_param("page", number))
            .respond_with(page(body))
            .mount(&server)
            .await;
    }
    let conn = connection(&server).await;
    let got = collect(&conn, "toys", json!({}), ListOptions::default()).await;
    assert_eq!(ids(got).len(), 4);
    // The page limit stops a server that never ends, with an error that says so.
    let options = ListOptions {
        max_pages: 2,
        ..ListOptions::default()
    };
    let got = collect(&conn, "toys", json!({}), options).await;
    assert_eq!(got.len(), 4);
    let last = got.last().unwrap().as_ref().unwrap_err().to_string();
    assert!(last.contains("page limit"), "{last}");
}

#[tokio::test]
async fn link_headers_and_next_urls_are_followed() {
    let server = MockServer::start().await;
    let uri = server.uri();
    for (marker, next, ids) in [
        (None, Some("m2"), vec![1, 2]),
        (Some("m2"), Some("m3"), vec![3]),
        (Some("m3"), None, vec![4]),
    ] {
        let records: Vec<Value> = ids.into_iter().map(|id| json!({"id": id})).collect();
        let mut response = page(Value::Array(records));
        if let Some(next) = next {
            response = response.insert_header(
                "link",
                format!("<{uri}/visits?page_marker={next}&per_page=2>; rel=\"next\", <{uri}/visits>; rel=\"first\""),
            );
        }
        let mock = Mock::given(path("/visits"));
        let mock = match marker {
            Some(m) => mock.and(query_param("page_marker", m)),
            None => mock.and(query_param_is_missing("page_marker")),
        };
        mock.respond_with(response).mount(&server).await;
    }
    for (token, next, ids) in [
        (None, Some("/invoices?token=t2"), vec!["i1"]),
        (Some("t2"), Some("/invoices?token=t3"), vec!["i2"]),
        (Some("t3"), Some("/invoices?token=t3"), vec!["i3"]),
    ] {
        let records: Vec<Value> = ids.into_iter().map(|id| json!({"id": id})).collect();
        let mock = Mock::given(path("/invoices"));
        let mock = match token {
            Some(t) => mock.and(query_param("token", t)),
            None => mock.and(query_param_is_missing("token")),
        };
        mock.respond_with(page(json!({"invoices": records, "next_url": next})))
            .mount(&server)
            .await;
    }
    let conn = connection(&server).await;
    let got = collect(&conn, "visits", json!({}), ListOptions::default()).await;
    assert_eq!(ids(got), [1, 2, 3, 4].map(Value::from).to_vec());
    let got = collect(&conn, "invoices", json!({}), ListOptions::default()).await;
    assert_eq!(ids(got), ["i1", "i2", "i3"].map(Value::from).to_vec());
}

#[tokio::test]
async fn get_create_update_delete_send_the_entity_actions() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/owners/o1/pets/7"))
        .respond_with(page(json!({"id": 7, "name": "Rex"})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/owners/o9"))
        .respond_with(page(json!({"id": "o9", "name": "Ann"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/owners"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "o10", "name": "Bo"})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/owners/o1/pets/7"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(&server).await;
    let scope: Map<String, Value> = [("ownerId".to_owned(), json!("o1"))].into_iter().collect();
    let pet = conn
        .get_entity("owner_pets", scope.clone(), json!(7))
        .await
        .unwrap();
    assert_eq!(pet["name"], "Rex");
    let owner = conn
        .update_entity("owners", Map::new(), json!("o9"), json!({"name": "Ann"}))
        .await
        .unwrap();
    assert_eq!(owner["name"], "Ann");
    let created = conn
        .create_entity("owners", Map::new(), json!({"name": "Bo"}))
        .await
        .unwrap();
    assert_eq!(created["id"], "o10");
    conn.delete_entity("owner_pets", scope, json!(7))
        .await
        .unwrap();
    // Missing scope, unknown entity, missing operation: clear errors, nothing sent.
    let err = conn
        .get_entity("owner_pets", Map::new(), json!(7))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ownerId"), "{err}");
    let err = conn
        .get_entity("owner_petz", Map::new(), json!(7))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("owner_pets"), "{err}");
    let err = conn
        .delete_entity("toys", Map::new(), json!(1))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no delete"), "{err}");
}

#[test]
fn the_command_line_lists_as_json_lines_and_gets_by_id() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(MockServer::start());
    rt.block_on(async {
        Mock::given(path("/owners/o1/pets"))
            .and(query_param_is_missing("cursor"))
            .respond_with(page(
                json!({"items": [{"id": 1}, {"id": 2}], "meta": {"next_cursor": "c2"}}),
            ))
            .mount(&server)
            .await;
        Mock::given(path("/owners/o1/pets"))
            .and(query_param("cursor", "c2"))
            .respond_with(page(json!({"items": [{"id": 3}]})))
            .mount(&server)
            .await;
        Mock::given(path("/owners/o1/pets/3"))
            .respond_with(page(json!({"id": 3, "name": "Kit"})))
            .mount(&server)
            .await;
    });
    let spec = repo("specs/entities.yaml");
    let gen = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_connector-gen"))
            .args(args)
            .output()
            .unwrap()
    };
    let uri = server.uri();
    let spec = spec.to_str().unwrap();
    let out = gen(&[
        "list",
        spec,
        "owner_pets",
        "--scope",
        "ownerId=o1",
        "--base-url",
        &uri,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![json!({"id": 1}), json!({"id": 2}), json!({"id": 3})]
    );
    let out = gen(&[
        "list",
        spec,
        "owner_pets",
        "--scope",
        "ownerId=o1",
        "--limit",
        "1",
        "--base-url",
        &uri,
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let out = gen(&[
        "get",
        spec,
        "owner_pets",
        "3",
        "--scope",
        "ownerId=o1",
        "--base-url",
        &uri,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["name"], "Kit");
    // Bad input exits 2, as `run` does; a server that is not there exits 3.
    let out = gen(&["get", spec, "owner_pets", "3", "--base-url", &uri]);
    assert_eq!(out.status.code(), Some(2));
    let out = gen(&["list", spec, "nothing", "--base-url", &uri]);
    assert_eq!(out.status.code(), Some(2));
    let out = gen(&["list", spec, "toys", "--base-url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(3));
    let out = gen(&["entities", spec]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("owner_pets  [list, get, create, delete]  key: id --scope ownerId"),
        "{text}"
    );
}

fn lower(spec: Value) -> connector_gen::Lowered {
    connector_gen::load_connector(spec.to_string().as_bytes(), &Options::default()).unwrap()
}

fn get_returning(schema: Value) -> Value {
    json!({"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}})
}

#[test]
fn overrides_rename_redirect_and_report_their_mistakes() {
    let page = json!({"type": "object", "properties": {
        "data": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {"ref": {"type": "string"}}}}}},
        "links": {"type": "array", "items": {"type": "string"}}
    }});
    let mut list = get_returning(page);
    list["operationId"] = json!("search");
    list["x-connector-entity"] =
        json!({"name": "hits", "operation": "list", "key": "ref", "records": "data.items"});
    let mut odd = get_returning(json!({"type": "array", "items": {"type": "object"}}));
    odd["operationId"] = json!("odd");
    odd["x-connector-entity"] = json!(42);
    let mut sideways = get_returning(json!({"type": "array", "items": {"type": "object"}}));
    sideways["operationId"] = json!("sideways");
    sideways["x-connector-entity"] = json!({"operation": "sideways"});
    let spec = json!({
        "openapi": "3.0.3",
        "info": {"title": "Overrides", "version": "1"},
        "x-connector-ping": "nope",
        "paths": {
            "/search/run": {"get": list},
            "/odd": {"get": odd},
            "/side": {"get": sideways}
        }
    });
    let lowered = lower(spec);
    let hits = lowered
        .connector
        .entities
        .iter()
        .find(|e| e.name == "hits")
        .unwrap();
    assert_eq!(hits.key.as_deref(), Some("ref"));
    // Detection alone would take the top-level `links` array; the override points deeper.
    assert_eq!(
        lowered.connector.paging["search"].records,
        vec!["data", "items"]
    );
    let warnings: Vec<String> = lowered.warnings.iter().map(ToString::to_string).collect();
    let has = |needle: &str| warnings.iter().any(|w| w.contains(needle));
    assert!(has("#/paths/~1odd/get/x-connector-entity"), "{warnings:?}");
    assert!(has("unknown operation `sideways`"), "{warnings:?}");
    assert!(
        has("#/x-connector-ping") && has("no action `nope`"),
        "{warnings:?}"
    );
    // The unknown ping falls back to the default: a List without required parameters.
    assert_eq!(lowered.connector.ping.as_ref().unwrap().action, "search");
}

/// A key parameter is found in an item path with a trailing slash (`/aquifers/{aquifer_id}/`),
/// and the typed `get` takes it: without it, the generated method's key had no type at all.
#[test]
fn a_trailing_slash_keeps_the_key_parameter() {
    let record = json!({"type": "object", "properties": {"aquifer_id": {"type": "integer"}}});
    let mut list = get_returning(json!({"type": "array", "items": record}));
    list["operationId"] = json!("aquifers_list");
    let mut get = get_returning(record);
    get["operationId"] = json!("aquifers_read");
    let spec = json!({
        "openapi": "3.0.3",
        "info": {"title": "Wells", "version": "1"},
        "paths": {
            "/aquifers/": {"get": list},
            "/aquifers/{aquifer_id}/": {
                "parameters": [{"name": "aquifer_id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "get": get
            }
        }
    });
    let lowered = lower(spec);
    let entity = &lowered.connector.entities[0];
    assert_eq!(entity.key_param.as_deref(), Some("aquifer_id"));
    assert_eq!(entity.key.as_deref(), Some("aquifer_id"));
    let code =
        connector_gen::render_module(&lowered.connector, &Options::default(), "wells").unwrap();
    assert!(code.contains("            id: i64,\n"), "{code}");
}
