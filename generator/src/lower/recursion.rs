//! Recursive schemas: boxes the fields that would give a type infinite size, and replaces type
//! aliases that refer to themselves (which Rust rejects) with `serde_json::Value`.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::Diagnostics;
use crate::ir::{TypeDef, TypeId, TypeKind, TypeRef};

/// Makes every recursive type in `types` representable in Rust.
pub(crate) fn break_cycles(types: &mut BTreeMap<TypeId, TypeDef>, diags: &mut Diagnostics) {
    break_alias_cycles(types, diags);
    box_recursive_fields(types);
}

/// Named types mentioned anywhere inside `ty`; `direct_only` skips those behind a heap container.
fn mentions(ty: &TypeRef, direct_only: bool, out: &mut Vec<TypeId>) {
    match ty {
        TypeRef::Named(id) => out.push(*id),
        TypeRef::Option(inner) => mentions(inner, direct_only, out),
        TypeRef::List(inner) | TypeRef::Map(inner) | TypeRef::Boxed(inner) => {
            if !direct_only {
                mentions(inner, direct_only, out);
            }
        }
        // A closed tuple holds its items inline; an open one is a list of JSON values in Rust.
        TypeRef::Tuple { items, rest: None } => {
            items
                .iter()
                .for_each(|item| mentions(item, direct_only, out));
        }
        TypeRef::Tuple { .. } | TypeRef::Primitive(_) | TypeRef::Json => {}
    }
}

fn break_alias_cycles(types: &mut BTreeMap<TypeId, TypeDef>, diags: &mut Diagnostics) {
    let aliases: BTreeSet<TypeId> = types
        .iter()
        .filter(|(_, t)| matches!(t.kind, TypeKind::Alias { .. }))
        .map(|(id, _)| *id)
        .collect();
    let edges = |types: &BTreeMap<TypeId, TypeDef>, id: TypeId| -> Vec<TypeId> {
        let mut out = Vec::new();
        if let Some(TypeDef {
            kind: TypeKind::Alias { target },
            ..
        }) = types.get(&id)
        {
            mentions(target, false, &mut out);
        }
        out.retain(|t| aliases.contains(t));
        out
    };
    let graph: BTreeMap<TypeId, Vec<TypeId>> =
        aliases.iter().map(|id| (*id, edges(types, *id))).collect();
    for component in strongly_connected(&graph) {
        let cyclic = component.len() > 1
            || graph
                .get(&component[0])
                .is_some_and(|e| e.contains(&component[0]));
        if !cyclic {
            continue;
        }
        for id in component {
            if let Some(def) = types.get_mut(&id) {
                diags.warn(
                    def.pointer.clone(),
                    format!(
                        "schema `{}` is defined only in terms of itself, which no Rust type can express; generated `serde_json::Value`",
                        def.rust_name
                    ),
                );
                def.kind = TypeKind::Alias {
                    target: TypeRef::Json,
                };
            }
        }
    }
}

fn box_recursive_fields(types: &mut BTreeMap<TypeId, TypeDef>) {
    let graph: BTreeMap<TypeId, Vec<TypeId>> = types
        .iter()
        .map(|(id, def)| {
            let mut out = Vec::new();
            match &def.kind {
                TypeKind::Struct { fields, .. } | TypeKind::Options { fields } => {
                    for field in fields {
                        mentions(&field.ty, true, &mut out);
                    }
                }
                TypeKind::Union { variants, .. } => {
                    for variant in variants {
                        mentions(&variant.ty, true, &mut out);
                    }
                }
                TypeKind::Alias { target } => mentions(target, true, &mut out),
                // Nothing refers to a responses enum, so it is never part of a cycle.
                TypeKind::Enum { .. } | TypeKind::IntEnum { .. } | TypeKind::Responses { .. } => {}
            }
            (*id, out)
        })
        .collect();
    let mut component_of: BTreeMap<TypeId, usize> = BTreeMap::new();
    for (index, component) in strongly_connected(&graph).into_iter().enumerate() {
        for id in component {
            component_of.insert(id, index);
        }
    }
    for (id, def) in types.iter_mut() {
        let slots: Vec<&mut TypeRef> = match &mut def.kind {
            TypeKind::Struct { fields, .. } => fields.iter_mut().map(|f| &mut f.ty).collect(),
            TypeKind::Union { variants, .. } => variants.iter_mut().map(|v| &mut v.ty).collect(),
            _ => continue,
        };
        for slot in slots {
            let mut direct = Vec::new();
            mentions(slot, true, &mut direct);
            if direct
                .iter()
                .any(|t| component_of.get(t) == component_of.get(id))
            {
                *slot = boxed(std::mem::replace(slot, TypeRef::Json));
            }
        }
    }
}

/// Boxes a type, keeping `Option` outside so that serde's handling of absent fields still applies.
fn boxed(ty: TypeRef) -> TypeRef {
    match ty {
        TypeRef::Option(inner) => TypeRef::Option(Box::new(boxed(*inner))),
        other => TypeRef::Boxed(Box::new(other)),
    }
}

/// Tarjan's algorithm, iterative so that long chains of schemas cannot overflow the stack.
/// Components come out in a deterministic order.
fn strongly_connected(graph: &BTreeMap<TypeId, Vec<TypeId>>) -> Vec<Vec<TypeId>> {
    #[derive(Clone, Copy)]
    struct NodeState {
        index: usize,
        low: usize,
        on_stack: bool,
    }
    let mut state: BTreeMap<TypeId, NodeState> = BTreeMap::new();
    let mut stack: Vec<TypeId> = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0;
    let empty = Vec::new();
    for &start in graph.keys() {
        if state.contains_key(&start) {
            continue;
        }
        // Each frame: node and the position of the next edge to visit.
        let mut frames: Vec<(TypeId, usize)> = vec![(start, 0)];
        state.insert(
            start,
            NodeState {
                index: counter,
                low: counter,
                on_stack: true,
            },
        );
        counter += 1;
        stack.push(start);
        while let Some(&mut (node, ref mut next_edge)) = frames.last_mut() {
            let edges = graph.get(&node).unwrap_or(&empty);
            if let Some(&succ) = edges.get(*next_edge) {
                *next_edge += 1;
                if !graph.contains_key(&succ) {
                    continue;
                }
                match state.get(&succ).copied() {
                    None => {
                        state.insert(
                            succ,
                            NodeState {
                                index: counter,
                                low: counter,
                                on_stack: true,
                            },
                        );
                        counter += 1;
                        stack.push(succ);
                        frames.push((succ, 0));
                    }
                    Some(s) if s.on_stack => {
                        if let Some(n) = state.get_mut(&node) {
                            n.low = n.low.min(s.index);
                        }
                    }
                    Some(_) => {}
                }
                continue;
            }
            frames.pop();
            let Some(node_state) = state.get(&node).copied() else {
                continue;
            };
            if let Some(&(parent, _)) = frames.last() {
                if let Some(p) = state.get_mut(&parent) {
                    p.low = p.low.min(node_state.low);
                }
            }
            if node_state.low == node_state.index {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    if let Some(s) = state.get_mut(&member) {
                        s.on_stack = false;
                    }
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                component.sort();
                components.push(component);
            }
        }
    }
    components
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(u32, &[u32])]) -> BTreeMap<TypeId, Vec<TypeId>> {
        edges
            .iter()
            .map(|(from, to)| (TypeId(*from), to.iter().map(|t| TypeId(*t)).collect()))
            .collect()
    }

    #[test]
    fn finds_cycles_and_singletons() {
        let g = graph(&[(0, &[1]), (1, &[0, 2]), (2, &[]), (3, &[3])]);
        let mut components = strongly_connected(&g);
        components.sort();
        assert_eq!(
            components,
            vec![vec![TypeId(0), TypeId(1)], vec![TypeId(2)], vec![TypeId(3)]]
        );
    }

    #[test]
    fn long_chains_do_not_overflow() {
        let edges: Vec<(u32, Vec<u32>)> = (0..200_000).map(|i| (i, vec![i + 1])).collect();
        let g: BTreeMap<TypeId, Vec<TypeId>> = edges
            .into_iter()
            .map(|(f, t)| (TypeId(f), t.into_iter().map(TypeId).collect()))
            .collect();
        assert_eq!(strongly_connected(&g).len(), 200_000);
    }
}
