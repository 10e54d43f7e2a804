//! Runtime overhead: the same `GET /pets/{id}` made by a hand-written `reqwest` client and by the
//! petstore connector's typed method, dynamic call (`execute_json`) and interpreted spec (what
//! `connector-gen run` does, in-process), against one loopback server, in one process.
//!
//! `cargo bench -p connector-tests --bench runtime [-- --quick]` prints one table row per client.
//!
//! Made to be trusted on a small machine that others are using:
//! - server and every client share one single-threaded tokio runtime, so each call costs its
//!   client's work plus the same server work, on one thread, with no cross-thread wake-ups;
//! - the hand-written client is built with the transport settings the runtime gives its own
//!   client and sends the same request headers (`User-Agent`, `Accept`, the API key); only what
//!   the runtime adds by itself (a request id, the per-attempt timeout) is left out, and counted
//!   as overhead. A second hand-written client with reqwest's own 30 s timeout shows what the
//!   timeout alone costs;
//! - the clients take turns in many short rounds, each round starting with the next client, so
//!   load from elsewhere falls on all of them alike;
//! - time is read both from the wall clock and from the thread's CPU clock, which does not run
//!   while another process has the core; the difference to the hand-written client is taken
//!   within each round (paired), and its median and quartiles over the rounds are reported.
//!
//! `-- --profile typed|dynamic|interpreted|reqwest|reqwest-timeout [SECONDS]` runs one client alone in a loop
//! (default 20 s), for `perf record`.

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
    Reqwest,
    ReqwestTimeout,
    Typed,
    Dynamic,
    Interpreted,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Reqwest,
        Kind::ReqwestTimeout,
        Kind::Typed,
        Kind::Dynamic,
        Kind::Interpreted,
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::Reqwest => "hand-written reqwest",
            Kind::ReqwestTimeout => "hand-written, 30 s timeout",
            Kind::Typed => "typed (client.get_pet)",
            Kind::Dynamic => "dynamic (execute_json)",
            Kind::Interpreted => "interpreted (spec, no codegen)",
        }
    }

    fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "reqwest" => Kind::Reqwest,
            "reqwest-timeout" => Kind::ReqwestTimeout,
            "typed" => Kind::Typed,
            "dynamic" => Kind::Dynamic,
            "interpreted" => Kind::Interpreted,
            _ => return None,
        })
    }
}

struct Clients {
    base: String,
    http: reqwest::Client,
    http_timeout: reqwest::Client,
    typed: Client,
    interpreted: Connection,
}

impl Clients {
    async fn call(&self, kind: Kind) {
        match kind {
            Kind::Reqwest | Kind::ReqwestTimeout => {
                let http = match kind {
                    Kind::Reqwest => &self.http,
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
                let pet: types::Pet = serde_json::from_slice(&body).expect("pet");
                assert_eq!(pet.id, 7);
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
    async fn block(&self, kind: Kind, calls: u32) -> Sample {
        let wall = Instant::now();
        let cpu = thread_cpu();
        for _ in 0..calls {
            self.call(kind).await;
        }
        let calls = f64::from(calls);
        Sample {
            wall: wall.elapsed().as_secs_f64() / calls,
            cpu: (thread_cpu() - cpu).as_secs_f64() / calls,
        }
    }
}

/// Seconds per call of one block.
#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
}

/// CPU time of this thread, which runs the server and every client.
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant Linux defines.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
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
    let profile = args.iter().position(|a| a == "--profile").map(|i| {
        let kind = args
            .get(i + 1)
            .and_then(|k| Kind::parse(k))
            .expect("--profile needs reqwest, reqwest-timeout, typed, dynamic or interpreted");
        let seconds = args.get(i + 2).and_then(|s| s.parse().ok()).unwrap_or(20);
        (kind, Duration::from_secs(seconds))
    });
    let (rounds, calls) = if quick { (8, 250) } else { (40, 1_000) };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(serve(listener));
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/petstore.yaml");
        let interpreted =
            connector_gen::interpret::load_descriptor(&spec, &connector_gen::Options::default())
                .expect("petstore spec");
        let clients = Clients {
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
            let mut made = 0u64;
            while start.elapsed() < length {
                clients.block(kind, 1_000).await;
                made += 1_000;
            }
            println!("{}: {made} calls in {:?}", kind.label(), start.elapsed());
            return;
        }
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); Kind::ALL.len()];
        let wall = Instant::now();
        let cpu = thread_cpu();
        for round in 0..rounds {
            for i in 0..Kind::ALL.len() {
                // Each round starts with the next client, so no client always follows another.
                let i = (round + i) % Kind::ALL.len();
                let sample = clients.block(Kind::ALL[i], calls).await;
                samples[i].push(sample);
            }
        }
        let share = (thread_cpu() - cpu).as_secs_f64() / wall.elapsed().as_secs_f64();
        report(&samples, rounds, calls, share);
    });
}

fn report(samples: &[Vec<Sample>], rounds: usize, calls: u32, share: f64) {
    let baseline = &samples[0];
    println!(
        "| client | requests/s (wall) | µs per call (CPU) | CPU µs p25…p75 | vs hand-written (CPU, paired) | p25…p75 |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (kind, rows) in Kind::ALL.into_iter().zip(samples) {
        let walls: Vec<f64> = rows.iter().map(|s| s.wall).collect();
        let cpus: Vec<f64> = rows.iter().map(|s| s.cpu * 1e6).collect();
        // Requests per second of this client relative to the hand-written one, round by round.
        let deltas: Vec<f64> = rows
            .iter()
            .zip(baseline)
            .map(|(s, b)| (b.cpu / s.cpu - 1.0) * 100.0)
            .collect();
        let (delta, spread) = if kind == Kind::Reqwest {
            ("—".to_owned(), "—".to_owned())
        } else {
            (
                format!("{:+.1} % req/s", median(&deltas)),
                format!(
                    "{:+.1} … {:+.1} %",
                    quantile(&deltas, 0.25),
                    quantile(&deltas, 0.75)
                ),
            )
        };
        println!(
            "| {} | {:.0} | {:.2} | {:.2} … {:.2} | {delta} | {spread} |",
            kind.label(),
            1.0 / median(&walls),
            median(&cpus),
            quantile(&cpus, 0.25),
            quantile(&cpus, 0.75),
        );
    }
    println!(
        "\n{rounds} interleaved rounds of {calls} sequential calls per client; medians over the \
         rounds. The benchmark thread had the CPU {:.0} % of the wall time.",
        share * 100.0
    );
}
