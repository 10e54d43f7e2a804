//! The runtime's integration tests, one binary (modules below), against loopback servers
//! (wiremock, raw TCP servers, a fault proxy). The shared-state tests need Redis and the `redis`
//! feature, and are their own binary (`tests/shared_state.rs`).

mod auth;
mod catalogue;
mod config_files;
mod config_reliability;
mod connection;
mod connectivity;
mod footprint;
mod hostile_server;
mod limits;
mod load;
mod network;
mod oauth;
mod properties;
mod request;
mod response;
mod retries;
mod rotation;
mod secrets;
mod soak;
mod spans;
mod support;
mod versions;
