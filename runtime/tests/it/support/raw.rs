//! A raw HTTP/1.1 loopback server for what wiremock cannot send: endless or huge chunked
//! bodies, giant header blocks, truncated, malformed or random responses. It reads one request
//! per connection, writes its reply, and closes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server writes after reading a request.
#[derive(Clone)]
pub enum Reply {
    /// These bytes as they are, then the connection is closed.
    Bytes(Arc<Vec<u8>>),
    /// `head` (ending in the blank line, with `Transfer-Encoding: chunked`) and then a chunked
    /// body of `total` bytes, or an endless one.
    Chunked { head: String, total: Option<u64> },
}

/// A running raw server; dropping it stops accepting.
pub struct RawServer {
    pub addr: SocketAddr,
    /// Body and head bytes written to clients so far.
    pub sent: Arc<AtomicU64>,
    /// Set when a client went away while the server was still writing to it.
    pub dropped: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits up to 5 s for the client to drop the connection mid-reply.
    pub async fn wait_dropped(&self) -> bool {
        for _ in 0..500 {
            if self.dropped.load(Ordering::SeqCst) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn raw_server(reply: Reply) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    let sent = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn({
        let (sent, dropped) = (sent.clone(), dropped.clone());
        async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (reply, sent, dropped) = (reply.clone(), sent.clone(), dropped.clone());
                tokio::spawn(async move {
                    if serve(stream, &reply, &sent).await.is_err() {
                        dropped.store(true, Ordering::SeqCst);
                    }
                });
            }
        }
    });
    RawServer {
        addr,
        sent,
        dropped,
        task,
    }
}

/// One request in, one reply out; an error means the client went away mid-reply.
async fn serve(mut stream: TcpStream, reply: &Reply, sent: &AtomicU64) -> std::io::Result<()> {
    if !read_request(&mut stream).await {
        return Ok(());
    }
    match reply {
        Reply::Bytes(bytes) => {
            write(&mut stream, bytes, sent).await?;
        }
        Reply::Chunked { head, total } => {
            write(&mut stream, head.as_bytes(), sent).await?;
            let chunk = chunk();
            let data = (chunk.len() - CHUNK_FRAMING) as u64;
            let mut body = 0u64;
            while total.is_none_or(|total| body < total) {
                write(&mut stream, &chunk, sent).await?;
                body += data;
            }
            write(&mut stream, b"0\r\n\r\n", sent).await?;
        }
    }
    stream.shutdown().await
}

async fn write(stream: &mut TcpStream, bytes: &[u8], sent: &AtomicU64) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    sent.fetch_add(bytes.len() as u64, Ordering::SeqCst);
    Ok(())
}

/// Bytes of chunk framing around each 64 KiB of data: `10000\r\n` and `\r\n`.
const CHUNK_FRAMING: usize = 9;

/// One 64 KiB chunk of body data, framed; the data is `i % 251` so that a reordering shows.
pub fn chunk() -> Vec<u8> {
    let mut chunk = b"10000\r\n".to_vec();
    chunk.extend((0..65_536u32).map(|i| (i % 251) as u8));
    chunk.extend_from_slice(b"\r\n");
    chunk
}

/// Reads a request head and its `Content-Length` body; false when the client sent none.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = find(&request, b"\r\n\r\n") {
            break end + 4;
        }
        if request.len() > 64 * 1024 {
            return false;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = request.len() - head_end;
    while body < length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => body += n,
        }
    }
    true
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
