//! How an event's type and id are found in its request: where the spec or the connection says
//! (`x-connector-webhook-event`, `[webhooks].event_type` / `event_id`), else where the scheme
//! puts them (GitHub's `X-GitHub-Event` and `X-GitHub-Delivery`, Standard Webhooks'
//! `webhook-id`, Stripe's and Slack's body fields), else the body's `type` and `id`.

use http::HeaderMap;
use serde_json::Value;

use super::{EventKeys, Locator, SignatureScheme};

/// Where a scheme's senders put the event's type and id.
pub fn scheme_keys(scheme: Option<SignatureScheme>) -> EventKeys {
    let header = |name: &str| Some(Locator::Header(name.to_owned()));
    let body = |pointer: &str| Some(Locator::Body(pointer.to_owned()));
    match scheme {
        Some(SignatureScheme::Github) => EventKeys {
            event_type: header("x-github-event"),
            event_id: header("x-github-delivery"),
        },
        Some(SignatureScheme::StandardWebhooks) => EventKeys {
            event_type: body("/type"),
            event_id: header("webhook-id"),
        },
        Some(SignatureScheme::Slack) => EventKeys {
            event_type: body("/type"),
            event_id: body("/event_id"),
        },
        _ => EventKeys {
            event_type: body("/type"),
            event_id: body("/id"),
        },
    }
}

/// The keys in force: each of `first` (the connection's), else `second` (the spec's), else the
/// scheme's.
pub fn merged(first: &EventKeys, second: &EventKeys, scheme: Option<SignatureScheme>) -> EventKeys {
    let fallback = scheme_keys(scheme);
    EventKeys {
        event_type: first
            .event_type
            .clone()
            .or_else(|| second.event_type.clone())
            .or(fallback.event_type),
        event_id: first
            .event_id
            .clone()
            .or_else(|| second.event_id.clone())
            .or(fallback.event_id),
    }
}

/// The value at `locator`: a header's text, or a string or number in the body. Values longer
/// than 256 characters or holding control characters are not taken (an id is a key, not data).
pub fn find(locator: &Locator, headers: &HeaderMap, body: Option<&Value>) -> Option<String> {
    let text = match locator {
        Locator::Header(name) => headers.get(name.as_str())?.to_str().ok()?.trim().to_owned(),
        Locator::Body(pointer) => match body?.pointer(pointer)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        },
    };
    (!text.is_empty() && text.len() <= 256 && !text.chars().any(char::is_control)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_headers_and_body_fields() {
        let mut headers = HeaderMap::new();
        headers.insert("x-github-event", "push".parse().expect("value"));
        headers.insert("x-github-delivery", "72d3162e".parse().expect("value"));
        let keys = merged(
            &EventKeys::default(),
            &EventKeys::default(),
            Some(SignatureScheme::Github),
        );
        let ty = keys
            .event_type
            .as_ref()
            .and_then(|l| find(l, &headers, None));
        let id = keys.event_id.as_ref().and_then(|l| find(l, &headers, None));
        assert_eq!(
            (ty.as_deref(), id.as_deref()),
            (Some("push"), Some("72d3162e"))
        );
        let body = serde_json::json!({"id": 7, "type": "invoice.paid", "data": {"x": {"y": 1}}});
        let keys = merged(
            &EventKeys::default(),
            &EventKeys::default(),
            Some(SignatureScheme::Stripe),
        );
        assert_eq!(
            keys.event_id
                .as_ref()
                .and_then(|l| find(l, &headers, Some(&body)))
                .as_deref(),
            Some("7")
        );
        assert_eq!(
            find(&Locator::Body("/data".into()), &headers, Some(&body)),
            None,
            "objects are no ids"
        );
        assert_eq!(
            find(
                &Locator::Body("/type".into()),
                &headers,
                Some(&serde_json::json!({"type": "a\nb"}))
            ),
            None
        );
    }
}
