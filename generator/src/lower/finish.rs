//! Finishing passes that need every type lowered: nullability of referenced schemas, and the
//! order in which untagged unions try their variants.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{Presence, Primitive, TypeDef, TypeId, TypeKind, TypeRef};

/// Makes every reference to a nullable named schema (a struct, enum or union declared with
/// `nullable: true`) admit `null`, and updates field presence to match.
pub(crate) fn apply_nullable(types: &mut BTreeMap<TypeId, TypeDef>, nullable: &BTreeSet<TypeId>) {
    if nullable.is_empty() {
        return;
    }
    for def in types.values_mut() {
        match &mut def.kind {
            TypeKind::Struct { fields, additional } => {
                for field in fields.iter_mut() {
                    let was_nullable = matches!(
                        field.presence,
                        Presence::RequiredNullable | Presence::OptionalNullable
                    );
                    let inner = match (&mut field.ty, field.presence) {
                        (TypeRef::Option(inner), Presence::Optional) => inner.as_mut(),
                        (ty, _) => ty,
                    };
                    if !was_nullable && points_to_nullable(inner, nullable) {
                        let taken = std::mem::replace(inner, TypeRef::Json);
                        *inner = TypeRef::Option(Box::new(taken));
                        field.presence = match field.presence {
                            Presence::Required => Presence::RequiredNullable,
                            _ => Presence::OptionalNullable,
                        };
                    }
                    wrap_nested(inner, nullable);
                }
                if let Some((_, extra)) = additional {
                    wrap_nested(extra, nullable);
                }
            }
            TypeKind::Alias { target } => wrap_nested(target, nullable),
            _ => {}
        }
    }
}

fn points_to_nullable(ty: &TypeRef, nullable: &BTreeSet<TypeId>) -> bool {
    match ty {
        TypeRef::Named(id) => nullable.contains(id),
        TypeRef::Boxed(inner) => points_to_nullable(inner, nullable),
        _ => false,
    }
}

/// Wraps list items and map values that refer to nullable schemas.
fn wrap_nested(ty: &mut TypeRef, nullable: &BTreeSet<TypeId>) {
    match ty {
        TypeRef::List(inner) | TypeRef::Map(inner) => {
            if points_to_nullable(inner, nullable) {
                let taken = std::mem::replace(inner.as_mut(), TypeRef::Json);
                **inner = TypeRef::Option(Box::new(taken));
            } else {
                wrap_nested(inner, nullable);
            }
        }
        TypeRef::Option(inner) | TypeRef::Boxed(inner) => wrap_nested(inner, nullable),
        _ => {}
    }
}

/// Orders the variants of untagged unions so that serde, which takes the first variant that
/// deserialises, tries the most specific first: structs with more required fields before those
/// with fewer, then enums, lists, maps, booleans, integers, numbers, strings, and any value last.
pub(crate) fn order_untagged(types: &mut BTreeMap<TypeId, TypeDef>) {
    let keys: BTreeMap<TypeId, (u8, usize)> = types
        .iter()
        .map(|(id, def)| (*id, kind_rank(types, def, 0)))
        .collect();
    for def in types.values_mut() {
        if let TypeKind::Union {
            variants,
            discriminator: None,
            ..
        } = &mut def.kind
        {
            variants.sort_by_key(|v| rank(&v.ty, &keys));
        }
    }
}

fn kind_rank(types: &BTreeMap<TypeId, TypeDef>, def: &TypeDef, depth: usize) -> (u8, usize) {
    match &def.kind {
        TypeKind::Struct { fields, .. } => {
            let required = fields
                .iter()
                .filter(|f| matches!(f.presence, Presence::Required | Presence::RequiredNullable))
                .count();
            (0, usize::MAX - required)
        }
        TypeKind::Union { .. } => (1, 0),
        TypeKind::Enum { .. } => (2, 0),
        TypeKind::IntEnum { .. } => (6, 0),
        TypeKind::Options { .. } | TypeKind::Responses { .. } => (9, 0),
        TypeKind::Alias { target } => match target {
            TypeRef::Named(id) if depth < 16 => types
                .get(id)
                .map_or((10, 0), |d| kind_rank(types, d, depth + 1)),
            other => rank(other, &BTreeMap::new()),
        },
    }
}

fn rank(ty: &TypeRef, named: &BTreeMap<TypeId, (u8, usize)>) -> (u8, usize) {
    match ty {
        TypeRef::Named(id) => named.get(id).copied().unwrap_or((10, 0)),
        TypeRef::Boxed(inner) | TypeRef::Option(inner) => rank(inner, named),
        TypeRef::List(_) | TypeRef::Tuple { .. } => (3, 0),
        TypeRef::Map(_) => (4, 0),
        TypeRef::Primitive(Primitive::Bool) => (5, 0),
        TypeRef::Primitive(Primitive::I32 | Primitive::I64 | Primitive::U32 | Primitive::U64) => {
            (6, 0)
        }
        TypeRef::Primitive(Primitive::F32 | Primitive::F64) => (7, 0),
        TypeRef::Primitive(Primitive::String) => (8, 0),
        TypeRef::Json => (10, 0),
    }
}
