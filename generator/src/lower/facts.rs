//! The facts a schema states beyond the shape of its type (bounds, formats, defaults, ...), kept
//! in the IR for the JSON Schemas of actions. Generated Rust does not read them.

use openapiv3::{ReferenceOr, Schema, SchemaKind, Type};
use serde::Serialize;
use serde_json::Value;

use crate::ir::Facts;

/// The facts of an inline schema; a reference states none of its own (OpenAPI 3.0 ignores the
/// siblings of `$ref`), its target's facts are on the named type.
pub(crate) fn of_ref<S: std::borrow::Borrow<Schema>>(schema: &ReferenceOr<S>) -> Facts {
    match schema {
        ReferenceOr::Item(schema) => of(schema.borrow()),
        ReferenceOr::Reference { .. } => Facts::default(),
    }
}

/// The facts of a schema.
pub(crate) fn of(schema: &Schema) -> Facts {
    let data = &schema.schema_data;
    let mut facts = Facts {
        title: non_empty(data.title.as_deref()),
        description: non_empty(data.description.as_deref()),
        default: data.default.clone().map(Box::new),
        example: data.example.clone().map(Box::new),
        read_only: data.read_only,
        write_only: data.write_only,
        deprecated: data.deprecated,
        ..Facts::default()
    };
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            facts.format = format_name(&s.format);
            facts.pattern = s.pattern.clone();
            facts.min_length = s.min_length;
            facts.max_length = s.max_length;
        }
        SchemaKind::Type(Type::Number(n)) => {
            facts.format = format_name(&n.format);
            facts.minimum = n.minimum.map(|n| Box::new(Value::from(n)));
            facts.maximum = n.maximum.map(|n| Box::new(Value::from(n)));
            facts.exclusive_minimum = n.exclusive_minimum && n.minimum.is_some();
            facts.exclusive_maximum = n.exclusive_maximum && n.maximum.is_some();
            facts.multiple_of = n.multiple_of.map(|n| Box::new(Value::from(n)));
            facts.enumeration = n
                .enumeration
                .iter()
                .flatten()
                .map(|v| Value::from(*v))
                .collect();
        }
        SchemaKind::Type(Type::Integer(i)) => {
            facts.format = format_name(&i.format);
            facts.minimum = i.minimum.map(|n| Box::new(Value::from(n)));
            facts.maximum = i.maximum.map(|n| Box::new(Value::from(n)));
            facts.exclusive_minimum = i.exclusive_minimum && i.minimum.is_some();
            facts.exclusive_maximum = i.exclusive_maximum && i.maximum.is_some();
            facts.multiple_of = i.multiple_of.map(|n| Box::new(Value::from(n)));
        }
        SchemaKind::Type(Type::Boolean(b)) => {
            facts.enumeration = b
                .enumeration
                .iter()
                .flatten()
                .map(|v| Value::from(*v))
                .collect();
        }
        SchemaKind::Type(Type::Object(o)) => {
            facts.min_properties = o.min_properties;
            facts.max_properties = o.max_properties;
            facts.values = values(o.additional_properties.as_ref());
        }
        SchemaKind::Type(Type::Array(a)) => {
            facts.min_items = a.min_items;
            facts.max_items = a.max_items;
            facts.unique_items = a.unique_items;
            facts.items = a
                .items
                .as_ref()
                .map(of_ref)
                .filter(|f| !f.is_empty())
                .map(Box::new);
        }
        SchemaKind::Any(any) => {
            facts.format = any.format.clone();
            facts.pattern = any.pattern.clone();
            facts.min_length = any.min_length;
            facts.max_length = any.max_length;
            facts.minimum = any.minimum.map(|n| Box::new(Value::from(n)));
            facts.maximum = any.maximum.map(|n| Box::new(Value::from(n)));
            facts.exclusive_minimum = any.exclusive_minimum == Some(true) && any.minimum.is_some();
            facts.exclusive_maximum = any.exclusive_maximum == Some(true) && any.maximum.is_some();
            facts.multiple_of = any.multiple_of.map(|n| Box::new(Value::from(n)));
            facts.min_items = any.min_items;
            facts.max_items = any.max_items;
            facts.unique_items = any.unique_items == Some(true);
            facts.min_properties = any.min_properties;
            facts.max_properties = any.max_properties;
            facts.enumeration = any.enumeration.clone();
            facts.items = any
                .items
                .as_ref()
                .map(of_ref)
                .filter(|f| !f.is_empty())
                .map(Box::new);
            facts.values = values(any.additional_properties.as_ref());
        }
        SchemaKind::OneOf { .. }
        | SchemaKind::AllOf { .. }
        | SchemaKind::AnyOf { .. }
        | SchemaKind::Not { .. } => {}
    }
    content(&mut facts, &data.extensions);
    facts
}

/// The examples beyond the first, and the content encoding and media type: from the
/// extensions that carry OpenAPI 3.1's keywords, else from 3.0's `format: byte` and `binary`.
fn content(facts: &mut Facts, extensions: &indexmap::IndexMap<String, Value>) {
    use crate::load::openapi31::{CONTENT_ENCODING, CONTENT_MEDIA_TYPE, EXAMPLES};
    let text = |key: &str| {
        extensions
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    facts.examples = extensions
        .get(EXAMPLES)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    facts.content_encoding = text(CONTENT_ENCODING)
        .or_else(|| (facts.format.as_deref() == Some("byte")).then(|| "base64".to_owned()));
    facts.content_media_type = text(CONTENT_MEDIA_TYPE).or_else(|| {
        (facts.format.as_deref() == Some("binary")).then(|| "application/octet-stream".to_owned())
    });
}

fn values(additional: Option<&openapiv3::AdditionalProperties>) -> Option<Box<Facts>> {
    match additional {
        Some(openapiv3::AdditionalProperties::Schema(schema)) => {
            Some(of_ref(schema)).filter(|f| !f.is_empty()).map(Box::new)
        }
        _ => None,
    }
}

/// The `format` as the spec writes it, known or not.
fn format_name<T: Serialize>(format: &T) -> Option<String> {
    serde_json::to_value(format)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|f| !f.is_empty())
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use crate::ir::{Facts, Field};

    /// Facts sit in every field, type, parameter, body and response of the IR, tens of thousands
    /// of them for a large API while it is lowered: the JSON values, which most schemas do not
    /// have, stay boxed (unboxed, Facts took 712 bytes, and a field 830).
    #[test]
    fn facts_stay_small() {
        let (facts, field) = (std::mem::size_of::<Facts>(), std::mem::size_of::<Field>());
        assert!(facts <= 360, "Facts takes {facts} bytes");
        assert!(field <= 480, "Field takes {field} bytes");
    }
}
