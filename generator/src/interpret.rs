//! Interpreting a spec or a manifest at run time (`connector-gen run`, `describe`, the entity
//! commands and `ping`): the spec is lowered and mapped to runtime descriptors
//! ([`describe`](crate::describe)), then the runtime's generic command line runs it. Nothing is
//! generated or compiled, and each command builds the schemas of only the actions it needs: a
//! large API has a thousand.
//!
//! A manifest is a connector with versions: the command runs on the version `--version` names,
//! else the one the connection file pins, else the newest active one.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use connector_runtime::catalogue::{Catalogue, OperationKind};
use connector_runtime::descriptor::ConnectorDescriptor;
use connector_runtime::runner::{
    self, DescribeArgs, EntityArgs, PingArgs, RunArgs, EXIT_BAD_INPUT,
};
use connector_runtime::versions::VersionedConnector;

use crate::ir::Connector;
use crate::versions::LoadedManifest;
use crate::{Error, Options};

/// What the commands interpret: a spec (a connector with one version) or a manifest.
#[derive(Debug)]
pub enum Source {
    /// A single spec, lowered.
    Spec(Box<Connector>),
    /// A manifest, every version lowered.
    Manifest(LoadedManifest),
}

impl Source {
    /// Reads the spec or manifest at `path` (a manifest is recognised by its name, see
    /// [`is_manifest`](crate::versions::is_manifest)).
    pub fn load(path: &Path, options: &Options) -> Result<Source, Error> {
        if crate::versions::is_manifest(path) {
            return Ok(Source::Manifest(crate::versions::load_manifest(
                path, options,
            )?));
        }
        let bytes = crate::read_spec(path)?;
        Ok(Source::Spec(Box::new(
            crate::load_connector(&bytes, options)?.connector,
        )))
    }

    /// The connector of the version `version` (default: the newest active one). A single spec
    /// is one version, whose id is its `info.version`.
    pub fn connector(&self, version: Option<&str>) -> Result<&Connector, Error> {
        match self {
            Source::Manifest(loaded) => Ok(&loaded.select(version)?.connector),
            Source::Spec(connector) => match version {
                Some(id) if id != connector.version => Err(Error::InvalidOption {
                    option: "version",
                    message: format!(
                        "a single spec is one version, `{}` (its info.version); a manifest lists several",
                        connector.version
                    ),
                }),
                _ => Ok(connector),
            },
        }
    }
}

/// The descriptor (catalogue included) of the spec at `spec`.
pub fn load_descriptor(spec: &Path, options: &Options) -> Result<ConnectorDescriptor, Error> {
    let bytes = crate::read_spec(spec)?;
    let lowered = crate::load_connector(&bytes, options)?;
    Ok(crate::describe::connector_descriptor(&lowered.connector))
}

/// The catalogue of the spec at `spec`, as `describe --json` prints it.
pub fn catalogue(spec: &Path, options: &Options) -> Result<Catalogue, Error> {
    let bytes = crate::read_spec(spec)?;
    Ok(crate::catalogue::catalogue(
        &crate::load_connector(&bytes, options)?.connector,
    ))
}

/// `connector-gen run SOURCE ACTION ...`: runs one action; returns the exit code.
pub fn run(path: &Path, options: &Options, version: Option<&str>, args: &RunArgs) -> ExitCode {
    if !crate::versions::is_manifest(path) {
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
    let only = |c: &Connector| crate::catalogue::catalogue_of(c, |op| op.id == args.action);
    match Source::load(path, options) {
        Ok(Source::Spec(connector)) => runner::run(&descriptor_with(&connector, only), args),
        Ok(Source::Manifest(loaded)) => {
            runner::run_versions(&versioned_with(&loaded, only), version, args)
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
        Ok(connector) => {
            let catalogue = match &args.action {
                Some(id) if connector.operations.iter().any(|op| &op.id == id) => {
                    crate::catalogue::catalogue_of(connector, |op| &op.id == id)
                }
                _ => crate::catalogue::catalogue(connector),
            };
            runner::describe(&catalogue, args)
        }
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
        Ok(connector) => {
            let catalogue = Catalogue {
                entities: connector
                    .entities
                    .iter()
                    .map(|e| crate::catalogue::entity(connector, e))
                    .collect(),
                ..crate::catalogue::catalogue_of(connector, |_| false)
            };
            runner::entities(&catalogue, json)
        }
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
    let only = |c: &Connector| entity_catalogue(c, &args.entity);
    match Source::load(path, options) {
        Ok(Source::Spec(connector)) => {
            runner::entity(&descriptor_with(&connector, only), kind, args)
        }
        Ok(Source::Manifest(loaded)) => {
            runner::entity_versions(&versioned_with(&loaded, only), version, kind, args)
        }
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen ping SOURCE`: pings with only the ping action's schemas built.
pub fn ping(path: &Path, options: &Options, version: Option<&str>, args: &PingArgs) -> ExitCode {
    let only = |c: &Connector| {
        let action = c.ping.as_ref().map(|p| p.action.as_str());
        crate::catalogue::catalogue_of(c, |op| Some(op.id.as_str()) == action)
    };
    match Source::load(path, options) {
        Ok(Source::Spec(connector)) => runner::ping(&descriptor_with(&connector, only), args),
        Ok(Source::Manifest(loaded)) => {
            runner::ping_versions(&versioned_with(&loaded, only), version, args)
        }
        Err(err) => spec_error(&err),
    }
}

/// The entity `name`'s actions; for an unknown name, every entity's outline (no schemas) so
/// that the runner can suggest one.
fn entity_catalogue(connector: &Connector, name: &str) -> Catalogue {
    let ids: Vec<&String> = connector
        .entities
        .iter()
        .filter(|e| e.name == name)
        .flat_map(|e| e.operations.values())
        .collect();
    let mut only = crate::catalogue::catalogue_of(connector, |op| ids.contains(&&op.id));
    if only.entities.is_empty() {
        only.entities = connector
            .entities
            .iter()
            .map(|e| connector_runtime::catalogue::Entity {
                record_schema: serde_json::Value::Null,
                operations: Default::default(),
                ..crate::catalogue::entity_outline(e)
            })
            .collect();
    }
    only
}

/// The connector's descriptor with the catalogue `catalogue` makes of it.
fn descriptor_with(
    connector: &Connector,
    catalogue: impl Fn(&Connector) -> Catalogue,
) -> ConnectorDescriptor {
    ConnectorDescriptor {
        // Serialising plain data (string keys only) into a string cannot fail.
        catalogue: Some(Cow::Owned(
            serde_json::to_string(&catalogue(connector)).unwrap_or_default(),
        )),
        ..crate::describe::without_catalogue(connector)
    }
}

/// The manifest's descriptor, each version with the catalogue `catalogue` makes of it.
fn versioned_with(
    loaded: &LoadedManifest,
    catalogue: impl Fn(&Connector) -> Catalogue,
) -> VersionedConnector {
    crate::versions::versioned_descriptor_with(loaded, |c| descriptor_with(c, &catalogue))
}

fn spec_error(err: &Error) -> ExitCode {
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

/// `connector-gen versions SOURCE`: every version with its state, actions, entities and
/// variables, as a generated connector's `versions` command prints it.
pub fn versions(path: &Path, options: &Options) -> Result<serde_json::Value, Error> {
    // Listing needs the actions' ids and the entities' names, not their schemas.
    let outline = |c: &Connector| Catalogue {
        entities: c
            .entities
            .iter()
            .map(crate::catalogue::entity_outline)
            .collect(),
        ..crate::catalogue::catalogue_of(c, |_| false)
    };
    Ok(match Source::load(path, options)? {
        Source::Spec(connector) => {
            VersionedConnector::single(&descriptor_with(&connector, outline)).catalogue()
        }
        Source::Manifest(loaded) => versioned_with(&loaded, outline).catalogue(),
    })
}
