//! The receiver in process, on a loopback port: requests signed by each scheme's own library
//! (Python's standardwebhooks and stripe, GitHub's @octokit/webhooks-methods; Slack and generic
//! HMAC with Python's hmac, as Slack documents it) are accepted, and each kind of tampering,
//! replay, stale or future timestamp, wrong secret, missing header and oversized body is
//! refused with nothing stored. Hostile bodies are refused without a panic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use connector_flows::events::{EventQuery, EventStore};
use connector_flows::receiver::Receiver;
use connector_flows::store::Store;
use connector_runtime::catalogue::{Catalogue, Webhook};
use connector_runtime::webhooks::{SignatureScheme, WebhookSettings, WebhookSignature};
use connector_runtime::Secret;
use serde_json::{json, Value};

use crate::support::{fresh_postgres, fresh_sqlite};

/// A connector with one event, `orderPaid` (type `order.paid`), whose payload refers to a
/// shared definition.
pub fn catalogue() -> Catalogue {
    let mut definitions = serde_json::Map::new();
    definitions.insert(
        "Order".into(),
        json!({"type": "object", "required": ["id", "total"], "properties": {
            "id": {"type": "string"}, "total": {"type": "number", "minimum": 0}}}),
    );
    Catalogue {
        name: "shop".into(),
        title: "Shop".into(),
        version: "1".into(),
        webhooks: vec![Webhook {
            name: "orderPaid".into(),
            method: "POST".into(),
            operation_id: None,
            summary: None,
            description: None,
            media_types: vec!["application/json".into()],
            payload_schema: json!({"type": "object", "required": ["type", "data"], "properties": {
                "type": {"type": "string"}, "id": {"type": "string"},
                "data": {"$ref": "#/$defs/Order"}}}),
            headers: Vec::new(),
            source: "x-webhooks".into(),
            type_value: Some("order.paid".into()),
            expression: None,
        }],
        definitions,
        ..Catalogue::default()
    }
}

/// Serves `receiver` on a free loopback port; the server stops when the runtime does.
pub async fn serve(receiver: &Receiver) -> String {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let router = receiver.router();
    tokio::spawn(async move {
        let stop = std::future::pending::<()>();
        let _ = connector_flows::serve(router, "127.0.0.1:0".parse().expect("addr"), stop, |a| {
            let _ = tx.send(a);
        })
        .await;
    });
    let addr = rx.await.expect("bound");
    format!("http://{addr}")
}

/// The folder scripts/install-webhook-signers.sh fills, when the signing libraries are there.
fn signers() -> Option<PathBuf> {
    let dir = std::env::var_os("WEBHOOK_SIGNERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/webhook-signers"));
    if dir.join("python/.done").exists() && dir.join("node/.done").exists() {
        return Some(dir);
    }
    assert!(
        std::env::var("WEBHOOK_SIGNERS_REQUIRED").as_deref() != Ok("1"),
        "WEBHOOK_SIGNERS_REQUIRED=1 but the signing libraries are not installed (scripts/install-webhook-signers.sh)"
    );
    eprintln!("SKIPPED: the webhook signing libraries are not installed; run scripts/install-webhook-signers.sh");
    None
}

/// Request headers, as name and value.
type Headers = Vec<(String, String)>;

/// Headers signing `body` at `timestamp`, made by the scheme's own library.
fn sign(
    dir: &Path,
    scheme: &str,
    secret: &str,
    body: &[u8],
    timestamp: i64,
    id: &str,
) -> Vec<(String, String)> {
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), body).expect("writing the body");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/webhook-signers");
    let output = if scheme == "github" {
        Command::new("node")
            .arg(script.join("sign.mjs"))
            .arg(dir)
            .arg(secret)
            .arg(file.path())
            .output()
    } else {
        Command::new("python3")
            .arg(script.join("sign.py"))
            .args([scheme, secret])
            .arg(file.path())
            .args([timestamp.to_string(), id.to_owned()])
            .env("PYTHONPATH", dir.join("python"))
            .output()
    }
    .expect("running the signer");
    assert!(
        output.status.success(),
        "signer: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let headers: serde_json::Map<String, Value> =
        serde_json::from_slice(&output.stdout).expect("the signer's JSON");
    headers
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
        .collect()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn post(url: &str, headers: &[(String, String)], body: Vec<u8>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client
        .post(url)
        .body(body)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.expect("the receiver answers");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

fn settings(scheme: SignatureScheme, secrets: &[&str]) -> WebhookSettings {
    let mut signature = WebhookSignature::new(scheme);
    if scheme == SignatureScheme::Hmac {
        signature.header = Some("x-signature".into());
        signature.algorithm = Some("sha512".into());
        signature.encoding = Some("base64".into());
        signature.prefix = Some("sha512=".into());
        signature.signed = Some("{timestamp}.{body}".into());
        signature.timestamp_header = Some("x-timestamp".into());
    }
    WebhookSettings {
        signature: Some(signature),
        secrets: secrets.iter().map(|s| Secret::new(*s)).collect(),
        ..WebhookSettings::default()
    }
}

async fn scheme_accepts_and_refuses(url: &str, dir: &Path, scheme: SignatureScheme) {
    let name = scheme.as_str();
    // Two secrets configured (a rotation); the sender signs with the new one.
    let (old, new) = match scheme {
        SignatureScheme::StandardWebhooks => (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_c2VjcmV0LWtleS1vZi1hLW5ldy1yb3RhdGlvbg==",
        ),
        _ => ("old-secret-for-rotation", "new-secret-9f8e7d"),
    };
    let events = EventStore::open(Store::open(url).await.expect("open"))
        .await
        .expect("migrate");
    let receiver = Receiver::builder(&catalogue(), events.clone())
        .source(name)
        .settings(&settings(scheme, &[old, new]))
        .build()
        .expect("receiver");
    let base = serve(&receiver).await;
    let endpoint = format!("{base}/webhooks");
    let body = br#"{"type":"order.paid","id":"evt_1","data":{"id":"o-1","total":12.5}}"#.to_vec();
    let mut headers = sign(dir, name, new, &body, now(), "msg_1");
    if scheme == SignatureScheme::Github {
        headers.push(("x-github-event".into(), "order.paid".into()));
        headers.push(("x-github-delivery".into(), "d-1".into()));
    }
    let (status, answer) = post(&endpoint, &headers, body.clone()).await;
    assert_eq!(status, 200, "{name}: signed by its library: {answer}");
    assert_eq!(answer["duplicate"], json!(false), "{name}");
    // The same event again (a sender's retry, or a replay within the tolerance): one row.
    let (status, answer) = post(&endpoint, &headers, body.clone()).await;
    assert_eq!(
        (status, &answer["duplicate"]),
        (200, &json!(true)),
        "{name}: {answer}"
    );

    let mut refused: Vec<(&str, Headers, Vec<u8>)> = Vec::new();
    let mut tampered = body.clone();
    let at = tampered.len() - 3;
    tampered[at] = b'9';
    refused.push(("a changed body byte", headers.clone(), tampered));
    let mut bad_signature = headers.clone();
    for (k, v) in &mut bad_signature {
        if k.contains("signature") {
            // Change the last character of the MAC to one of another value: hex is read in
            // either case, so `a` becoming `A` would leave the MAC as it was.
            let last = v.pop().unwrap_or('0');
            v.push(if last.eq_ignore_ascii_case(&'a') {
                'B'
            } else {
                'A'
            });
        }
    }
    refused.push(("a changed signature", bad_signature, body.clone()));
    let mut missing = headers.clone();
    missing.retain(|(k, _)| !k.contains("signature"));
    refused.push(("a missing signature", missing, body.clone()));
    let other = br#"{"type":"order.paid","id":"evt_2","data":{"id":"o-2","total":1}}"#.to_vec();
    let wrong = match scheme {
        SignatureScheme::StandardWebhooks => "whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==",
        _ => "wrong-secret",
    };
    let mut wrong_headers = sign(dir, name, wrong, &other, now(), "msg_2");
    wrong_headers.extend(
        headers
            .iter()
            .filter(|(k, _)| k.starts_with("x-github-e"))
            .cloned(),
    );
    refused.push(("a wrong secret", wrong_headers, other.clone()));
    if scheme != SignatureScheme::Github {
        refused.push((
            "a stale timestamp",
            sign(dir, name, new, &other, now() - 600, "msg_3"),
            other.clone(),
        ));
        refused.push((
            "a future timestamp",
            sign(dir, name, new, &other, now() + 600, "msg_4"),
            other.clone(),
        ));
    }
    for (what, headers, body) in refused {
        let (status, answer) = post(&endpoint, &headers, body).await;
        assert_eq!(status, 401, "{name}: {what}: {answer}");
        assert!(
            !answer.to_string().contains(new),
            "{name}: the answer names no secret"
        );
    }
    let big = {
        let mut b = br#"{"type":"order.paid","data":{"id":"o","total":1},"pad":""#.to_vec();
        b.extend(std::iter::repeat_n(b'x', 1024 * 1024));
        b.extend(br#""}"#);
        b
    };
    let big_headers = sign(dir, name, new, &big, now(), "msg_5");
    let (status, _) = post(&endpoint, &big_headers, big).await;
    assert_eq!(status, 413, "{name}: an oversized body");

    let stored = events.list(&EventQuery::default()).await.expect("list");
    assert_eq!(
        stored.len(),
        1,
        "{name}: only the accepted event is stored: {stored:?}"
    );
    let event = &stored[0];
    assert_eq!(event.event_type, "order.paid");
    let text = serde_json::to_string(&event.headers).unwrap_or_default();
    for secret_header in ["signature", "x-hub"] {
        assert!(
            !text.contains(secret_header),
            "{name}: signature headers are not stored: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_from_each_schemes_library_on_sqlite() {
    let Some(dir) = signers() else { return };
    for scheme in [
        SignatureScheme::StandardWebhooks,
        SignatureScheme::Github,
        SignatureScheme::Stripe,
        SignatureScheme::Slack,
        SignatureScheme::Hmac,
    ] {
        let (_guard, url) = fresh_sqlite();
        scheme_accepts_and_refuses(&url, &dir, scheme).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_on_postgres() {
    let Some(dir) = signers() else { return };
    let Some(url) = fresh_postgres().await else {
        return;
    };
    scheme_accepts_and_refuses(&url, &dir, SignatureScheme::StandardWebhooks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_token_is_compared_whole() {
    let (_guard, url) = fresh_sqlite();
    let events = EventStore::open(Store::open(&url).await.expect("open"))
        .await
        .expect("migrate");
    let mut signature = WebhookSignature::new(SignatureScheme::Token);
    signature.header = Some("X-Gitlab-Token".into());
    let receiver = Receiver::builder(&catalogue(), events.clone())
        .settings(&WebhookSettings {
            signature: Some(signature),
            secrets: vec![Secret::new("tok-1"), Secret::new("tok-2")],
            ..WebhookSettings::default()
        })
        .build()
        .expect("receiver");
    let base = serve(&receiver).await;
    let body = br#"{"type":"order.paid","id":"e1","data":{"id":"o","total":1}}"#.to_vec();
    let header = |v: &str| vec![("x-gitlab-token".to_owned(), v.to_owned())];
    assert_eq!(
        post(&format!("{base}/webhooks"), &header("tok-2"), body.clone())
            .await
            .0,
        200
    );
    for bad in ["tok-", "tok-22", "TOK-2", ""] {
        assert_eq!(
            post(&format!("{base}/webhooks"), &header(bad), body.clone())
                .await
                .0,
            401,
            "{bad:?}"
        );
    }
    assert_eq!(events.counts().await.expect("counts").total(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_and_invalid_bodies_are_refused_without_a_panic() {
    let (_guard, url) = fresh_sqlite();
    let events = EventStore::open(Store::open(&url).await.expect("open"))
        .await
        .expect("migrate");
    let receiver = Receiver::builder(&catalogue(), events.clone())
        .allow_unverified(true)
        .build()
        .expect("receiver");
    let base = serve(&receiver).await;
    let named = format!("{base}/webhooks/orderPaid");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("10,000-deep JSON", deep, 400),
        (
            "invalid UTF-8",
            b"{\"type\":\"order.paid\",\"x\":\"\xff\xfe\"}".to_vec(),
            400,
        ),
        (
            "a huge number",
            br#"{"type":"order.paid","data":{"id":"o","total":1e999}}"#.to_vec(),
            400,
        ),
        ("not JSON", b"type=order.paid".to_vec(), 400),
        ("an empty body", Vec::new(), 400),
        (
            "a payload breaking the schema",
            br#"{"type":"order.paid","data":{"id":7,"total":-1}}"#.to_vec(),
            400,
        ),
    ];
    for (what, body, expected) in cases {
        let (status, answer) = post(&named, &[], body).await;
        assert_eq!(status, expected, "{what}: {answer}");
        assert_eq!(answer["stored"], json!(false), "{what}");
    }
    let (status, answer) = post(
        &named,
        &[],
        br#"{"type":"order.paid","data":{"id":7,"total":-1}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    let pointers: Vec<&str> = answer["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["at"].as_str())
        .collect();
    assert!(
        pointers.contains(&"/data/id") && pointers.contains(&"/data/total"),
        "{answer}"
    );
    let (status, _) = post(&format!("{base}/webhooks/noSuchEvent"), &[], b"{}".to_vec()).await;
    assert_eq!(status, 404);
    let (status, _) = post(&format!("{base}/webhooks"), &[], br#"{"data":{}}"#.to_vec()).await;
    assert_eq!(status, 400, "no type anywhere");
    assert_eq!(
        events.counts().await.expect("counts").total(),
        0,
        "nothing stored"
    );
    // A valid one, through each route, is stored (the body's id de-duplicates).
    let good = br#"{"type":"order.paid","id":"e-9","data":{"id":"o","total":3}}"#.to_vec();
    assert_eq!(post(&named, &[], good.clone()).await.0, 200);
    assert_eq!(post(&format!("{base}/webhooks"), &[], good).await.0, 200);
    assert_eq!(events.counts().await.expect("counts").total(), 1);
}

#[tokio::test]
async fn a_receiver_without_a_secret_is_refused_unless_allowed() {
    let (_guard, url) = fresh_sqlite();
    let events = EventStore::open(Store::open(&url).await.expect("open"))
        .await
        .expect("migrate");
    let err = Receiver::builder(&catalogue(), events.clone())
        .build()
        .expect_err("no secret");
    assert!(err.to_string().contains("no webhook secret"), "{err}");
    let err = Receiver::builder(&catalogue(), events)
        .settings(&WebhookSettings {
            secrets: vec![Secret::new("s")],
            ..WebhookSettings::default()
        })
        .build()
        .expect_err("a secret without a scheme");
    assert!(err.to_string().contains("no scheme"), "{err}");
}
