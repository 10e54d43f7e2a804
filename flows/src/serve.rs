//! Serving a router on an address until SIGTERM or Ctrl-C, finishing the requests under way.

use std::net::SocketAddr;

use axum::Router;

use crate::error::Error;

/// Binds `addr` and serves `router` until `stop` resolves; requests under way are finished
/// (their events stored and answered) before it returns. `on_bound` hears the address bound
/// (port 0 picks a free one).
pub async fn serve(
    router: Router,
    addr: SocketAddr,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Io {
            action: format!("binding {addr}"),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| Error::Io {
        action: "reading the bound address".into(),
        source,
    })?;
    on_bound(bound);
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
        .map_err(|source| Error::Io {
            action: "serving".into(),
            source,
        })
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
