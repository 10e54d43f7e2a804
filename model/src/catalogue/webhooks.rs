//! The events an API sends to its subscribers (3.1 `webhooks`, 3.0 `x-webhooks` and
//! `callbacks`, a manifest's `webhooks` table), as the catalogue lists them, with how a request
//! is verified and how its type and id are found.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One event: no action calls it; a receiver checks what arrives against its schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// The event's name: its key in `webhooks` (`newPet`), or `operation.callback` for a
    /// callback (`createSubscription.onEvent`). The receiver serves it at `/webhooks/NAME`.
    pub name: String,
    /// The method the API calls the subscriber with.
    pub method: String,
    /// The operation's `operationId`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// `summary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Media types of the payload, in spec order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_types: Vec<String>,
    /// JSON Schema (draft 2020-12) of the payload, referring to the catalogue's `$defs`;
    /// `null` when the event has no body.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub payload_schema: Value,
    /// Headers the API sends with the event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<WebhookHeader>,
    /// Where it comes from: `webhooks`, `x-webhooks`, `callbacks` or `manifest`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The event type a request carries when it is this event (`invoice.paid`, `push`): how
    /// `POST /webhooks` picks the event. Default: the event's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_value: Option<String>,
    /// For a callback: its URL expression (`{$request.body#/callbackUrl}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

impl Webhook {
    /// The event type that selects this event.
    pub fn type_value(&self) -> &str {
        self.type_value.as_deref().unwrap_or(&self.name)
    }
}

/// A header of an event's request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookHeader {
    /// Header name.
    pub name: String,
    /// Whether every request carries it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// JSON Schema of its value.
    pub schema: Value,
}

/// Where in a request a value is: a header, or a JSON pointer into the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locator {
    /// A request header (`X-GitHub-Event`).
    Header(String),
    /// A JSON pointer into the body (`/type`, `/data/id`).
    Body(String),
}

/// How an event's type and id are found in its request. Each may be left out: the type then
/// comes from the path (`/webhooks/NAME`), and the id from the scheme's own id header, else
/// the body's `/id`, else a hash of the body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventKeys {
    /// Where the event's type is.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<Locator>,
    /// Where the event's id (the de-duplication key) is.
    #[serde(default, rename = "id", skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Locator>,
}

impl EventKeys {
    /// Whether neither is said.
    pub fn is_empty(&self) -> bool {
        self.event_type.is_none() && self.event_id.is_none()
    }
}

/// A signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureScheme {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`,
    /// HMAC-SHA256 over `id.timestamp.body` with a `whsec_` base64 secret.
    StandardWebhooks,
    /// GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 over the body.
    Github,
    /// Stripe: `Stripe-Signature: t=<seconds>,v1=<hex>`, HMAC-SHA256 over `t.body`.
    Stripe,
    /// Slack: `X-Slack-Signature: v0=<hex>` over `v0:timestamp:body`, with
    /// `X-Slack-Request-Timestamp`.
    Slack,
    /// An HMAC described by its options (header, algorithm, encoding, prefix, signed content).
    Hmac,
    /// A shared token sent as it is in a header.
    Token,
}

impl SignatureScheme {
    /// The scheme's name as configuration writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureScheme::StandardWebhooks => "standard-webhooks",
            SignatureScheme::Github => "github",
            SignatureScheme::Stripe => "stripe",
            SignatureScheme::Slack => "slack",
            SignatureScheme::Hmac => "hmac",
            SignatureScheme::Token => "token",
        }
    }

    /// Every scheme, in the order the docs list them.
    pub const ALL: [SignatureScheme; 6] = [
        SignatureScheme::StandardWebhooks,
        SignatureScheme::Github,
        SignatureScheme::Stripe,
        SignatureScheme::Slack,
        SignatureScheme::Hmac,
        SignatureScheme::Token,
    ];

    /// Parses a scheme's name.
    pub fn parse(name: &str) -> Option<SignatureScheme> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// How requests are signed, without the secret: declared in the spec
/// (`x-connector-webhook-signature`) or in a connection's `[webhooks]` table. Options the scheme
/// fixes are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSignature {
    /// The scheme.
    pub scheme: SignatureScheme,
    /// `hmac`, `token`: the header carrying the signature or token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// `hmac`: `sha256` (default), `sha512` or `sha1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// `hmac`: `hex` (default) or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// `hmac`: text before the signature in the header (`sha256=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// `hmac`: what is signed, with `{body}`, `{timestamp}` and `{id}` standing for the body and
    /// the two headers below (default `{body}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<String>,
    /// `hmac`: the header with the timestamp (Unix seconds) that `{timestamp}` stands for; a
    /// timestamp outside the tolerance is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    /// `hmac`: the header that `{id}` stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_header: Option<String>,
}

impl WebhookSignature {
    /// A scheme with its defaults.
    pub fn new(scheme: SignatureScheme) -> WebhookSignature {
        WebhookSignature {
            scheme,
            header: None,
            algorithm: None,
            encoding: None,
            prefix: None,
            signed: None,
            timestamp_header: None,
            id_header: None,
        }
    }
}
