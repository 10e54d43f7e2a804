//! Runtime overhead: the same `GET /pets/{id}` made by a hand-written `reqwest` client and by the
//! petstore connector's typed method, dynamic call (`execute_json`) and interpreted spec (what
//! `connector-gen run` does, in-process), against one loopback server, in one process.
//!
//! `cargo bench -p connector-tests --bench runtime [-- --quick]` prints one table row per client:
//! requests per second and microseconds per call (median of interleaved rounds), and the
//! difference to the hand-written client.

use std::path::Path;
use std::time::{Duration, Instant};

use connector_runtime::{Connection, Credential};
use connector_tests::petstore::{types, Client, CONNECTOR};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "bench-key";

const PET: &str = r#"{"id":7,"name":"Rex","status":"available","tag":null,"birthDate":"2020-01-02","owner":{"name":"Ann","email":"ann@example.com"}}"#;

/// Answers every request on a kept-alive connection with the same pet, as fast as it can, so
/// that what the clients do is what the figures show.
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
    loop {
        let end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
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
    Typed,
    Dynamic,
    Interpreted,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Reqwest, Kind::Typed, Kind::Dynamic, Kind::Interpreted];

    fn label(self) -> &'static str {
        match self {
            Kind::Reqwest => "hand-written reqwest",
            Kind::Typed => "typed (client.get_pet)",
            Kind::Dynamic => "dynamic (execute_json)",
            Kind::Interpreted => "interpreted (spec, no codegen)",
        }
    }
}

struct Clients {
    base: String,
    http: reqwest::Client,
    typed: Client,
    interpreted: Connection,
}

impl Clients {
    async fn call(&self, kind: Kind) {
        match kind {
            Kind::Reqwest => {
                let body = self
                    .http
                    .get(format!("{}/pets/{}", self.base, 7))
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

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, calls) = if quick { (3, 200) } else { (15, 2_000) };
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
            http: reqwest::Client::new(),
            typed: Client::new(connection(&CONNECTOR, &base)),
            interpreted: connection(&interpreted, &base),
            base,
        };
        for kind in Kind::ALL {
            for _ in 0..calls / 10 {
                clients.call(kind).await;
            }
        }
        let mut seconds: Vec<Vec<f64>> = vec![Vec::new(); Kind::ALL.len()];
        // Interleaved rounds, so that load from elsewhere on the machine hits every client alike.
        for _ in 0..rounds {
            for (i, kind) in Kind::ALL.into_iter().enumerate() {
                let start = Instant::now();
                for _ in 0..calls {
                    clients.call(kind).await;
                }
                seconds[i].push(start.elapsed().as_secs_f64());
            }
        }
        let per_call: Vec<Duration> = seconds
            .into_iter()
            .map(|s| Duration::from_secs_f64(median(s) / f64::from(calls)))
            .collect();
        let baseline = per_call[0].as_secs_f64();
        println!("| client | requests/s | µs per call | vs hand-written |");
        println!("| --- | ---: | ---: | ---: |");
        for (kind, call) in Kind::ALL.into_iter().zip(per_call) {
            let secs = call.as_secs_f64();
            let rps = 1.0 / secs;
            let delta = if kind == Kind::Reqwest {
                "—".to_owned()
            } else {
                format!("{:+.1} % req/s", (baseline / secs - 1.0) * 100.0)
            };
            println!(
                "| {} | {rps:.0} | {:.1} | {delta} |",
                kind.label(),
                secs * 1e6
            );
        }
        println!("\n{rounds} interleaved rounds of {calls} sequential calls each; medians.");
    });
}
