//! Connector manifests: every mistake is reported with the key at fault.

use std::path::{Path, PathBuf};

use connector_gen::versions::load_manifest;
use connector_gen::Options;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A manifest in a temporary folder next to copies of the Acme specs.
fn manifest(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for spec in ["acme-v1.yaml", "acme-v2.yaml"] {
        std::fs::copy(repo().join("specs/acme").join(spec), dir.path().join(spec)).unwrap();
    }
    let path = dir.path().join("connector.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn error(text: &str) -> String {
    let (_dir, path) = manifest(text);
    match load_manifest(&path, &Options::default()) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn mistakes_name_their_key() {
    let cases = [
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\nstat = \"active\"\n",
            "unknown field `stat`",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\nstate = \"retired\"\n",
            "versions[0].state",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"1x\"\nspec = \"acme-v1.yaml\"\n",
            "`versions[0].id`",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v2.yaml\"\n",
            "`versions[1].id`: `v1` is listed twice",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\n[versions.variables.x]\ntype = \"string\"\nlocation = { cookie = \"x\" }\n",
            "`versions[0].variables.x.location`: `cookie` is not a location",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\n[versions.variables.x]\ntype = \"enum\"\nlocation = { query = \"x\" }\n",
            "`versions[0].variables.x.values`",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\n[versions.variables.x]\ntype = \"string\"\npattern = \"(\"\nlocation = { query = \"x\" }\n",
            "`versions[0].variables.x.pattern`",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\n[versions.variables.x]\ntype = \"string\"\nlocation = { body = \"x\" }\n",
            "is not a JSON pointer",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\nping = \"nope\"\n",
            "version `v1`: `ping`: the version has no action `nope`",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\nping = { action = \"getOrder\", failPath = \"error.code\" }\n",
            "version `v1`: `ping`: `failPath` needs `failValues`",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\nauth = [\"token\"]\n",
            "`auth`: the spec has no security scheme `token` (it has: api_key)",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\n[versions.variables.region]\ntype = \"string\"\nlocation = \"server\"\n",
            "no server of the spec has a variable `region`",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\ninclude = { tags = [\"nothing\"] }\n",
            "version `v1`: `include.tags`: `nothing` matches no operation of the spec",
        ),
        (
            "name = \"a\"\n[[versions]]\nid = \"v1\"\nspec = \"acme-v1.yaml\"\n[versions.variables.x]\ntype = \"string\"\nlocation = { query = \"x\" }\nrequired_when = { y = \"1\", z = \"2\" }\n",
            "`versions[0].variables.x.required_when`: name exactly one variable",
        ),
        ("name = \"a\"\nversions = []\n", "lists no version"),
    ];
    for (text, expected) in cases {
        let err = error(text);
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
    }
}

#[test]
fn include_and_auth_shape_a_version() {
    let (_dir, path) = manifest(
        "name = \"a\"\n[[versions]]\nid = \"v2\"\nspec = \"acme-v2.yaml\"\ninclude = { tags = [\"health\"], operations = [\"getOrder\"] }\n",
    );
    let loaded = load_manifest(&path, &Options::default()).unwrap();
    let ids: Vec<&str> = loaded.versions[0]
        .connector
        .operations
        .iter()
        .map(|op| op.id.as_str())
        .collect();
    assert_eq!(ids, ["getOrder", "getStatus"]);
    // A YAML manifest with the same keys.
    let yaml = path.with_extension("yaml");
    std::fs::write(
        &yaml,
        "name: a\nversions:\n  - id: v1\n    spec: acme-v1.yaml\n    state: deprecated\n",
    )
    .unwrap();
    assert!(connector_gen::versions::is_manifest(&yaml));
    let loaded = load_manifest(&yaml, &Options::default()).unwrap();
    assert_eq!(loaded.select(None).unwrap().entry.id, "v1");
}

#[test]
fn a_ping_table_declares_its_checks() {
    let (_dir, path) = manifest(
        "name = \"a\"\n[[versions]]\nid = \"v2\"\nspec = \"acme-v2.yaml\"\n[versions.ping]\naction = \"getStatus\"\nsuccessPath = \"status\"\nsuccessValues = [\"ok\"]\nfailPath = \"error.code\"\nfailValues = [\"expired_token\"]\nerrorPath = \"error.message\"\ntimeoutMs = 2500\n",
    );
    let loaded = load_manifest(&path, &Options::default()).unwrap();
    let version = &loaded.versions[0];
    assert_eq!(version.entry.ping_action(), Some("getStatus"));
    let ping = version.connector.ping.clone().unwrap();
    assert_eq!(ping.action, "getStatus");
    assert_eq!(ping.success.unwrap().values, [serde_json::json!("ok")]);
    let fail = ping.fail.unwrap();
    assert_eq!(fail.path, ["error", "code"]);
    assert_eq!(fail.values, [serde_json::json!("expired_token")]);
    assert_eq!(ping.error_path.unwrap(), ["error", "message"]);
    assert_eq!(ping.timeout_ms, Some(2500));
}

/// The versions are formatted once, together; a template that renders invalid Rust is still
/// named.
#[test]
fn a_broken_template_is_named_in_a_connector_with_versions() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::write(templates.path().join("entities.rs.j2"), "pub fn broken( {").unwrap();
    let options = Options {
        templates: Some(templates.path().to_path_buf()),
        ..Options::default()
    };
    let loaded = load_manifest(&repo().join("specs/acme/connector.toml"), &options).unwrap();
    let err = connector_gen::versions::render_versioned_module(&loaded, &options, "acme")
        .unwrap_err()
        .to_string();
    assert!(err.contains("entities.rs.j2"), "{err}");
    let fine =
        connector_gen::versions::render_versioned_module(&loaded, &Options::default(), "acme")
            .unwrap();
    assert!(
        fine.contains("pub mod v1 {") && fine.contains("pub mod v2 {"),
        "{fine}"
    );
}
