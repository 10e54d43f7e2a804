//! `listen` (the webhook receiver of a spec's or manifest's events) and `events` (stored events,
//! printed or delivered to a command): the spec is lowered here, the connection file read by the
//! runtime, and the commands themselves are connector-flows' (the same as in generated
//! binaries).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use connector_flows::cli::{self as flows, EventsArgs, ListenArgs};
use connector_gen::interpret::{self as data, Source};
use connector_gen::Options;
use connector_runtime::ConnectionConfig;

pub(crate) use flows::{EVENTS_HELP, LISTEN_HELP};

/// `connector-gen listen SOURCE [--connection FILE] ...`.
#[derive(Debug, Args)]
pub struct ListenCommand {
    /// The spec (YAML or JSON) or manifest (connector.toml) whose events are received.
    pub spec: PathBuf,
    /// The connection file; its `[webhooks]` table says how requests are verified.
    #[arg(long)]
    pub connection: Option<PathBuf>,
    /// For a manifest: the version (default: the connection's, else the newest active one).
    #[arg(long)]
    pub version: Option<String>,
    #[command(flatten)]
    pub args: ListenArgs,
}

/// `connector-gen events ...`.
#[derive(Debug, Args)]
pub struct EventsCommand {
    #[command(flatten)]
    pub args: EventsArgs,
}

pub fn listen(command: &ListenCommand) -> ExitCode {
    let options = Options::default();
    let source = match Source::load(&command.spec, &options) {
        Ok(source) => source,
        Err(err) => return crate::interpret::spec_error(&err),
    };
    let full = connector_gen::catalogue::catalogue;
    let (config, version) = match (&source, &command.connection) {
        (_, None) => (None, command.version.clone()),
        (Source::Spec(connector), Some(path)) => {
            let descriptor = data::descriptor_with(connector, full);
            match ConnectionConfig::from_file(&descriptor, path) {
                Ok(config) => (Some(config), command.version.clone()),
                Err(err) => return connection_error(&err),
            }
        }
        (Source::Manifest(loaded), Some(path)) => {
            let versioned = data::versioned_with(loaded, full);
            match ConnectionConfig::from_file_in(&versioned, path) {
                Ok(config) => {
                    let version = command
                        .version
                        .clone()
                        .or_else(|| config.version().map(str::to_owned));
                    (Some(config), version)
                }
                Err(err) => return connection_error(&err),
            }
        }
    };
    let connector = match source.connector(version.as_deref()) {
        Ok(connector) => connector,
        Err(err) => return crate::interpret::spec_error(&err),
    };
    let catalogue = connector_gen::catalogue::catalogue(connector);
    let default_source = config
        .as_ref()
        .map_or_else(|| catalogue.name.clone(), |c| c.name().to_owned());
    flows::listen(
        &catalogue,
        config.as_ref().and_then(ConnectionConfig::webhooks),
        &default_source,
        &command.args,
    )
}

pub fn events(command: &EventsCommand) -> ExitCode {
    flows::events(&command.args)
}

fn connection_error(err: &connector_runtime::Error) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::from(flows::EXIT_BAD_INPUT)
}
