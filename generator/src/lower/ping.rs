//! The ping action: declared at the top of the spec with `x-connector-ping` (an action id, or
//! `{action, input, check: {path, equals}}`), else the cheapest GET without required parameters,
//! preferring an entity's List asked for one record.

use connector_runtime::health::{BodyCheck, PingSpec};
use serde_json::{json, Value};

use crate::diagnostics::Diagnostics;
use crate::ir::{Connector, Method, OperationKind};

/// The ping of `connector`, whose spec root is `root`.
pub(crate) fn ping_of(
    root: &Value,
    connector: &Connector,
    diags: &mut Diagnostics,
) -> Option<PingSpec> {
    if let Some(ext) = root.get("x-connector-ping") {
        match declared(ext, connector) {
            Ok(spec) => return Some(spec),
            Err(problem) => diags.warn(
                "#/x-connector-ping",
                format!("x-connector-ping is ignored ({problem}); the default ping is used"),
            ),
        }
    }
    let no_required = |id: &str| {
        connector
            .operations
            .iter()
            .find(|op| op.id == id)
            .is_some_and(|op| op.method == Method::Get && !op.params.iter().any(|p| p.required))
    };
    let list = connector
        .entities
        .iter()
        .filter_map(|e| e.operations.get(&OperationKind::List))
        .find(|id| no_required(id));
    if let Some(id) = list {
        let size = connector
            .paging
            .get(id)
            .and_then(|p| p.pagination.as_ref()?.size_param.clone());
        return Some(PingSpec {
            action: id.clone(),
            input: size.map_or(Value::Null, |size| json!({ size: 1 })),
            check: None,
            declared: false,
        });
    }
    let any = connector.operations.iter().find(|op| no_required(&op.id))?;
    Some(PingSpec {
        action: any.id.clone(),
        input: Value::Null,
        check: None,
        declared: false,
    })
}

fn declared(ext: &Value, connector: &Connector) -> Result<PingSpec, String> {
    let (action, input, check) = match ext {
        Value::String(action) => (action.clone(), Value::Null, None),
        Value::Object(map) => {
            let action = map
                .get("action")
                .and_then(Value::as_str)
                .ok_or("`action` (an action id) is required")?;
            let check = match map.get("check") {
                None => None,
                Some(check) => Some(BodyCheck {
                    path: check
                        .get("path")
                        .and_then(Value::as_str)
                        .ok_or("`check.path` (a dotted path) is required")?
                        .split('.')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    equals: check
                        .get("equals")
                        .cloned()
                        .ok_or("`check.equals` is required")?,
                }),
            };
            let input = map.get("input").cloned().unwrap_or(Value::Null);
            (action.to_owned(), input, check)
        }
        _ => return Err("it must be an action id or an object".into()),
    };
    if !connector.operations.iter().any(|op| op.id == action) {
        return Err(format!("there is no action `{action}`"));
    }
    Ok(PingSpec {
        action,
        input,
        check,
        declared: true,
    })
}
