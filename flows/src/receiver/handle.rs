//! One request, in order: size, verification, parsing, the event, validation, id, store, answer.
//! Each refusal happens before anything is stored.

use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use connector_runtime::webhooks::identify;
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Map, Value};

use super::Receiver;
use crate::events::{Inserted, NewEvent};

/// Headers kept with an event at most, and the longest value kept.
const KEPT_HEADERS: usize = 64;
const KEPT_VALUE: usize = 1024;

pub(super) async fn any_event(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(&receiver, None, &headers, body).await
}

pub(super) async fn named_event(
    State(receiver): State<Receiver>,
    Path(event): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receive(&receiver, Some(event), &headers, body).await
}

async fn receive(
    receiver: &Receiver,
    event: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let inner = &receiver.inner;
    if let Some(name) = &event {
        if !inner.by_name.is_empty() && !inner.by_name.contains_key(name) {
            return refuse(StatusCode::NOT_FOUND, "no such event", None);
        }
    }
    // 413 from the declared length, before reading a byte of the body.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > inner.max_body as u64) {
        return too_large(inner.max_body);
    }
    let read = tokio::time::timeout(
        inner.body_timeout,
        Limited::new(body, inner.max_body).collect(),
    )
    .await;
    let bytes = match read {
        Err(_) => return refuse(StatusCode::REQUEST_TIMEOUT, "the body took too long", None),
        Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => {
            return too_large(inner.max_body)
        }
        Ok(Err(_)) => return refuse(StatusCode::BAD_REQUEST, "the body could not be read", None),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    // The signature before the body is parsed: an unsigned body is never looked into.
    let verified = match &inner.verifier {
        Some(verifier) => match verifier.verify(headers, &bytes, SystemTime::now()) {
            Ok(verified) => Some(verified),
            Err(refusal) => {
                tracing::warn!(source = %inner.source, reason = %refusal, "webhook refused: signature");
                return refuse(StatusCode::UNAUTHORIZED, &refusal.to_string(), None);
            }
        },
        None => None,
    };
    let payload: Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(err) => {
            // serde_json's message names a line and column, never the payload.
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("the body is not JSON: {err}"),
                None,
            );
        }
    };
    let found_type = inner
        .keys
        .event_type
        .as_ref()
        .and_then(|l| identify::find(l, headers, Some(&payload)));
    let (name, event_type) = match (event, found_type) {
        (Some(name), found) => (Some(name.clone()), found.unwrap_or(name)),
        (None, Some(found)) => (inner.by_type.get(&found).cloned(), found),
        (None, None) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "cannot tell the event's type: post to /webhooks/EVENT, or send the type where the connection's [webhooks].event_type says",
                None,
            )
        }
    };
    if let Some(validator) = name
        .as_ref()
        .and_then(|n| inner.by_name.get(n))
        .and_then(|e| e.validator.as_ref())
    {
        let problems: Vec<Value> = validator
            .iter_errors(&payload)
            .take(20)
            .map(|e| json!({"at": e.instance_path().to_string(), "problem": short(&e.to_string())}))
            .collect();
        if !problems.is_empty() {
            return refuse(
                StatusCode::BAD_REQUEST,
                "the payload does not match the event's schema",
                Some(problems),
            );
        }
    }
    let event_id = verified
        .and_then(|v| v.id)
        .or_else(|| {
            inner
                .keys
                .event_id
                .as_ref()
                .and_then(|l| identify::find(l, headers, Some(&payload)))
        })
        // No id anywhere: the body's hash, so an identical body is still one event.
        .unwrap_or_else(|| format!("sha256:{}", connector_runtime::webhooks::sha256_hex(&bytes)));
    let Ok(body) = String::from_utf8(bytes.to_vec()) else {
        return refuse(StatusCode::BAD_REQUEST, "the body is not UTF-8", None);
    };
    let new = NewEvent {
        source: inner.source.clone(),
        event_id,
        event_type,
        headers: kept_headers(headers, &inner.secret_headers),
        body,
        received_at_ms: crate::now_ms(),
    };
    let id = new.event_id.clone();
    match inner.events.insert(new).await {
        Ok(inserted) => {
            tracing::info!(source = %inner.source, id = %id, seq = inserted.seq(), new = inserted.is_new(), "webhook stored");
            let status = match inserted {
                Inserted::New(_) => StatusCode::OK,
                Inserted::Duplicate(_) => StatusCode::OK,
            };
            reply(
                status,
                &json!({"stored": true, "seq": inserted.seq(), "id": id, "duplicate": !inserted.is_new()}),
            )
        }
        Err(err) => {
            tracing::error!(source = %inner.source, error = %err, "webhook not stored");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the event could not be stored; send it again",
                None,
            )
        }
    }
}

/// The headers worth keeping, as a JSON object text: no credential, no signature.
fn kept_headers(headers: &HeaderMap, secret: &[String]) -> String {
    let mut kept = Map::new();
    for (name, value) in headers {
        if kept.len() >= KEPT_HEADERS || secret.iter().any(|s| s == name.as_str()) {
            continue;
        }
        if let Ok(text) = value.to_str() {
            if text.len() <= KEPT_VALUE {
                kept.insert(name.as_str().to_owned(), Value::String(text.to_owned()));
            }
        }
    }
    Value::Object(kept).to_string()
}

fn short(text: &str) -> String {
    text.chars().take(200).collect()
}

fn too_large(max: usize) -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the body is larger than {max} bytes"),
        None,
    )
}

fn refuse(status: StatusCode, error: &str, problems: Option<Vec<Value>>) -> Response {
    let mut body = json!({"stored": false, "error": error});
    if let Some(problems) = problems {
        body["problems"] = Value::Array(problems);
    }
    reply(status, &body)
}

fn reply(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
