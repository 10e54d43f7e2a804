//! Running command lines as a user would: the `connector-gen` binary, and connection files for
//! every security scheme of a connector.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use connector_runtime::descriptor::{ConnectorDescriptor, SecuritySchemeKind};
use serde_json::{json, Map, Value};

use super::prism::repo_root;

/// The `connector-gen` binary of this workspace, built (once per test process) if needed:
/// `cargo test -p connector-tests` alone does not build other packages' binaries.
pub fn connector_gen() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "connector-gen-cli",
                "--bin",
                "connector-gen",
            ])
            .current_dir(repo_root())
            .status()
            .expect("running cargo build for connector-gen");
        assert!(status.success(), "building connector-gen failed");
        target_dir().join("debug").join("connector-gen")
    })
    .clone()
}

/// The target folder this test binary was built into (`target/debug/deps/..` → `target`).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return if dir.is_absolute() {
            dir
        } else {
            repo_root().join(dir)
        };
    }
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// The run cache folder of the tests, in the target folder: shared by test processes running
/// side by side (as users' runs share theirs), and keyed by the binary's build, so a rebuilt
/// `connector-gen` trusts nothing an earlier build wrote.
pub fn run_cache_dir() -> PathBuf {
    target_dir().join("test-run-cache")
}

/// A finished process: exit code, stdout and stderr.
#[derive(Debug)]
pub struct Ran {
    /// The exit code (`-1` when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Ran {
    /// Stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// Runs `program` with `args`, feeding `stdin` when given.
pub fn run(program: &Path, args: &[&str], stdin: Option<&str>) -> Ran {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(repo_root())
        // `run`'s cache goes to a folder of the tests, never the user's: runs after the first
        // of a spec and action read what the first wrote.
        .env("CONNECTOR_GEN_CACHE", run_cache_dir())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes()).expect("writing stdin");
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("waiting for the process");
    Ran {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A JSON connection file for `connector` in `dir` with a test credential for every security
/// scheme and plain http to loopback allowed.
pub fn connection_file(connector: &ConnectorDescriptor, dir: &Path) -> PathBuf {
    let mut credentials = Map::new();
    for scheme in connector.security_schemes.iter() {
        let credential = match &scheme.kind {
            SecuritySchemeKind::ApiKey { .. } => json!({"key": "test-key"}),
            SecuritySchemeKind::HttpBasic => json!({"username": "ann", "password": "secret"}),
            SecuritySchemeKind::HttpBearer => json!({"token": "test-token"}),
            SecuritySchemeKind::OAuth2 { .. } | SecuritySchemeKind::OpenIdConnect { .. } => {
                json!({"access_token": "test-token"})
            }
            // Satisfied by the connection's client certificate, never by a credential.
            SecuritySchemeKind::MutualTls => continue,
            _ => json!({"value": "test-value"}),
        };
        credentials.insert(scheme.name.to_string(), credential);
    }
    let file = json!({
        "connector": connector.name,
        "allow_http_loopback": true,
        "credentials": credentials,
    });
    let path = dir.join(format!("{}.json", connector.name));
    std::fs::write(&path, file.to_string()).expect("writing the connection file");
    path
}

/// The petstore connector generated as a standalone crate and built with its `mcp` feature (which
/// brings `cli`), as a user would: `connector-gen generate`, then `cargo build --features mcp`.
/// Returns its binary.
pub fn generated_petstore_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| generated_binary("specs/petstore.yaml", "petstore", "mcp"))
        .clone()
}

/// The two-version Acme connector (`specs/acme/connector.toml`, whose version 2 declares events
/// in the manifest) generated as a crate and built once with `mcp` and `listen`: its binary
/// serves the versions tests, MCP and the webhook receiver.
pub fn generated_acme_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| generated_binary("specs/acme/connector.toml", "acme", "mcp,listen"))
        .clone()
}

/// The connector of `spec` (a spec or a manifest) generated as a standalone crate named `name`
/// and built with `features` (`mcp` brings `cli`); returns its binary.
pub fn generated_binary(spec: &str, name: &str, features: &str) -> PathBuf {
    let out = target_dir().join("generated-cli").join(name);
    let ran = run(
        &connector_gen(),
        &[
            "generate",
            spec,
            "--out",
            &out.to_string_lossy(),
            "--name",
            name,
            "--runtime-path",
            &repo_root().join("runtime").to_string_lossy(),
        ],
        None,
    );
    assert_eq!(ran.code, 0, "generate: {ran:?}");
    // The workspace's lock file pins the same dependency versions the runtime is tested with.
    std::fs::copy(repo_root().join("Cargo.lock"), out.join("Cargo.lock")).expect("Cargo.lock");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // With the workspace's profile settings (its Cargo.toml), the dependencies it compiled into
    // the shared target folder are reused rather than compiled again with other debug info.
    let profile = [
        r#"profile.dev.debug="line-tables-only""#,
        r#"profile.dev.package."*".debug=false"#,
        "profile.dev.package.unsafe-libyaml.opt-level=3",
    ];
    let status = Command::new(cargo)
        .args(profile.iter().flat_map(|setting| ["--config", setting]))
        // `mcp` brings `cli` and the binary's `mcp` command; `listen` its `listen` and `events`.
        .args(["build", "--quiet", "--features", features])
        .current_dir(&out)
        // The workspace's target folder: the dependencies are already built there.
        .env("CARGO_TARGET_DIR", target_dir())
        .status()
        .expect("running cargo build for the generated crate");
    assert!(
        status.success(),
        "building the generated {name} crate failed"
    );
    target_dir().join("debug").join(name)
}
