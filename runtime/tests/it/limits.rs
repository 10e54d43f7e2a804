//! Response limits (DS-4, issue 8 item 7): a server cannot make the runtime read without bound.
//!
//! Each test measures how far the process's peak RSS rises above its RSS before the call; the
//! tests run one at a time (a shared lock) so that they do not count each other's memory.

use crate::support;
use std::sync::Arc;

use crate::support::raw::{raw_server, RawServer, Reply};
use crate::support::*;
use connector_runtime::descriptor::{ConnectorDescriptor, Method, OperationDescriptor};
use connector_runtime::descriptor::{SecuritySchemeKind, Text};
use connector_runtime::{Args, Connection, Credential, Error, OAuth2Credential};

const CAP: u64 = 10 * 1024 * 1024;
const GIB: u64 = 1024 * 1024 * 1024;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A `/proc/self/status` field in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .expect("a memory field")
}

/// Runs `call` and returns its result with how far peak RSS rose above the RSS before it.
async fn measured<T>(call: impl std::future::Future<Output = T>) -> (T, u64) {
    // Writing 5 resets the peak (VmHWM) to the current RSS (Linux 4.0 and later).
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let before = status_bytes("VmRSS:");
    let result = call.await;
    let peak = status_bytes("VmHWM:");
    (result, peak.saturating_sub(before))
}

fn get() -> OperationDescriptor {
    op("download", Method::Get, "/download")
}

fn connection(server: &RawServer) -> Connection {
    Connection::builder(&connector(vec![get()], vec![]))
        .base_url(server.uri())
        .build()
        .expect("test connection")
}

fn chunked(total: Option<u64>) -> Reply {
    Reply::Chunked {
        head: "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n".into(),
        total,
    }
}

fn assert_body_cap(err: &Error) {
    assert!(
        matches!(err, Error::ResponseTooLarge { limit, part: "body", .. } if *limit as u64 == CAP),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("body") && shown.contains("10485760"),
        "{shown}"
    );
}

/// What every capped case checks: memory, the bytes the server got out, and the connection.
async fn assert_bounded(server: &RawServer, growth: u64, case: &str) {
    eprintln!(
        "{case}: peak RSS +{:.1} MiB, server wrote {:.1} MiB",
        growth as f64 / 1048576.0,
        server.sent.load(std::sync::atomic::Ordering::SeqCst) as f64 / 1048576.0
    );
    assert!(growth < 3 * CAP, "{case}: peak RSS grew by {growth} bytes");
    assert!(
        server.wait_dropped().await,
        "{case}: the connection was kept"
    );
    let sent = server.sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 8 * CAP, "{case}: the server wrote {sent} bytes");
}

#[tokio::test]
async fn ds4_chunked_gigabyte_body_stops_at_the_cap() {
    if !support::in_own_process("limits::ds4_chunked_gigabyte_body_stops_at_the_cap") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let server = raw_server(chunked(Some(GIB))).await;
    let conn = connection(&server);
    let (result, growth) = measured(conn.execute(&get(), Args::new())).await;
    assert_body_cap(&result.unwrap_err());
    assert_bounded(&server, growth, "1 GiB chunked").await;
}

#[tokio::test]
async fn ds4_endless_body_stops_at_the_cap() {
    if !support::in_own_process("limits::ds4_endless_body_stops_at_the_cap") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let server = raw_server(chunked(None)).await;
    let conn = connection(&server);
    let (result, growth) = measured(conn.execute_json("download", serde_json::Value::Null)).await;
    assert_body_cap(&result.unwrap_err());
    assert_bounded(&server, growth, "endless body").await;
}

#[tokio::test]
async fn ds4_five_mib_header_block_is_refused() {
    if !support::in_own_process("limits::ds4_five_mib_header_block_is_refused") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let mut reply = b"HTTP/1.1 200 OK\r\n".to_vec();
    let mut n = 0;
    while reply.len() < 5 * 1024 * 1024 {
        reply.extend_from_slice(format!("X-Pad-{n}: {}\r\n", "a".repeat(1000)).as_bytes());
        n += 1;
    }
    reply.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
    let server = raw_server(Reply::Bytes(Arc::new(reply))).await;
    let conn = connection(&server);
    let (result, growth) = measured(conn.execute(&get(), Args::new())).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::ResponseTooLarge { part: "headers", limit, .. } if *limit < 1024 * 1024),
        "{err:?}"
    );
    assert!(err.to_string().contains("headers"), "{err}");
    assert_bounded(&server, growth, "5 MiB header block").await;
}

/// CRC-32 of the 1,073,741,821 zero bytes [`gzip_bomb`] inflates to (computed once with zlib;
/// computing it here would take longer than the test).
const BOMB_CRC: u32 = 0xa1e8_37cf;

/// A gzip stream of 1 GiB (less 3 bytes) of zeros in about 1 MiB: dynamic Huffman codes with
/// one bit for a 258-byte match and one for its distance, the densest DEFLATE allows.
fn gzip_bomb() -> Vec<u8> {
    let inflated = GIB;
    let mut w = Bits::default();
    w.out
        .extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    w.bits(1, 1); // last block
    w.bits(2, 2); // dynamic Huffman
    w.bits(29, 5); // 286 literal/length codes
    w.bits(1, 5); // 2 distance codes
    w.bits(14, 4); // 18 code-length codes
    for symbol in [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1] {
        w.bits(
            match symbol {
                18 => 1,
                1 | 2 => 2,
                _ => 0,
            },
            3,
        );
    }
    // Code lengths: literal 0 and end-of-block get 2 bits, length 258 and both distances 1.
    let (one, two, zeros) = ((0b10, 2), (0b11, 2), (0, 1));
    w.code(two);
    for run in [138, 117] {
        w.code(zeros);
        w.bits(run - 11, 7);
    }
    w.code(two);
    w.code(zeros);
    w.bits(28 - 11, 7);
    w.code(one);
    w.code(one);
    w.code(one);
    w.code((0b10, 2)); // the literal zero byte
    for _ in 0..(inflated - 1) / 258 {
        w.code((0, 1)); // length 258
        w.code((0, 1)); // distance 1
    }
    w.code((0b11, 2)); // end of block
    w.flush();
    w.out.extend_from_slice(&BOMB_CRC.to_le_bytes());
    w.out
        .extend_from_slice(&((1 + (inflated - 1) / 258 * 258) as u32).to_le_bytes());
    w.out
}

#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    /// `value` in `count` bits, least significant first (header fields, extra bits).
    fn bits(&mut self, value: u32, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, most significant bit first.
    fn code(&mut self, (code, len): (u32, u32)) {
        for i in (0..len).rev() {
            self.bits((code >> i) & 1, 1);
        }
    }

    fn flush(&mut self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
            (self.acc, self.n) = (0, 0);
        }
    }
}

#[tokio::test]
async fn ds4_gzip_bomb_is_not_inflated() {
    if !support::in_own_process("limits::ds4_gzip_bomb_is_not_inflated") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let bomb = gzip_bomb();
    assert!(bomb.len() < 1024 * 1024 + 64 * 1024, "{}", bomb.len());
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        bomb.len()
    )
    .into_bytes();
    reply.extend_from_slice(&bomb);
    let server = raw_server(Reply::Bytes(Arc::new(reply))).await;
    let conn = connection(&server);
    let (result, growth) = measured(conn.execute(&get(), Args::new())).await;
    // The runtime's reqwest is built without its gzip feature: the body arrives as sent.
    // Were decompression ever switched on, this would inflate past the cap and fail here.
    let response = result.expect("a 1 MiB body is within the cap");
    assert_eq!(response.bytes().as_ref(), bomb.as_slice());
    eprintln!("gzip bomb: peak RSS +{:.1} MiB", growth as f64 / 1048576.0);
    assert!(growth < 3 * CAP, "peak RSS grew by {growth} bytes");
}

/// Issue 8 item 7: with `auth_failure_body` set, a success body without `Content-Length` was
/// read whole before the cap applied (300 MB took 640 MB).
#[tokio::test]
async fn auth_failure_body_check_reads_a_bounded_prefix() {
    if !support::in_own_process("limits::auth_failure_body_check_reads_a_bounded_prefix") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let server = raw_server(chunked(Some(300 * 1024 * 1024))).await;
    let conn = Connection::builder(&connector(vec![get()], vec![]))
        .base_url(server.uri())
        .auth_failure_body("error.code", ["expired_token"])
        .build()
        .unwrap();
    let (result, growth) = measured(conn.execute(&get(), Args::new())).await;
    assert_body_cap(&result.unwrap_err());
    assert_bounded(&server, growth, "300 MiB with auth_failure_body").await;
}

/// A long body that passes the check unread is streamed on whole and in order.
#[tokio::test]
async fn auth_failure_body_check_passes_long_bodies_on_unchanged() {
    if !support::in_own_process("limits::auth_failure_body_check_passes_long_bodies_on_unchanged") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let total = 24 * 1024 * 1024;
    let server = raw_server(chunked(Some(total))).await;
    let conn = Connection::builder(&connector(vec![get()], vec![]))
        .base_url(server.uri())
        .auth_failure_body("error.code", ["expired_token"])
        .build()
        .unwrap();
    let mut response = conn.execute_streaming(&get(), Args::new()).await.unwrap();
    let mut seen = 0u64;
    while let Some(chunk) = response.chunk().await.unwrap() {
        for (i, byte) in chunk.iter().enumerate() {
            let expected = ((seen + i as u64) % 65_536 % 251) as u8;
            assert_eq!(*byte, expected, "byte {}", seen + i as u64);
        }
        seen += chunk.len() as u64;
    }
    assert_eq!(seen, total);
}

fn oauth_connector(kind: SecuritySchemeKind) -> ConnectorDescriptor {
    let secured = with_security(get(), &[&["oauth"]]);
    connector(vec![secured], vec![scheme("oauth", kind)])
}

async fn token_failure(kind: impl FnOnce(&RawServer) -> SecuritySchemeKind) -> (String, u64) {
    let server = raw_server(chunked(None)).await;
    let connector = oauth_connector(kind(&server));
    let conn = Connection::builder(&connector)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .credential(
            "oauth",
            Credential::oauth2(OAuth2Credential::client_credentials("id", CANARY)),
        )
        .build()
        .unwrap();
    let op = with_security(get(), &[&["oauth"]]);
    let (result, growth) = measured(conn.execute(&op, Args::new())).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert_bounded(&server, growth, "endless token endpoint").await;
    (err.to_string(), growth)
}

/// Issue 8 item 7: token responses were read with no cap.
#[tokio::test]
async fn token_responses_are_capped() {
    if !support::in_own_process("limits::token_responses_are_capped") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (message, _) = token_failure(|s| oauth2(&format!("{}/token", s.uri()))).await;
    assert!(
        message.contains("token response") && message.contains("262144"),
        "{message}"
    );
}

/// Issue 8 item 7: OpenID Connect discovery documents were read with no cap.
#[tokio::test]
async fn discovery_documents_are_capped() {
    if !support::in_own_process("limits::discovery_documents_are_capped") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let (message, _) = token_failure(|s| SecuritySchemeKind::OpenIdConnect {
        url: Text::from(format!("{}/.well-known/openid-configuration", s.uri())),
    })
    .await;
    assert!(
        message.contains("discovery document") && message.contains("1048576"),
        "{message}"
    );
}

/// A reply with 90 headers of 3 KiB each (under the head limit) and a body of `body` bytes.
fn padded(status: &str, body: usize) -> Reply {
    let mut reply = format!("HTTP/1.1 {status}\r\n").into_bytes();
    for n in 0..90 {
        reply.extend_from_slice(format!("X-Pad-{n}: {}\r\n", "h".repeat(3000)).as_bytes());
    }
    reply.extend_from_slice(format!("Content-Length: {body}\r\n\r\n").as_bytes());
    reply.resize(reply.len() + body, b'e');
    Reply::Bytes(Arc::new(reply))
}

/// Responses print their server-sent headers in bounded space too.
#[tokio::test]
async fn responses_print_bounded_debug() {
    if !support::in_own_process("limits::responses_print_bounded_debug") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let server = raw_server(padded("200 OK", 16)).await;
    let conn = connection(&server);
    let response = conn.execute(&get(), Args::new()).await.unwrap();
    let debug = format!("{response:?}");
    assert!(debug.len() < 16 * 1024, "Debug is {} bytes", debug.len());
    let streaming = conn.execute_streaming(&get(), Args::new()).await.unwrap();
    let debug = format!("{streaming:?}");
    assert!(debug.len() < 16 * 1024, "Debug is {} bytes", debug.len());
}

/// Issue 8 item 7: error values keep at most 8 KiB of body, and their `Debug` output is
/// bounded even when the server sends 90 headers of 3 KiB and a 1 MiB body.
#[tokio::test]
async fn error_values_and_their_debug_output_are_bounded() {
    if !support::in_own_process("limits::error_values_and_their_debug_output_are_bounded") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let server = raw_server(padded("500 Internal Server Error", 1024 * 1024)).await;
    let err = connection(&server)
        .execute(&get(), Args::new())
        .await
        .unwrap_err();
    assert_eq!(err.body().map(<[u8]>::len), Some(8 * 1024));
    let (display, debug) = (err.to_string(), format!("{err:?}"));
    assert!(display.len() < 1024, "Display is {} bytes", display.len());
    assert!(debug.len() < 16 * 1024, "Debug is {} bytes", debug.len());
    assert!(
        debug.contains("headers in all") && debug.contains("bytes in all"),
        "{debug}"
    );
}

/// More headers than the client parses (100) is refused the same way as a long head.
#[tokio::test]
async fn ds4_too_many_headers_are_refused() {
    if !support::in_own_process("limits::ds4_too_many_headers_are_refused") {
        return;
    }
    let _serial = SERIAL.lock().await;
    let mut reply = b"HTTP/1.1 200 OK\r\n".to_vec();
    for n in 0..150 {
        reply.extend_from_slice(format!("X-{n}: v\r\n").as_bytes());
    }
    reply.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
    let server = raw_server(Reply::Bytes(Arc::new(reply))).await;
    let err = connection(&server)
        .execute(&get(), Args::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::ResponseTooLarge {
                part: "headers",
                ..
            }
        ),
        "{err:?}"
    );
}
