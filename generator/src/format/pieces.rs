//! Formatting a large text a piece at a time, on two threads. The syntax tree of a whole module
//! is many times its text (Microsoft Graph's 18 MB client took 800 MB to parse), but
//! prettyplease prints the items of a file, and the items inside an `impl`, a `mod` or an array,
//! one after another and each on its own: so the text is cut between items, each piece is
//! formatted alone, and the printed pieces are joined.
//!
//! A large item is cut inside its body (its largest bracketed part), at any depth: a piece from
//! inside is formatted wrapped in the heads and tails of the items around it, with a mark after
//! each head and before each tail (an item, or an array element), and only the lines between the
//! innermost marks are kept, but for the heads printed by the first piece of an item and the
//! tails printed by its last.
//!
//! The cuts come from a light scan ([`super::scan`]). A piece that does not parse, or prints in
//! an unexpected shape, means a wrong cut: the item it was cut from is formatted uncut, and if
//! even that fails the caller formats the whole text, as before.

use super::impls::Impl;
use super::scan::{cuts, largest_group, Cut};
use super::units::Units;

/// Pieces are cut at the first item boundary after this many bytes.
pub(crate) const PIECE_BYTES: usize = 256 * 1024;

/// prettyplease's line width: an array with more to print than this prints an element a line.
const ONE_LINE: usize = 100;

/// The names of the marks start with this; a text that holds it is formatted whole.
const MARK: &str = "__connector_gen_piece_";

/// `text` formatted a piece of about `piece_bytes` at a time, or `None` when a piece does not
/// format on its own.
pub(crate) fn format_in_pieces(text: &str, piece_bytes: usize) -> Option<String> {
    if text.contains(MARK) {
        return None;
    }
    let mut plan = Plan {
        piece_bytes,
        leaves: Vec::new(),
    };
    let nodes = plan.body(&mut Vec::new(), text, 1, 1);
    let units = Units::default();
    // Every piece is held until they are joined: each is shrunk to its length, as a text that
    // grew by doubling can take twice the memory it needs (Microsoft Graph's client: 45 MB
    // held for 23 MB printed).
    let mut formatted = crate::parallel::in_parallel(&plan.leaves, |leaf| {
        let mut piece = leaf.format(&units);
        if let Some(text) = piece.as_mut() {
            text.shrink_to_fit();
        }
        Ok::<_, ()>(piece)
    })
    .ok()?;
    let mut out = String::with_capacity(text.len());
    for node in &nodes {
        node.assemble(&mut formatted, &units, &mut out)?;
    }
    Some(out)
}

/// An item whose body is cut: the text before its body's opening delimiter (included), the
/// text from its closing delimiter on, and what separates the parts of the body.
#[derive(Clone)]
struct Level<'t> {
    head: &'t str,
    tail: &'t str,
    kind: Cut,
}

/// One piece to format: `text`, inside the items `levels` (outermost first).
struct Leaf<'t> {
    levels: Vec<Level<'t>>,
    text: &'t str,
    /// Where the parts of `text` end, as [`cuts`] finds them in it (found once, for the text
    /// the piece was cut from).
    ends: Vec<usize>,
    /// The piece prints the heads of the levels from this one (1 is the outermost) inwards:
    /// it is their first piece.
    heads_from: usize,
    /// The piece prints the tails of the levels from the innermost out to this one: it is their
    /// last piece.
    tails_to: usize,
}

/// The pieces of a text, in order: a piece, or an item cut into parts, which is formatted
/// uncut (`whole`) if one of its parts fails.
enum Node<'t> {
    Leaf(usize),
    Cut {
        parts: Vec<Node<'t>>,
        whole: Leaf<'t>,
    },
}

struct Plan<'t> {
    piece_bytes: usize,
    leaves: Vec<Leaf<'t>>,
}

impl<'t> Plan<'t> {
    /// The pieces of `text`, the body of the innermost of `levels` (the file itself when there
    /// are none).
    fn body(
        &mut self,
        levels: &mut Vec<Level<'t>>,
        text: &'t str,
        heads_from: usize,
        tails_to: usize,
    ) -> Vec<Node<'t>> {
        let depth = levels.len();
        let kind = levels.last().map_or(Cut::Items, |level| level.kind);
        // Small items are gathered into pieces; a large one is a piece of its own, cut inside.
        let mut units = Vec::new();
        let mut from = 0;
        let mut item_from = 0;
        let ends = cuts(text, kind);
        for &to in &ends {
            if to - item_from > 2 * self.piece_bytes {
                if from < item_from {
                    units.push((from, item_from, false));
                }
                units.push((item_from, to, true));
                from = to;
            } else if to - from >= self.piece_bytes {
                units.push((from, to, false));
                from = to;
            }
            item_from = to;
        }
        if from < text.len() || units.is_empty() {
            units.push((from, text.len(), false));
        }
        let mut heads = heads_from;
        let mut nodes = Vec::new();
        for (index, &(from, to, large)) in units.iter().enumerate() {
            let tails = if index + 1 == units.len() {
                tails_to
            } else {
                depth + 1
            };
            let piece = &text[from..to];
            let leaf = Leaf {
                levels: levels.clone(),
                text: piece,
                ends: ends[ends.partition_point(|end| *end <= from)..]
                    .iter()
                    .take_while(|end| **end <= to)
                    .map(|end| end - from)
                    .collect(),
                heads_from: heads,
                tails_to: tails,
            };
            let inner = if large { cut_item(piece) } else { None };
            nodes.push(match inner {
                Some((level, body)) => {
                    levels.push(level);
                    let parts = self.body(levels, body, heads, tails);
                    levels.pop();
                    Node::Cut { parts, whole: leaf }
                }
                None => {
                    self.leaves.push(leaf);
                    Node::Leaf(self.leaves.len() - 1)
                }
            });
            heads = depth + 1;
        }
        nodes
    }
}

/// The level and body of a large item, when its largest bracketed part can be cut: the items
/// of a block, or the elements of an array too long for one line.
fn cut_item(item: &str) -> Option<(Level<'_>, &str)> {
    let group = largest_group(item)?;
    let body = &item[group.open + 1..group.close];
    let kind = match group.delimiter {
        b'{' => Cut::Items,
        b'[' if body.bytes().filter(|b| !b.is_ascii_whitespace()).count() > ONE_LINE => {
            Cut::Elements
        }
        _ => return None,
    };
    let level = Level {
        head: &item[..=group.open],
        tail: &item[group.close..],
        kind,
    };
    Some((level, body))
}

impl Node<'_> {
    /// Appends the printed pieces to `out`, each freed once appended (the joined text grows as
    /// they go).
    fn assemble(
        &self,
        formatted: &mut [Option<String>],
        units: &Units,
        out: &mut String,
    ) -> Option<()> {
        match self {
            Node::Leaf(index) => out.push_str(&formatted.get_mut(*index)?.take()?),
            Node::Cut { parts, whole } => {
                let mark = out.len();
                if parts
                    .iter()
                    .try_for_each(|part| part.assemble(formatted, units, out))
                    .is_none()
                {
                    // A wrong cut inside the item (the fields of a struct are not items).
                    out.truncate(mark);
                    out.push_str(&whole.format(units)?);
                }
            }
        }
        Some(())
    }
}

impl Leaf<'_> {
    /// The piece formatted, with the heads and tails it prints; items at the top a field at a
    /// time (see `units.rs`).
    fn format(&self, units: &Units) -> Option<String> {
        if self.levels.is_empty() {
            let formatted = units.format_cut(self.text, &self.ends);
            super::forget_spans();
            return formatted;
        }
        if let [level] = self.levels.as_slice() {
            // A piece of a top-level `impl`'s body: an item at a time (see `impls.rs`).
            let block =
                Impl::from_parts(level.head, level.tail).filter(|_| level.kind == Cut::Items);
            let piece = block.and_then(|block| {
                let (head, tail) = (self.heads_from <= 1, self.tails_to <= 1);
                units.impl_piece(&block, self.text, Some(&self.ends), head, tail)
            });
            if piece.is_some() {
                super::forget_spans();
                return piece;
            }
        }
        let depth = self.levels.len();
        let mut text = String::with_capacity(self.text.len() + 256);
        for (index, level) in self.levels.iter().enumerate() {
            text.push_str(level.head);
            text.push('\n');
            text.push_str(&mark(index + 1, "start", level.kind));
            text.push('\n');
        }
        text.push_str(self.text);
        for (index, level) in self.levels.iter().enumerate().rev() {
            // The last element of an array may have no comma after it.
            if level.kind == Cut::Elements && !text.trim_end().ends_with(',') {
                text.push(',');
            }
            text.push('\n');
            text.push_str(&mark(index + 1, "end", level.kind));
            text.push('\n');
            text.push_str(level.tail);
        }
        let formatted = format(&text)?;
        let lines: Vec<&str> = formatted.split_inclusive('\n').collect();
        // Each mark on exactly one line, nested as the levels are.
        let line_of = |level: usize, end: &str| {
            let name = format!("{MARK}{level}_{end}");
            let mut found = lines.iter().enumerate().filter(|(_, l)| l.contains(&name));
            match (found.next(), found.next()) {
                (Some((line, _)), None) => Some(line),
                _ => None,
            }
        };
        let starts = (1..=depth)
            .map(|level| line_of(level, "start"))
            .collect::<Option<Vec<_>>>()?;
        let ends = (1..=depth)
            .map(|level| line_of(level, "end"))
            .collect::<Option<Vec<_>>>()?;
        let nested = starts.windows(2).all(|w| w[0] < w[1])
            && ends.windows(2).all(|w| w[0] > w[1])
            && starts[depth - 1] < ends[depth - 1];
        if !nested {
            return None;
        }
        let mut out = String::new();
        let mut push =
            |from: usize, to: usize| lines[from..to].iter().for_each(|l| out.push_str(l));
        for level in self.heads_from..=depth {
            let from = if level == 1 { 0 } else { starts[level - 2] + 1 };
            push(from, starts[level - 1]);
        }
        push(starts[depth - 1] + 1, ends[depth - 1]);
        for level in (self.tails_to..=depth).rev() {
            let to = if level == 1 {
                lines.len()
            } else {
                ends[level - 2]
            };
            push(ends[level - 1] + 1, to);
        }
        Some(out)
    }
}

/// The mark after a level's head (`start`) or before its tail (`end`): an item, or an element.
fn mark(level: usize, end: &str, kind: Cut) -> String {
    match kind {
        Cut::Items => format!("fn {MARK}{level}_{end}() {{}}"),
        Cut::Elements => format!("{MARK}{level}_{end},"),
    }
}

fn format(text: &str) -> Option<String> {
    let formatted = super::print(text);
    super::forget_spans();
    formatted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> String {
        prettyplease::unparse(&syn::parse_file(text).unwrap())
    }

    const TRICKY: &str = r##"
//! Inner docs { with a brace.
/// Docs } with a brace; and a semicolon.
pub struct A { x: u8, y: u16 }
impl<'de> A {
    /// `}` in docs.
    pub fn f(&self) -> char { let _ = "a } string; \" with quotes"; let _ = r#"raw } "# ; '}' }
    pub fn g<'a>(&'a self) -> &'a str { /* a } comment /* nested } */ */ "}" }
    const C: u8 = b'}';
    pub fn h() -> [u8; 2] { [1, 2] }
}
pub static S: [(u8, &str); 3] = [(1, "}"), (2, "]"), (3, "),")];
pub const D: A = A { x: 1, y: 2 };
pub mod m {
    pub mod n { pub fn i() -> Option<u8> { if true { Some(1) } else { None } } pub fn j() {} }
    pub static T: [(u32, &str); 12] = [(0, "],"), (1, "],"), (2, "],"), (3, "],"), (4, "],"),
        (5, "],"), (6, "],"), (7, "],"), (8, "],"), (9, "],"), (10, "],"), (11, "],")];
    pub fn k() {}
}
"##;

    #[test]
    fn pieces_print_as_the_whole_text_prints() {
        let expected = whole(TRICKY);
        for size in [1, 8, 64, 200, 100_000] {
            assert_eq!(
                format_in_pieces(TRICKY, size).as_deref(),
                Some(expected.as_str()),
                "pieces of {size} bytes"
            );
        }
    }

    #[test]
    fn items_are_cut_at_every_depth() {
        let mut plan = Plan {
            piece_bytes: 1,
            leaves: Vec::new(),
        };
        plan.body(&mut Vec::new(), TRICKY, 1, 1);
        let depths: Vec<usize> = plan.leaves.iter().map(|l| l.levels.len()).collect();
        // `n`'s functions are two levels deep (and pieces of one byte cut their bodies too).
        assert!(depths.iter().max() >= Some(&2), "{depths:?}");
        assert!(plan.leaves.iter().any(|l| l.text.contains("(11, \"],\")")));
    }

    /// Every sample connector (in one file, its modules inline) prints the same in pieces of
    /// many sizes as whole.
    #[test]
    fn sample_connectors_print_the_same_in_pieces() {
        let options = crate::Options::default();
        for (path, connector) in crate::sample_connectors() {
            let code = crate::render_module(&connector, &options, "x").unwrap();
            let expected = whole(&code);
            for size in [1, 500, 4_000, 30_000] {
                assert_eq!(
                    format_in_pieces(&code, size).as_deref(),
                    Some(expected.as_str()),
                    "{} in pieces of {size} bytes",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn a_text_that_does_not_parse_gives_no_pieces() {
        assert_eq!(format_in_pieces("pub struct A {} fn (", 1), None);
        assert_eq!(format_in_pieces("impl A { fn f() {} fn }", 1), None);
        let marked = format!("fn {MARK}1_start() {{}}");
        assert_eq!(format_in_pieces(&marked, 1), None);
    }
}
