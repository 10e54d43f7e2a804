//! Doc comments set aside while a text is formatted. They are over a third of a large API's
//! generated text, and each line costs `syn` an attribute with an escaped string literal that
//! `prettyplease` unescapes and prints back unchanged, at the indentation of what it documents:
//! `///`, the line's text with its trailing spaces trimmed, and a forced line break.
//!
//! So each run of doc-comment lines becomes one short doc line naming the run, which prints the
//! same way (a doc attribute and a forced break, so no layout around it changes), and the run's
//! lines are put back, at the indentation the short line was printed at.

use super::scan::leading_line_comments;

/// The short doc lines' text starts with this; a text that holds it keeps its docs.
const MARK: &str = "__connector_gen_doc_";

/// `text` with each run of doc-comment lines replaced by one line naming it, and the runs (the
/// lines of each, without indentation), or `None` when nothing is set aside.
pub(super) fn set_aside(text: &str) -> Option<(String, Vec<Vec<&str>>)> {
    if text.contains(MARK) {
        return None;
    }
    let mut runs: Vec<(usize, usize, Vec<&str>)> = Vec::new();
    for (start, end) in leading_line_comments(text) {
        let line = &text[start..end];
        let inner = line.starts_with("//!");
        // `////` is a plain comment; a carriage return is refused in doc comments.
        let doc = (inner || (line.starts_with("///") && !line.starts_with("////")))
            && !line.contains('\r');
        if !doc {
            continue;
        }
        match runs.last_mut() {
            // The next line of the run: only a line break and indentation in between, and the
            // same kind of doc comment.
            Some((_, run_end, lines))
                if text[*run_end..start].trim_matches([' ', '\t']) == "\n"
                    && lines[0].starts_with("//!") == inner =>
            {
                *run_end = end;
                lines.push(line);
            }
            _ => runs.push((start, end, vec![line])),
        }
    }
    if runs.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (index, (start, end, lines)) in runs.iter().enumerate() {
        out.push_str(&text[from..*start]);
        out.push_str(if lines[0].starts_with("//!") {
            "//! "
        } else {
            "/// "
        });
        out.push_str(MARK);
        out.push_str(&index.to_string());
        from = *end;
    }
    out.push_str(&text[from..]);
    Some((out, runs.into_iter().map(|(_, _, lines)| lines).collect()))
}

/// `formatted` with each run's line replaced by the run's lines as `prettyplease` prints them,
/// or `None` when the runs do not each come back exactly once.
pub(super) fn put_back(formatted: &str, runs: &[Vec<&str>]) -> Option<String> {
    let extra: usize = runs.iter().flatten().map(|line| line.len() + 8).sum();
    let mut out = String::with_capacity(formatted.len() + extra);
    let mut restored = 0;
    for line in formatted.split_inclusive('\n') {
        let trimmed = line.trim_start_matches(' ');
        let run = trimmed
            .strip_prefix("/// ")
            .or_else(|| trimmed.strip_prefix("//! "))
            .and_then(|rest| rest.strip_prefix(MARK))
            .and_then(|rest| rest.trim_end_matches('\n').parse::<usize>().ok());
        let Some(run) = run else {
            out.push_str(line);
            continue;
        };
        let indent = &line[..line.len() - trimmed.len()];
        for doc in runs.get(run)? {
            out.push_str(indent);
            out.push_str(doc.trim_end_matches(' '));
            out.push('\n');
        }
        restored += 1;
    }
    (restored == runs.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> String {
        prettyplease::unparse(&syn::parse_file(text).unwrap())
    }

    fn aside(text: &str) -> String {
        let (short, runs) = set_aside(text).unwrap();
        put_back(&whole(&short), &runs).unwrap()
    }

    #[test]
    fn docs_set_aside_print_as_the_whole_text_prints() {
        let text = r##"
//! Crate docs,
//!   indented, with trailing spaces   
//!
/// Docs of `A`
///
///    with a code-like indent and a } brace   
#[derive(Debug)]
pub struct A {
        /// A field's docs.
    /// Second line.
    pub x: u8,
    //// not a doc comment
    /// After a plain comment.
    pub y: &'static str,
}
impl A {
    /// A method.
    pub fn f(&self) -> &'static str {
        /// A statement's docs.
        let s = "
/// inside a string, not a doc
";
        s
    }
}
pub enum E {
    /// First.
    First,
    /// Second.
    Second(u8),
}
"##;
        assert_eq!(aside(text), whole(text));
        let (short, runs) = set_aside(text).unwrap();
        assert_eq!(runs.len(), 8, "{runs:#?}");
        assert!(short.contains("/// inside a string, not a doc"));
    }

    #[test]
    fn sample_connectors_print_the_same_with_docs_set_aside() {
        let options = crate::Options::default();
        for (path, connector) in crate::sample_connectors() {
            let code = crate::render_inline_unformatted(
                &connector,
                &options,
                "x",
                crate::Target::GatedInline,
            )
            .unwrap();
            assert_eq!(aside(&code), whole(&code), "{}", path.display());
        }
    }

    #[test]
    fn a_text_holding_the_mark_keeps_its_docs() {
        assert!(set_aside(&format!("/// {MARK}0\nstruct A;")).is_none());
        assert!(set_aside("struct A;").is_none());
    }

    #[test]
    fn a_missing_or_unknown_run_is_refused() {
        let runs = vec![vec!["/// a"]];
        assert_eq!(put_back("struct A;\n", &runs), None);
        assert_eq!(put_back(&format!("/// {MARK}1\nstruct A;\n"), &runs), None);
        assert_eq!(
            put_back(&format!("    /// {MARK}0\n"), &runs).as_deref(),
            Some("    /// a\n")
        );
    }
}
