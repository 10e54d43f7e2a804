//! Runtime overhead: the same `GET /pets/{id}` made by hand-written `reqwest` clients and by the
//! petstore connector's typed method, dynamic call (`execute_json`) and interpreted spec (what
//! `connector-gen run` does, in-process), against one loopback server, in one process.
//!
//! `cargo bench -p connector-tests --bench runtime [-- --quick] [-- --runtime current|multi]`
//! prints one table per runtime set-up (both unless one is named), one row per client:
//! - current-thread: server and every client share one single-threaded tokio runtime, so each
//!   call costs its client's work plus the same server work, on one thread, with no
//!   cross-thread wake-ups; time is read from that thread's CPU clock;
//! - multi-threaded: as a user's `#[tokio::main]` sets it up: a multi-threaded runtime with two
//!   workers, the calls made from the main thread (`block_on`), the server's connections and
//!   reqwest's connection tasks spawned onto the workers, so wake-ups cross threads; time is read
//!   from the process's CPU clock (every thread of it).
//!
//! Made to be trusted on a small machine that others are using:
//! - two hand-written clients: one with reqwest's defaults (`reqwest::Client::new()`, what users
//!   compare with) and one built with the transport settings the runtime gives its own client;
//!   both send the same request headers (`User-Agent`, `Accept`, the API key). Only what the
//!   runtime adds by itself (a request id, the per-attempt timeout and call deadline, retries,
//!   limits, tracing) is left out, and counted as overhead. A third hand-written client with
//!   reqwest's own 30 s timeout shows what a timer per call costs, and a fourth, which decodes the
//!   body into a `serde_json::Value` as the dynamic calls do, what that decoding costs;
//! - the clients take turns in many short rounds, each round starting with the next client, so
//!   load from elsewhere falls on all of them alike;
//! - time is read both from the wall clock and from a CPU clock, which does not run while
//!   another process has the core; the difference to the hand-written clients is taken within
//!   each round (paired), and its median and quartiles over the rounds are reported.
//!
//! `-- --profile typed|dynamic|interpreted|reqwest|reqwest-defaults|reqwest-timeout|reqwest-value [SECONDS]`
//! runs one client alone in a loop (default 20 s), for `perf record` or callgrind; with
//! `--runtime multi` on the multi-threaded runtime; `--calls N` makes exactly N calls instead.

use std::path::Path;
use std::time::{Duration, Instant};

use connector_runtime::{Connection, Credential};
use connector_tests::petstore::{types, Client, CONNECTOR};
use reqwest::header::{ACCEPT, USER_AGENT};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "bench-key";

/// What the runtime sends unless told otherwise; the hand-written client sends the same.
const AGENT: &str = concat!("connector-runtime/", env!("CARGO_PKG_VERSION"));

const PET: &str = r#"{"id":7,"name":"Rex","status":"available","tag":null,"birthDate":"2020-01-02","owner":{"name":"Ann","email":"ann@example.com"}}"#;

/// Answers every request on a kept-alive connection with the same pet, as fast as it can, so
/// that what the clients do is what the figures show. The server runs in the clients' thread,
/// so its work is in every figure; it finds the end of a request head with a vectorised search,
/// so that a longer request (the runtime sends a request id) costs it next to nothing more.
async fn serve(listener: TcpListener) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(answer(stream));
    }
}

async fn answer(mut stream: TcpStream) {
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{PET}",
        PET.len()
    );
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = memchr::memmem::Finder::new(b"\r\n\r\n");
    loop {
        let end = loop {
            if let Some(at) = head_end.find(&buffer) {
                break at + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        // The benchmark sends GETs only: no request body to skip.
        buffer.drain(..end);
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    ReqwestDefaults,
    Reqwest,
    ReqwestTimeout,
    ReqwestValue,
    Typed,
    Dynamic,
    Interpreted,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::ReqwestDefaults,
        Kind::Reqwest,
        Kind::ReqwestTimeout,
        Kind::ReqwestValue,
        Kind::Typed,
        Kind::Dynamic,
        Kind::Interpreted,
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::ReqwestDefaults => "hand-written, reqwest's defaults",
            Kind::Reqwest => "hand-written, runtime's transport settings",
            Kind::ReqwestTimeout => "hand-written, + 30 s timeout",
            Kind::ReqwestValue => "hand-written, body as serde_json::Value",
            Kind::Typed => "typed (client.get_pet)",
            Kind::Dynamic => "dynamic (execute_json)",
            Kind::Interpreted => "interpreted (spec, no codegen)",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "reqwest-defaults" => Kind::ReqwestDefaults,
            "reqwest" => Kind::Reqwest,
            "reqwest-timeout" => Kind::ReqwestTimeout,
            "reqwest-value" => Kind::ReqwestValue,
            "typed" => Kind::Typed,
            "dynamic" => Kind::Dynamic,
            "interpreted" => Kind::Interpreted,
            _ => return None,
        })
    }
}

/// How the tokio runtime is set up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// One thread runs the server and every client.
    CurrentThread,
    /// `#[tokio::main]`: two workers, the calls made from the main thread.
    MultiThread,
}

impl Setup {
    fn title(self) -> &'static str {
        match self {
            Setup::CurrentThread => "current-thread runtime (server and clients on one thread; thread CPU time)",
            Setup::MultiThread => "multi-threaded runtime (`#[tokio::main]`, 2 workers, server on the same runtime; process CPU time)",
        }
    }

    fn runtime(self) -> tokio::runtime::Runtime {
        match self {
            Setup::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Setup::MultiThread => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(2);
                builder
            }
        }
        .enable_all()
        .build()
        .expect("tokio runtime")
    }

    /// The CPU clock that covers every thread doing the calls' work.
    fn cpu(self) -> Duration {
        cpu_clock(match self {
            Setup::CurrentThread => libc::CLOCK_THREAD_CPUTIME_ID,
            Setup::MultiThread => libc::CLOCK_PROCESS_CPUTIME_ID,
        })
    }
}

struct Clients {
    base: String,
    http_defaults: reqwest::Client,
    http: reqwest::Client,
    http_timeout: reqwest::Client,
    typed: Client,
    interpreted: Connection,
}

impl Clients {
    async fn call(&self, kind: Kind) {
        match kind {
            Kind::ReqwestDefaults | Kind::Reqwest | Kind::ReqwestTimeout | Kind::ReqwestValue => {
                let http = match kind {
                    Kind::ReqwestDefaults => &self.http_defaults,
                    Kind::Reqwest | Kind::ReqwestValue => &self.http,
                    _ => &self.http_timeout,
                };
                let body = http
                    .get(format!("{}/pets/{}", self.base, 7))
                    .header(USER_AGENT, AGENT)
                    .header(ACCEPT, "application/json")
                    .header("X-API-Key", KEY)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .expect("reqwest call")
                    .bytes()
                    .await
                    .expect("reqwest body");
                if kind == Kind::ReqwestValue {
                    let pet: serde_json::Value = serde_json::from_slice(&body).expect("pet");
                    assert_eq!(pet["id"], 7);
                } else {
                    let pet: types::Pet = serde_json::from_slice(&body).expect("pet");
                    assert_eq!(pet.id, 7);
                }
            }
            Kind::Typed => {
                let pet = self.typed.get_pet(7).await.expect("typed call");
                assert_eq!(pet.id, 7);
            }
            Kind::Dynamic => {
                let pet = self
                    .typed
                    .connection()
                    .execute_json("getPet", json!({"petId": 7}))
                    .await
                    .expect("dynamic call");
                assert_eq!(pet["id"], 7);
            }
            Kind::Interpreted => {
                let pet = self
                    .interpreted
                    .execute_json("getPet", json!({"petId": 7}))
                    .await
                    .expect("interpreted call");
                assert_eq!(pet["id"], 7);
            }
        }
    }

    /// Runs `calls` calls of `kind`: wall and CPU seconds per call.
    async fn block(&self, setup: Setup, kind: Kind, calls: u32) -> Sample {
        let wall = Instant::now();
        let cpu = setup.cpu();
        for _ in 0..calls {
            self.call(kind).await;
        }
        let calls = f64::from(calls);
        Sample {
            wall: wall.elapsed().as_secs_f64() / calls,
            cpu: (setup.cpu() - cpu).as_secs_f64() / calls,
        }
    }
}

/// Seconds per call of one block.
#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
}

/// CPU time of this thread or process (`clock`).
fn cpu_clock(clock: libc::clockid_t) -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant Linux defines.
    let status = unsafe { libc::clock_gettime(clock, &mut now) };
    assert_eq!(status, 0, "clock_gettime failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The hand-written client, with the transport settings the runtime gives its own client
/// (`connection.rs`: connect timeout, idle pool size, no redirects, no `Referer`).
fn hand_written() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(connector_runtime::DEFAULT_CONCURRENCY)
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
}

fn connection(
    descriptor: &connector_runtime::descriptor::ConnectorDescriptor,
    base: &str,
) -> Connection {
    Connection::builder(descriptor)
        .base_url(base)
        .allow_http_loopback(true)
        .credential("api_key", Credential::api_key(KEY))
        .build()
        .expect("connection")
}

/// The `q` quantile (0..=1) of `values`, nearest rank.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[rank]
}

fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let setups = match args.iter().position(|a| a == "--runtime") {
        Some(i) => match args.get(i + 1).map(String::as_str) {
            Some("current") => vec![Setup::CurrentThread],
            Some("multi") => vec![Setup::MultiThread],
            _ => panic!("--runtime needs current or multi"),
        },
        None => vec![Setup::CurrentThread, Setup::MultiThread],
    };
    let profile = args.iter().position(|a| a == "--profile").map(|i| {
        let kind = args.get(i + 1).and_then(|k| Kind::parse(k)).expect(
            "--profile needs reqwest, reqwest-defaults, reqwest-timeout, reqwest-value, typed, dynamic or interpreted",
        );
        let seconds = args.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(20);
        (kind, Duration::from_secs(seconds))
    });
    // `--calls N`: the profiling loop makes exactly N calls (for instruction counts).
    let exact = args.iter().position(|a| a == "--calls").map(|i| {
        args.get(i + 1)
            .and_then(|n| n.parse().ok())
            .expect("--calls needs a number")
    });
    for setup in setups {
        let (rounds, calls) = match (quick, setup) {
            (true, _) => (8, 250),
            (false, Setup::CurrentThread) => (40, 1_000),
            // Slower calls: as many rounds, half the calls, about the same time.
            (false, Setup::MultiThread) => (41, 500),
        };
        setup
            .runtime()
            .block_on(run(setup, profile, exact, rounds, calls));
    }
}

async fn run(
    setup: Setup,
    profile: Option<(Kind, Duration)>,
    exact: Option<u32>,
    rounds: usize,
    calls: u32,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(serve(listener));
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/petstore.yaml");
    let interpreted =
        connector_gen::interpret::load_descriptor(&spec, &connector_gen::Options::default())
            .expect("petstore spec");
    let clients = Clients {
        http_defaults: reqwest::Client::new(),
        http: hand_written().build().expect("reqwest client"),
        // The runtime's default per-attempt timeout.
        http_timeout: hand_written()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("reqwest client"),
        typed: Client::new(connection(&CONNECTOR, &base)),
        interpreted: connection(&interpreted, &base),
        base,
    };
    // Warm-up: connections opened, catalogues parsed, validators compiled, caches filled.
    for kind in Kind::ALL {
        for _ in 0..500 {
            clients.call(kind).await;
        }
    }
    if let Some((kind, length)) = profile {
        let start = Instant::now();
        let cpu = setup.cpu();
        let mut made = 0u32;
        if let Some(n) = exact {
            clients.block(setup, kind, n).await;
            made = n;
        }
        while exact.is_none() && start.elapsed() < length {
            clients.block(setup, kind, 1_000).await;
            made += 1_000;
        }
        let cpu = (setup.cpu() - cpu).as_secs_f64() * 1e6 / f64::from(made);
        println!(
            "{}: {made} calls in {:?}, {cpu:.2} µs CPU a call",
            kind.label(),
            start.elapsed()
        );
        return;
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); Kind::ALL.len()];
    let wall = Instant::now();
    let cpu = setup.cpu();
    for round in 0..rounds {
        for i in 0..Kind::ALL.len() {
            // Each round starts with the next client, so no client always follows another.
            let i = (round + i) % Kind::ALL.len();
            let sample = clients.block(setup, Kind::ALL[i], calls).await;
            samples[i].push(sample);
        }
    }
    let share = (setup.cpu() - cpu).as_secs_f64() / wall.elapsed().as_secs_f64();
    report(setup, &samples, rounds, calls, share);
}

/// `rows` against `baseline`, round by round, in requests per second (CPU): median and quartiles.
fn versus(rows: &[Sample], baseline: &[Sample]) -> (String, String) {
    let deltas: Vec<f64> = rows
        .iter()
        .zip(baseline)
        .map(|(s, b)| (b.cpu / s.cpu - 1.0) * 100.0)
        .collect();
    (
        format!("{:+.1} %", median(&deltas)),
        format!(
            "{:+.1} … {:+.1}",
            quantile(&deltas, 0.25),
            quantile(&deltas, 0.75)
        ),
    )
}

fn report(setup: Setup, samples: &[Vec<Sample>], rounds: usize, calls: u32, share: f64) {
    let defaults = &samples[0];
    let same = &samples[1];
    let value = &samples[3];
    println!("### {}\n", setup.title());
    println!(
        "| client | requests/s (wall) | µs per call (CPU) | CPU µs p25…p75 | vs reqwest's defaults (req/s, CPU, paired; p25…p75) | vs same transport settings | vs hand-written to a JSON value |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (kind, rows) in Kind::ALL.into_iter().zip(samples) {
        let walls: Vec<f64> = rows.iter().map(|s| s.wall).collect();
        let cpus: Vec<f64> = rows.iter().map(|s| s.cpu * 1e6).collect();
        let vs_defaults = match kind {
            Kind::ReqwestDefaults => "—".to_owned(),
            _ => {
                let (delta, spread) = versus(rows, defaults);
                format!("{delta} ({spread})")
            }
        };
        let vs_same = match kind {
            Kind::ReqwestDefaults | Kind::Reqwest => "—".to_owned(),
            _ => {
                let (delta, spread) = versus(rows, same);
                format!("{delta} ({spread})")
            }
        };
        let vs_value = match kind {
            Kind::Dynamic | Kind::Interpreted => {
                let (delta, spread) = versus(rows, value);
                format!("{delta} ({spread})")
            }
            _ => "—".to_owned(),
        };
        println!(
            "| {} | {:.0} | {:.2} | {:.2} … {:.2} | {vs_defaults} | {vs_same} | {vs_value} |",
            kind.label(),
            1.0 / median(&walls),
            median(&cpus),
            quantile(&cpus, 0.25),
            quantile(&cpus, 0.75),
        );
    }
    println!(
        "\n{rounds} interleaved rounds of {calls} sequential calls per client; medians over the \
         rounds. The measured CPU clock ran {:.0} % of the wall time.\n",
        share * 100.0
    );
}
