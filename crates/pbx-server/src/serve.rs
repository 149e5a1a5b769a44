//! [`serve`] and [`serve_tls`]: the accept loop, TLS, connection caps and
//! timeouts, and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderValue;
use axum::http::header::CONNECTION;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::{Service, ServiceExt as _};

use crate::rpc::Authenticated;
use crate::write_timeout::WriteTimeout;
use crate::{AppState, TlsConfig, router};

/// Serves the API on `listener` until `shutdown` completes, then stops accepting,
/// lets every request in flight finish and returns once all connections are closed.
///
/// HTTP/1.0 and 1.1 with keep-alive. Besides what [`router`] does, each connection
/// gets the [`idle_timeout`](crate::ServerConfig::idle_timeout) (which also bounds
/// reading the headers) and the [`write_timeout`](crate::ServerConfig::write_timeout)
/// (a client that does not take its answer is cut off), and the caps of
/// [`ServerConfig`](crate::ServerConfig) on connections (in all and per client
/// address), requests per connection and headers apply; a connection stays open
/// after an answer only once one of its requests has logged in; requests carry
/// the peer's address as axum's `ConnectInfo<SocketAddr>`.
///
/// Errors accepting a connection are logged and retried, as `axum::serve` does;
/// the result is `Ok` today.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    run(listener, state, None, shutdown).await
}

/// [`serve`] over TLS: HTTPS with the certificate of `tls`. A handshake must
/// complete within the [`idle_timeout`](crate::ServerConfig::idle_timeout).
pub async fn serve_tls(
    listener: TcpListener,
    state: AppState,
    tls: TlsConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    run(listener, state, Some(tls), shutdown).await
}

/// What a connection beyond `max_connections_per_address` gets before it is closed.
const TOO_MANY_FROM_YOU: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 39\r\nConnection: close\r\n\r\n\
too many connections from your address\n";

/// Connections open per client address (IPv6: per /64), so that one address
/// cannot hold every connection slot.
#[derive(Debug)]
struct PerAddress {
    max: usize,
    open: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

/// One connection's place in [`PerAddress`], given back when dropped.
struct AddressSlot {
    table: Arc<PerAddress>,
    address: std::net::IpAddr,
}

impl PerAddress {
    fn try_acquire(self: &Arc<Self>, peer: std::net::IpAddr) -> Option<AddressSlot> {
        let address = crate::throttle::key(peer);
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(address).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            table: self.clone(),
            address,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self
            .table
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// What a connection beyond `max_connections` gets before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\n\r\n\
server is too busy\r\n";

async fn run(
    listener: TcpListener,
    state: AppState,
    tls: Option<TlsConfig>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let config = state.config.clone();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.idle_timeout)
        .max_headers(config.max_headers)
        .max_buf_size(config.max_header_bytes.max(8192))
        .keep_alive(true);
    let streams = state.clone();
    let app = router(state);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(config.max_connections));
    let per_address = Arc::new(PerAddress {
        max: config.max_connections_per_address.max(1),
        open: std::sync::Mutex::default(),
    });
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "too many connections: refusing one");
                    if tls.is_none() {
                        // Best effort: the socket buffer takes this at once or never.
                        let _ = stream.try_write(BUSY);
                    }
                    continue;
                };
                let Some(address_slot) = per_address.try_acquire(peer.ip()) else {
                    tracing::warn!(%peer, "too many connections from one address: refusing one");
                    if tls.is_none() {
                        let _ = stream.try_write(TOO_MANY_FROM_YOU);
                    }
                    continue;
                };
                // Small request/response pairs: do not wait to fill a segment.
                let _ = stream.set_nodelay(true);
                let stream = WriteTimeout::new(stream, config.write_timeout);
                let service =
                    connection_service(app.clone(), peer, config.max_requests_per_connection);
                let http = http.clone();
                let watcher = graceful.watcher();
                let tls = tls.clone();
                let handshake_timeout = config.idle_timeout;
                tokio::spawn(async move {
                    let outcome = match tls {
                        None => {
                            let connection = http.serve_connection(TokioIo::new(stream), service);
                            watcher.watch(connection).await
                        }
                        Some(tls) => {
                            let handshake = tls.acceptor().accept(stream);
                            let stream =
                                match tokio::time::timeout(handshake_timeout, handshake).await {
                                    Ok(Ok(stream)) => stream,
                                    Ok(Err(error)) => {
                                        tracing::debug!(%peer, %error, "TLS handshake failed");
                                        return;
                                    }
                                    Err(_) => {
                                        tracing::debug!(%peer, "TLS handshake timed out");
                                        return;
                                    }
                                };
                            let connection = http.serve_connection(TokioIo::new(stream), service);
                            watcher.watch(connection).await
                        }
                    };
                    if let Err(error) = outcome {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                    drop(address_slot);
                    drop(permit);
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
    // Event streams never finish by themselves: end them, or this waits forever.
    streams.stop_event_streams();
    graceful.shutdown().await;
    Ok(())
}

/// The router for one connection: each request carries the peer's address, and
/// the answer to the `max_requests`-th closes the connection, as does every
/// answer before the connection's first authenticated request.
fn connection_service(
    app: Router,
    peer: SocketAddr,
    max_requests: usize,
) -> TowerToHyperService<
    impl Service<Request<Incoming>, Response = Response, Error = Infallible, Future: Send> + Clone,
> {
    let served = Arc::new(AtomicUsize::new(0));
    // Until one of its requests logs in, every answer closes the connection: an
    // unauthenticated client cannot hold a slot with a request now and then.
    let logged_in = Arc::new(AtomicBool::new(false));
    let service = tower::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let count = served.fetch_add(1, Ordering::Relaxed) + 1;
        let app = app.clone();
        let logged_in = logged_in.clone();
        async move {
            let mut response = app.oneshot(request.map(Body::new)).await?;
            if response.extensions().get::<Authenticated>().is_some() {
                logged_in.store(true, Ordering::Relaxed);
            }
            if count >= max_requests || !logged_in.load(Ordering::Relaxed) {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(response)
        }
    });
    TowerToHyperService::new(service)
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
