//! `connector-gen mcp` as an agent meets it: an MCP client over the server's stdio (rmcp's
//! client) and over Streamable HTTP (JSON-RPC posts), the petstore API in process (wiremock).
//! Each test body runs over both transports.

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::cli::connector_gen;
use crate::support::mcp::{canary_connection, is_error, text, Session, CANARY};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Stdio,
    Http,
}

fn pet(id: u64, name: &str) -> Value {
    json!({"id": id, "name": name, "status": "available"})
}

/// The petstore: `GET /pets` lists `pets`, pet 7 exists, pet 8 does not.
async fn petstore(pets: Vec<Value>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/pets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "items": pets })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pet(7, "Rex")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pets/8"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"code": 404, "message": "no pet 8"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(pet(11, "Rex")))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/pets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pet(7, "Max")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/pets/7"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

struct Setup {
    api: MockServer,
    session: Session,
    _dir: tempfile::TempDir,
}

async fn start(kind: Kind, pets: Vec<Value>, extra: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let api = petstore(pets).await;
    let mut args: Vec<String> = vec![
        "mcp".into(),
        "specs/petstore.yaml".into(),
        "--connection".into(),
        canary_connection(dir.path(), "petstore"),
        "--base-url".into(),
        api.uri(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let session = match kind {
        Kind::Stdio => Session::stdio(&connector_gen(), &args).await,
        Kind::Http => Session::http(&connector_gen(), &args, None).await,
    };
    Setup {
        api,
        session,
        _dir: dir,
    }
}

/// What the API received: method, path and query, JSON body; and that each carried the key.
async fn received(api: &MockServer) -> Vec<(String, String, Value)> {
    let requests: Vec<Request> = api.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| {
            assert_eq!(
                r.headers.get("x-api-key").and_then(|v| v.to_str().ok()),
                Some(CANARY),
                "every request carries the connection's key"
            );
            let target = match r.url.query() {
                Some(q) => format!("{}?{q}", r.url.path()),
                None => r.url.path().to_owned(),
            };
            let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            (r.method.to_string(), target, body)
        })
        .collect()
}

fn tool<'t>(tools: &'t [Value], name: &str) -> &'t Value {
    tools
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
}

async fn tools_have_names_schemas_and_annotations(kind: Kind) {
    let s = start(kind, vec![], &[]).await;
    let tools = s.session.tools().await;
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "listPets",
            "createPet",
            "getPet",
            "updatePet",
            "deletePet",
            "pets_list",
            "pets_get",
            "pets_create",
            "pets_update",
            "pets_delete"
        ]
    );
    let catalogue = connector_tests::petstore::CONNECTOR
        .catalogue
        .as_deref()
        .unwrap();
    let catalogue = connector_runtime::catalogue::Catalogue::from_json(catalogue).unwrap();
    for (name, read_only, destructive, idempotent) in [
        ("listPets", true, None, true),
        ("createPet", false, Some(false), false),
        ("getPet", true, None, true),
        ("updatePet", false, Some(false), true),
        ("deletePet", false, Some(true), true),
        ("pets_list", true, None, true),
        ("pets_delete", false, Some(true), true),
    ] {
        let t = tool(&tools, name);
        let a = &t["annotations"];
        assert_eq!(a["readOnlyHint"], json!(read_only), "{name}: {a}");
        assert_eq!(a["destructiveHint"].as_bool(), destructive, "{name}: {a}");
        assert_eq!(a["idempotentHint"], json!(idempotent), "{name}: {a}");
        assert_eq!(a["openWorldHint"], json!(true), "{name}: {a}");
        assert_eq!(t["inputSchema"]["type"], "object", "{name}");
        assert!(t["inputSchema"].get("$schema").is_none(), "{name}");
        assert!(t["title"].as_str().unwrap().starts_with(name), "{name}");
        if let Some(output) = t.get("outputSchema") {
            assert_eq!(output["type"], "object", "{name}: clients want an object");
            jsonschema::validator_for(output).expect("the output schema compiles");
        }
    }
    // An action's input schema is the catalogue's, made self-contained.
    let get = catalogue.action("getPet").unwrap();
    let mut expected = catalogue.standalone(&get.input_schema);
    expected.as_object_mut().unwrap().remove("$schema");
    assert_eq!(tool(&tools, "getPet")["inputSchema"], expected);
    // A list tool pages by itself: limit, cursor, fields.
    let list = &tool(&tools, "pets_list")["inputSchema"]["properties"];
    for key in ["limit", "cursor", "fields", "status", "tags"] {
        assert!(list.get(key).is_some(), "pets_list takes {key}: {list}");
    }
    assert!(tool(&tools, "deletePet").get("outputSchema").is_some());
    s.session.stop().await;
}

#[tokio::test]
async fn stdio_tools_have_names_schemas_and_annotations() {
    tools_have_names_schemas_and_annotations(Kind::Stdio).await;
}

#[tokio::test]
async fn http_tools_have_names_schemas_and_annotations() {
    tools_have_names_schemas_and_annotations(Kind::Http).await;
}

/// Checks `result` against the tool's output schema, as the TypeScript and Python clients do.
fn conforms(tools: &[Value], name: &str, result: &Value) {
    if let Some(schema) = tool(tools, name).get("outputSchema") {
        let validator = jsonschema::validator_for(schema).unwrap();
        let structured = &result["structuredContent"];
        assert!(
            validator.is_valid(structured),
            "{name}: {structured} does not match {schema}"
        );
    }
}

async fn every_tool_sends_exactly_its_request(kind: Kind) {
    let s = start(kind, vec![pet(1, "Ann"), pet(2, "Bob")], &[]).await;
    let tools = s.session.tools().await;
    let calls: Vec<(&str, Value)> = vec![
        (
            "listPets",
            json!({"limit": 5, "status": "available", "tags": ["a", "b"]}),
        ),
        ("createPet", json!({"body": {"name": "Rex"}})),
        ("getPet", json!({"petId": 7})),
        ("updatePet", json!({"petId": 7, "body": {"name": "Max"}})),
        ("deletePet", json!({"petId": 7})),
        ("pets_list", json!({"status": "available"})),
        ("pets_get", json!({"petId": 7})),
        (
            "pets_create",
            json!({"body": {"name": "Rex", "tag": "dog"}}),
        ),
        ("pets_update", json!({"petId": 7, "body": {"name": "Max"}})),
        ("pets_delete", json!({"petId": 7})),
    ];
    let mut results = Vec::new();
    for (name, arguments) in &calls {
        let result = s.session.call(name, arguments.clone()).await.unwrap();
        assert!(!is_error(&result), "{name}: {result}");
        conforms(&tools, name, &result);
        // The text is the structured content's JSON, for clients that read text only.
        let structured = &result["structuredContent"];
        assert_eq!(
            serde_json::from_str::<Value>(text(&result)).unwrap(),
            *structured,
            "{name}"
        );
        results.push(result);
    }
    assert_eq!(results[2]["structuredContent"], pet(7, "Rex"));
    assert_eq!(
        results[5]["structuredContent"],
        json!({"records": [pet(1, "Ann"), pet(2, "Bob")]}),
        "one page, all of it: no cursor"
    );
    assert_eq!(results[4]["structuredContent"], json!({"result": null}));
    let expected: Vec<(String, String, Value)> = [
        (
            "GET",
            "/pets?limit=5&status=available&tags=a&tags=b",
            Value::Null,
        ),
        ("POST", "/pets", json!({"name": "Rex"})),
        ("GET", "/pets/7", Value::Null),
        ("PUT", "/pets/7", json!({"name": "Max"})),
        ("DELETE", "/pets/7", Value::Null),
        ("GET", "/pets?status=available", Value::Null),
        ("GET", "/pets/7", Value::Null),
        ("POST", "/pets", json!({"name": "Rex", "tag": "dog"})),
        ("PUT", "/pets/7", json!({"name": "Max"})),
        ("DELETE", "/pets/7", Value::Null),
    ]
    .into_iter()
    .map(|(m, p, b)| (m.to_owned(), p.to_owned(), b))
    .collect();
    assert_eq!(received(&s.api).await, expected);
    let stderr = s.session.stop().await;
    for (i, result) in results.iter().enumerate() {
        assert!(
            !result.to_string().contains(CANARY),
            "result {i} shows the key"
        );
    }
    assert!(!stderr.contains(CANARY), "stderr shows the key: {stderr}");
    assert!(
        stderr.contains("mcp: getPet ok"),
        "one line per call: {stderr}"
    );
}

#[tokio::test]
async fn stdio_every_tool_sends_exactly_its_request() {
    every_tool_sends_exactly_its_request(Kind::Stdio).await;
}

#[tokio::test]
async fn http_every_tool_sends_exactly_its_request() {
    every_tool_sends_exactly_its_request(Kind::Http).await;
}

async fn lists_are_bounded_by_limit_fields_and_budget(kind: Kind) {
    // Ten pets of about 400 bytes each; a budget of 1,024 bytes holds two of them.
    let pets: Vec<Value> = (1..=10)
        .map(
            |i| json!({"id": i, "name": format!("{i}-{}", "x".repeat(380)), "status": "available"}),
        )
        .collect();
    let s = start(kind, pets.clone(), &["--budget", "1024"]).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut calls = 0;
    loop {
        let mut arguments = json!({"limit": 3});
        if let Some(c) = &cursor {
            arguments["cursor"] = json!(c);
        }
        let result = s.session.call("pets_list", arguments).await.unwrap();
        assert!(!is_error(&result), "{result}");
        let answer = &result["structuredContent"];
        let records = answer["records"].as_array().unwrap();
        assert!(records.len() <= 3, "never more than the limit");
        let bytes = serde_json::to_string(records).unwrap().len();
        assert!(bytes <= 1024, "never more than the budget: {bytes}");
        if records.len() < 3 && answer.get("next_cursor").is_some() {
            assert_eq!(answer["truncated"], json!(true), "{answer}");
            assert!(answer["note"].as_str().unwrap().contains("budget"));
        }
        seen.extend(records.iter().cloned());
        calls += 1;
        match answer["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(calls < 20, "the listing ends");
    }
    assert_eq!(
        seen, pets,
        "every record once, in order, across {calls} calls"
    );
    assert!(calls >= 5, "the budget cut the listing: {calls} calls");

    // `fields` keeps what was asked for, so all ten fit.
    let result = s
        .session
        .call("pets_list", json!({"limit": 10, "fields": ["id"]}))
        .await
        .unwrap();
    let ids: Vec<Value> = (1..=10).map(|i| json!({"id": i})).collect();
    assert_eq!(result["structuredContent"], json!({"records": ids}));
    // A field the record does not have is a mistake the agent hears about.
    let wrong = s
        .session
        .call("pets_list", json!({"fields": ["nmae"]}))
        .await
        .unwrap();
    assert!(is_error(&wrong) && text(&wrong).contains("name"), "{wrong}");
    s.session.stop().await;
}

#[tokio::test]
async fn stdio_lists_are_bounded_by_limit_fields_and_budget() {
    lists_are_bounded_by_limit_fields_and_budget(Kind::Stdio).await;
}

#[tokio::test]
async fn http_lists_are_bounded_by_limit_fields_and_budget() {
    lists_are_bounded_by_limit_fields_and_budget(Kind::Http).await;
}

#[tokio::test]
async fn a_record_over_the_budget_alone_is_said_not_skipped() {
    let pets = vec![
        pet(1, "Ann"),
        json!({"id": 2, "name": "y".repeat(2000), "status": "available"}),
    ];
    let s = start(Kind::Stdio, pets, &["--budget", "1024"]).await;
    let first = s.session.call("pets_list", json!({})).await.unwrap();
    let answer = &first["structuredContent"];
    assert_eq!(answer["records"], json!([pet(1, "Ann")]));
    let cursor = answer["next_cursor"].as_str().unwrap();
    let second = s
        .session
        .call("pets_list", json!({"cursor": cursor}))
        .await
        .unwrap();
    let answer = &second["structuredContent"];
    assert_eq!(answer["records"], json!([]));
    assert!(
        answer["note"].as_str().unwrap().contains("fields"),
        "{answer}"
    );
    // Fewer fields, and the same cursor reads it.
    let third = s
        .session
        .call(
            "pets_list",
            json!({"cursor": answer["next_cursor"], "fields": ["id"]}),
        )
        .await
        .unwrap();
    assert_eq!(third["structuredContent"], json!({"records": [{"id": 2}]}));
    s.session.stop().await;
}

async fn failures_are_tool_errors_and_the_server_keeps_serving(kind: Kind) {
    let s = start(kind, vec![], &[]).await;
    // An API error: its status and bounded body.
    let missing = s.session.call("getPet", json!({"petId": 8})).await.unwrap();
    assert!(is_error(&missing), "{missing}");
    assert!(text(&missing).contains("404"), "{missing}");
    assert_eq!(
        missing["structuredContent"],
        json!({"status": 404, "body": {"code": 404, "message": "no pet 8"}})
    );
    // Wrong types and unknown fields: every problem with its pointer, nothing sent.
    let before = received(&s.api).await.len();
    let wrong = s
        .session
        .call("getPet", json!({"petId": "seven", "colour": "red"}))
        .await
        .unwrap();
    assert!(is_error(&wrong), "{wrong}");
    assert!(text(&wrong).contains("/petId"), "{wrong}");
    assert!(text(&wrong).contains("/colour"), "{wrong}");
    let wrong_list = s
        .session
        .call("pets_list", json!({"limit": -1, "cursor": 5, "page": 2}))
        .await
        .unwrap();
    assert!(is_error(&wrong_list), "{wrong_list}");
    for pointer in ["/limit", "/cursor", "/page"] {
        assert!(text(&wrong_list).contains(pointer), "{wrong_list}");
    }
    let forged = s
        .session
        .call("pets_list", json!({"cursor": "eyJ0b29sIjoib3RoZXIifQ"}))
        .await
        .unwrap();
    assert!(is_error(&forged), "{forged}");
    // A huge string: refused with a short message.
    let huge = "x".repeat(1_000_000);
    let big = s
        .session
        .call("pets_list", json!({"status": huge}))
        .await
        .unwrap();
    assert!(is_error(&big), "refused: not a status");
    assert!(text(&big).len() < 2_000, "the message stays short");
    assert_eq!(received(&s.api).await.len(), before, "nothing was sent");
    // An unknown tool is a protocol error.
    let unknown = s.session.call("getPets", json!({})).await;
    assert!(
        unknown.as_ref().is_err_and(|e| e.contains("getPet")),
        "{unknown:?}"
    );
    // And the server still answers.
    assert_eq!(s.session.tools().await.len(), 10);
    let stderr = s.session.stop().await;
    assert!(!stderr.contains(CANARY), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn stdio_failures_are_tool_errors_and_the_server_keeps_serving() {
    failures_are_tool_errors_and_the_server_keeps_serving(Kind::Stdio).await;
}

#[tokio::test]
async fn http_failures_are_tool_errors_and_the_server_keeps_serving() {
    failures_are_tool_errors_and_the_server_keeps_serving(Kind::Http).await;
}

async fn read_only_serves_and_runs_only_reads(kind: Kind) {
    let s = start(kind, vec![pet(1, "Ann")], &["--read-only"]).await;
    let tools = s.session.tools().await;
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["listPets", "getPet", "pets_list", "pets_get"]);
    for name in ["createPet", "deletePet", "pets_delete"] {
        let refused = s.session.call(name, json!({"petId": 7})).await.unwrap();
        assert!(is_error(&refused), "{name}: {refused}");
        assert!(text(&refused).contains("read-only"), "{refused}");
    }
    assert!(received(&s.api).await.is_empty(), "nothing was sent");
    let read = s.session.call("getPet", json!({"petId": 7})).await.unwrap();
    assert!(!is_error(&read));
    s.session.stop().await;
}

#[tokio::test]
async fn stdio_read_only_serves_and_runs_only_reads() {
    read_only_serves_and_runs_only_reads(Kind::Stdio).await;
}

#[tokio::test]
async fn http_read_only_serves_and_runs_only_reads() {
    read_only_serves_and_runs_only_reads(Kind::Http).await;
}

#[tokio::test]
async fn resources_hold_the_catalogue_and_each_action() {
    let s = start(Kind::Stdio, vec![], &["--include-tag", "pets"]).await;
    let resources = s.session.resources().await;
    let uris: Vec<&str> = resources.iter().filter_map(|r| r["uri"].as_str()).collect();
    assert_eq!(uris[0], "connector://petstore/catalogue");
    assert!(
        uris.contains(&"connector://petstore/actions/getPet"),
        "{uris:?}"
    );
    let outline: Value = serde_json::from_str(
        s.session
            .read_resource(uris[0])
            .await
            .unwrap()
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(outline["actions"].as_array().unwrap().len(), 5);
    assert_eq!(outline["actions"][2]["tool"], "getPet");
    let action: Value = serde_json::from_str(
        s.session
            .read_resource("connector://petstore/actions/getPet")
            .await
            .unwrap()
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(action["id"], "getPet");
    assert!(action["output_schemas"]["200"]["$defs"]["Pet"].is_object());
    assert!(s
        .session
        .read_resource("connector://petstore/actions/nope")
        .await
        .is_err());
    s.session.stop().await;
}

#[tokio::test]
async fn include_values_that_match_nothing_are_refused() {
    let ran = crate::support::cli::run(
        &connector_gen(),
        &[
            "mcp",
            "specs/petstore.yaml",
            "--include-tag",
            "dogs",
            "--include-operation",
            "getPets",
        ],
        Some(""),
    );
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("--include-tag `dogs`"), "{ran:?}");
    assert!(
        ran.stderr.contains("--include-operation `getPets`"),
        "{ran:?}"
    );
    assert_eq!(ran.stdout, "", "stdout carries the protocol only");
}
