//! Servers: the connector's (`#/servers`), and those a path or an operation declares for itself,
//! which override the connector's for that path's or operation's requests.
//!
//! A relative URL (`/v2`) is kept as written at every level: a top-level one needs the
//! connection's base URL, an operation's is joined to the connector's server by the runtime.

use serde_json::Value;

use super::Lowerer;
use crate::diagnostics::pointer;
use crate::ir::{Server, ServerVariable};

/// The connector's servers, from `#/servers`.
pub(crate) fn connector_servers(lw: &mut Lowerer<'_, '_>) -> Vec<Server> {
    match lw.spec.root().get("servers") {
        Some(value) => list(
            lw,
            value,
            "#/servers",
            "servers ignored, the connection must set a base URL",
        )
        .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// A path item's own servers (`#/paths/~1x/servers`), for every operation of the path that has
/// none of its own; `None` when it has none (or an empty list, which overrides nothing).
pub(crate) fn path_servers(
    lw: &mut Lowerer<'_, '_>,
    item: &serde_json::Map<String, Value>,
    at: &str,
) -> Option<Vec<Server>> {
    let value = item.get("servers")?;
    list(
        lw,
        value,
        &pointer(at, "servers"),
        "the path's servers are ignored, its operations use the connector's",
    )
    .filter(|servers| !servers.is_empty())
}

/// The servers an operation's requests go to: its own, else its path's (`path`), else none,
/// meaning the connector's.
pub(crate) fn operation_servers(
    lw: &mut Lowerer<'_, '_>,
    op: &Value,
    at: &str,
    path: Option<&[Server]>,
) -> Vec<Server> {
    let own = op.get("servers").and_then(|value| {
        list(
            lw,
            value,
            &pointer(at, "servers"),
            "the operation's servers are ignored, it uses its path's or the connector's",
        )
    });
    match own.filter(|servers| !servers.is_empty()) {
        Some(servers) => servers,
        None => path.map(<[Server]>::to_vec).unwrap_or_default(),
    }
}

/// The operation without its `servers`, which [`operation_servers`] lowers: a malformed list
/// then costs the operation its servers, not the whole operation.
pub(crate) fn without_servers(op: &Value) -> std::borrow::Cow<'_, Value> {
    match op.as_object() {
        Some(map) if map.contains_key("servers") => {
            let mut map = map.clone();
            map.remove("servers");
            std::borrow::Cow::Owned(Value::Object(map))
        }
        _ => std::borrow::Cow::Borrowed(op),
    }
}

/// A `servers` list at `at`; `None` (with a warning ending in `ignored`) when it is malformed.
fn list(lw: &mut Lowerer<'_, '_>, value: &Value, at: &str, ignored: &str) -> Option<Vec<Server>> {
    let parsed: Vec<openapiv3::Server> = match lw.spec.parse(value, at) {
        Ok(servers) => servers,
        Err(diag) => {
            lw.diags
                .warn(diag.pointer, format!("{}; {ignored}", diag.message));
            return None;
        }
    };
    let servers = parsed
        .into_iter()
        .enumerate()
        .map(|(index, server)| {
            let at = pointer(at, &index.to_string());
            let variables = server
                .variables
                .unwrap_or_default()
                .into_iter()
                .map(|(name, var)| ServerVariable {
                    name,
                    default: var.default,
                    allowed: var.enumeration,
                    description: var.description,
                })
                .collect::<Vec<_>>();
            for placeholder in super::connector::placeholders(&server.url) {
                if !variables.iter().any(|v| v.name == placeholder) {
                    lw.diags.warn(
                        pointer(&at, "url"),
                        format!("server URL uses `{{{placeholder}}}` but declares no such variable; the connection must set a base URL to use this server"),
                    );
                }
            }
            Server {
                url: server.url,
                description: server.description,
                variables,
            }
        })
        .collect();
    Some(servers)
}

#[cfg(test)]
mod tests {
    use crate::{load_connector, Options};

    const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Levels, version: '1'}
servers:
  - url: https://api.example.com/v1
paths:
  /reports:
    servers:
      - url: https://{region}.reports.example.com
        variables:
          region: {default: eu, enum: [eu, us]}
    get:
      operationId: listReports
      responses: {'200': {description: ok}}
    post:
      operationId: uploadReport
      servers:
        - url: https://uploads.example.com/{bucket}
          variables:
            bucket: {default: inbox}
        - url: /v2
      responses: {'201': {description: ok}}
    put:
      operationId: replaceReports
      servers: []
      responses: {'204': {description: ok}}
  /status:
    get:
      operationId: getStatus
      responses: {'200': {description: ok}}
"#;

    fn lowered(spec: &str) -> crate::Lowered {
        load_connector(spec.as_bytes(), &Options::default()).expect("the spec lowers")
    }

    fn urls(lowered: &crate::Lowered, id: &str) -> Vec<String> {
        let op = lowered.connector.operations.iter().find(|op| op.id == id);
        op.expect("the operation")
            .servers
            .iter()
            .map(|s| s.url.clone())
            .collect()
    }

    #[test]
    fn operation_servers_win_over_the_paths_which_win_over_the_connectors() {
        let lowered = lowered(SPEC);
        assert!(lowered.warnings.is_empty(), "{:?}", lowered.warnings);
        assert_eq!(
            urls(&lowered, "uploadReport"),
            ["https://uploads.example.com/{bucket}", "/v2"]
        );
        assert_eq!(
            urls(&lowered, "listReports"),
            ["https://{region}.reports.example.com"]
        );
        // An empty list overrides nothing.
        assert_eq!(
            urls(&lowered, "replaceReports"),
            ["https://{region}.reports.example.com"]
        );
        assert!(urls(&lowered, "getStatus").is_empty());
        let op = |id: &str| {
            let found = lowered.connector.operations.iter().find(|op| op.id == id);
            found.expect("the operation")
        };
        let bucket = &op("uploadReport").servers[0].variables[0];
        assert_eq!(
            (bucket.name.as_str(), bucket.default.as_str()),
            ("bucket", "inbox")
        );
        let region = &op("listReports").servers[0].variables[0];
        assert_eq!(region.allowed, ["eu", "us"]);
    }

    #[test]
    fn bad_servers_are_reported_at_their_pointer_and_cost_only_the_servers() {
        let spec = SPEC
            .replace(
                "https://uploads.example.com/{bucket}",
                "https://uploads.example.com/{bucket}/{undeclared}",
            )
            .replace(
                "      - url: https://{region}.reports.example.com\n",
                "      - description: no url\n",
            );
        let lowered = lowered(&spec);
        let warnings: Vec<(&str, &str)> = lowered
            .warnings
            .iter()
            .map(|w| (w.pointer.as_str(), w.message.as_str()))
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let (at, message) = warnings[0];
        assert_eq!(at, "#/paths/~1reports/post/servers/0/url");
        assert!(
            message.contains("`{undeclared}` but declares no such variable"),
            "{message}"
        );
        let (at, message) = warnings[1];
        assert!(at.starts_with("#/paths/~1reports/servers"), "{at}");
        assert!(
            message.contains("the path's servers are ignored"),
            "{message}"
        );
        // Every operation is still there; those of the path fall back to the connector's.
        assert_eq!(lowered.connector.operations.len(), 4);
        assert!(urls(&lowered, "listReports").is_empty());
        assert_eq!(urls(&lowered, "uploadReport").len(), 2);
    }

    #[test]
    fn a_subset_warns_only_about_the_servers_it_keeps() {
        let spec = SPEC.replace(
            "      - url: https://{region}.reports.example.com\n",
            "      - description: no url\n",
        );
        let mut options = Options::default();
        options.include.operations = vec!["getStatus".into()];
        let lowered = load_connector(spec.as_bytes(), &options).expect("the subset lowers");
        assert!(lowered.warnings.is_empty(), "{:?}", lowered.warnings);
        options.include.operations = vec!["listReports".into()];
        let lowered = load_connector(spec.as_bytes(), &options).expect("the subset lowers");
        assert_eq!(lowered.warnings.len(), 1, "{:?}", lowered.warnings);
    }

    #[test]
    fn a_malformed_operation_list_keeps_the_operation_with_its_paths_servers() {
        let spec = SPEC.replace(
            "        - url: /v2\n",
            "        - url: /v2\n          variables: {x: {enum: [a]}}\n",
        );
        let lowered = lowered(&spec);
        assert_eq!(lowered.warnings.len(), 1, "{:?}", lowered.warnings);
        let warning = &lowered.warnings[0];
        assert!(
            warning
                .pointer
                .starts_with("#/paths/~1reports/post/servers/1"),
            "{}",
            warning.pointer
        );
        assert!(
            warning
                .message
                .contains("the operation's servers are ignored"),
            "{}",
            warning.message
        );
        assert_eq!(
            urls(&lowered, "uploadReport"),
            ["https://{region}.reports.example.com"]
        );
    }
}
