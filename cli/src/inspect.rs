//! `connector-gen inspect`: a spec's actions and entities as text, or the IR and warnings as JSON.

use std::path::PathBuf;

use clap::Args;
use connector_gen::Options;

use crate::output::{err_line, out, print_json, Failure};
use crate::versions::is_manifest;

pub(crate) const INSPECT_HELP: &str = "\
Examples:
  connector-gen inspect specs/petstore.yaml
  connector-gen inspect specs/petstore.yaml --json | jq '.warnings'
  connector-gen inspect specs/acme/connector.toml --version v2

`--json` prints {\"spec\": FILE NAME, \"connector\": THE LOWERED CONNECTOR, \"entities\": [...],
\"warnings\": [...]}; for a manifest, {\"manifest\", \"name\", \"versions\": [{\"id\", \"state\", and the
same fields}]}. `--explain` says why each operation was or was not taken by an entity.";

#[derive(Args)]
pub(crate) struct InspectArgs {
    /// The OpenAPI document (YAML or JSON), or a connector manifest (`connector.toml`): each of
    /// its versions is shown.
    spec: PathBuf,
    /// With a manifest: show only this version.
    #[arg(long, value_name = "ID")]
    version: Option<String>,
    /// Print the lowered connector (IR) and the warnings as one JSON object.
    #[arg(long)]
    json: bool,
    /// Also say, for every operation, why it was or was not taken by an entity.
    #[arg(long)]
    explain: bool,
}

/// The stable shape of `inspect --json`: named fields, so more can be added.
#[derive(serde::Serialize)]
pub(crate) struct InspectJson<'a> {
    spec: String,
    connector: &'a connector_gen::ir::Connector,
    entities: Vec<connector_runtime::catalogue::Entity>,
    warnings: &'a [connector_gen::Diagnostic],
}

impl<'a> InspectJson<'a> {
    pub(crate) fn new(
        spec: &std::path::Path,
        connector: &'a connector_gen::ir::Connector,
        warnings: &'a [connector_gen::Diagnostic],
    ) -> Self {
        InspectJson {
            spec: connector_gen::spec_label(spec),
            connector,
            entities: connector
                .entities
                .iter()
                .map(|e| connector_gen::catalogue::entity(connector, e))
                .collect(),
            warnings,
        }
    }
}

/// One version of a manifest in `inspect --json`: the version's id and state, then what
/// `inspect --json` shows for a spec.
#[derive(serde::Serialize)]
pub(crate) struct InspectVersionJson<'a> {
    id: &'a str,
    state: &'a str,
    #[serde(flatten)]
    spec: InspectJson<'a>,
}

pub(crate) fn inspect(args: InspectArgs) -> Result<(), Failure> {
    if is_manifest(&args.spec) {
        return inspect_manifest(&args);
    }
    let lowered = connector_gen::load_spec(&args.spec, &Options::default())?;
    if args.json {
        let document = InspectJson::new(&args.spec, &lowered.connector, &lowered.warnings);
        return print_json(&document);
    }
    inspect_text(&lowered.connector, args.explain)?;
    for warning in &lowered.warnings {
        err_line(&warning.to_string());
    }
    Ok(())
}

/// `inspect MANIFEST`: each version (or the one `--version` names) as `inspect` shows a spec.
pub(crate) fn inspect_manifest(args: &InspectArgs) -> Result<(), Failure> {
    let loaded = connector_gen::versions::load_manifest(&args.spec, &Options::default())?;
    let chosen: Vec<&connector_gen::versions::LoadedVersion> = match &args.version {
        Some(id) => vec![loaded.select(Some(id))?],
        None => loaded.versions.iter().collect(),
    };
    if args.json {
        let versions: Vec<InspectVersionJson> = chosen
            .iter()
            .map(|v| InspectVersionJson {
                id: &v.entry.id,
                state: v.entry.state.as_str(),
                spec: InspectJson::new(&v.spec_path, &v.connector, &v.warnings),
            })
            .collect();
        let document = serde_json::json!({
            "manifest": connector_gen::spec_label(&args.spec),
            "name": loaded.manifest.name,
            "versions": versions,
        });
        return print_json(&document);
    }
    for v in chosen {
        out(&format!(
            "version {} ({}), spec {}\n",
            v.entry.id,
            v.entry.state.as_str(),
            connector_gen::spec_label(&v.spec_path)
        ))?;
        inspect_text(&v.connector, args.explain)?;
        for warning in &v.warnings {
            err_line(&format!("version {}: {warning}", v.entry.id));
        }
    }
    Ok(())
}

pub(crate) fn inspect_text(
    connector: &connector_gen::ir::Connector,
    explain: bool,
) -> Result<(), Failure> {
    out(&connector_gen::inspect::actions_table(connector))?;
    out(&connector_gen::inspect::entities_table(connector))?;
    out(&connector_gen::inspect::webhooks_table(connector))?;
    if explain {
        out(&connector_gen::inspect::entity_explanation(connector))?;
    }
    Ok(())
}
