//! Typed payloads: a verified body decoded into the event's generated type.

use serde::de::DeserializeOwned;

/// Why a payload did not decode into its type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The name is no event of the connector.
    #[error("`{0}` is no event of this connector")]
    UnknownEvent(String),
    /// The body is not JSON, or not of the event's type (serde_json's message: line, column and
    /// what was expected; never the payload itself).
    #[error("the payload of event `{event}` does not decode: {source}")]
    Payload {
        /// The event.
        event: String,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
}

/// Decodes `body` as the payload of `event` into `T`. serde_json's nesting limit (128) and
/// number parsing keep hostile bodies (deep nesting, huge numbers, invalid UTF-8) to errors.
pub fn decode<T: DeserializeOwned>(event: &str, body: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(body).map_err(|source| DecodeError::Payload {
        event: event.to_owned(),
        source,
    })
}
