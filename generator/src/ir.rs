//! The intermediate representation: plain data describing a connector, with every name decided.
//!
//! Lowering builds it from the spec; rendering only prints it. Types live in a map keyed by a
//! small id, so recursive schemas are just ids, and `BTreeMap`s keep output byte-identical.

mod webhook;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub use webhook::{Webhook, WebhookHeader, WebhookPayload};

/// One connector version generated from one spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connector {
    /// Crate name (kebab-case).
    pub crate_name: String,
    /// Library / module name (snake_case).
    pub module_name: String,
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: Option<String>,
    /// `info.summary` (OpenAPI 3.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `info.license`: its name, SPDX identifier (3.1) or URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    /// Servers, in spec order.
    pub servers: Vec<Server>,
    /// Security schemes, in spec order.
    pub security_schemes: Vec<SecurityScheme>,
    /// Every named type, by id.
    pub types: BTreeMap<TypeId, TypeDef>,
    /// Operations, in spec order (paths, then methods in a fixed order).
    pub operations: Vec<Operation>,
    /// Cargo features of a generated crate: one per tag, plus one for untagged operations.
    pub features: Vec<Feature>,
    /// How each type is used: the features that need it and the serde derives it needs.
    pub type_uses: BTreeMap<TypeId, TypeUse>,
    /// Entities found in the paths, by name.
    pub entities: Vec<Entity>,
    /// How the listing actions hold records and page, by action id.
    pub paging: BTreeMap<String, Paging>,
    /// The action that pings a connection.
    pub ping: Option<connector_model::catalogue::PingSpec>,
    /// Why each operation was or was not taken by an entity (`inspect --explain`).
    #[serde(skip)]
    pub entity_notes: Vec<EntityNote>,
    /// Events the API sends to its subscribers (3.1 `webhooks`, 3.0 `x-webhooks` and
    /// `callbacks`, a manifest's `webhooks` table); they are no actions. A subset
    /// (`--include-*`) has none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<Webhook>,
    /// How the events' requests are signed (`x-connector-webhook-signature`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_signature: Option<connector_model::catalogue::WebhookSignature>,
    /// How an event's type and id are found (`x-connector-webhook-event`).
    #[serde(skip_serializing_if = "connector_model::catalogue::EventKeys::is_empty")]
    pub webhook_keys: connector_model::catalogue::EventKeys,
}

/// The license of the API (not of the generated code, which `--license` sets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct License {
    /// `name`.
    pub name: String,
    /// `identifier`: an SPDX expression (OpenAPI 3.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    /// `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The feature of a generated crate that holds the operations without a tag.
pub const UNTAGGED_FEATURE: &str = "untagged";

/// The feature of a generated crate that holds the typed events (`webhooks` module) and their
/// payload types (off by default).
pub const WEBHOOKS_FEATURE: &str = "webhooks";

/// The feature of a generated crate whose program receives its events (`listen`) and prints or
/// delivers them (`events`), with connector-flows; reserved, so that no tag takes its name.
pub const LISTEN_FEATURE: &str = "listen";

/// The feature of a generated crate that holds the schemas no operation uses (off by default).
pub const UNUSED_FEATURE: &str = "unused-schemas";

/// A cargo feature of a generated crate: the operations of one tag and the types only they use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feature {
    /// Cargo feature name (kebab-case, unique).
    pub name: String,
    /// The tag it stands for; `None` for the operations without a tag (and for the schemas
    /// no operation uses).
    pub tag: Option<String>,
    /// Whether the `default` feature enables it (every tag's does).
    pub default: bool,
}

/// Who uses a named type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TypeUse {
    /// Features that need the type; empty when every tag's feature does, so that the type is
    /// always compiled.
    pub features: Vec<String>,
    /// Whether some operation sends it (derives `Serialize`).
    pub serialize: bool,
    /// Whether some operation receives it (derives `Deserialize`).
    pub deserialize: bool,
}

pub use connector_model::catalogue::{EntityField, OperationKind, PageStyle, Pagination, Paging};

/// A resource found in the paths, with the actions that list, get, create, update and delete it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    /// Unique snake_case name (`pets`, `owner_pets`).
    pub name: String,
    /// Rust type-style name (`Pets`, `OwnerPets`).
    pub rust_name: String,
    /// The record's key field, when known.
    pub key: Option<String>,
    /// The item path's last parameter (`petId`).
    pub key_param: Option<String>,
    /// The record type.
    pub record: Option<TypeRef>,
    /// The record's top-level fields, with their flags.
    pub fields: Vec<EntityField>,
    /// Parameters of the parent resources (`ownerId`), in path order.
    pub scope: Vec<String>,
    /// Action id by operation kind.
    pub operations: BTreeMap<OperationKind, String>,
}

/// Whether one operation was taken by an entity, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityNote {
    /// The action id.
    pub action: String,
    /// The entity and the kind it serves as, when taken.
    pub taken: Option<(String, OperationKind)>,
    /// Why, in words.
    pub reason: String,
}

/// Identifies a named type in [`Connector::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TypeId(pub u32);

/// A named Rust type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeDef {
    /// Rust name, unique in the connector.
    pub rust_name: String,
    /// Documentation (title and description of the schema).
    pub docs: Option<String>,
    /// Where the schema comes from.
    pub pointer: String,
    /// Whether the spec marks it deprecated.
    pub deprecated: bool,
    /// What kind of type it is.
    pub kind: TypeKind,
    /// What the schema says beyond its type.
    #[serde(skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
}

/// The shape of a named type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TypeKind {
    /// A struct that is (de)serialised as a JSON object.
    Struct {
        /// Fields in spec order.
        fields: Vec<Field>,
        /// Field name and value type of the properties not declared (`additionalProperties`),
        /// kept in a flattened map.
        additional: Option<(String, TypeRef)>,
    },
    /// The optional parameters of one operation: built by the caller, never serialised whole.
    Options {
        /// One field per optional parameter, always optional.
        fields: Vec<Field>,
    },
    /// A string enum; values a newer server may add deserialise into a fallback `Other(String)`.
    Enum {
        /// Variants in spec order.
        variants: Vec<Variant>,
    },
    /// An integer enum: a newtype over the integer with one constant per declared value, so that
    /// values a newer server adds still deserialise.
    IntEnum {
        /// The integer type.
        repr: Primitive,
        /// Constants: Rust name and value.
        values: Vec<(String, i64)>,
    },
    /// `oneOf` / `anyOf`: one variant per alternative, plus `Other(serde_json::Value)` for what none
    /// of them matches.
    Union {
        /// Alternatives; without a discriminator, ordered most specific first.
        variants: Vec<UnionVariant>,
        /// The discriminator property, when the spec names one and every alternative can be tagged.
        discriminator: Option<String>,
        /// Whether the spec wrote `oneOf` (exactly one alternative holds) rather than `anyOf`;
        /// the catalogue's JSON Schemas keep the keyword the spec chose.
        one_of: bool,
    },
    /// What an operation returns when its 2xx responses differ: one variant per declared
    /// success status, plus `Other(Response)` for an undeclared 2xx status.
    Responses {
        /// Variants in status order.
        variants: Vec<StatusVariant>,
    },
    /// Another name for a type expression.
    Alias {
        /// The aliased type.
        target: TypeRef,
    },
}

/// One variant of a [`TypeKind::Responses`] enum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusVariant {
    /// Rust name (from the reason phrase, or `Status{code}`).
    pub rust_name: String,
    /// The statuses it stands for.
    pub status: StatusMatch,
    /// Its content: `Unit`, `Json` or `Raw` (never `ByStatus`).
    pub body: Success,
}

/// A struct field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// Property name on the wire.
    pub wire_name: String,
    /// Rust identifier (may be raw, `r#type`).
    pub rust_name: String,
    /// Field type, already wrapped in `Option` (twice for optional nullable properties).
    pub ty: TypeRef,
    /// Whether the property may be absent (serde default, skipped when `None`).
    pub optional: bool,
    /// Absence and nullability, which decide the serde attributes.
    pub presence: Presence,
    /// Whether the wire name differs from the Rust name, so serde needs a rename.
    pub needs_rename: bool,
    /// Documentation.
    pub docs: Option<String>,
    /// Whether the spec marks it deprecated.
    pub deprecated: bool,
    /// What the property's inline schema says beyond its type.
    #[serde(skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
}

/// One alternative of a union.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnionVariant {
    /// Rust name of the variant.
    pub rust_name: String,
    /// Its content.
    pub ty: TypeRef,
    /// Discriminator values that select it (with a discriminator only).
    pub tags: Vec<String>,
    /// What an inline alternative's schema says beyond its type.
    #[serde(skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
}

/// Whether a property may be absent and whether it may be null, which decides its serde handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Presence {
    /// Always present, never null: `T`.
    Required,
    /// Always present, may be null: `Option<T>`, serialised as `null` when `None`.
    RequiredNullable,
    /// May be absent: `Option<T>`, left out when `None`.
    Optional,
    /// May be absent or null: `Option<Option<T>>` (absent: `None`; null: `Some(None)`).
    OptionalNullable,
}

/// A string enum variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// Rust name.
    pub rust_name: String,
    /// Value on the wire.
    pub wire_value: String,
}

/// A type expression.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TypeRef {
    /// A named type.
    Named(TypeId),
    /// A primitive.
    Primitive(Primitive),
    /// A JSON array.
    List(Box<TypeRef>),
    /// A JSON object with arbitrary keys.
    Map(Box<TypeRef>),
    /// A value that may be absent or null.
    Option(Box<TypeRef>),
    /// A heap indirection that breaks a recursive type.
    Boxed(Box<TypeRef>),
    /// A JSON array whose first items have types of their own (OpenAPI 3.1's `prefixItems`):
    /// a Rust tuple when no other item may follow, else a list of JSON values.
    Tuple {
        /// The types of the first items, in order.
        items: Vec<TypeRef>,
        /// The type of any further item; `None` when none may follow (`items: false`).
        rest: Option<Box<TypeRef>>,
    },
    /// Any JSON value.
    Json,
}

/// Primitive types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Primitive {
    /// `String`
    String,
    /// `bool`
    Bool,
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `u32`
    U32,
    /// `u64`
    U64,
    /// `f32`
    F32,
    /// `f64`
    F64,
}

/// A server from `servers`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Server {
    /// URL template.
    pub url: String,
    /// Description.
    pub description: Option<String>,
    /// URL variables.
    pub variables: Vec<ServerVariable>,
}

/// A server URL variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerVariable {
    /// Name in braces.
    pub name: String,
    /// Default value.
    pub default: String,
    /// Allowed values (empty: any).
    pub allowed: Vec<String>,
    /// Description.
    pub description: Option<String>,
}

/// A security scheme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecurityScheme {
    /// Name in `components.securitySchemes`.
    pub name: String,
    /// Kind and placement.
    pub kind: SecurityKind,
    /// Description.
    pub description: Option<String>,
}

/// Kind of security scheme, mirroring the runtime's descriptor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SecurityKind {
    /// API key in a header.
    ApiKeyHeader(String),
    /// API key in a query parameter.
    ApiKeyQuery(String),
    /// API key in a cookie.
    ApiKeyCookie(String),
    /// HTTP basic.
    HttpBasic,
    /// HTTP bearer.
    HttpBearer,
    /// Another HTTP scheme.
    HttpOther(String),
    /// OAuth 2, with its flows.
    OAuth2(Vec<OAuthFlow>),
    /// OpenID Connect, with the discovery document's URL.
    OpenIdConnect(String),
    /// Mutual TLS (OpenAPI 3.1): the connection's client certificate.
    MutualTls,
}

/// One OAuth 2 flow of a security scheme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OAuthFlow {
    /// `ClientCredentials`, `AuthorizationCode`, `Password` or `Implicit`.
    pub kind: OAuthFlowKind,
    /// `authorizationUrl`.
    pub authorization_url: Option<String>,
    /// `tokenUrl`.
    pub token_url: Option<String>,
    /// `refreshUrl`.
    pub refresh_url: Option<String>,
    /// Scope names, in spec order.
    pub scopes: Vec<String>,
}

/// The grant an OAuth 2 flow describes, mirroring the runtime's descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OAuthFlowKind {
    /// `clientCredentials`.
    ClientCredentials,
    /// `authorizationCode`.
    AuthorizationCode,
    /// `password`.
    Password,
    /// `implicit`.
    Implicit,
    /// The device authorization grant: `deviceAuthorization` (OpenAPI 3.2), or the scheme's
    /// `x-connector-device-authorization-url`; its `authorization_url` is the device
    /// authorization endpoint.
    DeviceAuthorization,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Method {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// HEAD
    Head,
    /// PATCH
    Patch,
    /// TRACE
    Trace,
}

impl Method {
    /// The method name as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }
}

/// One operation: an action of the connector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operation {
    /// `operationId`, or one derived from method and path.
    pub id: String,
    /// Name of the typed client method.
    pub rust_name: String,
    /// Name of the constant holding the operation's index in the descriptor table.
    pub const_name: String,
    /// HTTP method.
    pub method: Method,
    /// Path template.
    pub path: String,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// The cargo features (see [`Connector::features`]) any of which enables the typed method.
    pub features: Vec<String>,
    /// Whether the spec marks it deprecated.
    pub deprecated: bool,
    /// `x-connector-idempotent: true`: a POST or PATCH that carries an idempotency key and so
    /// may be retried.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub idempotent: bool,
    /// Parameters, path-item ones merged in; required ones first, in spec order.
    pub params: Vec<Parameter>,
    /// Struct holding the optional parameters, if there are any.
    pub options_type: Option<TypeId>,
    /// Request body.
    pub body: Option<RequestBody>,
    /// What the typed method returns on success.
    pub success: Success,
    /// Whether the typed method returns `Typed<_>` (value, status and headers), because a
    /// success response declares headers.
    pub success_headers: bool,
    /// Declared responses.
    pub responses: Vec<Response>,
    /// The action's error enum: a variant per declared error response (`4xx`, `5xx`, ranges,
    /// `default`); `None` when the spec declares no error response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<ErrorEnum>,
    /// Security alternatives (OR of ANDs of scheme names); empty: no auth.
    pub security: Vec<Vec<String>>,
    /// The operation's own servers (its `servers`, else its path's); empty for the
    /// connector's. A relative URL is relative to the connector's server.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Server>,
    /// Where the operation is in the spec.
    pub pointer: String,
}

impl Operation {
    /// The key of each parameter in the dynamic interface's input object: its wire name, or
    /// `location:name` (`header:type`) for a parameter whose name an earlier one already has.
    pub fn input_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::with_capacity(self.params.len());
        for (index, param) in self.params.iter().enumerate() {
            let taken = self.params[..index]
                .iter()
                .any(|p| p.wire_name == param.wire_name);
            keys.push(if taken {
                format!("{}:{}", param.location.as_str(), param.wire_name)
            } else {
                param.wire_name.clone()
            });
        }
        keys
    }
}

impl Location {
    /// The location as the spec writes it (`in:`).
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }
}

/// Location of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Location {
    /// Path.
    Path,
    /// Query.
    Query,
    /// Header.
    Header,
    /// Cookie.
    Cookie,
}

/// Serialisation style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Style {
    /// simple
    Simple,
    /// label
    Label,
    /// matrix
    Matrix,
    /// form
    Form,
    /// spaceDelimited
    SpaceDelimited,
    /// pipeDelimited
    PipeDelimited,
    /// Tab-delimited (Swagger 2.0's `collectionFormat: tsv`, which OpenAPI 3 has no name for).
    TabDelimited,
    /// deepObject
    DeepObject,
}

/// One parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    /// Name on the wire.
    pub wire_name: String,
    /// Rust name of the argument, or of the field in the options struct.
    pub rust_name: String,
    /// Location.
    pub location: Location,
    /// Whether it is required (a positional argument) or optional (a field of the options struct).
    pub required: bool,
    /// Style.
    pub style: Style,
    /// Explode.
    pub explode: bool,
    /// allowReserved.
    pub allow_reserved: bool,
    /// Declared with `content` (JSON) instead of `schema`: sent as JSON text, style ignored.
    pub json: bool,
    /// Value type (not wrapped in `Option`).
    pub ty: TypeRef,
    /// Documentation.
    pub docs: Option<String>,
    /// Whether the spec marks it deprecated.
    pub deprecated: bool,
    /// What the parameter's inline schema says beyond its type.
    #[serde(skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestBody {
    /// Media types offered, in spec order.
    pub media_types: Vec<String>,
    /// Whether it is required.
    pub required: bool,
    /// Type of a structured (JSON or form) body (`Json` when the schema is unknown).
    pub ty: TypeRef,
    /// Documentation.
    pub docs: Option<String>,
    /// How the typed method takes the body: decided by the default media type (JSON if
    /// offered, else the first).
    pub kind: BodyKind,
    /// The `encoding` object of the form or multipart media type, by property.
    pub encoding: Vec<PropertyEncoding>,
    /// When several media types are offered: the options-struct field (and its enum type) with
    /// which the caller picks another one.
    pub content_type_field: Option<ContentTypeField>,
    /// What the default media type's inline schema says beyond its type.
    #[serde(skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
}

/// How a typed method takes its request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BodyKind {
    /// A typed value, sent as JSON (or as a form or multipart when the caller picks one).
    Json,
    /// A typed value, sent as `application/x-www-form-urlencoded`.
    Form,
    /// Parts built with the runtime's `Multipart`.
    Multipart,
    /// Text, sent as it is (`text/*`, XML, CSV).
    Text,
    /// Bytes or a stream (`application/octet-stream`, images, ...).
    Binary,
}

/// One entry of a media type's `encoding` object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyEncoding {
    /// Property name.
    pub property: String,
    /// `contentType`.
    pub content_type: Option<String>,
    /// `style` (form fields).
    pub style: Style,
    /// `explode` (form fields; defaults to true for `form`).
    pub explode: bool,
    /// `allowReserved`.
    pub allow_reserved: bool,
}

/// The options-struct field that chooses a request media type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentTypeField {
    /// Rust name of the field.
    pub rust_name: String,
    /// The enum of the offered media types.
    pub ty: TypeId,
}

/// What an operation returns on success.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Success {
    /// No body is expected.
    Unit,
    /// A JSON body of this type.
    Json(TypeRef),
    /// A body that is not JSON: the raw response.
    Raw,
    /// Success responses differ: this [`TypeKind::Responses`] enum, decoded by status.
    ByStatus(TypeId),
}

/// Which statuses a response covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StatusMatch {
    /// One code.
    Code(u16),
    /// A range by its first digit (`2XX` is 2).
    Range(u8),
    /// `default`.
    Default,
}

/// A declared response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    /// Statuses covered.
    pub status: StatusMatch,
    /// Media type of the body, if any (JSON preferred when several are offered).
    pub media_type: Option<String>,
    /// Body type when JSON.
    pub ty: Option<TypeRef>,
    /// Names of the declared response headers, in spec order.
    pub headers: Vec<String>,
    /// Description.
    pub description: Option<String>,
    /// What the JSON body's inline schema says beyond its type.
    #[serde(skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
}

/// The error enum of an action: what `Error::api_error` decodes a non-2xx answer into.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorEnum {
    /// Rust name, unique among the connector's error enums.
    pub rust_name: String,
    /// One variant per declared error response, and per body where a response offers media
    /// types whose bodies differ; in declaration order.
    pub variants: Vec<ErrorVariant>,
}

/// One variant of an [`ErrorEnum`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorVariant {
    /// Rust name (from the reason phrase, `ClientError` for `4XX`, `Default`, `Status{code}`;
    /// a media type's name appended when its status has several bodies).
    pub rust_name: String,
    /// The statuses it stands for.
    pub status: StatusMatch,
    /// The media type (its essence) that picks this variant among its status's bodies; `None`
    /// for the status's main body, which takes every other content type.
    pub media_type: Option<String>,
    /// What the variant holds.
    pub body: ErrorBody,
    /// The response's description.
    pub description: Option<String>,
}

/// The body an [`ErrorVariant`] holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ErrorBody {
    /// No body is declared.
    Empty,
    /// A JSON body of this type.
    Json(TypeRef),
    /// A text body.
    Text,
    /// Any other body, as bytes.
    Bytes,
}

/// What a schema says beyond the shape of its type: the facts a JSON Schema of an action's input
/// or output carries (generated Rust does not use them). Numbers keep their JSON form, so an
/// integer bound stays an integer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    /// `title`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `format` (an annotation: `date-time`, `uuid`, `int32`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// `default`. (The JSON values are boxed: most schemas have none, and an unboxed
    /// `Option<Value>` takes 80 bytes in every field, type and parameter of a large API.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Box<Value>>,
    /// `example`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<Box<Value>>,
    /// Examples beyond `example` (an OpenAPI 3.1 schema lists several under `examples`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Value>,
    /// `contentEncoding` (3.1), or `base64` for 3.0's `format: byte`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// `contentMediaType` (3.1), or `application/octet-stream` for 3.0's `format: binary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_media_type: Option<String>,
    /// Allowed values of a schema whose type carries none (numbers, booleans, untyped schemas).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enumeration: Vec<Value>,
    /// `readOnly`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// `writeOnly`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub write_only: bool,
    /// `deprecated`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// `minimum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Box<Value>>,
    /// `maximum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Box<Value>>,
    /// `exclusiveMinimum` (the OpenAPI 3.0 boolean form: `minimum` itself is excluded).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exclusive_minimum: bool,
    /// `exclusiveMaximum` (the OpenAPI 3.0 boolean form: `maximum` itself is excluded).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exclusive_maximum: bool,
    /// `multipleOf`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiple_of: Option<Box<Value>>,
    /// `minLength`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    /// `maxLength`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// `pattern`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// `minItems`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_items: Option<usize>,
    /// `maxItems`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    /// `uniqueItems`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unique_items: bool,
    /// `minProperties`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_properties: Option<usize>,
    /// `maxProperties`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_properties: Option<usize>,
    /// The facts of an inline `items` schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<Facts>>,
    /// The facts of an inline `additionalProperties` schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Box<Facts>>,
}

impl Facts {
    /// Whether the schema says nothing beyond its type.
    pub fn is_empty(&self) -> bool {
        *self == Facts::default()
    }
}
