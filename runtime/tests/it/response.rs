//! Statuses, bodies, timeouts and the dynamic interface.

use std::time::Duration;

use crate::support::*;
use connector_runtime::descriptor::{BodyDescriptor, Method, OperationDescriptor, ParamLocation};
use connector_runtime::{Args, Error, RetryPolicy};
use serde_json::json;
use wiremock::ResponseTemplate;

fn get() -> OperationDescriptor {
    op("getThing", Method::Get, "/thing")
}

#[tokio::test]
async fn non_2xx_is_a_status_error_with_a_body_snippet() {
    let long = format!("{{\"error\":\"nope\",\"pad\":\"{}\"}}", "x".repeat(5_000));
    let server = server_with(ResponseTemplate::new(503).set_body_string(long.clone())).await;
    let op = get();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let retried = conn.execute(&op, Args::new()).await.unwrap_err();
    // A GET answered 503 is retried (3 attempts by default); the last answer is kept.
    assert_eq!(retried.attempts(), 3);
    assert_eq!(retried.status(), Some(503));
    assert_eq!(retried.body(), Some(long.as_bytes()));
    assert!(retried.is_retryable());
    assert_eq!(
        retried.to_string(),
        "operation `getThing` failed after 3 attempts; the last answered HTTP status 503"
    );
    let err = retried.last().expect("the last failure");
    match err {
        Error::Status {
            operation, body, ..
        } => {
            assert_eq!(operation, "getThing");
            // Short enough to keep whole, so a declared error body can be decoded.
            assert_eq!(body.as_ref(), long.as_bytes());
        }
        other => panic!("unexpected {other:?}"),
    }
    let shown = err.to_string();
    assert!(
        shown.starts_with("operation `getThing` failed with HTTP status 503: {\"error\":\"nope\""),
        "{shown}"
    );
    // The message shows a bounded start of the body, not all that is kept in the error.
    assert!(shown.len() < 300 && shown.ends_with("..."), "{shown}");
}

#[tokio::test]
async fn error_bodies_are_bounded() {
    let huge = vec![b'a'; 200 * 1024];
    let server = server_with(ResponseTemplate::new(500).set_body_bytes(huge)).await;
    let op = get();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    assert_eq!(err.body().map(<[u8]>::len), Some(8 * 1024));
    assert!(err.body_json::<serde_json::Value>().is_none());
}

#[tokio::test]
async fn unauthorized_is_an_auth_error() {
    let server = server_with(ResponseTemplate::new(401)).await;
    let op = get();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    assert!(err.is_auth() && !err.is_retryable());
}

#[tokio::test]
async fn json_decodes_and_reports_decode_errors() {
    // Labelled JSON, so the failure is a plain decode error.
    let server = server_with(
        ResponseTemplate::new(200).set_body_raw("<html>oops</html>", "application/json"),
    )
    .await;
    let op = get();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let response = conn.execute(&op, Args::new()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().unwrap(), "<html>oops</html>");
    let err = response.json::<serde_json::Value>().unwrap_err();
    match &err {
        Error::Decode {
            operation,
            status,
            snippet,
            ..
        } => {
            assert_eq!((operation.as_str(), *status), ("getThing", 200));
            assert_eq!(snippet, "<html>oops</html>");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn empty_204_decodes_as_unit() {
    let server = server_with(ResponseTemplate::new(204)).await;
    let op = op("delete", Method::Delete, "/thing");
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let response = conn.execute(&op, Args::new()).await.unwrap();
    assert_eq!(response.status(), 204);
    response.json::<()>().unwrap();
    response.into_unit().unwrap();
    assert_eq!(only_request(&server).await.method.as_str(), "DELETE");
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let body = vec![b'a'; 10 * 1024 * 1024 + 1];
    let server = server_with(ResponseTemplate::new(200).set_body_bytes(body)).await;
    let op = get();
    let conn = connect(&server, &connector(vec![op.clone()], vec![]), vec![]);
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit, .. } if limit == 10 * 1024 * 1024),
        "{err:?}"
    );
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = server_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2))).await;
    let op = get();
    let connector = connector(vec![op.clone()], vec![]);
    let conn = builder(&server, &connector)
        .timeout(Duration::from_millis(100))
        .retries(RetryPolicy::none())
        .build()
        .unwrap();
    let err = conn.execute(&op, Args::new()).await.unwrap_err();
    assert!(
        matches!(&err, Error::AttemptTimeout { operation, timeout } if operation == "getThing" && timeout.as_millis() == 100),
        "{err:?}"
    );
    assert!(err.is_timeout() && err.is_retryable());
}

fn update_op() -> OperationDescriptor {
    OperationDescriptor {
        body: Some(BodyDescriptor {
            media_types: vec![text("application/json")].into(),
            required: false,
            encoding: Vec::new().into(),
        }),
        ..with_params(
            op("updatePet", Method::Patch, "/pets/{petId}"),
            vec![
                param("petId", ParamLocation::Path),
                param("dryRun", ParamLocation::Query),
                param("X-Request-Id", ParamLocation::Header),
            ],
        )
    }
}

#[tokio::test]
async fn execute_json_end_to_end() {
    let server =
        server_with(ResponseTemplate::new(200).set_body_json(json!({"id": 7, "name": "Rex"})))
            .await;
    let connector = connector(vec![update_op()], vec![]);
    let conn = builder(&server, &connector).build().unwrap();
    let output = conn
        .execute_json(
            "updatePet",
            json!({"petId": 7, "dryRun": true, "X-Request-Id": "r1", "body": {"name": "Rex"}}),
        )
        .await
        .unwrap();
    assert_eq!(output, json!({"id": 7, "name": "Rex"}));

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "PATCH");
    assert_eq!(request.url.path(), "/pets/7");
    assert_eq!(query(&request), [("dryRun".to_owned(), "true".to_owned())]);
    assert_eq!(header(&request, "x-request-id"), Some("r1"));
    assert_eq!(
        request.body_json::<serde_json::Value>().unwrap(),
        json!({"name": "Rex"})
    );
}

#[tokio::test]
async fn execute_json_turns_empty_and_text_bodies_into_json() {
    let connector = connector(vec![update_op()], vec![]);
    let input = json!({"petId": 1});

    let empty = server_with(ResponseTemplate::new(204)).await;
    let conn = builder(&empty, &connector).build().unwrap();
    assert_eq!(
        conn.execute_json("updatePet", input.clone()).await.unwrap(),
        json!(null)
    );

    let text = server_with(ResponseTemplate::new(200).set_body_raw("42 pets", "text/plain")).await;
    let conn = builder(&text, &connector).build().unwrap();
    assert_eq!(
        conn.execute_json("updatePet", input).await.unwrap(),
        json!("42 pets")
    );
}

#[tokio::test]
async fn execute_json_rejects_bad_input_before_sending() {
    let server = server().await;
    let connector = connector(vec![update_op()], vec![]);
    let conn = builder(&server, &connector).build().unwrap();

    let err = conn
        .execute_json("updatePet", json!({"petId": 1, "dry_run": true}))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { message } if message.contains("`dry_run`")),
        "{err:?}"
    );
    let err = conn
        .execute_json("updatePet", json!([1]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let err = conn.execute_json("deletePet", json!({})).await.unwrap_err();
    assert!(
        matches!(&err, Error::UnknownAction { name, .. } if name == "deletePet"),
        "{err:?}"
    );
    let err = conn.execute_json("updatePet", json!({})).await.unwrap_err();
    assert!(matches!(err, Error::MissingParameter { .. }), "{err:?}");
    assert!(requests(&server).await.is_empty());
}
