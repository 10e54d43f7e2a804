//! What reaches the server for given arguments (RQ-1, RQ-2, RQ-3).

use std::borrow::Cow;

use crate::support::*;
use connector_runtime::descriptor::{
    BodyDescriptor, Method, OperationDescriptor, ParamLocation, ResponseDescriptor, StatusMatch,
};
use connector_runtime::{Args, Error};
use percent_encoding::percent_decode_str;
use serde_json::json;

fn profile_op() -> OperationDescriptor {
    with_params(
        op("getProfile", Method::Get, "/users/{id}/profile"),
        vec![param("id", ParamLocation::Path)],
    )
}

fn path_args(id: &str) -> Args {
    let mut args = Args::new();
    args.path("id", id).unwrap();
    args
}

#[tokio::test]
async fn path_values_are_one_encoded_segment() {
    let server = server().await;
    let op = profile_op();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let cases = [
        ("../admin?x=1#f", "..%2Fadmin%3Fx%3D1%23f"),
        ("a b/ü%", "a%20b%2F%C3%BC%25"),
        ("%2e%2e", "%252e%252e"),
        (".%2E", ".%252E"),
        ("...", "..."),
        ("42", "42"),
    ];
    for (value, _) in cases {
        conn.execute(&op, path_args(value)).await.unwrap();
    }

    let received = requests(&server).await;
    assert_eq!(received.len(), cases.len());
    for (request, (value, encoded)) in received.iter().zip(cases) {
        assert_eq!(request.method.as_str(), "GET");
        assert_eq!(request.url.path(), format!("/users/{encoded}/profile"));
        assert_eq!(request.url.query(), None, "{value:?} leaked into the query");
        let segments: Vec<&str> = request.url.path().split('/').collect();
        assert_eq!(segments.len(), 4, "{value:?} changed the segment count");
        assert_eq!(
            percent_decode_str(segments[2]).decode_utf8().unwrap(),
            value
        );
    }
}

#[tokio::test]
async fn empty_and_dot_path_values_are_rejected_before_sending() {
    let server = server().await;
    let op = profile_op();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    for value in ["", ".", ".."] {
        let err = conn.execute(&op, path_args(value)).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidParameter { name, .. } if name == "id"),
            "{value:?}: {err:?}"
        );
    }
    assert!(requests(&server).await.is_empty());
}

fn search_op() -> OperationDescriptor {
    with_params(
        op("search", Method::Get, "/search"),
        vec![
            param("q", ParamLocation::Query),
            param("tags", ParamLocation::Query),
            param("filter", ParamLocation::Query),
            param("limit", ParamLocation::Query),
            param("cursor", ParamLocation::Query),
        ],
    )
}

#[tokio::test]
async fn query_values_cannot_add_parameters() {
    let server = server().await;
    let op = search_op();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let mut args = Args::new();
    args.query("q", "a&admin=true").unwrap();
    conn.execute(&op, args).await.unwrap();

    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/search");
    assert_eq!(
        query(&request),
        [("q".to_owned(), "a&admin=true".to_owned())]
    );
}

#[tokio::test]
async fn query_arrays_and_objects_explode_and_none_is_skipped() {
    let server = server().await;
    let op = search_op();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let mut args = Args::new();
    args.query("tags", &["a b", "c"]).unwrap();
    // Keys in sorted order, so the test holds with and without serde_json's `preserve_order`.
    args.query("filter", &json!({"age": 3, "kind": "dog"}))
        .unwrap();
    args.query("limit", &Some(10)).unwrap();
    args.query("cursor", &None::<String>).unwrap();
    conn.execute(&op, args).await.unwrap();

    let request = only_request(&server).await;
    let pairs: Vec<(String, String)> = ["tags=a b", "tags=c", "age=3", "kind=dog", "limit=10"]
        .iter()
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    assert_eq!(query(&request), pairs);
    assert_eq!(
        request.url.query(),
        Some("tags=a%20b&tags=c&age=3&kind=dog&limit=10")
    );
}

fn header_op() -> OperationDescriptor {
    with_params(
        op("withHeaders", Method::Get, "/h"),
        vec![
            param("X-Trace", ParamLocation::Header),
            param("session", ParamLocation::Cookie),
            param("theme", ParamLocation::Cookie),
        ],
    )
}

#[tokio::test]
async fn header_injection_is_rejected_before_sending() {
    let server = server().await;
    let op = header_op();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    for value in ["v\r\nX-Injected: 1", "v\nx", "v\0"] {
        let mut args = Args::new();
        args.header("X-Trace", value).unwrap();
        let err = conn.execute(&op, args).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidHeaderValue { name } if name == "X-Trace"),
            "{value:?}: {err:?}"
        );
    }
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn headers_and_cookies_are_sent() {
    let server = server().await;
    let op = header_op();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let mut args = Args::new();
    args.header("X-Trace", &["a", "b"]).unwrap();
    args.cookie("session", "abc;def").unwrap();
    args.cookie("theme", "dark").unwrap();
    conn.execute(&op, args).await.unwrap();

    let request = only_request(&server).await;
    assert_eq!(header(&request, "x-trace"), Some("a,b"));
    assert_eq!(
        header(&request, "cookie"),
        Some("session=abc%3Bdef; theme=dark")
    );
    assert_eq!(header(&request, "accept"), Some("application/json"));
    let agent = header(&request, "user-agent").unwrap();
    assert!(agent.starts_with("connector-runtime/"), "{agent}");
}

#[tokio::test]
async fn missing_and_undeclared_parameters_are_rejected_before_sending() {
    let server = server().await;
    let op = with_params(
        op("list", Method::Get, "/items/{id}"),
        vec![
            param("id", ParamLocation::Path),
            required(param("page", ParamLocation::Query)),
        ],
    );
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);

    let mut args = Args::new();
    args.path("id", "1").unwrap();
    let err = conn.execute(&op, args.clone()).await.unwrap_err();
    assert!(
        matches!(&err, Error::MissingParameter { operation, name, location: "query" }
            if operation == "list" && name == "page"),
        "{err:?}"
    );

    let mut no_path = Args::new();
    no_path.query("page", &1).unwrap();
    let err = conn.execute(&op, no_path).await.unwrap_err();
    assert!(
        matches!(&err, Error::MissingParameter { name, location: "path", .. } if name == "id"),
        "{err:?}"
    );

    args.query("page", &1).unwrap().query("pgae", &2).unwrap();
    let err = conn.execute(&op, args).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidParameter { name, .. } if name == "pgae"),
        "{err:?}"
    );
    assert!(requests(&server).await.is_empty());
}

fn create_op(media_types: &[&str], required: bool) -> OperationDescriptor {
    OperationDescriptor {
        body: Some(BodyDescriptor {
            media_types: media_types.iter().map(|m| text(m)).collect(),
            required,
            encoding: Cow::Owned(Vec::new()),
        }),
        responses: Cow::Owned(vec![
            ResponseDescriptor {
                status: StatusMatch::Code(201),
                media_type: Some(text("application/hal+json")),
            },
            ResponseDescriptor {
                status: StatusMatch::Default,
                media_type: Some(text("application/problem+json")),
            },
        ]),
        ..op("create", Method::Post, "/items")
    }
}

#[tokio::test]
async fn json_body_uses_the_declared_json_media_type() {
    let server = server().await;
    let declared = create_op(&["application/xml", "application/vnd.api+json"], true);
    let undeclared = OperationDescriptor {
        id: text("createXml"),
        ..create_op(&["application/xml"], true)
    };
    let conn = connect(
        &server,
        &connector(vec![declared.clone(), undeclared.clone()], vec![]),
        vec![],
    );
    let mut args = Args::new();
    args.json_body(&json!({"name": "Rex", "tags": ["a"]}))
        .unwrap();
    conn.execute(&declared, args.clone()).await.unwrap();
    // A structured value has no XML form: refused before sending rather than mislabelled.
    let err = conn.execute(&undeclared, args).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidParameter { name, .. } if name == "body"),
        "{err:?}"
    );

    let received = requests(&server).await;
    let content_types: Vec<_> = received
        .iter()
        .map(|r| header(r, "content-type").unwrap())
        .collect();
    assert_eq!(content_types, ["application/vnd.api+json"]);
    for request in &received {
        assert_eq!(request.method.as_str(), "POST");
        // The success type first; the error body's type after it, at a lower weight.
        assert_eq!(
            header(request, "accept"),
            Some("application/hal+json, application/problem+json;q=0.5")
        );
        let body: serde_json::Value = request.body_json().unwrap();
        assert_eq!(body, json!({"name": "Rex", "tags": ["a"]}));
    }
}

#[tokio::test]
async fn required_body_must_be_given_and_undeclared_body_is_rejected() {
    let server = server().await;
    let create = create_op(&["application/json"], true);
    let get = op("get", Method::Get, "/items");
    let conn = connect(
        &server,
        &connector(vec![create.clone(), get.clone()], vec![]),
        vec![],
    );

    let err = conn.execute(&create, Args::new()).await.unwrap_err();
    assert!(
        matches!(&err, Error::MissingParameter { name, location: "body", .. } if name == "body"),
        "{err:?}"
    );
    let mut args = Args::new();
    args.body_value(json!({}));
    let err = conn.execute(&get, args).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidParameter { name, .. } if name == "body"),
        "{err:?}"
    );
    assert!(requests(&server).await.is_empty());
}
