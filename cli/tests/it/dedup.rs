//! Fewer types: structurally identical inline schemas become one type, named after the first
//! copy, with only the docs all copies share; what serde sees (names on the wire, optionality,
//! facts) must be identical for a merge, components are never merged, and inline aliases used
//! once are replaced by what they name. The merged crate compiles without warnings.

use crate::support as crates;

use connector_gen::ir::{Connector, Success, TypeDef, TypeKind, TypeRef};
use connector_gen::{load_connector, Options};

const SPEC: &str = r#"
openapi: 3.0.3
info: {title: Copies, version: 1.0.0}
paths:
  /users/{id}:
    get:
      operationId: getUser
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: a user, inline
          content:
            application/json:
              schema:
                type: object
                description: A user.
                required: [login]
                properties:
                  login: {type: string, description: The handle.}
                  plan: {type: string, enum: [free, pro]}
  /admins/{id}:
    get:
      operationId: getAdmin
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: the same shape again, with other docs
          content:
            application/json:
              schema:
                type: object
                description: An administrator.
                required: [login]
                properties:
                  login: {type: string, description: The handle.}
                  plan: {type: string, enum: [free, pro], description: Their plan.}
  /bots/{id}:
    get:
      operationId: getBot
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: login may be absent here, so serde sees another type
          content:
            application/json:
              schema:
                type: object
                properties:
                  login: {type: string}
                  plan: {type: string, enum: [free, pro]}
  /guests/{id}:
    get:
      operationId: getGuest
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: a length limit makes it another type for the catalogue's checks
          content:
            application/json:
              schema:
                type: object
                required: [login]
                properties:
                  login: {type: string, maxLength: 8}
                  plan: {type: string, enum: [free, pro]}
  /teams:
    get:
      operationId: listTeams
      responses:
        '200':
          description: teams, through a reference to a schema inside a component
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Org/properties/teams'}
components:
  schemas:
    Plan:
      type: string
      enum: [free, pro]
    Tier:
      type: string
      enum: [free, pro]
    Org:
      type: object
      properties:
        plan: {$ref: '#/components/schemas/Plan'}
        tier: {$ref: '#/components/schemas/Tier'}
        teams:
          type: array
          items: {type: string}
"#;

fn lower() -> Connector {
    let options = Options {
        name: Some("copies".to_owned()),
        ..Options::default()
    };
    load_connector(SPEC.as_bytes(), &options).unwrap().connector
}

fn success_type<'c>(connector: &'c Connector, op: &str) -> &'c TypeDef {
    let op = connector.operations.iter().find(|o| o.id == op).unwrap();
    match &op.success {
        Success::Json(TypeRef::Named(id)) => &connector.types[id],
        other => panic!("{}: {other:?}", op.id),
    }
}

fn fields(def: &TypeDef) -> Vec<(&str, Option<&str>)> {
    match &def.kind {
        TypeKind::Struct { fields, .. } => fields
            .iter()
            .map(|f| (f.wire_name.as_str(), f.docs.as_deref()))
            .collect(),
        other => panic!("{}: {other:?}", def.rust_name),
    }
}

#[test]
fn identical_inline_shapes_become_the_first_copy() {
    let connector = lower();
    let user = success_type(&connector, "getUser");
    let admin = success_type(&connector, "getAdmin");
    assert_eq!(user, admin);
    assert_eq!(user.rust_name, "GetUserResponse");
    // Docs all copies share stay; the others go rather than describe the wrong copy.
    assert_eq!(user.docs, None);
    assert_eq!(
        fields(user),
        [("login", Some("The handle.")), ("plan", None)]
    );
    let names: Vec<&str> = connector
        .types
        .values()
        .map(|t| t.rust_name.as_str())
        .collect();
    assert!(!names.contains(&"GetAdminResponse"), "{names:?}");
    // The nested enums merged first, which made the objects alike.
    assert!(
        !names.iter().any(|n| n.starts_with("GetAdminResponsePlan")),
        "{names:?}"
    );
}

#[test]
fn what_serde_or_the_catalogue_tell_apart_stays_apart() {
    let connector = lower();
    let user = success_type(&connector, "getUser");
    let bot = success_type(&connector, "getBot");
    let guest = success_type(&connector, "getGuest");
    assert_ne!(user.rust_name, bot.rust_name);
    assert_ne!(user.rust_name, guest.rust_name);
    // Their `plan` enums are alike all the same, and shared.
    let plan = |def: &TypeDef| match &def.kind {
        TypeKind::Struct { fields, .. } => fields[1].ty.clone(),
        _ => unreachable!(),
    };
    assert_eq!(plan(user), plan(bot));
    assert_eq!(plan(user), plan(guest));
    // Components keep their own names, even alike each other or an inline enum.
    let names: Vec<&str> = connector
        .types
        .values()
        .map(|t| t.rust_name.as_str())
        .collect();
    assert!(
        names.contains(&"Plan") && names.contains(&"Tier"),
        "{names:?}"
    );
}

#[test]
fn an_inline_alias_used_once_is_replaced_by_its_target() {
    let connector = lower();
    let op = connector
        .operations
        .iter()
        .find(|o| o.id == "listTeams")
        .unwrap();
    assert_eq!(
        op.success,
        Success::Json(TypeRef::List(Box::new(TypeRef::Primitive(
            connector_gen::ir::Primitive::String
        ))))
    );
    assert!(
        !connector
            .types
            .values()
            .any(|t| t.pointer.ends_with("/properties/teams")),
        "the alias is still there"
    );
}

#[test]
fn the_merged_crate_compiles_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = crates::generated(dir.path(), "copies", SPEC, &[]);
    crates::check(&out, &[]);
}
