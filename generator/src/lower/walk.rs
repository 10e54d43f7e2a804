//! Walks over the type expressions of the IR, shared by the passes that follow references.

use crate::ir::{ErrorBody, Operation, Success, TypeId, TypeKind, TypeRef, Webhook};

/// Calls `f` on each named type a type expression mentions.
pub(crate) fn each_named(ty: &TypeRef, f: &mut dyn FnMut(TypeId)) {
    match ty {
        TypeRef::Named(id) => f(*id),
        TypeRef::List(inner)
        | TypeRef::Map(inner)
        | TypeRef::Option(inner)
        | TypeRef::Boxed(inner) => each_named(inner, f),
        TypeRef::Tuple { items, rest } => {
            items
                .iter()
                .chain(rest.as_deref())
                .for_each(|t| each_named(t, f));
        }
        TypeRef::Primitive(_) | TypeRef::Json => {}
    }
}

/// Calls `f` on each named type a type expression mentions, to change it.
pub(crate) fn each_named_mut(ty: &mut TypeRef, f: &mut dyn FnMut(&mut TypeId)) {
    match ty {
        TypeRef::Named(id) => f(id),
        TypeRef::List(inner)
        | TypeRef::Map(inner)
        | TypeRef::Option(inner)
        | TypeRef::Boxed(inner) => each_named_mut(inner, f),
        TypeRef::Tuple { items, rest } => {
            for item in items.iter_mut().chain(rest.as_deref_mut()) {
                each_named_mut(item, f);
            }
        }
        TypeRef::Primitive(_) | TypeRef::Json => {}
    }
}

/// Calls `f` on each type expression of a type's definition.
pub(crate) fn each_ref(kind: &TypeKind, f: &mut dyn FnMut(&TypeRef)) {
    match kind {
        TypeKind::Struct { fields, additional } => {
            fields.iter().for_each(|field| f(&field.ty));
            if let Some((_, ty)) = additional {
                f(ty);
            }
        }
        TypeKind::Options { fields } => fields.iter().for_each(|field| f(&field.ty)),
        TypeKind::Union { variants, .. } => variants.iter().for_each(|v| f(&v.ty)),
        TypeKind::Responses { variants } => {
            for variant in variants {
                if let Success::Json(ty) = &variant.body {
                    f(ty);
                }
            }
        }
        TypeKind::Alias { target } => f(target),
        TypeKind::Enum { .. } | TypeKind::IntEnum { .. } => {}
    }
}

/// Calls `f` on each type expression of a type's definition, to change it.
pub(crate) fn each_ref_mut(kind: &mut TypeKind, f: &mut dyn FnMut(&mut TypeRef)) {
    match kind {
        TypeKind::Struct { fields, additional } => {
            fields.iter_mut().for_each(|field| f(&mut field.ty));
            if let Some((_, ty)) = additional {
                f(ty);
            }
        }
        TypeKind::Options { fields } => fields.iter_mut().for_each(|field| f(&mut field.ty)),
        TypeKind::Union { variants, .. } => variants.iter_mut().for_each(|v| f(&mut v.ty)),
        TypeKind::Responses { variants } => {
            for variant in variants {
                if let Success::Json(ty) = &mut variant.body {
                    f(ty);
                }
            }
        }
        TypeKind::Alias { target } => f(target),
        TypeKind::Enum { .. } | TypeKind::IntEnum { .. } => {}
    }
}

/// Calls `f` on each type expression of an operation (parameters, body, responses).
pub(crate) fn each_operation_ref(op: &Operation, f: &mut dyn FnMut(&TypeRef)) {
    op.params.iter().for_each(|p| f(&p.ty));
    if let Some(body) = &op.body {
        f(&body.ty);
    }
    if let Success::Json(ty) = &op.success {
        f(ty);
    }
    op.responses
        .iter()
        .filter_map(|r| r.ty.as_ref())
        .for_each(&mut *f);
    for variant in op.errors.iter().flat_map(|e| &e.variants) {
        if let ErrorBody::Json(ty) = &variant.body {
            f(ty);
        }
    }
}

/// Calls `f` on each type expression of an operation, to change it.
pub(crate) fn each_operation_ref_mut(op: &mut Operation, f: &mut dyn FnMut(&mut TypeRef)) {
    op.params.iter_mut().for_each(|p| f(&mut p.ty));
    if let Some(body) = &mut op.body {
        f(&mut body.ty);
    }
    if let Success::Json(ty) = &mut op.success {
        f(ty);
    }
    op.responses
        .iter_mut()
        .filter_map(|r| r.ty.as_mut())
        .for_each(&mut *f);
    for variant in op.errors.iter_mut().flat_map(|e| &mut e.variants) {
        if let ErrorBody::Json(ty) = &mut variant.body {
            f(ty);
        }
    }
}

/// Calls `f` on each type expression of a webhook (payload and headers).
pub(crate) fn each_webhook_ref(webhook: &Webhook, f: &mut dyn FnMut(&TypeRef)) {
    if let Some(payload) = &webhook.payload {
        f(&payload.ty);
    }
    webhook.headers.iter().for_each(|h| f(&h.ty));
}

/// Calls `f` on each type expression of a webhook, to change it.
pub(crate) fn each_webhook_ref_mut(webhook: &mut Webhook, f: &mut dyn FnMut(&mut TypeRef)) {
    if let Some(payload) = &mut webhook.payload {
        f(&mut payload.ty);
    }
    webhook.headers.iter_mut().for_each(|h| f(&mut h.ty));
}
