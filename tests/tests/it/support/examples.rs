//! Valid inputs for an action, built from its spec: each parameter's and body's `example`, or a
//! value made from the schema when there is none.

use serde_json::{json, Map, Value};

/// The spec as JSON, in the OpenAPI 3.0 form every version is normalised into (a 3.1 or
/// Swagger 2.0 sample is read as the generator reads it).
pub fn load_spec(path: &std::path::Path) -> Value {
    let bytes = std::fs::read(path).expect("spec");
    connector_gen::load::load(&bytes, usize::MAX)
        .expect("spec loads")
        .root
}

/// Follows a local `$ref` (as `#/components/...`).
pub fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..32 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.trim_start_matches('#');
                match spec.pointer(pointer) {
                    Some(target) => value = target,
                    None => return value,
                }
            }
            None => return value,
        }
    }
    value
}

/// A value valid for `schema`.
pub fn from_schema(spec: &Value, schema: &Value) -> Value {
    from_schema_at(spec, schema, 0)
}

/// Past this depth only required properties are filled in, so recursive schemas end.
const OPTIONAL_DEPTH: usize = 3;

fn from_schema_at(spec: &Value, schema: &Value, depth: usize) -> Value {
    let schema = resolve(spec, schema);
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    // A union is satisfied by its first alternative (the sample specs keep alternatives disjoint).
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(|a| a.get(0)) {
            return from_schema_at(spec, first, depth);
        }
    }
    if let Some(members) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for member in members {
            match from_schema_at(spec, member, depth) {
                Value::Object(part) => merged.extend(part),
                // `allOf: [$ref]` beside a description (a 3.1 `$ref` with siblings) is the
                // referenced schema, which need not be an object.
                other if members.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("date") => json!("2020-01-02"),
            Some("date-time") => json!("2020-01-02T03:04:05Z"),
            Some("email") => json!("ann@example.com"),
            Some("uuid") => json!("0b5e8f4e-2a9c-4d7e-9a51-0f4c8f3b2d1a"),
            _ => json!("text"),
        },
        Some("integer") => schema.get("minimum").cloned().unwrap_or(json!(1)),
        Some("number") => schema.get("minimum").cloned().unwrap_or(json!(1.5)),
        Some("boolean") => json!(true),
        Some("array") => json!([from_schema_at(
            spec,
            schema.get("items").unwrap_or(&json!({})),
            depth + 1
        )]),
        _ => {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut object = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    let read_only = resolve(spec, prop).get("readOnly") == Some(&json!(true));
                    let wanted = required.contains(&name.as_str()) || depth < OPTIONAL_DEPTH;
                    if wanted && !read_only {
                        object.insert(name.clone(), from_schema_at(spec, prop, depth + 1));
                    }
                }
            }
            Value::Object(object)
        }
    }
}

/// The example of a parameter, or a value made from its schema or content schema.
fn parameter_value(spec: &Value, param: &Value) -> Value {
    if let Some(example) = param.get("example") {
        return example.clone();
    }
    if let Some(schema) = param.get("schema") {
        return from_schema(spec, schema);
    }
    let media = param
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.values().next());
    match media {
        Some(media) => media
            .get("example")
            .cloned()
            .unwrap_or_else(|| from_schema(spec, media.get("schema").unwrap_or(&json!({})))),
        None => json!("text"),
    }
}

/// The input of the dynamic interface for the operation at `path` / `method`: every parameter
/// (path-item ones overridden by the operation's) and the body of the media type the runtime
/// sends by default (JSON when offered, else the first).
pub fn input_for(spec: &Value, path: &str, method: &str) -> Value {
    let item = resolve(spec, &spec["paths"][path]);
    let operation = &item[method];
    let mut params: Vec<&Value> = Vec::new();
    for list in [&item["parameters"], &operation["parameters"]] {
        for param in list.as_array().into_iter().flatten() {
            let param = resolve(spec, param);
            params.retain(|p| !(p["name"] == param["name"] && p["in"] == param["in"]));
            params.push(param);
        }
    }
    let mut input = Map::new();
    for param in params {
        let Some(name) = param["name"].as_str() else {
            continue;
        };
        // The runtime sets these itself; OpenAPI says such parameters are ignored.
        let ignored = param["in"] == "header"
            && ["accept", "content-type", "authorization"]
                .contains(&name.to_ascii_lowercase().as_str());
        if !ignored && !input.contains_key(name) {
            input.insert(name.to_owned(), parameter_value(spec, param));
        }
    }
    let body = resolve(spec, &operation["requestBody"]);
    if let Some(content) = body.get("content").and_then(Value::as_object) {
        let chosen = content
            .iter()
            .find(|(media, _)| media.contains("json"))
            .or_else(|| content.iter().next());
        if let Some((_, media)) = chosen {
            let value = media
                .get("example")
                .cloned()
                .unwrap_or_else(|| from_schema(spec, media.get("schema").unwrap_or(&json!({}))));
            input.insert("body".to_owned(), value);
        }
    }
    Value::Object(input)
}
