//! Observability: one span per action and one per attempt, carrying the action id, method, path
//! (never the query, which may hold an API key), request id and attempt number; events with the
//! status, duration, retry reason and wait; no secret anywhere.

use crate::support;
use std::sync::Arc;

use crate::support::time::{PinnedRng, RecordingSleeper};
use crate::support::*;
use connector_runtime::descriptor::{ApiKeyLocation, Method};
use connector_runtime::{Args, Connection, Credential};
use wiremock::matchers::any;
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn spans_per_action_and_attempt_without_secrets() {
    // A global subscriber, and logs of this test alone: in its own process.
    if !support::in_own_process("spans::spans_per_action_and_attempt_without_secrets") {
        return;
    }
    let logs = support::logs::capture();
    let server = server_with_nothing().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let op = with_security(op("listThings", Method::Get, "/things"), &[&["key"]]);
    let conn = Connection::builder(&connector(
        vec![op.clone()],
        vec![scheme("key", api_key(ApiKeyLocation::Query, "api_key"))],
    ))
    .base_url(server.uri())
    .allow_http_loopback(true)
    .credential("key", Credential::api_key(CANARY))
    .sleeper(RecordingSleeper::new())
    .rng(Arc::new(PinnedRng(1.0)))
    .build()
    .unwrap();
    conn.execute(&op, Args::new()).await.unwrap();
    let request_id = requests(&server).await[0]
        .headers
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();

    let text = logs.text();
    assert!(!text.contains(CANARY), "{text}");
    let action =
        format!("action{{action=listThings method=GET path=\"/things\" request_id={request_id}}}");
    let failed = text
        .lines()
        .find(|l| l.contains("attempt failed"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(failed.contains(&action), "{failed}");
    assert!(failed.contains(" attempt=1 "), "{failed}");
    assert!(
        failed.contains("status=503") && failed.contains("duration_ms="),
        "{failed}"
    );
    assert!(
        failed.contains("reason=operation `listThings` failed with HTTP status 503"),
        "{failed}"
    );
    let retrying = text.lines().find(|l| l.contains("retrying")).unwrap();
    assert!(retrying.contains("wait_ms=100"), "{retrying}");
    let succeeded = text.lines().find(|l| l.contains("call succeeded")).unwrap();
    assert!(succeeded.contains(" attempt=2 "), "{succeeded}");
    let received = text
        .lines()
        .find(|l| l.contains("response received") && l.contains("status=200"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(received.contains(&action), "{received}");
    assert!(received.contains(":attempt{attempt=2}"), "{received}");
}
