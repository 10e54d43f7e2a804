//! IR → JSON Schema (draft 2020-12): the input and output schemas of every action.
//!
//! Named types are definitions, referenced with `{"$ref": "#/$defs/NAME"}`, so recursive types
//! stay finite. A catalogue keeps each definition once for all its actions ([`Schemas`] collects
//! them); a standalone schema ([`input_schema`], [`type_schema`], ...) carries under `$defs` the
//! ones it reaches. Facts the spec states beyond the shape of a type (bounds, formats, defaults,
//! ...) are carried over from [`Facts`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::ir::{
    BodyKind, Connector, Facts, Field, Operation, Presence, Primitive, Response, StatusMatch,
    TypeDef, TypeId, TypeKind, TypeRef,
};

/// The dialect every schema declares.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schemas of many actions against one table of definitions: each schema refers to the
/// named types it uses, and [`Schemas::definitions`] gives every one reached, once. Building
/// each action's schemas with its own copy of the definitions it reaches costs, summed over
/// the actions, far more than the definitions themselves (Microsoft Graph: 600 MB of JSON).
pub struct Schemas<'c> {
    types: &'c BTreeMap<TypeId, TypeDef>,
    /// Every named type referred to so far.
    used: BTreeSet<TypeId>,
    /// The ones whose definitions are not built yet.
    pending: Vec<TypeId>,
}

impl<'c> Schemas<'c> {
    /// An empty set over the connector's types.
    pub fn new(connector: &'c Connector) -> Self {
        Schemas {
            types: &connector.types,
            used: BTreeSet::new(),
            pending: Vec::new(),
        }
    }

    /// The input schema of `op`: an object with one property per parameter (by wire name) plus
    /// `body`; unknown keys are not allowed.
    pub fn input(&mut self, op: &Operation) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (param, key) in op.params.iter().zip(op.input_keys()) {
            let mut schema = self.type_ref(&param.ty);
            apply(&mut schema, &param.facts);
            describe(&mut schema, param.docs.as_deref(), param.deprecated);
            if param.required {
                required.push(Value::from(key.clone()));
            }
            properties.insert(key, schema);
        }
        if let Some(body) = &op.body {
            let mut schema = match body.kind {
                BodyKind::Json | BodyKind::Form => self.type_ref(&body.ty),
                BodyKind::Multipart => json!({"type": "object"}),
                BodyKind::Text | BodyKind::Binary => json!({"type": "string"}),
            };
            apply(&mut schema, &body.facts);
            describe(&mut schema, body.docs.as_deref(), false);
            properties.insert("body".to_owned(), schema);
            if body.required {
                required.push(Value::from("body"));
            }
        }
        let mut root = Map::new();
        root.insert("type".into(), "object".into());
        root.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            root.insert("required".into(), Value::Array(required));
        }
        root.insert("additionalProperties".into(), false.into());
        document(Value::Object(root))
    }

    /// The output schemas of `op`, by declared status (`200`, `2XX`, `default`).
    pub fn outputs(&mut self, op: &Operation) -> BTreeMap<String, Value> {
        op.responses
            .iter()
            .map(|response| (status_key(response.status), self.output(response)))
            .collect()
    }

    /// What the dynamic interface returns for a response: its JSON body, `null` when it has
    /// none, a string when it is not JSON.
    fn output(&mut self, response: &Response) -> Value {
        let mut schema = match (&response.ty, &response.media_type) {
            (Some(ty), _) => self.type_ref(ty),
            (None, None) => json!({"type": "null"}),
            (None, Some(media)) => json!({"type": "string", "contentMediaType": media}),
        };
        apply(&mut schema, &response.facts);
        describe(&mut schema, response.description.as_deref(), false);
        document(schema)
    }

    /// The schema of an event's payload, with its description and facts.
    pub fn payload(&mut self, payload: &crate::ir::WebhookPayload) -> Value {
        let mut schema = self.type_ref(&payload.ty);
        apply(&mut schema, &payload.facts);
        describe(&mut schema, payload.docs.as_deref(), false);
        document(schema)
    }

    /// The schema of one type (an entity's record).
    pub fn of_type(&mut self, ty: &TypeRef) -> Value {
        let schema = self.type_ref(ty);
        document(schema)
    }

    /// The definition of every named type the schemas built so far reach, directly or through
    /// other definitions, sorted by name so that the same connector always gives the same bytes.
    pub fn definitions(mut self) -> Map<String, Value> {
        let mut defs = BTreeMap::new();
        while let Some(id) = self.pending.pop() {
            if let Some(def) = self.types.get(&id) {
                let schema = self.definition(def);
                defs.insert(def_name(def), schema);
            }
        }
        defs.into_iter().collect()
    }

    /// `schema` with the definitions it reaches under `$defs`, last: a standalone document.
    fn standalone(self, schema: Value) -> Value {
        let defs = self.definitions();
        match schema {
            Value::Object(mut map) if !defs.is_empty() => {
                map.insert("$defs".into(), Value::Object(defs));
                Value::Object(map)
            }
            other => other,
        }
    }
}

/// A schema document: `$schema` first, then the schema's own keywords.
fn document(root: Value) -> Value {
    let mut document = Map::new();
    document.insert("$schema".into(), DIALECT.into());
    match root {
        Value::Object(map) => document.extend(map),
        // `true` and `false` schemas: a subschema says the same.
        other => {
            document.insert("allOf".into(), Value::Array(vec![other]));
        }
    }
    Value::Object(document)
}

/// The standalone input schema of `op` (see [`Schemas::input`]).
pub fn input_schema(connector: &Connector, op: &Operation) -> Value {
    let mut schemas = Schemas::new(connector);
    let schema = schemas.input(op);
    schemas.standalone(schema)
}

/// The standalone output schemas of `op`, by declared status (see [`Schemas::outputs`]).
pub fn output_schemas(connector: &Connector, op: &Operation) -> BTreeMap<String, Value> {
    op.responses
        .iter()
        .map(|response| {
            let mut schemas = Schemas::new(connector);
            let schema = schemas.output(response);
            (status_key(response.status), schemas.standalone(schema))
        })
        .collect()
}

/// The declared response headers of `op`, by declared status; statuses without any are left out.
pub fn output_headers(op: &Operation) -> BTreeMap<String, Vec<String>> {
    op.responses
        .iter()
        .filter(|r| !r.headers.is_empty())
        .map(|r| (status_key(r.status), r.headers.clone()))
        .collect()
}

/// A standalone schema of one type (an entity's record).
pub fn type_schema(connector: &Connector, ty: &TypeRef) -> Value {
    let mut schemas = Schemas::new(connector);
    let schema = schemas.of_type(ty);
    schemas.standalone(schema)
}

/// `200`, `2XX` or `default`, as OpenAPI writes a response's key.
pub fn status_key(status: StatusMatch) -> String {
    match status {
        StatusMatch::Code(code) => code.to_string(),
        StatusMatch::Range(digit) => format!("{digit}XX"),
        StatusMatch::Default => "default".to_owned(),
    }
}

impl Schemas<'_> {
    fn type_ref(&mut self, ty: &TypeRef) -> Value {
        match ty {
            TypeRef::Named(id) => match self.types.get(id) {
                Some(def) => {
                    if self.used.insert(*id) {
                        self.pending.push(*id);
                    }
                    json!({"$ref": format!("#/$defs/{}", def_name(def))})
                }
                None => json!({}),
            },
            TypeRef::Primitive(p) => json!({"type": primitive(*p)}),
            TypeRef::List(item) => {
                keyed([("type", "array".into()), ("items", self.type_ref(item))])
            }
            TypeRef::Map(value) => match value.as_ref() {
                TypeRef::Json => json!({"type": "object"}),
                other => keyed([
                    ("type", "object".into()),
                    ("additionalProperties", self.type_ref(other)),
                ]),
            },
            TypeRef::Option(inner) => nullable(self.type_ref(inner)),
            TypeRef::Boxed(inner) => self.type_ref(inner),
            TypeRef::Tuple { items, rest } => {
                let prefix: Vec<Value> = items.iter().map(|item| self.type_ref(item)).collect();
                let mut schema = keyed([("type", "array".into()), ("prefixItems", prefix.into())]);
                match rest.as_deref() {
                    None => insert(&mut schema, "items", false.into()),
                    Some(TypeRef::Json) => {}
                    Some(rest) => {
                        let rest = self.type_ref(rest);
                        insert(&mut schema, "items", rest);
                    }
                }
                schema
            }
            TypeRef::Json => json!({}),
        }
    }

    fn definition(&mut self, def: &TypeDef) -> Value {
        let mut schema = match &def.kind {
            TypeKind::Struct { fields, additional } => {
                let mut schema = self.object(fields);
                if let (Some((_, ty)), Value::Object(map)) = (additional, &mut schema) {
                    if *ty != TypeRef::Json {
                        map.insert("additionalProperties".into(), self.type_ref(ty));
                    }
                }
                schema
            }
            TypeKind::Options { fields } => self.object(fields),
            TypeKind::Enum { variants } => allowed(
                "string",
                variants
                    .iter()
                    .map(|v| Value::from(v.wire_value.clone()))
                    .collect(),
            ),
            TypeKind::IntEnum { values, .. } => allowed(
                "integer",
                values.iter().map(|(_, v)| Value::from(*v)).collect(),
            ),
            TypeKind::Union {
                variants,
                discriminator,
                one_of,
            } => {
                let alternatives: Vec<Value> = variants
                    .iter()
                    .map(|v| {
                        let mut schema = self.type_ref(&v.ty);
                        apply(&mut schema, &v.facts);
                        schema
                    })
                    .collect();
                let keyword = if *one_of { "oneOf" } else { "anyOf" };
                let mut schema = keyed([(keyword, alternatives.into())]);
                if let Some(property) = discriminator {
                    insert(
                        &mut schema,
                        "discriminator",
                        self.discriminator(property, variants),
                    );
                }
                schema
            }
            // Never a value on the wire: the typed client's enum of success responses.
            TypeKind::Responses { .. } => json!({}),
            TypeKind::Alias { target } => self.type_ref(target),
        };
        apply(&mut schema, &def.facts);
        if def.deprecated {
            insert(&mut schema, "deprecated", true.into());
        }
        schema
    }

    /// OpenAPI's `discriminator` (a keyword 2020-12 validators ignore, and readers such as form
    /// builders use): the property, and each tag's alternative by its `$defs` reference.
    fn discriminator(&self, property: &str, variants: &[crate::ir::UnionVariant]) -> Value {
        let mut mapping = Map::new();
        for variant in variants {
            let mut ty = &variant.ty;
            while let TypeRef::Boxed(inner) | TypeRef::Option(inner) = ty {
                ty = inner;
            }
            let Some(def) = (match ty {
                TypeRef::Named(id) => self.types.get(id),
                _ => None,
            }) else {
                continue;
            };
            for tag in &variant.tags {
                mapping.insert(tag.clone(), format!("#/$defs/{}", def_name(def)).into());
            }
        }
        keyed([
            ("propertyName", property.into()),
            ("mapping", Value::Object(mapping)),
        ])
    }

    fn object(&mut self, fields: &[Field]) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in fields {
            // The IR wraps absent-or-null in `Option`; the schema says absence with `required`.
            let ty = match (field.presence, &field.ty) {
                (Presence::Optional | Presence::OptionalNullable, TypeRef::Option(inner)) => {
                    inner.as_ref()
                }
                (_, ty) => ty,
            };
            let mut schema = self.type_ref(ty);
            apply(&mut schema, &field.facts);
            if field.deprecated {
                insert(&mut schema, "deprecated", true.into());
            }
            properties.insert(field.wire_name.clone(), schema);
            if matches!(
                field.presence,
                Presence::Required | Presence::RequiredNullable
            ) {
                required.push(Value::from(field.wire_name.clone()));
            }
        }
        let mut schema = keyed([
            ("type", "object".into()),
            ("properties", Value::Object(properties)),
        ]);
        if !required.is_empty() {
            insert(&mut schema, "required", Value::Array(required));
        }
        schema
    }
}

/// The `$defs` key of a named type: its Rust name, unique in the connector and free of
/// characters a JSON pointer would need to escape.
fn def_name(def: &TypeDef) -> String {
    def.rust_name.trim_start_matches("r#").to_owned()
}

/// An object of `entries`, in their order. `json!` would copy each value through `Serialize`
/// into a new tree (for `properties`, every field's schema again).
fn keyed<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

/// A type with allowed values: `const` for one, `enum` for several.
fn allowed(ty: &str, mut values: Vec<Value>) -> Value {
    if values.len() == 1 {
        keyed([("type", ty.into()), ("const", values.remove(0))])
    } else {
        keyed([("type", ty.into()), ("enum", values.into())])
    }
}

fn primitive(p: Primitive) -> &'static str {
    match p {
        Primitive::String => "string",
        Primitive::Bool => "boolean",
        Primitive::I32 | Primitive::I64 | Primitive::U32 | Primitive::U64 => "integer",
        Primitive::F32 | Primitive::F64 => "number",
    }
}

/// `schema` or `null`: a plain `type` gains `"null"`, anything else is wrapped in `anyOf`.
fn nullable(schema: Value) -> Value {
    if let Value::Object(map) = &schema {
        if map.is_empty() {
            return schema;
        }
        let plain = map.len() <= 2
            && map.get("type").is_some_and(Value::is_string)
            && map.keys().all(|k| k == "type" || k == "items");
        if plain {
            let mut map = map.clone();
            let ty = map.remove("type").unwrap_or_default();
            map.insert("type".into(), json!([ty, "null"]));
            return Value::Object(map);
        }
    }
    keyed([("anyOf", Value::Array(vec![schema, json!({"type": "null"})]))])
}

fn insert(schema: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = schema {
        map.insert(key.to_owned(), value);
    }
}

/// A description (the one given where the schema is used wins) and deprecation.
fn describe(schema: &mut Value, docs: Option<&str>, deprecated: bool) {
    if let Some(docs) = docs.map(str::trim).filter(|d| !d.is_empty()) {
        insert(schema, "description", docs.into());
    }
    if deprecated {
        insert(schema, "deprecated", true.into());
    }
}

/// Adds the facts to `schema`; `items` and `values` facts go to the array's `items` and the
/// map's `additionalProperties` (inside a nullable wrapper too).
fn apply(schema: &mut Value, facts: &Facts) {
    if facts.is_empty() {
        return;
    }
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            insert(schema, key, value);
        }
    };
    put("title", facts.title.clone().map(Value::from));
    put("description", facts.description.clone().map(Value::from));
    put("format", facts.format.clone().map(Value::from));
    put("default", facts.default.as_deref().cloned());
    let examples: Vec<Value> = facts
        .example
        .as_deref()
        .into_iter()
        .chain(&facts.examples)
        .cloned()
        .collect();
    put(
        "examples",
        Some(Value::Array(examples)).filter(|e| !e.as_array().is_some_and(Vec::is_empty)),
    );
    // One allowed value is a constant: 2020-12 says so with `const` (OpenAPI 3.1's `const`
    // and 3.0's one-value `enum` alike).
    match facts.enumeration.as_slice() {
        [] => {}
        [one] => put("const", Some(one.clone())),
        all => put("enum", Some(Value::Array(all.to_vec()))),
    }
    put(
        "contentEncoding",
        facts.content_encoding.clone().map(Value::from),
    );
    put(
        "contentMediaType",
        facts.content_media_type.clone().map(Value::from),
    );
    put("readOnly", facts.read_only.then_some(true.into()));
    put("writeOnly", facts.write_only.then_some(true.into()));
    put("deprecated", facts.deprecated.then_some(true.into()));
    // OpenAPI 3.0's boolean `exclusiveMinimum` becomes 2020-12's numeric one.
    let (min_key, max_key) = (
        if facts.exclusive_minimum {
            "exclusiveMinimum"
        } else {
            "minimum"
        },
        if facts.exclusive_maximum {
            "exclusiveMaximum"
        } else {
            "maximum"
        },
    );
    put(min_key, facts.minimum.as_deref().cloned());
    put(max_key, facts.maximum.as_deref().cloned());
    put("multipleOf", facts.multiple_of.as_deref().cloned());
    put("minLength", facts.min_length.map(Value::from));
    put("maxLength", facts.max_length.map(Value::from));
    put("pattern", facts.pattern.clone().map(Value::from));
    put("minItems", facts.min_items.map(Value::from));
    put("maxItems", facts.max_items.map(Value::from));
    put("uniqueItems", facts.unique_items.then_some(true.into()));
    put("minProperties", facts.min_properties.map(Value::from));
    put("maxProperties", facts.max_properties.map(Value::from));
    if let Some(items) = &facts.items {
        if let Some(target) = inner_mut(schema, "items") {
            apply(target, items);
        }
    }
    if let Some(values) = &facts.values {
        if let Some(target) = inner_mut(schema, "additionalProperties") {
            apply(target, values);
        }
    }
}

/// The subschema under `key`, looking through a nullable `anyOf` wrapper.
fn inner_mut<'v>(schema: &'v mut Value, key: &str) -> Option<&'v mut Value> {
    let map = schema.as_object_mut()?;
    if map.contains_key(key) {
        return map.get_mut(key).filter(|v| v.is_object());
    }
    map.get_mut("anyOf")?
        .as_array_mut()?
        .first_mut()?
        .as_object_mut()?
        .get_mut(key)
        .filter(|v| v.is_object())
}
