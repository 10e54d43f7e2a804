//! Every OpenAPI version is read into one model: a Swagger 2.0 and an OpenAPI 3.1 sample each
//! lower to the same IR and the same catalogue as the same API written in OpenAPI 3.0 by hand
//! (`specs/equivalent/`); only the spec pointers differ, since each names the document it came
//! from. Diagnostics name the pointers of the document the user wrote.

use std::path::Path;

use connector_gen::{catalogue, load_connector, Options};
use serde_json::Value;

fn lowered(spec: &str) -> connector_gen::Lowered {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(spec);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{spec}: {e}"));
    load_connector(&bytes, &Options::default()).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

/// The IR as JSON without its spec pointers.
fn without_pointers(mut value: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("pointer");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

/// `value` (an IR or a catalogue) without its events' `source`: where an event is declared is how
/// it is written (3.1 `webhooks` are a 3.0 document's `x-webhooks`).
fn without_sources(mut value: Value) -> Value {
    for event in value["webhooks"].as_array_mut().into_iter().flatten() {
        let source = event.as_object_mut().and_then(|e| e.remove("source"));
        assert!(
            matches!(
                source.as_ref().and_then(Value::as_str),
                Some("webhooks" | "x-webhooks" | "callbacks")
            ),
            "{source:?}"
        );
    }
    value
}

fn assert_same(spec: &str, equivalent: &str) {
    let (a, b) = (lowered(spec), lowered(equivalent));
    let ir = |l: &connector_gen::Lowered| {
        without_sources(without_pointers(
            serde_json::to_value(&l.connector).expect("IR serialises"),
        ))
    };
    let (ir_a, ir_b) = (ir(&a), ir(&b));
    if ir_a != ir_b {
        let (text_a, text_b) = (
            serde_json::to_string_pretty(&ir_a).unwrap_or_default(),
            serde_json::to_string_pretty(&ir_b).unwrap_or_default(),
        );
        let first = text_a
            .lines()
            .zip(text_b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        let around = |t: &str| {
            t.lines()
                .skip(first.saturating_sub(8))
                .take(16)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{spec} and {equivalent} lower to different IRs:\n--- {spec}\n{}\n--- {equivalent}\n{}",
            around(&text_a),
            around(&text_b)
        );
    }
    let catalogue = |l: &connector_gen::Lowered| {
        let text = catalogue::catalogue_json(&l.connector);
        without_sources(serde_json::from_str(&text).expect("the catalogue is JSON"))
    };
    assert_eq!(
        catalogue(&a),
        catalogue(&b),
        "{spec} and {equivalent}: catalogues"
    );
    assert_eq!(
        a.warnings.iter().map(|w| &w.message).collect::<Vec<_>>(),
        b.warnings.iter().map(|w| &w.message).collect::<Vec<_>>(),
        "{spec} and {equivalent}: warnings"
    );
}

#[test]
fn swagger2_sample_lowers_as_its_openapi30_equivalent() {
    assert_same(
        "specs/swagger2.yaml",
        "specs/equivalent/swagger2.openapi30.yaml",
    );
}

#[test]
fn openapi31_sample_lowers_as_its_openapi30_equivalent() {
    assert_same(
        "specs/openapi31.yaml",
        "specs/equivalent/openapi31.openapi30.yaml",
    );
}

/// Pointers in the IR and in warnings name the document the user wrote, never the converted
/// form: a 2.0 definition is at `#/definitions/...`, a body parameter where it was declared.
#[test]
fn pointers_name_the_document_the_user_wrote() {
    let two = lowered("specs/swagger2.yaml");
    let box_type = two
        .connector
        .types
        .values()
        .find(|t| t.rust_name == "NewBox")
        .expect("NewBox");
    assert_eq!(box_type.pointer, "#/definitions/NewBox");
    assert_eq!(
        two.warnings[0].pointer,
        "#/securityDefinitions/implicit/flow"
    );
    for def in two.connector.types.values() {
        assert!(
            !def.pointer.contains("/components/") && !def.pointer.contains("requestBody"),
            "{} at {}",
            def.rust_name,
            def.pointer
        );
    }
    let spec = br#"
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /a:
    post:
      parameters:
        - {name: q, in: query, type: string}
        - {name: body, in: body, schema: {$ref: "https://example.com/x.json"}}
      responses: {"200": {description: ok, schema: {type: object, properties: {n: {type: [string]}}}}}
"#;
    let lowered = load_connector(spec, &Options::default()).expect("lowers");
    let pointers: Vec<&str> = lowered
        .warnings
        .iter()
        .map(|w| w.pointer.as_str())
        .collect();
    assert_eq!(
        pointers,
        [
            // No `host`: a relative server.
            "#",
            "#/paths/~1a/post/parameters/1/schema",
            "#/paths/~1a/post/responses/200/schema/properties/n"
        ],
        "{:?}",
        lowered.warnings
    );

    let three = br#"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: [object, string]
                properties: {x: {if: {}}}
"#;
    let lowered = load_connector(three, &Options::default()).expect("lowers");
    assert_eq!(
        lowered
            .warnings
            .iter()
            .map(|w| w.pointer.as_str())
            .collect::<Vec<_>>(),
        ["#/paths/~1a/get/responses/200/content/application~1json/schema/properties/x"],
        "{:?}",
        lowered.warnings
    );
}

fn connector_gen(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_connector-gen"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("connector-gen runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Webhooks are events: `inspect` and `describe` list them with their payload and headers, the
/// catalogue holds their schemas, and no action calls them.
#[test]
fn webhooks_are_listed_by_inspect_and_describe_and_are_no_actions() {
    let (code, out, err) = connector_gen(&["inspect", "specs/openapi31.yaml"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("1 events")
            && out.contains(
                "itemCreated  POST    [webhooks] [payload: ItemEvent] [headers: X-Signature]"
            ),
        "{out}"
    );
    let (code, out, err) = connector_gen(&["describe", "specs/openapi31.yaml"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("itemCreated"), "{out}");
    let (code, out, err) = connector_gen(&["describe", "specs/openapi31.yaml", "--json"]);
    assert_eq!(code, 0, "{err}");
    let catalogue: Value = serde_json::from_str(&out).expect("JSON");
    let webhook = &catalogue["webhooks"][0];
    assert_eq!(webhook["name"], "itemCreated");
    assert_eq!(webhook["method"], "POST");
    assert_eq!(webhook["payload_schema"]["$ref"], "#/$defs/ItemEvent");
    assert_eq!(webhook["headers"][0]["name"], "X-Signature");
    assert_eq!(webhook["headers"][0]["required"], true);
    assert!(catalogue["$defs"]["ItemEvent"].is_object(), "{catalogue:#}");
    let actions: Vec<&str> = catalogue["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert!(!actions.contains(&"itemCreatedEvent"), "{actions:?}");
    // The spec's `oneOf` and its discriminator survive into the catalogue.
    let shape = &catalogue["$defs"]["Shape"];
    assert!(shape["oneOf"].is_array(), "{shape:#}");
    assert_eq!(shape["discriminator"]["propertyName"], "shape");
    assert_eq!(
        shape["discriminator"]["mapping"]["circle"],
        "#/$defs/Circle"
    );
    // 3.1 keywords the catalogue can say are kept.
    let new_item = &catalogue["$defs"]["NewItem"]["properties"];
    assert_eq!(new_item["position"]["prefixItems"][0]["type"], "integer");
    assert_eq!(new_item["position"]["items"], false);
    assert_eq!(new_item["thumbnail"]["contentEncoding"], "base64");
    assert_eq!(new_item["thumbnail"]["contentMediaType"], "image/png");
    assert_eq!(
        new_item["name"]["examples"],
        serde_json::json!(["Hammer", "Saw"])
    );
    assert_eq!(
        catalogue["$defs"]["Circle"]["properties"]["shape"]["$ref"],
        "#/$defs/CircleShape"
    );
    assert_eq!(catalogue["$defs"]["CircleShape"]["const"], "circle");
    assert_eq!(
        catalogue["summary"],
        "Items, their shapes and their readings."
    );
    assert_eq!(catalogue["license"]["identifier"], "Apache-2.0");
    let schemes = catalogue["security_schemes"].as_array().expect("schemes");
    assert!(
        schemes.iter().any(|s| s["type"] == "mutualTLS"),
        "{schemes:?}"
    );
}
