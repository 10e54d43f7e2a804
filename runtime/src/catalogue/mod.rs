//! The action catalogue: a connector's actions as data, with the JSON Schemas of what each one
//! takes and returns (the types are [`connector_model::catalogue`]'s, re-exported).
//!
//! The generator produces it from the same IR as the connector's code: a generated crate embeds
//! it as one JSON text in [`ConnectorDescriptor::catalogue`], `connector-gen run` builds it from
//! the spec at run time, and both parse it with [`Catalogue::from_json`], so they agree exactly.
//! The runtime adds input validation against its schemas.
//!
//! [`ConnectorDescriptor::catalogue`]: crate::descriptor::ConnectorDescriptor::catalogue

mod validate;

pub use connector_model::catalogue::*;
pub(crate) use validate::Validators;

use crate::error::Error;

/// Parses a catalogue from its JSON text, as the runtime's error.
pub(crate) fn parse(text: &str) -> Result<Catalogue, Error> {
    Catalogue::from_json(text).map_err(|err| Error::InvalidInput {
        message: format!("the action catalogue is not valid: {err}"),
    })
}
