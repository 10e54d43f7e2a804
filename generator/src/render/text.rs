//! Text helpers for templates: Rust string literals and doc comments that spec text cannot escape.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters that are invisible or reorder text (bidi controls, zero-width characters): they
/// must never appear raw in generated source, where they could make code read differently from
/// how it compiles.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{205f}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
        | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

/// `text` without invisible, bidi and control characters (newlines and tabs kept): for generated
/// files that are not Rust, such as the README, where such characters would make the text read
/// differently from what it says.
pub fn visible_text(text: &str) -> String {
    text.chars()
        .filter(|&c| !is_invisible(c) && (c == '\n' || c == '\t' || !c.is_control()))
        .collect()
}

/// JSON text with every character outside ASCII written as a `\uXXXX` escape (a surrogate pair
/// past the basic plane): the same JSON value, and a generated file in which no invisible or bidi
/// character from the spec can hide. Raw non-ASCII characters only occur inside JSON strings,
/// where the escape means the same.
pub fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    // Runs of ASCII (nearly all of a catalogue) are copied at once.
    while let Some(at) = rest.bytes().position(|b| !b.is_ascii()) {
        out.push_str(&rest[..at]);
        let c = rest[at..].chars().next().unwrap_or_default();
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            let _ = write!(out, "\\u{unit:04x}");
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// A Rust string literal that round-trips `value` exactly. Everything outside printable ASCII is
/// written as a `\u{..}` escape, so no spec string can close the literal or hide characters.
pub fn rust_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// A TOML basic string for `value` (JSON string syntax is valid TOML).
pub fn toml_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if c.is_control() || is_invisible(c) || u32::from(c) > 0xffff => {
                if u32::from(c) > 0xffff {
                    let _ = write!(out, "\\U{:08x}", u32::from(c));
                } else {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `///` doc comment lines for spec prose.
///
/// The only way out of a `///` comment is a line break, so every line of the text gets its own
/// `///`. Control, bidi and zero-width characters are dropped (rustc rejects some in comments and
/// they could disguise code). The common indentation is removed, as rustdoc would, and then every
/// Markdown code block is made inert (module `render::markdown`), so rustdoc never runs spec text as a
/// doctest.
pub fn doc_comment(text: &str) -> String {
    let normalized: Cow<'_, str> = if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        text.into()
    };
    let lines: Vec<Cow<'_, str>> = normalized
        .trim_matches('\n')
        .split('\n')
        .map(|raw| {
            // Printable ASCII (most lines) has nothing to map or drop: no whitespace but the
            // space, no control or invisible character.
            if raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return raw.trim_end().into();
            }
            let line: String = raw
                .chars()
                // Markdown and rustdoc measure indentation in spaces; other whitespace (tabs, an
                // ideographic space) would make the two disagree about where a code block is.
                .map(|c| if c.is_whitespace() { ' ' } else { c })
                .filter(|c| !c.is_control() && !is_invisible(*c))
                .collect();
            line.trim_end().to_owned().into()
        })
        .collect();
    let indent = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut cleaned = String::with_capacity(normalized.len());
    for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            cleaned.push('\n');
        }
        cleaned.push_str(line.get(indent..).unwrap_or(""));
    }
    let inert = super::markdown::inert_code_blocks(cleaned);
    let mut out = String::with_capacity(inert.len() + 16 * lines.len());
    for line in inert.trim_matches('\n').split('\n') {
        if line.is_empty() {
            out.push_str("///\n");
        } else {
            out.push_str("/// ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Spec text placed inside one doc line: whitespace runs (line breaks included) become one space
/// and control and invisible characters are dropped.
pub fn doc_value(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control() || is_invisible(c))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_round_trip_through_syn() {
        let samples = [
            "plain",
            "quote \" and \\ backslash",
            "\"; panic!(); \"",
            "line\nbreak\r\n",
            "tab\tand nul \0",
            "bidi \u{202e}evil\u{202c} zero\u{200b}width",
            "emoji 🐶 and ü",
            "#\"# r#\"raw\"#",
        ];
        for value in samples {
            let literal = rust_literal(value);
            let parsed: syn::LitStr = syn::parse_str(&literal).unwrap();
            assert_eq!(parsed.value(), value);
            assert!(literal.is_ascii());
        }
    }

    #[test]
    fn toml_literals_escape_quotes_and_controls() {
        assert_eq!(toml_literal("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    #[test]
    fn doc_comments_cannot_break_out() {
        let text = "Summary\r\n*/ fn evil() {}\rnext\u{2028}line\u{202e}\n```\nlet x = 1;\n```\n    indented code";
        let doc = doc_comment(text);
        for line in doc.lines() {
            assert!(line.starts_with("///"), "{line:?}");
        }
        assert!(!doc.contains('\u{202e}') && !doc.contains('\u{2028}'));
        assert!(doc.contains("/// ```text"));
        assert!(doc.contains("/// indented code"));
        let item = format!("{doc}struct X;");
        syn::parse_str::<syn::ItemStruct>(&item).unwrap();
    }

    #[test]
    fn doc_comments_never_hold_a_runnable_code_block() {
        for hostile in super::super::markdown::HOSTILE {
            // Tabs, CRs and common indentation must not hide a block from the sanitiser either.
            let variants = [
                hostile.to_string(),
                hostile.replace('\n', "\r\n"),
                hostile.replace("    ", "\t"),
                hostile
                    .lines()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ];
            for text in variants {
                let doc = doc_comment(&text);
                // What rustdoc reads: the comment text with the common one-space indent removed.
                let markdown: Vec<&str> = doc
                    .lines()
                    .map(|l| {
                        l.strip_prefix("/// ")
                            .unwrap_or(l.trim_start_matches("///"))
                    })
                    .collect();
                assert!(
                    super::super::markdown::is_inert(&markdown.join("\n")),
                    "{text:?} -> {doc}"
                );
            }
        }
    }

    #[test]
    fn common_indentation_counts_spaces_only() {
        let doc = doc_comment("  a\n\u{3000}b\n  c");
        assert_eq!(doc, "///  a\n/// b\n///  c\n");
    }

    #[test]
    fn doc_values_stay_on_one_line() {
        assert_eq!(doc_value("a\n\r b\u{202e}c\u{2028}d"), "a b c d");
    }

    #[test]
    fn unclosed_fences_are_closed() {
        let doc = doc_comment("```\ncode");
        assert!(doc.ends_with("/// ```\n"));
    }
}

#[cfg(test)]
mod ascii_json_tests {
    use super::ascii_json;

    #[test]
    fn non_ascii_becomes_escapes_of_the_same_json_value() {
        let json = serde_json::json!({"k\u{202e}": "caf\u{e9} \u{1f600} \u{200b}"}).to_string();
        let escaped = ascii_json(&json);
        assert!(escaped.is_ascii(), "{escaped}");
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(&json).unwrap()
        );
    }
}

/// Security alternatives as a sentence for generated docs.
pub(crate) fn auth_sentence(security: &[Vec<String>]) -> String {
    if security.is_empty() {
        return "Auth: none needed.".to_owned();
    }
    let alternatives: Vec<String> = security
        .iter()
        .map(|alt| {
            if alt.is_empty() {
                "anonymous access".to_owned()
            } else {
                alt.iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            }
        })
        .collect();
    format!("Auth: {}.", alternatives.join(", or "))
}
