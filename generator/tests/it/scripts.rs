//! `scripts/test.sh` when Stoplight Prism cannot be installed: every other test still runs, the
//! last line says the Prism tests were skipped, and CI (`PRISM_REQUIRED=1`) fails instead.
//!
//! The script runs for real on a copy of `scripts/`, with a stand-in `cargo` that records how it
//! was called, so the test does not run the workspace's tests a second time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Sandbox {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    bin: PathBuf,
}

fn sandbox(npm: Option<&str>) -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(repo.join("scripts")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts");
    for script in ["test.sh", "install-prism.sh"] {
        std::fs::copy(scripts.join(script), repo.join("scripts").join(script)).unwrap();
    }
    // Only the tools the scripts use, so that no real npm is found.
    for tool in ["bash", "dirname", "mkdir"] {
        let real = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{tool} not found"));
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    stand_in(
        &bin,
        "cargo",
        "echo \"$@\" > \"$CALLS\"; echo 'test result: ok. 1 passed'; exit \"${CARGO_STATUS:-0}\"",
    );
    if let Some(body) = npm {
        stand_in(&bin, "npm", body);
    }
    Sandbox {
        _dir: dir,
        repo,
        bin,
    }
}

fn stand_in(bin: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = bin.join(name);
    std::fs::write(&path, format!("#!/usr/bin/env bash\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

impl Sandbox {
    fn run(&self, env: &[(&str, &str)]) -> (Output, Option<String>) {
        let calls = self.bin.join("calls");
        let _ = std::fs::remove_file(&calls);
        let output = Command::new(self.repo.join("scripts/test.sh"))
            .env_clear()
            .env("PATH", &self.bin)
            .env("CALLS", &calls)
            // The MCP Inspector is given unless a test says otherwise (empty: not given), so
            // that the Prism skip is the one reported.
            .env("INSPECTOR_BIN", "/opt/inspector/bin/mcp-inspector")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (output, std::fs::read_to_string(calls).ok())
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn without_prism_every_other_test_runs_and_the_skip_is_reported() {
    let no_npm = sandbox(None);
    let failing_npm = sandbox(Some("echo 'npm ERR! network unreachable' >&2; exit 1"));
    for (sandbox, reason) in [
        (&no_npm, "npm (Node.js 18 or newer) is not installed"),
        (&failing_npm, "install-prism.sh failed"),
    ] {
        let (output, calls) = sandbox.run(&[]);
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
        assert_eq!(calls.as_deref(), Some("test --workspace\n"));
        let last = stdout.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("SKIPPED: the Prism end-to-end tests") && last.contains(reason),
            "{stdout}"
        );

        // A failing test run still fails, and still says what was skipped.
        let (output, _) = sandbox.run(&[("CARGO_STATUS", "101")]);
        assert_eq!(output.status.code(), Some(101));
        assert!(text(&output.stdout).contains("SKIPPED"));

        // CI requires Prism: its absence fails before any test runs.
        let (output, calls) = sandbox.run(&[("PRISM_REQUIRED", "1")]);
        assert_eq!(output.status.code(), Some(1));
        assert!(
            text(&output.stderr).contains("Prism is required"),
            "{}",
            text(&output.stderr)
        );
        assert_eq!(calls, None);
    }
}

#[test]
fn with_prism_given_nothing_is_skipped() {
    let sandbox = sandbox(None);
    let (output, calls) = sandbox.run(&[("PRISM_BIN", "/opt/prism/bin/prism")]);
    assert!(output.status.success());
    assert_eq!(calls.as_deref(), Some("test --workspace\n"));
    assert!(!text(&output.stdout).contains("SKIPPED"));
}

#[test]
fn without_the_inspector_its_skip_is_reported_and_ci_fails() {
    let sandbox = sandbox(None);
    let (output, calls) =
        sandbox.run(&[("PRISM_BIN", "/opt/prism/bin/prism"), ("INSPECTOR_BIN", "")]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert_eq!(calls.as_deref(), Some("test --workspace\n"));
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("SKIPPED: the MCP Inspector test") && last.contains("npm"),
        "{stdout}"
    );
    assert!(!stdout.contains("SKIPPED: the Prism"), "{stdout}");

    let (output, calls) = sandbox.run(&[
        ("PRISM_BIN", "/opt/prism/bin/prism"),
        ("INSPECTOR_BIN", ""),
        ("INSPECTOR_REQUIRED", "1"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("MCP Inspector is required"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(calls, None);
}
