//! Receiving the events a manifest declares (`specs/acme/connector.toml`, version 2: a spec
//! without events, signed GitHub-style with HMAC-SHA256 in `X-Acme-Signature`), as processes:
//! a generated crate's binary built with `listen` receives a signed event and its `events`
//! prints it; `connector-gen describe` lists the manifest's events and `connector-gen listen`
//! accepts a signed one. In process, the generated `webhooks` module decodes them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::support::cli::{connector_gen, generated_acme_binary, run};
use crate::support::prism::repo_root;
use connector_tests::acme;

const MANIFEST: &str = "specs/acme/connector.toml";
const SECRET: &str = "acme-hooks-secret";

/// A connection to Acme version 2 whose `[webhooks]` table gives only the secret: the scheme,
/// header and prefix are the manifest's.
fn connection(dir: &Path) -> PathBuf {
    let path = dir.join("acme.toml");
    let text = "connector = \"acme\"\nversion = \"v2\"\n[variables]\ntenant = \"shop-7\"\nworkspace = \"ws-1\"\naccount = \"acc-9\"\n[credentials]\ntoken = { token = \"tok-2\" }\n[webhooks]\nsecret = { env = \"ACME_HOOKS_SECRET\" }\n";
    std::fs::write(&path, text).expect("writing the connection");
    path
}

/// A running receiver and what it printed once bound.
struct Listener {
    child: Child,
    ready: Value,
}

impl Listener {
    fn url(&self, path: &str) -> String {
        let addr = self.ready["listening"].as_str().expect("the address");
        format!("http://{addr}{path}")
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `program ARGS... listen --connection FILE --addr 127.0.0.1:0 --store STORE`, once it printed
/// its address.
fn listen(program: &Path, args: &[&str], connection: &Path, store: &str) -> Listener {
    let mut child = Command::new(program)
        .args(args)
        .args(["--addr", "127.0.0.1:0", "--store", store, "--connection"])
        .arg(connection)
        .current_dir(repo_root())
        .env("ACME_HOOKS_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listen's first line");
    let ready = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line:?}"));
    Listener { child, ready }
}

fn signature(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// POSTs `body` as Acme signs it with `secret`; returns the status.
fn send(url: &str, event: &str, delivery: &str, body: &Value, secret: &str) -> u16 {
    let body = body.to_string().into_bytes();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .header("x-acme-event", event)
            .header("x-acme-delivery", delivery)
            .header("x-acme-signature", signature(&body, secret))
            .body(body)
            .send()
            .await
            .expect("the receiver answers")
            .status()
            .as_u16()
    })
}

/// The stored events as `program events --store STORE` prints them.
fn stored(program: &Path, store: &str) -> Vec<Value> {
    let ran = run(program, &["events", "--store", store], None);
    assert_eq!(ran.code, 0, "events: {ran:?}");
    ran.stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn shipped(id: i64) -> Value {
    json!({"id": id, "item": "book", "quantity": 2, "status": "shipped"})
}

#[test]
fn a_generated_binary_receives_its_signed_events_and_prints_them() {
    let bin = generated_acme_binary();
    let help = run(&bin, &["--help"], None);
    assert!(
        help.stdout.contains("listen") && help.stdout.contains("events"),
        "{help:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("events.db").display());
    let listener = listen(&bin, &["listen"], &connection(dir.path()), &store);
    assert_eq!(
        listener.ready["verified"],
        json!(true),
        "{:?}",
        listener.ready
    );
    assert_eq!(
        listener.ready["events"],
        json!(["order.shipped", "order.cancelled"])
    );
    assert_eq!(listener.ready["source"], json!("acme"));
    // The type is read from X-Acme-Event, as the manifest's `webhook_event` says.
    let url = listener.url("/webhooks");
    assert_eq!(send(&url, "order.shipped", "d-1", &shipped(7), SECRET), 200);
    assert_eq!(send(&url, "order.shipped", "d-1", &shipped(7), SECRET), 200);
    assert_eq!(
        send(&url, "order.shipped", "d-2", &shipped(8), "wrong"),
        401
    );
    let invalid = json!({"id": "seven"});
    assert_eq!(send(&url, "order.shipped", "d-3", &invalid, SECRET), 400);
    drop(listener);
    let events = stored(&bin, &store);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], json!("order.shipped"));
    assert_eq!(events[0]["id"], json!("d-1"));
    assert_eq!(events[0]["payload"], shipped(7));
}

#[test]
fn connector_gen_describes_and_receives_a_manifest_s_events() {
    let described = run(&connector_gen(), &["describe", MANIFEST, "--json"], None);
    assert_eq!(described.code, 0, "{described:?}");
    let catalogue = described.json();
    let events: Vec<(&str, &str)> = catalogue["webhooks"]
        .as_array()
        .expect("events")
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap_or_default(),
                w["source"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("order.shipped", "manifest"),
            ("order.cancelled", "manifest")
        ]
    );
    assert_eq!(catalogue["webhook_signature"]["header"], "X-Acme-Signature");
    let text = run(&connector_gen(), &["describe", MANIFEST], None);
    assert!(
        text.stdout.contains("order.cancelled") && text.stdout.contains("[manifest]"),
        "{text:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("events.db").display());
    let listener = listen(
        &connector_gen(),
        &["listen", MANIFEST],
        &connection(dir.path()),
        &store,
    );
    let cancelled = json!({"order": {"id": 7, "item": "book"}, "reason": "stock"});
    let url = listener.url("/webhooks/order.cancelled");
    assert_eq!(
        send(&url, "order.cancelled", "c-1", &cancelled, SECRET),
        200
    );
    let wrong_reason = json!({"order": {"id": 7, "item": "book"}, "reason": "weather"});
    assert_eq!(
        send(&url, "order.cancelled", "c-2", &wrong_reason, SECRET),
        400
    );
    drop(listener);
    let events = stored(&connector_gen(), &store);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], json!("order.cancelled"));
    assert_eq!(events[0]["payload"], cancelled);
}

#[test]
fn the_manifest_s_events_decode_into_their_types() {
    use acme::v2::webhooks::{Event, EVENTS};
    assert_eq!(EVENTS, ["order.shipped", "order.cancelled"]);
    let body = shipped(7).to_string();
    match Event::decode("order.shipped", body.as_bytes()).expect("decodes") {
        Event::OrderShipped(order) => assert_eq!((order.id, order.item.as_str()), (7, "book")),
        other => panic!("decoded as {other:?}"),
    }
    let body = json!({"order": {"id": 9, "item": "pen"}, "reason": "fraud"}).to_string();
    let event = Event::decode("order.cancelled", body.as_bytes()).expect("decodes");
    assert_eq!(event.name(), "order.cancelled");
    let Event::OrderCancelled(cancelled) = event else {
        panic!("decoded as {event:?}");
    };
    assert_eq!(cancelled.order.id, 9);
    assert!(Event::decode("order.cancelled", br#"{"reason": "fraud"}"#).is_err());
    // Version 1 declares no events.
    let v1 = acme::v1::CONNECTOR
        .catalogue
        .as_deref()
        .expect("a catalogue");
    assert!(v1.contains("\"actions\"") && !v1.contains("order.shipped"));
}
