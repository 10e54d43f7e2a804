//! Property tests of RQ-1: whatever a caller passes, a path parameter stays one segment and a
//! query value stays one value, and the server decodes exactly what was passed.
//!
//! Each case is a real request to a loopback server; the server keeps only the last request
//! target, so 1,000 cases stay fast.

use std::sync::{Arc, Mutex};

use crate::support::*;
use connector_runtime::descriptor::{Method, ParamLocation};
use connector_runtime::{Args, Connection};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use wiremock::matchers::any as any_request;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The path and query of a request target.
type Target = (String, Option<String>);

/// A server that remembers the path and query of the last request it received.
struct Recorder {
    runtime: tokio::runtime::Runtime,
    connection: Connection,
    op: connector_runtime::descriptor::OperationDescriptor,
    last: Arc<Mutex<Option<Target>>>,
    _server: MockServer,
}

impl Recorder {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let last = Arc::new(Mutex::new(None));
        let seen = last.clone();
        let server = runtime.block_on(async {
            let server = MockServer::builder()
                .disable_request_recording()
                .start()
                .await;
            Mock::given(any_request())
                .respond_with(move |request: &Request| {
                    let target = (
                        request.url.path().to_owned(),
                        request.url.query().map(str::to_owned),
                    );
                    *seen.lock().expect("lock") = Some(target);
                    ResponseTemplate::new(204)
                })
                .mount(&server)
                .await;
            server
        });
        let op = with_params(
            op("getProfile", Method::Get, "/users/{id}/profile"),
            vec![
                param("id", ParamLocation::Path),
                param("q", ParamLocation::Query),
            ],
        );
        let connection = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
        Self {
            runtime,
            connection,
            op,
            last,
            _server: server,
        }
    }

    /// Sends one request and returns the path and query the server saw.
    fn send(&self, id: &str, q: &str) -> Target {
        let mut args = Args::new();
        args.path("id", id).expect("path");
        args.query("q", q).expect("query");
        self.runtime
            .block_on(self.connection.execute(&self.op, args))
            .expect("request");
        self.last.lock().expect("lock").take().expect("a request")
    }
}

/// Decodes `name=value` as a form-parsing server does (`+` is a space, then percent-decoding).
fn form_decode_pair(pair: &str) -> (String, String) {
    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .expect("UTF-8")
            .into_owned()
    };
    (decode(name), decode(value))
}

/// Any Unicode text, half the time drawn from the characters that delimit URLs, dot segments
/// and percent-escapes, which uniform Unicode would rarely hit.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[./%?#&=+;,:@\\[\\] 2eE\u{fc}\r\n]{0,12}"]
}

fn cases() -> u32 {
    // RELIABILITY.md asks for at least 1,000 cases in CI; PROPTEST_CASES can raise it.
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
        .max(1000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn path_value_is_one_segment_and_query_value_is_one_value(
        id in text().prop_filter("dot and empty segments are refused (RQ-2)", |s| !matches!(s.as_str(), "" | "." | "..")),
        q in text(),
    ) {
        thread_local!(static RECORDER: Recorder = Recorder::new());
        let (path, query) = RECORDER.with(|r| r.send(&id, &q));
        let segments: Vec<&str> = path.split('/').collect();
        // Leading empty segment, `users`, the value, `profile`.
        prop_assert_eq!(segments.len(), 4, "path {}", path);
        prop_assert_eq!(segments[1], "users");
        prop_assert_eq!(segments[3], "profile");
        let decoded = percent_decode_str(segments[2]).decode_utf8().expect("UTF-8");
        prop_assert_eq!(decoded.as_ref(), id.as_str());

        let query = query.unwrap_or_default();
        let pairs: Vec<(String, String)> = query.split('&').map(form_decode_pair).collect();
        prop_assert_eq!(pairs, vec![("q".to_owned(), q.clone())]);
    }
}
