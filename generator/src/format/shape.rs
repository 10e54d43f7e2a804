//! Parts keyed by their shape. How `prettyplease` lays a part out depends on its tokens' kinds
//! and widths, not on which identifiers or strings they are: it measures a token by its length
//! and decides by keywords (kept here) and by macro names (a part with a macro call is not
//! reshaped). So each identifier that is not a keyword becomes `z`s of its length and each string
//! literal `"z…z"` of its length; parts of the same shape (`let operation =
//! &super::operations::OPERATIONS[super::operations::REPOS_GET];` and every other operation's
//! line of that width) are formatted once, and each gets its own tokens put back in order.
//!
//! Putting back checks that the printed shape holds as many reshaped tokens, of the same widths,
//! as were taken out; otherwise the part is formatted as written.

use std::borrow::Cow;

use super::scan::{tokens, Token};
use crate::keywords;

/// A part's shape (the key it is formatted under) and the tokens taken out of it, in order.
pub(super) struct Shape<'t> {
    pub(super) key: Cow<'t, str>,
    originals: Vec<&'t str>,
}

/// The shape of `text`; the text itself when it calls a macro or holds a token that reads like
/// a reshaped one.
pub(super) fn shape(text: &str) -> Shape<'_> {
    let as_written = || Shape {
        key: Cow::Borrowed(text),
        originals: Vec::new(),
    };
    let bytes = text.as_bytes();
    // The first significant byte from `at` on, and the one after it.
    let following = |at: usize| {
        let rest = text[at..].trim_start();
        let mut next = rest.bytes();
        (next.next(), next.next())
    };
    let mut key = String::with_capacity(text.len());
    let mut originals = Vec::new();
    let mut from = 0;
    // Inside an attribute: the depth of its brackets, and whether it is a doc attribute.
    let mut attribute: Option<(usize, bool)> = None;
    // The token before this one, and whether it leaves room for a path (see below).
    let mut previous = "";
    // The end of a path reshaped whole: the tokens before it are part of it.
    let mut skip_to = 0;
    for (start, mut end, kind) in tokens(text) {
        if start < skip_to {
            continue;
        }
        let mut token = &text[start..end];
        if let Some((depth, _)) = attribute.as_mut() {
            match bytes[start] {
                b'[' | b'(' | b'{' => *depth += 1,
                b']' | b')' | b'}' => *depth = depth.saturating_sub(1),
                _ => {}
            }
        } else if token == "#" {
            let after = text[end..].trim_start();
            let after = after.strip_prefix('!').unwrap_or(after).trim_start();
            if let Some(inside) = after.strip_prefix('[') {
                attribute = Some((0, inside.trim_start().starts_with("doc")));
            }
        }
        let reshaped = match kind {
            Token::Word if attribute.is_none() => {
                let word_like = bytes[start].is_ascii_alphabetic() || bytes[start] == b'_';
                let raw_prefix = token == "r" && bytes.get(end) == Some(&b'#');
                let root = matches!(token, "super" | "crate" | "self" | "Self");
                // A path of several segments written without spaces prints as written, with no
                // place to break inside: it becomes one word of its width. Longer than four, so
                // that it is never taken for a short name (`prettyplease` lays out calls on
                // receivers of at most four characters differently).
                // Only where a path may stand: not where a name is declared (`fn`, `let`, a
                // field or binding before `:` or `@`), where one word would parse and a path
                // does not, so that a template's mistake there still fails to parse.
                let path_end = path_end(text, end);
                let declared = matches!(
                    previous,
                    "fn" | "struct"
                        | "enum"
                        | "union"
                        | "trait"
                        | "type"
                        | "mod"
                        | "let"
                        | "mut"
                        | "ref"
                        | "const"
                        | "static"
                        | "pub"
                        | "macro_rules"
                ) || matches!(following(path_end), (Some(b'@'), _))
                    || matches!(following(path_end), (Some(b':'), next) if next != Some(b':'));
                let whole_path = word_like
                    && !raw_prefix
                    && !declared
                    && (root || !keywords::any(token))
                    && path_end - start > 4;
                if whole_path {
                    end = path_end;
                    skip_to = path_end;
                    token = &text[start..end];
                }
                if matches!(following(end), (Some(b'!'), next) if next != Some(b'=')) {
                    return as_written();
                }
                whole_path || (word_like && !raw_prefix && !keywords::any(token))
            }
            // An unterminated string (the text is not valid Rust) keeps its text.
            Token::Str => {
                let closed = token.len() >= 2 && token.ends_with('"');
                closed && !attribute.is_some_and(|(_, doc)| doc)
            }
            _ => false,
        };
        if reshaped {
            key.push_str(&text[from..start]);
            if kind == Token::Str {
                key.push('"');
                key.extend(std::iter::repeat_n('z', token.len() - 2));
                key.push('"');
            } else {
                key.extend(std::iter::repeat_n('z', token.len()));
            }
            originals.push(token);
            from = end;
        } else if reads_reshaped(token, kind) {
            return as_written();
        }
        if attribute.is_some_and(|(depth, _)| depth == 0) && token == "]" {
            attribute = None;
        }
        previous = &text[start..end];
    }
    if originals.is_empty() {
        return as_written();
    }
    key.push_str(&text[from..]);
    Shape {
        key: Cow::Owned(key),
        originals,
    }
}

impl Shape<'_> {
    /// `printed` (this shape formatted) with the tokens taken out put back, or `None` when the
    /// printed shape does not hold them as they were taken out.
    pub(super) fn restore(&self, printed: &str) -> Option<String> {
        if self.originals.is_empty() {
            return Some(printed.to_owned());
        }
        let mut out = String::with_capacity(printed.len() + 16);
        let mut originals = self.originals.iter();
        let mut from = 0;
        for (start, end, kind) in tokens(printed) {
            let token = &printed[start..end];
            if reads_reshaped(token, kind) {
                let original = originals.next()?;
                if original.len() != token.len() {
                    return None;
                }
                out.push_str(&printed[from..start]);
                out.push_str(original);
                from = end;
            }
        }
        if originals.next().is_some() {
            return None;
        }
        out.push_str(&printed[from..]);
        Some(out)
    }
}

/// The end of the path whose first segment ends at `at`: `::` and a word, as long as they
/// follow with no space between; `at` when none does. A raw identifier ends it before its `r`.
fn path_end(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    while let Some(rest) = text[at..].strip_prefix("::") {
        let starts_word = rest
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
        if !starts_word {
            break;
        }
        let length = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if bytes.get(at + 2 + length) == Some(&b'#') {
            break;
        }
        at += 2 + length;
    }
    at
}

/// Whether `token` reads like a reshaped one: a word of `z`s, or a string of them.
fn reads_reshaped(token: &str, kind: Token) -> bool {
    let all_z = |s: &str| !s.is_empty() && s.bytes().all(|b| b == b'z');
    match kind {
        Token::Word => all_z(token),
        Token::Str => token.len() >= 2 && (token.len() == 2 || all_z(&token[1..token.len() - 1])),
        Token::Other => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(text: &str) -> String {
        prettyplease::unparse(&syn::parse_file(text).unwrap())
    }

    #[test]
    fn identifiers_and_strings_become_their_widths_and_come_back() {
        let text = "#[cfg(feature = \"apps\")]\npub fn r#type(&self, owner: &str) -> Result<super::types::Repo, Error> { args.query(\"per_page\", &options.per_page)?; x }";
        let shape = shape(text);
        assert_eq!(
            shape.key,
            "#[cfg(feature = \"zzzz\")]\npub fn r#type(&self, zzzzz: &zzz) -> zzzzzz<zzzzzzzzzzzzzzzzzz, zzzzz> { zzzz.zzzzz(\"zzzzzzzz\", &zzzzzzz.zzzzzzzz)?; z }"
        );
        assert_eq!(shape.restore(&print(&shape.key)).unwrap(), print(text));
    }

    #[test]
    fn same_widths_give_the_same_shape() {
        let a = shape("let operation = &OPERATIONS[super::operations::REPOS_GET];");
        let b = shape("let operation = &OPERATIONS[super::operations::USERS_GET];");
        assert_eq!(a.key, b.key);
        let printed = print(&format!("fn f() {{ {} }}", a.key));
        let restored = b.restore(&printed).unwrap();
        assert!(
            restored.contains("super::operations::USERS_GET"),
            "{restored}"
        );
    }

    #[test]
    fn paths_become_one_word_unless_short_spaced_or_generic() {
        let cases = [
            (
                "x(::connector_runtime::Error);",
                "z(::zzzzzzzzzzzzzzzzzzzzzzzz);",
            ),
            // Four characters: a receiver that short lays out differently, so it stays a path.
            ("a::b.c();", "z::z.z();"),
            ("a :: bc;", "z :: zz;"),
            ("Vec::<T>::new();", "zzz::<z>::zzz();"),
            ("Self::Other(x)", "zzzzzzzzzzz(z)"),
            ("a::r#type;", "z::r#type;"),
        ];
        for (text, key) in cases {
            let shape = shape(text);
            assert_eq!(shape.key, key, "{text}");
            let printed = print(&format!("fn f() {{ {} }}", shape.key));
            let restored = shape.restore(&printed).unwrap();
            assert_eq!(restored, print(&format!("fn f() {{ {text} }}")), "{text}");
        }
        // Where a name is declared, a path is not valid Rust and stays a path, so that the
        // text still fails to parse.
        for text in [
            "fn a::bc() {}",
            "let a::bc = 1;",
            "struct S { pub a::bc: u8 }",
            "struct S { a::bc: u8 }",
            "match x { a::bc @ 1 => {} }",
        ] {
            assert!(
                shape(text).key.contains("z::zz"),
                "{text}: {}",
                shape(text).key
            );
        }
        // A macro at the end of a path keeps the whole text.
        assert_eq!(shape("a::b::c!(x);").key, "a::b::c!(x);");
    }

    #[test]
    fn macros_doc_attributes_and_look_alikes_keep_their_text() {
        for text in ["let a = format!(\"{x}\");", "let zz = 1;"] {
            let shape = shape(text);
            assert_eq!(shape.key, text);
        }
        // An unterminated string (not valid Rust) keeps its text, down to a lone quote.
        assert_eq!(shape("let a = \"").key, "let z = \"");
        assert_eq!(shape("let a = \"bc").key, "let z = \"bc");
        // A byte string is not reshaped, so it cannot be taken for a reshaped string.
        assert_eq!(shape("let a = b\"zz\";").key, "let z = b\"zz\";");
        let doc = shape("#[doc = \"Docs.\"]\nfn f() {}");
        assert_eq!(doc.key, "#[doc = \"Docs.\"]\nfn z() {}");
        // Not equal: `!=` is not a macro call.
        assert_eq!(shape("a != b;").key, "z != z;");
    }

    #[test]
    fn a_printed_shape_that_lost_a_token_is_not_restored() {
        let shape = shape("let a = b;");
        assert_eq!(
            shape.restore("let z = z;\n").as_deref(),
            Some("let a = b;\n")
        );
        assert_eq!(shape.restore("let z;\n"), None);
        assert_eq!(shape.restore("let z = z + z;\n"), None);
        assert_eq!(shape.restore("let z = zz;\n"), None);
    }
}
