//! What changed between two versions of an API, and which changes break existing callers:
//! removed actions, removed or retyped fields and parameters, new required parameters or body
//! fields, narrowed enums, changed or removed auth schemes, changed servers.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::ir::{Connector, Operation, Primitive, TypeKind, TypeRef};

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    /// Whether callers of the old version can break.
    pub breaking: bool,
    /// What kind of change (`action-removed`, `field-retyped`, ...).
    pub kind: &'static str,
    /// Where: the action and the parameter or field path, or the scheme or server.
    pub at: String,
    /// The change in words.
    pub message: String,
}

/// Every change from `old` to `new`, breaking ones first, each group sorted.
pub fn diff(old: &Connector, new: &Connector) -> Vec<Change> {
    let mut d = Differ {
        old,
        new,
        changes: Vec::new(),
    };
    d.servers();
    d.auth();
    for op in &old.operations {
        match new.operations.iter().find(|n| n.id == op.id) {
            None => d.push(
                true,
                "action-removed",
                &op.id,
                format!("action `{}` was removed", op.id),
            ),
            Some(next) => d.operation(op, next),
        }
    }
    for op in &new.operations {
        if !old.operations.iter().any(|o| o.id == op.id) {
            d.push(
                false,
                "action-added",
                &op.id,
                format!("action `{}` was added", op.id),
            );
        }
    }
    let mut changes = d.changes;
    changes.sort_by(|a, b| b.breaking.cmp(&a.breaking).then_with(|| a.cmp(b)));
    changes.dedup();
    changes
}

struct Differ<'a> {
    old: &'a Connector,
    new: &'a Connector,
    changes: Vec<Change>,
}

/// Which side of a call a type is on: a request narrows what it accepts, a response what it gives.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Request,
    Response,
}

impl Differ<'_> {
    fn push(&mut self, breaking: bool, kind: &'static str, at: &str, message: String) {
        self.changes.push(Change {
            breaking,
            kind,
            at: at.to_owned(),
            message,
        });
    }

    fn servers(&mut self) {
        let urls = |c: &Connector| c.servers.iter().map(|s| s.url.clone()).collect::<Vec<_>>();
        let (old, new) = (urls(self.old), urls(self.new));
        // The first server is the default every connection without a choice uses.
        if old.first() != new.first() {
            self.push(
                true,
                "server-changed",
                "servers[0]",
                format!(
                    "the default server changed from `{}` to `{}`",
                    old.first().map(String::as_str).unwrap_or("none"),
                    new.first().map(String::as_str).unwrap_or("none")
                ),
            );
        }
        for url in old.iter().skip(1).filter(|u| !new.contains(u)) {
            self.push(
                true,
                "server-changed",
                "servers",
                format!("server `{url}` was removed"),
            );
        }
    }

    /// An action with servers of its own (operation- or path-level) is reached there, not at
    /// the connector's: moving it is a changed server even when the connector's stay.
    fn operation_servers(&mut self, old: &Operation, new: &Operation) {
        if old.servers.is_empty() && new.servers.is_empty() {
            return;
        }
        let first = |op: &Operation, c: &Connector| {
            op.servers
                .first()
                .or(c.servers.first())
                .map_or("none".to_owned(), |s| s.url.clone())
        };
        let (before, after) = (first(old, self.old), first(new, self.new));
        if before != after {
            self.push(
                true,
                "server-changed",
                &format!("{} servers", old.id),
                format!(
                    "action `{}` moved from server `{before}` to `{after}`",
                    old.id
                ),
            );
        }
    }

    fn auth(&mut self) {
        for scheme in &self.old.security_schemes {
            match self
                .new
                .security_schemes
                .iter()
                .find(|s| s.name == scheme.name)
            {
                None => self.push(
                    true,
                    "auth-removed",
                    &scheme.name,
                    format!("auth scheme `{}` was removed", scheme.name),
                ),
                Some(next) if next.kind != scheme.kind => self.push(
                    true,
                    "auth-changed",
                    &scheme.name,
                    format!(
                        "auth scheme `{}` changed how its credential is sent",
                        scheme.name
                    ),
                ),
                Some(_) => {}
            }
        }
        for scheme in &self.new.security_schemes {
            if !self
                .old
                .security_schemes
                .iter()
                .any(|s| s.name == scheme.name)
            {
                self.push(
                    false,
                    "auth-added",
                    &scheme.name,
                    format!("auth scheme `{}` was added", scheme.name),
                );
            }
        }
    }

    fn operation(&mut self, old: &Operation, new: &Operation) {
        let id = &old.id;
        self.operation_servers(old, new);
        if old.path != new.path || old.method != new.method {
            self.push(
                false,
                "action-moved",
                id,
                format!(
                    "action `{id}` moved from {} {} to {} {}",
                    method(old),
                    old.path,
                    method(new),
                    new.path
                ),
            );
        }
        for param in &old.params {
            let at = format!("{id}.{}", param.wire_name);
            match new
                .params
                .iter()
                .find(|p| p.wire_name == param.wire_name && p.location == param.location)
            {
                None => self.push(
                    true,
                    "parameter-removed",
                    &at,
                    format!("parameter `{}` was removed", param.wire_name),
                ),
                Some(next) => {
                    if !param.required && next.required {
                        self.push(
                            true,
                            "parameter-required",
                            &at,
                            format!("parameter `{}` became required", param.wire_name),
                        );
                    }
                    self.types(&param.ty, &next.ty, &at, Side::Request, "parameter", 0);
                }
            }
        }
        for param in &new.params {
            if !old
                .params
                .iter()
                .any(|p| p.wire_name == param.wire_name && p.location == param.location)
            {
                let at = format!("{id}.{}", param.wire_name);
                let (breaking, kind, what) = if param.required {
                    (true, "parameter-required", "a new required")
                } else {
                    (false, "parameter-added", "a new optional")
                };
                self.push(
                    breaking,
                    kind,
                    &at,
                    format!("{what} parameter `{}`", param.wire_name),
                );
            }
        }
        match (&old.body, &new.body) {
            (Some(a), Some(b)) => self.types(
                &a.ty,
                &b.ty,
                &format!("{id}.body"),
                Side::Request,
                "field",
                0,
            ),
            (None, Some(b)) if b.required => self.push(
                true,
                "field-required",
                &format!("{id}.body"),
                "a required request body was added".into(),
            ),
            (Some(_), None) => self.push(
                true,
                "field-removed",
                &format!("{id}.body"),
                "the request body was removed".into(),
            ),
            _ => {}
        }
        if let (crate::ir::Success::Json(a), crate::ir::Success::Json(b)) =
            (&old.success, &new.success)
        {
            self.types(a, b, &format!("{id}.response"), Side::Response, "field", 0);
        }
    }

    /// Compares two type expressions at `at`; objects field by field, enums value by value.
    fn types(
        &mut self,
        old: &TypeRef,
        new: &TypeRef,
        at: &str,
        side: Side,
        what: &'static str,
        depth: usize,
    ) {
        // Recursive types end here; eight levels cover any sensible body.
        if depth > 8 {
            return;
        }
        let (a, b) = (shape(self.old, old), shape(self.new, new));
        if a != b {
            self.push(
                true,
                if what == "parameter" {
                    "parameter-retyped"
                } else {
                    "field-retyped"
                },
                at,
                format!("{what} `{}` changed type from {a} to {b}", leaf(at)),
            );
            return;
        }
        match (kind(self.old, old), kind(self.new, new)) {
            (
                Some(TypeKind::Struct { fields: fa, .. }),
                Some(TypeKind::Struct { fields: fb, .. }),
            ) => {
                for field in fa {
                    let here = format!("{at}.{}", field.wire_name);
                    match fb.iter().find(|f| f.wire_name == field.wire_name) {
                        None => self.push(
                            true,
                            "field-removed",
                            &here,
                            format!("field `{}` was removed", field.wire_name),
                        ),
                        Some(next) => {
                            if side == Side::Request && field.optional && !next.optional {
                                self.push(
                                    true,
                                    "field-required",
                                    &here,
                                    format!("field `{}` became required", field.wire_name),
                                );
                            }
                            self.types(&field.ty, &next.ty, &here, side, "field", depth + 1);
                        }
                    }
                }
                for field in fb {
                    if !fa.iter().any(|f| f.wire_name == field.wire_name) {
                        let here = format!("{at}.{}", field.wire_name);
                        let required = side == Side::Request && !field.optional;
                        self.push(
                            required,
                            if required {
                                "field-required"
                            } else {
                                "field-added"
                            },
                            &here,
                            format!(
                                "a new {} field `{}`",
                                if required { "required" } else { "optional" },
                                field.wire_name
                            ),
                        );
                    }
                }
            }
            (Some(TypeKind::Enum { variants: va }), Some(TypeKind::Enum { variants: vb })) => {
                let a: BTreeSet<&str> = va.iter().map(|v| v.wire_value.as_str()).collect();
                let b: BTreeSet<&str> = vb.iter().map(|v| v.wire_value.as_str()).collect();
                let lost: Vec<&str> = a.difference(&b).copied().collect();
                let gained: Vec<&str> = b.difference(&a).copied().collect();
                if !lost.is_empty() {
                    self.push(
                        true,
                        "enum-narrowed",
                        at,
                        format!("`{}` no longer allows {}", leaf(at), quoted(&lost)),
                    );
                }
                if !gained.is_empty() {
                    self.push(
                        false,
                        "enum-widened",
                        at,
                        format!("`{}` now also allows {}", leaf(at), quoted(&gained)),
                    );
                }
            }
            _ => {
                if let (Some(ea), Some(eb)) = (element(old), element(new)) {
                    self.types(ea, eb, &format!("{at}[]"), side, what, depth + 1);
                }
            }
        }
    }
}

fn method(op: &Operation) -> String {
    format!("{:?}", op.method).to_ascii_uppercase()
}

fn leaf(at: &str) -> &str {
    at.rsplit('.').next().unwrap_or(at)
}

fn quoted(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The element type of a list, looking through options, boxes and aliases.
fn element(ty: &TypeRef) -> Option<&TypeRef> {
    match ty {
        TypeRef::List(inner) => Some(inner),
        TypeRef::Option(inner) | TypeRef::Boxed(inner) => element(inner),
        _ => None,
    }
}

/// The named type's shape, looking through options, boxes and aliases.
fn kind<'c>(connector: &'c Connector, ty: &TypeRef) -> Option<&'c TypeKind> {
    match ty {
        TypeRef::Option(inner) | TypeRef::Boxed(inner) => kind(connector, inner),
        TypeRef::Named(id) => match &connector.types.get(id)?.kind {
            TypeKind::Alias { target } => kind(connector, target),
            other => Some(other),
        },
        _ => None,
    }
}

/// A type in words, the same for the same JSON shape whatever the Rust names.
fn shape(connector: &Connector, ty: &TypeRef) -> String {
    shape_at(connector, ty, 0)
}

fn shape_at(connector: &Connector, ty: &TypeRef, depth: usize) -> String {
    if depth > 16 {
        return "recursive".into();
    }
    match ty {
        TypeRef::Primitive(p) => match p {
            Primitive::String => "string",
            Primitive::Bool => "boolean",
            Primitive::I32 | Primitive::I64 | Primitive::U32 | Primitive::U64 => "integer",
            Primitive::F32 | Primitive::F64 => "number",
        }
        .into(),
        TypeRef::List(inner) => format!("array of {}", shape_at(connector, inner, depth + 1)),
        TypeRef::Tuple { items, rest } => {
            let items: Vec<String> = items
                .iter()
                .map(|item| shape_at(connector, item, depth + 1))
                .collect();
            let more = if rest.is_some() { ", ..." } else { "" };
            format!("tuple of ({}{more})", items.join(", "))
        }
        TypeRef::Map(inner) => format!("map of {}", shape_at(connector, inner, depth + 1)),
        TypeRef::Option(inner) | TypeRef::Boxed(inner) => shape_at(connector, inner, depth + 1),
        TypeRef::Json => "any JSON".into(),
        TypeRef::Named(id) => match connector.types.get(id).map(|t| &t.kind) {
            Some(TypeKind::Alias { target }) => shape_at(connector, target, depth + 1),
            Some(TypeKind::Struct { .. } | TypeKind::Options { .. }) => "object".into(),
            Some(TypeKind::Enum { .. }) => "string enum".into(),
            Some(TypeKind::IntEnum { .. }) => "integer enum".into(),
            Some(TypeKind::Union { .. }) => "union".into(),
            Some(TypeKind::Responses { .. }) => "responses".into(),
            None => "unknown".into(),
        },
    }
}

/// Human output: one line per change, then a summary.
pub fn human(changes: &[Change]) -> String {
    let mut out = String::new();
    for change in changes {
        out.push_str(if change.breaking {
            "BREAKING  "
        } else {
            "          "
        });
        out.push_str(&change.message);
        out.push_str(&format!(" (at {})\n", change.at));
    }
    let breaking = changes.iter().filter(|c| c.breaking).count();
    out.push_str(&format!(
        "{} change(s), {breaking} breaking\n",
        changes.len()
    ));
    out
}
