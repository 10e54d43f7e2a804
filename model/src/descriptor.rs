//! Operation descriptors: the data contract between generated connectors and the runtime.
//!
//! A generated crate holds these as `static` items (every text and list is `Cow::Borrowed`), while
//! a spec interpreted at run time builds the same types with owned data. The executor reads only
//! these descriptors, so the typed API, the dynamic API and spec interpretation share one code path.
//! They serialise (serde), so that a descriptor built from a spec can be kept and read back
//! instead of built again (`connector-gen run`'s cache).

use std::borrow::Cow;

/// Text in a descriptor: borrowed from a `static` in generated code, owned when built at run time.
pub type Text = Cow<'static, str>;

/// A list in a descriptor: borrowed from a `static` in generated code, owned when built at run time.
pub type List<T> = Cow<'static, [T]>;

/// Everything the runtime needs to know about one version of a connector.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ConnectorDescriptor {
    /// Machine name of the connector (the generated crate's name).
    pub name: Text,
    /// Human title, from `info.title`.
    pub title: Text,
    /// API version, from `info.version`.
    pub version: Text,
    /// Candidate servers, in spec order; the first is the default.
    pub servers: List<ServerDescriptor>,
    /// Security schemes from `components.securitySchemes`.
    pub security_schemes: List<SecuritySchemeDescriptor>,
    /// Every operation of the connector, in a stable order.
    pub operations: List<OperationDescriptor>,
    /// The action catalogue as JSON text ([`Catalogue`](crate::catalogue::Catalogue)), parsed
    /// when first needed; `None` when the connector has none, and then dynamic calls are not
    /// validated beyond their parameter names.
    pub catalogue: Option<Text>,
}

impl ConnectorDescriptor {
    /// Finds an operation by its id (the spec's `operationId`, or the derived one).
    pub fn operation(&self, id: &str) -> Option<&OperationDescriptor> {
        self.operations.iter().find(|op| op.id == id)
    }

    /// Finds a security scheme by its name in `components.securitySchemes`.
    pub fn security_scheme(&self, name: &str) -> Option<&SecuritySchemeDescriptor> {
        self.security_schemes.iter().find(|s| s.name == name)
    }

    /// The servers whose variables a connection may set: the connector server it chose (by
    /// index), then each distinct server its operations declare for themselves.
    pub fn settable_servers(&self, chosen: usize) -> Vec<&ServerDescriptor> {
        let mut servers: Vec<&ServerDescriptor> = self.servers.get(chosen).into_iter().collect();
        for server in self.operations.iter().flat_map(|op| op.servers.iter()) {
            if !servers.contains(&server) {
                servers.push(server);
            }
        }
        servers
    }
}

/// No servers of an operation's own: what most operations have (generated code writes this
/// short name for it).
pub const NO_SERVERS: List<ServerDescriptor> = Cow::Borrowed(&[]);

/// One entry of the spec's `servers` list.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ServerDescriptor {
    /// URL template, possibly with `{variable}` placeholders.
    pub url: Text,
    /// The server's description, if the spec gives one.
    pub description: Option<Text>,
    /// Variables substituted into `url`.
    pub variables: List<ServerVariableDescriptor>,
}

/// A server URL variable (`servers[].variables`), a backend variable of the connection.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ServerVariableDescriptor {
    /// Name as written between braces in the URL template.
    pub name: Text,
    /// Value used when the connection gives none.
    pub default: Text,
    /// Allowed values; empty means any value that is safe in its place in the URL.
    pub allowed: List<Text>,
    /// The variable's description, if the spec gives one.
    pub description: Option<Text>,
}

/// A named security scheme.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct SecuritySchemeDescriptor {
    /// Name of the scheme in `components.securitySchemes`.
    pub name: Text,
    /// How the credential is carried.
    pub kind: SecuritySchemeKind,
}

/// How a security scheme carries its credential.
///
/// Exhaustive on purpose: the runtime matches every kind, so a new one is a compile error in each
/// place that must learn to carry it (the model and the runtime are released together).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum SecuritySchemeKind {
    /// `type: apiKey`: a key in a header, query parameter or cookie.
    ApiKey {
        /// Where the key goes.
        location: ApiKeyLocation,
        /// Name of the header, query parameter or cookie.
        parameter: Text,
    },
    /// `type: http, scheme: basic`.
    HttpBasic,
    /// `type: http, scheme: bearer` (any `bearerFormat`).
    HttpBearer,
    /// `type: oauth2`: an access token sent as a bearer token, obtained from the flows' token
    /// URL (or given by the connection).
    OAuth2 {
        /// The flows the spec declares, in the order client credentials, authorization code,
        /// password, implicit.
        flows: List<OAuthFlowDescriptor>,
    },
    /// `type: openIdConnect`: an access token sent as a bearer token; the token endpoint comes
    /// from the discovery document.
    OpenIdConnect {
        /// The discovery document's URL (`openIdConnectUrl`).
        url: Text,
    },
    /// `type: http` with another scheme name: the credential is sent as `Authorization: <scheme> <value>`.
    HttpOther {
        /// The scheme name as written in the spec (for example `Digest` or `HOBA`).
        scheme: Text,
    },
    /// `type: mutualTLS` (OpenAPI 3.1): the client proves itself with the connection's client
    /// certificate in the TLS handshake; a connection that has one satisfies the scheme.
    MutualTls,
}

/// One OAuth 2 flow of a security scheme.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct OAuthFlowDescriptor {
    /// Which grant the flow describes.
    pub kind: OAuthFlowKind,
    /// Where a user authorizes the client (authorization code and implicit flows), or the
    /// device authorization endpoint (device authorization flow).
    pub authorization_url: Option<Text>,
    /// Where tokens are requested (client credentials, authorization code and password flows).
    pub token_url: Option<Text>,
    /// Where tokens are refreshed, when it differs from the token URL.
    pub refresh_url: Option<Text>,
    /// Scope names the flow declares.
    pub scopes: List<Text>,
}

/// The grant an OAuth 2 flow describes.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Copy, PartialEq, Eq)]
pub enum OAuthFlowKind {
    /// `clientCredentials`: the runtime requests tokens with the client id and secret.
    ClientCredentials,
    /// `authorizationCode`: the connection supplies a token obtained outside the runtime.
    AuthorizationCode,
    /// `password`: the connection supplies a token obtained outside the runtime.
    Password,
    /// `implicit`: the connection supplies a token obtained outside the runtime.
    Implicit,
    /// The device authorization grant (RFC 8628; OpenAPI 3.2's `deviceAuthorization`, or the
    /// `x-connector-device-authorization-url` extension): `login` asks the device authorization
    /// endpoint, given as the flow's `authorization_url`, then polls the token URL.
    DeviceAuthorization,
}

/// Where an API key is carried.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Copy, PartialEq, Eq)]
pub enum ApiKeyLocation {
    /// A request header.
    Header,
    /// A query parameter.
    Query,
    /// A cookie.
    Cookie,
}

/// One alternative of an operation's `security`: all named schemes must be satisfied together.
pub type SecurityRequirement = List<Text>;

/// HTTP method of an operation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `PUT`
    Put,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `HEAD`
    Head,
    /// `PATCH`
    Patch,
    /// `TRACE`
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

/// One OpenAPI operation: an action of the connector.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct OperationDescriptor {
    /// The spec's `operationId`, or one derived from method and path when the spec has none.
    pub id: Text,
    /// HTTP method.
    pub method: Method,
    /// Path template relative to the base URL, such as `/pets/{petId}`.
    pub path: Text,
    /// One-line summary, if the spec gives one.
    pub summary: Option<Text>,
    /// Parameters (path-item and operation parameters merged).
    pub params: List<ParamDescriptor>,
    /// Request body, if the operation takes one.
    pub body: Option<BodyDescriptor>,
    /// Declared responses.
    pub responses: List<ResponseDescriptor>,
    /// Alternatives (OR) of security requirements (AND); an empty list means no auth at all, and
    /// an empty requirement in the list means anonymous access is one of the alternatives.
    pub security: List<SecurityRequirement>,
    /// Whether the spec marks the operation deprecated.
    pub deprecated: bool,
    /// Servers of the operation's own (its `servers`, else its path's), in spec order; empty
    /// for most operations, which go to the connector's server. A connection sends the
    /// operation to the server whose URL it chose for the connector when that server is listed
    /// here, else to the first; a connection's `base_url` override wins over both.
    pub servers: List<ServerDescriptor>,
}

impl OperationDescriptor {
    /// The schemes this action accepts, as alternatives of schemes that must all be configured;
    /// an empty alternative means anonymous access is allowed, an empty result that the action
    /// needs no auth at all.
    pub fn auth_alternatives(&self) -> Vec<Vec<&str>> {
        self.security
            .iter()
            .map(|requirement| requirement.iter().map(|name| name.as_ref()).collect())
            .collect()
    }

    /// Finds a parameter by location and name.
    pub fn param(&self, location: ParamLocation, name: &str) -> Option<&ParamDescriptor> {
        self.params
            .iter()
            .find(|p| p.location == location && p.name == name)
    }
}

/// Where a parameter goes.
#[derive(
    Debug, Clone, serde::Serialize, serde::Deserialize, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
pub enum ParamLocation {
    /// Substituted into the path template.
    Path,
    /// Appended to the query string.
    Query,
    /// Sent as a request header.
    Header,
    /// Sent in the `Cookie` header.
    Cookie,
}

impl ParamLocation {
    /// The location as the spec writes it (`in:`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            ParamLocation::Cookie => "cookie",
        }
    }
}

/// Serialisation style of a parameter (OpenAPI 3.0 `style`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// `simple`: comma-separated (path and header default).
    Simple,
    /// `label`: `.`-prefixed.
    Label,
    /// `matrix`: `;name=value`.
    Matrix,
    /// `form`: `name=value` (query and cookie default).
    Form,
    /// `spaceDelimited`.
    SpaceDelimited,
    /// `pipeDelimited`.
    PipeDelimited,
    /// Tab-delimited: Swagger 2.0's `collectionFormat: tsv`, which OpenAPI 3 has no name for.
    TabDelimited,
    /// `deepObject`: `name[prop]=value`.
    DeepObject,
}

/// One parameter of an operation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ParamDescriptor {
    /// Name on the wire.
    pub name: Text,
    /// Location.
    pub location: ParamLocation,
    /// Whether the caller must supply it.
    pub required: bool,
    /// Serialisation style.
    pub style: ParamStyle,
    /// Whether arrays and objects are exploded.
    pub explode: bool,
    /// Whether reserved characters are sent unencoded (query only).
    pub allow_reserved: bool,
    /// Whether the spec declares the parameter with `content: application/json` instead of a
    /// schema: the value is sent as JSON text, percent-encoded for its location, and `style`
    /// does not apply.
    pub json: bool,
}

/// The request body of an operation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct BodyDescriptor {
    /// Accepted media types, in spec order. A caller that does not choose one gets the first
    /// JSON type for a structured value and the first other type for bytes or text.
    pub media_types: List<Text>,
    /// Whether a body must be sent.
    pub required: bool,
    /// How properties are encoded in form and multipart bodies (the media type's `encoding`
    /// object); a property not listed uses the defaults of its media type.
    pub encoding: List<PropertyEncoding>,
}

/// One entry of a media type's `encoding` object.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct PropertyEncoding {
    /// The property it applies to.
    pub property: Text,
    /// `contentType`: for a multipart part, its `Content-Type`; for a form field, a JSON type
    /// means the value is sent as JSON text.
    pub content_type: Option<Text>,
    /// `style` of a form field (`form`, `spaceDelimited`, `pipeDelimited` or `deepObject`).
    pub style: ParamStyle,
    /// `explode` of a form field.
    pub explode: bool,
    /// `allowReserved` of a form field.
    pub allow_reserved: bool,
}

/// Which statuses a declared response covers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    /// One exact status code.
    Code(u16),
    /// A range such as `2XX`, given by its first digit.
    Range(u8),
    /// `default`: any status not declared otherwise.
    Default,
}

impl StatusMatch {
    /// Whether `status` falls under this match (`Default` matches everything).
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusMatch::Code(code) => code == status,
            StatusMatch::Range(digit) => status / 100 == u16::from(digit),
            StatusMatch::Default => true,
        }
    }
}

/// One declared response.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ResponseDescriptor {
    /// Statuses covered.
    pub status: StatusMatch,
    /// Media type of the body, if the response has one.
    pub media_type: Option<Text>,
}

/// How a body of some media type is built and read: the one classification shared by the
/// runtime and the generator, so a typed method and the executor always agree.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `application/json`, `*/*+json` (and `*/*`): a JSON value.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/*`.
    Multipart,
    /// `text/*` and textual application types (XML, CSV, YAML, ...).
    Text,
    /// Anything else: bytes.
    Binary,
}

/// The essence of a media type: lower case, without parameters such as `charset`.
pub fn media_essence(media: &str) -> String {
    media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Classifies a media type by its essence (parameters such as `charset` are ignored).
pub fn media_kind(media: &str) -> MediaKind {
    let essence = media_essence(media);
    let (top, sub) = essence.split_once('/').unwrap_or((essence.as_str(), ""));
    if essence == "application/json" || sub.ends_with("+json") || essence == "*/*" {
        MediaKind::Json
    } else if essence == "application/x-www-form-urlencoded" {
        MediaKind::Form
    } else if top == "multipart" {
        MediaKind::Multipart
    } else if top == "text"
        || sub.ends_with("+xml")
        || matches!(
            sub,
            "xml" | "csv" | "yaml" | "x-yaml" | "javascript" | "x-ndjson" | "graphql"
        )
    {
        MediaKind::Text
    } else {
        MediaKind::Binary
    }
}
