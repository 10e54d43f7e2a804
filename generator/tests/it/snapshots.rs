//! Snapshots of every sample spec's lowered IR and generated code, and of every invalid spec's
//! diagnostics. A change in output shows up as a snapshot diff to review.

use std::path::Path;

use connector_gen::{load_connector, render_module, Options};

fn options(path: &Path) -> Options {
    Options {
        name: path.file_stem().map(|s| s.to_string_lossy().into_owned()),
        ..Options::default()
    }
}

#[test]
fn sample_specs_generate() {
    insta::glob!("../../../specs", "*.{yaml,yml,json}", |path| {
        let bytes = std::fs::read(path).unwrap();
        let options = options(path);
        let lowered =
            load_connector(&bytes, &options).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let label = connector_gen::spec_label(path);
        let code = render_module(&lowered.connector, &options, &label).unwrap();
        insta::assert_snapshot!("code", code);
        let ir = serde_json::to_string_pretty(&lowered.connector).unwrap();
        insta::assert_snapshot!("ir", ir);
        let warnings: Vec<String> = lowered.warnings.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!("warnings", warnings.join("\n"));
    });
}

/// The sample specs, found without insta so that this test is independent of snapshot state.
fn sample_specs() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut specs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    specs.sort();
    specs
}

#[test]
fn generation_is_deterministic() {
    let specs = sample_specs();
    assert!(specs.len() >= 2, "{specs:?}");
    for path in specs {
        let bytes = std::fs::read(&path).unwrap();
        let options = options(&path);
        let once = render_module(
            &load_connector(&bytes, &options).unwrap().connector,
            &options,
            "x",
        )
        .unwrap();
        let twice = render_module(
            &load_connector(&bytes, &options).unwrap().connector,
            &options,
            "x",
        )
        .unwrap();
        assert_eq!(once, twice, "{}", path.display());
    }
}

#[test]
fn invalid_specs_give_errors_not_panics() {
    insta::glob!("../../../specs/invalid", "*.{yaml,yml,json}", |path| {
        let bytes = std::fs::read(path).unwrap();
        let err =
            load_connector(&bytes, &options(path)).expect_err("an invalid spec must be rejected");
        insta::assert_snapshot!(err.to_string());
    });
}

#[test]
fn a_spec_without_schemas_still_gives_a_complete_module() {
    let spec = b"openapi: 3.0.0\ninfo: {title: Tiny, version: '1'}\npaths:\n  /ping:\n    get:\n      responses:\n        '204': {description: ok}\n";
    let options = Options::default();
    let lowered = load_connector(spec, &options).unwrap();
    assert!(lowered.connector.types.is_empty());
    let code = render_module(&lowered.connector, &options, "tiny.yaml").unwrap();
    // In include! mode every module must be inline: `mod types;` would look for a file.
    assert!(code.contains("pub mod types {}"), "{code}");
    assert!(!code.contains("pub mod types;"), "{code}");
}

#[test]
fn templates_can_be_overridden_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/petstore.yaml"))
        .unwrap();
    let custom = "/// Customised client.\npub struct Client;\n{% for op in c.operations %}/// {{ op.id|doc_value }}\npub fn {{ op.fn_name|ident }}() {}\n{% endfor %}";
    std::fs::write(dir.path().join("client.rs.j2"), custom).unwrap();
    let options = Options {
        templates: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let lowered = load_connector(&spec, &options).unwrap();
    let code = render_module(&lowered.connector, &options, "petstore.yaml").unwrap();
    assert!(
        code.contains("/// Customised client.") && code.contains("pub fn list_pets() {}"),
        "{code}"
    );
    // The other templates are still the embedded ones.
    assert!(code.contains("pub static OPERATIONS"), "{code}");

    // A custom template that renders invalid Rust is reported with the template's name.
    std::fs::write(dir.path().join("client.rs.j2"), "pub fn broken( {").unwrap();
    let err = render_module(&lowered.connector, &options, "petstore.yaml").unwrap_err();
    assert!(err.to_string().contains("client.rs.j2"), "{err}");
}

#[test]
fn very_deep_and_very_wide_schemas_generate() {
    use std::fmt::Write;
    // 2,000 properties on one object, and objects nested 60 levels deep (inline).
    let mut wide = String::new();
    for i in 0..2000 {
        let _ = write!(wide, "\"p{i}\": {{\"type\": \"integer\"}},");
    }
    wide.pop();
    let mut deep = String::from("{\"type\": \"string\"}");
    for _ in 0..60 {
        deep = format!("{{\"type\": \"object\", \"properties\": {{\"child\": {deep}}}}}");
    }
    let spec = format!(
        "{{\"openapi\": \"3.0.0\", \"info\": {{\"title\": \"Big\", \"version\": \"1\"}}, \"paths\": {{}},
          \"components\": {{\"schemas\": {{\"Wide\": {{\"type\": \"object\", \"properties\": {{{wide}}}}}, \"Deep\": {deep}}}}}}}"
    );
    let options = Options::default();
    let lowered = load_connector(spec.as_bytes(), &options).unwrap();
    assert_eq!(lowered.connector.types.len(), 1 + 60);
    let code = render_module(&lowered.connector, &options, "big.json").unwrap();
    assert!(code.contains("pub p1999: Option<i64>"));
    syn::parse_file(&code).unwrap();
}
