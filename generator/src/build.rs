//! The `build.rs` entry point: generates a connector into `OUT_DIR` for `include!`.

use std::path::{Path, PathBuf};

use crate::{emit, load_spec, render_module, spec_label, Error, Options};

/// Generates one connector from a `build.rs`.
///
/// Writes `$OUT_DIR/<name>.rs` (only when it changed) and prints `cargo:rerun-if-changed` for the
/// spec, so cargo reruns the build script exactly when the spec changes.
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    spec: PathBuf,
    options: Options,
    out_dir: Option<PathBuf>,
    warnings_expected: Option<String>,
}

impl Builder {
    /// A builder for the spec at `spec` (relative paths are relative to the package root, where
    /// cargo runs build scripts).
    pub fn new(spec: impl AsRef<Path>) -> Self {
        Self {
            spec: spec.as_ref().to_path_buf(),
            options: Options::default(),
            out_dir: None,
            warnings_expected: None,
        }
    }

    /// The connector's name, which is also the output file's stem. Default: derived from the title.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.options.name = Some(name.into());
        self
    }

    /// A directory of templates overriding the embedded ones. Default: none.
    pub fn templates(mut self, dir: impl AsRef<Path>) -> Self {
        self.options.templates = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Adds the hidden, test-only `Client::call_typed_from_json` (see
    /// [`Options::test_dispatch`]). Default: off.
    pub fn test_dispatch(mut self, on: bool) -> Self {
        self.options.test_dispatch = on;
        self
    }

    /// Keeps the operations with this tag (repeatable; the connector has the union of what the
    /// `include_*` calls keep, and only the types those operations use). Default: every
    /// operation. A tag that matches no operation is an error naming `include-tag`.
    pub fn include_tag(mut self, tag: impl Into<String>) -> Self {
        self.options.include.tags.push(tag.into());
        self
    }

    /// Keeps the operations whose path starts with this prefix, segment by segment (`/repos`
    /// keeps `/repos/{owner}`, not `/repositories`); see [`include_tag`](Self::include_tag).
    pub fn include_path(mut self, prefix: impl Into<String>) -> Self {
        self.options.include.paths.push(prefix.into());
        self
    }

    /// Keeps the operation with this id (its `operationId`); see
    /// [`include_tag`](Self::include_tag).
    pub fn include_operation(mut self, id: impl Into<String>) -> Self {
        self.options.include.operations.push(id.into());
        self
    }

    /// Where to write. Default: the `OUT_DIR` cargo gives build scripts.
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Says that the spec's warnings are expected, and why: the build still reports their count,
    /// as expected, instead of asking the reader to look into them. Default: not expected.
    pub fn warnings_expected(mut self, why: impl Into<String>) -> Self {
        self.warnings_expected = Some(why.into());
        self
    }

    /// For a manifest: generates even when a version's spec no longer matches the lock file.
    /// Default: such a change is an error (a published version does not change).
    pub fn allow_changed_spec(mut self, allow: bool) -> Self {
        self.options.allow_changed_spec = allow;
        self
    }

    /// Generates the file and returns its path. The path given to [`new`](Self::new) may be a
    /// connector manifest: the file then holds a module per version and `VERSIONS`; the lock
    /// file beside the manifest is checked, never written (a build does not change sources).
    pub fn generate(self) -> Result<PathBuf, Error> {
        if crate::versions::is_manifest(&self.spec) {
            return self.generate_versions();
        }
        println!("cargo:rerun-if-changed={}", self.spec.display());
        if let Some(dir) = &self.options.templates {
            println!("cargo:rerun-if-changed={}", dir.display());
        }
        let out_dir = self.target_dir()?;
        let lowered = load_spec(&self.spec, &self.options)?;
        let code = render_module(&lowered.connector, &self.options, &spec_label(&self.spec))?;
        let path = emit::inside(&out_dir, &format!("{}.rs", lowered.connector.module_name))?;
        emit::write_if_changed(&path, code.as_bytes())?;
        if let Some(line) = warning_line(
            &spec_label(&self.spec),
            lowered.warnings.len(),
            self.warnings_expected.as_deref(),
        ) {
            println!("cargo:warning={line}");
        }
        Ok(path)
    }
}

impl Builder {
    fn target_dir(&self) -> Result<PathBuf, Error> {
        match &self.out_dir {
            Some(dir) => Ok(dir.clone()),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::InvalidOption {
                    option: "out_dir",
                    message: "OUT_DIR is not set: call this from a build script or set out_dir"
                        .to_owned(),
                }),
        }
    }

    fn generate_versions(self) -> Result<PathBuf, Error> {
        println!("cargo:rerun-if-changed={}", self.spec.display());
        let loaded = crate::versions::load_manifest(&self.spec, &self.options)?;
        for version in &loaded.versions {
            println!("cargo:rerun-if-changed={}", version.spec_path.display());
        }
        crate::versions::lock::check(&loaded, self.options.allow_changed_spec)?;
        let out_dir = self.target_dir()?;
        let label = spec_label(&self.spec);
        let code = crate::versions::render_versioned_module(&loaded, &self.options, &label)?;
        let module = heck::ToSnakeCase::to_snake_case(loaded.manifest.name.as_str());
        let path = emit::inside(&out_dir, &format!("{module}.rs"))?;
        emit::write_if_changed(&path, code.as_bytes())?;
        let warnings: usize = loaded.versions.iter().map(|v| v.warnings.len()).sum();
        if let Some(line) = warning_line(&label, warnings, self.warnings_expected.as_deref()) {
            println!("cargo:warning={line}");
        }
        Ok(path)
    }
}

/// What the build says about a spec's warnings: nothing when there are none, their count as
/// expected when the caller said so, else where to look.
fn warning_line(label: &str, count: usize, expected: Option<&str>) -> Option<String> {
    match (count, expected) {
        (0, _) => None,
        (_, Some(why)) => Some(format!("{label}: {count} warning(s), as expected ({why})")),
        (_, None) => Some(format!(
            "{label}: {count} warning(s); run `connector-gen inspect` on the spec to see them"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::warning_line;

    #[test]
    fn expected_warnings_say_so() {
        assert_eq!(warning_line("a.yaml", 0, None), None);
        assert_eq!(
            warning_line("odd.yaml", 2, Some("deliberately odd")).as_deref(),
            Some("odd.yaml: 2 warning(s), as expected (deliberately odd)")
        );
        assert!(
            warning_line("a.yaml", 1, None).is_some_and(|l| l.contains("connector-gen inspect"))
        );
    }
}
