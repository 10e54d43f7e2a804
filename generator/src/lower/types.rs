//! Schemas become type expressions and named types: the dispatcher, primitives, arrays and enums.
//! Objects and `allOf` live in `objects`, `oneOf`/`anyOf` in `unions`.

use openapiv3::{
    IntegerFormat, NumberFormat, ReferenceOr, Schema, SchemaKind, Type, VariantOrUnknownOrEmpty,
};

use super::naming::{self, Namespace};
use super::objects::{self, ObjectParts};
use super::unions;
use super::Lowerer;
use crate::diagnostics::pointer;
use crate::ir::{Primitive, TypeDef, TypeId, TypeKind, TypeRef, Variant};
use crate::load::openapi31::TUPLE;

/// A schema as found in the model: a reference or an inline schema.
pub(crate) enum SchemaRef<'s> {
    Ref(&'s str),
    Inline(&'s Schema),
}

impl<'s> From<&'s ReferenceOr<Schema>> for SchemaRef<'s> {
    fn from(value: &'s ReferenceOr<Schema>) -> Self {
        match value {
            ReferenceOr::Reference { reference } => SchemaRef::Ref(reference),
            ReferenceOr::Item(schema) => SchemaRef::Inline(schema),
        }
    }
}

impl<'s> From<&'s ReferenceOr<Box<Schema>>> for SchemaRef<'s> {
    fn from(value: &'s ReferenceOr<Box<Schema>>) -> Self {
        match value {
            ReferenceOr::Reference { reference } => SchemaRef::Ref(reference),
            ReferenceOr::Item(schema) => SchemaRef::Inline(schema),
        }
    }
}

/// Lowers the schema registered at `at` into the named type `id`.
pub(crate) fn lower_named(lw: &mut Lowerer<'_, '_>, id: TypeId, at: &str) {
    let name = lw.type_rust_name(id);
    // A component that is itself a `$ref` names the schema its chain ends at; following the
    // chain reports a cycle (`A: {$ref: A}`) instead of reading the reference as an empty schema.
    if let Some(reference) = lw.spec.get(at).and_then(crate::resolve::ref_of) {
        let target = lower_reference(lw, reference, at);
        define(lw, id, name, at, None, TypeKind::Alias { target });
        return;
    }
    let parsed = lw
        .spec
        .get(at)
        .ok_or_else(|| format!("`$ref` target {at:?} does not exist"))
        .and_then(|value| {
            lw.spec
                .parse_quick::<Schema>(value, at)
                .map_err(|d| d.message)
        });
    let schema = match parsed {
        Ok(schema) => schema,
        Err(message) => {
            lw.diags.warn(
                at,
                format!("{message}; generated `serde_json::Value` for `{name}`"),
            );
            define(
                lw,
                id,
                name,
                at,
                None,
                TypeKind::Alias {
                    target: TypeRef::Json,
                },
            );
            return;
        }
    };
    let result = lower_inline(lw, &schema, at, &name, Some(id));
    if schema.schema_data.nullable && lw.types.contains_key(&id) {
        // The struct or enum took the id; every reference to it must allow null.
        lw.nullable_types.insert(id);
    }
    // A struct or enum already took the id; otherwise the schema is another name for `result`.
    lw.types.entry(id).or_insert_with(|| TypeDef {
        rust_name: name,
        docs: docs_of(&schema),
        pointer: at.to_owned(),
        deprecated: schema.schema_data.deprecated,
        kind: TypeKind::Alias { target: result },
        facts: super::facts::of(&schema),
    });
}

/// Lowers a schema reference or inline schema found at `at`; `hint` names any new inline type.
pub(crate) fn lower_schema(
    lw: &mut Lowerer<'_, '_>,
    schema: SchemaRef<'_>,
    at: &str,
    hint: &str,
) -> TypeRef {
    match schema {
        SchemaRef::Ref(reference) => lower_reference(lw, reference, at),
        SchemaRef::Inline(schema) => lower_inline(lw, schema, at, hint, None),
    }
}

/// The named type a `$ref` points to (following chains), or `Value` with a warning.
pub(crate) fn lower_reference(lw: &mut Lowerer<'_, '_>, reference: &str, at: &str) -> TypeRef {
    match resolve_reference(lw, reference, at) {
        Some(final_pointer) => TypeRef::Named(lw.named_schema(&final_pointer)),
        None => TypeRef::Json,
    }
}

/// The pointer of the schema a `$ref` ends at, or `None` after a warning.
pub(crate) fn resolve_reference(
    lw: &mut Lowerer<'_, '_>,
    reference: &str,
    at: &str,
) -> Option<String> {
    let spec = lw.spec;
    let target = spec
        .lookup(reference, at)
        .and_then(|value| spec.follow(value, reference));
    match target {
        Ok((_, final_pointer)) => Some(final_pointer),
        Err(diag) => {
            lw.diags
                .fragment_failed(diag, "generated `serde_json::Value`");
            None
        }
    }
}

/// Lowers an inline schema. When it needs a named type (struct, enum, union), that type gets the
/// id `target` if given, else a new id named after `hint`.
pub(crate) fn lower_inline(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    at: &str,
    hint: &str,
    target: Option<TypeId>,
) -> TypeRef {
    if let Some(tuple) = schema.schema_data.extensions.get(TUPLE) {
        let ty = tuple_type(lw, schema, tuple, at, hint);
        return if schema.schema_data.nullable {
            optional(ty)
        } else {
            ty
        };
    }
    let base = match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => {
            let values: Vec<&str> = s.enumeration.iter().flatten().map(String::as_str).collect();
            if values.is_empty() {
                TypeRef::Primitive(Primitive::String)
            } else {
                string_enum(lw, schema, &values, at, hint, target)
            }
        }
        SchemaKind::Type(Type::Number(n)) => match n.format {
            VariantOrUnknownOrEmpty::Item(NumberFormat::Float) => {
                TypeRef::Primitive(Primitive::F32)
            }
            _ => TypeRef::Primitive(Primitive::F64),
        },
        SchemaKind::Type(Type::Integer(i)) => {
            let repr = integer(&i.format);
            let values: Vec<i64> = i.enumeration.iter().flatten().copied().collect();
            if values.is_empty() {
                TypeRef::Primitive(repr)
            } else {
                int_enum(lw, schema, repr, &values, at, hint, target)
            }
        }
        SchemaKind::Type(Type::Boolean(_)) => TypeRef::Primitive(Primitive::Bool),
        SchemaKind::Type(Type::Object(o)) => objects::object(
            lw,
            schema,
            ObjectParts::new(
                &o.properties,
                &o.required,
                o.additional_properties.as_ref(),
                at,
            ),
            hint,
            target,
        ),
        SchemaKind::Type(Type::Array(a)) => array(lw, a.items.as_ref(), at, hint),
        SchemaKind::AllOf { all_of } => objects::all_of(lw, schema, all_of, at, hint, target),
        SchemaKind::OneOf { one_of } => {
            unions::union(lw, schema, one_of, &pointer(at, "oneOf"), hint, target)
        }
        SchemaKind::AnyOf { any_of } => {
            unions::union(lw, schema, any_of, &pointer(at, "anyOf"), hint, target)
        }
        SchemaKind::Not { .. } => TypeRef::Json,
        SchemaKind::Any(any) => {
            if !any.all_of.is_empty() {
                objects::all_of(lw, schema, &any.all_of, at, hint, target)
            } else if !any.one_of.is_empty() {
                unions::union(lw, schema, &any.one_of, &pointer(at, "oneOf"), hint, target)
            } else if !any.any_of.is_empty() {
                unions::union(lw, schema, &any.any_of, &pointer(at, "anyOf"), hint, target)
            } else if !any.properties.is_empty() || any.typ.as_deref() == Some("object") {
                objects::object(
                    lw,
                    schema,
                    ObjectParts::new(
                        &any.properties,
                        &any.required,
                        any.additional_properties.as_ref(),
                        at,
                    ),
                    hint,
                    target,
                )
            } else if any.items.is_some() || any.typ.as_deref() == Some("array") {
                array(lw, any.items.as_ref(), at, hint)
            } else {
                match any.typ.as_deref() {
                    Some("string") => TypeRef::Primitive(Primitive::String),
                    Some("integer") => TypeRef::Primitive(Primitive::I64),
                    Some("number") => TypeRef::Primitive(Primitive::F64),
                    Some("boolean") => TypeRef::Primitive(Primitive::Bool),
                    _ => TypeRef::Json,
                }
            }
        }
    };
    if schema.schema_data.nullable {
        optional(base)
    } else {
        base
    }
}

/// The Rust integer for an OpenAPI integer format. Unknown formats (`int16`, `uint8`, ...) widen
/// to `i64`, which holds every value they can carry except `u64` beyond `i64::MAX`.
fn integer(format: &VariantOrUnknownOrEmpty<IntegerFormat>) -> Primitive {
    match format {
        VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => Primitive::I32,
        VariantOrUnknownOrEmpty::Unknown(f) if f == "uint32" => Primitive::U32,
        VariantOrUnknownOrEmpty::Unknown(f) if f == "uint64" => Primitive::U64,
        _ => Primitive::I64,
    }
}

/// The OpenAPI format an integer primitive stands for, for messages.
fn repr_name(repr: Primitive) -> &'static str {
    match repr {
        Primitive::I32 => "int32",
        Primitive::U32 => "uint32",
        Primitive::U64 => "uint64",
        _ => "int64",
    }
}

/// Wraps in `Option` unless already optional.
pub(crate) fn optional(ty: TypeRef) -> TypeRef {
    match ty {
        TypeRef::Option(_) => ty,
        other => TypeRef::Option(Box::new(other)),
    }
}

fn array(
    lw: &mut Lowerer<'_, '_>,
    items: Option<&ReferenceOr<Box<Schema>>>,
    at: &str,
    hint: &str,
) -> TypeRef {
    let item = match items {
        Some(items) => lower_schema(
            lw,
            SchemaRef::from(items),
            &pointer(at, "items"),
            &format!("{hint}Item"),
        ),
        None => TypeRef::Json,
    };
    TypeRef::List(Box::new(item))
}

/// OpenAPI 3.1's `prefixItems` (carried as [`TUPLE`]): the first items' types, and the type
/// of the items after them (none when `items: false` closed the tuple).
fn tuple_type(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    tuple: &serde_json::Value,
    at: &str,
    hint: &str,
) -> TypeRef {
    let members_at = pointer(&pointer(at, TUPLE), "prefixItems");
    let mut items = Vec::new();
    let members = tuple
        .get("prefixItems")
        .and_then(serde_json::Value::as_array);
    for (index, member) in members.into_iter().flatten().enumerate() {
        let member_at = pointer(&members_at, &index.to_string());
        let ty = match lw
            .spec
            .parse_quick::<ReferenceOr<Schema>>(member, &member_at)
        {
            Ok(parsed) => lower_schema(
                lw,
                SchemaRef::from(&parsed),
                &member_at,
                &format!("{hint}Item{}", index + 1),
            ),
            Err(diag) => {
                lw.diags.fragment_failed(diag, "the item is any JSON value");
                TypeRef::Json
            }
        };
        items.push(ty);
    }
    let closed = tuple.get("closed") == Some(&serde_json::Value::Bool(true));
    let rest_schema = match &schema.schema_kind {
        SchemaKind::Type(Type::Array(a)) => a.items.as_ref(),
        SchemaKind::Any(any) => any.items.as_ref(),
        _ => None,
    };
    let rest = match (closed, rest_schema) {
        (true, _) => None,
        (false, Some(rest)) => Some(Box::new(lower_schema(
            lw,
            SchemaRef::from(rest),
            &pointer(at, "items"),
            &format!("{hint}Item"),
        ))),
        (false, None) => Some(Box::new(TypeRef::Json)),
    };
    TypeRef::Tuple { items, rest }
}

fn string_enum(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    values: &[&str],
    at: &str,
    hint: &str,
    target: Option<TypeId>,
) -> TypeRef {
    // Azure's `x-ms-enum` names an inline enum and its values.
    let ms_enum = schema.schema_data.extensions.get("x-ms-enum");
    let ms_name = ms_enum
        .and_then(|e| e.get("name"))
        .and_then(serde_json::Value::as_str)
        .filter(|n| !n.trim().is_empty());
    let (id, name) = claim(lw, ms_name.unwrap_or(hint), target);
    let ms_values = ms_enum
        .and_then(|e| e.get("values"))
        .and_then(serde_json::Value::as_array);
    let value_name = |value: &str| {
        ms_values?
            .iter()
            .find(|v| v.get("value").and_then(serde_json::Value::as_str) == Some(value))?
            .get("name")?
            .as_str()
            .filter(|n| !n.trim().is_empty())
    };
    // `Other` holds values a newer server may send.
    let mut names = Namespace::with_reserved(&["Other"]);
    let mut variants: Vec<Variant> = Vec::with_capacity(values.len());
    for value in values {
        if variants.iter().any(|v| v.wire_value == *value) {
            continue;
        }
        variants.push(Variant {
            rust_name: names.claim(naming::variant_name(value_name(value).unwrap_or(value))),
            wire_value: (*value).to_owned(),
        });
    }
    define(lw, id, name, at, Some(schema), TypeKind::Enum { variants });
    TypeRef::Named(id)
}

fn int_enum(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    repr: Primitive,
    values: &[i64],
    at: &str,
    hint: &str,
    target: Option<TypeId>,
) -> TypeRef {
    let fits = |v: &i64| match repr {
        Primitive::I32 => i32::try_from(*v).is_ok(),
        Primitive::U32 => u32::try_from(*v).is_ok(),
        Primitive::U64 => u64::try_from(*v).is_ok(),
        _ => true,
    };
    let repr = match values.iter().find(|v| !fits(v)) {
        Some(outside) => {
            lw.diags.warn(
                pointer(at, "enum"),
                format!("enum value {outside} does not fit the declared format (`{}`); the values are held as `i64`", repr_name(repr)),
            );
            Primitive::I64
        }
        None => repr,
    };
    let (id, name) = claim(lw, hint, target);
    let mut names = Namespace::default();
    let mut constants: Vec<(String, i64)> = Vec::new();
    for value in values {
        if constants.iter().any(|(_, v)| v == value) {
            continue;
        }
        let label = if *value < 0 {
            format!("minus {}", value.unsigned_abs())
        } else {
            value.to_string()
        };
        let constant = format!("V_{}", naming::const_name(&label).trim_start_matches('_'));
        constants.push((names.claim(constant), *value));
    }
    define(
        lw,
        id,
        name,
        at,
        Some(schema),
        TypeKind::IntEnum {
            repr,
            values: constants,
        },
    );
    TypeRef::Named(id)
}

/// The id and name for a new named type: `target` when lowering a referenced schema, else new.
pub(crate) fn claim(
    lw: &mut Lowerer<'_, '_>,
    hint: &str,
    target: Option<TypeId>,
) -> (TypeId, String) {
    match target {
        Some(id) => (id, lw.type_rust_name(id)),
        None => lw.new_type_id(hint),
    }
}

/// Records a named type.
pub(crate) fn define(
    lw: &mut Lowerer<'_, '_>,
    id: TypeId,
    rust_name: String,
    at: &str,
    schema: Option<&Schema>,
    kind: TypeKind,
) {
    lw.types.insert(
        id,
        TypeDef {
            rust_name,
            docs: schema.and_then(docs_of),
            pointer: at.to_owned(),
            deprecated: schema.is_some_and(|s| s.schema_data.deprecated),
            kind,
            facts: schema.map(super::facts::of).unwrap_or_default(),
        },
    );
}

/// Title and description joined as one doc text.
pub(crate) fn docs_of(schema: &Schema) -> Option<String> {
    join_docs(
        schema.schema_data.title.as_deref(),
        schema.schema_data.description.as_deref(),
    )
}

/// Joins a short and a long text into one doc text, skipping empty and repeated parts.
pub fn join_docs(short: Option<&str>, long: Option<&str>) -> Option<String> {
    let short = short.map(str::trim).filter(|s| !s.is_empty());
    let long = long.map(str::trim).filter(|s| !s.is_empty());
    match (short, long) {
        (Some(s), Some(l)) if s == l => Some(s.to_owned()),
        (Some(s), Some(l)) => Some(format!("{s}\n\n{l}")),
        (Some(s), None) | (None, Some(s)) => Some(s.to_owned()),
        (None, None) => None,
    }
}
