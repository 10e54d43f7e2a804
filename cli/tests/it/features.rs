//! Per-tag cargo features and lean derives of a generated crate: each tag is a feature (all on by
//! default, untagged operations in a feature of their own), a type used only by one tag's
//! operations is compiled only with that feature, and a type gets `Serialize` only when it is
//! sent and `Deserialize` only when it is received. Every feature combination compiles without
//! warnings.

use std::path::{Path, PathBuf};

use crate::support as crates;
use crates::{cargo_check, check, repo};
use std::process::Command;

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Tagged, version: 1.0.0}
paths:
  /pets:
    post:
      operationId: createPet
      tags: [Pets]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/NewPet'}
      responses:
        '201':
          description: created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
        '422':
          description: invalid
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Problem'}
        default:
          description: failure
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ApiError'}
  /stores/{id}:
    get:
      operationId: getStore
      tags: [Store Front]
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: a store
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Store'}
        '404':
          description: no such store
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ApiError'}
  /health:
    get:
      operationId: health
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Owner'}
components:
  schemas:
    NewPet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        owner: {$ref: '#/components/schemas/Owner'}
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
        name: {type: string}
        owner: {$ref: '#/components/schemas/Owner'}
        address: {$ref: '#/components/schemas/Address'}
    Address:
      type: object
      properties:
        street: {type: string}
    Problem:
      type: object
      properties:
        errors: {type: array, items: {type: string}}
    ApiError:
      type: object
      properties:
        message: {type: string}
    Unused:
      type: object
      properties:
        pet: {$ref: '#/components/schemas/Pet'}
"#;

fn generate(dir: &Path) -> PathBuf {
    crates::generated(dir, "tagged", SPEC, &[]).0
}

/// The declaration `decl` with its doc comment and attributes.
fn item<'a>(code: &'a str, decl: &str) -> &'a str {
    let at = code
        .find(decl)
        .unwrap_or_else(|| panic!("no `{decl}` in {code}"));
    let start = code[..at].rfind("///").unwrap_or(0);
    &code[start..at + decl.len()]
}

#[test]
fn types_carry_the_features_and_derives_their_operations_need() {
    let dir = tempfile::tempdir().unwrap();
    let out = generate(dir.path());
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(r#"default = ["pets", "store-front", "untagged", ]"#),
        "{manifest}"
    );
    let types = std::fs::read_to_string(out.join("src/types.rs")).unwrap();
    let new_pet = item(&types, "pub struct NewPet");
    assert!(new_pet.contains(r#"#[cfg(feature = "pets")]"#), "{new_pet}");
    assert!(new_pet.contains("::serde::Serialize)]"), "{new_pet}");
    assert!(!new_pet.contains("Deserialize"), "{new_pet}");
    let store = item(&types, "pub struct Store");
    assert!(
        store.contains(r#"#[cfg(feature = "store-front")]"#),
        "{store}"
    );
    assert!(store.contains("::serde::Deserialize)]"), "{store}");
    assert!(!store.contains("Serialize,"), "{store}");
    // Reached only through Store: the same feature and derives, not those of unused schemas.
    let address = item(&types, "pub struct Address");
    assert!(
        address.contains(r#"#[cfg(feature = "store-front")]"#),
        "{address}"
    );
    assert!(address.contains("::serde::Deserialize)]"), "{address}");
    assert!(!address.contains("Serialize,"), "{address}");
    // Pet is reached by `pets` and by a schema no operation uses, which has a feature of its own.
    let pet = item(&types, "pub struct Pet ");
    assert!(
        pet.contains(r#"#[cfg(any(feature = "pets", feature = "unused-schemas"))]"#),
        "{pet}"
    );
    let unused = item(&types, "pub struct Unused");
    assert!(
        unused.contains(r#"#[cfg(feature = "unused-schemas")]"#),
        "{unused}"
    );
    assert!(manifest.contains("\n\"unused-schemas\" = []"), "{manifest}");
    // Owner is sent (in NewPet) and received (Pet, health) and reached by every feature.
    let owner = item(&types, "pub struct Owner");
    assert!(!owner.contains("cfg("), "{owner}");
    assert!(
        owner.contains("::serde::Serialize, ::serde::Deserialize)]"),
        "{owner}"
    );
    let client = std::fs::read_to_string(out.join("src/client.rs")).unwrap();
    let health = item(&client, "pub async fn health");
    assert!(
        health.contains(r#"#[cfg(feature = "untagged")]"#),
        "{health}"
    );
    // Error enums follow their action's feature; the error type both tags' actions declare is
    // one type, gated by both, received only.
    let errors = std::fs::read_to_string(out.join("src/errors.rs")).unwrap();
    let create = item(&errors, "pub enum CreatePetError");
    assert!(create.contains(r#"#[cfg(feature = "pets")]"#), "{create}");
    let get = item(&errors, "pub enum GetStoreError");
    assert!(get.contains(r#"#[cfg(feature = "store-front")]"#), "{get}");
    assert!(
        errors.contains("NotFound(super::types::ApiError)"),
        "{errors}"
    );
    assert!(
        errors.contains("Default(super::types::ApiError)"),
        "{errors}"
    );
    assert_eq!(types.matches("pub struct ApiError").count(), 1);
    let api_error = item(&types, "pub struct ApiError");
    assert!(
        api_error.contains(r#"#[cfg(any(feature = "pets", feature = "store-front"))]"#),
        "{api_error}"
    );
    assert!(!api_error.contains("Serialize,"), "{api_error}");
    let problem = item(&types, "pub struct Problem");
    assert!(problem.contains(r#"#[cfg(feature = "pets")]"#), "{problem}");
}

#[test]
fn every_feature_alone_compiles_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let out = generate(dir.path());
    check(&out, &[]);
    check(&out, &["--no-default-features"]);
    for feature in ["pets", "store-front", "untagged", "unused-schemas"] {
        check(&out, &["--no-default-features", "--features", feature]);
    }
    // Without `pets`, its method and the types only it uses are gone.
    let lib = out.join("src/lib.rs");
    let mut code = std::fs::read_to_string(&lib).unwrap();
    code.push_str(
        "\n/// Uses what the `pets` feature brings.\npub fn probe(c: &Client, b: &types::NewPet) { let _ = c.create_pet(b); }\n",
    );
    std::fs::write(&lib, code).unwrap();
    check(&out, &[]);
    let stderr = check_fails(
        &out,
        &["--no-default-features", "--features", "store-front"],
    );
    assert!(stderr.contains("NewPet"), "{stderr}");
}

fn check_fails(crate_dir: &Path, features: &[&str]) -> String {
    let output = cargo_check(crate_dir, features);
    assert!(!output.status.success(), "{features:?} compiled");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A crate with versions declares the tag features of every version, and each version's code is
/// gated by them as a single spec's is.
#[test]
fn a_crate_with_versions_is_gated_by_the_tags_of_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("acme");
    std::fs::create_dir(&specs).unwrap();
    for file in ["connector.toml", "acme-v1.yaml", "acme-v2.yaml"] {
        std::fs::copy(repo().join("specs/acme").join(file), specs.join(file)).unwrap();
    }
    let out = dir.path().join("crate");
    let output = Command::new(env!("CARGO_BIN_EXE_connector-gen"))
        .arg("generate")
        .arg(specs.join("connector.toml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\n\"orders\" = []"), "{manifest}");
    assert!(manifest.contains("\n\"health\" = []"), "{manifest}");
    let lib = std::fs::read_to_string(out.join("src/lib.rs")).unwrap();
    let cancel = item(&lib, "pub async fn cancel_order");
    assert!(cancel.contains(r#"#[cfg(feature = "orders")]"#), "{cancel}");
    std::fs::copy(repo().join("Cargo.lock"), out.join("Cargo.lock")).unwrap();
    for feature in ["orders", "health"] {
        check(&out, &["--no-default-features", "--features", feature]);
    }
    let mut code = lib;
    code.push_str(
        "\n/// Uses what the `orders` feature brings.\npub fn probe() { let _ = v2::Client::cancel_order; }\n",
    );
    std::fs::write(out.join("src/lib.rs"), code).unwrap();
    check(&out, &[]);
    let stderr = check_fails(&out, &["--no-default-features", "--features", "health"]);
    assert!(stderr.contains("cancel_order"), "{stderr}");
}
