//! `connector-gen run`'s cache as a user meets it: real processes against a loopback server.
//! A repeated run reads the entry the first one wrote; a changed spec, a corrupt entry and a
//! turned-off cache are never served from it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::cli::connector_gen;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A connection file for the petstore spec (its API key, loopback allowed).
fn connection(dir: &Path) -> PathBuf {
    let file = json!({
        "connector": "petstore",
        "allow_http_loopback": true,
        "credentials": {"api_key": {"key": "test-key"}},
    });
    let path = dir.join("petstore.json");
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

/// Runs `getPet` of the spec at `spec` with the cache setting `cache`; the printed body.
fn get_pet(spec: &Path, server: &MockServer, dir: &Path, cache: &str) -> Value {
    let output = Command::new(connector_gen())
        .args(["run", &spec.to_string_lossy(), "getPet", "--input"])
        .arg(r#"{"petId": 7}"#)
        .arg("--connection")
        .arg(connection(dir))
        .args(["--base-url", &server.uri(), "--name", "petstore"])
        .env("CONNECTOR_GEN_CACHE", cache)
        // Where the cache would go if the setting above were not obeyed.
        .env("XDG_CACHE_HOME", dir.join("xdg"))
        .env("HOME", dir.join("home"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    for (route, name) in [("/pets/7", "Rex"), ("/animals/7", "Moved")] {
        Mock::given(method("GET"))
            .and(path(route))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": 7, "name": name, "status": "available"})),
            )
            .mount(&server)
            .await;
    }
    server
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

fn spec_copy(dir: &Path) -> PathBuf {
    let original = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/petstore.yaml");
    let copy = dir.join("petstore.yaml");
    std::fs::copy(original, &copy).unwrap();
    copy
}

#[tokio::test]
async fn a_repeated_run_reads_the_cache_and_a_changed_spec_is_not_served_from_it() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let spec = spec_copy(dir.path());
    let cache_text = cache.to_string_lossy().into_owned();

    let first = get_pet(&spec, &server, dir.path(), &cache_text);
    assert_eq!(first["name"], "Rex");
    let written = entries(&cache);
    assert_eq!(written.len(), 1, "{written:?}");
    let entry = std::fs::read(&written[0]).unwrap();

    let second = get_pet(&spec, &server, dir.path(), &cache_text);
    assert_eq!(second, first);
    assert_eq!(entries(&cache), written);
    assert_eq!(std::fs::read(&written[0]).unwrap(), entry);

    // The same action of a changed spec goes where the new spec says.
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("/pets/{petId}:", "/animals/{petId}:")).unwrap();
    let moved = get_pet(&spec, &server, dir.path(), &cache_text);
    assert_eq!(moved["name"], "Moved");
    assert_eq!(entries(&cache).len(), 2);
}

#[tokio::test]
async fn a_corrupt_entry_is_ignored_and_written_again() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let spec = spec_copy(dir.path());
    let cache_text = cache.to_string_lossy().into_owned();
    let expected = get_pet(&spec, &server, dir.path(), &cache_text);
    let entry = entries(&cache).pop().unwrap();
    let whole = std::fs::read(&entry).unwrap();
    // The request path in the entry changed (still valid JSON), then the entry cut short.
    let text = String::from_utf8(whole.clone()).unwrap();
    assert!(text.contains("/pets/{petId}"));
    let tampered = text.replace("/pets/{petId}", "/animals/{petId}");
    for corrupt in [tampered.into_bytes(), whole[..whole.len() / 3].to_vec()] {
        std::fs::write(&entry, corrupt).unwrap();
        assert_eq!(get_pet(&spec, &server, dir.path(), &cache_text), expected);
        assert_eq!(std::fs::read(&entry).unwrap(), whole);
    }
}

#[tokio::test]
async fn a_turned_off_cache_writes_nothing() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let spec = spec_copy(dir.path());
    for _ in 0..2 {
        assert_eq!(get_pet(&spec, &server, dir.path(), "off")["name"], "Rex");
    }
    assert!(!dir.path().join("xdg").exists());
    assert!(!dir.path().join("home").exists());
    assert!(!dir.path().join("off").exists());
}
