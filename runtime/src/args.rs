//! The arguments of one operation call, as a typed wrapper or the dynamic interface fills them.

use serde::Serialize;
use serde_json::Value;

use crate::descriptor::{ParamLocation, Text};
use crate::error::Error;

/// Parameter values and body of one call, checked against the operation when it is executed.
///
/// A value that serialises to JSON `null` counts as absent, so `Option::None` fields can be
/// passed straight through. Setting a parameter twice keeps the last value. `Debug` shows the
/// values: parameters are not credentials, which live in the connection instead.
#[derive(Debug, Clone, Default)]
pub struct Args {
    params: Vec<(ParamLocation, Text, Value)>,
    body: Option<Body>,
}

/// A request body; an enum so that forms and raw bytes can be added next to JSON.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Sent as JSON.
    Json(Value),
}

impl Args {
    /// No parameters and no body.
    pub fn new() -> Self {
        Self::default()
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

    /// Sets the body, serialised as JSON; a value serialising to `null` removes it.
    pub fn json_body<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<&mut Self, Error> {
        Ok(self.body_value(to_value(value)?))
    }

    /// Sets the body from a JSON value; `null` removes it.
    pub fn body_value(&mut self, value: Value) -> &mut Self {
        self.body = match value {
            Value::Null => None,
            value => Some(Body::Json(value)),
        };
        self
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

    pub(crate) fn body(&self) -> Option<&Body> {
        self.body.as_ref()
    }
}

fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|source| Error::Encode { source })
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
