//! `mcp` (feature `mcp`): serves the connector to AI agents over MCP, on stdio or Streamable
//! HTTP, with the connection the command line's options make. Only the protocol goes to
//! stdout; the summary and one line per call go to stderr.

use std::net::SocketAddr;
use std::process::ExitCode;

use super::output::Problem;
use super::{async_runtime, base_builder, prepare, ConnectArgs, MakeBuilder, EXIT_OK};
use crate::descriptor::ConnectorDescriptor;
use crate::mcp::http::{self, HttpOptions};
use crate::mcp::{serve_stdio, McpOptions, McpServer, Mode, DEFAULT_BYTE_BUDGET};
use crate::secret::Secret;

/// The examples and exposure rules `mcp --help` shows.
pub const MCP_HELP: &str = "\
Serves the connector's actions and entities as MCP tools (one per action, ENTITY_list/get/create/
update/delete per entity; search_actions, describe_action and run_action when there would be more
than 128 tools). Stdio by default; --http ADDR serves stateless Streamable HTTP at /mcp, on a
loopback address unless a bearer token is required with --token-env NAME.

Examples:
  mcp --connection shop.toml
  mcp --connection shop.toml --read-only --include-tag pets
  mcp --connection shop.toml --http 127.0.0.1:8808
  MCP_TOKEN=... mcp --connection shop.toml --http 0.0.0.0:8808 --token-env MCP_TOKEN

Exit codes: 0 when the client closed the session (or the server was stopped), 2 for bad input
(connection file, --include-* values, an exposed address without a token), 3 when the transport
failed.";

/// Which tools to serve, as `--mode` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ModeArg {
    /// Tools, unless there would be more than 128.
    #[default]
    Auto,
    /// One tool per action and entity operation.
    Tools,
    /// search_actions, describe_action and run_action.
    Catalogue,
}

/// Arguments of `mcp`.
#[derive(Debug, Clone, clap::Args)]
pub struct McpArgs {
    /// Where and how to connect.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Serve only the actions with this tag (repeatable; with --include-operation, the union).
    #[arg(long = "include-tag", value_name = "TAG")]
    pub include_tags: Vec<String>,
    /// Serve only this action (repeatable).
    #[arg(long = "include-operation", value_name = "ID")]
    pub include_operations: Vec<String>,
    /// Serve only actions that cannot change data (GET, HEAD); refuse the others even by name.
    #[arg(long)]
    pub read_only: bool,
    /// One tool per action (`tools`), or the three catalogue tools (`catalogue`); default:
    /// tools unless there would be more than 128.
    #[arg(long, value_enum, default_value_t = ModeArg::Auto)]
    pub mode: ModeArg,
    /// Serve Streamable HTTP on this address (such as 127.0.0.1:8808) instead of stdio.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// The environment variable holding the bearer token HTTP clients must send; required to
    /// listen on an address other than loopback.
    #[arg(long, value_name = "NAME", requires = "http")]
    pub token_env: Option<String>,
    /// The most bytes of records a list call answers with.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_BYTE_BUDGET)]
    pub budget: usize,
}

impl McpArgs {
    fn options(&self) -> McpOptions {
        McpOptions {
            mode: match self.mode {
                ModeArg::Auto => Mode::Auto,
                ModeArg::Tools => Mode::Tools,
                ModeArg::Catalogue => Mode::Catalogue,
            },
            read_only: self.read_only,
            include_tags: self.include_tags.clone(),
            include_operations: self.include_operations.clone(),
            byte_budget: self.budget.max(1024),
        }
    }
}

/// Serves `connector` over MCP until the client goes away; returns the exit code.
pub fn mcp(connector: &ConnectorDescriptor, args: &McpArgs) -> ExitCode {
    mcp_with(&|connect| base_builder(connector, connect), args)
}

/// Serves the connection `builder` makes.
pub(super) fn mcp_with(builder: &MakeBuilder, args: &McpArgs) -> ExitCode {
    match serve(builder, args) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(problem) => problem.report(),
    }
}

fn serve(builder: &MakeBuilder, args: &McpArgs) -> Result<(), Problem> {
    let (connection, _) = builder(&args.connect).and_then(|b| prepare(b, &args.connect, "{}"))?;
    let server = McpServer::new(connection, args.options())?;
    let http = match &args.http {
        Some(addr) => Some((listen_address(addr)?, token(args.token_env.as_deref())?)),
        None => None,
    };
    let runtime = async_runtime()?;
    runtime.block_on(async {
        match http {
            None => {
                eprintln!("{} on stdio", server.summary());
                serve_stdio(server)
                    .await
                    .map_err(|err| Problem::connection(err.to_string()))
            }
            Some((addr, token)) => {
                let options = HttpOptions {
                    token,
                    shutdown: tokio_util::sync::CancellationToken::new(),
                };
                http::check_exposure(addr, &options).map_err(|e| Problem::input(e.to_string()))?;
                let listener = tokio::net::TcpListener::bind(addr).await.map_err(|err| {
                    Problem::connection(format!("cannot listen on {addr}: {err}"))
                })?;
                let bound = listener.local_addr().unwrap_or(addr);
                eprintln!("{} at http://{bound}{}", server.summary(), http::ENDPOINT);
                let shutdown = options.shutdown.clone();
                tokio::spawn(async move {
                    stop_signal().await;
                    shutdown.cancel();
                });
                http::serve(server, listener, options)
                    .await
                    .map_err(|err| Problem::connection(err.to_string()))
            }
        }
    })
}

/// `ADDR` as a socket address; `localhost:PORT` is loopback.
fn listen_address(text: &str) -> Result<SocketAddr, Problem> {
    let text = text.trim();
    let resolved = match text.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => text.to_owned(),
    };
    resolved.parse().map_err(|_| {
        Problem::input(format!(
            "--http takes an address such as 127.0.0.1:8808, got `{text}`"
        ))
    })
}

/// The token from the environment variable `name`; never printed.
fn token(name: Option<&str>) -> Result<Option<Secret>, Problem> {
    let Some(name) = name else {
        return Ok(None);
    };
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(Some(Secret::new(value.trim()))),
        _ => Err(Problem::input(format!(
            "--token-env {name}: the environment variable is not set or empty"
        ))),
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
