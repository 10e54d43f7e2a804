//! The descriptors of `operations.rs`, printed already formatted: the index constants, the
//! shared tables and the `OPERATIONS` array, which are most of the module (GitHub: 1.1 MB).
//!
//! They are data of a few shapes, which [`crate::format::layout`] prints in `prettyplease`'s
//! layout; the template prints the rest of the module and [`MARKER`] where these go. Spec text
//! is printed only as string literals ([`rust_literal`]) and in doc comments ([`doc_value`]);
//! names come from the lowering's naming, which gives identifiers only.

use super::tables::{ParamEntry, ResponseEntry, Tables};
use super::text::{doc_value, rust_literal};
use super::view::{BodyView, ConnectorView, OperationView, ServerView};
use crate::format::layout::{Expr, Printer};

/// The line the template prints where the descriptors go: an item that `prettyplease` prints
/// as it is, on a line of its own.
pub(crate) const MARKER: &str = "include!(\"__connector_gen_descriptors__\");";

/// `text` with the line [`MARKER`] replaced by the descriptors, printed formatted at the top
/// level of a module (where the template prints the marker); a template of the user's that has
/// no such line is left as it is.
pub(crate) fn splice(text: &str, view: &ConnectorView) -> String {
    let Some(at) = text.match_indices(MARKER).map(|(at, _)| at).find(|&at| {
        (at == 0 || text[..at].ends_with('\n')) && text[at + MARKER.len()..].starts_with('\n')
    }) else {
        return text.to_owned();
    };
    let descriptors = descriptors(view);
    let mut out = String::with_capacity(text.len() + descriptors.len());
    out.push_str(&text[..at]);
    out.push_str(&descriptors);
    out.push_str(&text[at + MARKER.len() + 1..]);
    out
}

/// The descriptors of `view`'s operations, formatted, each line ending in a newline.
fn descriptors(view: &ConnectorView) -> String {
    let mut printer = Printer::new(String::with_capacity(view.operations.len() * 1024));
    for op in &view.operations {
        printer.line(
            0,
            &doc(&format!(
                "Index of the `{}` action in [`OPERATIONS`].",
                doc_value(&op.id)
            )),
        );
        printer.line(0, "///");
        printer.line(0, &doc(&doc_value(&op.auth_doc)));
        printer.line(
            0,
            &format!("pub const {}: usize = {};", op.const_name, op.index),
        );
    }
    tables(&mut printer, &view.tables);
    printer.line(0, "/// Descriptors of every action, in spec order.");
    let operations = Expr::Array(view.operations.iter().map(operation).collect());
    let head = format!(
        "pub static OPERATIONS: [d::OperationDescriptor; {}] = ",
        view.operations.len()
    );
    printer.item(0, &head, &operations, ";");
    printer.finish()
}

/// A doc comment line as `prettyplease` prints it: trailing spaces trimmed.
fn doc(text: &str) -> String {
    format!("/// {text}").trim_end().to_owned()
}

fn tables(printer: &mut Printer, tables: &Tables) {
    if tables.params.is_empty() && tables.responses.is_empty() && tables.servers.is_empty() {
        return;
    }
    printer.line(
        0,
        "/// Parameter, response and server descriptors shared by the actions (large APIs repeat them often).",
    );
    printer.line(0, "mod table {");
    printer.line(4, "use ::connector_runtime::descriptor as d;");
    let uses_text = !tables.params.is_empty()
        || !tables.servers.is_empty()
        || tables.responses.iter().any(|r| r.media_type.is_some());
    if uses_text {
        printer.line(4, "use ::std::borrow::Cow;");
    }
    for (index, p) in tables.params.iter().enumerate() {
        let head = format!("pub(super) const P{index}: d::ParamDescriptor = ");
        printer.item(4, &head, &param(p), ";");
    }
    for (index, r) in tables.responses.iter().enumerate() {
        let head = format!("pub(super) const R{index}: d::ResponseDescriptor = ");
        printer.item(4, &head, &response(r), ";");
    }
    for (index, s) in tables.servers.iter().enumerate() {
        let head = format!("pub(super) const S{index}: d::ServerDescriptor = ");
        printer.item(4, &head, &server(s), ";");
    }
    printer.line(0, "}");
}

fn atom(text: impl Into<String>) -> Expr {
    Expr::Atom(text.into())
}

/// `Cow::Borrowed("text")`.
fn text(value: &str) -> Expr {
    Expr::call("Cow::Borrowed", atom(rust_literal(value)))
}

/// `Some(Cow::Borrowed("text"))` or `None`.
fn optional_text(value: Option<&str>) -> Expr {
    value.map_or_else(|| atom("None"), |v| Expr::call("Some", text(v)))
}

/// `Cow::Borrowed(&[...])`.
fn borrowed(elements: Vec<Expr>) -> Expr {
    Expr::call("Cow::Borrowed", Expr::Slice(elements))
}

/// `Cow::Borrowed(&[table::X0, ...])`.
fn refs(table: char, indices: &[usize]) -> Expr {
    borrowed(
        indices
            .iter()
            .map(|i| atom(format!("table::{table}{i}")))
            .collect(),
    )
}

fn param(p: &ParamEntry) -> Expr {
    Expr::Struct(
        "d::ParamDescriptor",
        vec![
            ("name", text(&p.wire_name)),
            (
                "location",
                atom(format!("d::ParamLocation::{}", p.location)),
            ),
            ("required", atom(p.required.to_string())),
            ("style", atom(format!("d::ParamStyle::{}", p.style))),
            ("explode", atom(p.explode.to_string())),
            ("allow_reserved", atom(p.allow_reserved.to_string())),
            ("json", atom(p.json.to_string())),
        ],
    )
}

fn response(r: &ResponseEntry) -> Expr {
    Expr::Struct(
        "d::ResponseDescriptor",
        vec![
            ("status", atom(r.status.as_str())),
            ("media_type", optional_text(r.media_type.as_deref())),
        ],
    )
}

fn server(s: &ServerView) -> Expr {
    let variables = s
        .variables
        .iter()
        .map(|v| {
            Expr::Struct(
                "d::ServerVariableDescriptor",
                vec![
                    ("name", text(&v.name)),
                    ("default", text(&v.default)),
                    (
                        "allowed",
                        borrowed(v.allowed.iter().map(|a| text(a)).collect()),
                    ),
                    ("description", optional_text(v.description.as_deref())),
                ],
            )
        })
        .collect();
    Expr::Struct(
        "d::ServerDescriptor",
        vec![
            ("url", text(&s.url)),
            ("description", optional_text(s.description.as_deref())),
            ("variables", borrowed(variables)),
        ],
    )
}

fn body(b: &BodyView) -> Expr {
    let encoding = b
        .encoding
        .iter()
        .map(|e| {
            Expr::Struct(
                "d::PropertyEncoding",
                vec![
                    ("property", text(&e.property)),
                    ("content_type", optional_text(e.content_type.as_deref())),
                    ("style", atom(format!("d::ParamStyle::{}", e.style))),
                    ("explode", atom(e.explode.to_string())),
                    ("allow_reserved", atom(e.allow_reserved.to_string())),
                ],
            )
        })
        .collect();
    Expr::call(
        "Some",
        Expr::Struct(
            "d::BodyDescriptor",
            vec![
                (
                    "media_types",
                    borrowed(b.media_types.iter().map(|m| text(m)).collect()),
                ),
                ("required", atom(b.required.to_string())),
                ("encoding", borrowed(encoding)),
            ],
        ),
    )
}

fn operation(op: &OperationView) -> Expr {
    let security = op
        .security
        .iter()
        .map(|requirement| borrowed(requirement.iter().map(|scheme| text(scheme)).collect()))
        .collect();
    let servers = if op.server_refs.is_empty() {
        atom("d::NO_SERVERS")
    } else {
        refs('S', &op.server_refs)
    };
    Expr::Struct(
        "d::OperationDescriptor",
        vec![
            ("id", text(&op.id)),
            ("method", atom(format!("d::Method::{}", op.method))),
            ("path", text(&op.path)),
            ("summary", optional_text(op.summary.as_deref())),
            ("params", refs('P', &op.param_refs)),
            ("body", op.body.as_ref().map_or_else(|| atom("None"), body)),
            ("responses", refs('R', &op.response_refs)),
            ("security", borrowed(security)),
            ("deprecated", atom(op.deprecated.to_string())),
            ("servers", servers),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The descriptors of every sample spec print exactly as `prettyplease` prints them after
    /// parsing them: the printing is `prettyplease`'s layout, not one of its own.
    #[test]
    fn descriptors_are_printed_as_prettyplease_prints_them() {
        for (path, connector) in crate::sample_connectors() {
            let ours = descriptors(&ConnectorView::new(&connector, "x"));
            let parsed = syn::parse_file(&ours).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert_eq!(ours, prettyplease::unparse(&parsed), "{path:?}");
        }
    }

    #[test]
    fn only_a_whole_marker_line_is_replaced() {
        let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/petstore.yaml");
        let lowered = crate::load_spec(&spec, &crate::Options::default()).unwrap();
        let view = ConnectorView::new(&lowered.connector, "x");
        let text = format!("use a;\n{MARKER}\nstatic B: u8 = 0;\n");
        let spliced = splice(&text, &view);
        assert!(
            spliced.starts_with("use a;\n/// Index of the `listPets` action"),
            "{spliced}"
        );
        assert!(spliced.ends_with("];\nstatic B: u8 = 0;\n"), "{spliced}");
        // A user's template without the line, or with the text inside another line, is kept.
        for kept in [
            "use a;\n",
            &format!("// {MARKER}\n"),
            &format!("    {MARKER}\n"),
        ] {
            assert_eq!(splice(kept, &view), kept);
        }
    }

    #[test]
    fn spec_text_is_printed_as_literals_only() {
        let spec = r#"{"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
            "paths": {"/a/{b}": {"get": {"operationId": "x*/ fn f() {} /*",
            "summary": "\"); }\n#[cfg(evil)] const Y: u8 = 0;",
            "parameters": [{"name": "b\")]; fn g() {}", "in": "path", "required": true,
                "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}}}}}}"#;
        let lowered = crate::load_connector(spec.as_bytes(), &crate::Options::default()).unwrap();
        let view = ConnectorView::new(&lowered.connector, "x");
        let ours = descriptors(&view);
        let file = syn::parse_file(&ours).expect("valid Rust");
        let items: Vec<String> = file
            .items
            .iter()
            .map(|item| match item {
                syn::Item::Const(c) => c.ident.to_string(),
                syn::Item::Static(s) => s.ident.to_string(),
                syn::Item::Mod(m) => m.ident.to_string(),
                _ => "other".to_owned(),
            })
            .collect();
        assert_eq!(items, ["X_FN_F", "table", "OPERATIONS"], "{ours}");
    }
}
