//! Interpreting a spec at run time (`connector-gen run` and `describe`): the spec is lowered and
//! mapped to runtime descriptors ([`describe`](crate::describe)), then the runtime's generic
//! command line runs it. Nothing is generated or compiled.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use connector_runtime::catalogue::{Catalogue, OperationKind};
use connector_runtime::descriptor::ConnectorDescriptor;
use connector_runtime::runner::{
    self, DescribeArgs, EntityArgs, PingArgs, RunArgs, EXIT_BAD_INPUT,
};

use crate::{Error, Options};

/// The descriptor (catalogue included) of the spec at `spec`.
pub fn load_descriptor(spec: &Path, options: &Options) -> Result<ConnectorDescriptor, Error> {
    let bytes = crate::read_spec(spec)?;
    let lowered = crate::load_connector(&bytes, options)?;
    Ok(crate::describe::connector_descriptor(&lowered.connector))
}

/// `connector-gen run SPEC ACTION ...`: runs one action of the spec; returns the exit code.
/// Only that action's schemas are built: they are all validation needs.
pub fn run(spec: &Path, options: &Options, args: &RunArgs) -> ExitCode {
    let lowered = crate::read_spec(spec).and_then(|bytes| crate::load_connector(&bytes, options));
    match lowered {
        Ok(lowered) => {
            let only =
                crate::catalogue::catalogue_of(&lowered.connector, |op| op.id == args.action);
            let connector = ConnectorDescriptor {
                catalogue: Some(Cow::Owned(serde_json::to_string(&only).unwrap_or_default())),
                ..crate::describe::without_catalogue(&lowered.connector)
            };
            runner::run(&connector, args)
        }
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen describe SPEC [ACTION]`: prints the catalogue or one action (building only
/// that action's schemas when it exists).
pub fn describe(spec: &Path, options: &Options, args: &DescribeArgs) -> ExitCode {
    let lowered = crate::read_spec(spec).and_then(|bytes| crate::load_connector(&bytes, options));
    match lowered {
        Ok(lowered) => {
            let connector = &lowered.connector;
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

/// The catalogue of the spec at `spec`, as `describe --json` prints it.
pub fn catalogue(spec: &Path, options: &Options) -> Result<Catalogue, Error> {
    let bytes = crate::read_spec(spec)?;
    Ok(crate::catalogue::catalogue(
        &crate::load_connector(&bytes, options)?.connector,
    ))
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

/// `connector-gen run MANIFEST ACTION --version ID ...`: runs one action of a version (default:
/// the connection file's, else the newest active one); returns the exit code.
pub fn run_manifest(
    manifest: &Path,
    options: &Options,
    version: Option<&str>,
    args: &RunArgs,
) -> ExitCode {
    match crate::versions::load_manifest(manifest, options) {
        Ok(loaded) => runner::run_versions(
            &crate::versions::versioned_descriptor(&loaded),
            version,
            args,
        ),
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen describe MANIFEST [ACTION] --version ID`: the catalogue of one version.
pub fn describe_manifest(
    manifest: &Path,
    options: &Options,
    version: Option<&str>,
    args: &DescribeArgs,
) -> ExitCode {
    let chosen = crate::versions::load_manifest(manifest, options)
        .and_then(|loaded| loaded.select(version).map(|v| v.connector.clone()));
    match chosen {
        Ok(connector) => runner::describe(&crate::catalogue::catalogue(&connector), args),
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen entities SPEC`: prints the spec's entities.
pub fn entities(spec: &Path, options: &Options, json: bool) -> ExitCode {
    let lowered = crate::read_spec(spec).and_then(|bytes| crate::load_connector(&bytes, options));
    match lowered {
        Ok(lowered) => {
            let entities = lowered
                .connector
                .entities
                .iter()
                .map(|e| crate::catalogue::entity(&lowered.connector, e))
                .collect();
            let catalogue = Catalogue {
                entities,
                ..crate::catalogue::catalogue_of(&lowered.connector, |_| false)
            };
            runner::entities(&catalogue, json)
        }
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen list|get|create|update|delete SPEC ENTITY ...`: one entity operation, with only
/// that entity's actions in the catalogue.
pub fn entity(spec: &Path, options: &Options, kind: OperationKind, args: &EntityArgs) -> ExitCode {
    let lowered = crate::read_spec(spec).and_then(|bytes| crate::load_connector(&bytes, options));
    match lowered {
        Ok(lowered) => {
            let connector = &lowered.connector;
            let ids: Vec<&String> = connector
                .entities
                .iter()
                .filter(|e| e.name == args.entity)
                .flat_map(|e| e.operations.values())
                .collect();
            let mut only = crate::catalogue::catalogue_of(connector, |op| ids.contains(&&op.id));
            if only.entities.is_empty() {
                // An unknown name: every entity's name (without schemas) for the hint.
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
            let descriptor = ConnectorDescriptor {
                catalogue: Some(Cow::Owned(serde_json::to_string(&only).unwrap_or_default())),
                ..crate::describe::without_catalogue(connector)
            };
            runner::entity(&descriptor, kind, args)
        }
        Err(err) => spec_error(&err),
    }
}

/// `connector-gen ping SPEC`: pings with only the ping action's schemas built.
pub fn ping(spec: &Path, options: &Options, args: &PingArgs) -> ExitCode {
    let lowered = crate::read_spec(spec).and_then(|bytes| crate::load_connector(&bytes, options));
    match lowered {
        Ok(lowered) => {
            let connector = &lowered.connector;
            let action = connector.ping.as_ref().map(|p| p.action.as_str());
            let only =
                crate::catalogue::catalogue_of(connector, |op| Some(op.id.as_str()) == action);
            let descriptor = ConnectorDescriptor {
                catalogue: Some(Cow::Owned(serde_json::to_string(&only).unwrap_or_default())),
                ..crate::describe::without_catalogue(connector)
            };
            runner::ping(&descriptor, args)
        }
        Err(err) => spec_error(&err),
    }
}
