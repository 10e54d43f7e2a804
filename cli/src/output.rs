//! Plumbing shared by the `connector-gen` subcommands: writing to stdout and stderr without ever
//! panicking, and turning outcomes into exit codes.
//!
//! Rust ignores `SIGPIPE`, so `println!` panics when a reader such as `head` closes the pipe.
//! Output goes through [`out`], which reports a closed stdout as [`Failure::ClosedStdout`]; the
//! program then ends quietly with success, as ripgrep does.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

/// Exit status when a command fails (bad spec, unwritable output, invalid option).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a command line that does not parse (clap's own).
pub const EXIT_USAGE: u8 = 2;

/// Why a command stopped early.
#[derive(Debug)]
pub enum Failure {
    /// The reader of stdout went away: not an error, nothing more to say.
    ClosedStdout,
    /// Writing to stdout failed for another reason.
    Stdout(std::io::Error),
    /// The library reported an error.
    Generator(connector_gen::Error),
    /// A value could not be written as JSON.
    Json(serde_json::Error),
}

impl From<connector_gen::Error> for Failure {
    fn from(err: connector_gen::Error) -> Self {
        Failure::Generator(err)
    }
}

/// Writes `text` to stdout and flushes it.
pub fn out(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|err| match err.kind() {
            ErrorKind::BrokenPipe => Failure::ClosedStdout,
            _ => Failure::Stdout(err),
        })
}

/// Writes a line to stderr; a stderr that cannot be written to is ignored (there is nowhere
/// left to report it).
pub fn err_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// The exit code for a command's outcome, after printing the error and its causes to stderr.
pub fn finish(outcome: Result<(), Failure>) -> ExitCode {
    match outcome {
        Ok(()) | Err(Failure::ClosedStdout) => ExitCode::SUCCESS,
        Err(Failure::Stdout(err)) => {
            err_line(&format!("error: writing to stdout: {err}"));
            ExitCode::from(EXIT_FAILURE)
        }
        Err(Failure::Json(err)) => {
            err_line(&format!("error: writing JSON: {err}"));
            ExitCode::from(EXIT_FAILURE)
        }
        Err(Failure::Generator(err)) => {
            err_line(&format!("error: {err}"));
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                err_line(&format!("Caused by: {cause}"));
                source = cause.source();
            }
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Writes `value` to stdout as pretty-printed JSON and a newline.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value).map_err(Failure::Json)?;
    text.push('\n');
    out(&text)
}
