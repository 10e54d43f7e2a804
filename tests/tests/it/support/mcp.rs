//! MCP clients for the server tests: rmcp's client over a child process (stdio), and plain
//! JSON-RPC over Streamable HTTP; both give tools and results as JSON, so one test body runs
//! over either transport.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use super::prism::repo_root;

/// A canary credential: it must reach the API and appear nowhere else.
pub const CANARY: &str = "sk_live_CANARY_mcp_7f3a9c";

/// A petstore connection file in `dir` whose API key is the [`CANARY`].
pub fn canary_connection(dir: &Path, connector: &str) -> String {
    let path = dir.join(format!("{connector}-canary.json"));
    let file = json!({
        "connector": connector,
        "allow_http_loopback": true,
        "credentials": {"api_key": {"key": CANARY}},
    });
    std::fs::write(&path, file.to_string()).expect("writing the connection file");
    path.to_string_lossy().into_owned()
}

/// A way to talk to one server.
// One per test: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Transport {
    /// rmcp's client, the server a child process on its stdio.
    Stdio(Box<RunningService<RoleClient, ()>>),
    /// JSON-RPC POSTs to `url`, with the bearer token when there is one.
    Http {
        /// `http://127.0.0.1:PORT/mcp`.
        url: String,
        /// The bearer token.
        token: Option<String>,
        /// The HTTP client.
        http: reqwest::Client,
        /// The child process serving it.
        child: Child,
    },
}

/// A running server and a client connected to it.
pub struct Session {
    /// How the client talks to the server.
    pub transport: Transport,
    /// What the server has written to stderr so far.
    pub stderr: Arc<Mutex<String>>,
    /// From spawning the process to the first `tools/list` answer (set by [`Session::tools`]).
    pub started: Instant,
}

/// A call's outcome: a result (`isError` or not) or a protocol error's message.
pub type Called = Result<Value, String>;

impl Session {
    /// Starts `program args...` and connects rmcp's client to it over stdio.
    pub async fn stdio(program: &Path, args: &[String]) -> Session {
        let started = Instant::now();
        let mut command = Command::new(program);
        command.args(args).current_dir(repo_root());
        let (transport, stderr) = TokioChildProcess::builder(command)
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the MCP server");
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(stderr) = stderr {
            collect(stderr, log.clone());
        }
        let client = ().serve(transport).await.unwrap_or_else(|err| {
            panic!(
                "the MCP session did not start: {err}; stderr: {}",
                log.lock().unwrap()
            )
        });
        Session {
            transport: Transport::Stdio(Box::new(client)),
            stderr: log,
            started,
        }
    }

    /// Starts `program args... --http 127.0.0.1:0` and talks JSON-RPC to the address it prints.
    pub async fn http(program: &Path, args: &[String], token: Option<&str>) -> Session {
        let started = Instant::now();
        let mut command = Command::new(program);
        command
            .args(args)
            .args(["--http", "127.0.0.1:0"])
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(token) = token {
            command.args(["--token-env", "MCP_TEST_TOKEN"]);
            command.env("MCP_TEST_TOKEN", token);
        }
        let mut child = command.spawn().expect("starting the MCP server");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        // The first line says where it serves: `... at http://127.0.0.1:PORT/mcp`.
        let first = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
            .await
            .expect("the server did not start in time")
            .expect("reading stderr")
            .expect("the server ended before saying where it serves");
        let url = first
            .split(" at ")
            .last()
            .filter(|u| u.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"))
            .to_owned();
        let log = Arc::new(Mutex::new(format!("{first}\n")));
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let session = Session {
            transport: Transport::Http {
                url,
                token: token.map(str::to_owned),
                http: reqwest::Client::new(),
                child,
            },
            stderr: log,
            started,
        };
        let init = session
            .rpc(
                "initialize",
                json!({
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "connector-tests", "version": "1"},
                }),
            )
            .await;
        assert!(init.is_ok(), "initialize: {init:?}");
        session
    }

    /// One JSON-RPC request over HTTP: the result, or the error's message.
    pub async fn rpc(&self, method: &str, params: Value) -> Called {
        let Transport::Http {
            url, token, http, ..
        } = &self.transport
        else {
            panic!("rpc is for the HTTP transport");
        };
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut request = http
            .post(url)
            .header("Accept", "application/json, text/event-stream")
            .header("MCP-Protocol-Version", "2025-06-18")
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        assert!(status.is_success(), "{method}: HTTP {status}: {text}");
        let answer: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method}: not JSON ({e}): {text}"));
        match answer.get("result") {
            Some(result) => Ok(result.clone()),
            None => Err(answer["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()),
        }
    }

    /// `tools/list`, every page, as JSON.
    pub async fn tools(&self) -> Vec<Value> {
        match &self.transport {
            Transport::Stdio(client) => {
                let tools = client.list_all_tools().await.expect("tools/list");
                tools
                    .into_iter()
                    .map(|t| serde_json::to_value(t).unwrap())
                    .collect()
            }
            Transport::Http { .. } => {
                let result = self.rpc("tools/list", json!({})).await.expect("tools/list");
                result["tools"].as_array().cloned().unwrap_or_default()
            }
        }
    }

    /// `tools/call`: the result as JSON, or the protocol error's message.
    pub async fn call(&self, name: &str, arguments: Value) -> Called {
        let arguments: Map<String, Value> = match arguments {
            Value::Object(map) => map,
            other => panic!("arguments must be an object, got {other}"),
        };
        match &self.transport {
            Transport::Stdio(client) => client
                .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(arguments))
                .await
                .map(|r| serde_json::to_value(r).unwrap())
                .map_err(|e| e.to_string()),
            Transport::Http { .. } => {
                self.rpc("tools/call", json!({"name": name, "arguments": arguments}))
                    .await
            }
        }
    }

    /// `resources/read` of `uri`: the text of its first content.
    pub async fn read_resource(&self, uri: &str) -> Called {
        let result = match &self.transport {
            Transport::Stdio(client) => client
                .read_resource(rmcp::model::ReadResourceRequestParams::new(uri))
                .await
                .map(|r| serde_json::to_value(r).unwrap())
                .map_err(|e| e.to_string())?,
            Transport::Http { .. } => self.rpc("resources/read", json!({"uri": uri})).await?,
        };
        Ok(Value::String(
            result["contents"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ))
    }

    /// `resources/list`, first page.
    pub async fn resources(&self) -> Vec<Value> {
        let result = match &self.transport {
            Transport::Stdio(client) => {
                serde_json::to_value(client.list_resources(None).await.expect("resources/list"))
                    .unwrap()
            }
            Transport::Http { .. } => self
                .rpc("resources/list", json!({}))
                .await
                .expect("resources/list"),
        };
        result["resources"].as_array().cloned().unwrap_or_default()
    }

    /// Ends the session (closing stdin, or killing the HTTP server) and returns its stderr.
    pub async fn stop(self) -> String {
        match self.transport {
            Transport::Stdio(client) => {
                let _ = client.cancel().await;
            }
            Transport::Http { mut child, .. } => {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
        // Let the stderr reader catch the last lines.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let text = self.stderr.lock().unwrap().clone();
        text
    }
}

fn collect(mut stderr: impl AsyncReadExt + Unpin + Send + 'static, log: Arc<Mutex<String>>) {
    tokio::spawn(async move {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            log.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
}

/// The text of a result's first content block.
pub fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

/// Whether a result is a tool error.
pub fn is_error(result: &Value) -> bool {
    result["isError"] == json!(true)
}
