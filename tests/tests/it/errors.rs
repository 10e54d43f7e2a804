//! Typed errors end to end: every declared error response of every sample spec, answered by an
//! in-process server and by Prism (`Prefer: code=N`), decodes into its variant of the action's
//! generated error enum through `Error::api_error`, with the body decoded; codes, ranges,
//! `default`, an empty body, a text body and a body picked by content type included. A status the
//! spec does not declare, and a declared one whose body does not decode, keep the status, the
//! headers and the raw body. Typed `…_stream` records that do not decode name their index, and
//! `connector-gen run --full` names the matched response and its schema.

use std::time::Duration;

use crate::actions::{by_connector, samples};
use crate::support::cli::{connector_gen, run};
use crate::support::examples::{from_schema, input_for, load_spec, resolve};
use crate::support::prism::{prism_bin, repo_root, Prism};
use connector_gen::ir::{ErrorBody, StatusMatch};
use connector_gen::{load_connector, Options};
use connector_runtime::descriptor::{ConnectorDescriptor, SecuritySchemeKind};
use connector_runtime::paginate::ListOptions;
use connector_runtime::{Connection, ConnectionBuilder, Credential, Error, RetryPolicy};
// `by_connector!` names the sample connectors by module.
use connector_tests::{
    auth, awkward, bodies, crm, inventory, kennel, parameters, petstore, responses, schemas,
    servers, shop, shop_events, warehouse,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// One declared error response to provoke, or a status no response declares.
#[derive(Debug)]
struct Case {
    action: String,
    path: String,
    method: String,
    /// The status the server answers.
    status: u16,
    /// The content type it sends, and the body.
    media: Option<String>,
    body: Vec<u8>,
    /// The variant it must decode into (`Other` for an undeclared status).
    variant: String,
    /// Whether the variant holds a body.
    holds_body: bool,
    /// Whether the variant is picked by its content type among its status's bodies (Prism
    /// answers with the first content type, so it is tested against the in-process server).
    by_media: bool,
}

/// Statuses tried, in order, for `default` and for an undeclared status: the first that no
/// declared response takes.
const SPARE: [u16; 7] = [599, 555, 451, 418, 429, 503, 300];

/// The cases of one sample spec: each error variant of each action, and for actions without a
/// `default` one undeclared status.
fn cases(spec_path: &str, name: &str) -> Vec<Case> {
    let spec = load_spec(&repo_root().join(spec_path));
    let options = Options {
        name: Some(name.to_owned()),
        ..Options::default()
    };
    let bytes = std::fs::read(repo_root().join(spec_path)).expect("spec");
    let lowered = load_connector(&bytes, &options).expect("spec lowers");
    let mut out = Vec::new();
    for op in &lowered.connector.operations {
        let Some(errors) = &op.errors else { continue };
        let method = op.method.as_str().to_ascii_lowercase();
        let declared: Vec<StatusMatch> = errors.variants.iter().map(|v| v.status).collect();
        let taken = |code: u16| declared.iter().any(|s| s.matches_code(code));
        let codes: Vec<u16> = declared
            .iter()
            .filter_map(|s| match s {
                StatusMatch::Code(c) => Some(*c),
                _ => None,
            })
            .collect();
        for variant in &errors.variants {
            let status = match variant.status {
                StatusMatch::Code(code) => code,
                StatusMatch::Range(digit) => {
                    let low = u16::from(digit) * 100;
                    (low + 1..low + 100)
                        .find(|c| !codes.contains(c))
                        .expect("a free code in the range")
                }
                StatusMatch::Default => SPARE
                    .into_iter()
                    .find(|c| {
                        !declared
                            .iter()
                            .any(|s| *s != StatusMatch::Default && s.matches_code(*c))
                    })
                    .expect("a status for default"),
            };
            let key = match variant.status {
                StatusMatch::Code(code) => code.to_string(),
                StatusMatch::Range(digit) => format!("{digit}XX"),
                StatusMatch::Default => "default".to_owned(),
            };
            let response = resolve(&spec, &spec["paths"][&op.path][&method]["responses"][&key]);
            let content = response.get("content").and_then(Value::as_object);
            // The variant's own content type, else the status's main one (JSON first).
            let chosen = content.and_then(|c| match &variant.media_type {
                Some(media) => c.iter().find(|(m, _)| m.to_ascii_lowercase() == *media),
                None => c
                    .iter()
                    .find(|(m, _)| m.contains("json"))
                    .or_else(|| c.iter().next()),
            });
            let (media, body) = match (&variant.body, chosen) {
                (ErrorBody::Empty, _) | (_, None) => (None, Vec::new()),
                (body, Some((media, content))) => {
                    let value = content.get("example").cloned().unwrap_or_else(|| {
                        from_schema(&spec, content.get("schema").unwrap_or(&json!({})))
                    });
                    let bytes = match (body, &value) {
                        (ErrorBody::Json(_), value) => serde_json::to_vec(value).unwrap(),
                        (_, Value::String(text)) => text.clone().into_bytes(),
                        (_, other) => other.to_string().into_bytes(),
                    };
                    (Some(media.clone()), bytes)
                }
            };
            out.push(Case {
                action: op.id.clone(),
                path: op.path.clone(),
                method: method.clone(),
                status,
                media,
                body,
                variant: variant.rust_name.clone(),
                holds_body: variant.body != ErrorBody::Empty,
                by_media: variant.media_type.is_some(),
            });
        }
        if !declared.contains(&StatusMatch::Default) {
            let status = SPARE
                .into_iter()
                .find(|c| !taken(*c))
                .expect("an undeclared status");
            out.push(Case {
                action: op.id.clone(),
                path: op.path.clone(),
                method: method.clone(),
                status,
                media: Some("application/json".into()),
                body: br#"{"unexpected": true}"#.to_vec(),
                variant: "Other".into(),
                holds_body: true,
                by_media: false,
            });
        }
    }
    out
}

trait MatchesCode {
    fn matches_code(&self, code: u16) -> bool;
}

impl MatchesCode for StatusMatch {
    fn matches_code(&self, code: u16) -> bool {
        match self {
            StatusMatch::Code(c) => *c == code,
            StatusMatch::Range(d) => code / 100 == u16::from(*d),
            StatusMatch::Default => true,
        }
    }
}

/// A connection with a credential for every security scheme, and no retries (a 5xx would be
/// tried again, which says nothing here).
fn builder(connector: &ConnectorDescriptor, base_url: &str) -> ConnectionBuilder {
    let mut builder = Connection::builder(connector)
        .base_url(base_url)
        .allow_http_loopback(true)
        .retries(RetryPolicy::none());
    for scheme in connector.security_schemes.iter() {
        let credential = match &scheme.kind {
            SecuritySchemeKind::HttpBasic => Credential::basic("ann", "secret"),
            SecuritySchemeKind::ApiKey { .. } => Credential::api_key("test-key"),
            SecuritySchemeKind::HttpOther { .. } => Credential::raw("test-value"),
            _ => Credential::bearer("test-token"),
        };
        builder = builder.credential(scheme.name.to_string(), credential);
    }
    builder
}

/// Calls the typed method of the case's action and returns what its error decodes into, as
/// `Debug` text.
async fn typed_error(name: &str, connection: Connection, spec: &Value, case: &Case) -> String {
    let input = input_for(spec, &case.path, &case.method);
    let result = by_connector!(name, c => {
        c::Client::new(connection).call_typed_from_json(&case.action, &input).await
    });
    let err = match result {
        Ok(()) => panic!("{case:?}: the call succeeded"),
        Err(err) => err,
    };
    assert_eq!(err.status(), Some(case.status), "{case:?}: {err}");
    let decoded = by_connector!(name, c => c::Client::typed_error_debug(&case.action, &err));
    decoded.unwrap_or_else(|| panic!("{case:?}: no typed error for {err:?}"))
}

/// Whether `debug` is the case's variant holding a decoded body.
fn check(case: &Case, debug: &str) {
    if case.variant == "Other" {
        assert!(
            debug.starts_with(&format!("Other(ErrorAnswer {{ status: {}", case.status)),
            "{case:?}: {debug}"
        );
        assert!(debug.contains("problem: None"), "{case:?}: {debug}");
    } else if case.holds_body {
        assert!(
            debug.starts_with(&format!("{}(", case.variant)),
            "{case:?}: {debug}"
        );
    } else {
        assert_eq!(debug, case.variant, "{case:?}");
    }
}

#[tokio::test]
async fn every_declared_error_response_decodes_into_its_variant() {
    let server = MockServer::start().await;
    let mut checked = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for (spec_path, name, connector) in samples() {
        let spec = load_spec(&repo_root().join(spec_path));
        for case in cases(spec_path, name) {
            server.reset().await;
            let mut response = ResponseTemplate::new(case.status);
            if let Some(media) = &case.media {
                response = response.set_body_raw(case.body.clone(), media);
            }
            Mock::given(any())
                .respond_with(response)
                .mount(&server)
                .await;
            let connection = builder(connector, &server.uri()).build().unwrap();
            let debug = typed_error(name, connection, &spec, &case).await;
            check(&case, &debug);
            kinds.insert(match (&case.variant[..], case.by_media, case.holds_body) {
                ("Other", ..) => "undeclared",
                ("Default", ..) => "default",
                ("ClientError" | "ServerError", ..) => "range",
                (_, true, _) => "by content type",
                (_, _, false) => "empty",
                _ => "code",
            });
            checked += 1;
        }
    }
    let expected = [
        "by content type",
        "code",
        "default",
        "empty",
        "range",
        "undeclared",
    ];
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), expected);
    assert!(checked >= 15, "{checked} cases");
}

macro_rules! prism {
    ($spec:expr) => {
        match prism_bin() {
            Some(bin) => Prism::start(&bin, $spec),
            None => return,
        }
    };
}

/// Prism answers each declared error status with its example (or one made from its schema)
/// when asked with `Prefer: code=N`; each decodes into its variant.
#[tokio::test]
async fn prism_error_examples_decode_into_their_variants() {
    for (spec_path, name, connector) in [
        ("specs/petstore.yaml", "petstore", &petstore::CONNECTOR),
        ("specs/responses.yaml", "responses", &responses::CONNECTOR),
    ] {
        let mut prism = prism!(spec_path);
        let spec = load_spec(&repo_root().join(spec_path));
        let mut checked = 0;
        // Prism answers an undeclared status with its own 404, and the first content type of a
        // status; those cases are the in-process server's.
        for case in cases(spec_path, name)
            .into_iter()
            .filter(|c| c.variant != "Other" && !c.by_media)
        {
            let connection = builder(connector, &prism.base_url)
                .header("Prefer", format!("code={}", case.status))
                .build()
                .unwrap();
            let debug = typed_error(name, connection, &spec, &case).await;
            prism.assert_alive();
            check(&case, &debug);
            checked += 1;
        }
        assert!(checked >= 3, "{spec_path}: {checked} cases");
    }
}

fn responses_client(server: &MockServer) -> responses::Client {
    let connection = Connection::builder(&responses::CONNECTOR)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .build()
        .unwrap();
    responses::Client::new(connection)
}

async fn answering(server: &MockServer, response: ResponseTemplate) {
    server.reset().await;
    Mock::given(any())
        .respond_with(response)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_typed_error_is_one_match_and_keeps_the_runtime_errors_facts() {
    use responses::errors::{GetThingError, ListThingsError, MoveThingError};
    let server = MockServer::start().await;
    let client = responses_client(&server);

    answering(
        &server,
        ResponseTemplate::new(404).set_body_json(json!({"message": "no thing 7", "id": 7})),
    )
    .await;
    let err = client.get_thing(7).await.unwrap_err();
    match err.api_error::<GetThingError>() {
        Some(GetThingError::NotFound(body)) => {
            assert_eq!(body.message, "no thing 7");
            assert_eq!(body.id, Some(7));
        }
        other => panic!("{other:?}"),
    }
    // Another action's enum does not decode it, and the runtime's error still says it all.
    assert!(err.api_error::<MoveThingError>().is_none());
    assert_eq!(err.status(), Some(404));

    // The same status, two bodies: the content type picks the variant.
    answering(
        &server,
        ResponseTemplate::new(400).set_body_raw(
            r#"{"type": "https://responses.example.com/bad-move", "title": "Bad move"}"#,
            "application/problem+json",
        ),
    )
    .await;
    let err = client.move_thing(1).await.unwrap_err();
    match err.api_error::<MoveThingError>() {
        Some(MoveThingError::BadRequestProblemJson(details)) => {
            assert_eq!(details.r#type, "https://responses.example.com/bad-move")
        }
        other => panic!("{other:?}"),
    }
    answering(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({"title": "Bad move", "status": 400})),
    )
    .await;
    let err = client.move_thing(1).await.unwrap_err();
    assert!(matches!(
        err.api_error::<MoveThingError>(),
        Some(MoveThingError::BadRequest(p)) if p.title == "Bad move"
    ));

    // Text and empty bodies, and ranges around declared codes.
    answering(
        &server,
        ResponseTemplate::new(409).set_body_raw("moved by ann", "text/plain"),
    )
    .await;
    let err = client.move_thing(1).await.unwrap_err();
    assert!(matches!(
        err.api_error::<MoveThingError>(),
        Some(MoveThingError::Conflict(text)) if text == "moved by ann"
    ));
    answering(&server, ResponseTemplate::new(304)).await;
    let err = client.move_thing(1).await.unwrap_err();
    assert!(matches!(
        err.api_error::<MoveThingError>(),
        Some(MoveThingError::NotModified)
    ));
    answering(
        &server,
        ResponseTemplate::new(410).set_body_json(json!({"title": "Gone", "status": 410})),
    )
    .await;
    let err = client.move_thing(1).await.unwrap_err();
    assert!(matches!(
        err.api_error::<MoveThingError>(),
        Some(MoveThingError::ClientError(p)) if p.status == 410
    ));

    // A declared status whose body is not the declared type keeps the answer and says why.
    answering(
        &server,
        ResponseTemplate::new(404)
            .insert_header("x-trace", "t-1")
            .set_body_raw("<html>not found</html>", "text/html"),
    )
    .await;
    let err = client.get_thing(7).await.unwrap_err();
    let Some(GetThingError::Other(answer)) = err.api_error::<GetThingError>() else {
        panic!("expected Other: {err:?}")
    };
    assert_eq!(answer.status(), 404);
    assert_eq!(answer.body(), b"<html>not found</html>");
    assert_eq!(answer.headers()["x-trace"], "t-1");
    assert!(answer.problem().unwrap().contains("not the declared JSON"));

    // A retried call decodes its last answer; attempts and the server's wait are still there.
    answering(
        &server,
        ResponseTemplate::new(503)
            .insert_header("retry-after-ms", "10")
            .set_body_json(json!({"title": "Busy", "status": 503})),
    )
    .await;
    let err = client.list_things().await.unwrap_err();
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.retry_after(), Some(Duration::from_millis(10)));
    assert!(matches!(
        err.api_error::<ListThingsError>(),
        Some(ListThingsError::Default(p)) if p.title == "Busy"
    ));

    // Not an answer at all: a refused connection has no typed error.
    let refused = Connection::builder(&responses::CONNECTOR)
        .base_url("http://127.0.0.1:1")
        .allow_http_loopback(true)
        .retries(RetryPolicy::none())
        .build()
        .unwrap();
    let err = responses::Client::new(refused)
        .get_thing(7)
        .await
        .unwrap_err();
    assert!(err.api_error::<GetThingError>().is_none(), "{err:?}");
}

/// `?` carries the runtime's error as before, into `Box<dyn Error>` as into the runtime's own.
#[tokio::test]
async fn typed_errors_leave_question_mark_alone() {
    async fn boxed(client: &responses::Client) -> Result<(), Box<dyn std::error::Error>> {
        client.get_thing(1).await?;
        Ok(())
    }
    async fn runtime(client: &responses::Client) -> Result<(), Error> {
        client.get_thing(1).await?;
        Ok(())
    }
    let server = MockServer::start().await;
    answering(
        &server,
        ResponseTemplate::new(404).set_body_json(json!({"message": "m"})),
    )
    .await;
    let client = responses_client(&server);
    assert!(boxed(&client)
        .await
        .unwrap_err()
        .to_string()
        .contains("404"));
    let err = runtime(&client).await.unwrap_err();
    assert!(err
        .api_error::<responses::errors::GetThingError>()
        .is_some());
}

#[tokio::test]
async fn a_typed_stream_names_the_record_that_does_not_decode_and_goes_on() {
    let server = MockServer::start().await;
    answering(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({"events": [{"n": 1}, 5, {"n": 3}]})),
    )
    .await;
    let connection = Connection::builder(&kennel::CONNECTOR)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .credential("token", Credential::bearer("t"))
        .build()
        .unwrap();
    let records: Vec<Result<_, Error>> = kennel::Client::new(connection)
        .list_events_stream(Default::default(), &ListOptions::default())
        .unwrap()
        .collect()
        .await;
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].as_ref().unwrap()["n"], json!(1));
    let err = records[1].as_ref().unwrap_err();
    assert!(
        matches!(err, Error::DecodeRecord { index: 1, operation, .. } if operation == "listEvents"),
        "{err:?}"
    );
    assert!(err.to_string().contains("record 1 of action `listEvents`"));
    assert_eq!(records[2].as_ref().unwrap()["n"], json!(3));
}

/// `connector-gen run --full` prints the answer with the declared response it matched and its
/// schema's name; without `--full` the body stays alone on stdout and stderr names them.
#[tokio::test]
async fn run_names_the_matched_error_response_and_schema() {
    let server = MockServer::start().await;
    answering(
        &server,
        ResponseTemplate::new(418).set_body_json(json!({"title": "Refused", "status": 418})),
    )
    .await;
    let spec = repo_root().join("specs/responses.yaml");
    let args = |full: bool| {
        let mut args = vec![
            "run".to_owned(),
            spec.to_string_lossy().into_owned(),
            "moveThing".to_owned(),
            "--input".to_owned(),
            r#"{"id": 1}"#.to_owned(),
            "--base-url".to_owned(),
            server.uri(),
        ];
        if full {
            args.push("--full".to_owned());
        }
        args
    };
    let run_with = |args: Vec<String>| {
        let bin = connector_gen();
        tokio::task::spawn_blocking(move || {
            run(
                &bin,
                &args.iter().map(String::as_str).collect::<Vec<_>>(),
                None,
            )
        })
    };
    let full = run_with(args(true)).await.unwrap();
    assert_eq!(full.code, 4, "{full:?}");
    let output = full.json();
    assert_eq!(output["status"], 418);
    assert_eq!(output["declared"], "4XX");
    assert_eq!(output["schema"], "Problem");
    assert_eq!(output["body"]["title"], "Refused");
    let plain = run_with(args(false)).await.unwrap();
    assert_eq!(plain.code, 4, "{plain:?}");
    assert_eq!(plain.json()["title"], "Refused");
    assert!(
        plain
            .stderr
            .contains("Declared response: 4XX, schema Problem"),
        "{plain:?}"
    );
}
