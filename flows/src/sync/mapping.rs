//! How a source record becomes a destination record: as it is, by a field map, or by a jq
//! program ([`super::jq`]). A jq program runs on a thread of its own, with a large stack (see
//! [`super::jq::STACK_SIZE`]); a page's records go to it together.

use std::sync::mpsc;

use serde_json::{Map, Value};
use tokio::sync::oneshot;

use super::definition::MappingDef;
use super::jq::{Program, STACK_SIZE};

type Outcome = Result<Option<Value>, String>;
type Job = (Vec<Value>, oneshot::Sender<Vec<Outcome>>);

/// The thread that runs a jq program; it ends when this is dropped.
#[derive(Debug)]
pub struct JqThread {
    jobs: mpsc::Sender<Job>,
}

impl JqThread {
    /// Compiles `program` on a new thread, which then maps the records it is sent.
    fn start(program: String, limits: super::jq::Limits) -> Result<JqThread, Vec<String>> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (compiled, compile_result) = mpsc::channel();
        std::thread::Builder::new()
            .name("sync-jq".into())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let program = match Program::compile(&program, limits) {
                    Ok(program) => {
                        let _ = compiled.send(Ok(()));
                        program
                    }
                    Err(problems) => {
                        let _ = compiled.send(Err(problems));
                        return;
                    }
                };
                while let Ok((records, reply)) = queue.recv() {
                    let _ = reply.send(records.iter().map(|r| program.run(r)).collect());
                }
            })
            .map_err(|e| vec![format!("cannot start the mapping thread: {e}")])?;
        match compile_result.recv() {
            Ok(Ok(())) => Ok(JqThread { jobs }),
            Ok(Err(problems)) => Err(problems),
            Err(_) => Err(vec!["the mapping thread stopped while compiling".into()]),
        }
    }

    async fn run(&self, records: Vec<Value>) -> Vec<Outcome> {
        let count = records.len();
        let (reply, answer) = oneshot::channel();
        if self.jobs.send((records, reply)).is_err() {
            return vec![Err("the mapping thread has stopped".into()); count];
        }
        answer
            .await
            .unwrap_or_else(|_| vec![Err("the mapping thread has stopped".into()); count])
    }
}

/// A compiled mapping.
#[derive(Debug)]
pub enum Mapping {
    /// The record as it is.
    Identity,
    /// Destination field = the value at a dotted path of the source record (missing: left out).
    Fields(Vec<(String, Vec<String>)>),
    /// A jq program, on its thread.
    Jq(JqThread),
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
                Mapping::Jq(JqThread::start(program.clone(), *limits)?)
            }
        })
    }

    /// Maps a page of records, each to `Ok(None)` when the mapping leaves it out (a jq
    /// `select`), or an error in words when it fails or gives something not an object.
    pub async fn map_all(&self, records: &[Value]) -> Vec<Outcome> {
        let mapped: Vec<Outcome> = match self {
            Mapping::Identity => records.iter().map(|r| Ok(Some(r.clone()))).collect(),
            Mapping::Fields(fields) => records
                .iter()
                .map(|r| Ok(Some(map_fields(fields, r))))
                .collect(),
            Mapping::Jq(thread) => thread.run(records.to_vec()).await,
        };
        mapped
            .into_iter()
            .map(|outcome| match outcome? {
                Some(Value::Object(map)) => Ok(Some(Value::Object(map))),
                None => Ok(None),
                Some(other) => Err(format!("the mapping gave {}, not an object", kind(&other))),
            })
            .collect()
    }
}

fn map_fields(fields: &[(String, Vec<String>)], record: &Value) -> Value {
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
    Value::Object(out)
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

    #[tokio::test]
    async fn field_maps_follow_dotted_paths() {
        let m = Mapping::compile(Some(&MappingDef::Fields(vec![
            ("title".into(), "number".into()),
            ("who".into(), "customer.name".into()),
            ("none".into(), "missing.x".into()),
        ])))
        .unwrap();
        assert_eq!(
            m.map_all(&[json!({"number": "A1", "customer": {"name": "Ada"}})])
                .await,
            vec![Ok(Some(json!({"title": "A1", "who": "Ada"})))]
        );
        let jq = Mapping::compile(Some(&MappingDef::Jq {
            program: ".x".into(),
            limits: Default::default(),
        }))
        .unwrap();
        assert_eq!(
            jq.map_all(&[json!({"x": 1}), json!({"x": {}})]).await,
            vec![
                Err("the mapping gave a number, not an object".into()),
                Ok(Some(json!({})))
            ]
        );
    }
}
