//! `connector-gen versions` and `diff`: a manifest's versions, and the changes between two.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use connector_gen::Options;

use crate::output::{self, out, print_json, Failure};

pub(crate) const DIFF_HELP: &str = "\
Examples:
  connector-gen diff old.yaml new.yaml
  connector-gen diff specs/acme/connector.toml:v1 specs/acme/connector.toml:v2 --json

Breaking: a removed action, a removed or retyped field or parameter, a new required parameter or
body field, a narrowed enum, a changed or removed auth scheme, a changed server.
Exit status: 0 when nothing breaks, 1 when something does, 2 when a spec cannot be read.
`--json` prints {\"changes\": [{\"breaking\", \"kind\", \"at\", \"message\"}], \"breaking\": N}.";

#[derive(Args)]
pub(crate) struct DiffArgs {
    /// The old spec, or `MANIFEST:VERSION`.
    old: String,
    /// The new spec, or `MANIFEST:VERSION`.
    new: String,
    /// Print the changes as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) const VERSIONS_HELP: &str = "\
Examples:
  connector-gen versions specs/acme/connector.toml
  connector-gen versions specs/acme/connector.toml | jq '.versions[] | {id, state}'

Prints {\"name\", \"default_version\", \"versions\": [{\"id\", \"state\", \"api_version\", \"ping\",
\"actions\", \"entities\", \"variables\"}]}; a spec without a manifest is one version, whose id is
its info.version. Exit status: 0, or 1 when the manifest or a spec cannot be read.";

#[derive(Args)]
pub(crate) struct VersionsArgs {
    /// A connector manifest (`connector.toml`), or an OpenAPI document.
    source: PathBuf,
}

/// `diff`: 0 when nothing breaks, 1 when something does, 2 when a side cannot be loaded.
pub(crate) fn diff(args: &DiffArgs) -> ExitCode {
    let load = |side: &str| -> Result<connector_gen::ir::Connector, connector_gen::Error> {
        let (path, version) = match side.rsplit_once(':') {
            Some((path, id)) if is_manifest(std::path::Path::new(path)) => (path, Some(id)),
            _ => (side, None),
        };
        let path = std::path::Path::new(path);
        match version {
            Some(id) => {
                let loaded = connector_gen::versions::load_manifest(path, &Options::default())?;
                Ok(loaded.select(Some(id))?.connector.clone())
            }
            None => Ok(connector_gen::load_spec(path, &Options::default())?.connector),
        }
    };
    let sides = load(&args.old).and_then(|old| Ok((old, load(&args.new)?)));
    let (old, new) = match sides {
        Ok(sides) => sides,
        Err(err) => {
            output::finish(Err(Failure::Generator(err)));
            return ExitCode::from(output::EXIT_USAGE);
        }
    };
    let changes = connector_gen::versions::diff::diff(&old, &new);
    let breaking = changes.iter().filter(|c| c.breaking).count();
    let text = if args.json {
        let value = serde_json::json!({ "changes": changes, "breaking": breaking });
        format!(
            "{}\n",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        )
    } else {
        connector_gen::versions::diff::human(&changes)
    };
    match out(&text) {
        Ok(()) | Err(Failure::ClosedStdout) => {}
        Err(other) => return output::finish(Err(other)),
    }
    ExitCode::from(if breaking > 0 {
        output::EXIT_FAILURE
    } else {
        0
    })
}

pub(crate) fn versions(args: &VersionsArgs) -> Result<(), Failure> {
    print_json(&connector_gen::interpret::versions(
        &args.source,
        &Options::default(),
    )?)
}

pub(crate) fn is_manifest(path: &std::path::Path) -> bool {
    connector_gen::versions::is_manifest(path)
}
