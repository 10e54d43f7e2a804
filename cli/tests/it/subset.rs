//! Operation subsetting at generation time: `--include-tag`, `--include-path` and
//! `--include-operation` (and the build.rs `Builder`'s `include_*`) keep the union of their
//! matches; only the schemas the kept operations reach are lowered and emitted; names do not
//! change; a value that keeps nothing is an error naming its flag; the subset crate compiles.

use std::path::Path;

use crate::support as crates;

use connector_gen::ir::Connector;
use connector_gen::{load_connector, Error, Include, Options};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Shop, version: 1.0.0}
paths:
  /pets:
    get:
      operationId: listPets
      tags: [pets]
      responses:
        '200':
          description: pets
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Pet'}}
  /pets/{id}:
    delete:
      operationId: deletePet
      tags: [pets]
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '204': {description: gone}
  /stores:
    get:
      operationId: listStores
      tags: [stores]
      responses:
        '200':
          description: stores
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Store'}}
  /stores/{id}:
    get:
      operationId: getStore
      tags: [stores]
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: a store, inline
          content:
            application/json:
              schema:
                type: object
                properties:
                  name: {type: string}
  /storefronts:
    get:
      operationId: listStorefronts
      responses:
        '200':
          description: a broken schema that only this operation uses
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Broken'}
components:
  schemas:
    Pet:
      type: object
      required: [id]
      properties:
        id: {type: integer}
        owner: {$ref: '#/components/schemas/Owner'}
    Owner:
      type: object
      properties:
        name: {type: string}
    Store:
      type: object
      properties:
        manager: {$ref: '#/components/schemas/Owner'}
    GetStoreResponse:
      description: Takes the name the inline response of getStore would get.
      type: object
      properties:
        id: {type: string}
    Broken:
      type: object
      properties:
        bad: {$ref: '#/components/schemas/Missing'}
"#;

fn lower(include: Include) -> Result<Connector, Error> {
    let options = Options {
        name: Some("shop".to_owned()),
        include,
        ..Options::default()
    };
    load_connector(SPEC.as_bytes(), &options).map(|lowered| lowered.connector)
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}

fn op_ids(connector: &Connector) -> Vec<&str> {
    connector
        .operations
        .iter()
        .map(|op| op.id.as_str())
        .collect()
}

fn type_names(connector: &Connector) -> Vec<&str> {
    let mut names: Vec<&str> = connector
        .types
        .values()
        .map(|t| t.rust_name.as_str())
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn the_union_of_tags_paths_and_ids_is_kept_with_only_the_types_it_uses() {
    let connector = lower(Include {
        tags: strings(&["pets"]),
        paths: strings(&["/stores/"]),
        operations: strings(&["listPets"]),
    })
    .unwrap();
    assert_eq!(op_ids(&connector), ["listPets", "deletePet", "getStore"]);
    // Store and Broken belong to operations left out; `GetStoreResponse` is the component's
    // name, which the inline response of getStore yields to, in the subset as in the whole.
    assert_eq!(
        type_names(&connector),
        ["GetStoreResponse2", "Owner", "Pet"]
    );
    let feature_names: Vec<&str> = connector.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(feature_names, ["pets", "stores"]);

    let whole = lower(Include::default()).unwrap();
    let whole_names = type_names(&whole);
    for name in type_names(&connector) {
        assert!(whole_names.contains(&name), "{name} not in {whole_names:?}");
    }
    assert!(whole_names.contains(&"Store") && whole_names.contains(&"Broken"));
}

#[test]
fn schemas_of_left_out_operations_are_never_lowered() {
    let whole = load_connector(SPEC.as_bytes(), &Options::default()).unwrap();
    assert!(
        whole.warnings.iter().any(|w| w.pointer.contains("Broken")),
        "{:?}",
        whole.warnings
    );
    let options = Options {
        include: Include {
            tags: strings(&["stores"]),
            ..Include::default()
        },
        ..Options::default()
    };
    let subset = load_connector(SPEC.as_bytes(), &options).unwrap();
    assert!(subset.warnings.is_empty(), "{:?}", subset.warnings);
    // The untagged operation is kept by its path alone, and brings its broken schema with it.
    let options = Options {
        include: Include {
            paths: strings(&["/storefronts"]),
            ..Include::default()
        },
        ..Options::default()
    };
    let storefronts = load_connector(SPEC.as_bytes(), &options).unwrap();
    assert_eq!(op_ids(&storefronts.connector), ["listStorefronts"]);
    assert!(storefronts
        .warnings
        .iter()
        .any(|w| w.pointer.contains("Broken")));
}

#[test]
fn a_value_that_keeps_nothing_is_an_error_naming_its_flag() {
    let cases = [
        (
            Include {
                tags: strings(&["pets", "pest"]),
                ..Include::default()
            },
            "include-tag",
            "`--include-tag pest` matches no operation of the spec; the spec's tags are: pets, stores",
        ),
        (
            Include {
                paths: strings(&["/pet"]),
                ..Include::default()
            },
            "include-path",
            "`--include-path /pet` matches no operation",
        ),
        (
            Include {
                operations: strings(&["listPets", "getPet"]),
                ..Include::default()
            },
            "include-operation",
            "`--include-operation getPet` matches no operation",
        ),
    ];
    for (include, flag, expected) in cases {
        match lower(include) {
            Err(Error::InvalidOption { option, message }) => {
                assert_eq!(option, flag);
                assert!(message.contains(expected), "{message}");
            }
            other => panic!("{flag}: expected an invalid option, got {other:?}"),
        }
    }
}

#[test]
fn the_builder_takes_the_same_filter() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("shop.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    let path = connector_gen::build::Builder::new(&spec)
        .name("shop")
        .include_tag("stores")
        .include_operation("deletePet")
        .out_dir(dir.path())
        .generate()
        .unwrap();
    let code = std::fs::read_to_string(path).unwrap();
    assert!(
        code.contains("pub async fn delete_pet"),
        "delete_pet missing"
    );
    assert!(code.contains("pub async fn get_store"), "get_store missing");
    assert!(!code.contains("pub async fn list_pets"), "list_pets kept");
    assert!(!code.contains("pub struct Pet "), "Pet kept");
    let err = connector_gen::build::Builder::new(&spec)
        .include_path("/nowhere")
        .out_dir(dir.path())
        .generate()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid option `include-path`: `--include-path /nowhere`"),
        "{err}"
    );
}

fn generate(dir: &Path, flags: &[&str]) -> std::process::Output {
    crates::generate(dir, "shop", SPEC, flags).1
}

#[test]
fn the_command_line_names_the_flag_that_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = generate(
        dir.path(),
        &["--include-tag", "pets", "--include-operation", "nope"],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "invalid option `include-operation`: `--include-operation nope` matches no operation"
        ),
        "{stderr}"
    );
    assert!(!dir.path().join("shop").exists(), "output written");
}

#[test]
fn a_subset_crate_compiles_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--include-tag", "stores", "--include-path", "/pets/"];
    let (out, stdout) = crates::generated(dir.path(), "shop", SPEC, &flags);
    assert!(stdout.contains(": 3 actions, 3 types;"), "{stdout}");
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("unused-schemas"), "{manifest}");
    crates::check(&out, &[]);
}

#[test]
fn a_manifest_keeps_its_own_include_tables() {
    let manifest = crates::repo().join("specs/acme/connector.toml");
    let options = Options {
        include: Include {
            tags: strings(&["orders"]),
            ..Include::default()
        },
        ..Options::default()
    };
    match connector_gen::versions::load_manifest(&manifest, &options) {
        Err(Error::InvalidOption { option, message }) => {
            assert_eq!(option, "include");
            assert!(message.contains("`include` tables"), "{message}");
        }
        other => panic!("expected an invalid option, got {other:?}"),
    }
}
