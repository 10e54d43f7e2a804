//! IR → runtime descriptors: the one mapping from the lowered connector to what the runtime
//! executes. `connector-gen run` builds its descriptors here at run time, and the tests check
//! that the statics the templates print are equal to what this gives.

use std::borrow::Cow;

use connector_model::descriptor as d;

use crate::ir::{
    Connector, Location, Method, OAuthFlowKind, Operation, SecurityKind, Server, StatusMatch, Style,
};

/// The descriptor of a lowered connector, catalogue included.
pub fn connector_descriptor(connector: &Connector) -> d::ConnectorDescriptor {
    d::ConnectorDescriptor {
        catalogue: Some(Cow::Owned(crate::catalogue::catalogue_json(connector))),
        ..without_catalogue(connector)
    }
}

/// The descriptor of a lowered connector with no catalogue (`catalogue: None`).
pub fn without_catalogue(connector: &Connector) -> d::ConnectorDescriptor {
    d::ConnectorDescriptor {
        name: owned(&connector.crate_name),
        title: owned(&connector.title),
        version: owned(&connector.version),
        servers: servers(&connector.servers),
        security_schemes: Cow::Owned(
            connector
                .security_schemes
                .iter()
                .map(|s| d::SecuritySchemeDescriptor {
                    name: owned(&s.name),
                    kind: scheme_kind(&s.kind),
                })
                .collect(),
        ),
        operations: Cow::Owned(connector.operations.iter().map(operation).collect()),
        catalogue: None,
    }
}

fn operation(op: &Operation) -> d::OperationDescriptor {
    d::OperationDescriptor {
        id: owned(&op.id),
        method: method(op.method),
        path: owned(&op.path),
        summary: op.summary.as_deref().map(owned),
        params: Cow::Owned(
            op.params
                .iter()
                .map(|p| d::ParamDescriptor {
                    name: owned(&p.wire_name),
                    location: match p.location {
                        Location::Path => d::ParamLocation::Path,
                        Location::Query => d::ParamLocation::Query,
                        Location::Header => d::ParamLocation::Header,
                        Location::Cookie => d::ParamLocation::Cookie,
                    },
                    required: p.required,
                    style: style(p.style),
                    explode: p.explode,
                    allow_reserved: p.allow_reserved,
                    json: p.json,
                })
                .collect(),
        ),
        body: op.body.as_ref().map(|b| d::BodyDescriptor {
            media_types: texts(&b.media_types),
            required: b.required,
            encoding: Cow::Owned(
                b.encoding
                    .iter()
                    .map(|e| d::PropertyEncoding {
                        property: owned(&e.property),
                        content_type: e.content_type.as_deref().map(owned),
                        style: style(e.style),
                        explode: e.explode,
                        allow_reserved: e.allow_reserved,
                    })
                    .collect(),
            ),
        }),
        responses: Cow::Owned(
            op.responses
                .iter()
                .map(|r| d::ResponseDescriptor {
                    status: match r.status {
                        StatusMatch::Code(code) => d::StatusMatch::Code(code),
                        StatusMatch::Range(digit) => d::StatusMatch::Range(digit),
                        StatusMatch::Default => d::StatusMatch::Default,
                    },
                    media_type: r.media_type.as_deref().map(owned),
                })
                .collect(),
        ),
        security: Cow::Owned(op.security.iter().map(|alt| texts(alt)).collect()),
        deprecated: op.deprecated,
        servers: servers(&op.servers),
    }
}

fn servers(servers: &[Server]) -> d::List<d::ServerDescriptor> {
    Cow::Owned(
        servers
            .iter()
            .map(|s| d::ServerDescriptor {
                url: owned(&s.url),
                description: s.description.as_deref().map(owned),
                variables: Cow::Owned(
                    s.variables
                        .iter()
                        .map(|v| d::ServerVariableDescriptor {
                            name: owned(&v.name),
                            default: owned(&v.default),
                            allowed: texts(&v.allowed),
                            description: v.description.as_deref().map(owned),
                        })
                        .collect(),
                ),
            })
            .collect(),
    )
}

fn scheme_kind(kind: &SecurityKind) -> d::SecuritySchemeKind {
    let api_key = |location, parameter: &str| d::SecuritySchemeKind::ApiKey {
        location,
        parameter: owned(parameter),
    };
    match kind {
        SecurityKind::ApiKeyHeader(p) => api_key(d::ApiKeyLocation::Header, p),
        SecurityKind::ApiKeyQuery(p) => api_key(d::ApiKeyLocation::Query, p),
        SecurityKind::ApiKeyCookie(p) => api_key(d::ApiKeyLocation::Cookie, p),
        SecurityKind::HttpBasic => d::SecuritySchemeKind::HttpBasic,
        SecurityKind::HttpBearer => d::SecuritySchemeKind::HttpBearer,
        SecurityKind::HttpOther(scheme) => d::SecuritySchemeKind::HttpOther {
            scheme: owned(scheme),
        },
        SecurityKind::OAuth2(flows) => d::SecuritySchemeKind::OAuth2 {
            flows: Cow::Owned(
                flows
                    .iter()
                    .map(|f| d::OAuthFlowDescriptor {
                        kind: match f.kind {
                            OAuthFlowKind::ClientCredentials => d::OAuthFlowKind::ClientCredentials,
                            OAuthFlowKind::AuthorizationCode => d::OAuthFlowKind::AuthorizationCode,
                            OAuthFlowKind::Password => d::OAuthFlowKind::Password,
                            OAuthFlowKind::Implicit => d::OAuthFlowKind::Implicit,
                            OAuthFlowKind::DeviceAuthorization => {
                                d::OAuthFlowKind::DeviceAuthorization
                            }
                        },
                        authorization_url: f.authorization_url.as_deref().map(owned),
                        token_url: f.token_url.as_deref().map(owned),
                        refresh_url: f.refresh_url.as_deref().map(owned),
                        scopes: texts(&f.scopes),
                    })
                    .collect(),
            ),
        },
        SecurityKind::OpenIdConnect(url) => {
            d::SecuritySchemeKind::OpenIdConnect { url: owned(url) }
        }
        SecurityKind::MutualTls => d::SecuritySchemeKind::MutualTls,
    }
}

fn method(m: Method) -> d::Method {
    match m {
        Method::Get => d::Method::Get,
        Method::Put => d::Method::Put,
        Method::Post => d::Method::Post,
        Method::Delete => d::Method::Delete,
        Method::Options => d::Method::Options,
        Method::Head => d::Method::Head,
        Method::Patch => d::Method::Patch,
        Method::Trace => d::Method::Trace,
    }
}

fn style(s: Style) -> d::ParamStyle {
    match s {
        Style::Simple => d::ParamStyle::Simple,
        Style::Label => d::ParamStyle::Label,
        Style::Matrix => d::ParamStyle::Matrix,
        Style::Form => d::ParamStyle::Form,
        Style::SpaceDelimited => d::ParamStyle::SpaceDelimited,
        Style::TabDelimited => d::ParamStyle::TabDelimited,
        Style::PipeDelimited => d::ParamStyle::PipeDelimited,
        Style::DeepObject => d::ParamStyle::DeepObject,
    }
}

fn owned(text: &str) -> d::Text {
    Cow::Owned(text.to_owned())
}

fn texts(items: &[String]) -> d::List<d::Text> {
    Cow::Owned(items.iter().map(|t| owned(t)).collect())
}
