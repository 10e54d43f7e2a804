//! DS-1 and issue 8 item 4: YAML alias bombs are refused within a time and memory bound.
//!
//! One test in this binary, so the process's peak resident memory (`VmHWM`) is this test's own.

use crate::support;
use std::time::Duration;

use crate::support::{coded, generate, within};
use connector_gen::diagnostics::Code;

/// Peak resident memory of this process so far, in bytes (Linux), if it can be read.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The 9x9 billion-laughs document: `a` lists "lol" 9 times, each next key lists the previous
/// one 9 times, so `i` names 9^9 (387 million) strings.
fn billion_laughs() -> String {
    let mut text =
        String::from("openapi: 3.0.0\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let keys = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in keys.windows(2) {
        let refs = vec![format!("*{}", pair[0]); 9].join(", ");
        text.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
    }
    text
}

/// About 157 KB of nested aliases (the size from the issue): 40 levels, each anchoring a list of
/// the previous level 4,000 times over a wide base.
fn wide_alias_spec() -> String {
    let mut text = String::from("openapi: 3.0.0\nx0: &x0 [");
    text.push_str(&vec!["lol"; 2000].join(", "));
    text.push_str("]\n");
    for level in 1..40 {
        let refs = vec![format!("*x{}", level - 1); 900].join(", ");
        text.push_str(&format!("x{level}: &x{level} [{refs}]\n"));
    }
    text
}

#[test]
fn ds1_billion_laughs_and_item4_alias_amplification_are_refused_within_bounds() {
    if !support::in_own_process(
        "limits::ds1_billion_laughs_and_item4_alias_amplification_are_refused_within_bounds",
    ) {
        return;
    }
    let laughs = billion_laughs();
    let (result, took) = within(Duration::from_secs(1), || generate(&laughs));
    let diag = coded(&result.unwrap_err(), Code::AliasExpansionLimit);
    assert_eq!(diag.pointer, "#");
    eprintln!(
        "billion laughs ({} bytes): refused in {took:?}",
        laughs.len()
    );

    let wide = wide_alias_spec();
    assert!(wide.len() > 100_000, "{}", wide.len());
    let (result, took) = within(Duration::from_secs(2), || generate(&wide));
    coded(&result.unwrap_err(), Code::AliasExpansionLimit);
    eprintln!("alias spec of {} bytes: refused in {took:?}", wide.len());

    if let Some(peak) = peak_rss() {
        eprintln!("peak RSS: {} KiB", peak / 1024);
        assert!(
            peak < 100 * 1024 * 1024,
            "peak RSS {} MiB",
            peak / 1024 / 1024
        );
    }
}
