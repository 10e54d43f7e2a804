//! `x-connector-idempotent: true` on an operation reaches the catalogue, which the runtime reads
//! to send an idempotency key with that POST (and so to retry it).

use connector_gen::Options;

#[test]
fn the_extension_marks_the_action_in_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("orders.yaml");
    std::fs::write(
        &spec,
        r#"
openapi: 3.0.3
info: {title: Orders, version: "1"}
paths:
  /orders:
    post:
      operationId: createOrder
      x-connector-idempotent: true
      responses: {"201": {description: created}}
    put:
      operationId: replaceOrders
      responses: {"200": {description: ok}}
  /orders/import:
    post:
      operationId: importOrders
      x-connector-idempotent: false
      responses: {"201": {description: created}}
"#,
    )
    .unwrap();
    let catalogue = connector_gen::interpret::catalogue(&spec, &Options::default()).unwrap();
    let marked = |id: &str| {
        catalogue
            .action(id)
            .map(|a| a.idempotent)
            .expect("the action is in the catalogue")
    };
    assert!(marked("createOrder"));
    assert!(!marked("replaceOrders"));
    assert!(!marked("importOrders"));
    // Unmarked actions leave the field out of the JSON, so existing catalogues are unchanged.
    let json = serde_json::to_value(&catalogue).unwrap();
    for action in json["actions"].as_array().unwrap() {
        let expected = (action["id"] == "createOrder").then_some(&serde_json::Value::Bool(true));
        assert_eq!(action.get("idempotent"), expected, "{action}");
    }
}
