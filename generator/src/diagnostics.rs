//! Diagnostics: every problem found in a spec, with the JSON pointer it comes from.

use std::fmt;

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    /// Generation continued with a degraded result (for example `serde_json::Value`).
    Warning,
    /// Generation cannot produce a connector.
    Error,
}

/// A name for the kinds of problem a caller may want to tell apart (the limits that protect
/// against hostile specs), shown in brackets after the severity: `error[NestingLimit]: ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[non_exhaustive]
pub enum Code {
    /// The spec is larger than the configured limit; it was not parsed.
    SpecTooLarge,
    /// YAML aliases expand to more nodes than the spec's size allows (a "billion laughs").
    AliasExpansionLimit,
    /// The document nests deeper than the parser's limit.
    NestingLimit,
    /// A `$ref` chain comes back to a reference it already followed.
    RefCycle,
    /// A `$ref` chain is longer than [`crate::resolve::MAX_REF_DEPTH`].
    RefDepth,
    /// A `$ref` points outside the document; external references are never fetched or read.
    ExternalRefDisabled,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One problem found in a spec, located by a JSON pointer such as `#/paths/~1pets/get`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    /// Where in the spec the problem is.
    pub pointer: String,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong, why, and what was done about it.
    pub message: String,
    /// Line in the source document, where the parser reports one.
    pub line: Option<usize>,
    /// The kind of problem, for the ones callers may want to match on.
    pub code: Option<Code>,
}

impl Diagnostic {
    /// An error at `pointer` with a [`Code`].
    pub fn coded(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            severity: Severity::Error,
            message: message.into(),
            line: None,
            code: Some(code),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        match self.code {
            Some(code) => write!(f, "{level}[{code}]: ")?,
            None => write!(f, "{level}: ")?,
        }
        write!(f, "{} (at {}", self.message, self.pointer)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        f.write_str(")")
    }
}

/// Collects diagnostics across the phases of the pipeline.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a warning at `pointer`.
    pub fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, pointer.into(), message.into(), None);
    }

    /// Records an error at `pointer`.
    pub fn error(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, pointer.into(), message.into(), None);
    }

    /// Records a diagnostic as it is.
    pub fn add(&mut self, diag: Diagnostic) {
        self.items.push(diag);
    }

    /// Records a diagnostic with an optional source line.
    pub fn push(
        &mut self,
        severity: Severity,
        pointer: String,
        message: String,
        line: Option<usize>,
    ) {
        self.items.push(Diagnostic {
            pointer,
            severity,
            message,
            line,
            code: None,
        });
    }

    /// Records a problem found in one fragment of the spec that generation can work around by
    /// leaving that fragment out (`consequence` says how, e.g. "parameter ignored"): a warning.
    /// A `$ref` cycle or an over-long chain is never meaningful, so those stay errors.
    pub fn fragment_failed(&mut self, diag: Diagnostic, consequence: &str) {
        if matches!(diag.code, Some(Code::RefCycle | Code::RefDepth)) {
            self.items.push(diag);
            return;
        }
        self.items.push(Diagnostic {
            severity: Severity::Warning,
            message: format!("{}; {consequence}", diag.message),
            ..diag
        });
    }

    /// Whether any error (not only warnings) was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// All diagnostics, sorted by location so a report reads in spec order.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort();
        self.items.dedup();
        self.items
    }

    /// The diagnostics recorded so far, in the order they were found.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }
}

/// Builds JSON pointers (RFC 6901) with `~0`/`~1` escaping.
pub fn pointer(base: &str, segment: &str) -> String {
    // Written a piece at a time: lowering makes a pointer for every property it meets.
    let mut out = String::with_capacity(base.len() + 1 + segment.len());
    out.push_str(base);
    out.push('/');
    let mut rest = segment;
    while let Some(at) = rest.find(['~', '/']) {
        out.push_str(&rest[..at]);
        out.push_str(if rest.as_bytes()[at] == b'~' {
            "~0"
        } else {
            "~1"
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes_slash_and_tilde() {
        assert_eq!(pointer("#/paths", "/pets/{id}"), "#/paths/~1pets~1{id}");
        assert_eq!(pointer("#", "a~b"), "#/a~0b");
        assert_eq!(pointer("#", "~/~1/"), "#/~0~1~01~1");
        assert_eq!(pointer("#/x", ""), "#/x/");
    }

    #[test]
    fn display_ends_with_location() {
        let mut d = Diagnostics::default();
        d.error("#/paths", "bad");
        assert_eq!(d.items()[0].to_string(), "error: bad (at #/paths)");
    }

    #[test]
    fn codes_show_in_brackets_and_ref_cycles_stay_errors() {
        let mut d = Diagnostics::default();
        d.fragment_failed(Diagnostic::coded(Code::RefCycle, "#/a", "cycle"), "skipped");
        d.fragment_failed(
            Diagnostic::coded(Code::ExternalRefDisabled, "#/b", "external"),
            "skipped",
        );
        assert!(d.has_errors());
        let shown: Vec<String> = d.items().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "error[RefCycle]: cycle (at #/a)",
                "warning[ExternalRefDisabled]: external; skipped (at #/b)"
            ]
        );
    }
}
