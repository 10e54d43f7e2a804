//! View models: the IR turned into the strings templates print.
//!
//! Type expressions are spelled here (a rendering concern, so not in the IR), and every value is
//! flat and ready to print, so that templates hold no logic beyond loops and presence checks.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ir::{
    BodyKind, Connector, ErrorBody, Field, Location, Method, OAuthFlowKind, Operation, Presence,
    Primitive, SecurityKind, StatusMatch, Style, Success, TypeDef, TypeId, TypeKind, TypeRef,
    TypeUse,
};

const RESPONSE: &str = "::connector_runtime::Response";

const JSON_VALUE: &str = "::connector_runtime::serde_json::Value";

/// Spells type expressions, with named types behind `prefix` (empty inside the types module).
pub(crate) struct Spell<'a> {
    types: &'a BTreeMap<TypeId, TypeDef>,
    prefix: &'a str,
}

impl Spell<'_> {
    pub(crate) fn ty(&self, ty: &TypeRef) -> String {
        match ty {
            TypeRef::Named(id) => match self.types.get(id) {
                Some(def) => format!("{}{}", self.prefix, def.rust_name),
                None => JSON_VALUE.to_owned(),
            },
            TypeRef::Primitive(p) => primitive(*p).to_owned(),
            TypeRef::List(inner) => format!("Vec<{}>", self.ty(inner)),
            TypeRef::Map(inner) => {
                format!("::std::collections::BTreeMap<String, {}>", self.ty(inner))
            }
            TypeRef::Option(inner) => format!("Option<{}>", self.ty(inner)),
            TypeRef::Boxed(inner) => format!("Box<{}>", self.ty(inner)),
            TypeRef::Tuple { items, rest: None } => {
                let items: Vec<String> = items
                    .iter()
                    .map(|item| format!("{},", self.ty(item)))
                    .collect();
                format!("({})", items.join(" "))
            }
            // Items after the typed ones may be anything: serde's tuples take a fixed length.
            TypeRef::Tuple { .. } => format!("Vec<{JSON_VALUE}>"),
            TypeRef::Json => JSON_VALUE.to_owned(),
        }
    }

    /// How a required value is passed to a client method: small copies by value, text as `&str`,
    /// everything else by reference.
    pub(crate) fn arg(&self, ty: &TypeRef) -> String {
        match ty {
            TypeRef::Primitive(Primitive::String) => "&str".to_owned(),
            TypeRef::Primitive(p) => primitive(*p).to_owned(),
            other => format!("&{}", self.ty(other)),
        }
    }

    /// The expression that hands argument `name` to `Args`, which takes a reference.
    fn pass(&self, ty: &TypeRef, name: &str) -> String {
        match ty {
            TypeRef::Primitive(Primitive::String) => name.to_owned(),
            TypeRef::Primitive(_) => format!("&{name}"),
            _ => name.to_owned(),
        }
    }
}

fn primitive(p: Primitive) -> &'static str {
    match p {
        Primitive::String => "String",
        Primitive::Bool => "bool",
        Primitive::I32 => "i32",
        Primitive::I64 => "i64",
        Primitive::U32 => "u32",
        Primitive::U64 => "u64",
        Primitive::F32 => "f32",
        Primitive::F64 => "f64",
    }
}

/// Everything the templates see.
#[derive(Debug, Serialize)]
pub struct ConnectorView {
    pub crate_name: String,
    pub module_name: String,
    pub title: String,
    pub version: String,
    pub docs: Option<String>,
    pub spec_label: String,
    pub servers: Vec<ServerView>,
    pub schemes: Vec<SchemeView>,
    pub types: Vec<TypeView>,
    pub operations: Vec<OperationView>,
    /// Cargo feature names, one per tag (and one for untagged operations, one for unused schemas).
    pub features: Vec<String>,
    /// The features `default` enables.
    pub default_features: Vec<String>,
    /// Distinct parameter and response descriptors, which operations refer to by index.
    pub tables: super::tables::Tables,
    /// The action catalogue as JSON text.
    pub catalogue_json: String,
    /// The typed entity handles.
    pub entities: Vec<super::entities::EntityView>,
    /// The `…_stream` methods of paginated plain actions.
    pub streams: Vec<super::entities::StreamView>,
    /// The typed events (empty: no `webhooks` module).
    pub webhooks: Vec<super::webhooks::WebhookView>,
    /// The error enums of the actions that declare error responses.
    pub errors: Vec<super::errors::ErrorsView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ServerView {
    pub url: String,
    pub description: Option<String>,
    pub variables: Vec<VariableView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct VariableView {
    pub name: String,
    pub default: String,
    pub allowed: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SchemeView {
    pub name: String,
    /// Rust expression of the `SecuritySchemeKind` variant, without its text fields.
    pub kind: &'static str,
    /// For API keys: `Header`, `Query` or `Cookie`.
    pub location: Option<&'static str>,
    /// Header, query or cookie name for API keys; scheme name for other HTTP schemes.
    pub parameter: Option<String>,
    /// OAuth 2 flows (empty for other kinds).
    pub flows: Vec<FlowView>,
    /// Discovery document URL of an OpenID Connect scheme.
    pub openid_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FlowView {
    /// `OAuthFlowKind` variant.
    pub kind: &'static str,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub refresh_url: Option<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TypeView {
    pub name: String,
    pub docs: Option<String>,
    pub deprecated: bool,
    /// `struct`, `options`, `enum`, `int_enum`, `union` or `alias`.
    pub kind: &'static str,
    pub fields: Vec<FieldView>,
    /// Flattened map of undeclared properties: field name and value type.
    pub additional: Option<(String, String)>,
    pub variants: Vec<VariantView>,
    /// Integer type of an `int_enum`.
    pub repr: Option<&'static str>,
    /// Constants of an `int_enum`: name and value.
    pub constants: Vec<(String, i64)>,
    /// Alternatives of a `union`.
    pub alternatives: Vec<AlternativeView>,
    /// Tag property of a discriminated `union`.
    pub discriminator: Option<String>,
    /// Variants of a `responses` enum.
    pub status_variants: Vec<StatusVariantView>,
    pub target: Option<String>,
    /// The `cfg` predicate of the features that need the type (none: always compiled).
    pub cfg: Option<String>,
    /// Whether to derive `Serialize` (the type is sent).
    pub serialize: bool,
    /// Whether to derive (or implement) `Deserialize` (the type is received).
    pub deserialize: bool,
}

#[derive(Debug, Serialize)]
pub struct StatusVariantView {
    pub name: String,
    /// Payload type; `None` for a response without a body.
    pub ty: Option<String>,
    /// Which statuses it stands for, as a sentence.
    pub docs: String,
}

#[derive(Debug, Serialize)]
pub struct AlternativeView {
    pub name: String,
    pub ty: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct FieldView {
    pub name: String,
    pub wire_name: String,
    pub ty: String,
    pub optional: bool,
    /// `required`, `required_nullable`, `optional` or `optional_nullable`.
    pub presence: &'static str,
    pub rename: bool,
    pub docs: Option<String>,
    pub deprecated: bool,
}

#[derive(Debug, Serialize)]
pub struct VariantView {
    pub name: String,
    pub wire_value: String,
}

#[derive(Debug, Serialize)]
pub struct OperationView {
    pub id: String,
    /// The `cfg` predicate of the features that enable the typed method.
    pub cfg: Option<String>,
    pub fn_name: String,
    pub const_name: String,
    pub index: usize,
    pub method: &'static str,
    pub http_method: &'static str,
    pub path: String,
    pub summary: Option<String>,
    pub docs: Option<String>,
    pub deprecated: bool,
    pub params: Vec<ParamView>,
    pub required_params: Vec<ParamView>,
    pub optional_params: Vec<ParamView>,
    pub options_type: Option<String>,
    pub body: Option<BodyView>,
    /// Whether the method fills `Args` (so it must be `mut`).
    pub has_args: bool,
    /// Return type of the typed method.
    pub returns: String,
    /// How the response is finished: the `Response` method (`json`, `into_unit`,
    /// `json_with_headers`, `unit_with_headers`), `raw`, or `by_status` (match on `arms`).
    pub finish: &'static str,
    /// With `by_status`: one match arm per success status.
    pub arms: Vec<ArmView>,
    /// With `by_status`: the enum's `Other` variant, for an undeclared 2xx status.
    pub other_arm: Option<String>,
    /// With `by_status`: whether the value is returned with status and headers.
    pub with_headers: bool,
    /// The "Responses" and "Errors" sections of the method docs.
    pub response_docs: Option<String>,
    /// The action's error enum, as a path from the client module.
    pub errors: Option<String>,
    pub responses: Vec<ResponseView>,
    /// Indices of the parameters in the shared table ([`super::tables`]).
    pub param_refs: Vec<usize>,
    /// Indices of the responses in the shared table.
    pub response_refs: Vec<usize>,
    /// The operation's own servers (usually none).
    pub servers: Vec<ServerView>,
    /// Indices of its servers in the shared table.
    pub server_refs: Vec<usize>,
    pub security: Vec<Vec<String>>,
    /// One sentence naming the security schemes the action accepts.
    pub auth_doc: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParamView {
    pub wire_name: String,
    pub name: String,
    /// `Path`, `Query`, `Header` or `Cookie` (the descriptor variant).
    pub location: &'static str,
    /// `path`, `query`, `header` or `cookie` (the `Args` method).
    pub setter: &'static str,
    pub required: bool,
    pub style: &'static str,
    pub explode: bool,
    pub allow_reserved: bool,
    /// Declared with `content`: sent as JSON text.
    pub json: bool,
    pub arg_type: String,
    /// Expression passing the value to `Args` (`&limit`, `name`, `&options.limit`).
    pub pass: String,
    pub docs: Option<String>,
    /// The owned type of the value (test dispatch: deserialised from JSON).
    pub owned_type: String,
    /// Its key in the dynamic interface's input object (test dispatch).
    pub input_key: String,
    /// Expression passing the owned value to the typed method (test dispatch).
    pub call_pass: String,
}

#[derive(Debug, Serialize)]
pub struct BodyView {
    pub media_types: Vec<String>,
    pub required: bool,
    pub arg_type: String,
    /// Expression passing the body to `Args`.
    pub pass: String,
    pub docs: Option<String>,
    /// The `Args` method that takes the body (`json_body`, `text_body`, ...).
    pub setter: &'static str,
    /// Whether that method returns a `Result`.
    pub fallible: bool,
    pub encoding: Vec<EncodingView>,
    /// Options-struct field choosing the media type, when several are offered.
    pub content_type_field: Option<String>,
    /// The owned type the body is deserialised into from JSON (test dispatch).
    pub owned_type: String,
    /// Expression passing the owned `body` to the typed method (test dispatch).
    pub call_pass: String,
}

#[derive(Debug, Serialize)]
pub struct EncodingView {
    pub property: String,
    pub content_type: Option<String>,
    pub style: &'static str,
    pub explode: bool,
    pub allow_reserved: bool,
}

#[derive(Debug, Serialize)]
pub struct ArmView {
    /// Match pattern on the status (`201`, `200..=299`).
    pub pattern: String,
    /// Path of the enum variant.
    pub variant: String,
    /// `json`, `unit` or `raw`.
    pub decode: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ResponseView {
    /// Rust expression of the `StatusMatch`.
    pub status: String,
    pub media_type: Option<String>,
}

impl ConnectorView {
    /// The fields templates read, in the order they are declared (and serialised).
    pub(crate) const FIELDS: &'static [&'static str] = &[
        "crate_name",
        "module_name",
        "title",
        "version",
        "docs",
        "spec_label",
        "servers",
        "schemes",
        "types",
        "operations",
        "features",
        "default_features",
        "tables",
        "catalogue_json",
        "entities",
        "streams",
        "webhooks",
        "errors",
    ];

    /// One field as template values (see [`super::context`]).
    pub(crate) fn field(&self, name: &str) -> Option<minijinja::Value> {
        use minijinja::Value;
        Some(match name {
            "crate_name" => Value::from_serialize(&self.crate_name),
            "module_name" => Value::from_serialize(&self.module_name),
            "title" => Value::from_serialize(&self.title),
            "version" => Value::from_serialize(&self.version),
            "docs" => Value::from_serialize(&self.docs),
            "spec_label" => Value::from_serialize(&self.spec_label),
            "servers" => Value::from_serialize(&self.servers),
            "schemes" => Value::from_serialize(&self.schemes),
            "types" => Value::from_serialize(&self.types),
            "operations" => Value::from_serialize(&self.operations),
            "features" => Value::from_serialize(&self.features),
            "default_features" => Value::from_serialize(&self.default_features),
            "tables" => Value::from_serialize(&self.tables),
            "catalogue_json" => Value::from_serialize(&self.catalogue_json),
            "entities" => Value::from_serialize(&self.entities),
            "streams" => Value::from_serialize(&self.streams),
            "webhooks" => Value::from_serialize(&self.webhooks),
            "errors" => Value::from_serialize(&self.errors),
            _ => return None,
        })
    }

    /// Builds the view of a connector; `spec_label` names the spec in the generated banner/docs.
    pub fn new(connector: &Connector, spec_label: &str) -> Self {
        let outside = Spell {
            types: &connector.types,
            prefix: "super::types::",
        };
        let (entities, streams) = super::entities::entity_views(connector, &outside);
        Self {
            entities,
            streams,
            webhooks: super::webhooks::webhook_views(connector, &outside),
            ..Self::without_entities(connector, spec_label)
        }
    }

    fn without_entities(connector: &Connector, spec_label: &str) -> Self {
        let in_types = Spell {
            types: &connector.types,
            prefix: "",
        };
        let outside = Spell {
            types: &connector.types,
            prefix: "super::types::",
        };
        let mut operations: Vec<OperationView> = connector
            .operations
            .iter()
            .enumerate()
            .map(|(index, op)| operation(op, index, &outside))
            .collect();
        let servers: Vec<ServerView> = connector.servers.iter().map(server).collect();
        let tables = super::tables::intern(&mut operations, &servers);
        Self {
            tables,
            operations,
            crate_name: connector.crate_name.clone(),
            module_name: connector.module_name.clone(),
            title: connector.title.clone(),
            version: connector.version.clone(),
            docs: connector.description.clone(),
            spec_label: spec_label.to_owned(),
            catalogue_json: crate::catalogue::catalogue_json(connector),
            entities: Vec::new(),
            streams: Vec::new(),
            webhooks: Vec::new(),
            errors: super::errors::error_views(connector, &outside),
            servers,
            schemes: connector.security_schemes.iter().map(scheme).collect(),
            types: connector
                .types
                .iter()
                .map(|(id, t)| type_view(t, connector.type_uses.get(id), &in_types))
                .collect(),
            features: connector.features.iter().map(|f| f.name.clone()).collect(),
            default_features: connector
                .features
                .iter()
                .filter(|f| f.default)
                .map(|f| f.name.clone())
                .collect(),
        }
    }
}

fn scheme(s: &crate::ir::SecurityScheme) -> SchemeView {
    let (kind, location, parameter) = match &s.kind {
        SecurityKind::ApiKeyHeader(p) => ("ApiKey", Some("Header"), Some(p.clone())),
        SecurityKind::ApiKeyQuery(p) => ("ApiKey", Some("Query"), Some(p.clone())),
        SecurityKind::ApiKeyCookie(p) => ("ApiKey", Some("Cookie"), Some(p.clone())),
        SecurityKind::HttpBasic => ("HttpBasic", None, None),
        SecurityKind::HttpBearer => ("HttpBearer", None, None),
        SecurityKind::HttpOther(scheme) => ("HttpOther", None, Some(scheme.clone())),
        SecurityKind::OAuth2(_) => ("OAuth2", None, None),
        SecurityKind::OpenIdConnect(_) => ("OpenIdConnect", None, None),
        SecurityKind::MutualTls => ("MutualTls", None, None),
    };
    let flows = match &s.kind {
        SecurityKind::OAuth2(flows) => flows.iter().map(flow).collect(),
        _ => Vec::new(),
    };
    let openid_url = match &s.kind {
        SecurityKind::OpenIdConnect(url) => Some(url.clone()),
        _ => None,
    };
    SchemeView {
        name: s.name.clone(),
        kind,
        location,
        parameter,
        flows,
        openid_url,
    }
}

fn flow(f: &crate::ir::OAuthFlow) -> FlowView {
    FlowView {
        kind: match f.kind {
            OAuthFlowKind::ClientCredentials => "ClientCredentials",
            OAuthFlowKind::AuthorizationCode => "AuthorizationCode",
            OAuthFlowKind::Password => "Password",
            OAuthFlowKind::Implicit => "Implicit",
            OAuthFlowKind::DeviceAuthorization => "DeviceAuthorization",
        },
        authorization_url: f.authorization_url.clone(),
        token_url: f.token_url.clone(),
        refresh_url: f.refresh_url.clone(),
        scopes: f.scopes.clone(),
    }
}

fn field(f: &Field, spell: &Spell<'_>) -> FieldView {
    FieldView {
        name: f.rust_name.clone(),
        wire_name: f.wire_name.clone(),
        ty: spell.ty(&f.ty),
        optional: f.optional,
        presence: match f.presence {
            Presence::Required => "required",
            Presence::RequiredNullable => "required_nullable",
            Presence::Optional => "optional",
            Presence::OptionalNullable => "optional_nullable",
        },
        rename: f.needs_rename,
        docs: f.docs.clone(),
        deprecated: f.deprecated,
    }
}

/// The `cfg` predicate that holds when any of `features` is enabled.
pub(crate) fn feature_cfg(features: &[String]) -> Option<String> {
    match features {
        [] => None,
        [one] => Some(format!("feature = \"{one}\"")),
        many => Some(format!(
            "any({})",
            many.iter()
                .map(|f| format!("feature = \"{f}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn type_view(def: &TypeDef, usage: Option<&TypeUse>, spell: &Spell<'_>) -> TypeView {
    let mut view = TypeView {
        cfg: usage.and_then(|u| feature_cfg(&u.features)),
        // A serde type needs one derive at least for its `#[serde]` attributes to be accepted.
        serialize: usage.is_none_or(|u| u.serialize || !u.deserialize),
        deserialize: usage.is_none_or(|u| u.deserialize || !u.serialize),
        name: def.rust_name.clone(),
        docs: def
            .docs
            .clone()
            .or_else(|| Some(format!("Schema at `{}`.", def.pointer))),
        deprecated: def.deprecated,
        kind: "alias",
        fields: Vec::new(),
        additional: None,
        variants: Vec::new(),
        repr: None,
        constants: Vec::new(),
        alternatives: Vec::new(),
        discriminator: None,
        status_variants: Vec::new(),
        target: None,
    };
    match &def.kind {
        TypeKind::Struct { fields, additional } => {
            view.kind = "struct";
            view.fields = fields.iter().map(|f| field(f, spell)).collect();
            view.additional = additional
                .as_ref()
                .map(|(name, ty)| (name.clone(), spell.ty(ty)));
        }
        TypeKind::IntEnum { repr, values } => {
            view.kind = "int_enum";
            view.repr = Some(primitive(*repr));
            view.constants = values.clone();
        }
        TypeKind::Union {
            variants,
            discriminator,
            ..
        } => {
            view.kind = "union";
            view.discriminator = discriminator.clone();
            view.alternatives = variants
                .iter()
                .map(|v| AlternativeView {
                    name: v.rust_name.clone(),
                    ty: spell.ty(&v.ty),
                    tags: v.tags.clone(),
                })
                .collect();
        }
        TypeKind::Options { fields } => {
            view.kind = "options";
            view.fields = fields.iter().map(|f| field(f, spell)).collect();
        }
        TypeKind::Enum { variants } => {
            view.kind = "enum";
            view.variants = variants
                .iter()
                .map(|v| VariantView {
                    name: v.rust_name.clone(),
                    wire_value: v.wire_value.clone(),
                })
                .collect();
        }
        TypeKind::Responses { variants } => {
            view.kind = "responses";
            view.status_variants = variants
                .iter()
                .map(|v| StatusVariantView {
                    name: v.rust_name.clone(),
                    ty: match &v.body {
                        Success::Json(ty) => Some(spell.ty(ty)),
                        Success::Raw => Some(RESPONSE.to_owned()),
                        Success::Unit | Success::ByStatus(_) => None,
                    },
                    docs: match v.status {
                        StatusMatch::Code(code) => format!("HTTP {code}."),
                        StatusMatch::Range(digit) => format!("Another HTTP {digit}xx status."),
                        StatusMatch::Default => "Any other status.".to_owned(),
                    },
                })
                .collect();
        }
        TypeKind::Alias { target } => view.target = Some(spell.ty(target)),
    }
    view
}

/// The pattern matching a status in generated code. A range leaves out the codes declared
/// beside it, so that arms never overlap (clippy's `match_overlapping_arm`).
pub(crate) fn status_pattern(status: StatusMatch, codes: &[u16]) -> String {
    match status {
        StatusMatch::Code(code) => code.to_string(),
        StatusMatch::Range(digit) => {
            let low = u16::from(digit) * 100;
            let mut parts = Vec::new();
            let mut start = low;
            for code in (low..=low + 99).filter(|c| codes.contains(c)) {
                parts.extend(span(start, code));
                start = code + 1;
            }
            parts.extend(span(start, low + 100));
            parts.join(" | ")
        }
        StatusMatch::Default => "_".to_owned(),
    }
}

/// The statuses from `start` up to, not including, `end`, as a pattern (none when empty).
fn span(start: u16, end: u16) -> Option<String> {
    match end.checked_sub(start)? {
        0 => None,
        1 => Some(start.to_string()),
        _ => Some(format!("{start}..={}", end - 1)),
    }
}

fn status_label(status: StatusMatch) -> String {
    match status {
        StatusMatch::Code(code) => code.to_string(),
        StatusMatch::Range(digit) => format!("{digit}XX"),
        StatusMatch::Default => "default".to_owned(),
    }
}

/// A type in docs: a link when it is a named type.
fn doc_type(ty: &TypeRef, spell: &Spell<'_>) -> String {
    match ty {
        TypeRef::Named(id) => match spell.types.get(id) {
            Some(def) => format!("[`{0}`]({1}{0})", def.rust_name, spell.prefix),
            None => format!("`{}`", spell.ty(ty)),
        },
        other => format!("`{}`", spell.ty(other)),
    }
}

/// The "Responses" and "Errors" sections of an action's docs: the headers a `Typed` result
/// carries, and the types declared error bodies decode into.
fn response_docs(op: &Operation, spell: &Spell<'_>) -> Option<String> {
    let mut sections = Vec::new();
    if op.success_headers {
        let mut names: Vec<&str> = op
            .responses
            .iter()
            .filter(|r| {
                matches!(
                    r.status,
                    StatusMatch::Code(200..=299) | StatusMatch::Range(2)
                )
            })
            .flat_map(|r| r.headers.iter().map(String::as_str))
            .collect();
        names.dedup();
        let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        sections.push(format!(
            "# Responses\n\nReturns the value with the status and headers \
             ([`Typed`](::connector_runtime::Typed)); declared headers: {}.",
            listed.join(", ")
        ));
    }
    if let Some(errors) = &op.errors {
        let lines: Vec<String> = errors
            .variants
            .iter()
            .map(|v| {
                let media = v
                    .media_type
                    .as_deref()
                    .map(|m| format!(" (`{m}`)"))
                    .unwrap_or_default();
                let body = match &v.body {
                    ErrorBody::Json(ty) => format!(" with {}", doc_type(ty, spell)),
                    ErrorBody::Text => " with the text".to_owned(),
                    ErrorBody::Bytes => " with the bytes".to_owned(),
                    ErrorBody::Empty => String::new(),
                };
                let description = v
                    .description
                    .as_deref()
                    .and_then(|d| d.lines().next())
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                format!(
                    "- `{}`{media}: [`{1}::{2}`](super::errors::{1}::{2}){body}{description}",
                    status_label(v.status),
                    errors.rust_name,
                    v.rust_name,
                )
            })
            .collect();
        sections.push(format!(
            "# Errors\n\nAnother status is [`Error::Status`](::connector_runtime::Error::Status); \
             [`err.api_error::<{0}>()`](::connector_runtime::Error::api_error) decodes it into \
             [`{0}`](super::errors::{0}):\n\n{1}",
            errors.rust_name,
            lines.join("\n")
        ));
    }
    (!sections.is_empty()).then(|| sections.join("\n\n"))
}

fn operation(op: &Operation, index: usize, spell: &Spell<'_>) -> OperationView {
    let params: Vec<ParamView> = op
        .params
        .iter()
        .zip(op.input_keys())
        .map(|(p, key)| ParamView {
            input_key: key,
            ..param(p, spell)
        })
        .collect();
    let (returns, finish) = match (&op.success, op.success_headers) {
        (Success::Unit, false) => ("()".to_owned(), "into_unit"),
        (Success::Unit, true) => ("()".to_owned(), "unit_with_headers"),
        (Success::Json(ty), false) => (spell.ty(ty), "json"),
        (Success::Json(ty), true) => (spell.ty(ty), "json_with_headers"),
        (Success::Raw, _) => (RESPONSE.to_owned(), "raw"),
        (Success::ByStatus(id), _) => (spell.ty(&TypeRef::Named(*id)), "by_status"),
    };
    let returns = if op.success_headers && finish != "raw" {
        format!("::connector_runtime::Typed<{returns}>")
    } else {
        returns
    };
    let (arms, other_arm) = match &op.success {
        Success::ByStatus(id) => {
            let enum_path = spell.ty(&TypeRef::Named(*id));
            let variants = match spell.types.get(id).map(|def| &def.kind) {
                Some(TypeKind::Responses { variants }) => variants.as_slice(),
                _ => &[],
            };
            let codes: Vec<u16> = variants
                .iter()
                .filter_map(|v| match v.status {
                    StatusMatch::Code(code) => Some(code),
                    _ => None,
                })
                .collect();
            let arms = variants
                .iter()
                .map(|v| ArmView {
                    pattern: status_pattern(v.status, &codes),
                    variant: format!("{enum_path}::{}", v.rust_name),
                    decode: match v.body {
                        Success::Json(_) => "json",
                        Success::Raw => "raw",
                        Success::Unit | Success::ByStatus(_) => "unit",
                    },
                })
                .collect();
            (arms, Some(format!("{enum_path}::Other")))
        }
        _ => (Vec::new(), None),
    };
    let method = match op.method {
        Method::Get => ("Get", "GET"),
        Method::Put => ("Put", "PUT"),
        Method::Post => ("Post", "POST"),
        Method::Delete => ("Delete", "DELETE"),
        Method::Options => ("Options", "OPTIONS"),
        Method::Head => ("Head", "HEAD"),
        Method::Patch => ("Patch", "PATCH"),
        Method::Trace => ("Trace", "TRACE"),
    };
    OperationView {
        id: op.id.clone(),
        cfg: feature_cfg(&op.features),
        fn_name: op.rust_name.clone(),
        const_name: op.const_name.clone(),
        index,
        method: method.0,
        http_method: method.1,
        path: op.path.clone(),
        summary: op.summary.clone(),
        docs: crate::lower::join_docs(op.summary.as_deref(), op.description.as_deref()),
        deprecated: op.deprecated,
        required_params: params.iter().filter(|p| p.required).cloned().collect(),
        optional_params: params.iter().filter(|p| !p.required).cloned().collect(),
        params,
        options_type: op
            .options_type
            .and_then(|id| spell.types.get(&id))
            .map(|def| format!("{}{}", spell.prefix, def.rust_name)),
        body: op.body.as_ref().map(|b| body(b, spell)),
        has_args: !op.params.is_empty() || op.body.is_some(),
        returns,
        finish,
        arms,
        other_arm,
        with_headers: op.success_headers,
        response_docs: response_docs(op, spell),
        errors: op
            .errors
            .as_ref()
            .map(|e| format!("super::errors::{}", e.rust_name)),
        responses: op
            .responses
            .iter()
            .map(|r| ResponseView {
                status: match r.status {
                    StatusMatch::Code(c) => format!("d::StatusMatch::Code({c})"),
                    StatusMatch::Range(d) => format!("d::StatusMatch::Range({d})"),
                    StatusMatch::Default => "d::StatusMatch::Default".to_owned(),
                },
                media_type: r.media_type.clone(),
            })
            .collect(),
        param_refs: Vec::new(),
        response_refs: Vec::new(),
        servers: op.servers.iter().map(server).collect(),
        server_refs: Vec::new(),
        security: op.security.clone(),
        auth_doc: super::text::auth_sentence(&op.security),
    }
}

fn server(s: &crate::ir::Server) -> ServerView {
    ServerView {
        url: s.url.clone(),
        description: s.description.clone(),
        variables: s
            .variables
            .iter()
            .map(|v| VariableView {
                name: v.name.clone(),
                default: v.default.clone(),
                allowed: v.allowed.clone(),
                description: v.description.clone(),
            })
            .collect(),
    }
}

fn body(b: &crate::ir::RequestBody, spell: &Spell<'_>) -> BodyView {
    const MULTIPART: &str = "::connector_runtime::Multipart";
    const BINARY: &str = "::connector_runtime::Binary";
    let (arg_type, pass, setter) = match (b.kind, b.required) {
        (BodyKind::Json | BodyKind::Form, true) => {
            (spell.arg(&b.ty), spell.pass(&b.ty, "body"), "json_body")
        }
        (BodyKind::Json | BodyKind::Form, false)
            if b.ty == TypeRef::Primitive(Primitive::String) =>
        {
            ("Option<&str>".to_owned(), "body".to_owned(), "json_body")
        }
        (BodyKind::Json | BodyKind::Form, false) => (
            format!("Option<&{}>", spell.ty(&b.ty)),
            "body".to_owned(),
            "json_body",
        ),
        (BodyKind::Multipart, true) => (MULTIPART.to_owned(), "body".to_owned(), "multipart_body"),
        (BodyKind::Multipart, false) => (
            format!("Option<{MULTIPART}>"),
            "body".to_owned(),
            "multipart_body",
        ),
        (BodyKind::Text, true) => ("&str".to_owned(), "body".to_owned(), "text_body"),
        (BodyKind::Text, false) => ("Option<&str>".to_owned(), "body".to_owned(), "text_body"),
        (BodyKind::Binary, true) => (
            format!("impl Into<{BINARY}>"),
            "body".to_owned(),
            "binary_body",
        ),
        (BodyKind::Binary, false) => (
            format!("Option<{BINARY}>"),
            "body".to_owned(),
            "binary_body",
        ),
    };
    let value = "::connector_runtime::serde_json::Value".to_owned();
    let (owned_type, call_pass) = match (b.kind, b.required) {
        (BodyKind::Json | BodyKind::Form, true) => (
            spell.ty(&b.ty),
            match &b.ty {
                TypeRef::Primitive(p) if *p != Primitive::String => "body".to_owned(),
                _ => "&body".to_owned(),
            },
        ),
        (BodyKind::Json | BodyKind::Form, false)
            if b.ty == TypeRef::Primitive(Primitive::String) =>
        {
            ("Option<String>".to_owned(), "body.as_deref()".to_owned())
        }
        (BodyKind::Json | BodyKind::Form, false) => (
            format!("Option<{}>", spell.ty(&b.ty)),
            "body.as_ref()".to_owned(),
        ),
        (BodyKind::Multipart, true) => {
            (value, format!("{MULTIPART}::from_json(&body, &encoding)?"))
        }
        (BodyKind::Multipart, false) => (
            format!("Option<{value}>"),
            format!("body.map(|b| {MULTIPART}::from_json(&b, &encoding)).transpose()?"),
        ),
        (BodyKind::Text, true) => ("String".to_owned(), "&body".to_owned()),
        (BodyKind::Text, false) => ("Option<String>".to_owned(), "body.as_deref()".to_owned()),
        (BodyKind::Binary, true) => ("String".to_owned(), "body.into_bytes()".to_owned()),
        (BodyKind::Binary, false) => (
            "Option<String>".to_owned(),
            format!("body.map(|b| {BINARY}::bytes(b.into_bytes()))"),
        ),
    };
    BodyView {
        owned_type,
        call_pass,
        media_types: b.media_types.clone(),
        required: b.required,
        arg_type,
        pass,
        docs: b.docs.clone(),
        setter,
        fallible: setter == "json_body",
        encoding: b
            .encoding
            .iter()
            .map(|e| EncodingView {
                property: e.property.clone(),
                content_type: e.content_type.clone(),
                style: style_name(e.style),
                explode: e.explode,
                allow_reserved: e.allow_reserved,
            })
            .collect(),
        content_type_field: b.content_type_field.as_ref().map(|f| f.rust_name.clone()),
    }
}

fn style_name(style: Style) -> &'static str {
    match style {
        Style::Simple => "Simple",
        Style::Label => "Label",
        Style::Matrix => "Matrix",
        Style::Form => "Form",
        Style::SpaceDelimited => "SpaceDelimited",
        Style::TabDelimited => "TabDelimited",
        Style::PipeDelimited => "PipeDelimited",
        Style::DeepObject => "DeepObject",
    }
}

fn param(p: &crate::ir::Parameter, spell: &Spell<'_>) -> ParamView {
    let (location, setter) = match p.location {
        Location::Path => ("Path", "path"),
        Location::Query => ("Query", "query"),
        Location::Header => ("Header", "header"),
        Location::Cookie => ("Cookie", "cookie"),
    };
    ParamView {
        wire_name: p.wire_name.clone(),
        name: p.rust_name.clone(),
        location,
        setter,
        required: p.required,
        style: style_name(p.style),
        explode: p.explode,
        allow_reserved: p.allow_reserved,
        json: p.json,
        arg_type: spell.arg(&p.ty),
        pass: if p.required {
            spell.pass(&p.ty, &p.rust_name)
        } else {
            format!("&options.{}", p.rust_name)
        },
        docs: p.docs.clone(),
        owned_type: spell.ty(&p.ty),
        input_key: p.wire_name.clone(),
        call_pass: match &p.ty {
            TypeRef::Primitive(Primitive::String) => format!("&{}", p.rust_name),
            TypeRef::Primitive(_) => p.rust_name.clone(),
            _ => format!("&{}", p.rust_name),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{status_pattern, StatusMatch};

    #[test]
    fn range_patterns_leave_out_declared_codes() {
        assert_eq!(status_pattern(StatusMatch::Range(2), &[]), "200..=299");
        assert_eq!(status_pattern(StatusMatch::Range(2), &[200]), "201..=299");
        assert_eq!(
            status_pattern(StatusMatch::Range(2), &[200, 202, 299]),
            "201 | 203..=298"
        );
        assert_eq!(status_pattern(StatusMatch::Code(204), &[204]), "204");
    }
}
