//! A manifest's per-version events (`[[versions.webhooks]]`, `webhook_signature`,
//! `webhook_event`): lowered with the version's spec like the spec's own events, and every
//! mistake an error naming its manifest key.

use std::path::{Path, PathBuf};

use connector_gen::ir::{Method, TypeRef};
use connector_gen::versions::load_manifest;
use connector_gen::Options;
use serde_json::json;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A manifest `text` in a temporary folder beside copies of the sample specs it may name.
fn manifest(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for spec in [
        "acme/acme-v2.yaml",
        "webhooks.yaml",
        "swagger2.yaml",
        "openapi31.yaml",
    ] {
        let name = Path::new(spec).file_name().unwrap();
        std::fs::copy(repo().join("specs").join(spec), dir.path().join(name)).unwrap();
    }
    let path = dir.path().join("connector.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// A manifest of one version on `spec` with `rest` (its events and the like) appended.
fn version(spec: &str, rest: &str) -> String {
    format!("name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"{spec}\"\n{rest}")
}

fn error(text: &str) -> String {
    let (_dir, path) = manifest(text);
    match load_manifest(&path, &Options::default()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn mistakes_in_events_name_their_key() {
    let acme = |rest: &str| version("acme-v2.yaml", rest);
    let cases = [
        (
            acme("[[versions.webhooks]]\nname = \"a\"\npayload = \"#/components/schemas/Nope\"\n"),
            "`versions[0].webhooks[0].payload`: `$ref` \"#/components/schemas/Nope\" is not in the version's spec",
        ),
        (
            acme("[[versions.webhooks]]\nname = \"a\"\npayload = { type = \"object\", properties = { x = { \"$ref\" = \"#/components/schemas/Gone\" } } }\n"),
            "`versions[0].webhooks[0].payload`: `$ref` \"#/components/schemas/Gone\"",
        ),
        (
            acme("[[versions.webhooks]]\nname = \"a\"\nheaders = { X-Sig = { schema = \"#/components/schemas/Gone\" } }\n"),
            "`versions[0].webhooks[0].headers.X-Sig.schema`: `$ref`",
        ),
        (
            acme("[[versions.webhooks]]\nname = \"a\"\nmethod = \"FETCH\"\n"),
            "`versions[0].webhooks[0].method`: `FETCH` is not an HTTP method",
        ),
        (
            acme("[[versions.webhooks]]\nname = \"a\"\n[[versions.webhooks]]\nname = \"a\"\n"),
            "`versions[0].webhooks[1].name`: `a` is declared twice",
        ),
        (
            acme("[[versions.webhooks]]\nname = \"orders/paid\"\n"),
            "`versions[0].webhooks[0].name`: `orders/paid` is not an event name",
        ),
        (
            acme("[[versions.webhooks]]\nname = \"a\"\ncolour = \"red\"\n"),
            "unknown field `colour`",
        ),
        (
            acme("[[versions.webhooks]]\nname = \"a\"\npayload = 3\n"),
            "`versions[0].webhooks[0].payload`: expected a `$ref`",
        ),
        (
            acme("[[versions.webhooks]]\nname = \"a\"\npayload = { type = 7 }\n"),
            "`versions[0].webhooks[0].payload`: not a schema",
        ),
        (
            acme("[[versions.webhooks]]\nname = \"a\"\nheaders = { \"X Sig\" = {} }\n"),
            "`versions[0].webhooks[0].headers`: `X Sig` is not a header name",
        ),
        (
            acme("[versions.webhook_signature]\nscheme = \"gitlab\"\n"),
            "`versions[0].webhook_signature`: unknown variant `gitlab`",
        ),
        (
            acme("[versions.webhook_signature]\nscheme = \"hmac\"\nheder = \"X-Sig\"\n"),
            "`versions[0].webhook_signature`: unknown key `heder`",
        ),
        (
            acme("[versions.webhook_event]\ntype = { cookie = \"t\" }\n"),
            "`versions[0].webhook_event`: unknown variant `cookie`",
        ),
        (
            version(
                "webhooks.yaml",
                "[[versions.webhooks]]\nname = \"orderPaid\"\n",
            ),
            "`versions[0].webhooks[0].name`: the spec already declares an event `orderPaid`",
        ),
    ];
    for (text, expected) in cases {
        let err = error(&text);
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
        assert!(
            err.contains("connector.toml"),
            "the manifest is named: {err}"
        );
    }
}

#[test]
fn a_manifest_s_events_are_lowered_like_the_spec_s() {
    let loaded = load_manifest(
        &repo().join("specs/acme/connector.toml"),
        &Options::default(),
    )
    .expect("the Acme manifest");
    assert!(loaded.versions[0].connector.webhooks.is_empty());
    let connector = &loaded.versions[1].connector;
    let names: Vec<(&str, &str, Method)> = connector
        .webhooks
        .iter()
        .map(|w| (w.name.as_str(), w.source.as_str(), w.method))
        .collect();
    assert_eq!(
        names,
        [
            ("order.shipped", "manifest", Method::Post),
            ("order.cancelled", "manifest", Method::Post)
        ]
    );
    let shipped = &connector.webhooks[0];
    assert_eq!(shipped.pointer, "versions[1].webhooks[0]");
    let Some(TypeRef::Named(order)) = shipped.payload.as_ref().map(|p| p.ty.clone()) else {
        panic!("a named payload: {shipped:?}");
    };
    assert_eq!(
        connector.types[&order].rust_name, "Order",
        "the spec's own type"
    );
    let headers: Vec<(&str, bool)> = shipped
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.required))
        .collect();
    assert_eq!(headers, [("X-Acme-Delivery", true), ("X-Acme-Event", true)]);
    let signature = connector
        .webhook_signature
        .as_ref()
        .expect("the manifest's");
    assert_eq!(signature.header.as_deref(), Some("X-Acme-Signature"));
    assert_eq!(signature.prefix.as_deref(), Some("sha256="));
    assert!(connector.webhook_keys.event_id.is_some());

    let catalogue = connector_gen::catalogue::catalogue(connector);
    let cancelled = catalogue.webhook("order.cancelled").expect("listed");
    assert_eq!(cancelled.source, "manifest");
    let schema = catalogue.standalone(&cancelled.payload_schema);
    let valid = json!({"order": {"id": 1, "item": "pen"}, "reason": "stock"});
    let invalid = json!({"order": {"id": 1, "item": "pen"}, "reason": "rain"});
    let validator = jsonschema::validator_for(&schema).expect("a JSON Schema");
    assert!(validator.is_valid(&valid) && !validator.is_valid(&invalid));
    let table = connector_gen::inspect::webhooks_table(connector);
    assert!(
        table.contains("order.cancelled  POST    [manifest]"),
        "{table}"
    );
}

#[test]
fn a_filtered_version_keeps_its_declared_events_and_their_types() {
    let (_dir, path) = manifest(&version(
        "acme-v2.yaml",
        "include = { operations = [\"getStatus\"] }\n[[versions.webhooks]]\nname = \"order.shipped\"\nmethod = \"put\"\npayload = \"#/components/schemas/Order\"\n",
    ));
    let loaded = load_manifest(&path, &Options::default()).unwrap();
    let connector = &loaded.versions[0].connector;
    assert_eq!(connector.operations.len(), 1);
    assert_eq!(connector.webhooks.len(), 1);
    assert_eq!(connector.webhooks[0].method, Method::Put);
    assert!(
        connector.types.values().any(|t| t.rust_name == "Order"),
        "the payload's type is kept though no kept operation uses it"
    );
    let module = connector_gen::versions::render_versioned_module(
        &loaded,
        &Options::default(),
        "connector.toml",
    )
    .unwrap();
    assert!(module.contains("pub struct Order"), "{module}");
}

#[test]
fn references_and_schemas_follow_the_spec_s_own_dialect() {
    // Swagger 2: the spec's `#/definitions/...`, as its user wrote them.
    let (_dir, path) = manifest(&version(
        "swagger2.yaml",
        "[[versions.webhooks]]\nname = \"box.created\"\npayload = \"#/definitions/NewBox\"\n",
    ));
    let loaded = load_manifest(&path, &Options::default()).unwrap();
    let connector = &loaded.versions[0].connector;
    let Some(TypeRef::Named(id)) = connector.webhooks[0].payload.as_ref().map(|p| p.ty.clone())
    else {
        panic!("{:?}", connector.webhooks[0]);
    };
    assert_eq!(connector.types[&id].rust_name, "NewBox");
    // OpenAPI 3.1: an inline schema in JSON Schema 2020-12 (a type array with null).
    let (_dir, path) = manifest(&version(
        "openapi31.yaml",
        "[[versions.webhooks]]\nname = \"note\"\npayload = { type = \"object\", required = [\"text\"], properties = { text = { type = [\"string\", \"null\"] } } }\n",
    ));
    let loaded = load_manifest(&path, &Options::default()).unwrap();
    let connector = &loaded.versions[0].connector;
    let catalogue = connector_gen::catalogue::catalogue(connector);
    let note = catalogue.webhook("note").expect("listed");
    let schema = catalogue.standalone(&note.payload_schema);
    let validator = jsonschema::validator_for(&schema).expect("a JSON Schema");
    assert!(validator.is_valid(&json!({"text": null})));
    assert!(validator.is_valid(&json!({"text": "hi"})));
    assert!(!validator.is_valid(&json!({"text": 3})));
}
