//! Rust's keywords, in the sets the generator tells apart: naming makes a raw identifier of one
//! kind and renames the other, and formatting and the templates' checks treat all of them,
//! contextual ones included, as words that are not plain identifiers. (Matches rather than
//! lists: formatting asks about every word it reshapes.)

/// Whether `word` is a keyword that can be used as a raw identifier (`r#type`).
pub(crate) fn can_be_raw(word: &str) -> bool {
    matches!(
        word,
        "abstract"
            | "as"
            | "async"
            | "await"
            | "become"
            | "box"
            | "break"
            | "const"
            | "continue"
            | "do"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "final"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "macro"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "override"
            | "priv"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "true"
            | "try"
            | "type"
            | "typeof"
            | "unsafe"
            | "unsized"
            | "use"
            | "virtual"
            | "where"
            | "while"
            | "yield"
    )
}

/// Whether `word` is a keyword that cannot even be a raw identifier (path roots, `Self`, `_`).
pub(crate) fn cannot_be_raw(word: &str) -> bool {
    matches!(word, "crate" | "self" | "super" | "Self" | "_")
}

/// Whether `word` is a keyword of any kind, the contextual ones (`union`, `default`, `raw`, …)
/// included.
pub(crate) fn any(word: &str) -> bool {
    can_be_raw(word)
        || cannot_be_raw(word)
        || matches!(
            word,
            "auto" | "default" | "macro_rules" | "raw" | "safe" | "union"
        )
}
