//! The MCP handler: `tools/list` and `tools/call` over the [`Toolset`], `resources/list` and
//! `resources/read` over the catalogue. Every call runs through the connection's one executor,
//! as every other caller's does (validation, auth, backend variables, retries, limits).

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use jsonschema::{Draft, Validator};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{json, Map, Value};

use super::tools::{self, Entry, Target, Toolset};
use super::{listing, resources, search, shape, McpOptions, Mode};
use crate::catalogue::{Catalogue, OperationKind};
use crate::connection::Connection;
use crate::error::Error;

/// A connector served over MCP: its tools, built from the catalogue when the server is made,
/// and the connection every call goes through. Cheap to clone (one `Arc`): each Streamable
/// HTTP request gets a clone.
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Connection,
    toolset: Toolset,
    options: McpOptions,
    /// Output schemas compiled on first use, by tool name.
    outputs: Mutex<HashMap<String, Option<Arc<Validator>>>>,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("connector", &self.inner.connection.connector().name)
            .field("mode", &self.inner.toolset.mode)
            .field("tools", &self.inner.toolset.served.len())
            .finish()
    }
}

impl McpServer {
    /// The server of `connection`'s connector, with the tools `options` ask for. Fails when the
    /// connector has no catalogue or an `--include-*` value matches no action.
    pub fn new(connection: Connection, options: McpOptions) -> Result<McpServer, Error> {
        let toolset = tools::build(catalogue(&connection)?, &options)?;
        Ok(McpServer {
            inner: Arc::new(Inner {
                connection,
                toolset,
                options,
                outputs: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The mode served: one tool per action and entity operation, or the catalogue tools.
    pub fn mode(&self) -> Mode {
        self.inner.toolset.mode
    }

    /// The tools `tools/list` answers with.
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.inner.toolset.tools()
    }

    /// One line for stderr saying what is served.
    pub fn summary(&self) -> String {
        let inner = &*self.inner;
        let connector = inner.connection.connector();
        let reachable = inner.toolset.actions.len();
        let read_only = if inner.options.read_only {
            ", read-only"
        } else {
            ""
        };
        match inner.toolset.mode {
            Mode::Catalogue => format!(
                "serving {} {} over MCP in catalogue mode{read_only}: {reachable} actions through search_actions, describe_action and run_action (more than {} tools; --mode tools lists them all)",
                connector.title, connector.version, tools::MAX_TOOLS
            ),
            _ => format!(
                "serving {} {} over MCP{read_only}: {} tools",
                connector.title,
                connector.version,
                inner.toolset.served.len()
            ),
        }
    }

    /// Runs one tool call; an unknown tool is a protocol error, everything else a result.
    pub async fn call(
        &self,
        name: &str,
        arguments: Map<String, Value>,
    ) -> Result<CallToolResult, ErrorData> {
        let started = Instant::now();
        let inner = &*self.inner;
        let result = match inner.toolset.get(name) {
            Some(entry) => self.dispatch(entry, arguments).await,
            None if inner.toolset.withheld.contains_key(name) => Ok(shape::error_text(format!(
                "`{name}` can change data and this server is read-only (--read-only): refused, nothing was sent"
            ))),
            None => Err(ErrorData::invalid_params(
                format!(
                    "unknown tool `{}`{}",
                    super::text::trimmed(name, 80),
                    crate::error::hint(name, inner.toolset.served.iter().map(|e| &*e.tool.name))
                ),
                None,
            )),
        };
        log_call(name, &result, started);
        result
    }

    async fn dispatch(
        &self,
        entry: &Entry,
        arguments: Map<String, Value>,
    ) -> Result<CallToolResult, ErrorData> {
        let inner = &*self.inner;
        let catalogue = catalogue(&inner.connection).map_err(internal)?;
        Ok(match &entry.target {
            Target::Action(id) => self.run(entry, id, Value::Object(arguments)).await,
            Target::Entity {
                kind: OperationKind::List,
                entity,
                action,
            } => self.list(entry, catalogue, entity, action, arguments).await,
            Target::Entity { action, .. } => {
                self.run(entry, action, Value::Object(arguments)).await
            }
            Target::Search => self.search(catalogue, &arguments),
            Target::Describe => self.describe(catalogue, &arguments),
            Target::Run => self.run_by_id(entry, catalogue, arguments).await,
        })
    }

    /// Runs `action` through the executor and shapes its answer as `entry` serves it.
    async fn run(&self, entry: &Entry, action: &str, input: Value) -> CallToolResult {
        let inner = &*self.inner;
        let output = match inner.connection.execute_action(action, input).await {
            Ok(output) => output,
            Err(err) => return shape::call_error(&err),
        };
        let structured = match shape::structured(output.body, entry.wrapped, output.status) {
            Ok(structured) => structured,
            Err(text) => {
                return CallToolResult::success(vec![rmcp::model::ContentBlock::text(text)])
            }
        };
        if let Some(problem) = self.output_problem(entry, &structured) {
            return shape::error_text(format!(
                "the API's answer does not match the output schema its spec declares ({problem}); the answer as received:\n{}",
                super::text::cut_bytes(&structured.to_string(), inner.options.result_limit())
            ));
        }
        shape::success(structured, inner.options.result_limit())
    }

    /// Where `value` departs from the tool's output schema, if it has one (clients check
    /// structured content against it and would reject the whole answer).
    fn output_problem(&self, entry: &Entry, value: &Value) -> Option<String> {
        let schema = entry.tool.output_schema.as_ref()?;
        let validator = {
            let mut compiled = self
                .inner
                .outputs
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            compiled
                .entry(entry.tool.name.to_string())
                .or_insert_with(|| {
                    jsonschema::options()
                        .with_draft(Draft::Draft202012)
                        .build(&Value::Object(schema.as_ref().clone()))
                        .ok()
                        .map(Arc::new)
                })
                .clone()?
        };
        let error = validator.iter_errors(value).next()?;
        let at = error.instance_path().as_str().to_owned();
        Some(format!(
            "at {}: {}",
            if at.is_empty() { "/" } else { &at },
            super::text::trimmed(&error.to_string(), 200)
        ))
    }

    async fn list(
        &self,
        entry: &Entry,
        catalogue: &Catalogue,
        entity: &str,
        action: &str,
        arguments: Map<String, Value>,
    ) -> CallToolResult {
        let inner = &*self.inner;
        let Some(entity) = catalogue.entity(entity) else {
            return shape::error_text(format!("the connector has no entity `{entity}`"));
        };
        let properties = entry
            .tool
            .input_schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let call = match listing::parse(&entry.tool.name, entity, &properties, arguments) {
            Ok(call) => call,
            Err(problems) => return shape::invalid_arguments(&entry.tool.name, &problems),
        };
        match listing::list(
            &inner.connection,
            &entry.tool.name,
            action,
            call,
            inner.options.byte_budget,
        )
        .await
        {
            Ok(answer) => shape::success(answer, inner.options.result_limit()),
            Err(err) => shape::call_error(&err),
        }
    }

    fn search(&self, catalogue: &Catalogue, arguments: &Map<String, Value>) -> CallToolResult {
        let mut problems = unknown_keys(arguments, &["query", "limit"]);
        let query = match arguments.get("query") {
            Some(Value::String(query)) => query.as_str(),
            _ => {
                problems.push("/query: required, a string of words".to_owned());
                ""
            }
        };
        let limit = match arguments.get("limit") {
            None => 20,
            Some(value) => match value.as_u64() {
                Some(n) if n >= 1 => n.min(50) as usize,
                _ => {
                    problems.push("/limit: expected an integer of at least 1".to_owned());
                    20
                }
            },
        };
        if !problems.is_empty() {
            return shape::invalid_arguments("search_actions", &problems);
        }
        let found = search::search(
            &catalogue.actions,
            &self.inner.toolset.actions,
            query,
            limit,
        );
        let results: Vec<Value> = found
            .iter()
            .filter_map(|f| catalogue.actions.get(f.index))
            .map(|a| {
                json!({
                    "id": a.id,
                    "summary": super::text::trimmed(&super::text::one_line(a.summary.as_deref().unwrap_or_default()), 160),
                    "method": a.method,
                    "path": a.path,
                })
            })
            .collect();
        shape::success(
            json!({ "actions": results }),
            self.inner.options.result_limit(),
        )
    }

    fn describe(&self, catalogue: &Catalogue, arguments: &Map<String, Value>) -> CallToolResult {
        let problems = unknown_keys(arguments, &["id"]);
        let Some(id) = arguments.get("id").and_then(Value::as_str) else {
            let mut problems = problems;
            problems.push("/id: required, an action id".to_owned());
            return shape::invalid_arguments("describe_action", &problems);
        };
        if !problems.is_empty() {
            return shape::invalid_arguments("describe_action", &problems);
        }
        match self.reachable(catalogue, id) {
            Ok(action) => {
                let mut described = serde_json::to_value(catalogue.standalone_action(action))
                    .unwrap_or(Value::Null);
                if let Value::Object(map) = &mut described {
                    map.remove("servers");
                }
                // A schema can be large, but an agent cannot call the action without it.
                shape::success(described, usize::MAX)
            }
            Err(message) => shape::error_text(message),
        }
    }

    async fn run_by_id(
        &self,
        entry: &Entry,
        catalogue: &Catalogue,
        mut arguments: Map<String, Value>,
    ) -> CallToolResult {
        let mut problems = unknown_keys(&arguments, &["id", "input"]);
        let id = match arguments.remove("id") {
            Some(Value::String(id)) => id,
            _ => {
                problems.push("/id: required, an action id".to_owned());
                String::new()
            }
        };
        let input = match arguments.remove("input") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(input @ Value::Object(_)) => input,
            Some(_) => {
                problems.push("/input: expected an object of parameters".to_owned());
                Value::Null
            }
        };
        if !problems.is_empty() {
            return shape::invalid_arguments("run_action", &problems);
        }
        match self.reachable(catalogue, &id) {
            Ok(action) => {
                let id = action.id.clone();
                self.run(entry, &id, input).await
            }
            Err(message) => shape::error_text(message),
        }
    }

    /// The action `id` if the catalogue tools reach it; else the tool error to answer with.
    fn reachable<'c>(
        &self,
        catalogue: &'c Catalogue,
        id: &str,
    ) -> Result<&'c crate::catalogue::Action, String> {
        let toolset = &self.inner.toolset;
        if toolset.withheld_actions.iter().any(|w| w == id) {
            return Err(format!(
                "`{id}` can change data and this server is read-only (--read-only): refused, nothing was sent"
            ));
        }
        toolset
            .actions
            .iter()
            .filter_map(|i| catalogue.actions.get(*i))
            .find(|a| a.id == id)
            .ok_or_else(|| {
                let ids = toolset
                    .actions
                    .iter()
                    .filter_map(|i| catalogue.actions.get(*i))
                    .map(|a| a.id.as_str());
                format!(
                    "no action `{}`{}; search_actions finds them",
                    super::text::trimmed(id, 80),
                    crate::error::hint(id, ids)
                )
            })
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let connector = self.inner.connection.connector();
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .build();
        let instructions = match self.inner.toolset.mode {
            Mode::Catalogue => format!(
                "The {} API ({} actions). Find an action with search_actions, read its input schema with describe_action, then call it with run_action.",
                connector.title,
                self.inner.toolset.actions.len()
            ),
            _ => format!(
                "The {} API: one tool per action; ENTITY_list tools return bounded pages with a cursor to continue.",
                connector.title
            ),
        };
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new(connector.name.to_string(), connector.version.to_string())
                    .with_title(connector.title.to_string()),
            )
            .with_instructions(instructions)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.inner.toolset.get(name).map(|e| e.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.unwrap_or_default();
        self.call(&request.name, arguments)
            .await
            .map(CallToolResponse::from)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let catalogue = catalogue(&self.inner.connection).map_err(internal)?;
        let cursor = request.and_then(|r| r.cursor);
        resources::list(&self.inner.toolset, catalogue, cursor.as_deref())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let catalogue = catalogue(&self.inner.connection).map_err(internal)?;
        resources::read(&self.inner.toolset, catalogue, &request.uri)
            .map(ReadResourceResponse::from)
    }
}

/// The connection's catalogue; a connector without one cannot be served.
fn catalogue(connection: &Connection) -> Result<&Catalogue, Error> {
    connection.catalogue()?.ok_or_else(|| Error::InvalidInput {
        message: format!(
            "connector `{}` has no action catalogue to serve",
            connection.connector().name
        ),
    })
}

fn internal(err: Error) -> ErrorData {
    ErrorData::internal_error(err.to_string(), None)
}

/// The keys of `arguments` a catalogue tool does not take, as problems.
fn unknown_keys(arguments: &Map<String, Value>, known: &[&str]) -> Vec<String> {
    arguments
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| {
            format!(
                "/{}: unknown argument{}",
                super::text::trimmed(k, 60),
                crate::error::hint(k, known.iter().copied())
            )
        })
        .collect()
}

/// One line on stderr per call: the tool, the outcome and the time; never an argument, an
/// answer or a credential.
fn log_call(name: &str, result: &Result<CallToolResult, ErrorData>, started: Instant) {
    let outcome = match result {
        Ok(r) if r.is_error == Some(true) => "tool error",
        Ok(_) => "ok",
        Err(_) => "refused",
    };
    let _ = writeln!(
        std::io::stderr().lock(),
        "mcp: {} {outcome} in {} ms",
        super::text::trimmed(&super::text::one_line(name), 80),
        started.elapsed().as_millis()
    );
}
