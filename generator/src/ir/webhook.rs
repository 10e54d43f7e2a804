//! Events an API sends to its subscribers: OpenAPI 3.1's top-level `webhooks` (and the same
//! shape under a 3.0 document's `x-webhooks`), 3.0 `callbacks`, and a manifest's `webhooks`
//! table. They are kept with their payload and declared headers so that a receiver can be built
//! from them; they generate no outgoing action.

use serde::Serialize;

use super::{Facts, Method, TypeRef};

/// One event: a webhook's name and method, what its request carries, and where it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    /// The key in `webhooks` (`newPet`), or `OPERATION.CALLBACK` for a callback.
    pub name: String,
    /// The method the API calls the subscriber with.
    pub method: Method,
    /// The operation's `operationId`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// `summary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The request body the subscriber receives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<WebhookPayload>,
    /// Header parameters the API sends (signatures, event ids, timestamps).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<WebhookHeader>,
    /// Where the webhook's operation is in the spec.
    pub pointer: String,
    /// `webhooks`, `x-webhooks`, `callbacks` or `manifest`.
    pub source: String,
    /// The event type a request carries when it is this event (`x-connector-event-type`, or a
    /// manifest's `type`); the name when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_value: Option<String>,
    /// A callback's URL expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// The body of a webhook's request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookPayload {
    /// Media types offered, in spec order.
    pub media_types: Vec<String>,
    /// Whether a body is always sent.
    pub required: bool,
    /// Type of the JSON (or form) body; `Json` when there is no schema or no such media type.
    pub ty: TypeRef,
    /// What the body's inline schema says beyond its type.
    #[serde(skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
    /// The body's description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

/// A header a webhook's request carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookHeader {
    /// Header name as the spec writes it.
    pub name: String,
    /// Whether every request carries it.
    pub required: bool,
    /// Value type.
    pub ty: TypeRef,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}
