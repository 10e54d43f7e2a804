//! Receiving events: a connection's `[webhooks]` settings (always), and with the cargo feature
//! `webhooks` the signature [`Verifier`] (Standard Webhooks, GitHub, Stripe, Slack, generic
//! HMAC, shared token) and how an event's type and id are found (`identify`). Typed payload
//! decoding ([`decode`], what generated `webhooks` modules call) needs no feature. Everything here is pure: no server, no store (those are in
//! `connector-flows`), so a connector's own receiver can verify with it alone.
//!
//! ```
//! # #[cfg(feature = "webhooks")] {
//! use connector_runtime::webhooks::{SignatureScheme, Verifier, WebhookSignature};
//! use connector_runtime::Secret;
//!
//! let verifier = Verifier::new(
//!     &WebhookSignature::new(SignatureScheme::Github),
//!     vec![Secret::new("It's a Secret to Everybody")],
//! )
//! .expect("a valid configuration");
//! let mut headers = http::HeaderMap::new();
//! // GitHub's documented test vector.
//! headers.insert(
//!     "x-hub-signature-256",
//!     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".parse().unwrap(),
//! );
//! assert!(verifier.verify(&headers, b"Hello, World!", std::time::SystemTime::now()).is_ok());
//! assert!(verifier.verify(&headers, b"Hello, World?", std::time::SystemTime::now()).is_err());
//! # }
//! ```

use std::time::Duration;

pub use connector_model::catalogue::{
    EventKeys, Locator, SignatureScheme, Webhook, WebhookHeader, WebhookSignature,
};

use crate::secret::Secret;

mod decode;
#[cfg(feature = "webhooks")]
pub mod identify;
#[cfg(feature = "webhooks")]
mod verify;

pub use decode::{decode, DecodeError};
#[cfg(feature = "webhooks")]
pub use verify::{Refusal, Verified, Verifier};

/// How long a signed timestamp stays acceptable, either way, by default: 5 minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The largest body accepted by default: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// A connection's `[webhooks]` table, validated, its secrets read. `Debug` never shows a
/// secret.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The scheme and its options; `None` when the table names none (the spec's
    /// `x-connector-webhook-signature` then decides).
    pub signature: Option<WebhookSignature>,
    /// The secrets: any of them verifies a request (several during a rotation).
    pub secrets: Vec<Secret>,
    /// How far a signed timestamp may be from now, either way.
    pub tolerance: Duration,
    /// The largest body accepted, in bytes.
    pub max_body: usize,
    /// Where the event's type and id are, overriding the spec's.
    pub keys: EventKeys,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            signature: None,
            secrets: Vec::new(),
            tolerance: DEFAULT_TOLERANCE,
            max_body: DEFAULT_MAX_BODY,
            keys: EventKeys::default(),
        }
    }
}

/// The SHA-256 of `bytes` in lower-case hex: the id of an event whose request carries none.
#[cfg(feature = "webhooks")]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
