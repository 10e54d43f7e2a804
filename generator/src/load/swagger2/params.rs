//! 2.0 parameters: query, header and path ones get a `schema`, `style` and `explode`; body and
//! form ones become the operation's request body.

use serde_json::{json, Map, Value};

use super::Convert;
use crate::diagnostics::{pointer, Diagnostic, Severity};

/// Keywords of a 2.0 parameter, header or `items` object that belong to its schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
    "x-ms-enum",
];

/// An operation's (or path's) parameters, split by where they go.
#[derive(Clone, Default)]
pub(super) struct Split {
    /// Query, header and path parameters, converted (or references to converted ones).
    pub(super) plain: Vec<Value>,
    /// The `in: body` parameter and its pointer.
    pub(super) body: Option<(Value, String)>,
    /// `in: formData` parameters: name, parameter, pointer.
    pub(super) form: Vec<(String, Value, String)>,
}

impl Convert<'_, '_> {
    /// Splits the parameter list at `at`, following references to find body and form ones.
    pub(super) fn parameters(&mut self, list: Option<&Value>, at: &str) -> Split {
        let mut split = Split::default();
        let Some(list) = list.and_then(Value::as_array) else {
            return split;
        };
        for (index, value) in list.iter().enumerate() {
            let original = pointer(at, &index.to_string());
            let converted = pointer(at, &split.plain.len().to_string());
            let (param, param_at) = match self.spec.follow(value, &original) {
                Ok(found) => found,
                // The reference stays as written: lowering reports it where it is.
                Err(_) => {
                    self.map.record(converted, original);
                    split.plain.push(value.clone());
                    continue;
                }
            };
            let Some(object) = param.as_object() else {
                continue;
            };
            match object.get("in").and_then(Value::as_str) {
                Some("body") => {
                    if split.body.is_some() {
                        self.warn(
                            &original,
                            "an operation has one body parameter; this second one is ignored",
                        );
                    } else {
                        split.body = Some((param.clone(), param_at));
                    }
                }
                Some("formData") => {
                    let name = object
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    split.form.push((name, param.clone(), param_at));
                }
                _ if value.get("$ref").is_some() => {
                    self.map.record(converted, original);
                    split.plain.push(value.clone());
                }
                _ => {
                    let plain = self.plain_parameter(object, &original, &converted);
                    split.plain.push(plain);
                }
            }
        }
        split
    }

    /// A query, header, path or cookie parameter in 3.0 form.
    pub(super) fn plain_parameter(
        &mut self,
        param: &Map<String, Value>,
        original: &str,
        converted: &str,
    ) -> Value {
        self.map.record(converted, original);
        self.map.record(pointer(converted, "schema"), original);
        let mut out = Map::new();
        for key in ["name", "in", "description", "required", "allowEmptyValue"] {
            if let Some(value) = param.get(key) {
                out.insert(key.into(), value.clone());
            }
        }
        for (key, value) in param {
            if key == "x-example" {
                out.insert("example".into(), value.clone());
            } else if key.starts_with("x-")
                && !SCHEMA_KEYWORDS.contains(&key.as_str())
                && key != "x-nullable"
            {
                out.insert(key.clone(), value.clone());
            }
        }
        out.insert(
            "schema".into(),
            Value::Object(schema_of(param, original, self.notes)),
        );
        if param.get("type").and_then(Value::as_str) == Some("array") {
            let location = param.get("in").and_then(Value::as_str).unwrap_or_default();
            let format = param
                .get("collectionFormat")
                .and_then(Value::as_str)
                .unwrap_or("csv");
            let style = match (location, format) {
                ("query", "csv") => Some(("form", false, None)),
                ("query", "ssv") => Some(("spaceDelimited", false, None)),
                ("query", "pipes") => Some(("pipeDelimited", false, None)),
                ("query", "tsv") => Some(("form", false, Some("tabDelimited"))),
                ("query", "multi") => Some(("form", true, None)),
                (_, "csv") => Some(("simple", false, None)),
                _ => None,
            };
            match style {
                Some((style, explode, extension)) => {
                    out.insert("style".into(), style.into());
                    out.insert("explode".into(), explode.into());
                    if let Some(extension) = extension {
                        out.insert(STYLE_EXTENSION.into(), extension.into());
                    }
                }
                None => self.warn(
                    &pointer(original, "collectionFormat"),
                    format!("`collectionFormat: {format}` has no OpenAPI 3.0 form in a {location} parameter; the values are sent comma-separated"),
                ),
            }
        }
        Value::Object(out)
    }

    /// The request body of an operation: its body parameter, else its form parameters.
    pub(super) fn request_body(
        &mut self,
        body: Option<(Value, String)>,
        form: Vec<(String, Value, String)>,
        consumes: &[String],
        op_at: &str,
    ) -> Option<Value> {
        let body_at = pointer(op_at, "requestBody");
        let content_at = pointer(&body_at, "content");
        if let Some((param, original)) = body {
            if !form.is_empty() {
                self.warn(op_at, "an operation with a body parameter cannot have form parameters; the form parameters are ignored");
            }
            self.map.record(body_at.clone(), original.clone());
            let schema = param.get("schema").cloned().unwrap_or_else(|| json!({}));
            let media: Vec<String> = if consumes.is_empty() {
                vec!["application/json".to_owned()]
            } else {
                consumes.to_vec()
            };
            let mut content = Map::new();
            for media_type in media {
                self.map.record(
                    pointer(&pointer(&content_at, &media_type), "schema"),
                    pointer(&original, "schema"),
                );
                content.insert(media_type, json!({ "schema": schema }));
            }
            let mut out = Map::new();
            if let Some(description) = param.get("description") {
                out.insert("description".into(), description.clone());
            }
            out.insert("content".into(), Value::Object(content));
            out.insert(
                "required".into(),
                param.get("required").cloned().unwrap_or(false.into()),
            );
            return Some(Value::Object(out));
        }
        if form.is_empty() {
            return None;
        }
        self.map.record(body_at, pointer(op_at, "parameters"));
        let has_file = form
            .iter()
            .any(|(_, p, _)| p.get("type").and_then(Value::as_str) == Some("file"));
        let mut media: Vec<String> = consumes
            .iter()
            .filter(|m| {
                m.starts_with("multipart/") || m.starts_with("application/x-www-form-urlencoded")
            })
            .cloned()
            .collect();
        if media.is_empty() {
            media.push(
                if has_file {
                    "multipart/form-data"
                } else {
                    "application/x-www-form-urlencoded"
                }
                .to_owned(),
            );
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut encoding = Map::new();
        for (name, param, original) in &form {
            let Some(param) = param.as_object() else {
                continue;
            };
            let mut schema = schema_of(param, original, self.notes);
            if let Some(description) = param.get("description") {
                schema.insert("description".into(), description.clone());
            }
            properties.insert(name.clone(), Value::Object(schema));
            if param.get("required") == Some(&Value::Bool(true)) {
                required.push(Value::from(name.clone()));
            }
            if param.get("type").and_then(Value::as_str) == Some("array") {
                let format = param
                    .get("collectionFormat")
                    .and_then(Value::as_str)
                    .unwrap_or("csv");
                let (style, explode) = match format {
                    "ssv" => ("spaceDelimited", false),
                    "pipes" => ("pipeDelimited", false),
                    "multi" => ("form", true),
                    "csv" => ("form", false),
                    other => {
                        self.warn(
                            &pointer(original, "collectionFormat"),
                            format!("`collectionFormat: {other}` has no OpenAPI 3.0 form in a form field; the values are sent comma-separated"),
                        );
                        ("form", false)
                    }
                };
                encoding.insert(name.clone(), json!({"style": style, "explode": explode}));
            }
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            schema["required"] = Value::Array(required.clone());
        }
        let mut content = Map::new();
        for media_type in media {
            let media_at = pointer(&content_at, &media_type);
            for (name, _, original) in &form {
                self.map.record(
                    pointer(&pointer(&pointer(&media_at, "schema"), "properties"), name),
                    original.clone(),
                );
            }
            let mut entry = json!({ "schema": schema });
            if !encoding.is_empty() {
                entry["encoding"] = Value::Object(encoding.clone());
            }
            content.insert(media_type, entry);
        }
        Some(json!({"content": content, "required": !required.is_empty()}))
    }
}

/// The extension that carries a query style OpenAPI 3.0 has no name for (`tabDelimited`, from
/// `collectionFormat: tsv`); lowering reads it.
pub const STYLE_EXTENSION: &str = "x-connector-style";

/// The schema of a 2.0 parameter, header or `items` object found at `at`.
pub(super) fn schema_of(
    param: &Map<String, Value>,
    at: &str,
    notes: &mut Vec<Diagnostic>,
) -> Map<String, Value> {
    let mut schema = Map::new();
    for key in SCHEMA_KEYWORDS {
        if let Some(value) = param.get(*key) {
            schema.insert((*key).to_owned(), value.clone());
        }
    }
    if param.get("x-nullable") == Some(&Value::Bool(true)) {
        schema.insert("nullable".into(), true.into());
    }
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".into(), "string".into());
        schema.insert("format".into(), "binary".into());
    }
    if let Some(Value::Object(items)) = param.get("items") {
        let items_at = pointer(at, "items");
        let nested = items
            .get("collectionFormat")
            .and_then(Value::as_str)
            .filter(|f| *f != "csv");
        if let (Some(format), Some("array")) = (nested, items.get("type").and_then(Value::as_str)) {
            notes.push(Diagnostic {
                pointer: pointer(&items_at, "collectionFormat"),
                severity: Severity::Warning,
                message: format!("a nested `collectionFormat: {format}` has no OpenAPI 3.0 form; inner values are sent comma-separated"),
                line: None,
                code: None,
            });
        }
        schema.insert(
            "items".into(),
            Value::Object(schema_of(items, &items_at, notes)),
        );
    }
    if let Some(reference) = param.get("$ref") {
        schema.insert("$ref".into(), reference.clone());
    }
    schema
}
