//! The interpreting commands (`run`, `describe`, `entities`, the entity commands and `ping`):
//! the library lowers the spec or manifest into descriptors and catalogues
//! ([`connector_gen::interpret`]), and the runtime's generic command line runs them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use connector_gen::interpret::{self as data, Source};
use connector_gen::ir::Connector;
use connector_gen::{Error, Options};
use connector_runtime::catalogue::OperationKind;
use connector_runtime::runner::{
    self, DescribeArgs, EntityArgs, PingArgs, RunArgs, EXIT_BAD_INPUT, EXIT_CODES,
};

/// `connector-gen run SOURCE ACTION ...`: runs one action; returns the exit code.
pub fn run(path: &Path, options: &Options, version: Option<&str>, args: &RunArgs) -> ExitCode {
    if !connector_gen::versions::is_manifest(path) {
        // A single spec: the action's descriptor alone, from the run cache when it has it.
        let cache = crate::run_cache::RunCache::from_env();
        return match crate::run_cache::cached_action_descriptor(
            path,
            options,
            &args.action,
            cache.as_ref(),
        ) {
            Ok(descriptor) => runner::run(&descriptor, args),
            Err(err) => spec_error(&err),
        };
    }
    let only = |c: &Connector| data::action_catalogue(c, &args.action);
    match Source::load(path, options) {
        Ok(Source::Spec(connector)) => runner::run(&data::descriptor_with(&connector, only), args),
        Ok(Source::Manifest(loaded)) => {
            runner::run_versions(&data::versioned_with(&loaded, only), version, args)
        }
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen describe SOURCE [ACTION]`: prints the catalogue or one action (building only
/// that action's schemas when it exists).
pub fn describe(
    path: &Path,
    options: &Options,
    version: Option<&str>,
    args: &DescribeArgs,
) -> ExitCode {
    let source = match Source::load(path, options) {
        Ok(source) => source,
        Err(err) => return spec_error(&err),
    };
    match source.connector(version) {
        Ok(connector) => runner::describe(
            &data::describe_catalogue(connector, args.action.as_deref()),
            args,
        ),
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen entities SOURCE`: prints the entities (of one version).
pub fn entities(path: &Path, options: &Options, version: Option<&str>, json: bool) -> ExitCode {
    let source = match Source::load(path, options) {
        Ok(source) => source,
        Err(err) => return spec_error(&err),
    };
    match source.connector(version) {
        Ok(connector) => runner::entities(&data::entities_catalogue(connector), json),
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen list|get|create|update|delete SOURCE ENTITY ...`: one entity operation, with
/// only that entity's actions in the catalogue.
pub fn entity(
    path: &Path,
    options: &Options,
    version: Option<&str>,
    kind: OperationKind,
    args: &EntityArgs,
) -> ExitCode {
    let only = |c: &Connector| data::entity_catalogue(c, &args.entity);
    match Source::load(path, options) {
        Ok(Source::Spec(connector)) => {
            runner::entity(&data::descriptor_with(&connector, only), kind, args)
        }
        Ok(Source::Manifest(loaded)) => {
            runner::entity_versions(&data::versioned_with(&loaded, only), version, kind, args)
        }
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen ping SOURCE`: pings with only the ping action's schemas built.
pub fn ping(path: &Path, options: &Options, version: Option<&str>, args: &PingArgs) -> ExitCode {
    match Source::load(path, options) {
        Ok(Source::Spec(connector)) => runner::ping(
            &data::descriptor_with(&connector, data::ping_catalogue),
            args,
        ),
        Ok(Source::Manifest(loaded)) => runner::ping_versions(
            &data::versioned_with(&loaded, data::ping_catalogue),
            version,
            args,
        ),
        Err(err) => spec_error(&err),
    }
}

/// Prints a spec that cannot be read, with its causes, and gives the bad-input exit code.
pub fn spec_error(err: &Error) -> ExitCode {
    // A closed stderr leaves nowhere to report anything; it must not panic either.
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let _ = writeln!(stderr, "Caused by: {cause}");
        source = cause.source();
    }
    ExitCode::from(EXIT_BAD_INPUT)
}

pub(crate) const PING_EXAMPLES: &str = "\
Examples:
  connector-gen ping specs/petstore.yaml --connection shop.toml
  connector-gen ping specs/entities.yaml --base-url http://127.0.0.1:4010

Exit codes: 0 the ping worked, 3 the API could not be reached, 4 it answered but the ping
failed (a rejected credential, an unexpected body), 2 bad input.";

/// Arguments of `entities`.
#[derive(Args)]
pub(crate) struct EntitiesArgs {
    /// Print the entities as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) const ENTITY_EXAMPLES: &str = "\
Examples:
  connector-gen entities specs/petstore.yaml
  connector-gen list specs/petstore.yaml pets --limit 10 --base-url http://127.0.0.1:4010
  connector-gen get specs/petstore.yaml pets 7 --connection shop.toml
  connector-gen create specs/petstore.yaml pets --input '{\"name\": \"Rex\"}'
  connector-gen list specs/entities.yaml owner_pets --scope ownerId=o1";

pub(crate) const RUN_EXAMPLES: &str = "\
Examples:
  connector-gen run specs/petstore.yaml getPet --input '{\"petId\": 7}' --base-url http://127.0.0.1:4010
  connector-gen run specs/petstore.yaml createPet --input @pet.json --connection shop.toml
  echo '{\"limit\": 5}' | connector-gen run specs/petstore.yaml listPets --input - --full";

pub(crate) const DESCRIBE_EXAMPLES: &str = "\
Examples:
  connector-gen describe specs/petstore.yaml
  connector-gen describe specs/petstore.yaml --json | jq '.actions[].id'
  connector-gen describe specs/petstore.yaml getPet";

pub(crate) fn interpret_help(examples: &str) -> String {
    format!("{examples}\n\n{EXIT_CODES}")
}

/// A spec interpreted at run time, and the runner's own arguments.
#[derive(Args)]
pub(crate) struct InterpretArgs<T: clap::Args> {
    /// The OpenAPI document (YAML or JSON), or a connector manifest (`connector.toml`).
    pub(crate) spec: PathBuf,
    #[command(flatten)]
    pub(crate) args: T,
    /// Connector name, as connection files give it (default: derived from the title).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// With a manifest: the version to use (default: the connection file's, else the newest
    /// active one).
    #[arg(long, value_name = "ID")]
    pub(crate) version: Option<String>,
}

impl<T: clap::Args> InterpretArgs<T> {
    pub(crate) fn options(&self) -> Options {
        Options {
            name: self.name.clone(),
            ..Options::default()
        }
    }

    pub(crate) fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}

pub(crate) fn entity_command(kind: OperationKind, e: &InterpretArgs<EntityArgs>) -> ExitCode {
    entity(&e.spec, &e.options(), e.version(), kind, &e.args)
}
