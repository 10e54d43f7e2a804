//! The runtime's page stream and its resume points (`Connection::list_entity_pages`), which a
//! sync checkpoints: a listing stopped after any page and started again from that page's
//! `next` (in another stream, as another process would) reads every record exactly once.

use connector_gen::interpret;
use connector_gen::Options;
use connector_runtime::paginate::ListOptions;
use connector_runtime::{Connection, Credential};
use futures_util::StreamExt;
use serde_json::{json, Map, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_resumes_from_any_page() {
    let f = super::fixture().await;
    f.shop.seed(53);
    let base = std::fs::read_to_string(f.path("shop.toml")).unwrap();
    let url = base
        .lines()
        .find_map(|l| l.strip_prefix("base_url = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let descriptor = interpret::load_descriptor(
        &super::super::support::repo().join("specs/shop.yaml"),
        &Options::default(),
    )
    .unwrap();
    let connection = Connection::builder(&descriptor)
        .base_url(url)
        .allow_http_loopback(true)
        .credential("shop_key", Credential::api_key(super::apis::SHOP_KEY))
        .build()
        .unwrap();
    let options = || ListOptions {
        page_size: Some(10),
        ..ListOptions::default()
    };
    let scope: Map<String, Value> = json!({"shopId": "42"}).as_object().cloned().unwrap();
    for stop_after in 1..=6 {
        let mut seen = Vec::new();
        let mut pages = connection
            .list_entity_pages("shop_orders", scope.clone(), options())
            .unwrap();
        let mut resume = None;
        for _ in 0..stop_after {
            let page = pages.next().await.unwrap().unwrap();
            seen.extend(page.records.iter().map(|r| r["id"].as_i64().unwrap()));
            resume = page.next;
        }
        drop(pages);
        if let Some(resume) = resume {
            let mut rest = connection
                .list_entity_pages("shop_orders", resume, options())
                .unwrap();
            while let Some(page) = rest.next().await {
                seen.extend(
                    page.unwrap()
                        .records
                        .iter()
                        .map(|r| r["id"].as_i64().unwrap()),
                );
            }
        }
        seen.sort();
        assert_eq!(
            seen,
            (1..=53).collect::<Vec<_>>(),
            "stopped after {stop_after} pages"
        );
    }
}
