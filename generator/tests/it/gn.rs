//! RELIABILITY.md GN: generated code is safe against hostile specs. One adversarial spec, built
//! here, goes through the real pipeline; the output is parsed with `syn` and its tokens inspected.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{generate_json, tokens};
use connector_gen::{generate_crate, Options};
use serde_json::{json, Value};

/// Breaks out of a string literal or a comment if pasted naively.
const BREAKOUT: &str = "\"; panic!(\"x\"); \" */ /* \\";
/// Right-to-left override, a bidi isolate, zero-width space, BOM and an Arabic letter mark.
const INVISIBLE: &[char] = &['\u{202e}', '\u{2066}', '\u{200b}', '\u{feff}', '\u{061c}'];

fn hostile_spec() -> Value {
    let invisible: String = INVISIBLE.iter().collect();
    json!({
        "openapi": "3.0.3",
        "info": {"title": format!("Evil {BREAKOUT}"), "version": "1", "description": "*/ fn injected() {} /*"},
        "servers": [{"url": format!("https://api.example.com/{BREAKOUT}")}],
        "paths": {
            format!("/items/{{id}}/\"quoted\"{invisible}"): {"get": {
                "operationId": format!("list{BREAKOUT}"),
                "tags": ["../../escape", "/abs", "..", "con"],
                "summary": format!("line\nbreak */ fn injected_summary() {{}} {invisible}"),
                "description": "```\nfn injected_doc() {}\n```\n\n    fn injected_indented() {}",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": format!("q{BREAKOUT}"), "in": "query", "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok", "content": {
                    format!("application/vnd.evil+json; x=\"{BREAKOUT}\""): {"schema": {"$ref": "#/components/schemas/Thing"}}
                }}}
            }},
            "/things": {
                "get": {"operationId": "../../../../tmp/owned", "responses": {"204": {"description": "ok"}}},
                "post": {"operationId": "", "responses": {"204": {"description": "ok"}}},
                "put": {"operationId": "🙂", "responses": {"204": {"description": "ok"}}},
                "delete": {"operationId": "fn", "responses": {"204": {"description": "ok"}}},
                "patch": {"operationId": "123", "responses": {"204": {"description": "ok"}}}
            }
        },
        "components": {"schemas": {
            "Thing": {
                "type": "object",
                "description": format!("*/ fn injected_type() {{}} /* {BREAKOUT}"),
                "properties": {
                    "type": {"type": "string", "default": BREAKOUT},
                    "Type": {"type": "string"},
                    "": {"type": "string"},
                    "123": {"type": "string"},
                    "🙂": {"type": "string"},
                    "a-b": {"type": "string"},
                    "a_b": {"type": "string"},
                    "self": {"type": "string"},
                    format!("x{invisible}y"): {"type": "string"},
                    BREAKOUT: {"type": "string", "description": format!("{invisible} */")},
                    "kind": {"$ref": "#/components/schemas/Kind"}
                }
            },
            "Kind": {"type": "string", "enum": [BREAKOUT, "", "🙂", format!("a{invisible}b"), "Other", "other"]},
            "../../../x": {"type": "object", "properties": {"a": {"type": "string"}}},
            "thing": {"type": "object", "properties": {"b": {"type": "string"}}},
            "": {"type": "object", "properties": {"c": {"type": "string"}}}
        }}
    })
}

#[test]
fn gn_docs_cannot_leave_their_doc_comment() {
    let (code, _) = generate_json(&hostile_spec());
    syn::parse_file(&code).unwrap();
    let found = tokens(&code);
    for injected in [
        "injected",
        "injected_summary",
        "injected_doc",
        "injected_indented",
        "injected_type",
        "panic",
    ] {
        assert!(
            !found.idents.iter().any(|i| i == injected),
            "`{injected}` became code"
        );
    }
    // The text is still there, as documentation.
    assert!(found.docs.iter().any(|d| d.contains("fn injected_type()")));
}

#[test]
fn gn_spec_strings_round_trip_in_literals() {
    let spec = hostile_spec();
    let (code, _) = generate_json(&spec);
    let strings: BTreeSet<String> = tokens(&code).strings.into_iter().collect();
    let invisible: String = INVISIBLE.iter().collect();
    let expected = [
        format!("/items/{{id}}/\"quoted\"{invisible}"),
        format!("https://api.example.com/{BREAKOUT}"),
        format!("q{BREAKOUT}"),
        format!("list{BREAKOUT}"),
        format!("application/vnd.evil+json; x=\"{BREAKOUT}\""),
        BREAKOUT.to_owned(),
        format!("x{invisible}y"),
        format!("a{invisible}b"),
        "🙂".to_owned(),
        "123".to_owned(),
        String::new(),
    ];
    for value in expected {
        assert!(
            strings.contains(&value),
            "{value:?} not a literal in the output"
        );
    }
}

#[test]
fn gn_names_are_valid_unique_and_keep_wire_names() {
    let (code, _) = generate_json(&hostile_spec());
    let file = syn::parse_file(&code).unwrap();
    let mut structs = Vec::new();
    collect_structs(&file.items, &mut structs);
    let thing = structs
        .iter()
        .find(|s| s.ident == "Thing")
        .expect("struct Thing");
    let fields: Vec<String> = thing
        .fields
        .iter()
        .filter_map(|f| f.ident.as_ref().map(ToString::to_string))
        .collect();
    let unique: BTreeSet<&String> = fields.iter().collect();
    assert_eq!(unique.len(), fields.len(), "{fields:?}");
    // Every wire name is kept for serde: either the field is named so or renamed to it.
    let strings: BTreeSet<String> = tokens(&code).strings.into_iter().collect();
    for wire in [
        "type", "Type", "", "123", "🙂", "a-b", "a_b", "self", BREAKOUT,
    ] {
        let same = fields
            .iter()
            .any(|f| f.strip_prefix("r#").unwrap_or(f) == wire);
        assert!(same || strings.contains(wire), "{wire:?} lost");
    }
    // Type names collide after case-folding (`Thing`/`thing`) and sanitising (`""`, a path).
    let names: Vec<String> = structs.iter().map(|s| s.ident.to_string()).collect();
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
}

fn collect_structs(items: &[syn::Item], out: &mut Vec<syn::ItemStruct>) {
    for item in items {
        match item {
            syn::Item::Struct(s) => out.push(s.clone()),
            syn::Item::Mod(m) => {
                if let Some((_, content)) = &m.content {
                    collect_structs(content, out);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn gn_no_invisible_or_bidi_characters_in_source() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, hostile_spec().to_string()).unwrap();
    let out = dir.path().join("out");
    generate_crate(&spec_path, &out, &Options::default()).unwrap();
    let (module, _) = generate_json(&hostile_spec());
    let mut texts = vec![module];
    for file in files_under(&out) {
        texts.push(std::fs::read_to_string(file).unwrap());
    }
    for text in texts {
        for c in text.chars() {
            assert!(!INVISIBLE.contains(&c), "{c:?} in output");
            assert!(c == '\n' || !c.is_control(), "{c:?} in output");
        }
    }
}

#[test]
fn gn_files_stay_inside_the_output_folder_and_generation_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, hostile_spec().to_string()).unwrap();
    let nested = dir.path().join("a/b");
    let first = nested.join("out1");
    let second = nested.join("out2");
    let report = generate_crate(&spec_path, &first, &Options::default()).unwrap();
    generate_crate(&spec_path, &second, &Options::default()).unwrap();
    for path in report.written.iter().chain(&report.unchanged) {
        assert!(path.starts_with(&first), "{} outside", path.display());
    }
    // Nothing beside the output folders or the spec was written anywhere under the temp dir.
    let all: Vec<_> = files_under(dir.path());
    for path in &all {
        assert!(
            path.starts_with(&first) || path.starts_with(&second) || *path == spec_path,
            "{} written",
            path.display()
        );
    }
    let relative = |root: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = files_under(root)
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap();
                (p.strip_prefix(root).unwrap().display().to_string(), bytes)
            })
            .collect();
        files.sort();
        files
    };
    assert_eq!(relative(&first), relative(&second));
    // A second run over the same folder changes nothing.
    let again = generate_crate(&spec_path, &first, &Options::default()).unwrap();
    assert!(again.written.is_empty(), "{:?}", again.written);
}

fn files_under(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}
