//! [`serve`]: the accept loop, connection timeouts and graceful shutdown.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use crate::{AppState, router};

/// Serves the API on `listener` until `shutdown` completes, then stops accepting,
/// lets every request in flight finish and returns once all connections are closed.
///
/// HTTP/1.0 and 1.1 with keep-alive. Besides what [`router`] does, each connection
/// gets the [`idle_timeout`](crate::ServerConfig::idle_timeout), and requests
/// carry the peer's address as axum's `ConnectInfo<SocketAddr>`.
///
/// Errors accepting a connection are logged and retried, as `axum::serve` does;
/// the `io::Result` leaves room for setups that can fail (TLS) and is `Ok` today.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.config.idle_timeout)
        .keep_alive(true);
    let app = router(state);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Small request/response pairs: do not wait to fill a segment.
                let _ = stream.set_nodelay(true);
                let service = app
                    .clone()
                    .map_request(move |mut request: Request<Incoming>| {
                        request.extensions_mut().insert(ConnectInfo(peer));
                        request
                    });
                let connection =
                    http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                });
            }
            Err(error) if is_connection_error(&error) => {
                tracing::debug!(%error, "a connection failed before it was accepted");
            }
            Err(error) => {
                // Out of file descriptors or memory, most likely: let requests in
                // flight release some instead of spinning (as axum::serve does).
                tracing::error!(%error, "cannot accept connections; retrying in a second");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
    drop(listener);
    tracing::info!("shutting down: finishing requests in flight");
    graceful.shutdown().await;
    Ok(())
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
            | io::ErrorKind::TimedOut
    )
}
