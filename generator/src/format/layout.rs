//! Printing data expressions (paths, literals, calls of one argument, slices and struct
//! literals) in the layout `prettyplease` gives them, without parsing them.
//!
//! The descriptors of a large API are most of its generated text that is not types or methods
//! (GitHub: 1.1 MB), and parsing and printing them was an eighth of its generation. They are
//! data of a few shapes, so they are printed here directly. The rules are `prettyplease`'s, for
//! these shapes only:
//!
//! - a line holds 89 columns (`MARGIN`), and at least 60 after a deep indentation (`MIN_SPACE`);
//! - a group (a call's argument, a slice's elements, a struct's fields) is printed on one line
//!   when it fits with the text that follows it up to the next place a line may break (the comma
//!   after a field or element that is not the last one; the closing delimiters of the calls
//!   printed flat around it); otherwise each of its parts goes on a line of its own, indented
//!   four more, with a trailing comma;
//! - a struct literal wider than 34 columns is never on one line, and neither is anything
//!   around it; a call whose argument is a struct literal keeps it on the call's line.
//!
//! The tests hold the printed text to what `prettyplease` prints when it parses it.

/// `prettyplease`'s line width.
const MARGIN: usize = 89;
/// The least room a line has after its indentation.
const MIN_SPACE: usize = 60;
/// One level of indentation.
const INDENT: usize = 4;
/// The widest struct literal `prettyplease` keeps on one line.
const STRUCT_MAX_WIDTH: usize = 34;

/// A data expression.
pub(crate) enum Expr {
    /// Text that never breaks: a literal, a path, a number.
    Atom(String),
    /// `head(argument)`.
    Call(&'static str, Box<Expr>),
    /// `&[elements]`.
    Slice(Vec<Expr>),
    /// `[elements]`.
    Array(Vec<Expr>),
    /// `path { field: value, ... }`.
    Struct(&'static str, Vec<(&'static str, Expr)>),
}

impl Expr {
    /// `head(argument)`.
    pub(crate) fn call(head: &'static str, argument: Expr) -> Expr {
        Expr::Call(head, Box::new(argument))
    }

    /// The width of the expression on one line, or `None` when it cannot be on one line.
    fn flat_width(&self) -> Option<usize> {
        match self {
            Expr::Atom(text) => Some(text.len()),
            Expr::Call(head, argument) => Some(head.len() + 2 + argument.flat_width()?),
            Expr::Slice(elements) | Expr::Array(elements) => {
                let opening = if matches!(self, Expr::Slice(_)) { 2 } else { 1 };
                let mut width = opening + 1 + 2 * elements.len().saturating_sub(1);
                for element in elements {
                    width += element.flat_width()?;
                }
                Some(width)
            }
            Expr::Struct(path, fields) => {
                // `path { a: 1, b: 2 }`, or `path {}`.
                let mut width = path.len() + 3;
                for (name, value) in fields {
                    width += name.len() + 2 + value.flat_width()? + 2;
                }
                // The closing brace is printed after the group the limit applies to.
                (width - 1 <= STRUCT_MAX_WIDTH).then_some(width)
            }
        }
    }

    /// What opens a slice or an array.
    fn opening(&self) -> &'static str {
        if matches!(self, Expr::Slice(_)) {
            "&["
        } else {
            "["
        }
    }

    fn write_flat(&self, out: &mut String) {
        match self {
            Expr::Atom(text) => out.push_str(text),
            Expr::Call(head, argument) => {
                out.push_str(head);
                out.push('(');
                argument.write_flat(out);
                out.push(')');
            }
            Expr::Slice(elements) | Expr::Array(elements) => {
                out.push_str(self.opening());
                for (index, element) in elements.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    element.write_flat(out);
                }
                out.push(']');
            }
            Expr::Struct(path, fields) => {
                out.push_str(path);
                out.push_str(" {");
                for (index, (name, value)) in fields.iter().enumerate() {
                    out.push_str(if index > 0 { ", " } else { " " });
                    out.push_str(name);
                    out.push_str(": ");
                    value.write_flat(out);
                }
                out.push_str(if fields.is_empty() { "}" } else { " }" });
            }
        }
    }
}

/// Text being printed, and the room left on its last line.
pub(crate) struct Printer {
    out: String,
    space: usize,
}

impl Printer {
    /// A printer that appends to `out`, whose last line is taken to be empty.
    pub(crate) fn new(out: String) -> Self {
        Printer { out, space: MARGIN }
    }

    /// The printed text.
    pub(crate) fn finish(self) -> String {
        self.out
    }

    /// `text` as a line of its own at `indent`.
    pub(crate) fn line(&mut self, indent: usize, text: &str) {
        self.start_line(indent);
        self.word(text);
        self.out.push('\n');
    }

    /// Starts a line at `indent` with `head` (`pub static X: T = `), prints `value` after it
    /// and ends the line with `tail` (`;`).
    pub(crate) fn item(&mut self, indent: usize, head: &str, value: &Expr, tail: &str) {
        self.start_line(indent);
        self.word(head);
        self.expr(value, indent, tail.len());
        self.word(tail);
        self.out.push('\n');
    }

    fn start_line(&mut self, indent: usize) {
        self.out.extend(std::iter::repeat_n(' ', indent));
        self.space = MARGIN.saturating_sub(indent).max(MIN_SPACE);
    }

    fn newline(&mut self, indent: usize) {
        self.out.push('\n');
        self.start_line(indent);
    }

    fn word(&mut self, text: &str) {
        self.out.push_str(text);
        self.space = self.space.saturating_sub(text.len());
    }

    /// Prints `expr` in the block indented `indent`; `trailing` columns of text follow it on its
    /// line before the next place a line may break.
    fn expr(&mut self, expr: &Expr, indent: usize, trailing: usize) {
        if let Some(width) = expr.flat_width() {
            if width + trailing <= self.space {
                let start = self.out.len();
                expr.write_flat(&mut self.out);
                self.space -= self.out.len() - start;
                return;
            }
        }
        match expr {
            Expr::Atom(text) => self.word(text),
            // A struct argument is "block-like": it opens on the call's line.
            Expr::Call(head, argument) if matches!(**argument, Expr::Struct(..)) => {
                self.word(head);
                self.word("(");
                self.expr(argument, indent, trailing + 1);
                self.word(")");
            }
            Expr::Call(head, argument) => {
                self.word(head);
                self.word("(");
                self.newline(indent + INDENT);
                self.expr(argument, indent + INDENT, 0);
                self.word(",");
                self.newline(indent);
                self.word(")");
            }
            Expr::Slice(elements) | Expr::Array(elements) => {
                self.word(expr.opening());
                self.parts(elements.iter().map(|e| ("", e)), indent);
                self.word("]");
            }
            Expr::Struct(path, fields) => {
                self.word(path);
                self.word(" {");
                self.parts(fields.iter().map(|(name, value)| (*name, value)), indent);
                self.word("}");
            }
        }
    }

    /// The parts of a broken group, each on a line of its own: `name: value,` (or `value,`).
    fn parts<'e>(
        &mut self,
        parts: impl ExactSizeIterator<Item = (&'e str, &'e Expr)>,
        indent: usize,
    ) {
        let count = parts.len();
        for (index, (name, value)) in parts.enumerate() {
            self.newline(indent + INDENT);
            if !name.is_empty() {
                self.word(name);
                self.word(": ");
            }
            // The comma after the last part is printed only because the group broke: it is not
            // text that must fit.
            self.expr(value, indent + INDENT, usize::from(index + 1 < count));
            self.word(",");
        }
        self.newline(indent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(text: &str) -> Expr {
        Expr::Atom(text.to_owned())
    }

    fn text(value: &str) -> Expr {
        Expr::call("Cow::Borrowed", atom(&format!("{value:?}")))
    }

    /// `prettyplease`'s printing of `text`, parsed.
    fn pretty(text: &str) -> String {
        prettyplease::unparse(&syn::parse_file(text).expect("valid Rust"))
    }

    fn printed(head: &str, value: &Expr) -> String {
        let mut printer = Printer::new(String::new());
        printer.item(0, head, value, ";");
        printer.finish()
    }

    #[test]
    fn prints_as_prettyplease_at_every_width() {
        for n in 0..120 {
            let long = "a".repeat(n);
            let fields = vec![
                ("summary", Expr::call("Some", text(&long))),
                ("path", text(&long)),
                (
                    "list",
                    Expr::call(
                        "Cow::Borrowed",
                        Expr::Slice((0..n / 4).map(|i| atom(&format!("table::P{i}"))).collect()),
                    ),
                ),
                (
                    "nested",
                    Expr::call(
                        "Cow::Borrowed",
                        Expr::Slice(vec![
                            Expr::call("Cow::Borrowed", Expr::Slice(vec![text(&long)])),
                            Expr::call("Cow::Borrowed", Expr::Slice(Vec::new())),
                        ]),
                    ),
                ),
                (
                    "body",
                    Expr::call(
                        "Some",
                        Expr::Struct(
                            "d::Body",
                            vec![("required", atom("true")), ("a", text(&long))],
                        ),
                    ),
                ),
                (
                    "deep",
                    Expr::call("Some", Expr::call("Some", Expr::call("Some", text(&long)))),
                ),
                ("last", text(&long)),
            ];
            let value = Expr::Array(vec![Expr::Struct("d::Operation", fields)]);
            let ours = printed("pub static OPERATIONS: [d::Operation; 1] = ", &value);
            assert_eq!(ours, pretty(&ours), "width {n}");
        }
    }

    #[test]
    fn narrow_structs_stay_on_one_line() {
        let value = Expr::Struct("d::S", vec![("a", atom("1"))]);
        let ours = printed("pub const X: d::S = ", &value);
        assert_eq!(ours, "pub const X: d::S = d::S { a: 1 };\n");
        assert_eq!(ours, pretty(&ours));
    }

    #[test]
    fn deep_indentation_keeps_sixty_columns() {
        // Ten levels in, a line has 60 columns left, not 89 minus the indentation.
        for n in 20..70 {
            let mut value = text(&"b".repeat(n));
            for _ in 0..10 {
                value = Expr::Slice(vec![value, atom("x")]);
            }
            let ours = printed("const X: T = ", &value);
            assert_eq!(ours, pretty(&ours), "width {n}");
        }
    }
}
