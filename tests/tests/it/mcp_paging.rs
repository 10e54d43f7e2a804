//! List tools over APIs that page (RELIABILITY MC-2): offset, cursor and page-number styles
//! (`specs/entities.yaml`), against an API that serves 30 records four at a time. A list call
//! asks for 7: the answers span API pages and end inside them, and the cursor continues exactly
//! there, with no record skipped or repeated.

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::cli::connector_gen;
use crate::support::mcp::{is_error, Session};

const RECORDS: u64 = 30;
/// The API's own largest page, whatever it is asked for.
const API_PAGE: u64 = 4;

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn number(request: &Request, name: &str, default: u64) -> u64 {
    query(request, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn records(from: u64, size: u64) -> Vec<Value> {
    (from..(from + size).min(RECORDS))
        .map(|i| json!({"id": i}))
        .collect()
}

/// `GET /owners?offset&limit` → `{"data": [...]}`.
struct Offset;
impl Respond for Offset {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let size = number(request, "limit", API_PAGE).min(API_PAGE);
        let offset = number(request, "offset", 0);
        ResponseTemplate::new(200)
            .set_body_json(json!({"data": records(offset, size), "total": RECORDS}))
    }
}

/// `GET /owners/o1/pets?cursor&limit` → `{"items": [...], "meta": {"next_cursor"}}`.
struct Cursor;
impl Respond for Cursor {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let size = number(request, "limit", API_PAGE).min(API_PAGE);
        let from = query(request, "cursor")
            .and_then(|c| c.strip_prefix("after-").and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        let mut body = json!({"items": records(from, size), "meta": {}});
        if from + size < RECORDS {
            body["meta"]["next_cursor"] = json!(format!("after-{}", from + size));
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// `GET /toys?page&per_page` → `[...]`, pages from 1.
struct Page;
impl Respond for Page {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let size = number(request, "per_page", API_PAGE).min(API_PAGE);
        let page = number(request, "page", 1).max(1);
        ResponseTemplate::new(200).set_body_json(records((page - 1) * size, size))
    }
}

async fn api() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/owners"))
        .respond_with(Offset)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/owners/o1/pets"))
        .respond_with(Cursor)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/toys"))
        .respond_with(Page)
        .mount(&server)
        .await;
    server
}

/// Reads the whole listing of `tool` seven records at a time; returns the records and calls.
async fn read_all(session: &Session, tool: &str, filters: Value) -> (Vec<Value>, usize) {
    let mut all = Vec::new();
    let mut calls = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut arguments = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => filters.clone(),
        };
        arguments["limit"] = json!(7);
        let result = session.call(tool, arguments).await.unwrap();
        assert!(!is_error(&result), "{tool}: {result}");
        let answer = &result["structuredContent"];
        let page = answer["records"].as_array().unwrap();
        assert!(page.len() <= 7, "{tool}: {answer}");
        all.extend(page.iter().cloned());
        calls += 1;
        assert!(calls <= 10, "{tool} never ends");
        match answer["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (all, calls),
        }
    }
}

#[tokio::test]
async fn cursors_continue_exactly_where_the_last_answer_stopped() {
    let api = api().await;
    let args: Vec<String> = ["mcp", "specs/entities.yaml", "--base-url", &api.uri()]
        .map(str::to_owned)
        .to_vec();
    let session = Session::stdio(&connector_gen(), &args).await;
    let expected: Vec<Value> = (0..RECORDS).map(|i| json!({"id": i})).collect();
    for (tool, filters) in [
        ("owners_list", json!({})),
        ("owner_pets_list", json!({"ownerId": "o1"})),
        ("toys_list", json!({})),
    ] {
        let (all, calls) = read_all(&session, tool, filters).await;
        assert_eq!(all, expected, "{tool}: every record once, in order");
        assert!(calls >= 5, "{tool}: 30 records, 7 a call: {calls} calls");
    }
    // A cursor continues its own listing only: another filter with it is refused.
    let first = session
        .call("owner_pets_list", json!({"ownerId": "o1", "limit": 1}))
        .await
        .unwrap();
    let cursor = first["structuredContent"]["next_cursor"].clone();
    let mixed = session
        .call(
            "owner_pets_list",
            json!({"ownerId": "o2", "cursor": cursor}),
        )
        .await
        .unwrap();
    assert!(is_error(&mixed), "{mixed}");
    let other_tool = session
        .call("owners_list", json!({"cursor": cursor}))
        .await
        .unwrap();
    assert!(is_error(&other_tool), "{other_tool}");
    session.stop().await;
}
