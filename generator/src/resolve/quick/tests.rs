use proptest::prelude::*;
use serde_json::json;

use super::*;

/// What `serde` reads from `value`, the reference the quick reader must agree with.
fn by_serde_whole(value: &Value) -> Result<ReferenceOr<Schema>, String> {
    ReferenceOr::<Schema>::deserialize(value).map_err(|err| err.to_string())
}

/// Reads `value` both ways; whenever it is read quickly, `serde` must read the same.
fn agrees(value: &Value) -> bool {
    match ReferenceOr::<Schema>::quick(value) {
        Some(quick) => {
            assert_eq!(Ok(&quick), by_serde_whole(value).as_ref(), "{value}");
            true
        }
        None => false,
    }
}

#[test]
fn each_kind_reads_as_serde_reads_it() {
    let cases = [
        json!({"type": "string", "format": "date-time", "enum": ["a", null], "maxLength": 3}),
        json!({"type": "string", "format": "mine", "pattern": "^a$", "minLength": 1}),
        // A keyword of another type makes `Any`, not the type its `type` names.
        json!({"type": "string", "minimum": 1}),
        json!({"type": "integer", "maximum": 2.5}),
        json!({"type": "boolean", "format": "int32"}),
        // An unknown key that is no extension (`x-` only) is ignored.
        json!({"xa": null, "x-a": null}),
        json!({"type": "number", "minimum": 1.5, "exclusiveMaximum": true, "enum": [1, 2.5]}),
        json!({"type": "integer", "format": "int64", "multipleOf": 2, "maximum": 9}),
        json!({"type": "integer", "minimum": 1.5}),
        json!({"type": "integer", "enum": [1, 18446744073709551615_u64]}),
        json!({"type": "boolean", "enum": [true, null], "nullable": true}),
        json!({"type": "boolean", "format": "flag"}),
        json!({"type": "object", "required": ["a"], "properties": {"a": {"$ref": "#/x"}, "b": {}},
               "additionalProperties": {"type": "string"}, "minProperties": 1}),
        json!({"type": "object", "additionalProperties": false, "enum": [{}]}),
        json!({"type": "array", "items": {"type": "integer"}, "uniqueItems": true, "maxItems": 4}),
        json!({"type": "array", "items": {"type": "integer"}, "required": []}),
        json!({"oneOf": [{"$ref": "#/a"}, {"type": "string"}], "discriminator": {"propertyName": "k"}}),
        json!({"allOf": [{"$ref": "#/a"}], "title": "T", "description": "D"}),
        json!({"anyOf": [{"type": "string"}], "deprecated": true, "readOnly": true}),
        json!({"not": {"type": "string"}, "x-tag": {"deep": [1]}, "example": {"a": 1}}),
        json!({"not": {"type": "string"}, "type": "object"}),
        json!({"oneOf": [], "anyOf": []}),
        json!({"type": "thing", "format": "f", "default": [1], "externalDocs": {"url": "u"}}),
        json!({"type": null, "example": null, "default": null, "items": null}),
        json!({"$ref": "#/components/schemas/Pet", "type": "string"}),
        json!({}),
    ];
    for case in &cases {
        assert!(agrees(case), "not read quickly: {case}");
    }
}

#[test]
fn malformed_schemas_are_left_to_serde() {
    let cases = [
        json!({"nullable": null}),
        json!({"type": ["string", "null"]}),
        json!({"exclusiveMinimum": 3}),
        json!({"minLength": -1}),
        json!({"minLength": 1.0}),
        json!({"required": "a"}),
        json!({"properties": {"a": 5}}),
        json!({"items": [{"type": "string"}]}),
        json!({"additionalProperties": "yes"}),
        json!({"$ref": 7}),
        json!({"discriminator": {"mapping": {}}}),
        json!(["#/a"]),
        json!("string"),
    ];
    for case in &cases {
        assert!(
            ReferenceOr::<Schema>::quick(case).is_none(),
            "read quickly: {case}"
        );
    }
}

/// Every object in the sample specs, taken as a schema: most of those that are schemas are
/// read quickly, and all of them as `serde` reads them.
#[test]
fn every_object_of_the_sample_specs_reads_as_serde_reads_it() {
    fn walk(value: &Value, quick: &mut usize) {
        if value.is_object() && agrees(value) {
            *quick += 1;
        }
        match value {
            Value::Object(map) => map.values().for_each(|v| walk(v, quick)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, quick)),
            _ => {}
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut specs = 0;
    let mut quick = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let Ok(value) = serde_yaml::from_str::<Value>(&text) else {
                continue;
            };
            walk(&value, &mut quick);
            specs += 1;
        }
    }
    assert!(specs >= 10, "{specs} specs");
    assert!(quick >= 500, "{quick} objects read quickly");
}

const KEYWORDS: &[&str] = &[
    "type",
    "format",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "multipleOf",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "oneOf",
    "allOf",
    "anyOf",
    "not",
    "$ref",
    "nullable",
    "readOnly",
    "writeOnly",
    "deprecated",
    "title",
    "description",
    "example",
    "default",
    "discriminator",
    "externalDocs",
    "x-a",
    "xa",
    "other",
];

/// Any JSON value a keyword might wrongly hold.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..20).prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(2.5)),
        Just(json!(3.0)),
        prop::sample::select(vec!["string", "integer", "object", "#/a", "a"]).prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// A value of the JSON type `keyword` wants, with schemas from `schema` where it wants them.
fn fitting(keyword: &'static str, schema: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    let names = || prop::sample::select(vec!["a", "b", "c"]).prop_map(str::to_owned);
    match keyword {
        "type" => prop::sample::select(vec![
            "string", "number", "integer", "boolean", "object", "array", "thing",
        ])
        .prop_map(Value::from)
        .boxed(),
        "format" => prop::sample::select(vec!["int32", "date-time", "float", "mine"])
            .prop_map(Value::from)
            .boxed(),
        "enum" => prop::collection::vec(leaf(), 0..3)
            .prop_map(Value::Array)
            .boxed(),
        "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties" | "maxProperties" => {
            (0u64..5).prop_map(Value::from).boxed()
        }
        "multipleOf" | "minimum" | "maximum" => {
            prop::sample::select(vec![json!(1), json!(-3), json!(2.5), json!(3.0)]).boxed()
        }
        "exclusiveMinimum" | "exclusiveMaximum" | "uniqueItems" | "nullable" | "readOnly"
        | "writeOnly" | "deprecated" => any::<bool>().prop_map(Value::Bool).boxed(),
        "properties" => prop::collection::vec((names(), schema), 0..3)
            .prop_map(|entries| Value::Object(entries.into_iter().collect()))
            .boxed(),
        "required" => prop::collection::vec(names().prop_map(Value::from), 0..3)
            .prop_map(Value::Array)
            .boxed(),
        "additionalProperties" => prop_oneof![any::<bool>().prop_map(Value::Bool), schema].boxed(),
        "items" | "not" => schema,
        "oneOf" | "allOf" | "anyOf" => prop::collection::vec(schema, 0..3)
            .prop_map(Value::Array)
            .boxed(),
        "$ref" => Just(json!("#/components/schemas/A")).boxed(),
        "discriminator" => Just(json!({"propertyName": "kind"})).boxed(),
        "externalDocs" => Just(json!({"url": "https://example.com"})).boxed(),
        "title" | "description" | "pattern" => Just(json!("text")).boxed(),
        _ => leaf().boxed(),
    }
}

/// Schemas of a few keywords each, nearly all holding values of the right JSON type, so that
/// every kind and most combinations of keywords come up, with a wrong type now and then.
fn schema_like() -> impl Strategy<Value = Value> {
    Just(json!({})).prop_recursive(3, 24, 4, |schema| {
        let entry = (prop::sample::select(KEYWORDS), prop::bool::weighted(0.1)).prop_flat_map(
            move |(keyword, wrong)| {
                let value = if wrong {
                    leaf().boxed()
                } else {
                    fitting(keyword, schema.clone())
                };
                (Just(keyword.to_owned()), value)
            },
        );
        // Most schemas have a type, which decides which other keywords they may have.
        let typed = prop::option::weighted(0.7, fitting("type", Just(json!({})).boxed()));
        (typed, prop::collection::vec(entry, 0..4)).prop_map(|(typ, entries)| {
            let typ = typ.map(|typ| ("type".to_owned(), typ));
            Value::Object(typ.into_iter().chain(entries).collect())
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Random mixes of keywords and values: whatever is read quickly is what `serde` reads.
    #[test]
    fn whatever_is_read_quickly_is_what_serde_reads(value in schema_like()) {
        agrees(&value);
    }
}
