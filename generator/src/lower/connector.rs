//! Connector-wide parts of the spec: info and security schemes (servers are in `servers`).

use heck::{ToKebabCase, ToSnakeCase};
use serde_json::Value;

use super::{LowerOptions, Lowerer};
use crate::diagnostics::pointer;
use crate::ir::{OAuthFlow, OAuthFlowKind, SecurityKind, SecurityScheme};

pub(crate) struct Info {
    pub crate_name: String,
    pub module_name: String,
    pub title: String,
    pub version: String,
    pub description: Option<String>,
    pub summary: Option<String>,
    pub license: Option<crate::ir::License>,
}

pub(crate) fn info(lw: &mut Lowerer<'_, '_>, options: &LowerOptions) -> Info {
    let root = lw.spec.root();
    let text = |key: &str| {
        root.pointer(&format!("/info/{key}"))
            .and_then(Value::as_str)
    };
    let title = text("title").unwrap_or_default().to_owned();
    if text("title").is_none() {
        lw.diags.warn(
            "#/info",
            "`info.title` is missing; the connector is named `connector`",
        );
    }
    let version = text("version").unwrap_or("0.0.0").to_owned();
    let raw_name = options.name.clone().unwrap_or_else(|| title.clone());
    let mut crate_name: String = super::naming::snake_name(&raw_name, "connector")
        .trim_start_matches("r#")
        .trim_start_matches('_')
        .to_kebab_case();
    if crate_name.is_empty() || crate_name.starts_with(|c: char| c.is_ascii_digit()) {
        crate_name.insert_str(0, "connector-");
    }
    if let Some(reason) = rejected_crate_name(&crate_name) {
        let adjusted = format!("{crate_name}-connector");
        let (at, source) = match &options.name {
            Some(_) => ("#", "the `name` option"),
            None => ("#/info/title", "`info.title`"),
        };
        lw.diags.warn(
            at,
            format!("the crate name `{crate_name}` derived from {source} {reason}; the crate is named `{adjusted}` instead"),
        );
        crate_name = adjusted;
    }
    let module_name = crate_name.to_snake_case();
    let license = root.pointer("/info/license").and_then(|l| {
        let field = |key: &str| {
            l.get(key)
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty())
                .map(str::to_owned)
        };
        Some(crate::ir::License {
            name: field("name")?,
            identifier: field("identifier"),
            url: field("url"),
        })
    });
    Info {
        crate_name,
        module_name,
        title,
        version,
        description: text("description").map(str::to_owned),
        summary: text("summary")
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned),
        license,
    }
}

/// Why cargo would refuse `name` as a package name (or build it into the wrong place), if it would.
fn rejected_crate_name(name: &str) -> Option<&'static str> {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
        "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
        "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
        "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type",
        "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
    ];
    const STD: &[&str] = &["std", "core", "alloc", "proc-macro", "test"];
    const CARGO_DIRS: &[&str] = &["deps", "examples", "build", "incremental"];
    const WINDOWS: &[&str] = &[
        "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
        "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
    ];
    if KEYWORDS.contains(&name) {
        Some("is a Rust keyword, which cargo refuses as a package name")
    } else if STD.contains(&name) {
        Some("is the name of a built-in Rust library, which cargo refuses or which would shadow it")
    } else if CARGO_DIRS.contains(&name) {
        Some("is the name of a directory cargo uses in its build output")
    } else if WINDOWS.contains(&name) {
        Some("is a reserved file name on Windows")
    } else {
        None
    }
}

/// Names between braces in a URL or path template.
pub(crate) fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(after[..close].to_owned());
        rest = &after[close + 1..];
    }
    out
}

/// Why a path template cannot name a request, if it cannot: unbalanced or empty braces, a dot
/// segment (which URL parsers resolve away, so the request would go to another resource), or a
/// literal character that would end the path (`?`, `#`), become a `/` (`\`) or is not allowed
/// in a URL.
pub(crate) fn path_template_problem(template: &str) -> Option<String> {
    let mut open: Option<usize> = None;
    for (i, c) in template.char_indices() {
        match (c, open) {
            ('{', Some(_)) => return Some(format!("has a `{{` inside a placeholder at byte {i}")),
            ('{', None) => open = Some(i),
            ('}', None) => return Some(format!("has a `}}` without a matching `{{` at byte {i}")),
            ('}', Some(start)) if start + 1 == i => {
                return Some(format!("has an empty placeholder `{{}}` at byte {start}"))
            }
            ('}', Some(_)) => open = None,
            (_, Some(_)) => {}
            ('?' | '#', None) => {
                return Some(format!(
                    "has a literal `{c}`, which would end the path and start a query or fragment"
                ))
            }
            ('\\', None) => {
                return Some(
                    "has a literal `\\`, which URL parsers read as `/` in http(s) URLs".to_owned(),
                )
            }
            (c, None) if c.is_whitespace() || c.is_control() => {
                return Some(format!(
                    "has a literal {c:?}, which a URL path cannot hold unencoded"
                ))
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        return Some(format!("has a `{{` at byte {start} that is never closed"));
    }
    template
        .split('/')
        .find(|segment| {
            let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
            decoded == "." || decoded == ".."
        })
        .map(|segment| {
            format!("has the dot segment `{segment}`, which URL parsers resolve away, so requests would reach another resource")
        })
}

pub(crate) fn security_schemes(lw: &mut Lowerer<'_, '_>) -> Vec<SecurityScheme> {
    let spec = lw.spec;
    let Some(map) = spec
        .root()
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in map {
        let at = pointer("#/components/securitySchemes", name);
        // OpenAPI 3.1's `mutualTLS`, which the 3.0 model does not know.
        let mutual_tls = spec
            .follow(value, &at)
            .ok()
            .filter(|(v, _)| v.get("type").and_then(Value::as_str) == Some("mutualTLS"));
        if let Some((scheme, _)) = mutual_tls {
            out.push(SecurityScheme {
                name: name.clone(),
                kind: SecurityKind::MutualTls,
                description: scheme
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
            continue;
        }
        let (scheme, _) = match spec.resolve::<openapiv3::SecurityScheme>(value, &at) {
            Ok(parsed) => parsed,
            Err(diag) => {
                lw.diags
                    .fragment_failed(diag, "security scheme `{name}` ignored");
                continue;
            }
        };
        let (kind, description) = match scheme {
            openapiv3::SecurityScheme::APIKey {
                location,
                name: parameter,
                description,
                ..
            } => {
                let kind = match location {
                    openapiv3::APIKeyLocation::Header => SecurityKind::ApiKeyHeader(parameter),
                    openapiv3::APIKeyLocation::Query => SecurityKind::ApiKeyQuery(parameter),
                    openapiv3::APIKeyLocation::Cookie => SecurityKind::ApiKeyCookie(parameter),
                };
                (kind, description)
            }
            openapiv3::SecurityScheme::HTTP {
                scheme,
                description,
                ..
            } => {
                let kind = match scheme.to_ascii_lowercase().as_str() {
                    "basic" => SecurityKind::HttpBasic,
                    "bearer" => SecurityKind::HttpBearer,
                    _ => SecurityKind::HttpOther(scheme),
                };
                (kind, description)
            }
            openapiv3::SecurityScheme::OAuth2 {
                flows, description, ..
            } => {
                let mut flows = oauth_flows(flows);
                let raw = spec.follow(value, &at).map(|(raw, _)| raw).unwrap_or(value);
                flows.extend(device_flow(raw, &flows));
                if flows.iter().all(|f| f.token_url.is_none()) {
                    lw.diags.warn(
                        pointer(&at, "flows"),
                        format!("security scheme `{name}` declares no token URL; a connection must give an access token or set `token_url`"),
                    );
                }
                (SecurityKind::OAuth2(flows), description)
            }
            openapiv3::SecurityScheme::OpenIDConnect {
                open_id_connect_url,
                description,
                ..
            } => (
                SecurityKind::OpenIdConnect(open_id_connect_url),
                description,
            ),
        };
        out.push(SecurityScheme {
            name: name.clone(),
            kind,
            description,
        });
    }
    out
}

/// The device authorization flow of an OAuth 2 scheme, when it declares one: OpenAPI 3.2's
/// `flows.deviceAuthorization`, else `x-connector-device-authorization-url` on the scheme, whose
/// tokens come from the token URL of its authorization code flow (else of its first flow that
/// has one).
fn device_flow(raw: &Value, flows: &[OAuthFlow]) -> Option<OAuthFlow> {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    if let Some(declared) = raw.pointer("/flows/deviceAuthorization") {
        return Some(OAuthFlow {
            kind: OAuthFlowKind::DeviceAuthorization,
            authorization_url: text(declared.get("deviceAuthorizationUrl")),
            token_url: text(declared.get("tokenUrl")),
            refresh_url: text(declared.get("refreshUrl")),
            scopes: declared
                .get("scopes")
                .and_then(Value::as_object)
                .map(|s| s.keys().cloned().collect())
                .unwrap_or_default(),
        });
    }
    let url = text(raw.get("x-connector-device-authorization-url"))?;
    let base = flows
        .iter()
        .find(|f| f.kind == OAuthFlowKind::AuthorizationCode)
        .or_else(|| flows.iter().find(|f| f.token_url.is_some()));
    Some(OAuthFlow {
        kind: OAuthFlowKind::DeviceAuthorization,
        authorization_url: Some(url),
        token_url: base.and_then(|f| f.token_url.clone()),
        refresh_url: base.and_then(|f| f.refresh_url.clone()),
        scopes: base.map(|f| f.scopes.clone()).unwrap_or_default(),
    })
}

/// The declared flows, client credentials first: it is the one the runtime can run by itself.
fn oauth_flows(flows: openapiv3::OAuth2Flows) -> Vec<OAuthFlow> {
    let scopes = |map: indexmap::IndexMap<String, String>| map.into_keys().collect::<Vec<_>>();
    let mut out = Vec::new();
    if let Some(f) = flows.client_credentials {
        out.push(OAuthFlow {
            kind: OAuthFlowKind::ClientCredentials,
            authorization_url: None,
            token_url: Some(f.token_url),
            refresh_url: f.refresh_url,
            scopes: scopes(f.scopes),
        });
    }
    if let Some(f) = flows.authorization_code {
        out.push(OAuthFlow {
            kind: OAuthFlowKind::AuthorizationCode,
            authorization_url: Some(f.authorization_url),
            token_url: Some(f.token_url),
            refresh_url: f.refresh_url,
            scopes: scopes(f.scopes),
        });
    }
    if let Some(f) = flows.password {
        out.push(OAuthFlow {
            kind: OAuthFlowKind::Password,
            authorization_url: None,
            token_url: Some(f.token_url),
            refresh_url: f.refresh_url,
            scopes: scopes(f.scopes),
        });
    }
    if let Some(f) = flows.implicit {
        out.push(OAuthFlow {
            kind: OAuthFlowKind::Implicit,
            authorization_url: Some(f.authorization_url),
            token_url: None,
            refresh_url: f.refresh_url,
            scopes: scopes(f.scopes),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{path_template_problem, placeholders, rejected_crate_name};

    #[test]
    fn path_templates_that_cannot_work_are_named() {
        for ok in [
            "/pets/{id}",
            "/a.b/{x}.json",
            "/{a}{b}",
            "/v1/...",
            "/pets/%2E%2Ex",
        ] {
            assert_eq!(path_template_problem(ok), None, "{ok}");
        }
        for bad in [
            "/pets/{id",
            "/pets/id}",
            "/pets/{{id}}",
            "/pets/{}",
            "/a/../admin",
            "/a/./b",
            "/a/%2e%2E/b",
            "/a/.%2e",
            "/a?x=1",
            "/a#f",
            "/a b",
        ] {
            assert!(path_template_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn crate_names_cargo_refuses_are_named() {
        for bad in ["self", "std", "test", "core", "fn", "deps", "nul"] {
            assert!(rejected_crate_name(bad).is_some(), "{bad}");
        }
        assert_eq!(rejected_crate_name("petstore"), None);
    }

    #[test]
    fn finds_placeholders() {
        assert_eq!(placeholders("https://{a}.x/{b}/c"), vec!["a", "b"]);
        assert_eq!(placeholders("/x/{unclosed"), Vec::<String>::new());
    }
}
