//! Resolve: follows `$ref`s inside one document and turns JSON fragments into `openapiv3` types.
//!
//! Fragments are parsed one at a time (a schema, an operation, a parameter), so that one malformed
//! corner of a large real-world spec costs that corner, with a warning, not the whole connector.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic, Severity};

mod quick;

pub use quick::Quick;

/// Longest chain of `$ref` to `$ref` followed before giving up.
pub const MAX_REF_DEPTH: usize = 64;

/// A loaded document, queried by JSON pointer.
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    root: &'a Value,
}

impl<'a> Spec<'a> {
    /// Wraps the document root.
    pub fn new(root: &'a Value) -> Self {
        Self { root }
    }

    /// The document root.
    pub fn root(&self) -> &'a Value {
        self.root
    }

    /// The value at an internal reference such as `#/components/schemas/Pet`, if there is one.
    pub fn get(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return Some(self.root);
        }
        let mut current = self.root;
        for raw in pointer.strip_prefix('/')?.split('/') {
            let segment = unescape(raw);
            current = match current {
                Value::Object(map) => map.get(segment.as_ref())?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// Follows `$ref` from `value` (found at `at`) to a value that is not a reference, returning it
    /// and its pointer. Chains are followed up to [`MAX_REF_DEPTH`]; cycles are errors.
    pub fn follow(&self, value: &'a Value, at: &str) -> Result<(&'a Value, String), Diagnostic> {
        let mut current = value;
        let mut pointer = at.to_owned();
        let mut seen: Vec<String> = Vec::new();
        while let Some(reference) = ref_of(current) {
            if seen.iter().any(|p| p == reference) {
                return Err(Diagnostic::coded(
                    Code::RefCycle,
                    &pointer,
                    format!("`$ref` cycle: {} -> {reference}", seen.join(" -> ")),
                ));
            }
            if seen.len() >= MAX_REF_DEPTH {
                return Err(Diagnostic::coded(
                    Code::RefDepth,
                    &pointer,
                    format!("`$ref` chain longer than {MAX_REF_DEPTH} references"),
                ));
            }
            let target = self.lookup(reference, &pointer)?;
            seen.push(reference.to_owned());
            pointer = reference.to_owned();
            current = target;
        }
        Ok((current, pointer))
    }

    /// Looks up one reference written at `at`; external references are reported, not fetched.
    pub fn lookup(&self, reference: &str, at: &str) -> Result<&'a Value, Diagnostic> {
        if !reference.starts_with('#') {
            return Err(Diagnostic::coded(
                Code::ExternalRefDisabled,
                at,
                format!(
                    "external reference {reference:?} is not followed: only references inside the document are supported, and nothing outside the spec is fetched or read"
                ),
            ));
        }
        self.get(reference)
            .ok_or_else(|| error(at, format!("`$ref` target {reference:?} does not exist")))
    }

    /// Parses the fragment `value` (found at `at`) as `T`, naming the exact failing location.
    pub fn parse<T: DeserializeOwned>(&self, value: &Value, at: &str) -> Result<T, Diagnostic> {
        // Nearly every fragment is valid: the path, which costs a string per key on the way, is
        // tracked only to name the place of an error, by parsing the fragment again.
        if let Ok(parsed) = T::deserialize(value) {
            return Ok(parsed);
        }
        serde_path_to_error::deserialize(value).map_err(|e| {
            let mut pointer = at.to_owned();
            for segment in e.path().iter() {
                if let serde_path_to_error::Segment::Seq { index } = segment {
                    pointer = crate::diagnostics::pointer(&pointer, &index.to_string());
                } else if let serde_path_to_error::Segment::Map { key } = segment {
                    pointer = crate::diagnostics::pointer(&pointer, key);
                } else if let serde_path_to_error::Segment::Enum { variant } = segment {
                    pointer = crate::diagnostics::pointer(&pointer, variant);
                }
            }
            error(&pointer, format!("invalid OpenAPI: {}", e.inner()))
        })
    }

    /// Parses a schema-like fragment, reading it straight from the tree when it is well formed
    /// (see [`Quick`]) and with `serde` otherwise, which names the failing location.
    pub fn parse_quick<T: Quick + DeserializeOwned>(
        &self,
        value: &Value,
        at: &str,
    ) -> Result<T, Diagnostic> {
        match T::quick(value) {
            Some(parsed) => Ok(parsed),
            None => self.parse(value, at),
        }
    }

    /// [`Spec::resolve`] for schema-like fragments, read as [`Spec::parse_quick`] reads them.
    pub fn resolve_quick<T: Quick + DeserializeOwned>(
        &self,
        value: &'a Value,
        at: &str,
    ) -> Result<(T, String), Diagnostic> {
        let (target, pointer) = self.follow(value, at)?;
        Ok((self.parse_quick(target, &pointer)?, pointer))
    }

    /// Follows references from `value` and parses the target as `T`, returning it with its pointer.
    pub fn resolve<T: DeserializeOwned>(
        &self,
        value: &'a Value,
        at: &str,
    ) -> Result<(T, String), Diagnostic> {
        let (target, pointer) = self.follow(value, at)?;
        Ok((self.parse(target, &pointer)?, pointer))
    }
}

/// The `$ref` string of a JSON object, if it is a reference.
pub fn ref_of(value: &Value) -> Option<&str> {
    value.as_object()?.get("$ref")?.as_str()
}

/// A pointer segment as the key it names: most segments have nothing to decode and are
/// borrowed, since every reference followed is looked up this way.
fn unescape(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains(['%', '~']) {
        return raw.into();
    }
    let decoded = percent_decode(raw);
    // `~1` then `~0`, in one pass: a path's pointer segment (`~1users~1{id}`) has several.
    let mut out = String::with_capacity(decoded.len());
    let mut rest = decoded.as_str();
    while let Some(at) = rest.find('~') {
        out.push_str(&rest[..at]);
        match rest.as_bytes().get(at + 1) {
            Some(b'1') => out.push('/'),
            Some(b'0') => out.push('~'),
            _ => {
                out.push('~');
                rest = &rest[at + 1..];
                continue;
            }
        }
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out.into()
}

/// Decodes `%xx` escapes, which RFC 6901 pointers in URI fragments may carry (`%7B` for `{`).
fn percent_decode(raw: &str) -> String {
    if !raw.contains('%') {
        return raw.to_owned();
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = decoded {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn error(pointer: &str, message: String) -> Diagnostic {
    Diagnostic {
        pointer: pointer.to_owned(),
        severity: Severity::Error,
        message,
        line: None,
        code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    proptest::proptest! {
        /// One pass unescapes as replacing `~1` and then `~0` does.
        #[test]
        fn unescaping_is_replacing_in_order(raw in "[~01a/%]{0,12}") {
            let replaced = percent_decode(&raw).replace("~1", "/").replace("~0", "~");
            let unescaped = unescape(&raw);
            proptest::prop_assert_eq!(unescaped.as_ref(), replaced.as_str());
        }
    }

    #[test]
    fn pointers_unescape_and_percent_decode() {
        let doc = json!({"paths": {"/pets/{id}": {"get": 1}}, "a": [10, 20]});
        let spec = Spec::new(&doc);
        assert_eq!(spec.get("#/paths/~1pets~1{id}/get"), Some(&json!(1)));
        assert_eq!(spec.get("#/paths/~1pets~1%7Bid%7D/get"), Some(&json!(1)));
        assert_eq!(spec.get("#/a/1"), Some(&json!(20)));
        assert_eq!(spec.get("#/a/x"), None);
        assert_eq!(spec.get("#"), Some(&doc));
    }

    #[test]
    fn follows_chains_and_reports_cycles() {
        let doc = json!({
            "a": {"$ref": "#/b"}, "b": {"$ref": "#/c"}, "c": {"type": "string"},
            "x": {"$ref": "#/y"}, "y": {"$ref": "#/x"}, "self": {"$ref": "#/self"}
        });
        let spec = Spec::new(&doc);
        let (value, pointer) = spec.follow(&doc["a"], "#/a").unwrap();
        assert_eq!(value, &json!({"type": "string"}));
        assert_eq!(pointer, "#/c");
        let err = spec.follow(&doc["x"], "#/x").unwrap_err();
        assert!(err.message.contains("cycle"), "{err}");
        assert!(spec.follow(&doc["self"], "#/self").is_err());
    }

    #[test]
    fn long_chains_are_cut() {
        let mut map = serde_json::Map::new();
        for i in 0..100 {
            map.insert(format!("r{i}"), json!({"$ref": format!("#/r{}", i + 1)}));
        }
        map.insert("r100".into(), json!({}));
        let doc = Value::Object(map);
        let err = Spec::new(&doc).follow(&doc["r0"], "#/r0").unwrap_err();
        assert!(err.message.contains("longer than"), "{err}");
    }

    #[test]
    fn external_refs_are_not_followed() {
        let doc = json!({"a": {"$ref": "https://example.com/x.json"}, "b": {"$ref": "../x.yaml"}});
        let spec = Spec::new(&doc);
        assert!(spec
            .follow(&doc["a"], "#/a")
            .unwrap_err()
            .message
            .contains("external"));
        assert!(spec
            .follow(&doc["b"], "#/b")
            .unwrap_err()
            .message
            .contains("external"));
    }

    #[test]
    fn parse_errors_name_the_failing_location() {
        let doc = json!({"name": "x", "in": "query", "schema": {"type": 5}});
        let err = Spec::new(&doc)
            .parse::<openapiv3::Parameter>(&doc, "#/p")
            .unwrap_err();
        assert!(err.pointer.starts_with("#/p"), "{err}");
    }
}
