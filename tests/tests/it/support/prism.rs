//! Starts Stoplight Prism (`prism mock`) on a loopback port for one spec, and stops it on drop.
//!
//! Prism is found through `PRISM_BIN`, else in `.cache/prism` where `scripts/install-prism.sh`
//! puts it. When it is absent the tests that need it print why and pass without running, unless
//! `PRISM_REQUIRED=1` (set by CI) makes its absence a failure.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Prism may take to parse a spec and start listening.
const STARTUP: Duration = Duration::from_secs(60);

/// The repository root (the tests crate's parent).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The prism binary, or `None` (after saying so) when it is not installed.
pub fn prism_bin() -> Option<PathBuf> {
    let bin = match std::env::var_os("PRISM_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => repo_root().join(".cache/prism/node_modules/.bin/prism"),
    };
    if bin.is_file() {
        return Some(bin);
    }
    let message = format!(
        "SKIPPED: Prism not found at {} (set PRISM_BIN, or run scripts/install-prism.sh)",
        bin.display()
    );
    assert!(
        std::env::var("PRISM_REQUIRED").map_or(true, |v| v != "1"),
        "{message}, and PRISM_REQUIRED=1"
    );
    eprintln!("{message}");
    None
}

/// A running `prism mock` process.
pub struct Prism {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    log: PathBuf,
}

impl Prism {
    /// Starts Prism for `spec` (relative to the repository root) and waits until it listens.
    pub fn start(bin: &Path, spec: &str) -> Prism {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("prism-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).expect("prism log file");
        let child = Command::new(bin)
            // Without `--errors`: with it Prism also answers 500 when its own generated response
            // breaks the spec, which says nothing about the request under test.
            .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(repo_root().join(spec))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("prism log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let mut prism = Prism {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = prism.child.try_wait() {
                panic!(
                    "prism exited with {status} while starting:\n{}",
                    prism.log()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return prism;
            }
            assert!(
                started.elapsed() < STARTUP,
                "prism did not listen within {STARTUP:?}:\n{}",
                prism.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What Prism has logged so far (its validation messages name each violation).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails if Prism has died (it crashes on some inputs, which must not pass silently).
    pub fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("prism exited with {status}:\n{}", self.log());
        }
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
