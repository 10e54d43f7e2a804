//! Turns an operation descriptor and its arguments into a ready-to-send request.
//!
//! Everything a caller supplies is checked here, before any connection is opened.

use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, COOKIE, USER_AGENT,
};

use bytes::Bytes;

use crate::descriptor::{
    Method, OperationDescriptor, ParamDescriptor, ParamLocation, StatusMatch, Text,
};
use crate::error::Error;
use crate::wire::args::Args;
use crate::wire::body;
use crate::wire::encoding::{self, Flat};

const JSON: &str = "application/json";

/// A request with every part encoded.
pub(crate) struct Prepared {
    pub(crate) method: reqwest::Method,
    /// The full URL, built by hand from encoded parts: no value can add a dot segment or a
    /// delimiter, so parsing it later changes nothing.
    pub(crate) url: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<reqwest::Body>,
}

/// What the chosen credentials add to one request (the auth module decides them).
#[derive(Default, Clone)]
pub(crate) struct AuthParts {
    /// Headers, each marked sensitive.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Encoded query pairs.
    pub(crate) query: Vec<(String, String)>,
    /// Encoded `name=value` cookie pairs.
    pub(crate) cookies: Vec<String>,
}

/// The credential parts a request carries: those of each scheme of the chosen security
/// alternative, borrowed from the connection, which forms them once.
#[derive(Default)]
pub(crate) enum Authorized<'a> {
    /// No credentials.
    #[default]
    Anonymous,
    /// One scheme's, the usual case.
    One(&'a AuthParts),
    /// An alternative that needs several schemes at once.
    Several(Vec<&'a AuthParts>),
}

impl<'a> Authorized<'a> {
    /// These and `parts` as well.
    pub(crate) fn and(self, parts: &'a AuthParts) -> Self {
        match self {
            Authorized::Anonymous => Authorized::One(parts),
            Authorized::One(first) => Authorized::Several(vec![first, parts]),
            Authorized::Several(mut all) => {
                all.push(parts);
                Authorized::Several(all)
            }
        }
    }

    fn parts(&self) -> &[&'a AuthParts] {
        match self {
            Authorized::Anonymous => &[],
            Authorized::One(one) => std::slice::from_ref(one),
            Authorized::Several(all) => all,
        }
    }
}

/// Checks `args` against `op` and encodes the request to `base_url` with the credential parts
/// `auth`.
pub(crate) fn prepare(
    op: &OperationDescriptor,
    args: &Args,
    base_url: &str,
    user_agent: &HeaderValue,
    auth: Authorized<'_>,
) -> Result<Prepared, Error> {
    check_declared(op, args)?;

    let mut url = String::with_capacity(base_url.len() + op.path.len() + 16);
    url.push_str(base_url);
    substitute_path(&mut url, op, args)?;
    let mut query = Vec::new();
    let mut headers = HeaderMap::new();
    let mut cookies = Vec::new();
    for param in op.params.iter() {
        // Path parameters are already in the path.
        if param.location == ParamLocation::Path {
            continue;
        }
        let Some(value) = args.get(param.location, &param.name) else {
            continue;
        };
        let value = flat(param, value);
        match param.location {
            ParamLocation::Path => {}
            ParamLocation::Query => query.extend(encoding::query_pairs(param, &value)),
            ParamLocation::Header => {
                let (name, value) = header(op, param, &value)?;
                headers.append(name, value);
            }
            ParamLocation::Cookie => cookies.extend(encoding::cookie_pairs(param, &value)),
        }
    }

    let auth = auth.parts();
    let cookie_holds_credential = auth.iter().any(|parts| !parts.cookies.is_empty());
    cookies.extend(auth.iter().flat_map(|parts| parts.cookies.iter().cloned()));
    let credential_query = auth.iter().flat_map(|parts| parts.query.iter());
    for (i, (name, value)) in query.iter().chain(credential_query).enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str(name);
        url.push('=');
        url.push_str(value);
    }

    headers.insert(USER_AGENT, user_agent.clone());
    if !headers.contains_key(ACCEPT) {
        headers.insert(ACCEPT, accept(op));
    }
    if !cookies.is_empty() {
        // Encoded cookie pairs are visible ASCII; anything else is a bug worth reporting, not
        // a reason to panic.
        let mut value =
            HeaderValue::from_str(&cookies.join("; ")).map_err(|_| Error::InvalidParameter {
                operation: op.id.to_string(),
                name: "Cookie".into(),
                reason: "could not form the Cookie header".into(),
            })?;
        value.set_sensitive(cookie_holds_credential);
        headers.insert(COOKIE, value);
    }
    let body = match (&op.body, args.body()) {
        (Some(declared), Some(content)) => {
            let encoded = body::encode(op, declared, args.media_type(), content)?;
            headers.insert(CONTENT_TYPE, encoded.content_type);
            Some(encoded.body)
        }
        // `check_declared` rejected a body the operation does not take.
        _ => None,
    };
    // Credentials go last so that no parameter can replace them.
    for (name, value) in auth.iter().flat_map(|parts| parts.headers.iter()) {
        headers.insert(name.clone(), value.clone());
    }

    Ok(Prepared {
        method: method(op.method),
        url,
        headers,
        body,
    })
}

/// Rejects undeclared parameters and reports missing required ones.
fn check_declared(op: &OperationDescriptor, args: &Args) -> Result<(), Error> {
    for (location, name) in args.params() {
        if op.param(location, name).is_none() {
            return Err(Error::InvalidParameter {
                operation: op.id.to_string(),
                name: name.to_owned(),
                reason: format!(
                    "the operation declares no {} parameter of that name",
                    location.as_str()
                ),
            });
        }
    }
    for param in op.params.iter() {
        // Path parameters are always required: the path cannot be formed without them.
        let required = param.required || param.location == ParamLocation::Path;
        if required && args.get(param.location, &param.name).is_none() {
            return Err(Error::MissingParameter {
                operation: op.id.to_string(),
                name: param.name.to_string(),
                location: param.location.as_str(),
            });
        }
    }
    match (&op.body, args.body()) {
        (Some(body), None) if body.required => Err(Error::MissingParameter {
            operation: op.id.to_string(),
            name: "body".into(),
            location: "body",
        }),
        (None, Some(_)) => Err(Error::InvalidParameter {
            operation: op.id.to_string(),
            name: "body".into(),
            reason: "the operation takes no request body".into(),
        }),
        _ => Ok(()),
    }
}

/// Appends the path template to `path`, each `{name}` replaced with its encoded value.
fn substitute_path(path: &mut String, op: &OperationDescriptor, args: &Args) -> Result<(), Error> {
    let invalid = |name: &str, reason: &str| Error::InvalidParameter {
        operation: op.id.to_string(),
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    if !op.path.starts_with('/') {
        path.push('/');
    }
    let mut rest = op.path.as_ref();
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|i| open + i)
            .ok_or_else(|| invalid(&op.path, "the path template has an unclosed `{`"))?;
        let name = &rest[open + 1..close];
        let param = op
            .param(ParamLocation::Path, name)
            .ok_or_else(|| invalid(name, "the path template names an undeclared parameter"))?;
        let value = args
            .get(ParamLocation::Path, name)
            .ok_or_else(|| Error::MissingParameter {
                operation: op.id.to_string(),
                name: name.to_owned(),
                location: "path",
            })?;
        path.push_str(&rest[..open]);
        rest = &rest[close + 1..];
        if encoding::push_simple_scalar(path, param, value) {
            continue;
        }
        let flat = flat(param, value);
        let encoded = encoding::path_value(param, &flat);
        // An empty or dot segment would change which resource the path names.
        let raw_dots = matches!(&flat, Flat::Scalar(s) if matches!(s.as_str(), "" | "." | ".."));
        if raw_dots || matches!(encoded.as_str(), "" | "." | "..") {
            return Err(invalid(
                name,
                "a path parameter must not be empty, `.` or `..`",
            ));
        }
        path.push_str(&encoded);
    }
    path.push_str(rest);
    Ok(())
}

fn header(
    op: &OperationDescriptor,
    param: &ParamDescriptor,
    value: &Flat,
) -> Result<(HeaderName, HeaderValue), Error> {
    let name =
        HeaderName::from_bytes(param.name.as_bytes()).map_err(|_| Error::InvalidParameter {
            operation: op.id.to_string(),
            name: param.name.to_string(),
            reason: "not a valid header name".into(),
        })?;
    let text = encoding::header_value(param, value);
    let invalid = || Error::InvalidHeaderValue {
        name: param.name.to_string(),
    };
    // Checked explicitly, not left to `HeaderValue`, because these are what header injection
    // needs and the error must say so whatever the http crate accepts.
    if text.contains(['\r', '\n', '\0']) {
        return Err(invalid());
    }
    let value = HeaderValue::from_bytes(text.as_bytes()).map_err(|_| invalid())?;
    Ok((name, value))
}

/// The media types of the operation's 2xx responses, else JSON.
fn accept(op: &OperationDescriptor) -> HeaderValue {
    let mut types: Vec<&Text> = Vec::new();
    // Media types only error responses declare (a `text/plain` 409), accepted after the
    // success ones, so that a server that negotiates can send its declared error body.
    let mut errors: Vec<&Text> = Vec::new();
    for response in op.responses.iter() {
        let success = match response.status {
            StatusMatch::Code(code) => (200..300).contains(&code),
            StatusMatch::Range(digit) => digit == 2,
            StatusMatch::Default => false,
        };
        if let Some(media) = response.media_type.as_ref() {
            let list = if success { &mut types } else { &mut errors };
            if !list.contains(&media) {
                list.push(media);
            }
        }
    }
    // Without a success type, JSON is what is asked for anyway.
    let json_implied = types.is_empty();
    errors.retain(|media| {
        let implied = json_implied && media.as_ref() == JSON;
        !(types.contains(media) || implied)
    });
    let json = || HeaderValue::from_static(JSON);
    match (types.as_slice(), errors.is_empty()) {
        ([], true) => json(),
        // Most operations answer one type; a generated descriptor's is static and needs no copy.
        ([one], true) if one.as_ref() == JSON => json(),
        ([Text::Borrowed(one)], true) => {
            HeaderValue::from_maybe_shared(Bytes::from_static((*one).as_bytes()))
                .unwrap_or_else(|_| json())
        }
        _ => {
            let mut joined: Vec<String> = types.iter().map(|t| t.to_string()).collect();
            if joined.is_empty() {
                joined.push(JSON.to_owned());
            }
            joined.extend(errors.iter().map(|t| format!("{t};q=0.5")));
            HeaderValue::from_str(&joined.join(", ")).unwrap_or_else(|_| json())
        }
    }
}

/// A parameter value reduced for its style, or JSON text for a `content` parameter.
fn flat(param: &ParamDescriptor, value: &serde_json::Value) -> Flat {
    if param.json {
        Flat::json(value)
    } else {
        Flat::from_value(value)
    }
}

/// Whether a media type is `application/json` or a `+json` type, ignoring parameters and case
/// (what comparing [`media_essence`](crate::descriptor::media_essence) tells, without forming it:
/// every dynamic call's response is asked).
pub(crate) fn is_json(media: &str) -> bool {
    let essence = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .as_bytes();
    let suffix = b"+json";
    essence.eq_ignore_ascii_case(JSON.as_bytes())
        || (essence.contains(&b'/')
            && essence.len() >= suffix.len()
            && essence[essence.len() - suffix.len()..].eq_ignore_ascii_case(suffix))
}

fn method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Put => reqwest::Method::PUT,
        Method::Post => reqwest::Method::POST,
        Method::Delete => reqwest::Method::DELETE,
        Method::Options => reqwest::Method::OPTIONS,
        Method::Head => reqwest::Method::HEAD,
        Method::Patch => reqwest::Method::PATCH,
        Method::Trace => reqwest::Method::TRACE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_told_as_their_essence_tells() {
        for media in [
            "application/json",
            "Application/JSON; charset=utf-8",
            " application/json ;q=1",
            "application/problem+json",
            "application/vnd.github.v3+JSON",
            "text/plain",
            "+json",
            "json",
            "application/jsonx",
            "",
            "é/ü+json",
            "application/xml; profile=+json",
        ] {
            let essence = crate::descriptor::media_essence(media);
            let expected = essence == JSON || (essence.contains('/') && essence.ends_with("+json"));
            assert_eq!(is_json(media), expected, "{media:?}");
        }
    }

    #[test]
    fn accept_lists_success_types_then_error_only_types() {
        use crate::descriptor::{Method, ResponseDescriptor};
        use std::borrow::Cow;
        let op = |responses: Vec<(StatusMatch, Option<&'static str>)>| OperationDescriptor {
            id: Cow::Borrowed("op"),
            method: Method::Get,
            path: Cow::Borrowed("/"),
            summary: None,
            params: Cow::Borrowed(&[]),
            body: None,
            responses: Cow::Owned(
                responses
                    .into_iter()
                    .map(|(status, media)| ResponseDescriptor {
                        status,
                        media_type: media.map(Cow::Borrowed),
                    })
                    .collect(),
            ),
            security: Cow::Borrowed(&[]),
            deprecated: false,
            servers: Cow::Borrowed(&[]),
        };
        let json = Some("application/json");
        let text = Some("text/plain");
        let accept = |r| accept(&op(r)).to_str().unwrap().to_owned();
        assert_eq!(
            accept(vec![
                (StatusMatch::Code(200), json),
                (StatusMatch::Default, json)
            ]),
            "application/json"
        );
        assert_eq!(
            accept(vec![(StatusMatch::Default, json)]),
            "application/json"
        );
        assert_eq!(
            accept(vec![
                (StatusMatch::Code(204), None),
                (StatusMatch::Code(409), text)
            ]),
            "application/json, text/plain;q=0.5"
        );
        assert_eq!(
            accept(vec![
                (StatusMatch::Code(200), Some("application/hal+json")),
                (StatusMatch::Range(4), json),
                (StatusMatch::Code(409), text),
            ]),
            "application/hal+json, application/json;q=0.5, text/plain;q=0.5"
        );
    }
}
