//! Identifiers, paths and types that are plainly valid, told apart without `syn`. The templates'
//! `ident`, `ty` and `expr` filters check that what they print is one Rust identifier, type or
//! expression; nearly all of it is an identifier or a path like `super::types::Repository`, with
//! generic arguments like `Vec<super::types::Label>`. Those are recognised here by a grammar
//! that is a small part of Rust's; anything else (references, tuples, keywords, raw
//! identifiers) is left to `syn`, so this only ever accepts what `syn` would.

/// The word `text` starts with: ASCII letters, digits and underscores, not starting with a digit.
fn word(text: &str) -> Option<&str> {
    let end = text
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(text.len());
    let found = &text[..end];
    let starts_well = found
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    starts_well.then_some(found)
}

/// Whether `text` is one identifier that is not a keyword.
pub(super) fn is_ident(text: &str) -> bool {
    word(text).is_some_and(|w| w.len() == text.len() && !crate::keywords::any(w))
}

/// Whether `text` is a path with no generic arguments (`super::types::Repo`), which is also an
/// expression.
pub(super) fn is_path(text: &str) -> bool {
    let mut rest = text;
    path(&mut rest, false) && rest.is_empty()
}

/// Whether `text` is a path type whose generic arguments are path types, separated by `, `.
pub(super) fn is_type(text: &str) -> bool {
    let mut rest = text;
    path(&mut rest, true) && rest.is_empty()
}

/// Takes a path from the start of `rest`: an optional leading `::`, then segments separated by
/// `::`. `crate`, `self` and `super` may only lead (`super` may repeat after them), and only
/// without a leading `::`; the last segment is an identifier; with `generics`, a segment that is
/// an identifier may carry `<` types `>`.
fn path(rest: &mut &str, generics: bool) -> bool {
    let rooted = rest.starts_with("::");
    if rooted {
        *rest = &rest[2..];
    }
    let mut leading = !rooted;
    let mut first = true;
    loop {
        let Some(segment) = word(rest) else {
            return false;
        };
        *rest = &rest[segment.len()..];
        let keyword = match segment {
            "crate" | "self" => first && leading,
            "super" => leading,
            _ => false,
        };
        if !keyword && crate::keywords::any(segment) {
            return false;
        }
        leading &= keyword;
        first = false;
        if !keyword && generics && rest.starts_with('<') {
            *rest = &rest[1..];
            loop {
                if !path(rest, true) {
                    return false;
                }
                if let Some(after) = rest.strip_prefix(", ") {
                    *rest = after;
                } else if let Some(after) = rest.strip_prefix('>') {
                    *rest = after;
                    break;
                } else {
                    return false;
                }
            }
        }
        match rest.strip_prefix("::") {
            Some(after) => *rest = after,
            None => return !keyword,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_names_paths_and_types_are_recognised() {
        for ident in ["a", "Repo", "_x", "r2", "per_page"] {
            assert!(is_ident(ident), "{ident}");
        }
        for not in ["", "1a", "type", "_", "a-b", "a b", "r#type", "self"] {
            assert!(!is_ident(not), "{not}");
        }
        for ty in [
            "super::types::Repo",
            "::connector_runtime::Error",
            "Vec<super::types::Label>",
            "::std::collections::BTreeMap<String, ::connector_runtime::serde_json::Value>",
            "Option<Vec<Option<u8>>>",
            "crate::a::b",
            "super::super::x",
            "self::x",
        ] {
            assert!(is_type(ty), "{ty}");
            assert!(syn::parse_str::<syn::Type>(ty).is_ok(), "{ty}");
        }
        for not in [
            "super",
            "a::super",
            "::crate::a",
            "a::crate",
            "Vec<>",
            "Vec<a,b>",
            "Vec<a",
            "&str",
            "a::",
            "::",
            "a::type",
            "x::self",
        ] {
            assert!(!is_type(not), "{not}");
        }
        assert!(is_path("super::operations::REPOS_GET"));
        assert!(!is_path("Vec<u8>"));
    }

    proptest! {
        /// Whatever is taken for an identifier, a type or an expression here, `syn` parses as
        /// one too.
        #[test]
        fn only_what_syn_accepts_is_accepted(text in "(::)?(super|crate|self|type|[a-zA-Z_][a-zA-Z0-9_]{0,3})((::|<|>|, |,)(super|crate|self|[a-zA-Z_0-9][a-zA-Z0-9_]{0,3}|>)){0,5}") {
            if is_ident(&text) {
                prop_assert!(syn::parse_str::<syn::Ident>(&text).is_ok(), "{}", text);
            }
            if is_type(&text) {
                prop_assert!(syn::parse_str::<syn::Type>(&text).is_ok(), "{}", text);
            }
            if is_path(&text) {
                prop_assert!(syn::parse_str::<syn::Expr>(&text).is_ok(), "{}", text);
            }
        }
    }
}
