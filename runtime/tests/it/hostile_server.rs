//! Property test (issue 8): a loopback server answers with random bytes, huge, negative and
//! garbage numbers (status codes, `Content-Length`, `Retry-After`, `expires_in`), odd headers,
//! truncated bodies and invalid UTF-8; the typed call, the JSON call and the OAuth token source
//! return errors or values, never panic, and every error prints in bounded space.
//!
//! Each case is a real exchange over loopback; the server writes its reply and closes, so a
//! case takes milliseconds and the suite well under a minute.

use std::sync::Arc;
use std::time::Duration;

use crate::support::raw::{raw_server, RawServer, Reply};
use crate::support::*;
use connector_runtime::descriptor::Method;
use connector_runtime::{Args, Connection, Credential, Error, OAuth2Credential, RetryPolicy};
use proptest::prelude::*;

/// Numbers a hostile server likes: beyond every integer type, negative, fractional, garbage.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("18446744073709551615".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("99999999999999999999999999999999".to_owned()),
        Just("-1".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("1e308".to_owned()),
        Just("1.5".to_owned()),
        Just("NaN".to_owned()),
        Just(" 12 ".to_owned()),
        Just("0x10".to_owned()),
        Just(String::new()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[ -~]{0,24}",
    ]
}

fn status_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Mostly a success, so that bodies and token responses get parsed.
        6 => Just(b"HTTP/1.1 200 OK\r\n".to_vec()),
        4 => prop_oneof![
            Just(201u32), Just(204), Just(301), Just(302), Just(307), Just(401), Just(429),
            Just(500), Just(503), Just(100), Just(101), Just(0), Just(99), Just(600), Just(999),
            Just(1000), Just(65_536), Just(u32::MAX)
        ]
        .prop_map(|code| format!("HTTP/1.1 {code} Whatever\r\n").into_bytes()),
        1 => number().prop_map(|code| format!("HTTP/1.1 {code} X\r\n").into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

fn header() -> impl Strategy<Value = Vec<u8>> {
    let named = |name: &'static str| number().prop_map(move |v| format!("{name}: {v}\r\n"));
    prop_oneof![
        named("Content-Length"),
        named("Retry-After"),
        named("X-RateLimit-Reset"),
        Just("Transfer-Encoding: chunked\r\n".to_owned()),
        Just("Transfer-Encoding: gzip, chunked\r\n".to_owned()),
        Just("Content-Encoding: gzip\r\n".to_owned()),
        Just("Content-Type: application/json\r\n".to_owned()),
        Just("Content-Type: text/html; charset=utf-8\r\n".to_owned()),
        "Content-Type: [ -~]{0,300}\r\n",
        "Location: [ -~]{0,60}\r\n",
        Just("Location: /again\r\n".to_owned()),
        Just("Location: http://127.0.0.1:1/elsewhere\r\n".to_owned()),
        Just("Connection: close\r\n".to_owned()),
        "[A-Za-z-]{1,20}: [ -~]{0,80}\r\n",
    ]
    .prop_map(String::into_bytes)
    .boxed()
    .prop_union(proptest::collection::vec(any::<u8>(), 0..60).boxed())
}

/// Bodies: random bytes, invalid UTF-8, JSON with hostile numbers, token responses.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..2048),
        1 => Just(b"\xff\xfe\xc3\x28{\"a\":1}".to_vec()),
        1 => number()
            .prop_map(|n| format!("{{\"id\": {n}, \"error\": {{\"code\": {n}}}}}").into_bytes()),
        4 => number().prop_map(|n| {
            format!("{{\"access_token\":\"tok\",\"token_type\":\"bearer\",\"expires_in\":{n}}}")
                .into_bytes()
        }),
        2 => number().prop_map(|n| {
            format!("{{\"access_token\":\"tok\",\"expires_in\":\"{n}\",\"refresh_token\":{n}}}")
                .into_bytes()
        }),
        1 => Just(b"{\"access_token\":\"a\\r\\nInjected: 1\"}".to_vec()),
        1 => Just(b"5\r\nabc".to_vec()),
        1 => Just(b"fffffffffffffffffff\r\nabc\r\n".to_vec()),
        1 => "[ -~]{0,200}".prop_map(String::into_bytes),
    ]
}

/// A whole reply: sometimes pure noise, mostly a mangled HTTP response, sometimes cut short.
fn reply() -> impl Strategy<Value = Vec<u8>> {
    let structured = (
        status_line(),
        proptest::collection::vec(header(), 0..6),
        body(),
        proptest::bool::weighted(0.25),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(status, headers, body, truncate, cut)| {
            let mut reply = status;
            for header in headers {
                reply.extend_from_slice(&header);
            }
            reply.extend_from_slice(b"\r\n");
            reply.extend_from_slice(&body);
            if truncate && !reply.is_empty() {
                reply.truncate(cut.index(reply.len()));
            }
            reply
        });
    prop_oneof![
        8 => structured,
        1 => proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

fn get() -> connector_runtime::descriptor::OperationDescriptor {
    op("fetch", Method::Get, "/fetch")
}

fn secured() -> connector_runtime::descriptor::OperationDescriptor {
    with_security(op("secured", Method::Get, "/secured"), &[&["oauth"]])
}

fn connections(server: &RawServer) -> (Connection, Connection) {
    let plain = Connection::builder(&connector(vec![get()], vec![]))
        .base_url(server.uri())
        .timeout(Duration::from_secs(5))
        // Hostile Retry-After values are tested in the retry tests; here one reply is one case.
        .retries(RetryPolicy::none())
        .auth_failure_body("error.code", ["1", "expired"])
        .build()
        .expect("plain connection");
    let oauth = connector(
        vec![secured()],
        vec![scheme("oauth", oauth2(&format!("{}/token", server.uri())))],
    );
    let oauth = Connection::builder(&oauth)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .timeout(Duration::from_secs(5))
        .retries(RetryPolicy::none())
        .token_timeout(Duration::from_secs(5))
        .credential(
            "oauth",
            Credential::oauth2(OAuth2Credential::client_credentials("id", CANARY)),
        )
        .build()
        .expect("oauth connection");
    (plain, oauth)
}

/// An error must print in bounded space, whatever the server sent.
fn check_error(err: &Error) -> Result<(), TestCaseError> {
    let (display, debug) = (err.to_string(), format!("{err:?}"));
    prop_assert!(
        display.len() < 4 * 1024,
        "Display is {} bytes",
        display.len()
    );
    prop_assert!(debug.len() < 32 * 1024, "Debug is {} bytes", debug.len());
    prop_assert!(!display.contains(CANARY) && !debug.contains(CANARY));
    Ok(())
}

/// Runs `call` in its own task so that a panic is reported as the failure it is; whether the
/// call succeeded.
async fn no_panic<T: Send + 'static>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
) -> Result<bool, TestCaseError> {
    match tokio::spawn(call).await {
        Ok(Ok(_)) => Ok(true),
        Ok(Err(err)) => check_error(&err).map(|()| false),
        Err(join) => Err(TestCaseError::fail(format!("{what} panicked: {join}"))),
    }
}

/// Runs the three calls against a server sending `reply`; how many succeeded.
fn exchange(reply: Vec<u8>) -> Result<usize, TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let server = raw_server(Reply::Bytes(Arc::new(reply))).await;
        let (plain, oauth) = connections(&server);
        let typed = plain.clone();
        let outcomes = [
            no_panic("typed execute", async move {
                let response = typed.execute(&get(), Args::new()).await?;
                let _ = response.text();
                response.json::<serde_json::Value>()
            })
            .await?,
            no_panic("execute_json", async move {
                plain.execute_json("fetch", serde_json::Value::Null).await
            })
            .await?,
            no_panic("token source", async move {
                oauth.execute(&secured(), Args::new()).await
            })
            .await?,
        ];
        Ok(outcomes.into_iter().filter(|ok| *ok).count())
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_server_replies_give_errors_not_panics(reply in reply()) {
        exchange(reply)?;
    }
}

/// The shapes the generator only reaches by chance, each once.
#[test]
fn known_hostile_replies_give_errors_not_panics() {
    let token = |n: &str| {
        let body =
            format!("{{\"access_token\":\"tok\",\"token_type\":\"bearer\",\"expires_in\":{n}}}");
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let cases = [
        token("18446744073709551615"),
        token("18446744073709551616"),
        token("-1"),
        token("1e308"),
        "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc".to_owned(),
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc".to_owned(),
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Length: 3\r\n\r\nabc".to_owned(),
        "HTTP/1.1 503 Busy\r\nRetry-After: 18446744073709551616\r\nContent-Length: 0\r\n\r\n"
            .to_owned(),
        "HTTP/1.1 429 Slow\r\nRetry-After: -5\r\nContent-Length: 0\r\n\r\n".to_owned(),
        "HTTP/1.1 99999 Odd\r\nContent-Length: 0\r\n\r\n".to_owned(),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc"
            .to_owned(),
        "HTTP/1.1 307 Again\r\nLocation: /fetch\r\nContent-Length: 0\r\n\r\n".to_owned(),
    ];
    let mut cases: Vec<Vec<u8>> = cases.into_iter().map(String::into_bytes).collect();
    cases.push(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n\xff\xfe\xfd\xfc"
            .to_vec(),
    );
    // The harness reaches the runtime: a token response that is also a JSON body satisfies
    // all three calls, the token source included, despite its absurd lifetime.
    assert_eq!(exchange(cases[0].clone()).map_err(|e| e.to_string()), Ok(3));
    for reply in cases {
        let shown = String::from_utf8_lossy(&reply).into_owned();
        exchange(reply).unwrap_or_else(|e| panic!("{shown:?}: {e}"));
    }
}
