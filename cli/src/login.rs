//! `connector-gen login SPEC|MANIFEST --connection FILE`: OAuth 2 tokens for a connection, by the
//! runtime's login (authorization code with PKCE, device code, password) over the spec
//! interpreted at run time; the tokens go to the connection's secrets file.

use std::process::ExitCode;

use connector_gen::interpret::{self as data, Source};
use connector_runtime::runner::{self, LoginArgs, LOGIN_HELP};

use crate::interpret::{spec_error, InterpretArgs};

/// `connector-gen login --help`: examples, then the runtime's account of the flows.
pub(crate) fn login_help() -> String {
    format!(
        "Examples:
  connector-gen login specs/auth.yaml --connection my-auth.toml --scheme oauth
  connector-gen login specs/auth.yaml --connection my-auth.toml --flow device_code --no-browser
  connector-gen login api.yaml --connection prod.toml --scopes read write

{LOGIN_HELP}"
    )
}

/// Runs the login; returns the exit code.
pub(crate) fn login(args: &InterpretArgs<LoginArgs>) -> ExitCode {
    // Login reads the security schemes, not the actions: no schemas are built.
    let no_actions = |c: &connector_gen::ir::Connector| data::action_catalogue(c, "");
    match Source::load(&args.spec, &args.options()) {
        Ok(Source::Spec(connector)) => {
            runner::login(&data::descriptor_with(&connector, no_actions), &args.args)
        }
        Ok(Source::Manifest(loaded)) => runner::login_versions(
            &data::versioned_with(&loaded, no_actions),
            args.version(),
            &args.args,
        ),
        Err(err) => spec_error(&err),
    }
}
