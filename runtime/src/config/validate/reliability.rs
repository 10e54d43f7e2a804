//! Connection-file keys for dependable calls: retries, timeouts, limits, idempotency, request
//! ids, the network policy and shared state. Each is checked with its key's path.

use std::time::Duration;

use serde_json::{Map, Value};

use super::{join, kind, Validator};
use crate::connection::ConnectionBuilder;
use crate::descriptor::ConnectorDescriptor;
use crate::pipeline::retry::RetryPolicy;
use crate::secret::Secret;
use crate::wire::guard::NetworkPolicy;

/// Top-level keys this module reads.
pub(super) const KEYS: &[&str] = &[
    "connect_timeout",
    "deadline",
    "stream_idle_timeout",
    "adaptive_concurrency",
    "retries",
    "idempotent_actions",
    "idempotency_header",
    "request_id_header",
    "rate_limit",
    "network",
    "shared_state",
];

const RETRY_KEYS: &[&str] = &[
    "attempts",
    "backoff_base",
    "backoff_cap",
    "max_retry_after",
    "retry_post_on_429",
    "actions",
];

/// The settings read; `None` keeps the builder's default.
#[derive(Debug, Clone, Default)]
pub(in crate::config) struct ReliabilityConfig {
    connect_timeout: Option<Duration>,
    deadline: Option<Duration>,
    stream_idle_timeout: Option<Duration>,
    adaptive_concurrency: Option<bool>,
    retries: Option<RetryPolicy>,
    action_retries: Vec<(String, RetryPolicy)>,
    idempotent_actions: Vec<String>,
    idempotency_header: Option<String>,
    /// `Some(None)`: send no request id.
    request_id_header: Option<Option<String>>,
    rate_limit: Option<(f64, u32)>,
    network: Option<NetworkPolicy>,
    /// Redis URL (it may hold a password) and namespace.
    shared_state: Option<(Secret, String)>,
}

impl ReliabilityConfig {
    /// Applies the settings to `b`.
    pub(in crate::config) fn apply(&self, mut b: ConnectionBuilder) -> ConnectionBuilder {
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(t) = self.deadline {
            b = b.deadline(t);
        }
        if let Some(t) = self.stream_idle_timeout {
            b = b.stream_idle_timeout(t);
        }
        if let Some(adaptive) = self.adaptive_concurrency {
            b = b.adaptive_concurrency(adaptive);
        }
        if let Some(policy) = self.retries {
            b = b.retries(policy);
        }
        for (action, policy) in &self.action_retries {
            b = b.action_retries(action, *policy);
        }
        for action in &self.idempotent_actions {
            b = b.idempotent_action(action);
        }
        if let Some(name) = &self.idempotency_header {
            b = b.idempotency_header(name);
        }
        if let Some(name) = &self.request_id_header {
            b = b.request_id_header(name.clone());
        }
        if let Some((per_second, burst)) = self.rate_limit {
            b = b.rate_limit(per_second, burst);
        }
        if let Some(policy) = self.network {
            b = b.network_policy(policy);
        }
        #[cfg(feature = "redis")]
        if let Some((url, namespace)) = &self.shared_state {
            b = b.shared_state_redis(url.expose(), namespace);
        }
        b
    }
}

impl Validator {
    /// Reads the keys of [`KEYS`] from the top-level table.
    pub(super) fn reliability(
        &mut self,
        connector: &ConnectorDescriptor,
        map: &Map<String, Value>,
    ) -> ReliabilityConfig {
        let mut config = ReliabilityConfig::default();
        for (key, out) in [
            ("connect_timeout", &mut config.connect_timeout),
            ("deadline", &mut config.deadline),
            ("stream_idle_timeout", &mut config.stream_idle_timeout),
        ] {
            if let Some(v) = map.get(key) {
                *out = self.duration(v, key);
            }
        }
        if let Some(v) = map.get("adaptive_concurrency") {
            match v.as_bool() {
                Some(b) => config.adaptive_concurrency = Some(b),
                None => self.problem(
                    "adaptive_concurrency",
                    format!("expected true or false, found {}", kind(v)),
                ),
            }
        }
        if let Some(v) = map.get("retries") {
            config.retries = self.retry_policy(connector, v, "retries", &mut config.action_retries);
        }
        if let Some(v) = map.get("idempotent_actions") {
            config.idempotent_actions = self.action_list(connector, v, "idempotent_actions");
        }
        if let Some(v) = map.get("idempotency_header") {
            config.idempotency_header = self.header_name(v, "idempotency_header");
        }
        if let Some(v) = map.get("request_id_header") {
            config.request_id_header = match v {
                Value::Bool(false) => Some(None),
                other => self.header_name(other, "request_id_header").map(Some),
            };
        }
        if let Some(v) = map.get("rate_limit") {
            config.rate_limit = self.rate_limit(v);
        }
        if let Some(v) = map.get("network") {
            config.network = self.network(v);
        }
        if let Some(v) = map.get("shared_state") {
            config.shared_state = self.shared_state(connector, v);
        }
        config
    }

    /// A `[retries]` table (or the table of one action under `retries.actions`).
    fn retry_policy(
        &mut self,
        connector: &ConnectorDescriptor,
        value: &Value,
        path: &str,
        actions: &mut Vec<(String, RetryPolicy)>,
    ) -> Option<RetryPolicy> {
        let known = if path == "retries" {
            RETRY_KEYS
        } else {
            &RETRY_KEYS[..RETRY_KEYS.len() - 1]
        };
        let map = self.table(value, path, known)?;
        let mut policy = RetryPolicy::default();
        let mut valid = true;
        if let Some(v) = map.get("attempts") {
            let at = join(path, "attempts");
            match self.integer(v, &at, 1) {
                Some(n) if n <= 100 => policy.max_attempts = n as u32,
                Some(_) => {
                    self.problem(&at, "at most 100 attempts");
                    valid = false;
                }
                None => valid = false,
            }
        }
        for (key, slot) in [
            ("backoff_base", &mut policy.base),
            ("backoff_cap", &mut policy.cap),
            ("max_retry_after", &mut policy.max_retry_after),
        ] {
            if let Some(v) = map.get(key) {
                match self.duration(v, &join(path, key)) {
                    Some(d) => *slot = d,
                    None => valid = false,
                }
            }
        }
        if policy.base > policy.cap {
            self.problem(
                &join(path, "backoff_base"),
                "must not be longer than `backoff_cap`",
            );
            valid = false;
        }
        if let Some(v) = map.get("retry_post_on_429") {
            match v.as_bool() {
                Some(b) => policy.retry_post_on_429 = b,
                None => {
                    self.problem(
                        &join(path, "retry_post_on_429"),
                        format!("expected true or false, found {}", kind(v)),
                    );
                    valid = false;
                }
            }
        }
        if let Some(v) = map.get("actions") {
            let at = join(path, "actions");
            if let Some(table) = v.as_object() {
                for (action, settings) in table {
                    let action_path = join(&at, action);
                    if self.known_action(connector, action, &action_path) {
                        if let Some(p) =
                            self.retry_policy(connector, settings, &action_path, &mut Vec::new())
                        {
                            actions.push((action.clone(), p));
                        }
                    }
                }
            } else {
                self.problem(
                    &at,
                    format!("expected a table of actions, found {}", kind(v)),
                );
            }
        }
        valid.then_some(policy)
    }

    fn known_action(&mut self, connector: &ConnectorDescriptor, id: &str, path: &str) -> bool {
        if connector.operation(id).is_some() {
            return true;
        }
        let ids = connector.operations.iter().map(|o| o.id.as_ref());
        let hint = crate::error::hint(id, ids);
        self.problem(
            path,
            format!("connector `{}` has no action `{id}`{hint}", connector.name),
        );
        false
    }

    fn action_list(
        &mut self,
        connector: &ConnectorDescriptor,
        value: &Value,
        path: &str,
    ) -> Vec<String> {
        let Some(items) = value.as_array() else {
            self.problem(
                path,
                format!("expected a list of action ids, found {}", kind(value)),
            );
            return Vec::new();
        };
        let mut ids = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("{path}[{i}]");
            if let Some(id) = self.string(item, &at) {
                if self.known_action(connector, &id, &at) {
                    ids.push(id);
                }
            }
        }
        ids
    }

    fn header_name(&mut self, value: &Value, path: &str) -> Option<String> {
        let name = self.string(value, path)?;
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            self.problem(path, format!("{name:?} is not a valid HTTP header name"));
            return None;
        }
        Some(name)
    }

    fn rate_limit(&mut self, value: &Value) -> Option<(f64, u32)> {
        let map = self.table(value, "rate_limit", &["per_second", "burst"])?;
        let per_second = match map.get("per_second").map(|v| (v, v.as_f64())) {
            Some((_, Some(n))) if n > 0.0 && n <= 1e6 => Some(n),
            Some((v, _)) => {
                self.problem(
                    "rate_limit.per_second",
                    format!(
                        "expected requests per second above 0 and at most 1000000, found {}",
                        kind(v)
                    ),
                );
                None
            }
            None => {
                self.problem("rate_limit.per_second", "missing: requests per second");
                None
            }
        };
        let burst = match map.get("burst") {
            Some(v) => self
                .integer(v, "rate_limit.burst", 1)
                .and_then(|n| u32::try_from(n).ok()),
            None => Some(1),
        };
        Some((per_second?, burst?))
    }

    fn network(&mut self, value: &Value) -> Option<NetworkPolicy> {
        let map = self.table(value, "network", &["policy", "allow_loopback"])?;
        let allow_loopback = match map.get("allow_loopback") {
            None => false,
            Some(v) => match v.as_bool() {
                Some(b) => b,
                None => {
                    self.problem(
                        "network.allow_loopback",
                        format!("expected true or false, found {}", kind(v)),
                    );
                    return None;
                }
            },
        };
        let policy = map.get("policy").map(|v| (v, v.as_str()));
        match policy {
            None | Some((_, Some("allow_all"))) => Some(NetworkPolicy::AllowAll),
            Some((_, Some("public_only"))) => Some(NetworkPolicy::PublicOnly { allow_loopback }),
            Some((v, _)) => {
                self.problem(
                    "network.policy",
                    format!(
                        "expected \"allow_all\" or \"public_only\", found {}",
                        kind(v)
                    ),
                );
                None
            }
        }
    }

    fn shared_state(
        &mut self,
        connector: &ConnectorDescriptor,
        value: &Value,
    ) -> Option<(Secret, String)> {
        let map = self.table(value, "shared_state", &["redis", "namespace"])?;
        let url = match map.get("redis") {
            Some(v) => self.secret(v, "shared_state.redis")?,
            None => {
                self.problem(
                    "shared_state.redis",
                    "missing: the Redis URL (redis://host:port/db)",
                );
                return None;
            }
        };
        if !(url.expose().starts_with("redis://") || url.expose().starts_with("rediss://")) {
            // The URL is not quoted: it may hold a password.
            self.problem("shared_state.redis", "expected a redis:// or rediss:// URL");
            return None;
        }
        if cfg!(not(feature = "redis")) {
            self.problem(
                "shared_state",
                "this build has no Redis support: enable the `redis` cargo feature of connector-runtime",
            );
            return None;
        }
        let namespace = match map.get("namespace") {
            Some(v) => self.string(v, "shared_state.namespace")?,
            None => connector.name.to_string(),
        };
        Some((url, namespace))
    }
}
