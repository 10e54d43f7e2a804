//! Connectors with versions: a manifest names several specs, one per version; each version is
//! lowered on its own (its operations filtered, its auth schemes chosen), checked against the
//! manifest (ping, server variables), mapped to runtime descriptors, and rendered as one module
//! of a crate whose `VERSIONS` static lists them all.

pub mod diff;
pub mod lock;
pub mod manifest;
mod render;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use connector_model::descriptor::{ConnectorDescriptor, Text};
use connector_model::versions as rv;

use crate::ir::Connector;
use crate::{Diagnostic, Error, Lowered, Options};
pub use manifest::{is_manifest, Manifest, VersionEntry};
pub use render::{render_versioned_crate, render_versioned_module};

/// One version of a manifest, lowered.
#[derive(Debug, Clone)]
pub struct LoadedVersion {
    /// The manifest entry.
    pub entry: VersionEntry,
    /// The spec's path (relative to the working directory).
    pub spec_path: PathBuf,
    /// The spec's bytes, for the lock file.
    pub spec_bytes: Vec<u8>,
    /// The version's connector, filtered by the manifest.
    pub connector: Connector,
    /// Warnings of its spec.
    pub warnings: Vec<Diagnostic>,
}

/// A manifest with every version lowered.
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    /// The manifest file.
    pub path: PathBuf,
    /// What it says.
    pub manifest: Manifest,
    /// Its versions, in manifest order.
    pub versions: Vec<LoadedVersion>,
}

impl LoadedManifest {
    /// The version `id`, or the newest active one; the error lists the versions.
    pub fn select(&self, id: Option<&str>) -> Result<&LoadedVersion, Error> {
        let found = match id {
            Some(id) => self.versions.iter().find(|v| v.entry.id == id),
            None => self
                .versions
                .iter()
                .rev()
                .find(|v| v.entry.state == manifest::State::Active)
                .or_else(|| self.versions.last()),
        };
        found.ok_or_else(|| Error::InvalidOption {
            option: "version",
            message: format!(
                "{} has no version `{}`; its versions are: {}",
                self.path.display(),
                id.unwrap_or_default(),
                self.versions
                    .iter()
                    .map(|v| v.entry.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}

/// Reads the manifest at `path` and lowers each of its versions. Every version's problems are
/// reported, each naming the version.
pub fn load_manifest(path: &Path, options: &Options) -> Result<LoadedManifest, Error> {
    let manifest = manifest::read(path)?;
    if !options.include.is_empty() {
        return Err(Error::InvalidOption {
            option: "include",
            message: format!(
                "{} is a manifest: its versions choose their operations with `include` tables",
                path.display()
            ),
        });
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut versions = Vec::new();
    for (index, entry) in manifest.versions.iter().enumerate() {
        let spec_path = dir.join(&entry.spec);
        let spec_bytes = crate::read_spec(&spec_path)?;
        let options = Options {
            name: Some(manifest.name.clone()),
            ..options.clone()
        };
        let in_spec = |err: Error| Error::InSpec {
            path: spec_path.clone(),
            source: Box::new(err),
        };
        let document = crate::load::load(&spec_bytes, options.max_spec_bytes)
            .map_err(|d| in_spec(Error::Spec(vec![d])))?;
        let events =
            declared_events(entry, index, &document).map_err(|problems| Error::Manifest {
                path: path.to_path_buf(),
                message: problems.join("; "),
            })?;
        let Lowered {
            connector,
            warnings,
        } = crate::lower_document_with(document, &options, &entry.include, events)
            .map_err(in_spec)?;
        let fail = |message: String| Error::Manifest {
            path: path.to_path_buf(),
            message: format!("version `{}`: {message}", entry.id),
        };
        events_named_once(entry, index, &connector).map_err(|message| Error::Manifest {
            path: path.to_path_buf(),
            message,
        })?;
        if let Some(unmatched) = entry.include.unmatched(&connector.operations).first() {
            return Err(fail(format!(
                "`include.{}`: `{}` matches no operation of the spec",
                unmatched.criterion.key(),
                unmatched.value
            )));
        }
        let connector = apply(entry, connector).map_err(fail)?;
        versions.push(LoadedVersion {
            entry: entry.clone(),
            spec_path,
            spec_bytes,
            connector,
            warnings,
        });
    }
    Ok(LoadedManifest {
        path: path.to_path_buf(),
        manifest,
        versions,
    })
}

/// The events, signature and event keys the manifest declares for its `index`th version,
/// checked against the version's spec `document`; every problem names its manifest key.
fn declared_events(
    entry: &VersionEntry,
    index: usize,
    document: &crate::load::Document,
) -> Result<crate::lower::manifest_events::DeclaredEvents, Vec<String>> {
    let at = format!("versions[{index}]");
    let webhooks = crate::lower::manifest_events::prepare(&at, &entry.webhooks, document)?;
    let signature = entry
        .webhook_signature()
        .map_err(|message| vec![format!("`{at}.webhook_signature`: {message}")])?;
    let keys = entry
        .webhook_event()
        .map_err(|message| vec![format!("`{at}.webhook_event`: {message}")])?;
    Ok(crate::lower::manifest_events::DeclaredEvents {
        at,
        webhooks,
        signature,
        keys,
    })
}

/// Refuses a manifest event named like one of the spec's: names are the receiver's routes.
fn events_named_once(
    entry: &VersionEntry,
    index: usize,
    connector: &Connector,
) -> Result<(), String> {
    let source = crate::lower::manifest_events::MANIFEST_SOURCE;
    for (i, webhook) in entry.webhooks.iter().enumerate() {
        if let Some(theirs) = connector
            .webhooks
            .iter()
            .find(|w| w.source != source && w.name == webhook.name)
        {
            return Err(format!(
                "`versions[{index}].webhooks[{i}].name`: the spec already declares an event `{}` (at {})",
                webhook.name, theirs.pointer
            ));
        }
    }
    Ok(())
}

/// Applies a version's auth choice (its operation filter was applied while lowering), and
/// checks its ping and variables.
fn apply(entry: &VersionEntry, mut connector: Connector) -> Result<Connector, String> {
    if let Some(auth) = &entry.auth {
        for name in auth {
            if !connector.security_schemes.iter().any(|s| &s.name == name) {
                let known: Vec<&str> = connector
                    .security_schemes
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect();
                return Err(format!(
                    "`auth`: the spec has no security scheme `{name}` (it has: {})",
                    known.join(", ")
                ));
            }
        }
        connector
            .security_schemes
            .retain(|s| auth.contains(&s.name));
        // An alternative that needs a scheme the version does not offer cannot be met; an
        // operation left with none is not part of the version.
        connector.operations.retain_mut(|op| {
            if op.security.is_empty() {
                return true;
            }
            op.security
                .retain(|alternative| alternative.iter().all(|s| auth.contains(s)));
            !op.security.is_empty()
        });
    }
    crate::lower::prune_entities(&mut connector);
    if let Some(ping) = &entry.ping {
        let action = entry.ping_action().unwrap_or_default();
        if !connector.operations.iter().any(|op| op.id == action) {
            return Err(format!("`ping`: the version has no action `{action}`"));
        }
        // The manifest's ping wins over the spec's `x-connector-ping` and the default.
        connector.ping = Some(
            crate::lower::declared_ping(ping, &connector)
                .map_err(|problem| format!("`ping`: {problem}"))?,
        );
    }
    for (name, variable) in &entry.variables {
        if variable.location.checked() == Ok(manifest::Location::Server)
            && !connector
                .servers
                .iter()
                .chain(connector.operations.iter().flat_map(|op| op.servers.iter()))
                .any(|s| s.variables.iter().any(|v| &v.name == name))
        {
            return Err(format!(
                "`variables.{name}`: location \"server\", but no server of the spec has a variable `{name}`"
            ));
        }
    }
    Ok(connector)
}

/// The runtime descriptor of a loaded version (operations, auth, variables).
pub fn version_descriptor(version: &LoadedVersion) -> rv::VersionDescriptor {
    version_descriptor_with(version, crate::describe::connector_descriptor)
}

/// The runtime descriptor of a loaded version, with the connector descriptor `describe` makes
/// (a catalogue of only the actions a command needs, say).
fn version_descriptor_with(
    version: &LoadedVersion,
    describe: impl Fn(&Connector) -> ConnectorDescriptor,
) -> rv::VersionDescriptor {
    let entry = &version.entry;
    rv::VersionDescriptor {
        id: owned(&entry.id),
        state: match entry.state {
            manifest::State::Active => rv::VersionState::Active,
            manifest::State::Deprecated => rv::VersionState::Deprecated,
        },
        ping: entry.ping_action().map(owned),
        variables: Cow::Owned(variables(entry)),
        connector: Cow::Owned(describe(&version.connector)),
    }
}

/// The runtime descriptors of a version's manifest variables, by name.
pub fn variables(entry: &VersionEntry) -> Vec<rv::VariableDescriptor> {
    entry
        .variables
        .iter()
        .filter_map(|(name, v)| {
            let location = match v.location.checked().ok()? {
                manifest::Location::Server => rv::VariableLocation::Server,
                manifest::Location::Header(h) => rv::VariableLocation::Header(h.into()),
                manifest::Location::Query(q) => rv::VariableLocation::Query(q.into()),
                manifest::Location::Path(p) => rv::VariableLocation::Path(p.into()),
                manifest::Location::Body(b) => rv::VariableLocation::Body(b.into()),
            };
            Some(rv::VariableDescriptor {
                name: owned(name),
                description: v.description.as_deref().map(owned),
                kind: match v.kind {
                    manifest::Kind::String => rv::VariableKind::String,
                    manifest::Kind::Integer => rv::VariableKind::Integer,
                    manifest::Kind::Boolean => rv::VariableKind::Boolean,
                    manifest::Kind::Enum => {
                        rv::VariableKind::Enum(v.values.iter().map(|s| owned(s)).collect())
                    }
                    manifest::Kind::Secret => rv::VariableKind::Secret,
                },
                required: v.required,
                required_when: v
                    .required_when
                    .as_ref()
                    .and_then(|w| w.iter().next())
                    .map(|(k, val)| (owned(k), owned(val))),
                default: v.default.as_ref().map(|d| match d {
                    serde_json::Value::String(s) => owned(s),
                    other => Cow::Owned(other.to_string()),
                }),
                pattern: v.pattern.as_deref().map(owned),
                location,
            })
        })
        .collect()
}

/// The runtime descriptor of the whole manifest.
pub fn versioned_descriptor(loaded: &LoadedManifest) -> rv::VersionedConnector {
    versioned_descriptor_with(loaded, crate::describe::connector_descriptor)
}

/// The runtime descriptor of the whole manifest, each version's connector descriptor made by
/// `describe`.
pub fn versioned_descriptor_with(
    loaded: &LoadedManifest,
    describe: impl Fn(&Connector) -> ConnectorDescriptor,
) -> rv::VersionedConnector {
    rv::VersionedConnector {
        name: owned(&loaded.manifest.name),
        versions: Cow::Owned(
            loaded
                .versions
                .iter()
                .map(|v| version_descriptor_with(v, &describe))
                .collect(),
        ),
    }
}

fn owned(text: &str) -> Text {
    Cow::Owned(text.to_owned())
}

/// Generates the crate of the manifest at `manifest_path` into `out_dir` (see
/// [`generate_crate`](crate::generate_crate)), after checking the lock file, which is written
/// beside the manifest when it changed. The report's connector is the newest active version's.
pub fn generate(
    manifest_path: &Path,
    out_dir: &Path,
    options: &Options,
) -> Result<crate::Report, Error> {
    let loaded = load_manifest(manifest_path, options)?;
    let (lock_path, lock_text) = lock::check(&loaded, options.allow_changed_spec)?;
    let runtime = options.runtime.checked()?;
    let previous = crate::emit::check_output_dir(out_dir, options.force)?;
    let label = crate::spec_label(manifest_path);
    let files = render_versioned_crate(&loaded, options, &label, out_dir)?;
    let newest = loaded.select(None)?;
    let lowered = Lowered {
        connector: newest.connector.clone(),
        warnings: loaded
            .versions
            .iter()
            .flat_map(|v| v.warnings.iter().cloned())
            .collect(),
    };
    let report = crate::write_crate(out_dir, lowered, runtime, &previous, files, options)?;
    crate::emit::write_if_changed(&lock_path, lock_text.as_bytes())?;
    Ok(report)
}
