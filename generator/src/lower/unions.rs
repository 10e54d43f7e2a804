//! `oneOf` and `anyOf` become enums with one variant per alternative.
//!
//! With a `discriminator` whose alternatives are all references, the enum is selected by the tag
//! property (the mapping's values, or the schema names when there is no mapping). Without one it
//! is untagged, and the finishing pass orders variants so the most specific is tried first. Both
//! keep an `Other(serde_json::Value)` variant so a response a newer server shapes differently
//! still decodes.

use openapiv3::{ReferenceOr, Schema, SchemaKind};

use super::naming::{self, Namespace};
use super::types::{claim, define, lower_schema, optional, resolve_reference, SchemaRef};
use super::Lowerer;
use crate::diagnostics::pointer;
use crate::ir::{Primitive, TypeKind, TypeRef, UnionVariant};

/// Lowers `oneOf`/`anyOf` members found at `at` (the pointer of the list).
pub(crate) fn union(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    members: &[ReferenceOr<Schema>],
    at: &str,
    hint: &str,
    target: Option<crate::ir::TypeId>,
) -> TypeRef {
    let non_null: Vec<(usize, &ReferenceOr<Schema>)> = members
        .iter()
        .enumerate()
        .filter(|(_, m)| !is_null(m))
        .collect();
    let mut nullable = non_null.len() < members.len();
    if non_null.len() == 1 {
        let (index, member) = non_null[0];
        let ty = lower_schema(
            lw,
            SchemaRef::from(member),
            &pointer(at, &index.to_string()),
            hint,
        );
        return if nullable { optional(ty) } else { ty };
    }
    if non_null.is_empty() {
        return TypeRef::Json;
    }
    let (id, name) = claim(lw, hint, target);
    let mut names = Namespace::with_reserved(&["Other"]);
    let mut variants: Vec<UnionVariant> = Vec::new();
    let mut member_pointers: Vec<Option<String>> = Vec::new();
    for (index, member) in non_null {
        let member_at = pointer(at, &index.to_string());
        let (ty, final_pointer) = match member {
            ReferenceOr::Reference { reference } => {
                match resolve_reference(lw, reference, &member_at) {
                    Some(target_pointer) => (
                        TypeRef::Named(lw.named_schema(&target_pointer)),
                        Some(target_pointer),
                    ),
                    None => (TypeRef::Json, None),
                }
            }
            ReferenceOr::Item(_) => (
                lower_schema(
                    lw,
                    SchemaRef::from(member),
                    &member_at,
                    &format!("{name}Variant{}", index + 1),
                ),
                None,
            ),
        };
        let ty = match ty {
            TypeRef::Option(inner) => {
                nullable = true;
                *inner
            }
            other => other,
        };
        let label = match &final_pointer {
            Some(p) => naming::type_name(&last_segment(p)),
            None => variant_label(lw, &ty, &name, index),
        };
        variants.push(UnionVariant {
            rust_name: names.claim(naming::variant_name(&label)),
            ty,
            tags: Vec::new(),
            facts: super::facts::of_ref(member),
        });
        member_pointers.push(final_pointer);
    }
    let discriminator = discriminator(lw, schema, &mut variants, &member_pointers, at);
    define(
        lw,
        id,
        name,
        at.rsplit_once('/').map_or(at, |(base, _)| base),
        Some(schema),
        TypeKind::Union {
            variants,
            discriminator,
            one_of: at.ends_with("/oneOf"),
        },
    );
    if nullable {
        optional(TypeRef::Named(id))
    } else {
        TypeRef::Named(id)
    }
}

/// A member that only admits `null` (`type: "null"`, or `nullable` with nothing else).
fn is_null(member: &ReferenceOr<Schema>) -> bool {
    let ReferenceOr::Item(schema) = member else {
        return false;
    };
    match &schema.schema_kind {
        SchemaKind::Any(any) => {
            any.typ.as_deref() == Some("null")
                || (schema.schema_data.nullable && *any == openapiv3::AnySchema::default())
                || (any.enumeration.len() == 1 && any.enumeration[0].is_null())
        }
        _ => false,
    }
}

fn last_segment(pointer: &str) -> String {
    pointer
        .rsplit('/')
        .next()
        .unwrap_or("Variant")
        .replace("~1", "/")
        .replace("~0", "~")
}

/// A variant name for an inline alternative, from what it holds.
fn variant_label(lw: &Lowerer<'_, '_>, ty: &TypeRef, parent: &str, index: usize) -> String {
    match ty {
        TypeRef::Named(id) => {
            let name = lw.type_rust_name(*id);
            let trimmed = name.strip_prefix(parent).unwrap_or(&name);
            if trimmed.is_empty() {
                format!("Variant{}", index + 1)
            } else {
                trimmed.to_owned()
            }
        }
        TypeRef::Primitive(Primitive::String) => "String".to_owned(),
        TypeRef::Primitive(Primitive::Bool) => "Bool".to_owned(),
        TypeRef::Primitive(Primitive::F32 | Primitive::F64) => "Number".to_owned(),
        TypeRef::Primitive(_) => "Integer".to_owned(),
        TypeRef::List(_) | TypeRef::Tuple { .. } => "List".to_owned(),
        TypeRef::Map(_) => "Map".to_owned(),
        TypeRef::Json | TypeRef::Option(_) | TypeRef::Boxed(_) => format!("Variant{}", index + 1),
    }
}

/// Fills each variant's tags from the discriminator and returns its property name, or `None`
/// (untagged) when there is no discriminator or an alternative cannot be tagged.
fn discriminator(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    variants: &mut [UnionVariant],
    member_pointers: &[Option<String>],
    at: &str,
) -> Option<String> {
    let discriminator = schema.schema_data.discriminator.as_ref()?;
    if member_pointers.iter().any(Option::is_none) {
        lw.diags.warn(
            at,
            "a discriminator needs every alternative to be a `$ref`; the enum is untagged instead",
        );
        return None;
    }
    // A tag selects one variant only: the first alternative that claims it.
    let mut used: Vec<String> = Vec::new();
    for (variant, member_pointer) in variants.iter_mut().zip(member_pointers) {
        let Some(member_pointer) = member_pointer else {
            continue;
        };
        let schema_name = last_segment(member_pointer);
        for (value, target) in &discriminator.mapping {
            if used.contains(value) {
                continue;
            }
            let names_member = target == member_pointer
                || target.rsplit('/').next() == Some(schema_name.as_str())
                || lw
                    .spec
                    .lookup(target, at)
                    .and_then(|v| lw.spec.follow(v, target))
                    .is_ok_and(|(_, p)| &p == member_pointer);
            if names_member {
                used.push(value.clone());
                variant.tags.push(value.clone());
            }
        }
        if variant.tags.is_empty() && !used.contains(&schema_name) {
            used.push(schema_name.clone());
            variant.tags.push(schema_name);
        }
    }
    Some(discriminator.property_name.clone())
}
