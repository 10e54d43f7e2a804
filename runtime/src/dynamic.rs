//! The dynamic interface: operation input and output as plain JSON.

use reqwest::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use crate::args::Args;
use crate::descriptor::OperationDescriptor;
use crate::error::Error;
use crate::request::is_json;
use crate::response::Response;

/// Builds arguments from a JSON object whose keys are parameter names plus `body`.
///
/// A key names the first parameter with that name in the descriptor's order. `body` is the
/// request body when the operation takes one, and otherwise an ordinary parameter name.
pub(crate) fn args_from_json(op: &OperationDescriptor, input: Value) -> Result<Args, Error> {
    let input = match input {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            return Err(Error::InvalidInput {
                message: format!(
                    "the input of `{}` must be a JSON object of parameters, not {}",
                    op.id,
                    kind(&other)
                ),
            })
        }
    };
    let mut args = Args::new();
    for (key, value) in input {
        if key == "body" && op.body.is_some() {
            args.body_value(value);
            continue;
        }
        let Some(param) = op.params.iter().find(|p| p.name == key) else {
            return Err(Error::InvalidInput {
                message: format!(
                    "`{}` has no parameter `{key}`; it takes: {}",
                    op.id,
                    keys(op)
                ),
            });
        };
        args.param(param.location, param.name.clone(), value);
    }
    Ok(args)
}

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

fn keys(op: &OperationDescriptor) -> String {
    let mut keys: Vec<&str> = op.params.iter().map(|p| p.name.as_ref()).collect();
    if op.body.is_some() {
        keys.push("body");
    }
    if keys.is_empty() {
        "nothing".into()
    } else {
        keys.join(", ")
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
