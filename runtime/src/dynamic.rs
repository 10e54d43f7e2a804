//! The dynamic interface: operation input and output as plain JSON.

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::wire::request::is_json;
use crate::wire::response::Response;

/// The response body as JSON: `null` when empty, a string when it is not JSON.
pub(crate) fn response_to_json(response: &Response) -> Value {
    let body = response.bytes();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    let declared_other = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|media| !is_json(media));
    let text = || Value::String(String::from_utf8_lossy(body).into_owned());
    if declared_other {
        return text();
    }
    serde_json::from_slice(body).unwrap_or_else(|_| text())
}
