//! How a source record becomes a destination record: as it is, by a field map, or by a jq
//! program ([`super::jq`]).

use serde_json::{Map, Value};

use super::definition::MappingDef;
use super::jq::Program;

/// A compiled mapping.
#[derive(Debug)]
pub enum Mapping {
    /// The record as it is.
    Identity,
    /// Destination field = the value at a dotted path of the source record (missing: left out).
    Fields(Vec<(String, Vec<String>)>),
    /// A jq program.
    Jq(Program),
}

impl Mapping {
    /// Compiles `def` (`None`: the identity); the error lists the program's problems.
    pub fn compile(def: Option<&MappingDef>) -> Result<Mapping, Vec<String>> {
        Ok(match def {
            None => Mapping::Identity,
            Some(MappingDef::Fields(fields)) => Mapping::Fields(
                fields
                    .iter()
                    .map(|(to, from)| (to.clone(), from.split('.').map(str::to_owned).collect()))
                    .collect(),
            ),
            Some(MappingDef::Jq { program, limits }) => {
                Mapping::Jq(Program::compile(program, *limits)?)
            }
        })
    }

    /// Maps one record: `Ok(None)` when the mapping leaves it out (a jq `select`), an error in
    /// words when it fails or gives something that is not an object.
    pub fn map(&self, record: &Value) -> Result<Option<Value>, String> {
        let mapped = match self {
            Mapping::Identity => Some(record.clone()),
            Mapping::Fields(fields) => {
                let mut out = Map::new();
                for (to, path) in fields {
                    let mut at = Some(record);
                    for part in path {
                        at = at.and_then(|v| v.get(part.as_str()));
                    }
                    if let Some(value) = at {
                        out.insert(to.clone(), value.clone());
                    }
                }
                Some(Value::Object(out))
            }
            Mapping::Jq(program) => program.run(record)?,
        };
        match mapped {
            Some(Value::Object(map)) => Ok(Some(Value::Object(map))),
            None => Ok(None),
            Some(other) => Err(format!(
                "the mapping gave {}, not an object",
                kind(&other)
            )),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_maps_follow_dotted_paths() {
        let m = Mapping::compile(Some(&MappingDef::Fields(vec![
            ("title".into(), "number".into()),
            ("who".into(), "customer.name".into()),
            ("none".into(), "missing.x".into()),
        ])))
        .unwrap();
        assert_eq!(
            m.map(&json!({"number": "A1", "customer": {"name": "Ada"}})),
            Ok(Some(json!({"title": "A1", "who": "Ada"})))
        );
        let jq = Mapping::compile(Some(&MappingDef::Jq {
            program: ".x".into(),
            limits: Default::default(),
        }))
        .unwrap();
        assert_eq!(jq.map(&json!({"x": 1})), Err("the mapping gave a number, not an object".into()));
    }
}
