//! The command line of a connector with versions: `--version ID` (or the connection file's
//! `version`) picks the version whose actions run; the default is the newest active one.

use std::ffi::OsString;
use std::process::ExitCode;

use super::entities::{entity_with, ping_with, EntityArgs, PingArgs};
use super::output::Problem;
use super::{main_from, run_with, ConnectArgs, RunArgs};
use crate::catalogue::OperationKind;
use crate::config::ConnectionConfig;
use crate::connection::{Connection, ConnectionBuilder};
use crate::versions::{VersionDescriptor, VersionedConnector};

/// Runs one action of the version `requested` (default: the connection file's, else the newest
/// active one) and prints its output; returns the exit code.
pub fn run_versions(
    connector: &VersionedConnector,
    requested: Option<&str>,
    args: &RunArgs,
) -> ExitCode {
    run_with(
        &|connect| pinned_builder(connector, requested, connect),
        args,
    )
}

/// Runs one entity operation on the version `requested` (as [`run_versions`] picks it).
pub fn entity_versions(
    connector: &VersionedConnector,
    requested: Option<&str>,
    kind: OperationKind,
    args: &EntityArgs,
) -> ExitCode {
    entity_with(
        &|connect| pinned_builder(connector, requested, connect),
        kind,
        args,
    )
}

/// Pings the version `requested` (as [`run_versions`] picks it), with its ping action.
pub fn ping_versions(
    connector: &VersionedConnector,
    requested: Option<&str>,
    args: &PingArgs,
) -> ExitCode {
    ping_with(
        &|connect| pinned_builder(connector, requested, connect),
        args,
    )
}

/// Serves the version `requested` (as [`run_versions`] picks it) over MCP.
#[cfg(feature = "mcp")]
pub fn mcp_versions(
    connector: &VersionedConnector,
    requested: Option<&str>,
    args: &super::McpArgs,
) -> ExitCode {
    super::mcp::mcp_with(
        &|connect| pinned_builder(connector, requested, connect),
        args,
    )
}

/// The whole program of a generated connector with versions: `--version ID` anywhere on the
/// command line picks the version; `versions` prints every version with its state, actions and
/// backend variables as JSON; the rest is as [`main`](super::main).
pub fn main_versions(connector: &VersionedConnector) -> ExitCode {
    main_versions_with(connector, &[])
}

/// The program of [`main_versions`] with the subcommands of `extensions` as well (see
/// [`main_with`](super::main_with)); their connection files are read as `login` reads them.
pub fn main_versions_with(
    connector: &VersionedConnector,
    extensions: &[&dyn super::Extension],
) -> ExitCode {
    let (requested, argv) = match take_version(std::env::args_os().collect()) {
        Ok(split) => split,
        Err(problem) => return problem.report(),
    };
    // `versions`: the connector-level catalogue, as JSON.
    if argv.get(1).is_some_and(|a| a == "versions") {
        super::output::print_json(&connector.catalogue());
        return ExitCode::from(super::EXIT_OK);
    }
    let version = match select(connector, requested.as_deref()) {
        Ok(version) => version,
        Err(problem) => return problem.report(),
    };
    main_from(
        &version.connector,
        argv,
        &|connect| pinned_builder(connector, requested.as_deref(), connect),
        &|path| super::login::pinned_config(connector, requested.as_deref(), path),
        extensions,
    )
}

fn select<'c>(
    connector: &'c VersionedConnector,
    id: Option<&str>,
) -> Result<&'c VersionDescriptor, Problem> {
    connector.select(id).map_err(Problem::input)
}

/// The connection of the version the file or the command line pins.
fn pinned_builder(
    connector: &VersionedConnector,
    requested: Option<&str>,
    connect: &ConnectArgs,
) -> Result<ConnectionBuilder, Problem> {
    let Some(path) = &connect.connection else {
        return Ok(Connection::version_builder(select(connector, requested)?));
    };
    let config = ConnectionConfig::from_file_in(connector, path)?;
    if let (Some(asked), Some(pinned)) = (requested, config.version()) {
        if asked != pinned {
            return Err(Problem::input(format!(
                "the connection file pins version `{pinned}`, but --version asks for `{asked}`"
            )));
        }
    }
    let version = select(connector, config.version().or(requested))?;
    for warning in config.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(config.builder(&version.connector))
}

/// Removes `--version ID` / `--version=ID` from the arguments.
fn take_version(argv: Vec<OsString>) -> Result<(Option<String>, Vec<OsString>), Problem> {
    let mut version = None;
    let mut rest = Vec::with_capacity(argv.len());
    let mut args = argv.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--version" {
            let value = args
                .next()
                .ok_or_else(|| Problem::input("--version takes a version id".to_owned()))?;
            version = Some(value.to_string_lossy().into_owned());
        } else if let Some(value) = text.strip_prefix("--version=") {
            version = Some(value.to_owned());
        } else if text == "--" {
            rest.push(arg);
            rest.extend(args.by_ref());
        } else {
            rest.push(arg);
        }
    }
    Ok((version, rest))
}

#[cfg(test)]
mod tests {
    use super::take_version;

    #[test]
    fn version_is_taken_from_anywhere() {
        let argv = [
            "acme",
            "run",
            "--version",
            "v1",
            "getOrder",
            "--version=v2",
            "--",
            "--version",
        ]
        .map(Into::into)
        .to_vec();
        let (version, rest) = take_version(argv).ok().unwrap();
        assert_eq!(version.as_deref(), Some("v2"));
        let rest: Vec<String> = rest
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(rest, ["acme", "run", "getOrder", "--", "--version"]);
    }
}
