//! The tools, built at run time from the action catalogue: one per action, plus `ENTITY_list`,
//! `ENTITY_get`, `ENTITY_create`, `ENTITY_update` and `ENTITY_delete` for the operations each
//! entity has; or, for a large API, the three catalogue tools. Tools are data: nothing here is
//! generated per operation.

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{json, Map, Value};

use super::naming::{self, Wanted};
use super::text::{one_line, trimmed};
use super::{McpOptions, Mode};
use crate::catalogue::{Action, Catalogue, Entity, OperationKind, PageStyle};
use crate::error::Error;

/// More tools than this and the server serves the catalogue tools instead (`--mode` forces
/// either): clients and models handle a few dozen tools well, not a thousand.
pub const MAX_TOOLS: usize = 128;

/// Records a list call returns when it is not told (`limit`).
pub const DEFAULT_LIMIT: u64 = 25;
/// The most records a list call returns, whatever it is told.
pub const MAX_LIMIT: u64 = 100;

/// What calling a tool does.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Runs the action.
    Action(String),
    /// Runs the entity operation's action; a List is read a page at a time, with cursors.
    Entity {
        /// The entity's name.
        entity: String,
        /// Which operation.
        kind: OperationKind,
        /// The action that does it.
        action: String,
    },
    /// `search_actions`.
    Search,
    /// `describe_action`.
    Describe,
    /// `run_action`.
    Run,
}

/// One tool with what it calls.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The tool as `tools/list` shows it.
    pub tool: Tool,
    /// What a call does.
    pub target: Target,
    /// Whether the tool cannot change anything (GET and HEAD actions, the catalogue tools).
    pub read_only: bool,
    /// Whether a non-object answer is served wrapped as `{"result": ...}` (its output schema
    /// is wrapped likewise, since clients want an object).
    pub wrapped: bool,
}

/// The tools of one server.
#[derive(Debug)]
pub struct Toolset {
    /// The tools served, in catalogue order (actions, then entities).
    pub served: Vec<Entry>,
    /// Tools withheld by `--read-only`, by name: called by name they are refused.
    pub withheld: HashMap<String, Entry>,
    /// Every tool served, by name.
    index: HashMap<String, usize>,
    /// The actions the catalogue tools reach (read-only ones only with `--read-only`).
    pub actions: Vec<usize>,
    /// Actions left out by `--read-only`, by id (the catalogue tools refuse them by name).
    pub withheld_actions: Vec<String>,
    /// The mode served.
    pub mode: Mode,
}

impl Toolset {
    /// The tool served under `name`.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.index.get(name).and_then(|i| self.served.get(*i))
    }

    /// The tools as `tools/list` gives them.
    pub fn tools(&self) -> Vec<Tool> {
        self.served.iter().map(|e| e.tool.clone()).collect()
    }
}

/// Builds the tools of `catalogue` as `options` ask.
pub fn build(catalogue: &Catalogue, options: &McpOptions) -> Result<Toolset, Error> {
    let kept = included(catalogue, options)?;
    let mut entries = Vec::new();
    for &i in &kept {
        if let Some(action) = catalogue.actions.get(i) {
            entries.push(action_entry(catalogue, action));
        }
    }
    for entity in &catalogue.entities {
        for (kind, id) in &entity.operations {
            let Some(action) = kept
                .iter()
                .filter_map(|i| catalogue.actions.get(*i))
                .find(|a| &a.id == id)
            else {
                continue;
            };
            entries.push(entity_entry(catalogue, entity, *kind, action, options));
        }
    }
    // Names over every tool, read-only or not, so that `--read-only` renames nothing.
    let keys: Vec<String> = entries.iter().map(|e| key(&e.target)).collect();
    let wanted: Vec<Wanted<'_>> = entries
        .iter()
        .zip(&keys)
        .map(|(e, key)| Wanted {
            name: &e.tool.name,
            key,
        })
        .collect();
    let names = naming::assign(&wanted);
    for (entry, name) in entries.iter_mut().zip(names) {
        entry.tool.name = name.into();
    }
    let (served, withheld): (Vec<Entry>, Vec<Entry>) = entries
        .into_iter()
        .partition(|e| e.read_only || !options.read_only);
    let actions: Vec<usize> = kept
        .iter()
        .copied()
        .filter(|i| !options.read_only || catalogue.actions.get(*i).is_some_and(is_read_only))
        .collect();
    let withheld_actions = kept
        .iter()
        .filter_map(|i| catalogue.actions.get(*i))
        .filter(|a| options.read_only && !is_read_only(a))
        .map(|a| a.id.clone())
        .collect();
    let mode = match options.mode {
        Mode::Auto if served.len() > MAX_TOOLS => Mode::Catalogue,
        Mode::Auto => Mode::Tools,
        forced => forced,
    };
    let (served, withheld) = match mode {
        Mode::Catalogue => (catalogue_tools(options.read_only), Vec::new()),
        _ => (served, withheld),
    };
    let index = served
        .iter()
        .enumerate()
        .map(|(i, e)| (e.tool.name.to_string(), i))
        .collect();
    Ok(Toolset {
        withheld: withheld
            .into_iter()
            .map(|e| (e.tool.name.to_string(), e))
            .collect(),
        served,
        index,
        actions,
        withheld_actions,
        mode,
    })
}

/// The indices of the actions `--include-tag` and `--include-operation` keep (all without
/// them); a value that matches nothing is an error naming its flag.
fn included(catalogue: &Catalogue, options: &McpOptions) -> Result<Vec<usize>, Error> {
    let unmatched = |flag: &str, values: &[String], matches: &dyn Fn(&Action, &str) -> bool| {
        values
            .iter()
            .filter(|v| !catalogue.actions.iter().any(|a| matches(a, v)))
            .map(|v| format!("{flag} `{v}` matches no action"))
            .collect::<Vec<_>>()
    };
    let has_tag = |a: &Action, tag: &str| a.tags.iter().any(|t| t == tag);
    let is_id = |a: &Action, id: &str| a.id == id;
    let mut problems = unmatched("--include-tag", &options.include_tags, &has_tag);
    problems.extend(unmatched(
        "--include-operation",
        &options.include_operations,
        &is_id,
    ));
    if !problems.is_empty() {
        return Err(Error::InvalidInput {
            message: problems.join("; "),
        });
    }
    let everything = options.include_tags.is_empty() && options.include_operations.is_empty();
    Ok(catalogue
        .actions
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            everything
                || options.include_tags.iter().any(|t| has_tag(a, t))
                || options.include_operations.iter().any(|id| is_id(a, id))
        })
        .map(|(i, _)| i)
        .collect())
}

/// What a tool's name hash is taken of: unique per tool and independent of the other tools.
fn key(target: &Target) -> String {
    match target {
        Target::Action(id) => format!("action:{id}"),
        Target::Entity { entity, kind, .. } => format!("entity:{entity}:{}", kind.as_str()),
        Target::Search => "search_actions".into(),
        Target::Describe => "describe_action".into(),
        Target::Run => "run_action".into(),
    }
}

/// Whether the action cannot change anything: GET and HEAD.
pub fn is_read_only(action: &Action) -> bool {
    matches!(action.method.to_ascii_uppercase().as_str(), "GET" | "HEAD")
}

/// The annotations the method implies: GET/HEAD read-only; DELETE destructive; GET, HEAD, PUT
/// and DELETE idempotent; every action reaches the world outside.
pub fn annotations(title: &str, method: &str) -> ToolAnnotations {
    let method = method.to_ascii_uppercase();
    let read_only = matches!(method.as_str(), "GET" | "HEAD");
    let mut annotations = ToolAnnotations::with_title(title)
        .read_only(read_only)
        .idempotent(matches!(method.as_str(), "GET" | "HEAD" | "PUT" | "DELETE"))
        .open_world(true);
    if !read_only {
        annotations = annotations.destructive(method == "DELETE");
    }
    annotations
}

fn action_entry(catalogue: &Catalogue, action: &Action) -> Entry {
    let title = title(&action.id, action.summary.as_deref());
    let (output, wrapped) = output_schema(catalogue, action);
    let mut tool = Tool::new_with_raw(
        action.id.clone(),
        Some(description(action, None).into()),
        Arc::new(schema_object(catalogue, &action.input_schema)),
    )
    .with_title(title.clone())
    .with_annotations(annotations(&title, &action.method));
    if let Some(output) = output {
        tool = tool.with_raw_output_schema(Arc::new(output));
    }
    Entry {
        tool,
        target: Target::Action(action.id.clone()),
        read_only: is_read_only(action),
        wrapped,
    }
}

fn entity_entry(
    catalogue: &Catalogue,
    entity: &Entity,
    kind: OperationKind,
    action: &Action,
    options: &McpOptions,
) -> Entry {
    let name = format!("{}_{}", entity.name, kind.as_str());
    let title = title(&name, action.summary.as_deref());
    let what = match kind {
        OperationKind::List => format!(
            "Lists records of `{}`: at most `limit` per call (default {DEFAULT_LIMIT}, at most \
             {MAX_LIMIT}); an answer with `next_cursor` continues when called again with \
             `cursor`; `fields` keeps only those fields of each record. An answer is at most \
             {} bytes and ends at a record boundary.",
            entity.name, options.byte_budget
        ),
        OperationKind::Get => format!("Reads one record of `{}` by key.", entity.name),
        OperationKind::Create => format!("Creates a record of `{}`.", entity.name),
        OperationKind::Update => format!("Changes a record of `{}` by key.", entity.name),
        OperationKind::Delete => format!("Deletes a record of `{}` by key.", entity.name),
    };
    let target = Target::Entity {
        entity: entity.name.clone(),
        kind,
        action: action.id.clone(),
    };
    let annotations = annotations(&title, &action.method);
    let read_only = is_read_only(action);
    if kind != OperationKind::List {
        let (output, wrapped) = output_schema(catalogue, action);
        let mut tool = Tool::new_with_raw(
            name,
            Some(description(action, Some(&what)).into()),
            Arc::new(schema_object(catalogue, &action.input_schema)),
        )
        .with_title(title)
        .with_annotations(annotations);
        if let Some(output) = output {
            tool = tool.with_raw_output_schema(Arc::new(output));
        }
        return Entry {
            tool,
            target,
            read_only,
            wrapped,
        };
    }
    let tool = Tool::new_with_raw(
        name,
        Some(description(action, Some(&what)).into()),
        Arc::new(list_input_schema(catalogue, entity, action)),
    )
    .with_title(title)
    .with_annotations(annotations)
    .with_raw_output_schema(Arc::new(list_output_schema()));
    Entry {
        tool,
        target,
        read_only,
        wrapped: false,
    }
}

/// The names a list call takes besides the action's filters.
pub const LIST_ARGUMENTS: [&str; 3] = ["limit", "cursor", "fields"];

/// The parameters a list call pages with itself, which the tool does not take.
pub fn paging_params(action: &Action) -> Vec<String> {
    let Some(pagination) = action.paging.as_ref().and_then(|p| p.pagination.as_ref()) else {
        return Vec::new();
    };
    let mut params: Vec<String> = pagination.size_param.iter().cloned().collect();
    match &pagination.style {
        PageStyle::Cursor { param, .. }
        | PageStyle::Page { param, .. }
        | PageStyle::Offset { param } => params.push(param.clone()),
        PageStyle::LinkHeader | PageStyle::NextUrl { .. } => {}
    }
    params
}

/// The list action's input without its paging parameters, plus `limit`, `cursor` and `fields`.
fn list_input_schema(catalogue: &Catalogue, entity: &Entity, action: &Action) -> JsonObject {
    let mut schema = schema_object(catalogue, &action.input_schema);
    let paging = paging_params(action);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.retain(|name, _| !paging.contains(name));
    }
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|name| !name.as_str().is_some_and(|n| paging.iter().any(|p| p == n)));
    }
    let mut field = json!({"type": "string"});
    if !entity.fields.is_empty() {
        field["enum"] = entity.fields.iter().map(|f| f.name.clone()).collect();
    }
    let ours = json!({
        "limit": {
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_LIMIT,
            "description": format!("Records to return (default {DEFAULT_LIMIT}; more than {MAX_LIMIT} is read as {MAX_LIMIT})."),
        },
        "cursor": {
            "type": "string",
            "description": "`next_cursor` of the previous answer, to continue the listing. The other filters are taken from it.",
        },
        "fields": {
            "type": "array",
            "items": field,
            "description": "Keep only these fields of each record.",
        },
    });
    let properties = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let (Value::Object(properties), Value::Object(ours)) = (properties, ours) {
        properties.extend(ours);
    }
    schema.insert("additionalProperties".into(), Value::Bool(false));
    schema
}

fn list_output_schema() -> JsonObject {
    let schema = json!({
        "type": "object",
        "properties": {
            "records": {"type": "array", "items": {}},
            "next_cursor": {"type": "string", "description": "Pass as `cursor` to continue."},
            "truncated": {"type": "boolean", "description": "The byte budget ended the answer before `limit` records."},
            "note": {"type": "string"},
        },
        "required": ["records"],
    });
    match schema {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

/// The three tools of catalogue mode.
fn catalogue_tools(read_only: bool) -> Vec<Entry> {
    let catalogue_annotations = |title: &str| {
        ToolAnnotations::with_title(title)
            .read_only(true)
            .idempotent(true)
            .open_world(false)
    };
    let object = |value: Value| match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    };
    let search = Tool::new_with_raw(
        "search_actions",
        Some("Finds the API's actions by words of their ids, summaries and tags (\"create issue\"); returns ids with one-line summaries, best first. Then `describe_action` shows one's input, and `run_action` runs it.".into()),
        object(json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Words to look for."},
                "limit": {"type": "integer", "minimum": 1, "default": 20, "description": "At most this many results (at most 50)."},
            },
            "required": ["query"],
            "additionalProperties": false,
        })),
    )
    .with_title("Search actions")
    .with_annotations(catalogue_annotations("Search actions"));
    let describe = Tool::new_with_raw(
        "describe_action",
        Some("The input JSON Schema of one action (what `run_action` takes as `input`), its output schemas by status, method, path and description.".into()),
        object(json!({
            "type": "object",
            "properties": {"id": {"type": "string", "description": "The action's id, as `search_actions` gives it."}},
            "required": ["id"],
            "additionalProperties": false,
        })),
    )
    .with_title("Describe an action")
    .with_annotations(catalogue_annotations("Describe an action"));
    let run_annotations = ToolAnnotations::with_title("Run an action")
        .read_only(read_only)
        .open_world(true);
    let run = Tool::new_with_raw(
        "run_action",
        Some(if read_only {
            "Runs one read-only action with its input (an object of parameters by name, plus `body` for a request body); actions that change data are refused.".into()
        } else {
            "Runs one action with its input (an object of parameters by name, plus `body` for a request body), as `describe_action` describes it.".into()
        }),
        object(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "description": "The action's id."},
                "input": {"type": "object", "description": "The action's input."},
            },
            "required": ["id"],
            "additionalProperties": false,
        })),
    )
    .with_title("Run an action")
    .with_annotations(if read_only {
        run_annotations.idempotent(true)
    } else {
        run_annotations.destructive(true)
    });
    [
        (search, Target::Search),
        (describe, Target::Describe),
        (run, Target::Run),
    ]
    .into_iter()
    .map(|(tool, target)| Entry {
        read_only: target != Target::Run || read_only,
        tool,
        target,
        wrapped: false,
    })
    .collect()
}

/// The title: the full action id (a shortened name keeps it here), with the summary.
fn title(id: &str, summary: Option<&str>) -> String {
    match summary.map(|s| trimmed(&one_line(s), 120)) {
        Some(summary) if !summary.is_empty() => format!("{id}: {summary}"),
        _ => id.to_owned(),
    }
}

/// Summary, then description (or `what` for an entity tool), trimmed to a sensible length.
fn description(action: &Action, what: Option<&str>) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(what) = what {
        parts.push(what.to_owned());
    }
    if let Some(summary) = &action.summary {
        parts.push(one_line(summary));
    }
    if let Some(description) = &action.description {
        parts.push(description.trim().to_owned());
    }
    if action.deprecated {
        parts.push("Deprecated.".to_owned());
    }
    parts.push(format!("{} {}", action.method, action.path));
    trimmed(&parts.join("\n\n"), 1_000)
}

/// A schema as a tool shows it: self-contained, an object, in the protocol's default dialect
/// (2020-12, so no `$schema` that older clients' validators would try to fetch).
pub fn schema_object(catalogue: &Catalogue, schema: &Value) -> JsonObject {
    let mut map = match catalogue.standalone(schema) {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    };
    map.remove("$schema");
    map.entry("type").or_insert_with(|| json!("object"));
    map
}

/// The output schema of the action's 2xx answers: an object as it is, anything else wrapped as
/// `{"result": ...}` (returns whether it was). `None` when no 2xx answer has a JSON schema.
fn output_schema(catalogue: &Catalogue, action: &Action) -> (Option<JsonObject>, bool) {
    let mut schemas: Vec<&Value> = Vec::new();
    for (status, schema) in &action.output_schemas {
        if status.starts_with('2') && !schemas.contains(&schema) {
            schemas.push(schema);
        }
    }
    let schema = match schemas.as_slice() {
        [] => return (None, false),
        [one] => strip_dialect((*one).clone()),
        many => {
            json!({"anyOf": many.iter().map(|s| strip_dialect((*s).clone())).collect::<Vec<_>>()})
        }
    };
    if is_object(catalogue, &schema) {
        let mut map = schema_object(catalogue, &schema);
        map.insert("type".into(), json!("object"));
        return (Some(map), false);
    }
    let wrapper = json!({
        "type": "object",
        "properties": {"result": schema},
        "required": ["result"],
    });
    (Some(schema_object(catalogue, &wrapper)), true)
}

fn strip_dialect(mut schema: Value) -> Value {
    if let Value::Object(map) = &mut schema {
        map.remove("$schema");
    }
    schema
}

/// Whether every value `schema` accepts is an object: `type: object`, or a reference to a
/// definition that is.
fn is_object(catalogue: &Catalogue, schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(kind)) => return kind == "object",
        Some(_) => return false,
        None => {}
    }
    let target = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| catalogue.definitions.get(name));
    matches!(target.and_then(|t| t.get("type")), Some(Value::String(kind)) if kind == "object")
}
