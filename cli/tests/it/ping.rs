//! Ping: a good connection, a rejected credential, an unreachable host, a failed body check, and
//! the offline / re-probe cycle with an injected sleeper; also as a process.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connector_gen::{interpret, Options};
use connector_runtime::health::{HealthPolicy, Sleep, Sleeper};
use connector_runtime::{Connection, Credential, Error};
use serde_json::json;
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/entities.yaml")
}

fn connection(base_url: &str) -> Connection {
    let descriptor = interpret::load_descriptor(&spec(), &Options::default()).unwrap();
    Connection::builder(&descriptor)
        .base_url(base_url)
        .allow_http_loopback(true)
        .credential("token", Credential::bearer("good"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn ping_tells_reachable_credentials_and_latency() {
    let server = MockServer::start().await;
    Mock::given(path("/ping"))
        .and(header("authorization", "Bearer good"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    Mock::given(path("/ping"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let good = connection(&server.uri()).ping().await;
    assert!(good.ok && good.reachable, "{good:?}");
    assert_eq!(good.credentials_accepted, Some(true));
    assert_eq!(good.action, "ping");
    assert!(good.latency_ms < 10_000);

    let descriptor = interpret::load_descriptor(&spec(), &Options::default()).unwrap();
    let bad = Connection::builder(&descriptor)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .credential("token", Credential::bearer("stolen"))
        .build()
        .unwrap()
        .ping()
        .await;
    assert!(!bad.ok && bad.reachable);
    assert_eq!(bad.credentials_accepted, Some(false));
    assert_eq!(bad.status, Some(401));
    assert!(!format!("{bad:?}").contains("stolen"));

    // Port 9 (discard) on loopback: nothing listens.
    let down = connection("http://127.0.0.1:9").ping().await;
    assert!(!down.ok && !down.reachable, "{down:?}");
    assert_eq!(down.credentials_accepted, None);
}

#[tokio::test]
async fn the_declared_body_check_must_hold() {
    let server = MockServer::start().await;
    Mock::given(path("/ping"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false})))
        .mount(&server)
        .await;
    let result = connection(&server.uri()).ping().await;
    assert!(!result.ok && result.reachable);
    assert!(result.problem.unwrap().contains("`ok` is not true"));
}

/// Records each wait and returns once the test opens the gate.
#[derive(Debug)]
struct Recorder(Mutex<Vec<Duration>>, Arc<tokio::sync::Semaphore>);

impl Sleeper for Recorder {
    fn sleep(&self, duration: Duration) -> Sleep {
        if let Ok(mut waits) = self.0.lock() {
            waits.push(duration);
        }
        let gate = self.1.clone();
        Box::pin(async move {
            if let Ok(permit) = gate.acquire().await {
                permit.forget();
            }
        })
    }
}

#[tokio::test]
async fn offline_connections_fail_fast_and_come_back_after_a_re_probe() {
    let server = MockServer::start().await;
    // Four failed pings (the check and three re-probes), then the API is back.
    Mock::given(path("/ping"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(4)
        .mount(&server)
        .await;
    Mock::given(path("/ping"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    Mock::given(path("/toys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let conn = connection(&server.uri());
    // Off by default: a failed ping changes nothing.
    let plain = connection(&server.uri());
    assert!(!plain.check_health().await.ok);
    assert!(plain.is_online());

    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let recorder = Arc::new(Recorder(Mutex::default(), gate.clone()));
    conn.enable_health_checks(HealthPolicy {
        initial_backoff: Duration::from_secs(1),
        max_backoff: Duration::from_secs(3),
        jitter: 0.0,
        sleeper: recorder.clone(),
        ..HealthPolicy::default()
    });
    assert!(conn.is_online());
    // The plain connection already used one failure; three are left, then success.
    let sent_before = server.received_requests().await.unwrap().len();
    let result = conn.check_health().await;
    assert!(!result.ok);
    assert!(!conn.is_online());
    let err = conn.execute_action("listToys", json!({})).await;
    assert!(matches!(err, Err(Error::Offline { .. })), "{err:?}");
    assert!(err.unwrap_err().to_string().contains("offline"));
    gate.add_permits(10);
    for _ in 0..200 {
        if conn.is_online() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(conn.is_online(), "a successful re-probe brings it back");
    let waits = recorder.0.lock().unwrap().clone();
    assert_eq!(
        waits,
        vec![
            Duration::from_secs(1),
            Duration::from_secs(2),
            Duration::from_secs(3)
        ]
    );
    let sent = server.received_requests().await.unwrap();
    let toys = sent[sent_before..]
        .iter()
        .filter(|r| r.url.path() == "/toys")
        .count();
    assert_eq!(toys, 0, "nothing is sent while offline");
    conn.execute_action("listToys", json!({})).await.unwrap();
}

#[test]
fn ping_as_a_process() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(path("/ping"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
            .mount(&server)
            .await;
        server
    });
    let run = |url: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_connector-gen"))
            .arg("ping")
            .arg(spec())
            .args(["--base-url", url])
            .output()
            .unwrap()
    };
    let out = run(&server.uri());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["reachable"], true);
    let out = run("http://127.0.0.1:9");
    assert_eq!(out.status.code(), Some(3));
}

/// LD-4: a ping declared with success, fail and error paths against `GET /me`.
mod ld4 {
    use std::time::{Duration, Instant};

    use connector_gen::{interpret, Options};
    use connector_runtime::health::{PingOutcome, PingResult};
    use connector_runtime::{Connection, Credential, OAuth2Credential};
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const API_KEY: &str = "canary-api-key-5f1c";
    const BEARER: &str = "canary-bearer-9d2e";
    const CLIENT_SECRET: &str = "canary-client-secret-7a3b";

    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: LD4, version: "1"}
servers: [{url: "http://127.0.0.1:9"}]
x-connector-ping:
  action: getMe
  successPath: status
  successValues: [ok]
  failPath: error.code
  failValues: [expired_token]
  errorPath: error.message
  timeoutMs: 400
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
    token: {type: http, scheme: bearer}
    oauth:
      type: oauth2
      flows: {clientCredentials: {tokenUrl: "http://127.0.0.1:9/token", scopes: {}}}
paths:
  /me:
    get:
      operationId: getMe
      security: [{key: [], token: []}, {oauth: []}]
      responses:
        "200":
          description: who the credentials belong to
          content: {application/json: {schema: {type: object}}}
"#;

    fn descriptor() -> connector_runtime::descriptor::ConnectorDescriptor {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("ld4.yaml");
        std::fs::write(&spec, SPEC).unwrap();
        interpret::load_descriptor(&spec, &Options::default()).unwrap()
    }

    fn keyed(base_url: &str) -> Connection {
        Connection::builder(&descriptor())
            .base_url(base_url)
            .allow_http_loopback(true)
            .credential("key", Credential::api_key(API_KEY))
            .credential("token", Credential::bearer(BEARER))
            .build()
            .unwrap()
    }

    async fn serving(answer: ResponseTemplate) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(path("/me"))
            .respond_with(answer)
            .mount(&server)
            .await;
        server
    }

    async fn hits(server: &MockServer, to: &str) -> usize {
        let requests = server.received_requests().await.unwrap_or_default();
        requests.iter().filter(|r| r.url.path() == to).count()
    }

    fn no_secret(result: &PingResult) {
        for shown in [format!("{result}"), format!("{result:?}")] {
            for canary in [API_KEY, BEARER, CLIENT_SECRET] {
                assert!(!shown.contains(canary), "{canary} in {shown}");
            }
        }
    }

    /// Pings once against an answer and checks the one-attempt and no-secret rules.
    async fn ping_once(answer: ResponseTemplate) -> PingResult {
        let server = serving(answer).await;
        let result = keyed(&server.uri()).ping().await;
        assert_eq!(hits(&server, "/me").await, 1, "{result:?}");
        no_secret(&result);
        result
    }

    #[tokio::test]
    async fn ld4_ping_outcomes_in_one_attempt_within_the_timeout_without_secrets() {
        let healthy = ping_once(ResponseTemplate::new(200).set_body_json(json!({"status": "ok"})));
        let healthy = healthy.await;
        assert_eq!(healthy.outcome, PingOutcome::Healthy);
        assert!(healthy.ok && healthy.reachable);
        assert!(format!("{healthy}").starts_with("healthy [getMe in "));
        assert_eq!(
            serde_json::to_value(&healthy).unwrap()["outcome"],
            "healthy"
        );

        // The key and the token went on the one request.
        let server =
            serving(ResponseTemplate::new(200).set_body_json(json!({"status": "ok"}))).await;
        keyed(&server.uri()).ping().await;
        let sent = &server.received_requests().await.unwrap()[0];
        assert_eq!(sent.headers["x-api-key"], API_KEY);
        assert_eq!(
            sent.headers["authorization"],
            format!("Bearer {BEARER}").as_str()
        );

        let expired = ping_once(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "ok", "error": {"code": "expired_token"}})),
        )
        .await;
        assert_eq!(
            expired.outcome,
            PingOutcome::AuthFailed { status: Some(200) }
        );
        assert_eq!(expired.credentials_accepted, Some(false));
        assert!(!expired.ok);

        let refused = ping_once(ResponseTemplate::new(401)).await;
        assert_eq!(
            refused.outcome,
            PingOutcome::AuthFailed { status: Some(401) }
        );
        assert_eq!(
            format!("{refused}").split(" [").next(),
            Some("credentials refused (401)")
        );

        let degraded =
            ping_once(ResponseTemplate::new(200).set_body_json(
                json!({"status": "degraded", "error": {"message": "database down"}}),
            ))
            .await;
        assert_eq!(
            degraded.outcome,
            PingOutcome::Unhealthy {
                status: 200,
                message: "database down".into()
            }
        );

        // A 503 is not retried by a ping.
        let down = ping_once(
            ResponseTemplate::new(503)
                .set_body_json(json!({"error": {"code": "busy", "message": "maintenance"}})),
        )
        .await;
        assert_eq!(
            down.outcome,
            PingOutcome::Unhealthy {
                status: 503,
                message: "maintenance".into()
            }
        );
        assert_eq!(
            format!("{down}").split(" [").next(),
            Some("unhealthy (503): maintenance")
        );

        let started = Instant::now();
        let slow = ping_once(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "ok"}))
                .set_delay(Duration::from_secs(5)),
        )
        .await;
        assert_eq!(slow.outcome, PingOutcome::Unreachable);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            slow.latency_ms >= 400 && slow.latency_ms < 3_000,
            "{slow:?}"
        );

        let nobody = keyed("http://127.0.0.1:9").ping().await;
        assert_eq!(nobody.outcome, PingOutcome::Unreachable);
        no_secret(&nobody);
    }

    #[tokio::test]
    async fn ld4_ping_renews_a_rejected_token_at_most_once() {
        let server = serving(ResponseTemplate::new(401)).await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": BEARER, "token_type": "Bearer"})),
            )
            .mount(&server)
            .await;
        let oauth = OAuth2Credential::client_credentials("client-1", CLIENT_SECRET)
            .with_token_url(format!("{}/token", server.uri()));
        let result = Connection::builder(&descriptor())
            .base_url(server.uri())
            .allow_http_loopback(true)
            .credential("oauth", Credential::oauth2(oauth))
            .build()
            .unwrap()
            .ping()
            .await;
        assert_eq!(
            result.outcome,
            PingOutcome::AuthFailed { status: Some(401) }
        );
        // The first token, one renewal after the 401, and the call again with the new token.
        assert_eq!(hits(&server, "/token").await, 2);
        assert_eq!(hits(&server, "/me").await, 2);
        no_secret(&result);
    }
}
