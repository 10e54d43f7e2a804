//! The command line's integration tests, one binary (modules below): the `connector-gen` binary
//! run as a process, and the crates it generates checked by cargo.

/// The loopback authorization server the runtime's tests use too.
#[path = "../../../runtime/tests/it/support/authz.rs"]
mod authz;
mod cli;
mod crates;
mod dedup;
mod entities;
mod features;
/// The store tests' helpers (a fresh Postgres database per test), shared with connector-flows.
#[path = "../../../flows/tests/it/support.rs"]
#[allow(dead_code)]
mod flows_support;
mod formats;
mod login;
mod mixed_versions;
mod ping;
mod subset;
mod support;
mod sync;
mod webhooks;
