//! On change: a signed event through `connector-gen listen` leads to the record's update in the
//! destination, by a watching `connector-gen sync`, within a bound measured here.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::fixture;

const SECRET: &str = "whsec_c2hvcC13ZWJob29rLXNpZ25pbmcta2V5LWZvci10ZXN0cw==";

/// A Standard Webhooks signature of `body` sent as event `id` now.
fn sign(id: &str, timestamp: u64, body: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_signed_event_updates_the_destination_within_a_second() {
    let f = fixture().await;
    f.shop.seed(50);
    let hooks = f.path("shop-hooks.toml");
    let connection = std::fs::read_to_string(f.path("shop.toml")).unwrap();
    std::fs::write(
        &hooks,
        format!("{connection}\n[webhooks]\nsecret = \"{SECRET}\"\n"),
    )
    .unwrap();
    let events = f.path("events.db");
    let mut listener = f
        .command(&[
            "listen",
            &super::spec("shop.yaml"),
            "--connection",
            hooks.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--store",
        ])
        .arg(format!("sqlite:{}", events.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(listener.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listening: serde_json::Value = serde_json::from_str(&line).unwrap();
    let addr = listening["listening"].as_str().unwrap().to_owned();

    let file = f.crm_sync(
        "on-change.toml",
        &format!("[schedule]\non_change = true\n\n[events]\nstore = \"sqlite:{}\"\ntypes = [\"order.updated\"]\nkey = \"/data/id\"", events.display()),
    );
    let mut watcher = f
        .command(&["sync", "--watch", "--quiet", file.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while f.crm.deals().len() < 50 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first run did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let client = reqwest::Client::new();
    let mut latencies = Vec::new();
    for (n, id) in [7, 19, 33, 7, 48].into_iter().enumerate() {
        let cents = 500_000 + n as i64;
        f.shop.put(id, json!({"total_cents": cents}));
        let body = json!({"type": "order.updated", "data": {"id": id}}).to_string();
        let event_id = format!("evt_{n}");
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let sent = Instant::now();
        let answer = client
            .post(format!("http://{addr}/webhooks/orderUpdated"))
            .header("content-type", "application/json")
            .header("webhook-id", &event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", sign(&event_id, timestamp, &body))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
        let wanted = serde_json::Value::from(cents as f64 / 100.0);
        loop {
            let deal = f
                .crm
                .by_external_id()
                .get(&id.to_string())
                .cloned()
                .unwrap();
            if deal["amount"] == wanted {
                break;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "the event was not synced: {deal}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    eprintln!("event to destination update: {latencies:?}");
    assert!(
        latencies[latencies.len() - 1] < Duration::from_secs(1),
        "{latencies:?}"
    );
    for child in [&mut watcher, &mut listener] {
        let _ = child.kill();
        let _ = child.wait();
    }
}
