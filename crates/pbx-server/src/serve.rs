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
use crate::{AppState, Metrics, TlsConfig, router};

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
    let app = router(state.clone());
    run(listener, state, app, None, shutdown).await
}

/// Serves [`ops_router`](crate::ops_router) (`GET /metrics`, `GET /health`)
/// on `listener` until `shutdown` completes, with the same connection caps
/// and timeouts as [`serve`]. No authentication: give it an address only the
/// scraper reaches. Its connections are not counted in the metrics.
pub async fn serve_ops(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let app = crate::ops_router(state.clone());
    let mut state = state;
    let own = Arc::make_mut(&mut state.0);
    own.metrics = None;
    // It serves no events: its stop must not end the API's streams and polls.
    own.streams = Arc::new(crate::events::Streams::new());
    own.long_polls = pbx_backend::events::LongPolls::new();
    run(listener, state, app, None, shutdown).await
}

/// [`serve`] over TLS: HTTPS with the certificate of `tls`. A handshake must
/// complete within the [`idle_timeout`](crate::ServerConfig::idle_timeout).
pub async fn serve_tls(
    listener: TcpListener,
    state: AppState,
    tls: TlsConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let app = router(state.clone());
    run(listener, state, app, Some(tls), shutdown).await
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

/// What a plain HTTP request on the HTTPS port gets before it is closed: the
/// client's own message would otherwise be a TLS parse error.
const SPEAKS_HTTPS: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 55\r\nConnection: close\r\n\r\n\
this server speaks HTTPS: use an https:// URL instead\r\n";

/// Why a TLS connection did not get past its handshake.
#[derive(Debug)]
enum Handshake {
    /// The client sent a plain HTTP request.
    PlainHttp,
    /// The TLS handshake itself failed.
    Failed(io::Error),
}

impl std::fmt::Display for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PlainHttp => f.write_str("the client sent plain HTTP to the HTTPS port"),
            Self::Failed(error) => error.fmt(f),
        }
    }
}

/// Whether the connection opens with a plain HTTP request line (`GET `,
/// `POST `, ...) rather than a TLS record (whose first byte is 0x16). Waits
/// for the client's first byte, which the handshake would wait for anyway.
async fn speaks_plain_http(stream: &tokio::net::TcpStream) -> bool {
    let mut first = [0_u8; 1];
    matches!(stream.peek(&mut first).await, Ok(1) if first[0].is_ascii_uppercase())
}

async fn run(
    listener: TcpListener,
    state: AppState,
    app: Router,
    tls: Option<TlsConfig>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let config = state.0.config.clone();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.idle_timeout)
        .max_headers(config.max_headers)
        .max_buf_size(config.max_header_bytes.max(8192))
        .keep_alive(true);
    let metrics = state.0.metrics.clone();
    let streams = state.clone();
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
                    if let Some(metrics) = &metrics {
                        metrics.connection_refused("max_connections");
                    }
                    tracing::warn!(%peer, "too many connections: refusing one");
                    if tls.is_none() {
                        // Best effort: the socket buffer takes this at once or never.
                        let _ = stream.try_write(BUSY);
                    }
                    continue;
                };
                let Some(address_slot) = per_address.try_acquire(peer.ip()) else {
                    if let Some(metrics) = &metrics {
                        metrics.connection_refused("max_connections_per_address");
                    }
                    tracing::warn!(%peer, "too many connections from one address: refusing one");
                    if tls.is_none() {
                        let _ = stream.try_write(TOO_MANY_FROM_YOU);
                    }
                    continue;
                };
                // Small request/response pairs: do not wait to fill a segment.
                let _ = stream.set_nodelay(true);
                let open = metrics.as_ref().map(Metrics::connection_opened);
                let write_timeout = config.write_timeout;
                let metrics = metrics.clone();
                let service = connection_service(
                    app.clone(),
                    peer,
                    config.max_requests_per_connection,
                    tls.is_some(),
                );
                let http = http.clone();
                let watcher = graceful.watcher();
                let tls = tls.clone();
                let handshake_timeout = config.idle_timeout;
                tokio::spawn(async move {
                    let outcome = match tls {
                        None => {
                            let stream = WriteTimeout::new(stream, write_timeout);
                            let connection = http.serve_connection(TokioIo::new(stream), service);
                            watcher.watch(connection).await
                        }
                        Some(tls) => {
                            let handshake = async {
                                if speaks_plain_http(&stream).await {
                                    // Take in what the request sent so far, so that
                                    // the close is a FIN the client reads the answer
                                    // before, not a reset (which unread bytes cause).
                                    let mut sink = [0_u8; 4096];
                                    for _ in 0..16 {
                                        if !matches!(stream.try_read(&mut sink), Ok(1..)) {
                                            break;
                                        }
                                    }
                                    // Best effort, as for the other refusals at accept.
                                    let _ = stream.try_write(SPEAKS_HTTPS);
                                    return Err(Handshake::PlainHttp);
                                }
                                let stream = WriteTimeout::new(stream, write_timeout);
                                tls.acceptor()
                                    .accept(stream)
                                    .await
                                    .map_err(Handshake::Failed)
                            };
                            let handshake = tokio::time::timeout(handshake_timeout, handshake);
                            let failed = |why: &dyn std::fmt::Display| {
                                if let Some(metrics) = &metrics {
                                    metrics.tls_handshake_failed();
                                }
                                tracing::debug!(%peer, "TLS handshake failed: {why}");
                            };
                            let stream = match handshake.await {
                                Ok(Ok(stream)) => stream,
                                Ok(Err(error)) => return failed(&error),
                                Err(_) => return failed(&"timed out"),
                            };
                            let connection = http.serve_connection(TokioIo::new(stream), service);
                            watcher.watch(connection).await
                        }
                    };
                    if let Err(error) = outcome {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                    drop(address_slot);
                    drop(open);
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
    over_tls: bool,
) -> TowerToHyperService<
    impl Service<Request<Incoming>, Response = Response, Error = Infallible, Future: Send> + Clone,
> {
    let served = Arc::new(AtomicUsize::new(0));
    // Until one of its requests logs in, every answer closes the connection: an
    // unauthenticated client cannot hold a slot with a request now and then.
    let logged_in = Arc::new(AtomicBool::new(false));
    let service = tower::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        if over_tls {
            request.extensions_mut().insert(crate::console::OverTls);
        }
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
