//! OAuth 2 token handling against a loopback API and token endpoint (AU-1 to AU-6).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use connector_runtime::descriptor::{
    ConnectorDescriptor, Method, OperationDescriptor, SecuritySchemeKind,
};
use connector_runtime::{Args, ClientAuth, Clock, Connection, Credential, Error, OAuth2Credential};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A clock the test moves by hand.
#[derive(Debug)]
struct FakeClock {
    start: Instant,
    offset: Mutex<Duration>,
}

impl FakeClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    fn set(&self, seconds: u64) {
        *self.offset.lock().unwrap() = Duration::from_secs(seconds);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap()
    }
}

/// Issues `tok-1`, `tok-2`, ... with the given `expires_in`, counting requests.
struct Issuer {
    count: AtomicUsize,
    expires_in: Option<u64>,
    delay: Duration,
}

impl Respond for Issuer {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let mut body = json!({"access_token": format!("tok-{n}"), "token_type": "Bearer"});
        if let Some(expires_in) = self.expires_in {
            body["expires_in"] = json!(expires_in);
        }
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(self.delay)
    }
}

fn issuer(expires_in: Option<u64>) -> Issuer {
    Issuer {
        count: AtomicUsize::new(0),
        expires_in,
        delay: Duration::ZERO,
    }
}

fn secured_op() -> OperationDescriptor {
    with_security(op("secured", Method::Get, "/secure"), &[&["oauth"]])
}

fn oauth_connector(server: &MockServer) -> ConnectorDescriptor {
    connector(
        vec![secured_op()],
        vec![scheme("oauth", oauth2(&format!("{}/token", server.uri())))],
    )
}

async fn mount_token(server: &MockServer, responder: impl Respond + 'static) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(responder)
        .mount(server)
        .await;
}

async fn mount_api(server: &MockServer, response: ResponseTemplate) {
    Mock::given(path("/secure"))
        .respond_with(response)
        .mount(server)
        .await;
}

fn client_credentials() -> Credential {
    Credential::oauth2(OAuth2Credential::client_credentials("client-1", CANARY))
}

fn connect_oauth(
    server: &MockServer,
    connector: &ConnectorDescriptor,
    credential: Credential,
) -> Connection {
    builder(server, connector)
        .credential("oauth", credential)
        .build()
        .expect("test connection")
}

async fn requests_to(server: &MockServer, to: &str) -> Vec<Request> {
    requests(server)
        .await
        .into_iter()
        .filter(|r| r.url.path() == to)
        .collect()
}

fn bearer(request: &Request) -> String {
    header(request, "authorization")
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn au1_one_token_request_for_100_sequential_actions() {
    let server = server_with_nothing().await;
    mount_token(&server, issuer(Some(3600))).await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let connector = oauth_connector(&server);
    let conn = connect_oauth(&server, &connector, client_credentials());
    for _ in 0..100 {
        conn.execute(&secured_op(), Args::new()).await.unwrap();
    }
    assert_eq!(requests_to(&server, "/token").await.len(), 1);
    let api = requests_to(&server, "/secure").await;
    assert_eq!(api.len(), 100);
    assert!(api.iter().all(|r| bearer(r) == "Bearer tok-1"));
}

#[tokio::test]
async fn au1_token_without_expires_in_lives_for_the_default_ttl() {
    let server = server_with_nothing().await;
    mount_token(&server, issuer(None)).await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let clock = FakeClock::new();
    let connector = oauth_connector(&server);
    let conn = builder(&server, &connector)
        .credential("oauth", client_credentials())
        .clock(clock.clone())
        .token_default_ttl(Duration::from_secs(300))
        .build()
        .unwrap();
    for (at, expected_tokens) in [(0, 1), (1, 1), (299, 1), (300, 2), (301, 2)] {
        clock.set(at);
        conn.execute(&secured_op(), Args::new()).await.unwrap();
        assert_eq!(
            requests_to(&server, "/token").await.len(),
            expected_tokens,
            "at {at}s"
        );
    }
}

#[tokio::test]
async fn au2_refreshes_ahead_of_expiry_and_falls_back_while_valid() {
    let server = server_with_nothing().await;
    // One good token, then the endpoint fails.
    Mock::given(path("/token"))
        .respond_with(issuer(Some(400)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_token(&server, ResponseTemplate::new(503)).await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let clock = FakeClock::new();
    let connector = oauth_connector(&server);
    let conn = builder(&server, &connector)
        .credential("oauth", client_credentials())
        .clock(clock.clone())
        .token_refresh_window(Duration::from_secs(300))
        .build()
        .unwrap();
    let tokens = || async { requests_to(&server, "/token").await.len() };

    conn.execute(&secured_op(), Args::new()).await.unwrap();
    clock.set(50);
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    assert_eq!(tokens().await, 1, "no refresh before the window");

    // In the window: one refresh attempt, which fails; the still-valid token is used.
    clock.set(101);
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    assert_eq!(tokens().await, 2);
    // A later call tries the refresh again.
    clock.set(150);
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    assert_eq!(tokens().await, 3);
    let api = requests_to(&server, "/secure").await;
    assert_eq!(api.len(), 4);
    assert!(api.iter().all(|r| bearer(r) == "Bearer tok-1"));

    // Expired and not renewable: an auth error, and the API is not called.
    clock.set(401);
    let err = conn.execute(&secured_op(), Args::new()).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(err.is_auth());
    assert_eq!(requests_to(&server, "/secure").await.len(), 4);
}

#[tokio::test]
async fn au2_refresh_in_window_carries_the_new_token() {
    let server = server_with_nothing().await;
    mount_token(&server, issuer(Some(400))).await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let clock = FakeClock::new();
    let connector = oauth_connector(&server);
    let conn = builder(&server, &connector)
        .credential("oauth", client_credentials())
        .clock(clock.clone())
        .build()
        .unwrap();
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    clock.set(101);
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    let api = requests_to(&server, "/secure").await;
    assert_eq!(bearer(&api[1]), "Bearer tok-2");
    assert_eq!(requests_to(&server, "/token").await.len(), 2);
}

async fn run_concurrently(conn: &Connection, count: usize) -> Vec<Result<(), Error>> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..count {
        let conn = conn.clone();
        set.spawn(async move { conn.execute(&secured_op(), Args::new()).await.map(|_| ()) });
    }
    let mut out = Vec::new();
    while let Some(result) = set.join_next().await {
        out.push(result.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn au3_fifty_concurrent_actions_make_one_token_request() {
    let server = server_with_nothing().await;
    mount_token(
        &server,
        Issuer {
            delay: Duration::from_millis(200),
            ..issuer(Some(3600))
        },
    )
    .await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let connector = oauth_connector(&server);
    let conn = connect_oauth(&server, &connector, client_credentials());
    let results = run_concurrently(&conn, 50).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(requests_to(&server, "/token").await.len(), 1);
    let api = requests_to(&server, "/secure").await;
    assert_eq!(api.len(), 50);
    assert!(api.iter().all(|r| bearer(r) == "Bearer tok-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn au3_failing_token_endpoint_is_asked_once_and_not_cached() {
    let server = server_with_nothing().await;
    mount_token(
        &server,
        ResponseTemplate::new(500).set_delay(Duration::from_millis(100)),
    )
    .await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let connector = oauth_connector(&server);
    let conn = connect_oauth(&server, &connector, client_credentials());
    let results = run_concurrently(&conn, 50).await;
    assert!(results.iter().all(|r| matches!(r, Err(Error::Auth { .. }))));
    assert_eq!(requests_to(&server, "/token").await.len(), 1);
    assert!(requests_to(&server, "/secure").await.is_empty());
    // No poisoned cache: the next call tries again.
    conn.execute(&secured_op(), Args::new()).await.unwrap_err();
    assert_eq!(requests_to(&server, "/token").await.len(), 2);
}

/// A token endpoint that rotates refresh tokens and rejects reuse of an old one.
struct Rotating {
    current: Mutex<String>,
    issued: AtomicUsize,
    rejected: AtomicUsize,
}

impl Respond for Rotating {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: Vec<(String, String)> = url_form(&request.body);
        let given = form
            .iter()
            .find(|(k, _)| k == "refresh_token")
            .map(|(_, v)| v.clone());
        let mut current = self.current.lock().unwrap();
        if given.as_deref() != Some(current.as_str()) {
            self.rejected.fetch_add(1, Ordering::SeqCst);
            return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}));
        }
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        *current = format!("rt-{n}");
        ResponseTemplate::new(200)
            .set_body_json(json!({
                "access_token": format!("acc-{n}"),
                "token_type": "bearer",
                "expires_in": 600,
                "refresh_token": format!("rt-{n}"),
            }))
            .set_delay(Duration::from_millis(50))
    }
}

fn url_form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn au3_rotating_refresh_tokens_are_used_once_and_kept() {
    let server = server_with_nothing().await;
    let rotating = Arc::new(Rotating {
        current: Mutex::new("rt-0".into()),
        issued: AtomicUsize::new(0),
        rejected: AtomicUsize::new(0),
    });
    struct Shared(Arc<Rotating>);
    impl Respond for Shared {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            self.0.respond(request)
        }
    }
    mount_token(&server, Shared(rotating.clone())).await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let clock = FakeClock::new();
    let connector = oauth_connector(&server);
    let credential = OAuth2Credential::refresh_token("client-1", "rt-0")
        .with_client_secret(CANARY)
        .with_token_url(format!("{}/token", server.uri()));
    let conn = builder(&server, &connector)
        .credential("oauth", Credential::oauth2(credential))
        .clock(clock.clone())
        .build()
        .unwrap();
    for round in 1..=3 {
        clock.set(700 * (round - 1));
        let results = run_concurrently(&conn, 20).await;
        assert!(
            results.iter().all(Result::is_ok),
            "round {round}: {results:?}"
        );
        assert_eq!(rotating.issued.load(Ordering::SeqCst), round as usize);
    }
    assert_eq!(
        rotating.rejected.load(Ordering::SeqCst),
        0,
        "an old refresh token was reused"
    );
    let api = requests_to(&server, "/secure").await;
    assert_eq!(bearer(api.last().unwrap()), "Bearer acc-3");
}

#[tokio::test]
async fn au4_401_then_200_refreshes_once_and_retries_once() {
    let server = server_with_nothing().await;
    mount_token(&server, issuer(Some(3600))).await;
    Mock::given(path("/secure"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let connector = oauth_connector(&server);
    let conn = connect_oauth(&server, &connector, client_credentials());
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    let api = requests_to(&server, "/secure").await;
    assert_eq!(api.len(), 2);
    assert_eq!(bearer(&api[0]), "Bearer tok-1");
    assert_eq!(bearer(&api[1]), "Bearer tok-2");
    assert_eq!(requests_to(&server, "/token").await.len(), 2);
}

#[tokio::test]
async fn au4_success_body_reporting_a_rejected_token_is_treated_like_401() {
    let server = server_with_nothing().await;
    mount_token(&server, issuer(Some(3600))).await;
    Mock::given(path("/secure"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"error": {"code": "expired_token"}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_api(
        &server,
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})),
    )
    .await;
    let connector = oauth_connector(&server);
    let conn = builder(&server, &connector)
        .credential("oauth", client_credentials())
        .auth_failure_body("error.code", ["expired_token"])
        .build()
        .unwrap();
    let response = conn.execute(&secured_op(), Args::new()).await.unwrap();
    assert_eq!(
        response.json::<serde_json::Value>().unwrap(),
        serde_json::json!({"ok": true})
    );
    let api = requests_to(&server, "/secure").await;
    assert_eq!(api.len(), 2);
    assert_eq!(bearer(&api[1]), "Bearer tok-2");
    assert_eq!(requests_to(&server, "/token").await.len(), 2);

    // Rejected again after the renewal: an auth error, not a success, and no loop.
    let server = server_with_nothing().await;
    mount_token(&server, issuer(Some(3600))).await;
    mount_api(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"error": {"code": "expired_token"}})),
    )
    .await;
    let connector = oauth_connector(&server);
    let conn = builder(&server, &connector)
        .credential("oauth", client_credentials())
        .auth_failure_body("error.code", ["expired_token"])
        .build()
        .unwrap();
    let err = conn.execute(&secured_op(), Args::new()).await.unwrap_err();
    assert!(
        matches!(err, Error::AuthRejected { status: 200, .. }),
        "{err:?}"
    );
    assert!(err.is_auth());
    assert_eq!(requests_to(&server, "/secure").await.len(), 2);
}

#[tokio::test]
async fn au4_401_twice_gives_up_without_looping() {
    let server = server_with_nothing().await;
    mount_token(&server, issuer(Some(3600))).await;
    mount_api(&server, ResponseTemplate::new(401)).await;
    let connector = oauth_connector(&server);
    let conn = connect_oauth(&server, &connector, client_credentials());
    let err = conn.execute(&secured_op(), Args::new()).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.is_auth());
    assert_eq!(requests_to(&server, "/secure").await.len(), 2);
    assert_eq!(requests_to(&server, "/token").await.len(), 2);
}

#[tokio::test]
async fn au4_403_is_not_a_token_problem_unless_configured() {
    for (configured, api_requests) in [(false, 1), (true, 2)] {
        let server = server_with_nothing().await;
        mount_token(&server, issuer(Some(3600))).await;
        mount_api(&server, ResponseTemplate::new(403)).await;
        let connector = oauth_connector(&server);
        let mut b = builder(&server, &connector).credential("oauth", client_credentials());
        if configured {
            b = b.auth_failure_status(403);
        }
        let conn = b.build().unwrap();
        let err = conn.execute(&secured_op(), Args::new()).await.unwrap_err();
        assert_eq!(err.status(), Some(403));
        assert_eq!(requests_to(&server, "/secure").await.len(), api_requests);
        assert_eq!(requests_to(&server, "/token").await.len(), api_requests);
    }
}

#[tokio::test]
async fn au4_access_token_is_renewed_with_its_refresh_token_after_401() {
    let server = server_with_nothing().await;
    mount_token(&server, issuer(Some(3600))).await;
    Mock::given(path("/secure"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let connector = oauth_connector(&server);
    let credential = OAuth2Credential::access_token("given-token")
        .with_client_id("client-1")
        .with_refresh_token("rt-stored");
    let conn = connect_oauth(&server, &connector, Credential::oauth2(credential));
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    let api = requests_to(&server, "/secure").await;
    assert_eq!(bearer(&api[0]), "Bearer given-token");
    assert_eq!(bearer(&api[1]), "Bearer tok-1");
    let token = requests_to(&server, "/token").await;
    assert_eq!(token.len(), 1);
    let form = url_form(&token[0].body);
    assert!(
        form.contains(&("grant_type".into(), "refresh_token".into())),
        "{form:?}"
    );
    assert!(
        form.contains(&("refresh_token".into(), "rt-stored".into())),
        "{form:?}"
    );
}

#[tokio::test]
async fn au4_access_token_without_refresh_token_is_not_retried() {
    let server = server_with_nothing().await;
    mount_api(&server, ResponseTemplate::new(401)).await;
    let connector = oauth_connector(&server);
    let credential = Credential::oauth2(OAuth2Credential::access_token("given-token"));
    let conn = connect_oauth(&server, &connector, credential);
    let err = conn.execute(&secured_op(), Args::new()).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn au3_retry_after_401_uses_a_token_issued_after_the_401() {
    let server = server_with_nothing().await;
    // tok-1 at once, tok-2 slowly (a refresh in flight when the 401 arrives), tok-3 at once.
    struct Staged(AtomicUsize);
    impl Respond for Staged {
        fn respond(&self, _: &Request) -> ResponseTemplate {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            let delay = if n == 2 { 500 } else { 0 };
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": format!("tok-{n}"), "expires_in": 3600}))
                .set_delay(Duration::from_millis(delay))
        }
    }
    mount_token(&server, Staged(AtomicUsize::new(0))).await;
    Mock::given(path("/secure"))
        .respond_with(ResponseTemplate::new(401).set_delay(Duration::from_millis(300)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let clock = FakeClock::new();
    let connector = oauth_connector(&server);
    let conn = builder(&server, &connector)
        .credential("oauth", client_credentials())
        .clock(clock.clone())
        .build()
        .unwrap();
    let first = {
        let conn = conn.clone();
        tokio::spawn(async move { conn.execute(&secured_op(), Args::new()).await.map(|_| ()) })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // tok-1 is now due for refresh: this call starts the slow refresh.
    clock.set(3400);
    let second = {
        let conn = conn.clone();
        tokio::spawn(async move { conn.execute(&secured_op(), Args::new()).await.map(|_| ()) })
    };
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    let api = requests_to(&server, "/secure").await;
    let tokens: Vec<String> = api.iter().map(bearer).collect();
    assert_eq!(tokens[0], "Bearer tok-1", "{tokens:?}");
    // The retry after the 401 must not use tok-2, whose request was in flight at the 401.
    assert!(tokens.contains(&"Bearer tok-3".to_owned()), "{tokens:?}");
    assert_eq!(requests_to(&server, "/token").await.len(), 3);
}

fn token_request_basic(id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
}

#[tokio::test]
async fn au5_client_secret_basic_is_form_encoded_then_base64() {
    let (id, secret) = (
        "1PpG/Q 1",
        "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw=",
    );
    let server = server_with_nothing().await;
    mount_token(&server, issuer(Some(3600))).await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let connector = oauth_connector(&server);
    let credential = Credential::oauth2(OAuth2Credential::client_credentials(id, secret));
    let conn = connect_oauth(&server, &connector, credential);
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    let token = &requests_to(&server, "/token").await[0];
    let expected = "Basic MVBwRyUyRlErMTp6JTJGdFo5VndGWnFBcG1JUSUyQlpIMUk1cExrJTJGdUI0dWQlM0FYMiUyRjhiTCUyQndmRlR0MXJGdyUzRA==";
    assert_eq!(header(token, "authorization"), Some(expected));
    assert_eq!(token_request_basic(id, secret), expected);
    assert_eq!(token.headers.get_all("authorization").iter().count(), 1);
    let form = url_form(&token.body);
    assert!(!form.iter().any(|(k, _)| k == "client_secret"), "{form:?}");
}

#[tokio::test]
async fn au5_client_secret_post_puts_credentials_in_the_body_only() {
    let (id, secret) = (
        "1PpG/Q 1",
        "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw=",
    );
    let server = server_with_nothing().await;
    mount_token(&server, issuer(Some(3600))).await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let connector = oauth_connector(&server);
    let credential = OAuth2Credential::client_credentials(id, secret)
        .with_client_auth(ClientAuth::Post)
        .with_scopes(["read", "write"]);
    let conn = connect_oauth(&server, &connector, Credential::oauth2(credential));
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    let token = &requests_to(&server, "/token").await[0];
    assert!(header(token, "authorization").is_none());
    let form = url_form(&token.body);
    assert_eq!(
        form,
        [
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), "read write".to_owned()),
            ("client_id".to_owned(), id.to_owned()),
            ("client_secret".to_owned(), secret.to_owned()),
        ]
    );
    // The API request carries exactly one credential.
    let api = &requests_to(&server, "/secure").await[0];
    assert_eq!(api.headers.get_all("authorization").iter().count(), 1);
}

#[tokio::test]
async fn au6_token_endpoint_redirect_is_not_followed() {
    let server = server_with_nothing().await;
    let elsewhere = server_with_nothing().await;
    mount_token(
        &server,
        ResponseTemplate::new(302).insert_header("location", format!("{}/token", elsewhere.uri())),
    )
    .await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let connector = oauth_connector(&server);
    let conn = connect_oauth(&server, &connector, client_credentials());
    let err = conn.execute(&secured_op(), Args::new()).await.unwrap_err();
    assert!(
        matches!(err, Error::TokenEndpointRedirect { .. }),
        "{err:?}"
    );
    assert!(requests(&elsewhere).await.is_empty());
    assert!(requests_to(&server, "/secure").await.is_empty());
}

#[tokio::test]
async fn au6_hanging_token_endpoint_times_out() {
    let server = server_with_nothing().await;
    mount_token(
        &server,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
    )
    .await;
    let connector = oauth_connector(&server);
    let conn = builder(&server, &connector)
        .credential("oauth", client_credentials())
        .token_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = conn.execute(&secured_op(), Args::new()).await.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert!(err.to_string().contains("in time"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn au6_plain_http_with_credentials_needs_loopback_and_opt_in() {
    let connector = connector(
        vec![],
        vec![scheme(
            "key",
            api_key(
                connector_runtime::descriptor::ApiKeyLocation::Header,
                "X-Key",
            ),
        )],
    );
    let with_key = |url: &str, allow: bool| {
        Connection::builder(&connector)
            .base_url(url)
            .allow_http_loopback(allow)
            .credential("key", Credential::api_key(CANARY))
            .build()
    };
    assert!(with_key("https://api.example.com", false).is_ok());
    assert!(with_key("http://127.0.0.1:9", true).is_ok());
    for (url, allow) in [
        ("http://127.0.0.1:9", false),
        ("http://api.example.com", false),
        ("http://api.example.com", true),
    ] {
        let err = with_key(url, allow).unwrap_err();
        assert!(
            matches!(&err, Error::Config { key, .. } if key == "base_url"),
            "{url}: {err:?}"
        );
        assert!(!err.to_string().contains(CANARY));
    }
    // Without credentials plain http is the API's business.
    assert!(Connection::builder(&connector)
        .base_url("http://api.example.com")
        .build()
        .is_ok());
    // A token endpoint gets the same rule.
    let oauth = ConnectorDescriptor {
        security_schemes: std::borrow::Cow::Owned(vec![scheme(
            "oauth",
            oauth2("http://auth.example.com/token"),
        )]),
        ..connector.clone()
    };
    let err = Connection::builder(&oauth)
        .base_url("https://api.example.com")
        .credential("oauth", client_credentials())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("token_url"), "{err}");
}

/// Example specs often declare an `http://` token URL. A connection that only supplies an access
/// token never contacts it, so it must not be refused for it; one that would send a refresh
/// token or client secret there still is, and the error says why.
#[tokio::test]
async fn plain_http_token_url_is_checked_only_where_it_carries_credentials() {
    let server = server_with_nothing().await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let connector = connector(
        vec![secured_op()],
        vec![scheme("oauth", oauth2("http://auth.example.com/token"))],
    );
    let conn = connect_oauth(
        &server,
        &connector,
        Credential::oauth2(OAuth2Credential::access_token(CANARY)),
    );
    conn.execute(&secured_op(), Args::new()).await.unwrap();
    assert_eq!(requests_to(&server, "/secure").await.len(), 1);

    let refreshable = [
        OAuth2Credential::access_token(CANARY)
            .with_client_id("client-1")
            .with_refresh_token(CANARY),
        OAuth2Credential::refresh_token("client-1", CANARY),
        OAuth2Credential::client_credentials("client-1", CANARY),
    ];
    for credential in refreshable {
        let err = builder(&server, &connector)
            .credential("oauth", Credential::oauth2(credential))
            .build()
            .unwrap_err();
        assert!(
            matches!(&err, Error::Config { key, .. } if key == "oauth.token_url"),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("token and refresh requests send credentials"),
            "{err}"
        );
        assert!(!err.to_string().contains(CANARY));
    }
}

#[tokio::test]
async fn openid_connect_discovers_the_token_endpoint_once() {
    let server = server_with_nothing().await;
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": server.uri(),
            "token_endpoint": format!("{}/token", server.uri()),
        })))
        .mount(&server)
        .await;
    mount_token(&server, issuer(Some(3600))).await;
    mount_api(&server, ResponseTemplate::new(200)).await;
    let kind = SecuritySchemeKind::OpenIdConnect {
        url: text(&format!(
            "{}/.well-known/openid-configuration",
            server.uri()
        )),
    };
    let connector = connector(vec![secured_op()], vec![scheme("oauth", kind)]);
    let conn = connect_oauth(&server, &connector, client_credentials());
    for _ in 0..3 {
        conn.execute(&secured_op(), Args::new()).await.unwrap();
    }
    assert_eq!(
        requests_to(&server, "/.well-known/openid-configuration")
            .await
            .len(),
        1
    );
    assert_eq!(requests_to(&server, "/token").await.len(), 1);
    assert!(requests_to(&server, "/secure")
        .await
        .iter()
        .all(|r| bearer(r) == "Bearer tok-1"));
}

#[tokio::test]
async fn missing_oauth_credential_fails_before_any_request() {
    let server = server_with_nothing().await;
    let connector = oauth_connector(&server);
    let conn = builder(&server, &connector).build().unwrap();
    let err = conn.execute(&secured_op(), Args::new()).await.unwrap_err();
    assert!(matches!(err, Error::MissingCredentials { .. }), "{err:?}");
    assert!(err.to_string().contains("oauth"), "{err}");
    assert!(requests(&server).await.is_empty());
}

/// Issue 8 item 5: `expires_in: 18446744073709551615` overflowed a `Duration` multiplication
/// on every action. Huge, negative, fractional and non-numeric lifetimes now end in a usable
/// token (or the default lifetime), and the runtime keeps working as the clock moves on.
#[tokio::test]
async fn hostile_expires_in_values_never_panic() {
    let hostile = [
        json!(u64::MAX),
        json!(u64::MAX.to_string()),
        json!("99999999999999999999999999"),
        json!(-1),
        json!(i64::MIN),
        json!(1e300),
        json!(0),
        json!("soon"),
        json!(null),
        json!({"nested": 1}),
    ];
    for expires_in in hostile {
        let server = server_with_nothing().await;
        let body = json!({"access_token": "tok", "token_type": "bearer", "expires_in": expires_in});
        mount_token(&server, ResponseTemplate::new(200).set_body_json(body)).await;
        mount_api(&server, ResponseTemplate::new(200)).await;
        let clock = FakeClock::new();
        let connector = oauth_connector(&server);
        let conn = builder(&server, &connector)
            .credential("oauth", client_credentials())
            .clock(clock.clone())
            // A window and default lifetime as large as a caller can ask for saturate too.
            .token_refresh_window(Duration::MAX)
            .token_default_ttl(Duration::MAX)
            .build()
            .unwrap();
        for at in [0, 1, 400 * 24 * 3600] {
            clock.set(at);
            let outcome = tokio::spawn({
                let conn = conn.clone();
                async move { conn.execute(&secured_op(), Args::new()).await.map(|_| ()) }
            })
            .await;
            match outcome {
                Ok(result) => result.unwrap_or_else(|e| panic!("{expires_in} at {at}s: {e}")),
                Err(panic) => panic!("expires_in {expires_in} at {at}s panicked: {panic}"),
            }
        }
        // A lifetime over a year is believed for a year: the token is renewed after it.
        if expires_in == json!(u64::MAX) {
            assert_eq!(requests_to(&server, "/token").await.len(), 2);
        }
    }
}
