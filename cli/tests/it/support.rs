//! Generated crates as a user gets them: written by the `connector-gen` binary, checked by cargo
//! (offline, with the workspace's lock file and target folder, so dependencies are prebuilt).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// Runs `connector-gen generate` on `spec` (written to `dir/NAME.yaml`) into `dir/NAME`, with
/// extra `flags`; returns the output folder and what the command printed.
pub fn generate(dir: &Path, name: &str, spec: &str, flags: &[&str]) -> (PathBuf, Output) {
    let spec_path = dir.join(format!("{name}.yaml"));
    std::fs::write(&spec_path, spec).unwrap();
    let out = dir.join(name);
    let output = Command::new(env!("CARGO_BIN_EXE_connector-gen"))
        .arg("generate")
        .arg(&spec_path)
        .arg("--out")
        .arg(&out)
        .args(flags)
        .output()
        .unwrap();
    (out, output)
}

/// Like [`generate`], failing the test when the command fails.
pub fn generated(dir: &Path, name: &str, spec: &str, flags: &[&str]) -> (PathBuf, String) {
    let (out, output) = generate(dir, name, spec, flags);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::copy(repo().join("Cargo.lock"), out.join("Cargo.lock")).unwrap();
    (out, String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The workspace's dev-profile settings (its `Cargo.toml`), given to cargo runs on crates outside
/// the workspace: with them, those runs reuse the dependencies the workspace already compiled into
/// the shared target folder instead of compiling them again with other debug-info settings.
pub const WORKSPACE_PROFILE: [&str; 6] = [
    "--config",
    "profile.dev.debug=\"line-tables-only\"",
    "--config",
    "profile.dev.package.\"*\".debug=false",
    "--config",
    "profile.dev.package.unsafe-libyaml.opt-level=3",
];

/// `cargo check --offline` of the crate or workspace at `manifest_dir`, with these extra
/// arguments (features), in the workspace's target folder and profile.
pub fn cargo_check(manifest_dir: &Path, args: &[&str]) -> Output {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(WORKSPACE_PROFILE)
        .args(["check", "--offline", "--manifest-path"])
        .arg(manifest_dir.join("Cargo.toml"))
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap()
}

/// `cargo check` of a generated crate; fails the test on an error or any warning.
pub fn check(crate_dir: &Path, args: &[&str]) {
    let output = cargo_check(crate_dir, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let at = crate_dir.display();
    assert!(output.status.success(), "{at} {args:?}: {stderr}");
    assert!(!stderr.contains("warning:"), "{at} {args:?}: {stderr}");
}
