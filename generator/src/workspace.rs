//! Where a generated crate sits relative to the user's cargo workspace.
//!
//! Cargo looks for a workspace by walking up from a package; a package inside a workspace's folder
//! that the workspace does not list fails to build ("current package believes it's in a workspace
//! when it's not"). So a generated crate joins an enclosing workspace only when that workspace
//! lists it, and otherwise declares its own `[workspace]`, with a hint saying how to join.

use std::path::{Component, Path, PathBuf};

/// What the caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkspaceMode {
    /// Join the enclosing workspace when it lists the crate as a member, else be standalone.
    #[default]
    Detect,
    /// Always a member of an enclosing workspace (no `[workspace]` table).
    Member,
    /// Always standalone (its own `[workspace]` table).
    Standalone,
}

/// What was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Its own workspace, with no workspace around it.
    Standalone,
    /// A member of the workspace whose `Cargo.toml` is in this folder (`None`: asked to be a
    /// member, and no workspace encloses it yet).
    Member(Option<PathBuf>),
    /// Its own workspace inside a workspace's folder that does not list it (the member path to
    /// add, relative to the workspace root, is given).
    NotListed {
        /// The enclosing workspace's folder.
        root: PathBuf,
        /// The crate's folder relative to `root`, as `members` would list it.
        relative: String,
    },
}

impl Placement {
    /// Whether the generated `Cargo.toml` declares its own `[workspace]`.
    pub fn own_workspace(&self) -> bool {
        !matches!(self, Placement::Member(_))
    }
}

/// Decides where the crate in `out_dir` belongs.
pub fn place(out_dir: &Path, mode: WorkspaceMode) -> Placement {
    if mode == WorkspaceMode::Standalone {
        return Placement::Standalone;
    }
    let Some(crate_dir) = absolute(out_dir) else {
        return match mode {
            WorkspaceMode::Member => Placement::Member(None),
            _ => Placement::Standalone,
        };
    };
    let Some((root, table)) = enclosing_workspace(&crate_dir) else {
        return match mode {
            WorkspaceMode::Member => Placement::Member(None),
            _ => Placement::Standalone,
        };
    };
    let relative = crate_dir
        .strip_prefix(&root)
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default();
    if mode == WorkspaceMode::Member || lists(&table, &relative) {
        Placement::Member(Some(root))
    } else {
        Placement::NotListed { root, relative }
    }
}

/// `path` made absolute and free of `.`/`..`, following symlinks where the path exists.
fn absolute(path: &Path) -> Option<PathBuf> {
    let joined = std::env::current_dir().ok()?.join(path);
    // The output folder may not exist yet: canonicalise its longest existing ancestor.
    let mut existing = joined.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                match part {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::Normal(name) => out.push(name),
                    _ => {}
                }
            }
            return Some(out);
        }
        rest.push(existing.components().next_back()?);
        existing = existing.parent()?;
    }
}

/// The nearest folder above `crate_dir` whose `Cargo.toml` has a `[workspace]` table.
fn enclosing_workspace(crate_dir: &Path) -> Option<(PathBuf, toml::Table)> {
    crate_dir.ancestors().skip(1).find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        let table = text.parse::<toml::Table>().ok()?;
        let workspace = table.get("workspace")?.as_table()?.clone();
        Some((dir.to_path_buf(), workspace))
    })
}

/// Whether the workspace table's `members` (globs) include `relative` and `exclude` does not.
fn lists(workspace: &toml::Table, relative: &str) -> bool {
    let patterns = |key: &str| -> Vec<String> {
        workspace
            .get(key)
            .and_then(|v| v.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(|s| s.trim_end_matches('/').to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let excluded = patterns("exclude")
        .iter()
        .any(|e| relative == e || relative.starts_with(&format!("{e}/")));
    !excluded
        && patterns("members")
            .iter()
            .any(|m| glob_matches(m, relative))
}

/// Matches `/`-separated paths against a pattern whose segments may use `*` and `?`.
fn glob_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./");
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    p.len() == s.len()
        && p.iter()
            .zip(&s)
            .all(|(p, s)| segment_matches(p.as_bytes(), s.as_bytes()))
}

fn segment_matches(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            segment_matches(&pattern[1..], text)
                || (!text.is_empty() && segment_matches(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => segment_matches(&pattern[1..], &text[1..]),
        (Some(a), Some(b)) if a == b => segment_matches(&pattern[1..], &text[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(dir: &Path, body: &str) {
        std::fs::write(dir.join("Cargo.toml"), format!("[workspace]\n{body}\n")).unwrap();
    }

    #[test]
    fn members_and_exclusions() {
        let ws = tempfile::tempdir().unwrap();
        workspace(
            ws.path(),
            r#"members = ["app", "connectors/*"]
exclude = ["connectors/old"]"#,
        );
        let root = ws.path().canonicalize().unwrap();
        let at = |rel: &str, mode| place(&ws.path().join(rel), mode);
        assert_eq!(
            at("connectors/petstore", WorkspaceMode::Detect),
            Placement::Member(Some(root.clone()))
        );
        assert_eq!(
            at("gen/petstore", WorkspaceMode::Detect),
            Placement::NotListed {
                root: root.clone(),
                relative: "gen/petstore".into()
            }
        );
        assert!(at("connectors/old", WorkspaceMode::Detect).own_workspace());
        assert_eq!(
            at("gen/petstore", WorkspaceMode::Member),
            Placement::Member(Some(root))
        );
        assert_eq!(
            at("connectors/petstore", WorkspaceMode::Standalone),
            Placement::Standalone
        );
        // `..` in the output path is resolved before matching.
        assert!(!at("gen/../connectors/x", WorkspaceMode::Detect).own_workspace());
    }

    #[test]
    fn no_workspace_means_standalone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        // The temp dir itself may sit below a workspace on a developer's machine; only the
        // nearest Cargo.toml matters when it has no [workspace], so check the walk skips it.
        let placed = place(&dir.path().join("petstore"), WorkspaceMode::Detect);
        assert!(!matches!(placed, Placement::Member(Some(ref r)) if r == dir.path()));
    }

    #[test]
    fn globs() {
        assert!(glob_matches("connectors/*", "connectors/petstore"));
        assert!(glob_matches("./crates/p?t*", "crates/petstore"));
        assert!(!glob_matches("connectors/*", "connectors/a/b"));
        assert!(!glob_matches("app", "apps"));
    }
}
