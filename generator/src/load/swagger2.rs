//! Swagger / OpenAPI 2.0 into the OpenAPI 3.0 form the rest of the pipeline reads.
//!
//! `host` + `basePath` + `schemes` become `servers`; `definitions`, `parameters`, `responses` and
//! `securityDefinitions` move under `components` (their references with them); an `in: body`
//! parameter becomes the request body with one media type per `consumes`, `in: formData`
//! parameters a form or multipart body (`type: file` a binary part); a response's `schema`
//! becomes content in each `produces` type, its `examples` their examples; `collectionFormat`
//! becomes `style` and `explode`; `x-nullable` becomes `nullable`. Every part that moves is
//! recorded in the [`SourceMap`], so diagnostics name the pointer the user wrote.

mod params;

pub use params::STYLE_EXTENSION;

use serde_json::{json, Map, Value};

use super::source_map::SourceMap;
use super::walk::each_schema;
use crate::diagnostics::{pointer, Diagnostic, Severity};
use crate::resolve::Spec;

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Converts the 2.0 document `source` into a 3.0 one, recording moves in `map`.
pub(super) fn convert(
    mut source: Value,
    map: &mut SourceMap,
    notes: &mut Vec<Diagnostic>,
) -> Value {
    // The definitions (most of a large document) move as they are, without a copy.
    let definitions = source
        .as_object_mut()
        .and_then(|m| m.shift_remove("definitions"));
    let source = &source;
    let empty = Map::new();
    let src = source.as_object().unwrap_or(&empty);
    let mut cx = Convert {
        spec: Spec::new(source),
        src,
        map,
        notes,
    };
    let mut out = Map::new();
    out.insert("openapi".into(), "3.0.3".into());
    for (key, value) in src {
        let copied = matches!(key.as_str(), "info" | "tags" | "externalDocs" | "security")
            || (key.starts_with("x-") && key != "x-ms-paths");
        if copied {
            out.insert(key.clone(), value.clone());
        }
    }
    let servers = cx.servers(src.get("schemes"));
    if !servers.is_empty() {
        out.insert("servers".into(), Value::Array(servers));
    }
    cx.map.record("#/servers", "#/host");
    for key in ["paths", "x-ms-paths"] {
        if let Some(Value::Object(paths)) = src.get(key) {
            let converted = cx.paths(paths, &pointer("#", key));
            out.insert(key.into(), Value::Object(converted));
        }
    }
    out.insert(
        "components".into(),
        Value::Object(cx.components(definitions)),
    );
    let mut doc = Value::Object(out);
    rewrite_refs(&mut doc);
    let mut fixes = SchemaFixes {
        map: cx.map,
        notes: cx.notes,
    };
    each_schema(&mut doc, "#", &mut |schema, at| fixes.schema(schema, at));
    doc
}

struct Convert<'s, 'm> {
    spec: Spec<'s>,
    src: &'s Map<String, Value>,
    map: &'m mut SourceMap,
    notes: &'m mut Vec<Diagnostic>,
}

impl Convert<'_, '_> {
    fn warn(&mut self, at: &str, message: impl Into<String>) {
        self.notes.push(Diagnostic {
            pointer: at.to_owned(),
            severity: Severity::Warning,
            message: message.into(),
            line: None,
            code: None,
        });
    }

    /// One server per scheme (`http`, `https`); a spec without `host` gets a relative server,
    /// which the connection's base URL completes.
    fn servers(&mut self, schemes: Option<&Value>) -> Vec<Value> {
        let base = self
            .src
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("/");
        let base = base.trim_end_matches('/');
        let Some(host) = self.src.get("host").and_then(Value::as_str) else {
            self.warn(
                "#",
                format!("the spec has no `host`: its server is the relative URL `{}`, so a connection must set a base URL", if base.is_empty() { "/" } else { base }),
            );
            return vec![json!({ "url": if base.is_empty() { "/" } else { base } })];
        };
        let mut schemes: Vec<&str> = schemes
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // The document's own scheme is the default; unknown here, so HTTPS is assumed.
        if schemes.is_empty() {
            schemes.push("https");
        }
        // HTTPS first: it is the one a connection should pick by default.
        schemes.sort_by_key(|s| *s != "https");
        schemes
            .into_iter()
            .filter(|s| matches!(*s, "http" | "https"))
            .map(|scheme| json!({ "url": format!("{scheme}://{host}{base}") }))
            .collect()
    }

    fn paths(&mut self, paths: &Map<String, Value>, at: &str) -> Map<String, Value> {
        let mut out = Map::new();
        for (path, item) in paths {
            let item_at = pointer(at, path);
            let converted = match item.as_object() {
                Some(item) if !item.contains_key("$ref") => self.path_item(item, &item_at),
                _ => item.clone(),
            };
            out.insert(path.clone(), converted);
        }
        out
    }

    fn path_item(&mut self, item: &Map<String, Value>, at: &str) -> Value {
        let mut out = Map::new();
        // Body and form parameters of the path apply to each of its operations' bodies.
        let shared = self.parameters(item.get("parameters"), &pointer(at, "parameters"));
        if !shared.plain.is_empty() {
            out.insert("parameters".into(), Value::Array(shared.plain.clone()));
        }
        for (key, value) in item {
            if key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            } else if METHODS.contains(&key.as_str()) {
                if let Some(op) = value.as_object() {
                    let op = self.operation(op, &pointer(at, key), &shared);
                    out.insert(key.clone(), op);
                }
            }
        }
        Value::Object(out)
    }

    fn operation(&mut self, op: &Map<String, Value>, at: &str, shared: &params::Split) -> Value {
        let mut out = Map::new();
        for (key, value) in op {
            let copied = matches!(
                key.as_str(),
                "tags"
                    | "summary"
                    | "description"
                    | "externalDocs"
                    | "operationId"
                    | "deprecated"
                    | "security"
            ) || key.starts_with("x-");
            if copied {
                out.insert(key.clone(), value.clone());
            }
        }
        let consumes = self.media_list(op, "consumes");
        let produces = self.media_list(op, "produces");
        let own = self.parameters(op.get("parameters"), &pointer(at, "parameters"));
        if !own.plain.is_empty() {
            out.insert("parameters".into(), Value::Array(own.plain.clone()));
        }
        // The operation's body or form parameters replace the path's of the same name.
        let body = own.body.clone().or_else(|| shared.body.clone());
        let mut form = shared.form.clone();
        for (name, param, from) in &own.form {
            form.retain(|(n, _, _)| n != name);
            form.push((name.clone(), param.clone(), from.clone()));
        }
        if let Some(body) = self.request_body(body, form, &consumes, at) {
            out.insert("requestBody".into(), body);
        }
        if let Some(Value::Object(responses)) = op.get("responses") {
            let responses_at = pointer(at, "responses");
            let mut converted = Map::new();
            for (code, response) in responses {
                let response_at = pointer(&responses_at, code);
                let value = match response.as_object() {
                    Some(r) if !r.contains_key("$ref") => {
                        self.response(r, &produces, &response_at, &response_at)
                    }
                    _ => response.clone(),
                };
                converted.insert(code.clone(), value);
            }
            out.insert("responses".into(), Value::Object(converted));
        }
        if let Some(schemes) = op.get("schemes") {
            if self.src.get("host").is_some() && Some(schemes) != self.src.get("schemes") {
                let servers = self.servers(Some(schemes));
                out.insert("servers".into(), Value::Array(servers));
                self.map
                    .record(pointer(at, "servers"), pointer(at, "schemes"));
            }
        }
        Value::Object(out)
    }

    /// `consumes` or `produces` of the operation, else of the document.
    fn media_list(&self, op: &Map<String, Value>, key: &str) -> Vec<String> {
        let list = |v: Option<&Value>| -> Option<Vec<String>> {
            let items: Vec<String> = v?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            Some(items)
        };
        list(op.get(key))
            .or_else(|| list(self.src.get(key)))
            .unwrap_or_default()
    }

    fn components(&mut self, definitions: Option<Value>) -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(definitions) = definitions {
            out.insert("schemas".into(), definitions);
            self.map.record("#/components/schemas", "#/definitions");
        }
        if let Some(Value::Object(parameters)) = self.src.get("parameters") {
            let mut converted = Map::new();
            for (name, param) in parameters {
                let at = pointer("#/parameters", name);
                let to = pointer("#/components/parameters", name);
                let in_body = matches!(
                    param.get("in").and_then(Value::as_str),
                    Some("body" | "formData")
                );
                // Body and form parameters are placed in the operations that use them.
                if let (false, Some(param)) = (in_body, param.as_object()) {
                    converted.insert(name.clone(), self.plain_parameter(param, &at, &to));
                }
            }
            if !converted.is_empty() {
                out.insert("parameters".into(), Value::Object(converted));
            }
        }
        if let Some(Value::Object(responses)) = self.src.get("responses") {
            let produces = self.media_list(&Map::new(), "produces");
            let mut converted = Map::new();
            for (name, response) in responses {
                let at = pointer("#/responses", name);
                let to = pointer("#/components/responses", name);
                if let Some(r) = response.as_object() {
                    converted.insert(name.clone(), self.response(r, &produces, &at, &to));
                }
            }
            out.insert("responses".into(), Value::Object(converted));
        }
        if let Some(Value::Object(schemes)) = self.src.get("securityDefinitions") {
            let mut converted = Map::new();
            for (name, scheme) in schemes {
                let at = pointer("#/securityDefinitions", name);
                let scheme = self.security_scheme(scheme, &at);
                if !scheme.is_null() {
                    converted.insert(name.clone(), scheme);
                }
            }
            out.insert("securitySchemes".into(), Value::Object(converted));
            self.map
                .record("#/components/securitySchemes", "#/securityDefinitions");
        }
        out
    }

    fn security_scheme(&mut self, scheme: &Value, at: &str) -> Value {
        let Some(map) = scheme.as_object() else {
            return scheme.clone();
        };
        let mut out = Map::new();
        for (key, value) in map {
            if key == "description" || key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            }
        }
        let text = |key: &str| map.get(key).cloned().unwrap_or(Value::Null);
        match map.get("type").and_then(Value::as_str) {
            Some("basic") => {
                out.insert("type".into(), "http".into());
                out.insert("scheme".into(), "basic".into());
            }
            Some("apiKey") => {
                out.insert("type".into(), "apiKey".into());
                out.insert("name".into(), text("name"));
                out.insert("in".into(), text("in"));
            }
            Some("oauth2") => {
                let scopes = map.get("scopes").cloned().unwrap_or_else(|| json!({}));
                let flow = match map.get("flow").and_then(Value::as_str) {
                    Some("implicit") => Some((
                        "implicit",
                        json!({"authorizationUrl": text("authorizationUrl"), "scopes": scopes}),
                    )),
                    Some("password") => Some((
                        "password",
                        json!({"tokenUrl": text("tokenUrl"), "scopes": scopes}),
                    )),
                    Some("application") => Some((
                        "clientCredentials",
                        json!({"tokenUrl": text("tokenUrl"), "scopes": scopes}),
                    )),
                    Some("accessCode") => Some((
                        "authorizationCode",
                        json!({"authorizationUrl": text("authorizationUrl"), "tokenUrl": text("tokenUrl"), "scopes": scopes}),
                    )),
                    _ => None,
                };
                out.insert("type".into(), "oauth2".into());
                match flow {
                    Some((name, flow)) => {
                        out.insert("flows".into(), json!({ name: flow }));
                        let converted =
                            at.replacen("#/securityDefinitions", "#/components/securitySchemes", 1);
                        let flows = pointer(&converted, "flows");
                        self.map.record(flows.clone(), pointer(at, "flow"));
                        self.map.record(
                            pointer(&pointer(&flows, name), "scopes"),
                            pointer(at, "scopes"),
                        );
                    }
                    None => {
                        self.warn(
                            &pointer(at, "flow"),
                            "an oauth2 scheme needs `flow` (implicit, password, application or accessCode); the scheme is ignored",
                        );
                        return Value::Null;
                    }
                }
            }
            _ => return scheme.clone(),
        }
        Value::Object(out)
    }

    /// A 2.0 response: `schema` in each produced media type, `examples` by media type,
    /// headers with schemas.
    fn response(
        &mut self,
        response: &Map<String, Value>,
        produces: &[String],
        original: &str,
        converted: &str,
    ) -> Value {
        let mut out = Map::new();
        self.map.record(converted, original);
        out.insert(
            "description".into(),
            response
                .get("description")
                .cloned()
                .unwrap_or_else(|| "".into()),
        );
        for (key, value) in response {
            if key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            }
        }
        if let Some(schema) = response.get("schema") {
            let is_file = schema.get("type").and_then(Value::as_str) == Some("file");
            let mut media: Vec<String> = produces.to_vec();
            if media.is_empty() {
                media.push(
                    if is_file {
                        "application/octet-stream"
                    } else {
                        "application/json"
                    }
                    .to_owned(),
                );
            }
            let examples = response.get("examples").and_then(Value::as_object);
            let content_at = pointer(converted, "content");
            let mut content = Map::new();
            for media_type in media {
                let mut entry = Map::new();
                entry.insert("schema".into(), schema.clone());
                if let Some(example) = examples.and_then(|e| e.get(&media_type)) {
                    entry.insert("example".into(), example.clone());
                    self.map.record(
                        pointer(&pointer(&content_at, &media_type), "example"),
                        pointer(&pointer(original, "examples"), &media_type),
                    );
                }
                self.map.record(
                    pointer(&pointer(&content_at, &media_type), "schema"),
                    pointer(original, "schema"),
                );
                content.insert(media_type, Value::Object(entry));
            }
            out.insert("content".into(), Value::Object(content));
        }
        if let Some(Value::Object(headers)) = response.get("headers") {
            let mut converted_headers = Map::new();
            for (name, header) in headers {
                let header_at = pointer(&pointer(original, "headers"), name);
                let to = pointer(&pointer(converted, "headers"), name);
                self.map.record(pointer(&to, "schema"), header_at.clone());
                let header = header.as_object().cloned().unwrap_or_default();
                let mut out_header = Map::new();
                if let Some(description) = header.get("description") {
                    out_header.insert("description".into(), description.clone());
                }
                out_header.insert(
                    "schema".into(),
                    Value::Object(params::schema_of(&header, &header_at, self.notes)),
                );
                converted_headers.insert(name.clone(), Value::Object(out_header));
            }
            out.insert("headers".into(), Value::Object(converted_headers));
        }
        Value::Object(out)
    }
}

/// `$ref`s follow their targets to `components`.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                for (from, to) in [
                    ("#/definitions/", "#/components/schemas/"),
                    ("#/parameters/", "#/components/parameters/"),
                    ("#/responses/", "#/components/responses/"),
                ] {
                    if let Some(rest) = reference.strip_prefix(from) {
                        *reference = format!("{to}{rest}");
                        break;
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                if !matches!(key.as_str(), "example" | "examples" | "default" | "enum") {
                    rewrite_refs(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// The 2.0 forms inside schemas: `x-nullable`, a discriminator given as a property name,
/// `type: file`.
struct SchemaFixes<'m> {
    map: &'m mut SourceMap,
    notes: &'m mut Vec<Diagnostic>,
}

impl SchemaFixes<'_> {
    fn schema(&mut self, value: &mut Value, at: &str) {
        let Value::Object(map) = value else {
            return;
        };
        if let Some(nullable) = map.shift_remove("x-nullable") {
            if nullable == Value::Bool(true) {
                map.insert("nullable".into(), true.into());
            }
        }
        if let Some(Value::String(property)) = map.get("discriminator") {
            let property = property.clone();
            map.insert("discriminator".into(), json!({ "propertyName": property }));
        }
        if map.get("type").and_then(Value::as_str) == Some("file") {
            map.insert("type".into(), "string".into());
            map.insert("format".into(), "binary".into());
        }
        if let Some(Value::Array(_)) = map.get("type") {
            let original = self.map.original(at);
            self.notes.push(Diagnostic {
                pointer: original,
                severity: Severity::Warning,
                message: "`type` must be one type name in Swagger 2.0; the schema is read as any JSON value".to_owned(),
                line: None,
                code: None,
            });
            map.shift_remove("type");
        }
        for key in ["properties", "definitions"] {
            if let Some(Value::Object(children)) = map.get_mut(key) {
                let base = pointer(at, key);
                for (name, child) in children.iter_mut() {
                    self.schema(child, &pointer(&base, name));
                }
            }
        }
        for key in ["items", "additionalProperties", "not"] {
            if let Some(child) = map.get_mut(key) {
                self.schema(child, &pointer(at, key));
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(members)) = map.get_mut(key) {
                let base = pointer(at, key);
                for (index, member) in members.iter_mut().enumerate() {
                    self.schema(member, &pointer(&base, &index.to_string()));
                }
            }
        }
    }
}
