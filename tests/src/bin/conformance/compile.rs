//! Stage 2: write a sample of generated crates into one workspace and `cargo check` them all in
//! one run (`--keep-going`), attributing compiler errors and warnings to each crate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use connector_gen::{generate_crate, Options, RuntimeDependency};

use crate::sample::relative_name;

/// How compiling one generated crate ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Compiled without errors.
    Pass,
    /// The compiler reported errors.
    Fail,
    /// Generation itself failed, so there was nothing to compile.
    NotGenerated,
}

impl Status {
    /// The CSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotGenerated => "not-generated",
        }
    }
}

/// The result for one spec.
pub struct Compiled {
    /// The spec file.
    pub spec: PathBuf,
    /// The generated crate's name.
    pub crate_name: String,
    /// Outcome.
    pub status: Status,
    /// Compiler warnings in the generated crate.
    pub warnings: usize,
    /// The first compiler error (or the generation error).
    pub first_error: Option<String>,
}

/// A crate name unique to the spec's place in the corpus.
fn crate_name(spec: &Path) -> String {
    let slug: String = relative_name(spec)
        .trim_end_matches(".json")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("c-{slug}")
}

/// Generates and checks `specs`; crates go to `out/crates`.
pub fn run(specs: &[PathBuf], out: &Path) -> Result<Vec<Compiled>, String> {
    let root = out.join("crates");
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(|e| format!("clearing {}: {e}", root.display()))?;
    }
    std::fs::create_dir_all(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    let mut results = Vec::new();
    let mut members = Vec::new();
    for spec in specs {
        let name = crate_name(spec);
        let options = Options {
            name: Some(name.clone()),
            runtime: RuntimeDependency::Path(runtime.clone()),
            workspace: connector_gen::WorkspaceMode::Member,
            ..Options::default()
        };
        let status = match generate_crate(spec, &root.join(&name), &options) {
            Ok(_) => {
                members.push(name.clone());
                None
            }
            Err(e) => Some(e.to_string().lines().next().unwrap_or_default().to_owned()),
        };
        results.push(Compiled {
            spec: spec.clone(),
            crate_name: name,
            status: if status.is_some() {
                Status::NotGenerated
            } else {
                Status::Pass
            },
            warnings: 0,
            first_error: status,
        });
    }
    let manifest = format!(
        "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
        members
            .iter()
            .map(|m| format!("{m:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::fs::write(root.join("Cargo.toml"), manifest)
        .map_err(|e| format!("writing workspace: {e}"))?;
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args([
            "check",
            "--workspace",
            "--keep-going",
            "--message-format=json",
            "--quiet",
        ])
        .current_dir(&root)
        .output()
        .map_err(|e| format!("running cargo: {e}"))?;
    let diagnostics = parse_messages(&String::from_utf8_lossy(&output.stdout));
    for result in results
        .iter_mut()
        .filter(|r| r.status != Status::NotGenerated)
    {
        if let Some(found) = diagnostics.get(&result.crate_name) {
            result.warnings = found.warnings;
            if let Some(first) = &found.first_error {
                result.status = Status::Fail;
                result.first_error = Some(first.clone());
            }
        }
    }
    Ok(results)
}

#[derive(Default)]
struct Found {
    warnings: usize,
    first_error: Option<String>,
}

/// Groups compiler messages by the crate directory they come from.
fn parse_messages(stdout: &str) -> BTreeMap<String, Found> {
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    for line in stdout.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if value["reason"] != "compiler-message" {
            continue;
        }
        let Some(manifest) = value["manifest_path"].as_str() else {
            continue;
        };
        let Some(crate_dir) = Path::new(manifest)
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
        else {
            continue;
        };
        let entry = found.entry(crate_dir).or_default();
        let message = &value["message"];
        match message["level"].as_str() {
            Some("error") if entry.first_error.is_none() => {
                let text = message["message"].as_str().unwrap_or("error");
                let at = message["spans"][0]["file_name"].as_str().unwrap_or("");
                let line_no = message["spans"][0]["line_start"].as_u64().unwrap_or(0);
                entry.first_error = Some(format!("{text} ({at}:{line_no})"));
            }
            Some("warning") => entry.warnings += 1,
            _ => {}
        }
    }
    found
}

/// One line: how many crates compiled, failed, and how many warnings there were.
pub fn summarise(results: &[Compiled]) -> String {
    let pass = results.iter().filter(|r| r.status == Status::Pass).count();
    let fail = results.iter().filter(|r| r.status == Status::Fail).count();
    let skipped = results.len() - pass - fail;
    let warned = results.iter().filter(|r| r.warnings > 0).count();
    let generated = pass + fail;
    let per_version: Vec<String> = ["3.0", "3.1", "2.0"]
        .iter()
        .map(|version| {
            let of = |r: &&Compiled| crate::sample::version_of(&r.spec) == *version;
            let sampled = results.iter().filter(of).count();
            let compiled = results
                .iter()
                .filter(of)
                .filter(|r| r.status == Status::Pass)
                .count();
            format!("{version}: {compiled}/{sampled} compile")
        })
        .collect();
    format!(
        "compile: {} specs sampled, {} generated, {} compile ({:.1}% of generated), {} fail, {} not generated; {} crate(s) with warnings; by version {}",
        results.len(),
        generated,
        pass,
        if generated == 0 { 0.0 } else { pass as f64 * 100.0 / generated as f64 },
        fail,
        skipped,
        warned,
        per_version.join(", ")
    )
}

/// A line per crate that failed or warned.
pub fn failures(results: &[Compiled]) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.status != Status::Pass || r.warnings > 0)
        .map(|r| {
            format!(
                "{} {} ({} warnings): {}",
                r.status.as_str(),
                relative_name(&r.spec),
                r.warnings,
                r.first_error.as_deref().unwrap_or("")
            )
        })
        .collect()
}
