//! The command line's integration tests, one binary (modules below): the `connector-gen` binary
//! run as a process, and the crates it generates checked by cargo.

mod cli;
mod crates;
mod dedup;
mod entities;
mod features;
mod formats;
mod mixed_versions;
mod ping;
mod subset;
mod support;
mod sync;
mod webhooks;
