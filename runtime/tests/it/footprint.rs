//! What every call pays before it sends anything (issue 13, runtime overhead).
//!
//! A call's future is moved several times before its first poll (into the tracing span, into
//! the caller's own future), so its size is paid in copies on every call: the paths most calls
//! never take (token requests, renewals, redirects, rate limits, shared state, retries, error
//! bodies) are boxed so that they stay out of it.

use crate::support::*;
use connector_runtime::descriptor::{ApiKeyLocation, Method, ParamLocation};
use connector_runtime::{Args, Connection, Credential};

/// Generous for a debug build (optimised builds are smaller still); before the rare paths were
/// boxed, a typed call's future took 23 KiB here (10 KiB optimised).
const MOST_BYTES: usize = 6 * 1024;

#[test]
fn call_futures_stay_small() {
    let get = with_security(
        with_params(
            op("getPet", Method::Get, "/pets/{petId}"),
            vec![required(param("petId", ParamLocation::Path))],
        ),
        &[&["api_key"]],
    );
    let connector = connector(
        vec![get.clone()],
        vec![scheme(
            "api_key",
            api_key(ApiKeyLocation::Header, "X-API-Key"),
        )],
    );
    let connection = Connection::builder(&connector)
        .base_url("https://api.example.com")
        .credential("api_key", Credential::api_key("key"))
        .build()
        .unwrap();
    let typed = std::mem::size_of_val(&connection.execute(&get, Args::new()));
    let dynamic =
        std::mem::size_of_val(&connection.execute_json("getPet", serde_json::json!({"petId": 1})));
    assert!(
        typed <= MOST_BYTES,
        "a typed call's future takes {typed} bytes"
    );
    assert!(
        dynamic <= MOST_BYTES,
        "a dynamic call's future takes {dynamic} bytes"
    );
}

/// Actions called by name are found through an index: the first operation with the id wins,
/// as a scan of the list finds it, and an unknown name is still reported with a hint.
#[tokio::test]
async fn actions_are_found_by_name_as_a_scan_finds_them() {
    let server = server().await;
    let connector = connector(
        vec![
            op("listPets", Method::Get, "/pets"),
            op("getPet", Method::Get, "/first"),
            op("getPet", Method::Get, "/second"),
        ],
        Vec::new(),
    );
    let connection = builder(&server, &connector).build().unwrap();
    for _ in 0..2 {
        connection
            .execute_json("getPet", serde_json::Value::Null)
            .await
            .unwrap();
    }
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(paths, ["/first", "/first"]);
    let err = connection
        .execute_json("getPets", serde_json::Value::Null)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, connector_runtime::Error::UnknownAction { name, hint } if name == "getPets" && hint.contains("getPet")),
        "{err:?}"
    );
}
