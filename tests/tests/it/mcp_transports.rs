//! The MCP server's transports under abuse (RELIABILITY MC-1, MC-4): raw JSON-RPC lines that
//! are not valid on stdio, and Streamable HTTP's exposure rules, bearer token and a client that
//! hangs up mid-call.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::cli::{connector_gen, run};
use crate::support::mcp::{canary_connection, is_error, Session, CANARY};
use crate::support::prism::repo_root;

#[test]
fn stdio_survives_lines_that_are_not_valid_json_rpc() {
    let dir = tempfile::tempdir().unwrap();
    let connection = canary_connection(dir.path(), "petstore");
    let mut child = Command::new(connector_gen())
        .args(["mcp", "specs/petstore.yaml", "--connection", &connection])
        .args(["--base-url", "http://127.0.0.1:9"])
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":90,"method":"tools/call","params":{{"name":"getPet","arguments":{{"petId":"{}"}}}}}}"#,
        "9".repeat(2_000_000)
    );
    let lines: Vec<String> = vec![
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#.into(),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.into(),
        "this is not JSON".into(),
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"getPet","arguments":"#.into(),
        r#"{"jsonrpc":"2.0","id":3,"method":"no/such/method"}"#.into(),
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"getPet","arguments":[1,2]}}"#.into(),
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"arguments":{}}}"#.into(),
        r#"{"id":6}"#.into(),
        r#"[1,2,3]"#.into(),
        r##"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"getPet","arguments":{"petId":{"$ref":"#"}}}}"##.into(),
        huge,
        "\u{0}\u{1}\u{2}".into(),
        r#"{"jsonrpc":"2.0","id":99,"method":"tools/list"}"#.into(),
    ];
    for line in &lines {
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
    }
    stdin.flush().unwrap();
    // Answers may come in any order; read them on a thread, waiting at most a minute in all.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let wanted = [1, 3, 7, 90, 99];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut answers: Vec<Value> = Vec::new();
    while !wanted
        .iter()
        .all(|id| answers.iter().any(|m: &Value| m["id"] == *id))
    {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = receiver
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no answer to all of {wanted:?} in time: {answers:?}"));
        let message: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carries JSON-RPC only ({e}): {line}"));
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
        answers.push(message);
    }
    drop(stdin);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "the server ends cleanly at EOF: {stderr}");
    let by_id = |id: i64| answers.iter().find(|m| m["id"] == id);
    assert!(by_id(1).unwrap()["result"].is_object());
    assert_eq!(
        by_id(99).unwrap()["result"]["tools"]
            .as_array()
            .unwrap()
            .len(),
        10,
        "still serving after all of it"
    );
    assert!(by_id(3).unwrap()["error"].is_object(), "unknown method");
    for id in [7, 90] {
        let answer = by_id(id).unwrap_or_else(|| panic!("no answer to {id}: {answers:?}"));
        assert!(is_error(&answer["result"]), "{id}: {answer}");
        assert!(answer.to_string().len() < 4_000, "short: {id}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains(CANARY), "{stderr}");
}

async fn slow_petstore() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/pets/7"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "name": "Rex", "status": "available"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pets/9"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(3))
                .set_body_json(json!({"id": 9, "name": "Slow", "status": "available"})),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn http_asks_for_the_token_and_survives_a_client_that_hangs_up() {
    let dir = tempfile::tempdir().unwrap();
    let api = slow_petstore().await;
    let args: Vec<String> = vec![
        "mcp".into(),
        "specs/petstore.yaml".into(),
        "--connection".into(),
        canary_connection(dir.path(), "petstore"),
        "--base-url".into(),
        api.uri(),
    ];
    let token = "mcp-test-token-5d1e";
    let session = Session::http(&connector_gen(), &args, Some(token)).await;
    let crate::support::mcp::Transport::Http { url, .. } = &session.transport else {
        unreachable!()
    };
    let http = reqwest::Client::new();
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    for auth in [None, Some("Bearer wrong"), Some(token), Some("Basic bWNw")] {
        let mut request = http
            .post(url)
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json")
            .body(list.to_string());
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{auth:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert!(!response.text().await.unwrap().contains(token));
    }
    // The session's own requests carry it.
    assert_eq!(session.tools().await.len(), 10);

    // A client that goes away mid-call does not take the server with it.
    let hang_up = tokio::time::timeout(
        Duration::from_millis(300),
        session.call("getPet", json!({"petId": 9})),
    )
    .await;
    assert!(hang_up.is_err(), "the slow call was abandoned");
    let after = session.call("getPet", json!({"petId": 7})).await.unwrap();
    assert!(!is_error(&after), "{after}");
    let stderr = session.stop().await;
    assert!(!stderr.contains(token), "{stderr}");
    assert!(!stderr.contains(CANARY), "{stderr}");
}

#[test]
fn http_off_loopback_needs_a_token() {
    let ran = run(
        &connector_gen(),
        &["mcp", "specs/petstore.yaml", "--http", "0.0.0.0:0"],
        None,
    );
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("--token-env"), "{ran:?}");
    assert_eq!(ran.stdout, "");
    let ran = run(
        &connector_gen(),
        &[
            "mcp",
            "specs/petstore.yaml",
            "--http",
            "127.0.0.1:0",
            "--token-env",
            "MCP_TEST_TOKEN_UNSET_8c2",
        ],
        None,
    );
    assert_eq!(ran.code, 2, "a token variable that is not set: {ran:?}");
    assert!(ran.stderr.contains("MCP_TEST_TOKEN_UNSET_8c2"), "{ran:?}");
}
