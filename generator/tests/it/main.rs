//! The generator's integration tests, one binary (modules below): the pipeline on hostile and
//! sample specs, snapshots of generated code and IR, limits, manifests and the scripts.

mod diff_servers;
mod gn;
mod hostile;
mod hostile_formats;
mod idempotent;
mod large;
mod limits;
mod manifest;
mod manifest_webhooks;
mod props;
mod scripts;
mod snapshots;
mod support;
