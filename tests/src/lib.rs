//! Connectors generated from `specs/` through the build.rs API.
//!
//! The harness, not the generated code, denies warnings: a generated connector that warns fails
//! this crate's build (and `cargo clippy --all-targets -- -D warnings` lints it too).
#![deny(warnings)]

/// The petstore sample (`specs/petstore.yaml`).
pub mod petstore {
    include!(concat!(env!("OUT_DIR"), "/petstore.rs"));
}

/// Hostile names, strings and recursive shapes (`specs/awkward.yaml`): proves they compile.
pub mod awkward {
    include!(concat!(env!("OUT_DIR"), "/awkward.rs"));
}

/// One of every supported JSON Schema construct (`specs/schemas.yaml`).
pub mod schemas {
    include!(concat!(env!("OUT_DIR"), "/schemas.rs"));
}

/// Every parameter location, style and explode (`specs/parameters.yaml`).
pub mod parameters {
    include!(concat!(env!("OUT_DIR"), "/parameters.rs"));
}

/// Every kind of request and response body (`specs/bodies.yaml`).
pub mod bodies {
    include!(concat!(env!("OUT_DIR"), "/bodies.rs"));
}

/// Every kind of security scheme and requirement (`specs/auth.yaml`).
pub mod auth {
    include!(concat!(env!("OUT_DIR"), "/auth.rs"));
}

/// Every kind of response: success enums, error bodies, headers (`specs/responses.yaml`).
pub mod responses {
    include!(concat!(env!("OUT_DIR"), "/responses.rs"));
}

/// Entities: nested, partial and renamed resources, one listing per pagination style, a declared
/// ping (`specs/entities.yaml`).
pub mod kennel {
    include!(concat!(env!("OUT_DIR"), "/kennel.rs"));
}

/// Servers at every level: the connector's, a path's, an operation's (absolute and relative)
/// (`specs/servers.yaml`).
pub mod servers {
    include!(concat!(env!("OUT_DIR"), "/servers.rs"));
}

/// Every OpenAPI 3.1 construct: type arrays, const, prefixItems, webhooks, mutual TLS
/// (`specs/openapi31.yaml`).
pub mod inventory {
    include!(concat!(env!("OUT_DIR"), "/inventory.rs"));
}

/// Every Swagger 2.0 construct: body and form parameters, collection formats, the four oauth2
/// flows (`specs/swagger2.yaml`).
pub mod warehouse {
    include!(concat!(env!("OUT_DIR"), "/warehouse.rs"));
}

/// The two-version Acme orders connector (`specs/acme/connector.toml`): `acme::v1` (deprecated)
/// and `acme::v2`, listed with their backend variables in `acme::VERSIONS`.
pub mod acme {
    include!(concat!(env!("OUT_DIR"), "/acme.rs"));
}

/// Events: 3.0 callbacks and `x-webhooks`, typed in a `webhooks` module (`specs/webhooks.yaml`).
pub mod shop_events {
    include!(concat!(env!("OUT_DIR"), "/shop_events.rs"));
}

/// The data-sync source: a shop's orders, scoped by shop, paged by cursor, incremental by
/// `updated_since` (`specs/shop.yaml`).
pub mod shop {
    include!(concat!(env!("OUT_DIR"), "/shop.rs"));
}

/// The data-sync destination: a CRM's deals with create, update and search by external id
/// (`specs/crm.yaml`).
pub mod crm {
    include!(concat!(env!("OUT_DIR"), "/crm.rs"));
}
