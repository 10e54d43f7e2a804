//! A small keep-alive HTTP/1.1 loopback server for load tests: it counts requests in flight and
//! open connections, records arrival times and targets, and can answer the first attempt of
//! some calls with 503 (recognised by their request id), so every call succeeds on a retry.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Wait before answering each request.
    pub delay: Duration,
    /// Answer 503 to the first attempt of one call in this many (by request id).
    pub fail_one_call_in: Option<u64>,
    /// While set, answer every other request with 429.
    pub throttle: Option<Arc<std::sync::atomic::AtomicBool>>,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub open_connections: AtomicUsize,
    pub max_open_connections: AtomicUsize,
    pub failed: AtomicUsize,
    /// Arrival time and request target of every request.
    pub arrivals: Mutex<Vec<(Instant, String)>>,
    seen_ids: Mutex<HashSet<String>>,
}

pub struct ScriptedServer {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    pub async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let stats = Arc::new(Stats::default());
        let task = {
            let stats = stats.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, script.clone(), stats.clone()));
                }
            })
        };
        Self { addr, stats, task }
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn max_in_flight(&self) -> usize {
        self.stats.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }

    pub fn arrivals(&self) -> Vec<(Instant, String)> {
        self.stats.arrivals.lock().expect("arrivals").clone()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn raise_max(max: &AtomicUsize, value: usize) {
    max.fetch_max(value, Ordering::SeqCst);
}

async fn serve(mut stream: TcpStream, script: Script, stats: Arc<Stats>) {
    let open = stats.open_connections.fetch_add(1, Ordering::SeqCst) + 1;
    raise_max(&stats.max_open_connections, open);
    let mut buffer = Vec::with_capacity(4096);
    loop {
        let Some((target, request_id)) = read_request(&mut stream, &mut buffer).await else {
            break;
        };
        stats.requests.fetch_add(1, Ordering::SeqCst);
        stats
            .arrivals
            .lock()
            .expect("arrivals")
            .push((Instant::now(), target));
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        raise_max(&stats.max_in_flight, now);
        if !script.delay.is_zero() {
            tokio::time::sleep(script.delay).await;
        }
        let fail = match (script.fail_one_call_in, &request_id) {
            (Some(every), Some(id)) => {
                let first_attempt = stats.seen_ids.lock().expect("ids").insert(id.clone());
                first_attempt && fnv(id).is_multiple_of(every)
            }
            _ => false,
        };
        let throttled = script
            .throttle
            .as_ref()
            .is_some_and(|t| t.load(Ordering::SeqCst))
            && stats.requests.load(Ordering::SeqCst).is_multiple_of(2);
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        let reply: &[u8] = if throttled {
            b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n"
        } else if fail {
            stats.failed.fetch_add(1, Ordering::SeqCst);
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"
        };
        if stream.write_all(reply).await.is_err() {
            break;
        }
    }
    stats.open_connections.fetch_sub(1, Ordering::SeqCst);
}

/// Reads one request (head and Content-Length body): its target and `x-request-id`.
async fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Option<(String, Option<String>)> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 || buffer.len() > 64 * 1024 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.lines();
    let target = lines.next()?.split(' ').nth(1)?.to_owned();
    let mut length = 0usize;
    let mut request_id = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().ok()?,
                "x-request-id" => request_id = Some(value.to_owned()),
                _ => {}
            }
        }
    }
    while buffer.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    buffer.drain(..head_end + length);
    Some((target, request_id))
}

/// FNV-1a: a stable hash to pick calls by their id.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
