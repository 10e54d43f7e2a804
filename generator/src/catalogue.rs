//! IR → the runtime's action [`Catalogue`]: what `describe` prints, what a generated crate embeds
//! and what `run` validates against, from one function so that they always agree.

use std::collections::BTreeMap;

use connector_model::catalogue::{Action, Catalogue, Entity, SecuritySchemeInfo};
use serde_json::{json, Map, Value};

use crate::ir::{Connector, OAuthFlowKind, Operation, SecurityKind, SecurityScheme};
use crate::schema::{self, Schemas};

/// The catalogue of a lowered connector, events included.
pub fn catalogue(connector: &Connector) -> Catalogue {
    build(connector, &|_| true, true)
}

/// The catalogue with only the actions `keep` accepts (and the entities and definitions they
/// reach), without webhooks: `run` needs the schemas of one action, and a large API has a
/// thousand.
pub fn catalogue_of(connector: &Connector, keep: impl Fn(&Operation) -> bool) -> Catalogue {
    build(connector, &keep, false)
}

/// The catalogue of the actions `keep` accepts, and of the events when `with_webhooks`.
fn build(
    connector: &Connector,
    keep: &impl Fn(&Operation) -> bool,
    with_webhooks: bool,
) -> Catalogue {
    let mut schemas = Schemas::new(connector);
    let actions = connector
        .operations
        .iter()
        .filter(|op| keep(op))
        .map(|op| action(&mut schemas, connector, op))
        .collect();
    let shell = shell(connector, keep, &mut schemas, with_webhooks);
    Catalogue {
        actions,
        definitions: schemas.definitions(),
        ..shell
    }
}

/// The catalogue of the actions `keep` accepts, but for the actions and the definitions.
fn shell(
    connector: &Connector,
    keep: &impl Fn(&Operation) -> bool,
    schemas: &mut Schemas,
    with_webhooks: bool,
) -> Catalogue {
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
        summary: connector.summary.clone(),
        license: connector
            .license
            .as_ref()
            .and_then(|l| serde_json::to_value(l).ok()),
        security_schemes: connector.security_schemes.iter().map(scheme).collect(),
        actions: Vec::new(),
        entities: connector
            .entities
            .iter()
            .filter(|e| e.operations.values().any(|id| kept.contains(id.as_str())))
            .map(|e| Entity {
                record_schema: record_schema(schemas, e),
                ..entity_outline(e)
            })
            .collect(),
        ping: connector
            .ping
            .clone()
            .filter(|p| kept.contains(p.action.as_str())),
        webhooks: if with_webhooks {
            connector
                .webhooks
                .iter()
                .map(|w| webhook(schemas, w))
                .collect()
        } else {
            Vec::new()
        },
        definitions: Map::new(),
        webhook_signature: connector.webhook_signature.clone(),
        webhook_keys: connector.webhook_keys.clone(),
    }
}

/// An event as the catalogue lists it, its schemas referring to the shared definitions.
fn webhook(schemas: &mut Schemas, w: &crate::ir::Webhook) -> connector_model::catalogue::Webhook {
    connector_model::catalogue::Webhook {
        name: w.name.clone(),
        method: w.method.as_str().to_owned(),
        operation_id: w.operation_id.clone(),
        summary: w.summary.clone(),
        description: w.description.clone(),
        media_types: w
            .payload
            .as_ref()
            .map(|p| p.media_types.clone())
            .unwrap_or_default(),
        payload_schema: w
            .payload
            .as_ref()
            .map_or(Value::Null, |p| schemas.payload(p)),
        headers: w
            .headers
            .iter()
            .map(|h| connector_model::catalogue::WebhookHeader {
                name: h.name.clone(),
                required: h.required,
                schema: schemas.of_type(&h.ty),
            })
            .collect(),
        source: w.source.clone(),
        type_value: w.type_value.clone(),
        expression: w.expression.clone(),
    }
}

/// An entity as the catalogue shows it, its record schema standalone.
pub fn entity(connector: &Connector, e: &crate::ir::Entity) -> Entity {
    Entity {
        record_schema: e
            .record
            .as_ref()
            .map_or_else(|| json!({}), |ty| schema::type_schema(connector, ty)),
        ..entity_outline(e)
    }
}

fn record_schema(schemas: &mut Schemas, e: &crate::ir::Entity) -> Value {
    e.record
        .as_ref()
        .map_or_else(|| json!({}), |ty| schemas.of_type(ty))
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

fn action(schemas: &mut Schemas, connector: &Connector, op: &Operation) -> Action {
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
        input_schema: schemas.input(op),
        output_schemas: schemas.outputs(op),
        output_headers: schema::output_headers(op),
        paging: connector.paging.get(&op.id).cloned(),
        servers: op.servers.iter().map(|s| s.url.clone()).collect(),
    }
}

/// The catalogue as compact JSON text, as a generated crate embeds it: the same text as
/// serialising [`catalogue`], but built an action (and a definition) at a time, so that only
/// the text is ever whole in memory, not its far larger tree of JSON values.
pub fn catalogue_json(connector: &Connector) -> String {
    let mut schemas = Schemas::new(connector);
    let head =
        serde_json::to_string(&shell(connector, &|_| true, &mut schemas, true)).unwrap_or_default();
    // The first `"actions":[]` is the catalogue's own (the fields before it, names and security
    // schemes, hold no such key); the actions go between its brackets.
    let (Some(at), Some(before_end)) = (head.find(r#""actions":[]"#), head.strip_suffix('}'))
    else {
        // Serialising plain data (string keys only) into a string cannot fail.
        return serde_json::to_string(&catalogue(connector)).unwrap_or_default();
    };
    let split = at + r#""actions":["#.len();
    let mut text = String::with_capacity(head.len());
    text.push_str(&head[..split]);
    for (index, op) in connector.operations.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        let action = action(&mut schemas, connector, op);
        text.push_str(&serde_json::to_string(&action).unwrap_or_default());
    }
    text.push_str(&before_end[split..]);
    let definitions = schemas.definitions();
    if !definitions.is_empty() {
        text.push_str(r#","$defs":"#);
        text.push_str(&serde_json::to_string(&definitions).unwrap_or_default());
    }
    text.push('}');
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
                        OAuthFlowKind::DeviceAuthorization => "deviceAuthorization",
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
        SecurityKind::MutualTls => info.kind = "mutualTLS".into(),
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_connectors() -> Vec<(String, Connector)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        let mut specs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
            .collect();
        specs.sort();
        assert!(specs.len() >= 8, "{specs:?}");
        specs
            .into_iter()
            .map(|path| {
                let bytes = std::fs::read(&path).unwrap();
                let lowered = crate::load_connector(&bytes, &crate::Options::default()).unwrap();
                (path.display().to_string(), lowered.connector)
            })
            .collect()
    }

    #[test]
    fn streamed_catalogue_is_the_serialised_catalogue() {
        for (spec, connector) in sample_connectors() {
            let whole = serde_json::to_string(&catalogue(&connector)).unwrap();
            assert_eq!(catalogue_json(&connector), whole, "{spec}");
        }
    }

    /// The catalogue keeps each definition once; one action taken out of it is exactly the
    /// standalone document built for that action alone, byte for byte, so that `describe ACTION`
    /// and input validation see what they saw when every action carried its own definitions.
    #[test]
    fn an_action_made_standalone_is_the_schema_built_for_it_alone() {
        let mut shared = 0;
        for (spec, connector) in sample_connectors() {
            let catalogue = catalogue(&connector);
            for (action, op) in catalogue.actions.iter().zip(&connector.operations) {
                let schemas =
                    std::iter::once(&action.input_schema).chain(action.output_schemas.values());
                for schema in schemas {
                    assert!(schema.get("$defs").is_none(), "{spec} {}", action.id);
                }
                let alone = Action {
                    input_schema: schema::input_schema(&connector, op),
                    output_schemas: schema::output_schemas(&connector, op),
                    ..action.clone()
                };
                assert_eq!(
                    serde_json::to_string(&catalogue.standalone_action(action)).unwrap(),
                    serde_json::to_string(&alone).unwrap(),
                    "{spec} {}",
                    action.id
                );
            }
            for (entity, e) in catalogue.entities.iter().zip(&connector.entities) {
                assert_eq!(
                    serde_json::to_string(&catalogue.standalone_entity(entity)).unwrap(),
                    serde_json::to_string(&super::entity(&connector, e)).unwrap(),
                    "{spec} {}",
                    entity.name
                );
            }
            shared += catalogue.definitions.len();
        }
        assert!(shared > 20, "the sample specs have named types: {shared}");
    }

    #[test]
    fn a_partial_catalogue_has_the_definitions_its_actions_reach_and_no_others() {
        for (spec, connector) in sample_connectors() {
            for op in &connector.operations {
                let only = catalogue_of(&connector, |o| o.id == op.id);
                let mut reached: Vec<String> = Vec::new();
                let action = only.standalone_action(&only.actions[0]);
                for schema in std::iter::once(&action.input_schema)
                    .chain(action.output_schemas.values())
                    .chain(only.entities.iter().map(|e| &e.record_schema))
                {
                    let standalone = only.standalone(schema);
                    if let Some(Value::Object(defs)) = standalone.get("$defs") {
                        reached.extend(defs.keys().cloned());
                    }
                }
                reached.sort();
                reached.dedup();
                let defined: Vec<String> = only.definitions.keys().cloned().collect();
                assert_eq!(reached, defined, "{spec} {}", op.id);
            }
        }
    }
}
