//! A large API in catalogue mode: GitHub's spec (1,223 actions, from the corpus that
//! `scripts/fetch-corpus.sh` installs) is served as `search_actions`, `describe_action` and
//! `run_action`; the time from starting the process to the first `tools/list` answer is printed.

use std::path::PathBuf;

use serde_json::{json, Value};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::cli::connector_gen;
use crate::support::mcp::{is_error, text, Session};
use crate::support::prism::repo_root;

const GITHUB: &str = ".cache/corpus/node_modules/@octokit/openapi/generated/api.github.com.json";

/// GitHub's spec, or `None` (after saying so) when the corpus is not installed.
fn github_spec() -> Option<PathBuf> {
    let spec = repo_root().join(GITHUB);
    if spec.is_file() {
        return Some(spec);
    }
    eprintln!("SKIPPED: GitHub's spec is not at {GITHUB} (run scripts/fetch-corpus.sh)");
    assert!(
        std::env::var("CORPUS_REQUIRED").map_or(true, |v| v != "1"),
        "GitHub's spec is missing, and CORPUS_REQUIRED=1"
    );
    None
}

#[tokio::test]
async fn github_is_served_as_the_catalogue_tools() {
    let Some(spec) = github_spec() else {
        return;
    };
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/octo/hello/issues"))
        .and(body_json(json!({"title": "Found a bug"})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"number": 1347, "title": "Found a bug"})),
        )
        .expect(1)
        .mount(&api)
        .await;
    let args: Vec<String> = vec![
        "mcp".into(),
        spec.to_string_lossy().into_owned(),
        "--base-url".into(),
        api.uri(),
    ];
    let session = Session::stdio(&connector_gen(), &args).await;
    let tools = session.tools().await;
    let started = session.started.elapsed();
    eprintln!(
        "GitHub (debug build): {started:?} from process start to the first tools/list answer"
    );
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["search_actions", "describe_action", "run_action"]);

    let found = session
        .call("search_actions", json!({"query": "create issue"}))
        .await
        .unwrap();
    let first = &found["structuredContent"]["actions"][0];
    assert_eq!(first["id"], "issues/create", "{found}");
    assert_eq!(first["summary"], "Create an issue");

    let described = session
        .call("describe_action", json!({"id": "issues/create"}))
        .await
        .unwrap();
    let input = &described["structuredContent"]["input_schema"];
    for key in ["owner", "repo", "body"] {
        assert!(input["properties"].get(key).is_some(), "{key}: {input}");
    }

    let created = session
        .call(
            "run_action",
            json!({"id": "issues/create", "input": {"owner": "octo", "repo": "hello", "body": {"title": "Found a bug"}}}),
        )
        .await
        .unwrap();
    assert!(!is_error(&created), "{created}");
    assert_eq!(created["structuredContent"]["number"], 1347);

    let unknown = session
        .call("run_action", json!({"id": "issues/craete", "input": {}}))
        .await
        .unwrap();
    assert!(
        is_error(&unknown) && text(&unknown).contains("issues/create"),
        "{unknown}"
    );
    let stderr = session.stop().await;
    assert!(
        stderr.contains("catalogue mode"),
        "says so on stderr: {stderr}"
    );
}

#[tokio::test]
async fn forced_catalogue_mode_and_read_only_refuse_writes_by_id() {
    let api = MockServer::start().await;
    let args: Vec<String> = [
        "mcp",
        "specs/petstore.yaml",
        "--mode",
        "catalogue",
        "--read-only",
        "--base-url",
        &api.uri(),
    ]
    .map(str::to_owned)
    .to_vec();
    let session = Session::stdio(&connector_gen(), &args).await;
    assert_eq!(session.tools().await.len(), 3);
    let found = session
        .call("search_actions", json!({"query": "pet"}))
        .await
        .unwrap();
    let ids: Vec<&Value> = found["structuredContent"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    assert_eq!(ids, [&json!("listPets"), &json!("getPet")], "reads only");
    let refused = session
        .call(
            "run_action",
            json!({"id": "deletePet", "input": {"petId": 7}}),
        )
        .await
        .unwrap();
    assert!(
        is_error(&refused) && text(&refused).contains("read-only"),
        "{refused}"
    );
    assert!(api.received_requests().await.unwrap_or_default().is_empty());
    session.stop().await;
}

#[tokio::test]
async fn a_generated_binary_serves_the_same_tools_as_connector_gen() {
    let dir = tempfile::tempdir().unwrap();
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/pets/7"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "name": "Rex", "status": "available"})),
        )
        .mount(&api)
        .await;
    let connection = crate::support::mcp::canary_connection(dir.path(), "petstore");
    let tail = ["--connection", &connection, "--base-url", &api.uri()].map(str::to_owned);
    let generated = crate::support::cli::generated_petstore_binary();
    let mut args = vec!["mcp".to_owned()];
    args.extend(tail.iter().cloned());
    let own = Session::stdio(&generated, &args).await;
    let mut args = vec!["mcp".to_owned(), "specs/petstore.yaml".to_owned()];
    args.extend(tail.iter().cloned());
    let interpreted = Session::stdio(&connector_gen(), &args).await;
    assert_eq!(own.tools().await, interpreted.tools().await);
    let pet = own.call("getPet", json!({"petId": 7})).await.unwrap();
    assert_eq!(pet["structuredContent"]["name"], "Rex");
    own.stop().await;
    interpreted.stop().await;
}
