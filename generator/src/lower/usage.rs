//! Who uses each type: the cargo feature (one per tag) that gates it, and whether it is sent,
//! received or both, which decides its serde derives. Compile time of a large connector is mostly
//! serde derives, so a type gets only the derives its operations need, and only the features of
//! the operations that reach it compile it.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToKebabCase;

use super::walk::{each_named, each_ref};

use crate::ir::{
    ErrorBody, Feature, Operation, Success, TypeDef, TypeId, TypeKind, TypeRef, TypeUse, Webhook,
    LISTEN_FEATURE, UNTAGGED_FEATURE, UNUSED_FEATURE, WEBHOOKS_FEATURE,
};

/// Feature names cargo or the generated crate already use.
const RESERVED: [&str; 7] = [
    "default",
    "cli",
    "mcp",
    "std",
    UNUSED_FEATURE,
    WEBHOOKS_FEATURE,
    LISTEN_FEATURE,
];

/// One cargo feature per tag (in first-seen order, untagged operations last), with every
/// operation's `features` filled in.
pub(crate) fn features(operations: &mut [Operation]) -> Vec<Feature> {
    let mut features: Vec<Feature> = Vec::new();
    let mut by_tag: BTreeMap<Option<String>, usize> = BTreeMap::new();
    let mut taken: Vec<String> = RESERVED.iter().map(|s| (*s).to_owned()).collect();
    let mut claim = |tag: Option<&str>, features: &mut Vec<Feature>| -> usize {
        if let Some(index) = by_tag.get(&tag.map(str::to_owned)) {
            return *index;
        }
        let base = match tag {
            Some(tag) => feature_name(tag),
            None => UNTAGGED_FEATURE.to_owned(),
        };
        let name = unique_name(&base, &taken);
        taken.push(name.clone());
        by_tag.insert(tag.map(str::to_owned), features.len());
        features.push(Feature {
            name,
            tag: tag.map(str::to_owned),
            default: true,
        });
        features.len() - 1
    };
    // Tags first, so that a tag spelled `untagged` keeps its name.
    for op in operations.iter() {
        for tag in &op.tags {
            claim(Some(tag), &mut features);
        }
    }
    for op in operations.iter_mut() {
        let mut names: Vec<String> = Vec::new();
        if op.tags.is_empty() {
            let index = claim(None, &mut features);
            names.push(features[index].name.clone());
        } else {
            for tag in &op.tags {
                let index = claim(Some(tag), &mut features);
                if !names.contains(&features[index].name) {
                    names.push(features[index].name.clone());
                }
            }
        }
        op.features = names;
    }
    features
}

/// `base`, or `base-2`, `base-3`, ... when it is taken.
fn unique_name<S: AsRef<str>>(base: &str, taken: &[S]) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while taken.iter().any(|t| t.as_ref() == name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

/// A valid cargo feature name for a tag: kebab-case ASCII letters, digits and dashes, starting
/// with a letter or digit.
fn feature_name(tag: &str) -> String {
    let kebab = tag.to_kebab_case();
    let name: String = kebab
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_owned();
    let mut collapsed = String::with_capacity(name.len());
    for c in name.chars() {
        if !(c == '-' && collapsed.ends_with('-')) {
            collapsed.push(c);
        }
    }
    if collapsed.is_empty() {
        "tag".to_owned()
    } else {
        collapsed
    }
}

/// How each type is used. A type no operation reaches (a component schema kept for users) counts
/// as used by every feature and in both directions, so the types it mentions are always there.
pub(crate) fn type_uses(
    types: &BTreeMap<TypeId, TypeDef>,
    operations: &[Operation],
    webhooks: &[Webhook],
    features: &mut Vec<Feature>,
) -> BTreeMap<TypeId, TypeUse> {
    let tags = features.len();
    let index: BTreeMap<&str, usize> = features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    // Schemas no operation uses (GitHub's webhook payloads are hundreds) get a feature of their
    // own, off by default, so that only users who want them pay for them.
    let mut unused = Bits::of([tags]);
    let mut state: BTreeMap<TypeId, Reach> = BTreeMap::new();
    let mut work: Vec<TypeId> = Vec::new();
    for op in operations {
        let gate = Bits::of(
            op.features
                .iter()
                .filter_map(|f| index.get(f.as_str()).copied()),
        );
        let (sent, received) = operation_types(op);
        for id in sent {
            reach(&mut state, &mut work, id, &gate, true, false);
        }
        for id in received {
            reach(&mut state, &mut work, id, &gate, false, true);
        }
    }
    // The events' payloads are received (decoded) by the `webhooks` module, behind a feature
    // of its own, off by default: a connector user who receives no events compiles none of
    // them (GitHub's are hundreds).
    if !webhooks.is_empty() {
        features.push(Feature {
            name: WEBHOOKS_FEATURE.to_owned(),
            tag: None,
            default: false,
        });
        let gate = Bits::of([features.len() - 1]);
        for webhook in webhooks {
            if let Some(payload) = &webhook.payload {
                each_named(&payload.ty, &mut |id| {
                    reach(&mut state, &mut work, id, &gate, false, true)
                });
            }
        }
    }
    // What the operations reach is settled first: a type reached only through another type is
    // not unused.
    spread(types, &mut state, &mut work);
    let unreached: Vec<TypeId> = types
        .keys()
        .filter(|id| !state.contains_key(id))
        .copied()
        .collect();
    if !unreached.is_empty() {
        let taken: Vec<&str> = features.iter().map(|f| f.name.as_str()).collect();
        let name = unique_name(UNUSED_FEATURE, &taken);
        unused = Bits::of([features.len()]);
        features.push(Feature {
            name,
            tag: None,
            default: false,
        });
    }
    for id in unreached {
        reach(&mut state, &mut work, id, &unused, true, true);
    }
    spread(types, &mut state, &mut work);
    types
        .keys()
        .map(|id| {
            let reach = state.remove(id).unwrap_or_default();
            let gate = if (0..tags).all(|i| reach.features.contains(i)) {
                Vec::new()
            } else {
                reach
                    .features
                    .iter()
                    .filter_map(|i| features.get(i).map(|f| f.name.clone()))
                    .collect()
            };
            let kind = types.get(id).map(|d| &d.kind);
            // Options and status enums are built and matched by the client, never (de)serialised.
            let plain = matches!(
                kind,
                Some(TypeKind::Options { .. } | TypeKind::Responses { .. })
            );
            (
                *id,
                TypeUse {
                    features: gate,
                    serialize: reach.sent && !plain,
                    deserialize: reach.received && !plain,
                },
            )
        })
        .collect()
}

/// The types that `operations` and `webhooks` use, directly or through other types.
pub(crate) fn reachable(
    types: &BTreeMap<TypeId, TypeDef>,
    operations: &[Operation],
    webhooks: &[Webhook],
) -> BTreeSet<TypeId> {
    let mut work: Vec<TypeId> = Vec::new();
    for op in operations {
        let (sent, received) = operation_types(op);
        work.extend(sent);
        work.extend(received);
    }
    for webhook in webhooks {
        let payload = webhook.payload.iter().map(|p| &p.ty);
        for ty in payload.chain(webhook.headers.iter().map(|h| &h.ty)) {
            named_in(ty, &mut work);
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(id) = work.pop() {
        if seen.insert(id) {
            if let Some(def) = types.get(&id) {
                mentioned(&def.kind, &mut work);
            }
        }
    }
    seen
}

/// Carries what reaches each queued type to the types it mentions, until nothing changes.
fn spread(
    types: &BTreeMap<TypeId, TypeDef>,
    state: &mut BTreeMap<TypeId, Reach>,
    work: &mut Vec<TypeId>,
) {
    while let Some(id) = work.pop() {
        let Some(current) = state.get(&id).cloned() else {
            continue;
        };
        let mut inner = Vec::new();
        if let Some(def) = types.get(&id) {
            mentioned(&def.kind, &mut inner);
        }
        for next in inner {
            reach(
                state,
                work,
                next,
                &current.features,
                current.sent,
                current.received,
            );
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Reach {
    features: Bits,
    sent: bool,
    received: bool,
}

/// Adds what reaches `id`; queues it again when that added anything.
fn reach(
    state: &mut BTreeMap<TypeId, Reach>,
    work: &mut Vec<TypeId>,
    id: TypeId,
    features: &Bits,
    sent: bool,
    received: bool,
) {
    let entry = state.entry(id).or_default();
    let fresh = entry.features.is_empty() && !entry.sent && !entry.received;
    let flags_grew = (sent && !entry.sent) || (received && !entry.received);
    let features_grew = entry.features.union(features);
    entry.sent |= sent;
    entry.received |= received;
    if fresh || flags_grew || features_grew {
        work.push(id);
    }
}

/// A set of feature indices as bits: every type carries the features that reach it, merged
/// again each time one of the types that mention it grows (a set of numbers in a tree made
/// this a tenth of lowering Microsoft Graph).
#[derive(Debug, Clone, Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn of(items: impl IntoIterator<Item = usize>) -> Self {
        let mut bits = Self::default();
        for item in items {
            let word = item / 64;
            if bits.0.len() <= word {
                bits.0.resize(word + 1, 0);
            }
            bits.0[word] |= 1 << (item % 64);
        }
        bits
    }

    fn contains(&self, item: usize) -> bool {
        self.0
            .get(item / 64)
            .is_some_and(|word| word >> (item % 64) & 1 == 1)
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|word| *word == 0)
    }

    /// Adds `other`'s items; whether any was new.
    fn union(&mut self, other: &Bits) -> bool {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        let mut grew = false;
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            grew |= *theirs & !*mine != 0;
            *mine |= *theirs;
        }
        grew
    }

    /// The items, smallest first.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(index, word)| {
            (0..64)
                .filter(move |bit| word >> bit & 1 == 1)
                .map(move |bit| index * 64 + bit)
        })
    }
}

/// The named types an operation sends (parameters, body) and receives (responses).
fn operation_types(op: &Operation) -> (Vec<TypeId>, Vec<TypeId>) {
    let mut sent = Vec::new();
    let mut received = Vec::new();
    for param in &op.params {
        named_in(&param.ty, &mut sent);
    }
    if let Some(id) = op.options_type {
        sent.push(id);
    }
    if let Some(body) = &op.body {
        named_in(&body.ty, &mut sent);
        if let Some(field) = &body.content_type_field {
            sent.push(field.ty);
        }
    }
    match &op.success {
        Success::Json(ty) => named_in(ty, &mut received),
        Success::ByStatus(id) => received.push(*id),
        Success::Unit | Success::Raw => {}
    }
    for response in &op.responses {
        if let Some(ty) = &response.ty {
            named_in(ty, &mut received);
        }
    }
    for variant in op.errors.iter().flat_map(|e| &e.variants) {
        if let ErrorBody::Json(ty) = &variant.body {
            named_in(ty, &mut received);
        }
    }
    (sent, received)
}

fn mentioned(kind: &TypeKind, out: &mut Vec<TypeId>) {
    each_ref(kind, &mut |ty| named_in(ty, out));
}

fn named_in(ty: &TypeRef, out: &mut Vec<TypeId>) {
    each_named(ty, &mut |id| out.push(id));
}

#[cfg(test)]
mod tests {
    use super::{feature_name, unique_name, Bits, RESERVED};

    proptest::proptest! {
        /// The bits hold what a set of numbers holds, in order, and say when a union grew.
        #[test]
        fn bits_are_a_set(a in proptest::collection::btree_set(0usize..200, 0..12),
                          b in proptest::collection::btree_set(0usize..200, 0..12)) {
            let mut bits = Bits::of(a.iter().copied());
            proptest::prop_assert_eq!(bits.iter().collect::<Vec<_>>(), a.iter().copied().collect::<Vec<_>>());
            proptest::prop_assert_eq!(bits.is_empty(), a.is_empty());
            let grew = bits.union(&Bits::of(b.iter().copied()));
            let both: std::collections::BTreeSet<usize> = a.union(&b).copied().collect();
            proptest::prop_assert_eq!(grew, both.len() > a.len());
            proptest::prop_assert_eq!(bits.iter().collect::<Vec<_>>(), both.iter().copied().collect::<Vec<_>>());
            for n in 0..200 {
                proptest::prop_assert_eq!(bits.contains(n), both.contains(&n));
            }
        }
    }

    #[test]
    fn tags_never_take_the_crate_s_own_feature_names() {
        // A tag `listen` (or `webhooks`, `mcp`, ...) would otherwise switch the program's
        // receiver on, or collide with the feature of the typed events.
        for reserved in ["listen", "webhooks", "mcp", "cli", "default"] {
            assert!(RESERVED.contains(&reserved), "{reserved}");
            assert_eq!(
                unique_name(&feature_name(reserved), &RESERVED),
                format!("{reserved}-2")
            );
        }
    }

    #[test]
    fn feature_names_are_valid_cargo_names() {
        assert_eq!(feature_name("Issues"), "issues");
        assert_eq!(feature_name("code-scanning"), "code-scanning");
        assert_eq!(feature_name("Pet Store (v2)"), "pet-store-v2");
        assert_eq!(feature_name("élan"), "lan");
        assert_eq!(feature_name("!!!"), "tag");
    }
}
