//! Shows the generated petstore connector working: starts an in-process mock of the petstore API
//! on 127.0.0.1, then calls every action through the typed client and one by name with JSON.
//!
//! Run with `cargo run -p connector-tests --example petstore_demo`.

use connector_runtime::{Connection, Credential};
use connector_tests::petstore::{types, Client, CONNECTOR};
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = mock_petstore().await;
    let connection = Connection::builder(&CONNECTOR)
        .base_url(server.uri())
        // The mock listens on plain http on 127.0.0.1; real connections use https.
        .allow_http_loopback(true)
        .credential("api_key", Credential::api_key("demo-key"))
        .build()?;
    println!("connection: {connection:?}\n");
    let client = Client::new(connection);

    let page = client
        .list_pets(&types::ListPetsOptions {
            limit: Some(10),
            status: Some(types::PetStatus::Available),
            ..Default::default()
        })
        .await?;
    println!(
        "listPets  -> {} pet(s), first: {:?}",
        page.items.len(),
        page.items.first().map(|p| &p.name)
    );

    let new_pet = types::NewPet {
        name: "Rex".to_owned(),
        tag: Some("dog".to_owned()),
        status: None,
        birth_date: None,
    };
    let created = client.create_pet(&new_pet).await?;
    println!("createPet -> id {} ({})", created.id, created.name);

    let fetched = client.get_pet(created.id).await?;
    println!("getPet    -> {:?}", fetched.status);

    let updated = client.update_pet(created.id, &new_pet).await?;
    println!("updatePet -> {}", updated.name);

    client.delete_pet(created.id).await?;
    println!("deletePet -> done");

    let by_name = client
        .connection()
        .execute_json("getPet", json!({ "petId": 1 }))
        .await?;
    println!("getPet by name with JSON -> {by_name}");

    match client.get_pet(404).await {
        Err(err) => println!("getPet 404 -> error: {err}"),
        Ok(pet) => println!("getPet 404 -> unexpectedly found {pet:?}"),
    }
    Ok(())
}

async fn mock_petstore() -> MockServer {
    let server = MockServer::start().await;
    let pet = json!({"id": 1, "name": "Rex", "status": "available", "tag": "dog"});
    Mock::given(method("GET"))
        .and(path("/pets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [pet.clone()]})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(pet.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/pets/404"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": 404, "message": "no such pet"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/pets/[0-9]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pet.clone()))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex("^/pets/[0-9]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pet))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path_regex("^/pets/[0-9]+$"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}
