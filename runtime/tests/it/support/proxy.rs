//! An in-process TCP fault proxy (Toxiproxy is not installable here): it forwards loopback
//! connections to an upstream server and applies toxics to the upstream -> client direction:
//! latency, slicing into 1-byte writes, a slow drip, truncation (`limit_data`), a reset after
//! some bytes (`reset_peer`, SO_LINGER 0 then close), or a stall. Toxics can be limited to the
//! first N connections, so a retry on a fresh connection gets through.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the bytes the upstream sends back.
#[derive(Debug, Clone, Default)]
pub struct Toxics {
    /// Wait before forwarding each chunk.
    pub latency: Duration,
    /// Forward one byte per write.
    pub slicer: bool,
    /// Forward one byte per this interval.
    pub drip: Option<Duration>,
    /// Forward this many bytes, then close the connection normally.
    pub limit_data: Option<usize>,
    /// Forward this many bytes, then reset the connection (0: reset when the answer starts).
    pub reset_peer: Option<usize>,
    /// Forward this many bytes, then forward nothing more (the connection stays open for up to
    /// 30 s).
    pub stall_after: Option<usize>,
    /// Apply the toxics to the first this many connections (since they were set) only;
    /// `None`: to all.
    pub first_connections: Option<usize>,
}

/// A running proxy; dropping it (or [`stop`](Self::stop)) closes the port.
pub struct FaultProxy {
    pub addr: SocketAddr,
    /// The toxics, and the number of connections accepted before they were set.
    toxics: Arc<Mutex<(Toxics, usize)>>,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr, toxics: Toxics) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let toxics = Arc::new(Mutex::new((toxics, 0)));
        let accepted = Arc::new(AtomicUsize::new(0));
        let task = {
            let toxics = toxics.clone();
            let accepted = accepted.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let number = accepted.fetch_add(1, Ordering::SeqCst);
                    let (current, since) = toxics.lock().expect("toxics").clone();
                    let active = current.first_connections.is_none_or(|n| number - since < n);
                    let toxics = if active { current } else { Toxics::default() };
                    tokio::spawn(forward(client, upstream, toxics));
                }
            })
        };
        Self {
            addr,
            toxics,
            accepted,
            task,
        }
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, toxics: Toxics) {
        *self.toxics.lock().expect("toxics") = (toxics, self.connections());
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Stops accepting: the port is closed, so connecting is refused.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(client: TcpStream, upstream: SocketAddr, toxics: Toxics) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    if toxics.reset_peer.is_some() {
        // With a zero linger time, closing sends RST instead of FIN. (Deprecated because a
        // non-zero linger blocks the thread on drop; a zero one resets at once.)
        #[allow(deprecated)]
        let _ = client.set_linger(Some(Duration::ZERO));
    }
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream_direction = async {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
        // Keep waiting: the answer may still be coming.
        std::future::pending::<()>().await;
    };
    let downstream_direction = async {
        let mut sent = 0usize;
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let read = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if !toxics.latency.is_zero() {
                tokio::time::sleep(toxics.latency).await;
            }
            let mut chunk = &buffer[..read];
            let cut = [toxics.limit_data, toxics.reset_peer, toxics.stall_after]
                .into_iter()
                .flatten()
                .min();
            let stop_here = cut.is_some_and(|limit| sent + chunk.len() >= limit);
            if let Some(limit) = cut.filter(|_| stop_here) {
                chunk = &chunk[..limit - sent];
            }
            if toxics.slicer || toxics.drip.is_some() {
                for byte in chunk {
                    if client_write.write_all(&[*byte]).await.is_err() {
                        return;
                    }
                    let _ = client_write.flush().await;
                    if let Some(interval) = toxics.drip {
                        tokio::time::sleep(interval).await;
                    }
                }
            } else if client_write.write_all(chunk).await.is_err() {
                return;
            }
            sent += chunk.len();
            if stop_here {
                if toxics.stall_after.is_some_and(|n| n == sent) {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                return;
            }
        }
        let _ = client_write.shutdown().await;
    };
    tokio::select! {
        _ = upstream_direction => {}
        _ = downstream_direction => {}
    }
    // Dropping both halves closes the client connection (with RST under `reset_peer`).
}
