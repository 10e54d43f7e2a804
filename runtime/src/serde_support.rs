//! Helpers that generated types call from their serde attributes and impls.
//!
//! They live here rather than in each generated crate so that generated code stays thin.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Deserialises a property that may be absent or `null`: with `#[serde(default)]`, an absent
/// property stays `None` and an explicit `null` becomes `Some(None)`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The string value of a discriminator property, if `value` is an object that has it.
pub fn tag_of<'v>(value: &'v Value, property: &str) -> Option<&'v str> {
    value.as_object()?.get(property)?.as_str()
}

/// Deserialises an already parsed value into `T`, reporting failure as the caller's error type.
pub fn from_value<T: DeserializeOwned, E: serde::de::Error>(value: Value) -> Result<T, E> {
    serde_json::from_value(value).map_err(E::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Patch {
        #[serde(default, deserialize_with = "double_option")]
        note: Option<Option<String>>,
    }

    #[test]
    fn absent_null_and_present_are_distinct() {
        let absent: Patch = serde_json::from_str("{}").unwrap();
        let null: Patch = serde_json::from_str(r#"{"note": null}"#).unwrap();
        let set: Patch = serde_json::from_str(r#"{"note": "x"}"#).unwrap();
        assert_eq!(absent.note, None);
        assert_eq!(null.note, Some(None));
        assert_eq!(set.note, Some(Some("x".to_owned())));
    }

    #[test]
    fn tags_are_read_from_objects_only() {
        let value = serde_json::json!({"kind": "cat"});
        assert_eq!(tag_of(&value, "kind"), Some("cat"));
        assert_eq!(tag_of(&value, "other"), None);
        assert_eq!(tag_of(&serde_json::json!([1]), "kind"), None);
        let err: Result<u8, serde_json::Error> = from_value(serde_json::json!("x"));
        assert!(err.is_err());
    }
}
