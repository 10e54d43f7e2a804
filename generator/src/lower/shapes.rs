//! What a type looks like once aliases, options and boxes are seen through: enough for the entity
//! finder to tell a record from a page of records.

use crate::ir::{Connector, Field, Primitive, TypeKind, TypeRef};

/// The outline of a type.
pub(crate) enum Shape {
    /// An object with these fields.
    Object(Vec<Field>),
    /// An array of this element type.
    List(TypeRef),
    /// A string (or string enum).
    String,
    /// Anything else, by JSON type name.
    Other(&'static str),
}

impl Shape {
    /// The JSON type name.
    pub(crate) fn json_type(&self) -> &'static str {
        match self {
            Shape::Object(_) => "object",
            Shape::List(_) => "array",
            Shape::String => "string",
            Shape::Other(name) => name,
        }
    }
}

/// The shape of `ty`.
pub(crate) fn shape(connector: &Connector, ty: &TypeRef) -> Shape {
    let mut ty = ty;
    // Alias chains are finite (lowering breaks cycles), but a bound keeps this total anyway.
    for _ in 0..64 {
        match ty {
            TypeRef::Option(inner) | TypeRef::Boxed(inner) => ty = inner,
            TypeRef::List(inner) => return Shape::List((**inner).clone()),
            TypeRef::Tuple { .. } => return Shape::List(TypeRef::Json),
            TypeRef::Map(_) => return Shape::Other("object"),
            TypeRef::Json => return Shape::Other("any"),
            TypeRef::Primitive(p) => return primitive(*p),
            TypeRef::Named(id) => match connector.types.get(id).map(|d| &d.kind) {
                Some(TypeKind::Struct { fields, .. }) => return Shape::Object(fields.clone()),
                Some(TypeKind::Alias { target }) => ty = target,
                Some(TypeKind::Enum { .. }) => return Shape::String,
                Some(TypeKind::IntEnum { .. }) => return Shape::Other("integer"),
                _ => return Shape::Other("any"),
            },
        }
    }
    Shape::Other("any")
}

/// Whether `ty` admits null.
pub(crate) fn is_nullable(ty: &TypeRef) -> bool {
    matches!(ty, TypeRef::Option(_))
}

fn primitive(p: Primitive) -> Shape {
    match p {
        Primitive::String => Shape::String,
        Primitive::Bool => Shape::Other("boolean"),
        Primitive::I32 | Primitive::I64 | Primitive::U32 | Primitive::U64 => {
            Shape::Other("integer")
        }
        Primitive::F32 | Primitive::F64 => Shape::Other("number"),
    }
}
