//! A loopback OAuth 2 authorization server for the login and token-rotation tests, strict where
//! real ones are: it checks PKCE (`S256`, a wrong verifier is refused), the redirect URI (a
//! loopback one, the same at the token endpoint), the client, the scopes, and single-use codes
//! (a reused code revokes what it gave); it rotates refresh tokens and revokes the whole family
//! when a spent one is presented (OAuth 2.1); it serves a device flow that answers
//! `authorization_pending` and `slow_down` as scripted and expires; and an API (`GET /api/me`)
//! that accepts only live access tokens.
//!
//! Shared by the runtime's tests and the command line's (included by path), so it uses only
//! wiremock, serde_json, base64 and ring.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The client the server knows.
pub const CLIENT_ID: &str = "cli-app";
/// The confidential client's secret (a public client sends none).
pub const CLIENT_SECRET: &str = "s3cret-CANARY";
/// The scopes it grants.
pub const SCOPES: [&str; 3] = ["read", "write", "offline_access"];
/// The resource owner of the password grant.
pub const USER: (&str, &str) = ("ann", "pw-CANARY");

/// How the server behaves; change it between steps with [`AuthServer::configure`].
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// `expires_in` of access tokens.
    pub access_lifetime: Duration,
    /// Whether `/authorize` sends back a `state` other than the one it got.
    pub tamper_state: bool,
    /// Whether `/authorize` answers `error=access_denied`.
    pub deny: bool,
    /// The answers of the device flow's polls before it succeeds (`authorization_pending`,
    /// `slow_down`); an `expired_token` ends it.
    pub device_script: Vec<&'static str>,
    /// The device code's lifetime and polling interval, as the server announces them.
    pub device_expires_in: u64,
    pub device_interval: u64,
    /// Whether the token endpoint takes a while, to widen races between processes.
    pub token_delay: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            access_lifetime: Duration::from_secs(3600),
            tamper_state: false,
            deny: false,
            device_script: Vec::new(),
            device_expires_in: 60,
            device_interval: 1,
            token_delay: Duration::ZERO,
        }
    }
}

/// What happened, for the tests to check.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// Token requests by grant type.
    pub grants: BTreeMap<String, usize>,
    /// Refusals of the token endpoint by error code.
    pub refusals: BTreeMap<String, usize>,
    /// Spent refresh tokens presented (each revoked its family).
    pub reuses: usize,
    /// API calls, and those refused.
    pub api_calls: usize,
    pub api_refused: usize,
    /// Device-flow polls, with when they came.
    pub polls: Vec<Instant>,
    /// The scopes of the last authorization request.
    pub requested_scopes: Vec<String>,
    /// The redirect URIs authorization requests named.
    pub redirect_uris: Vec<String>,
}

#[derive(Debug)]
struct Code {
    redirect_uri: String,
    challenge: String,
    scopes: Vec<String>,
    used: bool,
    /// The family the code's tokens belong to, once exchanged.
    family: Option<u64>,
}

#[derive(Debug)]
struct Device {
    script: Vec<&'static str>,
    expires: Instant,
    scopes: Vec<String>,
}

#[derive(Debug, Default)]
struct State {
    behaviour: Behaviour,
    record: Record,
    next: u64,
    codes: BTreeMap<String, Code>,
    devices: BTreeMap<String, Device>,
    /// Every refresh token issued: its family and whether it is the family's current one.
    refresh: BTreeMap<String, (u64, bool)>,
    revoked: BTreeSet<u64>,
    /// Access tokens: family and expiry.
    access: BTreeMap<String, (u64, Instant)>,
}

/// The running server.
pub struct AuthServer {
    pub server: MockServer,
    state: Arc<Mutex<State>>,
}

#[derive(Clone)]
struct Responder {
    state: Arc<Mutex<State>>,
    /// `http://127.0.0.1:PORT`, for the discovery document.
    base: String,
}

impl AuthServer {
    /// Starts the server on a loopback port.
    pub async fn start() -> AuthServer {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State::default()));
        Mock::given(any())
            .respond_with(Responder {
                state: state.clone(),
                base: server.uri(),
            })
            .mount(&server)
            .await;
        AuthServer { server, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes how the server behaves.
    pub fn configure(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.lock().behaviour);
    }

    /// What happened so far.
    pub fn record(&self) -> Record {
        self.lock().record.clone()
    }

    /// Issues a token family directly (as a login would have), for tests that start from a
    /// refresh token: the access token and the refresh token.
    pub fn issue(&self) -> (String, String) {
        let mut state = self.lock();
        let family = state.fresh();
        let (access, refresh, _) = state.tokens(family);
        (access, refresh)
    }

    /// Whether a refresh token is its family's current one and the family is not revoked.
    pub fn is_live_refresh(&self, token: &str) -> bool {
        let state = self.lock();
        matches!(state.refresh.get(token), Some((family, true)) if !state.revoked.contains(family))
    }
}

impl State {
    fn fresh(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn token(&mut self, prefix: &str) -> String {
        let n = self.fresh();
        format!("{prefix}-{}-{n}", std::process::id())
    }

    /// A new access token and a new current refresh token of `family`.
    fn tokens(&mut self, family: u64) -> (String, String, u64) {
        let access = self.token("at");
        let refresh = self.token("rt");
        let lifetime = self.behaviour.access_lifetime;
        self.access
            .insert(access.clone(), (family, Instant::now() + lifetime));
        for (_, (f, current)) in self.refresh.iter_mut() {
            if *f == family {
                *current = false;
            }
        }
        self.refresh.insert(refresh.clone(), (family, true));
        (access, refresh, lifetime.as_secs())
    }

    fn issued(&mut self, family: u64, scopes: &[String]) -> ResponseTemplate {
        let (access, refresh, lifetime) = self.tokens(family);
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "refresh_token": refresh,
            "scope": scopes.join(" "),
        }))
    }

    fn refuse(&mut self, code: &str) -> ResponseTemplate {
        *self.record.refusals.entry(code.to_owned()).or_default() += 1;
        ResponseTemplate::new(400).set_body_json(json!({ "error": code }))
    }

    fn revoke(&mut self, family: u64) {
        self.revoked.insert(family);
    }
}

fn form(request: &Request) -> BTreeMap<String, String> {
    let body = String::from_utf8_lossy(&request.body).into_owned();
    request
        .url
        .join(&format!("?{body}"))
        .map(|url| url.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn query(request: &Request) -> BTreeMap<String, String> {
    request.url.query_pairs().into_owned().collect()
}

/// The client a token request authenticates as: Basic (checked against the secret) or the
/// form's `client_id`.
fn client(request: &Request, form: &BTreeMap<String, String>) -> Option<String> {
    if let Some(basic) = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        return (id == CLIENT_ID && secret == CLIENT_SECRET).then(|| id.to_owned());
    }
    if let Some(secret) = form.get("client_secret") {
        if secret != CLIENT_SECRET {
            return None;
        }
    }
    form.get("client_id").filter(|id| *id == CLIENT_ID).cloned()
}

fn is_loopback_redirect(uri: &str) -> bool {
    uri.strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(port, path)| port.parse::<u16>().is_ok() && path == "callback")
}

fn scopes_of(text: Option<&String>) -> Option<Vec<String>> {
    let scopes: Vec<String> = text
        .map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    scopes
        .iter()
        .all(|s| SCOPES.contains(&s.as_str()))
        .then_some(scopes)
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ))
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let delay = state.behaviour.token_delay;
        let base = &self.base;
        match (request.method.as_str(), request.url.path()) {
            ("GET", "/.well-known/openid-configuration") => ResponseTemplate::new(200)
                .set_body_json(json!({
                    "issuer": base,
                    "authorization_endpoint": format!("{base}/authorize"),
                    "token_endpoint": format!("{base}/token"),
                    "device_authorization_endpoint": format!("{base}/device"),
                })),
            ("GET", "/authorize") => authorize(&mut state, &query(request)),
            ("POST", "/device") => device(&mut state, request),
            ("POST", "/token") => {
                let response = token(&mut state, request);
                response.set_delay(delay)
            }
            ("GET", "/api/me") => api(&mut state, request),
            _ => ResponseTemplate::new(404),
        }
    }
}

fn authorize(state: &mut State, q: &BTreeMap<String, String>) -> ResponseTemplate {
    let bad =
        |what: &str| ResponseTemplate::new(400).set_body_string(format!("bad request: {what}"));
    if q.get("response_type").map(String::as_str) != Some("code") {
        return bad("response_type");
    }
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return bad("client_id");
    }
    let Some(redirect_uri) = q.get("redirect_uri").filter(|u| is_loopback_redirect(u)) else {
        return bad("redirect_uri must be http://127.0.0.1:PORT/callback");
    };
    state.record.redirect_uris.push(redirect_uri.clone());
    let Some(scopes) = scopes_of(q.get("scope")) else {
        return bad("scope");
    };
    state.record.requested_scopes = scopes.clone();
    let Some(sent_state) = q.get("state").filter(|s| s.len() >= 16) else {
        return bad("state");
    };
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return bad("code_challenge_method must be S256");
    }
    let Some(challenge) = q.get("code_challenge").filter(|c| c.len() == 43) else {
        return bad("code_challenge");
    };
    let returned_state = if state.behaviour.tamper_state {
        format!("{sent_state}x")
    } else {
        sent_state.clone()
    };
    let location = if state.behaviour.deny {
        format!("{redirect_uri}?error=access_denied&state={returned_state}")
    } else {
        let code = state.token("code");
        state.codes.insert(
            code.clone(),
            Code {
                redirect_uri: redirect_uri.clone(),
                challenge: challenge.clone(),
                scopes,
                used: false,
                family: None,
            },
        );
        format!("{redirect_uri}?code={code}&state={returned_state}")
    };
    ResponseTemplate::new(302).insert_header("location", location.as_str())
}

fn device(state: &mut State, request: &Request) -> ResponseTemplate {
    let form = form(request);
    if client(request, &form).is_none() {
        return state.refuse("invalid_client");
    }
    let Some(scopes) = scopes_of(form.get("scope")) else {
        return state.refuse("invalid_scope");
    };
    let code = state.token("device");
    let behaviour = state.behaviour.clone();
    state.devices.insert(
        code.clone(),
        Device {
            script: behaviour.device_script.clone(),
            expires: Instant::now() + Duration::from_secs(behaviour.device_expires_in),
            scopes,
        },
    );
    ResponseTemplate::new(200).set_body_json(json!({
        "device_code": code,
        "user_code": "WDJB-MJHT",
        "verification_uri": "https://auth.example.test/activate",
        "verification_uri_complete": "https://auth.example.test/activate?user_code=WDJB-MJHT",
        "expires_in": behaviour.device_expires_in,
        "interval": behaviour.device_interval,
    }))
}

fn token(state: &mut State, request: &Request) -> ResponseTemplate {
    let form = form(request);
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    *state.record.grants.entry(grant.clone()).or_default() += 1;
    if client(request, &form).is_none() {
        return state.refuse("invalid_client");
    }
    match grant.as_str() {
        "authorization_code" => {
            let (Some(code), Some(verifier), Some(redirect_uri)) = (
                form.get("code"),
                form.get("code_verifier"),
                form.get("redirect_uri"),
            ) else {
                return state.refuse("invalid_request");
            };
            let Some(entry) = state.codes.get_mut(code) else {
                return state.refuse("invalid_grant");
            };
            if entry.used {
                // RFC 6749 §4.1.2: a reused code revokes the tokens it gave.
                let family = entry.family;
                if let Some(family) = family {
                    state.revoke(family);
                }
                return state.refuse("invalid_grant");
            }
            entry.used = true;
            if &entry.redirect_uri != redirect_uri || s256(verifier) != entry.challenge {
                return state.refuse("invalid_grant");
            }
            let scopes = entry.scopes.clone();
            let family = state.fresh();
            if let Some(entry) = state.codes.get_mut(code) {
                entry.family = Some(family);
            }
            state.issued(family, &scopes)
        }
        "refresh_token" => {
            let Some(token) = form.get("refresh_token") else {
                return state.refuse("invalid_request");
            };
            match state.refresh.get(token).copied() {
                Some((family, _)) if state.revoked.contains(&family) => {
                    state.refuse("invalid_grant")
                }
                Some((family, true)) => state.issued(family, &[]),
                Some((family, false)) => {
                    // A spent token: someone replayed it, so the whole family goes.
                    state.record.reuses += 1;
                    state.revoke(family);
                    state.refuse("invalid_grant")
                }
                None => state.refuse("invalid_grant"),
            }
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            state.record.polls.push(Instant::now());
            let Some(code) = form.get("device_code").cloned() else {
                return state.refuse("invalid_request");
            };
            let Some(device) = state.devices.get_mut(&code) else {
                return state.refuse("invalid_grant");
            };
            if Instant::now() >= device.expires {
                return state.refuse("expired_token");
            }
            if !device.script.is_empty() {
                let answer = device.script.remove(0);
                return state.refuse(answer);
            }
            let scopes = device.scopes.clone();
            state.devices.remove(&code);
            let family = state.fresh();
            state.issued(family, &scopes)
        }
        "password" => {
            if form.get("username").map(String::as_str) != Some(USER.0)
                || form.get("password").map(String::as_str) != Some(USER.1)
            {
                return state.refuse("invalid_grant");
            }
            let Some(scopes) = scopes_of(form.get("scope")) else {
                return state.refuse("invalid_scope");
            };
            let family = state.fresh();
            state.issued(family, &scopes)
        }
        _ => state.refuse("unsupported_grant_type"),
    }
}

fn api(state: &mut State, request: &Request) -> ResponseTemplate {
    state.record.api_calls += 1;
    let token = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match state.access.get(token).copied() {
        Some((family, expires)) if !state.revoked.contains(&family) && Instant::now() < expires => {
            ResponseTemplate::new(200).set_body_json(json!({"sub": USER.0, "family": family}))
        }
        _ => {
            state.record.api_refused += 1;
            ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_token"}))
        }
    }
}
