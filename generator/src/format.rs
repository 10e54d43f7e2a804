//! Format: rendered text is parsed with `syn` and printed with `prettyplease`.
//!
//! Parsing is the check that a template produced valid Rust; a failure names the template and the
//! line, and the unformatted text is kept for inspection.

use std::path::Path;

use crate::error::Error;

/// Formats the Rust text rendered by `template`. On a parse error the raw text is written to
/// `dump_dir` (when given) so that the broken output can be inspected.
pub fn format_rust(template: &str, text: &str, dump_dir: Option<&Path>) -> Result<String, Error> {
    match syn::parse_file(text) {
        Ok(file) => Ok(prettyplease::unparse(&file)),
        Err(e) => {
            let start = e.span().start();
            let dump = dump_dir.and_then(|dir| {
                let path = dir.join(format!(
                    "{}.unformatted.rs",
                    template.trim_end_matches(".j2")
                ));
                std::fs::create_dir_all(dir).ok()?;
                std::fs::write(&path, text).ok()?;
                Some(path)
            });
            Err(Error::InvalidRust {
                template: template.to_owned(),
                line: start.line,
                column: start.column + 1,
                message: e.to_string(),
                dump,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_valid_rust() {
        let out = format_rust("t", "pub struct   A{x:i32}", None).unwrap();
        assert_eq!(out, "pub struct A {\n    x: i32,\n}\n");
    }

    #[test]
    fn invalid_rust_names_template_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let err = format_rust("types.rs.j2", "struct A {}\nfn (", Some(dir.path())).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("types.rs.j2") && text.contains("line 2"),
            "{text}"
        );
        assert!(dir.path().join("types.rs.unformatted.rs").exists());
    }
}
