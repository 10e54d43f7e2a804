//! Connection-file keys for retries, timeouts, limits, idempotency, request ids, the network
//! policy and shared state: they drive the connection, and mistakes are reported with the path
//! of the key at fault.

use crate::support::*;
use connector_runtime::descriptor::{BodyDescriptor, Method, OperationDescriptor};
use connector_runtime::{Args, ConnectionConfig, Error};
use serde_json::json;
use wiremock::ResponseTemplate;

fn create() -> OperationDescriptor {
    OperationDescriptor {
        body: Some(BodyDescriptor {
            media_types: vec![text("application/json")].into(),
            required: false,
            encoding: Vec::new().into(),
        }),
        ..op("createOrder", Method::Post, "/orders")
    }
}

fn list() -> OperationDescriptor {
    op("listOrders", Method::Get, "/orders")
}

fn config(text: &str) -> Result<ConnectionConfig, Error> {
    let connector = connector(vec![create(), list()], vec![]);
    ConnectionConfig::from_text(&connector, text, "toml", "shop", None)
}

fn problems(text: &str) -> Vec<String> {
    match config(text) {
        Err(Error::ConnectionFile { problems, .. }) => problems,
        other => panic!("expected problems, got {other:?}"),
    }
}

#[tokio::test]
async fn reliability_keys_drive_the_connection() {
    let server = server_with(ResponseTemplate::new(503)).await;
    let text = format!(
        r#"
connector = "test"
base_url = "{}"
timeout = "2s"
connect_timeout = "1s"
deadline = "30s"
stream_idle_timeout = "5s"
idempotent_actions = ["createOrder"]
idempotency_header = "X-Idempotency-Key"
request_id_header = "X-Correlation-Id"
max_concurrency = 80
adaptive_concurrency = true

[retries]
attempts = 2
backoff_base = "1ms"
backoff_cap = "2ms"
max_retry_after = "10s"
retry_post_on_429 = false

[retries.actions.listOrders]
attempts = 4
backoff_base = "1ms"
backoff_cap = "1ms"

[rate_limit]
per_second = 1000
burst = 10

[network]
policy = "public_only"
allow_loopback = true
"#,
        server.uri()
    );
    let connector = connector(vec![create(), list()], vec![]);
    let conn = config(&text).unwrap().connect(&connector).unwrap();

    let mut args = Args::new();
    args.body_value(json!({"item": 1}));
    let err = conn.execute(&create(), args).await.unwrap_err();
    // The idempotency key makes the POST safe to retry: 2 attempts.
    assert_eq!(err.attempts(), 2, "{err:?}");
    let seen = requests(&server).await;
    assert_eq!(seen.len(), 2);
    let key = header(&seen[0], "x-idempotency-key").unwrap();
    assert_eq!(header(&seen[1], "x-idempotency-key"), Some(key));
    assert!(header(&seen[0], "x-correlation-id").is_some());
    assert!(header(&seen[0], "x-request-id").is_none());

    // The per-action policy: 4 attempts.
    let err = conn.execute(&list(), Args::new()).await.unwrap_err();
    assert_eq!(err.attempts(), 4);
    assert_eq!(requests(&server).await.len(), 6);

    // No request id at all.
    let quiet = format!(
        "connector = \"test\"\nbase_url = \"{}\"\nrequest_id_header = false\n[retries]\nattempts = 1\n",
        server.uri()
    );
    let conn = config(&quiet).unwrap().connect(&connector).unwrap();
    conn.execute(&list(), Args::new()).await.unwrap_err();
    let last = requests(&server).await.pop().unwrap();
    assert!(header(&last, "x-request-id").is_none());
}

#[test]
fn mistakes_name_their_keys() {
    let found = problems(
        r#"
connector = "test"
deadline = "forever"
adaptive_concurrency = "yes"
idempotent_actions = ["createOrdr", 7]
idempotency_header = "Bad Header"
request_id_header = 3

[retries]
attempts = 0
backoff_base = "2s"
backoff_cap = "1s"
retry_post_on_429 = "yes"
jitter = true

[retries.actions.nope]
attempts = 2

[rate_limit]
per_second = 0
burst = 0

[network]
policy = "private_only"
"#,
    );
    let expected = [
        "`deadline`: expected a positive duration",
        "`adaptive_concurrency`: expected true or false",
        "`idempotent_actions[0]`: connector `test` has no action `createOrdr`; did you mean `createOrder`?",
        "`idempotent_actions[1]`: expected a string",
        "`idempotency_header`: \"Bad Header\" is not a valid HTTP header name",
        "`request_id_header`: expected a string",
        "`retries.attempts`: expected an integer of at least 1",
        "`retries.backoff_base`: must not be longer than `backoff_cap`",
        "`retries.retry_post_on_429`: expected true or false",
        "`retries.jitter`: unknown key",
        "`retries.actions.nope`: connector `test` has no action `nope`",
        "`rate_limit.per_second`: expected requests per second above 0",
        "`rate_limit.burst`: expected an integer of at least 1",
        "`network.policy`: expected \"allow_all\" or \"public_only\"",
    ];
    for want in expected {
        assert!(
            found.iter().any(|p| p.starts_with(want)),
            "missing {want:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn shared_state_needs_a_redis_url_and_the_feature() {
    let found = problems("connector = \"test\"\n[shared_state]\nredis = \"http://x\"\n");
    assert_eq!(
        found,
        ["`shared_state.redis`: expected a redis:// or rediss:// URL"]
    );
    let found = problems("connector = \"test\"\n[shared_state]\nnamespace = \"a\"\n");
    assert_eq!(found.len(), 1);
    assert!(
        found[0].starts_with("`shared_state.redis`: missing"),
        "{found:?}"
    );
    let with_url = "connector = \"test\"\nbase_url = \"https://api.example.com\"\n[shared_state]\nredis = \"redis://127.0.0.1:1/\"\n";
    if cfg!(feature = "redis") {
        let config = config(with_url).unwrap();
        // The password-free URL is still written inline: a warning, not a problem.
        assert!(config
            .warnings()
            .iter()
            .any(|w| w.contains("shared_state.redis")));
        assert!(!format!("{config:?}").contains("127.0.0.1:1"));
    } else {
        let found = problems(with_url);
        assert!(
            found[0].contains("enable the `redis` cargo feature"),
            "{found:?}"
        );
    }
}
