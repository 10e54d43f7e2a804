//! Helpers shared by the end-to-end tests.

pub mod examples;
pub mod prism;
