//! Interpreting a spec or a manifest at run time (what `connector-gen run`, `describe`, the
//! entity commands and `ping` execute): the spec is lowered and mapped to runtime descriptors
//! ([`describe`](crate::describe)), which the runtime's generic command line runs. Nothing is
//! generated or compiled, and each command builds the schemas of only the actions it needs: a
//! large API has a thousand. This module makes the data; the command-line crate runs it.
//!
//! A manifest is a connector with versions: the command runs on the version `--version` names,
//! else the one the connection file pins, else the newest active one.

use std::borrow::Cow;
use std::path::Path;

use connector_model::catalogue::Catalogue;
use connector_model::descriptor::ConnectorDescriptor;
use connector_model::versions::VersionedConnector;

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

/// The catalogue `run` needs: the action `id` alone.
pub fn action_catalogue(connector: &Connector, id: &str) -> Catalogue {
    crate::catalogue::catalogue_of(connector, |op| op.id == id)
}

/// The catalogue `describe` prints: one action when `action` names one, else every action.
pub fn describe_catalogue(connector: &Connector, action: Option<&str>) -> Catalogue {
    match action {
        Some(id) if connector.operations.iter().any(|op| op.id == id) => {
            crate::catalogue::catalogue_of(connector, |op| op.id == id)
        }
        _ => crate::catalogue::catalogue(connector),
    }
}

/// The catalogue `entities` prints: every entity, with no action's schemas.
pub fn entities_catalogue(connector: &Connector) -> Catalogue {
    Catalogue {
        entities: connector
            .entities
            .iter()
            .map(|e| crate::catalogue::entity(connector, e))
            .collect(),
        ..crate::catalogue::catalogue_of(connector, |_| false)
    }
}

/// The catalogue `ping` needs: the ping action alone.
pub fn ping_catalogue(connector: &Connector) -> Catalogue {
    let action = connector.ping.as_ref().map(|p| p.action.as_str());
    crate::catalogue::catalogue_of(connector, |op| Some(op.id.as_str()) == action)
}

/// The entity `name`'s actions; for an unknown name, every entity's outline (no schemas) so
/// that the runner can suggest one.
pub fn entity_catalogue(connector: &Connector, name: &str) -> Catalogue {
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
            .map(|e| connector_model::catalogue::Entity {
                record_schema: serde_json::Value::Null,
                operations: Default::default(),
                ..crate::catalogue::entity_outline(e)
            })
            .collect();
    }
    only
}

/// The connector's descriptor with the catalogue `catalogue` makes of it.
pub fn descriptor_with(
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
pub fn versioned_with(
    loaded: &LoadedManifest,
    catalogue: impl Fn(&Connector) -> Catalogue,
) -> VersionedConnector {
    crate::versions::versioned_descriptor_with(loaded, |c| descriptor_with(c, &catalogue))
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

/// The descriptor `connector-gen run` needs to run `action` of the spec `spec` (its bytes):
/// the spec lowered with that one operation (the other operations, and the schemas only they
/// use, are never lowered) and a catalogue of that action. The whole spec is lowered instead when
/// `action` is no operation of it (so that an unknown action is reported with the names nearest
/// to it), when the options already select operations, and when paths or operations declare
/// servers with variables of their own (a connection may set them all, so all must be known).
pub fn action_descriptor(
    spec: &[u8],
    options: &Options,
    action: &str,
) -> Result<ConnectorDescriptor, Error> {
    let of_action = |connector: &Connector| ConnectorDescriptor {
        // Serialising plain data (string keys only) into a string cannot fail.
        catalogue: Some(Cow::Owned(
            serde_json::to_string(&crate::catalogue::catalogue_of(connector, |op| {
                op.id == action
            }))
            .unwrap_or_default(),
        )),
        ..crate::describe::without_catalogue(connector)
    };
    let load = || crate::load::load(spec, options.max_spec_bytes).map_err(|d| Error::Spec(vec![d]));
    let document = load()?;
    // A connection may set the variables of every server the connector has, those of other
    // operations' own servers included: where there are such variables, only the whole
    // connector knows them all.
    let document = if options.include.is_empty() && !scoped_server_variables(&document.root) {
        let mut one = options.include.clone();
        one.operations.push(action.to_owned());
        let lowered = crate::lower_document(document, options, &one)?;
        if lowered
            .connector
            .operations
            .iter()
            .any(|op| op.id == action)
        {
            return Ok(of_action(&lowered.connector));
        }
        // An unknown action: loaded again, for the whole connector's names.
        load()?
    } else {
        document
    };
    let whole = crate::lower_document(document, options, &options.include)?;
    Ok(of_action(&whole.connector))
}

/// Whether a path or an operation of the (normalised) document declares servers of its own with
/// variables.
fn scoped_server_variables(root: &serde_json::Value) -> bool {
    let has_variables = |holder: &serde_json::Value| {
        holder
            .get("servers")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|servers| {
                servers.iter().any(|server| {
                    server
                        .get("variables")
                        .and_then(serde_json::Value::as_object)
                        .is_some_and(|vars| !vars.is_empty())
                })
            })
    };
    let Some(paths) = root.get("paths").and_then(serde_json::Value::as_object) else {
        return false;
    };
    paths.values().any(|item| {
        has_variables(item)
            || item
                .as_object()
                .is_some_and(|ops| ops.values().any(has_variables))
    })
}
