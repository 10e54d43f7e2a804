//! Generated crates built by cargo where users put them: moved away from where they were
//! generated, and as a member of a workspace next to the README's user crate, which depends on
//! the connector alone, and the README's build.rs crate, which generates its connector at build
//! time. One test, so cargo runs once per layout and reuses the workspace's
//! compiled dependencies (shared target folder, `--offline`, the workspace's lock file).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn generate(out: &Path, extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_connector-gen"))
        .arg("generate")
        .arg(repo().join("specs/petstore.yaml"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `cargo check` of every target of the workspace or crate at `manifest_dir`, with the
/// workspace's lock file, target folder and profile; fails on an error or a warning.
fn cargo_check(manifest_dir: &Path) {
    std::fs::copy(repo().join("Cargo.lock"), manifest_dir.join("Cargo.lock")).unwrap();
    support::check(manifest_dir, &["--workspace", "--all-targets"]);
}

/// The fenced block that follows `<!-- KIND: NAME` in the README.
fn readme_block(readme: &str, kind: &str, name: &str) -> String {
    let marker = format!("<!-- {kind}: {name}");
    let start = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README has no {marker}"));
    let fence = readme[start..].find("```").unwrap() + start;
    let body = readme[fence..].find('\n').unwrap() + fence + 1;
    let end = readme[body..].find("```").unwrap() + body;
    readme[body..end].to_owned()
}

#[test]
fn generated_crates_build_moved_and_in_a_workspace_with_the_readme_user_crate() {
    let dir = tempfile::tempdir().unwrap();

    // Generated in one place, then moved elsewhere: its runtime dependency still resolves.
    let first = dir.path().join("first/petstore");
    let stdout = generate(&first, &[]);
    assert!(stdout.contains("its own workspace"), "{stdout}");
    let moved = dir.path().join("elsewhere/deeper/petstore");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&first, &moved).unwrap();

    // A workspace that lists `connectors/*`: the generated crate joins it, and the README's
    // user crate depends on it alone (plus tokio).
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join("app/src")).unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[workspace]\nresolver = \"2\"\nmembers = [\"app\", \"buildrs\", \"connectors/*\"]\n",
    )
    .unwrap();
    let member = ws.join("connectors/petstore");
    let stdout = generate(&member, &[]);
    assert!(stdout.contains("a member of the workspace"), "{stdout}");
    let manifest = std::fs::read_to_string(member.join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("[workspace]"), "{manifest}");

    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let app_manifest = readme_block(&readme, "user-crate", "Cargo.toml");
    let dependency = "petstore = { path = \"../petstore-connector\" }";
    assert!(app_manifest.contains(dependency), "{app_manifest}");
    assert!(
        !app_manifest.contains("connector-runtime"),
        "{app_manifest}"
    );
    std::fs::write(
        ws.join("app/Cargo.toml"),
        app_manifest.replace(
            dependency,
            "petstore = { path = \"../connectors/petstore\" }",
        ),
    )
    .unwrap();
    std::fs::write(
        ws.join("app/src/main.rs"),
        readme_block(&readme, "user-crate", "src/main.rs"),
    )
    .unwrap();
    // The generated crate's own README example compiles too.
    let generated_readme = std::fs::read_to_string(member.join("README.md")).unwrap();
    let example = generated_readme.split("```rust,ignore\n").nth(1).unwrap();
    let example = &example[..example.find("```").unwrap()];
    std::fs::create_dir_all(ws.join("app/src/bin")).unwrap();
    std::fs::write(ws.join("app/src/bin/generated_readme.rs"), example).unwrap();

    build_rs_crate(&readme, &ws.join("buildrs"));

    cargo_check(&moved);
    cargo_check(&ws);
}

/// The README's build.rs crate in `dir`, its paths to this repository's crates made absolute.
fn build_rs_crate(readme: &str, dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::copy(
        repo().join("specs/petstore.yaml"),
        dir.join("specs/petstore.yaml"),
    )
    .unwrap();
    let manifest = readme_block(readme, "build-rs-crate", "Cargo.toml");
    let mut manifest = manifest;
    for part in ["runtime", "generator"] {
        let written = format!("\"../connector-gen/{part}\"");
        assert!(manifest.contains(&written), "{manifest}");
        manifest = manifest.replace(&written, &format!("{:?}", repo().join(part)));
    }
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(
        dir.join("build.rs"),
        readme_block(readme, "build-rs-crate", "build.rs"),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        readme_block(readme, "build-rs-crate", "src/lib.rs"),
    )
    .unwrap();
}
