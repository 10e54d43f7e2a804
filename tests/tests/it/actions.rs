//! Actions as data: the catalogue a generated crate embeds equals the one `connector-gen run`
//! builds from the spec, every input schema is valid JSON Schema that accepts the example
//! inputs, invalid inputs are reported with their JSON pointers before anything is sent, and a
//! typed call, a dynamic call and a `connector-gen run` call of every action of every sample
//! spec send byte-identical requests.

use crate::support::cli::{connection_file, connector_gen, run};
use crate::support::examples::{input_for, load_spec};
use crate::support::prism::repo_root;
use connector_gen::{load_connector, Options};
use connector_runtime::catalogue::Catalogue;
use connector_runtime::descriptor::ConnectorDescriptor;
use connector_runtime::{Connection, ConnectionConfig, Error};
use connector_tests::{
    auth, awkward, bodies, crm, inventory, kennel, parameters, petstore, responses, schemas,
    servers, shop, shop_events, warehouse,
};
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Evaluates `$body` with `$c` standing for the generated module of connector `$name`.
macro_rules! by_connector {
    ($name:expr, $c:ident => $body:expr) => {
        match $name {
            "petstore" => {
                use petstore as $c;
                $body
            }
            "awkward" => {
                use awkward as $c;
                $body
            }
            "schemas" => {
                use schemas as $c;
                $body
            }
            "parameters" => {
                use parameters as $c;
                $body
            }
            "bodies" => {
                use bodies as $c;
                $body
            }
            "auth" => {
                use auth as $c;
                $body
            }
            "responses" => {
                use responses as $c;
                $body
            }
            "kennel" => {
                use kennel as $c;
                $body
            }
            "servers" => {
                use servers as $c;
                $body
            }
            "inventory" => {
                use inventory as $c;
                $body
            }
            "warehouse" => {
                use warehouse as $c;
                $body
            }
            "shop_events" => {
                use shop_events as $c;
                $body
            }
            "shop" => {
                use shop as $c;
                $body
            }
            "crm" => {
                use crm as $c;
                $body
            }
            other => panic!("no connector {other}"),
        }
    };
}
pub(crate) use by_connector;

/// Every sample spec, with the name the tests crate's build.rs gives its connector.
pub(crate) fn samples() -> Vec<(&'static str, &'static str, &'static ConnectorDescriptor)> {
    vec![
        ("specs/petstore.yaml", "petstore", &petstore::CONNECTOR),
        ("specs/awkward.yaml", "awkward", &awkward::CONNECTOR),
        ("specs/schemas.yaml", "schemas", &schemas::CONNECTOR),
        (
            "specs/parameters.yaml",
            "parameters",
            &parameters::CONNECTOR,
        ),
        ("specs/bodies.yaml", "bodies", &bodies::CONNECTOR),
        ("specs/auth.yaml", "auth", &auth::CONNECTOR),
        ("specs/responses.yaml", "responses", &responses::CONNECTOR),
        ("specs/entities.yaml", "kennel", &kennel::CONNECTOR),
        ("specs/servers.yaml", "servers", &servers::CONNECTOR),
        ("specs/openapi31.yaml", "inventory", &inventory::CONNECTOR),
        ("specs/swagger2.yaml", "warehouse", &warehouse::CONNECTOR),
        (
            "specs/webhooks.yaml",
            "shop_events",
            &shop_events::CONNECTOR,
        ),
        ("specs/shop.yaml", "shop", &shop::CONNECTOR),
        ("specs/crm.yaml", "crm", &crm::CONNECTOR),
    ]
}

fn interpreted(spec: &str, name: &str) -> ConnectorDescriptor {
    let options = Options {
        name: Some(name.to_owned()),
        ..Options::default()
    };
    let bytes = std::fs::read(repo_root().join(spec)).expect("spec");
    let lowered = load_connector(&bytes, &options).expect("spec lowers");
    connector_gen::describe::connector_descriptor(&lowered.connector)
}

fn catalogue(connector: &ConnectorDescriptor) -> Catalogue {
    Catalogue::from_json(connector.catalogue.as_deref().expect("a catalogue")).expect("catalogue")
}

#[test]
fn every_sample_spec_is_covered() {
    let mut found: Vec<String> = std::fs::read_dir(repo_root().join("specs"))
        .expect("specs folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .map(|p| {
            format!(
                "specs/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            )
        })
        .collect();
    found.sort();
    let mut covered: Vec<String> = samples().iter().map(|(s, _, _)| s.to_string()).collect();
    covered.sort();
    assert_eq!(found, covered);
}

/// The statics the templates print equal what `describe` maps the IR to, catalogue included:
/// a generated crate and `connector-gen run` execute, validate and describe the same actions.
#[test]
fn generated_descriptors_and_catalogues_equal_interpreted_ones() {
    for (spec, name, generated) in samples() {
        let built = interpreted(spec, name);
        assert_eq!(&built, generated, "{spec}");
        assert_eq!(catalogue(&built), catalogue(generated), "{spec}");
        assert_eq!(
            catalogue(generated).actions.len(),
            generated.operations.len()
        );
    }
}

#[test]
fn every_schema_is_valid_json_schema_and_accepts_the_example_inputs() {
    for (spec, _, connector) in samples() {
        let document = load_spec(&repo_root().join(spec));
        let catalogue = catalogue(connector);
        for action in &catalogue.actions {
            // Taken out of the catalogue, an action's schemas carry the definitions they reach.
            let action = catalogue.standalone_action(action);
            let at = format!("{spec} {}", action.id);
            assert_eq!(
                action.input_schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            if let Err(err) = jsonschema::meta::validate(&action.input_schema) {
                panic!("{at}: input schema is not valid JSON Schema: {err}");
            }
            for (status, schema) in &action.output_schemas {
                if let Err(err) = jsonschema::meta::validate(schema) {
                    panic!("{at} {status}: output schema is not valid JSON Schema: {err}");
                }
            }
            let validator = jsonschema::validator_for(&action.input_schema).expect("compiles");
            let input = input_for(&document, &action.path, &action.method.to_ascii_lowercase());
            let problems: Vec<String> = validator
                .iter_errors(&input)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(problems.is_empty(), "{at}: {input} rejected: {problems:?}");
        }
    }
}

#[test]
fn schemas_carry_the_facts_of_the_spec() {
    let petstore = catalogue(&petstore::CONNECTOR);
    let list = petstore.action("listPets").expect("listPets");
    let limit = &list.input_schema["properties"]["limit"];
    assert_eq!(limit["type"], "integer");
    assert_eq!(limit["format"], "int32");
    let create = petstore.standalone_action(petstore.action("createPet").expect("createPet"));
    assert_eq!(create.input_schema["required"], json!(["body"]));
    assert_eq!(create.input_schema["additionalProperties"], false);
    let defs = &create.input_schema["$defs"];
    assert_eq!(
        defs["PetStatus"]["enum"],
        json!(["available", "pending", "adopted"])
    );
    assert_eq!(defs["NewPet"]["properties"]["birthDate"]["format"], "date");
    assert!(create.output_schemas.contains_key("201"), "{create:?}");
    assert_eq!(list.auth, vec![vec!["api_key"], vec!["oauth"]]);
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&json!(1), &json!(100))
    );
    assert_eq!(
        limit["description"],
        "How many pets to return (at most 100)."
    );

    let parameters = catalogue(&parameters::CONNECTOR);
    let reserved = parameters.action("queryAllowReserved").expect("action");
    assert_eq!(
        reserved.input_schema["properties"]["path"]["pattern"],
        "^/[a-z/]+:v1$"
    );

    let schemas = catalogue(&schemas::CONNECTOR);
    let animal = &schemas
        .standalone_action(schemas.action("getAnimal").expect("getAnimal"))
        .output_schemas["200"];
    let cat = &animal["$defs"]["Cat"]["properties"];
    assert_eq!(cat["id"]["readOnly"], true);
    assert_eq!(cat["id"]["format"], "uuid");
    assert_eq!(cat["lives"]["default"], 9);
    let put = schemas.standalone_action(schemas.action("putRecord").expect("putRecord"));
    let record = &put.input_schema["$defs"]["Record"];
    assert_eq!(record["properties"]["secret"]["writeOnly"], true);
    assert_eq!(record["properties"]["name"]["minLength"], 1);
    assert_eq!(
        record["properties"]["note"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(record["properties"]["legacy"]["deprecated"], true);
    assert_eq!(
        record["required"],
        json!(["name", "note", "color", "priority"])
    );
}

/// A server that answers `{}` to everything and records requests.
async fn recorder() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording is on")
}

fn petstore_connection(server: &MockServer) -> Connection {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = connection_file(&petstore::CONNECTOR, dir.path());
    let config = ConnectionConfig::from_file(&petstore::CONNECTOR, file).expect("connection file");
    config
        .builder(&petstore::CONNECTOR)
        .base_url(server.uri())
        .build()
        .expect("connection")
}

fn problems(err: Error) -> Vec<String> {
    match err {
        Error::InvalidActionInput { problems, .. } => problems,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_inputs_are_reported_with_pointers_and_nothing_is_sent() {
    let server = recorder().await;
    let connection = petstore_connection(&server);
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "createPet",
            json!({"body": {"name": 7, "status": "gone"}, "limt": 1}),
            vec![
                "/body/name: expected string, got 7",
                "/body/status: expected one of [\"available\",\"pending\",\"adopted\"], got \"gone\"",
                "/limt: unknown key (known: body)",
            ],
        ),
        (
            "listPets",
            json!({"limt": 3, "tags": ["a", "b", 7]}),
            vec![
                "/limt: unknown key; did you mean `limit`?",
                "/tags/2: expected string, got 7",
            ],
        ),
        ("getPet", json!({}), vec!["/petId: required, but missing"]),
        ("createPet", json!({}), vec!["/body: required, but missing"]),
        ("getPet", json!([1]), vec!["/: expected object, got [1]"]),
        (
            "getPet",
            json!({"petId": "seven"}),
            vec!["/petId: expected integer, got \"seven\""],
        ),
    ];
    for (action, input, expected) in cases {
        let err = connection
            .execute_json(action, input.clone())
            .await
            .expect_err("invalid input");
        let message = err.to_string();
        assert_eq!(problems(err), expected, "{action} {input}: {message}");
    }
    let err = connection
        .execute_json("listPet", json!({}))
        .await
        .expect_err("unknown action");
    assert_eq!(
        err.to_string(),
        "the connector has no action `listPet`; did you mean `listPets`?"
    );
    assert!(requests(&server).await.is_empty(), "nothing may be sent");

    // A valid input is sent, and returns the body, status and declared headers.
    let output = connection
        .execute_action("getPet", json!({"petId": 7}))
        .await
        .expect("valid input");
    assert_eq!(output.status, 200);
    assert_eq!(output.body, json!({}));
    assert_eq!(requests(&server).await.len(), 1);
}

/// What must be identical between callers: method, URL, headers other than user-agent, body.
/// The runtime's own request id (a UUID, new for every call) is compared by its presence.
fn fingerprint(request: &Request) -> (String, String, Vec<(String, String)>, Vec<u8>) {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(name, _)| name.as_str() != "user-agent")
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let generated_id = name.as_str() == "x-request-id"
                && value.len() == 36
                && value.matches('-').count() == 4;
            let value = if generated_id {
                "(a request id per call)".to_owned()
            } else {
                value
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    headers.sort();
    (
        request.method.to_string(),
        request.url.to_string(),
        headers,
        request.body.clone(),
    )
}

/// Calls `action` typed (through the generated client), dynamically and through
/// `connector-gen run`, and returns the three requests the server saw.
async fn three_calls(
    spec: &str,
    name: &str,
    connector: &'static ConnectorDescriptor,
    action: &str,
    input: &Value,
    connection_path: &std::path::Path,
    server: &MockServer,
) -> Vec<Request> {
    let config = ConnectionConfig::from_file(connector, connection_path).expect("connection file");
    let connection = config
        .builder(connector)
        .base_url(server.uri())
        .build()
        .expect("connection");
    let typed = by_connector!(name, c => {
        c::Client::new(connection.clone())
            .call_typed_from_json(action, input)
            .await
    });
    // The typed result may fail to decode `{}`; only the request matters here.
    if let Err(err) = &typed {
        assert!(
            matches!(
                err,
                Error::Decode { .. } | Error::UnexpectedContentType { .. }
            ),
            "{spec} {action}: typed call failed before or while sending: {err}"
        );
    }
    let before = requests(server).await.len();
    assert_eq!(
        before, 1,
        "{spec} {action}: the typed call sent one request"
    );
    connection
        .execute_json(action, input.clone())
        .await
        .unwrap_or_else(|e| panic!("{spec} {action}: dynamic call: {e}"));
    let input_text = input.to_string();
    let uri = server.uri();
    let ran = run(
        &connector_gen(),
        &[
            "run",
            spec,
            action,
            "--name",
            name,
            "--input",
            &input_text,
            "--connection",
            &connection_path.to_string_lossy(),
            "--base-url",
            &uri,
        ],
        None,
    );
    assert_eq!(ran.code, 0, "{spec} {action}: connector-gen run: {ran:?}");
    requests(server).await
}

fn normalize_body(name: &str, action: &str, body: Value) -> Value {
    by_connector!(name, c => c::Client::normalize_json_body(action, body))
        .unwrap_or_else(|e| panic!("{name} {action}: example body: {e}"))
}

#[tokio::test]
async fn typed_dynamic_and_run_calls_send_identical_requests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut compared = 0;
    for (spec, name, connector) in samples() {
        let document = load_spec(&repo_root().join(spec));
        let connection_path = connection_file(connector, dir.path());
        for op in connector.operations.iter() {
            let server = recorder().await;
            let mut input = input_for(
                &document,
                &op.path,
                &op.method.as_str().to_ascii_lowercase(),
            );
            // The typed call's arguments are what the example deserialises into: an untagged
            // union keeps only its variant's fields. Every caller gets those same arguments.
            if let Some(body) = input.get_mut("body") {
                *body = normalize_body(name, &op.id, body.take());
            }
            let seen = three_calls(
                spec,
                name,
                connector,
                &op.id,
                &input,
                &connection_path,
                &server,
            )
            .await;
            assert_eq!(seen.len(), 3, "{spec} {}: one request per caller", op.id);
            let typed = fingerprint(&seen[0]);
            assert_eq!(
                typed,
                fingerprint(&seen[1]),
                "{spec} {}: typed vs dynamic",
                op.id
            );
            assert_eq!(
                typed,
                fingerprint(&seen[2]),
                "{spec} {}: typed vs run",
                op.id
            );
            compared += 1;
        }
    }
    let total: usize = samples().iter().map(|(_, _, c)| c.operations.len()).sum();
    assert_eq!(compared, total);
}
