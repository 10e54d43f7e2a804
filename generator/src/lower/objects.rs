//! Objects become structs; `allOf` merges its members' properties into one struct.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use openapiv3::{AdditionalProperties, ReferenceOr, Schema, SchemaKind, Type};

use super::naming::{self, Namespace};
use super::types::{claim, define, docs_of, lower_schema, optional, SchemaRef};
use super::Lowerer;
use crate::diagnostics::pointer;
use crate::ir::{Field, Presence, TypeKind, TypeRef};

/// How deep `allOf` inside `allOf` is followed before giving up.
const MAX_ALL_OF_DEPTH: usize = 32;

/// One declared property, with the pointer of its schema.
pub(crate) struct Property<'s> {
    name: &'s str,
    schema: &'s ReferenceOr<Box<Schema>>,
    at: String,
}

/// The parts of an object schema (or of several, merged by `allOf`).
pub(crate) struct ObjectParts<'s> {
    properties: Vec<Property<'s>>,
    required: Vec<&'s str>,
    additional: Option<(&'s AdditionalProperties, String)>,
}

impl<'s> ObjectParts<'s> {
    /// The parts of one object schema found at `at`.
    pub(crate) fn new(
        properties: &'s IndexMap<String, ReferenceOr<Box<Schema>>>,
        required: &'s [String],
        additional: Option<&'s AdditionalProperties>,
        at: &str,
    ) -> Self {
        let mut parts = ObjectParts {
            properties: Vec::new(),
            required: Vec::new(),
            additional: None,
        };
        parts.add(properties, required, additional, at);
        parts
    }

    fn add(
        &mut self,
        properties: &'s IndexMap<String, ReferenceOr<Box<Schema>>>,
        required: &'s [String],
        additional: Option<&'s AdditionalProperties>,
        at: &str,
    ) -> Vec<String> {
        let base = pointer(at, "properties");
        let mut conflicts = Vec::new();
        for (name, schema) in properties {
            if let Some(existing) = self.properties.iter().find(|p| p.name == name) {
                if existing.schema != schema {
                    conflicts.push(name.clone());
                }
                continue;
            }
            self.properties.push(Property {
                name,
                schema,
                at: pointer(&base, name),
            });
        }
        for name in required {
            if !self.required.contains(&name.as_str()) {
                self.required.push(name);
            }
        }
        if self.additional.is_none() {
            self.additional = additional.map(|a| (a, pointer(at, "additionalProperties")));
        }
        conflicts
    }
}

/// A struct for an object with properties; a map for one without.
pub(crate) fn object(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    parts: ObjectParts<'_>,
    hint: &str,
    target: Option<crate::ir::TypeId>,
) -> TypeRef {
    let additional = match &parts.additional {
        Some((AdditionalProperties::Schema(inner), at)) => Some(lower_schema(
            lw,
            SchemaRef::from(inner.as_ref()),
            at,
            &format!("{hint}Value"),
        )),
        Some((AdditionalProperties::Any(true), _)) => Some(TypeRef::Json),
        Some((AdditionalProperties::Any(false), _)) => None,
        None if parts.properties.is_empty() => Some(TypeRef::Json),
        None => None,
    };
    if parts.properties.is_empty() {
        return TypeRef::Map(Box::new(additional.unwrap_or(TypeRef::Json)));
    }
    let (id, name) = claim(lw, hint, target);
    let mut field_names = Namespace::default();
    let mut fields = Vec::with_capacity(parts.properties.len());
    for property in &parts.properties {
        let rust_name = field_names.claim(naming::snake_name(property.name, "field"));
        let hint = format!("{name}{}", naming::type_name(property.name));
        let lowered = lower_schema(lw, SchemaRef::from(property.schema), &property.at, &hint);
        let inline = match property.schema {
            ReferenceOr::Item(inline) => Some(inline.as_ref()),
            ReferenceOr::Reference { .. } => None,
        };
        let (read_only, write_only) = inline.map_or((false, false), |s| {
            (s.schema_data.read_only, s.schema_data.write_only)
        });
        // A read-only property is absent from requests and a write-only one from responses, so
        // both are optional in the one type used for both directions.
        let required = parts.required.contains(&property.name) && !read_only && !write_only;
        let (ty, presence) = presence(lowered, required);
        fields.push(Field {
            needs_rename: naming::unraw(&rust_name) != property.name,
            wire_name: property.name.to_owned(),
            rust_name,
            optional: !required,
            presence,
            ty,
            docs: inline.and_then(field_docs),
            deprecated: inline.is_some_and(|s| s.schema_data.deprecated),
            facts: super::facts::of_ref(property.schema),
        });
    }
    let additional =
        additional.map(|ty| (field_names.claim("additional_properties".to_owned()), ty));
    define(
        lw,
        id,
        name,
        &parts_pointer(&parts),
        Some(schema),
        TypeKind::Struct { fields, additional },
    );
    TypeRef::Named(id)
}

fn parts_pointer(parts: &ObjectParts<'_>) -> String {
    parts
        .properties
        .first()
        .map(|p| {
            p.at.rsplit_once("/properties/")
                .map_or(p.at.clone(), |(base, _)| base.to_owned())
        })
        .unwrap_or_default()
}

/// The field type and serde handling for a property: nullability comes from the lowered type
/// (`Option` when the schema is nullable), absence from `required`.
fn presence(lowered: TypeRef, required: bool) -> (TypeRef, Presence) {
    let nullable = matches!(lowered, TypeRef::Option(_));
    match (required, nullable) {
        (true, false) => (lowered, Presence::Required),
        (true, true) => (lowered, Presence::RequiredNullable),
        (false, false) => (optional(lowered), Presence::Optional),
        (false, true) => (
            TypeRef::Option(Box::new(lowered)),
            Presence::OptionalNullable,
        ),
    }
}

/// Field documentation: the schema's text plus what the type cannot say (read-only, default).
fn field_docs(schema: &Schema) -> Option<String> {
    let mut notes = Vec::new();
    if schema.schema_data.read_only {
        notes.push("Read-only: set by the server, ignored in requests.".to_owned());
    }
    if schema.schema_data.write_only {
        notes.push("Write-only: sent in requests, never returned.".to_owned());
    }
    if let Some(default) = &schema.schema_data.default {
        notes.push(format!("Default when absent: `{default}`."));
    }
    let text = docs_of(schema);
    match (text, notes.is_empty()) {
        (text, true) => text,
        (Some(text), false) => Some(format!("{text}\n\n{}", notes.join(" "))),
        (None, false) => Some(notes.join(" ")),
    }
}

/// `allOf`: the members' properties and `required` lists merged into one struct. Members that are
/// references contribute the referenced schema's properties. A lone non-object member (for
/// example `allOf: [{$ref: Id}]` with a description beside it) stands for itself.
pub(crate) fn all_of(
    lw: &mut Lowerer<'_, '_>,
    schema: &Schema,
    members: &[ReferenceOr<Schema>],
    at: &str,
    hint: &str,
    target: Option<crate::ir::TypeId>,
) -> TypeRef {
    let members_at = pointer(at, "allOf");
    // `allOf: [$ref X]` beside a description (a common way to document a reference) is X itself:
    // keep the named type rather than copying its properties into a new struct.
    let contributing: Vec<(usize, &ReferenceOr<Schema>)> = members
        .iter()
        .enumerate()
        .filter(|(_, m)| !matches!(m, ReferenceOr::Item(s) if is_annotation_only(s)))
        .collect();
    if let [(index, only)] = contributing.as_slice() {
        return lower_schema(
            lw,
            SchemaRef::from(*only),
            &pointer(&members_at, &index.to_string()),
            hint,
        );
    }
    // Referenced members are parsed into owned schemas that must outlive the merged parts.
    let mut flat: Vec<(Schema, String)> = Vec::new();
    let mut others: Vec<(usize, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    collect(
        lw,
        members,
        &members_at,
        0,
        &mut seen,
        (&mut flat, &mut others),
    );
    // A member merged again while its own merge is under way (an inline `allOf` that includes
    // an ancestor) would copy properties forever: refer to the first referenced member instead.
    if flat.iter().any(|(_, p)| lw.merging.contains(p)) {
        lw.diags.warn(
            at,
            "`allOf` includes a schema that is being merged already (a recursive `allOf`); the first referenced member is used as is",
        );
        return match members.iter().find_map(|m| match m {
            ReferenceOr::Reference { reference } => Some(reference),
            ReferenceOr::Item(_) => None,
        }) {
            Some(reference) => super::types::lower_reference(lw, reference, at),
            None => TypeRef::Json,
        };
    }
    let has_object = flat.iter().any(|(s, _)| object_like(s));
    if !has_object {
        return match (others.len(), members.len()) {
            (0, _) => TypeRef::Json,
            (1, _) => {
                let (index, _) = others[0];
                lower_schema(
                    lw,
                    SchemaRef::from(&members[index]),
                    &pointer(&members_at, &index.to_string()),
                    hint,
                )
            }
            _ => {
                lw.diags.warn(at, "`allOf` of several schemas that are not objects cannot be merged; generated `serde_json::Value`");
                TypeRef::Json
            }
        };
    }
    if !others.is_empty() {
        lw.diags.warn(
            at,
            "`allOf` mixes objects with other kinds of schema; only the object members are merged",
        );
    }
    let mut parts = ObjectParts {
        properties: Vec::new(),
        required: Vec::new(),
        additional: None,
    };
    let mut conflicts = Vec::new();
    for (member, member_at) in &flat {
        if let Some((properties, required, additional)) = object_parts(member) {
            conflicts.extend(parts.add(properties, required, additional, member_at));
        }
    }
    if !conflicts.is_empty() {
        lw.diags.warn(
            at,
            format!("`allOf` members declare properties {conflicts:?} differently; the first declaration is used"),
        );
    }
    if parts.properties.is_empty() {
        return object(lw, schema, parts, hint, target);
    }
    let merged_docs = docs_of(schema);
    let pushed = flat.len();
    lw.merging.extend(flat.iter().map(|(_, p)| p.clone()));
    let result = object(lw, schema, parts, hint, target);
    lw.merging.truncate(lw.merging.len().saturating_sub(pushed));
    // The struct stands for the `allOf` schema, not for the member its first property came from.
    if let TypeRef::Named(id) = &result {
        if let Some(def) = lw.types.get_mut(id) {
            def.docs = merged_docs;
            def.pointer = at.to_owned();
        }
    }
    result
}

fn object_like(schema: &Schema) -> bool {
    object_parts(schema).is_some()
}

type Parts<'s> = (
    &'s IndexMap<String, ReferenceOr<Box<Schema>>>,
    &'s [String],
    Option<&'s AdditionalProperties>,
);

fn object_parts(schema: &Schema) -> Option<Parts<'_>> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::Object(o)) => {
            Some((&o.properties, &o.required, o.additional_properties.as_ref()))
        }
        SchemaKind::Any(any)
            if !any.properties.is_empty()
                || any.typ.as_deref() == Some("object")
                || !any.required.is_empty() =>
        {
            Some((
                &any.properties,
                &any.required,
                any.additional_properties.as_ref(),
            ))
        }
        _ => None,
    }
}

/// Schemas merged into an `allOf`, with their pointers, and the direct members that are not objects.
type Collected<'c> = (&'c mut Vec<(Schema, String)>, &'c mut Vec<(usize, String)>);

/// Flattens `allOf` members (following references and nested `allOf`) into object schemas, and
/// records the indexes of direct members that are something else.
///
/// A referenced schema is merged once however many paths lead to it (`seen`): merging it again
/// adds nothing, and a chain in which each schema lists the next twice would otherwise be
/// expanded 2^depth times.
fn collect(
    lw: &mut Lowerer<'_, '_>,
    members: &[ReferenceOr<Schema>],
    at: &str,
    depth: usize,
    seen: &mut BTreeSet<String>,
    (flat, others): Collected<'_>,
) {
    if depth > MAX_ALL_OF_DEPTH {
        lw.diags.warn(
            at,
            format!("`allOf` nested more than {MAX_ALL_OF_DEPTH} deep; the rest is ignored"),
        );
        return;
    }
    for (index, member) in members.iter().enumerate() {
        let member_at = pointer(at, &index.to_string());
        let (schema, schema_at) = match member {
            ReferenceOr::Item(schema) => (schema.clone(), member_at.clone()),
            ReferenceOr::Reference { reference } => {
                if !seen.insert(reference.clone()) {
                    continue;
                }
                let spec = lw.spec;
                match spec
                    .lookup(reference, &member_at)
                    .and_then(|value| spec.resolve_quick::<Schema>(value, reference))
                {
                    Ok(found) if seen.insert(found.1.clone()) || found.1 == *reference => found,
                    Ok(_) => continue,
                    Err(diag) => {
                        lw.diags.fragment_failed(diag, "`allOf` member ignored");
                        continue;
                    }
                }
            }
        };
        let nested = match &schema.schema_kind {
            SchemaKind::AllOf { all_of } => Some(all_of.clone()),
            SchemaKind::Any(any) if !any.all_of.is_empty() => Some(any.all_of.clone()),
            _ => None,
        };
        if let Some(nested) = nested {
            collect(
                lw,
                &nested,
                &pointer(&schema_at, "allOf"),
                depth + 1,
                seen,
                (&mut *flat, &mut *others),
            );
            if object_like(&schema) {
                flat.push((schema, schema_at));
            }
        } else if object_like(&schema) {
            flat.push((schema, schema_at));
        } else if !is_annotation_only(&schema) && depth == 0 {
            others.push((index, schema_at));
        }
    }
}

/// A member with no type information at all (only a description, say) adds nothing.
fn is_annotation_only(schema: &Schema) -> bool {
    matches!(&schema.schema_kind, SchemaKind::Any(any) if *any == openapiv3::AnySchema::default())
}
