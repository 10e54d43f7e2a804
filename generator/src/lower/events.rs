//! Events ([`Webhook`]s): 3.1 `webhooks` and 3.0 `x-webhooks` (path items keyed by event
//! name), 3.0 `callbacks` of each operation (named `OPERATION.CALLBACK`), with their payload
//! type and declared headers; and the spec's `x-connector-webhook-signature` and
//! `x-connector-webhook-event`. Their types are lowered like any other; no operation uses them.

use openapiv3::{Parameter as OaParameter, ParameterSchemaOrContent, ReferenceOr};
use serde_json::Value;

use super::types::{lower_schema, SchemaRef};
use super::{naming, Lowerer};
use crate::diagnostics::pointer;
use crate::ir::{Method, TypeRef, Webhook, WebhookHeader, WebhookPayload};
use connector_model::catalogue::{EventKeys, WebhookSignature};

/// The methods of a path item, by key.
pub(super) const METHODS: [(&str, Method); 8] = [
    ("get", Method::Get),
    ("put", Method::Put),
    ("post", Method::Post),
    ("delete", Method::Delete),
    ("options", Method::Options),
    ("head", Method::Head),
    ("patch", Method::Patch),
    ("trace", Method::Trace),
];

/// The events of `webhooks`, `x-webhooks` and every operation's `callbacks`, in spec order.
pub(crate) fn lower_events(lw: &mut Lowerer<'_, '_>) -> Vec<Webhook> {
    let spec = lw.spec;
    let mut out: Vec<Webhook> = Vec::new();
    for key in ["webhooks", "x-webhooks"] {
        let Some(map) = spec.root().get(key).and_then(Value::as_object) else {
            continue;
        };
        for (name, item) in map {
            let at = pointer(&format!("#/{key}"), name);
            path_item(lw, item, &at, name, key, None, &mut out);
        }
    }
    let Some(paths) = spec.root().get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let item_at = pointer("#/paths", path);
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method_key, _) in METHODS {
            let Some(op) = item.get(method_key).and_then(Value::as_object) else {
                continue;
            };
            let Some(callbacks) = op.get("callbacks").and_then(Value::as_object) else {
                continue;
            };
            let op_at = pointer(&item_at, method_key);
            let owner = op
                .get("operationId")
                .and_then(Value::as_str)
                .map_or_else(|| format!("{method_key} {path}"), str::to_owned);
            for (callback, value) in callbacks {
                let at = pointer(&pointer(&op_at, "callbacks"), callback);
                let (value, at) = match spec.follow(value, &at) {
                    Ok(found) => found,
                    Err(diag) => {
                        lw.diags.fragment_failed(diag, "callback skipped");
                        continue;
                    }
                };
                let Some(expressions) = value.as_object() else {
                    continue;
                };
                for (expression, item) in expressions {
                    let name = format!("{owner}.{callback}");
                    let at = pointer(&at, expression);
                    path_item(
                        lw,
                        item,
                        &at,
                        &name,
                        "callbacks",
                        Some(expression),
                        &mut out,
                    );
                }
            }
        }
    }
    // Names are the receiver's routes: the first of a name keeps it.
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|w| {
        let fresh = seen.insert(w.name.clone());
        if !fresh {
            lw.diags.warn(
                w.pointer.clone(),
                format!("a second event named `{}`; this one is skipped", w.name),
            );
        }
        fresh
    });
    out
}

/// The spec's `x-connector-webhook-signature` and `x-connector-webhook-event`, each left out with
/// a warning when it is not of its form.
pub(crate) fn declared(lw: &mut Lowerer<'_, '_>) -> (Option<WebhookSignature>, EventKeys) {
    let root = lw.spec.root();
    let signature = root.get("x-connector-webhook-signature").and_then(|value| {
        match serde_json::from_value::<WebhookSignature>(value.clone()) {
            Ok(signature) => Some(signature),
            Err(err) => {
                lw.diags.warn(
                    "#/x-connector-webhook-signature",
                    format!("ignored: {err} (scheme is one of standard-webhooks, github, stripe, slack, hmac, token; options header, algorithm, encoding, prefix, signed, timestamp_header, id_header)"),
                );
                None
            }
        }
    });
    let keys = root
        .get("x-connector-webhook-event")
        .and_then(|value| match serde_json::from_value::<EventKeys>(value.clone()) {
            Ok(keys) => Some(keys),
            Err(err) => {
                lw.diags.warn(
                    "#/x-connector-webhook-event",
                    format!("ignored: {err} (expected {{type: {{header: NAME}} or {{body: /POINTER}}, id: ...}})"),
                );
                None
            }
        })
        .unwrap_or_default();
    (signature, keys)
}

#[allow(clippy::too_many_arguments)]
fn path_item(
    lw: &mut Lowerer<'_, '_>,
    item: &Value,
    item_at: &str,
    name: &str,
    source: &str,
    expression: Option<&String>,
    out: &mut Vec<Webhook>,
) {
    let spec = lw.spec;
    let (item, item_at) = match spec.follow(item, item_at) {
        Ok(found) => found,
        Err(diag) => {
            lw.diags.fragment_failed(diag, "event skipped");
            return;
        }
    };
    let Some(item) = item.as_object() else { return };
    let methods: Vec<_> = METHODS
        .iter()
        .filter(|(k, _)| item.contains_key(*k))
        .collect();
    for (method_key, method) in &methods {
        let Some(raw) = item.get(*method_key) else {
            continue;
        };
        let at = pointer(&item_at, method_key);
        let op: openapiv3::Operation = match spec.parse(&super::servers::without_servers(raw), &at)
        {
            Ok(op) => op,
            Err(diag) => {
                lw.diags.fragment_failed(diag, "event skipped");
                continue;
            }
        };
        // Two methods under one name are two events: the second is named with its method.
        let name = if methods.len() > 1 && *method != Method::Post {
            format!("{name}.{method_key}")
        } else {
            name.to_owned()
        };
        let hint = naming::type_name(&format!(
            "{} event",
            op.operation_id.as_deref().unwrap_or(&name)
        ));
        let payload = payload(lw, &op, &at, &hint);
        let headers = headers(lw, item.get("parameters"), &item_at, &op, &at, &hint);
        let type_value = raw
            .get("x-connector-event-type")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned);
        out.push(Webhook {
            name,
            method: *method,
            operation_id: op.operation_id.clone().filter(|id| !id.trim().is_empty()),
            summary: op.summary.clone().filter(|s| !s.trim().is_empty()),
            description: op.description.clone().filter(|s| !s.trim().is_empty()),
            payload,
            headers,
            pointer: at,
            source: source.to_owned(),
            type_value,
            expression: expression.cloned(),
        });
    }
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
                    .fragment_failed(diag, "the event's payload is left out");
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
