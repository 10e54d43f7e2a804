//! Commands a connector's program gains from crates the runtime does not depend on: a
//! generated crate's `listen` feature adds connector-flows' `listen` and `events` this way, so
//! that the runtime (and every connector user) never compiles an HTTP server or a database
//! driver.

use std::path::Path;
use std::process::ExitCode;

use super::login::LoadConfig;
use crate::catalogue::Catalogue;
use crate::config::ConnectionConfig;
use crate::descriptor::ConnectorDescriptor;

/// Subcommands added to a connector's program (see [`main_with`](super::main_with)).
pub trait Extension {
    /// Adds the subcommands, with their arguments and help, to the program's command line.
    fn augment(&self, command: clap::Command) -> clap::Command;

    /// Runs the subcommand `matches` selected when it is one of this extension's; `None` for any
    /// other, which the program runs itself.
    fn run(&self, context: &Context<'_>, matches: &clap::ArgMatches) -> Option<ExitCode>;
}

/// What an extension's command gets from the program: the connector (for a connector with
/// versions, the version `--version` selects, else the newest active one), its catalogue, and
/// connection files read as the program's own commands read them.
pub struct Context<'a> {
    pub(super) connector: &'a ConnectorDescriptor,
    pub(super) catalogue: &'a Catalogue,
    pub(super) load: &'a LoadConfig<'a>,
}

impl Context<'_> {
    /// The connector whose program runs.
    pub fn connector(&self) -> &ConnectorDescriptor {
        self.connector
    }

    /// The connector's catalogue (its actions, entities and events).
    pub fn catalogue(&self) -> &Catalogue {
        self.catalogue
    }

    /// Reads the connection file at `path` as `login` does, with the connector it is for (for a
    /// connector with versions, the version the file pins, else the one `--version` asks for,
    /// else the newest active one). A problem is reported on stderr, as the program reports
    /// its own, and its exit code returned.
    pub fn connection_file(
        &self,
        path: &Path,
    ) -> Result<(ConnectionConfig, ConnectorDescriptor), ExitCode> {
        (self.load)(path).map_err(|problem| problem.report())
    }
}
