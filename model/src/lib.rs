//! The data contract of `connector-gen`: what a generated connector says about itself, shared by
//! the generator (which writes it) and `connector-runtime` (which executes it).
//!
//! - [`descriptor`]: operation descriptors, the statics a generated crate holds and the runtime's
//!   executor reads;
//! - [`catalogue`]: the action catalogue, every action and entity with the JSON Schemas of what it
//!   takes and returns;
//! - [`versions`]: a connector's versions and their backend variables.
//!
//! Plain data with no I/O: the runtime re-exports these modules under the same names
//! (`connector_runtime::descriptor`, ...), so generated code and users depend on the runtime only.
//!
//! ```
//! use connector_model::catalogue::Catalogue;
//!
//! let catalogue = Catalogue::from_json(r#"{"name": "petstore", "title": "Petstore",
//!     "version": "1.0.0", "security_schemes": [], "actions": [], "entities": []}"#)?;
//! assert!(catalogue.action("getPet").is_none());
//! # Ok::<(), serde_json::Error>(())
//! ```
#![deny(missing_docs)]

pub mod catalogue;
pub mod descriptor;
pub mod versions;
