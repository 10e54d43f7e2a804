//! Pure, synchronous request building and bounded reads. Knows operations, arguments and
//! credential parts, never a connection: parameter encoding, bodies, base URLs from servers,
//! the prepared request, and response reading within limits.

pub(crate) mod args;
pub(crate) mod base_url;
pub(crate) mod body;
pub(crate) mod encoding;
pub(crate) mod guard;
pub(crate) mod read;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod server;
