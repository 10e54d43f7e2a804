//! A light scan of Rust text: where items (or array elements) end, and the largest bracketed
//! part of an item. It knows comments, strings and character literals, and no grammar: what it
//! finds is checked by parsing the pieces it cuts (see [`super::pieces`]).

/// What separates the parts of a text: items (a `;`, or a `}` that ends an item) or the
/// elements of an array (a `,`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cut {
    Items,
    Elements,
}

/// Byte offsets just after each separator at the top level of `text`, and its end.
pub(super) fn cuts(text: &str, kind: Cut) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut level = 0usize;
    let mut scan = Significant::new(text);
    let wanted = match kind {
        Cut::Items => &CUT_ITEMS,
        Cut::Elements => &CUT_ELEMENTS,
    };
    while let Some((at, byte)) = scan.next_wanted(wanted) {
        match byte {
            b'{' | b'[' | b'(' => level += 1,
            b'}' | b']' | b')' => {
                level = level.saturating_sub(1);
                if byte == b'}' && level == 0 && kind == Cut::Items {
                    // What follows the brace decides whether it ends an item.
                    let continued = Significant { text, at: scan.at }
                        .next()
                        .is_some_and(|(next, following)| continues(text, next, following));
                    if !continued {
                        cuts.push(at + 1);
                    }
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

/// Whether the significant byte `following` (at `next`) carries on the expression a closing
/// brace ended, so that the brace ends no item (`};`, `}.map(…)`, `} else {`).
fn continues(text: &str, next: usize, following: u8) -> bool {
    matches!(following, b';' | b',' | b'.' | b'=' | b'?' | b')' | b']')
        || text[next..].starts_with("else")
}

/// The bytes [`cuts`] looks at, by the kind of its cuts.
const CUT_ITEMS: [bool; 256] = wanted(b"{[()]};");
const CUT_ELEMENTS: [bool; 256] = wanted(b"{[()]},");
/// Brackets: all [`largest_group`] and [`first_block`] look at.
const BRACKETS: [bool; 256] = wanted(b"{[()]}");

/// A table of the bytes in `bytes`.
const fn wanted(bytes: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
}

/// Bytes that continue a word (an identifier, keyword or number).
const WORD: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    table
};

/// Byte offsets just after each comma that ends a field (or variant) of the body of a struct (or
/// enum) `text`, and its end: commas inside brackets and inside a type's angle brackets (`Map<K,
/// V>`) are not cuts (a `>` after `-` is an arrow).
pub(super) fn fields(text: &str) -> Vec<usize> {
    let mut cuts = Vec::new();
    let (mut level, mut angle, mut previous) = (0usize, 0usize, 0u8);
    for (at, byte) in Significant::new(text) {
        match byte {
            b'{' | b'[' | b'(' => level += 1,
            b'}' | b']' | b')' => level = level.saturating_sub(1),
            b'<' if level == 0 => angle += 1,
            b'>' if level == 0 && previous != b'-' => angle = angle.saturating_sub(1),
            b',' if level == 0 && angle == 0 => cuts.push(at + 1),
            _ => {}
        }
        previous = byte;
    }
    if cuts.last() != Some(&text.len()) {
        cuts.push(text.len());
    }
    cuts
}

/// The byte ranges of the line comments of `text` that start their line (after its
/// indentation), outside string literals and block comments; a range ends before the line break.
pub(super) fn leading_line_comments(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut scan = Significant::new(text);
    while let Some(&byte) = bytes.get(scan.at) {
        if byte.is_ascii_whitespace() {
            scan.at += 1;
        } else if let Some(end) = scan.literal_end(byte) {
            let line_start = text[..scan.at].rfind('\n').map_or(0, |i| i + 1);
            let starts_line = bytes[line_start..scan.at]
                .iter()
                .all(|b| *b == b' ' || *b == b'\t');
            if starts_line && text[scan.at..].starts_with("//") {
                found.push((scan.at, end));
            }
            scan.at = end.max(scan.at + 1);
        } else {
            scan.at += step(text, scan.at, byte);
        }
    }
    found
}

/// What a token of Rust text is, as far as [`tokens`] tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    /// An identifier, keyword or number.
    Word,
    /// A string literal with no prefix: `"…"`.
    Str,
    /// A punctuation character, a comment, or another literal (bytes, raw, character).
    Other,
}

/// The tokens of `text`, with their byte ranges; whitespace is left out.
pub(super) fn tokens(text: &str) -> Tokens<'_> {
    Tokens {
        scan: Significant::new(text),
    }
}

/// The iterator [`tokens`] returns.
pub(super) struct Tokens<'t> {
    scan: Significant<'t>,
}

impl Iterator for Tokens<'_> {
    type Item = (usize, usize, Token);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.scan.text;
        loop {
            let at = self.scan.at;
            let byte = *text.as_bytes().get(at)?;
            if byte.is_ascii_whitespace() {
                self.scan.at += 1;
                continue;
            }
            let (end, kind) = if let Some(end) = self.scan.literal_end(byte) {
                let kind = if byte == b'"' {
                    Token::Str
                } else {
                    Token::Other
                };
                (end.max(at + 1), kind)
            } else if byte.is_ascii_alphanumeric() || byte == b'_' {
                (at + step(text, at, byte), Token::Word)
            } else {
                (at + step(text, at, byte), Token::Other)
            };
            self.scan.at = end;
            return Some((at, end, kind));
        }
    }
}

/// A bracketed part of an item: where it opens and closes, and its opening delimiter.
pub(super) struct Group {
    pub(super) open: usize,
    pub(super) close: usize,
    pub(super) delimiter: u8,
}

/// The largest bracketed part at the top of `item` (the body of an `impl`, the elements of a
/// static array).
pub(super) fn largest_group(item: &str) -> Option<Group> {
    let mut largest: Option<Group> = None;
    let mut level = 0usize;
    let mut open = (0, b'{');
    let mut scan = Significant::new(item);
    while let Some((at, byte)) = scan.next_wanted(&BRACKETS) {
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

/// The offset of the `{` that opens the block `item` ends with (a function's body, an `impl`'s
/// items), or `None` when `item` does not end with a closed `{…}` at its top level.
pub(super) fn final_block(item: &str) -> Option<usize> {
    let (mut level, mut open, mut last) = (0usize, None, None);
    for (at, byte) in Significant::new(item) {
        match byte {
            b'{' | b'[' | b'(' => {
                if level == 0 {
                    open = (byte == b'{').then_some(at);
                }
                level += 1;
            }
            b'}' | b']' | b')' => level = level.checked_sub(1)?,
            _ => {}
        }
        last = Some((at, byte));
    }
    match last {
        Some((_, b'}')) if level == 0 => open,
        _ => None,
    }
}

/// The offset of the first `{` at the top level of `item` when `item` ends with a `}`: the body
/// of a function, whose signature holds no brace outside brackets. Only the signature is
/// scanned; whether that `{` is the one the last `}` closes is left to the caller's check.
pub(super) fn first_block(item: &str) -> Option<usize> {
    if !item.trim_end().ends_with('}') {
        return None;
    }
    let mut level = 0usize;
    let mut scan = Significant::new(item);
    while let Some((at, byte)) = scan.next_wanted(&BRACKETS) {
        match byte {
            b'{' if level == 0 => return Some(at),
            b'[' | b'(' | b'{' => level += 1,
            b'}' | b']' | b')' => level = level.checked_sub(1)?,
            _ => {}
        }
    }
    None
}

/// The bytes of Rust text that are neither whitespace, comments, nor inside string and
/// character literals, with their offsets; a word (identifier, keyword, number) is its first byte.
struct Significant<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Significant<'t> {
    fn new(text: &'t str) -> Self {
        Significant { text, at: 0 }
    }

    /// The next byte among `wanted` that is not inside a comment, a literal or a word (words
    /// and other bytes are passed over without being yielded one by one).
    fn next_wanted(&mut self, wanted: &[bool; 256]) -> Option<(usize, u8)> {
        let bytes = self.text.as_bytes();
        while let Some(&byte) = bytes.get(self.at) {
            if let Some(end) = self.literal_end(byte) {
                self.at = end.max(self.at + 1);
            } else if WORD[byte as usize] {
                self.at += 1;
                while bytes.get(self.at).is_some_and(|b| WORD[*b as usize]) {
                    self.at += 1;
                }
            } else if wanted[byte as usize] {
                let at = self.at;
                self.at += 1;
                return Some((at, byte));
            } else {
                // A whole character, so that offsets stay on character boundaries.
                self.at += match byte {
                    0xF0.. => 4,
                    0xE0.. => 3,
                    0xC0.. => 2,
                    _ => 1,
                };
            }
        }
        None
    }

    /// The offset after the literal or comment starting at `self.at` (whose byte is `byte`), if
    /// one does. Only five bytes can start one: the rest, most of a text, are passed over at once.
    #[inline]
    fn literal_end(&self, byte: u8) -> Option<usize> {
        if matches!(byte, b'/' | b'"' | b'\'' | b'r' | b'b') {
            self.literal_at()
        } else {
            None
        }
    }

    fn literal_at(&self) -> Option<usize> {
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

/// The length of the significant unit at `at`, whose first byte is `byte`: a word (an
/// identifier, keyword or number, which holds no bracket and starts no literal inside) at once,
/// else a whole character, so that offsets stay on character boundaries.
#[inline]
fn step(text: &str, at: usize, byte: u8) -> usize {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    if word(&byte) {
        text.as_bytes()[at..].iter().take_while(|b| word(b)).count()
    } else if byte.is_ascii() {
        1
    } else {
        text[at..].chars().next().map_or(1, char::len_utf8)
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
            } else if let Some(end) = self.literal_end(byte) {
                self.at = end.max(self.at + 1);
            } else {
                let at = self.at;
                self.at += step(self.text, at, byte);
                return Some((at, byte));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cuts as they were found before [`Significant::next_wanted`]: every significant
    /// byte in turn.
    fn cuts_one_by_one(text: &str, kind: Cut) -> Vec<usize> {
        let mut cuts = Vec::new();
        let mut level = 0usize;
        let mut tokens = Significant::new(text).peekable();
        while let Some((at, byte)) = tokens.next() {
            match byte {
                b'{' | b'[' | b'(' => level += 1,
                b'}' | b']' | b')' => {
                    level = level.saturating_sub(1);
                    let continued = tokens
                        .peek()
                        .is_some_and(|&(next, following)| continues(text, next, following));
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

    proptest::proptest! {
        /// Passing over what cannot be a cut finds the same cuts as looking at every byte.
        #[test]
        fn cuts_are_found_as_one_byte_at_a_time_finds_them(
            text in "(\\{|\\}|\\(|\\)|\\[|\\]|;|,|\\.|else|r#\"|\"#|\"|'|'a'|'\\\\''|b'x'|br\"|//|/\\*|\\*/|\n|é|\u{1F600}|[a-z_0-9]{1,3}|[ #!?=<>-])*"
        ) {
            for kind in [Cut::Items, Cut::Elements] {
                proptest::prop_assert_eq!(cuts(&text, kind), cuts_one_by_one(&text, kind));
            }
        }
    }

    #[test]
    fn cuts_fall_between_items_only() {
        let text = r##"
/// Docs } with a brace; and a semicolon.
pub struct A { x: u8 }
impl<'de> A {
    pub fn f(&self) -> char { let _ = "a } string; \" with quotes"; let _ = r#"raw } "# ; '}' }
    pub fn g<'a>(&'a self) -> &'a str { /* a } comment /* nested } */ */ "}" }
}
pub const D: A = A { x: b'}' };
pub fn h() { if true {} else {} }
"##;
        let mut from = 0;
        let mut items = Vec::new();
        for to in cuts(text, Cut::Items) {
            items.push(text[from..to].trim());
            from = to;
        }
        // The text after the last item (a line break) is a part of its own.
        assert_eq!(items.len(), 5, "{items:#?}");
        assert_eq!(items[4], "");
        assert!(items[0].ends_with("pub struct A { x: u8 }"), "{items:#?}");
        assert!(items[1].starts_with("impl<'de> A {"), "{items:#?}");
        assert!(items[2].starts_with("pub const D"), "{items:#?}");
        assert!(items[3].starts_with("pub fn h"), "{items:#?}");
    }

    #[test]
    fn elements_are_cut_after_their_commas() {
        let text = r#"(1, "],"), [2, 3], '\'', "#;
        let ends: Vec<&str> = cuts(text, Cut::Elements)
            .into_iter()
            .map(|to| &text[..to])
            .collect();
        assert_eq!(
            ends,
            [
                r#"(1, "],"),"#,
                r#"(1, "],"), [2, 3],"#,
                r#"(1, "],"), [2, 3], '\'',"#,
                text
            ]
        );
    }

    #[test]
    fn the_largest_group_is_the_body() {
        let item = "pub static S: [u8; 3] = [1, 2, 3, 4, 5];";
        let group = largest_group(item).unwrap();
        assert_eq!(&item[group.open..=group.close], "[1, 2, 3, 4, 5]");
        assert_eq!(group.delimiter, b'[');
        assert!(largest_group("fn f() { ) }").is_none());
    }

    #[test]
    fn the_final_block_is_the_last_one_opened_at_the_top() {
        let item = "pub fn f(x: [u8; 2]) -> Option<u8> { if true { Some(1) } else { None } }";
        let open = final_block(item).unwrap();
        assert!(item[open..].starts_with("{ if true"), "{}", &item[open..]);
        let open = final_block("impl A { fn f() {} } // a } comment").unwrap();
        assert_eq!(open, 7);
        assert_eq!(final_block("fn f() { x }.y"), None);
        assert_eq!(final_block("const C: u8 = 1;"), None);
        assert_eq!(final_block("fn f() { ) }"), None);
        assert_eq!(final_block("fn f() -> [u8; 1] { [1] ]"), None);
        assert_eq!(first_block("fn f(x: [u8; { 1 }]) { x }"), Some(21));
        assert_eq!(first_block("fn f() { x }.y"), None);
    }
}
