//! Spec prose as rustdoc Markdown that rustdoc can never run.
//!
//! rustdoc compiles and runs every code block of a doc comment whose language is Rust or
//! unspecified, wherever CommonMark forms it: a fence at any nesting (blockquote, list item),
//! with backticks or tildes, or an indented block. Pattern matching on lines misses some of
//! these, so the text is parsed with pulldown-cmark (the parser rustdoc uses) and every code block
//! found is rewritten by its source offsets: a fence keeps its place and prefixes and gets the
//! info string `text`; an indented block loses the indentation that made it code. The result is
//! parsed again until no runnable block is left; text that still has one after a few rounds is
//! flattened into escaped prose in which no code block can form.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// Rounds of rewrite and re-parse before falling back to flattening. A de-indented block can
/// reveal a fence that the next round marks as text; nesting deeper than this is not worth keeping.
const MAX_ROUNDS: usize = 8;

/// The language every code block ends up with: rustdoc shows it verbatim and never runs it.
const INERT_LANG: &str = "text";

/// The option sets a code block must be inert under: rustdoc's (footnotes, tables,
/// strikethrough, task lists, smart punctuation), plain CommonMark, and every extension at once.
/// Extensions change how some text parses (an old-style footnote definition takes indented
/// continuation lines differently, for one), and rustdoc's parser version and options may drift
/// from this crate's, so a block counts as made inert only when it is under each of them.
fn option_sets() -> [Options; 3] {
    [
        Options::ENABLE_TABLES
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_SMART_PUNCTUATION,
        Options::empty(),
        Options::all(),
    ]
}

/// One change to the source: replace `range` with `text`.
struct Edit {
    range: Range<usize>,
    text: String,
}

/// `text` with every code block made inert (see the module docs). `text` must use `\n` line
/// breaks and contain no tabs, so that byte offsets are columns.
pub fn inert_code_blocks(text: impl Into<String>) -> String {
    let text = text.into();
    if !may_hold_code(&text) {
        return text;
    }
    let mut current = text.clone();
    for _ in 0..MAX_ROUNDS {
        let edits = edits_for(&current);
        if edits.is_empty() {
            return current;
        }
        current = apply(&current, edits);
    }
    if edits_for(&current).is_empty() {
        current
    } else {
        flatten(&text)
    }
}

/// Whether `text` has a fence (three backticks or tildes) or four columns of indentation (tabs
/// are already spaces), without which it holds no code block: most descriptions are not parsed
/// at all. One pass over the bytes, since every description is asked.
fn may_hold_code(text: &str) -> bool {
    let mut last = 0u8;
    let mut run = 0usize;
    for &byte in text.as_bytes() {
        if byte == last {
            run += 1;
        } else {
            last = byte;
            run = 1;
        }
        if (run == 3 && matches!(byte, b'`' | b'~')) || (run == 4 && byte == b' ') {
            return true;
        }
    }
    false
}

/// Whether `text` holds no code block that rustdoc would compile, and no fence left open.
#[cfg(test)]
pub(crate) fn is_inert(text: &str) -> bool {
    edits_for(text).is_empty()
}

/// The edits that make each runnable code block of `text` inert, as the first option set that
/// finds one parses it; empty when no set finds any.
fn edits_for(text: &str) -> Vec<Edit> {
    option_sets()
        .into_iter()
        .map(|options| edits_under(text, options))
        .find(|edits| !edits.is_empty())
        .unwrap_or_default()
}

/// The edits for the code blocks that `text` parsed with `options` holds.
fn edits_under(text: &str, options: Options) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut depth = 0usize;
    let mut indented = false;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::BlockQuote(_) | Tag::Item | Tag::FootnoteDefinition(_)) => {
                depth += 1;
            }
            Event::End(TagEnd::BlockQuote(_) | TagEnd::Item | TagEnd::FootnoteDefinition) => {
                depth = depth.saturating_sub(1);
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                edits.extend(fence_edits(text, range, &info, depth == 0));
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => indented = true,
            Event::End(TagEnd::CodeBlock) => indented = false,
            Event::Text(_) if indented => edits.extend(dedent(text, range.start)),
            _ => {}
        }
    }
    edits.sort_by_key(|e| e.range.start);
    edits
}

/// For a fenced block at `range`: its info string becomes `text` unless it is already, and a
/// top-level fence left open is closed, so text that follows the doc comment cannot fall inside.
fn fence_edits(text: &str, range: Range<usize>, info: &str, top_level: bool) -> Vec<Edit> {
    let mut edits = Vec::new();
    // The range may start at the fence's own indentation (up to three spaces).
    let indent = text[range.clone()]
        .bytes()
        .take_while(|b| *b == b' ')
        .count();
    let block = &text[range.start + indent..range.end];
    let fence_char = block.chars().next().unwrap_or('`');
    // Bytes and characters are the same for the two fence characters, `` ` `` and `~`.
    let fence_len = block.len() - block.trim_start_matches(fence_char).len();
    let info_start = range.start + indent + fence_len;
    let line_end = text[info_start..]
        .find('\n')
        .map_or(text.len(), |i| info_start + i);
    if info.trim() != INERT_LANG || text[info_start..line_end].trim() != INERT_LANG {
        edits.push(Edit {
            range: info_start..line_end,
            text: INERT_LANG.to_owned(),
        });
    }
    let closed = block.lines().count() > 1
        && block.lines().last().is_some_and(|last| {
            let last = last.trim();
            last.len() >= fence_len && last.chars().all(|c| c == fence_char)
        });
    if top_level && !closed {
        let fence: String =
            std::iter::repeat_n(fence_char, fence_len / fence_char.len_utf8()).collect();
        let newline = if text.ends_with('\n') { "" } else { "\n" };
        edits.push(Edit {
            range: text.len()..text.len(),
            text: format!("{newline}{fence}"),
        });
    }
    edits
}

/// Removes the indentation before a line of an indented code block that starts at `start`: the
/// four columns that made it code and any spaces after them.
fn dedent(text: &str, start: usize) -> Option<Edit> {
    let before = &text.as_bytes()[..start];
    let spaces_before = before
        .iter()
        .rev()
        .take(4)
        .take_while(|b| **b == b' ')
        .count();
    let spaces_after = text.as_bytes()[start..]
        .iter()
        .take_while(|b| **b == b' ')
        .count();
    (spaces_before + spaces_after > 0).then(|| Edit {
        range: start - spaces_before..start + spaces_after,
        text: String::new(),
    })
}

/// Applies non-overlapping edits sorted by start; an edit overlapping an earlier one is skipped
/// (the next round sees what is left).
fn apply(text: &str, edits: Vec<Edit>) -> String {
    let mut out = String::with_capacity(text.len() + 16 * edits.len());
    let mut at = 0;
    for edit in edits {
        if edit.range.start < at {
            continue;
        }
        out.push_str(&text[at..edit.range.start]);
        out.push_str(&edit.text);
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Prose in which no code block can form: each line trimmed, runs of spaces collapsed (so no
/// indentation reaches four columns), and every character that can open a fence, a blockquote
/// or HTML backslash-escaped.
fn flatten(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.split('\n') {
        let words = line.split(' ').filter(|w| !w.is_empty());
        for (i, word) in words.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            for c in word.chars() {
                if matches!(c, '`' | '~' | '<' | '>' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        out.push('\n');
    }
    out.pop();
    out
}

/// Descriptions that form a runnable code block in each way CommonMark allows.
#[cfg(test)]
pub(crate) const HOSTILE: &[&str] = &[
    "> ```\n> std::process::exit(42);\n> ```",
    "> ```rust\n> std::process::exit(42);\n> ```",
    "- item\n- ```\n  std::process::exit(42);\n  ```",
    "1. one\n\n   ```\n   std::process::exit(42);\n   ```",
    "~~~\nstd::process::exit(42);\n~~~",
    "~~~~rust,no_run\nstd::process::exit(42);\n~~~~",
    "Text\n\n    std::process::exit(42);",
    "- item\n\n      std::process::exit(42);",
    ">     std::process::exit(42);",
    "> - > ```\n>   > std::process::exit(42);\n>   > ```",
    "```\nstd::process::exit(42);",
    "    ```\n    std::process::exit(42);\n    ```",
    "        ```\n        std::process::exit(42);",
    "[^1]\n\n[^1]: note\n\n        std::process::exit(42);",
    "<pre>\nstd::process::exit(42);\n</pre>",
    "```text\nalready inert\n```",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code block of `text` as (info string, content), the way rustdoc would see them.
    fn code_blocks(text: &str) -> Vec<(Option<String>, String)> {
        let mut blocks = Vec::new();
        let mut current: Option<(Option<String>, String)> = None;
        for event in Parser::new_ext(text, Options::all()) {
            match event {
                Event::Start(Tag::CodeBlock(kind)) => {
                    let info = match kind {
                        CodeBlockKind::Fenced(info) => Some(info.to_string()),
                        CodeBlockKind::Indented => None,
                    };
                    current = Some((info, String::new()));
                }
                Event::Text(t) => {
                    if let Some((_, content)) = current.as_mut() {
                        content.push_str(&t);
                    }
                }
                Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
                _ => {}
            }
        }
        blocks
    }

    #[test]
    fn every_code_block_ends_up_text() {
        for hostile in HOSTILE {
            assert!(!is_inert(hostile) || hostile.contains("already") || hostile.contains("<pre>"));
            let out = inert_code_blocks(*hostile);
            assert!(is_inert(&out), "{hostile:?} -> {out:?}");
            for (info, _) in code_blocks(&out) {
                assert_eq!(info.as_deref(), Some(INERT_LANG), "{hostile:?} -> {out:?}");
            }
            // Text that follows the doc comment is never inside one of its blocks.
            let followed = format!("{out}\n\nAFTER");
            assert!(
                code_blocks(&followed)
                    .iter()
                    .all(|(_, c)| !c.contains("AFTER")),
                "{hostile:?} -> {out:?}"
            );
        }
    }

    #[test]
    fn prefixes_and_content_are_kept() {
        let out = inert_code_blocks("> ```rust\n> let x = 1;\n> ```\n\n- ~~~\n  y\n  ~~~");
        assert_eq!(
            out,
            "> ```text\n> let x = 1;\n> ```\n\n- ~~~text\n  y\n  ~~~"
        );
        let out = inert_code_blocks("Intro\n\n    let y = 2;\n      indented more");
        assert_eq!(out, "Intro\n\nlet y = 2;\nindented more");
    }

    #[test]
    fn unclosed_top_level_fences_are_closed() {
        assert_eq!(inert_code_blocks("```\ncode"), "```text\ncode\n```");
        assert_eq!(inert_code_blocks("~~~~\ncode\n"), "~~~~text\ncode\n~~~~");
    }

    #[test]
    fn flattening_leaves_no_code_block() {
        for hostile in HOSTILE {
            let flat = flatten(hostile);
            assert!(code_blocks(&flat).is_empty(), "{hostile:?} -> {flat:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2_000,
            // Many texts of the alphabet have a fence or a four-space run and are set aside.
            max_global_rejects: 100_000,
            ..proptest::prelude::ProptestConfig::default()
        })]
        /// The shortcut of `inert_code_blocks` is sound: text with no fence and no four-space run
        /// has no code block under any option set, so parsing it would change nothing.
        #[test]
        fn text_without_fences_or_indentation_has_no_code_block(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", " ", "  ", "   ", "\n", "\n\n", "`", "``", "~", "~~", ">", "> ", "- ",
                    "* ", "1. ", "1) ", "#", "<pre>", "</pre>", "[^1]: ", "|", "---", "\\",
                ]),
                0..40,
            )
        ) {
            let text: String = parts.concat();
            proptest::prop_assume!(
                !text.contains("```") && !text.contains("~~~") && !text.contains("    ")
            );
            proptest::prop_assert!(edits_for(&text).is_empty(), "{text:?}");
            proptest::prop_assert!(code_blocks(&text).is_empty(), "{text:?}");
        }

        /// The one-pass check finds exactly the texts that hold a fence or an indented line.
        #[test]
        fn the_quick_check_finds_what_searching_finds(text in "[`~ ab\n]{0,24}") {
            let searched = text.contains("```") || text.contains("~~~") || text.contains("    ");
            proptest::prop_assert_eq!(may_hold_code(&text), searched, "{:?}", text);
        }
    }
}
