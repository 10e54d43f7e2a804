//! Format: rendered text is parsed with `syn` and printed with `prettyplease`.
//!
//! Parsing is the check that a template produced valid Rust; a failure names the template and the
//! line, and the unformatted text is kept for inspection. A large text is formatted a piece at a
//! time (see `format/pieces.rs`), which bounds the syntax tree held in memory. Doc comments are
//! set aside while a text is parsed and printed (see `format/docs.rs`), and structs are formatted a
//! field at a time, each distinct field once (see `format/units.rs`).

mod docs;
mod impls;
pub(crate) mod layout;
mod pieces;
mod scan;
mod shape;
mod signature;
mod units;

use std::path::Path;

use crate::error::Error;

/// Formats the Rust text rendered by `template`. On a parse error the raw text is written to
/// `dump_dir` (when given) so that the broken output can be inspected.
pub fn format_rust(template: &str, text: &str, dump_dir: Option<&Path>) -> Result<String, Error> {
    if text.len() > pieces::PIECE_BYTES {
        if let Some(formatted) = pieces::format_in_pieces(text, pieces::PIECE_BYTES) {
            return Ok(formatted);
        }
    } else if let Some(formatted) = units::Units::default().format(text) {
        forget_spans();
        return Ok(formatted);
    }
    // Parsed again as written, so that an error names the line the template wrote.
    let parsed = syn::parse_file(text);
    let result = match parsed {
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
    };
    forget_spans();
    result
}

/// `text` parsed and printed with its doc comments set aside, or `None` when it does not parse
/// (or has no doc comments to set aside, then it is printed as it is).
fn print(text: &str) -> Option<String> {
    print_checked(text, |_| true)
}

/// [`print`], when the parsed text passes `check`.
fn print_checked(text: &str, check: impl FnOnce(&syn::File) -> bool) -> Option<String> {
    match docs::set_aside(text) {
        Some((short, runs)) => {
            let file = syn::parse_file(&short).ok().filter(|f| check(f))?;
            docs::put_back(&prettyplease::unparse(&file), &runs)
        }
        None => syn::parse_file(text)
            .ok()
            .filter(|f| check(f))
            .map(|file| prettyplease::unparse(&file)),
    }
}

/// Frees what `proc-macro2` keeps to locate spans: with `span-locations` (which gives a parse
/// error its line) it keeps a copy of every text parsed on the thread, and a line table of it,
/// for as long as the thread lives. None of those spans is used once a parse is over.
pub(crate) fn forget_spans() {
    proc_macro2::extra::invalidate_current_thread_spans();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_valid_rust() {
        let out = format_rust("t", "pub struct   A{x:i32}", None).unwrap();
        assert_eq!(out, "pub struct A {\n    x: i32,\n}\n");
    }

    /// proc-macro2 keeps every text parsed on a thread (for span locations) until told to
    /// forget: a crate's worth of generated code (Microsoft Graph: 60 MB) stayed in memory.
    #[test]
    fn formatting_forgets_the_texts_it_parsed() {
        let earlier: syn::Ident = syn::parse_str("earlier").unwrap();
        assert_eq!(earlier.span().start().column, 0, "spans are located");
        format_rust("t", "pub struct A;", None).unwrap();
        // A span into a forgotten text can no longer be located.
        let located = std::panic::catch_unwind(|| earlier.span().start());
        assert!(located.is_err(), "the parsed text is still kept");
    }

    /// Text cut into parts (an impl's statements, a struct's fields) that does not parse is an
    /// error naming the line, whichever part it is in; never a panic.
    #[test]
    fn invalid_parts_are_errors_not_panics() {
        for text in [
            "impl A {\n    fn f(&self) {\n        let a = \"abc;\n    }\n}\n",
            "impl A {\n    fn f(&self) {\n        let a = \"\n",
            "pub struct A {\n    pub a: \"x,\n}\n",
            "impl A {\n    pub fn f(&self, a: &str) -> Result<A, B {\n        x\n    }\n}\n",
            "impl A {\n    #[cfg(feature = \"a)]\n    pub fn f(&self) {}\n}\n",
        ] {
            let err = format_rust("t.rs.j2", text, None).unwrap_err();
            assert!(err.to_string().contains("t.rs.j2"), "{err}");
        }
    }

    proptest::proptest! {
        /// Whatever a template prints, formatting it gives text or an error, never a panic: the
        /// cuts, shapes, stand-ins and signatures all see it first.
        #[test]
        fn any_text_formats_or_fails_without_panicking(
            text in "(impl A \\{|pub struct B \\{|pub fn f\\(&self, a: &str\\) -> R<S, T> \\{|#\\[cfg\\(feature = \"x\"\\)\\]|let a = super::b::c;|\\}|\"|'|,|;|\n|/\\*|//|r#\"|[a-z:<>()&]{1,4}| ){0,40}"
        ) {
            let _ = format_rust("t.rs.j2", &text, None);
        }
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
