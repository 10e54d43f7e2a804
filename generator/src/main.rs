//! The `connector-gen` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use connector_gen::{Options, RuntimeDependency};
use connector_runtime::runner::{DescribeArgs, RunArgs, EXIT_CODES};

#[derive(Parser)]
#[command(
    name = "connector-gen",
    version,
    about = "Generate typed Rust connectors from OpenAPI 3.0 specs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a standalone connector crate.
    Generate {
        /// The OpenAPI document (YAML or JSON).
        spec: PathBuf,
        /// Directory to write the crate into.
        #[arg(long)]
        out: PathBuf,
        /// Crate name (default: derived from the spec's title).
        #[arg(long)]
        name: Option<String>,
        /// Path of the connector-runtime crate to depend on (default: the runtime this generator
        /// was built with, when its sources are present; otherwise the registry version).
        #[arg(long)]
        runtime_path: Option<PathBuf>,
        /// Directory of templates overriding the embedded ones of the same name.
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Print every warning, not only their count.
        #[arg(long, short)]
        verbose: bool,
    },
    /// List a spec's actions.
    Inspect {
        /// The OpenAPI document (YAML or JSON).
        spec: PathBuf,
        /// Print the lowered connector (IR) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run one action of a spec, with no code generated, and print its response as JSON.
    #[command(after_help = EXIT_CODES)]
    Run {
        /// The OpenAPI document (YAML or JSON).
        spec: PathBuf,
        #[command(flatten)]
        args: RunArgs,
        /// Connector name, as connection files give it (default: derived from the title).
        #[arg(long)]
        name: Option<String>,
    },
    /// Print a spec's action catalogue, or one action's input and output JSON Schemas.
    #[command(after_help = EXIT_CODES)]
    Describe {
        /// The OpenAPI document (YAML or JSON).
        spec: PathBuf,
        #[command(flatten)]
        args: DescribeArgs,
        /// Connector name, as connection files give it (default: derived from the title).
        #[arg(long)]
        name: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Run { spec, args, name } => {
            return connector_gen::interpret::run(spec, &named(name), args)
        }
        Command::Describe { spec, args, name } => {
            return connector_gen::interpret::describe(spec, &named(name), args)
        }
        _ => {}
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("Caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn named(name: &Option<String>) -> Options {
    Options {
        name: name.clone(),
        ..Options::default()
    }
}

fn default_runtime() -> RuntimeDependency {
    let bundled = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../runtime");
    if bundled.join("Cargo.toml").is_file() {
        RuntimeDependency::Path(bundled)
    } else {
        RuntimeDependency::Version(env!("CARGO_PKG_VERSION").to_owned())
    }
}

fn run(cli: Cli) -> Result<(), connector_gen::Error> {
    match cli.command {
        Command::Generate {
            spec,
            out,
            name,
            runtime_path,
            templates,
            verbose,
        } => {
            let options = Options {
                name,
                templates,
                runtime: runtime_path.map_or_else(default_runtime, RuntimeDependency::Path),
                ..Options::default()
            };
            let report = connector_gen::generate_crate(&spec, &out, &options)?;
            if verbose {
                for warning in &report.warnings {
                    eprintln!("{warning}");
                }
            }
            println!(
                "generated `{}` in {}: {} actions, {} types, {} files written, {} unchanged, {} warnings{}",
                report.connector.crate_name,
                out.display(),
                report.connector.operations.len(),
                report.connector.types.len(),
                report.written.len(),
                report.unchanged.len(),
                report.warnings.len(),
                if verbose || report.warnings.is_empty() { "" } else { " (--verbose lists them)" },
            );
            Ok(())
        }
        Command::Inspect { spec, json } => {
            let bytes = connector_gen::read_spec(&spec)?;
            let lowered = connector_gen::load_connector(&bytes, &Options::default())?;
            if json {
                let text = serde_json::to_string_pretty(&lowered.connector).unwrap_or_default();
                println!("{text}");
                return Ok(());
            }
            print!(
                "{}",
                connector_gen::inspect::actions_table(&lowered.connector)
            );
            for warning in &lowered.warnings {
                eprintln!("{warning}");
            }
            Ok(())
        }
        Command::Run { .. } | Command::Describe { .. } => Ok(()),
    }
}
