//! The responses sample (`specs/responses.yaml`) against an in-process mock server: success
//! enums decoded by status, declared error bodies, declared headers, bodies that are not JSON,
//! empty, binary and text bodies.

use connector_runtime::{Connection, Error};
use connector_tests::responses::{types, Client, CONNECTOR};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A client of a server that answers every request with `response`.
async fn client_answering(response: ResponseTemplate) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(response)
        .mount(&server)
        .await;
    let connection = Connection::builder(&CONNECTOR)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .build()
        .expect("connection");
    (server, Client::new(connection))
}

fn thing() -> types::Thing {
    types::Thing {
        id: 1,
        name: "Cup".into(),
    }
}

#[tokio::test]
async fn success_enum_is_decoded_by_status() {
    let (_server, client) =
        client_answering(ResponseTemplate::new(200).set_body_json(json!({"id": 1, "name": "Cup"})))
            .await;
    match client.put_thing(1, &thing()).await.expect("200") {
        types::PutThingResponse::Ok(t) => assert_eq!(t, thing()),
        other => panic!("expected Ok, got {other:?}"),
    }

    let (_server, client) = client_answering(
        ResponseTemplate::new(201).set_body_json(json!({"id": 1, "location": "/things/1"})),
    )
    .await;
    match client.put_thing(1, &thing()).await.expect("201") {
        types::PutThingResponse::Created(c) => assert_eq!(c.location, "/things/1"),
        other => panic!("expected Created, got {other:?}"),
    }

    let (_server, client) =
        client_answering(ResponseTemplate::new(202).set_body_string("ticket-9")).await;
    match client.put_thing(1, &thing()).await.expect("202") {
        types::PutThingResponse::Accepted(raw) => assert_eq!(raw.text().unwrap(), "ticket-9"),
        other => panic!("expected Accepted, got {other:?}"),
    }

    let (_server, client) = client_answering(ResponseTemplate::new(204)).await;
    let result = client.put_thing(1, &thing()).await.expect("204");
    assert!(
        matches!(result, types::PutThingResponse::NoContent),
        "{result:?}"
    );

    // A 2xx the spec does not declare is handed over as received.
    let (_server, client) =
        client_answering(ResponseTemplate::new(203).set_body_string("{}")).await;
    match client.put_thing(1, &thing()).await.expect("203") {
        types::PutThingResponse::Other(raw) => assert_eq!(raw.status(), 203),
        other => panic!("expected Other, got {other:?}"),
    }
}

#[tokio::test]
async fn a_2xx_range_catches_the_codes_not_declared() {
    let (_server, client) = client_answering(
        ResponseTemplate::new(200).set_body_json(json!({"id": 0, "name": "pong"})),
    )
    .await;
    let pong = client.ping().await.expect("200");
    assert!(
        matches!(&pong, types::PingResponse::Ok(t) if t.name == "pong"),
        "{pong:?}"
    );

    let (_server, client) = client_answering(ResponseTemplate::new(202)).await;
    let pong = client.ping().await.expect("202");
    assert!(matches!(pong, types::PingResponse::Success), "{pong:?}");
}

#[tokio::test]
async fn declared_error_bodies_decode_into_their_types() {
    let (_server, client) = client_answering(
        ResponseTemplate::new(404).set_body_json(json!({"message": "no thing 1", "id": 1})),
    )
    .await;
    let err = client.get_thing(1).await.expect_err("404");
    assert_eq!(err.status(), Some(404));
    let not_found: types::NotFound = err.body_json().expect("declared 404 body");
    assert_eq!(not_found.message, "no thing 1");
    assert_eq!(not_found.id, Some(1));

    let (_server, client) = client_answering(
        ResponseTemplate::new(422).set_body_json(json!({"errors": ["name is empty"]})),
    )
    .await;
    let err = client.put_thing(1, &thing()).await.expect_err("422");
    let invalid: types::PutThingResponse422 = err.body_json().expect("declared 422 body");
    assert_eq!(invalid.errors, vec!["name is empty".to_owned()]);

    let (_server, client) = client_answering(
        ResponseTemplate::new(503)
            .set_body_json(json!({"title": "Unavailable", "status": 503, "detail": "later"})),
    )
    .await;
    let err = client.delete_thing(1).await.expect_err("503");
    let problem: types::Problem = err.body_json().expect("declared default body");
    assert_eq!(
        (problem.title.as_str(), problem.status),
        ("Unavailable", 503)
    );
    // A body of another shape is not forced into the type.
    assert!(err.body_json::<types::NotFound>().is_none());
    assert!(err.is_retryable());
}

#[tokio::test]
async fn declared_response_headers_are_returned_with_the_value() {
    let (_server, client) = client_answering(
        ResponseTemplate::new(200)
            .insert_header("X-Rate-Limit-Remaining", "99")
            .insert_header("ETag", "\"v1\"")
            .set_body_json(json!({"id": 1, "name": "Cup"})),
    )
    .await;
    let got = client.get_thing(1).await.expect("200");
    assert_eq!(got.status, 200);
    assert_eq!(got.header("x-rate-limit-remaining"), Some("99"));
    assert_eq!(got.header("ETag"), Some("\"v1\""));
    assert_eq!(got.into_value(), thing());

    let (_server, client) = client_answering(
        ResponseTemplate::new(204).insert_header("X-Touched-At", "2026-01-01T00:00:00Z"),
    )
    .await;
    let touched = client.touch_thing(1).await.expect("204");
    assert_eq!(touched.status, 204);
    assert_eq!(touched.header("X-Touched-At"), Some("2026-01-01T00:00:00Z"));
}

#[tokio::test]
async fn a_success_enum_comes_with_headers_when_they_are_declared() {
    let (_server, client) = client_answering(
        ResponseTemplate::new(201)
            .insert_header("Location", "/things/1")
            .set_body_json(json!({"id": 1, "location": "/things/1"})),
    )
    .await;
    let created = client.create_thing(&thing()).await.expect("201");
    assert_eq!(created.status, 201);
    assert_eq!(created.header("location"), Some("/things/1"));
    assert!(
        matches!(&created.value, types::CreateThingResponse::Created(c) if c.id == 1),
        "{created:?}"
    );
}

#[tokio::test]
async fn html_on_a_json_action_names_the_content_type() {
    let page = format!("<html><body>Proxy login{}</body></html>", " ".repeat(4000));
    let (_server, client) = client_answering(
        ResponseTemplate::new(200).set_body_raw(page.clone(), "text/html; charset=utf-8"),
    )
    .await;
    let err = client.list_things().await.expect_err("HTML is not a list");
    match &err {
        Error::UnexpectedContentType {
            operation,
            status,
            content_type,
            snippet,
            ..
        } => {
            assert_eq!(operation, "listThings");
            assert_eq!(*status, 200);
            assert_eq!(content_type, "text/html; charset=utf-8");
            assert!(snippet.starts_with("<html><body>Proxy login"), "{snippet}");
            assert!(snippet.len() < page.len(), "the snippet is bounded");
        }
        other => panic!("expected UnexpectedContentType, got {other:?}"),
    }
    assert_eq!(err.status(), Some(200));
    let shown = err.to_string();
    assert!(
        shown.contains("Content-Type \"text/html; charset=utf-8\", not JSON")
            && shown.contains("<html><body>Proxy login"),
        "{shown}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn empty_binary_and_text_bodies_keep_working() {
    let (_server, client) = client_answering(ResponseTemplate::new(204)).await;
    client.delete_thing(1).await.expect("204 is ()");

    let bytes = vec![0u8, 159, 146, 150, 255];
    let (_server, client) = client_answering(
        ResponseTemplate::new(200).set_body_raw(bytes.clone(), "application/octet-stream"),
    )
    .await;
    let file = client.download_thing(1).await.expect("binary");
    assert_eq!(file.bytes().as_ref(), bytes.as_slice());

    let (_server, client) =
        client_answering(ResponseTemplate::new(200).set_body_raw("id,name\n1,Cup\n", "text/csv"))
            .await;
    let csv = client.export_things().await.expect("text");
    assert_eq!(csv.text().unwrap(), "id,name\n1,Cup\n");
}
