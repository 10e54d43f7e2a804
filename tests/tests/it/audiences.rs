//! Each audience compiles only what it uses (docs/architecture.md): this test reads the crates'
//! dependency trees with `cargo tree` (offline, from the lock file) and fails when a crate gains a
//! dependency its users must not pay for.

use std::collections::BTreeSet;
use std::process::Command;

/// The names of the crates in the normal (not build, not dev) dependency tree of `package` with
/// `features` (`None`: its default features), the package itself included.
fn tree(package: &str, features: Option<&str>) -> BTreeSet<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "-p", package])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    if let Some(features) = features {
        command.args(["--no-default-features", "--features", features]);
    }
    let output = command.output().expect("running cargo tree");
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Fails when `crates` holds any of `forbidden`, naming the audience that would pay for it.
fn refuse(audience: &str, crates: &BTreeSet<String>, forbidden: &[&str]) {
    let found: Vec<&&str> = forbidden.iter().filter(|c| crates.contains(**c)).collect();
    assert!(
        found.is_empty(),
        "{audience} would compile {found:?}; its whole tree: {crates:?}"
    );
}

/// What talks to a network, serves, stores or parses command lines: none of it belongs in a
/// build script's generator.
const IO: &[&str] = &[
    "connector-runtime",
    "reqwest",
    "hyper",
    "h2",
    "tokio",
    "rustls",
    "clap",
    "jsonschema",
    "regex",
    "axum",
    "rmcp",
    "sqlx",
    "rusqlite",
    "tokio-postgres",
    "redis",
];

/// Servers, database drivers, an MCP SDK and a jq engine: what platforms use, behind features or
/// in a crate of their own, never in a connector user's default build.
const SERVERS_AND_STORES: &[&str] = &[
    "axum",
    "rmcp",
    "sqlx",
    "rusqlite",
    "libsqlite3-sys",
    "tokio-postgres",
    "postgres",
    "jaq-core",
    "jaq-std",
    "connector-flows",
    "deadpool-postgres",
    "redis",
    "clap",
    "connector-gen",
];

#[test]
fn the_build_rs_library_compiles_no_network_server_or_command_line() {
    let crates = tree("connector-gen", None);
    refuse("a build.rs user of connector-gen", &crates, IO);
    assert!(
        crates.len() <= 40,
        "connector-gen's normal dependency tree has {} crates (at most 40): {crates:?}",
        crates.len()
    );
}

#[test]
fn the_model_is_plain_data() {
    let crates = tree("connector-model", None);
    refuse("connector-model", &crates, IO);
    let allowed: BTreeSet<&str> = [
        "connector-model",
        "serde",
        "serde_core",
        "serde_derive",
        "serde_json",
        "proc-macro2",
        "quote",
        "syn",
        "unicode-ident",
        "itoa",
        "ryu",
        "zmij",
        "memchr",
        "indexmap",
        "hashbrown",
        "equivalent",
        "foldhash",
    ]
    .into();
    let extra: Vec<&String> = crates
        .iter()
        .filter(|c| !allowed.contains(c.as_str()))
        .collect();
    assert!(extra.is_empty(), "connector-model gained {extra:?}");
}

#[test]
fn a_connector_user_compiles_no_server_store_or_command_line() {
    let crates = tree("connector-runtime", None);
    refuse(
        "a connector user (the runtime's default features)",
        &crates,
        SERVERS_AND_STORES,
    );
    // The command line is a feature of its own, still without servers or stores.
    let cli = tree("connector-runtime", Some("cli"));
    assert!(cli.contains("clap"), "the `cli` feature brings clap");
    refuse(
        "the runtime's `cli` feature",
        &cli,
        &SERVERS_AND_STORES[..SERVERS_AND_STORES.len() - 2],
    );
}

#[test]
fn the_mcp_server_is_a_feature_of_its_own() {
    // The runtime's `mcp` feature brings the MCP SDK and an HTTP server, still no store.
    let mcp = tree("connector-runtime", Some("mcp"));
    for part in ["rmcp", "hyper-util", "clap"] {
        assert!(mcp.contains(part), "the `mcp` feature brings {part}");
    }
    refuse(
        "the runtime's `mcp` feature",
        &mcp,
        &["axum", "sqlx", "rusqlite", "redis", "connector-gen"],
    );
    // Without it, the command line compiles no MCP SDK.
    let cli = tree("connector-runtime", Some("cli"));
    assert!(!cli.contains("rmcp"), "{cli:?}");
}

#[test]
fn webhooks_cost_a_connector_user_nothing_and_a_verifier_no_server() {
    // Verification is a feature of its own: the default build has no HMAC either (subtle is
    // there already, through rustls).
    let default = tree("connector-runtime", None);
    refuse(
        "a connector user (the runtime's default features)",
        &default,
        &["hmac", "sha1", "sha2"],
    );
    let verify = tree("connector-runtime", Some("toml,webhooks"));
    for part in ["hmac", "sha2", "sha1", "subtle"] {
        assert!(
            verify.contains(part),
            "the `webhooks` feature brings {part}"
        );
    }
    refuse(
        "the runtime's `webhooks` feature (a verifier, no server)",
        &verify,
        &SERVERS_AND_STORES[..SERVERS_AND_STORES.len() - 2],
    );
    // The receiver, its server and its stores are in connector-flows, which sees what the
    // runtime refuses, and which the build.rs generator never compiles.
    let flows = tree("connector-flows", None);
    for part in [
        "axum",
        "rusqlite",
        "libsqlite3-sys",
        "tokio-postgres",
        "connector-runtime",
    ] {
        assert!(
            flows.contains(part),
            "connector-flows is built on {part}: {flows:?}"
        );
    }
    assert!(!flows.contains("connector-gen") && !flows.contains("clap"));
    assert!(!tree("connector-gen", None).contains("connector-flows"));
}

/// The normal dependency tree of a crate generated from `specs/webhooks.yaml` (a connector with
/// events) with `features`, as `cargo tree` resolves it from the workspace's lock file.
fn generated_tree(dir: &std::path::Path, features: &str) -> BTreeSet<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}", "--features", features, "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .output()
        .expect("running cargo tree");
    assert!(
        output.status.success(),
        "cargo tree --features {features}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_generated_crate_compiles_the_receiver_only_with_listen() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("shop-events");
    connector_gen::generate_crate(
        &std::path::Path::new(root).join("specs/webhooks.yaml"),
        &out,
        &connector_gen::Options::default(),
    )
    .expect("generating the crate");
    std::fs::copy(format!("{root}/Cargo.lock"), out.join("Cargo.lock")).expect("Cargo.lock");
    // Typed events, the program, MCP: no HTTP server of connector-flows, no database driver.
    let lean = generated_tree(&out, "webhooks,cli,mcp");
    assert!(lean.contains("connector-runtime") && lean.contains("clap"));
    refuse(
        "a generated crate without `listen`",
        &lean,
        &[
            "connector-flows",
            "axum",
            "rusqlite",
            "libsqlite3-sys",
            "tokio-postgres",
            "jaq-core",
        ],
    );
    // `listen` brings them: the check above sees what it refuses.
    let listen = generated_tree(&out, "listen");
    for part in ["connector-flows", "axum", "rusqlite", "clap"] {
        assert!(listen.contains(part), "`listen` brings {part}: {listen:?}");
    }
}

#[test]
fn dependencies_between_the_crates_run_one_way() {
    // runtime <- generator would make every connector compile the generator; the generator
    // depends on the model only.
    assert!(!tree("connector-runtime", Some("cli")).contains("connector-gen"));
    // The receiver plugs into the runtime's program (runner::Extension); the runtime, with every
    // feature, never depends on it.
    let runtime = tree(
        "connector-runtime",
        Some("toml,yaml,cli,mcp,webhooks,redis"),
    );
    assert!(runtime.contains("clap") && runtime.contains("rmcp"));
    assert!(!runtime.contains("connector-flows"), "{runtime:?}");
    assert!(tree("connector-flows", Some("cli")).contains("connector-runtime"));
    let generator = tree("connector-gen", None);
    assert!(generator.contains("connector-model"));
    assert!(!generator.contains("connector-gen-cli"));
    let cli = tree("connector-gen-cli", None);
    for part in ["connector-gen", "connector-runtime", "connector-model"] {
        assert!(cli.contains(part), "the command line is built on {part}");
    }
}

#[test]
fn the_checks_see_what_they_refuse() {
    // A check that cannot fail proves nothing: the command line's tree holds what the build.rs
    // library must not.
    let cli = tree("connector-gen-cli", None);
    for heavy in ["clap", "reqwest", "tokio", "jsonschema"] {
        assert!(cli.contains(heavy), "{heavy} in {cli:?}");
    }
}
