//! Dependencies between the top-level modules of each crate's `src/` run one way: this test lists
//! every `crate::` path in code (comments and doc links are not dependencies) and fails on a
//! cycle, printing it. (Dependencies between the crates are `audiences`'.)

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Top-level module of a file under `src/`: `wire/read.rs` -> `wire`, `time.rs` -> `time`.
fn module_of(relative: &Path) -> String {
    let first = relative
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    first.trim_end_matches(".rs").to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules named after `crate::` in one line of code: `crate::wire::read` and
/// `crate::{auth, wire::args}` both count.
fn targets(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        // `$crate::` or `my_crate::` are not this crate.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push(name);
            }
        } else {
            found.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    found
}

/// Edges `from -> to` between top-level modules; names that are not modules (re-exported
/// items such as `crate::Error`) are resolved through `lib.rs`'s `pub use` lines.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(src).expect("under src")))
        .filter(|m| m != "lib" && m != "main")
        .collect();
    let lib = fs::read_to_string(src.join("lib.rs"))
        .or_else(|_| fs::read_to_string(src.join("main.rs")))
        .expect("lib.rs or main.rs");
    let mut reexports = BTreeMap::new();
    for line in lib.lines() {
        if let Some(path) = line.trim().strip_prefix("pub use ") {
            let module = path.split("::").next().unwrap_or_default().to_owned();
            let items = path.rsplit("::").next().unwrap_or_default();
            for item in items.trim_matches(|c| "{};".contains(c)).split(',') {
                reexports.insert(item.trim().to_owned(), module.clone());
            }
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(file.strip_prefix(src).expect("under src"));
        if from == "lib" || from == "main" {
            continue;
        }
        let text = fs::read_to_string(file).expect("source is readable");
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            for target in targets(code) {
                let to = if modules.contains(&target) {
                    target
                } else if let Some(module) = reexports.get(&target) {
                    module.clone()
                } else {
                    continue;
                };
                if to != from {
                    edges.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    edges
}

/// A cycle in `edges`, if there is one, as the list of modules along it.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

/// The workspace's root folder.
fn repo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The modules of the crate in `dir` (a workspace folder), failing on a cycle.
fn acyclic(dir: &str, some_module: &str) -> BTreeMap<String, BTreeSet<String>> {
    let edges = graph(&repo().join(dir).join("src"));
    assert!(
        edges.contains_key(some_module),
        "the graph of {dir} was read: {edges:?}"
    );
    if let Some(cycle) = find_cycle(&edges) {
        panic!(
            "import cycle between the modules of {dir}: {}\nall edges: {edges:#?}",
            cycle.join(" -> ")
        );
    }
    edges
}

#[test]
fn runtime_modules_have_no_import_cycle() {
    let edges = acyclic("runtime", "pipeline");
    // The pipeline never sees the connection, and request building knows no connection.
    for low in ["pipeline", "wire", "auth"] {
        let deps = edges.get(low).cloned().unwrap_or_default();
        assert!(
            !deps.contains("connection") && !deps.contains("dynamic"),
            "{low} depends on {deps:?}"
        );
    }
}

#[test]
fn generator_modules_have_no_import_cycle() {
    let edges = acyclic("generator", "lower");
    // The IR is plain data: it depends on no phase that makes or prints it.
    let ir = edges.get("ir").cloned().unwrap_or_default();
    for phase in ["load", "resolve", "lower", "render", "format", "emit"] {
        assert!(!ir.contains(phase), "ir depends on {ir:?}");
    }
}

#[test]
fn model_and_cli_modules_have_no_import_cycle() {
    acyclic("model", "versions");
    acyclic("cli", "generate");
}

#[test]
fn the_checker_finds_a_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&edges), None);
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        targets("use crate::{auth, wire::args}; x = $crate::no; crate::time::Clock"),
        vec!["auth", "wire", "time"]
    );
}
