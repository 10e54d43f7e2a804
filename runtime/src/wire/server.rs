//! Base URL resolution: server templates, their variables, and the `base_url` override.

use reqwest::Url;

use crate::descriptor::{ConnectorDescriptor, ServerDescriptor, ServerVariableDescriptor};
use crate::error::Error;

/// Substitutes variables into a server's URL template and checks the result.
///
/// Defaults and `allowed` values come from the spec and are trusted; a value the caller supplies
/// for a variable without `allowed` values must be safe where it lands (RQ-4), so that no value
/// can move the request to another host or path.
pub(crate) fn resolve(
    server: &ServerDescriptor,
    overrides: &[(String, String)],
) -> Result<String, Error> {
    for (name, value) in overrides {
        if !server.variables.iter().any(|v| v.name == *name) {
            let known: Vec<&str> = server.variables.iter().map(|v| v.name.as_ref()).collect();
            return Err(Error::InvalidServerVariable {
                name: name.clone(),
                value: value.clone(),
                reason: format!(
                    "server `{}` has no such variable (it has: {})",
                    server.url,
                    list(&known)
                ),
            });
        }
    }

    let url = substitute(server, overrides)?;
    check_base_url(&url).map_err(|err| match err {
        Error::Config { message, .. } => Error::Config {
            key: "server".into(),
            message,
        },
        other => other,
    })
}

/// Substitutes variables into a server's URL template, checking each value as [`resolve`] does
/// but not the result: an operation's relative server is still to be joined to a base URL.
/// Overrides for variables the server does not declare are ignored.
pub(crate) fn substitute(
    server: &ServerDescriptor,
    overrides: &[(String, String)],
) -> Result<String, Error> {
    let template = server.url.as_ref();
    let authority = authority_range(template);
    let mut url = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|i| open + i)
            .ok_or_else(|| Error::Config {
                key: "server".into(),
                message: format!("server URL `{template}` has an unclosed `{{`"),
            })?;
        let name = &rest[open + 1..close];
        let variable = server
            .variables
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| Error::Config {
                key: "server".into(),
                message: format!("server URL `{template}` uses undeclared variable `{name}`"),
            })?;
        let offset = template.len() - rest.len() + open;
        let in_host = authority.as_ref().is_some_and(|r| r.contains(&offset));
        url.push_str(&rest[..open]);
        url.push_str(&value(variable, overrides, in_host)?);
        rest = &rest[close + 1..];
    }
    url.push_str(rest);
    Ok(url)
}

/// Whether a server URL is relative (`/v2`): the spec means it relative to where the API lives.
pub(crate) fn is_relative(url: &str) -> bool {
    !url.contains("://")
}

/// Resolves an operation's relative server URL against the connection's base URL, as a URL
/// reference against that base taken as a folder: `/v2` replaces its path, `v2` is appended.
pub(crate) fn join(base: &str, relative: &str) -> Result<String, Error> {
    let config = |message: String| Error::Config {
        key: "server".into(),
        message,
    };
    let base = Url::parse(&format!("{base}/"))
        .map_err(|err| config(format!("the base URL is not a valid URL: {err}")))?;
    let joined = base.join(relative).map_err(|err| {
        config(format!(
            "the operation's server `{relative}` cannot be joined to the base URL: {err}"
        ))
    })?;
    check_base_url(joined.as_str()).map_err(|err| match err {
        Error::Config { message, .. } => config(message),
        other => other,
    })
}

/// The servers whose variables a connection may set (see
/// [`ConnectorDescriptor::settable_servers`]).
pub(crate) fn settable(connector: &ConnectorDescriptor, chosen: usize) -> Vec<&ServerDescriptor> {
    connector.settable_servers(chosen)
}

/// Names of the variables of `servers`, each once, in order of first appearance.
pub(crate) fn variable_names<'s>(servers: &[&'s ServerDescriptor]) -> Vec<&'s str> {
    let mut names: Vec<&str> = Vec::new();
    for variable in servers.iter().flat_map(|s| s.variables.iter()) {
        if !names.contains(&variable.name.as_ref()) {
            names.push(&variable.name);
        }
    }
    names
}

/// Validates an absolute `http`/`https` base URL and trims its trailing `/`.
pub(crate) fn check_base_url(url: &str) -> Result<String, Error> {
    let config = |message: String| Error::Config {
        key: "base_url".into(),
        message,
    };
    if !url.contains("://") {
        return Err(config(format!(
            "`{url}` is not an absolute URL; set `base_url` to the absolute URL of the API"
        )));
    }
    // The text is not echoed from here on: it may hold user info that must not be printed.
    let parsed = Url::parse(url).map_err(|err| config(format!("not a valid URL: {err}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(config(format!(
            "scheme `{}` is not supported; use http or https",
            parsed.scheme()
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(config(
            "the URL contains user info; pass credentials with `credential` instead".into(),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(config(
            "the URL has a query or fragment; operation paths are appended to it".into(),
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// Whether credentials may travel to `url`: always over https; over http only to a loopback
/// host, and only when the connection opts in (AU-6).
pub(crate) fn transport_allowed(url: &Url, allow_http_loopback: bool) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => allow_http_loopback && is_loopback(url),
        _ => false,
    }
}

/// Whether the URL's host is `localhost`, in 127.0.0.0/8, or `::1`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn value(
    variable: &ServerVariableDescriptor,
    overrides: &[(String, String)],
    in_host: bool,
) -> Result<String, Error> {
    let Some((_, value)) = overrides.iter().rev().find(|(n, _)| *n == variable.name) else {
        return Ok(variable.default.to_string());
    };
    let reject = |reason: String| Error::InvalidServerVariable {
        name: variable.name.to_string(),
        value: value.clone(),
        reason,
    };
    if !variable.allowed.is_empty() {
        if variable.allowed.iter().any(|a| a == value) {
            return Ok(value.clone());
        }
        let allowed: Vec<&str> = variable.allowed.iter().map(|a| a.as_ref()).collect();
        return Err(reject(format!("must be one of: {}", list(&allowed))));
    }
    if in_host {
        if !is_dns_label(value) {
            return Err(reject(
                "a host part must be 1 to 63 letters, digits or `-`, not starting or ending with `-`"
                    .into(),
            ));
        }
    } else if let Some(reason) = unsafe_outside_host(value) {
        return Err(reject(reason));
    }
    Ok(value.clone())
}

fn is_dns_label(value: &str) -> bool {
    (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

fn unsafe_outside_host(value: &str) -> Option<String> {
    if value == "." || value == ".." {
        return Some("dot segments are not allowed".into());
    }
    // `%` too: `%2e%2e` would reach the server as a dot segment.
    let bad = value.chars().find(|c| {
        matches!(c, '/' | '?' | '#' | '@' | '%' | '\\') || c.is_whitespace() || c.is_control()
    })?;
    Some(format!("the character {bad:?} is not allowed"))
}

/// Byte range of the authority (`user@host:port`) in a URL template, if it has one.
fn authority_range(template: &str) -> Option<std::ops::Range<usize>> {
    let start = template.find("://")? + 3;
    let len = template[start..]
        .find(['/', '?', '#'])
        .unwrap_or(template.len() - start);
    Some(start..start + len)
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn server() -> ServerDescriptor {
        ServerDescriptor {
            url: "https://{tenant}.api.example.com/{version}/{prefix}".into(),
            description: None,
            variables: Cow::Owned(vec![
                variable("tenant", "acme", &[]),
                variable("version", "v1", &["v1", "v2"]),
                variable("prefix", "base", &[]),
            ]),
        }
    }

    fn variable(name: &str, default: &str, allowed: &[&str]) -> ServerVariableDescriptor {
        ServerVariableDescriptor {
            name: name.to_owned().into(),
            default: default.to_owned().into(),
            allowed: allowed.iter().map(|a| (*a).to_owned().into()).collect(),
            description: None,
        }
    }

    fn with(name: &str, value: &str) -> Result<String, Error> {
        resolve(&server(), &[(name.to_owned(), value.to_owned())])
    }

    fn rejected(name: &str, value: &str) -> bool {
        matches!(with(name, value), Err(Error::InvalidServerVariable { .. }))
    }

    #[test]
    fn defaults_apply() {
        assert_eq!(
            resolve(&server(), &[]).unwrap(),
            "https://acme.api.example.com/v1/base"
        );
    }

    #[test]
    fn enum_values_are_enforced() {
        assert_eq!(
            with("version", "v2").unwrap(),
            "https://acme.api.example.com/v2/base"
        );
        assert!(rejected("version", "v3"));
    }

    #[test]
    fn host_values_must_be_dns_labels() {
        for bad in [
            "evil.com/x?",
            "a@b",
            "a.b",
            "-a",
            "a-",
            "",
            "%2e",
            &"a".repeat(64),
        ] {
            assert!(rejected("tenant", bad), "{bad:?} accepted");
        }
        for good in ["a", "Tenant-1", &"a".repeat(63)] {
            let url = with("tenant", good).unwrap();
            assert!(url.ends_with(".api.example.com/v1/base"), "{url}");
        }
    }

    #[test]
    fn path_values_must_stay_in_their_segment() {
        for bad in [
            "a/b", "a?b", "a#b", "a@b", "a b", "a\nb", ".", "..", "%2e%2e", "a\\b",
        ] {
            assert!(rejected("prefix", bad), "{bad:?} accepted");
        }
        assert_eq!(
            with("prefix", "beta.2").unwrap(),
            "https://acme.api.example.com/v1/beta.2"
        );
    }

    #[test]
    fn unknown_variable_is_rejected() {
        let err = with("region", "eu").unwrap_err();
        assert!(err.to_string().contains("tenant, version, prefix"), "{err}");
    }

    #[test]
    fn relative_server_asks_for_base_url() {
        let relative = ServerDescriptor {
            url: "/v1".into(),
            description: None,
            variables: Cow::Borrowed(&[]),
        };
        let err = resolve(&relative, &[]).unwrap_err();
        assert!(err.to_string().contains("base_url"), "{err}");
    }

    #[test]
    fn plain_http_only_to_loopback_and_only_when_allowed() {
        let allowed = |url: &str, flag| transport_allowed(&Url::parse(url).unwrap(), flag);
        assert!(allowed("https://api.example.com", false));
        assert!(!allowed("http://127.0.0.1:8080", false));
        for loopback in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:9",
            "http://localhost",
        ] {
            assert!(allowed(loopback, true), "{loopback}");
        }
        for remote in [
            "http://api.example.com",
            "http://10.0.0.1",
            "http://127.0.0.1.example.com",
        ] {
            assert!(!allowed(remote, true), "{remote}");
        }
    }

    #[test]
    fn base_url_is_checked_and_trimmed() {
        assert_eq!(
            check_base_url("http://127.0.0.1:8080/api/").unwrap(),
            "http://127.0.0.1:8080/api"
        );
        assert_eq!(
            check_base_url("https://example.com").unwrap(),
            "https://example.com"
        );
        for bad in [
            "ftp://example.com",
            "https://u:p@example.com",
            "https://e.com/?q",
            "/v1",
            "x",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad:?} accepted");
        }
    }
}
