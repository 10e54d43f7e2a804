//! Small text helpers for what the server shows: spec text made one line or cut to a length,
//! never mid-character.

/// `text` on one line: control characters and runs of whitespace become one space.
pub fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` without control characters other than newlines and tabs, cut to at most `max`
/// characters (ending in `…` when cut).
pub fn trimmed(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The longest start of `text` of at most `max` bytes that ends on a character boundary.
pub fn cut_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cleaned_and_cut_on_character_boundaries() {
        assert_eq!(one_line(" a\n\tb \u{7}c "), "a b c");
        assert_eq!(trimmed("abcdef", 4), "abc…");
        assert_eq!(trimmed("a\u{1b}[31mb", 10), "a[31mb");
        assert_eq!(cut_bytes("héllo", 2), "h");
        assert_eq!(cut_bytes("héllo", 3), "hé");
    }
}
