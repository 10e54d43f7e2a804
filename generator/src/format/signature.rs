//! Signatures of the functions in an `impl` printed without `syn`. A large API's client has a
//! method per operation, and each signature is distinct (its name, its arguments' and result's
//! widths), so formatting them was most of what was left of formatting an `impl`. Most are of a
//! plain kind: `cfg` attributes, then `pub async fn name(&self, owner: &str, options:
//! &super::types::Options) -> Result<super::types::Repo, ::connector_runtime::Error>`, with
//! types that are paths with generic arguments, behind an optional reference.
//!
//! Such a signature is read with a small grammar (anything else is left to the stand-ins, see
//! `impls.rs`) and printed the way `prettyplease` prints it inside an `impl`: on one line when
//! it fits in 89 columns with its ` {`; otherwise an argument a line, and `) -> Result<…> {`
//! on one line when it fits, or else the result's generic arguments a line each. A test holds a
//! sweep over widths, and every sample spec's signatures, to what `prettyplease` prints.

/// `prettyplease`'s line width.
const MARGIN: usize = 89;

/// A signature's lines as `prettyplease` prints them in an `impl` (attributes, then the
/// signature up to its body's `{`), or `None` when it is not of the plain kind or a part of it
/// would not fit on its line.
pub(super) fn layout(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text.trim();
    while rest.starts_with("#[") {
        let end = rest.find('\n')?;
        let attribute = rest[..end].trim_end();
        if !plain_attribute(attribute) || 4 + attribute.len() > MARGIN {
            return None;
        }
        out.push_str("    ");
        out.push_str(attribute);
        out.push('\n');
        rest = rest[end + 1..].trim_start();
    }
    let signature = Signature::read(rest)?;
    let arguments = signature.arguments.join(", ");
    let result = signature
        .result
        .as_ref()
        .map(|r| format!(" -> {}", r.flat()))
        .unwrap_or_default();
    let flat = format!("{}({arguments}){result}", signature.head);
    if 4 + flat.len() + 2 <= MARGIN {
        out.push_str(&format!("    {flat} {{\n"));
        return Some(out);
    }
    out.push_str(&format!("    {}(\n", signature.head));
    one_a_line(&mut out, &signature.arguments)?;
    let line = format!("    ){result} {{\n");
    match &signature.result {
        // A reference's generic arguments are not broken the same way: left to the stand-ins.
        Some(result) if line.len() - 1 > MARGIN && result.before_arguments.starts_with('&') => {
            return None;
        }
        Some(result) if line.len() - 1 > MARGIN && !result.arguments.is_empty() => {
            out.push_str(&format!("    ) -> {}<\n", result.before_arguments));
            one_a_line(&mut out, &result.arguments)?;
            out.push_str("    > {\n");
        }
        _ => out.push_str(&line),
    }
    Some(out)
}

/// Appends `items` one a line, each with a comma, as the arguments of a broken list print;
/// `None` when one does not fit on its line.
fn one_a_line(out: &mut String, items: &[String]) -> Option<()> {
    for item in items {
        if 8 + item.len() + 1 > MARGIN {
            return None;
        }
        out.push_str(&format!("        {item},\n"));
    }
    Some(())
}

/// Whether `attribute` is `#[cfg(…)]` over features, written as `prettyplease` prints it:
/// `feature = "name"`, or `any(…)`, `all(…)`, `not(…)` of such, separated by `, `.
fn plain_attribute(attribute: &str) -> bool {
    fn predicate(rest: &mut &str) -> bool {
        if let Some(after) = rest.strip_prefix("feature = \"") {
            let Some(end) = after.find('"') else {
                return false;
            };
            let name = &after[..end];
            let plain = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            *rest = &after[end + 1..];
            return plain;
        }
        for combinator in ["any(", "all(", "not("] {
            if let Some(after) = rest.strip_prefix(combinator) {
                *rest = after;
                loop {
                    if !predicate(rest) {
                        return false;
                    }
                    if let Some(after) = rest.strip_prefix(", ") {
                        *rest = after;
                    } else {
                        return match rest.strip_prefix(')') {
                            Some(after) => {
                                *rest = after;
                                true
                            }
                            None => false,
                        };
                    }
                }
            }
        }
        false
    }
    let Some(mut rest) = attribute
        .strip_prefix("#[cfg(")
        .and_then(|a| a.strip_suffix(")]"))
    else {
        return false;
    };
    predicate(&mut rest) && rest.is_empty()
}

/// A plain signature: `pub async fn name` (its head), its arguments and its result, each as
/// `prettyplease` prints it flat.
struct Signature {
    head: String,
    arguments: Vec<String>,
    result: Option<Type>,
}

/// A type: its flat text, and when its last path segment has generic arguments, the text
/// before them and each argument flat.
struct Type {
    before_arguments: String,
    arguments: Vec<String>,
}

impl Type {
    fn flat(&self) -> String {
        if self.arguments.is_empty() {
            self.before_arguments.clone()
        } else {
            format!("{}<{}>", self.before_arguments, self.arguments.join(", "))
        }
    }
}

impl Signature {
    fn read(text: &str) -> Option<Self> {
        let mut tokens = Tokens::new(text)?;
        let mut head = String::new();
        if tokens.eat("pub") {
            head.push_str("pub ");
        }
        if tokens.eat("async") {
            head.push_str("async ");
        }
        if !tokens.eat("fn") {
            return None;
        }
        head.push_str("fn ");
        head.push_str(tokens.ident()?);
        if !tokens.eat("(") {
            return None;
        }
        let mut arguments = Vec::new();
        while !tokens.eat(")") {
            arguments.push(argument(&mut tokens)?);
            if !tokens.eat(",") && tokens.peek() != Some(")") {
                return None;
            }
        }
        let result = if tokens.eat("->") {
            Some(ty(&mut tokens)?)
        } else {
            None
        };
        tokens.at_end().then_some(Signature {
            head,
            arguments,
            result,
        })
    }
}

/// One argument: `&self`, `&mut self`, `self`, or `name: Type`.
fn argument(tokens: &mut Tokens<'_>) -> Option<String> {
    if tokens.eat("&") {
        let mutable = tokens.eat("mut");
        if !tokens.eat("self") {
            return None;
        }
        return Some(if mutable { "&mut self" } else { "&self" }.to_owned());
    }
    if tokens.eat("self") {
        return Some("self".to_owned());
    }
    let name = tokens.ident()?;
    if !tokens.eat(":") {
        return None;
    }
    Some(format!("{name}: {}", ty(tokens)?.flat()))
}

/// A type: an optional reference (`&`, `&'a `, `&mut `) to a path whose segments may have
/// generic arguments that are types; only the last segment's are kept apart.
fn ty(tokens: &mut Tokens<'_>) -> Option<Type> {
    let mut before = String::new();
    if tokens.eat("&") {
        before.push('&');
        if tokens.eat("'") {
            before.push('\'');
            before.push_str(tokens.ident_or("static")?);
            before.push(' ');
        }
        if tokens.eat("mut") {
            before.push_str("mut ");
        }
    }
    if tokens.eat("::") {
        before.push_str("::");
    }
    let mut leading = true;
    loop {
        let word = tokens.peek()?;
        let segment = if leading && matches!(word, "super" | "crate" | "self" | "Self") {
            tokens.next()?
        } else {
            tokens.ident()?
        };
        leading &= segment == "super";
        before.push_str(segment);
        let mut arguments = Vec::new();
        if tokens.eat("<") {
            loop {
                arguments.push(ty(tokens)?.flat());
                if tokens.eat(">") {
                    break;
                }
                if !tokens.eat(",") {
                    return None;
                }
            }
        }
        if tokens.eat("::") {
            if !arguments.is_empty() {
                return None;
            }
            before.push_str("::");
            continue;
        }
        // A path ending in a keyword (`super`) is not a type.
        if matches!(segment, "super" | "crate" | "self") {
            return None;
        }
        return Some(Type {
            before_arguments: before,
            arguments,
        });
    }
}

/// The tokens of a plain signature: words and the punctuation the grammar knows; `None` for a
/// text with anything else (literals, comments, brackets other than parentheses).
struct Tokens<'t> {
    tokens: Vec<&'t str>,
    at: usize,
}

impl<'t> Tokens<'t> {
    fn new(text: &'t str) -> Option<Self> {
        let mut tokens = Vec::new();
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let byte = bytes[at];
            let length = if byte.is_ascii_whitespace() {
                at += 1;
                continue;
            } else if byte.is_ascii_alphanumeric() || byte == b'_' {
                bytes[at..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count()
            } else if text[at..].starts_with("::") || text[at..].starts_with("->") {
                2
            } else if matches!(byte, b'(' | b')' | b'<' | b'>' | b',' | b':' | b'&' | b'\'') {
                1
            } else {
                return None;
            };
            tokens.push(&text[at..at + length]);
            at += length;
        }
        Some(Tokens { tokens, at: 0 })
    }

    fn peek(&self) -> Option<&'t str> {
        self.tokens.get(self.at).copied()
    }

    fn next(&mut self) -> Option<&'t str> {
        let token = self.peek()?;
        self.at += 1;
        Some(token)
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.peek() == Some(token);
        self.at += usize::from(found);
        found
    }

    /// An identifier: a word that starts with a letter or `_` and is no keyword.
    fn ident(&mut self) -> Option<&'t str> {
        let word = self.peek()?;
        let starts_well = word
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
        if !starts_well || crate::keywords::any(word) {
            return None;
        }
        self.next()
    }

    /// An identifier, or the keyword `keyword`.
    fn ident_or(&mut self, keyword: &str) -> Option<&'t str> {
        if self.peek() == Some(keyword) {
            return self.next();
        }
        self.ident()
    }

    fn at_end(&self) -> bool {
        self.at == self.tokens.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `prettyplease` prints of `signature` inside an `impl`, up to its body's `{`.
    fn printed(signature: &str) -> String {
        let text = format!("impl S {{\n{signature} {{\nx;\n}}\n}}\n");
        let out = prettyplease::unparse(&syn::parse_file(&text).unwrap());
        let out = out.strip_prefix("impl S {\n").unwrap();
        out[..out.find("        x;\n").unwrap()].to_owned()
    }

    #[test]
    fn signatures_print_as_prettyplease_prints_them_at_every_width() {
        let mut laid_out = 0;
        for name in 1..90 {
            for arguments in 0..3 {
                for width in [3, 20, 45, 75] {
                    for result in 0..6 {
                        let mut signature = String::from(
                            "#[cfg(any(feature = \"a\", feature = \"b-c\"))]\npub async fn ",
                        );
                        signature.push_str(&"n".repeat(name));
                        signature.push_str("(\n    &self,\n");
                        for index in 0..arguments {
                            signature
                                .push_str(&format!("a{index}: &'static {},\n", "T".repeat(width)));
                        }
                        signature.push(')');
                        let long = "X".repeat(width);
                        signature.push_str(&match result {
                            0 => String::new(),
                            1 => format!(" -> ::std::vec::Vec<{long}>"),
                            2 => format!(
                                " -> Result<super::types::{long}, ::connector_runtime::Error>"
                            ),
                            3 => format!(" -> Result<Vec<Option<{long}>>, E>"),
                            4 => format!(" -> &'static Vec<{long}>"),
                            _ => " -> &mut Self".to_owned(),
                        });
                        if let Some(lines) = layout(&signature) {
                            laid_out += 1;
                            assert_eq!(lines, printed(&signature), "{signature}");
                        }
                    }
                }
            }
        }
        assert!(laid_out > 4_000, "{laid_out}");
    }

    #[test]
    fn sample_connectors_signatures_print_as_prettyplease_prints_them() {
        let options = crate::Options::default();
        let mut laid_out = 0;
        for (path, connector) in crate::sample_connectors() {
            let modules = crate::rendered_modules(&connector, &options).unwrap();
            for (_, text) in &modules {
                // Each method's text from its attributes to its body's `{`.
                for (at, _) in text.match_indices("fn ") {
                    let start = text[..at].rfind(['\n', '}', ';', '{']).map_or(0, |i| i + 1);
                    let start = text[..start]
                        .trim_end()
                        .rfind('\n')
                        .filter(|i| text[i + 1..start].trim_start().starts_with("#[cfg"))
                        .map_or(start, |i| i + 1);
                    let Some(end) = text[at..].find(" {\n").map(|e| at + e) else {
                        continue;
                    };
                    let signature = &text[start..end];
                    if let Some(lines) = layout(signature) {
                        laid_out += 1;
                        assert_eq!(lines, printed(signature), "{}: {signature}", path.display());
                    }
                }
            }
        }
        assert!(laid_out > 100, "{laid_out}");
    }

    #[test]
    fn other_kinds_are_left_to_the_stand_ins() {
        for signature in [
            "pub fn f<T>(&self, t: T)",
            "pub fn f(&self) -> ()",
            "pub fn f(&self, x: [u8; 2])",
            "#[doc(hidden)]\npub fn f(&self)",
            "#[cfg(feature = \"a\\\"b\")]\npub fn f(&self)",
            "pub fn f(&self) where Self: Sized",
            "pub fn f(mut self)",
            "pub fn f(&self, type: u8)",
            "pub fn f(&self) -> a::super::B",
            "pub fn f(&self) -> A<B>::C",
            "pub unsafe fn f(&self)",
            "pub fn f(&self) /* comment */",
        ] {
            assert_eq!(layout(signature), None, "{signature}");
        }
        assert!(layout("fn decode(answer: ::connector_runtime::ErrorAnswer) -> Self").is_some());
    }
}
