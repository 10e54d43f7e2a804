//! The `connector-gen` command line: parses arguments and calls the library.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use cli::{err_line, out, Failure};
use connector_gen::{GitReference, Options, Placement, RuntimeDependency, WorkspaceMode};
use connector_runtime::catalogue::OperationKind;
use connector_runtime::runner::{DescribeArgs, EntityArgs, PingArgs, RunArgs, EXIT_CODES};

const MAIN_HELP: &str = "\
Examples:
  connector-gen inspect specs/petstore.yaml
  connector-gen generate specs/petstore.yaml --out petstore
  connector-gen generate api.json --out crates/api --name api --license MIT
  connector-gen describe specs/petstore.yaml getPet
  connector-gen run specs/petstore.yaml getPet --input '{\"petId\": 1}' --base-url http://127.0.0.1:4010

Exit status: generate and inspect end with 0 on success (also when stdout is closed early, as by
`| head`), 1 when the command fails (the error and its causes are printed to stderr), 2 for an
invalid command line. run and describe end with 0 on success, 2 for bad input, 3 for a connection
failure, 4 when the API answered with a non-2xx status (see `connector-gen run --help`).";

#[derive(Parser)]
#[command(
    name = "connector-gen",
    version,
    about = "Generate typed Rust connectors from OpenAPI 3.1, 3.0 and Swagger 2.0 specs",
    after_help = MAIN_HELP,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a connector crate (Cargo.toml, README.md, src/) from a spec.
    #[command(after_help = GENERATE_HELP)]
    Generate(Box<GenerateArgs>),
    /// List a spec's actions, or print the lowered connector and its warnings as JSON.
    #[command(after_help = INSPECT_HELP)]
    Inspect(InspectArgs),
    /// Run one action of a spec, with no code generated, and print its response as JSON.
    #[command(after_help = interpret_help(RUN_EXAMPLES))]
    Run(InterpretArgs<RunArgs>),
    /// Print a spec's action catalogue, or one action's input and output JSON Schemas.
    #[command(after_help = interpret_help(DESCRIBE_EXAMPLES))]
    Describe(InterpretArgs<DescribeArgs>),
    /// List a spec's entities (resources with List, Get, Create, Update, Delete).
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Entities(InterpretArgs<EntitiesArgs>),
    /// Stream an entity's records, one JSON object a line, fetching pages as they are read.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    List(InterpretArgs<EntityArgs>),
    /// Read one record of an entity by key.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Get(InterpretArgs<EntityArgs>),
    /// Create a record of an entity from `--input`.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Create(InterpretArgs<EntityArgs>),
    /// Change a record of an entity with `--input`.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Update(InterpretArgs<EntityArgs>),
    /// Delete a record of an entity by key.
    #[command(after_help = interpret_help(ENTITY_EXAMPLES))]
    Delete(InterpretArgs<EntityArgs>),
    /// Ping the API (the declared ping action, else a cheap GET): reachable, credentials
    /// accepted, latency; as JSON.
    #[command(after_help = interpret_help(PING_EXAMPLES))]
    Ping(InterpretArgs<PingArgs>),
    /// Print every version of a manifest (or a spec's one) with its state, actions, entities and
    /// backend variables, as JSON.
    #[command(after_help = VERSIONS_HELP)]
    Versions(VersionsArgs),
    /// List the changes between two specs (or two versions of a manifest), marking the breaking ones.
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
}

const DIFF_HELP: &str = "\
Examples:
  connector-gen diff old.yaml new.yaml
  connector-gen diff specs/acme/connector.toml:v1 specs/acme/connector.toml:v2 --json

Breaking: a removed action, a removed or retyped field or parameter, a new required parameter or
body field, a narrowed enum, a changed or removed auth scheme, a changed server.
Exit status: 0 when nothing breaks, 1 when something does, 2 when a spec cannot be read.
`--json` prints {\"changes\": [{\"breaking\", \"kind\", \"at\", \"message\"}], \"breaking\": N}.";

#[derive(Args)]
struct DiffArgs {
    /// The old spec, or `MANIFEST:VERSION`.
    old: String,
    /// The new spec, or `MANIFEST:VERSION`.
    new: String,
    /// Print the changes as JSON.
    #[arg(long)]
    json: bool,
}

const VERSIONS_HELP: &str = "\
Examples:
  connector-gen versions specs/acme/connector.toml
  connector-gen versions specs/acme/connector.toml | jq '.versions[] | {id, state}'

Prints {\"name\", \"default_version\", \"versions\": [{\"id\", \"state\", \"api_version\", \"ping\",
\"actions\", \"entities\", \"variables\"}]}; a spec without a manifest is one version, whose id is
its info.version. Exit status: 0, or 1 when the manifest or a spec cannot be read.";

#[derive(Args)]
struct VersionsArgs {
    /// A connector manifest (`connector.toml`), or an OpenAPI document.
    source: PathBuf,
}

const PING_EXAMPLES: &str = "\
Examples:
  connector-gen ping specs/petstore.yaml --connection shop.toml
  connector-gen ping specs/entities.yaml --base-url http://127.0.0.1:4010

Exit codes: 0 the ping worked, 3 the API could not be reached, 4 it answered but the ping
failed (a rejected credential, an unexpected body), 2 bad input.";

/// Arguments of `entities`.
#[derive(Args)]
struct EntitiesArgs {
    /// Print the entities as JSON.
    #[arg(long)]
    json: bool,
}

const ENTITY_EXAMPLES: &str = "\
Examples:
  connector-gen entities specs/petstore.yaml
  connector-gen list specs/petstore.yaml pets --limit 10 --base-url http://127.0.0.1:4010
  connector-gen get specs/petstore.yaml pets 7 --connection shop.toml
  connector-gen create specs/petstore.yaml pets --input '{\"name\": \"Rex\"}'
  connector-gen list specs/entities.yaml owner_pets --scope ownerId=o1";

const RUN_EXAMPLES: &str = "\
Examples:
  connector-gen run specs/petstore.yaml getPet --input '{\"petId\": 7}' --base-url http://127.0.0.1:4010
  connector-gen run specs/petstore.yaml createPet --input @pet.json --connection shop.toml
  echo '{\"limit\": 5}' | connector-gen run specs/petstore.yaml listPets --input - --full";

const DESCRIBE_EXAMPLES: &str = "\
Examples:
  connector-gen describe specs/petstore.yaml
  connector-gen describe specs/petstore.yaml --json | jq '.actions[].id'
  connector-gen describe specs/petstore.yaml getPet";

fn interpret_help(examples: &str) -> String {
    format!("{examples}\n\n{EXIT_CODES}")
}

/// A spec interpreted at run time, and the runner's own arguments.
#[derive(Args)]
struct InterpretArgs<T: clap::Args> {
    /// The OpenAPI document (YAML or JSON), or a connector manifest (`connector.toml`).
    spec: PathBuf,
    #[command(flatten)]
    args: T,
    /// Connector name, as connection files give it (default: derived from the title).
    #[arg(long)]
    name: Option<String>,
    /// With a manifest: the version to use (default: the connection file's, else the newest
    /// active one).
    #[arg(long, value_name = "ID")]
    version: Option<String>,
}

impl<T: clap::Args> InterpretArgs<T> {
    fn options(&self) -> Options {
        Options {
            name: self.name.clone(),
            ..Options::default()
        }
    }

    fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}

const GENERATE_HELP: &str = "\
Examples:
  connector-gen generate specs/petstore.yaml --out petstore
  connector-gen generate api.yaml --out crates/api --workspace-member
  connector-gen generate api.yaml --out api --runtime-version 0.1
  connector-gen generate api.yaml --out api --runtime-git https://example.com/connector-gen.git --runtime-tag v0.1.0
  connector-gen generate github.json --out github-issues --include-tag issues --include-path /user

The folder must be new, empty, or generated by connector-gen before (it then holds a
`.connector-gen` file listing the generated files; files no longer generated are removed, no
other file is touched). Inside a cargo workspace that lists the folder in `members`, the crate
joins it; otherwise it is its own workspace.";

const INSPECT_HELP: &str = "\
Examples:
  connector-gen inspect specs/petstore.yaml
  connector-gen inspect specs/petstore.yaml --json | jq '.warnings'
  connector-gen inspect specs/acme/connector.toml --version v2

`--json` prints {\"spec\": FILE NAME, \"connector\": THE LOWERED CONNECTOR, \"entities\": [...],
\"warnings\": [...]}; for a manifest, {\"manifest\", \"name\", \"versions\": [{\"id\", \"state\", and the
same fields}]}. `--explain` says why each operation was or was not taken by an entity.";

#[derive(Args)]
struct GenerateArgs {
    /// The OpenAPI document (YAML or JSON).
    spec: PathBuf,
    /// Folder to write the crate into.
    #[arg(long)]
    out: PathBuf,
    /// Crate name (default: derived from the spec's title).
    #[arg(long)]
    name: Option<String>,
    /// Crate version (default: the spec's info.version when it is semver, else 0.1.0).
    #[arg(long)]
    crate_version: Option<String>,
    /// SPDX license expression for the crate; without it the crate gets `publish = false`.
    #[arg(long)]
    license: Option<String>,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Make the crate a member of the enclosing workspace even if `members` does not list it yet.
    #[arg(long, conflicts_with = "standalone")]
    workspace_member: bool,
    /// Give the crate its own `[workspace]`, even inside another workspace's folder.
    #[arg(long)]
    standalone: bool,
    /// With a manifest: generate even though the spec of a version in the lock file changed
    /// (a published version should not change; add a new version instead).
    #[arg(long)]
    allow_changed_spec: bool,
    /// Write into a folder that holds files connector-gen did not generate (files with the
    /// generated names are replaced; nothing is removed).
    #[arg(long)]
    force: bool,
    /// Directory of templates overriding the embedded ones of the same name.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Generate only the operations with this tag, and the types they use (repeatable; with
    /// the other --include-* flags, the union of the matches).
    #[arg(long, value_name = "TAG")]
    include_tag: Vec<String>,
    /// Generate only the operations whose path starts with this prefix, whole segments
    /// (`/repos` keeps `/repos/{owner}`, not `/repositories`). Repeatable.
    #[arg(long, value_name = "PREFIX")]
    include_path: Vec<String>,
    /// Generate only the operation with this operationId. Repeatable.
    #[arg(long, value_name = "ID")]
    include_operation: Vec<String>,
    /// Print every warning, not only their count.
    #[arg(long, short)]
    verbose: bool,
}

/// Where the generated crate gets `connector-runtime` (default: the runtime sources next to this
/// connector-gen, as an absolute path, when they exist; else the registry release).
#[derive(Args)]
#[group(skip)]
struct RuntimeArgs {
    /// Folder of the connector-runtime crate (written as an absolute path).
    #[arg(long, group = "runtime")]
    runtime_path: Option<PathBuf>,
    /// Registry version requirement, such as 0.1.
    #[arg(long, group = "runtime")]
    runtime_version: Option<String>,
    /// Git repository holding connector-runtime.
    #[arg(long, group = "runtime")]
    runtime_git: Option<String>,
    /// With --runtime-git: the branch to use.
    #[arg(long, requires = "runtime_git", conflicts_with_all = ["runtime_tag", "runtime_rev"])]
    runtime_branch: Option<String>,
    /// With --runtime-git: the tag to use.
    #[arg(long, requires = "runtime_git", conflicts_with = "runtime_rev")]
    runtime_tag: Option<String>,
    /// With --runtime-git: the commit to use.
    #[arg(long, requires = "runtime_git")]
    runtime_rev: Option<String>,
}

impl RuntimeArgs {
    fn is_default(&self) -> bool {
        self.runtime_path.is_none() && self.runtime_version.is_none() && self.runtime_git.is_none()
    }

    fn dependency(self) -> RuntimeDependency {
        if let Some(path) = self.runtime_path {
            return RuntimeDependency::Path(path);
        }
        if let Some(version) = self.runtime_version {
            return RuntimeDependency::Version(version);
        }
        if let Some(url) = self.runtime_git {
            let reference = self
                .runtime_branch
                .map(GitReference::Branch)
                .or(self.runtime_tag.map(GitReference::Tag))
                .or(self.runtime_rev.map(GitReference::Rev));
            return RuntimeDependency::Git { url, reference };
        }
        RuntimeDependency::bundled_or_registry()
    }
}

#[derive(Args)]
struct InspectArgs {
    /// The OpenAPI document (YAML or JSON), or a connector manifest (`connector.toml`): each of
    /// its versions is shown.
    spec: PathBuf,
    /// With a manifest: show only this version.
    #[arg(long, value_name = "ID")]
    version: Option<String>,
    /// Print the lowered connector (IR) and the warnings as one JSON object.
    #[arg(long)]
    json: bool,
    /// Also say, for every operation, why it was or was not taken by an entity.
    #[arg(long)]
    explain: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout; a closed stdout is not worth a panic either.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(cli::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    cli::finish(match cli.command {
        Command::Generate(args) => generate(*args),
        Command::Inspect(args) => inspect(args),
        Command::Run(a) => {
            return connector_gen::interpret::run(&a.spec, &a.options(), a.version(), &a.args)
        }
        Command::Entities(a) => {
            return connector_gen::interpret::entities(
                &a.spec,
                &a.options(),
                a.version(),
                a.args.json,
            )
        }
        Command::Ping(a) => {
            return connector_gen::interpret::ping(&a.spec, &a.options(), a.version(), &a.args)
        }
        Command::List(e) => return entity_command(OperationKind::List, &e),
        Command::Get(e) => return entity_command(OperationKind::Get, &e),
        Command::Create(e) => return entity_command(OperationKind::Create, &e),
        Command::Update(e) => return entity_command(OperationKind::Update, &e),
        Command::Delete(e) => return entity_command(OperationKind::Delete, &e),
        Command::Describe(a) => {
            return connector_gen::interpret::describe(&a.spec, &a.options(), a.version(), &a.args)
        }
        Command::Versions(args) => versions(&args),
        Command::Diff(args) => return diff(&args),
    })
}

fn entity_command(kind: OperationKind, e: &InterpretArgs<EntityArgs>) -> ExitCode {
    connector_gen::interpret::entity(&e.spec, &e.options(), e.version(), kind, &e.args)
}

/// `diff`: 0 when nothing breaks, 1 when something does, 2 when a side cannot be loaded.
fn diff(args: &DiffArgs) -> ExitCode {
    let load = |side: &str| -> Result<connector_gen::ir::Connector, connector_gen::Error> {
        let (path, version) = match side.rsplit_once(':') {
            Some((path, id)) if is_manifest(std::path::Path::new(path)) => (path, Some(id)),
            _ => (side, None),
        };
        let path = std::path::Path::new(path);
        match version {
            Some(id) => {
                let loaded = connector_gen::versions::load_manifest(path, &Options::default())?;
                Ok(loaded.select(Some(id))?.connector.clone())
            }
            None => Ok(connector_gen::load_spec(path, &Options::default())?.connector),
        }
    };
    let sides = load(&args.old).and_then(|old| Ok((old, load(&args.new)?)));
    let (old, new) = match sides {
        Ok(sides) => sides,
        Err(err) => {
            cli::finish(Err(Failure::Generator(err)));
            return ExitCode::from(cli::EXIT_USAGE);
        }
    };
    let changes = connector_gen::versions::diff::diff(&old, &new);
    let breaking = changes.iter().filter(|c| c.breaking).count();
    let text = if args.json {
        let value = serde_json::json!({ "changes": changes, "breaking": breaking });
        format!(
            "{}\n",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        )
    } else {
        connector_gen::versions::diff::human(&changes)
    };
    match out(&text) {
        Ok(()) | Err(Failure::ClosedStdout) => {}
        Err(other) => return cli::finish(Err(other)),
    }
    ExitCode::from(if breaking > 0 { cli::EXIT_FAILURE } else { 0 })
}

fn versions(args: &VersionsArgs) -> Result<(), Failure> {
    print_json(&connector_gen::interpret::versions(
        &args.source,
        &Options::default(),
    )?)
}

fn is_manifest(path: &std::path::Path) -> bool {
    connector_gen::versions::is_manifest(path)
}

fn generate(args: GenerateArgs) -> Result<(), Failure> {
    let workspace = if args.workspace_member {
        WorkspaceMode::Member
    } else if args.standalone {
        WorkspaceMode::Standalone
    } else {
        WorkspaceMode::Detect
    };
    let default_runtime = args.runtime.is_default();
    let options = Options {
        name: args.name,
        templates: args.templates,
        runtime: args.runtime.dependency(),
        workspace,
        crate_version: args.crate_version,
        license: args.license,
        force: args.force,
        allow_changed_spec: args.allow_changed_spec,
        include: connector_gen::Include {
            tags: args.include_tag,
            paths: args.include_path,
            operations: args.include_operation,
        },
        ..Options::default()
    };
    let report = connector_gen::generate_crate(&args.spec, &args.out, &options)?;
    if args.verbose {
        for warning in &report.warnings {
            err_line(&warning.to_string());
        }
    }
    let mut text = format!(
        "generated `{}` in {}: {} actions, {} types; {} files written, {} unchanged, {} removed; {} warnings{}\n",
        report.connector.crate_name,
        args.out.display(),
        report.connector.operations.len(),
        report.connector.types.len(),
        report.written.len(),
        report.unchanged.len(),
        report.removed.len(),
        report.warnings.len(),
        if args.verbose || report.warnings.is_empty() { "" } else { " (--verbose lists them)" },
    );
    text += &format!("  connector-runtime = {{ {} }}\n", report.runtime.toml());
    text += &placement_line(&report.placement);
    out(&text)?;
    if let RuntimeDependency::Version(version) = &report.runtime {
        if default_runtime {
            err_line(&format!(
                "note: connector-runtime {version} will be fetched from the registry (no runtime sources found next to connector-gen); if it is not available there, pass --runtime-path or --runtime-git"
            ));
        }
    }
    Ok(())
}

/// Where the crate sits, and what to do to make it a member of an enclosing workspace.
fn placement_line(placement: &Placement) -> String {
    match placement {
        Placement::Standalone => {
            "  its own workspace: build it with `cargo build` in that folder\n".to_owned()
        }
        Placement::Member(Some(root)) => {
            format!("  a member of the workspace in {}\n", root.display())
        }
        Placement::Member(None) => {
            "  no [workspace] table: add it to your workspace's members\n".to_owned()
        }
        Placement::NotListed { root, relative } => format!(
            "  its own workspace: {}/Cargo.toml does not list {relative:?} in `members`; \
             add it there and regenerate (or pass --workspace-member) to make it a member\n",
            root.display()
        ),
    }
}

/// The stable shape of `inspect --json`: named fields, so more can be added.
#[derive(serde::Serialize)]
struct InspectJson<'a> {
    spec: String,
    connector: &'a connector_gen::ir::Connector,
    entities: Vec<connector_runtime::catalogue::Entity>,
    warnings: &'a [connector_gen::Diagnostic],
}

impl<'a> InspectJson<'a> {
    fn new(
        spec: &std::path::Path,
        connector: &'a connector_gen::ir::Connector,
        warnings: &'a [connector_gen::Diagnostic],
    ) -> Self {
        InspectJson {
            spec: connector_gen::spec_label(spec),
            connector,
            entities: connector
                .entities
                .iter()
                .map(|e| connector_gen::catalogue::entity(connector, e))
                .collect(),
            warnings,
        }
    }
}

/// One version of a manifest in `inspect --json`: the version's id and state, then what
/// `inspect --json` shows for a spec.
#[derive(serde::Serialize)]
struct InspectVersionJson<'a> {
    id: &'a str,
    state: &'a str,
    #[serde(flatten)]
    spec: InspectJson<'a>,
}

fn inspect(args: InspectArgs) -> Result<(), Failure> {
    if is_manifest(&args.spec) {
        return inspect_manifest(&args);
    }
    let lowered = connector_gen::load_spec(&args.spec, &Options::default())?;
    if args.json {
        let document = InspectJson::new(&args.spec, &lowered.connector, &lowered.warnings);
        return print_json(&document);
    }
    inspect_text(&lowered.connector, args.explain)?;
    for warning in &lowered.warnings {
        err_line(&warning.to_string());
    }
    Ok(())
}

/// `inspect MANIFEST`: each version (or the one `--version` names) as `inspect` shows a spec.
fn inspect_manifest(args: &InspectArgs) -> Result<(), Failure> {
    let loaded = connector_gen::versions::load_manifest(&args.spec, &Options::default())?;
    let chosen: Vec<&connector_gen::versions::LoadedVersion> = match &args.version {
        Some(id) => vec![loaded.select(Some(id))?],
        None => loaded.versions.iter().collect(),
    };
    if args.json {
        let versions: Vec<InspectVersionJson> = chosen
            .iter()
            .map(|v| InspectVersionJson {
                id: &v.entry.id,
                state: v.entry.state.as_str(),
                spec: InspectJson::new(&v.spec_path, &v.connector, &v.warnings),
            })
            .collect();
        let document = serde_json::json!({
            "manifest": connector_gen::spec_label(&args.spec),
            "name": loaded.manifest.name,
            "versions": versions,
        });
        return print_json(&document);
    }
    for v in chosen {
        out(&format!(
            "version {} ({}), spec {}\n",
            v.entry.id,
            v.entry.state.as_str(),
            connector_gen::spec_label(&v.spec_path)
        ))?;
        inspect_text(&v.connector, args.explain)?;
        for warning in &v.warnings {
            err_line(&format!("version {}: {warning}", v.entry.id));
        }
    }
    Ok(())
}

fn inspect_text(connector: &connector_gen::ir::Connector, explain: bool) -> Result<(), Failure> {
    out(&connector_gen::inspect::actions_table(connector))?;
    out(&connector_gen::inspect::entities_table(connector))?;
    out(&connector_gen::inspect::webhooks_table(connector))?;
    if explain {
        out(&connector_gen::inspect::entity_explanation(connector))?;
    }
    Ok(())
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value).map_err(Failure::Json)?;
    text.push('\n');
    out(&text)
}
