//! The `[webhooks]` table of a connection file: how the events this connection receives are
//! verified. Checked with every other key, each problem with its key's path; secrets come from
//! the environment or a file as elsewhere.

use serde_json::Value;

use super::{join, Validator};
use crate::webhooks::{EventKeys, Locator, SignatureScheme, WebhookSettings, WebhookSignature};

const KEYS: &[&str] = &[
    "scheme",
    "secret",
    "secrets",
    "tolerance",
    "max_body",
    "header",
    "algorithm",
    "encoding",
    "prefix",
    "signed",
    "timestamp_header",
    "id_header",
    "event_type",
    "event_id",
];

impl Validator {
    pub(super) fn webhooks(&mut self, value: &Value) -> Option<WebhookSettings> {
        let map = self.table(value, "webhooks", KEYS)?;
        let mut settings = WebhookSettings::default();
        let scheme = match map.get("scheme") {
            None => None,
            Some(v) => {
                let name = self.string(v, "webhooks.scheme")?;
                match SignatureScheme::parse(&name) {
                    Some(scheme) => Some(scheme),
                    None => {
                        let names: Vec<&str> =
                            SignatureScheme::ALL.iter().map(|s| s.as_str()).collect();
                        self.problem(
                            "webhooks.scheme",
                            format!("unknown scheme; use one of {}", names.join(", ")),
                        );
                        return None;
                    }
                }
            }
        };
        let text = |key: &str, this: &mut Validator| {
            map.get(key)
                .and_then(|v| this.string(v, &join("webhooks", key)))
        };
        let header = text("header", self);
        let algorithm = text("algorithm", self);
        let encoding = text("encoding", self);
        let prefix = text("prefix", self);
        let signed = text("signed", self);
        let timestamp_header = text("timestamp_header", self);
        let id_header = text("id_header", self);
        match scheme {
            Some(scheme) => {
                settings.signature = Some(WebhookSignature {
                    header,
                    algorithm,
                    encoding,
                    prefix,
                    signed,
                    timestamp_header,
                    id_header,
                    ..WebhookSignature::new(scheme)
                });
            }
            None if [
                &header,
                &algorithm,
                &encoding,
                &prefix,
                &signed,
                &timestamp_header,
                &id_header,
            ]
            .iter()
            .any(|o| o.is_some()) =>
            {
                self.problem(
                    "webhooks",
                    "scheme options without a `scheme`: name it (hmac, token, ...)",
                );
            }
            None => {}
        }
        match (map.get("secret"), map.get("secrets")) {
            (Some(_), Some(_)) => self.problem("webhooks", "give `secret` or `secrets`, not both"),
            (Some(secret), None) => settings
                .secrets
                .extend(self.secret(secret, "webhooks.secret")),
            (None, Some(Value::Array(list))) => {
                for (index, secret) in list.iter().enumerate() {
                    let at = format!("webhooks.secrets[{index}]");
                    settings.secrets.extend(self.secret(secret, &at));
                }
                if list.is_empty() {
                    self.problem("webhooks.secrets", "the list is empty");
                }
            }
            (None, Some(_)) => self.problem("webhooks.secrets", "expected a list of secrets"),
            (None, None) => {}
        }
        if let Some(v) = map.get("tolerance") {
            settings.tolerance = self.duration(v, "webhooks.tolerance")?;
        }
        if let Some(v) = map.get("max_body") {
            let bytes = self.integer(v, "webhooks.max_body", 1)?;
            settings.max_body = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        settings.keys = EventKeys {
            event_type: map
                .get("event_type")
                .and_then(|v| self.locator(v, "webhooks.event_type")),
            event_id: map
                .get("event_id")
                .and_then(|v| self.locator(v, "webhooks.event_id")),
        };
        // The scheme's own options are checked where they are used (the verifier), but a
        // mistake is best told now, with the file's other problems.
        #[cfg(feature = "webhooks")]
        if let Some(signature) = &settings.signature {
            let secrets = if settings.secrets.is_empty() {
                vec![crate::secret::Secret::new("placeholder")]
            } else {
                settings.secrets.clone()
            };
            if let Err(problem) = crate::webhooks::Verifier::new(signature, secrets) {
                self.problem("webhooks", problem);
            }
        }
        Some(settings)
    }

    /// `{ header = "X-GitHub-Event" }` or `{ body = "/type" }`.
    fn locator(&mut self, value: &Value, at: &str) -> Option<Locator> {
        let map = self.table(value, at, &["header", "body"])?;
        match (map.get("header"), map.get("body")) {
            (Some(h), None) => {
                let name = self.string(h, &join(at, "header"))?;
                if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    self.problem(&join(at, "header"), "not a valid header name");
                    return None;
                }
                Some(Locator::Header(name.to_ascii_lowercase()))
            }
            (None, Some(b)) => {
                let pointer = self.string(b, &join(at, "body"))?;
                if !pointer.is_empty() && !pointer.starts_with('/') {
                    self.problem(
                        &join(at, "body"),
                        "a JSON pointer starts with `/` (such as /type)",
                    );
                    return None;
                }
                Some(Locator::Body(pointer))
            }
            _ => {
                self.problem(at, "give exactly one of `header` or `body`");
                None
            }
        }
    }
}
