//! The generic command line (feature `cli`): what a generated connector's binary and
//! `connector-gen run` / `describe` share, so both print the same JSON and exit with the same
//! codes.
//!
//! JSON goes to stdout, diagnostics to stderr. Exit codes: see [`EXIT_CODES`]. Crates the runtime
//! does not depend on add commands of their own with an [`Extension`] ([`main_with`]): a
//! generated crate's `listen` feature adds connector-flows' `listen` and `events`.

mod entities;
mod extend;
mod login;
#[cfg(feature = "mcp")]
mod mcp;
mod output;
mod versions;

pub use extend::{Context, Extension};
#[cfg(feature = "mcp")]
pub use mcp::{mcp, McpArgs, ModeArg, MCP_HELP};
#[cfg(feature = "mcp")]
pub use versions::mcp_versions;
pub use versions::{
    entity_versions, main_versions, main_versions_with, ping_versions, run_versions,
};

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use serde_json::Value;

use crate::catalogue::{Catalogue, OperationKind};
use crate::config::ConnectionConfig;
use crate::connection::{Connection, ConnectionBuilder};
use crate::descriptor::ConnectorDescriptor;
use crate::error::Error;
pub use entities::{entities, entity, ping, EntityArgs, PingArgs};
pub use login::{login, login_versions, LoginArgs, LOGIN_HELP};
pub use output::{action_text, actions_table};
use output::{print_json, Problem};

/// The exit codes, as `--help` shows them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (the response body is printed on stdout as JSON)
  2  bad input: unknown action, invalid input, invalid connection file, unreadable spec
  3  connection failure: DNS, refused, TLS, timeout, token endpoint
  4  the API answered with a non-2xx status (its body is still printed on stdout)";

/// Success.
pub const EXIT_OK: u8 = 0;
/// Bad input: unknown action, invalid input, invalid connection file, unreadable spec.
pub const EXIT_BAD_INPUT: u8 = 2;
/// The request could not be completed: DNS, refused, TLS, timeout, token endpoint.
pub const EXIT_CONNECTION: u8 = 3;
/// The API answered with a non-2xx status.
pub const EXIT_STATUS: u8 = 4;

/// Arguments of `run ACTION`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The action's id (see `actions`).
    pub action: String,
    /// The input: JSON text, `@FILE` for a file, or `-` for stdin. An object of parameters by
    /// name, plus `body` for the request body.
    #[arg(long, short, value_name = "JSON|@FILE|-", default_value = "{}")]
    pub input: String,
    /// Where and how to connect.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Print `{"status", "headers", "body"}` instead of the body alone; for a non-2xx answer,
    /// also the declared response it matched and its schema's name (`"declared": "404",
    /// "schema": "Error"`).
    #[arg(long)]
    pub full: bool,
}

/// The connection options every command that calls the API takes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectArgs {
    /// A connection file (TOML, YAML or JSON) with base URL, credentials and settings.
    #[arg(long, value_name = "FILE")]
    pub connection: Option<PathBuf>,
    /// Base URL to call instead of the spec's (or the connection file's) server.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// A server variable, `NAME=VALUE` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
}

/// Arguments of `describe [ACTION]`.
#[derive(Debug, Clone, clap::Args)]
pub struct DescribeArgs {
    /// One action's id; without it, every action.
    pub action: Option<String>,
    /// Print JSON: the catalogue, or the one action.
    #[arg(long)]
    pub json: bool,
}

/// How a command gets its connection from the command line's connection options: the
/// connector's own connection file, or the version a file or `--version` pins.
type MakeBuilder<'a> = dyn Fn(&ConnectArgs) -> Result<ConnectionBuilder, Problem> + 'a;

/// Runs one action and prints its output; returns the exit code.
pub fn run(connector: &ConnectorDescriptor, args: &RunArgs) -> ExitCode {
    run_with(&|connect| base_builder(connector, connect), args)
}

/// The single-threaded runtime a command runs its calls on.
fn async_runtime() -> Result<tokio::runtime::Runtime, Problem> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Problem::connection(format!("cannot start the async runtime: {err}")))
}

/// Runs one action with the connection `builder` makes (before the command line's overrides).
fn run_with(builder: &MakeBuilder, args: &RunArgs) -> ExitCode {
    let outcome = builder(&args.connect)
        .and_then(|builder| prepare(builder, &args.connect, &args.input))
        .and_then(|(connection, input)| {
            let runtime = async_runtime()?;
            runtime
                .block_on(connection.execute_action(&args.action, input))
                .map_err(|err| {
                    let output = connection.error_output(&err);
                    Problem::from(err).with_error_output(output, args.full)
                })
        });
    match outcome {
        Ok(output) => {
            let shown = if args.full {
                serde_json::to_value(&output).unwrap_or(Value::Null)
            } else {
                output.body
            };
            print_json(&shown);
            ExitCode::from(EXIT_OK)
        }
        Err(problem) => problem.report(),
    }
}

/// Prints the catalogue or one action; returns the exit code.
pub fn describe(catalogue: &Catalogue, args: &DescribeArgs) -> ExitCode {
    let Some(id) = &args.action else {
        if args.json {
            print_json(&serde_json::to_value(catalogue).unwrap_or(Value::Null));
        } else {
            output::print_text(&actions_table(catalogue));
        }
        return ExitCode::from(EXIT_OK);
    };
    // One action is shown self-contained, with the definitions its schemas reach.
    match catalogue.action(id).map(|a| catalogue.standalone_action(a)) {
        Some(action) if args.json => {
            print_json(&serde_json::to_value(action).unwrap_or(Value::Null));
            ExitCode::from(EXIT_OK)
        }
        Some(action) => {
            output::print_text(&action_text(&action));
            ExitCode::from(EXIT_OK)
        }
        None => Problem::from(Error::UnknownAction {
            name: id.clone(),
            hint: crate::error::hint(id, catalogue.actions.iter().map(|a| a.id.as_str())),
        })
        .report(),
    }
}

/// The catalogue of `connector`: parsed from its embedded JSON, or (for a connector without
/// one) the actions with no schemas.
pub fn catalogue_of(connector: &ConnectorDescriptor) -> Result<Catalogue, Error> {
    match &connector.catalogue {
        Some(text) => crate::catalogue::parse(text),
        None => Ok(Catalogue {
            name: connector.name.to_string(),
            title: connector.title.to_string(),
            version: connector.version.to_string(),
            description: None,
            security_schemes: Vec::new(),
            actions: connector
                .operations
                .iter()
                .map(|op| crate::catalogue::Action {
                    id: op.id.to_string(),
                    method: op.method.as_str().to_owned(),
                    path: op.path.to_string(),
                    summary: op.summary.as_ref().map(|s| s.to_string()),
                    description: None,
                    tags: Vec::new(),
                    deprecated: op.deprecated,
                    idempotent: false,
                    auth: op
                        .auth_alternatives()
                        .into_iter()
                        .map(|alt| alt.into_iter().map(str::to_owned).collect())
                        .collect(),
                    input_schema: serde_json::json!({}),
                    output_schemas: Default::default(),
                    output_headers: Default::default(),
                    paging: None,
                    servers: op.servers.iter().map(|s| s.url.to_string()).collect(),
                })
                .collect(),
            entities: Vec::new(),
            ping: None,
            definitions: Default::default(),
            ..Catalogue::default()
        }),
    }
}

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the actions.
    Actions {
        /// Print the catalogue as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show an action's input and output schemas (or every action).
    Describe(DescribeArgs),
    /// Run an action and print its response body as JSON.
    Run(RunArgs),
    /// List the entities.
    Entities {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stream an entity's records, one JSON object a line.
    List(EntityArgs),
    /// Read one record.
    Get(EntityArgs),
    /// Create a record from `--input`.
    Create(EntityArgs),
    /// Change a record with `--input`.
    Update(EntityArgs),
    /// Delete a record.
    Delete(EntityArgs),
    /// Ping the API: reachable, credentials accepted, latency.
    Ping(PingArgs),
    /// Serve the actions and entities to AI agents over MCP (stdio, or --http ADDR).
    #[cfg(feature = "mcp")]
    #[command(after_help = MCP_HELP)]
    Mcp(McpArgs),
    /// Obtain OAuth 2 tokens (authorization code with PKCE, device code, password) and store
    /// them in the connection's secrets file.
    #[command(after_help = LOGIN_HELP)]
    Login(LoginArgs),
}

/// The whole program of a generated connector's binary: `actions`, `describe`, `run` and the
/// entity commands.
pub fn main(connector: &ConnectorDescriptor) -> ExitCode {
    main_with(connector, &[])
}

/// The program of [`main`] with the subcommands of `extensions` as well (a generated crate's
/// `listen` feature adds connector-flows' `listen` and `events`).
pub fn main_with(connector: &ConnectorDescriptor, extensions: &[&dyn Extension]) -> ExitCode {
    main_from(
        connector,
        std::env::args_os().collect(),
        &|connect| base_builder(connector, connect),
        &|path| login::own_config(connector, path),
        extensions,
    )
}

/// The program over `argv`; every command that calls the API connects through `builder`, and
/// `login` (and the extensions) read their connection file with `load`.
fn main_from(
    connector: &ConnectorDescriptor,
    argv: Vec<std::ffi::OsString>,
    builder: &MakeBuilder,
    load: &login::LoadConfig,
    extensions: &[&dyn Extension],
) -> ExitCode {
    let catalogue = match catalogue_of(connector) {
        Ok(catalogue) => catalogue,
        Err(err) => return Problem::from(err).report(),
    };
    let name: String = connector.name.to_string();
    let command = Cli::command()
        .name(name.clone())
        .bin_name(name)
        .about(format!(
            "{} {} from the command line",
            connector.title, connector.version
        ))
        .after_help(format!(
            "Actions:\n{}\n{EXIT_CODES}",
            output::indent(&actions_table(&catalogue))
        ));
    let command = extensions
        .iter()
        .fold(command, |command, extension| extension.augment(command));
    // Usage errors exit with 2, as bad input does.
    let matches = command.get_matches_from(argv);
    let context = Context {
        connector,
        catalogue: &catalogue,
        load,
    };
    if let Some(code) = extensions
        .iter()
        .find_map(|extension| extension.run(&context, &matches))
    {
        return code;
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    match cli.command {
        Command::Actions { json } => describe(&catalogue, &DescribeArgs { action: None, json }),
        Command::Describe(args) => describe(&catalogue, &args),
        Command::Run(args) => run_with(builder, &args),
        Command::Entities { json } => entities(&catalogue, json),
        Command::List(args) => entities::entity_with(builder, OperationKind::List, &args),
        Command::Get(args) => entities::entity_with(builder, OperationKind::Get, &args),
        Command::Create(args) => entities::entity_with(builder, OperationKind::Create, &args),
        Command::Update(args) => entities::entity_with(builder, OperationKind::Update, &args),
        Command::Delete(args) => entities::entity_with(builder, OperationKind::Delete, &args),
        Command::Ping(args) => entities::ping_with(builder, &args),
        #[cfg(feature = "mcp")]
        Command::Mcp(args) => mcp::mcp_with(builder, &args),
        Command::Login(args) => login::login_with(load, &args),
    }
}

/// The connection the file describes, or a default one.
fn base_builder(
    connector: &ConnectorDescriptor,
    args: &ConnectArgs,
) -> Result<ConnectionBuilder, Problem> {
    Ok(match &args.connection {
        Some(path) => ConnectionConfig::from_file(connector, path)?.builder(connector),
        None => Connection::builder(connector),
    })
}

/// The connection (file, then the command line's overrides) and the parsed input.
fn prepare(
    mut builder: ConnectionBuilder,
    args: &ConnectArgs,
    input: &str,
) -> Result<(Connection, Value), Problem> {
    let input = read_input(input)?;
    for var in &args.vars {
        let Some((name, value)) = var.split_once('=') else {
            return Err(Problem::input(format!(
                "--var takes NAME=VALUE, got `{var}`"
            )));
        };
        builder = builder.variable(name, value);
    }
    if let Some(url) = &args.base_url {
        builder = builder.base_url(url);
    }
    Ok((builder.build()?, input))
}

fn read_input(given: &str) -> Result<Value, Problem> {
    let (text, source) = if given == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|err| Problem::input(format!("cannot read the input from stdin: {err}")))?;
        (text, "stdin".to_owned())
    } else if let Some(path) = given.strip_prefix('@') {
        let text = std::fs::read_to_string(path).map_err(|err| {
            Problem::input(format!("cannot read the input file {path}: {}", err.kind()))
        })?;
        (text, path.to_owned())
    } else {
        (given.to_owned(), "--input".to_owned())
    };
    serde_json::from_str(&text)
        .map_err(|err| Problem::input(format!("the input ({source}) is not valid JSON: {err}")))
}
