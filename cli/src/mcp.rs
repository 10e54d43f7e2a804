//! `connector-gen mcp SPEC|MANIFEST`: the spec interpreted at run time (like `run`) and served to
//! AI agents over MCP by the runtime's server, on stdio or Streamable HTTP.

use std::path::Path;
use std::process::ExitCode;

use connector_gen::interpret::{self as data, Source};
use connector_gen::ir::Connector;
use connector_gen::Options;
use connector_runtime::runner::{self, McpArgs};

use crate::interpret::spec_error;

/// Serves every action and entity of the spec (or of the manifest's version) over MCP; which of
/// them become tools is the server's choice (`--include-*`, `--read-only`, `--mode`).
pub fn mcp(path: &Path, options: &Options, version: Option<&str>, args: &McpArgs) -> ExitCode {
    let everything = |c: &Connector| data::describe_catalogue(c, None);
    match Source::load(path, options) {
        Ok(Source::Spec(connector)) => {
            if let Some(asked) = version.filter(|v| *v != connector.version) {
                return spec_error(&connector_gen::Error::InvalidOption {
                    option: "version",
                    message: format!(
                        "a single spec is one version, `{}` (its info.version), not `{asked}`; a manifest lists several",
                        connector.version
                    ),
                });
            }
            runner::mcp(&data::descriptor_with(&connector, everything), args)
        }
        Ok(Source::Manifest(loaded)) => {
            runner::mcp_versions(&data::versioned_with(&loaded, everything), version, args)
        }
        Err(err) => spec_error(&err),
    }
}

pub(crate) const MCP_EXAMPLES: &str = "\
Examples:
  connector-gen mcp specs/petstore.yaml --connection shop.toml
  connector-gen mcp specs/petstore.yaml --connection shop.toml --read-only --include-tag pets
  connector-gen mcp specs/acme/connector.toml --version v2 --connection acme.toml
  connector-gen mcp api.github.com.json --mode catalogue --connection github.toml
  connector-gen mcp specs/petstore.yaml --connection shop.toml --http 127.0.0.1:8808
  MCP_TOKEN=... connector-gen mcp specs/petstore.yaml --http 0.0.0.0:8808 --token-env MCP_TOKEN

Register with an MCP client (stdio):
  {\"mcpServers\": {\"petstore\": {\"command\": \"connector-gen\",
    \"args\": [\"mcp\", \"specs/petstore.yaml\", \"--connection\", \"shop.toml\"]}}}";

pub(crate) fn mcp_help() -> String {
    format!("{MCP_EXAMPLES}\n\n{}", runner::MCP_HELP)
}
