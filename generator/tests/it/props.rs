//! Property test over the whole pipeline (issue 8): random and mutated specs go through
//! load → lower → render → format. Whatever the input, the generator returns (an error is fine),
//! never panics, finishes in bounded time, and what it renders is valid Rust.
//!
//! Mutations start from the sample specs in `specs/` and drop, duplicate and retype nodes, rename
//! keys, and put random or hostile strings into names, descriptions, paths and `$ref`s. Case
//! counts are capped and the seed fixed so the binary runs reproducibly in well under a minute on
//! CI; explore further locally with `PROPTEST_CASES=5000 PROPTEST_RNG_SEED=<n>`. `fuzz/` holds the
//! same targets for cargo-fuzz (nightly only).

use crate::support;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use connector_gen::{load_connector, render_module, Options};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Strings that have broken generators: dot segments, braces, references, prelude and keyword
/// names, code fences, comment closers, bidi controls, huge numbers.
const HOSTILE: &[&str] = &[
    "",
    ".",
    "..",
    "{",
    "}",
    "{id",
    "/a/../b",
    "#",
    "#/components/schemas/",
    "#/components/schemas/Pet",
    "#/paths",
    "http://127.0.0.1:9/x.yaml",
    "../outside.yaml",
    "Some",
    "Ok",
    "Option",
    "self",
    "type",
    "test",
    "🙂",
    "\u{202e}evil\u{202c}",
    "```\nstd::process::exit(42);\n```",
    "> ```\n> std::process::exit(42);\n> ```",
    "    std::process::exit(42);",
    "*/ fn injected() {} /*",
    "\"; panic!(); \"",
    "\\",
    "a\r\nb",
    "Host",
    "Content-Length",
    "-1",
    "4294967296",
    "object",
    "array",
    "integer",
    "int32",
];

/// The sample specs as JSON documents as written (a 3.1 or 2.0 sample is mutated before it is
/// normalised), loaded once.
fn seeds() -> &'static [Value] {
    static SEEDS: OnceLock<Vec<Value>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                let bytes = std::fs::read(p).unwrap();
                connector_gen::load::parse(&bytes, usize::MAX).unwrap()
            })
            .collect()
    })
}

/// One step of a mutation plan: what to do, where (an index into the document's nodes, taken
/// modulo their count), and the string or number it may need.
#[derive(Debug, Clone)]
struct Step {
    action: u8,
    at: u32,
    other: u32,
    text: String,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(HOSTILE).prop_map(str::to_owned),
        1 => "\\PC{0,12}",
        1 => "[a-zA-Z0-9_{}/.#~-]{0,16}",
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (0u8..8, any::<u32>(), any::<u32>(), text()).prop_map(|(action, at, other, text)| Step {
        action,
        at,
        other,
        text,
    })
}

/// Every node's path from the root: object keys and array indexes.
fn paths(value: &Value) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let mut stack = vec![(value, Vec::new())];
    while let Some((node, path)) = stack.pop() {
        match node {
            Value::Object(map) => {
                for (k, v) in map {
                    let mut p = path.clone();
                    p.push(Value::String(k.clone()));
                    stack.push((v, p));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let mut p = path.clone();
                    p.push(Value::from(i));
                    stack.push((v, p));
                }
            }
            _ => {}
        }
        out.push(path);
    }
    out
}

fn node_mut<'v>(root: &'v mut Value, path: &[Value]) -> Option<&'v mut Value> {
    path.iter().try_fold(root, |node, segment| match segment {
        Value::String(key) => node.get_mut(key.as_str()),
        Value::Number(n) => n.as_u64().and_then(|i| node.get_mut(i as usize)),
        _ => None,
    })
}

/// A JSON pointer to `path`, for `$ref`s that point somewhere real.
fn pointer(path: &[Value]) -> String {
    let mut out = String::from("#");
    for segment in path {
        let text = match segment {
            Value::String(s) => s.replace('~', "~0").replace('/', "~1"),
            other => other.to_string(),
        };
        out.push('/');
        out.push_str(&text);
    }
    out
}

fn scalar(choice: u32, text: &str) -> Value {
    match choice % 9 {
        0 => Value::Null,
        1 => Value::Bool(choice.is_multiple_of(2)),
        2 => Value::from(i64::MIN),
        3 => Value::from(u64::MAX),
        4 => Value::from(-1.5e300),
        5 => Value::Array(Vec::new()),
        6 => Value::Object(Map::new()),
        7 => Value::from(i64::from(choice as i32)),
        _ => Value::String(text.to_owned()),
    }
}

fn mutate(mut doc: Value, plan: &[Step]) -> Value {
    for step in plan {
        let all = paths(&doc);
        let path = all[step.at as usize % all.len()].clone();
        let target = all[step.other as usize % all.len()].clone();
        let copy = node_mut(&mut doc, &target).map(|v| v.clone());
        let Some((last, parent_path)) = path.split_last() else {
            continue;
        };
        let Some(parent) = node_mut(&mut doc, parent_path) else {
            continue;
        };
        match (step.action, parent, last) {
            // Drop the node.
            (0, Value::Object(map), Value::String(key)) => drop(map.shift_remove(key)),
            (0, Value::Array(items), Value::Number(i)) => {
                let i = i.as_u64().unwrap_or(0) as usize;
                if i < items.len() {
                    items.remove(i);
                }
            }
            // Duplicate it under a random key, or at the end of its list.
            (1, Value::Object(map), Value::String(key)) => {
                if let Some(v) = map.get(key).cloned() {
                    map.insert(step.text.clone(), v);
                }
            }
            (1, Value::Array(items), Value::Number(i)) => {
                if let Some(v) = items.get(i.as_u64().unwrap_or(0) as usize).cloned() {
                    items.push(v);
                }
            }
            // Rename a key.
            (2, Value::Object(map), Value::String(key)) => {
                if let Some(v) = map.shift_remove(key) {
                    map.insert(step.text.clone(), v);
                }
            }
            // Retype, restring, re-reference, or graft another node here.
            (action, parent, last) => {
                let replacement = match action {
                    0..=3 => scalar(step.other, &step.text),
                    4 => Value::String(step.text.clone()),
                    5 => serde_json::json!({"$ref": pointer(&target)}),
                    6 => serde_json::json!({"$ref": step.text}),
                    _ => copy.unwrap_or(Value::Null),
                };
                let slot = match (parent, last) {
                    (Value::Object(map), Value::String(key)) => map.get_mut(key.as_str()),
                    (Value::Array(items), Value::Number(i)) => {
                        items.get_mut(i.as_u64().unwrap_or(0) as usize)
                    }
                    _ => None,
                };
                if let Some(slot) = slot {
                    *slot = replacement;
                }
            }
        }
    }
    doc
}

/// Runs the pipeline on `bytes`; the properties hold whatever the outcome.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let options = Options {
        name: Some("fuzzed".to_owned()),
        ..Options::default()
    };
    let start = Instant::now();
    let lowered = load_connector(bytes, &options);
    if let Ok(lowered) = lowered {
        if let Ok(code) = render_module(&lowered.connector, &options, "fuzzed.yaml") {
            prop_assert!(syn::parse_file(&code).is_ok(), "invalid Rust:\n{code}");
        }
    }
    let took = start.elapsed();
    prop_assert!(took < Duration::from_secs(10), "took {took:?}");
    // The process's peak so far: a case that allocated without bound shows here.
    if let Some(peak) = peak_rss_kib() {
        prop_assert!(peak < 1024 * 1024, "peak RSS {peak} KiB");
    }
    Ok(())
}

/// Peak resident memory of this process, in KiB (Linux; `None` elsewhere).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `cases` cases from a fixed seed, so a CI run is reproducible; `PROPTEST_CASES` and
/// `PROPTEST_RNG_SEED` explore further.
fn config(cases: u32) -> ProptestConfig {
    let defaults = ProptestConfig::default();
    let seeded = std::env::var_os("PROPTEST_RNG_SEED").is_some();
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        rng_seed: if seeded {
            defaults.rng_seed
        } else {
            proptest::test_runner::RngSeed::Fixed(0x5eed_80a7)
        },
        ..defaults
    }
}

proptest! {
    #![proptest_config(config(160))]

    #[test]
    fn mutated_sample_specs_never_panic(
        seed in 0usize..64,
        plan in proptest::collection::vec(step(), 1..10),
        as_yaml in any::<bool>(),
    ) {
        let seeds = seeds();
        let doc = mutate(seeds[seed % seeds.len()].clone(), &plan);
        let bytes = if as_yaml {
            serde_yaml::to_string(&doc).unwrap_or_default().into_bytes()
        } else {
            doc.to_string().into_bytes()
        };
        check(&bytes)?;
    }
}

proptest! {
    #![proptest_config(config(160))]

    /// The same, from the OpenAPI 3.1 and Swagger 2.0 samples only, whose readers convert
    /// before lowering: mutations there reach the converters' corners.
    #[test]
    fn mutated_31_and_20_specs_never_panic(
        seed in 0usize..64,
        plan in proptest::collection::vec(step(), 1..10),
        as_yaml in any::<bool>(),
    ) {
        let newer: Vec<&Value> = seeds()
            .iter()
            .filter(|d| d.get("swagger").is_some() || d["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")))
            .collect();
        prop_assert!(newer.len() >= 2);
        let doc = mutate(newer[seed % newer.len()].clone(), &plan);
        let bytes = if as_yaml {
            serde_yaml::to_string(&doc).unwrap_or_default().into_bytes()
        } else {
            doc.to_string().into_bytes()
        };
        check(&bytes)?;
    }
}

/// Markdown built from the pieces that open containers and code blocks, in any order.
fn markdown() -> impl Strategy<Value = String> {
    let pieces = proptest::sample::select(vec![
        "> ",
        "- ",
        "* ",
        "1. ",
        "   ",
        "    ",
        "\t",
        "\n",
        "\n\n",
        "\r\n",
        "```",
        "~~~",
        "````rust",
        "<pre>",
        "</pre>",
        "[^1]: ",
        "exit(42);",
        "text",
        "| a |",
        "\u{3000}",
        "#",
    ]);
    proptest::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
}

/// What rustdoc reads from `///` lines: the text after each `///`.
fn rustdoc_text(doc: &str) -> String {
    doc.lines()
        .map(|l| l.strip_prefix("///").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn doc_comments_never_hold_a_runnable_code_block(text in markdown()) {
        let doc = connector_gen::render::doc_comment(&text);
        let blocks = support::runnable_blocks(&rustdoc_text(&doc));
        prop_assert!(blocks.is_empty(), "{text:?} -> {doc}: {blocks:?}");
        // Text that follows it in the same doc comment cannot end up inside one of its blocks.
        let followed = rustdoc_text(&format!("{doc}///\n///     exit(42);\n"));
        prop_assert!(support::runnable_blocks(&followed).len() <= 1, "{text:?} -> {doc}");
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_text_never_panics(text in "(openapi: 3.0.0\n)?[ -~\n\t]{0,300}") {
        check(text.as_bytes())?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(&bytes)?;
    }
}
