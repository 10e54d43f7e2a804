//! The `build.rs` entry point: generates a connector into `OUT_DIR` for `include!`.

use std::path::{Path, PathBuf};

use crate::{emit, load_connector, read_spec, render_module, spec_label, Error, Options};

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
}

impl Builder {
    /// A builder for the spec at `spec` (relative paths are relative to the package root, where
    /// cargo runs build scripts).
    pub fn new(spec: impl AsRef<Path>) -> Self {
        Self {
            spec: spec.as_ref().to_path_buf(),
            options: Options::default(),
            out_dir: None,
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

    /// Where to write. Default: the `OUT_DIR` cargo gives build scripts.
    pub fn out_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Generates the file and returns its path.
    pub fn generate(self) -> Result<PathBuf, Error> {
        println!("cargo:rerun-if-changed={}", self.spec.display());
        if let Some(dir) = &self.options.templates {
            println!("cargo:rerun-if-changed={}", dir.display());
        }
        let out_dir = match self.out_dir {
            Some(dir) => dir,
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::InvalidOption {
                    option: "out_dir",
                    message: "OUT_DIR is not set: call this from a build script or set out_dir"
                        .to_owned(),
                })?,
        };
        let bytes = read_spec(&self.spec)?;
        let lowered = load_connector(&bytes, &self.options)?;
        let code = render_module(&lowered.connector, &self.options, &spec_label(&self.spec))?;
        let path = emit::inside(&out_dir, &format!("{}.rs", lowered.connector.module_name))?;
        emit::write_if_changed(&path, code.as_bytes())?;
        if !lowered.warnings.is_empty() {
            println!(
                "cargo:warning={}: {} warning(s); run `connector-gen inspect` on the spec to see them",
                spec_label(&self.spec),
                lowered.warnings.len()
            );
        }
        Ok(path)
    }
}
