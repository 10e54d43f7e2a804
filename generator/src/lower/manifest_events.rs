//! Events a manifest declares for a version whose spec declares none (`[[versions.webhooks]]`),
//! with the version's `webhook_signature` and `webhook_event`. Each is checked against the spec
//! before lowering (a mistake is an error naming the manifest key, never a skipped event), then
//! lowered with the spec's types like the spec's own events, with `source = "manifest"`.

use std::collections::BTreeMap;

use connector_model::catalogue::{EventKeys, WebhookSignature};
use openapiv3::{ReferenceOr, Schema};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::events::METHODS;
use super::types::{lower_schema, SchemaRef};
use super::{naming, Lowerer};
use crate::ir::{Method, TypeRef, Webhook, WebhookHeader, WebhookPayload};
use crate::load::{Document, SpecVersion};
use crate::resolve::Spec;

/// The `source` of an event a manifest declares.
pub const MANIFEST_SOURCE: &str = "manifest";

/// One `[[versions.webhooks]]` entry: an event the API sends, declared in the manifest.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// The event's name: its route (`POST /webhooks/NAME`) and its variant in the generated
    /// `Event`.
    pub name: String,
    /// The method the API calls the subscriber with (default `POST`).
    #[serde(default)]
    pub method: Option<String>,
    /// The payload's schema: `"#/components/schemas/Order"` (a `$ref` into the version's spec),
    /// or an inline JSON Schema (in the spec's dialect; its `$ref`s point into the spec). No
    /// payload: the event has no body.
    #[serde(default)]
    pub payload: Option<Value>,
    /// The event type a request carries when it is this event (default: the name).
    #[serde(default, rename = "type")]
    pub type_value: Option<String>,
    /// The headers the API sends with the event, by name.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderSpec>,
    /// One line on the event.
    #[serde(default)]
    pub summary: Option<String>,
    /// What the event means.
    #[serde(default)]
    pub description: Option<String>,
}

/// A header of a manifest's event.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderSpec {
    /// Whether every request carries it.
    #[serde(default)]
    pub required: bool,
    /// Its value's schema, as `payload` takes one (default: a string).
    #[serde(default)]
    pub schema: Option<Value>,
    /// What it holds.
    #[serde(default)]
    pub description: Option<String>,
}

/// What a manifest declares about a version's events, ready for lowering (see [`prepare`]).
#[derive(Debug, Clone, Default)]
pub struct DeclaredEvents {
    /// The version's key in the manifest (`versions[1]`): the events' pointers start with it.
    pub at: String,
    /// The events, their schemas in the form the lowering reads.
    pub webhooks: Vec<WebhookSpec>,
    /// How their requests are signed; wins over the spec's `x-connector-webhook-signature`.
    pub signature: Option<WebhookSignature>,
    /// How an event's type and id are found; wins over the spec's `x-connector-webhook-event`.
    pub keys: Option<EventKeys>,
}

/// The keys a signature table may have (those of `x-connector-webhook-signature`).
const SIGNATURE_KEYS: [&str; 8] = [
    "scheme",
    "header",
    "algorithm",
    "encoding",
    "prefix",
    "signed",
    "timestamp_header",
    "id_header",
];

/// `value` as a signature table; unknown keys are refused (a misspelt option must not leave a
/// receiver checking something else).
pub fn signature(value: &Value) -> Result<WebhookSignature, String> {
    strict(value, &SIGNATURE_KEYS)
}

/// `value` as event keys (`type` and `id`, each `{ header = NAME }` or `{ body = "/POINTER" }`).
pub fn event_keys(value: &Value) -> Result<EventKeys, String> {
    strict(value, &["type", "id"])
}

fn strict<T: serde::de::DeserializeOwned>(value: &Value, keys: &[&str]) -> Result<T, String> {
    if let Some(unknown) = value
        .as_object()
        .and_then(|map| map.keys().find(|k| !keys.contains(&k.as_str())))
    {
        return Err(format!(
            "unknown key `{unknown}` (the keys are {})",
            keys.join(", ")
        ));
    }
    serde_json::from_value(value.clone()).map_err(|err| err.to_string())
}

impl WebhookSpec {
    /// The method (default `POST`), or what is wrong with it.
    pub fn method(&self) -> Result<Method, String> {
        let Some(text) = &self.method else {
            return Ok(Method::Post);
        };
        METHODS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, method)| *method)
            .ok_or_else(|| {
                format!("`{text}` is not an HTTP method (GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH or TRACE)")
            })
    }

    /// What is wrong with the entry on its own (`at` is its key, `versions[1].webhooks[0]`).
    pub fn problems(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let name = &self.name;
        if name.trim().is_empty()
            || name
                .chars()
                .any(|c| c == '/' || c.is_whitespace() || c.is_control())
        {
            problems.push(format!(
                "`{at}.name`: `{name}` is not an event name (it is a URL path segment: no `/`, no spaces)"
            ));
        }
        if let Err(message) = self.method() {
            problems.push(format!("`{at}.method`: {message}"));
        }
        if self
            .type_value
            .as_ref()
            .is_some_and(|t| t.trim().is_empty())
        {
            problems.push(format!("`{at}.type`: empty"));
        }
        if let Some(payload) = &self.payload {
            if !matches!(payload, Value::String(_) | Value::Object(_)) {
                problems.push(format!(
                    "`{at}.payload`: expected a `$ref` such as \"#/components/schemas/Order\" or a JSON Schema table"
                ));
            }
        }
        for (header, spec) in &self.headers {
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if header.is_empty() || !header.chars().all(token) {
                problems.push(format!("`{at}.headers`: `{header}` is not a header name"));
            }
            if let Some(schema) = &spec.schema {
                if !matches!(schema, Value::String(_) | Value::Object(_)) {
                    problems.push(format!(
                        "`{at}.headers.{header}.schema`: expected a `$ref` or a JSON Schema table"
                    ));
                }
            }
        }
        problems
    }
}

/// The events of a version (its key `at` in the manifest), checked against its spec `document`
/// and put in the form the lowering reads: a `$ref` text becomes `{"$ref": ...}`, a reference
/// to a part the spec's normalising moved (a Swagger 2 `#/definitions/...`) follows it, and an
/// inline schema beside a 3.1 spec is read in 3.1's dialect as the spec's own are. Every
/// problem names its manifest key.
pub fn prepare(
    at: &str,
    webhooks: &[WebhookSpec],
    document: &Document,
) -> Result<Vec<WebhookSpec>, Vec<String>> {
    let mut problems = Vec::new();
    let mut prepared = Vec::new();
    for (index, webhook) in webhooks.iter().enumerate() {
        let at = format!("{at}.webhooks[{index}]");
        let mut webhook = webhook.clone();
        if let Some(payload) = webhook.payload.take() {
            match schema(payload, document) {
                Ok(schema) => webhook.payload = Some(schema),
                Err(message) => problems.push(format!("`{at}.payload`: {message}")),
            }
        }
        for (name, header) in &mut webhook.headers {
            if let Some(value) = header.schema.take() {
                match schema(value, document) {
                    Ok(schema) => header.schema = Some(schema),
                    Err(message) => {
                        problems.push(format!("`{at}.headers.{name}.schema`: {message}"))
                    }
                }
            }
        }
        prepared.push(webhook);
    }
    if problems.is_empty() {
        Ok(prepared)
    } else {
        Err(problems)
    }
}

/// One schema of the manifest, in the lowering's form, every `$ref` in it found in the spec.
fn schema(value: Value, document: &Document) -> Result<Value, String> {
    let mut value = match value {
        Value::String(reference) => json!({ "$ref": reference }),
        other => other,
    };
    if matches!(document.version, SpecVersion::OpenApi31(_)) {
        value = crate::load::upgrade_schema(value);
    }
    let spec = Spec::new(&document.root);
    let mut missing = None;
    each_ref(&mut value, &mut |reference| {
        if spec.get(reference).is_some() {
            return;
        }
        match document.source_map.converted(reference) {
            Some(moved) if spec.get(&moved).is_some() => *reference = moved,
            _ => {
                missing.get_or_insert_with(|| reference.clone());
            }
        }
    });
    if let Some(reference) = missing {
        return Err(format!(
            "`$ref` {reference:?} is not in the version's spec (write a pointer into it, such as \"#/components/schemas/Order\")"
        ));
    }
    serde_json::from_value::<ReferenceOr<Schema>>(value.clone())
        .map_err(|err| format!("not a schema: {err}"))?;
    Ok(value)
}

/// Calls `f` with every `$ref` text in `value`.
fn each_ref(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(reference) if key == "$ref" => f(reference),
                    _ => each_ref(child, f),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| each_ref(item, f)),
        _ => {}
    }
}

/// The declared events as IR events, their types lowered with the spec's.
pub(crate) fn lower(lw: &mut Lowerer<'_, '_>, declared: &DeclaredEvents) -> Vec<Webhook> {
    let mut out = Vec::new();
    for (index, spec) in declared.webhooks.iter().enumerate() {
        let at = format!("{}.webhooks[{index}]", declared.at);
        let hint = naming::type_name(&format!("{} event", spec.name));
        let payload = spec.payload.as_ref().map(|value| {
            let (ty, facts) = match serde_json::from_value::<ReferenceOr<Schema>>(value.clone()) {
                Ok(schema) => (
                    lower_schema(
                        lw,
                        SchemaRef::from(&schema),
                        &format!("{at}.payload"),
                        &format!("{hint}Payload"),
                    ),
                    super::facts::of_ref(&schema),
                ),
                // `prepare` parsed it already.
                Err(_) => (TypeRef::Json, Default::default()),
            };
            WebhookPayload {
                media_types: vec!["application/json".to_owned()],
                required: true,
                ty,
                facts,
                docs: None,
            }
        });
        let headers = spec
            .headers
            .iter()
            .map(|(name, header)| {
                let value = header
                    .schema
                    .clone()
                    .unwrap_or_else(|| json!({"type": "string"}));
                let ty = match serde_json::from_value::<ReferenceOr<Schema>>(value) {
                    Ok(schema) => lower_schema(
                        lw,
                        SchemaRef::from(&schema),
                        &format!("{at}.headers.{name}"),
                        &format!("{hint}{}", naming::type_name(name)),
                    ),
                    Err(_) => TypeRef::Json,
                };
                WebhookHeader {
                    name: name.clone(),
                    required: header.required,
                    ty: match ty {
                        TypeRef::Option(inner) => *inner,
                        other => other,
                    },
                    docs: header.description.clone().filter(|d| !d.trim().is_empty()),
                }
            })
            .collect();
        out.push(Webhook {
            name: spec.name.clone(),
            method: spec.method().unwrap_or(Method::Post),
            operation_id: None,
            summary: spec.summary.clone().filter(|s| !s.trim().is_empty()),
            description: spec.description.clone().filter(|s| !s.trim().is_empty()),
            payload,
            headers,
            pointer: at,
            source: MANIFEST_SOURCE.to_owned(),
            type_value: spec.type_value.clone(),
            expression: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(value: Value) -> WebhookSpec {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn methods_default_to_post_and_are_checked() {
        assert_eq!(event(json!({"name": "a"})).method(), Ok(Method::Post));
        assert_eq!(
            event(json!({"name": "a", "method": "patch"})).method(),
            Ok(Method::Patch)
        );
        let problems = event(json!({"name": "a", "method": "FETCH"})).problems("w");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("`w.method`: `FETCH`"),
            "{problems:?}"
        );
    }

    #[test]
    fn names_headers_and_payload_forms_are_checked() {
        let fine = event(json!({
            "name": "order.paid",
            "payload": "#/components/schemas/Order",
            "headers": {"X-Sig": {"required": true, "schema": {"type": "string"}}},
        }));
        assert!(fine.problems("w").is_empty());
        let problems = event(json!({
            "name": "a b",
            "type": " ",
            "payload": [1],
            "headers": {"X:Sig": {"schema": 3}},
        }))
        .problems("w");
        for key in [
            "`w.name`",
            "`w.type`",
            "`w.payload`",
            "`w.headers`",
            "`w.headers.X:Sig.schema`",
        ] {
            assert!(
                problems.iter().any(|p| p.starts_with(key)),
                "{key}: {problems:?}"
            );
        }
    }

    #[test]
    fn signature_and_event_key_tables_refuse_unknown_keys() {
        let signature =
            signature(&json!({"scheme": "hmac", "header": "X-Sig", "prefix": "sha256="})).unwrap();
        assert_eq!(signature.header.as_deref(), Some("X-Sig"));
        let err = super::signature(&json!({"scheme": "hmac", "heder": "X"})).unwrap_err();
        assert!(err.contains("unknown key `heder`"), "{err}");
        assert!(super::signature(&json!({"scheme": "carrier-pigeon"})).is_err());
        let keys = event_keys(&json!({"type": {"header": "X-Event"}, "id": {"body": "/id"}}));
        assert!(keys.is_ok_and(|k| k.event_type.is_some() && k.event_id.is_some()));
        let err = event_keys(&json!({"kind": {"header": "X"}})).unwrap_err();
        assert!(err.contains("unknown key `kind`"), "{err}");
    }

    #[test]
    fn schemas_are_found_in_the_spec_or_refused() {
        let document = crate::load::load(
            br#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
                "components": {"schemas": {"Order": {"type": "object"}}}}"#,
            1 << 20,
        )
        .unwrap();
        let events = [
            event(json!({"name": "a", "payload": "#/components/schemas/Order"})),
            event(
                json!({"name": "b", "payload": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}}}),
            ),
        ];
        let prepared = prepare("versions[0]", &events, &document).unwrap();
        assert_eq!(
            prepared[0].payload,
            Some(json!({"$ref": "#/components/schemas/Order"}))
        );
        let wrong = [event(
            json!({"name": "a", "payload": "#/components/schemas/Nope"}),
        )];
        let problems = prepare("versions[0]", &wrong, &document).unwrap_err();
        assert!(
            problems[0].starts_with(
                "`versions[0].webhooks[0].payload`: `$ref` \"#/components/schemas/Nope\""
            ),
            "{problems:?}"
        );
        let external = [event(json!({"name": "a", "payload": "other.yaml#/Order"}))];
        assert!(prepare("versions[0]", &external, &document).is_err());
    }
}
