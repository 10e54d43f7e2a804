//! The generator's error type.

use std::path::PathBuf;

use crate::diagnostics::Diagnostic;

/// Everything that can stop generation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done (`reading`, `writing`, ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The spec has problems that prevent generation; all of them are listed, sorted by location.
    #[error("{}", render_diagnostics(.0))]
    Spec(Vec<Diagnostic>),
    /// A template failed to render (a bug in the template or a custom template directory).
    #[error("template `{template}` failed to render")]
    Template {
        /// Template name.
        template: String,
        /// The template engine's error, which names the line.
        #[source]
        source: minijinja::Error,
    },
    /// A template rendered text that is not valid Rust.
    #[error("template `{template}` produced invalid Rust at line {line}, column {column}: {message}{}", dump.as_ref().map(|p| format!(" (unformatted output written to {})", p.display())).unwrap_or_default())]
    InvalidRust {
        /// Template name.
        template: String,
        /// Line in the rendered text.
        line: usize,
        /// Column in the rendered text.
        column: usize,
        /// The parser's message.
        message: String,
        /// Where the unformatted text was written for inspection, if it could be.
        dump: Option<PathBuf>,
    },
    /// The spec file at `path` could not be used; the cause lists every problem.
    #[error("{} is not a usable spec", path.display())]
    InSpec {
        /// The spec file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: Box<Error>,
    },
    /// The output folder holds files connector-gen did not generate, so nothing was written.
    #[error("{} already holds files connector-gen did not generate ({}); choose an empty or new folder, or pass --force to write the generated files there anyway (other files are never removed)", dir.display(), summary(found))]
    NotGenerated {
        /// The output folder.
        dir: PathBuf,
        /// The names found in it.
        found: Vec<String>,
    },
    /// A connector manifest (or its lock file) cannot be used.
    #[error("{}: {message}", path.display())]
    Manifest {
        /// The manifest or lock file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
    /// An option given by the caller is invalid.
    #[error("invalid option `{option}`: {message}")]
    InvalidOption {
        /// The option's name.
        option: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

fn render_diagnostics(items: &[Diagnostic]) -> String {
    let errors = items
        .iter()
        .filter(|d| d.severity == crate::diagnostics::Severity::Error)
        .count();
    let mut out = format!("the spec has {errors} error(s)");
    for item in items {
        out.push_str("\n  ");
        out.push_str(&item.to_string());
    }
    out
}

fn summary(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut out = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        out.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    out
}
