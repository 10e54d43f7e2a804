//! IR → the runtime's action [`Catalogue`]: what `describe` prints, what a generated crate embeds
//! and what `run` validates against, from one function so that they always agree.

use std::collections::BTreeMap;

use connector_runtime::catalogue::{Action, Catalogue, Entity, SecuritySchemeInfo};
use serde_json::{json, Value};

use crate::ir::{Connector, OAuthFlowKind, Operation, SecurityKind, SecurityScheme};
use crate::schema;

/// The catalogue of a lowered connector.
pub fn catalogue(connector: &Connector) -> Catalogue {
    catalogue_of(connector, |_| true)
}

/// The catalogue with only the actions `keep` accepts: `run` needs the schemas of one action,
/// and a large API has a thousand.
pub fn catalogue_of(connector: &Connector, keep: impl Fn(&Operation) -> bool) -> Catalogue {
    Catalogue {
        actions: connector
            .operations
            .iter()
            .filter(|op| keep(op))
            .map(|op| action(connector, op))
            .collect(),
        ..shell(connector, &keep)
    }
}

/// The catalogue of the actions `keep` accepts, but for the actions themselves.
fn shell(connector: &Connector, keep: &impl Fn(&Operation) -> bool) -> Catalogue {
    let kept: std::collections::BTreeSet<&str> = connector
        .operations
        .iter()
        .filter(|op| keep(op))
        .map(|op| op.id.as_str())
        .collect();
    Catalogue {
        name: connector.crate_name.clone(),
        title: connector.title.clone(),
        version: connector.version.clone(),
        description: connector.description.clone(),
        security_schemes: connector.security_schemes.iter().map(scheme).collect(),
        actions: Vec::new(),
        entities: connector
            .entities
            .iter()
            .filter(|e| e.operations.values().any(|id| kept.contains(id.as_str())))
            .map(|e| entity(connector, e))
            .collect(),
        ping: connector
            .ping
            .clone()
            .filter(|p| kept.contains(p.action.as_str())),
    }
}

/// An entity as the catalogue shows it.
pub fn entity(connector: &Connector, e: &crate::ir::Entity) -> Entity {
    Entity {
        record_schema: e
            .record
            .as_ref()
            .map_or_else(|| json!({}), |ty| schema::type_schema(connector, ty)),
        ..entity_outline(e)
    }
}

/// An entity without its record schema (which is the costly part).
pub fn entity_outline(e: &crate::ir::Entity) -> Entity {
    Entity {
        name: e.name.clone(),
        key: e.key.clone(),
        key_param: e.key_param.clone(),
        record_schema: json!({}),
        fields: e.fields.clone(),
        scope: e.scope.clone(),
        operations: e.operations.clone(),
    }
}

fn action(connector: &Connector, op: &Operation) -> Action {
    Action {
        id: op.id.clone(),
        method: op.method.as_str().to_owned(),
        path: op.path.clone(),
        summary: op.summary.clone(),
        description: op.description.clone(),
        tags: op.tags.clone(),
        deprecated: op.deprecated,
        idempotent: op.idempotent,
        auth: op.security.clone(),
        input_schema: schema::input_schema(connector, op),
        output_schemas: schema::output_schemas(connector, op),
        output_headers: schema::output_headers(op),
        paging: connector.paging.get(&op.id).cloned(),
        servers: op.servers.iter().map(|s| s.url.clone()).collect(),
    }
}

/// The catalogue as compact JSON text, as a generated crate embeds it: the same text as
/// serialising [`catalogue`], but built an action at a time, because every action's schemas carry
/// the definitions they reach and all of them at once, as JSON values, took gigabytes for
/// Microsoft Graph.
pub fn catalogue_json(connector: &Connector) -> String {
    // Serialising plain data (string keys only) into a string cannot fail.
    let whole = || serde_json::to_string(&catalogue(connector)).unwrap_or_default();
    let head = serde_json::to_string(&shell(connector, &|_| true)).unwrap_or_default();
    // The first `"actions":[]` is the catalogue's own (the fields before it, names and security
    // schemes, hold no such key); the actions go between its brackets.
    let Some(at) = head.find(r#""actions":[]"#) else {
        return whole();
    };
    let split = at + r#""actions":["#.len();
    let mut text = String::with_capacity(head.len());
    text.push_str(&head[..split]);
    for (index, op) in connector.operations.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(&serde_json::to_string(&action(connector, op)).unwrap_or_default());
    }
    text.push_str(&head[split..]);
    text
}

fn scheme(s: &SecurityScheme) -> SecuritySchemeInfo {
    let mut info = SecuritySchemeInfo {
        name: s.name.clone(),
        kind: String::new(),
        scheme: None,
        location: None,
        parameter: None,
        flows: BTreeMap::new(),
        open_id_connect_url: None,
        description: s.description.clone(),
    };
    let api_key = |info: &mut SecuritySchemeInfo, location: &str, parameter: &str| {
        info.kind = "apiKey".into();
        info.location = Some(location.into());
        info.parameter = Some(parameter.into());
    };
    match &s.kind {
        SecurityKind::ApiKeyHeader(p) => api_key(&mut info, "header", p),
        SecurityKind::ApiKeyQuery(p) => api_key(&mut info, "query", p),
        SecurityKind::ApiKeyCookie(p) => api_key(&mut info, "cookie", p),
        SecurityKind::HttpBasic | SecurityKind::HttpBearer | SecurityKind::HttpOther(_) => {
            info.kind = "http".into();
            info.scheme = Some(match &s.kind {
                SecurityKind::HttpBasic => "basic".to_owned(),
                SecurityKind::HttpBearer => "bearer".to_owned(),
                SecurityKind::HttpOther(other) => other.clone(),
                _ => String::new(),
            });
        }
        SecurityKind::OAuth2(flows) => {
            info.kind = "oauth2".into();
            info.flows = flows
                .iter()
                .map(|f| {
                    let name = match f.kind {
                        OAuthFlowKind::ClientCredentials => "clientCredentials",
                        OAuthFlowKind::AuthorizationCode => "authorizationCode",
                        OAuthFlowKind::Password => "password",
                        OAuthFlowKind::Implicit => "implicit",
                    };
                    let mut flow = json!({ "scopes": f.scopes });
                    for (key, value) in [
                        ("authorizationUrl", &f.authorization_url),
                        ("tokenUrl", &f.token_url),
                        ("refreshUrl", &f.refresh_url),
                    ] {
                        if let (Some(value), Value::Object(map)) = (value, &mut flow) {
                            map.insert(key.into(), value.clone().into());
                        }
                    }
                    (name.to_owned(), flow)
                })
                .collect();
        }
        SecurityKind::OpenIdConnect(url) => {
            info.kind = "openIdConnect".into();
            info.open_id_connect_url = Some(url.clone());
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_catalogue_is_the_serialised_catalogue() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        for spec in [
            "petstore.yaml",
            "schemas.yaml",
            "auth.yaml",
            "responses.yaml",
        ] {
            let bytes = std::fs::read(dir.join(spec)).unwrap();
            let lowered = crate::load_connector(&bytes, &crate::Options::default()).unwrap();
            let whole = serde_json::to_string(&catalogue(&lowered.connector)).unwrap();
            assert_eq!(catalogue_json(&lowered.connector), whole, "{spec}");
        }
    }
}
