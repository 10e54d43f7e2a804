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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::cell::RefCell;
    use std::process::ExitCode;

    use super::{Context, Extension};
    use crate::descriptor::ConnectorDescriptor;

    /// `hello [--connection FILE]`: records what it was given, exits with 7.
    #[derive(Default)]
    struct Hello {
        seen: RefCell<Vec<String>>,
    }

    impl Extension for Hello {
        fn augment(&self, command: clap::Command) -> clap::Command {
            command.subcommand(
                clap::Command::new("hello").arg(
                    clap::Arg::new("connection")
                        .long("connection")
                        .value_name("FILE"),
                ),
            )
        }

        fn run(&self, context: &Context<'_>, matches: &clap::ArgMatches) -> Option<ExitCode> {
            let ("hello", args) = matches.subcommand()? else {
                return None;
            };
            self.seen
                .borrow_mut()
                .push(context.catalogue().name.clone());
            if let Some(path) = args.get_one::<String>("connection") {
                return Some(match context.connection_file(path.as_ref()) {
                    Ok((config, _)) => {
                        self.seen.borrow_mut().push(config.name().to_owned());
                        ExitCode::from(7)
                    }
                    Err(code) => code,
                });
            }
            Some(ExitCode::from(7))
        }
    }

    fn connector() -> ConnectorDescriptor {
        ConnectorDescriptor {
            name: "shop".into(),
            title: "Shop".into(),
            version: "1".into(),
            servers: Cow::Borrowed(&[]),
            security_schemes: Cow::Borrowed(&[]),
            operations: Cow::Borrowed(&[]),
            catalogue: None,
        }
    }

    fn main(extension: &Hello, args: &[&str]) -> ExitCode {
        let connector = connector();
        super::super::main_from(
            &connector,
            std::iter::once("shop")
                .chain(args.iter().copied())
                .map(Into::into)
                .collect(),
            &|connect| super::super::base_builder(&connector, connect),
            &|path| super::super::login::own_config(&connector, path),
            &[extension],
        )
    }

    #[test]
    fn an_extension_runs_its_commands_and_leaves_the_others() {
        let hello = Hello::default();
        assert_eq!(main(&hello, &["hello"]), ExitCode::from(7));
        assert_eq!(*hello.seen.borrow(), ["shop"]);
        // The program's own commands are still its own.
        assert_eq!(main(&hello, &["actions", "--json"]), ExitCode::from(0));
        assert_eq!(hello.seen.borrow().len(), 1);
        // Connection files are read, and their problems reported, as the program's are.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mine.json");
        std::fs::write(&file, r#"{"connector": "shop"}"#).unwrap();
        let file = file.to_string_lossy();
        assert_eq!(
            main(&hello, &["hello", "--connection", &file]),
            ExitCode::from(7)
        );
        assert_eq!(hello.seen.borrow().last().map(String::as_str), Some("mine"));
        let missing = dir.path().join("missing.json");
        let missing = missing.to_string_lossy();
        assert_eq!(
            main(&hello, &["hello", "--connection", &missing]),
            ExitCode::from(super::super::EXIT_BAD_INPUT)
        );
    }
}
