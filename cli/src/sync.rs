//! `connector-gen sync FILE` (run a sync once, or watch it) and `connector-gen sync status
//! FILE`: the library's [`Sync`] does the work; this module prints JSON on stdout, a progress
//! line on stderr, and maps outcomes to exit codes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use connector_flows::sync::{Counts, Definition, Observer, Report, RunOptions, Sync};
use connector_flows::Error;
use serde_json::Value;

/// Success.
const EXIT_OK: u8 = 0;
/// The store failed, or another worker holds the sync.
const EXIT_FAILURE: u8 = 1;
/// Bad input: the sync file, a spec, a connection file.
const EXIT_BAD_INPUT: u8 = 2;
/// A connection failure (DNS, refused, TLS, timeout).
const EXIT_CONNECTION: u8 = 3;
/// An API answered with a non-2xx status the run could not go on after.
const EXIT_STATUS: u8 = 4;
/// The run finished, with records in quarantine.
const EXIT_QUARANTINED: u8 = 5;

pub(crate) const SYNC_HELP: &str = "\
Keeps one connection's entity in step with another connection's entity or a database table, as
the sync file (TOML or YAML, see docs/sync.md) says. A run reads the source page by page, maps
each record, validates it against the destination's input schema and creates, updates or skips
it by content hash; the id map and cursor are checkpointed after every page, so a run that was
killed resumes where it stopped, losing and duplicating nothing. Records that fail their
mapping or validation are quarantined and retried on the next run.

Prints the run's report as one JSON line on stdout ({\"sync\", \"run\", \"read\", \"created\",
\"updated\", \"unchanged\", \"deleted\", \"quarantined\", \"in_quarantine\", ...}); --dry-run
prints the changes it would make as JSON lines instead and writes nothing. A progress line
(records/s, pages) goes to stderr.

Examples:
  connector-gen sync orders-to-crm.toml
  connector-gen sync orders-to-crm.toml --dry-run
  connector-gen sync orders-to-warehouse.toml --full
  connector-gen sync orders-to-crm.toml orders-to-warehouse.toml --watch
  connector-gen sync status orders-to-crm.toml

Exit codes:
  0  success
  1  the state store failed, or another worker is running the sync
  2  bad input: the sync file, a spec or a connection file (every problem is listed)
  3  connection failure: DNS, refused, TLS, timeout
  4  an API answered with a non-2xx status the run could not go on after
  5  the run finished, with records in quarantine (see `sync status`)";

/// `connector-gen sync ...`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SyncCommand {
    #[command(subcommand)]
    pub status: Option<StatusCommand>,
    /// The sync file(s) (several with --watch).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Run once and exit (the default).
    #[arg(long, conflicts_with = "watch")]
    pub once: bool,
    /// Print what would change as JSON lines; write nothing.
    #[arg(long, conflicts_with = "watch")]
    pub dry_run: bool,
    /// Read everything, not only changes, and apply deletes.
    #[arg(long)]
    pub full: bool,
    /// Keep running: each sync on its schedule, and on change when it says so, until SIGTERM
    /// or Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    /// No progress line.
    #[arg(long)]
    pub quiet: bool,
}

/// `connector-gen sync status FILE`.
#[derive(Debug, Subcommand)]
pub enum StatusCommand {
    /// Print a sync's state as JSON: the last runs (read, created, updated, unchanged,
    /// deleted, quarantined, duration, cursor) and the quarantined records with their problems.
    Status {
        /// The sync file.
        file: PathBuf,
        /// How many runs to show.
        #[arg(long, default_value_t = 20)]
        runs: i64,
    },
}

pub fn sync(command: &SyncCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    runtime.block_on(async {
        match &command.status {
            Some(StatusCommand::Status { file, runs }) => status(file, *runs).await,
            None if command.watch => watch(command).await,
            None => once(command).await,
        }
    })
}

async fn status(file: &PathBuf, runs: i64) -> ExitCode {
    let def = match Definition::from_file(file) {
        Ok(def) => def,
        Err(err) => return fail(&err),
    };
    match Sync::status(&def, runs.max(1)).await {
        Ok(status) => {
            print_json(&serde_json::to_value(&status).unwrap_or(Value::Null), true);
            ExitCode::from(EXIT_OK)
        }
        Err(err) => fail(&err),
    }
}

async fn load(file: &PathBuf) -> Result<Sync, ExitCode> {
    let sync = Sync::from_file(file).await.map_err(|err| fail(&err))?;
    if !sync.creates_are_idempotent() {
        eprintln!(
            "warning: sync `{}`: the destination takes no idempotency key and no `match` is set; a run killed between a create and its checkpoint can create that record twice",
            sync.definition().name
        );
    }
    Ok(sync)
}

async fn once(command: &SyncCommand) -> ExitCode {
    if command.files.len() > 1 {
        eprintln!("error: give one sync file, or several with --watch");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let Some(file) = command.files.first() else {
        return ExitCode::from(EXIT_BAD_INPUT);
    };
    let sync = match load(file).await {
        Ok(sync) => sync,
        Err(code) => return code,
    };
    let printer = Printer::new(command.quiet);
    let options = RunOptions {
        full: command.full,
        dry_run: command.dry_run,
    };
    let outcome = sync.run_with(options, &printer).await;
    printer.done();
    match outcome {
        Ok(report) => {
            if command.dry_run {
                eprintln!("dry run: {}", summary(&report.counts));
            } else {
                print_json(&serde_json::to_value(&report).unwrap_or(Value::Null), false);
            }
            if let Some(reason) = &report.deletes_skipped {
                eprintln!("note: {reason}");
            }
            if report.in_quarantine > 0 {
                eprintln!(
                    "{} record(s) in quarantine: `connector-gen sync status {}` lists them with their problems",
                    report.in_quarantine,
                    file.display()
                );
                ExitCode::from(EXIT_QUARANTINED)
            } else {
                ExitCode::from(EXIT_OK)
            }
        }
        Err(err) => fail(&err),
    }
}

async fn watch(command: &SyncCommand) -> ExitCode {
    let mut syncs = Vec::new();
    for file in &command.files {
        match load(file).await {
            Ok(sync) => syncs.push(sync),
            Err(code) => return code,
        }
    }
    let printer = Printer::new(command.quiet);
    let names: Vec<&str> = syncs.iter().map(|s| s.definition().name.as_str()).collect();
    eprintln!(
        "watching {} (worker {}); stop with Ctrl-C",
        names.join(", "),
        syncs.first().map_or("", |s| s.worker())
    );
    match connector_flows::sync::watch(&syncs, &printer, connector_flows::shutdown_signal()).await {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(err) => fail(&err),
    }
}

/// Prints planned changes and reports on stdout and progress on stderr: rewritten in place
/// on a terminal, otherwise a line every five seconds.
struct Printer {
    quiet: bool,
    terminal: bool,
    last: Mutex<Option<Instant>>,
}

impl Printer {
    fn new(quiet: bool) -> Printer {
        Printer {
            quiet,
            terminal: std::io::stderr().is_terminal(),
            last: Mutex::new(None),
        }
    }

    fn done(&self) {
        if self.terminal && !self.quiet && self.last.lock().map(|l| l.is_some()).unwrap_or(false) {
            eprintln!();
        }
    }
}

impl Observer for Printer {
    fn progress(&self, counts: &Counts, elapsed: Duration) {
        if self.quiet {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        let every = if self.terminal {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(5)
        };
        if last.is_some_and(|at| at.elapsed() < every) {
            return;
        }
        *last = Some(Instant::now());
        let rate = counts.read as f64 / elapsed.as_secs_f64().max(0.001);
        let line = format!("{} ({rate:.0} records/s)", summary(counts));
        let mut stderr = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(stderr, "\r\x1b[2K{line}")
        } else {
            writeln!(stderr, "{line}")
        };
    }

    fn planned(&self, change: &Value) {
        print_json(change, false);
    }

    fn finished(&self, report: &Report) {
        print_json(&serde_json::to_value(report).unwrap_or(Value::Null), false);
    }

    fn failed(&self, sync: &str, error: &Error) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "error: sync `{sync}`: {error}");
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            let _ = writeln!(stderr, "Caused by: {cause}");
            source = cause.source();
        }
    }
}

fn summary(c: &Counts) -> String {
    format!(
        "{} read, {} created, {} updated, {} unchanged, {} deleted, {} quarantined, {} pages",
        c.read, c.created, c.updated, c.unchanged, c.deleted, c.quarantined, c.pages
    )
}

fn print_json(value: &Value, pretty: bool) {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .unwrap_or_default();
    // A closed stdout (`| head`) is not worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Prints the error with its causes and gives its exit code.
fn fail(err: &Error) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let _ = writeln!(stderr, "Caused by: {cause}");
        source = cause.source();
    }
    ExitCode::from(match err {
        Error::SyncFile { .. } | Error::StoreUrl(_) | Error::Config(_) => EXIT_BAD_INPUT,
        Error::Api { source, .. } => match source {
            connector_runtime::Error::Status { .. }
            | connector_runtime::Error::AuthRejected { .. } => EXIT_STATUS,
            e if e.status().is_some() => EXIT_STATUS,
            e if e.is_bad_input() => EXIT_BAD_INPUT,
            _ => EXIT_CONNECTION,
        },
        _ => EXIT_FAILURE,
    })
}
