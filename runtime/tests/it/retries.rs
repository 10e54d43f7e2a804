//! Retries (RT-1..RT-10 of RELIABILITY.md): schedules asserted with injected time, the
//! classification table, idempotency gating and keys, Retry-After, deadlines, the retry budget,
//! body replay and cancellation. Every request count the server sees is compared with the
//! runtime's own attempt count (RT-10: no hidden retry layer).

use crate::support;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::proxy::{FaultProxy, Toxics};
use crate::support::time::{ms, ManualClock, PinnedRng, RecordingSleeper};
use crate::support::*;
use connector_runtime::descriptor::{BodyDescriptor, Method, OperationDescriptor, ParamLocation};
use connector_runtime::{
    Args, Binary, Connection, Error, NotRetriedReason, RetryBudget, RetryPolicy,
};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn get() -> OperationDescriptor {
    op("getThing", Method::Get, "/thing")
}

fn with_body(op: OperationDescriptor) -> OperationDescriptor {
    OperationDescriptor {
        body: Some(BodyDescriptor {
            media_types: vec![text("application/json")].into(),
            required: false,
            encoding: Vec::new().into(),
        }),
        ..op
    }
}

fn post() -> OperationDescriptor {
    with_body(op("createThing", Method::Post, "/thing"))
}

/// A server that answers with `statuses` in turn, then with `then` for ever.
async fn sequence(statuses: &[ResponseTemplate], then: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    for status in statuses {
        Mock::given(any())
            .respond_with(status.clone())
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(any())
        .respond_with(then)
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

fn status(code: u16) -> ResponseTemplate {
    ResponseTemplate::new(code)
}

/// A connection to `uri` with the recording sleeper and a pinned RNG.
fn timed(
    uri: &str,
    ops: Vec<OperationDescriptor>,
    sleeper: &Arc<RecordingSleeper>,
    rng: f64,
) -> connector_runtime::ConnectionBuilder {
    Connection::builder(&connector(ops, vec![]))
        .base_url(uri)
        .allow_http_loopback(true)
        .sleeper(sleeper.clone())
        .rng(Arc::new(PinnedRng(rng)))
}

/// A connection to `uri` whose retries wait for nothing (the RNG at the top of the range).
fn quick(uri: &str, ops: Vec<OperationDescriptor>) -> Connection {
    timed(uri, ops, &RecordingSleeper::new(), 1.0)
        .build()
        .unwrap()
}

async fn count(server: &MockServer) -> usize {
    requests(server).await.len()
}

fn json_args(value: serde_json::Value) -> Args {
    let mut args = Args::new();
    args.body_value(value);
    args
}

#[tokio::test]
async fn rt1_schedule_with_pinned_jitter_and_exhaustion() {
    let policy = RetryPolicy::attempts(3).with_backoff(ms(100), Duration::from_secs(2));
    for (rng, expected) in [(1.0, [ms(100), ms(200)]), (0.0, [ms(0), ms(0)])] {
        let server = sequence(&[status(503), status(503)], status(200)).await;
        let sleeper = RecordingSleeper::new();
        let conn = timed(&server.uri(), vec![get()], &sleeper, rng)
            .retries(policy)
            .build()
            .unwrap();
        let response = conn.execute(&get(), Args::new()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(count(&server).await, 3);
        assert_eq!(sleeper.slept(), expected, "rng {rng}");
    }

    // A real random source: every delay n lies in [0, min(2 s, 100 ms * 2^(n-1))].
    let server = server_with(
        status(503)
            .insert_header("x-trace", "t1")
            .set_body_string("busy"),
    )
    .await;
    let sleeper = RecordingSleeper::new();
    let conn = Connection::builder(&connector(vec![get()], vec![]))
        .base_url(server.uri())
        .sleeper(sleeper.clone())
        .retries(RetryPolicy::attempts(6).with_backoff(ms(100), Duration::from_secs(2)))
        .build()
        .unwrap();
    let err = conn.execute(&get(), Args::new()).await.unwrap_err();
    for (n, delay) in sleeper.slept().iter().enumerate() {
        let bound = ms(100 * (1 << n)).min(Duration::from_secs(2));
        assert!(*delay <= bound, "delay {n}: {delay:?} > {bound:?}");
    }
    assert_eq!(sleeper.slept().len(), 5);
    assert_eq!(count(&server).await, 6);
    assert_eq!(err.attempts(), 6);

    // 503 for ever with 3 attempts: exactly 3 requests, the last response kept.
    let server = server_with(
        status(503)
            .insert_header("x-trace", "t1")
            .set_body_string("busy"),
    )
    .await;
    let conn = timed(&server.uri(), vec![get()], &RecordingSleeper::new(), 0.5)
        .retries(policy)
        .build()
        .unwrap();
    let err = conn.execute(&get(), Args::new()).await.unwrap_err();
    assert_eq!(count(&server).await, 3);
    match &err {
        Error::RetriesExhausted {
            attempts: 3,
            last_status: Some(503),
            last,
            ..
        } => match last.as_ref() {
            Error::Status { headers, body, .. } => {
                assert_eq!(headers.get("x-trace").unwrap(), "t1");
                assert_eq!(body.as_ref(), b"busy");
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable() && !err.is_timeout());
}

#[tokio::test]
async fn rt2_classification_table_for_get() {
    for code in [408, 429, 500, 502, 503, 504] {
        let server = server_with(status(code)).await;
        let conn = quick(&server.uri(), vec![get()]);
        let err = conn.execute(&get(), Args::new()).await.unwrap_err();
        assert_eq!(count(&server).await, 3, "{code}");
        assert_eq!((err.attempts(), err.status()), (3, Some(code)));
    }
    for code in [400, 401, 403, 404, 405, 409, 410, 422, 501] {
        let server = server_with(status(code)).await;
        let conn = quick(&server.uri(), vec![get()]);
        let err = conn.execute(&get(), Args::new()).await.unwrap_err();
        assert_eq!(count(&server).await, 1, "{code}");
        assert!(matches!(err, Error::Status { .. }), "{code}: {err:?}");
        assert_eq!(err.attempts(), 1);
    }
    // A body that does not decode is not retried: decoding is the caller's, after the call.
    let server = server_with(status(200).set_body_string("not json")).await;
    let conn = quick(&server.uri(), vec![get()]);
    let response = conn.execute(&get(), Args::new()).await.unwrap();
    assert!(response.json::<Vec<u32>>().is_err());
    assert_eq!(count(&server).await, 1);
}

#[tokio::test]
async fn rt2_connection_failures_and_attempt_timeouts_are_retried() {
    // Connection refused: a closed port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conn = timed(
        &format!("http://127.0.0.1:{port}"),
        vec![get()],
        &RecordingSleeper::new(),
        1.0,
    )
    .build()
    .unwrap();
    let err = conn.execute(&get(), Args::new()).await.unwrap_err();
    assert_eq!(err.attempts(), 3, "{err:?}");
    assert!(
        matches!(err.last(), Some(Error::Transport { .. })),
        "{err:?}"
    );

    // Reset before headers: the proxy resets every connection when the answer starts.
    let server = server_with(status(200)).await;
    let reset = Toxics {
        reset_peer: Some(0),
        ..Toxics::default()
    };
    let proxy = FaultProxy::start(*server.address(), reset).await;
    let conn = quick(&proxy.uri(), vec![get()]);
    let err = conn.execute(&get(), Args::new()).await.unwrap_err();
    assert_eq!(count(&server).await, 3, "{err:?}");
    assert_eq!(err.attempts(), 3);

    // A per-attempt timeout.
    let server = server_with(status(200).set_delay(ms(300))).await;
    let conn = timed(&server.uri(), vec![get()], &RecordingSleeper::new(), 1.0)
        .timeout(ms(50))
        .build()
        .unwrap();
    let err = conn.execute(&get(), Args::new()).await.unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert!(err.is_timeout());
    assert!(
        matches!(err.last(), Some(Error::AttemptTimeout { .. })),
        "{err:?}"
    );
    assert_eq!(count(&server).await, 3);
}

#[tokio::test]
async fn rt3_post_and_patch_are_retried_only_when_safe() {
    for method in [Method::Post, Method::Patch] {
        let op = with_body(op("change", method, "/thing"));
        let server = server_with(status(503)).await;
        let conn = quick(&server.uri(), vec![op.clone()]);
        let err = conn
            .execute(&op, json_args(json!({"a": 1})))
            .await
            .unwrap_err();
        assert_eq!(count(&server).await, 1);
        assert!(
            matches!(
                err,
                Error::NotRetried {
                    reason: NotRetriedReason::NonIdempotent,
                    attempts: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.status(), Some(503));
    }

    // The request reached the server, then the connection broke: outcome unknown.
    let server = server_with(status(201)).await;
    let reset = Toxics {
        reset_peer: Some(0),
        ..Toxics::default()
    };
    let proxy = FaultProxy::start(*server.address(), reset).await;
    let conn = quick(&proxy.uri(), vec![post()]);
    let err = conn
        .execute(&post(), json_args(json!({"a": 1})))
        .await
        .unwrap_err();
    assert_eq!(count(&server).await, 1);
    assert!(err.to_string().contains("outcome unknown"), "{err}");

    // Nothing was sent (connection refused): retried.
    proxy.stop();
    let err = conn
        .execute(&post(), json_args(json!({"a": 1})))
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 3, "{err:?}");
    assert_eq!(count(&server).await, 1);

    // 429 on POST: refused before processing, retried; switchable off.
    let server = server_with(status(429)).await;
    let conn = quick(&server.uri(), vec![post()]);
    let err = conn
        .execute(&post(), json_args(json!({})))
        .await
        .unwrap_err();
    assert_eq!((count(&server).await, err.attempts()), (3, 3));
    let server = server_with(status(429)).await;
    let conn = timed(&server.uri(), vec![post()], &RecordingSleeper::new(), 1.0)
        .retries(RetryPolicy::default().with_retry_post_on_429(false))
        .build()
        .unwrap();
    conn.execute(&post(), json_args(json!({})))
        .await
        .unwrap_err();
    assert_eq!(count(&server).await, 1);

    // PUT and DELETE follow the GET table.
    for method in [Method::Put, Method::Delete, Method::Head, Method::Options] {
        let op = op("other", method, "/thing");
        let server = server_with(status(503)).await;
        let conn = quick(&server.uri(), vec![op.clone()]);
        conn.execute(&op, Args::new()).await.unwrap_err();
        assert_eq!(count(&server).await, 3, "{method:?}");
    }
}

fn is_uuid_v4(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && value.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && parts[2].starts_with('4')
        && matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b'))
}

#[tokio::test]
async fn rt4_idempotency_keys_and_request_ids() {
    let server = sequence(&[status(503), status(503)], status(201)).await;
    let conn = timed(&server.uri(), vec![post()], &RecordingSleeper::new(), 1.0)
        .idempotent_action("createThing")
        .build()
        .unwrap();
    conn.execute(&post(), json_args(json!({"a": 1})))
        .await
        .unwrap();
    let first = requests(&server).await;
    assert_eq!(first.len(), 3);
    let keys: Vec<&str> = first
        .iter()
        .map(|r| header(r, "idempotency-key").unwrap())
        .collect();
    assert!(
        keys.iter().all(|k| *k == keys[0]) && is_uuid_v4(keys[0]),
        "{keys:?}"
    );
    let ids: Vec<&str> = first
        .iter()
        .map(|r| header(r, "x-request-id").unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]) && is_uuid_v4(ids[0]),
        "{ids:?}"
    );

    // A second logical call: another key and another request id.
    conn.execute(&post(), json_args(json!({"a": 1})))
        .await
        .unwrap();
    let all = requests(&server).await;
    let last = all.last().unwrap();
    assert_ne!(header(last, "idempotency-key").unwrap(), keys[0]);
    assert_ne!(header(last, "x-request-id").unwrap(), ids[0]);

    // A caller-supplied key is sent unchanged; a 409 (key in use) is not retried.
    let keyed = with_params(
        post(),
        vec![param("Idempotency-Key", ParamLocation::Header)],
    );
    let server = server_with(status(409)).await;
    let conn = timed(
        &server.uri(),
        vec![keyed.clone()],
        &RecordingSleeper::new(),
        1.0,
    )
    .idempotent_action("createThing")
    .idempotency_header("Idempotency-Key")
    .build()
    .unwrap();
    let mut args = json_args(json!({}));
    args.header("Idempotency-Key", "caller-key-1").unwrap();
    let err = conn.execute(&keyed, args).await.unwrap_err();
    assert_eq!(err.status(), Some(409));
    let only = only_request(&server).await;
    assert_eq!(header(&only, "idempotency-key"), Some("caller-key-1"));

    // An operation that declares the request-id header as a parameter decides it: left out,
    // no header is sent.
    let traced = with_params(get(), vec![param("X-Request-Id", ParamLocation::Header)]);
    let server = server_with(status(200)).await;
    quick(&server.uri(), vec![traced.clone()])
        .execute(&traced, Args::new())
        .await
        .unwrap();
    assert_eq!(header(&only_request(&server).await, "x-request-id"), None);

    // Without the idempotent mark, a POST carries no key.
    let server = server_with(status(201)).await;
    let conn = quick(&server.uri(), vec![post()]);
    conn.execute(&post(), json_args(json!({}))).await.unwrap();
    assert_eq!(
        header(&only_request(&server).await, "idempotency-key"),
        None
    );
}

#[tokio::test]
async fn rt4_a_post_the_spec_marks_idempotent_carries_a_key() {
    // What a generated crate (or `connector-gen run`) embeds for `x-connector-idempotent: true`.
    let catalogue = json!({
        "name": "test", "title": "Test API", "version": "1.0.0",
        "actions": [{
            "id": "createThing", "method": "POST", "path": "/thing", "idempotent": true,
            "input_schema": {"type": "object"}
        }]
    });
    let mut marked = connector(vec![post()], vec![]);
    marked.catalogue = Some(text(&catalogue.to_string()));
    for dynamic in [false, true] {
        let server = sequence(&[status(503), status(503)], status(201)).await;
        let conn = Connection::builder(&marked)
            .base_url(server.uri())
            .sleeper(RecordingSleeper::new())
            .build()
            .unwrap();
        if dynamic {
            conn.execute_json("createThing", json!({"body": {"a": 1}}))
                .await
                .unwrap();
        } else {
            conn.execute(&post(), json_args(json!({"a": 1})))
                .await
                .unwrap();
        }
        let seen = requests(&server).await;
        assert_eq!(seen.len(), 3, "dynamic: {dynamic}");
        let keys: Vec<_> = seen.iter().map(|r| header(r, "idempotency-key")).collect();
        assert!(keys[0].is_some_and(is_uuid_v4) && keys.iter().all(|k| *k == keys[0]));
    }
}

#[tokio::test]
async fn rt5_retry_after_in_seconds_dates_and_milliseconds() {
    type Answer = fn(&ManualClock) -> ResponseTemplate;
    let cases: Vec<(Answer, Duration)> = vec![
        (
            |_| status(429).insert_header("Retry-After", "2"),
            Duration::from_secs(2),
        ),
        (
            |clock| {
                let date = httpdate::fmt_http_date(clock.wall_now() + Duration::from_secs(3));
                status(503).insert_header("Retry-After", date.as_str())
            },
            Duration::from_secs(3),
        ),
        (
            |_| status(429).insert_header("retry-after-ms", "1500"),
            ms(1500),
        ),
        // Ignored values: normal backoff (100 ms with the RNG at its top).
        (|_| status(503).insert_header("Retry-After", "-1"), ms(100)),
        (|_| status(503).insert_header("Retry-After", "abc"), ms(100)),
        (|_| status(503).insert_header("Retry-After", "1e9"), ms(100)),
        (|_| status(503), ms(100)),
    ];
    for (answer, wait) in cases {
        let clock = ManualClock::new();
        let server = sequence(&[answer(&clock)], status(200)).await;
        let sleeper = RecordingSleeper::with_clock(clock.clone());
        let conn = timed(&server.uri(), vec![get()], &sleeper, 1.0)
            .clock(clock.clone())
            .build()
            .unwrap();
        conn.execute(&get(), Args::new()).await.unwrap();
        assert_eq!(sleeper.slept(), [wait]);
        assert_eq!(count(&server).await, 2);
    }

    // A wait longer than the deadline (or the longest Retry-After allowed): no sleep, an
    // immediate RateLimited error carrying the wait.
    for (deadline, max) in [
        (Duration::from_secs(60), Duration::from_secs(600)),
        (Duration::from_secs(120), Duration::from_secs(60)),
    ] {
        let server = server_with(status(429).insert_header("Retry-After", "3600")).await;
        let sleeper = RecordingSleeper::new();
        let conn = timed(&server.uri(), vec![get()], &sleeper, 1.0)
            .deadline(deadline)
            .retries(RetryPolicy::default().with_max_retry_after(max))
            .build()
            .unwrap();
        let started = Instant::now();
        let err = conn.execute(&get(), Args::new()).await.unwrap_err();
        assert!(started.elapsed() < ms(100));
        assert!(sleeper.slept().is_empty());
        assert!(
            matches!(err, Error::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(3600)),
            "{err:?}"
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
        assert_eq!(count(&server).await, 1);
    }
}

#[tokio::test]
async fn rt6_overall_deadline() {
    let server = server_with(status(200).set_delay(ms(600))).await;
    let conn = Connection::builder(&connector(vec![get()], vec![]))
        .base_url(server.uri())
        .deadline(Duration::from_secs(1))
        .timeout(ms(400))
        .retries(RetryPolicy::attempts(10))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = conn.execute(&get(), Args::new()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err:?}");
    assert!(err.is_timeout());
    assert!(elapsed >= ms(900) && elapsed <= ms(1100), "{elapsed:?}");
    let sent = count(&server).await;
    assert!((1..=3).contains(&sent), "{sent}");
    // No request started after the deadline.
    tokio::time::sleep(ms(200)).await;
    assert_eq!(count(&server).await, sent);
}

#[tokio::test]
async fn rt7_retry_budget_per_host() {
    let failing = server_with(status(503)).await;
    let healthy = sequence(&[status(503)], status(200)).await;
    let budget = RetryBudget::new(500);
    let sleeper = RecordingSleeper::new();
    let conn_a = timed(&failing.uri(), vec![get()], &sleeper, 0.0)
        .retry_budget(&budget)
        .build()
        .unwrap();
    let conn_b = timed(&healthy.uri(), vec![get()], &sleeper, 0.0)
        .retry_budget(&budget)
        .build()
        .unwrap();
    let mut exhausted = 0;
    for _ in 0..200 {
        let err = conn_a.execute(&get(), Args::new()).await.unwrap_err();
        if matches!(err, Error::RetryBudgetExhausted { attempts: 1, .. }) {
            exhausted += 1;
        }
    }
    // 50 calls retry twice (100 retries x 5 tokens = 500), the other 150 make 1 attempt each.
    assert_eq!(count(&failing).await, 300);
    assert_eq!(exhausted, 150);
    // Another host has its own bucket: its 503 is retried.
    conn_b.execute(&get(), Args::new()).await.unwrap();
    assert_eq!(count(&healthy).await, 2);

    // The first host recovers: successes refill its bucket and retries resume.
    failing.reset().await;
    Mock::given(any())
        .respond_with(status(200))
        .mount(&failing)
        .await;
    for _ in 0..5 {
        conn_a.execute(&get(), Args::new()).await.unwrap();
    }
    failing.reset().await;
    Mock::given(any())
        .respond_with(status(503))
        .mount(&failing)
        .await;
    let err = conn_a.execute(&get(), Args::new()).await.unwrap_err();
    assert_eq!(err.attempts(), 2, "one retry paid by 5 successes: {err:?}");
}

#[tokio::test]
async fn rt8_bodies_are_replayed_exactly_and_streams_are_not_retried() {
    let put = with_body(op("putThing", Method::Put, "/thing"));
    let server = sequence(&[status(503), status(503)], status(200)).await;
    let conn = quick(&server.uri(), vec![put.clone()]);
    conn.execute(&put, json_args(json!({"name": "Rex", "tags": ["a", "ü"]})))
        .await
        .unwrap();
    let seen = requests(&server).await;
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert_eq!(request.body, seen[0].body);
        assert_eq!(
            header(request, "content-length"),
            header(&seen[0], "content-length")
        );
        assert_eq!(header(request, "content-type"), Some("application/json"));
    }

    // A streamed body is sent once: not retried, "body not replayable".
    let upload = OperationDescriptor {
        body: Some(BodyDescriptor {
            media_types: vec![text("application/octet-stream")].into(),
            required: true,
            encoding: Vec::new().into(),
        }),
        ..op("upload", Method::Put, "/file")
    };
    let server = server_with(status(503)).await;
    let conn = quick(&server.uri(), vec![upload.clone()]);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(b"abc".to_vec()), Ok(b"def".to_vec())];
    let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let mut args = Args::new();
    args.binary_body(Binary::stream(stream));
    let err = conn.execute(&upload, args).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotRetried {
                reason: NotRetriedReason::BodyNotReplayable,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("body not replayable"), "{err}");
    assert_eq!(count(&server).await, 1);
}

#[tokio::test]
async fn rt9_dropping_the_call_cancels_the_retry() {
    let server = sequence(&[status(503)], status(200)).await;
    let conn = Connection::builder(&connector(vec![get()], vec![]))
        .base_url(server.uri())
        // A fixed 1 s wait before the retry.
        .retries(
            RetryPolicy::attempts(3).with_backoff(Duration::from_secs(1), Duration::from_secs(1)),
        )
        .rng(Arc::new(PinnedRng(1.0)))
        // The pool's idle reaper is a task that wakes only every 90 s by default; without it,
        // every task the connection ever had ends when the connection is dropped.
        .http_client(reqwest::Client::builder().pool_idle_timeout(None))
        .build()
        .unwrap();
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let op = get();
    let call = conn.execute(&op, Args::new());
    assert!(tokio::time::timeout(ms(300), call).await.is_err());
    assert_eq!(count(&server).await, 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        count(&server).await,
        1,
        "no retry after the call was dropped"
    );
    // Pooled connections run a task each until the connection is dropped; then none remains.
    drop(conn);
    let alive = support::time::settled_tasks(tasks_before).await;
    assert_eq!(alive, tasks_before, "no task left running");
}

#[tokio::test]
async fn rt10_a_call_keeps_its_configuration_across_attempts() {
    let version1 = sequence(&[status(503)], status(200)).await;
    let version2 = server_with(status(200)).await;
    let conn = Connection::builder(&connector(vec![get()], vec![]))
        .base_url(version1.uri())
        .retries(RetryPolicy::attempts(3).with_backoff(ms(300), ms(300)))
        .rng(Arc::new(PinnedRng(1.0)))
        .build()
        .unwrap();
    let running = {
        let conn = conn.clone();
        tokio::spawn(async move { conn.execute(&get(), Args::new()).await })
    };
    // While the call waits to retry, the backend moves to version 2.
    tokio::time::sleep(ms(100)).await;
    assert_eq!(count(&version1).await, 1);
    let moved = conn.with_base_url(&version2.uri()).unwrap();
    assert_eq!(running.await.unwrap().unwrap().status(), 200);
    assert_eq!(count(&version1).await, 2, "both attempts went to version 1");
    assert_eq!(count(&version2).await, 0);
    moved.execute(&get(), Args::new()).await.unwrap();
    assert_eq!(count(&version2).await, 1, "the next call goes to version 2");
    assert_eq!(moved.base_url(), version2.uri());

    // A move cannot take credentials to plain http.
    let keyed = connector(
        vec![get()],
        vec![scheme(
            "key",
            api_key(
                connector_runtime::descriptor::ApiKeyLocation::Header,
                "X-Key",
            ),
        )],
    );
    let secure = Connection::builder(&keyed)
        .base_url("https://api.example.com")
        .credential("key", connector_runtime::Credential::api_key("k"))
        .build()
        .unwrap();
    let err = secure.with_base_url("http://api.example.com").unwrap_err();
    assert!(
        matches!(err, Error::Config { ref key, .. } if key == "base_url"),
        "{err:?}"
    );
}
