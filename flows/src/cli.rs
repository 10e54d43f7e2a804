//! The `listen` and `events` commands, shared by `connector-gen` and the binaries of generated
//! connectors (cargo feature `cli`). JSON on stdout, diagnostics on stderr.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use connector_runtime::catalogue::Catalogue;
use connector_runtime::webhooks::WebhookSettings;

use crate::delivery::Delivery;
use crate::events::{Attempt, DeliveryState, EventQuery, EventStore};
use crate::receiver::Receiver;
use crate::store::Store;
use crate::Error;

/// Success.
pub const EXIT_OK: u8 = 0;
/// The store or the server failed (cannot open, cannot bind).
pub const EXIT_FAILURE: u8 = 1;
/// Bad input: an invalid connection file, store URL or option.
pub const EXIT_BAD_INPUT: u8 = 2;

/// The store used when `--store` is not given.
pub const DEFAULT_STORE: &str = "sqlite:events.db";

/// The help of `listen` around its `$examples`: connector-gen's take a spec, a generated
/// program's serve its own events.
macro_rules! listen_help {
    ($examples:literal) => {
        concat!(
            "\
Serves POST /webhooks/EVENT for each event of the connector and POST /webhooks (the type read
from the request). Each request is verified with the connection's [webhooks] table, validated
against its event's schema, de-duplicated by event id, and stored durably before the 2xx answer;
401 for a bad signature, 400 for an invalid payload, 413 for a body over the cap, nothing stored
for any of them. Prints {\"listening\": ADDR, ...} on stdout once bound; stops on SIGTERM or
Ctrl-C after answering the requests under way.

Examples:
",
            $examples,
            "

Exit codes: 0 stopped by a signal, 1 the store or the address failed, 2 bad input (connection
file, store URL, a non-loopback address without verification)."
        )
    };
}

/// The help of `events` around its `$examples`.
macro_rules! events_help {
    ($examples:literal) => {
        concat!(
            "\
Prints stored events as JSON lines ({\"seq\", \"source\", \"id\", \"type\", \"received_at_ms\",
\"headers\", \"payload\", \"state\", \"attempts\"}), oldest first. With --exec, runs CMD (with sh -c)
for each pending event in order with the event's JSON on stdin: exit 0 marks it done, anything
else is retried with capped exponential backoff and, after --max-attempts, the event is dead
(kept, never run again; list them with --state dead). Each outcome is printed as a JSON line.

Examples:
",
            $examples,
            "

Exit codes: 0 success, 1 the store failed, 2 bad input."
        )
    };
}

mod program;

pub use program::WebhookCommands;

/// Examples and exit codes of `connector-gen listen`.
pub const LISTEN_HELP: &str = listen_help!(
    "  \
  connector-gen listen github.json --connection github.toml
  connector-gen listen specs/webhooks.yaml --connection hooks.toml --addr 127.0.0.1:8787 --store sqlite:events.db
  connector-gen listen api.yaml --connection api.toml --store postgres://app@db.internal/events"
);

/// Examples and exit codes of `connector-gen events`.
pub const EVENTS_HELP: &str = events_help!(
    "  \
  connector-gen events --store sqlite:events.db
  connector-gen events --store sqlite:events.db --follow --type push
  connector-gen events --store sqlite:events.db --exec './handle-event.sh' --follow
  connector-gen events --store sqlite:events.db --state dead"
);

/// Arguments of `listen`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListenArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,
    /// Where events are stored: sqlite:PATH (default sqlite:events.db) or postgres://...
    #[arg(long, default_value = DEFAULT_STORE)]
    pub store: String,
    /// The source events are stored under (default: the connection's name, else the
    /// connector's): the scope of de-duplication.
    #[arg(long)]
    pub source: Option<String>,
    /// Accept requests without verification when the connection configures no secret
    /// (loopback addresses only).
    #[arg(long)]
    pub allow_unverified: bool,
}

/// Arguments of `events`.
#[derive(Debug, Clone, clap::Args)]
pub struct EventsArgs {
    /// Where events are stored: sqlite:PATH or postgres://...
    #[arg(long, default_value = DEFAULT_STORE)]
    pub store: String,
    /// Keep printing (or delivering) new events as they are stored, until SIGTERM or Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Only events stored after this sequence number.
    #[arg(long)]
    pub after: Option<i64>,
    /// Only events of this type.
    #[arg(long = "type")]
    pub event_type: Option<String>,
    /// Only events in this delivery state: pending, done or dead.
    #[arg(long)]
    pub state: Option<String>,
    /// At most this many events (without --follow).
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
    /// Run this command (sh -c) for each pending event, its JSON on stdin.
    #[arg(long)]
    pub exec: Option<String>,
    /// Attempts per event before it is dead (with --exec).
    #[arg(long, default_value_t = 5)]
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds, doubled at each retry (with --exec).
    #[arg(long, default_value_t = 1000)]
    pub backoff_ms: u64,
    /// Longest wait between attempts, in milliseconds (with --exec).
    #[arg(long, default_value_t = 60_000)]
    pub backoff_cap_ms: u64,
    /// Kill a run of the command after this many seconds and count it as failed (with --exec).
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}

/// `listen`: serves `catalogue`'s events with `settings` (a connection's `[webhooks]`) until a
/// signal.
pub fn listen(
    catalogue: &Catalogue,
    settings: Option<&WebhookSettings>,
    default_source: &str,
    args: &ListenArgs,
) -> ExitCode {
    let settings = settings.cloned().unwrap_or_default();
    let loopback = args.addr.ip().is_loopback();
    if args.allow_unverified && !loopback {
        return bad_input(&format!(
            "--allow-unverified is for loopback addresses only; {} is not one",
            args.addr.ip()
        ));
    }
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let events = match open(&args.store).await {
            Ok(events) => events,
            Err(code) => return code,
        };
        let receiver = Receiver::builder(catalogue, events)
            .source(args.source.clone().unwrap_or_else(|| default_source.to_owned()))
            .settings(&settings)
            .allow_unverified(args.allow_unverified)
            .build();
        let receiver = match receiver {
            Ok(receiver) => receiver,
            Err(err) => return bad_input(&err.to_string()),
        };
        if !receiver.verifies() && !loopback {
            return bad_input(&format!(
                "refusing to listen on {} without verification: anyone who can reach it could store events; configure the connection's [webhooks] secret, or listen on a loopback address",
                args.addr
            ));
        }
        let store = receiver.events().store().label();
        let verifies = receiver.verifies();
        let source = receiver.source().to_owned();
        let served = crate::serve(
            receiver.router(),
            args.addr,
            crate::shutdown_signal(),
            |bound| {
                let line = serde_json::json!({
                    "listening": bound.to_string(),
                    "store": store,
                    "source": source,
                    "verified": verifies,
                    "events": catalogue.webhooks.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(),
                });
                let _ = writeln!(std::io::stdout().lock(), "{line}");
                if !verifies {
                    eprintln!("warning: requests are not verified (no [webhooks] secret); loopback only");
                }
            },
        )
        .await;
        match served {
            Ok(()) => ExitCode::from(EXIT_OK),
            Err(err) => failure(&err),
        }
    })
}

/// `events`: prints stored events, or delivers them to `--exec`.
pub fn events(args: &EventsArgs) -> ExitCode {
    let state = match args.state.as_deref() {
        None => None,
        Some("pending") => Some(DeliveryState::Pending),
        Some("done") => Some(DeliveryState::Done),
        Some("dead") => Some(DeliveryState::Dead),
        Some(other) => return bad_input(&format!("--state {other:?}: use pending, done or dead")),
    };
    if args.max_attempts == 0 {
        return bad_input("--max-attempts must be at least 1");
    }
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let events = match open(&args.store).await {
            Ok(events) => events,
            Err(code) => return code,
        };
        let outcome = match &args.exec {
            Some(command) => deliver(&events, command, args).await,
            None => print(&events, args, state).await,
        };
        match outcome {
            Ok(()) => ExitCode::from(EXIT_OK),
            Err(err) => failure(&err),
        }
    })
}

async fn print(
    events: &EventStore,
    args: &EventsArgs,
    state: Option<DeliveryState>,
) -> Result<(), Error> {
    let mut after = args.after;
    let mut stop = std::pin::pin!(crate::shutdown_signal());
    loop {
        let batch = events
            .list(&EventQuery {
                after,
                event_type: args.event_type.clone(),
                state,
                limit: Some(if args.follow { 1000 } else { args.limit }),
            })
            .await?;
        let mut out = std::io::stdout().lock();
        for event in &batch {
            let line = serde_json::to_string(event).unwrap_or_default();
            // A closed stdout (`| head`) ends the command quietly.
            if writeln!(out, "{line}").is_err() {
                return Ok(());
            }
            after = Some(event.seq);
        }
        let _ = out.flush();
        drop(out);
        if !args.follow {
            return Ok(());
        }
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(300)) => {}
        }
    }
}

async fn deliver(events: &EventStore, command: &str, args: &EventsArgs) -> Result<(), Error> {
    let delivery = Delivery {
        max_attempts: args.max_attempts,
        backoff_base: Duration::from_millis(args.backoff_ms),
        backoff_cap: Duration::from_millis(args.backoff_cap_ms.max(args.backoff_ms)),
        timeout: Duration::from_secs(args.timeout.max(1)),
        event_type: args.event_type.clone(),
        ..Delivery::new(command)
    };
    let (done, dead) = delivery
        .run(
            events,
            args.follow,
            crate::shutdown_signal(),
            |event, attempt| {
                let (outcome, error) = match attempt {
                    Attempt::Done => ("done", None),
                    Attempt::Failed { error, dead: true } => ("dead", Some(error.as_str())),
                    Attempt::Failed { error, dead: false } => ("retry", Some(error.as_str())),
                };
                let line = serde_json::json!({
                    "seq": event.seq, "id": event.id, "type": event.event_type,
                    "outcome": outcome, "attempt": event.attempts + 1, "error": error,
                });
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            },
        )
        .await?;
    eprintln!("delivered {done} event(s); {dead} moved to the dead letters");
    Ok(())
}

async fn open(url: &str) -> Result<EventStore, ExitCode> {
    let store = match Store::open(url).await {
        Ok(store) => store,
        Err(err @ Error::StoreUrl(_)) => return Err(bad_input(&err.to_string())),
        Err(err) => return Err(failure(&err)),
    };
    EventStore::open(store).await.map_err(|err| failure(&err))
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            eprintln!("error: cannot start the async runtime: {err}");
            ExitCode::from(EXIT_FAILURE)
        })
}

fn bad_input(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn failure(err: &Error) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {err}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let _ = writeln!(stderr, "Caused by: {cause}");
        source = cause.source();
    }
    ExitCode::from(EXIT_FAILURE)
}
