//! Shared state in Redis (cargo feature `redis`) across processes: two processes sharing one
//! rate limit stay within it together, and 20 concurrent actions across two processes cause one
//! token request. The processes are this test binary run again as children (the ignored test
//! `child_process`). A `redis-server` is started on a free loopback port (or the one named by
//! `CONNECTOR_TEST_REDIS_URL` is used); without one the tests say so and skip, except in CI.

#![cfg(feature = "redis")]

// The helpers of the main test binary; some (`in_own_process`) are not used here.
#[allow(unused_imports)]
#[path = "it/support/mod.rs"]
mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connector_runtime::descriptor::{Method, OperationDescriptor};
use connector_runtime::shared::{RedisState, SharedState};
use connector_runtime::{Args, Connection, Credential, OAuth2Credential};
use futures_util::future::join_all;
use support::scripted::{Script, ScriptedServer};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// A redis-server this test started; stopped when dropped.
struct Redis {
    url: String,
    child: Option<Child>,
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The Redis to test against, or `None` (with a message) when there is none outside CI.
fn redis() -> Option<Redis> {
    if let Ok(url) = std::env::var("CONNECTOR_TEST_REDIS_URL") {
        return Some(Redis { url, child: None });
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port");
    let spawned = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(err) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is required in CI (Debian package redis-server): {err}"
            );
            eprintln!("SKIPPED: redis-server is not installed ({err}); install the Debian package redis-server to run the shared-state tests");
            return None;
        }
    };
    let redis = Redis {
        url: format!("redis://127.0.0.1:{port}/"),
        child: Some(child),
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(redis);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("redis-server did not start on port {port}");
}

fn get() -> OperationDescriptor {
    op("getThing", Method::Get, "/thing")
}

fn secured() -> OperationDescriptor {
    with_security(op("secured", Method::Get, "/secure"), &[&["oauth"]])
}

/// Runs this binary's `child_process` test in another process with `job` in its environment.
fn spawn_child(job: &str) -> Child {
    Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "child_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SHARED_STATE_JOB", job)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the test binary again")
}

fn finish(child: Child) {
    let output = child.wait_with_output().expect("child output");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "child failed:\n{text}");
    assert!(text.contains("child done"), "the child ran no job:\n{text}");
}

/// What a child process runs: `rate|REDIS|NAMESPACE|SERVER|CALLS`,
/// `token|REDIS|NAMESPACE|SERVER|CALLS`, or `rotate|REDIS|NAMESPACE|SERVER|REFRESH_TOKEN|MILLIS`
/// (calls for that long, starting from that refresh token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run as a child process by the two-process tests"]
async fn child_process() {
    let job = std::env::var("SHARED_STATE_JOB").expect("SHARED_STATE_JOB names the job");
    let parts: Vec<&str> = job.split('|').collect();
    if let ["rotate", redis, namespace, server, refresh, millis] = parts[..] {
        rotate(redis, namespace, server, refresh, millis.parse().unwrap()).await;
        println!("child done");
        return;
    }
    let [kind, redis, namespace, server, calls] = parts[..] else {
        panic!("bad job {job:?}");
    };
    let calls: usize = calls.parse().unwrap();
    let state: Arc<dyn SharedState> = Arc::new(RedisState::new(redis, "connector-test").unwrap());
    let (op, conn) = match kind {
        "rate" => {
            let conn = Connection::builder(&connector(vec![get()], vec![]))
                .base_url(server)
                .rate_limit(20.0, 1)
                .shared_state(state, namespace)
                .build()
                .unwrap();
            (get(), conn)
        }
        "token" => {
            let connector = connector(
                vec![secured()],
                vec![scheme("oauth", oauth2(&format!("{server}/token")))],
            );
            let conn = Connection::builder(&connector)
                .base_url(server)
                .allow_http_loopback(true)
                .credential(
                    "oauth",
                    Credential::oauth2(OAuth2Credential::client_credentials("client-1", "secret")),
                )
                .shared_state(state, namespace)
                .build()
                .unwrap();
            (secured(), conn)
        }
        other => panic!("unknown job {other}"),
    };
    let results = join_all((0..calls).map(|_| conn.execute(&op, Args::new()))).await;
    for result in results {
        result.unwrap();
    }
    println!("child done");
}

/// Calls the API for `millis`, with tokens refreshed from `refresh` (a rotating refresh token
/// that every process starts from) and shared through Redis.
async fn rotate(redis: &str, namespace: &str, server: &str, refresh: &str, millis: u64) {
    let state: Arc<dyn SharedState> = Arc::new(RedisState::new(redis, "connector-test").unwrap());
    let me = with_security(op("getMe", Method::Get, "/api/me"), &[&["oauth"]]);
    let connector = connector(
        vec![me.clone()],
        vec![scheme("oauth", oauth2(&format!("{server}/token")))],
    );
    let conn = Connection::builder(&connector)
        .base_url(server)
        .allow_http_loopback(true)
        .credential(
            "oauth",
            Credential::oauth2(OAuth2Credential::refresh_token("cli-app", refresh)),
        )
        .shared_state(state, namespace)
        .build()
        .unwrap();
    let until = Instant::now() + Duration::from_millis(millis);
    while Instant::now() < until {
        // Two calls at once, so that refreshes race within the process too.
        let (a, b) = tokio::join!(
            conn.execute(&me, Args::new()),
            conn.execute(&me, Args::new())
        );
        a.unwrap();
        b.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn namespace(test: &str) -> String {
    format!(
        "{test}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_rate_limit() {
    let Some(redis) = redis() else { return };
    let server = ScriptedServer::start(Script::default()).await;
    let job = format!(
        "rate|{}|{}|{}|20",
        redis.url,
        namespace("rate"),
        server.uri()
    );
    let started = Instant::now();
    let children = [spawn_child(&job), spawn_child(&job)];
    for child in children {
        tokio::task::spawn_blocking(move || finish(child))
            .await
            .unwrap();
    }
    assert_eq!(server.requests(), 40);
    // 40 requests at 20/s together: about 2 s, never more than 21 in one second.
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    let times: Vec<Instant> = server.arrivals().into_iter().map(|(t, _)| t).collect();
    let mut sorted = times.clone();
    sorted.sort();
    for (i, first) in sorted.iter().enumerate() {
        let within = sorted[i..]
            .iter()
            .take_while(|t| t.duration_since(*first) < Duration::from_secs(1))
            .count();
        assert!(within <= 21, "{within} requests within 1 s");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_actions_in_two_processes_make_one_token_request() {
    let Some(redis) = redis() else { return };
    let server = server_with_nothing().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"access_token": "tok-shared", "token_type": "bearer", "expires_in": 3600}))
                .set_delay(Duration::from_millis(200)),
        )
        .mount(&server)
        .await;
    Mock::given(path("/secure"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let job = format!(
        "token|{}|{}|{}|10",
        redis.url,
        namespace("token"),
        server.uri()
    );
    let children = [spawn_child(&job), spawn_child(&job)];
    for child in children {
        tokio::task::spawn_blocking(move || finish(child))
            .await
            .unwrap();
    }
    let all = requests(&server).await;
    let tokens = all.iter().filter(|r| r.url.path() == "/token").count();
    let api: Vec<_> = all.iter().filter(|r| r.url.path() == "/secure").collect();
    assert_eq!(tokens, 1, "one token request for both processes");
    assert_eq!(api.len(), 20);
    assert!(api
        .iter()
        .all(|r| header(r, "authorization") == Some("Bearer tok-shared")));
}

#[tokio::test]
async fn redis_buckets_and_slots_are_atomic() {
    let Some(redis) = redis() else { return };
    let state = RedisState::new(&redis.url, &namespace("unit")).unwrap();
    assert!(state.withdraw("b", 5, 10).await.unwrap());
    assert!(state.withdraw("b", 5, 10).await.unwrap());
    assert!(!state.withdraw("b", 5, 10).await.unwrap());
    state.deposit("b", 5, 10).await.unwrap();
    assert!(state.withdraw("b", 5, 10).await.unwrap());
    let interval = Duration::from_millis(100);
    assert_eq!(
        state.reserve("r", interval, Duration::ZERO).await.unwrap(),
        Duration::ZERO
    );
    let second = state.reserve("r", interval, Duration::ZERO).await.unwrap();
    assert!(
        second > Duration::from_millis(80) && second <= interval,
        "{second:?}"
    );
    assert!(state.try_lock("l", Duration::from_secs(5)).await.unwrap());
    assert!(!state.try_lock("l", Duration::from_secs(5)).await.unwrap());
    state.unlock("l").await.unwrap();
    assert!(state.try_lock("l", Duration::from_secs(5)).await.unwrap());
    assert_eq!(state.token("t").await.unwrap(), None);
    state
        .store_token("t", "Bearer x", Duration::from_secs(60))
        .await
        .unwrap();
    let (token, ttl) = state.token("t").await.unwrap().unwrap();
    assert_eq!(token, "Bearer x");
    assert!(ttl > Duration::from_secs(58));
    // A store that cannot be reached is an error the runtime falls back from, not a panic.
    let down = RedisState::new("redis://127.0.0.1:1/", "x").unwrap();
    assert!(down.withdraw("b", 1, 10).await.is_err());
}

/// A server that rotates refresh tokens and revokes the family when a spent one comes back: two
/// processes refreshing the same connection for seconds never present a spent one, because the
/// rotation is stored in Redis under the same lock as the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_rotating_refresh_tokens_without_reusing_one() {
    let Some(redis) = redis() else { return };
    let server = support::authz::AuthServer::start().await;
    server.configure(|b| {
        b.access_lifetime = Duration::from_secs(1);
        b.token_delay = Duration::from_millis(50);
    });
    let (_, refresh) = server.issue();
    let job = format!(
        "rotate|{}|{}|{}|{refresh}|3500",
        redis.url,
        namespace("rotate"),
        server.uri()
    );
    let children = [spawn_child(&job), spawn_child(&job)];
    for child in children {
        tokio::task::spawn_blocking(move || finish(child))
            .await
            .unwrap();
    }
    let record = server.record();
    assert_eq!(
        record.reuses, 0,
        "a spent refresh token was presented: {record:?}"
    );
    assert!(record.refusals.is_empty(), "{record:?}");
    assert_eq!(record.api_refused, 0, "{record:?}");
    let refreshes = record.grants.get("refresh_token").copied().unwrap_or(0);
    // A token lasts a second and is renewed a quarter into it: several rotations, each once.
    assert!(refreshes >= 3, "{record:?}");
    assert!(record.api_calls >= 40, "{record:?}");
}
