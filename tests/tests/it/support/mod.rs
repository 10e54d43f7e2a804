//! Helpers shared by the end-to-end tests.
// Each test binary uses a different subset of the helpers.
#![allow(dead_code)]

pub mod cli;
pub mod examples;
pub mod mcp;
pub mod prism;
