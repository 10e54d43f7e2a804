//! Connector versions and their backend variables (the types are
//! [`connector_model::versions`]'s, re-exported).
//!
//! A version never changes once published; a connection pins one. Each version declares typed
//! backend variables, whose values a connection supplies and the runtime validates before any
//! request (see [`ConnectionBuilder::variable`](crate::ConnectionBuilder::variable)).

pub use connector_model::versions::*;

/// Whether `pattern` is a regular expression the runtime can check values with; the error
/// says why not.
pub fn pattern_is_valid(pattern: &str) -> Result<(), String> {
    regex::Regex::new(pattern)
        .map(|_| ())
        .map_err(|err| err.to_string())
}
