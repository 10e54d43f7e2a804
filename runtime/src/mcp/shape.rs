//! Tool results: the decoded JSON as structured content plus its text, bounded; and every
//! failure as a tool error the agent can read (what was wrong, the status and the bounded body
//! of a non-2xx answer). Nothing here ever shows a credential: the runtime's errors hold none.

use std::fmt::Write as _;

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{json, Value};

use super::text::cut_bytes;
use crate::error::Error;

/// A successful answer: `structured` as structured content, its JSON as text. Over `max_bytes`
/// it is a tool error holding the start of the text, so that no answer is unbounded.
pub fn success(structured: Value, max_bytes: usize) -> CallToolResult {
    let text = serde_json::to_string(&structured).unwrap_or_default();
    if text.len() > max_bytes {
        return error_text(format!(
            "{}\n… [cut: the answer is {} bytes, over the limit of {max_bytes} bytes; ask for less: a smaller page, a filter, fewer fields]",
            cut_bytes(&text, max_bytes),
            text.len(),
        ));
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(structured);
    result
}

/// The answer of an action as its tool serves it: an object as it is, anything else as
/// `{"result": ...}` when the tool's output schema says so; an empty body (a 204) as a short
/// text with no structured content.
pub fn structured(body: Value, wrapped: bool, status: u16) -> Result<Value, String> {
    match body {
        Value::Object(_) if !wrapped => Ok(body),
        Value::Null if !wrapped => Err(format!("HTTP {status}: no content")),
        other => Ok(json!({ "result": other })),
    }
}

/// A tool error with `message` as its text.
pub fn error_text(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// A tool error for invalid arguments, one problem a line.
pub fn invalid_arguments(tool: &str, problems: &[String]) -> CallToolResult {
    let mut text = format!("invalid arguments for `{tool}`:");
    for problem in problems {
        let _ = write!(text, "\n  - {problem}");
    }
    error_text(text)
}

/// A failed call as a tool error: the message with its causes, and for an answer outside 2xx
/// its status and (bounded) body, also as structured content.
pub fn call_error(err: &Error) -> CallToolResult {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let _ = write!(message, "\nCaused by: {cause}");
        source = cause.source();
    }
    let mut result = error_text(message);
    if let Some(status) = err.status() {
        let body = err.body().map(|bytes| {
            serde_json::from_slice(bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
        });
        result.structured_content = Some(json!({
            "status": status,
            "body": body.unwrap_or(Value::Null),
        }));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_pass_and_the_rest_is_wrapped_or_said() {
        assert_eq!(structured(json!({"a": 1}), false, 200), Ok(json!({"a": 1})));
        assert_eq!(
            structured(json!([1]), true, 200),
            Ok(json!({"result": [1]}))
        );
        assert_eq!(
            structured(Value::Null, false, 204),
            Err("HTTP 204: no content".into())
        );
    }

    #[test]
    fn an_oversized_answer_is_cut_and_flagged() {
        let result = success(json!({"text": "x".repeat(100)}), 50);
        assert_eq!(result.is_error, Some(true));
        assert!(result.structured_content.is_none());
    }
}
