//! `entities`, `list`, `get`, `create`, `update`, `delete`: the entity commands of the runner.

use std::io::Write;
use std::process::ExitCode;

use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::output::{print_json, print_text, Problem};
use super::{async_runtime, base_builder, prepare, ConnectArgs, MakeBuilder, EXIT_OK};
use crate::catalogue::{Catalogue, OperationKind};
use crate::connection::Connection;
use crate::descriptor::ConnectorDescriptor;
use crate::paginate::ListOptions;

/// Arguments of the entity commands.
#[derive(Debug, Clone, clap::Args)]
pub struct EntityArgs {
    /// The entity's name (see `entities`).
    pub entity: String,
    /// The record's key (get, update, delete).
    pub id: Option<String>,
    /// A scope parameter of a nested entity, `NAME=VALUE` (repeatable).
    #[arg(long = "scope", value_name = "NAME=VALUE")]
    pub scopes: Vec<String>,
    /// JSON: the record (create), the changes (update) or filter parameters (list); `@FILE` for
    /// a file, `-` for stdin.
    #[arg(long, short, value_name = "JSON|@FILE|-")]
    pub input: Option<String>,
    /// list: stop after N records.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// list: records per page, when the API lets the caller choose.
    #[arg(long, value_name = "N")]
    pub page_size: Option<u64>,
    /// Where and how to connect.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Prints the entities table, or the catalogue's entities as JSON.
pub fn entities(catalogue: &Catalogue, json: bool) -> ExitCode {
    if json {
        let entities: Vec<_> = catalogue
            .entities
            .iter()
            .map(|e| catalogue.standalone_entity(e))
            .collect();
        print_json(&serde_json::to_value(&entities).unwrap_or(Value::Null));
        return ExitCode::from(EXIT_OK);
    }
    let mut text = String::new();
    for entity in &catalogue.entities {
        let ops: Vec<&str> = entity.operations.keys().map(|k| k.as_str()).collect();
        let scope = if entity.scope.is_empty() {
            String::new()
        } else {
            format!(" --scope {}", entity.scope.join(" --scope "))
        };
        text += &format!(
            "{}  [{}]  key: {}{scope}\n",
            super::output::one_line(&entity.name),
            ops.join(", "),
            entity
                .key
                .as_deref()
                .map_or("none".into(), super::output::one_line),
        );
    }
    print_text(&text);
    ExitCode::from(EXIT_OK)
}

/// Runs one entity operation; `list` prints one record a line as pages arrive.
pub fn entity(connector: &ConnectorDescriptor, kind: OperationKind, args: &EntityArgs) -> ExitCode {
    entity_with(&|connect| base_builder(connector, connect), kind, args)
}

/// Runs one entity operation on the connection `builder` makes.
pub(super) fn entity_with(
    builder: &MakeBuilder,
    kind: OperationKind,
    args: &EntityArgs,
) -> ExitCode {
    match run_entity(builder, kind, args) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(problem) => problem.report(),
    }
}

fn run_entity(
    builder: &MakeBuilder,
    kind: OperationKind,
    args: &EntityArgs,
) -> Result<(), Problem> {
    let input = args.input.as_deref().unwrap_or("{}");
    let (connection, input) =
        builder(&args.connect).and_then(|builder| prepare(builder, &args.connect, input))?;
    let entity = connection.entity(&args.entity)?;
    let mut scope = Map::new();
    for pair in &args.scopes {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(Problem::input(format!(
                "--scope takes NAME=VALUE, got `{pair}`"
            )));
        };
        scope.insert(
            name.to_owned(),
            param_value(&connection, &entity.operations, kind, name, value),
        );
    }
    let needs_id = matches!(
        kind,
        OperationKind::Get | OperationKind::Update | OperationKind::Delete
    );
    let id = match (&args.id, needs_id) {
        (Some(id), true) => {
            let param = entity.key_param.clone().unwrap_or_default();
            Some(param_value(
                &connection,
                &entity.operations,
                kind,
                &param,
                id,
            ))
        }
        (None, true) => {
            return Err(Problem::input(format!(
                "{} needs the record's key: {} ENTITY ID",
                kind.as_str(),
                kind.as_str()
            )))
        }
        (Some(_), false) => return Err(Problem::input(format!("{} takes no ID", kind.as_str()))),
        (None, false) => None,
    };
    let runtime = async_runtime()?;
    runtime.block_on(async {
        let name = args.entity.as_str();
        let result = match (kind, id) {
            (OperationKind::List, _) => {
                let mut input = match input {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                input.extend(scope);
                let options = ListOptions {
                    page_size: args.page_size,
                    max_records: args.limit,
                    ..ListOptions::default()
                };
                let mut stream = connection.list_entities(name, input, options)?;
                let mut stdout = std::io::stdout().lock();
                while let Some(record) = stream.next().await {
                    let line = serde_json::to_string(&record?).unwrap_or_default();
                    // A reader that went away (`| head`) ends the listing quietly.
                    if writeln!(stdout, "{line}")
                        .and_then(|()| stdout.flush())
                        .is_err()
                    {
                        break;
                    }
                }
                return Ok(());
            }
            (OperationKind::Get, Some(id)) => connection.get_entity(name, scope, id).await,
            (OperationKind::Create, _) => connection.create_entity(name, scope, input).await,
            (OperationKind::Update, Some(id)) => {
                connection.update_entity(name, scope, id, input).await
            }
            (OperationKind::Delete, Some(id)) => connection.delete_entity(name, scope, id).await,
            _ => return Ok(()),
        }?;
        if !result.is_null() {
            print_json(&result);
        }
        Ok(())
    })
}

/// A command-line value as the JSON its parameter's schema wants (an integer id is a number).
fn param_value(
    connection: &Connection,
    operations: &std::collections::BTreeMap<OperationKind, String>,
    kind: OperationKind,
    name: &str,
    text: &str,
) -> Value {
    let schema = operations
        .get(&kind)
        .and_then(|action| connection.catalogue().ok().flatten()?.action(action))
        .and_then(|action| action.input_schema.pointer(&format!("/properties/{name}")))
        .cloned()
        .unwrap_or(Value::Null);
    crate::paginate::typed(&schema, text)
}

/// Arguments of `ping`.
#[derive(Debug, Clone, clap::Args)]
pub struct PingArgs {
    /// Where and how to connect.
    #[command(flatten)]
    pub connect: ConnectArgs,
}

/// Pings the connection and prints the result as JSON: exit 0 when it worked, 3 when the API
/// could not be reached, 4 when it answered but the ping failed or a credential is missing or
/// rejected.
pub fn ping(connector: &ConnectorDescriptor, args: &PingArgs) -> ExitCode {
    ping_with(&|connect| base_builder(connector, connect), args)
}

/// Pings the connection `builder` makes; see [`ping`].
pub(super) fn ping_with(builder: &MakeBuilder, args: &PingArgs) -> ExitCode {
    let outcome = builder(&args.connect)
        .and_then(|builder| prepare(builder, &args.connect, "{}"))
        .and_then(|(connection, _)| {
            let runtime = async_runtime()?;
            Ok(runtime.block_on(connection.ping()))
        });
    match outcome {
        Ok(result) => {
            print_json(&serde_json::to_value(&result).unwrap_or(Value::Null));
            let code = if result.ok {
                EXIT_OK
            } else if result.action.is_empty() {
                super::EXIT_BAD_INPUT
            } else if result.reachable || result.credentials_accepted == Some(false) {
                super::EXIT_STATUS
            } else {
                super::EXIT_CONNECTION
            };
            ExitCode::from(code)
        }
        Err(problem) => problem.report(),
    }
}
