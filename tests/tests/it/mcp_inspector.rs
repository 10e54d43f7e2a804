//! A client written elsewhere: the MCP Inspector's command-line mode (TypeScript, the official
//! SDK) lists the petstore's tools and calls one, over stdio and over Streamable HTTP.
//!
//! The Inspector is found through `INSPECTOR_BIN`, else in `.cache/inspector` where
//! `scripts/install-inspector.sh` puts it. When it is absent the test says SKIPPED and passes,
//! unless `INSPECTOR_REQUIRED=1` (set by CI) makes its absence a failure.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::cli::connector_gen;
use crate::support::mcp::{canary_connection, Session, Transport, CANARY};
use crate::support::prism::repo_root;

fn inspector_bin() -> Option<PathBuf> {
    let bin = match std::env::var_os("INSPECTOR_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => repo_root().join(".cache/inspector/node_modules/.bin/mcp-inspector"),
    };
    if bin.is_file() {
        return Some(bin);
    }
    let message = format!(
        "SKIPPED: the MCP Inspector is not at {} (set INSPECTOR_BIN, or run scripts/install-inspector.sh)",
        bin.display()
    );
    assert!(
        std::env::var("INSPECTOR_REQUIRED").map_or(true, |v| v != "1"),
        "{message}, and INSPECTOR_REQUIRED=1"
    );
    eprintln!("{message}");
    None
}

/// Runs the Inspector's CLI with `args`; returns its JSON output.
fn inspect(bin: &PathBuf, args: &[String]) -> Value {
    let output = Command::new(bin)
        .arg("--cli")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("running the MCP Inspector");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "inspector {args:?}: {stdout}\n{stderr}"
    );
    assert!(!stdout.contains(CANARY) && !stderr.contains(CANARY));
    // Its output is one JSON document, after any notice it prints first.
    let start = stdout
        .find('{')
        .unwrap_or_else(|| panic!("no JSON: {stdout}"));
    serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn check(tools: &Value, called: &Value) {
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(names.contains(&"getPet") && names.contains(&"pets_list"));
    assert_eq!(called["isError"], json!(false), "{called}");
    assert_eq!(
        called["structuredContent"],
        json!({"id": 7, "name": "Rex", "status": "available"})
    );
}

#[tokio::test]
async fn the_mcp_inspector_lists_and_calls_tools() {
    let Some(bin) = inspector_bin() else {
        return;
    };
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
    let serve: Vec<String> = vec![
        "mcp".into(),
        "specs/petstore.yaml".into(),
        "--connection".into(),
        canary_connection(dir.path(), "petstore"),
        "--base-url".into(),
        api.uri(),
    ];
    let call = [
        "--method",
        "tools/call",
        "--tool-name",
        "getPet",
        "--tool-arg",
        "petId=7",
    ]
    .map(str::to_owned);

    // Stdio: the Inspector starts the server itself.
    let mut stdio = vec![connector_gen().to_string_lossy().into_owned()];
    stdio.extend(serve.iter().cloned());
    let tools = {
        let mut args = stdio.clone();
        args.extend(["--method".into(), "tools/list".into()]);
        tokio::task::spawn_blocking({
            let bin = bin.clone();
            move || inspect(&bin, &args)
        })
        .await
        .unwrap()
    };
    let called = {
        let mut args = stdio.clone();
        args.extend(call.iter().cloned());
        tokio::task::spawn_blocking({
            let bin = bin.clone();
            move || inspect(&bin, &args)
        })
        .await
        .unwrap()
    };
    check(&tools, &called);

    // Streamable HTTP: a server already running.
    let session = Session::http(&connector_gen(), &serve, None).await;
    let Transport::Http { url, .. } = &session.transport else {
        unreachable!()
    };
    let http = vec![url.clone(), "--transport".into(), "http".into()];
    let tools = {
        let mut args = http.clone();
        args.extend(["--method".into(), "tools/list".into()]);
        let bin = bin.clone();
        tokio::task::spawn_blocking(move || inspect(&bin, &args))
            .await
            .unwrap()
    };
    let called = {
        let mut args = http.clone();
        args.extend(call.iter().cloned());
        let bin = bin.clone();
        tokio::task::spawn_blocking(move || inspect(&bin, &args))
            .await
            .unwrap()
    };
    check(&tools, &called);
    session.stop().await;
}
