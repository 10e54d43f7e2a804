//! `connector-gen diff` and servers of an action's own: an action whose path- or operation-level
//! server moves is a breaking "changed server", even when the connector's servers stay.

use connector_gen::versions::diff::diff;
use connector_gen::Options;

fn spec(reports_server: Option<&str>) -> connector_gen::ir::Connector {
    let servers = reports_server
        .map(|url| format!("    servers:\n      - url: {url}\n"))
        .unwrap_or_default();
    let text = format!(
        r#"openapi: 3.0.3
info: {{title: Servers, version: 1.0.0}}
servers:
  - url: https://api.example.com
paths:
  /reports:
{servers}    get:
      operationId: listReports
      responses:
        '200': {{description: ok}}
  /pets:
    get:
      operationId: listPets
      responses:
        '200': {{description: ok}}
"#
    );
    connector_gen::load_connector(text.as_bytes(), &Options::default())
        .unwrap()
        .connector
}

fn server_changes(old: Option<&str>, new: Option<&str>) -> Vec<(bool, String, String)> {
    diff(&spec(old), &spec(new))
        .into_iter()
        .filter(|c| c.kind == "server-changed")
        .map(|c| (c.breaking, c.at, c.message))
        .collect()
}

#[test]
fn an_action_moved_to_another_server_is_a_breaking_change() {
    let moved = server_changes(
        Some("https://reports.example.com"),
        Some("https://eu.reports.example.com"),
    );
    assert_eq!(
        moved,
        [(
            true,
            "listReports servers".to_owned(),
            "action `listReports` moved from server `https://reports.example.com` to `https://eu.reports.example.com`".to_owned()
        )]
    );
    // Gaining a server of its own moves the action off the connector's.
    let gained = server_changes(None, Some("https://reports.example.com"));
    assert_eq!(gained.len(), 1, "{gained:?}");
    assert!(gained[0]
        .2
        .contains("from server `https://api.example.com`"));
    // The same servers, or none on either side: nothing.
    assert!(server_changes(
        Some("https://reports.example.com"),
        Some("https://reports.example.com")
    )
    .is_empty());
    assert!(server_changes(None, None).is_empty());
}
