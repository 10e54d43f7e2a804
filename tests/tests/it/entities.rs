//! The typed entity API of generated connectors: `client.pets().list(&opts)` streams typed
//! records across pages, get/create/update/delete send the entity's actions, nested entities take
//! their scope; and the generated binary's `entities`, `list` and `ping`.

use crate::support::cli::{connection_file, generated_petstore_binary, run};
use connector_runtime::paginate::ListOptions;
use connector_runtime::{Connection, Credential};
use connector_tests::{kennel, petstore};
use futures_util::StreamExt;
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn kennel_client(server: &MockServer) -> kennel::Client {
    let connection = Connection::builder(&kennel::CONNECTOR)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .credential("token", Credential::bearer("t"))
        .build()
        .unwrap();
    kennel::Client::new(connection)
}

#[tokio::test]
async fn typed_list_streams_records_across_pages() {
    let server = MockServer::start().await;
    Mock::given(path("/owners/o1/pets"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "meta": {"next_cursor": "n"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/owners/o1/pets"))
        .and(query_param("cursor", "n"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": [{"id": 3, "name": "c"}]})),
        )
        .mount(&server)
        .await;
    let client = kennel_client(&server);
    let pets: Vec<kennel::types::Pet> = client
        .owner_pets("o1")
        .list(&ListOptions::default())
        .unwrap()
        .map(|pet| pet.unwrap())
        .collect()
        .await;
    let names: Vec<&str> = pets.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    // A record of the wrong shape is a decode error naming the action, not a panic.
    Mock::given(path("/owners"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"nope": 1}]})))
        .mount(&server)
        .await;
    let first = client
        .owners()
        .list(&ListOptions::default())
        .unwrap()
        .next()
        .await
        .unwrap();
    let err = first.unwrap_err();
    assert!(
        matches!(
            &err,
            connector_runtime::Error::DecodeRecord { index: 0, .. }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("record 0 of action `listOwners`"),
        "{err}"
    );
}

#[tokio::test]
async fn typed_get_create_update_delete() {
    let server = MockServer::start().await;
    let pet = json!({"id": 7, "name": "Rex", "status": "available"});
    Mock::given(method("GET"))
        .and(path("/pets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&pet))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pets"))
        .respond_with(ResponseTemplate::new(201).set_body_json(&pet))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/pets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&pet))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/pets/7"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let connection = Connection::builder(&petstore::CONNECTOR)
        .base_url(server.uri())
        .allow_http_loopback(true)
        .credential("api_key", Credential::api_key("k"))
        .build()
        .unwrap();
    let client = petstore::Client::new(connection);
    let pets = client.pets();
    assert_eq!(pets.get(7).await.unwrap().name, "Rex");
    let new: petstore::types::NewPet = serde_json::from_value(json!({"name": "Rex"})).unwrap();
    assert_eq!(pets.create(&new).await.unwrap().id, 7);
    assert_eq!(pets.update(7, &new).await.unwrap().id, 7);
    pets.delete(7).await.unwrap();
}

#[test]
fn the_generated_binary_offers_entities_list_and_ping() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(path("/pets"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"items": [{"id": 1, "name": "a", "status": "available"}, {"id": 2, "name": "b", "status": "adopted"}]}),
            ))
            .mount(&server)
            .await;
        server
    });
    let bin = generated_petstore_binary();
    let uri = server.uri();
    let dir = tempfile::tempdir().unwrap();
    let file = connection_file(&petstore::CONNECTOR, dir.path());
    let file = file.to_str().unwrap();
    let listed = run(&bin, &["entities"], None);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(
        listed
            .stdout
            .contains("pets  [list, get, create, update, delete]  key: id"),
        "{listed:?}"
    );
    // The embedded catalogue shares its definitions; each record schema is printed standalone.
    let listed = run(&bin, &["entities", "--json"], None);
    assert_eq!(listed.code, 0, "{listed:?}");
    let record = &listed.json()[0]["record_schema"];
    assert_eq!(record["$ref"], "#/$defs/Pet", "{listed:?}");
    assert_eq!(record["$defs"]["Pet"]["type"], "object", "{listed:?}");
    assert_eq!(record["$defs"]["PetStatus"]["type"], "string", "{listed:?}");
    let list = run(
        &bin,
        &["list", "pets", "--connection", file, "--base-url", &uri],
        None,
    );
    assert_eq!(list.code, 0, "{list:?}");
    assert_eq!(list.stdout.lines().count(), 2, "{list:?}");
    let ping = run(
        &bin,
        &["ping", "--connection", file, "--base-url", &uri],
        None,
    );
    assert_eq!(ping.code, 0, "{ping:?}");
    assert!(ping.stdout.contains("\"reachable\": true"), "{ping:?}");
}

#[tokio::test]
async fn a_paginated_plain_action_gets_a_stream_method() {
    let server = MockServer::start().await;
    Mock::given(path("/events"))
        .and(query_param_is_missing("since"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"events": [{"n": 1}], "last_seen": "e1"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/events"))
        .and(query_param("since", "e1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"events": [{"n": 2}], "last_seen": "e2"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/events"))
        .and(query_param("since", "e2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"events": []})))
        .mount(&server)
        .await;
    let client = kennel_client(&server);
    // The records are typed: the spec's item schema is an object of any properties.
    let events: Vec<std::collections::BTreeMap<String, serde_json::Value>> = client
        .list_events_stream(Default::default(), &ListOptions::default())
        .unwrap()
        .map(|e| e.unwrap())
        .collect()
        .await;
    let numbers: Vec<&serde_json::Value> = events.iter().map(|e| &e["n"]).collect();
    assert_eq!(numbers, [&json!(1), &json!(2)]);
}
