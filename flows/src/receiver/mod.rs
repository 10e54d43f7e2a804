//! The webhook receiver: an axum [`Router`] serving `POST /webhooks/EVENT` for each event of a
//! connector and `POST /webhooks` with the type read from the request. Each request is bounded
//! in size (413 before the body is read whole) and time, verified (401), parsed and validated
//! against its event's schema (400), de-duplicated by event id, and **stored durably before the
//! 2xx answer**; nothing is stored for a refused request.
//!
//! ```no_run
//! # async fn demo(catalogue: connector_runtime::catalogue::Catalogue) -> Result<(), connector_flows::Error> {
//! use connector_flows::events::EventStore;
//! use connector_flows::receiver::Receiver;
//! use connector_flows::store::Store;
//! use connector_runtime::webhooks::WebhookSettings;
//!
//! let events = EventStore::open(Store::open("sqlite:events.db").await?).await?;
//! let settings = WebhookSettings::default(); // from a connection file's [webhooks] table
//! let receiver = Receiver::builder(&catalogue, events)
//!     .source("github")
//!     .settings(&settings)
//!     .build()?;
//! // Nest it into your own server, or serve it alone:
//! let app = axum::Router::new().nest("/hooks", receiver.router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await.map_err(|e| {
//!     connector_flows::Error::Io { action: "binding".into(), source: e }
//! })?;
//! axum::serve(listener, app).await.map_err(|e| connector_flows::Error::Io { action: "serving".into(), source: e })?;
//! # Ok(()) }
//! ```

mod handle;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use connector_runtime::catalogue::Catalogue;
use connector_runtime::webhooks::{
    identify, EventKeys, Verifier, WebhookSettings, DEFAULT_MAX_BODY,
};

use crate::error::Error;
use crate::events::EventStore;

/// How long a request may take to arrive whole, by default.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// A receiver for one connector's events, bound to one store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Receiver {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    events: EventStore,
    source: String,
    verifier: Option<Verifier>,
    keys: EventKeys,
    max_body: usize,
    body_timeout: Duration,
    /// The events by name, with their compiled payload validator.
    by_name: HashMap<String, Event>,
    /// Event names by the type value a request carries.
    by_type: HashMap<String, String>,
    /// Headers never stored: credentials, and the signature headers.
    secret_headers: Vec<String>,
}

struct Event {
    validator: Option<jsonschema::Validator>,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("validated", &self.validator.is_some())
            .finish()
    }
}

/// Builds a [`Receiver`]; settings are checked at [`ReceiverBuilder::build`].
#[must_use]
pub struct ReceiverBuilder {
    catalogue: Catalogue,
    events: EventStore,
    source: Option<String>,
    settings: WebhookSettings,
    unverified: bool,
    body_timeout: Duration,
}

impl Receiver {
    /// A receiver of `catalogue`'s events (its `webhooks`, their schemas, and the spec's
    /// signature scheme and event keys), storing into `events`.
    pub fn builder(catalogue: &Catalogue, events: EventStore) -> ReceiverBuilder {
        ReceiverBuilder {
            catalogue: catalogue.clone(),
            events,
            source: None,
            settings: WebhookSettings::default(),
            unverified: false,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }

    /// The routes: `POST /webhooks` and `POST /webhooks/{event}`, to serve alone or nest.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/webhooks", post(handle::any_event))
            .route("/webhooks/{event}", post(handle::named_event))
            .with_state(self.clone())
    }

    /// Whether requests are verified (a scheme and a secret are configured).
    pub fn verifies(&self) -> bool {
        self.inner.verifier.is_some()
    }

    /// The source events are stored under.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// The store.
    pub fn events(&self) -> &EventStore {
        &self.inner.events
    }
}

impl ReceiverBuilder {
    /// The source events are stored under, the scope of de-duplication (default: the
    /// catalogue's connector name).
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// A connection's `[webhooks]` settings: scheme (else the spec's), secrets, tolerance
    /// (default 5 minutes), body cap (default 1 MiB) and event keys (else the spec's, else the
    /// scheme's).
    pub fn settings(mut self, settings: &WebhookSettings) -> Self {
        self.settings = settings.clone();
        self
    }

    /// Accepts requests without verification when no secret is configured. Off by default:
    /// `build` then refuses to make a receiver that verifies nothing.
    pub fn allow_unverified(mut self, allow: bool) -> Self {
        self.unverified = allow;
        self
    }

    /// How long a request's body may take to arrive (default 30 s; 408 after).
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Checks the settings and compiles each event's payload schema.
    pub fn build(self) -> Result<Receiver, Error> {
        let settings = self.settings;
        let signature = settings
            .signature
            .clone()
            .or_else(|| self.catalogue.webhook_signature.clone());
        let verifier = match (&signature, settings.secrets.is_empty()) {
            (Some(signature), false) => Some(
                Verifier::new(signature, settings.secrets.clone())
                    .map_err(|problem| Error::Config(format!("[webhooks]: {problem}")))?
                    .tolerance(settings.tolerance),
            ),
            (None, false) => {
                return Err(Error::Config(
                    "[webhooks]: a secret is configured but no scheme: set `scheme` (the spec declares none)".into(),
                ))
            }
            (_, true) if self.unverified => None,
            (_, true) => {
                return Err(Error::Config(
                    "no webhook secret is configured: give the connection a [webhooks] table with `secret`, or allow unverified requests (loopback only)".into(),
                ))
            }
        };
        // The spec's event keys go with the spec's scheme: a connection that chooses another
        // scheme (a GitHub-style sender for a spec declaring Standard Webhooks) gets that
        // scheme's keys instead.
        let spec_keys = match (&settings.signature, &self.catalogue.webhook_signature) {
            (Some(mine), Some(spec)) if mine.scheme != spec.scheme => EventKeys::default(),
            _ => self.catalogue.webhook_keys.clone(),
        };
        let keys = identify::merged(
            &settings.keys,
            &spec_keys,
            signature.as_ref().map(|s| s.scheme),
        );
        let mut by_name = HashMap::new();
        let mut by_type = HashMap::new();
        for webhook in &self.catalogue.webhooks {
            let validator = (!webhook.payload_schema.is_null())
                .then(|| self.catalogue.standalone(&webhook.payload_schema))
                .and_then(|schema| compile(&webhook.name, &schema));
            by_name.insert(webhook.name.clone(), Event { validator });
            by_type
                .entry(webhook.type_value().to_owned())
                .or_insert_with(|| webhook.name.clone());
        }
        let mut secret_headers: Vec<String> = ["authorization", "proxy-authorization", "cookie"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        if let Some(verifier) = &verifier {
            secret_headers.extend(verifier.secret_headers().into_iter().map(str::to_owned));
        }
        Ok(Receiver {
            inner: Arc::new(Inner {
                events: self.events,
                source: self.source.unwrap_or_else(|| self.catalogue.name.clone()),
                verifier,
                keys,
                max_body: if settings.max_body == 0 {
                    DEFAULT_MAX_BODY
                } else {
                    settings.max_body
                },
                body_timeout: self.body_timeout,
                by_name,
                by_type,
                secret_headers,
            }),
        })
    }
}

/// An event's payload validator; a schema the engine cannot compile validates nothing, with a
/// warning, rather than refusing every event.
fn compile(event: &str, schema: &serde_json::Value) -> Option<jsonschema::Validator> {
    match jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(schema)
    {
        Ok(validator) => Some(validator),
        Err(err) => {
            tracing::warn!(event, error = %err, "the payload schema cannot be compiled; payloads of this event are not validated");
            None
        }
    }
}
