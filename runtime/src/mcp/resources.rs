//! Resources for clients that browse: the catalogue's outline
//! (`connector://NAME/catalogue`: actions, entities and the tool that runs each) and each
//! reachable action's self-contained schemas (`connector://NAME/actions/ID`, the id
//! percent-encoded).

use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use rmcp::model::{ListResourcesResult, ReadResourceResult, Resource, ResourceContents};
use rmcp::ErrorData;
use serde_json::{json, Value};

use super::tools::{Target, Toolset};
use crate::catalogue::Catalogue;

/// Resources per `resources/list` page.
const PAGE: usize = 200;

const JSON: &str = "application/json";

fn base(catalogue: &Catalogue) -> String {
    format!("connector://{}", catalogue.name)
}

fn action_uri(catalogue: &Catalogue, id: &str) -> String {
    format!(
        "{}/actions/{}",
        base(catalogue),
        utf8_percent_encode(id, NON_ALPHANUMERIC)
    )
}

/// One page of resources: the catalogue first, then the actions in catalogue order. The cursor
/// is the index of the next resource.
pub fn list(
    toolset: &Toolset,
    catalogue: &Catalogue,
    cursor: Option<&str>,
) -> Result<ListResourcesResult, ErrorData> {
    let start = match cursor {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| ErrorData::invalid_params("not a cursor this server gave", None))?,
    };
    let total = toolset.actions.len() + 1;
    let mut resources = Vec::new();
    for i in start..total.min(start.saturating_add(PAGE)) {
        if i == 0 {
            resources.push(
                Resource::new(format!("{}/catalogue", base(catalogue)), "catalogue")
                    .with_title(format!("{} {}: actions and entities", catalogue.title, catalogue.version))
                    .with_description("Every action (id, method, path, summary, tool) and entity of the connector.")
                    .with_mime_type(JSON),
            );
            continue;
        }
        let Some(action) = toolset
            .actions
            .get(i - 1)
            .and_then(|a| catalogue.actions.get(*a))
        else {
            continue;
        };
        let mut resource = Resource::new(action_uri(catalogue, &action.id), action.id.clone())
            .with_description(format!("Input and output JSON Schemas of `{}`.", action.id))
            .with_mime_type(JSON);
        if let Some(summary) = &action.summary {
            resource =
                resource.with_title(super::text::trimmed(&super::text::one_line(summary), 120));
        }
        resources.push(resource);
    }
    let mut result = ListResourcesResult::with_all_items(resources);
    let next = start.saturating_add(PAGE);
    if next < total {
        result.next_cursor = Some(next.to_string());
    }
    Ok(result)
}

/// The resource at `uri`.
pub fn read(
    toolset: &Toolset,
    catalogue: &Catalogue,
    uri: &str,
) -> Result<ReadResourceResult, ErrorData> {
    let not_found = || {
        ErrorData::resource_not_found(
            format!("no resource {}", super::text::trimmed(uri, 120)),
            None,
        )
    };
    let base = base(catalogue);
    let rest = uri.strip_prefix(&base).ok_or_else(not_found)?;
    let value = if rest == "/catalogue" {
        outline(toolset, catalogue)
    } else {
        let encoded = rest.strip_prefix("/actions/").ok_or_else(not_found)?;
        let id = percent_decode_str(encoded)
            .decode_utf8()
            .map_err(|_| not_found())?;
        let action = toolset
            .actions
            .iter()
            .filter_map(|i| catalogue.actions.get(*i))
            .find(|a| a.id == id)
            .ok_or_else(not_found)?;
        serde_json::to_value(catalogue.standalone_action(action)).unwrap_or(Value::Null)
    };
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    Ok(ReadResourceResult::new(vec![ResourceContents::text(
        text, uri,
    )
    .with_mime_type(JSON)]))
}

/// The catalogue without schemas: what an agent reads to find its way.
fn outline(toolset: &Toolset, catalogue: &Catalogue) -> Value {
    let tool_of = |id: &str| {
        toolset
            .served
            .iter()
            .find(|e| matches!(&e.target, Target::Action(a) if a == id))
            .map(|e| e.tool.name.to_string())
    };
    let actions: Vec<Value> = toolset
        .actions
        .iter()
        .filter_map(|i| catalogue.actions.get(*i))
        .map(|a| {
            json!({
                "id": a.id,
                "method": a.method,
                "path": a.path,
                "summary": a.summary,
                "tags": a.tags,
                "tool": tool_of(&a.id),
            })
        })
        .collect();
    let entities: Vec<Value> = catalogue
        .entities
        .iter()
        .map(
            |e| json!({"name": e.name, "key": e.key, "scope": e.scope, "operations": e.operations}),
        )
        .collect();
    json!({
        "name": catalogue.name,
        "title": catalogue.title,
        "version": catalogue.version,
        "mode": match toolset.mode { super::Mode::Catalogue => "catalogue", _ => "tools" },
        "actions": actions,
        "entities": entities,
    })
}
