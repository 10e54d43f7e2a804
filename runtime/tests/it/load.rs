//! Limits, timeouts and faults (LD-1, LD-2, LD-3, LD-5 of RELIABILITY.md), against loopback
//! servers and the in-process fault proxy, with real time at millisecond settings.

use crate::support;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::proxy::{FaultProxy, Toxics};
use crate::support::scripted::{Script, ScriptedServer};
use crate::support::time::{ms, PinnedRng};
use crate::support::*;
use connector_runtime::descriptor::{BodyDescriptor, Method, OperationDescriptor, ParamLocation};
use connector_runtime::{
    Args, ConcurrencyLimit, Connection, ConnectionBuilder, Error, NotRetriedReason, RetryPolicy,
};
use futures_util::future::join_all;
use serde_json::json;
use wiremock::ResponseTemplate;

fn get() -> OperationDescriptor {
    with_params(
        op("getThing", Method::Get, "/thing"),
        vec![param("n", ParamLocation::Query)],
    )
}

fn post() -> OperationDescriptor {
    OperationDescriptor {
        body: Some(BodyDescriptor {
            media_types: vec![text("application/json")].into(),
            required: false,
            encoding: Vec::new().into(),
        }),
        ..op("createThing", Method::Post, "/thing")
    }
}

async fn delayed(millis: u64) -> ScriptedServer {
    ScriptedServer::start(Script {
        delay: ms(millis),
        ..Script::default()
    })
    .await
}

fn to(uri: &str, ops: Vec<OperationDescriptor>) -> ConnectionBuilder {
    Connection::builder(&connector(ops, vec![]))
        .base_url(uri)
        .rng(Arc::new(PinnedRng(0.0)))
}

fn numbered(n: usize) -> Args {
    let mut args = Args::new();
    args.query("n", &n).unwrap();
    args
}

/// Runs `count` calls at once, in submission order, and returns how many succeeded.
async fn burst(conns: &[&Connection], count: usize) -> usize {
    let op = get();
    let calls = (0..count).map(|n| conns[n % conns.len()].execute(&op, numbered(n)));
    join_all(calls)
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ld1_concurrency_cap_fifo_sharing_and_clamp() {
    let server = delayed(100).await;
    let conn = to(&server.uri(), vec![get()])
        .max_concurrency(25)
        .build()
        .unwrap();
    let started = Instant::now();
    assert_eq!(burst(&[&conn], 200).await, 200);
    let elapsed = started.elapsed();
    assert_eq!(server.max_in_flight(), 25);
    assert!(elapsed >= ms(400) && elapsed <= ms(1200), "{elapsed:?}");

    // Cap 1: the server sees the calls in the order they were submitted.
    let server = ScriptedServer::start(Script::default()).await;
    let conn = to(&server.uri(), vec![get()])
        .max_concurrency(1)
        .build()
        .unwrap();
    assert_eq!(burst(&[&conn], 30).await, 30);
    let order: Vec<String> = server.arrivals().into_iter().map(|(_, t)| t).collect();
    let expected: Vec<String> = (0..30).map(|n| format!("/thing?n={n}")).collect();
    assert_eq!(order, expected);

    // Two connections borrowing one limit stay within it together.
    let server = delayed(50).await;
    let shared = ConcurrencyLimit::new(25);
    let a = to(&server.uri(), vec![get()])
        .concurrency_limit(&shared)
        .build()
        .unwrap();
    let b = to(&server.uri(), vec![get()])
        .concurrency_limit(&shared)
        .build()
        .unwrap();
    assert_eq!(burst(&[&a, &b], 120).await, 120);
    assert_eq!(server.max_in_flight(), 25);

    // 80 is clamped to 50; no setting at all means 25.
    let server = delayed(50).await;
    let wide = to(&server.uri(), vec![get()])
        .max_concurrency(80)
        .build()
        .unwrap();
    assert_eq!(burst(&[&wide], 150).await, 150);
    assert_eq!(server.max_in_flight(), 50);
    let server = delayed(50).await;
    let default = to(&server.uri(), vec![get()]).build().unwrap();
    assert_eq!(burst(&[&default], 100).await, 100);
    assert_eq!(server.max_in_flight(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ld2_rate_limit_spreads_requests() {
    let server = ScriptedServer::start(Script::default()).await;
    let conn = to(&server.uri(), vec![get()])
        .rate_limit(20.0, 1)
        .rng(Arc::new(support::time::PinnedRng(0.5)))
        .build()
        .unwrap();
    let started = Instant::now();
    assert_eq!(burst(&[&conn], 60).await, 60);
    assert!(started.elapsed() >= ms(2900), "{:?}", started.elapsed());
    let times: Vec<Instant> = server.arrivals().into_iter().map(|(t, _)| t).collect();
    for (i, first) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*first) < Duration::from_secs(1))
            .count();
        assert!(within <= 21, "{within} requests within 1 s of request {i}");
    }
    // Callers released one by one, not in the same millisecond.
    for pair in times.windows(2) {
        assert!(pair[1].duration_since(pair[0]) >= ms(5), "{pair:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ld2_adaptive_concurrency_backs_off_on_429_and_recovers() {
    let throttle = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let server = ScriptedServer::start(Script {
        delay: ms(10),
        throttle: Some(throttle.clone()),
        ..Script::default()
    })
    .await;
    let limit = ConcurrencyLimit::adaptive(20);
    let conn = to(&server.uri(), vec![get()])
        .concurrency_limit(&limit)
        .retries(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(limit.current(), 20);
    // Half the answers are 429: the level drops well below the target.
    burst(&[&conn], 100).await;
    assert!(limit.current() < 10, "{}", limit.current());
    // The 429s stop: the level climbs back to the target.
    throttle.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(burst(&[&conn], 600).await, 600);
    assert_eq!(limit.current(), 20);
}

#[tokio::test]
async fn ld3a_connect_timeout() {
    // A listener whose accept queue is full and never drained: further connects hang.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(stream)) =
            tokio::time::timeout(ms(100), tokio::net::TcpStream::connect(addr)).await
        {
            fillers.push(stream);
        }
    }
    let conn = to(&format!("http://{addr}"), vec![get()])
        .connect_timeout(ms(300))
        .retries(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = conn.execute(&get(), numbered(0)).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::ConnectTimeout { .. }), "{err:?}");
    assert!(err.is_timeout() && err.is_retryable());
    assert!(elapsed >= ms(240) && elapsed <= ms(560), "{elapsed:?}");
    drop(fillers);
}

#[tokio::test]
async fn ld3b_no_headers_ends_the_attempt() {
    let server = server_with(ResponseTemplate::new(200)).await;
    let stall = Toxics {
        stall_after: Some(0),
        ..Toxics::default()
    };
    let proxy = FaultProxy::start(*server.address(), stall).await;
    let conn = to(&proxy.uri(), vec![get(), post()])
        .timeout(ms(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = conn.execute(&get(), numbered(0)).await.unwrap_err();
    assert!(
        started.elapsed() <= ms(3 * 200 + 200 + 200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.attempts(), 3);
    assert!(
        matches!(err.last(), Some(Error::AttemptTimeout { .. })),
        "{err:?}"
    );
    assert_eq!(requests(&server).await.len(), 3);

    let before = requests(&server).await.len();
    let started = Instant::now();
    let mut args = Args::new();
    args.body_value(json!({"a": 1}));
    let err = conn.execute(&post(), args).await.unwrap_err();
    assert!(started.elapsed() <= ms(400), "{:?}", started.elapsed());
    assert!(
        matches!(
            err,
            Error::NotRetried {
                reason: NotRetriedReason::OutcomeUnknown,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(requests(&server).await.len(), before + 1);
}

#[tokio::test]
async fn ld3c_stalled_stream_ends_at_the_idle_timeout() {
    let body = "x".repeat(4096);
    let server = server_with(ResponseTemplate::new(200).set_body_string(body)).await;
    // Headers and some body bytes arrive, then nothing.
    let stall = Toxics {
        stall_after: Some(1024),
        ..Toxics::default()
    };
    let proxy = FaultProxy::start(*server.address(), stall).await;
    let conn = to(&proxy.uri(), vec![get()])
        .stream_idle_timeout(ms(300))
        // The per-attempt timeout does not bound a stream once its headers are in.
        .timeout(ms(100))
        .build()
        .unwrap();
    let mut stream = conn.execute_streaming(&get(), numbered(0)).await.unwrap();
    let mut received = 0;
    let started = Instant::now();
    let err = loop {
        match stream.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => panic!("the body ended"),
            Err(err) => break err,
        }
    };
    assert!(received > 0, "bytes arrived before the stall");
    assert!(matches!(err, Error::ReadTimeout { .. }), "{err:?}");
    assert!(err.is_timeout());
    let elapsed = started.elapsed();
    assert!(elapsed >= ms(280) && elapsed <= ms(600), "{elapsed:?}");
}

#[tokio::test]
async fn ld3d_drip_feed_is_ended_by_the_attempt_timeout() {
    let server = server_with(ResponseTemplate::new(200).set_body_string("y".repeat(10_000))).await;
    let drip = Toxics {
        drip: Some(ms(100)),
        ..Toxics::default()
    };
    let proxy = FaultProxy::start(*server.address(), drip).await;
    let conn = to(&proxy.uri(), vec![get()])
        .timeout(ms(500))
        .retries(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = conn.execute(&get(), numbered(0)).await.unwrap_err();
    assert!(matches!(err, Error::AttemptTimeout { .. }), "{err:?}");
    assert!(started.elapsed() <= ms(700), "{:?}", started.elapsed());
}

async fn text_of(conn: &Connection) -> String {
    let response = conn.execute(&get(), numbered(0)).await.unwrap();
    response.text().unwrap().to_owned()
}

#[tokio::test]
async fn ld5_faults_through_the_proxy() {
    let body: String = (0..2000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let server = server_with(ResponseTemplate::new(200).set_body_string(body.clone())).await;
    let once = |toxics: Toxics| Toxics {
        first_connections: Some(1),
        ..toxics
    };

    // Reset after half the body: a GET is retried and gets the whole body.
    let reset_half = Toxics {
        reset_peer: Some(1000),
        ..Toxics::default()
    };
    let proxy = FaultProxy::start(*server.address(), once(reset_half.clone())).await;
    let conn = to(&proxy.uri(), vec![get(), post()]).build().unwrap();
    assert_eq!(text_of(&conn).await, body);
    assert_eq!(proxy.connections(), 2);
    // The same for a POST: not retried, outcome unknown.
    let proxy = FaultProxy::start(*server.address(), reset_half).await;
    let conn = to(&proxy.uri(), vec![post()]).build().unwrap();
    let mut args = Args::new();
    args.body_value(json!({}));
    let before = requests(&server).await.len();
    let err = conn.execute(&post(), args).await.unwrap_err();
    assert!(err.to_string().contains("outcome unknown"), "{err}");
    assert_eq!(requests(&server).await.len(), before + 1);

    // 1-byte writes: parsed correctly.
    let sliced = FaultProxy::start(
        *server.address(),
        Toxics {
            slicer: true,
            ..Toxics::default()
        },
    )
    .await;
    let conn = to(&sliced.uri(), vec![get()]).build().unwrap();
    assert_eq!(text_of(&conn).await, body);

    // Truncation of a Content-Length body: IncompleteBody, retried for a GET.
    let truncate = Toxics {
        limit_data: Some(600),
        ..Toxics::default()
    };
    let truncating = FaultProxy::start(*server.address(), truncate.clone()).await;
    let conn = to(&truncating.uri(), vec![get()]).build().unwrap();
    let err = conn.execute(&get(), numbered(0)).await.unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert!(
        matches!(err.last(), Some(Error::IncompleteBody { .. })),
        "{err:?}"
    );
    truncating.set(once(truncate));
    let before = truncating.connections();
    assert_eq!(text_of(&conn).await, body);
    assert_eq!(truncating.connections(), before + 2);

    // Latency beyond the per-attempt timeout.
    let slow = FaultProxy::start(
        *server.address(),
        Toxics {
            latency: ms(300),
            ..Toxics::default()
        },
    )
    .await;
    let conn = to(&slow.uri(), vec![get()])
        .timeout(ms(200))
        .retries(RetryPolicy::none())
        .build()
        .unwrap();
    let err = conn.execute(&get(), numbered(0)).await.unwrap_err();
    assert!(matches!(err, Error::AttemptTimeout { .. }), "{err:?}");

    // Proxy down: nothing was sent, so every method is retried.
    let down = FaultProxy::start(*server.address(), Toxics::default()).await;
    let conn = to(&down.uri(), vec![get(), post()]).build().unwrap();
    down.stop();
    for op in [get(), post()] {
        let err = conn.execute(&op, Args::new()).await.unwrap_err();
        assert_eq!(err.attempts(), 3, "{}: {err:?}", op.id);
        assert!(
            matches!(err.last(), Some(Error::Transport { .. })),
            "{err:?}"
        );
    }
}
