//! Large specs: the types module is rendered and formatted a batch of types at a time, and the
//! pieces must add up to exactly the types of the spec, each once, in order.

use connector_gen::{load_connector, render_module, Options};

#[test]
fn every_type_is_rendered_once_across_batches() {
    const COUNT: usize = 1_000;
    let mut schemas = serde_json::Map::new();
    let mut properties = serde_json::Map::new();
    for i in 0..COUNT {
        schemas.insert(
            format!("Thing{i:04}"),
            serde_json::json!({"type": "object", "properties": {"n": {"type": "integer"}}}),
        );
        properties.insert(
            format!("p{i}"),
            serde_json::json!({"$ref": format!("#/components/schemas/Thing{i:04}")}),
        );
    }
    schemas.insert(
        "All".to_owned(),
        serde_json::json!({"type": "object", "properties": properties}),
    );
    let spec = serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "Large", "version": "1.0.0"},
        "paths": {"/all": {"get": {"operationId": "getAll", "responses": {"200": {
            "description": "ok",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/All"}}}
        }}}}},
        "components": {"schemas": schemas},
    });
    let bytes = serde_json::to_vec(&spec).unwrap();
    let lowered = load_connector(&bytes, &Options::default()).unwrap();
    let code = render_module(&lowered.connector, &Options::default(), "large.json").unwrap();
    let mut last = None;
    for i in 0..COUNT {
        let decl = format!("pub struct Thing{i:04} {{");
        assert_eq!(code.matches(&decl).count(), 1, "{decl}");
        let at = code.find(&decl);
        assert!(at > last, "Thing{i:04} out of order");
        last = at;
    }
    assert_eq!(code.matches("pub struct All {").count(), 1);
}
