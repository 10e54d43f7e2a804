//! Entities: the resources behind the paths. The rule (docs/entities.md):
//!
//! - a collection path (last segment static, `/pets`) gives List (GET) and Create (POST); its item
//!   path (`/pets/{petId}`) gives Get (GET), Update (PATCH, else PUT) and Delete (DELETE);
//! - parameters before the last static segment are the scope (`/owners/{ownerId}/pets` is
//!   `owner_pets`, scoped by `ownerId`);
//! - an entity needs a List or a Get; a List needs a response that holds an array of records;
//! - `x-connector-entity` on an operation or path overrides the name, the kind, the key field and
//!   the records path, or (`false`) excludes it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::naming::{self, Namespace};
use super::paging::paging_of;
use super::shapes::{self, Shape};
use crate::diagnostics::Diagnostics;
use crate::ir::{
    BodyKind, Connector, Entity, EntityNote, Method, Operation, OperationKind, Paging, Success,
    TypeRef,
};
use crate::resolve::Spec;
use connector_model::catalogue::EntityField;

/// What the finder found.
pub(crate) struct Found {
    pub(crate) entities: Vec<Entity>,
    pub(crate) paging: BTreeMap<String, Paging>,
    pub(crate) notes: Vec<EntityNote>,
}

/// `x-connector-entity` as an object.
#[derive(Default, Clone)]
struct Override {
    name: Option<String>,
    kind: Option<OperationKind>,
    key: Option<String>,
    records: Option<Vec<String>>,
}

/// The operations that share a base path (or a declared name).
struct Group {
    base: String,
    name: Option<String>,
    key: Option<String>,
    records: Option<Vec<String>>,
    ops: BTreeMap<OperationKind, usize>,
}

/// Finds the entities of `connector` (whose operations came from `spec`).
pub(crate) fn find(spec: &Spec<'_>, connector: &Connector, diags: &mut Diagnostics) -> Found {
    let mut notes: Vec<Option<EntityNote>> = vec![None; connector.operations.len()];
    let mut groups: Vec<Group> = Vec::new();
    let mut paging = BTreeMap::new();
    for (index, op) in connector.operations.iter().enumerate() {
        let raw = spec.get(&op.pointer);
        let page = paging_of(connector, op, raw, diags);
        if let Ok(found) = &page {
            if found.pagination.is_some() {
                paging.insert(op.id.clone(), found.clone());
            }
        }
        let note = |reason: String| {
            Some(EntityNote {
                action: op.id.clone(),
                taken: None,
                reason,
            })
        };
        let over = match overrides(spec, op, raw, diags) {
            Ok(over) => over,
            Err(reason) => {
                notes[index] = note(reason);
                continue;
            }
        };
        let Some((base, kind)) = over
            .kind
            .map(|kind| (base_of(&op.path, kind), kind))
            .or_else(|| default_kind(op))
        else {
            notes[index] = note(format!(
                "{} on a path ending in {} does not fit the rule",
                op.method.as_str(),
                if last_is_param(&op.path) {
                    "a parameter"
                } else {
                    "a static segment"
                }
            ));
            continue;
        };
        if base
            .rsplit('/')
            .next()
            .is_none_or(|s| s.is_empty() || s.starts_with('{'))
        {
            notes[index] = note("its collection path has no static last segment".into());
            continue;
        }
        if kind == OperationKind::List && over.kind.is_none() && over.records.is_none() {
            if let Err(reason) = &page {
                notes[index] = note(format!("a GET on a collection path, but {reason}"));
                continue;
            }
        }
        let key = over.name.clone().unwrap_or_else(|| base.clone());
        let position = groups
            .iter()
            .position(|g| g.name.as_ref().unwrap_or(&g.base) == &key);
        let group = match position {
            Some(at) => &mut groups[at],
            None => {
                groups.push(Group {
                    base: base.clone(),
                    name: over.name.clone(),
                    key: None,
                    records: None,
                    ops: BTreeMap::new(),
                });
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        group.key = group.key.take().or(over.key);
        group.records = group.records.take().or(over.records);
        match group.ops.get(&kind) {
            // PATCH changes part of a record, which is what Update means; it wins over PUT.
            Some(&other)
                if kind == OperationKind::Update
                    && op.method == Method::Patch
                    && connector.operations[other].method == Method::Put =>
            {
                notes[other] = note_for(
                    &connector.operations[other],
                    "PATCH is preferred for update",
                );
                group.ops.insert(kind, index);
            }
            Some(&other) => {
                notes[index] = note(format!(
                    "`{}` already is the {} of this entity",
                    connector.operations[other].id,
                    kind.as_str()
                ));
            }
            None => {
                group.ops.insert(kind, index);
            }
        }
    }
    let mut names = Namespace::default();
    let mut entities = Vec::new();
    for group in groups {
        let has_read = group.ops.contains_key(&OperationKind::List)
            || group.ops.contains_key(&OperationKind::Get);
        if !has_read && group.name.is_none() {
            for &index in group.ops.values() {
                notes[index] = note_for(
                    &connector.operations[index],
                    &format!("{} has no List or Get, so it is no entity", group.base),
                );
            }
            continue;
        }
        let entity = build(connector, &group, &mut names, &mut paging);
        for (kind, &index) in &group.ops {
            notes[index] = Some(EntityNote {
                action: connector.operations[index].id.clone(),
                taken: Some((entity.name.clone(), *kind)),
                reason: format!("{} of `{}` ({})", kind.as_str(), entity.name, group.base),
            });
        }
        entities.push(entity);
    }
    Found {
        entities,
        paging,
        notes: notes.into_iter().flatten().collect(),
    }
}

fn note_for(op: &Operation, reason: &str) -> Option<EntityNote> {
    Some(EntityNote {
        action: op.id.clone(),
        taken: None,
        reason: reason.to_owned(),
    })
}

/// Builds one entity: name, scope, record, key and fields.
fn build(
    connector: &Connector,
    group: &Group,
    names: &mut Namespace,
    paging: &mut BTreeMap<String, Paging>,
) -> Entity {
    let statics: Vec<&str> = segments(&group.base)
        .filter(|s| !s.starts_with('{'))
        .collect();
    let scope: Vec<String> = segments(&group.base)
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect();
    let last = statics.last().copied().unwrap_or("entity");
    let hint = match (&group.name, scope.is_empty(), parent_of(&group.base)) {
        (Some(name), _, _) => name.clone(),
        (None, false, Some(parent)) => format!("{}_{last}", singular(parent)),
        _ => last.to_owned(),
    };
    let name = names.claim(naming::snake_name(&hint, "entity"));
    let op = |kind| group.ops.get(&kind).map(|&i| &connector.operations[i]);
    let mut list_records = None;
    if let Some(list) = op(OperationKind::List) {
        let raw_records = paging.get(&list.id).map(|p| p.records.clone()).or_else(|| {
            let mut diags = Diagnostics::default();
            paging_of(connector, list, None, &mut diags)
                .ok()
                .map(|p| p.records)
        });
        let records = group.records.clone().or(raw_records).unwrap_or_default();
        let entry = paging.entry(list.id.clone()).or_insert(Paging {
            records: records.clone(),
            pagination: None,
        });
        if let Some(declared) = &group.records {
            entry.records = declared.clone();
        }
        if let Success::Json(ty) = &list.success {
            list_records = records_type(connector, ty, &entry.records);
        }
    }
    let record = op(OperationKind::Get)
        .and_then(|get| match &get.success {
            Success::Json(ty) => Some(ty.clone()),
            _ => None,
        })
        .or(list_records)
        .or_else(|| {
            let body = op(OperationKind::Create)?.body.as_ref()?;
            (body.kind == BodyKind::Json).then(|| body.ty.clone())
        });
    let key_param = [
        OperationKind::Get,
        OperationKind::Update,
        OperationKind::Delete,
    ]
    .into_iter()
    .find_map(|kind| {
        // `/aquifers/{aquifer_id}/`: a trailing slash is no segment of its own.
        let path = op(kind)?.path.trim_end_matches('/');
        let last = path.rsplit('/').next()?;
        Some(last.strip_prefix('{')?.strip_suffix('}')?.to_owned())
    });
    let record_fields = match record.as_ref().map(|ty| shapes::shape(connector, ty)) {
        Some(Shape::Object(fields)) => fields,
        _ => Vec::new(),
    };
    let has = |name: &str| record_fields.iter().any(|f| f.wire_name == name);
    let key = group.key.clone().or_else(|| {
        let by_param = key_param.as_deref().filter(|p| has(p));
        by_param.or(has("id").then_some("id")).map(str::to_owned)
    });
    let fields = record_fields
        .iter()
        .map(|f| EntityField {
            name: f.wire_name.clone(),
            kind: shapes::shape(connector, &f.ty).json_type().to_owned(),
            key: key.as_deref() == Some(f.wire_name.as_str()),
            read_only: f.facts.read_only,
            nullable: f.optional || shapes::is_nullable(&f.ty),
        })
        .collect();
    Entity {
        rust_name: naming::type_name(&name),
        name,
        key,
        key_param,
        record,
        fields,
        scope,
        operations: group
            .ops
            .iter()
            .map(|(kind, &i)| (*kind, connector.operations[i].id.clone()))
            .collect(),
    }
}

/// The element type of the records at `path` in a list response of type `ty`.
pub(crate) fn records_type(
    connector: &Connector,
    ty: &TypeRef,
    path: &[String],
) -> Option<TypeRef> {
    let mut current = ty.clone();
    for key in path {
        let Shape::Object(fields) = shapes::shape(connector, &current) else {
            return None;
        };
        current = fields.into_iter().find(|f| &f.wire_name == key)?.ty;
    }
    match shapes::shape(connector, &current) {
        Shape::List(item) => Some(item),
        _ => None,
    }
}

/// Reads `x-connector-entity` from the operation, else from its path item.
fn overrides(
    spec: &Spec<'_>,
    op: &Operation,
    raw: Option<&Value>,
    diags: &mut Diagnostics,
) -> Result<Override, String> {
    let item_at = op.pointer.rsplit_once('/').map_or("", |(item, _)| item);
    let found = raw
        .and_then(|r| r.get("x-connector-entity"))
        .map(|v| (v, format!("{}/x-connector-entity", op.pointer)))
        .or_else(|| {
            let item = spec.get(item_at)?;
            Some((
                item.get("x-connector-entity")?,
                format!("{item_at}/x-connector-entity"),
            ))
        });
    let Some((ext, at)) = found else {
        return Ok(Override::default());
    };
    match ext {
        Value::Bool(false) => Err("excluded by `x-connector-entity: false`".into()),
        Value::Object(map) => {
            let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
            let kind = match text("operation") {
                Some(kind) => match OperationKind::parse(&kind) {
                    Some(kind) => Some(kind),
                    None => {
                        diags.warn(
                            &at,
                            format!("x-connector-entity: unknown operation `{kind}` (list, get, create, update or delete); the rule decides"),
                        );
                        None
                    }
                },
                None => None,
            };
            Ok(Override {
                name: text("name"),
                kind,
                key: text("key"),
                records: text("records").map(|r| {
                    r.split('.')
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                }),
            })
        }
        _ => {
            diags.warn(
                &at,
                "x-connector-entity must be `false` or an object {name, operation, key, records}; it is ignored",
            );
            Ok(Override::default())
        }
    }
}

/// The kind and base path the rule gives an operation.
fn default_kind(op: &Operation) -> Option<(String, OperationKind)> {
    let item = last_is_param(&op.path);
    let kind = match (item, op.method) {
        (false, Method::Get) => OperationKind::List,
        (false, Method::Post) => OperationKind::Create,
        (true, Method::Get) => OperationKind::Get,
        (true, Method::Put | Method::Patch) => OperationKind::Update,
        (true, Method::Delete) => OperationKind::Delete,
        _ => return None,
    };
    Some((base_of(&op.path, kind), kind))
}

/// The collection path of an operation of `kind` on `path`.
fn base_of(path: &str, kind: OperationKind) -> String {
    let trimmed = path.trim_end_matches('/');
    let is_item_kind = matches!(
        kind,
        OperationKind::Get | OperationKind::Update | OperationKind::Delete
    );
    if is_item_kind && last_is_param(trimmed) {
        trimmed
            .rsplit_once('/')
            .map_or("", |(base, _)| base)
            .to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn last_is_param(path: &str) -> bool {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .is_some_and(|s| s.starts_with('{') && s.ends_with('}'))
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The static segment before the last parameter of the base path (`owners` in
/// `/owners/{ownerId}/pets`).
fn parent_of(base: &str) -> Option<&str> {
    let parts: Vec<&str> = segments(base).collect();
    let last_param = parts.iter().rposition(|s| s.starts_with('{'))?;
    parts[..last_param]
        .iter()
        .rev()
        .find(|s| !s.starts_with('{'))
        .copied()
}

/// A plain English singular, good enough for a name prefix (`owners` → `owner`).
fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if word.ends_with("ss") {
        word.to_owned()
    } else {
        word.strip_suffix('s').unwrap_or(word).to_owned()
    }
}

/// Drops what refers to operations no longer in `connector` (a manifest version's `include` or
/// `auth` can remove some after lowering): their entity operations, entities left with neither
/// List nor Get, their paging, and a ping on them.
pub fn prune(connector: &mut Connector) {
    let ids: std::collections::BTreeSet<String> = connector
        .operations
        .iter()
        .map(|op| op.id.clone())
        .collect();
    for entity in &mut connector.entities {
        entity.operations.retain(|_, id| ids.contains(id));
    }
    connector.entities.retain(|e| {
        e.operations.contains_key(&OperationKind::List)
            || e.operations.contains_key(&OperationKind::Get)
    });
    connector.paging.retain(|id, _| ids.contains(id));
    connector.entity_notes.retain(|n| ids.contains(&n.action));
    if connector
        .ping
        .as_ref()
        .is_some_and(|p| !ids.contains(&p.action))
    {
        connector.ping = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_and_singulars() {
        assert_eq!(parent_of("/owners/{ownerId}/pets"), Some("owners"));
        assert_eq!(parent_of("/repos/{owner}/{repo}/issues"), Some("repos"));
        assert_eq!(parent_of("/pets"), None);
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("address"), "address");
        assert_eq!(base_of("/pets/{id}", OperationKind::Get), "/pets");
        assert_eq!(base_of("/pets", OperationKind::List), "/pets");
    }
}
