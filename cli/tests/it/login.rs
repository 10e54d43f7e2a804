//! `connector-gen login` as a process against the loopback authorization server
//! (`runtime/tests/it/support/authz.rs`), with the browser replaced by an HTTP client that
//! follows the printed URL: the authorization code flow with PKCE, a tampered `state`, a code
//! that was already used, the device flow with `authorization_pending`, `slow_down` and expiry,
//! the password flow, OpenID Connect discovery; then `run` with the stored tokens.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::authz::{AuthServer, CLIENT_ID, CLIENT_SECRET, USER};

/// A spec whose OAuth scheme's endpoints are the test server's, and a connection file for it;
/// `credential` is the body of `[credentials.SCHEME]`.
struct Setup {
    dir: tempfile::TempDir,
    spec: PathBuf,
    connection: PathBuf,
}

fn setup(server: &AuthServer, scheme: &str, credential: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let base = server.uri();
    let spec = format!(
        r#"openapi: 3.0.3
info: {{title: Logintest, version: 1.0.0}}
servers: [{{url: '{base}'}}]
paths:
  /api/me:
    get:
      operationId: getMe
      security: [{{oauth: [read]}}, {{oidc: [read]}}]
      responses:
        '200':
          description: Who the token belongs to.
          content: {{application/json: {{schema: {{type: object}}}}}}
components:
  securitySchemes:
    oauth:
      type: oauth2
      x-connector-device-authorization-url: '{base}/device'
      flows:
        authorizationCode:
          authorizationUrl: '{base}/authorize'
          tokenUrl: '{base}/token'
          scopes: {{read: Read., write: Write., offline_access: Refresh tokens.}}
        password:
          tokenUrl: '{base}/token'
          scopes: {{read: Read.}}
    oidc:
      type: openIdConnect
      openIdConnectUrl: '{base}/.well-known/openid-configuration'
"#
    );
    let spec_path = dir.path().join("logintest.yaml");
    std::fs::write(&spec_path, spec).unwrap();
    let connection = dir.path().join("shop.toml");
    std::fs::write(
        &connection,
        format!(
            "connector = \"logintest\"\nallow_http_loopback = true\n\n[credentials.{scheme}]\n{credential}\n"
        ),
    )
    .unwrap();
    Setup {
        dir,
        spec: spec_path,
        connection,
    }
}

impl Setup {
    fn secrets(&self) -> PathBuf {
        self.dir.path().join("shop.secrets.json")
    }

    /// `connector-gen login` with `extra` arguments, stdout and stderr piped.
    fn login(&self, extra: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_connector-gen"))
            .arg("login")
            .arg(&self.spec)
            .arg("--connection")
            .arg(&self.connection)
            .args(["--no-browser", "--timeout", "20"])
            .args(extra)
            .env("PASSWORD", USER.1)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn run_get_me(&self) -> Output {
        Command::new(env!("CARGO_BIN_EXE_connector-gen"))
            .arg("run")
            .arg(&self.spec)
            .arg("getMe")
            .arg("--connection")
            .arg(&self.connection)
            .output()
            .unwrap()
    }
}

/// A login under way whose stderr is read as it comes.
struct Running {
    child: Child,
    /// The rest of stderr, read by a thread so that the process never blocks on it.
    stderr: std::thread::JoinHandle<String>,
}

/// Reads stderr until a line starting with `  http` (the URL to open) and returns it.
fn printed_url(mut child: Child) -> (String, Running) {
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        seen.push(line.clone());
        if let Some(url) = line.strip_prefix("  http") {
            let url = format!("http{url}");
            let stderr = std::thread::spawn(move || {
                let rest: Vec<String> = lines.map_while(Result::ok).collect();
                seen.extend(rest);
                seen.join("\n")
            });
            return (url, Running { child, stderr });
        }
    }
    let _ = child.kill();
    panic!("no URL printed: {seen:?}");
}

fn finish(child: Child) -> (i32, Value, String) {
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), json, stderr)
}

/// Waits for a login.
async fn finish_child(child: Child) -> (i32, Value, String) {
    tokio::task::spawn_blocking(move || finish(child))
        .await
        .unwrap()
}

/// Waits for a login whose URL was read.
async fn finish_running(running: Running) -> (i32, Value, String) {
    tokio::task::spawn_blocking(move || {
        let (code, json, _) = finish(running.child);
        (code, json, running.stderr.join().unwrap_or_default())
    })
    .await
    .unwrap()
}

/// The browser: follows the authorization URL's redirect to the loopback callback.
async fn browse(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

const CODE_CLIENT: &str =
    "grant = \"authorization_code\"\nclient_id = \"cli-app\"\nscopes = [\"read\", \"offline_access\"]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_with_pkce_stores_tokens_beside_the_connection() {
    let server = AuthServer::start().await;
    let setup = setup(&server, "oauth", CODE_CLIENT);
    let connection_before = std::fs::read_to_string(&setup.connection).unwrap();
    // Before login, a call says how to get tokens.
    let before = setup.run_get_me();
    assert_eq!(before.status.code(), Some(3), "{before:?}");
    assert!(String::from_utf8_lossy(&before.stderr).contains("login"));

    let (url, child) = printed_url(setup.login(&[]));
    assert!(
        url.starts_with(&format!("{}/authorize?", server.uri())),
        "{url}"
    );
    for part in [
        "response_type=code",
        "code_challenge_method=S256",
        "client_id=cli-app",
        "scope=read+offline_access",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
    let (status, page) = browse(&url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Authorized"), "{page}");
    let (code, json, stderr) = finish_running(child).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["scheme"], "oauth");
    assert_eq!(json["flow"], "authorization_code");
    assert_eq!(json["refresh_token"], true);
    assert_eq!(json["expires_in"], 3600);
    assert_eq!(
        json["scopes"],
        serde_json::json!(["read", "offline_access"])
    );

    let record = server.record();
    assert_eq!(record.grants.get("authorization_code"), Some(&1));
    assert!(record.refusals.is_empty(), "{record:?}");
    assert_eq!(record.requested_scopes, ["read", "offline_access"]);
    assert!(record.redirect_uris[0].starts_with("http://127.0.0.1:"));

    // The tokens are in the secrets file (mode 0600), not in the connection file, and nowhere
    // in what the command printed.
    let secrets: Value =
        serde_json::from_str(&std::fs::read_to_string(setup.secrets()).unwrap()).unwrap();
    let stored = &secrets["schemes"]["oauth"];
    let access = stored["access_token"].as_str().unwrap().to_owned();
    let refresh = stored["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(mode(&setup.secrets()), 0o600);
    assert_eq!(
        std::fs::read_to_string(&setup.connection).unwrap(),
        connection_before
    );
    for token in [&access, &refresh] {
        assert!(!json.to_string().contains(token.as_str()));
        assert!(!stderr.contains(token.as_str()));
    }
    assert!(server.is_live_refresh(&refresh));

    // The connection now calls the API with the stored access token.
    let run = setup.run_get_me();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let me: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(me["sub"], "ann");
    assert_eq!(server.record().api_refused, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_state_ends_the_login_before_any_exchange() {
    let server = AuthServer::start().await;
    server.configure(|b| b.tamper_state = true);
    let setup = setup(&server, "oauth", CODE_CLIENT);
    let (url, child) = printed_url(setup.login(&[]));
    let (status, page) = browse(&url).await;
    assert_eq!(status, 400);
    assert!(page.contains("refused"), "{page}");
    let (code, _, stderr) = finish_running(child).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("`state`"), "{stderr}");
    assert_eq!(server.record().grants.get("authorization_code"), None);
    assert!(!setup.secrets().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_authorization_exits_4() {
    let server = AuthServer::start().await;
    server.configure(|b| b.deny = true);
    let setup = setup(&server, "oauth", CODE_CLIENT);
    let (url, child) = printed_url(setup.login(&[]));
    browse(&url).await;
    let (code, _, stderr) = finish_running(child).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("access_denied"), "{stderr}");
}

/// The code reaches the token endpoint first from elsewhere (an intercepted redirect): codes are
/// single-use, so the login's own exchange is refused, and it says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_used_before_the_login_exchanges_it_is_refused() {
    let server = AuthServer::start().await;
    let setup = setup(&server, "oauth", CODE_CLIENT);
    let (url, child) = printed_url(setup.login(&[]));
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorized = no_redirects.get(&url).send().await.unwrap();
    assert_eq!(authorized.status().as_u16(), 302);
    let callback = authorized.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let code = reqwest::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let redirect_uri = callback.split('?').next().unwrap().to_owned();
    let stolen = no_redirects
        .post(format!("{}/token", server.uri()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            (
                "code_verifier",
                "a-guess-that-is-not-the-verifier-at-all-00000",
            ),
            ("client_id", CLIENT_ID),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status().as_u16(), 400, "a wrong verifier is refused");
    // Now the browser brings the code back to the login.
    let (status, _) = browse(&callback).await;
    assert_eq!(status, 200);
    let (exit, _, stderr) = finish_running(child).await;
    assert_eq!(exit, 4, "{stderr}");
    assert!(stderr.contains("invalid_grant"), "{stderr}");
    assert_eq!(server.record().refusals.get("invalid_grant"), Some(&2));
    assert!(!setup.secrets().exists());
}

/// The server itself, so that a login it accepts proves the client right: a wrong verifier, a
/// reused code, another redirect URI and a scope it does not grant are all refused.
#[tokio::test]
async fn the_test_server_checks_pkce_codes_redirects_and_scopes() {
    let server = AuthServer::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // RFC 7636 appendix B.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let redirect = "http://127.0.0.1:9/callback";
    let authorize = |scope: &'static str, redirect_uri: &'static str| {
        let http = http.clone();
        let url = format!("{}/authorize", server.uri());
        async move {
            let response = http
                .get(url)
                .query(&[
                    ("response_type", "code"),
                    ("client_id", CLIENT_ID),
                    ("redirect_uri", redirect_uri),
                    ("scope", scope),
                    ("state", "0123456789abcdef0123"),
                    ("code_challenge", challenge),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .await
                .unwrap();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            (response.status().as_u16(), location)
        }
    };
    assert_eq!(authorize("read admin", redirect).await.0, 400, "scope");
    assert_eq!(
        authorize("read", "https://evil.example/callback").await.0,
        400,
        "redirect"
    );
    let exchange = |code: String, verifier: &'static str, redirect_uri: &'static str| {
        let http = http.clone();
        let url = format!("{}/token", server.uri());
        async move {
            let response = http
                .post(url)
                .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", redirect_uri),
                    ("code_verifier", verifier),
                ])
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    };
    let code_of = |location: Option<String>| {
        let location = location.unwrap();
        reqwest::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let (_, location) = authorize("read", redirect).await;
    assert_eq!(
        exchange(code_of(location), "wrong-verifier", redirect).await,
        400
    );
    let (_, location) = authorize("read", redirect).await;
    assert_eq!(
        exchange(code_of(location), verifier, "http://127.0.0.1:10/callback").await,
        400,
        "another redirect URI"
    );
    let (_, location) = authorize("read", redirect).await;
    let code = code_of(location);
    assert_eq!(exchange(code.clone(), verifier, redirect).await, 200);
    assert_eq!(exchange(code, verifier, redirect).await, 400, "reused code");
}

const DEVICE_CLIENT: &str = "grant = \"device_code\"\nclient_id = \"cli-app\"\nscopes = [\"read\"]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_waits_through_pending_and_slow_down() {
    let server = AuthServer::start().await;
    server.configure(|b| {
        b.device_script = vec!["authorization_pending", "slow_down"];
        b.device_interval = 1;
    });
    let setup = setup(&server, "oauth", DEVICE_CLIENT);
    let started = Instant::now();
    let child = setup.login(&[]);
    let (code, json, stderr) = finish_child(child).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["flow"], "device_code");
    assert!(
        stderr.contains("https://auth.example.test/activate"),
        "{stderr}"
    );
    assert!(stderr.contains("WDJB-MJHT"), "{stderr}");
    let polls = server.record().polls;
    assert_eq!(polls.len(), 3, "pending, slow_down, then tokens");
    // Polled at the announced interval, then five seconds slower after `slow_down`.
    assert!(polls[1] - polls[0] >= Duration::from_millis(950));
    assert!(polls[2] - polls[1] >= Duration::from_millis(5950));
    assert!(started.elapsed() >= Duration::from_secs(7));
    assert!(setup.secrets().exists());
    assert_eq!(setup.run_get_me().status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_gives_up_when_the_code_expires() {
    let server = AuthServer::start().await;
    server.configure(|b| {
        b.device_script = vec!["authorization_pending"; 20];
        b.device_interval = 1;
        b.device_expires_in = 3;
    });
    let setup = setup(&server, "oauth", DEVICE_CLIENT);
    let started = Instant::now();
    let child = setup.login(&[]);
    let (code, _, stderr) = finish_child(child).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("expired"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(server.record().polls.len() <= 3);
    assert!(!setup.secrets().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_flow_and_open_id_connect_device_discovery() {
    let server = AuthServer::start().await;
    let setup = setup(
        &server,
        "oauth",
        "grant = \"password\"\nclient_id = \"cli-app\"\nclient_secret = { env = \"SECRET\" }\nusername = \"ann\"\npassword = { env = \"PASSWORD\" }\nscopes = [\"read\"]",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_connector-gen"))
        .arg("login")
        .arg(&setup.spec)
        .arg("--connection")
        .arg(&setup.connection)
        .env("PASSWORD", USER.1)
        .env("SECRET", CLIENT_SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, json, stderr) = finish_child(child).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["flow"], "password");
    assert!(!stderr.contains(USER.1) && !stderr.contains(CLIENT_SECRET));
    assert_eq!(server.record().grants.get("password"), Some(&1));

    // OpenID Connect: the device endpoint comes from the discovery document.
    let setup = setup_oidc(&server);
    let child = setup.login(&["--scheme", "oidc", "--flow", "device_code"]);
    let (code, json, stderr) = finish_child(child).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["scheme"], "oidc");
    assert_eq!(json["flow"], "device_code");
}

fn setup_oidc(server: &AuthServer) -> Setup {
    setup(
        server,
        "oidc",
        "client_id = \"cli-app\"\ngrant = \"device_code\"",
    )
}

#[tokio::test]
async fn bad_input_exits_2_with_the_key_at_fault() {
    let server = AuthServer::start().await;
    // A flow the scheme does not declare.
    let setup = setup(
        &server,
        "oauth",
        "grant = \"authorization_code\"\nclient_id = \"cli-app\"",
    );
    let child = setup.login(&["--scheme", "oauth", "--flow", "nonsense"]);
    let (code, _, stderr) = finish(child);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unknown flow"), "{stderr}");
    // No client id.
    std::fs::write(
        &setup.connection,
        "connector = \"logintest\"\nallow_http_loopback = true\n[credentials.oauth]\ngrant = \"device_code\"\n",
    )
    .unwrap();
    let (code, _, stderr) = finish(setup.login(&[]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("credentials.oauth.client_id"), "{stderr}");
    // Plain http to a host that is not loopback is refused before anything is sent.
    let spec = std::fs::read_to_string(&setup.spec).unwrap().replace(
        &format!("'{}/token'", server.uri()),
        "'http://auth.example.test/token'",
    );
    std::fs::write(&setup.spec, spec).unwrap();
    std::fs::write(
        &setup.connection,
        "connector = \"logintest\"\nallow_http_loopback = true\n[credentials.oauth]\ngrant = \"password\"\nclient_id = \"cli-app\"\nusername = \"ann\"\npassword = \"x\"\n",
    )
    .unwrap();
    let (code, _, stderr) = finish(setup.login(&[]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("https"), "{stderr}");
    assert!(server.record().grants.is_empty());
}
