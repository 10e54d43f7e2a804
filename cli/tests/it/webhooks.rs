//! `connector-gen listen` and `events` as processes: a GitHub-style signed event received and
//! read back; a receiver killed with SIGKILL right after its 2xx still has the event; two
//! receivers on one Postgres store de-duplicate across each other; delivery to a command retries
//! in order and moves what keeps failing to the dead letters. The load run (10,000 events from
//! 50 senders) is ignored by default and run by scripts/test.sh.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};

const SECRET: &str = "It's a Secret to Everybody";
const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/webhooks.yaml");

/// The binary under test; `CONNECTOR_GEN_BIN` points the load runs at a release build.
fn bin() -> Command {
    match std::env::var_os("CONNECTOR_GEN_BIN") {
        Some(path) => Command::new(path),
        None => Command::new(env!("CARGO_BIN_EXE_connector-gen")),
    }
}

/// A GitHub-style connection file: HMAC-SHA256 in `X-Hub-Signature-256`, the type in
/// `X-GitHub-Event`, the id in `X-GitHub-Delivery`.
fn github_connection(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("hooks.toml");
    std::fs::write(&path, "connector = \"shop-events\"\n\n[webhooks]\nscheme = \"github\"\nsecret = { env = \"HOOKS_TEST_SECRET\" }\n")
        .expect("writing the connection");
    path
}

/// A running `listen` and the address it printed.
struct Listener {
    child: Child,
    url: String,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listen(connection: &Path, store: &str, source: Option<&str>) -> Listener {
    let mut command = bin();
    command
        .args([
            "listen",
            SPEC,
            "--addr",
            "127.0.0.1:0",
            "--store",
            store,
            "--connection",
        ])
        .arg(connection)
        .env("HOOKS_TEST_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(source) = source {
        command.args(["--source", source]);
    }
    let mut child = command.spawn().expect("starting listen");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listen's first line");
    let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line:?}"));
    let addr = ready["listening"].as_str().expect("the address").to_owned();
    assert_eq!(ready["verified"], json!(true));
    Listener {
        child,
        url: format!("http://{addr}/webhooks"),
    }
}

fn signature(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("a key");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn order_paid(id: &str) -> Vec<u8> {
    json!({"type": "order.paid", "data": {"id": id, "total": 12.5, "currency": "EUR"}})
        .to_string()
        .into_bytes()
}

async fn send(
    client: &reqwest::Client,
    url: &str,
    delivery: &str,
    body: Vec<u8>,
) -> Result<u16, reqwest::Error> {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-github-event", "order.paid")
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", signature(&body))
        .body(body)
        .send()
        .await?;
    Ok(response.status().as_u16())
}

fn events(store: &str, extra: &[&str]) -> Vec<Value> {
    let output = bin()
        .args(["events", "--store", store, "--limit", "100000"])
        .args(extra)
        .output()
        .expect("events");
    assert!(
        output.status.success(),
        "events: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn a_signed_github_style_event_is_stored_and_read_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("sqlite:{}", dir.path().join("events.db").display());
    let listener = listen(&github_connection(dir.path()), &store, None);
    runtime().block_on(async {
        let client = reqwest::Client::new();
        assert_eq!(
            send(&client, &listener.url, "d-1", order_paid("o-1"))
                .await
                .ok(),
            Some(200)
        );
        assert_eq!(
            send(&client, &listener.url, "d-1", order_paid("o-1"))
                .await
                .ok(),
            Some(200),
            "a redelivery"
        );
        // Unsigned, and signed for another body: refused.
        let refused = client
            .post(&listener.url)
            .header("x-github-event", "order.paid")
            .body(order_paid("o-2"))
            .send()
            .await
            .expect("answer");
        assert_eq!(refused.status().as_u16(), 401);
        let mut body = order_paid("o-3");
        let sig = signature(&body);
        body[5] ^= 1;
        let refused = client
            .post(&listener.url)
            .header("x-github-event", "order.paid")
            .header("x-hub-signature-256", sig)
            .body(body)
            .send()
            .await
            .expect("answer");
        assert_eq!(refused.status().as_u16(), 401);
    });
    let stored = events(&store, &[]);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["id"], json!("d-1"));
    assert_eq!(stored[0]["type"], json!("order.paid"));
    assert_eq!(stored[0]["source"], json!("hooks"), "the connection's name");
    assert_eq!(stored[0]["payload"]["data"]["id"], json!("o-1"));
    assert!(stored[0]["headers"].get("x-hub-signature-256").is_none());
    assert_eq!(events(&store, &["--type", "push"]).len(), 0);
}

#[test]
fn listen_refuses_what_it_cannot_do_safely() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("plain.toml");
    std::fs::write(&plain, "connector = \"shop-events\"\n").expect("write");
    let output = bin()
        .args(["listen", SPEC, "--addr", "0.0.0.0:0", "--store"])
        .arg(format!("sqlite:{}", dir.path().join("e.db").display()))
        .arg("--connection")
        .arg(&plain)
        .output()
        .expect("listen");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("webhook secret"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "connector = \"shop-events\"\n[webhooks]\nscheme = \"gihtub\"\nsecrt = \"x\"\n",
    )
    .expect("write");
    let output = bin()
        .args(["listen", SPEC, "--connection"])
        .arg(&bad)
        .output()
        .expect("listen");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("webhooks.scheme") && stderr.contains("webhooks.secrt"),
        "every problem at once: {stderr}"
    );
    let output = bin()
        .args(["events", "--store", "mysql://x"])
        .output()
        .expect("events");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_event_acknowledged_right_before_sigkill_is_in_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("sqlite:{}", dir.path().join("events.db").display());
    let connection = github_connection(dir.path());
    let rt = runtime();
    for round in 0..5 {
        let mut listener = listen(&connection, &store, None);
        let acknowledged = rt.block_on(async {
            let client = reqwest::Client::new();
            let status = send(
                &client,
                &listener.url,
                &format!("kill-{round}"),
                order_paid("o"),
            )
            .await;
            status.ok() == Some(200)
        });
        // SIGKILL as soon as the answer arrived: no shutdown, no flush.
        let _ = listener.child.kill();
        let _ = listener.child.wait();
        assert!(acknowledged, "round {round} was answered 2xx");
    }
    let stored = events(&store, &[]);
    let ids: Vec<&str> = stored.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids, vec!["kill-0", "kill-1", "kill-2", "kill-3", "kill-4"]);
}

#[test]
fn two_receivers_on_one_postgres_store_deduplicate_across_each_other() {
    let Some(url) = support_postgres() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let connection = github_connection(dir.path());
    let a = listen(&connection, &url, Some("shop"));
    let b = listen(&connection, &url, Some("shop"));
    let new = runtime().block_on(async {
        let client = reqwest::Client::new();
        let mut tasks = Vec::new();
        for i in 0..200 {
            for target in [&a.url, &b.url] {
                let (client, url) = (client.clone(), target.clone());
                tasks.push(tokio::spawn(async move {
                    send(&client, &url, &format!("e-{i}"), order_paid("o")).await
                }));
            }
        }
        let mut ok = 0;
        for task in tasks {
            ok += usize::from(matches!(task.await, Ok(Ok(200))));
        }
        ok
    });
    assert_eq!(new, 400, "every request acknowledged");
    let stored = events(&url, &[]);
    let mut ids: Vec<&str> = stored.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((stored.len(), ids.len()), (200, 200), "each event once");
}

#[test]
fn delivery_retries_in_order_and_dead_letters_what_keeps_failing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("sqlite:{}", dir.path().join("events.db").display());
    let listener = listen(&github_connection(dir.path()), &store, None);
    runtime().block_on(async {
        let client = reqwest::Client::new();
        for id in ["a", "b", "poison", "c"] {
            assert_eq!(
                send(&client, &listener.url, id, order_paid(id)).await.ok(),
                Some(200)
            );
        }
    });
    drop(listener);
    let log = dir.path().join("log");
    let once = dir.path().join("failed-once");
    // Fails `b` once (then succeeds), always fails `poison`, logs every success in order.
    let script = format!(
        "id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])'); \
         if [ \"$id\" = poison ]; then echo 'cannot handle it' >&2; exit 3; fi; \
         if [ \"$id\" = b ] && [ ! -e {once} ]; then touch {once}; exit 1; fi; \
         echo $id >> {log}",
        once = once.display(),
        log = log.display()
    );
    let output = bin()
        .args([
            "events",
            "--store",
            &store,
            "--exec",
            &script,
            "--max-attempts",
            "3",
            "--backoff-ms",
            "10",
        ])
        .output()
        .expect("events --exec");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let outcomes: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let summary: Vec<(String, String)> = outcomes
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap_or_default().to_owned(),
                o["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("a", "done"),
        ("b", "retry"),
        ("b", "done"),
        ("poison", "retry"),
        ("poison", "retry"),
        ("poison", "dead"),
        ("c", "done"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(summary, expected);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap_or_default(),
        "a\nb\nc\n",
        "in order"
    );
    let dead = events(&store, &["--state", "dead"]);
    assert_eq!(dead.len(), 1);
    assert!(dead[0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .contains("cannot handle it"));
    // Nothing is pending: a second run delivers nothing.
    let again = bin()
        .args(["events", "--store", &store, "--exec", "exit 1"])
        .output()
        .expect("events");
    assert!(again.stdout.is_empty());
}

/// A Postgres database of its own, so that runs do not see each other's events.
fn support_postgres() -> Option<String> {
    runtime().block_on(crate::flows_support::fresh_postgres())
}

/// 10,000 events from 50 concurrent senders, 5 % of them sent twice and 1 % sent again after
/// the first connection was dropped before its answer; exactly the distinct events must be
/// stored. Prints throughput, p50/p99 acknowledgement latency and the store's size.
fn load(store: &str, label: &str, size: impl Fn() -> u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = listen(&github_connection(dir.path()), store, Some("load"));
    let url = listener.url.clone();
    const EVENTS: usize = 10_000;
    const SENDERS: usize = 50;
    let (latencies, elapsed) = runtime().block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(SENDERS)
            .build()
            .expect("client");
        let started = Instant::now();
        let mut tasks = Vec::new();
        for sender in 0..SENDERS {
            let (client, url) = (client.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                for n in (sender..EVENTS).step_by(SENDERS) {
                    let id = format!("load-{n}");
                    let body = order_paid(&id);
                    if n % 100 == 0 {
                        // 1 %: the first attempt's connection is dropped before the answer.
                        let one_shot = reqwest::Client::new();
                        let _ = tokio::time::timeout(
                            Duration::from_micros(200),
                            send(&one_shot, &url, &id, body.clone()),
                        )
                        .await;
                    }
                    let sent = Instant::now();
                    let status = send(&client, &url, &id, body.clone())
                        .await
                        .expect("an answer");
                    latencies.push(sent.elapsed());
                    assert_eq!(status, 200);
                    if n % 20 == 1 {
                        // 5 %: sent twice.
                        assert_eq!(
                            send(&client, &url, &id, body).await.expect("an answer"),
                            200
                        );
                    }
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("a sender"));
        }
        (all, started.elapsed())
    });
    drop(listener);
    let mut latencies = latencies;
    latencies.sort_unstable();
    let pick = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let stored = events(store, &[]);
    let mut ids: Vec<&str> = stored.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (stored.len(), ids.len()),
        (EVENTS, EVENTS),
        "exactly the distinct events"
    );
    let requests = EVENTS + EVENTS / 20 + EVENTS / 100;
    println!(
        "LOAD {label}: {EVENTS} events, {requests} requests from {SENDERS} senders in {:.2} s ({:.0} requests/s); acknowledgement p50 {:.1} ms, p99 {:.1} ms; store {:.1} MiB",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        pick(0.50).as_secs_f64() * 1000.0,
        pick(0.99).as_secs_f64() * 1000.0,
        size() as f64 / (1024.0 * 1024.0),
    );
}

#[test]
#[ignore = "a load run (about a minute on two cores); scripts/test.sh runs it"]
fn load_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.db");
    let store = format!("sqlite:{}", path.display());
    load(&store, "sqlite", || {
        ["", "-wal", "-shm"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
            .map(|m| m.len())
            .sum()
    });
}

#[test]
#[ignore = "a load run (about a minute on two cores); scripts/test.sh runs it"]
fn load_postgres() {
    let Some(url) = support_postgres() else {
        return;
    };
    let db = url.rsplit('/').next().unwrap_or_default().to_owned();
    let size_url = url.clone();
    load(&url, "postgres", move || {
        runtime().block_on(async {
            let Ok(connector_flows::store::Store::Postgres(pg)) =
                connector_flows::store::Store::open(&size_url).await
            else {
                return 0;
            };
            let Ok(client) = pg.client().await else {
                return 0;
            };
            client
                .query_one("SELECT pg_database_size($1)::BIGINT", &[&db])
                .await
                .map_or(0, |row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
        })
    });
}
