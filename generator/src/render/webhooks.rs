//! The view of the typed events module: one variant per event, holding its payload type.

use serde::Serialize;

use super::view::Spell;
use crate::ir::{Connector, TypeRef};
use crate::lower::naming::{self, Namespace};

/// One event as the template prints it.
#[derive(Debug, Serialize)]
pub struct WebhookView {
    /// The event's name (the receiver's route, `Event::decode`'s key).
    pub name: String,
    /// The enum variant.
    pub variant: String,
    /// The payload's Rust type.
    pub payload: String,
    /// Summary and description.
    pub docs: Option<String>,
}

/// The events of `connector`, variants named uniquely (`Other` is kept for what a newer API
/// sends).
pub fn webhook_views(connector: &Connector, outside: &Spell<'_>) -> Vec<WebhookView> {
    let mut names = Namespace::with_reserved(&["Other"]);
    connector
        .webhooks
        .iter()
        .map(|w| WebhookView {
            name: w.name.clone(),
            variant: names.claim(naming::type_name(&w.name)),
            payload: outside.ty(w.payload.as_ref().map_or(&TypeRef::Json, |p| &p.ty)),
            docs: crate::lower::join_docs(w.summary.as_deref(), w.description.as_deref()),
        })
        .collect()
}
