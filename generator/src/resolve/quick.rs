//! Schemas read straight from the JSON tree, without `serde`'s buffering.
//!
//! `openapiv3::Schema` flattens two parts into one object, so `serde` copies each schema's
//! entries into a buffer before reading them, and a nested schema is copied once more for every
//! schema around it. On GitHub's spec that copying cost more than all the rest of reading the
//! schemas. Here a schema is read field by field, with `openapiv3`'s own rules for which kind a
//! combination of keywords makes.
//!
//! Only well-formed schemas are read here: anything unexpected (a keyword of the wrong JSON
//! type, a `null` where `openapiv3` wants a boolean, a `$ref` that is not a string) gives
//! `None`, and the caller reads the fragment with `serde` instead, which gives the same result
//! or the error with its location. The tests check that whatever is read here equals what
//! `serde` reads.

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, AnySchema, ArrayType, BooleanType, IntegerType, NumberType, ObjectType,
    ReferenceOr, Schema, SchemaData, SchemaKind, StringType, Type,
};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// A fragment that can be read without `serde` when it is well formed.
pub trait Quick: Sized {
    /// The fragment, or `None` when it is not plainly well formed.
    fn quick(value: &Value) -> Option<Self>;
}

impl Quick for Schema {
    fn quick(value: &Value) -> Option<Self> {
        schema(value.as_object()?)
    }
}

impl<T: Quick> Quick for Box<T> {
    fn quick(value: &Value) -> Option<Self> {
        T::quick(value).map(Box::new)
    }
}

impl<T: Quick> Quick for ReferenceOr<T> {
    fn quick(value: &Value) -> Option<Self> {
        // Schemas have few keys: looking through them beats hashing the key.
        let reference = value.as_object()?.iter().find(|(key, _)| *key == "$ref");
        match reference.map(|(_, value)| value) {
            // Other keys beside a `$ref` are ignored, as `openapiv3` ignores them.
            Some(Value::String(reference)) => Some(ReferenceOr::Reference {
                reference: reference.clone(),
            }),
            Some(_) => None,
            None => T::quick(value).map(ReferenceOr::Item),
        }
    }
}

/// The keywords read here, each looked up once in a pass over the schema's entries: a schema
/// has a few of the thirty, and hashing each of the thirty to look it up cost more than
/// `serde`'s buffering saved.
struct Entries<'v>([Option<&'v Value>; 34]);

/// The place of each keyword in [`Entries`].
fn slot(key: &str) -> Option<usize> {
    Some(match key {
        "type" => 0,
        "pattern" => 1,
        "multipleOf" => 2,
        "exclusiveMinimum" => 3,
        "exclusiveMaximum" => 4,
        "minimum" => 5,
        "maximum" => 6,
        "properties" => 7,
        "required" => 8,
        "additionalProperties" => 9,
        "minProperties" => 10,
        "maxProperties" => 11,
        "items" => 12,
        "minItems" => 13,
        "maxItems" => 14,
        "uniqueItems" => 15,
        "enum" => 16,
        "format" => 17,
        "minLength" => 18,
        "maxLength" => 19,
        "oneOf" => 20,
        "allOf" => 21,
        "anyOf" => 22,
        "not" => 23,
        "nullable" => 24,
        "readOnly" => 25,
        "writeOnly" => 26,
        "deprecated" => 27,
        "externalDocs" => 28,
        "example" => 29,
        "title" => 30,
        "description" => 31,
        "discriminator" => 32,
        "default" => 33,
        _ => return None,
    })
}

impl<'v> Entries<'v> {
    fn of(map: &'v Map<String, Value>) -> Self {
        let mut found = [None; 34];
        for (key, value) in map {
            if let Some(at) = slot(key) {
                found[at] = Some(value);
            }
        }
        Self(found)
    }

    fn get(&self, key: &str) -> Option<&'v Value> {
        self.0[slot(key)?]
    }

    /// A keyword's value: `None` when the keyword is absent or `null` (both read as absent),
    /// else `Some` of what `read` makes of it, which fails the schema when it is `None`.
    fn field<T>(&self, key: &str, read: impl FnOnce(&'v Value) -> Option<T>) -> Option<Option<T>> {
        match self.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(value) => read(value).map(Some),
        }
    }

    /// A flag of `SchemaData`: absent is `false`, and only a boolean is accepted (`null` is
    /// not).
    fn flag(&self, key: &str) -> Option<bool> {
        match self.get(key) {
            None => Some(false),
            Some(value) => value.as_bool(),
        }
    }
}

fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Number(number) => Some(number.clone()),
        _ => None,
    }
}

fn size(value: &Value) -> Option<usize> {
    value.as_u64().and_then(|n| usize::try_from(n).ok())
}

fn list<T>(value: &Value, read: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    value.as_array()?.iter().map(read).collect()
}

/// A small part (external docs, a discriminator) read by `serde`: these have no schemas
/// inside, so nothing is copied over and over.
fn by_serde<T: for<'de> Deserialize<'de>>(value: &Value) -> Option<T> {
    T::deserialize(value).ok()
}

fn schema(map: &Map<String, Value>) -> Option<Schema> {
    let entries = Entries::of(map);
    Some(Schema {
        schema_data: data(map, &entries)?,
        schema_kind: kind(&entries)?,
    })
}

fn data(map: &Map<String, Value>, entries: &Entries<'_>) -> Option<SchemaData> {
    Some(SchemaData {
        nullable: entries.flag("nullable")?,
        read_only: entries.flag("readOnly")?,
        write_only: entries.flag("writeOnly")?,
        deprecated: entries.flag("deprecated")?,
        external_docs: entries.field("externalDocs", by_serde)?,
        example: entries.field("example", |v| Some(v.clone()))?,
        title: entries.field("title", string)?,
        description: entries.field("description", string)?,
        discriminator: entries.field("discriminator", by_serde)?,
        default: entries.field("default", |v| Some(v.clone()))?,
        extensions: map
            .iter()
            .filter(|(key, _)| key.starts_with("x-"))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    })
}

/// Every keyword that decides a schema's kind, as `openapiv3` reads them before choosing.
struct Keywords {
    typ: Option<String>,
    pattern: Option<String>,
    multiple_of: Option<Number>,
    exclusive_minimum: Option<bool>,
    exclusive_maximum: Option<bool>,
    minimum: Option<Number>,
    maximum: Option<Number>,
    properties: Option<IndexMap<String, ReferenceOr<Box<Schema>>>>,
    required: Option<Vec<String>>,
    additional_properties: Option<AdditionalProperties>,
    min_properties: Option<usize>,
    max_properties: Option<usize>,
    items: Option<ReferenceOr<Box<Schema>>>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    unique_items: Option<bool>,
    enumeration: Option<Vec<Value>>,
    format: Option<String>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    one_of: Option<Vec<ReferenceOr<Schema>>>,
    all_of: Option<Vec<ReferenceOr<Schema>>>,
    any_of: Option<Vec<ReferenceOr<Schema>>>,
    not: Option<Box<ReferenceOr<Schema>>>,
}

impl Keywords {
    fn read(entries: &Entries<'_>) -> Option<Self> {
        Some(Self {
            typ: entries.field("type", string)?,
            pattern: entries.field("pattern", string)?,
            multiple_of: entries.field("multipleOf", number)?,
            exclusive_minimum: entries.field("exclusiveMinimum", Value::as_bool)?,
            exclusive_maximum: entries.field("exclusiveMaximum", Value::as_bool)?,
            minimum: entries.field("minimum", number)?,
            maximum: entries.field("maximum", number)?,
            properties: entries.field("properties", |value| {
                value
                    .as_object()?
                    .iter()
                    .map(|(name, schema)| Some((name.clone(), Quick::quick(schema)?)))
                    .collect()
            })?,
            required: entries.field("required", |value| list(value, string))?,
            additional_properties: entries.field("additionalProperties", |value| match value {
                Value::Bool(any) => Some(AdditionalProperties::Any(*any)),
                _ => Quick::quick(value).map(AdditionalProperties::Schema),
            })?,
            min_properties: entries.field("minProperties", size)?,
            max_properties: entries.field("maxProperties", size)?,
            items: entries.field("items", Quick::quick)?,
            min_items: entries.field("minItems", size)?,
            max_items: entries.field("maxItems", size)?,
            unique_items: entries.field("uniqueItems", Value::as_bool)?,
            enumeration: entries.field("enum", |value| value.as_array().cloned())?,
            format: entries.field("format", string)?,
            min_length: entries.field("minLength", size)?,
            max_length: entries.field("maxLength", size)?,
            one_of: entries.field("oneOf", |value| list(value, Quick::quick))?,
            all_of: entries.field("allOf", |value| list(value, Quick::quick))?,
            any_of: entries.field("anyOf", |value| list(value, Quick::quick))?,
            not: entries.field("not", Quick::quick)?,
        })
    }

    /// Whether no keyword but the listed ones is present: each kind allows only its own.
    fn only(&self, allowed: &[&str]) -> bool {
        let present = [
            ("type", self.typ.is_some()),
            ("pattern", self.pattern.is_some()),
            ("multipleOf", self.multiple_of.is_some()),
            ("exclusiveMinimum", self.exclusive_minimum.is_some()),
            ("exclusiveMaximum", self.exclusive_maximum.is_some()),
            ("minimum", self.minimum.is_some()),
            ("maximum", self.maximum.is_some()),
            ("properties", self.properties.is_some()),
            ("required", self.required.is_some()),
            ("additionalProperties", self.additional_properties.is_some()),
            ("minProperties", self.min_properties.is_some()),
            ("maxProperties", self.max_properties.is_some()),
            ("items", self.items.is_some()),
            ("minItems", self.min_items.is_some()),
            ("maxItems", self.max_items.is_some()),
            ("uniqueItems", self.unique_items.is_some()),
            ("enum", self.enumeration.is_some()),
            ("format", self.format.is_some()),
            ("minLength", self.min_length.is_some()),
            ("maxLength", self.max_length.is_some()),
            ("oneOf", self.one_of.is_some()),
            ("allOf", self.all_of.is_some()),
            ("anyOf", self.any_of.is_some()),
            ("not", self.not.is_some()),
        ];
        present
            .iter()
            .all(|(key, is_present)| !is_present || allowed.contains(key))
    }

    /// Whether every enum value is `null` or passes `check`.
    fn values_are(&self, check: fn(&Value) -> bool) -> bool {
        self.enumeration
            .iter()
            .flatten()
            .all(|value| value.is_null() || check(value))
    }

    /// The enum's values, `null` as `None`, each converted by `read` (which `values_are` has
    /// checked it accepts).
    fn values<T>(&mut self, read: fn(&Value) -> Option<T>) -> Vec<Option<T>> {
        self.enumeration
            .take()
            .unwrap_or_default()
            .iter()
            .map(|value| if value.is_null() { None } else { read(value) })
            .collect()
    }
}

const STRING: &[&str] = &[
    "type",
    "pattern",
    "enum",
    "format",
    "minLength",
    "maxLength",
];
const NUMBER: &[&str] = &[
    "type",
    "multipleOf",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minimum",
    "maximum",
    "enum",
    "format",
];
const BOOLEAN: &[&str] = &["type", "enum"];
const OBJECT: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
];
const ARRAY: &[&str] = &["type", "items", "minItems", "maxItems", "uniqueItems"];

fn is_integer(number: &Option<Number>) -> bool {
    number.as_ref().is_none_or(Number::is_i64)
}

/// The kind a schema's keywords make, in `openapiv3`'s order of trying: a typed schema whose
/// keywords all belong to its type, then a lone `oneOf`, `allOf`, `anyOf` or `not`, and
/// anything else as `Any`.
fn kind(entries: &Entries<'_>) -> Option<SchemaKind> {
    let mut k = Keywords::read(entries)?;
    let typ = k.typ.as_deref();
    let kind = if typ == Some("string") && k.only(STRING) && k.values_are(Value::is_string) {
        SchemaKind::Type(Type::String(StringType {
            format: k.format.take().into(),
            pattern: k.pattern.take(),
            enumeration: k.values(|v| v.as_str().map(str::to_owned)),
            min_length: k.min_length,
            max_length: k.max_length,
        }))
    } else if typ == Some("number") && k.only(NUMBER) && k.values_are(Value::is_number) {
        SchemaKind::Type(Type::Number(NumberType {
            format: k.format.take().into(),
            multiple_of: k.multiple_of.as_ref().and_then(Number::as_f64),
            exclusive_minimum: k.exclusive_minimum.unwrap_or_default(),
            exclusive_maximum: k.exclusive_maximum.unwrap_or_default(),
            minimum: k.minimum.as_ref().and_then(Number::as_f64),
            maximum: k.maximum.as_ref().and_then(Number::as_f64),
            enumeration: k.values(Value::as_f64),
        }))
    } else if typ == Some("integer")
        && k.only(NUMBER)
        && k.values_are(Value::is_i64)
        && is_integer(&k.multiple_of)
        && is_integer(&k.minimum)
        && is_integer(&k.maximum)
    {
        SchemaKind::Type(Type::Integer(IntegerType {
            format: k.format.take().into(),
            multiple_of: k.multiple_of.as_ref().and_then(Number::as_i64),
            exclusive_minimum: k.exclusive_minimum.unwrap_or_default(),
            exclusive_maximum: k.exclusive_maximum.unwrap_or_default(),
            minimum: k.minimum.as_ref().and_then(Number::as_i64),
            maximum: k.maximum.as_ref().and_then(Number::as_i64),
            enumeration: k.values(Value::as_i64),
        }))
    } else if typ == Some("boolean") && k.only(BOOLEAN) && k.values_are(Value::is_boolean) {
        SchemaKind::Type(Type::Boolean(BooleanType {
            enumeration: k.values(Value::as_bool),
        }))
    } else if typ == Some("object") && k.only(OBJECT) {
        SchemaKind::Type(Type::Object(ObjectType {
            properties: k.properties.take().unwrap_or_default(),
            required: k.required.take().unwrap_or_default(),
            additional_properties: k.additional_properties.take(),
            min_properties: k.min_properties,
            max_properties: k.max_properties,
        }))
    } else if typ == Some("array") && k.only(ARRAY) {
        SchemaKind::Type(Type::Array(ArrayType {
            items: k.items.take(),
            min_items: k.min_items,
            max_items: k.max_items,
            unique_items: k.unique_items.unwrap_or_default(),
        }))
    } else if k.one_of.is_some() && k.only(&["oneOf"]) {
        SchemaKind::OneOf {
            one_of: k.one_of.take().unwrap_or_default(),
        }
    } else if k.all_of.is_some() && k.only(&["allOf"]) {
        SchemaKind::AllOf {
            all_of: k.all_of.take().unwrap_or_default(),
        }
    } else if k.any_of.is_some() && k.only(&["anyOf"]) {
        SchemaKind::AnyOf {
            any_of: k.any_of.take().unwrap_or_default(),
        }
    } else if k.not.is_some() && k.only(&["not"]) {
        SchemaKind::Not { not: k.not.take()? }
    } else {
        any_kind(k)
    };
    Some(kind)
}

fn any_kind(k: Keywords) -> SchemaKind {
    SchemaKind::Any(AnySchema {
        typ: k.typ,
        pattern: k.pattern,
        multiple_of: k.multiple_of.as_ref().and_then(Number::as_f64),
        exclusive_minimum: k.exclusive_minimum,
        exclusive_maximum: k.exclusive_maximum,
        minimum: k.minimum.as_ref().and_then(Number::as_f64),
        maximum: k.maximum.as_ref().and_then(Number::as_f64),
        properties: k.properties.unwrap_or_default(),
        required: k.required.unwrap_or_default(),
        additional_properties: k.additional_properties,
        min_properties: k.min_properties,
        max_properties: k.max_properties,
        items: k.items,
        min_items: k.min_items,
        max_items: k.max_items,
        unique_items: k.unique_items,
        enumeration: k.enumeration.unwrap_or_default(),
        format: k.format,
        min_length: k.min_length,
        max_length: k.max_length,
        one_of: k.one_of.unwrap_or_default(),
        all_of: k.all_of.unwrap_or_default(),
        any_of: k.any_of.unwrap_or_default(),
        not: k.not,
    })
}

#[cfg(test)]
mod tests;
