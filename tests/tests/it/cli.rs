//! `connector-gen run` / `describe` and a generated connector's own binary, run as processes
//! the way a user runs them: exit codes, JSON on stdout, diagnostics on stderr.

use std::path::{Path, PathBuf};

use crate::support::cli::{connection_file, connector_gen, generated_petstore_binary, run, Ran};
use connector_runtime::catalogue::Catalogue;
use connector_tests::petstore;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SPEC: &str = "specs/petstore.yaml";

fn pet() -> Value {
    json!({"id": 7, "name": "Rex", "status": "available"})
}

/// A petstore: `GET /pets/7` is Rex, `GET /pets/8` is a 404 with a JSON error body.
async fn petstore_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/pets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pet()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pets/8"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"code": 404, "message": "no pet 8"})),
        )
        .mount(&server)
        .await;
    server
}

struct Setup {
    server: MockServer,
    connection: PathBuf,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    Setup {
        server: petstore_server().await,
        connection: connection_file(&petstore::CONNECTOR, dir.path()),
        _dir: dir,
    }
}

impl Setup {
    /// `connector-gen run specs/petstore.yaml ACTION --connection F --base-url U ARGS...`.
    fn run(&self, action: &str, args: &[&str], stdin: Option<&str>) -> Ran {
        self.run_with(&connector_gen(), &["run", SPEC, action], args, stdin)
    }

    fn run_with(&self, bin: &Path, head: &[&str], args: &[&str], stdin: Option<&str>) -> Ran {
        let connection = self.connection.to_string_lossy().into_owned();
        let uri = self.server.uri();
        let mut all: Vec<&str> = head.to_vec();
        all.extend(["--connection", &connection, "--base-url", &uri]);
        all.extend(args);
        run(bin, &all, stdin)
    }

    async fn requests(&self) -> usize {
        self.server.received_requests().await.map_or(0, |r| r.len())
    }
}

#[tokio::test]
async fn run_prints_the_body_as_json_and_exits_0() {
    let s = setup().await;
    let ran = s.run("getPet", &["--input", r#"{"petId": 7}"#], None);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.json(), pet());
    assert_eq!(ran.stderr, "");

    let full = s.run("getPet", &["--input", r#"{"petId": 7}"#, "--full"], None);
    assert_eq!(full.code, 0, "{full:?}");
    assert_eq!(full.json()["status"], 200);
    assert_eq!(full.json()["body"], pet());

    // The input from a file and from stdin.
    let file = s._dir.path().join("input.json");
    std::fs::write(&file, r#"{"petId": 7}"#).expect("input file");
    let from_file = s.run(
        "getPet",
        &["--input", &format!("@{}", file.display())],
        None,
    );
    assert_eq!(
        (from_file.code, from_file.json()),
        (0, pet()),
        "{from_file:?}"
    );
    let from_stdin = s.run("getPet", &["--input", "-"], Some(r#"{"petId": 7}"#));
    assert_eq!(
        (from_stdin.code, from_stdin.json()),
        (0, pet()),
        "{from_stdin:?}"
    );
    assert_eq!(s.requests().await, 4);
}

#[tokio::test]
async fn a_non_2xx_answer_exits_4_with_its_body_on_stdout() {
    let s = setup().await;
    let ran = s.run("getPet", &["--input", r#"{"petId": 8}"#], None);
    assert_eq!(ran.code, 4, "{ran:?}");
    assert_eq!(ran.json(), json!({"code": 404, "message": "no pet 8"}));
    assert!(ran.stderr.contains("404"), "{}", ran.stderr);
}

#[tokio::test]
async fn bad_input_exits_2_and_sends_nothing() {
    let s = setup().await;
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("getPt", vec![], "no action `getPt`; did you mean `getPet`?"),
        (
            "getPet",
            vec!["--input", r#"{"petId": "seven", "limt": 1}"#],
            "/petId: expected integer, got \"seven\"",
        ),
        (
            "createPet",
            vec!["--input", r#"{"body": {"name": 7}}"#],
            "/body/name: expected string, got 7",
        ),
        ("getPet", vec!["--input", "{petId: 7"], "not valid JSON"),
        (
            "getPet",
            vec!["--input", "@/nonexistent/input.json"],
            "cannot read the input file",
        ),
        ("getPet", vec!["--var", "novalue"], "--var takes NAME=VALUE"),
    ];
    for (action, args, expected) in cases {
        let ran = s.run(action, &args, None);
        assert_eq!(ran.code, 2, "{action} {args:?}: {ran:?}");
        assert!(
            ran.stderr.contains(expected),
            "{action} {args:?}: {}",
            ran.stderr
        );
        assert_eq!(ran.stdout, "", "{action} {args:?}");
    }
    // Every problem at once.
    let ran = s.run(
        "getPet",
        &["--input", r#"{"petId": "seven", "limt": 1}"#],
        None,
    );
    assert!(ran.stderr.contains("2 problems"), "{}", ran.stderr);
    assert!(ran.stderr.contains("/limt: unknown key"), "{}", ran.stderr);

    // A connection file of another connector.
    let other = s._dir.path().join("other.json");
    std::fs::write(&other, r#"{"connector": "github"}"#).expect("file");
    let ran = run(
        &connector_gen(),
        &[
            "run",
            SPEC,
            "getPet",
            "--connection",
            &other.to_string_lossy(),
        ],
        None,
    );
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(
        ran.stderr.contains("invalid connection file"),
        "{}",
        ran.stderr
    );

    // A server variable the spec does not allow (no --base-url: the spec's server is used).
    let ran = run(
        &connector_gen(),
        &[
            "run",
            SPEC,
            "getPet",
            "--input",
            r#"{"petId": 7}"#,
            "--var",
            "environment=evil",
        ],
        None,
    );
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(
        ran.stderr
            .contains("server variable `environment`: must be one of: api, sandbox"),
        "{}",
        ran.stderr
    );

    // An unreadable spec.
    let ran = run(
        &connector_gen(),
        &["run", "specs/missing.yaml", "getPet"],
        None,
    );
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("reading spec"), "{}", ran.stderr);
    assert_eq!(s.requests().await, 0);
}

#[tokio::test]
async fn a_connection_failure_exits_3() {
    let s = setup().await;
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let connection = s.connection.to_string_lossy().into_owned();
    let url = format!("http://127.0.0.1:{port}");
    let ran = run(
        &connector_gen(),
        &[
            "run",
            SPEC,
            "getPet",
            "--input",
            r#"{"petId": 7}"#,
            "--connection",
            &connection,
            "--base-url",
            &url,
        ],
        None,
    );
    assert_eq!(ran.code, 3, "{ran:?}");
    assert_eq!(ran.stdout, "");
    assert!(ran.stderr.contains("getPet"), "{}", ran.stderr);
    // The connection file's key never shows.
    assert!(!ran.stderr.contains("test-key"), "{}", ran.stderr);
}

#[test]
fn describe_prints_the_catalogue_the_generated_crate_embeds() {
    let embedded =
        Catalogue::from_json(petstore::operations::CATALOGUE_JSON).expect("embedded catalogue");
    let ran = run(&connector_gen(), &["describe", SPEC, "--json"], None);
    assert_eq!(ran.code, 0, "{ran:?}");
    let printed: Catalogue = serde_json::from_value(ran.json()).expect("a catalogue");
    assert_eq!(printed, embedded);
    assert_eq!(ran.json()["name"], "petstore");
    assert_eq!(ran.json()["security_schemes"][0]["type"], "apiKey");

    let one = run(
        &connector_gen(),
        &["describe", SPEC, "getPet", "--json"],
        None,
    );
    assert_eq!(one.code, 0, "{one:?}");
    // The catalogue keeps each definition once; one action is printed self-contained, with the
    // definitions its schemas reach and no others.
    assert!(embedded.definitions.contains_key("Pet"), "{embedded:?}");
    let get_pet = embedded.action("getPet").expect("getPet");
    assert!(get_pet.output_schemas["200"].get("$defs").is_none());
    assert_eq!(
        one.json(),
        serde_json::to_value(embedded.standalone_action(get_pet)).expect("json")
    );
    let defs = &one.json()["output_schemas"]["200"]["$defs"];
    let reached: Vec<&String> = defs.as_object().expect("$defs").keys().collect();
    assert_eq!(reached, ["Pet", "PetOwner", "PetStatus"]);
    jsonschema::validator_for(&one.json()["output_schemas"]["200"]).expect("self-contained");
    let text = run(&connector_gen(), &["describe", SPEC], None);
    assert!(text.stdout.contains("getPet") && text.stdout.contains("/pets/{petId}"));

    let unknown = run(&connector_gen(), &["describe", SPEC, "getPets"], None);
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(
        unknown.stderr.contains("did you mean"),
        "{}",
        unknown.stderr
    );

    let help = run(&connector_gen(), &["run", "--help"], None);
    assert!(help.stdout.contains("Exit codes:"), "{}", help.stdout);
    assert!(help
        .stdout
        .contains("4  the API answered with a non-2xx status"));
}

#[tokio::test]
async fn the_generated_binary_lists_describes_and_runs_actions() {
    let bin = generated_petstore_binary();
    let help = run(&bin, &["--help"], None);
    assert_eq!(help.code, 0, "{help:?}");
    for action in [
        "listPets",
        "createPet",
        "getPet",
        "updatePet",
        "deletePet",
        "Exit codes:",
    ] {
        assert!(help.stdout.contains(action), "{action}: {}", help.stdout);
    }
    let actions = run(&bin, &["actions", "--json"], None);
    let embedded =
        Catalogue::from_json(petstore::operations::CATALOGUE_JSON).expect("embedded catalogue");
    let printed: Catalogue = serde_json::from_value(actions.json()).expect("a catalogue");
    assert_eq!(printed, embedded);
    let one = run(&bin, &["describe", "createPet", "--json"], None);
    let create = embedded.action("createPet").expect("createPet");
    assert_eq!(
        one.json(),
        serde_json::to_value(embedded.standalone_action(create)).expect("json")
    );
    assert_eq!(
        one.json()["input_schema"]["$defs"]["NewPet"]["type"],
        "object"
    );

    let s = setup().await;
    let ran = s.run_with(
        &bin,
        &["run", "getPet"],
        &["--input", r#"{"petId": 7}"#],
        None,
    );
    assert_eq!((ran.code, ran.json()), (0, pet()), "{ran:?}");
    let missing = s.run_with(
        &bin,
        &["run", "getPet"],
        &["--input", r#"{"petId": 8}"#],
        None,
    );
    assert_eq!(missing.code, 4, "{missing:?}");
    let invalid = s.run_with(&bin, &["run", "getPet"], &["--input", "{}"], None);
    assert_eq!(invalid.code, 2, "{invalid:?}");
    assert!(invalid.stderr.contains("/petId: required, but missing"));
    assert_eq!(s.requests().await, 2);
}

/// The generated binary offers `login` too, with the same flows and exit codes, and says which
/// flow a scheme lacks (the petstore's `oauth` has client credentials only).
#[tokio::test]
async fn the_generated_binary_offers_login() {
    let bin = generated_petstore_binary();
    let help = run(&bin, &["login", "--help"], None);
    assert_eq!(help.code, 0, "{help:?}");
    for text in [
        "authorization_code",
        "device_code",
        "--scopes",
        "Exit codes:",
    ] {
        assert!(help.stdout.contains(text), "{text}: {}", help.stdout);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let connection = dir.path().join("partner.toml");
    std::fs::write(
        &connection,
        "connector = \"petstore\"\n[credentials.oauth]\ngrant = \"device_code\"\nclient_id = \"partner-42\"\n",
    )
    .expect("connection file");
    let login = run(
        &bin,
        &[
            "login",
            "--connection",
            &connection.to_string_lossy(),
            "--no-browser",
        ],
        None,
    );
    assert_eq!(login.code, 2, "{login:?}");
    assert!(
        login
            .stderr
            .contains("declares no device authorization flow"),
        "{login:?}"
    );
    assert!(!dir.path().join("partner.secrets.json").exists());
}
