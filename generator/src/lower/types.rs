//! Schemas become type expressions and named types.

use openapiv3::{
    AdditionalProperties, IntegerFormat, NumberFormat, ReferenceOr, Schema, SchemaKind, Type,
    VariantOrUnknownOrEmpty,
};

use super::naming::{self, Namespace};
use super::Lowerer;
use crate::diagnostics::pointer;
use crate::ir::{Field, Primitive, TypeDef, TypeId, TypeKind, TypeRef, Variant};

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
    let parsed = lw
        .spec
        .get(at)
        .ok_or_else(|| format!("`$ref` target {at:?} does not exist"))
        .and_then(|value| lw.spec.parse::<Schema>(value, at).map_err(|d| d.message));
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
    // A struct or enum already took the id; otherwise the schema is another name for `result`.
    lw.types.entry(id).or_insert_with(|| TypeDef {
        rust_name: name,
        docs: docs_of(&schema),
        pointer: at.to_owned(),
        deprecated: schema.schema_data.deprecated,
        kind: TypeKind::Alias { target: result },
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

fn lower_reference(lw: &mut Lowerer<'_, '_>, reference: &str, at: &str) -> TypeRef {
    let spec = lw.spec;
    let target = spec
        .lookup(reference, at)
        .and_then(|value| spec.follow(value, reference));
    match target {
        Ok((_, final_pointer)) => TypeRef::Named(lw.named_schema(&final_pointer)),
        Err(diag) => {
            lw.diags.warn(
                diag.pointer,
                format!("{}; generated `serde_json::Value`", diag.message),
            );
            TypeRef::Json
        }
    }
}

/// Lowers an inline schema. When it needs a named type (struct or enum), that type gets the id
/// `target` if given, else a new id named after `hint`.
fn lower_inline(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    at: &str,
    hint: &str,
    target: Option<TypeId>,
) -> TypeRef {
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
        SchemaKind::Type(Type::Integer(i)) => match i.format {
            VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => {
                TypeRef::Primitive(Primitive::I32)
            }
            _ => TypeRef::Primitive(Primitive::I64),
        },
        SchemaKind::Type(Type::Boolean(_)) => TypeRef::Primitive(Primitive::Bool),
        SchemaKind::Type(Type::Object(o)) => object(
            lw,
            schema,
            ObjectParts {
                properties: &o.properties,
                required: &o.required,
                additional: o.additional_properties.as_ref(),
            },
            at,
            hint,
            target,
        ),
        SchemaKind::Type(Type::Array(a)) => array(lw, a.items.as_ref(), at, hint),
        SchemaKind::AllOf { all_of } if all_of.len() == 1 => lower_schema(
            lw,
            SchemaRef::from(&all_of[0]),
            &pointer(&pointer(at, "allOf"), "0"),
            hint,
        ),
        SchemaKind::AllOf { .. } => unsupported(lw, at, "`allOf` with several schemas"),
        SchemaKind::OneOf { .. } => unsupported(lw, at, "`oneOf`"),
        SchemaKind::AnyOf { .. } => unsupported(lw, at, "`anyOf`"),
        SchemaKind::Not { .. } => TypeRef::Json,
        SchemaKind::Any(any) => {
            if !any.properties.is_empty() {
                object(
                    lw,
                    schema,
                    ObjectParts {
                        properties: &any.properties,
                        required: &any.required,
                        additional: any.additional_properties.as_ref(),
                    },
                    at,
                    hint,
                    target,
                )
            } else if any.items.is_some() {
                array(lw, any.items.as_ref(), at, hint)
            } else {
                TypeRef::Json
            }
        }
    };
    if schema.schema_data.nullable {
        optional(base)
    } else {
        base
    }
}

fn unsupported(lw: &mut Lowerer<'_, '_>, at: &str, what: &str) -> TypeRef {
    lw.diags.warn(
        at,
        format!("{what} is not supported yet; generated `serde_json::Value`"),
    );
    TypeRef::Json
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

struct ObjectParts<'s> {
    properties: &'s indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>,
    required: &'s [String],
    additional: Option<&'s AdditionalProperties>,
}

fn object(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    parts: ObjectParts<'_>,
    at: &str,
    hint: &str,
    target: Option<TypeId>,
) -> TypeRef {
    if parts.properties.is_empty() {
        let value = match parts.additional {
            Some(AdditionalProperties::Schema(inner)) => lower_schema(
                lw,
                SchemaRef::from(inner.as_ref()),
                &pointer(at, "additionalProperties"),
                &format!("{hint}Value"),
            ),
            _ => TypeRef::Json,
        };
        return TypeRef::Map(Box::new(value));
    }
    let (id, name) = claim(lw, hint, target);
    let mut field_names = Namespace::default();
    let mut fields = Vec::with_capacity(parts.properties.len());
    let properties_at = pointer(at, "properties");
    for (wire_name, property) in parts.properties {
        let property_at = pointer(&properties_at, wire_name);
        let rust_name = field_names.claim(naming::snake_name(wire_name, "field"));
        let hint = format!("{name}{}", naming::type_name(wire_name));
        let ty = lower_schema(lw, SchemaRef::from(property), &property_at, &hint);
        let optional_field = !parts.required.iter().any(|r| r == wire_name);
        let (docs, deprecated) = match property {
            ReferenceOr::Item(inline) => (docs_of(inline), inline.schema_data.deprecated),
            ReferenceOr::Reference { .. } => (None, false),
        };
        fields.push(Field {
            needs_rename: naming::unraw(&rust_name) != wire_name,
            wire_name: wire_name.clone(),
            rust_name,
            ty: if optional_field { optional(ty) } else { ty },
            optional: optional_field,
            docs,
            deprecated,
        });
    }
    define(lw, id, name, at, Some(schema), TypeKind::Struct { fields });
    TypeRef::Named(id)
}

fn string_enum(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    values: &[&str],
    at: &str,
    hint: &str,
    target: Option<TypeId>,
) -> TypeRef {
    let (id, name) = claim(lw, hint, target);
    let mut names = Namespace::default();
    let mut variants: Vec<Variant> = Vec::with_capacity(values.len());
    for value in values {
        if variants.iter().any(|v| v.wire_value == *value) {
            continue;
        }
        variants.push(Variant {
            rust_name: names.claim(naming::variant_name(value)),
            wire_value: (*value).to_owned(),
        });
    }
    define(lw, id, name, at, Some(schema), TypeKind::Enum { variants });
    TypeRef::Named(id)
}

fn claim(lw: &mut Lowerer<'_, '_>, hint: &str, target: Option<TypeId>) -> (TypeId, String) {
    match target {
        Some(id) => (id, lw.type_rust_name(id)),
        None => lw.new_type_id(hint),
    }
}

fn define(
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
