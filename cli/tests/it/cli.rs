//! The `connector-gen` command line as a user meets it, run as a real process: help, exit codes,
//! a closed stdout, refusing to clobber, checked runtime paths, errors that name the spec.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_connector-gen"));
    // Never the user's cache folder.
    command.env("CONNECTOR_GEN_CACHE", "off");
    command
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run connector-gen")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A spec large enough that its output cannot fit in a pipe's buffer.
fn large_spec(dir: &Path) -> PathBuf {
    let mut spec = String::from("openapi: 3.0.0\ninfo: {title: Large, version: '1.0.0'}\npaths:\n");
    for i in 0..600 {
        spec.push_str(&format!(
            "  /things{i}/{{id}}:\n    get:\n      operationId: getThing{i}\n      summary: Gets thing number {i}\n      parameters:\n        - {{name: id, in: path, required: true, schema: {{type: integer}}}}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{type: object, properties: {{a: {{type: string}}, b: {{type: integer}}}}}}\n"
        ));
    }
    let path = dir.join("large.yaml");
    std::fs::write(&path, spec).unwrap();
    path
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let spec = large_spec(dir.path());
    let spec = spec.to_str().unwrap();
    for args in [
        vec!["inspect", "--json", spec],
        vec!["inspect", spec],
        vec!["describe", "--json", spec],
        vec!["describe", spec],
    ] {
        let mut child = bin()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read a little, as `head -c 100` would, then close the pipe.
        let mut stdout = child.stdout.take().unwrap();
        let mut start = [0u8; 100];
        stdout.read_exact(&mut start).unwrap();
        drop(stdout);
        let output = child.wait_with_output().unwrap();
        let stderr = text(&output.stderr);
        assert!(
            output.status.success(),
            "{args:?}: {:?}\n{stderr}",
            output.status
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn help_shows_examples_and_exit_codes() {
    let main = run(&["--help"]);
    assert!(main.status.success());
    let main = text(&main.stdout);
    assert!(
        main.contains("Examples:") && main.contains("Exit status:"),
        "{main}"
    );
    for command in ["generate", "inspect", "run", "describe", "mcp"] {
        let help = run(&[command, "--help"]);
        assert!(help.status.success());
        let help = text(&help.stdout);
        assert!(
            help.contains(&format!("connector-gen {command} ")),
            "{help}"
        );
    }
    let bad = run(&["generate"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[test]
fn spec_errors_name_the_file_and_inspect_json_has_the_warnings() {
    let invalid = repo("specs/invalid/bad_header_name.yaml");
    let output = run(&["inspect", invalid.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("bad_header_name.yaml is not a usable spec"),
        "{stderr}"
    );
    assert!(stderr.contains("Caused by: the spec has"), "{stderr}");

    let awkward = repo("specs/awkward.yaml");
    let output = run(&["inspect", "--json", awkward.to_str().unwrap()]);
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["spec"], "awkward.yaml");
    assert!(json["connector"]["operations"]
        .as_array()
        .is_some_and(|o| !o.is_empty()));
    let warnings = json["warnings"].as_array().expect("warnings array");
    assert!(!warnings.is_empty());
    assert!(warnings
        .iter()
        .all(|w| w["pointer"].as_str().is_some_and(|p| p.starts_with("#/"))));
}

fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(tree(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_folder_of_someone_elses_crate_is_never_clobbered() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine");
    std::fs::create_dir_all(mine.join("src")).unwrap();
    std::fs::write(mine.join("Cargo.toml"), "[package]\nname = \"mine\"\n").unwrap();
    std::fs::write(mine.join("src/lib.rs"), "pub fn mine() {}\n").unwrap();
    std::fs::write(mine.join("notes.txt"), "my notes\n").unwrap();
    let before = tree(&mine);
    let spec = repo("specs/petstore.yaml");
    let spec = spec.to_str().unwrap();
    let out = mine.to_str().unwrap();

    let refused = run(&["generate", spec, "--out", out]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("did not generate") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        tree(&mine),
        before,
        "nothing may change in a refused folder"
    );

    let forced = run(&["generate", spec, "--out", out, "--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "my notes\n"
    );
    assert!(std::fs::read_to_string(mine.join("src/lib.rs"))
        .unwrap()
        .starts_with("// Generated by connector-gen"));

    // A file generated earlier and no longer generated goes; the user's own file stays.
    let manifest = mine.join(".connector-gen");
    let mut listed = std::fs::read_to_string(&manifest).unwrap();
    listed.push_str("src/retired.rs\n");
    std::fs::write(&manifest, listed).unwrap();
    std::fs::write(mine.join("src/retired.rs"), "// old\n").unwrap();
    let again = run(&["generate", spec, "--out", out]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("1 removed"),
        "{}",
        text(&again.stdout)
    );
    assert!(!mine.join("src/retired.rs").exists());
    assert!(mine.join("notes.txt").is_file());
}

#[test]
fn the_runtime_dependency_is_checked_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let spec = repo("specs/petstore.yaml");
    let spec = spec.to_str().unwrap();
    let out = dir.path().join("pc");
    let out = out.to_str().unwrap();

    let missing = run(&[
        "generate",
        spec,
        "--out",
        out,
        "--runtime-path",
        "/nonexistent/runtime",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("runtime-path"),
        "{}",
        text(&missing.stderr)
    );
    assert!(
        !dir.path().join("pc").exists(),
        "nothing is written for a bad option"
    );

    let default = run(&["generate", spec, "--out", out]);
    assert!(default.status.success(), "{}", text(&default.stderr));
    let runtime = repo("runtime").canonicalize().unwrap();
    let line = format!(
        "connector-runtime = {{ path = {:?} }}",
        runtime.to_str().unwrap()
    );
    assert!(
        text(&default.stdout).contains(&line),
        "{}",
        text(&default.stdout)
    );
    let manifest = std::fs::read_to_string(dir.path().join("pc/Cargo.toml")).unwrap();
    assert!(manifest.contains(&line), "{manifest}");
    // Fit to publish, but only once a license is chosen.
    for field in [
        "version = \"1.2.0\"",
        "rust-version = ",
        "readme = \"README.md\"",
        "publish = false",
    ] {
        assert!(manifest.contains(field), "{field}: {manifest}");
    }
    let readme = std::fs::read_to_string(dir.path().join("pc/README.md")).unwrap();
    for part in [
        "# petstore",
        "petstore::runtime::{Connection, Credential}",
        "| `getPet` (`client.get_pet`) | GET | `/pets/{petId}` |",
    ] {
        assert!(readme.contains(part), "{part}: {readme}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pc/.gitignore")).unwrap(),
        "/target\n"
    );

    let git = run(&[
        "generate",
        spec,
        "--out",
        out,
        "--runtime-git",
        "https://example.com/connector-gen.git",
        "--runtime-tag",
        "v0.1.0",
        "--crate-version",
        "2.0.0",
        "--license",
        "MIT",
    ]);
    assert!(git.status.success(), "{}", text(&git.stderr));
    let manifest = std::fs::read_to_string(dir.path().join("pc/Cargo.toml")).unwrap();
    assert!(manifest.contains(r#"connector-runtime = { git = "https://example.com/connector-gen.git", tag = "v0.1.0" }"#), "{manifest}");
    assert!(
        manifest.contains("version = \"2.0.0\"") && manifest.contains("license = \"MIT\""),
        "{manifest}"
    );
    assert!(!manifest.contains("publish = false"), "{manifest}");

    let both = run(&[
        "generate",
        spec,
        "--out",
        out,
        "--runtime-version",
        "0.1",
        "--runtime-path",
        "x",
    ]);
    assert_eq!(both.status.code(), Some(2));
}
