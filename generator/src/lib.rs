//! connector-gen: generates typed Rust connector crates from OpenAPI documents (3.1, 3.0 and
//! Swagger 2.0, normalised at load time into one model).
//!
//! The pipeline is `load → resolve → lower → render → format → emit`: bytes become a JSON
//! document, references are followed, the spec is lowered into a plain-data IR where every name is
//! decided, templates print the IR, `syn` checks and `prettyplease` formats the Rust, and files are
//! written atomically when they changed.
//!
//! Three ways in:
//! - [`generate_crate`] writes a standalone crate (the `connector-gen generate` command);
//! - [`build::Builder`] writes one file into `OUT_DIR` for `include!` from a `build.rs`;
//! - [`load_connector`] gives the IR, for inspection.
//!
//! ```no_run
//! // build.rs
//! connector_gen::build::Builder::new("specs/petstore.yaml")
//!     .name("petstore")
//!     .generate()
//!     .expect("petstore connector");
//! // lib.rs: include!(concat!(env!("OUT_DIR"), "/petstore.rs"));
//! ```
#![deny(missing_docs)]

pub mod build;
pub mod catalogue;
pub mod dependency;
pub mod describe;
pub mod diagnostics;
pub mod emit;
mod error;
pub mod format;
pub(crate) mod hashing;
pub mod inspect;
pub mod interpret;
pub mod ir;
mod keywords;
pub mod load;
pub mod lower;
mod parallel;
mod readme;
pub mod render;
pub mod resolve;
pub mod schema;
pub mod versions;
pub mod workspace;

use std::path::{Path, PathBuf};

use minijinja::{context, Value};
use serde::Serialize;

pub use dependency::{GitReference, RuntimeDependency};
pub use diagnostics::{Code, Diagnostic, Severity};
pub use error::Error;
use ir::Connector;
pub use lower::Include;
use render::view::ConnectorView;
use render::{Renderer, ViewContext};
pub use workspace::{Placement, WorkspaceMode};

/// Options for generation.
#[derive(Debug, Clone)]
pub struct Options {
    /// Crate name; derived from `info.title` when `None`.
    pub name: Option<String>,
    /// Directory whose templates replace the embedded ones of the same name.
    pub templates: Option<PathBuf>,
    /// How the generated crate finds `connector-runtime`. Default: the runtime sources next to
    /// this generator when they exist, else the registry release of the same version.
    pub runtime: RuntimeDependency,
    /// Largest spec accepted, in bytes (checked before parsing).
    pub max_spec_bytes: usize,
    /// Whether the generated crate joins an enclosing cargo workspace. Default: when that
    /// workspace lists it as a member.
    pub workspace: WorkspaceMode,
    /// The generated crate's version. Default: the spec's `info.version` when it is a semantic
    /// version, else `0.1.0`.
    pub crate_version: Option<String>,
    /// The generated crate's SPDX license expression. Default: none, and the crate is marked
    /// `publish = false`.
    pub license: Option<String>,
    /// Writes into a folder holding files connector-gen did not generate (replacing those with
    /// the generated files' names, removing nothing). Default: `false`, such a folder is refused.
    pub force: bool,
    /// Whether the client gets a hidden `call_typed_from_json` method that deserialises the
    /// dynamic interface's JSON input into each action's typed arguments and calls the typed
    /// method: for tests that compare typed and dynamic calls. Off by default.
    pub test_dispatch: bool,
    /// For a manifest: generate even when the spec of a version recorded in the lock file
    /// changed (a published version should not change; a new spec is a new version). Off by
    /// default.
    pub allow_changed_spec: bool,
    /// The operations to generate, by tag, path prefix or operation id (the union of the
    /// matches); only the schemas they use become types. A listed value that matches no
    /// operation is an error naming its option. Default: every operation. A manifest chooses
    /// per version with its `include` table instead.
    pub include: Include,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            name: None,
            templates: None,
            runtime: RuntimeDependency::bundled_or_registry(),
            max_spec_bytes: load::DEFAULT_MAX_SPEC_BYTES,
            workspace: WorkspaceMode::Detect,
            crate_version: None,
            license: None,
            force: false,
            test_dispatch: false,
            allow_changed_spec: false,
            include: Include::default(),
        }
    }
}

/// A lowered connector and the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The IR.
    pub connector: Connector,
    /// Warnings, sorted by location.
    pub warnings: Vec<Diagnostic>,
}

/// Runs `load → resolve → lower` on spec bytes, keeping the operations of
/// [`Options::include`]. Errors list every problem found, sorted by location.
pub fn load_connector(bytes: &[u8], options: &Options) -> Result<Lowered, Error> {
    let document = load::load(bytes, options.max_spec_bytes).map_err(|d| Error::Spec(vec![d]))?;
    lower_included(document, options)
}

/// Runs `resolve → lower` on a loaded document, keeping the operations of
/// [`Options::include`]; an include value that matches no operation is an error naming it.
fn lower_included(document: load::Document, options: &Options) -> Result<Lowered, Error> {
    let by_tag = |u: &lower::select::Unmatched| u.criterion == lower::select::Criterion::Tag;
    // The spec's tags, for the error that a tag matches no operation: read before lowering
    // consumes the document, and only when tags are asked for.
    let tags: Option<String> = (!options.include.tags.is_empty())
        .then(|| lower::select::spec_tags(&document.root).join(", "));
    let lowered = lower_document(document, options, &options.include)?;
    let unmatched = options.include.unmatched(&lowered.connector.operations);
    let Some(first) = unmatched.first() else {
        return Ok(lowered);
    };
    let mut message: Vec<String> = unmatched
        .iter()
        .map(|u| {
            format!(
                "`--{} {}` matches no operation of the spec",
                u.criterion.flag(),
                u.value
            )
        })
        .collect();
    if let Some(tags) = tags.filter(|_| unmatched.iter().any(by_tag)) {
        message.push(format!("the spec's tags are: {tags}"));
    }
    Err(Error::InvalidOption {
        option: first.criterion.flag(),
        message: message.join("; "),
    })
}

/// Runs `resolve → lower` on a loaded document, keeping the operations `include` keeps.
pub(crate) fn lower_document(
    document: load::Document,
    options: &Options,
    include: &Include,
) -> Result<Lowered, Error> {
    lower_document_with(document, options, include, Default::default())
}

/// [`lower_document`], with the events a manifest declares for the document's version.
pub(crate) fn lower_document_with(
    document: load::Document,
    options: &Options,
    include: &Include,
    events: lower::manifest_events::DeclaredEvents,
) -> Result<Lowered, Error> {
    let mut diags = diagnostics::Diagnostics::default();
    let lower_options = lower::LowerOptions {
        name: options.name.clone(),
        include: include.clone(),
        events,
    };
    let mut connector = lower::lower(&document.root, &lower_options, &mut diags);
    // Lowering read the normalised document: its pointers go back to the user's.
    let map = &document.source_map;
    lower::relocate(&mut connector, map);
    let mut found = diagnostics::Diagnostics::default();
    for diag in document.warnings.into_iter().chain(diags.into_sorted()) {
        found.add(map.diagnostic(diag));
    }
    if found.has_errors() {
        return Err(Error::Spec(found.into_sorted()));
    }
    Ok(Lowered {
        connector,
        warnings: found.into_sorted(),
    })
}

/// Reads and lowers the spec file at `path`; a spec error names the file.
pub fn load_spec(path: &Path, options: &Options) -> Result<Lowered, Error> {
    let bytes = read_spec(path)?;
    let document = load::load(&bytes, options.max_spec_bytes).map_err(|d| Error::Spec(vec![d]));
    // The spec's bytes (13 MB for GitHub) are not needed once parsed: freed before lowering,
    // when memory peaks.
    drop(bytes);
    document
        .and_then(|document| lower_included(document, options))
        .map_err(|err| match err {
            Error::Spec(_) => Error::InSpec {
                path: path.to_path_buf(),
                source: Box::new(err),
            },
            other => other,
        })
}

/// Reads a spec file.
pub fn read_spec(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        action: "reading spec",
        path: path.to_path_buf(),
        source,
    })
}

#[derive(Serialize)]
struct ModuleView {
    name: &'static str,
    docs: &'static str,
    allow: &'static str,
    /// Whether the module's content is written inline (`include!` mode) or in its own file.
    inline: bool,
    content: Option<String>,
}

/// The generated modules, their templates, and the lints allowed in each.
///
/// Spec prose is not written as rustdoc Markdown and spec names follow the API, so the doc and
/// naming lints below would fire on text the generator must keep faithful; `deprecated` is allowed
/// because generated items refer to the spec's deprecated types. Everything else stays on.
const MODULES: [(&str, &str, &str); 6] = [
    (
        "types",
        "Types from the spec's schemas.",
        "deprecated, clippy::doc_lazy_continuation, clippy::doc_overindented_list_items, clippy::enum_variant_names, clippy::large_enum_variant",
    ),
    (
        "operations",
        "Operation descriptors: what the runtime needs to execute each action.",
        "clippy::doc_lazy_continuation",
    ),
    (
        "client",
        "The typed client.",
        "deprecated, clippy::too_many_arguments, clippy::doc_lazy_continuation, clippy::doc_overindented_list_items",
    ),
    (
        "entities",
        "Entities: List (a stream of records), Get, Create, Update and Delete by resource.",
        "deprecated",
    ),
    (
        "webhooks",
        "Events the API sends to its subscribers, each decoded into its payload type.",
        "deprecated, clippy::large_enum_variant",
    ),
    (
        "errors",
        "The declared error responses of each action, decoded by `Error::api_error`.",
        "deprecated, clippy::doc_lazy_continuation, clippy::doc_overindented_list_items, clippy::enum_variant_names, clippy::large_enum_variant",
    ),
];

/// Whether the connector generates module `name`: `webhooks` only when it has events, `errors`
/// only when an action declares error responses (an empty module is compile time for nothing).
fn generates(name: &str, context: &ViewContext) -> bool {
    match name {
        "webhooks" => !context.view().webhooks.is_empty(),
        "errors" => !context.view().errors.is_empty(),
        _ => true,
    }
}

struct Rendered {
    modules: Vec<(&'static str, String)>,
}

/// Where the rendered modules go, which decides what they may rely on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Target {
    /// Files of a crate of their own: gated by the crate's tag features, the catalogue in
    /// `src/catalogue.json`.
    OwnCrate,
    /// A version module inline in a crate of its own: gated, the catalogue inline.
    GatedInline,
    /// Code for `include!` in another crate, which has no tag features.
    Included,
}

/// A piece of the modules that renders on its own.
enum Piece<'v> {
    Types(&'v [render::view::TypeView]),
    Module(&'static str),
}

/// Renders the modules, pieces in parallel. A crate of its own gets each module formatted;
/// inline modules are left as rendered, since the root that holds them is formatted with them
/// (see [`render_root`]): each text is parsed once. `catalogue` is the catalogue's JSON,
/// printed inline by code not in a crate of its own.
fn render_modules(
    renderer: &Renderer,
    context: &ViewContext,
    catalogue: &str,
    options: &Options,
    target: Target,
    dump: Option<&Path>,
) -> Result<Rendered, Error> {
    let own_crate = target == Target::OwnCrate;
    let extra = context! {
        test_dispatch => options.test_dispatch,
        gated => target != Target::Included,
        catalogue_file => own_crate,
    };
    let mut pieces = vec![Piece::Module("operations")];
    pieces.extend(
        context
            .view()
            .types
            .chunks(render::TYPES_PER_BATCH)
            .map(Piece::Types),
    );
    pieces.extend([Piece::Module("client"), Piece::Module("entities")]);
    for module in ["errors", "webhooks"] {
        if generates(module, context) {
            pieces.push(Piece::Module(module));
        }
    }
    let mut rendered = parallel::in_parallel(&pieces, |piece| {
        let (name, c) = match piece {
            Piece::Types(batch) => (
                "types",
                context.value(vec![("types", Value::from_serialize(batch))]),
            ),
            // The catalogue is most of a large API's generated text: only the one template that
            // prints it gets it, and a crate of its own reads it from a file instead, which
            // spares a Rust literal of it, its syntax tree and its formatting.
            Piece::Module(name) if *name == "operations" && !own_crate => (
                *name,
                context.value(vec![("catalogue_json", Value::from(catalogue))]),
            ),
            Piece::Module(name) => (*name, context.value(Vec::new())),
        };
        let text = renderer.render(&format!("{name}.rs.j2"), c, extra.clone())?;
        // The descriptors are printed formatted; code formatted whole with its root gets them
        // as they are, a crate of its own once its module is formatted.
        let text = if name == "operations" && !own_crate {
            render::descriptors::splice(&text, context.view())
        } else {
            text
        };
        Ok::<_, Error>((name, text))
    })?;
    let mut modules = Vec::new();
    for (module, _, _) in MODULES.iter().filter(|(m, _, _)| generates(m, context)) {
        let module = *module;
        // The types, rendered a batch at a time, are one text again; the pieces are freed as
        // their module is formatted.
        let text: String = rendered
            .iter_mut()
            .filter(|(name, _)| *name == module)
            .map(|(_, text)| std::mem::take(text))
            .collect();
        let code = match target {
            Target::OwnCrate if module == "operations" => render::descriptors::splice(
                &format::format_rust("operations.rs.j2", &text, dump)?,
                context.view(),
            ),
            Target::OwnCrate => format::format_rust(&format!("{module}.rs.j2"), &text, dump)?,
            Target::GatedInline | Target::Included => text,
        };
        modules.push((module, code));
    }
    Ok(Rendered { modules })
}

/// The root (`lib.rs`, or the file with every module inline) as rendered.
fn root_text(
    renderer: &Renderer,
    context: &ViewContext,
    rendered: Option<&Rendered>,
) -> Result<String, Error> {
    let modules: Vec<ModuleView> = MODULES
        .iter()
        .filter(|(name, _, _)| generates(name, context))
        .map(|(name, docs, allow)| ModuleView {
            name,
            docs,
            allow,
            inline: rendered.is_some(),
            content: rendered.and_then(|r| {
                r.modules
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, c)| c.clone())
            }),
        })
        .collect();
    let text = renderer.render(
        "lib.rs.j2",
        context.value(Vec::new()),
        context! { modules => modules, crate_root => rendered.is_none() },
    )?;
    Ok(text)
}

/// The root formatted; inline modules are formatted with it (see [`render_modules`]).
fn render_root(
    renderer: &Renderer,
    context: &ViewContext,
    rendered: Option<&Rendered>,
    dump: Option<&Path>,
) -> Result<String, Error> {
    let text = root_text(renderer, context, rendered)?;
    format::format_rust("lib.rs.j2", &text, dump).map_err(|err| {
        // Inline modules are formatted with the root: a module that is not valid Rust is
        // reported by the template that rendered it.
        rendered
            .into_iter()
            .flat_map(|r| &r.modules)
            .find_map(|(name, text)| {
                format::format_rust(&format!("{name}.rs.j2"), text, dump).err()
            })
            .unwrap_or(err)
    })
}

/// The view of `connector` as the templates see it, and the catalogue's JSON, which is kept
/// out of the view: it is most of a large API's generated text, and one template at most
/// prints it.
fn view_context(connector: &Connector, spec_label: &str) -> (ViewContext, String) {
    let mut view = ConnectorView::new(connector, spec_label);
    let catalogue = std::mem::take(&mut view.catalogue_json);
    (ViewContext::new(view), catalogue)
}

fn banner(spec_label: &str) -> String {
    let label: String = spec_label.chars().filter(|c| !c.is_control()).collect();
    format!(
        "{}{label}. Do not edit: regenerate instead.\n\n",
        emit::BANNER_START
    )
}

/// Files of a generated crate, as (relative path, content) pairs.
pub fn render_crate(
    connector: &Connector,
    options: &Options,
    spec_label: &str,
    out_dir: &Path,
) -> Result<Vec<(String, String)>, Error> {
    let renderer = Renderer::new(options.templates.as_deref())?;
    let (context, catalogue) = view_context(connector, spec_label);
    let dump = Some(out_dir.join("target").join("connector-gen"));
    // A crate of its own declares one feature per tag; code included into another crate has no
    // such features, so it is not gated.
    let rendered = render_modules(
        &renderer,
        &context,
        "",
        options,
        Target::OwnCrate,
        dump.as_deref(),
    )?;
    let mut files = Vec::new();
    let root = render_root(&renderer, &context, None, dump.as_deref())?;
    files.push((
        "src/lib.rs".to_owned(),
        format!("{}{root}", banner(spec_label)),
    ));
    // Each module's text is freed as its file's is made.
    for (name, content) in rendered.modules {
        let mut text = banner(spec_label);
        text.push_str(&content);
        files.push((format!("src/{name}.rs"), text));
    }
    files.push((
        "src/catalogue.json".to_owned(),
        render::ascii_json(&catalogue),
    ));
    let main = renderer.render("main.rs.j2", context.value(Vec::new()), context! {})?;
    let main = format::format_rust("main.rs.j2", &main, dump.as_deref())?;
    files.push((
        "src/main.rs".to_owned(),
        format!("{}{main}", banner(spec_label)),
    ));
    let description = format!(
        "Connector for {} generated by connector-gen",
        connector.title
    );
    let cargo = renderer.render(
        "Cargo.toml.j2",
        context.value(Vec::new()),
        context! {
            description => description,
            crate_version => crate_version(connector, options)?,
            license => options.license.clone().unwrap_or_default(),
            rust_version => env!("CARGO_PKG_RUST_VERSION"),
            runtime_dependency => options.runtime.checked()?.toml(),
            flows_dependency => options.runtime.checked()?.flows_toml(),
            own_workspace => workspace::place(out_dir, options.workspace).own_workspace(),
        },
    )?;
    files.push(("Cargo.toml".to_owned(), cargo));
    files.push((
        "README.md".to_owned(),
        render::visible_text(&readme::readme(connector, spec_label)),
    ));
    files.push((".gitignore".to_owned(), "/target\n".to_owned()));
    Ok(files)
}

/// The version written in the generated `Cargo.toml`.
fn crate_version(connector: &Connector, options: &Options) -> Result<String, Error> {
    match &options.crate_version {
        Some(version) if dependency::is_semver(version) => Ok(version.clone()),
        Some(version) => Err(Error::InvalidOption {
            option: "crate-version",
            message: format!("{version:?} is not a semantic version such as 1.2.0"),
        }),
        None if dependency::is_semver(&connector.version) => Ok(connector.version.clone()),
        None => Ok("0.1.0".to_owned()),
    }
}

/// One file with the whole connector as inline modules, for `include!` (the build.rs mode).
pub fn render_module(
    connector: &Connector,
    options: &Options,
    spec_label: &str,
) -> Result<String, Error> {
    render_inline(connector, options, spec_label, Target::Included)
}

/// One file with the whole connector as inline modules, gated by tag features when `gated`
/// (a version module of a crate that declares them).
pub(crate) fn render_inline(
    connector: &Connector,
    options: &Options,
    spec_label: &str,
    target: Target,
) -> Result<String, Error> {
    let (renderer, context, rendered) = inline_modules(connector, options, spec_label, target)?;
    let root = render_root(&renderer, &context, Some(&rendered), None)?;
    Ok(format!("{}{root}", banner(spec_label)))
}

/// The repository's sample specs (`specs/*.yaml` and `*.json`), each with its path, lowered with
/// the default options: the tests of formatting and of the descriptors print every one.
#[cfg(test)]
pub(crate) fn sample_connectors() -> Vec<(PathBuf, Connector)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut samples = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.extension().is_some_and(|e| e == "yaml" || e == "json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let lowered = load_connector(&bytes, &Options::default()).unwrap();
        samples.push((path, lowered.connector));
    }
    assert!(samples.len() >= 8, "{} sample specs", samples.len());
    samples
}

/// The modules of `connector` as rendered for inline use, before formatting: the format
/// module's tests compare their formatting, and reach rendering through here so that `format`
/// never imports `render` (which imports `format`).
#[cfg(test)]
pub(crate) fn rendered_modules(
    connector: &Connector,
    options: &Options,
) -> Result<Vec<(&'static str, String)>, Error> {
    let renderer = render::Renderer::new(None)?;
    let (context, catalogue) = view_context(connector, "x");
    let rendered = render_modules(
        &renderer,
        &context,
        &catalogue,
        options,
        Target::GatedInline,
        None,
    )?;
    Ok(rendered.modules)
}

/// What [`render_inline`] formats, as rendered: for code that holds it and is formatted whole,
/// so that it is parsed once.
pub(crate) fn render_inline_unformatted(
    connector: &Connector,
    options: &Options,
    spec_label: &str,
    target: Target,
) -> Result<String, Error> {
    let (renderer, context, rendered) = inline_modules(connector, options, spec_label, target)?;
    root_text(&renderer, &context, Some(&rendered))
}

/// The modules of code with inline modules, as rendered, with what renders its root.
fn inline_modules(
    connector: &Connector,
    options: &Options,
    spec_label: &str,
    target: Target,
) -> Result<(Renderer, ViewContext, Rendered), Error> {
    let renderer = Renderer::new(options.templates.as_deref())?;
    let (context, catalogue) = view_context(connector, spec_label);
    let rendered = render_modules(&renderer, &context, &catalogue, options, target, None)?;
    Ok((renderer, context, rendered))
}

/// What [`generate_crate`] did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The lowered connector.
    pub connector: Connector,
    /// Warnings, sorted by location.
    pub warnings: Vec<Diagnostic>,
    /// Files written because their content changed.
    pub written: Vec<PathBuf>,
    /// Files left alone because they already had the right content.
    pub unchanged: Vec<PathBuf>,
    /// Files generated by an earlier run and no longer generated, now removed.
    pub removed: Vec<PathBuf>,
    /// The `connector-runtime` dependency as written in `Cargo.toml`.
    pub runtime: RuntimeDependency,
    /// Where the crate sits relative to a cargo workspace.
    pub placement: Placement,
}

/// Generates a standalone connector crate for the spec at `spec_path` into `out_dir`.
///
/// Refuses a non-empty `out_dir` that connector-gen did not generate unless
/// [`Options::force`]; removes the files an earlier run generated that are no longer generated,
/// and never any other file.
pub fn generate_crate(
    spec_path: &Path,
    out_dir: &Path,
    options: &Options,
) -> Result<Report, Error> {
    if versions::is_manifest(spec_path) {
        return versions::generate(spec_path, out_dir, options);
    }
    let lowered = load_spec(spec_path, options)?;
    let runtime = options.runtime.checked()?;
    let previous = emit::check_output_dir(out_dir, options.force)?;
    let label = spec_label(spec_path);
    let files = render_crate(&lowered.connector, options, &label, out_dir)?;
    write_crate(out_dir, lowered, runtime, &previous, files, options)
}

/// Writes a rendered crate's files (only those that changed), removes the ones an earlier run
/// generated that are gone, and records the list.
pub(crate) fn write_crate(
    out_dir: &Path,
    lowered: Lowered,
    runtime: RuntimeDependency,
    previous: &emit::Previous,
    files: Vec<(String, String)>,
    options: &Options,
) -> Result<Report, Error> {
    std::fs::create_dir_all(out_dir).map_err(|source| Error::Io {
        action: "creating output directory",
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut report = Report {
        connector: lowered.connector,
        warnings: lowered.warnings,
        written: Vec::new(),
        unchanged: Vec::new(),
        removed: Vec::new(),
        runtime,
        placement: workspace::place(out_dir, options.workspace),
    };
    let mut generated = Vec::new();
    for (relative, content) in files {
        let path = emit::inside(out_dir, &relative)?;
        match emit::write_if_changed(&path, content.as_bytes())? {
            emit::Written::Changed => report.written.push(path),
            emit::Written::Unchanged => report.unchanged.push(path),
        }
        generated.push(relative);
    }
    report.removed = emit::remove_stale(out_dir, previous, &generated)?;
    // Written last: an interrupted run leaves the old list, which still names every file it
    // may remove.
    emit::write_if_changed(
        &out_dir.join(emit::MANIFEST),
        emit::manifest_text(&generated).as_bytes(),
    )?;
    Ok(report)
}

/// The spec's file name, used in banners so output does not depend on where the spec lives.
pub fn spec_label(spec_path: &Path) -> String {
    spec_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "spec".to_owned())
}
