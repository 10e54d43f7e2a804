//! The `connector-gen` command line: parses arguments and calls the library.

mod alloc;
mod generate;
mod inspect;
mod interpret;
mod login;
mod mcp;
mod output;
mod run_cache;
mod sync;
mod versions;
mod webhooks;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use connector_runtime::catalogue::OperationKind;
use connector_runtime::runner::{DescribeArgs, EntityArgs, LoginArgs, McpArgs, PingArgs, RunArgs};
use generate::{GenerateArgs, GENERATE_HELP};
use inspect::{InspectArgs, INSPECT_HELP};
use interpret::{
    interpret_help, EntitiesArgs, InterpretArgs, DESCRIBE_EXAMPLES, ENTITY_EXAMPLES, PING_EXAMPLES,
    RUN_EXAMPLES,
};
use sync::{SyncCommand, SYNC_HELP};
use versions::{DiffArgs, VersionsArgs, DIFF_HELP, VERSIONS_HELP};
use webhooks::{EventsCommand, ListenCommand, EVENTS_HELP, LISTEN_HELP};

const MAIN_HELP: &str = "\
Examples:
  connector-gen inspect specs/petstore.yaml
  connector-gen generate specs/petstore.yaml --out petstore
  connector-gen generate api.json --out crates/api --name api --license MIT
  connector-gen describe specs/petstore.yaml getPet
  connector-gen run specs/petstore.yaml getPet --input '{\"petId\": 1}' --base-url http://127.0.0.1:4010
  connector-gen mcp specs/petstore.yaml --connection shop.toml      # an MCP server for AI agents
  connector-gen listen specs/webhooks.yaml --connection hooks.toml --store sqlite:events.db
  connector-gen events --store sqlite:events.db --follow
  connector-gen sync orders-to-crm.toml
  connector-gen login specs/auth.yaml --connection my-auth.toml --scheme oauth

Exit status: generate and inspect end with 0 on success (also when stdout is closed early, as by
`| head`), 1 when the command fails (the error and its causes are printed to stderr), 2 for an
invalid command line. run and describe end with 0 on success, 2 for bad input, 3 for a connection
failure, 4 when the API answered with a non-2xx status (see `connector-gen run --help`); login
ends with 4 when the authorization was refused (see `connector-gen login --help`). mcp ends
with 0 when the client closes the session, 2 for bad input, 3 when its transport fails.";

#[derive(Parser)]
#[command(
    name = "connector-gen",
    version,
    about = "Generate typed Rust connectors from OpenAPI 3.1, 3.0 and Swagger 2.0 specs",
    after_help = MAIN_HELP,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a connector crate (Cargo.toml, README.md, src/) from a spec.
    #[command(after_help = GENERATE_HELP)]
    Generate(Box<GenerateArgs>),
    /// List a spec's actions, or print the lowered connector and its warnings as JSON.
    #[command(after_help = INSPECT_HELP)]
    Inspect(InspectArgs),
    /// Run one action of a spec, with no code generated, and print its response as JSON.
    #[command(after_help = interpret_help(RUN_EXAMPLES))]
    Run(InterpretArgs<RunArgs>),
    /// Print a spec's action catalogue, or one action's input and output JSON Schemas.
    #[command(after_help = interpret_help(DESCRIBE_EXAMPLES))]
    Describe(InterpretArgs<DescribeArgs>),
    /// List a spec's entities (resources with List, Get, Create, Update, Delete).
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Entities(InterpretArgs<EntitiesArgs>),
    /// Stream an entity's records, one JSON object a line, fetching pages as they are read.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    List(InterpretArgs<EntityArgs>),
    /// Read one record of an entity by key.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Get(InterpretArgs<EntityArgs>),
    /// Create a record of an entity from `--input`.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Create(InterpretArgs<EntityArgs>),
    /// Change a record of an entity with `--input`.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Update(InterpretArgs<EntityArgs>),
    /// Delete a record of an entity by key.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Delete(InterpretArgs<EntityArgs>),
    /// Ping the API (the declared ping action, else a cheap GET): reachable, credentials
    /// accepted, latency; as JSON.
    #[command(after_help = interpret_help(PING_EXAMPLES))]
    Ping(InterpretArgs<PingArgs>),
    /// Serve a spec's actions and entities to AI agents over MCP (stdio, or Streamable HTTP with
    /// --http ADDR), with no code generated.
    #[command(after_help = mcp::mcp_help())]
    Mcp(InterpretArgs<McpArgs>),
    /// Obtain OAuth 2 tokens for a connection (authorization code with PKCE, device code,
    /// password) and store them in its secrets file.
    #[command(after_help = login::login_help())]
    Login(InterpretArgs<LoginArgs>),
    /// Print every version of a manifest (or a spec's one) with its state, actions, entities and
    /// backend variables, as JSON.
    #[command(after_help = VERSIONS_HELP)]
    Versions(VersionsArgs),
    /// List the changes between two specs (or two versions of a manifest), marking the breaking ones.
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Receive a spec's webhook events: verify, validate, de-duplicate and store each one before
    /// answering 2xx.
    #[command(after_help = LISTEN_HELP)]
    Listen(Box<ListenCommand>),
    /// Print stored webhook events as JSON lines, or deliver them to a command (--exec).
    #[command(after_help = EVENTS_HELP)]
    Events(Box<EventsCommand>),
    /// Keep one connection's entity in step with another's or with a database table (run
    /// once, --watch, or `sync status FILE`).
    #[command(after_help = SYNC_HELP)]
    Sync(Box<SyncCommand>),
}

fn main() -> ExitCode {
    alloc::tune();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout; a closed stdout is not worth a panic either.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(output::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    output::finish(match cli.command {
        Command::Generate(args) => generate::generate(*args),
        Command::Inspect(args) => inspect::inspect(args),
        Command::Run(a) => return interpret::run(&a.spec, &a.options(), a.version(), &a.args),
        Command::Entities(a) => {
            return interpret::entities(&a.spec, &a.options(), a.version(), a.args.json)
        }
        Command::Ping(a) => return interpret::ping(&a.spec, &a.options(), a.version(), &a.args),
        Command::Login(a) => return login::login(&a),
        Command::List(e) => return interpret::entity_command(OperationKind::List, &e),
        Command::Get(e) => return interpret::entity_command(OperationKind::Get, &e),
        Command::Create(e) => return interpret::entity_command(OperationKind::Create, &e),
        Command::Update(e) => return interpret::entity_command(OperationKind::Update, &e),
        Command::Delete(e) => return interpret::entity_command(OperationKind::Delete, &e),
        Command::Describe(a) => {
            return interpret::describe(&a.spec, &a.options(), a.version(), &a.args)
        }
        Command::Mcp(a) => return mcp::mcp(&a.spec, &a.options(), a.version(), &a.args),
        Command::Versions(args) => versions::versions(&args),
        Command::Diff(args) => return versions::diff(&args),
        Command::Listen(command) => return webhooks::listen(&command),
        Command::Events(command) => return webhooks::events(&command),
        Command::Sync(command) => return sync::sync(&command),
    })
}
