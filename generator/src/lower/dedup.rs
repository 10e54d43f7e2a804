//! Fewer types: inline schemas that are structurally identical become one type, and inline
//! aliases used once are replaced by what they name.
//!
//! Large specs repeat the same inline shapes many times (GitHub's spec has 923 copies of the
//! `read`/`write` permission enum and 295 of its webhook user object), and every copy is a type
//! the compiler derives serde code for. Two types are identical when serde treats them alike:
//! same kind, same field and variant names, same wire names, same types (after merging), same
//! schema facts, same deprecation. Docs and the annotations of their schema facts (title,
//! description, example) may differ; the merged type keeps those all its copies share.
//!
//! Component schemas are the spec's own names, each with its own meaning, and are left alone:
//! an inline shape identical to a component is not merged into it (GitHub's `read`/`write`
//! permission enums would all become `ActionsDefaultWorkflowPermissions`). Among inline copies,
//! the first one inside a component gives the merged type its name (`AppPermissionsActions`
//! reads better than `AppsListInstallationsResponseItemPermissionsActions`), else the first one
//! found; "first" is the lowest id, which follows the spec's order, so names are the same from
//! run to run.

use std::collections::BTreeMap;

use crate::hashing::FastMap;

use super::walk::{
    each_named, each_named_mut, each_operation_ref, each_operation_ref_mut, each_ref, each_ref_mut,
};
use super::walk::{each_webhook_ref, each_webhook_ref_mut};
use crate::ir::{Facts, Operation, TypeDef, TypeId, TypeKind, TypeRef, Webhook};

/// Merges the structurally identical types of `types` (see the module docs), updating every
/// reference in `types`, `operations` and `webhooks`.
pub(crate) fn merge_identical(
    types: &mut BTreeMap<TypeId, TypeDef>,
    operations: &mut [Operation],
    webhooks: &mut [Webhook],
) {
    let merged = identical(types);
    if merged.is_empty() {
        return;
    }
    for (id, into) in &merged {
        if let Some(copy) = types.remove(id) {
            if let Some(kept) = types.get_mut(into) {
                keep_common_annotations(kept, &copy);
            }
        }
    }
    rewrite(types, operations, &merged);
    for webhook in webhooks.iter_mut() {
        each_webhook_ref_mut(webhook, &mut |ty| {
            each_named_mut(ty, &mut |id| {
                if let Some(to) = merged.get(id) {
                    *id = *to;
                }
            });
        });
    }
}

/// Replaces each inline alias that is used exactly once by its target, and drops it.
pub(crate) fn collapse_wrappers(
    types: &mut BTreeMap<TypeId, TypeDef>,
    operations: &mut [Operation],
    webhooks: &mut [Webhook],
) {
    let mut uses: FastMap<TypeId, usize> = FastMap::default();
    let mut count = |ty: &TypeRef| each_named(ty, &mut |id| *uses.entry(id).or_default() += 1);
    for def in types.values() {
        each_ref(&def.kind, &mut count);
    }
    for op in operations.iter() {
        // The success type is also the type of its response: one use.
        let mut once = std::collections::BTreeSet::new();
        each_operation_ref(op, &mut |ty| {
            each_named(ty, &mut |id| {
                once.insert(id);
            })
        });
        for id in once {
            *uses.entry(id).or_default() += 1;
        }
    }
    for webhook in webhooks.iter() {
        each_webhook_ref(webhook, &mut |ty| {
            each_named(ty, &mut |id| *uses.entry(id).or_default() += 1)
        });
    }
    let wrappers: BTreeMap<TypeId, TypeRef> = types
        .iter()
        .filter(|(id, def)| !is_component(&def.pointer) && uses.get(id) == Some(&1))
        .filter_map(|(id, def)| match &def.kind {
            TypeKind::Alias { target } => Some((*id, target.clone())),
            _ => None,
        })
        .collect();
    if wrappers.is_empty() {
        return;
    }
    for def in types.values_mut() {
        each_ref_mut(&mut def.kind, &mut |ty| unwrap(ty, &wrappers, 0));
    }
    for op in operations.iter_mut() {
        each_operation_ref_mut(op, &mut |ty| unwrap(ty, &wrappers, 0));
    }
    for webhook in webhooks.iter_mut() {
        each_webhook_ref_mut(webhook, &mut |ty| unwrap(ty, &wrappers, 0));
    }
    types.retain(|id, _| !wrappers.contains_key(id));
}

/// Replaces a reference to a wrapper by the wrapper's target, itself unwrapped. The depth
/// bound stops a chain of aliases that comes back to itself.
fn unwrap(ty: &mut TypeRef, wrappers: &BTreeMap<TypeId, TypeRef>, depth: usize) {
    match ty {
        TypeRef::Named(id) if depth < 32 => {
            if let Some(target) = wrappers.get(id) {
                *ty = target.clone();
                unwrap(ty, wrappers, depth + 1);
            }
        }
        TypeRef::List(inner)
        | TypeRef::Map(inner)
        | TypeRef::Option(inner)
        | TypeRef::Boxed(inner) => unwrap(inner, wrappers, depth),
        TypeRef::Tuple { items, rest } => {
            for item in items.iter_mut().chain(rest.as_deref_mut()) {
                unwrap(item, wrappers, depth);
            }
        }
        TypeRef::Named(_) | TypeRef::Primitive(_) | TypeRef::Json => {}
    }
}

/// Whether `pointer` is a schema of `components.schemas` itself (not something inside one).
fn is_component(pointer: &str) -> bool {
    pointer
        .strip_prefix("#/components/schemas/")
        .is_some_and(|name| !name.contains('/'))
}

/// Which type each merged type becomes.
///
/// Classes start with every type on its own and are merged while the shapes of types, with
/// the types they mention replaced by their class, are equal; types in a cycle therefore stay
/// apart unless their whole cycles are alike, which keeps the pass simple and safe.
fn identical(types: &BTreeMap<TypeId, TypeDef>) -> BTreeMap<TypeId, TypeId> {
    // The copy that names the merged type comes first: one inside a component (named after the
    // component and its property) before one inside an operation (named after the operation).
    let mut order: Vec<(&TypeId, &TypeDef)> =
        types.iter().filter(|(_, def)| mergeable(def)).collect();
    order.sort_by_key(|(id, def)| (!def.pointer.starts_with("#/components/"), **id));
    let mut templates: FastMap<String, usize> = FastMap::default();
    let shapes: Vec<(TypeId, usize, Vec<TypeId>)> = order
        .into_iter()
        .map(|(id, def)| {
            let (template, refs) = shape(def);
            let next = templates.len();
            (*id, *templates.entry(template).or_insert(next), refs)
        })
        .collect();
    let mut class: FastMap<TypeId, TypeId> = FastMap::default();
    loop {
        let mut first: FastMap<(usize, Vec<TypeId>), TypeId> = FastMap::default();
        let mut changed = false;
        let mut next = FastMap::with_capacity_and_hasher(class.len(), Default::default());
        for (id, template, refs) in &shapes {
            let key = (
                *template,
                refs.iter()
                    .map(|r| class.get(r).copied().unwrap_or(*r))
                    .collect::<Vec<_>>(),
            );
            let rep = *first.entry(key).or_insert(*id);
            if rep != *id {
                next.insert(*id, rep);
            }
            changed |= class.get(id).copied().unwrap_or(*id) != rep;
        }
        class = next;
        if !changed {
            return class.into_iter().collect();
        }
    }
}

/// Inline schemas. Not components (see the module docs), nor options structs and status
/// enums, which belong to one operation and are named after it.
fn mergeable(def: &TypeDef) -> bool {
    !is_component(&def.pointer)
        && !matches!(
            def.kind,
            TypeKind::Options { .. } | TypeKind::Responses { .. }
        )
}

/// What serde sees of a type, as text, with the types it mentions left out (in the order they
/// appear, returned beside it) and docs and annotations removed.
fn shape(def: &TypeDef) -> (String, Vec<TypeId>) {
    let mut kind = def.kind.clone();
    let mut refs = Vec::new();
    each_ref_mut(&mut kind, &mut |ty| {
        each_named_mut(ty, &mut |id| {
            refs.push(*id);
            *id = TypeId(0);
        });
    });
    match &mut kind {
        TypeKind::Struct { fields, .. } | TypeKind::Options { fields } => {
            for field in fields {
                field.docs = None;
                strip_annotations(&mut field.facts);
            }
        }
        TypeKind::Union { variants, .. } => {
            for variant in variants {
                strip_annotations(&mut variant.facts);
            }
        }
        _ => {}
    }
    let mut facts = def.facts.clone();
    strip_annotations(&mut facts);
    // The IR's types serialise without fail (plain data, JSON values); an empty text would
    // only make the type unlike every other.
    let text = serde_json::to_string(&(&kind, &facts, def.deprecated)).unwrap_or_default();
    (text, refs)
}

fn strip_annotations(facts: &mut Facts) {
    facts.title = None;
    facts.description = None;
    facts.example = None;
    facts.examples.clear();
    for inner in [&mut facts.items, &mut facts.values].into_iter().flatten() {
        strip_annotations(inner);
    }
}

/// Clears the docs and annotations of `kept` that `copy` does not share.
fn keep_common_annotations(kept: &mut TypeDef, copy: &TypeDef) {
    if kept.docs != copy.docs {
        kept.docs = None;
    }
    common_facts(&mut kept.facts, &copy.facts);
    match (&mut kept.kind, &copy.kind) {
        (TypeKind::Struct { fields, .. }, TypeKind::Struct { fields: other, .. }) => {
            for (field, other) in fields.iter_mut().zip(other) {
                if field.docs != other.docs {
                    field.docs = None;
                }
                common_facts(&mut field.facts, &other.facts);
            }
        }
        (
            TypeKind::Union { variants, .. },
            TypeKind::Union {
                variants: other, ..
            },
        ) => {
            for (variant, other) in variants.iter_mut().zip(other) {
                common_facts(&mut variant.facts, &other.facts);
            }
        }
        _ => {}
    }
}

fn common_facts(kept: &mut Facts, other: &Facts) {
    if kept.title != other.title {
        kept.title = None;
    }
    if kept.description != other.description {
        kept.description = None;
    }
    if kept.example != other.example {
        kept.example = None;
    }
    if kept.examples != other.examples {
        kept.examples.clear();
    }
    if let (Some(kept), Some(other)) = (kept.items.as_deref_mut(), other.items.as_deref()) {
        common_facts(kept, other);
    }
    if let (Some(kept), Some(other)) = (kept.values.as_deref_mut(), other.values.as_deref()) {
        common_facts(kept, other);
    }
}

/// Points every reference to a merged type at the type it became.
fn rewrite(
    types: &mut BTreeMap<TypeId, TypeDef>,
    operations: &mut [Operation],
    merged: &BTreeMap<TypeId, TypeId>,
) {
    let mut redirect = |ty: &mut TypeRef| {
        each_named_mut(ty, &mut |id| {
            if let Some(to) = merged.get(id) {
                *id = *to;
            }
        });
    };
    for def in types.values_mut() {
        each_ref_mut(&mut def.kind, &mut redirect);
    }
    for op in operations.iter_mut() {
        each_operation_ref_mut(op, &mut redirect);
        if let Some(field) = op.body.as_mut().and_then(|b| b.content_type_field.as_mut()) {
            if let Some(to) = merged.get(&field.ty) {
                field.ty = *to;
            }
        }
    }
}
