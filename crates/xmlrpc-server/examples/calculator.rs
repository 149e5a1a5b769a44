//! A calculator over XML-RPC, served on hyper directly: `add`, `sub`, `div` (a
//! fault on division by zero), and a running total kept in the router's state.
//!
//! ```text
//! cargo run -p xmlrpc-server --example calculator            # on 127.0.0.1:8080
//! cargo run -p xmlrpc-server --example calculator 127.0.0.1:0  # on a free port
//! python3 -c 'import xmlrpc.client as c; print(c.ServerProxy("http://127.0.0.1:8080/").add(2, 3))'
//! ```
//!
//! The crate's tests build the same router ([`router`]) and serve it with the same
//! [`serve`] on a free port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use xmlrpc_server::{Error, Router};

/// The fault code of a division by zero and of an overflow.
pub const ARITHMETIC: i32 = 1;

/// The calculator's state: the running total of `total.add`.
#[derive(Debug, Clone, Default)]
pub struct Calculator {
    total: Arc<AtomicI32>,
}

fn overflow() -> Error {
    Error::fault(ARITHMETIC, "the result does not fit in 32 bits")
}

/// The calculator's methods, with their help and signatures.
pub fn router() -> Router<Calculator> {
    Router::with_state(Calculator::default())
        .method("add", |(a, b): (i32, i32)| async move {
            a.checked_add(b).ok_or_else(overflow)
        })
        .help("add", "a + b")
        .signature("add", ["int", "int", "int"])
        .method("sub", |(a, b): (i32, i32)| async move {
            a.checked_sub(b).ok_or_else(overflow)
        })
        .help("sub", "a - b")
        .signature("sub", ["int", "int", "int"])
        .method("div", |(a, b): (i32, i32)| async move {
            if b == 0 {
                return Err(Error::fault(ARITHMETIC, "division by zero"));
            }
            a.checked_div(b).ok_or_else(overflow)
        })
        .help("div", "a / b, rounded toward zero; fault 1 when b is 0")
        .signature("div", ["int", "int", "int"])
        .method_with_state("total.add", |calc: Calculator, (n,): (i32,)| async move {
            let before = calc
                .total
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| t.checked_add(n))
                .map_err(|_| overflow())?;
            Ok(before + n)
        })
        .help(
            "total.add",
            "Adds n to the running total and answers the new total.",
        )
        .signature("total.add", ["int", "int"])
        .method_with_state("total.get", |calc: Calculator, (): ()| async move {
            Ok(calc.total.load(Ordering::SeqCst))
        })
        .help("total.get", "The running total.")
        .signature("total.get", ["int"])
}

/// Serves `router` on `listener` over HTTP/1.1, one task per connection, until
/// the process ends.
pub async fn serve<S: Clone + Send + Sync + 'static>(
    listener: TcpListener,
    router: Router<S>,
) -> std::io::Result<()> {
    let service = router.into_service();
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            // The service sets no timeouts: a client that never finishes its
            // headers is the server's to cut off.
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = connection {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

#[allow(clippy::print_stdout)]
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(addr) => addr
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
        None => SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    let listener = TcpListener::bind(addr).await?;
    println!("calculator listening on http://{}/", listener.local_addr()?);
    serve(listener, router()).await
}
