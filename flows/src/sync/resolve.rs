//! The connectors a sync file names, lowered at run time as `connector-gen run` does: a spec
//! (one version) or a manifest (the version the endpoint or its connection file pins), with
//! the connection file validated against it.

use connector_gen::interpret::{self as data, Source as Loaded};
use connector_gen::ir::Connector;
use connector_gen::Options;
use connector_runtime::{Connection, ConnectionConfig};

use super::definition::Endpoint;

/// The connection `endpoint` describes; the error names the key at fault (`at` is `source` or
/// `destination`).
pub fn connection(endpoint: &Endpoint, at: &str) -> Result<Connection, String> {
    let Some(spec) = &endpoint.connector else {
        return Err(format!(
            "{at}.connector: name the spec or manifest (connector.toml) of the {at}"
        ));
    };
    let loaded = Loaded::load(spec, &Options::default())
        .map_err(|err| format!("{at}.connector: {}", chain(&err)))?;
    let full = |c: &Connector| connector_gen::catalogue::catalogue(c);
    let file = |err: connector_runtime::Error| format!("{at}.connection: {err}");
    match loaded {
        Loaded::Spec(connector) => {
            if let Some(version) = &endpoint.version {
                if *version != connector.version {
                    return Err(format!(
                        "{at}.version: a single spec is one version, `{}` (its info.version)",
                        connector.version
                    ));
                }
            }
            let descriptor = data::descriptor_with(&connector, full);
            match &endpoint.connection {
                Some(path) => ConnectionConfig::from_file(&descriptor, path)
                    .and_then(|config| config.connect(&descriptor))
                    .map_err(file),
                None => Connection::builder(&descriptor).build().map_err(file),
            }
        }
        Loaded::Manifest(manifest) => {
            let versioned = data::versioned_with(&manifest, full);
            match &endpoint.connection {
                Some(path) => {
                    let config = ConnectionConfig::from_file_in(&versioned, path).map_err(file)?;
                    let pinned = match (endpoint.version.as_deref(), config.version()) {
                        (Some(given), Some(pinned)) if given != pinned => {
                            return Err(format!(
                                "{at}.version: `{given}`, but the connection file pins `{pinned}`"
                            ))
                        }
                        (given, pinned) => given.or(pinned),
                    };
                    let version = versioned
                        .select(pinned)
                        .map_err(|e| format!("{at}.version: {e}"))?;
                    config.connect(&version.connector).map_err(file)
                }
                None => {
                    let version = versioned
                        .select(endpoint.version.as_deref())
                        .map_err(|e| format!("{at}.version: {e}"))?;
                    Connection::version_builder(version).build().map_err(file)
                }
            }
        }
    }
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
