//! The events an API sends to its subscribers (OpenAPI 3.1 `webhooks`), as the catalogue lists
//! them: no action calls them, a receiver checks what arrives against their schemas.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One webhook event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    /// The key in the spec's `webhooks` (`newPet`).
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
    /// `null` when the webhook has no body.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub payload_schema: Value,
    /// Headers the API sends with the event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<WebhookHeader>,
}

/// A header of a webhook's request.
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
