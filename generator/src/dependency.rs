//! How a generated crate depends on `connector-runtime` (and, for its `listen` feature, on
//! `connector-flows`, found the same way): checked before anything is written, and written so
//! that the crate still builds after it is moved.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::render::toml_literal;

/// The runtime crate's package name.
pub const RUNTIME_PACKAGE: &str = "connector-runtime";

/// The package of the receiver, stores and delivery (a generated crate's `listen` feature).
pub const FLOWS_PACKAGE: &str = "connector-flows";

/// How the generated crate finds `connector-runtime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeDependency {
    /// The runtime's sources on this machine. Written as an absolute path, so the generated crate
    /// keeps building wherever it is moved on the same machine.
    Path(PathBuf),
    /// A version requirement resolved from the registry (crates.io).
    Version(String),
    /// A git repository holding the runtime, optionally at a branch, tag or revision.
    Git {
        /// The repository URL.
        url: String,
        /// Which commit to use; the default branch when `None`.
        reference: Option<GitReference>,
    },
}

/// A point in a git repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitReference {
    /// The tip of a branch.
    Branch(String),
    /// A tag.
    Tag(String),
    /// A commit (or anything `git rev-parse` accepts).
    Rev(String),
}

impl RuntimeDependency {
    /// The runtime sources this generator was built next to, when they are still there; otherwise
    /// the registry release of the same version.
    pub fn bundled_or_registry() -> Self {
        let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime");
        match bundled.canonicalize() {
            Ok(path) if runtime_manifest(&path).is_ok() => Self::Path(path),
            _ => Self::Version(env!("CARGO_PKG_VERSION").to_owned()),
        }
    }

    /// Checks the dependency and returns it as it will be written: a path is made absolute and
    /// must hold the `connector-runtime` package; a version or git URL must be well formed.
    pub fn checked(&self) -> Result<Self, Error> {
        match self {
            Self::Path(path) => {
                let absolute = path.canonicalize().map_err(|err| Error::InvalidOption {
                    option: "runtime-path",
                    message: format!("{} cannot be used: {err}", path.display()),
                })?;
                runtime_manifest(&absolute)?;
                Ok(Self::Path(absolute))
            }
            Self::Version(requirement) => {
                if !is_version_requirement(requirement) {
                    return Err(Error::InvalidOption {
                        option: "runtime-version",
                        message: format!(
                            "{requirement:?} is not a version requirement (such as `0.1` or `=0.1.0`)"
                        ),
                    });
                }
                Ok(self.clone())
            }
            Self::Git { url, reference } => {
                let looks_like_url = url.contains("://") || url.starts_with("git@");
                if !looks_like_url || url.chars().any(char::is_whitespace) {
                    return Err(Error::InvalidOption {
                        option: "runtime-git",
                        message: format!("{url:?} is not a git repository URL"),
                    });
                }
                if let Some(GitReference::Branch(r) | GitReference::Tag(r) | GitReference::Rev(r)) =
                    reference
                {
                    if r.trim().is_empty() {
                        return Err(Error::InvalidOption {
                            option: "runtime-git",
                            message: "the branch, tag or revision is empty".to_owned(),
                        });
                    }
                }
                Ok(self.clone())
            }
        }
    }

    /// The inside of the TOML inline table that declares `connector-flows` beside this runtime:
    /// the `flows` folder next to a runtime path (the workspace both come from) when it holds
    /// the package, else the registry release of this generator's version; the same version
    /// requirement or git repository as the runtime's otherwise (the two are released
    /// together).
    pub fn flows_toml(&self) -> String {
        match self {
            Self::Path(path) => {
                let beside = path
                    .parent()
                    .map(|parent| parent.join("flows"))
                    .and_then(|flows| flows.canonicalize().ok())
                    .filter(|flows| package_manifest(flows, FLOWS_PACKAGE).is_ok());
                match beside {
                    Some(flows) => Self::Path(flows).toml(),
                    None => Self::Version(env!("CARGO_PKG_VERSION").to_owned()).toml(),
                }
            }
            Self::Version(_) | Self::Git { .. } => self.toml(),
        }
    }

    /// The inside of the TOML inline table that declares the dependency, such as
    /// `path = "/src/connector-gen/runtime"`.
    pub fn toml(&self) -> String {
        match self {
            Self::Path(path) => format!("path = {}", toml_literal(&path.to_string_lossy())),
            Self::Version(v) => format!("version = {}", toml_literal(v)),
            Self::Git { url, reference } => {
                let mut out = format!("git = {}", toml_literal(url));
                match reference {
                    Some(GitReference::Branch(b)) => {
                        out += &format!(", branch = {}", toml_literal(b))
                    }
                    Some(GitReference::Tag(t)) => out += &format!(", tag = {}", toml_literal(t)),
                    Some(GitReference::Rev(r)) => out += &format!(", rev = {}", toml_literal(r)),
                    None => {}
                }
                out
            }
        }
    }
}

/// Whether `text` is a semantic version such as `1.2.3`, `1.0.0-beta.1` or `2.0.0+build.5`.
pub fn is_semver(text: &str) -> bool {
    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (text, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let label = |s: Option<&str>| {
        s.is_none_or(|s| {
            s.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        })
    };
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3 && numbers.iter().all(|n| is_number(n)) && label(pre) && label(build)
}

fn is_number(part: &str) -> bool {
    !part.is_empty()
        && part.chars().all(|c| c.is_ascii_digit())
        && (part == "0" || !part.starts_with('0'))
}

/// Whether `text` is a cargo version requirement: comparators such as `0.1`, `^0.1.2`, `=0.1.0`,
/// `>=0.1, <0.3` or `0.*`.
fn is_version_requirement(text: &str) -> bool {
    text.split(',').all(|comparator| {
        let c = comparator.trim();
        let c = c.trim_start_matches(['^', '~', '=', '>', '<']).trim_start();
        if c == "*" {
            return true;
        }
        let (core, _) = c.split_once(['-', '+']).unwrap_or((c, ""));
        let parts: Vec<&str> = core.split('.').collect();
        !c.is_empty()
            && parts.len() <= 3
            && parts.iter().all(|p| *p == "*" || *p == "x" || is_number(p))
            && (core.len() == c.len()
                || c[core.len() + 1..]
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ".-+".contains(ch)))
    })
}

/// Checks that `dir` holds the `connector-runtime` package.
fn runtime_manifest(dir: &Path) -> Result<(), Error> {
    package_manifest(dir, RUNTIME_PACKAGE)
}

/// Checks that `dir` holds the package `package`; the error names the `runtime-path` option,
/// which chooses where both packages are found.
fn package_manifest(dir: &Path, package: &str) -> Result<(), Error> {
    let manifest = dir.join("Cargo.toml");
    let invalid = |message: String| Error::InvalidOption {
        option: "runtime-path",
        message,
    };
    let text = std::fs::read_to_string(&manifest).map_err(|err| {
        invalid(format!(
            "{} has no readable Cargo.toml ({err}); point it at the `{package}` crate's directory",
            dir.display()
        ))
    })?;
    let name = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_owned));
    match name.as_deref() {
        Some(name) if name == package => Ok(()),
        Some(other) => Err(invalid(format!(
            "{} is the package `{other}`, not `{package}`",
            manifest.display()
        ))),
        None => Err(invalid(format!(
            "{} declares no package; point it at the `{package}` crate's directory",
            manifest.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_runtime_is_an_absolute_checked_path() {
        let dep = RuntimeDependency::bundled_or_registry();
        let RuntimeDependency::Path(path) = &dep else {
            panic!("the runtime sources are in this repository: {dep:?}");
        };
        assert!(path.is_absolute());
        assert_eq!(dep.checked().unwrap(), dep);
        assert!(dep.toml().starts_with("path = \""), "{}", dep.toml());
    }

    #[test]
    fn connector_flows_is_found_beside_the_runtime() {
        let bundled = RuntimeDependency::bundled_or_registry();
        let flows = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../flows")
            .canonicalize()
            .unwrap();
        assert_eq!(
            bundled.flows_toml(),
            RuntimeDependency::Path(flows).toml(),
            "the workspace's flows folder"
        );
        // A runtime copied on its own has no flows beside it: the registry release.
        let alone = tempfile::tempdir().unwrap();
        let runtime = alone.path().join("runtime");
        std::fs::create_dir(&runtime).unwrap();
        assert_eq!(
            RuntimeDependency::Path(runtime).flows_toml(),
            format!("version = \"{}\"", env!("CARGO_PKG_VERSION"))
        );
        let version = RuntimeDependency::Version("=0.1.0".into());
        assert_eq!(version.flows_toml(), "version = \"=0.1.0\"");
        let git = RuntimeDependency::Git {
            url: "https://example.com/connector-gen.git".into(),
            reference: Some(GitReference::Rev("abc123".into())),
        };
        assert_eq!(git.flows_toml(), git.toml());
    }

    #[test]
    fn a_path_without_the_runtime_is_refused() {
        let missing = RuntimeDependency::Path(PathBuf::from("/nonexistent/runtime"));
        let err = missing.checked().unwrap_err().to_string();
        assert!(
            err.contains("runtime-path") && err.contains("/nonexistent/runtime"),
            "{err}"
        );

        let other = RuntimeDependency::Path(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let err = other.checked().unwrap_err().to_string();
        assert!(
            err.contains("`connector-gen`, not `connector-runtime`"),
            "{err}"
        );

        let empty = tempfile::tempdir().unwrap();
        let err = RuntimeDependency::Path(empty.path().to_path_buf())
            .checked()
            .unwrap_err()
            .to_string();
        assert!(err.contains("no readable Cargo.toml"), "{err}");
    }

    #[test]
    fn semantic_versions() {
        for good in [
            "0.1.0",
            "1.2.3",
            "1.0.0-beta.1",
            "2.0.0+build.5",
            "1.0.0-rc-1+x",
        ] {
            assert!(is_semver(good), "{good}");
        }
        for bad in [
            "1.0",
            "v1.0.0",
            "1.0.0-",
            "01.0.0",
            "1.0.0+",
            "2023-01-01",
            "latest",
            "",
        ] {
            assert!(!is_semver(bad), "{bad}");
        }
    }

    #[test]
    fn versions_and_git_urls_are_checked_and_quoted() {
        let version = RuntimeDependency::Version("0.1".into());
        assert_eq!(version.checked().unwrap().toml(), "version = \"0.1\"");
        for bad in ["", "0.1\"\n[x]", "latest please"] {
            assert!(
                RuntimeDependency::Version(bad.into()).checked().is_err(),
                "{bad:?}"
            );
        }
        let git = RuntimeDependency::Git {
            url: "https://example.com/connector-gen.git".into(),
            reference: Some(GitReference::Tag("v0.1.0".into())),
        };
        assert_eq!(
            git.checked().unwrap().toml(),
            "git = \"https://example.com/connector-gen.git\", tag = \"v0.1.0\""
        );
        let not_url = RuntimeDependency::Git {
            url: "connector-gen".into(),
            reference: None,
        };
        assert!(not_url.checked().is_err());
    }
}
