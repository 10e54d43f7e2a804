//! Backend variables: values a connection gives, checked against what its version declares, and
//! placed in every request (header, query, path parameter or JSON body field).
//!
//! Every problem is reported at once, each naming its variable; values are never quoted, since a
//! variable may be a secret. Server variables are substituted by [`crate::server`], which keeps a
//! value from changing anything but the part of the URL it stands for.

use std::borrow::Cow;

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::args::Args;
use crate::body::Content;
use crate::descriptor::{OperationDescriptor, ParamLocation};
use crate::secret::Secret;
use crate::versions::{VariableDescriptor, VariableKind, VariableLocation};

/// A value a connection gives for a variable.
#[derive(Clone)]
pub(crate) enum Given {
    /// Configuration: text, a number or a boolean.
    Plain(Value),
    /// A secret (from `{ env }`, `{ file }` or [`Secret`]).
    Secret(Secret),
}

impl Given {
    fn kind(&self) -> &'static str {
        match self {
            Given::Plain(Value::String(_)) | Given::Secret(_) => "text",
            Given::Plain(Value::Number(_)) => "a number",
            Given::Plain(Value::Bool(_)) => "a boolean",
            Given::Plain(Value::Null) => "nothing",
            Given::Plain(_) => "a table or list",
        }
    }
}

/// The checked values, ready to be placed in requests.
#[derive(Clone, Default)]
pub(crate) struct Backend {
    /// Header values, marked sensitive when they come from secret variables.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Query pairs, still to be encoded, and whether each comes from a secret variable.
    pub(crate) query: Vec<(String, Secret, bool)>,
    /// Values of server-URL variables, for [`crate::server::resolve`].
    pub(crate) server: Vec<(String, String)>,
    path: Vec<(String, Value)>,
    body: Vec<(String, Value)>,
}

/// Checks `given` against `declared`; `server_variables` are the names the chosen server's URL
/// declares, which a connection may set too. Returns every problem, each as "`variables.NAME`:
/// what is wrong".
pub(crate) fn check(
    declared: &[VariableDescriptor],
    server_variables: &[&str],
    given: &[(String, Given)],
) -> Result<Backend, Vec<String>> {
    let mut problems = Vec::new();
    let mut problem = |name: &str, message: String| {
        problems.push(format!("`variables.{name}`: {message}"));
    };
    let known = || {
        declared
            .iter()
            .map(|d| d.name.as_ref())
            .chain(server_variables.iter().copied())
    };
    for (name, _) in given {
        if !known().any(|k| k == name) {
            let mut names: Vec<&str> = known().collect();
            names.sort_unstable();
            names.dedup();
            problem(
                name,
                format!(
                    "unknown variable{}",
                    crate::config::hint(name, names.into_iter())
                ),
            );
        }
    }
    let lookup = |name: &str| given.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v);
    let mut backend = Backend::default();
    for (name, value) in given {
        // Server variables the manifest says nothing about are checked by the server's rules.
        let ruled = declared.iter().any(|d| d.name == *name);
        if !ruled && server_variables.contains(&name.as_str()) {
            match value {
                Given::Plain(v) => match text(v) {
                    Some(text) => backend.server.push((name.clone(), text)),
                    None => problem(name, format!("expected text, found {}", value.kind())),
                },
                Given::Secret(_) => {
                    problem(name, "a server URL variable cannot be a secret".into())
                }
            }
        }
    }
    for variable in declared {
        let name = variable.name.as_ref();
        let value = match lookup(name) {
            Some(value) => Cow::Borrowed(value),
            None => match &variable.default {
                Some(default) => Cow::Owned(Given::Plain(Value::String(default.to_string()))),
                None => {
                    if let Some(why) = required(variable, declared, &lookup) {
                        problem(name, format!("missing: {why}{}", described(variable)));
                    }
                    continue;
                }
            },
        };
        match typed(variable, &value) {
            Ok(value) => {
                if let Err(message) = place(variable, value, &mut backend) {
                    problem(name, message);
                }
            }
            Err(message) => problem(name, message),
        }
    }
    if problems.is_empty() {
        Ok(backend)
    } else {
        Err(problems)
    }
}

/// Why a variable without a value is a problem, or `None` when it may be left out.
fn required<'g>(
    variable: &VariableDescriptor,
    declared: &[VariableDescriptor],
    lookup: &impl Fn(&str) -> Option<&'g Given>,
) -> Option<String> {
    if variable.required {
        return Some("this variable is required".into());
    }
    let (other, wanted) = variable.required_when.as_ref()?;
    let effective = match lookup(other) {
        Some(Given::Plain(v)) => text(v),
        Some(Given::Secret(_)) => None,
        None => declared
            .iter()
            .find(|d| d.name == *other)
            .and_then(|d| d.default.as_ref().map(|t| t.to_string())),
    };
    (effective.as_deref() == Some(wanted.as_ref()))
        .then(|| format!("required when `{other}` is `{wanted}`"))
}

fn described(variable: &VariableDescriptor) -> String {
    match &variable.description {
        Some(text) => format!(" ({text})"),
        None => String::new(),
    }
}

/// A scalar as text, as it goes on the wire.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A value checked against its variable's type and pattern. Messages never quote the value.
enum Checked {
    Plain(Value),
    Secret(Secret),
}

fn typed(variable: &VariableDescriptor, value: &Given) -> Result<Checked, String> {
    let wrong = || {
        format!(
            "expected {}, found {}",
            match &variable.kind {
                VariableKind::String => "text",
                VariableKind::Integer => "a whole number",
                VariableKind::Boolean => "true or false",
                VariableKind::Enum(_) => "one of the listed values",
                VariableKind::Secret => "a secret",
            },
            value.kind()
        )
    };
    let checked = match (&variable.kind, value) {
        (VariableKind::Secret, Given::Secret(s)) => Checked::Secret(s.clone()),
        (VariableKind::Secret, Given::Plain(Value::String(s))) => {
            Checked::Secret(Secret::new(s.clone()))
        }
        (VariableKind::Secret, _) => return Err(wrong()),
        (_, Given::Secret(_)) => {
            return Err(format!(
                "a {} variable takes plain text, not a secret",
                variable.kind.as_str()
            ))
        }
        (VariableKind::String, Given::Plain(Value::String(s))) => Checked::Plain(s.clone().into()),
        (VariableKind::Integer, Given::Plain(v)) => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Checked::Plain(v.clone()),
            Value::String(s) => match s.parse::<i64>() {
                Ok(n) => Checked::Plain(n.into()),
                Err(_) => return Err(wrong()),
            },
            _ => return Err(wrong()),
        },
        (VariableKind::Boolean, Given::Plain(v)) => match v {
            Value::Bool(_) => Checked::Plain(v.clone()),
            Value::String(s) if s == "true" || s == "false" => Checked::Plain((s == "true").into()),
            _ => return Err(wrong()),
        },
        (VariableKind::Enum(allowed), Given::Plain(v)) => match text(v) {
            Some(t) if allowed.iter().any(|a| *a == t) => Checked::Plain(Value::String(t)),
            _ => {
                let list: Vec<&str> = allowed.iter().map(|a| a.as_ref()).collect();
                return Err(format!("must be one of: {}", list.join(", ")));
            }
        },
        (VariableKind::String, Given::Plain(_)) => return Err(wrong()),
    };
    if let Some(pattern) = &variable.pattern {
        let raw = match &checked {
            Checked::Plain(v) => text(v).unwrap_or_default(),
            Checked::Secret(s) => s.expose().to_owned(),
        };
        let regex = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|_| {
            format!("the declared pattern `{pattern}` is not a valid regular expression")
        })?;
        if !regex.is_match(&raw) {
            return Err(format!("does not match the pattern `{pattern}`"));
        }
    }
    Ok(checked)
}

/// Puts a checked value where its variable says, refusing values that would escape that place.
fn place(
    variable: &VariableDescriptor,
    value: Checked,
    backend: &mut Backend,
) -> Result<(), String> {
    let (raw, secret) = match &value {
        Checked::Plain(v) => (text(v).unwrap_or_default(), false),
        Checked::Secret(s) => (s.expose().to_owned(), true),
    };
    match &variable.location {
        VariableLocation::Server => {
            if secret {
                return Err("a server URL variable cannot be a secret".into());
            }
            backend.server.push((variable.name.to_string(), raw));
        }
        VariableLocation::Header(name) => {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`{name}` is not a valid header name"))?;
            // `HeaderValue` refuses CR, LF and NUL, which is what header injection needs.
            let mut value = HeaderValue::from_str(&raw).map_err(|_| {
                "not a valid HTTP header value (control characters or non-ASCII)".to_owned()
            })?;
            value.set_sensitive(secret);
            backend.headers.push((header, value));
        }
        VariableLocation::Query(name) => {
            backend
                .query
                .push((name.to_string(), Secret::new(raw), secret))
        }
        VariableLocation::Path(name) => {
            // Encoding keeps `/` from splitting the segment; these would still change which
            // resource the path names.
            if raw.is_empty() || raw == "." || raw == ".." || raw.contains(['/', '\\']) {
                return Err(
                    "a path value must be one non-empty segment: no `/`, `.` or `..`".into(),
                );
            }
            backend.path.push((name.to_string(), Value::String(raw)));
        }
        VariableLocation::Body(pointer) => {
            if !pointer.starts_with('/') {
                return Err(format!(
                    "the body location `{pointer}` is not a JSON pointer"
                ));
            }
            let value = match value {
                Checked::Plain(v) => v,
                Checked::Secret(s) => Value::String(s.expose().to_owned()),
            };
            backend.body.push((pointer.to_string(), value));
        }
    }
    Ok(())
}

impl Backend {
    /// Whether a secret variable goes into every request (which then needs https).
    pub(crate) fn sends_secrets(&self) -> bool {
        self.headers.iter().any(|(_, v)| v.is_sensitive()) || self.query.iter().any(|q| q.2)
    }

    /// The query pairs, encoded.
    pub(crate) fn query_pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.query.iter().map(|(name, value, _)| {
            (
                crate::encoding::component(name),
                crate::encoding::component(value.expose()),
            )
        })
    }

    /// The arguments with the variables' path parameters and body fields in place, or `None`
    /// when none applies to `op`. The connection's values win over the caller's, so a caller
    /// cannot reach another tenant's backend through an argument.
    pub(crate) fn fill(&self, op: &OperationDescriptor, args: &Args) -> Option<Args> {
        let paths: Vec<&(String, Value)> = self
            .path
            .iter()
            .filter(|(name, _)| op.param(ParamLocation::Path, name).is_some())
            .collect();
        let object_body = matches!(args.body(), Some(Content::Value(Value::Object(_))))
            && json_body(op, args.media_type());
        if paths.is_empty() && (self.body.is_empty() || !object_body) {
            return None;
        }
        let mut filled = args.clone();
        for (name, value) in paths {
            filled.param(ParamLocation::Path, name.clone(), value.clone());
        }
        if object_body && !self.body.is_empty() {
            if let Some(Content::Value(mut body)) = args.body().cloned() {
                for (pointer, value) in &self.body {
                    set_pointer(&mut body, pointer, value.clone());
                }
                filled.body_value(body);
            }
        }
        Some(filled)
    }
}

/// Whether the body goes out as JSON: the chosen media type, else the first JSON one declared.
fn json_body(op: &OperationDescriptor, chosen: Option<&str>) -> bool {
    match chosen {
        Some(media) => crate::request::is_json(media),
        None => op
            .body
            .as_ref()
            .is_some_and(|b| b.media_types.iter().any(|m| crate::request::is_json(m))),
    }
}

/// Sets the field at `pointer`, creating objects on the way; a non-object in the way is replaced.
fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut at = root;
    for token in parents {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(map) = at else { return };
        at = map
            .entry(token.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !at.is_object() {
        *at = Value::Object(Map::new());
    }
    if let Value::Object(map) = at {
        map.insert(last.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn var(name: &str, kind: VariableKind, location: VariableLocation) -> VariableDescriptor {
        VariableDescriptor {
            name: name.to_owned().into(),
            description: None,
            kind,
            required: false,
            required_when: None,
            default: None,
            pattern: None,
            location,
        }
    }

    fn plain(name: &str, value: Value) -> (String, Given) {
        (name.to_owned(), Given::Plain(value))
    }

    #[test]
    fn every_problem_is_reported_with_its_variable() {
        let mut tenant = var(
            "tenant",
            VariableKind::String,
            VariableLocation::Header("X-Tenant".into()),
        );
        tenant.required = true;
        tenant.pattern = Some("[a-z0-9-]{1,32}".into());
        let mut region = var(
            "region",
            VariableKind::Enum(Cow::Owned(vec!["eu".into(), "us".into()])),
            VariableLocation::Query("region".into()),
        );
        region.required = true;
        let mut limit = var(
            "limit",
            VariableKind::Integer,
            VariableLocation::Body("/limit".into()),
        );
        limit.required = true;
        let mut key = var(
            "key",
            VariableKind::Secret,
            VariableLocation::Header("X-Key".into()),
        );
        key.required_when = Some(("region".into(), "eu".into()));
        let declared = [tenant, region, limit, key];
        let problems = check(
            &declared,
            &["host"],
            &[
                plain("tenant", json!("Not_Valid")),
                plain("region", json!("mars")),
                plain("limit", json!("ten")),
                plain("tennant", json!("x")),
            ],
        )
        .err()
        .unwrap();
        let text = problems.join("\n");
        assert_eq!(problems.len(), 4, "{text}");
        assert!(
            text.contains("`variables.tenant`: does not match the pattern"),
            "{text}"
        );
        assert!(
            text.contains("`variables.region`: must be one of: eu, us"),
            "{text}"
        );
        assert!(
            text.contains("`variables.limit`: expected a whole number, found text"),
            "{text}"
        );
        assert!(
            text.contains("`variables.tennant`: unknown variable") && text.contains("`tenant`"),
            "{text}"
        );
        assert!(
            !text.contains("Not_Valid") && !text.contains("mars"),
            "values are not quoted: {text}"
        );

        let problems = check(&declared, &[], &[plain("region", json!("eu"))])
            .err()
            .unwrap();
        let text = problems.join("\n");
        assert!(
            text.contains("`variables.key`: missing: required when `region` is `eu`"),
            "{text}"
        );
        assert!(text.contains("`variables.tenant`: missing"), "{text}");
    }

    #[test]
    fn secrets_are_never_shown() {
        let mut key = var(
            "key",
            VariableKind::Secret,
            VariableLocation::Header("X-Key".into()),
        );
        key.pattern = Some("sk_[a-z]+".into());
        let given = [(
            "key".to_owned(),
            Given::Secret(Secret::new("sk_live_CANARY_7f3a")),
        )];
        let problems = check(std::slice::from_ref(&key), &[], &given)
            .err()
            .unwrap();
        assert!(!problems.join("").contains("CANARY"), "{problems:?}");
        let given = [("key".to_owned(), Given::Secret(Secret::new("sk_canary")))];
        let backend = check(&[key], &[], &given).ok().unwrap();
        assert!(backend.headers[0].1.is_sensitive());
    }

    #[test]
    fn path_values_cannot_add_segments() {
        let site = var(
            "site",
            VariableKind::String,
            VariableLocation::Path("site".into()),
        );
        for bad in ["a/b", "..", ".", "", "a\\b"] {
            assert!(
                check(
                    std::slice::from_ref(&site),
                    &[],
                    &[plain("site", json!(bad))]
                )
                .is_err(),
                "{bad:?}"
            );
        }
        assert!(check(&[site], &[], &[plain("site", json!("main"))]).is_ok());
    }

    #[test]
    fn header_values_cannot_inject_lines() {
        let tenant = var(
            "tenant",
            VariableKind::String,
            VariableLocation::Header("X-Tenant".into()),
        );
        assert!(check(&[tenant], &[], &[plain("tenant", json!("a\r\nX-Admin: 1"))]).is_err());
    }

    #[test]
    fn body_fields_are_set_by_pointer() {
        let mut body = json!({"name": "x", "meta": 3});
        set_pointer(&mut body, "/context/tenant", json!("acme"));
        set_pointer(&mut body, "/meta/a~1b", json!(1));
        assert_eq!(
            body,
            json!({"name": "x", "meta": {"a/b": 1}, "context": {"tenant": "acme"}})
        );
    }

    #[test]
    fn defaults_and_typed_text_are_accepted() {
        let mut flag = var(
            "debug",
            VariableKind::Boolean,
            VariableLocation::Query("debug".into()),
        );
        flag.default = Some("false".into());
        let count = var(
            "count",
            VariableKind::Integer,
            VariableLocation::Body("/n".into()),
        );
        let backend = check(&[flag, count], &[], &[plain("count", json!("12"))])
            .ok()
            .unwrap();
        assert_eq!(backend.query[0].1.expose(), "false");
        assert!(!backend.sends_secrets());
        assert_eq!(backend.body, vec![("/n".to_owned(), json!(12))]);
    }
}
