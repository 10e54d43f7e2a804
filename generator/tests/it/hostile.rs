//! Hostile specs (issue 8, generator side; RELIABILITY.md DS-1..DS-3 and GN): each test builds an
//! adversarial spec, runs the real pipeline and inspects the result with `syn`/`proc-macro2`.
//! The sample spec `specs/awkward.yaml` carries the same cases into the `tests` crate, which
//! compiles the generated code and runs its doctests.

use crate::support;
use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{coded, generate, generate_json, runnable_blocks, spec, tokens, within};
use connector_gen::diagnostics::Code;
use connector_gen::{generate_crate, Options, RuntimeDependency};
use serde_json::json;

const SECOND: Duration = Duration::from_secs(1);

/// A runnable Rust statement: if any description reached rustdoc as a doctest, it would run.
const EXIT: &str = "std::process::exit(42);";

/// Descriptions that form a code block in each way CommonMark allows.
fn hostile_descriptions() -> Vec<String> {
    [
        "> ```\n> EXIT\n> ```",
        "> ```rust\n> EXIT\n> ```",
        "- item\n- ```\n  EXIT\n  ```",
        "1. one\n\n   ```\n   EXIT\n   ```",
        "~~~\nEXIT\n~~~",
        "~~~~rust,no_run\nEXIT\n~~~~",
        "Text\n\n    EXIT",
        "- item\n\n      EXIT",
        ">     EXIT",
        "> - > ```\n>   > EXIT\n>   > ```",
        "```\nEXIT",
        "\tEXIT",
        "<pre>\nEXIT\n</pre>",
        "Intro\r\n\r\n```\r\nEXIT\r\n```",
    ]
    .iter()
    .map(|d| d.replace("EXIT", EXIT))
    .collect()
}

#[test]
fn item1_spec_code_blocks_never_become_doctests() {
    let descriptions = hostile_descriptions();
    let mut schemas = serde_json::Map::new();
    let mut properties = serde_json::Map::new();
    for (i, d) in descriptions.iter().enumerate() {
        schemas.insert(
            format!("S{i}"),
            json!({"type": "object", "description": d, "properties": {"a": {"type": "string"}}}),
        );
        properties.insert(format!("p{i}"), json!({"type": "string", "description": d}));
    }
    schemas.insert(
        "Holder".into(),
        json!({"type": "object", "properties": properties}),
    );
    let paths = json!({"/x": {"get": {
        "operationId": "op",
        "summary": descriptions[0],
        "description": descriptions[2],
        "parameters": [{"name": "q", "in": "query", "description": descriptions[4], "schema": {"type": "string"}}],
        "responses": {"204": {"description": "ok"}, "404": {"description": descriptions[6]}}
    }}});
    let (code, _) = generate_json(&spec(serde_json::Value::Object(schemas), paths));
    syn::parse_file(&code).unwrap();
    let docs = tokens(&code).docs;
    let with_exit = docs.iter().filter(|d| d.contains(EXIT)).count();
    assert!(
        with_exit >= descriptions.len() * 2,
        "the descriptions must reach the docs: {with_exit}"
    );
    for doc in &docs {
        assert_eq!(runnable_blocks(doc), Vec::<String>::new());
    }
}

#[test]
fn ds1_json_nested_10000_deep_is_a_nesting_limit() {
    let deep = format!(
        "{{\"openapi\": \"3.0.0\", \"x\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let (result, _) = within(SECOND, || generate(&deep));
    let diag = coded(&result.unwrap_err(), Code::NestingLimit);
    assert_eq!(diag.pointer, "#");
    assert!(diag.message.contains("128"), "{}", diag.message);
}

#[test]
fn ds1_yaml_nested_10000_deep_is_a_nesting_limit() {
    let flow = format!(
        "openapi: 3.0.0\nx: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let mappings = format!(
        "openapi: 3.0.0\nx: {}1{}\n",
        "{a: ".repeat(10_000),
        "}".repeat(10_000)
    );
    // Block sequences nest on one line: `- - - x`.
    let block = format!("openapi: 3.0.0\nx:\n{}x\n", "- ".repeat(10_000));
    for deep in [flow, mappings, block] {
        // libyaml's scanner is quadratic in flow nesting (~0.4 s here for 10,000 levels, before
        // the limit can refuse it); the bound leaves room for a loaded 2-core machine.
        let (result, took) = within(3 * SECOND, || generate(&deep));
        eprintln!("{} bytes nested 10,000 deep: {took:?}", deep.len());
        let err = result.unwrap_err();
        let diag = coded(&err, Code::NestingLimit);
        // Debug-printing the error must not recurse through a partial value either.
        assert!(format!("{err:?}").len() < 10_000);
        assert_eq!(diag.pointer, "#");
    }
}

#[test]
fn ds2_schema_cycles_generate_boxed() {
    let schemas = json!({
        "A": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/A"}}},
        "B": {"type": "object", "required": ["c"], "properties": {"c": {"$ref": "#/components/schemas/C"}}},
        "C": {"type": "object", "required": ["b"], "properties": {"b": {"$ref": "#/components/schemas/B"}}}
    });
    let ((code, _), _) = within(SECOND, || generate_json(&spec(schemas, json!({}))));
    syn::parse_file(&code).unwrap();
    assert!(code.contains("Option<Box<A>>"), "{code}");
    assert!(code.contains("Box<"), "{code}");
}

#[test]
fn ds2_response_and_parameter_ref_cycles_are_errors() {
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "Cycles", "version": "1"},
        "paths": {"/r": {"get": {
            "parameters": [{"$ref": "#/components/parameters/P1"}],
            "responses": {"200": {"$ref": "#/components/responses/R1"}}
        }}},
        "components": {
            "responses": {"R1": {"$ref": "#/components/responses/R1"}},
            "parameters": {"P1": {"$ref": "#/components/parameters/P1"}},
            "schemas": {"S": {"$ref": "#/components/schemas/T"}, "T": {"$ref": "#/components/schemas/S"}}
        }
    });
    let (result, _) = within(SECOND, || generate(&doc.to_string()));
    let err = result.unwrap_err();
    let cycles: Vec<String> = support::diagnostics(&err)
        .iter()
        .filter(|d| d.code == Some(Code::RefCycle))
        .map(|d| d.pointer.clone())
        .collect();
    for pointer in [
        "#/components/responses/R1",
        "#/components/parameters/P1",
        "#/components/schemas/S",
    ] {
        assert!(cycles.iter().any(|p| p == pointer), "{pointer}: {err}");
    }
    assert!(err.to_string().contains("error[RefCycle]"), "{err}");
}

#[test]
fn ds2_ref_chain_longer_than_64_is_ref_depth() {
    let mut parameters = serde_json::Map::new();
    for i in 0..100 {
        parameters.insert(
            format!("P{i}"),
            json!({"$ref": format!("#/components/parameters/P{}", i + 1)}),
        );
    }
    parameters.insert(
        "P100".into(),
        json!({"name": "q", "in": "query", "schema": {"type": "string"}}),
    );
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "Chain", "version": "1"},
        "paths": {"/r": {"get": {
            "parameters": [{"$ref": "#/components/parameters/P0"}],
            "responses": {"204": {"description": "ok"}}
        }}},
        "components": {"parameters": parameters}
    });
    let (result, _) = within(SECOND, || generate(&doc.to_string()));
    let diag = coded(&result.unwrap_err(), Code::RefDepth);
    assert!(
        diag.pointer.starts_with("#/components/parameters/P"),
        "{diag}"
    );
}

#[test]
fn ds3_size_limit_is_checked_before_parsing() {
    // Not even valid UTF-8: only a check made before parsing can name the size.
    let big = vec![0xffu8; 64 * 1024];
    let options = Options {
        max_spec_bytes: 1024,
        ..Options::default()
    };
    let err = connector_gen::load_connector(&big, &options).unwrap_err();
    let diag = coded(&err, Code::SpecTooLarge);
    assert!(diag.message.contains("1024"), "{diag}");
    assert_eq!(
        connector_gen::load::DEFAULT_MAX_SPEC_BYTES,
        20 * 1024 * 1024
    );
}

#[test]
fn ds3_external_refs_are_never_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.yaml");
    std::fs::write(&outside, "type: string\n").unwrap();
    let refs = [
        format!("http://127.0.0.1:{port}/schema.json"),
        format!("https://127.0.0.1:{port}/schema.json"),
        "file:///etc/passwd".to_owned(),
        "../outside.yaml".to_owned(),
        format!("{}#/x", outside.display()),
    ];
    let properties: serde_json::Map<String, serde_json::Value> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("p{i}"), json!({"$ref": r})))
        .collect();
    let schemas = json!({"Thing": {"type": "object", "properties": properties}});
    let (_, warnings) = generate_json(&spec(schemas, json!({})));
    let external = warnings
        .iter()
        .filter(|w| w.contains("[ExternalRefDisabled]"))
        .count();
    assert_eq!(external, refs.len(), "{warnings:#?}");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing may connect to the referenced server"
    );
}

/// `S0 .. S{depth-1}` each `allOf` the next schema twice plus a property of their own; the last
/// is a plain object.
fn all_of_chain(depth: usize) -> serde_json::Value {
    let mut schemas = serde_json::Map::new();
    for i in 0..depth {
        let next = json!({"$ref": format!("#/components/schemas/S{}", i + 1)});
        schemas.insert(
            format!("S{i}"),
            json!({"allOf": [next, next, {"type": "object", "properties": {format!("p{i}"): {"type": "integer"}}}]}),
        );
    }
    schemas.insert(
        format!("S{depth}"),
        json!({"type": "object", "properties": {"leaf": {"type": "string"}}}),
    );
    spec(serde_json::Value::Object(schemas), json!({}))
}

#[test]
fn item3_all_of_chain_listing_each_member_twice_is_linear() {
    // 30 is within the `allOf` nesting the generator follows (32), so every level is merged.
    let depth = 30;
    let ((code, _), took) = within(SECOND, || generate_json(&all_of_chain(depth)));
    eprintln!("allOf chain of depth {depth}: {took:?}");
    syn::parse_file(&code).unwrap();
    // S0 merges its own property and every one below it, each once.
    let s0 = code.split("pub struct S0 {").nth(1).unwrap();
    let s0 = &s0[..s0.find('}').unwrap()];
    assert_eq!(s0.matches("pub p").count(), depth, "{s0}");
    assert_eq!(s0.matches("pub leaf").count(), 1, "{s0}");
    // Far deeper chains are cut at the nesting limit, with a warning, and stay fast.
    let ((_, warnings), took) = within(5 * SECOND, || generate_json(&all_of_chain(300)));
    eprintln!("allOf chain of depth 300: {took:?}");
    assert!(warnings.iter().any(|w| w.contains("nested more than")));
}

#[test]
fn item8_prelude_names_do_not_shadow_the_prelude() {
    let prelude = [
        "Some", "None", "Ok", "Err", "Option", "Result", "Vec", "String", "Box", "Default",
        "Clone", "Iterator", "From", "Into", "Send", "Sync", "Copy", "Drop",
    ];
    let mut schemas = serde_json::Map::new();
    for name in prelude {
        schemas.insert(
            name.to_owned(),
            json!({"type": "integer", "format": "int32", "enum": [1, 2]}),
        );
    }
    schemas.insert(
        "Choice".into(),
        json!({
            "oneOf": [{"$ref": "#/components/schemas/Tagged"}],
            "discriminator": {"propertyName": "kind"}
        }),
    );
    schemas.insert(
        "Tagged".into(),
        json!({"type": "object", "properties": {"kind": {"type": "string"}, "some": {"$ref": "#/components/schemas/Some"}}}),
    );
    let (code, _) = generate_json(&spec(serde_json::Value::Object(schemas), json!({})));
    let file = syn::parse_file(&code).unwrap();
    let defined = defined_types(&file);
    for name in prelude {
        assert!(!defined.contains(name), "`{name}` shadows the prelude");
        assert!(defined.contains(&format!("{name}Type")), "{defined:?}");
    }
    // The wire names stay as the spec has them.
    assert!(
        code.contains("Schema at `#/components/schemas/Some`"),
        "{code}"
    );
}

/// Names of the structs, enums and type aliases defined anywhere in `file`.
fn defined_types(file: &syn::File) -> BTreeSet<String> {
    fn items(list: &[syn::Item], out: &mut BTreeSet<String>) {
        for item in list {
            match item {
                syn::Item::Struct(s) => drop(out.insert(s.ident.to_string())),
                syn::Item::Enum(e) => drop(out.insert(e.ident.to_string())),
                syn::Item::Type(t) => drop(out.insert(t.ident.to_string())),
                syn::Item::Mod(m) => {
                    if let Some((_, content)) = &m.content {
                        items(content, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = BTreeSet::new();
    items(&file.items, &mut out);
    out
}

#[test]
fn item8_int32_enum_values_beyond_i32_widen_with_a_warning() {
    let schemas = json!({
        "Big": {"type": "integer", "format": "int32", "enum": [1, 4_294_967_296i64]},
        "Unsigned": {"type": "integer", "format": "uint32", "enum": [-1]},
        "Small": {"type": "integer", "format": "int32", "enum": [-2_147_483_648i64, 2_147_483_647]}
    });
    let (code, warnings) = generate_json(&spec(schemas, json!({})));
    syn::parse_file(&code).unwrap();
    assert!(code.contains("pub struct Big(pub i64)"), "{code}");
    assert!(code.contains("pub struct Unsigned(pub i64)"), "{code}");
    assert!(code.contains("pub struct Small(pub i32)"), "{code}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("4294967296") && w.contains("#/components/schemas/Big/enum")),
        "{warnings:#?}"
    );
}

#[test]
fn item8_path_templates_that_cannot_work_are_left_out_with_a_warning() {
    let op =
        |id: &str| json!({"get": {"operationId": id, "responses": {"204": {"description": "ok"}}}});
    let paths = json!({
        "/good/{id}": op("good"),
        "/open/{id": op("unbalancedOpen"),
        "/close/id}": op("unbalancedClose"),
        "/files/../admin": op("dotDot"),
        "/files/./x": op("dot"),
        "/files/%2e%2E/x": op("encodedDotDot"),
        "/q?x=1": op("query")
    });
    let (code, warnings) = generate_json(&spec(json!({}), paths));
    syn::parse_file(&code).unwrap();
    let strings = tokens(&code).strings;
    assert!(strings.iter().any(|s| s == "/good/{id}"));
    for (path, pointer) in [
        ("/open/{id", "#/paths/~1open~1{id"),
        ("/close/id}", "#/paths/~1close~1id}"),
        ("/files/../admin", "#/paths/~1files~1..~1admin"),
        ("/files/./x", "#/paths/~1files~1.~1x"),
        ("/files/%2e%2E/x", "#/paths/~1files~1%2e%2E~1x"),
        ("/q?x=1", "#/paths/~1q?x=1"),
    ] {
        assert!(!strings.iter().any(|s| s == path), "{path} generated");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("left out") && w.contains(&format!("(at {pointer})"))),
            "{path}: {warnings:#?}"
        );
    }
}

#[test]
fn item8_headers_the_client_owns_are_ignored_with_a_warning() {
    let names = [
        "Host",
        "Content-Length",
        "transfer-encoding",
        "Connection",
        "Keep-Alive",
        "Upgrade",
        "TE",
    ];
    let mut params: Vec<serde_json::Value> = names
        .iter()
        .map(|n| json!({"name": n, "in": "header", "required": true, "schema": {"type": "string"}}))
        .collect();
    params.push(json!({"name": "X-Trace", "in": "header", "schema": {"type": "string"}}));
    let paths = json!({"/h": {"get": {"operationId": "h", "parameters": params, "responses": {"204": {"description": "ok"}}}}});
    let (code, warnings) = generate_json(&spec(json!({}), paths));
    syn::parse_file(&code).unwrap();
    let strings = tokens(&code).strings;
    assert!(strings.iter().any(|s| s == "X-Trace"));
    for (i, name) in names.iter().enumerate() {
        assert!(!strings.iter().any(|s| s == name), "{name} generated");
        let at = format!("(at #/paths/~1h/get/parameters/{i}/name)");
        assert!(
            warnings.iter().any(|w| w.contains(name) && w.contains(&at)),
            "{name}: {warnings:#?}"
        );
    }
}

#[test]
fn item9_crate_names_cargo_refuses_are_adjusted_with_the_reason() {
    let runtime = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.yaml");
    let cases = [
        (Some("self"), "Ok", "self-connector"),
        (Some("std"), "Ok", "std-connector"),
        (None, "Test", "test-connector"),
        (None, "core", "core-connector"),
        (Some("fn"), "Ok", "fn-connector"),
        (Some("%%%"), "Ok", "connector"),
    ];
    for (i, (name, title, expected)) in cases.into_iter().enumerate() {
        std::fs::write(
            &spec_path,
            format!("openapi: 3.0.0\ninfo: {{title: {title}, version: '1'}}\npaths: {{}}\n"),
        )
        .unwrap();
        let out = dir.path().join(format!("out{i}"));
        let options = Options {
            name: name.map(str::to_owned),
            runtime: RuntimeDependency::Path(runtime.clone()),
            ..Options::default()
        };
        let report = generate_crate(&spec_path, &out, &options).unwrap();
        assert_eq!(report.connector.crate_name, expected);
        if expected != "connector" {
            assert!(
                report
                    .warnings
                    .iter()
                    .any(|w| w.message.contains(expected) && w.message.contains("instead")),
                "{:?}",
                report.warnings
            );
        }
        // cargo itself accepts the manifest (no build: reading it is what rejects names).
        let status = std::process::Command::new(&cargo)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .arg("--manifest-path")
            .arg(out.join("Cargo.toml"))
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "cargo refused the crate named {expected}");
    }
}
