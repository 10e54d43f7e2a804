//! Every petstore action, generated through build.rs, called against an in-process mock server:
//! the exact request is asserted (method, path, query, headers, body) and the response decoded.

use connector_runtime::{Connection, Credential, Error};
use connector_tests::petstore::{types, Client, CONNECTOR};
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk_test_petstore_1";

async fn client_for(server: &MockServer) -> Client {
    let connection = Connection::builder(&CONNECTOR)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .credential("api_key", Credential::api_key(KEY))
        .build()
        .expect("connection");
    Client::new(connection)
}

/// Serves `response` to any request and returns the single request the server saw.
async fn serve(response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

async fn only_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "exactly one request");
    requests.remove(0)
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

fn pet_json() -> serde_json::Value {
    json!({"id": 7, "name": "Rex", "status": "available", "tag": null, "birthDate": "2020-01-02",
           "owner": {"name": "Ann", "email": "ann@example.com"}})
}

#[tokio::test]
async fn list_pets_sends_query_and_header_and_decodes_page() {
    let server = serve(ResponseTemplate::new(200).set_body_json(json!({
        "items": [pet_json()], "next": "c2"
    })))
    .await;
    let client = client_for(&server).await;
    let options = types::ListPetsOptions {
        limit: Some(20),
        status: Some(types::PetStatus::Pending),
        tags: Some(vec!["a b".to_owned(), "c&d".to_owned()]),
        x_request_id: Some("req-1".to_owned()),
    };
    let page = client.list_pets(&options).await.expect("list");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].name, "Rex");
    assert_eq!(page.items[0].status, types::PetStatus::Available);
    assert_eq!(
        page.items[0].owner.as_ref().and_then(|o| o.name.as_deref()),
        Some("Ann")
    );
    assert_eq!(page.next.as_deref(), Some("c2"));

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/pets");
    let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        vec![
            ("limit".into(), "20".into()),
            ("status".into(), "pending".into()),
            ("tags".into(), "a b".into()),
            ("tags".into(), "c&d".into()),
        ]
    );
    assert_eq!(header(&request, "x-request-id"), Some("req-1"));
    assert_eq!(header(&request, "x-api-key"), Some(KEY));
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn list_pets_without_options_sends_no_query() {
    let server = serve(ResponseTemplate::new(200).set_body_json(json!({"items": []}))).await;
    let page = client_for(&server)
        .await
        .list_pets(&types::ListPetsOptions::default())
        .await
        .expect("list");
    assert!(page.items.is_empty() && page.next.is_none());
    let request = only_request(&server).await;
    assert_eq!(request.url.query(), None);
    assert!(request.headers.get("x-request-id").is_none());
}

#[tokio::test]
async fn create_pet_posts_json_body() {
    let server = serve(ResponseTemplate::new(201).set_body_json(pet_json())).await;
    let new_pet = types::NewPet {
        name: "Rex".to_owned(),
        tag: None,
        status: Some(types::PetStatus::Available),
        birth_date: Some("2020-01-02".to_owned()),
    };
    let pet = client_for(&server)
        .await
        .create_pet(&new_pet)
        .await
        .expect("create");
    assert_eq!(pet.id, 7);

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/pets");
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json body");
    assert_eq!(
        body,
        json!({"name": "Rex", "status": "available", "birthDate": "2020-01-02"})
    );
}

#[tokio::test]
async fn get_pet_puts_id_in_path() {
    let server = serve(ResponseTemplate::new(200).set_body_json(pet_json())).await;
    let pet = client_for(&server).await.get_pet(7).await.expect("get");
    assert_eq!(pet.birth_date.as_deref(), Some("2020-01-02"));
    // `tag` is optional and nullable: present as null is kept apart from absent.
    assert_eq!(pet.tag, Some(None));
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(request.url.path(), "/pets/7");
}

#[tokio::test]
async fn update_pet_puts_body_to_path() {
    let server = serve(ResponseTemplate::new(200).set_body_json(pet_json())).await;
    let new_pet = types::NewPet {
        name: "Max".to_owned(),
        tag: Some("dog".to_owned()),
        status: None,
        birth_date: None,
    };
    client_for(&server)
        .await
        .update_pet(42, &new_pet)
        .await
        .expect("update");
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "PUT");
    assert_eq!(request.url.path(), "/pets/42");
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("json body");
    assert_eq!(body, json!({"name": "Max", "tag": "dog"}));
}

#[tokio::test]
async fn delete_pet_accepts_empty_204() {
    let server = serve(ResponseTemplate::new(204)).await;
    client_for(&server)
        .await
        .delete_pet(9)
        .await
        .expect("delete");
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "DELETE");
    assert_eq!(request.url.path(), "/pets/9");
    assert_eq!(header(&request, "x-api-key"), Some(KEY));
}

#[tokio::test]
async fn error_status_carries_status_and_body() {
    let server = serve(
        ResponseTemplate::new(404).set_body_json(json!({"code": 404, "message": "no pet 5"})),
    )
    .await;
    let err = client_for(&server).await.get_pet(5).await.expect_err("404");
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("no pet 5"), "{err}");
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn undecodable_body_is_a_decode_error() {
    let server =
        serve(ResponseTemplate::new(200).set_body_string("{\"id\": \"not a number\"}")).await;
    let err = client_for(&server)
        .await
        .get_pet(5)
        .await
        .expect_err("bad body");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.status(), Some(200));
}

#[tokio::test]
async fn missing_credential_fails_before_sending() {
    let server = serve(ResponseTemplate::new(200)).await;
    let connection = Connection::builder(&CONNECTOR)
        .base_url(server.uri())
        .build()
        .expect("connection");
    let err = Client::new(connection)
        .delete_pet(1)
        .await
        .expect_err("no key");
    assert!(err.to_string().contains("api_key"), "{err}");
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn actions_run_by_name_with_json() {
    let server = serve(ResponseTemplate::new(200).set_body_json(pet_json())).await;
    let client = client_for(&server).await;
    let output = client
        .connection()
        .execute_json("getPet", json!({"petId": 3}))
        .await
        .expect("dynamic call");
    assert_eq!(output["name"], "Rex");
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/pets/3");
}

#[test]
fn descriptor_lists_every_action_with_its_server() {
    let ids: Vec<&str> = CONNECTOR
        .operations
        .iter()
        .map(|op| op.id.as_ref())
        .collect();
    assert_eq!(
        ids,
        ["listPets", "createPet", "getPet", "updatePet", "deletePet"]
    );
    assert_eq!(
        CONNECTOR.servers[0].url,
        "https://{environment}.petstore.example.com/v1"
    );
    let connection = Connection::builder(&CONNECTOR)
        .server_variable("environment", "sandbox")
        .build()
        .expect("connection");
    assert_eq!(
        connection.base_url(),
        "https://sandbox.petstore.example.com/v1"
    );
    let err = Connection::builder(&CONNECTOR)
        .server_variable("environment", "prod")
        .build()
        .expect_err("not in enum");
    assert!(err.to_string().contains("environment"), "{err}");
}
