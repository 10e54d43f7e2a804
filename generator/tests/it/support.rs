//! Helpers shared by the hostile-spec tests: run the pipeline, read diagnostics, walk tokens.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Running a test alone in its own process (shared with the runtime's tests).
#[path = "../../../runtime/tests/it/support/process.rs"]
mod process;
pub use process::in_own_process;

use connector_gen::diagnostics::{Code, Diagnostic};
use connector_gen::{load_connector, render_module, Error, Options};
use proc_macro2::{TokenStream, TokenTree};
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag};

/// Generated code (include! mode) and the warnings, as text.
pub fn generate(spec: &str) -> Result<(String, Vec<String>), Error> {
    let options = Options {
        name: Some("hostile".to_owned()),
        ..Options::default()
    };
    let lowered = load_connector(spec.as_bytes(), &options)?;
    let code = render_module(&lowered.connector, &options, "hostile.yaml")?;
    let warnings = lowered.warnings.iter().map(ToString::to_string).collect();
    Ok((code, warnings))
}

/// Like [`generate`], for a spec built as JSON.
pub fn generate_json(spec: &serde_json::Value) -> (String, Vec<String>) {
    generate(&spec.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// The diagnostics of a spec error.
pub fn diagnostics(err: &Error) -> &[Diagnostic] {
    match err {
        Error::Spec(items) => items,
        other => panic!("expected a spec error, got {other}"),
    }
}

/// The one diagnostic with `code`, failing the test when there is none.
pub fn coded(err: &Error, code: Code) -> Diagnostic {
    diagnostics(err)
        .iter()
        .find(|d| d.code == Some(code))
        .cloned()
        .unwrap_or_else(|| panic!("no {code} diagnostic in: {err}"))
}

/// Runs `f`, failing the test if it takes longer than `limit` of this thread's CPU time (or three
/// times `limit` of wall time, which other tests running beside it on two cores stretch); returns
/// its result and the CPU time it took.
pub fn within<T>(limit: Duration, f: impl FnOnce() -> T) -> (T, Duration) {
    let (start, cpu_start) = (Instant::now(), thread_cpu_time());
    let out = f();
    let (wall, cpu) = (start.elapsed(), thread_cpu_time().saturating_sub(cpu_start));
    assert!(cpu < limit, "took {cpu:?} of CPU, limit {limit:?}");
    assert!(wall < 3 * limit, "took {wall:?}, limit {:?}", 3 * limit);
    (out, cpu)
}

/// The CPU time this thread has used so far (Linux and other POSIX systems).
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the call only writes into it.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// A minimal OpenAPI document around `components/schemas` and `paths`.
pub fn spec(schemas: serde_json::Value, paths: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "Hostile", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas}
    })
}

/// What the generated source holds, from its tokens: string literal values, doc text (from
/// `#[doc = "..."]`, which is what `///` comments are), and identifiers.
#[derive(Debug, Default)]
pub struct Tokens {
    /// Values of string literals outside doc attributes.
    pub strings: Vec<String>,
    /// Doc text of each documented item: its `#[doc]` lines, joined.
    pub docs: Vec<String>,
    /// Identifiers, raw ones without `r#`.
    pub idents: Vec<String>,
}

/// Walks the token tree of `code` (which must lex).
pub fn tokens(code: &str) -> Tokens {
    let stream: TokenStream = code.parse().expect("generated code lexes");
    let mut out = Tokens::default();
    walk(stream, &mut out);
    out
}

fn walk(stream: TokenStream, out: &mut Tokens) {
    let trees: Vec<TokenTree> = stream.into_iter().collect();
    let mut run: Vec<String> = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        if let Some(line) = doc_line(&trees[i..]) {
            run.push(line);
            i += 2;
            continue;
        }
        if !run.is_empty() {
            out.docs.push(run.join("\n"));
            run.clear();
        }
        match &trees[i] {
            TokenTree::Group(group) => walk(group.stream(), out),
            TokenTree::Ident(ident) => {
                let text = ident.to_string();
                out.idents
                    .push(text.strip_prefix("r#").unwrap_or(&text).to_owned());
            }
            TokenTree::Literal(literal) => {
                if let Ok(lit) = syn::parse_str::<syn::LitStr>(&literal.to_string()) {
                    out.strings.push(lit.value());
                }
            }
            TokenTree::Punct(_) => {}
        }
        i += 1;
    }
    if !run.is_empty() {
        out.docs.push(run.join("\n"));
    }
}

/// The text of a `#[doc = "..."]` (or `#![doc = ...]`) attribute starting at `trees[0]`.
fn doc_line(trees: &[TokenTree]) -> Option<String> {
    let TokenTree::Punct(hash) = trees.first()? else {
        return None;
    };
    if hash.as_char() != '#' {
        return None;
    }
    let TokenTree::Group(group) = trees.get(1)? else {
        return None;
    };
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    match inner.as_slice() {
        [TokenTree::Ident(doc), TokenTree::Punct(eq), TokenTree::Literal(lit)]
            if doc == "doc" && eq.as_char() == '=' =>
        {
            syn::parse_str::<syn::LitStr>(&lit.to_string())
                .ok()
                .map(|l| l.value())
        }
        _ => None,
    }
}

/// Code blocks rustdoc would compile in `doc` (the lines of one item's `#[doc]` attributes):
/// those without a language, or whose language is not `text`.
pub fn runnable_blocks(doc: &str) -> Vec<String> {
    // rustdoc removes the indentation common to all lines of a doc comment first.
    let indent = doc
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let text: Vec<&str> = doc.lines().map(|l| l.get(indent..).unwrap_or("")).collect();
    let text = text.join("\n");
    let mut out = Vec::new();
    for event in Parser::new_ext(&text, pulldown_cmark::Options::all()) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if &*info == "text" => {}
            Event::Start(Tag::CodeBlock(kind)) => out.push(format!("{kind:?} in {text:?}")),
            _ => {}
        }
    }
    out
}
