//! The hostile-input guarantees (RELIABILITY.md DS-1..DS-3, GN) for the OpenAPI 3.1 and
//! Swagger 2.0 readers: size, alias and nesting limits hold before either converter runs,
//! deep documents within the limits convert without exhausting the stack, external references
//! are never fetched, and no description they carry becomes runnable doc text.

use std::time::Duration;

use crate::support::{coded, generate, runnable_blocks, within};
use connector_gen::diagnostics::Code;
use connector_gen::{load_connector, Options};
use serde_json::json;

const SECOND: Duration = Duration::from_secs(1);

fn headers() -> [&'static str; 2] {
    [
        "swagger: \"2.0\"\ninfo: {title: t, version: \"1\"}\n",
        "openapi: 3.1.0\ninfo: {title: t, version: \"1\"}\n",
    ]
}

#[test]
fn size_alias_and_nesting_limits_hold_for_both_readers() {
    for header in headers() {
        // 9x9 aliases: 387 million strings if expanded.
        let mut laughs = format!("{header}a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let keys = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in keys.windows(2) {
            let refs = vec![format!("*{}", pair[0]); 9].join(", ");
            laughs.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
        }
        let (result, _) = within(SECOND, || generate(&laughs));
        coded(&result.unwrap_err(), Code::AliasExpansionLimit);

        let deep = format!("{header}x: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let (result, _) = within(SECOND, || generate(&deep));
        coded(&result.unwrap_err(), Code::NestingLimit);

        let options = Options {
            max_spec_bytes: 64,
            ..Options::default()
        };
        let big = format!("{header}{}", "x: 1\n".repeat(100));
        let err = load_connector(big.as_bytes(), &options).unwrap_err();
        coded(&err, Code::SpecTooLarge);
    }
}

/// Schemas nested as deep as the parser allows, in the forms each converter rewrites (2.0
/// `x-nullable` objects and arrays; 3.1 type arrays, `prefixItems` and `$ref` siblings).
#[test]
fn documents_nested_to_the_limit_convert_without_overflow() {
    let mut two = json!({"type": "string", "x-nullable": true});
    let mut three = json!({"type": ["string", "null"]});
    for level in 0..55 {
        two = if level % 2 == 0 {
            json!({"type": "object", "x-nullable": true, "properties": {"p": two}})
        } else {
            json!({"type": "array", "items": two})
        };
        three = match level % 3 {
            0 => json!({"type": ["object", "array"], "properties": {"p": three}}),
            1 => json!({"prefixItems": [three], "items": false}),
            _ => json!({"$ref": "#/components/schemas/Leaf", "description": "d", "allOf": [three]}),
        };
    }
    let specs = [
        json!({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {},
               "definitions": {"Deep": two}}),
        json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
               "components": {"schemas": {"Deep": three, "Leaf": {"type": "string"}}}}),
    ];
    for spec in specs {
        let text = spec.to_string();
        let (result, _) = within(5 * SECOND, || generate(&text));
        let (code, _) = result.unwrap_or_else(|e| panic!("{e}"));
        syn::parse_file(&code).expect("valid Rust");
    }
}

#[test]
fn external_references_are_never_fetched_by_either_reader() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let remote = format!("http://127.0.0.1:{port}/x.yaml");
    let two = json!({
        "swagger": "2.0", "info": {"title": "t", "version": "1"},
        "paths": {
            "/a": {"post": {
                "parameters": [{"$ref": remote}, {"name": "b", "in": "body", "schema": {"$ref": remote}}],
                "responses": {"200": {"$ref": remote}, "201": {"description": "x", "schema": {"$ref": "../outside.yaml"}}}
            }},
            "/b": {"$ref": remote}
        },
        "definitions": {"D": {"$ref": "file:///etc/passwd"}}
    });
    let three = json!({
        "openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"$ref": remote}, "/b": {"get": {"responses": {"200": {
            "description": "x",
            "content": {"application/json": {"schema": {"$ref": remote, "description": "sibling"}}}
        }}}}},
        "webhooks": {"w": {"$ref": remote}, "v": {"post": {"requestBody": {"$ref": remote}, "responses": {}}}},
        "components": {"schemas": {"D": {"$ref": "file:///etc/passwd", "nullable": true}}}
    });
    for spec in [two, three] {
        let text = spec.to_string();
        let (_, warnings) = generate(&text).unwrap_or_else(|e| panic!("{e}"));
        let external = warnings
            .iter()
            .filter(|w| w.contains("[ExternalRefDisabled]"))
            .count();
        assert!(external >= 4, "{warnings:#?}");
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing may connect to the referenced server"
    );
}

/// Descriptions and summaries the new readers carry (2.0 parameters, responses, definitions
/// and security schemes; 3.1 `info.summary`, webhooks, `$ref` siblings, type-array unions)
/// never become runnable doc text in the generated code.
#[test]
fn descriptions_from_both_readers_never_become_doctests() {
    let exit = "std::process::exit(42);";
    let fenced = format!("```\n{exit}\n```");
    let indented = format!("Text\n\n    {exit}");
    let two = json!({
        "swagger": "2.0", "info": {"title": "t", "version": "1", "description": fenced},
        "securityDefinitions": {"k": {"type": "apiKey", "name": "k", "in": "header", "description": fenced}},
        "paths": {"/a": {"post": {
            "operationId": "a", "summary": indented, "description": fenced,
            "parameters": [
                {"name": "q", "in": "query", "type": "string", "description": fenced},
                {"name": "b", "in": "body", "description": indented, "schema": {"$ref": "#/definitions/D"}}
            ],
            "responses": {"200": {"description": fenced, "schema": {"$ref": "#/definitions/D"},
                                   "headers": {"X": {"type": "string", "description": fenced}}}}
        }}},
        "definitions": {"D": {"type": "object", "description": fenced,
                               "properties": {"p": {"type": "string", "description": indented}}}}
    });
    let three = json!({
        "openapi": "3.1.0", "info": {"title": "t", "version": "1", "summary": fenced},
        "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "x",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/D"}}}}}}}},
        "webhooks": {"w": {"post": {"summary": fenced, "description": indented,
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/D"}}}},
            "responses": {}}}},
        "components": {"schemas": {"D": {"type": "object", "properties": {
            "r": {"$ref": "#/components/schemas/E", "description": fenced},
            "u": {"type": ["string", "integer"], "description": indented}
        }}, "E": {"type": "string", "description": fenced}}}
    });
    for spec in [two, three] {
        let (code, _) = generate(&spec.to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert!(code.contains("exit(42)"), "the text is kept: {code}");
        let docs: String = code
            .lines()
            .map(str::trim_start)
            .filter_map(|l| l.strip_prefix("///").or_else(|| l.strip_prefix("//!")))
            .collect::<Vec<_>>()
            .join("\n");
        let blocks = runnable_blocks(&docs);
        assert!(blocks.is_empty(), "{blocks:?}");
    }
}
