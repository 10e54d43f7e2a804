//! Lower: the spec becomes the IR, with every name and every type decided here.

mod connector;
mod dedup;
mod entities;
mod errors;
mod events;
mod facts;
mod finish;
pub mod manifest_events;
pub mod naming;
mod objects;
mod operations;
mod paging;
mod ping;
mod recursion;
pub mod select;
mod servers;
mod shapes;
mod types;
mod unions;
mod usage;
mod walk;

pub use entities::prune as prune_entities;
pub(crate) use entities::records_type;
pub(crate) use ping::declared as declared_ping;
pub use select::Include;
pub use types::join_docs;

use std::collections::{BTreeMap, BTreeSet};

use crate::hashing::FastMap;

use crate::diagnostics::Diagnostics;
use crate::ir::{Connector, TypeDef, TypeId};
use crate::resolve::Spec;
use naming::Namespace;

/// Choices the caller makes about the generated connector.
#[derive(Debug, Clone, Default)]
pub struct LowerOptions {
    /// Crate name; derived from `info.title` when absent.
    pub name: Option<String>,
    /// The operations to keep (default: all). With a filter, only the schemas the kept
    /// operations reach are lowered, and no type is kept that they do not use.
    pub include: Include,
    /// Events a manifest declares for the spec's version, with their signature and keys (none
    /// for a spec alone); kept with a filter too, with the types they use.
    pub events: manifest_events::DeclaredEvents,
}

/// Lowers a loaded document into the IR. Problems go to `diags`; constructs that cannot be
/// represented degrade (to `serde_json::Value`, or by skipping an operation) with a warning.
pub fn lower(
    root: &serde_json::Value,
    options: &LowerOptions,
    diags: &mut Diagnostics,
) -> Connector {
    let spec = Spec::new(root);
    let mut lowerer = Lowerer {
        spec,
        diags,
        types: BTreeMap::new(),
        by_pointer: FastMap::default(),
        names: FastMap::default(),
        reserved: FastMap::default(),
        nullable_types: BTreeSet::new(),
        merging: Vec::new(),
        type_names: Namespace::default(),
        pending: Vec::new(),
        shared_parameters: FastMap::default(),
        path_parameters: FastMap::default(),
        shared_responses: FastMap::default(),
        next_id: 0,
    };
    let info = connector::info(&mut lowerer, options);
    let subset = !options.include.is_empty();
    // A subset lowers only the components its operations reach; the others keep their names
    // reserved, so that a type is named alike in a subset and in the whole connector.
    lowerer.register_components(!subset);
    let servers = servers::connector_servers(&mut lowerer);
    let security_schemes = connector::security_schemes(&mut lowerer);
    let mut operations =
        operations::lower_operations(&mut lowerer, &security_schemes, &options.include);
    // Only operations share parsed parameters and responses; the rest of lowering and all of
    // rendering go without them.
    lowerer.shared_parameters = FastMap::default();
    lowerer.path_parameters = FastMap::default();
    lowerer.shared_responses = FastMap::default();
    // A subset holds the types of its operations only; events are no operations.
    let mut webhooks = if subset {
        Vec::new()
    } else {
        events::lower_events(&mut lowerer)
    };
    webhooks.extend(manifest_events::lower(&mut lowerer, &options.events));
    let (mut webhook_signature, mut webhook_keys) = events::declared(&mut lowerer);
    // What the manifest says of its version wins over what the spec says.
    if let Some(signature) = &options.events.signature {
        webhook_signature = Some(signature.clone());
    }
    if let Some(keys) = &options.events.keys {
        webhook_keys = keys.clone();
    }
    lowerer.drain_pending();
    let mut types = std::mem::take(&mut lowerer.types);
    finish::apply_nullable(&mut types, &lowerer.nullable_types);
    recursion::break_cycles(&mut types, lowerer.diags);
    finish::order_untagged(&mut types);
    if subset {
        // Lowering a reached schema can lower others no kept operation uses (the members of an
        // `allOf`, whose fields are copied): a subset has no use for them.
        let used = usage::reachable(&types, &operations, &webhooks);
        types.retain(|id, _| used.contains(id));
    }
    dedup::merge_identical(&mut types, &mut operations, &mut webhooks);
    dedup::collapse_wrappers(&mut types, &mut operations, &mut webhooks);
    let mut features = usage::features(&mut operations);
    let type_uses = usage::type_uses(&types, &operations, &webhooks, &mut features);
    let mut connector = Connector {
        crate_name: info.crate_name,
        module_name: info.module_name,
        title: info.title,
        version: info.version,
        description: info.description,
        summary: info.summary,
        license: info.license,
        servers,
        security_schemes,
        types,
        operations,
        features,
        type_uses,
        entities: Vec::new(),
        paging: BTreeMap::new(),
        entity_notes: Vec::new(),
        ping: None,
        webhooks,
        webhook_signature,
        webhook_keys,
    };
    let found = entities::find(&lowerer.spec, &connector, lowerer.diags);
    connector.entities = found.entities;
    connector.paging = found.paging;
    connector.entity_notes = found.notes;
    connector.ping = ping::ping_of(lowerer.spec.root(), &connector, lowerer.diags);
    connector
}

/// Moves the IR's spec pointers from the normalised document to the user's (see
/// [`SourceMap`](crate::load::SourceMap)).
pub fn relocate(connector: &mut Connector, map: &crate::load::SourceMap) {
    if map.is_empty() {
        return;
    }
    for def in connector.types.values_mut() {
        map.relocate(&mut def.pointer);
    }
    for op in &mut connector.operations {
        map.relocate(&mut op.pointer);
    }
    for webhook in &mut connector.webhooks {
        map.relocate(&mut webhook.pointer);
    }
}

/// State shared by the lowering passes.
pub(crate) struct Lowerer<'a, 'd> {
    pub(crate) spec: Spec<'a>,
    pub(crate) diags: &'d mut Diagnostics,
    pub(crate) types: BTreeMap<TypeId, TypeDef>,
    /// Schemas with a home in the document (a `$ref` target), by pointer.
    by_pointer: FastMap<String, TypeId>,
    /// Names decided for ids, including those whose definition is not built yet.
    names: FastMap<TypeId, String>,
    /// Names claimed for component schemas that get an id only when first referenced, by
    /// pointer.
    reserved: FastMap<String, String>,
    /// Named schemas declared `nullable`, whose references must admit `null`.
    pub(crate) nullable_types: BTreeSet<TypeId>,
    /// Pointers of the `allOf` members whose merge is under way, to stop recursive merges.
    pub(crate) merging: Vec<String>,
    pub(crate) type_names: Namespace,
    /// Referenced schemas whose type has an id and a name but is not lowered yet.
    pending: Vec<(TypeId, String)>,
    /// Parameters reached by `$ref`, by reference, parsed once: an API shares a few dozen
    /// parameters among thousands of operations.
    pub(crate) shared_parameters: FastMap<String, openapiv3::Parameter>,
    /// The parameters of the path item whose operations are being lowered, by pointer, parsed
    /// once for all its operations; kept for one path item only, since Microsoft Graph's
    /// 15,743 of them held for the whole spec cost 50 MB.
    pub(crate) path_parameters: FastMap<String, openapiv3::Parameter>,
    /// Responses reached by `$ref`, by reference, parsed once, with the pointer they end at.
    pub(crate) shared_responses: FastMap<String, (openapiv3::Response, String)>,
    next_id: u32,
}

impl Lowerer<'_, '_> {
    /// Allocates an id and a unique name for a new named type.
    pub(crate) fn new_type_id(&mut self, name_hint: &str) -> (TypeId, String) {
        let name = self.type_names.claim(naming::type_name(name_hint));
        (self.named_id(name.clone()), name)
    }

    /// Allocates an id for a type whose unique name is already claimed.
    fn named_id(&mut self, name: String) -> TypeId {
        let id = TypeId(self.next_id);
        self.next_id += 1;
        self.names.insert(id, name);
        id
    }

    /// The type of the schema at `pointer` (a `$ref` target), registering it on first sight.
    pub(crate) fn named_schema(&mut self, pointer: &str) -> TypeId {
        if let Some(id) = self.by_pointer.get(pointer) {
            return *id;
        }
        let id = match self.reserved.remove(pointer) {
            Some(name) => self.named_id(name),
            None => {
                let hint = pointer.rsplit('/').next().unwrap_or("Schema");
                let hint = hint.replace("~1", "/").replace("~0", "~");
                self.new_type_id(&hint).0
            }
        };
        self.by_pointer.insert(pointer.to_owned(), id);
        self.pending.push((id, pointer.to_owned()));
        id
    }

    /// Registers every `components.schemas` entry first, so spec names win over derived names.
    /// With `lower_all`, every one is lowered; else each only claims its name, and is lowered
    /// when something refers to it.
    fn register_components(&mut self, lower_all: bool) {
        let names: Vec<String> = self
            .spec
            .root()
            .pointer("/components/schemas")
            .and_then(|v| v.as_object())
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for name in names {
            let pointer = crate::diagnostics::pointer("#/components/schemas", &name);
            if lower_all {
                self.named_schema(&pointer);
            } else if !self.reserved.contains_key(&pointer) {
                let name = self.type_names.claim(naming::type_name(&name));
                self.reserved.insert(pointer, name);
            }
        }
    }

    /// Lowers registered schemas until none is left (lowering one may register more).
    pub(crate) fn drain_pending(&mut self) {
        let mut next = 0;
        while next < self.pending.len() {
            let (id, pointer) = self.pending[next].clone();
            next += 1;
            types::lower_named(self, id, &pointer);
        }
    }

    /// The Rust name given to a type id.
    pub(crate) fn type_rust_name(&self, id: TypeId) -> String {
        self.names.get(&id).cloned().unwrap_or_default()
    }
}
