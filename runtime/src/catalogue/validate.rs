//! Checks a dynamic call's input against its action's input schema before anything is sent,
//! reporting every problem with the JSON pointer of the value at fault.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::Value;

use super::{Action, Catalogue};
use crate::error::Error;

/// Validators compiled on first use and kept per action: compiling a schema costs far more than
/// checking an input against it, and most programs call few actions many times.
#[derive(Default)]
pub(crate) struct Validators {
    compiled: Mutex<HashMap<String, Option<Arc<Validator>>>>,
}

impl Validators {
    /// Checks `input` against the input schema of `action` (of `catalogue`, whose definitions
    /// the schema refers to); every problem is listed, sorted by pointer, in
    /// [`Error::InvalidActionInput`].
    pub(crate) fn check(
        &self,
        catalogue: &Catalogue,
        action: &Action,
        input: &Value,
    ) -> Result<(), Error> {
        let Some(validator) = self.validator(catalogue, action) else {
            return Ok(());
        };
        // Most inputs are valid: the yes-or-no check stops early and builds no error.
        if validator.is_valid(input) {
            return Ok(());
        }
        // The schema as compiled: the errors' schema paths point into it.
        let schema = checked_schema(catalogue, action);
        let mut problems: Vec<(String, String)> = Vec::new();
        for error in validator.iter_errors(input) {
            describe(&error, &schema, &mut problems);
        }
        if problems.is_empty() {
            return Ok(());
        }
        problems.sort();
        problems.dedup();
        Err(Error::InvalidActionInput {
            action: action.id.clone(),
            problems: problems
                .into_iter()
                .map(|(pointer, message)| format!("{}: {message}", shown(&pointer)))
                .collect(),
        })
    }

    fn validator(&self, catalogue: &Catalogue, action: &Action) -> Option<Arc<Validator>> {
        // A poisoned lock only means another thread panicked while inserting: the map is intact.
        let mut compiled = self
            .compiled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(validator) = compiled.get(&action.id) {
            return validator.clone();
        }
        compiled
            .entry(action.id.clone())
            .or_insert_with(|| compile(action, checked_schema(catalogue, action)))
            .clone()
    }
}

/// Compiles the action's standalone input `schema`. A spec `pattern` the regex engine cannot
/// read would make the whole schema unusable, so such a schema is compiled again without
/// patterns (with a warning) rather than refusing every call.
fn compile(action: &Action, schema: Value) -> Option<Arc<Validator>> {
    let build = |schema: &Value| {
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .build(schema)
    };
    match build(&schema) {
        Ok(validator) => Some(Arc::new(validator)),
        Err(first) => {
            let mut lenient = schema;
            strip_patterns(&mut lenient);
            match build(&lenient) {
                Ok(validator) => {
                    tracing::warn!(action = %action.id, error = %first, "input schema compiled without its `pattern`s");
                    Some(Arc::new(validator))
                }
                Err(err) => {
                    tracing::warn!(action = %action.id, error = %err, "input schema cannot be compiled; input is not validated");
                    None
                }
            }
        }
    }
}

/// The action's standalone input schema as input is checked against it: `oneOf` is read as
/// `anyOf`. A value that fits several alternatives of an overlapping `oneOf` is accepted, as
/// the typed client accepts it (it takes the first alternative that fits, most specific
/// first); whether such a value is right is the API's to say. The catalogue itself keeps the
/// spec's `oneOf`.
fn checked_schema(catalogue: &Catalogue, action: &Action) -> Value {
    let mut schema = catalogue.standalone(&action.input_schema);
    one_of_as_any_of(&mut schema);
    schema
}

fn one_of_as_any_of(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    if let Some(alternatives) = map.remove("oneOf") {
        if map.contains_key("anyOf") {
            let wrapped = serde_json::json!({ "anyOf": alternatives });
            match map.get_mut("allOf") {
                Some(Value::Array(all)) => all.push(wrapped),
                _ => {
                    map.insert("allOf".into(), Value::Array(vec![wrapped]));
                }
            }
        } else {
            map.insert("anyOf".into(), alternatives);
        }
    }
    for (key, child) in map.iter_mut() {
        match key.as_str() {
            "properties" | "$defs" | "patternProperties" | "dependentSchemas" => {
                if let Value::Object(children) = child {
                    children.values_mut().for_each(one_of_as_any_of);
                }
            }
            "allOf" | "anyOf" | "prefixItems" => {
                if let Value::Array(children) = child {
                    children.iter_mut().for_each(one_of_as_any_of);
                }
            }
            "items"
            | "additionalProperties"
            | "not"
            | "contains"
            | "if"
            | "then"
            | "else"
            | "propertyNames"
            | "unevaluatedItems"
            | "unevaluatedProperties" => {
                one_of_as_any_of(child);
            }
            _ => {}
        }
    }
}

fn strip_patterns(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.get("pattern").is_some_and(Value::is_string) {
                map.remove("pattern");
            }
            map.values_mut().for_each(strip_patterns);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_patterns),
        _ => {}
    }
}

/// Turns one validation error into `(pointer, message)` problems.
fn describe(error: &ValidationError<'_>, schema: &Value, out: &mut Vec<(String, String)>) {
    let at = error.instance_path().as_str().to_owned();
    let message = match error.kind() {
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(one) => one.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!("expected {expected}, got {}", value(error.instance()))
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            out.push((child(&at, name), "required, but missing".to_owned()));
            return;
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let known = known_properties(schema, error.schema_path().as_str());
            for key in unexpected {
                let hint = crate::error::hint(key, known.iter().map(String::as_str));
                let known_list = if known.is_empty() || !hint.is_empty() {
                    String::new()
                } else {
                    format!(" (known: {})", known.join(", "))
                };
                out.push((child(&at, key), format!("unknown key{hint}{known_list}")));
            }
            return;
        }
        ValidationErrorKind::Enum { options } => {
            format!("expected one of {options}, got {}", value(error.instance()))
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("does not match the pattern {pattern:?}")
        }
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            format!(
                "{} matches none of the allowed shapes",
                value(error.instance())
            )
        }
        // Bounds are described without the value, which may be a secret (a too-short password).
        ValidationErrorKind::MinLength { limit } => format!("shorter than {limit} characters"),
        ValidationErrorKind::MaxLength { limit } => format!("longer than {limit} characters"),
        ValidationErrorKind::Minimum { limit } => format!("less than the minimum {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("greater than the maximum {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("not greater than {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("not less than {limit}"),
        ValidationErrorKind::MinItems { limit } => format!("fewer than {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("more than {limit} items"),
        ValidationErrorKind::MinProperties { limit } => format!("fewer than {limit} properties"),
        ValidationErrorKind::MaxProperties { limit } => format!("more than {limit} properties"),
        ValidationErrorKind::UniqueItems => "has repeated items".to_owned(),
        ValidationErrorKind::Format { format } => format!("not a valid {format}"),
        _ => error.to_string(),
    };
    out.push((at, message));
}

/// The property names the object schema at `keyword` (the `additionalProperties` keyword's
/// location) declares, for "did you mean" hints.
fn known_properties(schema: &Value, keyword: &str) -> Vec<String> {
    let parent = keyword.rsplit_once('/').map_or("", |(parent, _)| parent);
    schema
        .pointer(&format!("{parent}/properties"))
        .and_then(Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default()
}

fn child(at: &str, key: &str) -> String {
    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// The input's top level reads as `/`.
fn shown(pointer: &str) -> &str {
    if pointer.is_empty() {
        "/"
    } else {
        pointer
    }
}

/// A value for a message: its JSON, cut short so that a large input makes no large error.
fn value(value: &Value) -> String {
    const SHOWN: usize = 60;
    let text = value.to_string();
    if text.chars().count() <= SHOWN {
        text
    } else {
        let cut: String = text.chars().take(SHOWN).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn action(input_schema: Value) -> Action {
        serde_json::from_value(json!({
            "id": "a", "method": "POST", "path": "/a", "input_schema": input_schema
        }))
        .expect("an action")
    }

    /// A value that fits both alternatives of an overlapping `oneOf` is accepted (as the typed
    /// client accepts it); one that fits none is refused with its pointer.
    #[test]
    fn overlapping_one_of_is_checked_as_any_of() {
        let schema = json!({
            "type": "object",
            "properties": {"body": {"oneOf": [
                {"type": "object", "properties": {"name": {"type": "string"}}},
                {"type": "object", "properties": {"size": {"type": "integer"}}}
            ]}}
        });
        let catalogue = Catalogue {
            actions: vec![action(schema)],
            ..Catalogue::default()
        };
        let validators = Validators::default();
        let action = &catalogue.actions[0];
        validators
            .check(&catalogue, action, &json!({"body": {"name": "x"}}))
            .expect("fits both alternatives");
        let err = validators
            .check(&catalogue, action, &json!({"body": 7}))
            .expect_err("fits neither");
        assert!(err.to_string().contains("/body"), "{err}");
        // The catalogue keeps the spec's keyword.
        assert!(catalogue.actions[0].input_schema["properties"]["body"]["oneOf"].is_array());
    }
}
