//! End-to-end tests, one binary (modules below): the sample connectors generated through the
//! build.rs API (this crate's library) and the `connector-gen` binary, called against wiremock,
//! Prism and faulty servers.

mod actions;
mod audiences;
mod cli;
mod connections;
mod entities;
mod errors;
mod mcp;
mod mcp_catalogue;
mod mcp_inspector;
mod mcp_paging;
mod mcp_transports;
mod module_graph;
mod petstore;
mod prism;
mod responses;
mod run_cache;
mod run_faults;
mod schemas;
mod servers;
mod support;
mod versions;
mod webhooks;
mod webhooks_listen;
