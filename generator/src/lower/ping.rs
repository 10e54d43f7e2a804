//! The ping action: declared at the top of the spec with `x-connector-ping` (an action id, or
//! `{action, input, check: {path, equals}, successPath, successValues, failPath, failValues,
//! errorPath, timeoutMs}`), else the cheapest GET without required parameters,
//! preferring an entity's List asked for one record.

use connector_model::catalogue::{BodyCheck, PingSpec, ValuesCheck};
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
            ..PingSpec::default()
        });
    }
    let any = connector.operations.iter().find(|op| no_required(&op.id))?;
    Some(PingSpec {
        action: any.id.clone(),
        ..PingSpec::default()
    })
}

pub(crate) fn declared(ext: &Value, connector: &Connector) -> Result<PingSpec, String> {
    let mut spec = match ext {
        Value::String(action) => PingSpec {
            action: action.clone(),
            ..PingSpec::default()
        },
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
            let timeout_ms = match map.get("timeoutMs") {
                None => None,
                Some(ms) => Some(
                    ms.as_u64()
                        .filter(|ms| *ms > 0)
                        .ok_or("`timeoutMs` must be a positive whole number of milliseconds")?,
                ),
            };
            PingSpec {
                action: action.to_owned(),
                input,
                check,
                success: values_check(map, "success")?,
                fail: values_check(map, "fail")?,
                error_path: match map.get("errorPath") {
                    None => None,
                    Some(path) => Some(dotted(path, "errorPath")?),
                },
                timeout_ms,
                declared: true,
            }
        }
        _ => return Err("it must be an action id or an object".into()),
    };
    if !connector.operations.iter().any(|op| op.id == spec.action) {
        return Err(format!("there is no action `{}`", spec.action));
    }
    spec.declared = true;
    Ok(spec)
}

/// `{prefix}Path` and `{prefix}Values` (a value or a list), both or neither.
fn values_check(
    map: &serde_json::Map<String, Value>,
    prefix: &str,
) -> Result<Option<ValuesCheck>, String> {
    let path_key = format!("{prefix}Path");
    let values_key = format!("{prefix}Values");
    match (map.get(&path_key), map.get(&values_key)) {
        (None, None) => Ok(None),
        (Some(path), Some(values)) => Ok(Some(ValuesCheck {
            path: dotted(path, &path_key)?,
            values: match values {
                Value::Array(values) if !values.is_empty() => values.clone(),
                Value::Array(_) => return Err(format!("`{values_key}` must not be empty")),
                one => vec![one.clone()],
            },
        })),
        (Some(_), None) => Err(format!("`{path_key}` needs `{values_key}`")),
        (None, Some(_)) => Err(format!("`{values_key}` needs `{path_key}`")),
    }
}

/// A dotted path (`error.code`) as property names.
fn dotted(path: &Value, key: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = path
        .as_str()
        .ok_or_else(|| format!("`{key}` must be a dotted path such as `error.code`"))?
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(format!("`{key}` must not be empty"));
    }
    Ok(names)
}
