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
