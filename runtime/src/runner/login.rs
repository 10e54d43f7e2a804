//! `login`: obtains OAuth 2 tokens for a connection and stores them in its secrets file. The
//! URL to open (or the code to enter) goes to stderr, the outcome to stdout as JSON; tokens are
//! never printed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::output::{print_json, Problem};
use super::{async_runtime, EXIT_OK};
use crate::config::ConnectionConfig;
use crate::descriptor::ConnectorDescriptor;
use crate::login::{Login, LoginFlow, LoginOptions, Prompt};
use crate::versions::VersionedConnector;

/// What `login --help` ends with.
pub const LOGIN_HELP: &str = "\
The connection file names the client (`client_id`, and `client_secret` for a confidential
client) and how tokens are had (`grant = \"authorization_code\"`, `\"device_code\"` or
`\"password\"`). The tokens go to its secrets file (`secrets_file`, default NAME.secrets.json
beside it, created with mode 0600), never to the connection file itself; the connection then
uses them, and keeps the refresh token the server rotates there.

Flows:
  authorization_code  PKCE (S256) and state; the browser comes back to 127.0.0.1 on a port the
                      system picks. The URL is printed on stderr and opened in a browser when
                      one is available (`$BROWSER`, else xdg-open or open).
  device_code         RFC 8628, for machines without a browser: visit the URL on any device
                      and enter the code printed on stderr.
  password            The resource owner password grant, where the spec declares it, with
                      `username` and `password` from the credential.

Exit codes:
  0  tokens stored; a JSON summary (never the tokens) is printed on stdout
  2  bad input: connection file, unknown scheme, a flow the spec does not declare
  3  the authorization server could not be reached
  4  the authorization was refused, denied, expired, or its state did not match";

/// Arguments of `login`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// The connection file: it names the client, and its secrets file receives the tokens.
    #[arg(long, value_name = "FILE")]
    pub connection: PathBuf,
    /// The security scheme (default: the connection's only OAuth 2 one).
    #[arg(long, value_name = "NAME")]
    pub scheme: Option<String>,
    /// The scopes to ask for (default: the connection file's `scopes`).
    #[arg(long, num_args = 1.., value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// The flow: authorization_code, device_code or password (default: the connection file's
    /// `grant`, else the first the scheme declares).
    #[arg(long, value_name = "FLOW", value_parser = parse_flow)]
    pub flow: Option<LoginFlow>,
    /// Do not open a browser; only print the URL.
    #[arg(long)]
    pub no_browser: bool,
    /// How long to wait for the authorization, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
}

fn parse_flow(text: &str) -> Result<LoginFlow, String> {
    match text {
        "authorization_code" | "code" => Ok(LoginFlow::AuthorizationCode),
        "device_code" | "device" => Ok(LoginFlow::Device),
        "password" => Ok(LoginFlow::Password),
        other => Err(format!(
            "unknown flow `{other}`: use authorization_code, device_code or password"
        )),
    }
}

/// How `login` reads the connection file: the connector's own, or the version it pins.
pub(super) type LoadConfig<'a> =
    dyn Fn(&Path) -> Result<(ConnectionConfig, ConnectorDescriptor), Problem> + 'a;

/// Logs in with the connection file of `connector`; returns the exit code.
pub fn login(connector: &ConnectorDescriptor, args: &LoginArgs) -> ExitCode {
    login_with(&|path| own_config(connector, path), args)
}

/// Logs in with a connection file of a connector with versions (the version it pins, else
/// `requested`, else the newest active one).
pub fn login_versions(
    connector: &VersionedConnector,
    requested: Option<&str>,
    args: &LoginArgs,
) -> ExitCode {
    login_with(&|path| pinned_config(connector, requested, path), args)
}

pub(super) fn own_config(
    connector: &ConnectorDescriptor,
    path: &Path,
) -> Result<(ConnectionConfig, ConnectorDescriptor), Problem> {
    Ok((
        ConnectionConfig::from_file(connector, path)?,
        connector.clone(),
    ))
}

pub(super) fn pinned_config(
    connector: &VersionedConnector,
    requested: Option<&str>,
    path: &Path,
) -> Result<(ConnectionConfig, ConnectorDescriptor), Problem> {
    let config = ConnectionConfig::from_file_in(connector, path)?;
    let version = connector
        .select(config.version().or(requested))
        .map_err(Problem::input)?;
    Ok((config, version.connector.clone().into_owned()))
}

pub(super) fn login_with(load: &LoadConfig, args: &LoginArgs) -> ExitCode {
    let outcome = load(&args.connection).and_then(|(config, connector)| {
        for warning in config.warnings() {
            // Missing tokens are what login is for.
            if !warning.contains("no tokens yet") {
                let _ = writeln!(std::io::stderr(), "warning: {warning}");
            }
        }
        let options = LoginOptions {
            scheme: args.scheme.clone(),
            flow: args.flow,
            scopes: (!args.scopes.is_empty()).then(|| args.scopes.clone()),
            wait: Some(Duration::from_secs(args.timeout.max(1))),
        };
        let no_browser = args.no_browser;
        async_runtime()?
            .block_on(async move {
                let login = Login::plan(&connector, &config, &options).await?;
                login.run(&|prompt| show(prompt, no_browser)).await
            })
            .map_err(Problem::from)
    });
    match outcome {
        Ok(outcome) => {
            print_json(&serde_json::to_value(&outcome).unwrap_or_default());
            ExitCode::from(EXIT_OK)
        }
        Err(problem) => problem.report(),
    }
}

/// Tells the user what to do, on stderr; opens the URL in a browser when one is available.
fn show(prompt: Prompt, no_browser: bool) {
    let mut stderr = std::io::stderr().lock();
    match prompt {
        Prompt::OpenUrl(url) => {
            let _ = writeln!(
                stderr,
                "Open this URL in a browser and authorize:\n  {url}\nWaiting for the redirect to 127.0.0.1 ..."
            );
            if !no_browser {
                open_browser(&url);
            }
        }
        Prompt::EnterCode {
            uri,
            user_code,
            complete,
        } => {
            let _ = writeln!(
                stderr,
                "On any device, visit {uri}\nand enter the code: {user_code}"
            );
            if let Some(complete) = complete {
                let _ = writeln!(stderr, "(or open {complete})");
            }
            let _ = writeln!(stderr, "Waiting for the authorization ...");
        }
    }
    let _ = stderr.flush();
}

/// Starts `$BROWSER`, else the desktop's opener, with `url`; nothing happens when there is
/// none (a server, a container), and the URL printed above is what the user follows.
fn open_browser(url: &str) {
    let command = match std::env::var("BROWSER") {
        Ok(browser) if !browser.trim().is_empty() => browser,
        _ if cfg!(target_os = "macos") => "open".to_owned(),
        _ if cfg!(windows) => "explorer".to_owned(),
        _ if std::env::var_os("DISPLAY").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some() =>
        {
            "xdg-open".to_owned()
        }
        _ => return,
    };
    // The URL is one argument, never given to a shell.
    let started = std::process::Command::new(command)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match started {
        // Reaped when it ends, so that it does not linger as a zombie.
        Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
        Err(_) => {
            let _ = writeln!(
                std::io::stderr(),
                "(no browser could be started; open the URL yourself)"
            );
        }
    }
}
