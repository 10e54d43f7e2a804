//! Formatting a large text a piece at a time. The syntax tree of a whole module is many times
//! its text (Microsoft Graph's 18 MB client took 800 MB to parse), but prettyplease prints the
//! items of a file, and the items inside an `impl`, a `mod` or an array, one after another and
//! each on its own: so the text is cut between items, each piece is formatted alone, and the
//! printed pieces are joined.
//!
//! The cuts are found by a light scan that knows comments, strings and character literals but
//! no grammar. A piece that does not parse, or prints in an unexpected shape, means the scan
//! cut in the wrong place: the caller then formats the whole text, as before.

/// Pieces are cut at the first item boundary after this many bytes.
pub(crate) const PIECE_BYTES: usize = 256 * 1024;

/// prettyplease's line width: an array with more to print than this is printed an element a
/// line.
const ONE_LINE: usize = 100;

/// Marks, in a piece cut out of an item's body, where the body starts and ends: an item for
/// the body of an `impl` or `mod`, an element for an array.
const START: &str = "__connector_gen_piece_start";
const END: &str = "__connector_gen_piece_end";

/// `text` formatted a piece of about `piece_bytes` at a time, or `None` when a piece does not
/// format on its own.
pub(crate) fn format_in_pieces(text: &str, piece_bytes: usize) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chunk_start = 0;
    let items = cuts(text, Cut::Items);
    for (index, &end) in items.iter().enumerate() {
        let item_start = if index == 0 { 0 } else { items[index - 1] };
        let item = &text[item_start..end];
        if item.len() > 2 * piece_bytes {
            if chunk_start < item_start {
                out.push_str(&format(&text[chunk_start..item_start])?);
            }
            // An item whose body does not cut (the fields of a struct) is formatted whole.
            let formatted = format_large_item(item, piece_bytes).or_else(|| format(item))?;
            out.push_str(&formatted);
            chunk_start = end;
        } else if end - chunk_start >= piece_bytes || index + 1 == items.len() {
            out.push_str(&format(&text[chunk_start..end])?);
            chunk_start = end;
        }
    }
    Some(out)
}

/// One large item whose body (its largest bracketed part) is cut between the items or elements
/// it holds; each cut is formatted between the item's head and tail, marked with [`START`] and
/// [`END`], and only the lines between the marks are kept, but for the head's lines in the
/// first piece and the tail's in the last.
fn format_large_item(item: &str, piece_bytes: usize) -> Option<String> {
    let group = largest_group(item)?;
    let (head, body, tail) = (
        &item[..=group.open],
        &item[group.open + 1..group.close],
        &item[group.close..],
    );
    let (kind, start, end) = match group.delimiter {
        b'{' => (
            Cut::Items,
            format!("fn {START}() {{}}"),
            format!("fn {END}() {{}}"),
        ),
        // An array short enough for one line prints on one line, its elements cut or not.
        b'[' if body.bytes().filter(|b| !b.is_ascii_whitespace()).count() > ONE_LINE => {
            (Cut::Elements, format!("{START},"), format!("{END},"))
        }
        _ => return None,
    };
    if body.contains(START) || body.contains(END) {
        return None;
    }
    let cuts = cuts(body, kind);
    let mut pieces = Vec::new();
    let mut from = 0;
    for (index, &to) in cuts.iter().enumerate() {
        if to - from >= piece_bytes || index + 1 == cuts.len() {
            pieces.push(&body[from..to]);
            from = to;
        }
    }
    let mut out = String::new();
    for (index, piece) in pieces.iter().enumerate() {
        // The last element of an array may have no comma after it.
        let comma = if kind == Cut::Elements && !piece.trim_end().ends_with(',') {
            ","
        } else {
            ""
        };
        let formatted = format(&format!("{head}\n{start}\n{piece}{comma}\n{end}\n{tail}"))?;
        let lines: Vec<&str> = formatted.split_inclusive('\n').collect();
        // Each mark on exactly one line, the start first.
        let at = |mark: &str| {
            let mut found = lines.iter().enumerate().filter(|(_, l)| l.contains(mark));
            match (found.next(), found.next()) {
                (Some((line, _)), None) => Some(line),
                _ => None,
            }
        };
        let (first, last) = (at(START)?, at(END)?);
        if first >= last {
            return None;
        }
        if index == 0 {
            lines[..first].iter().for_each(|line| out.push_str(line));
        }
        lines[first + 1..last]
            .iter()
            .for_each(|line| out.push_str(line));
        if index + 1 == pieces.len() {
            lines[last + 1..].iter().for_each(|line| out.push_str(line));
        }
    }
    Some(out)
}

fn format(text: &str) -> Option<String> {
    let formatted = syn::parse_file(text)
        .ok()
        .map(|file| prettyplease::unparse(&file));
    super::forget_spans();
    formatted
}

/// What separates the parts of a text: items (a `;`, or a `}` that ends an item) or the
/// elements of an array (a `,`).
#[derive(Clone, Copy, PartialEq)]
enum Cut {
    Items,
    Elements,
}

/// Byte offsets just after each separator at the top level of `text`, and its end.
fn cuts(text: &str, kind: Cut) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut level = 0usize;
    let mut tokens = Significant::new(text).peekable();
    while let Some((at, byte)) = tokens.next() {
        match byte {
            b'{' | b'[' | b'(' => level += 1,
            b'}' | b']' | b')' => {
                level = level.saturating_sub(1);
                let continued = tokens.peek().is_some_and(|&(next, following)| {
                    matches!(following, b';' | b',' | b'.' | b'=' | b'?' | b')' | b']')
                        || text[next..].starts_with("else")
                });
                if byte == b'}' && level == 0 && kind == Cut::Items && !continued {
                    cuts.push(at + 1);
                }
            }
            b';' if level == 0 && kind == Cut::Items => cuts.push(at + 1),
            b',' if level == 0 && kind == Cut::Elements => cuts.push(at + 1),
            _ => {}
        }
    }
    if cuts.last() != Some(&text.len()) {
        cuts.push(text.len());
    }
    cuts
}

/// A bracketed part of an item: where it opens and closes, and its opening delimiter.
struct Group {
    open: usize,
    close: usize,
    delimiter: u8,
}

/// The largest bracketed part at the top of `item` (the body of an `impl`, the elements of a
/// static array).
fn largest_group(item: &str) -> Option<Group> {
    let mut largest: Option<Group> = None;
    let mut level = 0usize;
    let mut open = (0, b'{');
    for (at, byte) in Significant::new(item) {
        match byte {
            b'{' | b'[' | b'(' => {
                if level == 0 {
                    open = (at, byte);
                }
                level += 1;
            }
            b'}' | b']' | b')' => {
                level = level.checked_sub(1)?;
                let longer = largest
                    .as_ref()
                    .is_none_or(|g| at - open.0 > g.close - g.open);
                if level == 0 && longer {
                    largest = Some(Group {
                        open: open.0,
                        close: at,
                        delimiter: open.1,
                    });
                }
            }
            _ => {}
        }
    }
    largest
}

/// The bytes of Rust text that are neither whitespace, comments, nor inside string and
/// character literals, with their offsets.
struct Significant<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Significant<'t> {
    fn new(text: &'t str) -> Self {
        Significant { text, at: 0 }
    }

    /// The offset after the literal or comment starting at `self.at`, if one does.
    fn literal_end(&self) -> Option<usize> {
        let rest = &self.text[self.at..];
        let bytes = rest.as_bytes();
        let after_ident = self.at > 0 && {
            let before = self.text.as_bytes()[self.at - 1];
            before.is_ascii_alphanumeric() || before == b'_'
        };
        if rest.starts_with("//") {
            return Some(self.at + rest.find('\n').unwrap_or(rest.len()));
        }
        if rest.starts_with("/*") {
            let mut depth = 0usize;
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        return Some(self.at + i);
                    }
                } else {
                    i += 1;
                }
            }
            return Some(self.text.len());
        }
        if after_ident {
            return None;
        }
        // Byte and raw strings: `b"…"`, `r"…"`, `r#"…"#`, `br#"…"#`.
        let prefix = if rest.starts_with("br") {
            2
        } else {
            usize::from(rest.starts_with('r') || rest.starts_with('b'))
        };
        let raw = rest[..prefix].ends_with('r');
        let hashes = bytes[prefix..].iter().take_while(|b| **b == b'#').count();
        if bytes.get(prefix + hashes) == Some(&b'"') && (raw || hashes == 0) {
            let open = prefix + hashes + 1;
            if raw {
                let close = format!("\"{}", "#".repeat(hashes));
                let end = rest[open..]
                    .find(&close)
                    .map_or(rest.len(), |i| open + i + close.len());
                return Some(self.at + end);
            }
            return Some(self.at + quoted(bytes, open, b'"'));
        }
        if bytes.first() == Some(&b'\'') || rest.starts_with("b'") {
            let quote = usize::from(bytes[0] == b'b');
            if bytes.get(quote + 1) == Some(&b'\\') {
                return Some(self.at + quoted(bytes, quote + 1, b'\''));
            }
            // `'x'` is a character; `'a` without a closing quote is a lifetime.
            let ch = rest[quote + 1..].chars().next()?;
            let close = quote + 1 + ch.len_utf8();
            if bytes.get(close) == Some(&b'\'') {
                return Some(self.at + close + 1);
            }
        }
        None
    }
}

/// The offset after the closing `quote` of a literal whose text starts at `from`.
fn quoted(bytes: &[u8], from: usize, quote: u8) -> usize {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

impl Iterator for Significant<'_> {
    type Item = (usize, u8);

    fn next(&mut self) -> Option<(usize, u8)> {
        loop {
            let byte = *self.text.as_bytes().get(self.at)?;
            if byte.is_ascii_whitespace() {
                self.at += 1;
            } else if let Some(end) = self.literal_end() {
                self.at = end.max(self.at + 1);
            } else {
                let at = self.at;
                // Step over a whole character: offsets stay on character boundaries.
                self.at += self.text[at..].chars().next().map_or(1, char::len_utf8);
                return Some((at, byte));
            }
        }
    }
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
pub struct A { x: u8 }
impl<'de> A {
    /// `}` in docs.
    pub fn f(&self) -> char { let _ = "a } string; \" with quotes"; let _ = r#"raw } "# ; '}' }
    pub fn g<'a>(&'a self) -> &'a str { /* a } comment /* nested } */ */ "}" }
    const C: u8 = b'}';
    pub fn h() -> [u8; 2] { [1, 2] }
}
pub static S: [(u8, &str); 3] = [(1, "}"), (2, "]"), (3, "),")];
pub const D: A = A { x: 1 };
mod m { pub fn i() -> Option<u8> { if true { Some(1) } else { None } } }
"##;

    #[test]
    fn pieces_print_as_the_whole_text_prints() {
        for size in [1, 8, 64, 100_000] {
            assert_eq!(
                format_in_pieces(TRICKY, size).as_deref(),
                Some(whole(TRICKY).as_str()),
                "pieces of {size} bytes"
            );
        }
    }

    #[test]
    fn cuts_fall_between_items_only() {
        let items = cuts(TRICKY, Cut::Items);
        let pieces: Vec<&str> = items
            .iter()
            .scan(0, |from, &to| {
                let piece = &TRICKY[*from..to];
                *from = to;
                Some(piece.trim())
            })
            .collect();
        assert_eq!(pieces.len(), 6, "{pieces:#?}");
        assert!(pieces[0].ends_with("pub struct A { x: u8 }"), "{pieces:#?}");
        assert!(pieces[1].starts_with("impl<'de> A {"), "{pieces:#?}");
        assert!(pieces[3].starts_with("pub const D"), "{pieces:#?}");
        for piece in pieces {
            syn::parse_file(piece).unwrap();
        }
    }

    #[test]
    fn the_body_of_an_impl_and_of_an_array_is_cut() {
        let items = cuts(TRICKY, Cut::Items);
        let array = format!(
            "pub static S: [(u32, &str); 40] = [{}];",
            (0..40)
                .map(|i| format!("({i}, \"],\")"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for item in [&TRICKY[items[0]..items[1]], &array] {
            assert_eq!(
                format_large_item(item, 1).as_deref(),
                Some(whole(item).as_str()),
                "{item}"
            );
        }
    }

    /// Every sample connector (in one file, its modules inline) prints the same in pieces of
    /// many sizes as whole.
    #[test]
    fn sample_connectors_print_the_same_in_pieces() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        let mut specs = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.extension().is_some_and(|e| e == "yaml" || e == "json") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let options = crate::Options::default();
            let lowered = crate::load_connector(&bytes, &options).unwrap();
            let code = crate::render_module(&lowered.connector, &options, "x").unwrap();
            let expected = whole(&code);
            for size in [1, 500, 4_000, 30_000] {
                assert_eq!(
                    format_in_pieces(&code, size).as_deref(),
                    Some(expected.as_str()),
                    "{} in pieces of {size} bytes",
                    path.display()
                );
            }
            specs += 1;
        }
        assert!(specs >= 8, "{specs}");
    }

    #[test]
    fn a_text_that_does_not_parse_gives_no_pieces() {
        assert_eq!(format_in_pieces("pub struct A {} fn (", 1), None);
        assert_eq!(format_in_pieces("impl A { fn f() {} fn }", 1), None);
    }
}
