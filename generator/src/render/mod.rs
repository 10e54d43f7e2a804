//! Render: the IR is printed through minijinja templates into Rust and TOML text.
//!
//! Templates only print. Strings print as literals unless a filter vouches for them: `ident`,
//! `ty` and `expr` check with `syn` that the text is one identifier, type or expression, so a spec
//! string can never become code even if a template forgets to quote it.

mod context;
pub(crate) mod descriptors;
mod entities;
mod errors;
mod markdown;
mod plain;
mod tables;
mod text;
pub(crate) mod view;
mod webhooks;

use crate::hashing::FastSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};

use crate::error::Error;
pub(crate) use context::ViewContext;
pub use text::{ascii_json, doc_comment, doc_value, rust_literal, toml_literal, visible_text};

/// The templates embedded in the binary, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("lib.rs.j2", include_str!("../../../templates/lib.rs.j2")),
    (
        "webhooks.rs.j2",
        include_str!("../../../templates/webhooks.rs.j2"),
    ),
    (
        "types.rs.j2",
        include_str!("../../../templates/types.rs.j2"),
    ),
    (
        "operations.rs.j2",
        include_str!("../../../templates/operations.rs.j2"),
    ),
    (
        "client.rs.j2",
        include_str!("../../../templates/client.rs.j2"),
    ),
    (
        "entities.rs.j2",
        include_str!("../../../templates/entities.rs.j2"),
    ),
    (
        "errors.rs.j2",
        include_str!("../../../templates/errors.rs.j2"),
    ),
    (
        "Cargo.toml.j2",
        include_str!("../../../templates/Cargo.toml.j2"),
    ),
    ("main.rs.j2", include_str!("../../../templates/main.rs.j2")),
];

/// Renders templates, from the embedded set or from a directory that overrides some of them.
pub(crate) struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// A renderer using the embedded templates, each replaced by the file of the same name in
    /// `override_dir` when that file exists.
    pub(crate) fn new(override_dir: Option<&Path>) -> Result<Self, Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_keep_trailing_newline(true);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".toml.j2") {
                AutoEscape::Custom("toml")
            } else {
                AutoEscape::Custom("rust")
            }
        });
        env.set_formatter(format_value);
        env.add_filter("doc", doc_filter);
        env.add_filter("inner_doc", |v: Option<String>| {
            Value::from_safe_string(
                v.map(|v| doc_comment(&v).replace("///", "//!"))
                    .unwrap_or_default(),
            )
        });
        env.add_filter("doc_value", |v: String| {
            Value::from_safe_string(doc_value(&v))
        });
        // A large API prints the same names and types thousands of times; each is parsed once.
        // Plain identifiers, paths and types are told apart without parsing (see `plain.rs`).
        let never = |_: &str| false;
        for (name, what, plain, check) in [
            (
                "ident",
                "identifier",
                plain::is_ident as fn(&str) -> bool,
                parses::<syn::Ident> as Check,
            ),
            ("ty", "type", plain::is_type, parses::<syn::Type>),
            ("expr", "expression", plain::is_path, parses::<syn::Expr>),
            ("pat", "pattern", never, parses_pattern),
        ] {
            let valid: Arc<Mutex<FastSet<String>>> = Arc::default();
            env.add_filter(name, move |v: String| {
                if plain(&v) {
                    return Ok(Value::from_safe_string(v));
                }
                checked(&valid, check, v, what)
            });
        }
        env.add_filter("text", |v: String| Value::from_safe_string(cow_text(&v)));
        env.add_filter("opt_text", |v: Option<String>| {
            Value::from_safe_string(match v {
                Some(s) => format!("Some({})", cow_text(&s)),
                None => "None".to_owned(),
            })
        });
        for (name, embedded) in TEMPLATES {
            let source = match override_dir.map(|dir| dir.join(name)) {
                Some(path) if path.is_file() => read(&path)?,
                _ => (*embedded).to_owned(),
            };
            env.add_template_owned(*name, source)
                .map_err(|source| Error::Template {
                    template: (*name).to_owned(),
                    source,
                })?;
        }
        Ok(Self { env })
    }

    /// Renders one template with `c` (the view, see [`ViewContext::value`]) and `extra`.
    pub(crate) fn render(&self, template: &str, c: Value, extra: Value) -> Result<String, Error> {
        let err = |source| Error::Template {
            template: template.to_owned(),
            source,
        };
        let tmpl = self.env.get_template(template).map_err(err)?;
        tmpl.render(minijinja::context! { c => c, ..extra })
            .map_err(err)
    }
}

/// Types per piece of the `types` module: the template is rendered a batch of types at a time,
/// so that batches render in parallel and only a batch's types are converted to template values
/// at once. The template must print its types independently of each other. (The module is
/// formatted in pieces of its own, see `format/pieces.rs`.)
pub(crate) const TYPES_PER_BATCH: usize = 400;

fn read(path: &PathBuf) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "reading template",
        path: path.clone(),
        source,
    })
}

/// A descriptor's text. The module that prints it imports `Cow`: the full path, written 8,700
/// times in GitHub's descriptors, made a third of their parse and print.
fn cow_text(value: &str) -> String {
    format!("Cow::Borrowed({})", rust_literal(value))
}

/// Prints values: safe strings as they are, other strings as Rust (or TOML) literals, numbers
/// and booleans as themselves; `none` is a template bug and fails loudly.
fn format_value(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &Value,
) -> Result<(), minijinja::Error> {
    let write_err = |_| minijinja::Error::new(ErrorKind::WriteFailure, "could not write output");
    if value.is_none() || value.is_undefined() {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            "printed a missing value (none); guard it with `if` or a filter",
        ));
    }
    if value.is_safe() {
        return write!(out, "{value}").map_err(write_err);
    }
    if let Some(s) = value.as_str() {
        let literal = match state.auto_escape() {
            AutoEscape::Custom("toml") => toml_literal(s),
            _ => rust_literal(s),
        };
        return out.write_str(&literal).map_err(write_err);
    }
    if value.kind() == minijinja::value::ValueKind::Bool {
        let text = if value.is_true() { "true" } else { "false" };
        return out.write_str(text).map_err(write_err);
    }
    if value.is_number() {
        return write!(out, "{value}").map_err(write_err);
    }
    Err(minijinja::Error::new(
        ErrorKind::InvalidOperation,
        format!("cannot print a {} directly", value.kind()),
    ))
}

fn doc_filter(value: Option<String>) -> Value {
    Value::from_safe_string(value.map(|v| doc_comment(&v)).unwrap_or_default())
}

/// `value` as safe text when `check` finds it is one Rust `what`; `valid` remembers the texts
/// found valid before.
fn checked(
    valid: &Mutex<FastSet<String>>,
    check: Check,
    value: String,
    what: &str,
) -> Result<Value, minijinja::Error> {
    // A poisoned lock only means a check panicked elsewhere: the set is intact.
    let lock = || {
        valid
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if lock().contains(&value) {
        return Ok(Value::from_safe_string(value));
    }
    if let Err(e) = check(&value) {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("{value:?} is not a Rust {what}: {e}"),
        ));
    }
    lock().insert(value.clone());
    Ok(Value::from_safe_string(value))
}

/// Checks that a text is one identifier, type or expression.
type Check = fn(&str) -> Result<(), syn::Error>;

/// Whether `text` parses as one pattern, alternatives (`401..=408 | 410..=499`) included.
fn parses_pattern(text: &str) -> Result<(), syn::Error> {
    use syn::parse::Parser as _;
    let parsed = syn::Pat::parse_multi.parse_str(text).map(drop);
    crate::format::forget_spans();
    parsed
}

/// Whether `text` parses as one `T`.
fn parses<T: syn::parse::Parse>(text: &str) -> Result<(), syn::Error> {
    let parsed = syn::parse_str::<T>(text).map(drop);
    crate::format::forget_spans();
    parsed
}
