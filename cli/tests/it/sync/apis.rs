//! Two small APIs with real state, for the sync tests (specs/shop.yaml and specs/crm.yaml):
//! a shop whose orders list in the order they were changed (`updated_since`, keyset cursor
//! pages), and a CRM whose deals are created (with idempotency keys), changed, searched by
//! external id and deleted. Both check their credentials, and the CRM counts the writes in
//! flight at once.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

pub const SHOP_KEY: &str = "shop-secret-key";
pub const CRM_TOKEN: &str = "crm-secret-token";

/// Serves `router` on a free loopback port; the server lives as long as the runtime.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

// ---------------------------------------------------------------- shop

#[derive(Default)]
pub struct ShopState {
    /// Orders by id (each with its `updated_at`).
    pub orders: BTreeMap<i64, Value>,
    /// Order ids by listing position (`updated_at|id`): pages are ranges of it.
    by_cursor: BTreeMap<String, i64>,
    /// The change clock: every change gets the next millisecond.
    clock: u64,
    /// List requests served, and the `updated_since` of each.
    pub lists: Vec<Option<String>>,
}

#[derive(Clone, Default)]
pub struct Shop(pub Arc<Mutex<ShopState>>);

fn stamp(clock: u64) -> String {
    let (ms, s) = (clock % 1000, clock / 1000);
    format!(
        "2026-01-{:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        1 + s / 86_400,
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60
    )
}

impl Shop {
    /// Sets an order (new or changed), stamping it with the next change time.
    pub fn put(&self, id: i64, fields: Value) {
        let mut state = self.0.lock().unwrap();
        state.clock += 1;
        let at = stamp(state.clock);
        if let Some(old) = state.orders.get(&id).map(order_cursor) {
            state.by_cursor.remove(&old);
        }
        let order = state.orders.entry(id).or_insert_with(|| {
            json!({"id": id, "number": format!("SO-{id:05}"), "customer": {"name": format!("Customer {id}")},
                   "total_cents": 1000 + id, "currency": "EUR", "status": "open"})
        });
        if let (Value::Object(order), Value::Object(fields)) = (order, fields) {
            for (k, v) in fields {
                order.insert(k, v);
            }
            order.insert("updated_at".into(), Value::String(at));
        }
        let cursor = state.orders.get(&id).map(order_cursor).unwrap_or_default();
        state.by_cursor.insert(cursor, id);
    }

    /// `n` orders, ids 1..=n.
    pub fn seed(&self, n: i64) {
        for id in 1..=n {
            self.put(id, json!({}));
        }
    }

    pub fn remove(&self, id: i64) {
        let mut state = self.0.lock().unwrap();
        if let Some(order) = state.orders.remove(&id) {
            state.by_cursor.remove(&order_cursor(&order));
        }
    }

    pub fn order(&self, id: i64) -> Option<Value> {
        self.0.lock().unwrap().orders.get(&id).cloned()
    }

    pub fn ids(&self) -> Vec<i64> {
        self.0.lock().unwrap().orders.keys().copied().collect()
    }

    pub fn lists(&self) -> Vec<Option<String>> {
        self.0.lock().unwrap().lists.clone()
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/shops/{shop}/orders", get(shop_list).post(shop_create))
            .route(
                "/shops/{shop}/orders/{id}",
                get(shop_get).patch(shop_patch).delete(shop_delete),
            )
            .with_state(self.clone())
    }
}

/// `Some(refusal)` when the key is wrong.
fn shop_auth(headers: &HeaderMap) -> Option<Response> {
    (headers.get("x-shop-key").and_then(|v| v.to_str().ok()) != Some(SHOP_KEY))
        .then(|| (StatusCode::UNAUTHORIZED, Json(json!({"error": "bad key"}))).into_response())
}

fn order_cursor(order: &Value) -> String {
    format!(
        "{}|{:012}",
        order["updated_at"].as_str().unwrap_or_default(),
        order["id"].as_i64().unwrap_or_default()
    )
}

async fn shop_list(
    State(shop): State<Shop>,
    Path(_shop): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = shop_auth(&headers) {
        return r;
    }
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 500);
    let since = query.get("updated_since").cloned();
    let after = query.get("after").cloned();
    let mut state = shop.0.lock().unwrap();
    state.lists.push(since.clone());
    use std::ops::Bound;
    // Cursors start with `updated_at`: `updated_since` is a lower bound of the same order.
    let lower = match (&after, &since) {
        (Some(a), Some(s)) if a.as_str() >= s.as_str() => Bound::Excluded(a.clone()),
        (_, Some(s)) => Bound::Included(s.clone()),
        (Some(a), None) => Bound::Excluded(a.clone()),
        (None, None) => Bound::Unbounded,
    };
    let mut ids = state
        .by_cursor
        .range((lower, Bound::Unbounded))
        .map(|(_, id)| *id);
    let page: Vec<Value> = ids
        .by_ref()
        .take(limit)
        .filter_map(|id| state.orders.get(&id).cloned())
        .collect();
    let more = ids.next().is_some();
    let next = more.then(|| page.last().map(order_cursor)).flatten();
    Json(json!({"orders": page, "next_cursor": next})).into_response()
}

async fn shop_get(
    State(shop): State<Shop>,
    Path((_s, id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = shop_auth(&headers) {
        return r;
    }
    match shop.order(id) {
        Some(order) => Json(order).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such order"})),
        )
            .into_response(),
    }
}

async fn shop_create(
    State(shop): State<Shop>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = shop_auth(&headers) {
        return r;
    }
    let id = shop.ids().last().copied().unwrap_or(0) + 1;
    shop.put(id, body);
    (StatusCode::CREATED, Json(shop.order(id))).into_response()
}

async fn shop_patch(
    State(shop): State<Shop>,
    Path((_s, id)): Path<(String, i64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = shop_auth(&headers) {
        return r;
    }
    if shop.order(id).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    shop.put(id, body);
    Json(shop.order(id)).into_response()
}

async fn shop_delete(
    State(shop): State<Shop>,
    Path((_s, id)): Path<(String, i64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = shop_auth(&headers) {
        return r;
    }
    shop.remove(id);
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------- CRM

#[derive(Default)]
pub struct CrmState {
    pub deals: BTreeMap<String, Value>,
    /// Deal ids by external id (several when a sync made duplicates).
    by_external: HashMap<String, Vec<String>>,
    next: u64,
    idempotency: HashMap<String, String>,
    /// Requests by kind: create, update, delete, search.
    pub calls: BTreeMap<&'static str, u64>,
}

#[derive(Clone, Default)]
pub struct Crm {
    pub state: Arc<Mutex<CrmState>>,
    in_flight: Arc<AtomicUsize>,
    pub max_in_flight: Arc<AtomicUsize>,
    /// Each write waits this long (to make overlapping writers visible).
    pub write_delay: Arc<Mutex<Duration>>,
    /// The next this many creates are committed and their connection then dropped without an
    /// answer (an answer lost after the server committed).
    pub lose_answers: Arc<AtomicUsize>,
}

impl Crm {
    pub fn router(&self) -> Router {
        Router::new()
            .route("/deals", get(crm_list).post(crm_create))
            .route(
                "/deals/{id}",
                get(crm_get).patch(crm_patch).delete(crm_delete),
            )
            .with_state(self.clone())
    }

    pub fn deals(&self) -> Vec<Value> {
        self.state.lock().unwrap().deals.values().cloned().collect()
    }

    /// Deals by external id; fails the test when one external id has two deals.
    pub fn by_external_id(&self) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        for deal in self.deals() {
            let external = deal["externalId"].as_str().unwrap_or_default().to_owned();
            assert!(
                out.insert(external.clone(), deal).is_none(),
                "two deals for external id {external}"
            );
        }
        out
    }

    pub fn calls(&self, kind: &str) -> u64 {
        self.state
            .lock()
            .unwrap()
            .calls
            .get(kind)
            .copied()
            .unwrap_or(0)
    }

    fn count(&self, kind: &'static str) {
        *self.state.lock().unwrap().calls.entry(kind).or_default() += 1;
    }

    /// Enters a write: counts it in flight (and the most at once) and waits the write delay.
    /// The guard exists before the wait: when the writer hangs up, the server drops the handler
    /// mid-wait, and the guard is what stops counting it.
    async fn enter(&self) -> Writing {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let writing = Writing(Arc::clone(&self.in_flight));
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let delay = *self.write_delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        writing
    }
}

struct Writing(Arc<AtomicUsize>);

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `Some(refusal)` when the token is wrong.
fn crm_auth(headers: &HeaderMap) -> Option<Response> {
    let expected = format!("Bearer {CRM_TOKEN}");
    (headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str())).then(
        || {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "bad token"})),
            )
                .into_response()
        },
    )
}

/// The CRM's own rules: a title of 1 to 200 characters and an external id.
fn invalid(deal: &Map<String, Value>) -> Option<String> {
    match deal.get("title").and_then(Value::as_str) {
        None | Some("") => return Some("title is required".into()),
        Some(t) if t.chars().count() > 200 => return Some("title is too long".into()),
        _ => {}
    }
    if deal
        .get("externalId")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Some("externalId is required".into());
    }
    None
}

async fn crm_list(
    State(crm): State<Crm>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = crm_auth(&headers) {
        return r;
    }
    crm.count("search");
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let state = crm.state.lock().unwrap();
    let deals: Vec<&Value> = match query.get("externalId") {
        Some(external) => state
            .by_external
            .get(external)
            .into_iter()
            .flatten()
            .filter_map(|id| state.deals.get(id))
            .collect(),
        None => state
            .deals
            .iter()
            .filter(|(id, _)| query.get("cursor").is_none_or(|c| id.as_str() > c.as_str()))
            .map(|(_, d)| d)
            .collect(),
    };
    let page: Vec<Value> = deals.iter().take(limit).map(|d| (*d).clone()).collect();
    let next = (deals.len() > limit)
        .then(|| page.last().map(|d| d["id"].clone()))
        .flatten();
    Json(json!({"data": page, "next": next})).into_response()
}

async fn crm_get(State(crm): State<Crm>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = crm_auth(&headers) {
        return r;
    }
    match crm.state.lock().unwrap().deals.get(&id) {
        Some(deal) => Json(deal.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn crm_create(
    State(crm): State<Crm>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = crm_auth(&headers) {
        return r;
    }
    let _writing = crm.enter().await;
    crm.count("create");
    let Value::Object(mut deal) = body else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "not an object"})),
        )
            .into_response();
    };
    if let Some(problem) = invalid(&deal) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": problem})),
        )
            .into_response();
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut state = crm.state.lock().unwrap();
    if let Some(id) = key.as_ref().and_then(|k| state.idempotency.get(k)).cloned() {
        if let Some(existing) = state.deals.get(&id) {
            return (StatusCode::CREATED, Json(existing.clone())).into_response();
        }
    }
    state.next += 1;
    let id = format!("D{:07}", state.next);
    deal.insert("id".into(), Value::String(id.clone()));
    if let Some(external) = deal.get("externalId").and_then(Value::as_str) {
        state
            .by_external
            .entry(external.to_owned())
            .or_default()
            .push(id.clone());
    }
    let deal = Value::Object(deal);
    state.deals.insert(id.clone(), deal.clone());
    if let Some(key) = key {
        state.idempotency.insert(key, id);
    }
    drop(state);
    let lose = crm
        .lose_answers
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if lose {
        // The handler's task ends without an answer: hyper closes the connection.
        std::panic::resume_unwind(Box::new("answer lost on purpose"));
    }
    (StatusCode::CREATED, Json(deal)).into_response()
}

async fn crm_patch(
    State(crm): State<Crm>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = crm_auth(&headers) {
        return r;
    }
    let _writing = crm.enter().await;
    crm.count("update");
    let mut state = crm.state.lock().unwrap();
    let Some(Value::Object(deal)) = state.deals.get(&id).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut deal = deal;
    if let Value::Object(fields) = body {
        for (k, v) in fields {
            deal.insert(k, v);
        }
    }
    if let Some(problem) = invalid(&deal) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": problem})),
        )
            .into_response();
    }
    let old = state
        .deals
        .get(&id)
        .and_then(|d| d["externalId"].as_str())
        .map(str::to_owned);
    let new = deal
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if old != new {
        if let Some(ids) = old.and_then(|o| state.by_external.get_mut(&o)) {
            ids.retain(|i| *i != id);
        }
        if let Some(new) = new {
            state.by_external.entry(new).or_default().push(id.clone());
        }
    }
    state.deals.insert(id, Value::Object(deal.clone()));
    Json(Value::Object(deal)).into_response()
}

async fn crm_delete(
    State(crm): State<Crm>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = crm_auth(&headers) {
        return r;
    }
    let _writing = crm.enter().await;
    crm.count("delete");
    let mut state = crm.state.lock().unwrap();
    match state.deals.remove(&id) {
        Some(deal) => {
            if let Some(ids) = deal["externalId"]
                .as_str()
                .and_then(|e| state.by_external.get_mut(e))
            {
                ids.retain(|i| *i != id);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A writer killed mid-write hangs up; the server then drops the handler, and the write must
/// stop counting as in flight, or the next writer looks like a second one at once.
#[tokio::test]
async fn a_write_whose_writer_hangs_up_is_no_longer_in_flight() {
    use tokio::io::AsyncWriteExt;

    let crm = Crm::default();
    *crm.write_delay.lock().unwrap() = Duration::from_millis(300);
    let addr = serve(crm.router()).await;
    let body = r#"{"title":"t","externalId":"1"}"#;
    let request = format!(
        "POST /deals HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {CRM_TOKEN}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    while crm.in_flight.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the write never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(stream);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(crm.in_flight.load(Ordering::SeqCst), 0);
}
