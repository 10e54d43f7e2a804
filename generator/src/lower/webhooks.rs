//! Webhooks (3.1 `webhooks`, 3.0 `x-webhooks`) become [`Webhook`] events: name, method, payload
//! type, declared headers. Their types are lowered like any other; no operation uses them, so a
//! generated crate keeps them behind the `unused-schemas` feature.

use openapiv3::{Parameter as OaParameter, ParameterSchemaOrContent, ReferenceOr};
use serde_json::Value;

use super::types::{lower_schema, SchemaRef};
use super::{naming, Lowerer};
use crate::diagnostics::pointer;
use crate::ir::{Method, TypeRef, Webhook, WebhookHeader, WebhookPayload};

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

/// The events of `webhooks` and `x-webhooks`, in spec order.
pub(crate) fn lower_webhooks(lw: &mut Lowerer<'_, '_>) -> Vec<Webhook> {
    let spec = lw.spec;
    let mut out = Vec::new();
    for key in ["webhooks", "x-webhooks"] {
        let Some(map) = spec.root().get(key).and_then(Value::as_object) else {
            continue;
        };
        for (name, item) in map {
            let item_at = pointer(&format!("#/{key}"), name);
            let (item, item_at) = match spec.follow(item, &item_at) {
                Ok(found) => found,
                Err(diag) => {
                    lw.diags.fragment_failed(diag, "webhook skipped");
                    continue;
                }
            };
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method_key, method) in METHODS {
                let Some(op) = item.get(method_key) else {
                    continue;
                };
                let at = pointer(&item_at, method_key);
                let op: openapiv3::Operation =
                    match spec.parse(&super::servers::without_servers(op), &at) {
                        Ok(op) => op,
                        Err(diag) => {
                            lw.diags.fragment_failed(diag, "webhook skipped");
                            continue;
                        }
                    };
                let hint = naming::type_name(&format!(
                    "{} webhook",
                    op.operation_id.as_deref().unwrap_or(name)
                ));
                let payload = payload(lw, &op, &at, &hint);
                let headers = headers(lw, item.get("parameters"), &item_at, &op, &at, &hint);
                out.push(Webhook {
                    name: name.clone(),
                    method,
                    operation_id: op.operation_id.clone().filter(|id| !id.trim().is_empty()),
                    summary: op.summary.clone().filter(|s| !s.trim().is_empty()),
                    description: op.description.clone().filter(|s| !s.trim().is_empty()),
                    payload,
                    headers,
                    pointer: at,
                });
            }
        }
    }
    out
}

/// The request body: its JSON media type's schema (else the first's), lowered.
fn payload(
    lw: &mut Lowerer<'_, '_>,
    op: &openapiv3::Operation,
    at: &str,
    hint: &str,
) -> Option<WebhookPayload> {
    let spec = lw.spec;
    let body_at = pointer(at, "requestBody");
    let (body, body_at) = match op.request_body.as_ref()? {
        ReferenceOr::Item(body) => (body.clone(), body_at),
        ReferenceOr::Reference { reference } => match spec
            .lookup(reference, &body_at)
            .and_then(|v| spec.resolve::<openapiv3::RequestBody>(v, reference))
        {
            Ok(found) => found,
            Err(diag) => {
                lw.diags
                    .fragment_failed(diag, "the webhook's payload is left out");
                return None;
            }
        },
    };
    let chosen = body
        .content
        .iter()
        .find(|(media, _)| super::operations::is_json(media))
        .or_else(|| body.content.iter().next());
    let (ty, facts) = match chosen.and_then(|(media, m)| m.schema.as_ref().map(|s| (media, s))) {
        Some((media, schema)) => {
            let schema_at = pointer(&pointer(&pointer(&body_at, "content"), media), "schema");
            (
                lower_schema(
                    lw,
                    SchemaRef::from(schema),
                    &schema_at,
                    &format!("{hint}Payload"),
                ),
                super::facts::of_ref(schema),
            )
        }
        None => (TypeRef::Json, Default::default()),
    };
    Some(WebhookPayload {
        media_types: body.content.keys().cloned().collect(),
        required: body.required,
        ty,
        facts,
        docs: body.description.filter(|d| !d.trim().is_empty()),
    })
}

/// The header parameters of the path item and the operation (the operation's win).
fn headers(
    lw: &mut Lowerer<'_, '_>,
    shared: Option<&Value>,
    item_at: &str,
    op: &openapiv3::Operation,
    at: &str,
    hint: &str,
) -> Vec<WebhookHeader> {
    let spec = lw.spec;
    let mut listed: Vec<(Value, String)> = Vec::new();
    for (index, value) in shared
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        listed.push((
            value.clone(),
            pointer(&pointer(item_at, "parameters"), &index.to_string()),
        ));
    }
    for (index, param) in op.parameters.iter().enumerate() {
        if let Ok(value) = serde_json::to_value(param) {
            listed.push((
                value,
                pointer(&pointer(at, "parameters"), &index.to_string()),
            ));
        }
    }
    let mut out: Vec<WebhookHeader> = Vec::new();
    for (value, param_at) in listed {
        let (param, param_at) = match spec.resolve::<OaParameter>(&value, &param_at) {
            Ok(found) => found,
            Err(diag) => {
                lw.diags.fragment_failed(diag, "header ignored");
                continue;
            }
        };
        let OaParameter::Header {
            parameter_data: data,
            ..
        } = param
        else {
            continue;
        };
        let ty = match &data.format {
            ParameterSchemaOrContent::Schema(schema) => lower_schema(
                lw,
                SchemaRef::from(schema),
                &pointer(&param_at, "schema"),
                &format!("{hint}{}", naming::type_name(&data.name)),
            ),
            ParameterSchemaOrContent::Content(_) => TypeRef::Json,
        };
        out.retain(|h| !h.name.eq_ignore_ascii_case(&data.name));
        out.push(WebhookHeader {
            name: data.name.clone(),
            required: data.required,
            ty: match ty {
                TypeRef::Option(inner) => *inner,
                other => other,
            },
            docs: data.description.clone().filter(|d| !d.trim().is_empty()),
        });
    }
    out
}
