//! Human-readable summaries of a lowered connector, for `connector-gen inspect`.

use std::fmt::Write;

use crate::ir::Connector;

/// A table of the connector's actions: id, method, path, auth and summary.
pub fn actions_table(connector: &Connector) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({} actions)",
        connector.title,
        connector.version,
        connector.operations.len()
    );
    let width = connector
        .operations
        .iter()
        .map(|op| op.id.chars().count())
        .max()
        .unwrap_or(0);
    for op in &connector.operations {
        let auth = connector_model::catalogue::auth_summary(&op.security);
        let summary = op
            .summary
            .as_deref()
            .map(crate::render::doc_value)
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<width$}  {:<7} {}  [auth: {}]  {}",
            op.id,
            op.method.as_str(),
            op.path,
            auth,
            summary,
        );
    }
    out
}

/// The entities found: name, scope, key and the action of each operation.
pub fn entities_table(connector: &Connector) -> String {
    let mut out = format!("{} entities\n", connector.entities.len());
    for entity in &connector.entities {
        let scope = if entity.scope.is_empty() {
            String::new()
        } else {
            format!(" (scope: {})", entity.scope.join(", "))
        };
        let key = entity.key.as_deref().unwrap_or("none");
        let ops: Vec<String> = entity
            .operations
            .iter()
            .map(|(kind, id)| format!("{}={id}", kind.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "  {}{scope}  [key: {key}]  {}",
            entity.name,
            ops.join(" ")
        );
    }
    out
}

/// The events (the API calls its subscribers): name, method, where from, payload type, headers.
/// Empty when there are none.
pub fn webhooks_table(connector: &Connector) -> String {
    if connector.webhooks.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "{} events (the API calls the subscriber; `connector-gen listen` receives them)\n",
        connector.webhooks.len()
    );
    for webhook in &connector.webhooks {
        let payload = match webhook.payload.as_ref().map(|p| &p.ty) {
            Some(crate::ir::TypeRef::Named(id)) => connector
                .types
                .get(id)
                .map_or_else(|| "any".to_owned(), |d| d.rust_name.clone()),
            Some(crate::ir::TypeRef::Json) | None => "any".to_owned(),
            Some(_) => "inline".to_owned(),
        };
        let headers: Vec<&str> = webhook.headers.iter().map(|h| h.name.as_str()).collect();
        let _ = writeln!(
            out,
            "  {}  {:<7} [{}] [payload: {payload}]{}  {}",
            crate::render::doc_value(&webhook.name),
            webhook.method.as_str(),
            webhook.source,
            if headers.is_empty() {
                String::new()
            } else {
                format!(
                    " [headers: {}]",
                    crate::render::doc_value(&headers.join(", "))
                )
            },
            webhook
                .summary
                .as_deref()
                .map(crate::render::doc_value)
                .unwrap_or_default(),
        );
    }
    out
}

/// Why each operation was or was not taken by an entity (`inspect --explain`).
pub fn entity_explanation(connector: &Connector) -> String {
    let mut out = String::new();
    for note in &connector.entity_notes {
        let verdict = if note.taken.is_some() {
            "taken"
        } else {
            "action"
        };
        let _ = writeln!(out, "  {:<6} {}: {}", verdict, note.action, note.reason);
    }
    out
}
