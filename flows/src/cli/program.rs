//! `listen` and `events` in a generated connector's program (its crate's `listen` feature):
//! the same commands as connector-gen's, serving the connector's own events with its embedded
//! catalogue, added to the runtime's program as an [`Extension`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{FromArgMatches, Subcommand};
use connector_runtime::runner::{catalogue_of, Context, Extension};

use super::{events, listen, EventsArgs, ListenArgs, EXIT_BAD_INPUT};

/// Examples and exit codes of a generated program's `listen`.
const PROGRAM_LISTEN_HELP: &str = listen_help!(
    "  \
  listen --connection github.toml
  listen --connection hooks.toml --addr 127.0.0.1:8787 --store sqlite:events.db
  listen --connection api.toml --store postgres://app@db.internal/events"
);

/// Examples and exit codes of a generated program's `events`.
const PROGRAM_EVENTS_HELP: &str = events_help!(
    "  \
  events --store sqlite:events.db
  events --store sqlite:events.db --follow --type push
  events --store sqlite:events.db --exec './handle-event.sh' --follow
  events --store sqlite:events.db --state dead"
);

/// The `listen` and `events` commands for a connector's program:
/// `connector_runtime::runner::main_with(&CONNECTOR, &[&WebhookCommands])`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookCommands;

#[derive(Debug, Subcommand)]
enum Command {
    /// Receive the connector's events: verify, validate, store durably, then answer.
    #[command(after_help = PROGRAM_LISTEN_HELP)]
    Listen(ProgramListenArgs),
    /// Print stored events as JSON lines, or deliver them to a command (--exec).
    #[command(after_help = PROGRAM_EVENTS_HELP)]
    Events(EventsArgs),
}

/// `listen`'s arguments in a connector's program: connector-gen's, without the spec.
#[derive(Debug, clap::Args)]
struct ProgramListenArgs {
    /// The connection file; its [webhooks] table says how requests are verified.
    #[arg(long)]
    connection: Option<PathBuf>,
    #[command(flatten)]
    args: ListenArgs,
}

impl Extension for WebhookCommands {
    fn augment(&self, command: clap::Command) -> clap::Command {
        Command::augment_subcommands(command)
    }

    fn run(&self, context: &Context<'_>, matches: &clap::ArgMatches) -> Option<ExitCode> {
        let (name, _) = matches.subcommand()?;
        if !Command::has_subcommand(name) {
            return None;
        }
        let command = Command::from_arg_matches(matches).unwrap_or_else(|err| err.exit());
        Some(match command {
            Command::Listen(args) => listen_with(context, &args),
            Command::Events(args) => events(&args),
        })
    }
}

/// Serves the events of the connector the connection file is for (for a connector with
/// versions, the version it pins), else of the program's own.
fn listen_with(context: &Context<'_>, args: &ProgramListenArgs) -> ExitCode {
    let Some(path) = &args.connection else {
        let catalogue = context.catalogue();
        return listen(catalogue, None, &catalogue.name, &args.args);
    };
    let (config, connector) = match context.connection_file(path) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let catalogue = match catalogue_of(&connector) {
        Ok(catalogue) => catalogue,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    listen(&catalogue, config.webhooks(), config.name(), &args.args)
}
