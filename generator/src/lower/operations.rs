//! Operations become actions: parameters merged and named, bodies and responses typed.

use std::borrow::Cow;

use openapiv3::{Parameter as OaParameter, ParameterSchemaOrContent, ReferenceOr, StatusCode};
use serde_json::Value;

use super::naming::{self, Namespace};
use super::select::Include;
use super::types::{lower_schema, optional, SchemaRef};
use super::Lowerer;
use crate::diagnostics::{pointer, Diagnostic};
use crate::hashing::FastSet;
use crate::ir::{
    BodyKind, ContentTypeField, ErrorVariant, Facts, Field, Location, Method, Operation, Parameter,
    PropertyEncoding, RequestBody, Response, SecurityScheme, StatusMatch, StatusVariant, Style,
    Success, TypeDef, TypeKind, TypeRef, Variant,
};

const METHODS: [(&str, Method); 8] = [
    ("get", Method::Get),
    ("put", Method::Put),
    ("post", Method::Post),
    ("delete", Method::Delete),
    ("options", Method::Options),
    ("head", Method::Head),
    ("patch", Method::Patch),
    ("trace", Method::Trace),
];

/// Names the client already uses for its own methods, and argument names the wrapper uses.
const CLIENT_METHODS: &[&str] = &["new", "connection", "connector"];
const RESERVED_ARGS: &[&str] = &["options", "body", "args", "self_"];

struct Names {
    functions: Namespace,
    constants: Namespace,
    /// Error enum names (their own module's namespace).
    errors: Namespace,
    /// Action ids taken so far: a set, as an API may have ten thousand.
    ids: FastSet<String>,
}

/// Lowers the operations that `include` keeps. Every operation's action id and Rust names are
/// claimed all the same, so that an action is named alike in a subset and in the whole connector.
pub(crate) fn lower_operations(
    lw: &mut Lowerer<'_, '_>,
    schemes: &[SecurityScheme],
    include: &Include,
) -> Vec<Operation> {
    let spec = lw.spec;
    let Some(paths) = spec.root().get("paths").and_then(Value::as_object) else {
        lw.diags.warn(
            "#/paths",
            "the spec has no `paths`; the connector has no actions",
        );
        return Vec::new();
    };
    let global_security = spec.root().get("security");
    if let Some(overloads) = spec
        .root()
        .get("x-ms-paths")
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
    {
        lw.diags.warn(
            "#/x-ms-paths",
            format!("`x-ms-paths` (paths told apart by a fixed query string) are not generated: its {} path(s) have no action; a query string has no place in an OpenAPI path template", overloads.len()),
        );
    }
    let mut names = Names {
        functions: Namespace::with_reserved(CLIENT_METHODS),
        constants: Namespace::with_reserved(&["OPERATIONS"]),
        errors: Namespace::default(),
        ids: FastSet::default(),
    };
    let mut out = Vec::new();
    for (path, item) in paths {
        lw.path_parameters.clear();
        let item_at = pointer("#/paths", path);
        if !path.starts_with('/') {
            lw.diags.warn(
                &item_at,
                format!("path {path:?} does not start with `/`; it is used as written"),
            );
        }
        if let Some(problem) = super::connector::path_template_problem(path) {
            lw.diags.warn(
                &item_at,
                format!("path template {path:?} {problem}; its operations are left out"),
            );
            continue;
        }
        let (item, item_at) = match spec.follow(item, &item_at) {
            Ok(found) => found,
            Err(diag) => {
                lw.diags.fragment_failed(diag, "path skipped");
                continue;
            }
        };
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared_params = item.get("parameters");
        // Lowered with the path's first kept operation: a subset warns only about what it keeps.
        let mut path_servers = None;
        for (key, method) in METHODS {
            let Some(op_value) = item.get(key) else {
                continue;
            };
            let at = pointer(&item_at, key);
            let op: openapiv3::Operation =
                match spec.parse(&super::servers::without_servers(op_value), &at) {
                    Ok(op) => op,
                    Err(diag) => {
                        lw.diags.fragment_failed(diag, "operation skipped");
                        continue;
                    }
                };
            let context = OpContext {
                path,
                method,
                at: &at,
                item_at: &item_at,
                shared_params,
                global_security,
                schemes,
            };
            if let Some(mut operation) = lower_operation(lw, &op, &context, &mut names, include) {
                let path_servers = path_servers
                    .get_or_insert_with(|| super::servers::path_servers(lw, item, &item_at));
                operation.servers =
                    super::servers::operation_servers(lw, op_value, &at, path_servers.as_deref());
                out.push(operation);
            }
        }
    }
    out
}

struct OpContext<'c> {
    path: &'c str,
    method: Method,
    at: &'c str,
    item_at: &'c str,
    shared_params: Option<&'c Value>,
    global_security: Option<&'c Value>,
    schemes: &'c [SecurityScheme],
}

fn lower_operation(
    lw: &mut Lowerer<'_, '_>,
    op: &openapiv3::Operation,
    cx: &OpContext<'_>,
    names: &mut Names,
    include: &Include,
) -> Option<Operation> {
    let id = operation_id(lw, op, cx, names);
    let rust_name = names.functions.claim(naming::snake_name(&id, "operation"));
    let const_name = names.constants.claim(naming::const_name(&id));
    let type_hint = naming::type_name(&id);
    let errors_name = names.errors.claim(super::errors::enum_name(&type_hint));
    if !include.keeps(&id, cx.path, &op.tags) {
        return None;
    }

    let mut params = parameters(lw, op, cx, &type_hint)?;
    let mut arg_names = Namespace::with_reserved(RESERVED_ARGS);
    // Required parameters become positional arguments, in spec order, before the optional ones.
    params.sort_by_key(|p| !p.required);
    for param in &mut params {
        param.rust_name = arg_names.claim(naming::snake_name(&param.wire_name, "param"));
    }
    let mut body = request_body(lw, op, cx.at, &type_hint);
    if let Some(body) = body.as_mut().filter(|b| b.media_types.len() > 1) {
        body.content_type_field = Some(content_type_choice(
            lw,
            body,
            &type_hint,
            &mut arg_names,
            cx.at,
        ));
    }
    let options_type = options_struct(
        lw,
        &params,
        body.as_ref(),
        &type_hint,
        naming::unraw(&rust_name),
        cx.at,
    );
    let (success, success_headers, responses, error_variants) =
        responses(lw, op, cx.at, &type_hint);
    let security = security(lw, op, cx);
    Some(Operation {
        id,
        rust_name,
        const_name,
        method: cx.method,
        path: cx.path.to_owned(),
        summary: op.summary.clone().filter(|s| !s.trim().is_empty()),
        description: op.description.clone().filter(|s| !s.trim().is_empty()),
        tags: op.tags.clone(),
        features: Vec::new(),
        deprecated: op.deprecated,
        idempotent: op
            .extensions
            .get("x-connector-idempotent")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
        params,
        options_type,
        body,
        success,
        success_headers,
        responses,
        errors: super::errors::error_enum(errors_name, error_variants),
        security,
        servers: Vec::new(),
        pointer: cx.at.to_owned(),
    })
}

fn operation_id(
    lw: &mut Lowerer<'_, '_>,
    op: &openapiv3::Operation,
    cx: &OpContext<'_>,
    names: &mut Names,
) -> String {
    let base = match op.operation_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("{} {}", cx.method_name(), cx.path),
    };
    let mut id = base.clone();
    let mut n = 2;
    while names.ids.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    if id != base {
        lw.diags.warn(
            pointer(cx.at, "operationId"),
            format!("operationId {base:?} is used more than once; this operation's action is named {id:?}"),
        );
    }
    names.ids.insert(id.clone());
    id
}

impl OpContext<'_> {
    fn method_name(&self) -> &'static str {
        METHODS
            .iter()
            .find(|(_, m)| *m == self.method)
            .map_or("get", |(name, _)| *name)
    }
}

fn parameters(
    lw: &mut Lowerer<'_, '_>,
    op: &openapiv3::Operation,
    cx: &OpContext<'_>,
    type_hint: &str,
) -> Option<Vec<Parameter>> {
    let mut found: Vec<(OaParameter, String)> = Vec::new();
    let shared: &[Value] = cx
        .shared_params
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let shared_at = pointer(cx.item_at, "parameters");
    let own: Vec<(Cow<'_, Value>, String, bool)> = op
        .parameters
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            serde_json::to_value(p).ok().map(|v| {
                let at = pointer(&pointer(cx.at, "parameters"), &i.to_string());
                (Cow::Owned(v), at, false)
            })
        })
        .collect();
    let shared = shared
        .iter()
        .enumerate()
        .map(|(i, v)| (Cow::Borrowed(v), pointer(&shared_at, &i.to_string()), true));
    // Operation parameters come last so they replace path-item ones with the same name and location.
    for (value, at, of_path) in shared.chain(own) {
        let param = match resolve_parameter(lw, &value, &at, of_path) {
            Ok(found) => found,
            Err(diag) => {
                lw.diags.fragment_failed(diag, "parameter ignored");
                continue;
            }
        };
        let key = (location_of(&param), param.parameter_data_ref().name.clone());
        found.retain(|(p, _)| (location_of(p), p.parameter_data_ref().name.clone()) != key);
        found.push((param, at));
    }

    let mut params = Vec::new();
    let mut ok = true;
    for (param, at) in &found {
        match lower_parameter(lw, param, at, type_hint) {
            Ok(Some(p)) => params.push(p),
            Ok(None) => {}
            Err(()) => ok = false,
        }
    }
    for placeholder in super::connector::placeholders(cx.path) {
        if !params
            .iter()
            .any(|p| p.location == Location::Path && p.wire_name == placeholder)
        {
            lw.diags.warn(
                cx.at,
                format!("path parameter `{placeholder}` is used in the path but not declared; it is taken as a required string"),
            );
            params.push(Parameter {
                wire_name: placeholder,
                rust_name: String::new(),
                location: Location::Path,
                required: true,
                style: Style::Simple,
                explode: false,
                allow_reserved: false,
                json: false,
                ty: TypeRef::Primitive(crate::ir::Primitive::String),
                docs: None,
                deprecated: false,
                facts: Facts::default(),
            });
        }
    }
    let placeholders = super::connector::placeholders(cx.path);
    params.retain(|p| {
        let keep = p.location != Location::Path || placeholders.contains(&p.wire_name);
        if !keep {
            lw.diags.warn(
                cx.at,
                format!(
                    "path parameter `{}` is declared but not used in the path; it is ignored",
                    p.wire_name
                ),
            );
        }
        keep
    });
    ok.then_some(params)
}

/// The parameter `value` (found at `at`) is or refers to. A parameter reached by `$ref`, or
/// one of a path item (`of_path`, the same value for each of the path's operations), is parsed
/// once and cloned for every later use; errors are not kept, so each use reports its own.
fn resolve_parameter(
    lw: &mut Lowerer<'_, '_>,
    value: &Value,
    at: &str,
    of_path: bool,
) -> Result<OaParameter, Diagnostic> {
    let reference = crate::resolve::ref_of(value);
    let (known, key) = match reference {
        Some(reference) => (&mut lw.shared_parameters, Some(reference)),
        None => (&mut lw.path_parameters, of_path.then_some(at)),
    };
    if let Some(found) = key.and_then(|key| known.get(key)) {
        return Ok(found.clone());
    }
    let (param, _) = lw.spec.resolve::<OaParameter>(value, at)?;
    if let Some(key) = key {
        known.insert(key.to_owned(), param.clone());
    }
    Ok(param)
}

/// The response `reference` (written at `at`) refers to, with the pointer it ends at, parsed
/// once per spec: an API refers to a few shared responses from thousands of operations.
fn resolve_response(
    lw: &mut Lowerer<'_, '_>,
    reference: &str,
    at: &str,
) -> Result<(openapiv3::Response, String), Diagnostic> {
    if let Some(known) = lw.shared_responses.get(reference) {
        return Ok(known.clone());
    }
    let spec = lw.spec;
    let found = spec
        .lookup(reference, at)
        .and_then(|v| spec.resolve::<openapiv3::Response>(v, reference))?;
    lw.shared_responses
        .insert(reference.to_owned(), found.clone());
    Ok(found)
}

fn location_of(param: &OaParameter) -> Location {
    match param {
        OaParameter::Query { .. } => Location::Query,
        OaParameter::Header { .. } => Location::Header,
        OaParameter::Path { .. } => Location::Path,
        OaParameter::Cookie { .. } => Location::Cookie,
    }
}

/// Headers the HTTP client owns (framing, routing, hop-by-hop connection management; RFC 9110
/// §7.6.1, RFC 9112): a spec may declare them, but a value from the caller cannot work.
const CLIENT_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "upgrade",
    "te",
    "trailer",
    "expect",
];

/// Whether `name` is an RFC 9110 token, the only legal form of a header name.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `Ok(None)`: ignored with a warning; `Err`: an error that stops generation was recorded.
fn lower_parameter(
    lw: &mut Lowerer<'_, '_>,
    param: &OaParameter,
    at: &str,
    type_hint: &str,
) -> Result<Option<Parameter>, ()> {
    let data = param.parameter_data_ref();
    let location = location_of(param);
    let (style, allow_reserved) = match param {
        OaParameter::Query {
            style,
            allow_reserved,
            ..
        } => (
            match style {
                openapiv3::QueryStyle::Form => Style::Form,
                openapiv3::QueryStyle::SpaceDelimited => Style::SpaceDelimited,
                openapiv3::QueryStyle::PipeDelimited => Style::PipeDelimited,
                openapiv3::QueryStyle::DeepObject => Style::DeepObject,
            },
            *allow_reserved,
        ),
        OaParameter::Path { style, .. } => (
            match style {
                openapiv3::PathStyle::Matrix => Style::Matrix,
                openapiv3::PathStyle::Label => Style::Label,
                openapiv3::PathStyle::Simple => Style::Simple,
            },
            false,
        ),
        OaParameter::Header { .. } => (Style::Simple, false),
        OaParameter::Cookie { .. } => (Style::Form, false),
    };
    if location == Location::Header {
        if !is_token(&data.name) {
            lw.diags.error(
                pointer(at, "name"),
                format!(
                    "header parameter name {:?} is not a valid HTTP header name (RFC 9110 token)",
                    data.name
                ),
            );
            return Err(());
        }
        if ["accept", "content-type", "authorization"]
            .contains(&data.name.to_ascii_lowercase().as_str())
        {
            lw.diags.warn(
                pointer(at, "name"),
                format!(
                    "header parameter `{}` is ignored, as OpenAPI requires; the runtime sets it",
                    data.name
                ),
            );
            return Ok(None);
        }
        if CLIENT_HEADERS.contains(&data.name.to_ascii_lowercase().as_str()) {
            lw.diags.warn(
                pointer(at, "name"),
                format!(
                    "header parameter `{}` is ignored: the HTTP client sets this header itself (it frames or routes the request), and a caller's value would corrupt the request or be refused",
                    data.name
                ),
            );
            return Ok(None);
        }
    }
    // Swagger 2.0's `collectionFormat: tsv` has no OpenAPI 3 style; the converter names it.
    let style = match data
        .extensions
        .get(crate::load::swagger2::STYLE_EXTENSION)
        .and_then(Value::as_str)
    {
        Some("tabDelimited") if location == Location::Query => Style::TabDelimited,
        _ => style,
    };
    let hint = format!("{type_hint}{}", naming::type_name(&data.name));
    let facts = match &data.format {
        ParameterSchemaOrContent::Schema(schema) => super::facts::of_ref(schema),
        ParameterSchemaOrContent::Content(content) => content
            .values()
            .next()
            .and_then(|m| m.schema.as_ref())
            .map(super::facts::of_ref)
            .unwrap_or_default(),
    };
    let (ty, json) = match &data.format {
        ParameterSchemaOrContent::Schema(schema) => (
            lower_schema(lw, SchemaRef::from(schema), &pointer(at, "schema"), &hint),
            false,
        ),
        // `content` has exactly one entry; any media type is sent as JSON text, the only
        // serialisation the runtime can produce for it.
        ParameterSchemaOrContent::Content(content) => {
            let first = content.iter().next();
            if let Some((media, _)) = first.filter(|(media, _)| !is_json(media)) {
                lw.diags.warn(
                    pointer(at, "content"),
                    format!("parameter media type {media:?} is not JSON; the value is sent as JSON text"),
                );
            }
            let ty = match first
                .and_then(|(media, m)| m.schema.as_ref().map(|schema| (media, schema)))
            {
                Some((media, schema)) => lower_schema(
                    lw,
                    SchemaRef::from(schema),
                    &pointer(&pointer(&pointer(at, "content"), media), "schema"),
                    &hint,
                ),
                None => TypeRef::Json,
            };
            (ty, true)
        }
    };
    // Nullability belongs to the value; whether it may be left out is `required`.
    let ty = match ty {
        TypeRef::Option(inner) => *inner,
        other => other,
    };
    Ok(Some(Parameter {
        wire_name: data.name.clone(),
        rust_name: String::new(),
        location,
        required: data.required || location == Location::Path,
        style,
        explode: data.explode.unwrap_or(style == Style::Form),
        allow_reserved,
        json,
        ty,
        docs: data.description.clone().filter(|d| !d.trim().is_empty()),
        deprecated: data.deprecated.unwrap_or(false),
        facts,
    }))
}

fn options_struct(
    lw: &mut Lowerer<'_, '_>,
    params: &[Parameter],
    body: Option<&RequestBody>,
    type_hint: &str,
    fn_name: &str,
    at: &str,
) -> Option<crate::ir::TypeId> {
    let mut fields: Vec<Field> = params
        .iter()
        .filter(|p| !p.required)
        .map(|p| Field {
            wire_name: p.wire_name.clone(),
            rust_name: p.rust_name.clone(),
            ty: optional(p.ty.clone()),
            optional: true,
            presence: crate::ir::Presence::Optional,
            needs_rename: false,
            docs: p.docs.clone(),
            deprecated: false,
            facts: Facts::default(),
        })
        .collect();
    if let Some(choice) = body.and_then(|b| b.content_type_field.as_ref()) {
        fields.push(Field {
            wire_name: "Content-Type".to_owned(),
            rust_name: choice.rust_name.clone(),
            ty: optional(TypeRef::Named(choice.ty)),
            optional: true,
            presence: crate::ir::Presence::Optional,
            needs_rename: false,
            docs: Some("Media type to send the request body as; `None` sends the default (JSON when offered).".to_owned()),
            deprecated: false,
            facts: Facts::default(),
        });
    }
    if fields.is_empty() {
        return None;
    }
    let (id, rust_name) = lw.new_type_id(&format!("{type_hint}Options"));
    lw.types.insert(
        id,
        TypeDef {
            rust_name,
            docs: Some(format!(
                "Optional parameters of [`Client::{fn_name}`](super::Client::{fn_name})."
            )),
            pointer: at.to_owned(),
            deprecated: false,
            kind: TypeKind::Options { fields },
            facts: Facts::default(),
        },
    );
    Some(id)
}

pub(crate) fn is_json(media_type: &str) -> bool {
    connector_model::descriptor::media_kind(media_type)
        == connector_model::descriptor::MediaKind::Json
}

fn request_body(
    lw: &mut Lowerer<'_, '_>,
    op: &openapiv3::Operation,
    at: &str,
    type_hint: &str,
) -> Option<RequestBody> {
    let body = op.request_body.as_ref()?;
    let body_at = pointer(at, "requestBody");
    let (body, body_at) = match body {
        ReferenceOr::Item(body) => (body.clone(), body_at),
        ReferenceOr::Reference { reference } => {
            let spec = lw.spec;
            match spec
                .lookup(reference, &body_at)
                .and_then(|v| spec.resolve::<openapiv3::RequestBody>(v, reference))
            {
                Ok(found) => found,
                Err(diag) => {
                    lw.diags.fragment_failed(diag, "request body ignored");
                    return None;
                }
            }
        }
    };
    let media_types: Vec<String> = body.content.keys().cloned().collect();
    let default = body
        .content
        .iter()
        .find(|(media, _)| is_json(media))
        .or_else(|| body.content.iter().next());
    let kind = default.map_or(BodyKind::Json, |(media, _)| body_kind(media));
    let content_at = pointer(&body_at, "content");
    let facts = default
        .and_then(|(_, content)| content.schema.as_ref())
        .map(super::facts::of_ref)
        .unwrap_or_default();
    let ty = match default {
        Some((media, content)) if matches!(kind, BodyKind::Json | BodyKind::Form) => {
            match &content.schema {
                Some(schema) => lower_schema(
                    lw,
                    SchemaRef::from(schema),
                    &pointer(&pointer(&content_at, media), "schema"),
                    &format!("{type_hint}Request"),
                ),
                None => TypeRef::Json,
            }
        }
        _ => TypeRef::Json,
    };
    // The runtime takes one `encoding` list: that of the first form or multipart media type.
    let encoding = body
        .content
        .iter()
        .find(|(media, m)| {
            matches!(body_kind(media), BodyKind::Form | BodyKind::Multipart)
                && !m.encoding.is_empty()
        })
        .map(|(media, m)| {
            m.encoding
                .iter()
                .map(|(property, e)| {
                    let style = match e.style {
                        Some(openapiv3::QueryStyle::SpaceDelimited) => Style::SpaceDelimited,
                        Some(openapiv3::QueryStyle::PipeDelimited) => Style::PipeDelimited,
                        Some(openapiv3::QueryStyle::DeepObject) => Style::DeepObject,
                        Some(openapiv3::QueryStyle::Form) | None => Style::Form,
                    };
                    // The model reads an absent `explode` as false; OpenAPI defaults it to true
                    // for `form`, so look at the document itself.
                    let explode_at = pointer(
                        &pointer(&pointer(&pointer(&content_at, media), "encoding"), property),
                        "explode",
                    );
                    let explode = lw
                        .spec
                        .get(&explode_at)
                        .and_then(Value::as_bool)
                        .unwrap_or(style == Style::Form);
                    PropertyEncoding {
                        property: property.clone(),
                        content_type: e.content_type.clone(),
                        style,
                        explode,
                        allow_reserved: e.allow_reserved,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Some(RequestBody {
        media_types,
        required: body.required,
        ty,
        docs: body.description.filter(|d| !d.trim().is_empty()),
        kind,
        encoding,
        content_type_field: None,
        facts,
    })
}

/// How the typed method takes a body of this media type: the runtime's own classification, so
/// the generated signature and the executor always agree.
fn body_kind(media: &str) -> BodyKind {
    use connector_model::descriptor::{media_kind, MediaKind};
    match media_kind(media) {
        MediaKind::Json => BodyKind::Json,
        MediaKind::Form => BodyKind::Form,
        MediaKind::Multipart => BodyKind::Multipart,
        MediaKind::Text => BodyKind::Text,
        MediaKind::Binary => BodyKind::Binary,
    }
}

/// An enum of the offered media types, for the options-struct field that picks one.
fn content_type_choice(
    lw: &mut Lowerer<'_, '_>,
    body: &RequestBody,
    type_hint: &str,
    arg_names: &mut Namespace,
    at: &str,
) -> ContentTypeField {
    let mut variant_names = Namespace::with_reserved(&[]);
    let variants = body
        .media_types
        .iter()
        .map(|media| Variant {
            rust_name: variant_names.claim(naming::variant_name(media)),
            wire_value: media.clone(),
        })
        .collect();
    let (id, rust_name) = lw.new_type_id(&format!("{type_hint}ContentType"));
    lw.types.insert(
        id,
        TypeDef {
            rust_name,
            docs: Some("Media types the request body can be sent as.".to_owned()),
            pointer: pointer(&pointer(at, "requestBody"), "content"),
            deprecated: false,
            kind: TypeKind::Enum { variants },
            facts: Facts::default(),
        },
    );
    ContentTypeField {
        rust_name: arg_names.claim("content_type".to_owned()),
        ty: id,
    }
}

fn responses(
    lw: &mut Lowerer<'_, '_>,
    op: &openapiv3::Operation,
    at: &str,
    type_hint: &str,
) -> (Success, bool, Vec<Response>, Vec<ErrorVariant>) {
    let responses_at = pointer(at, "responses");
    let mut declared: Vec<(StatusMatch, &ReferenceOr<openapiv3::Response>, String)> = op
        .responses
        .responses
        .iter()
        .map(|(code, r)| {
            let status = match code {
                StatusCode::Code(c) => StatusMatch::Code(*c),
                StatusCode::Range(r) => StatusMatch::Range(u8::try_from(*r).unwrap_or(0)),
            };
            (status, r, pointer(&responses_at, &code.to_string()))
        })
        .collect();
    if let Some(default) = &op.responses.default {
        declared.push((
            StatusMatch::Default,
            default,
            pointer(&responses_at, "default"),
        ));
    }
    // With several success responses, `{Op}Response` may be needed for their enum, so inline
    // schemas take the status in their name.
    let several_successes = declared
        .iter()
        .filter(|(s, _, _)| matches!(s, StatusMatch::Code(200..=299) | StatusMatch::Range(2)))
        .count()
        > 1;
    let mut out = Vec::new();
    let mut error_variants = Vec::new();
    for (status, response, at) in declared {
        let (response, at) = match response {
            ReferenceOr::Item(r) => (r.clone(), at),
            ReferenceOr::Reference { reference } => match resolve_response(lw, reference, &at) {
                Ok(found) => found,
                Err(diag) => {
                    lw.diags.fragment_failed(diag, "response ignored");
                    continue;
                }
            },
        };
        let json = response.content.iter().find(|(media, _)| is_json(media));
        let media_type = json
            .map(|(m, _)| m.clone())
            .or_else(|| response.content.keys().next().cloned());
        let ty = json.map(|(media, content)| match &content.schema {
            Some(schema) => {
                let suffix = match status {
                    StatusMatch::Code(c) if (200..300).contains(&c) && !several_successes => {
                        "Response".to_owned()
                    }
                    StatusMatch::Code(c) => format!("Response{c}"),
                    StatusMatch::Range(r) => format!("Response{r}xx"),
                    StatusMatch::Default => "DefaultResponse".to_owned(),
                };
                lower_schema(
                    lw,
                    SchemaRef::from(schema),
                    &pointer(&pointer(&pointer(&at, "content"), media), "schema"),
                    &format!("{type_hint}{suffix}"),
                )
            }
            None => TypeRef::Json,
        });
        let facts = json
            .and_then(|(_, content)| content.schema.as_ref())
            .map(super::facts::of_ref)
            .unwrap_or_default();
        let lowered = Response {
            facts,
            status,
            media_type,
            ty,
            headers: response.headers.keys().cloned().collect(),
            description: Some(response.description.clone()).filter(|d| !d.trim().is_empty()),
        };
        if super::errors::is_error(status) {
            error_variants.extend(super::errors::variants(
                lw, &response, &lowered, &at, type_hint,
            ));
        }
        out.push(lowered);
    }
    let is_success = |s: &StatusMatch| match s {
        StatusMatch::Code(c) => (200..300).contains(c),
        StatusMatch::Range(r) => *r == 2,
        StatusMatch::Default => false,
    };
    let mut successes: Vec<&Response> = out.iter().filter(|r| is_success(&r.status)).collect();
    // Codes first, in order; a `2XX` range last, so that it matches only what they do not.
    successes.sort_by_key(|r| match r.status {
        StatusMatch::Code(c) => c,
        _ => 300,
    });
    let body_of = |r: &Response| match (&r.ty, &r.media_type) {
        (Some(ty), _) => Success::Json(ty.clone()),
        (None, Some(_)) => Success::Raw,
        (None, None) => Success::Unit,
    };
    let success_headers = successes.iter().any(|r| !r.headers.is_empty());
    let bodies: Vec<Success> = successes.iter().map(|r| body_of(r)).collect();
    let success = if bodies.windows(2).any(|w| w[0] != w[1]) {
        let mut names = Namespace::with_reserved(&["Other"]);
        let variants = successes
            .iter()
            .zip(bodies)
            .map(|(r, body)| StatusVariant {
                rust_name: names.claim(status_variant_name(r.status)),
                status: r.status,
                body,
            })
            .collect();
        let (id, rust_name) = lw.new_type_id(&format!("{type_hint}Response"));
        lw.types.insert(
            id,
            TypeDef {
                rust_name,
                docs: Some(
                    "What the action returns, by the success status the server answered with."
                        .to_owned(),
                ),
                pointer: responses_at,
                deprecated: false,
                kind: TypeKind::Responses { variants },
                facts: Facts::default(),
            },
        );
        Success::ByStatus(id)
    } else {
        successes
            .first()
            .copied()
            .or_else(|| out.iter().find(|r| r.status == StatusMatch::Default))
            .map_or(Success::Unit, body_of)
    };
    // A raw response carries its headers already.
    let success_headers = success_headers && success != Success::Raw;
    (success, success_headers, out, error_variants)
}

/// The variant of a success status: its reason phrase, else `Status{code}`.
fn status_variant_name(status: StatusMatch) -> String {
    let phrase = match status {
        StatusMatch::Code(200) => "Ok",
        StatusMatch::Code(201) => "Created",
        StatusMatch::Code(202) => "Accepted",
        StatusMatch::Code(203) => "NonAuthoritativeInformation",
        StatusMatch::Code(204) => "NoContent",
        StatusMatch::Code(205) => "ResetContent",
        StatusMatch::Code(206) => "PartialContent",
        StatusMatch::Code(207) => "MultiStatus",
        StatusMatch::Code(208) => "AlreadyReported",
        StatusMatch::Code(226) => "ImUsed",
        StatusMatch::Code(code) => return format!("Status{code}"),
        StatusMatch::Range(_) | StatusMatch::Default => "Success",
    };
    phrase.to_owned()
}

fn security(
    lw: &mut Lowerer<'_, '_>,
    op: &openapiv3::Operation,
    cx: &OpContext<'_>,
) -> Vec<Vec<String>> {
    let requirements: Vec<openapiv3::SecurityRequirement> = match &op.security {
        Some(own) => own.clone(),
        None => match cx.global_security {
            Some(global) => match lw.spec.parse(global, "#/security") {
                Ok(parsed) => parsed,
                Err(diag) => {
                    lw.diags.fragment_failed(diag, "global security ignored");
                    Vec::new()
                }
            },
            None => Vec::new(),
        },
    };
    let mut out = Vec::new();
    for requirement in requirements {
        let names: Vec<String> = requirement.keys().cloned().collect();
        if let Some(unknown) = names
            .iter()
            .find(|n| !cx.schemes.iter().any(|s| &s.name == *n))
        {
            lw.diags.warn(
                pointer(cx.at, "security"),
                format!("security requirement names scheme `{unknown}`, which `components.securitySchemes` does not define; that alternative is dropped"),
            );
            continue;
        }
        out.push(names);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{is_json, is_token, status_variant_name};
    use crate::ir::StatusMatch;

    #[test]
    fn success_variants_are_named_by_reason_phrase() {
        assert_eq!(status_variant_name(StatusMatch::Code(201)), "Created");
        assert_eq!(status_variant_name(StatusMatch::Code(204)), "NoContent");
        assert_eq!(status_variant_name(StatusMatch::Code(299)), "Status299");
        assert_eq!(status_variant_name(StatusMatch::Range(2)), "Success");
    }

    #[test]
    fn header_tokens() {
        assert!(is_token("X-Request-Id"));
        assert!(!is_token("X-A: b"));
        assert!(!is_token("X A"));
        assert!(!is_token(""));
    }

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/vnd.github+json"));
        assert!(!is_json("text/plain"));
    }
}
