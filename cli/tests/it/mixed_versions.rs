//! A connector whose versions are written in different OpenAPI versions: v1 in Swagger 2.0,
//! v2 in OpenAPI 3.1. The manifest generates one module per version, and `diff` compares them
//! as it compares any two versions: the same API in another format is no change, a real change
//! is found and marked.

use std::path::{Path, PathBuf};
use std::process::Command;

use connector_gen::versions::load_manifest;
use connector_gen::Options;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The warehouse API in OpenAPI 3.1: the hand-written 3.0 equivalent of `specs/swagger2.yaml`
/// with 3.1's forms (`type` arrays for nullability, a numeric `exclusiveMinimum`), changed by
/// `edit`.
fn warehouse_31(edit: impl Fn(String) -> String) -> String {
    let text = std::fs::read_to_string(repo().join("specs/equivalent/swagger2.openapi30.yaml"))
        .expect("the 3.0 equivalent");
    let text = text
        .replace("openapi: 3.0.3", "openapi: 3.1.0")
        .replace(
            "weight: {type: number, nullable: true}",
            "weight: {type: [number, \"null\"]}",
        )
        .replace(
            "parent: {type: string, nullable: true}",
            "parent: {type: [string, \"null\"]}",
        );
    edit(text)
}

fn manifest(v2: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("specs/swagger2.yaml"),
        dir.path().join("v1.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("v2.yaml"), v2).unwrap();
    let path = dir.path().join("connector.toml");
    std::fs::write(
        &path,
        "name = \"warehouse\"\n\n[[versions]]\nid = \"v1\"\nspec = \"v1.yaml\"\nstate = \"deprecated\"\n\n[[versions]]\nid = \"v2\"\nspec = \"v2.yaml\"\n",
    )
    .unwrap();
    (dir, path)
}

fn diff(path: &Path) -> (i32, serde_json::Value) {
    let manifest = path.display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_connector-gen"))
        .args([
            "diff",
            &format!("{manifest}:v1"),
            &format!("{manifest}:v2"),
            "--json",
        ])
        .output()
        .expect("connector-gen runs");
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), json)
}

#[test]
fn a_swagger2_version_and_an_openapi31_version_generate_and_diff() {
    let (_dir, path) = manifest(&warehouse_31(|t| t));
    let loaded = load_manifest(&path, &Options::default()).expect("the manifest loads");
    assert_eq!(loaded.versions.len(), 2);
    let (v1, v2) = (&loaded.versions[0].connector, &loaded.versions[1].connector);
    assert_eq!(v1.operations.len(), v2.operations.len());
    // One crate, a module per version.
    let out = tempfile::tempdir().unwrap();
    let report =
        connector_gen::generate_crate(&path, &out.path().join("warehouse"), &Options::default())
            .expect("the manifest generates");
    let lib = std::fs::read_to_string(out.path().join("warehouse/src/lib.rs")).unwrap();
    assert!(
        lib.contains("pub mod v1") && lib.contains("pub mod v2"),
        "{lib}"
    );
    assert!(!report.written.is_empty());

    // The same API in another format: nothing to report.
    let (code, json) = diff(&path);
    assert_eq!(json["changes"], serde_json::json!([]), "{json:#}");
    assert_eq!(code, 0);

    // A parameter that becomes required (written the 3.1 way) is a breaking change.
    let (_dir, path) = manifest(&warehouse_31(|t| {
        t.replace(
            "      name: limit\n      in: query\n",
            "      name: limit\n      in: query\n      required: true\n",
        )
    }));
    let (code, json) = diff(&path);
    assert_eq!(code, 1, "{json:#}");
    let changes = json["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{json:#}");
    assert_eq!(changes[0]["breaking"], true);
    assert!(
        changes[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("limit"),
        "{json:#}"
    );
}
