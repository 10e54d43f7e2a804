//! `ENTITY_list`: a bounded page of records per call, continued with an opaque cursor
//! (RELIABILITY MC-2). The cursor carries the listing's position ([`ListPosition`]: the input of
//! the page holding the next record and how many of its records were returned), so any server
//! process can continue it: nothing is kept between calls.
//!
//! An answer holds at most `limit` records and at most the byte budget of record JSON; the
//! budget ends it at a record boundary, with the cursor at the first record left out.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::tools::{DEFAULT_LIMIT, LIST_ARGUMENTS, MAX_LIMIT};
use crate::catalogue::Entity;
use crate::connection::Connection;
use crate::error::Error;
use crate::paginate::{ListOptions, ListPosition, Pager};

/// What a list call asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ListCall {
    /// The list action's filters (and the entity's scope).
    pub filters: Map<String, Value>,
    /// Records to return, 1 to [`MAX_LIMIT`].
    pub limit: u64,
    /// Where to continue, from a previous answer.
    pub cursor: Option<ListPosition>,
    /// The record fields to keep.
    pub fields: Option<Vec<String>>,
}

/// What a cursor holds: the tool it belongs to and the position.
#[derive(Serialize, Deserialize)]
struct Cursor {
    /// The tool that gave it; another tool refuses it.
    tool: String,
    #[serde(flatten)]
    position: ListPosition,
}

/// Reads a list call's arguments: `limit`, `cursor` and `fields` for the server, the rest as
/// the action's filters. Every problem is reported (with its argument's name) at once.
pub fn parse(
    tool: &str,
    entity: &Entity,
    properties: &Map<String, Value>,
    mut arguments: Map<String, Value>,
) -> Result<ListCall, Vec<String>> {
    let mut problems = Vec::new();
    let limit = match arguments.remove("limit") {
        None | Some(Value::Null) => DEFAULT_LIMIT,
        Some(value) => match value.as_u64() {
            Some(n) if n >= 1 => n.min(MAX_LIMIT),
            _ => {
                problems.push(format!(
                    "/limit: expected an integer from 1 to {MAX_LIMIT}, got {}",
                    shown(&value)
                ));
                DEFAULT_LIMIT
            }
        },
    };
    let cursor = match arguments.remove("cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match decode(tool, &text) {
            Ok(position) => Some(position),
            Err(message) => {
                problems.push(format!("/cursor: {message}"));
                None
            }
        },
        Some(other) => {
            problems.push(format!("/cursor: expected a string, got {}", shown(&other)));
            None
        }
    };
    let fields = match arguments.remove("fields") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut names = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(name) if known_field(entity, name) => names.push(name.to_owned()),
                    Some(name) => problems.push(format!(
                        "/fields/{i}: `{}` is not a field of `{}`{}",
                        super::text::trimmed(name, 60),
                        entity.name,
                        crate::error::hint(name, entity.fields.iter().map(|f| f.name.as_str()))
                    )),
                    None => problems.push(format!(
                        "/fields/{i}: expected a string, got {}",
                        shown(item)
                    )),
                }
            }
            Some(names)
        }
        Some(other) => {
            problems.push(format!(
                "/fields: expected an array of field names, got {}",
                shown(&other)
            ));
            None
        }
    };
    for key in arguments.keys() {
        if !properties.contains_key(key) {
            let known = properties
                .keys()
                .map(String::as_str)
                .filter(|k| !LIST_ARGUMENTS.contains(k));
            problems.push(format!(
                "/{}: unknown argument{}",
                super::text::trimmed(key, 60),
                crate::error::hint(key, known)
            ));
        }
    }
    if let Some(position) = &cursor {
        for (key, value) in &arguments {
            if position.input.get(key) != Some(value) {
                problems.push(format!(
                    "/{}: differs from the listing the cursor continues; leave it out with `cursor`, or start a new listing without `cursor`",
                    super::text::trimmed(key, 60)
                ));
            }
        }
    }
    if !problems.is_empty() {
        problems.sort();
        return Err(problems);
    }
    Ok(ListCall {
        filters: arguments,
        limit,
        cursor,
        fields,
    })
}

/// Runs a list call: at most `call.limit` records and `budget` bytes of record JSON.
pub async fn list(
    connection: &Connection,
    tool: &str,
    action: &str,
    call: ListCall,
    budget: usize,
) -> Result<Value, Error> {
    let options = ListOptions {
        // A page no smaller than the usual call, kept for the whole listing (the cursor holds
        // it), so that a call with a small limit does not make every later call small.
        page_size: Some(call.limit.max(DEFAULT_LIMIT)),
        ..ListOptions::default()
    };
    let mut pager = match call.cursor {
        Some(position) => Pager::resume(connection, action, position, options)?,
        None => Pager::start(connection, action, call.filters, options)?,
    };
    let mut records = Vec::new();
    // `[]`, then each record and its separator.
    let mut used = 2usize;
    let mut cut_at = None;
    while (records.len() as u64) < call.limit {
        let before = pager.position();
        let Some(record) = pager.next_record().await else {
            break;
        };
        let record = project(record?, call.fields.as_deref());
        let size = serde_json::to_string(&record).map_or(0, |t| t.len()) + 1;
        if used + size > budget {
            cut_at = Some((before, size));
            break;
        }
        used += size;
        records.push(record);
    }
    let (next, note) = match cut_at {
        Some((before, size)) if records.is_empty() => (
            before,
            Some(format!(
                "the next record alone is {size} bytes, over the budget of {budget} bytes: ask for fewer `fields`, or read it with the entity's get tool"
            )),
        ),
        Some((before, _)) => (
            before,
            Some(format!(
                "{} records fit in the budget of {budget} bytes; continue with `cursor`",
                records.len()
            )),
        ),
        None => (pager.position(), None),
    };
    let mut answer = json!({ "records": records });
    if let Some(position) = next {
        answer["next_cursor"] = Value::String(encode(tool, position));
    }
    if let Some(note) = note {
        answer["truncated"] = Value::Bool(true);
        answer["note"] = Value::String(note);
    }
    Ok(answer)
}

fn known_field(entity: &Entity, name: &str) -> bool {
    // An entity whose record has no known fields takes any name.
    entity.fields.is_empty() || entity.fields.iter().any(|f| f.name == name)
}

/// The record with only `fields` (an object record; anything else is kept whole).
fn project(record: Value, fields: Option<&[String]>) -> Value {
    match (record, fields) {
        (Value::Object(mut map), Some(fields)) => {
            map.retain(|key, _| fields.iter().any(|f| f == key));
            Value::Object(map)
        }
        (record, _) => record,
    }
}

fn encode(tool: &str, position: ListPosition) -> String {
    let cursor = Cursor {
        tool: tool.to_owned(),
        position,
    };
    let json = serde_json::to_vec(&cursor).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode(tool: &str, text: &str) -> Result<ListPosition, String> {
    let invalid = || "not a cursor this tool gave (pass `next_cursor` as it came)".to_owned();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim())
        .map_err(|_| invalid())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if cursor.tool != tool {
        return Err(format!(
            "the cursor belongs to `{}`, not to this tool",
            super::text::trimmed(&cursor.tool, 64)
        ));
    }
    Ok(cursor.position)
}

/// A value for a message, short: an agent's huge argument makes no huge error.
fn shown(value: &Value) -> String {
    super::text::trimmed(&value.to_string(), 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_belongs_to_its_tool() {
        let position = ListPosition {
            input: json!({"status": "sold", "page": 3})
                .as_object()
                .cloned()
                .unwrap(),
            skip: 4,
            followed: None,
        };
        let text = encode("pets_list", position.clone());
        assert_eq!(decode("pets_list", &text), Ok(position));
        assert!(decode("owners_list", &text).is_err());
        assert!(decode("pets_list", "not base64!").is_err());
        assert!(decode("pets_list", "e30").is_err(), "`{{}}` is no cursor");
    }

    #[test]
    fn projection_keeps_only_the_fields_asked_for() {
        let record = json!({"id": 1, "name": "Rex", "tag": "dog"});
        assert_eq!(
            project(record.clone(), Some(&["id".into(), "tag".into()])),
            json!({"id": 1, "tag": "dog"})
        );
        assert_eq!(project(record.clone(), None), record);
    }
}
