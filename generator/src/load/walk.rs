//! Finds the schemas of an OpenAPI 3.x document: `components.schemas` and every `schema` of a
//! parameter, header or media type, wherever they sit (paths, components, callbacks, webhooks).

use serde_json::Value;

use crate::diagnostics::pointer;

/// Keys whose values are data or extensions, never a place where a schema could sit (an
/// `example` may well hold a key named `schema`). Extensions that hold path items are walked.
fn is_data(key: &str) -> bool {
    matches!(key, "example" | "examples" | "default" | "enum" | "const")
        || (key.starts_with("x-") && !matches!(key, "x-webhooks" | "x-ms-paths"))
}

/// Calls `f` on every schema of the document below `value` (at `at`), outermost first; `f`
/// handles what is nested inside each schema.
pub(super) fn each_schema(value: &mut Value, at: &str, f: &mut dyn FnMut(&mut Value, &str)) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                let child_at = pointer(at, key);
                if key == "schema" {
                    f(child, &child_at);
                } else if key == "schemas" && at == "#/components" {
                    if let Value::Object(schemas) = child {
                        for (name, schema) in schemas.iter_mut() {
                            f(schema, &pointer(&child_at, name));
                        }
                    }
                } else if !is_data(key) {
                    each_schema(child, &child_at, f);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                each_schema(item, &pointer(at, &index.to_string()), f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_component_parameter_and_media_type_schemas_but_not_examples() {
        let mut doc = json!({
            "components": {"schemas": {"A": {}, "schema": {}}},
            "paths": {"/p": {"get": {
                "parameters": [{"name": "q", "schema": {}}],
                "responses": {"200": {"content": {"application/json": {
                    "schema": {}, "example": {"schema": {}}
                }}}}
            }}},
            "x-other": {"schema": {}}
        });
        let mut seen = Vec::new();
        each_schema(&mut doc, "#", &mut |_, at| seen.push(at.to_owned()));
        seen.sort();
        assert_eq!(
            seen,
            [
                "#/components/schemas/A",
                "#/components/schemas/schema",
                "#/paths/~1p/get/parameters/0/schema",
                "#/paths/~1p/get/responses/200/content/application~1json/schema",
            ]
        );
    }
}
