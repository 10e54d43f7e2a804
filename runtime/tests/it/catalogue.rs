//! Validation of dynamic calls against a hand-written catalogue: messages by kind, patterns the
//! regex engine cannot read, an unusable catalogue, and declared response headers.

use std::borrow::Cow;

use crate::support::*;
use connector_runtime::descriptor::{ConnectorDescriptor, Method, ParamLocation};
use connector_runtime::Error;
use serde_json::json;
use wiremock::ResponseTemplate;

fn with_catalogue(catalogue: serde_json::Value) -> ConnectorDescriptor {
    let find = with_params(
        op("find", Method::Get, "/things"),
        vec![
            param("name", ParamLocation::Query),
            param("code", ParamLocation::Query),
        ],
    );
    ConnectorDescriptor {
        catalogue: Some(Cow::Owned(catalogue.to_string())),
        ..connector(vec![find], vec![])
    }
}

fn catalogue(name_schema: serde_json::Value) -> serde_json::Value {
    json!({
        "name": "test", "title": "Test API", "version": "1.0.0",
        "actions": [{
            "id": "find", "method": "GET", "path": "/things",
            "input_schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"name": name_schema, "code": {"type": "string", "pattern": "^[A-Z]{2}$"}},
                "additionalProperties": false
            },
            "output_headers": {"200": ["X-Total"]}
        }]
    })
}

#[tokio::test]
async fn bounds_and_patterns_are_checked_and_every_problem_is_reported() {
    let server = server().await;
    let connector = with_catalogue(catalogue(json!({"type": "string", "maxLength": 3})));
    let connection = builder(&server, &connector).build().expect("connection");
    let err = connection
        .execute_json("find", json!({"name": "toolong", "code": "abc"}))
        .await
        .expect_err("invalid");
    let Error::InvalidActionInput { action, problems } = err else {
        panic!("expected invalid input, got {err:?}");
    };
    assert_eq!(action, "find");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("/code: does not match the pattern"),
        "{problems:?}"
    );
    // A bound is reported without the value, which may be a secret.
    assert_eq!(problems[1], "/name: longer than 3 characters");
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

/// A catalogue keeps each definition once, under its own `$defs`, and the actions refer to it:
/// validation follows those references and names the field at fault exactly as it would in a
/// standalone schema.
#[tokio::test]
async fn shared_definitions_are_followed_and_problems_name_the_nested_field() {
    let server = server().await;
    let mut shared = catalogue(json!({"$ref": "#/$defs/Name"}));
    shared["$defs"] = json!({
        "Name": {
            "type": "object",
            "properties": {
                "first": {"type": "string", "minLength": 1},
                "title": {"$ref": "#/$defs/Title"}
            },
            "required": ["first"]
        },
        "Title": {"type": "string", "enum": ["dr", "ms"]}
    });
    let connector = with_catalogue(shared);
    let connection = builder(&server, &connector).build().expect("connection");
    for (input, expected) in [
        (
            json!({"name": {"first": "", "title": "sir"}}),
            vec![
                "/name/first: shorter than 1 characters",
                r#"/name/title: expected one of ["dr","ms"], got "sir""#,
            ],
        ),
        (
            json!({"name": {}, "nmae": 1}),
            vec![
                "/name/first: required, but missing",
                "/nmae: unknown key; did you mean `name`?",
            ],
        ),
    ] {
        let err = connection
            .execute_json("find", input.clone())
            .await
            .expect_err("invalid");
        let Error::InvalidActionInput { problems, .. } = err else {
            panic!("expected invalid input for {input}, got {err:?}");
        };
        assert_eq!(problems, expected, "{input}");
    }
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn a_pattern_the_regex_engine_cannot_read_does_not_block_calls() {
    let server = server().await;
    let connector = with_catalogue(catalogue(json!({"type": "string", "pattern": "(unclosed"})));
    let connection = builder(&server, &connector).build().expect("connection");
    // The rest of the schema still applies.
    let err = connection
        .execute_json("find", json!({"name": 5}))
        .await
        .expect_err("a number is not a string");
    assert!(
        err.to_string().contains("/name: expected string, got 5"),
        "{err}"
    );
    connection
        .execute_json("find", json!({"name": "anything"}))
        .await
        .expect("sent");
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        1
    );
}

#[tokio::test]
async fn an_unusable_catalogue_is_an_error_not_a_panic() {
    let server = server().await;
    let connector = ConnectorDescriptor {
        catalogue: Some(Cow::Borrowed("{not json")),
        ..with_catalogue(json!({}))
    };
    let connection = builder(&server, &connector).build().expect("connection");
    let err = connection
        .execute_json("find", json!({}))
        .await
        .expect_err("unusable catalogue");
    assert!(err.to_string().contains("catalogue is not valid"), "{err}");
    assert!(connection.catalogue().is_err());
}

#[tokio::test]
async fn the_output_carries_status_and_declared_headers() {
    let server = server_with(
        ResponseTemplate::new(200)
            .insert_header("X-Total", "42")
            .insert_header("X-Other", "no")
            .set_body_json(json!([1])),
    )
    .await;
    let connector = with_catalogue(catalogue(json!({"type": "string"})));
    let connection = builder(&server, &connector).build().expect("connection");
    let output = connection
        .execute_action("find", json!({"name": "a"}))
        .await
        .expect("sent");
    assert_eq!(output.status, 200);
    assert_eq!(output.body, json!([1]));
    assert_eq!(
        output.headers.into_iter().collect::<Vec<_>>(),
        vec![("X-Total".to_owned(), "42".to_owned())]
    );
}
