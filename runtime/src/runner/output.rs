//! What the command line prints, and how errors become exit codes.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use serde_json::Value;

use super::{EXIT_BAD_INPUT, EXIT_CONNECTION, EXIT_STATUS};
use crate::catalogue::{auth_summary, Action, Catalogue};
use crate::error::Error;

/// A failure to report on stderr, with its exit code and, for a non-2xx answer, the body to
/// print on stdout.
pub(crate) struct Problem {
    message: String,
    code: u8,
    body: Option<Value>,
}

impl Problem {
    pub(crate) fn input(message: String) -> Self {
        Problem {
            message,
            code: EXIT_BAD_INPUT,
            body: None,
        }
    }

    pub(crate) fn connection(message: String) -> Self {
        Problem {
            message,
            code: EXIT_CONNECTION,
            body: None,
        }
    }

    /// Adds what the action declares about the answer: the declared response and its schema
    /// name on stderr, and with `full` the whole answer on stdout
    /// (`{"status", "headers", "body", "declared", "schema"}`) instead of the body alone.
    pub(crate) fn with_error_output(
        mut self,
        output: Option<crate::dynamic::ErrorOutput>,
        full: bool,
    ) -> Self {
        let Some(output) = output else {
            return self;
        };
        match (&output.declared, &output.schema) {
            (Some(declared), Some(schema)) => {
                let _ = write!(
                    self.message,
                    "\nDeclared response: {declared}, schema {}",
                    one_line(schema)
                );
            }
            (Some(declared), None) => {
                let _ = write!(self.message, "\nDeclared response: {declared}");
            }
            _ => self
                .message
                .push_str("\nThe action declares no response for this status"),
        }
        if full {
            self.body = Some(serde_json::to_value(&output).unwrap_or(Value::Null));
        }
        self
    }

    /// Prints the body (if any) on stdout and the message with its causes on stderr.
    pub(crate) fn report(self) -> ExitCode {
        if let Some(body) = &self.body {
            print_json(body);
        }
        // A closed stderr leaves nowhere to report anything; it must not panic either.
        let _ = writeln!(std::io::stderr().lock(), "error: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl From<Error> for Problem {
    fn from(err: Error) -> Self {
        // A retried (or not retried) call that ended with an answer ends like that answer.
        let answered = err
            .last()
            .is_some_and(|last| matches!(last, Error::Status { .. }));
        let code = match &err {
            Error::Status { .. }
            | Error::AuthRejected { .. }
            | Error::AuthorizationRefused { .. } => EXIT_STATUS,
            _ if answered => EXIT_STATUS,
            err if err.is_bad_input() => EXIT_BAD_INPUT,
            _ => EXIT_CONNECTION,
        };
        let body = err.body().map(|bytes| {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                Value::Null
            } else {
                serde_json::from_slice(bytes)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
            }
        });
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            let _ = write!(message, "\nCaused by: {cause}");
            source = cause.source();
        }
        Problem {
            message,
            code,
            body,
        }
    }
}

/// Pretty JSON on stdout; a closed stdout (`| head`) ends the output quietly.
pub(crate) fn print_json(value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    print_text(&format!("{text}\n"));
}

pub(crate) fn print_text(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// One line per action: id, method, path, auth and summary.
pub fn actions_table(catalogue: &Catalogue) -> String {
    let width = catalogue
        .actions
        .iter()
        .map(|a| a.id.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "{} {} ({} actions)\n",
        one_line(&catalogue.title),
        one_line(&catalogue.version),
        catalogue.actions.len()
    );
    for action in &catalogue.actions {
        let _ = writeln!(
            out,
            "  {:<width$}  {:<7} {}  [auth: {}]  {}",
            one_line(&action.id),
            action.method,
            one_line(&action.path),
            auth_summary(&action.auth),
            one_line(action.summary.as_deref().unwrap_or_default()),
        );
    }
    if !catalogue.webhooks.is_empty() {
        let _ = writeln!(
            out,
            "{} events (the API calls the subscriber; `listen` receives them)",
            catalogue.webhooks.len()
        );
        for webhook in &catalogue.webhooks {
            let payload = webhook
                .payload_schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                .unwrap_or(if webhook.payload_schema.is_null() {
                    "none"
                } else {
                    "inline"
                });
            let headers: Vec<String> = webhook.headers.iter().map(|h| one_line(&h.name)).collect();
            let _ = writeln!(
                out,
                "  {}  {:<7} [{}] [payload: {}]{}  {}",
                one_line(&webhook.name),
                one_line(&webhook.method),
                one_line(&webhook.source),
                one_line(payload),
                if headers.is_empty() {
                    String::new()
                } else {
                    format!(" [headers: {}]", headers.join(", "))
                },
                one_line(webhook.summary.as_deref().unwrap_or_default()),
            );
        }
    }
    out
}

/// One action for a person: what it is, then its schemas as JSON.
pub fn action_text(action: &Action) -> String {
    let mut out = format!(
        "{}  {} {}\n",
        one_line(&action.id),
        action.method,
        one_line(&action.path)
    );
    if let Some(summary) = &action.summary {
        let _ = writeln!(out, "{}", one_line(summary));
    }
    if let Some(description) = &action.description {
        let text: String = description
            .trim()
            .chars()
            .filter(|c| *c == '\n' || !c.is_control())
            .collect();
        let _ = writeln!(out, "\n{text}");
    }
    if action.deprecated {
        out.push_str("\nDeprecated.\n");
    }
    let _ = writeln!(out, "\nauth: {}", auth_summary(&action.auth));
    if !action.servers.is_empty() {
        let servers: Vec<String> = action.servers.iter().map(|s| one_line(s)).collect();
        let _ = writeln!(out, "servers: {}", servers.join(", "));
    }
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let _ = writeln!(out, "\ninput schema:\n{}", pretty(&action.input_schema));
    for (status, schema) in &action.output_schemas {
        let _ = writeln!(out, "\noutput schema ({status}):\n{}", pretty(schema));
    }
    out
}

pub(crate) fn indent(text: &str) -> String {
    text.lines().skip(1).map(|l| format!("{l}\n")).collect()
}

/// Spec text on one line, control characters dropped so that a spec cannot forge output lines.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hostile() -> Action {
        Action {
            id: "get\u{1b}[2J".into(),
            method: "GET".into(),
            path: "/x\r\nforged line".into(),
            summary: Some("a\u{1b}[31m red\nsummary".into()),
            description: Some("line one\n\u{1b}]0;title\u{7}line two".into()),
            tags: Vec::new(),
            deprecated: false,
            idempotent: false,
            auth: vec![vec![], vec!["a".into(), "b".into()]],
            input_schema: serde_json::json!({}),
            output_schemas: Default::default(),
            output_headers: Default::default(),
            paging: None,
            servers: vec!["https://x\n forged".into()],
        }
    }

    #[test]
    fn spec_text_cannot_forge_lines_or_send_terminal_escapes() {
        let catalogue = Catalogue {
            name: "x".into(),
            title: "T\u{1b}[1m".into(),
            version: "1\n2".into(),
            description: None,
            security_schemes: Vec::new(),
            actions: vec![hostile()],
            entities: Vec::new(),
            ping: None,
            definitions: Default::default(),
            ..Catalogue::default()
        };
        let table = actions_table(&catalogue);
        let text = action_text(&hostile());
        for out in [&table, &text] {
            assert!(
                !out.contains('\u{1b}') && !out.contains('\r') && !out.contains('\u{7}'),
                "{out:?}"
            );
        }
        assert_eq!(table.lines().count(), 2, "{table}");
        assert!(table.contains("[auth: anonymous | a+b]"), "{table}");
        assert!(text.contains("line one\n"), "{text}");
        assert!(text.contains("\nservers: https://x forged\n"), "{text}");
    }
}
