//! OpenAPI 3.1 into the 3.0 form the rest of the pipeline reads.
//!
//! 3.1 schemas are JSON Schema 2020-12. Where a form has an exact 3.0 equivalent it is rewritten
//! into it: `type: [T, "null"]` is `nullable`, several types are an `anyOf` of one branch per
//! type, `const` is a one-value `enum`, a numeric `exclusiveMinimum` is `minimum` with the
//! boolean flag, `$ref` beside other keywords is an `allOf` of the reference (3.0 would ignore
//! the siblings), `true` is `{}`. What 3.0 cannot say is carried in `x-connector-*` extensions
//! that lowering reads ([`TUPLE`], [`EXAMPLES`], [`CONTENT_ENCODING`], [`CONTENT_MEDIA_TYPE`]);
//! keywords with no form at all (`if`, `patternProperties`, ...) are dropped with a warning
//! naming their pointer. Document-level 3.1 parts (`webhooks`, `components.pathItems`,
//! `info.summary`, `license.identifier`, `mutualTLS`) are read by lowering as they are.

use serde_json::{json, Map, Value};

use super::source_map::SourceMap;
use super::walk::each_schema;
use crate::diagnostics::{pointer, Diagnostic, Severity};

/// `prefixItems` (and whether `items: false` closes the tuple): `{"prefixItems": [..],
/// "closed": bool}`; the schema's `items`, if any, is the schema of the items after them.
pub const TUPLE: &str = "x-connector-tuple";
/// The schema's `examples` beyond the first (which becomes `example`).
pub const EXAMPLES: &str = "x-connector-examples";
/// `contentEncoding` (`base64` also sets `format: byte`).
pub const CONTENT_ENCODING: &str = "x-connector-content-encoding";
/// `contentMediaType` (without an encoding also `format: binary`).
pub const CONTENT_MEDIA_TYPE: &str = "x-connector-content-media-type";

/// JSON Schema keywords that OpenAPI 3.0 has no form for: dropped, with a warning.
const UNSUPPORTED: &[&str] = &[
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependentRequired",
    "patternProperties",
    "propertyNames",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
    "unevaluatedProperties",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$id",
];

/// Annotations with no effect on what a connector sends or receives: dropped quietly.
const IGNORED: &[&str] = &["$comment", "$schema", "$anchor", "$vocabulary"];

/// Dialects whose schemas are read as written here.
const KNOWN_DIALECTS: &[&str] = &[
    "https://spec.openapis.org/oas/3.1/dialect/base",
    "https://json-schema.org/draft/2020-12/schema",
];

const STRING_KEYWORDS: &[&str] = &[
    "minLength",
    "maxLength",
    "pattern",
    CONTENT_ENCODING,
    CONTENT_MEDIA_TYPE,
];
const NUMBER_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
const ARRAY_KEYWORDS: &[&str] = &["items", "minItems", "maxItems", "uniqueItems", TUPLE];
const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
];

/// Rewrites the 3.1 document `root` into 3.0 forms, recording moved parts in `map`.
pub(super) fn upgrade(root: &mut Value, map: &mut SourceMap, notes: &mut Vec<Diagnostic>) {
    if let Some(object) = root.as_object_mut() {
        if let Some(dialect) = object.shift_remove("jsonSchemaDialect") {
            if !dialect
                .as_str()
                .is_some_and(|d| KNOWN_DIALECTS.contains(&d))
            {
                notes.push(warning(
                    "#/jsonSchemaDialect",
                    format!("schemas are read as OpenAPI 3.1's base dialect (JSON Schema 2020-12), not as the declared dialect {dialect}"),
                ));
            }
        }
    }
    let mut upgrade = Upgrade { map, notes };
    each_schema(root, "#", &mut |schema, at| upgrade.schema(schema, at));
}

struct Upgrade<'a> {
    map: &'a mut SourceMap,
    notes: &'a mut Vec<Diagnostic>,
}

impl Upgrade<'_> {
    fn schema(&mut self, value: &mut Value, at: &str) {
        match value {
            Value::Bool(true) => *value = json!({}),
            Value::Bool(false) => {
                self.notes.push(warning(at, "the schema `false` admits no value; OpenAPI 3.0 has no such schema, so it is read as `not: {}` (any JSON value in the generated code)".to_owned()));
                *value = json!({"not": {}});
            }
            Value::Object(map) => self.object(map, at),
            _ => {}
        }
    }

    fn object(&mut self, map: &mut Map<String, Value>, at: &str) {
        self.reference_with_siblings(map, at);
        for key in IGNORED {
            map.shift_remove(*key);
        }
        let dropped: Vec<&str> = UNSUPPORTED
            .iter()
            .copied()
            .filter(|k| map.contains_key(*k))
            .collect();
        if !dropped.is_empty() {
            for key in &dropped {
                map.shift_remove(*key);
            }
            let names: Vec<String> = dropped.iter().map(|k| format!("`{k}`")).collect();
            self.notes.push(warning(
                at,
                format!("JSON Schema keywords {} have no OpenAPI 3.0 form and are ignored: neither the generated types nor input validation check them", names.join(", ")),
            ));
        }
        if let Some(constant) = map.shift_remove("const") {
            if !map.contains_key("enum") {
                map.insert("enum".into(), Value::Array(vec![constant]));
            }
        }
        if let Some(Value::Array(mut examples)) = map.shift_remove("examples") {
            if !examples.is_empty() && !map.contains_key("example") {
                map.insert("example".into(), examples.remove(0));
            }
            if !examples.is_empty() {
                map.insert(EXAMPLES.into(), Value::Array(examples));
            }
        }
        exclusive_bound(map, "minimum", "exclusiveMinimum", |excl, bound| {
            excl >= bound
        });
        exclusive_bound(map, "maximum", "exclusiveMaximum", |excl, bound| {
            excl <= bound
        });
        content(map);
        self.tuple(map, at);
        if matches!(map.get("type"), Some(Value::Array(_))) {
            self.type_array(map, at);
        }
        self.nested(map, at);
    }

    /// `$ref` beside other keywords: in 3.1 the siblings apply, in 3.0 they would be ignored,
    /// so the reference becomes the first member of an `allOf` they sit beside.
    fn reference_with_siblings(&mut self, map: &mut Map<String, Value>, at: &str) {
        if !map.contains_key("$ref")
            || map
                .keys()
                .all(|k| k == "$ref" || IGNORED.contains(&k.as_str()))
        {
            return;
        }
        let Some(reference) = map.shift_remove("$ref") else {
            return;
        };
        let member = json!({ "$ref": reference });
        match map.get_mut("allOf") {
            Some(Value::Array(members)) => {
                // The existing members move up by one.
                for index in (0..members.len()).rev() {
                    let original = pointer(&pointer(at, "allOf"), &index.to_string());
                    self.map.record(
                        pointer(&pointer(at, "allOf"), &(index + 1).to_string()),
                        original,
                    );
                }
                members.insert(0, member);
            }
            _ => {
                map.insert("allOf".into(), Value::Array(vec![member]));
            }
        }
        self.map.record(pointer(&pointer(at, "allOf"), "0"), at);
    }

    /// `prefixItems` moves to [`TUPLE`]; `items: false` closes the tuple (without
    /// `prefixItems` it allows only the empty array).
    fn tuple(&mut self, map: &mut Map<String, Value>, at: &str) {
        let closed = map.get("items") == Some(&Value::Bool(false));
        match map.shift_remove("prefixItems") {
            Some(prefix) => {
                if closed {
                    map.shift_remove("items");
                }
                map.insert(
                    TUPLE.into(),
                    json!({"prefixItems": prefix, "closed": closed}),
                );
                self.map.record(
                    pointer(&pointer(at, TUPLE), "prefixItems"),
                    pointer(at, "prefixItems"),
                );
                map.entry("type").or_insert_with(|| "array".into());
            }
            None if closed => {
                map.shift_remove("items");
                map.insert("maxItems".into(), 0.into());
            }
            None => {}
        }
    }

    /// `type: [..]`: null makes the schema nullable; one other type is the type, several are
    /// an `anyOf` with one branch per type holding the keywords that apply to it.
    fn type_array(&mut self, map: &mut Map<String, Value>, at: &str) {
        let Some(Value::Array(types)) = map.shift_remove("type") else {
            return;
        };
        let mut names: Vec<String> = Vec::new();
        for name in types.iter().filter_map(Value::as_str) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        let nullable = names.iter().any(|n| n == "null");
        names.retain(|n| n != "null");
        if nullable {
            map.insert("nullable".into(), true.into());
        }
        match names.as_slice() {
            [] => {
                map.insert("type".into(), "null".into());
                map.shift_remove("nullable");
            }
            [one] => {
                map.insert("type".into(), one.clone().into());
            }
            several => {
                let branches = branches(map, several);
                for index in 0..branches.len() {
                    self.map
                        .record(pointer(&pointer(at, "anyOf"), &index.to_string()), at);
                }
                if map.contains_key("anyOf") {
                    let wrapper = json!({ "anyOf": branches });
                    match map.get_mut("allOf") {
                        Some(Value::Array(members)) => members.push(wrapper),
                        _ => {
                            map.insert("allOf".into(), Value::Array(vec![wrapper]));
                        }
                    }
                } else {
                    map.insert("anyOf".into(), Value::Array(branches));
                }
            }
        }
    }

    /// The subschemas of `map`, rewritten in turn.
    fn nested(&mut self, map: &mut Map<String, Value>, at: &str) {
        for key in ["properties", "$defs", "definitions"] {
            if let Some(Value::Object(children)) = map.get_mut(key) {
                let base = pointer(at, key);
                for (name, child) in children.iter_mut() {
                    self.schema(child, &pointer(&base, name));
                }
            }
        }
        for key in ["items", "not"] {
            if let Some(child) = map.get_mut(key) {
                self.schema(child, &pointer(at, key));
            }
        }
        if let Some(child @ Value::Object(_)) = map.get_mut("additionalProperties") {
            self.schema(child, &pointer(at, "additionalProperties"));
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(members)) = map.get_mut(key) {
                let base = pointer(at, key);
                for (index, member) in members.iter_mut().enumerate() {
                    self.schema(member, &pointer(&base, &index.to_string()));
                }
            }
        }
        if let Some(Value::Array(members)) =
            map.get_mut(TUPLE).and_then(|t| t.get_mut("prefixItems"))
        {
            let base = pointer(at, "prefixItems");
            for (index, member) in members.iter_mut().enumerate() {
                self.schema(member, &pointer(&base, &index.to_string()));
            }
        }
    }
}

/// One branch per type, each with the keywords that apply to its type moved (or, for keywords
/// that apply to several, copied) out of `map`. `enum` values go to the branch of their type.
fn branches(map: &mut Map<String, Value>, types: &[String]) -> Vec<Value> {
    let numeric_format = map
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(is_numeric_format);
    let values = match map.shift_remove("enum") {
        Some(Value::Array(values)) => Some(values),
        _ => None,
    };
    let mut out = Vec::new();
    for name in types {
        let mut branch = Map::new();
        branch.insert("type".into(), name.clone().into());
        let keywords = match name.as_str() {
            "string" => STRING_KEYWORDS,
            "number" | "integer" => NUMBER_KEYWORDS,
            "array" => ARRAY_KEYWORDS,
            "object" => OBJECT_KEYWORDS,
            _ => &[],
        };
        for key in keywords {
            if let Some(value) = map.get(*key) {
                branch.insert((*key).to_owned(), value.clone());
            }
        }
        let wants_format = match name.as_str() {
            "string" => !numeric_format,
            "number" | "integer" => numeric_format,
            _ => false,
        };
        if let (true, Some(format)) = (wants_format, map.get("format")) {
            branch.insert("format".into(), format.clone());
        }
        if let Some(values) = &values {
            let own: Vec<Value> = values
                .iter()
                .filter(|v| json_type_is(v, name))
                .cloned()
                .collect();
            if own.is_empty() {
                continue;
            }
            branch.insert("enum".into(), Value::Array(own));
        }
        out.push(Value::Object(branch));
    }
    for keywords in [
        STRING_KEYWORDS,
        NUMBER_KEYWORDS,
        ARRAY_KEYWORDS,
        OBJECT_KEYWORDS,
    ] {
        for key in keywords {
            map.shift_remove(*key);
        }
    }
    map.shift_remove("format");
    out
}

fn is_numeric_format(format: &str) -> bool {
    matches!(format, "float" | "double" | "decimal")
        || format.starts_with("int")
        || format.starts_with("uint")
}

fn json_type_is(value: &Value, name: &str) -> bool {
    match name {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

/// A numeric `exclusiveMinimum` (`exclusiveMaximum`) becomes `minimum` with the boolean flag,
/// unless `minimum` is stricter already.
fn exclusive_bound(
    map: &mut Map<String, Value>,
    bound: &str,
    exclusive: &str,
    stricter: fn(f64, f64) -> bool,
) {
    let Some(limit) = map.get(exclusive).filter(|v| v.is_number()).cloned() else {
        return;
    };
    let replaces = match (limit.as_f64(), map.get(bound).and_then(Value::as_f64)) {
        (Some(excl), Some(plain)) => stricter(excl, plain),
        _ => true,
    };
    if replaces {
        map.insert(bound.to_owned(), limit);
        map.insert(exclusive.to_owned(), true.into());
    } else {
        map.shift_remove(exclusive);
    }
}

/// `contentEncoding` and `contentMediaType`, in 3.0 terms where there are some.
fn content(map: &mut Map<String, Value>) {
    let encoding = map.shift_remove("contentEncoding");
    let media = map.shift_remove("contentMediaType");
    if let Some(encoding) = encoding {
        if encoding == "base64" && !map.contains_key("format") {
            map.insert("format".into(), "byte".into());
        }
        map.insert(CONTENT_ENCODING.into(), encoding);
    } else if media.is_some() && !map.contains_key("format") {
        map.insert("format".into(), "binary".into());
    }
    if let Some(media) = media {
        map.insert(CONTENT_MEDIA_TYPE.into(), media);
    }
}

fn warning(at: &str, message: String) -> Diagnostic {
    Diagnostic {
        pointer: at.to_owned(),
        severity: Severity::Warning,
        message,
        line: None,
        code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgraded(schema: Value) -> (Value, SourceMap, Vec<Diagnostic>) {
        let mut doc = json!({"components": {"schemas": {"S": schema}}});
        let (mut map, mut notes) = (SourceMap::default(), Vec::new());
        upgrade(&mut doc, &mut map, &mut notes);
        (doc["components"]["schemas"]["S"].take(), map, notes)
    }

    #[test]
    fn type_arrays_become_nullable_or_unions() {
        let (s, _, _) = upgraded(json!({"type": ["string", "null"], "maxLength": 3}));
        assert_eq!(
            s,
            json!({"maxLength": 3, "nullable": true, "type": "string"})
        );
        let (s, map, _) = upgraded(json!({
            "type": ["string", "integer", "null"], "minLength": 1, "minimum": 0,
            "enum": ["a", 1, null], "description": "d"
        }));
        assert_eq!(
            s,
            json!({"description": "d", "nullable": true, "anyOf": [
                {"type": "string", "minLength": 1, "enum": ["a"]},
                {"type": "integer", "minimum": 0, "enum": [1]}
            ]})
        );
        assert_eq!(
            map.original("#/components/schemas/S/anyOf/1"),
            "#/components/schemas/S"
        );
    }

    #[test]
    fn const_examples_bounds_and_content() {
        let (s, _, _) = upgraded(json!({
            "type": "number", "const": 2, "examples": [1, 2], "exclusiveMinimum": 1,
            "minimum": 0, "exclusiveMaximum": 10
        }));
        assert_eq!(
            s,
            json!({"type": "number", "enum": [2], "example": 1, EXAMPLES: [2],
                   "exclusiveMinimum": true, "minimum": 1,
                   "exclusiveMaximum": true, "maximum": 10})
        );
        let (s, _, _) = upgraded(
            json!({"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"}),
        );
        assert_eq!(
            s,
            json!({"type": "string", "format": "byte", CONTENT_ENCODING: "base64", CONTENT_MEDIA_TYPE: "image/png"})
        );
        let (s, _, _) =
            upgraded(json!({"type": "string", "contentMediaType": "application/octet-stream"}));
        assert_eq!(s["format"], "binary");
    }

    #[test]
    fn refs_with_siblings_tuples_and_booleans() {
        let (s, map, _) = upgraded(json!({"$ref": "#/x", "description": "d"}));
        assert_eq!(s, json!({"description": "d", "allOf": [{"$ref": "#/x"}]}));
        assert_eq!(
            map.original("#/components/schemas/S/allOf/0"),
            "#/components/schemas/S"
        );
        let (s, map, _) =
            upgraded(json!({"prefixItems": [true, {"type": "string"}], "items": false}));
        assert_eq!(
            s,
            json!({TUPLE: {"prefixItems": [{}, {"type": "string"}], "closed": true}, "type": "array"})
        );
        assert_eq!(
            map.original("#/components/schemas/S/x-connector-tuple/prefixItems/1"),
            "#/components/schemas/S/prefixItems/1"
        );
        let (s, _, notes) = upgraded(json!({"properties": {"no": false}, "if": {}}));
        assert_eq!(s, json!({"properties": {"no": {"not": {}}}}));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0].pointer, "#/components/schemas/S");
        assert_eq!(notes[1].pointer, "#/components/schemas/S/properties/no");
    }
}
