//! Generates every sample connector through the public build.rs API, so this mode is compiled on
//! every test run and the generated code is checked by the harness's `#![deny(warnings)]`.

fn main() {
    let specs = [
        ("../specs/petstore.yaml", "petstore"),
        ("../specs/awkward.yaml", "awkward"),
        ("../specs/schemas.yaml", "schemas"),
        ("../specs/parameters.yaml", "parameters"),
        ("../specs/bodies.yaml", "bodies"),
        ("../specs/auth.yaml", "auth"),
        ("../specs/responses.yaml", "responses"),
        ("../specs/entities.yaml", "kennel"),
        ("../specs/servers.yaml", "servers"),
        ("../specs/openapi31.yaml", "inventory"),
        ("../specs/swagger2.yaml", "warehouse"),
        ("../specs/webhooks.yaml", "shop_events"),
        // The data-sync samples: a shop and a CRM (specs/sync/ syncs one into the other).
        ("../specs/shop.yaml", "shop"),
        ("../specs/crm.yaml", "crm"),
        // A manifest: one module per version and `VERSIONS`.
        ("../specs/acme/connector.toml", "acme"),
    ];
    for (spec, name) in specs {
        let mut builder = connector_gen::build::Builder::new(spec)
            .name(name)
            .test_dispatch(true);
        if name == "awkward" {
            builder = builder.warnings_expected("the spec is deliberately odd");
        }
        if name == "warehouse" {
            builder = builder.warnings_expected("an implicit oauth2 flow has no token URL");
        }
        if let Err(err) = builder.generate() {
            let mut message = format!("generating {spec}: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                message.push_str(&format!("\nCaused by: {cause}"));
                source = cause.source();
            }
            panic!("{message}");
        }
    }
}
