//! The sample connection files next to the specs, and every auth scheme of the generated
//! `auth` connector put in exactly the right place.

use std::path::{Path, PathBuf};

use connector_runtime::{load_dir, Connection, ConnectionConfig, Credential, OAuth2Credential};
use connector_tests::{auth, petstore};
use serde_json::json;
use wiremock::matchers::{any, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "sk_live_CANARY_conn_1";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/petstore.connections")
}

fn set_secrets() {
    std::env::set_var("PETSTORE_API_KEY", SECRET);
    std::env::set_var("PETSTORE_CLIENT_SECRET", SECRET);
}

#[test]
fn petstore_example_connections_load_side_by_side() {
    set_secrets();
    let connections = load_dir(&petstore::CONNECTOR, examples()).expect("example connections");
    let names: Vec<&str> = connections.keys().map(String::as_str).collect();
    assert_eq!(names, ["partner-oauth", "shop-api-key"]);
    assert_eq!(
        connections["shop-api-key"].base_url(),
        "https://sandbox.petstore.example.com/v1"
    );
    assert_eq!(
        connections["partner-oauth"].base_url(),
        "https://api.petstore.example.com/v1"
    );
    for connection in connections.values() {
        assert!(!format!("{connection:?}").contains(SECRET));
    }
}

/// Reads an example file with its base URL (and token URL) pointed at the mock server.
fn example_against(file: &str, server: &MockServer) -> ConnectionConfig {
    let text = std::fs::read_to_string(examples().join(file)).expect("example file");
    let text = format!(
        "base_url = \"{}\"\nallow_http_loopback = true\n{text}",
        server.uri()
    )
    .replace(
        "[credentials.oauth]\n",
        &format!(
            "[credentials.oauth]\ntoken_url = \"{}/oauth/token\"\n",
            server.uri()
        ),
    );
    ConnectionConfig::from_text(&petstore::CONNECTOR, &text, "toml", file, None).expect("config")
}

async fn serve_pets() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn petstore_api_key_variant_sends_the_key() {
    set_secrets();
    let server = serve_pets().await;
    let connection = example_against("shop-api-key.toml", &server)
        .connect(&petstore::CONNECTOR)
        .unwrap();
    petstore::Client::new(connection)
        .delete_pet(1)
        .await
        .expect("delete");
    let all = requests(&server).await;
    assert_eq!(all.len(), 1);
    assert_eq!(header(&all[0], "x-api-key"), Some(SECRET));
    assert!(header(&all[0], "authorization").is_none());
}

#[tokio::test]
async fn petstore_oauth_variant_gets_a_token_first() {
    set_secrets();
    let server = serve_pets().await;
    let connection = example_against("partner-oauth.toml", &server)
        .connect(&petstore::CONNECTOR)
        .unwrap();
    let client = petstore::Client::new(connection);
    client.delete_pet(1).await.expect("delete");
    client.delete_pet(2).await.expect("delete");
    let all = requests(&server).await;
    let paths: Vec<&str> = all.iter().map(|r| r.url.path()).collect();
    assert_eq!(paths, ["/oauth/token", "/pets/1", "/pets/2"]);
    let form = String::from_utf8_lossy(&all[0].body).into_owned();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(form.contains("scope=pets%3Aread+pets%3Awrite"), "{form}");
    for api in &all[1..] {
        assert_eq!(header(api, "authorization"), Some("Bearer tok-1"));
        assert_eq!(header(api, "x-partner"), Some("partner-42"));
        assert!(header(api, "x-api-key").is_none());
    }
}

/// Calls one action of the generated `auth` connector with every credential configured.
async fn call(action: &str) -> Request {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"access_token": "oauth-token"})),
        )
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let connection = Connection::builder(&auth::CONNECTOR)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .credential("header_key", Credential::api_key("hk"))
        .credential("query_key", Credential::api_key("qk"))
        .credential("cookie_key", Credential::api_key("ck"))
        .credential("basic", Credential::basic("ann", "pw"))
        .credential("bearer", Credential::bearer("bt"))
        .credential("token_scheme", Credential::raw("tv"))
        .credential(
            "oauth",
            Credential::oauth2(
                OAuth2Credential::client_credentials("c", "s")
                    .with_token_url(format!("{}/token", server.uri())),
            ),
        )
        .credential(
            "oidc",
            Credential::oauth2(
                OAuth2Credential::client_credentials("c", "s")
                    .with_token_url(format!("{}/token", server.uri())),
            ),
        )
        .build()
        .expect("connection");
    connection
        .execute_json(action, json!({}))
        .await
        .expect(action);
    requests(&server)
        .await
        .into_iter()
        .find(|r| r.url.path() != "/token")
        .expect("API request")
}

/// Everything a request could carry a credential in.
fn carriers(
    request: &Request,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    (
        header(request, "authorization").map(str::to_owned),
        header(request, "x-api-key").map(str::to_owned),
        request.url.query().map(str::to_owned),
        header(request, "cookie").map(str::to_owned),
    )
}

#[tokio::test]
async fn each_scheme_puts_exactly_its_credential_in_exactly_its_place() {
    let some = |s: &str| Some(s.to_owned());
    let cases = [
        ("headerKey", (None, some("hk"), None, None)),
        ("queryKey", (None, None, some("api_key=qk"), None)),
        ("cookieKey", (None, None, None, some("session=ck"))),
        ("basic", (some("Basic YW5uOnB3"), None, None, None)),
        ("bearerDefault", (some("Bearer bt"), None, None, None)),
        ("otherScheme", (some("Token tv"), None, None, None)),
        (
            "oauthAction",
            (some("Bearer oauth-token"), None, None, None),
        ),
        ("oidcAction", (some("Bearer oauth-token"), None, None, None)),
        ("publicAction", (None, None, None, None)),
        // The first satisfied alternative wins: bearer before anonymous.
        ("optionalAuth", (some("Bearer bt"), None, None, None)),
        // Two schemes together.
        ("keyAndApp", (None, some("hk"), some("api_key=qk"), None)),
    ];
    for (action, expected) in cases {
        let request = call(action).await;
        assert_eq!(carriers(&request), expected, "{action}");
        assert_eq!(
            request.headers.get_all("authorization").iter().count(),
            usize::from(expected.0.is_some()),
            "{action}"
        );
    }
}

#[test]
fn generated_connector_tells_which_schemes_each_action_accepts() {
    let op = auth::CONNECTOR.operation("keyAndApp").expect("action");
    assert_eq!(
        op.auth_alternatives(),
        vec![vec!["header_key", "query_key"], vec!["oauth"]]
    );
    let optional = auth::CONNECTOR.operation("optionalAuth").expect("action");
    assert_eq!(optional.auth_alternatives(), vec![vec!["bearer"], vec![]]);
    assert!(auth::CONNECTOR
        .operation("publicAction")
        .expect("action")
        .auth_alternatives()
        .is_empty());
    let oidc = auth::CONNECTOR.security_scheme("oidc").expect("scheme");
    assert!(matches!(
        &oidc.kind,
        connector_runtime::descriptor::SecuritySchemeKind::OpenIdConnect { url } if url.ends_with("/.well-known/openid-configuration")
    ));
    let oauth = auth::CONNECTOR.security_scheme("oauth").expect("scheme");
    let connector_runtime::descriptor::SecuritySchemeKind::OAuth2 { flows } = &oauth.kind else {
        panic!("oauth2 expected");
    };
    // The four flows of OpenAPI 3.0, then the device flow `x-connector-device-authorization-url`
    // declares, with the authorization code flow's token URL.
    assert_eq!(flows.len(), 5);
    assert_eq!(
        flows[1].refresh_url.as_deref(),
        Some("https://auth.auth-variants.example.com/refresh")
    );
    let device = &flows[4];
    assert_eq!(
        device.kind,
        connector_runtime::descriptor::OAuthFlowKind::DeviceAuthorization
    );
    assert_eq!(
        device.authorization_url.as_deref(),
        Some("https://auth.auth-variants.example.com/device")
    );
    assert_eq!(device.token_url, flows[1].token_url);
}
