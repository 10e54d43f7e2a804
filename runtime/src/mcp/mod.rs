//! A connector as an MCP server (feature `mcp`): AI agents call its actions and entities over
//! the Model Context Protocol, with the connection's auth, versions and limits.
//!
//! Tools are built at run time from the action catalogue ([`McpServer::new`]): one per action,
//! named by its id (at most 64 characters of `A-Za-z0-9_-`, unique and stable; a longer or
//! clashing id is shortened with a hash, and the title keeps it whole), plus `ENTITY_list`,
//! `ENTITY_get`, `ENTITY_create`, `ENTITY_update` and `ENTITY_delete` for each entity's
//! operations. A list call returns at most `limit` records (25 by default, 100 at most) and at
//! most the byte budget of record JSON, with an opaque cursor to continue. More than 128 tools
//! and the server serves three catalogue tools instead: `search_actions`, `describe_action` and
//! `run_action`. Annotations follow the method; `read_only` serves only GET and HEAD actions and
//! refuses the rest even by name. Every call goes through the connection's executor: input
//! validated with every problem reported, auth, backend variables, retries, limits, deadlines.
//! Resources: the catalogue's outline and each action's schemas.
//!
//! Transports: stdio ([`serve_stdio`]) and stateless Streamable HTTP ([`http::serve`]),
//! loopback unless a bearer token guards it. Logs go to stderr; stdout carries the protocol
//! only; nothing an agent sends can crash the server; no credential appears in any answer.
//!
//! ```no_run
//! # async fn serve(connection: connector_runtime::Connection) -> Result<(), Box<dyn std::error::Error>> {
//! use connector_runtime::mcp::{serve_stdio, McpOptions, McpServer};
//!
//! let server = McpServer::new(connection, McpOptions::default())?;
//! eprintln!("{}", server.summary());
//! serve_stdio(server).await?;
//! # Ok(())
//! # }
//! ```

pub mod http;
mod listing;
mod naming;
mod resources;
mod search;
mod server;
mod shape;
mod text;
mod tools;

pub use naming::{is_valid as is_valid_tool_name, MAX_NAME as MAX_TOOL_NAME};
pub use server::McpServer;
pub use tools::{DEFAULT_LIMIT, MAX_LIMIT, MAX_TOOLS};

use rmcp::ServiceExt;

/// Which tools are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// One tool per action and entity operation, unless there would be more than
    /// [`MAX_TOOLS`]: then the catalogue tools.
    #[default]
    Auto,
    /// One tool per action and entity operation, however many.
    Tools,
    /// `search_actions`, `describe_action` and `run_action`.
    Catalogue,
}

/// What a server serves, and how much an answer may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpOptions {
    /// Tools or catalogue (default: by the number of tools).
    pub mode: Mode,
    /// Serve only actions that cannot change anything (GET, HEAD), and refuse the others by
    /// name without sending anything.
    pub read_only: bool,
    /// Only the actions with one of these tags (and those of `include_operations`).
    pub include_tags: Vec<String>,
    /// Only these actions (and those of `include_tags`).
    pub include_operations: Vec<String>,
    /// The most bytes of record JSON a list call answers with (default 64 KiB); other answers
    /// may be four times as large before they are cut.
    pub byte_budget: usize,
}

/// The default byte budget of a list answer.
pub const DEFAULT_BYTE_BUDGET: usize = 64 * 1024;

impl Default for McpOptions {
    fn default() -> Self {
        McpOptions {
            mode: Mode::Auto,
            read_only: false,
            include_tags: Vec::new(),
            include_operations: Vec::new(),
            byte_budget: DEFAULT_BYTE_BUDGET,
        }
    }
}

impl McpOptions {
    /// The most bytes of any other answer.
    pub(crate) fn result_limit(&self) -> usize {
        self.byte_budget.saturating_mul(4)
    }
}

/// Serves `server` over stdin and stdout until the client closes stdin.
pub async fn serve_stdio(server: McpServer) -> std::io::Result<()> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|err| std::io::Error::other(format!("the MCP session did not start: {err}")))?;
    running
        .waiting()
        .await
        .map_err(|err| std::io::Error::other(format!("the MCP session failed: {err}")))?;
    Ok(())
}
