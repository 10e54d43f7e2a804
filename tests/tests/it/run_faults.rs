//! `connector-gen run` as a user sees it when the API misbehaves: a flapping GET is retried and
//! succeeds, a 429 with `Retry-After` is waited out, a failing POST is not sent twice, and a
//! stalled server ends at the per-attempt timeout. Real processes against a scripted loopback
//! server.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::cli::{connector_gen, run, Ran};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A connection file for the petstore spec: its API key, loopback allowed, and `extra` keys.
fn connection(dir: &Path, extra: serde_json::Value) -> String {
    let mut file = json!({
        "connector": "petstore",
        "allow_http_loopback": true,
        "credentials": {"api_key": {"key": "test-key"}},
        "retries": {"backoff_base": "10ms", "backoff_cap": "20ms"},
    });
    if let (Some(file), Some(extra)) = (file.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            file.insert(key.clone(), value.clone());
        }
    }
    let path = dir.join("petstore.json");
    std::fs::write(&path, file.to_string()).expect("write the connection file");
    path.to_string_lossy().into_owned()
}

fn run_action(uri: &str, action: &str, input: &str, connection: &str) -> (Ran, Duration) {
    // Built (once per test process) before the clock starts.
    let binary = connector_gen();
    let started = Instant::now();
    let ran = run(
        &binary,
        &[
            "run",
            "specs/petstore.yaml",
            action,
            "--name",
            "petstore",
            "--input",
            input,
            "--connection",
            connection,
            "--base-url",
            uri,
        ],
        None,
    );
    (ran, started.elapsed())
}

async fn answers(
    server: &MockServer,
    verb: &str,
    first: Vec<ResponseTemplate>,
    then: ResponseTemplate,
) {
    for answer in first {
        Mock::given(method(verb))
            .and(path("/pets"))
            .respond_with(answer)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(server)
            .await;
    }
    Mock::given(method(verb))
        .and(path("/pets"))
        .respond_with(then)
        .with_priority(2)
        .mount(server)
        .await;
}

async fn count(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

#[tokio::test]
async fn run_retries_a_flapping_get() {
    let server = MockServer::start().await;
    let page = json!({"items": [{"id": 1, "name": "Rex"}]});
    answers(
        &server,
        "GET",
        vec![ResponseTemplate::new(503), ResponseTemplate::new(502)],
        ResponseTemplate::new(200).set_body_json(page.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (ran, _) = run_action(
        &server.uri(),
        "listPets",
        "{}",
        &connection(dir.path(), json!({})),
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.json(), page);
    assert_eq!(count(&server).await, 3);
}

#[tokio::test]
async fn run_waits_out_retry_after() {
    let server = MockServer::start().await;
    answers(
        &server,
        "GET",
        vec![ResponseTemplate::new(429).insert_header("Retry-After", "1")],
        ResponseTemplate::new(200).set_body_json(json!({"items": []})),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (ran, elapsed) = run_action(
        &server.uri(),
        "listPets",
        "{}",
        &connection(dir.path(), json!({})),
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(count(&server).await, 2);
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");

    // A wait longer than the call may take ends at once, saying how long the server asked for.
    let server = MockServer::start().await;
    answers(
        &server,
        "GET",
        vec![],
        ResponseTemplate::new(429).insert_header("Retry-After", "3600"),
    )
    .await;
    let (ran, elapsed) = run_action(
        &server.uri(),
        "listPets",
        "{}",
        &connection(dir.path(), json!({})),
    );
    assert_eq!(ran.code, 4, "{ran:?}");
    assert!(
        ran.stderr.contains("rate limited") && ran.stderr.contains("3600s"),
        "{ran:?}"
    );
    assert_eq!(count(&server).await, 1);
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}

#[tokio::test]
async fn run_does_not_send_a_failing_post_twice() {
    let server = MockServer::start().await;
    answers(
        &server,
        "POST",
        vec![],
        ResponseTemplate::new(503).set_body_json(json!({"code": 503, "message": "busy"})),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (ran, _) = run_action(
        &server.uri(),
        "createPet",
        r#"{"body": {"name": "Rex"}}"#,
        &connection(dir.path(), json!({})),
    );
    assert_eq!(ran.code, 4, "{ran:?}");
    assert_eq!(count(&server).await, 1);
    assert!(ran.stderr.contains("not retried"), "{ran:?}");
    assert!(ran.stderr.contains("not idempotent"), "{ran:?}");
    assert_eq!(ran.json(), json!({"code": 503, "message": "busy"}));
}

/// A server that accepts connections, reads nothing and answers nothing, for up to 10 s; it
/// counts the connections.
fn stalling_server() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let uri = format!("http://{}", listener.local_addr().expect("address"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    listener.set_nonblocking(true).expect("non-blocking");
    std::thread::spawn(move || {
        let started = Instant::now();
        let mut held = Vec::new();
        while started.elapsed() < Duration::from_secs(10) {
            match listener.accept() {
                Ok((stream, _)) => {
                    counter.fetch_add(1, Ordering::SeqCst);
                    held.push(stream);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (uri, accepted)
}

#[test]
fn run_ends_a_stalled_call_at_the_attempt_timeout() {
    connector_gen();
    let (uri, accepted) = stalling_server();
    let dir = tempfile::tempdir().unwrap();
    let file = connection(
        dir.path(),
        json!({"timeout": "300ms", "retries": {"attempts": 2, "backoff_base": "10ms", "backoff_cap": "10ms"}}),
    );
    let (ran, elapsed) = run_action(&uri, "listPets", "{}", &file);
    assert_eq!(ran.code, 3, "{ran:?}");
    assert!(ran.stderr.contains("timed out after 300ms"), "{ran:?}");
    assert!(ran.stderr.contains("after 2 attempts"), "{ran:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}
