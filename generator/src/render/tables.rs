//! Shared descriptor tables: large APIs repeat the same parameters (`owner`, `repo`, `per_page`)
//! and responses across hundreds of operations, so each distinct parameter and response
//! descriptor is printed once, as a constant, and operations list the constants they use. The
//! generated `operations.rs` shrinks to a fraction of its tokens, and so does its compile time.
//! Servers that operations declare for themselves are shared the same way: every operation of a
//! path with `servers` lists the same ones.

use crate::hashing::FastMap;

use serde::Serialize;

use super::view::{OperationView, ParamView, ResponseView, ServerView};

/// One distinct parameter descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ParamEntry {
    pub wire_name: String,
    pub location: &'static str,
    pub required: bool,
    pub style: &'static str,
    pub explode: bool,
    pub allow_reserved: bool,
    pub json: bool,
}

/// One distinct response descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ResponseEntry {
    pub status: String,
    pub media_type: Option<String>,
}

/// The tables, in order of first use.
#[derive(Debug, Default, Serialize)]
pub struct Tables {
    pub params: Vec<ParamEntry>,
    pub responses: Vec<ResponseEntry>,
    pub servers: Vec<ServerView>,
    /// Indices of the connector's own servers in `servers`.
    pub connector_servers: Vec<usize>,
}

/// Builds the tables and points each operation's `param_refs`, `response_refs` and
/// `server_refs` into them.
pub fn intern(operations: &mut [OperationView], connector_servers: &[ServerView]) -> Tables {
    let mut tables = Tables::default();
    let mut params: FastMap<ParamEntry, usize> = FastMap::default();
    let mut responses: FastMap<ResponseEntry, usize> = FastMap::default();
    let mut servers: FastMap<ServerView, usize> = FastMap::default();
    tables.connector_servers = connector_servers
        .iter()
        .map(|s| index_of(&mut servers, &mut tables.servers, s.clone()))
        .collect();
    for op in operations {
        op.param_refs = op
            .params
            .iter()
            .map(|p| index_of(&mut params, &mut tables.params, param_entry(p)))
            .collect();
        op.response_refs = op
            .responses
            .iter()
            .map(|r| index_of(&mut responses, &mut tables.responses, response_entry(r)))
            .collect();
        op.server_refs = op
            .servers
            .iter()
            .map(|s| index_of(&mut servers, &mut tables.servers, s.clone()))
            .collect();
    }
    tables
}

fn index_of<T: Clone + Eq + std::hash::Hash>(
    seen: &mut FastMap<T, usize>,
    table: &mut Vec<T>,
    entry: T,
) -> usize {
    *seen.entry(entry.clone()).or_insert_with(|| {
        table.push(entry);
        table.len() - 1
    })
}

fn param_entry(p: &ParamView) -> ParamEntry {
    ParamEntry {
        wire_name: p.wire_name.clone(),
        location: p.location,
        required: p.required,
        style: p.style,
        explode: p.explode,
        allow_reserved: p.allow_reserved,
        json: p.json,
    }
}

fn response_entry(r: &ResponseView) -> ResponseEntry {
    ResponseEntry {
        status: r.status.clone(),
        media_type: r.media_type.clone(),
    }
}
