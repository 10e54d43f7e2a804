//! Self-contained schemas out of a catalogue whose definitions are shared: what one action's
//! description shows and what its input validation compiles carry the definitions they reach,
//! as if the action were alone, while the catalogue keeps each definition once.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Action, Catalogue, Entity};

/// Where a schema refers to a catalogue definition.
const DEFS: &str = "#/$defs/";

impl Catalogue {
    /// `schema` made self-contained: the catalogue's definitions it reaches, directly or through
    /// each other, go under its `$defs` (sorted by name, after its own keywords). A schema that
    /// reaches none, or that has `$defs` of its own, is returned as it is.
    pub fn standalone(&self, schema: &Value) -> Value {
        let mut schema = schema.clone();
        if self.definitions.is_empty() {
            return schema;
        }
        let Value::Object(map) = &mut schema else {
            return schema;
        };
        if map.contains_key("$defs") {
            return schema;
        }
        let reached = self.reached(map);
        if !reached.is_empty() {
            let defs: Map<String, Value> = reached
                .into_iter()
                .filter_map(|name| Some((name.to_owned(), self.definitions.get(name)?.clone())))
                .collect();
            map.insert("$defs".to_owned(), Value::Object(defs));
        }
        schema
    }

    /// The action with every schema standalone (see [`Catalogue::standalone`]).
    pub fn standalone_action(&self, action: &Action) -> Action {
        Action {
            input_schema: self.standalone(&action.input_schema),
            output_schemas: action
                .output_schemas
                .iter()
                .map(|(status, schema)| (status.clone(), self.standalone(schema)))
                .collect(),
            ..action.clone()
        }
    }

    /// The entity with its record schema standalone (see [`Catalogue::standalone`]).
    pub fn standalone_entity(&self, entity: &Entity) -> Entity {
        Entity {
            record_schema: self.standalone(&entity.record_schema),
            ..entity.clone()
        }
    }

    /// The names of the definitions `schema` reaches, directly or through other definitions.
    fn reached<'c>(&'c self, schema: &Map<String, Value>) -> BTreeSet<&'c str> {
        let mut reached = BTreeSet::new();
        let mut pending = Vec::new();
        refs(schema, &mut |name| pending.push(name.to_owned()));
        while let Some(name) = pending.pop() {
            let Some((key, definition)) = self.definitions.get_key_value(name.as_str()) else {
                continue;
            };
            if reached.insert(key.as_str()) {
                if let Value::Object(map) = definition {
                    refs(map, &mut |name| pending.push(name.to_owned()));
                }
            }
        }
        reached
    }
}

/// Calls `found` with the definition name of every `#/$defs/NAME` reference in `schema` and its
/// subschemas. Only keywords that hold schemas are followed: a `default` or an example may hold
/// any JSON, a `"$ref"` key included.
fn refs(schema: &Map<String, Value>, found: &mut impl FnMut(&str)) {
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(DEFS))
    {
        found(&name.replace("~1", "/").replace("~0", "~"));
    }
    for (keyword, value) in schema {
        match (keyword.as_str(), value) {
            (
                "items"
                | "additionalItems"
                | "additionalProperties"
                | "unevaluatedItems"
                | "unevaluatedProperties"
                | "contains"
                | "propertyNames"
                | "not"
                | "if"
                | "then"
                | "else",
                Value::Object(sub),
            ) => refs(sub, found),
            ("anyOf" | "allOf" | "oneOf" | "prefixItems", Value::Array(subs)) => {
                subs.iter()
                    .filter_map(Value::as_object)
                    .for_each(|sub| refs(sub, found));
            }
            ("properties" | "patternProperties" | "dependentSchemas", Value::Object(subs)) => {
                subs.values()
                    .filter_map(Value::as_object)
                    .for_each(|sub| refs(sub, found));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn catalogue(definitions: Value) -> Catalogue {
        let Value::Object(definitions) = definitions else {
            panic!("definitions must be an object");
        };
        Catalogue {
            name: "c".into(),
            title: "C".into(),
            version: "1".into(),
            description: None,
            security_schemes: Vec::new(),
            actions: Vec::new(),
            entities: Vec::new(),
            ping: None,
            definitions,
            ..Catalogue::default()
        }
    }

    #[test]
    fn a_schema_gets_the_definitions_it_reaches_and_no_others() {
        let catalogue = catalogue(json!({
            "Pet": {"type": "object", "properties": {
                "owner": {"$ref": "#/$defs/Owner"},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}},
            }},
            "Owner": {"anyOf": [{"$ref": "#/$defs/Pet"}, {"type": "null"}]},
            "Tag": {"type": "string"},
            "Unused": {"type": "integer"},
        }));
        let schema = json!({"$schema": "x", "$ref": "#/$defs/Pet", "description": "d"});
        let standalone = catalogue.standalone(&schema);
        assert_eq!(
            serde_json::to_string(&standalone).unwrap(),
            serde_json::to_string(&json!({
                "$schema": "x", "$ref": "#/$defs/Pet", "description": "d",
                "$defs": {
                    "Owner": catalogue.definitions["Owner"],
                    "Pet": catalogue.definitions["Pet"],
                    "Tag": catalogue.definitions["Tag"],
                },
            }))
            .unwrap(),
            "sorted by name, after the schema's own keywords"
        );
    }

    #[test]
    fn references_inside_values_are_not_followed() {
        let catalogue = catalogue(json!({"Tag": {"type": "string"}}));
        let schema = json!({
            "type": "object",
            "default": {"$ref": "#/$defs/Tag"},
            "examples": [{"$ref": "#/$defs/Tag"}],
        });
        assert_eq!(catalogue.standalone(&schema), schema);
    }

    #[test]
    fn a_schema_with_definitions_of_its_own_is_left_alone() {
        let catalogue = catalogue(json!({"Tag": {"type": "string"}}));
        let schema = json!({"$ref": "#/$defs/Tag", "$defs": {"Tag": {"type": "integer"}}});
        assert_eq!(catalogue.standalone(&schema), schema);
    }
}
