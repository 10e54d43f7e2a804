//! The arguments of one operation call, as a typed wrapper or the dynamic interface fills them.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::descriptor::{OperationDescriptor, ParamLocation, Text};
use crate::error::Error;
use crate::wire::body::{Binary, Content};
use crate::Multipart;

/// Parameter values and body of one call, checked against the operation when it is executed.
///
/// A value that serialises to JSON `null` counts as absent, so `Option::None` fields can be
/// passed straight through. Setting a parameter twice keeps the last value. `Debug` shows the
/// values: parameters are not credentials, which live in the connection instead.
#[derive(Debug, Clone, Default)]
pub struct Args {
    params: Vec<(ParamLocation, Text, Value)>,
    body: Option<Content>,
    media_type: Option<String>,
}

impl Args {
    /// No parameters and no body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Arguments from the dynamic interface's JSON input for `op`: an object whose keys are
    /// parameter names, plus `body` for the request body (as [`Connection::execute_json`]
    /// takes it), for callers that want the whole [`Response`](crate::Response) back.
    ///
    /// [`Connection::execute_json`]: crate::Connection::execute_json
    pub fn from_json(op: &OperationDescriptor, input: Value) -> Result<Self, Error> {
        args_from_json(op, input)
    }

    /// Sets a path parameter.
    pub fn path<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<&mut Self, Error> {
        self.typed(ParamLocation::Path, name, value)
    }

    /// Sets a query parameter.
    pub fn query<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<&mut Self, Error> {
        self.typed(ParamLocation::Query, name, value)
    }

    /// Sets a header parameter.
    pub fn header<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<&mut Self, Error> {
        self.typed(ParamLocation::Header, name, value)
    }

    /// Sets a cookie parameter.
    pub fn cookie<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<&mut Self, Error> {
        self.typed(ParamLocation::Cookie, name, value)
    }

    /// Sets a parameter from a JSON value; `null` removes it.
    pub fn param(
        &mut self,
        location: ParamLocation,
        name: impl Into<Text>,
        value: Value,
    ) -> &mut Self {
        let name = name.into();
        let existing = self
            .params
            .iter()
            .position(|(l, n, _)| *l == location && *n == name);
        match (existing, value) {
            (Some(i), Value::Null) => {
                self.params.remove(i);
            }
            (None, Value::Null) => {}
            (Some(i), value) => self.params[i].2 = value,
            (None, value) => self.params.push((location, name, value)),
        }
        self
    }

    /// Sets the body to a structured value; a value serialising to `null` removes it. It is
    /// sent as JSON when the operation accepts JSON, else as a form or multipart body.
    pub fn json_body<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<&mut Self, Error> {
        Ok(self.body_value(to_value(value)?))
    }

    /// Sets the body from a JSON value; `null` removes it. For a text or binary media type, a
    /// JSON string is sent as its text.
    pub fn body_value(&mut self, value: Value) -> &mut Self {
        self.body = match value {
            Value::Null => None,
            value => Some(Content::Value(value)),
        };
        self
    }

    /// Sets the body to text, sent as it is (`text/plain`, XML, CSV, ...).
    pub fn text_body(&mut self, text: impl Into<String>) -> &mut Self {
        self.body = Some(Content::Text(text.into()));
        self
    }

    /// Sets the body to bytes or a stream, sent as they are.
    pub fn binary_body(&mut self, binary: impl Into<Binary>) -> &mut Self {
        self.body = Some(Content::Binary(binary.into()));
        self
    }

    /// Sets a `multipart/form-data` body built part by part.
    pub fn multipart_body(&mut self, parts: Multipart) -> &mut Self {
        self.body = Some(Content::Multipart(parts));
        self
    }

    /// Chooses which of the operation's declared media types the body is sent as; a value
    /// serialising to `null` (such as `None`) keeps the default, which is JSON when offered.
    pub fn content_type<T: Serialize + ?Sized>(&mut self, media: &T) -> Result<&mut Self, Error> {
        self.media_type = match to_value(media)? {
            Value::Null => None,
            Value::String(media) => Some(media),
            other => Some(other.to_string()),
        };
        Ok(self)
    }

    fn typed<T: Serialize + ?Sized>(
        &mut self,
        location: ParamLocation,
        name: &'static str,
        value: &T,
    ) -> Result<&mut Self, Error> {
        Ok(self.param(location, name, to_value(value)?))
    }

    /// The value of a parameter, if set.
    pub(crate) fn get(&self, location: ParamLocation, name: &str) -> Option<&Value> {
        self.params
            .iter()
            .find(|(l, n, _)| *l == location && n == name)
            .map(|(_, _, v)| v)
    }

    /// Every parameter set, in the order set.
    pub(crate) fn params(&self) -> impl Iterator<Item = (ParamLocation, &str)> {
        self.params.iter().map(|(l, n, _)| (*l, n.as_ref()))
    }

    pub(crate) fn body(&self) -> Option<&Content> {
        self.body.as_ref()
    }

    /// The media type the caller chose for the body, if any.
    pub(crate) fn media_type(&self) -> Option<&str> {
        self.media_type.as_deref()
    }
}

fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|source| Error::Encode { source })
}

/// Builds arguments from a JSON object whose keys are parameter names plus `body`.
///
/// A key names the first parameter with that name in the descriptor's order; a later parameter
/// with the same name (in another location) is named `location:name`, as in `header:type`.
/// `body` is the request body when the operation takes one, and otherwise an ordinary parameter
/// name.
fn args_from_json(op: &OperationDescriptor, input: Value) -> Result<Args, Error> {
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
        let qualified = || {
            let (location, name) = key.split_once(':')?;
            op.params
                .iter()
                .find(|p| p.location.as_str() == location && p.name == name)
        };
        let Some(param) = op.params.iter().find(|p| p.name == key).or_else(qualified) else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_means_absent_and_last_value_wins() {
        let mut args = Args::new();
        args.query("limit", &Some(5)).unwrap();
        args.query("limit", &7).unwrap();
        args.query("cursor", &None::<String>).unwrap();
        assert_eq!(args.get(ParamLocation::Query, "limit"), Some(&json!(7)));
        assert_eq!(args.get(ParamLocation::Query, "cursor"), None);
        args.query("limit", &None::<u32>).unwrap();
        assert_eq!(args.params().count(), 0);
        args.json_body(&()).unwrap();
        assert!(args.body().is_none());
    }
}
