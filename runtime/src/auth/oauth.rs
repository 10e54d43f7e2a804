//! OAuth 2 token sources: obtain, cache, refresh before expiry, renew after a 401.
//!
//! One source per OAuth scheme of a connection, shared by its clones. All token requests of a
//! source run under one async mutex, so however many actions start at once only one request
//! reaches the token endpoint; callers that waited on a request that failed share its failure
//! rather than each trying again (AU-3).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::auth::{ClientAuth, Grant, OAuth2Credential};
use crate::error::Error;
use crate::secret::Secret;
use crate::secrets_file::{SecretsFile, StoredTokens};
use crate::time::Clock;
use crate::wire::guard::Guard;
use crate::wire::read::{self, ReadError};
use crate::wire::server;

mod shared;

pub(crate) use shared::SharedTokens;

/// Timing settings shared by a connection's token sources.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenSettings {
    /// How long before expiry a token is renewed (capped at three quarters of its lifetime).
    pub(crate) refresh_window: Duration,
    /// How long a token without `expires_in` is used.
    pub(crate) default_ttl: Duration,
    /// Whole-request limit of a token or discovery request.
    pub(crate) timeout: Duration,
    /// Whether a loopback `http://` token endpoint is accepted.
    pub(crate) allow_http_loopback: bool,
}

/// What a token source shares with the rest of the connection: the network policy, and the
/// store of tokens shared with other processes.
#[derive(Debug, Clone)]
pub(crate) struct Links {
    pub(crate) guard: Guard,
    pub(crate) shared: Option<SharedTokens>,
    pub(crate) persist: Option<Persist>,
}

/// Where a rotated refresh token is kept for the next process: the connection's secrets file,
/// under the scheme's name.
#[derive(Debug, Clone)]
pub(crate) struct Persist {
    pub(crate) file: SecretsFile,
    pub(crate) scheme: String,
    pub(crate) family: Option<String>,
}

/// Where the token endpoint is.
#[derive(Debug)]
pub(crate) enum Endpoint {
    /// Known when the connection is built.
    Fixed(Url),
    /// Read from an OpenID Connect discovery document on first use.
    Discover(Url),
    /// Not known: the credential's access token cannot be renewed.
    None,
}

/// Obtains and caches the access token of one scheme.
#[derive(Debug)]
pub(crate) struct TokenSource {
    scheme: String,
    credential: OAuth2Credential,
    endpoint: Endpoint,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    settings: TokenSettings,
    /// The network policy applies to token and discovery requests too (RQ-5).
    guard: Guard,
    /// Where tokens are shared with other processes, if anywhere.
    shared: Option<SharedTokens>,
    /// Where a rotated refresh token is persisted, if anywhere.
    persist: Option<Persist>,
    /// Number of token requests started; read without the lock to tell which attempts began
    /// after a caller started waiting.
    started: AtomicU64,
    /// Number of token requests finished (they run one at a time, so this is also the sequence
    /// number of the last one): an attempt numbered above the value a caller saw on arrival was
    /// still running then, and its outcome is as fresh as a new attempt's.
    finished: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    token: Option<Token>,
    /// The current refresh token; replaced when the server rotates it.
    refresh_token: Option<Secret>,
    /// The last attempt's failure: its sequence number and the error to share with waiters.
    failure: Option<(u64, Failure)>,
    /// The token endpoint a discovery document named.
    discovered: Option<Url>,
}

#[derive(Debug, Clone)]
struct Token {
    /// `Bearer <token>`, marked sensitive.
    header: HeaderValue,
    /// When the token stops working, if known.
    expires_at: Option<Instant>,
    /// When to renew it ahead of expiry, if known.
    refresh_at: Option<Instant>,
    /// Which attempt obtained it (0: given by the connection).
    seq: u64,
}

/// Why a token could not be had, kept so that waiters can share it.
#[derive(Debug, Clone)]
enum Failure {
    Redirect,
    Other(String),
}

impl TokenSource {
    /// Refuses a token or discovery URL the network policy does not allow.
    async fn allowed(&self, url: &Url) -> Result<(), Failure> {
        self.guard.check(url).await.map_err(|blocked| {
            Failure::Other(format!(
                "the token endpoint's host `{}` is blocked: {}",
                blocked.host, blocked.reason
            ))
        })
    }

    pub(crate) fn new(
        scheme: String,
        credential: OAuth2Credential,
        endpoint: Endpoint,
        http: reqwest::Client,
        clock: Arc<dyn Clock>,
        settings: TokenSettings,
        links: Links,
    ) -> Result<Self, Error> {
        let Links {
            guard,
            shared,
            persist,
        } = links;
        let token = match &credential.access_token {
            Some(access) => {
                // A stored expiry (from `login`) lets the token be renewed ahead of time.
                let now = clock.now();
                let expires_at = credential.expires_at.map(|at| {
                    let left = at
                        .duration_since(std::time::SystemTime::now())
                        .unwrap_or(Duration::ZERO);
                    later(now, left)
                });
                let refresh_at = expires_at.map(|at| {
                    at.checked_sub(settings.refresh_window)
                        .filter(|at| *at > now)
                        .unwrap_or(now)
                });
                Some(Token {
                    header: bearer(&scheme, access)?,
                    expires_at,
                    refresh_at,
                    seq: 0,
                })
            }
            None => None,
        };
        let refresh_token = credential.refresh_token.clone();
        Ok(Self {
            scheme,
            credential,
            endpoint,
            http,
            clock,
            settings,
            guard,
            shared,
            persist,
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            state: Mutex::new(State {
                token,
                refresh_token,
                failure: None,
                discovered: None,
            }),
        })
    }

    /// The number of token requests started so far: a token renewed after a 401 must come from
    /// a later one, not from a request already in flight when the 401 arrived.
    pub(crate) fn barrier(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    /// Whether a rejected token can be replaced at all.
    pub(crate) fn can_renew(&self) -> bool {
        !matches!(self.endpoint, Endpoint::None)
            && (self.credential.grant == Grant::ClientCredentials
                || self.credential.refresh_token.is_some())
    }

    /// A usable `Authorization` value whose token came from attempt `min_seq` or later.
    pub(crate) async fn token(&self, min_seq: u64) -> Result<(HeaderValue, u64), Error> {
        let finished_before = self.finished.load(Ordering::SeqCst);
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        if let Some(token) = &state.token {
            let due = token.refresh_at.is_some_and(|at| now >= at);
            if token.seq >= min_seq && !due {
                return Ok((token.header.clone(), token.seq));
            }
        }
        // An attempt that had not finished when this caller arrived has failed: share its
        // outcome, so that a failing endpoint sees one request however many callers waited.
        if let Some((seq, failure)) = &state.failure {
            if *seq > finished_before && *seq >= min_seq {
                let failure = failure.clone();
                return self.fallback(&state, min_seq, now, failure);
            }
        }
        let seq = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let outcome = self.obtain(&mut state, now, min_seq > 0).await;
        self.finished.store(seq, Ordering::SeqCst);
        match outcome {
            Ok(mut token) => {
                token.seq = seq;
                let header = token.header.clone();
                state.token = Some(token);
                state.failure = None;
                Ok((header, seq))
            }
            Err(failure) => {
                state.failure = Some((seq, failure.clone()));
                self.fallback(&state, min_seq, now, failure)
            }
        }
    }

    /// After a failed renewal: the old token while it is still valid (and acceptable), else
    /// the failure.
    fn fallback(
        &self,
        state: &State,
        min_seq: u64,
        now: Instant,
        failure: Failure,
    ) -> Result<(HeaderValue, u64), Error> {
        if let Some(token) = &state.token {
            let valid = token.expires_at.is_none_or(|at| now < at);
            if token.seq >= min_seq && valid && token.refresh_at.is_some() {
                tracing::warn!(
                    scheme = %self.scheme,
                    "token renewal failed; using the current token until it expires"
                );
                return Ok((token.header.clone(), token.seq));
            }
        }
        Err(match failure {
            Failure::Redirect => Error::TokenEndpointRedirect {
                scheme: self.scheme.clone(),
            },
            Failure::Other(message) => Error::Auth {
                scheme: self.scheme.clone(),
                message,
            },
        })
    }

    /// One token request.
    async fn fetch(&self, state: &mut State, now: Instant) -> Result<Token, Failure> {
        let never_had_one = self.credential.grant == Grant::AccessToken
            && self.credential.access_token.is_none()
            && state.refresh_token.is_none();
        if never_had_one {
            return Err(Failure::Other(
                "there is no token yet: obtain one with `connector-gen login` (or the connector's `login` command)"
                    .into(),
            ));
        }
        let url = self.endpoint(state).await?;
        let mut form: Vec<(&str, &str)> = Vec::new();
        let refresh_token = state.refresh_token.clone();
        match (&self.credential.grant, &refresh_token) {
            (Grant::ClientCredentials, _) => form.push(("grant_type", "client_credentials")),
            (_, Some(refresh)) => {
                form.push(("grant_type", "refresh_token"));
                form.push(("refresh_token", refresh.expose()));
            }
            (_, None) => {
                return Err(Failure::Other(
                    "the access token was rejected or expired and there is no refresh token to renew it"
                        .into(),
                ))
            }
        }
        let scope = self.credential.scopes.join(" ");
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        self.allowed(&url).await?;
        let mut request = self
            .http
            .post(url)
            .timeout(self.settings.timeout)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        let client_id = self.credential.client_id.as_deref();
        let secret = self.credential.client_secret.as_ref();
        match (self.credential.client_auth, client_id, secret) {
            (ClientAuth::Basic, Some(id), Some(secret)) => {
                let pair = format!("{}:{}", form_encode(id), form_encode(secret.expose()));
                let mut value = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(pair)))
                    .map_err(|_| {
                        Failure::Other("the client credentials cannot be sent in a header".into())
                    })?;
                value.set_sensitive(true);
                request = request.header(AUTHORIZATION, value);
            }
            (_, id, secret) => {
                if let Some(id) = id {
                    form.push(("client_id", id));
                }
                if let Some(secret) = secret {
                    form.push(("client_secret", secret.expose()));
                }
            }
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        tracing::debug!(scheme = %self.scheme, grant = form[0].1, "requesting an access token");
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|err| Failure::Other(describe_transport(&err)))?;
        let status = response.status();
        if status.is_redirection() {
            return Err(Failure::Redirect);
        }
        // The body is read only to parse it; it is never quoted, because a failing endpoint
        // may echo the submitted form (client secret, refresh token).
        let bytes = read_limited(response, MAX_TOKEN_RESPONSE_BYTES, "token response").await?;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if !status.is_success() {
            let code = json
                .as_ref()
                .and_then(|v| v.get("error"))
                .and_then(Value::as_str)
                .filter(|c| {
                    c.len() <= 64 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                });
            let message = match code {
                Some(code) => format!(
                    "the token endpoint answered HTTP {} ({code})",
                    status.as_u16()
                ),
                None => format!("the token endpoint answered HTTP {}", status.as_u16()),
            };
            tracing::warn!(scheme = %self.scheme, status = status.as_u16(), "token request failed");
            return Err(Failure::Other(message));
        }
        let json = json.ok_or_else(|| Failure::Other("the token response is not JSON".into()))?;
        let access = json
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Failure::Other("the token response has no `access_token`".into()))?;
        if let Some(kind) = json.get("token_type").and_then(Value::as_str) {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(Failure::Other(format!(
                    "the token endpoint issued a `{}` token; only bearer tokens are supported",
                    kind.chars().take(32).collect::<String>()
                )));
            }
        }
        let rotated = json
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .filter(|t| refresh_token.as_ref().is_none_or(|old| old.expose() != *t));
        if let Some(rotated) = rotated {
            state.refresh_token = Some(Secret::new(rotated));
        }
        let lifetime = match json.get("expires_in") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .map(|seconds| Duration::from_secs(seconds).min(MAX_TOKEN_LIFETIME));
        let (expires_at, refresh_at) = match lifetime {
            Some(lifetime) => {
                // `lifetime - lifetime / 4` cannot overflow, as `lifetime * 3 / 4` could.
                let window = self.settings.refresh_window.min(lifetime - lifetime / 4);
                (later(now, lifetime), later(now, lifetime - window))
            }
            // The lifetime is unknown: use the token for the default time, then get another.
            None => {
                let expiry = later(now, self.settings.default_ttl);
                (expiry, expiry)
            }
        };
        tracing::debug!(scheme = %self.scheme, expires_in = ?lifetime, "obtained an access token");
        let header = bearer(&self.scheme, &Secret::new(access))
            .map_err(|_| Failure::Other("the access token is not a valid header value".into()))?;
        if rotated.is_some() {
            self.persist(state, access, lifetime).await;
        }
        Ok(Token {
            header,
            expires_at: Some(expires_at),
            refresh_at: Some(refresh_at),
            seq: 0,
        })
    }

    /// Keeps a rotated refresh token (and the access token it came with) in the secrets file.
    async fn persist(&self, state: &State, access: &str, lifetime: Option<Duration>) {
        let Some(persist) = self.persist.clone() else {
            return;
        };
        let tokens = StoredTokens {
            access_token: Some(Secret::new(access)),
            refresh_token: state.refresh_token.clone(),
            expires_at: lifetime.map(|l| std::time::SystemTime::now() + l),
            scopes: self.credential.scopes.clone(),
            family: persist.family.clone(),
        };
        let scheme = self.scheme.clone();
        let stored =
            tokio::task::spawn_blocking(move || persist.file.store(&persist.scheme, &tokens)).await;
        match stored {
            Ok(Ok(())) => {
                tracing::debug!(scheme = %scheme, "kept the rotated refresh token in the secrets file")
            }
            Ok(Err(err)) => tracing::warn!(scheme = %scheme, "{err}"),
            Err(_) => tracing::warn!(scheme = %scheme, "could not write the secrets file"),
        }
    }

    /// The token endpoint, reading the discovery document the first time it is needed.
    async fn endpoint(&self, state: &mut State) -> Result<Url, Failure> {
        let discovery = match &self.endpoint {
            Endpoint::Fixed(url) => return Ok(url.clone()),
            Endpoint::None => {
                return Err(Failure::Other(
                    "no token URL is known; set `token_url` in the credential".into(),
                ))
            }
            Endpoint::Discover(url) => url,
        };
        if let Some(url) = &state.discovered {
            return Ok(url.clone());
        }
        tracing::debug!(scheme = %self.scheme, "reading the OpenID Connect discovery document");
        self.allowed(discovery).await?;
        let response = self
            .http
            .get(discovery.clone())
            .timeout(self.settings.timeout)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| Failure::Other(describe_transport(&err)))?;
        if response.status().is_redirection() {
            return Err(Failure::Redirect);
        }
        if !response.status().is_success() {
            return Err(Failure::Other(format!(
                "the OpenID Connect discovery document answered HTTP {}",
                response.status().as_u16()
            )));
        }
        let bytes = read_limited(response, MAX_DISCOVERY_BYTES, "discovery document").await?;
        let json: Value = serde_json::from_slice(&bytes).map_err(|_| {
            Failure::Other("the OpenID Connect discovery document is not JSON".into())
        })?;
        let endpoint = json
            .get("token_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Failure::Other(
                    "the OpenID Connect discovery document names no `token_endpoint`".into(),
                )
            })?;
        let url = check_token_url(endpoint, None, self.settings.allow_http_loopback)
            .map_err(|err| Failure::Other(err.to_string()))?;
        state.discovered = Some(url.clone());
        Ok(url)
    }
}

/// Checks a token or discovery URL: absolute (or relative to `base`), https, or loopback http
/// when allowed.
pub(crate) fn check_token_url(
    url: &str,
    base: Option<&str>,
    allow_http_loopback: bool,
) -> Result<Url, Error> {
    let config = |message: String| Error::Config {
        key: "token_url".into(),
        message,
    };
    let parsed = match (Url::parse(url), base) {
        (Ok(parsed), _) => parsed,
        (Err(_), Some(base)) => Url::parse(&format!("{base}/"))
            .and_then(|b| b.join(url.trim_start_matches('/')))
            .map_err(|err| config(format!("not a valid URL: {err}")))?,
        (Err(err), None) => return Err(config(format!("not a valid URL: {err}"))),
    };
    if !server::transport_allowed(&parsed, allow_http_loopback) {
        return Err(config(
            "token and refresh requests send credentials to it, so it must use https (plain http only to a loopback address, and only when the connection allows it)"
                .into(),
        ));
    }
    Ok(parsed)
}

/// Longest token lifetime believed: a server may send any `expires_in` (up to
/// 18446744073709551615), and the arithmetic on it must neither overflow nor keep a token
/// forever.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

/// Largest token response read: tokens, even JWTs with many claims, are a few KiB.
pub(crate) const MAX_TOKEN_RESPONSE_BYTES: usize = 256 * 1024;

/// Largest OpenID Connect discovery document read.
pub(crate) const MAX_DISCOVERY_BYTES: usize = 1024 * 1024;

/// `now + after`, saturated at the longest token lifetime so that it cannot overflow `Instant`.
fn later(now: Instant, after: Duration) -> Instant {
    let after = after.min(MAX_TOKEN_LIFETIME);
    now.checked_add(after).unwrap_or(now)
}

/// Reads a token-endpoint body of at most `limit` bytes; `what` names it in the failure.
async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
    what: &str,
) -> Result<bytes::Bytes, Failure> {
    read::read_capped(&mut response, limit)
        .await
        .map_err(|err| match err {
            ReadError::TooLarge => Failure::Other(format!(
                "the {what} is larger than {limit} bytes, the limit for a {what}; not read"
            )),
            ReadError::Transport(err) => Failure::Other(describe_transport(&err)),
        })
}

/// A transport failure in words, without the URL.
pub(crate) fn describe_transport(err: &reqwest::Error) -> String {
    if read::head_too_large(err) {
        format!(
            "the token endpoint's response headers passed the limit of {} bytes",
            read::MAX_HEAD_BYTES
        )
    } else if err.is_timeout() {
        "the token endpoint did not answer in time".into()
    } else if err.is_connect() {
        "could not connect to the token endpoint".into()
    } else {
        "the token request failed".into()
    }
}

fn bearer(scheme: &str, token: &Secret) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        Error::Config {
            key: scheme.to_owned(),
            message: "the access token contains characters not allowed in an HTTP header".into(),
        }
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Characters `application/x-www-form-urlencoded` leaves as they are, besides alphanumerics.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// `application/x-www-form-urlencoded` encoding (space as `+`), which RFC 6749 §2.3.1 also
/// asks for before client credentials are put in a basic header.
pub(crate) fn form_encode(value: &str) -> String {
    value
        .split(' ')
        .map(|part| utf8_percent_encode(part, FORM).to_string())
        .collect::<Vec<_>>()
        .join("+")
}

#[cfg(test)]
mod tests {
    use super::form_encode;

    #[test]
    fn form_encoding_matches_rfc_6749_example() {
        assert_eq!(form_encode("1PpG/Q 1"), "1PpG%2FQ+1");
        assert_eq!(
            form_encode("z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw="),
            "z%2FtZ9VwFZqApmIQ%2BZH1I5pLk%2FuB4ud%3AX2%2F8bL%2BwfFTt1rFw%3D"
        );
    }
}
