//! The view of the typed entity API: one handle type per entity, with `list`, `get`, `create`,
//! `update` and `delete` wrapping the runtime's `EntityHandle`.

use serde::Serialize;

use super::view::Spell;
use crate::hashing::{FastMap, FastSet};
use crate::ir::{BodyKind, Connector, Entity, Operation, OperationKind, Success, TypeRef};
use crate::lower::naming::{self, Namespace};

const VALUE: &str = "::connector_runtime::serde_json::Value";

/// One entity as the template prints it.
#[derive(Debug, Serialize)]
pub struct EntityView {
    /// Entity name (the runtime's key).
    pub name: String,
    /// Handle type name.
    pub type_name: String,
    /// Accessor method on `Client`.
    pub accessor: String,
    /// Scope arguments of the accessor.
    pub scope: Vec<ArgView>,
    /// The key argument's type, when the entity has Get, Update or Delete.
    pub key_arg: Option<String>,
    /// `list`: the record type.
    pub list: Option<String>,
    /// `get`: the returned type.
    pub get: Option<String>,
    /// `create`: (body type, returned type).
    pub create: Option<(String, String)>,
    /// `update`: (body type, returned type).
    pub update: Option<(String, String)>,
    /// Whether it has `delete`.
    pub delete: bool,
    /// Action ids, for the docs.
    pub actions: String,
    /// The `cfg` predicate under which every action of the entity, and so every type it uses,
    /// is compiled (per-tag features of a crate of its own).
    pub cfg: Option<String>,
}

/// A scope argument.
#[derive(Debug, Serialize)]
pub struct ArgView {
    /// Wire name.
    pub wire_name: String,
    /// Rust argument name.
    pub name: String,
    /// Rust argument type.
    pub ty: String,
    /// The expression that turns the argument into JSON.
    pub pass: String,
}

/// A plain action that paginates: its `…_stream` method.
#[derive(Debug, Serialize)]
pub struct StreamView {
    /// Method name.
    pub fn_name: String,
    /// Action id.
    pub action: String,
    /// The record type (JSON when the records' type is not known).
    pub record: String,
    /// The `cfg` predicate of the action's features, which compile the record type.
    pub cfg: Option<String>,
}

/// The entity views of `connector`, and the `…_stream` methods of the other paginated actions;
/// names avoid the client's action methods.
pub(crate) fn entity_views(
    connector: &Connector,
    spell: &Spell<'_>,
) -> (Vec<EntityView>, Vec<StreamView>) {
    let mut methods = Namespace::with_reserved(&["new", "connection", "connector"]);
    for op in &connector.operations {
        methods.claim(naming::unraw(&op.rust_name).to_owned());
    }
    let mut types = Namespace::default();
    // Operations by id, and the entities' lists: an API of ten thousand operations has
    // thousands of entities, and searching the operations for each made this quadratic.
    let mut by_id: FastMap<&str, &Operation> = FastMap::default();
    for op in &connector.operations {
        // The first of equal ids, as a search would find.
        by_id.entry(op.id.as_str()).or_insert(op);
    }
    let entities = connector
        .entities
        .iter()
        .map(|e| view(&by_id, e, spell, &mut methods, &mut types))
        .collect();
    let lists: FastSet<&str> = connector
        .entities
        .iter()
        .filter_map(|e| e.operations.get(&OperationKind::List))
        .map(String::as_str)
        .collect();
    let streams = connector
        .operations
        .iter()
        .filter(|op| !lists.contains(op.id.as_str()))
        .filter(|op| {
            connector
                .paging
                .get(&op.id)
                .is_some_and(|p| p.pagination.is_some())
        })
        .map(|op| StreamView {
            fn_name: methods.claim(format!("{}_stream", naming::unraw(&op.rust_name))),
            action: op.id.clone(),
            record: stream_record(connector, op).map_or(VALUE.to_owned(), |ty| spell.ty(&ty)),
            cfg: super::view::feature_cfg(&op.features),
        })
        .collect();
    (entities, streams)
}

fn view(
    by_id: &FastMap<&str, &Operation>,
    e: &Entity,
    spell: &Spell<'_>,
    methods: &mut Namespace,
    types: &mut Namespace,
) -> EntityView {
    let op = |kind| {
        let id = e.operations.get(&kind)?;
        by_id.get(id.as_str()).copied()
    };
    let returns = |op: &Operation| match &op.success {
        Success::Json(ty) => spell.ty(ty),
        _ => VALUE.to_owned(),
    };
    let body = |op: &Operation| match &op.body {
        Some(b) if b.kind == BodyKind::Json => spell.ty(&b.ty),
        _ => VALUE.to_owned(),
    };
    let any_op = OperationKind::ALL.into_iter().find_map(op);
    let param_ty = |wire: &str| {
        any_op
            .and_then(|o| o.params.iter().find(|p| p.wire_name == wire))
            .map(|p| p.ty.clone())
            .unwrap_or(TypeRef::Primitive(crate::ir::Primitive::String))
    };
    let mut arg_names = Namespace::with_reserved(&["self", "options", "id"]);
    let scope = e
        .scope
        .iter()
        .map(|wire| {
            let name = arg_names.claim(naming::snake_name(wire, "scope"));
            let ty = param_ty(wire);
            // Primitives convert into JSON directly; anything else goes through serde, which
            // cannot fail for the plain data a path parameter holds.
            let pass = match ty {
                TypeRef::Primitive(_) => name.clone(),
                _ => {
                    format!("::connector_runtime::serde_json::to_value({name}).unwrap_or_default()")
                }
            };
            ArgView {
                wire_name: wire.clone(),
                ty: spell.arg(&ty),
                name,
                pass,
            }
        })
        .collect();
    let key_arg = e.key_param.as_deref().map(|key| {
        let item = [
            OperationKind::Get,
            OperationKind::Update,
            OperationKind::Delete,
        ]
        .into_iter()
        .find_map(op);
        item.and_then(|o| o.params.iter().find(|p| p.wire_name == key))
            .map_or("&str".to_owned(), |p| spell.arg(&p.ty))
    });
    let record = e
        .record
        .as_ref()
        .map_or(VALUE.to_owned(), |ty: &TypeRef| spell.ty(ty));
    let mut gates: Vec<String> = Vec::new();
    for op in OperationKind::ALL.into_iter().filter_map(op) {
        if let Some(gate) = super::view::feature_cfg(&op.features) {
            if !gates.contains(&gate) {
                gates.push(gate);
            }
        }
    }
    let cfg = match gates.len() {
        0 => None,
        1 => gates.pop(),
        _ => Some(format!("all({})", gates.join(", "))),
    };
    EntityView {
        cfg,
        name: e.name.clone(),
        type_name: types.claim(format!("{}Entity", e.rust_name)),
        accessor: methods.claim(naming::snake_name(&e.name, "entity")),
        scope,
        key_arg,
        list: op(OperationKind::List).map(|_| record.clone()),
        get: op(OperationKind::Get).map(returns),
        create: op(OperationKind::Create).map(|o| (body(o), returns(o))),
        update: op(OperationKind::Update).map(|o| (body(o), returns(o))),
        delete: op(OperationKind::Delete).is_some(),
        actions: e
            .operations
            .iter()
            .map(|(kind, id)| format!("{} `{id}`", kind.as_str()))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The type of the records a paginated action's pages hold.
fn stream_record(connector: &Connector, op: &Operation) -> Option<TypeRef> {
    let Success::Json(ty) = &op.success else {
        return None;
    };
    let paging = connector.paging.get(&op.id)?;
    crate::lower::records_type(connector, ty, &paging.records)
}
