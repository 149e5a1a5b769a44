//! Large answers on a real socket (issue 18): a client that does not read its
//! answer is cut off at the write timeout, and writing a large answer does not
//! hold up other groups' requests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use pbx_backend::PbxBackend as _;
use pbx_server::ServerConfig;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Notify;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};

use crate::support::{HookedPbx, PATIENCE, SECRET, basic, method_call, start};

/// Stores `keys` values of 64 KiB for demo user `user`.
async fn fill(pbx: &HookedPbx, user: &str, keys: usize) {
    let caller = pbx.authenticate(user, SECRET).await.unwrap().unwrap();
    let pairs = (0..keys)
        .map(|i| (format!("key-{i:05}"), "v".repeat(64 << 10)))
        .collect();
    pbx.dict_set_many(&caller, pairs).await.unwrap();
}

/// A request for `method` (no parameters) from demo user `user`.
fn request(user: &str, method: &str) -> Vec<u8> {
    let body = method_call(method, vec![]);
    let mut request = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        basic(user, SECRET),
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

/// Reads the status line and headers; the Content-Length.
async fn read_head(reader: &mut BufReader<TcpStream>) -> (String, usize) {
    let mut status = String::new();
    reader.read_line(&mut status).await.unwrap();
    let mut length = None;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse().unwrap());
        }
    }
    (
        status.trim_end().to_owned(),
        length.expect("a Content-Length"),
    )
}

/// Sends `method` as `user` and reads the whole answer: its status and body.
async fn exchange(addr: SocketAddr, user: &str, method: &str) -> (String, Vec<u8>) {
    let mut reader = BufReader::new(TcpStream::connect(addr).await.unwrap());
    reader
        .get_mut()
        .write_all(&request(user, method))
        .await
        .unwrap();
    let (status, length) = read_head(&mut reader).await;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    (status, body)
}

#[tokio::test]
async fn a_client_that_does_not_read_is_cut_off_after_the_write_timeout() {
    let pbx = HookedPbx::new(false);
    // A 10 MiB answer: more than the socket buffers between server and client
    // hold, so the server has to wait for the client to read.
    fill(&pbx, "203", 160).await;
    let mut config = ServerConfig::default();
    config.write_timeout = Duration::from_millis(200);
    let server = start(pbx.state(config)).await;

    // A client that asks, takes the answer's head and then reads no more.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut reader = BufReader::new(socket.connect(server.addr).await.unwrap());
    reader
        .get_mut()
        .write_all(&request("203", "get_all"))
        .await
        .unwrap();
    let (status, length) = read_head(&mut reader).await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(length > 10 << 20, "{length}");

    // Shutdown waits for every connection to close: this one closes only
    // because the server gives up on it.
    server.stop.send(()).unwrap();
    tokio::time::timeout(PATIENCE, server.done)
        .await
        .expect("the connection of the client that does not read is closed")
        .unwrap()
        .unwrap();

    // What the client gets is the start of the answer, and then the end of the
    // connection.
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest).await;
    assert!(rest.len() < length, "{} of {length} bytes", rest.len());
}

/// Sees the binding's "writing a large answer" event, and holds the thread
/// writing the answer there until the test lets it go (or its patience runs out).
struct HoldLargeAnswers {
    /// Told when a large answer starts to be written.
    writing: Arc<Notify>,
    /// Lets the held answer go on.
    release: Mutex<mpsc::Receiver<()>>,
    /// Set when the answer was let go by the test (not by running out of patience).
    released: Arc<AtomicBool>,
}

struct Message(bool);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 |= format!("{value:?}") == "writing a large answer";
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for HoldLargeAnswers {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut message = Message(false);
        event.record(&mut message);
        if !message.0 {
            return;
        }
        self.writing.notify_one();
        let let_go = self.release.lock().unwrap().recv_timeout(PATIENCE);
        self.released.store(let_go.is_ok(), Ordering::SeqCst);
    }
}

/// The server runs on one async worker. While a large answer to group Acme is
/// being written, held there, a request of group Globex is answered: writing
/// it does not occupy the worker. Were it written on the worker, the worker
/// would be held and Globex's request could not be answered until the hold ran
/// out of patience.
#[test]
fn a_heavy_request_does_not_hold_up_another_group() {
    // With a single dispatcher ever created, tracing takes a callsite's interest
    // from the default of whichever thread reaches it first: a test answering
    // XML-RPC on another thread at the same time (without a subscriber) switched
    // "writing a large answer" off for good, and the hold never saw it. A second
    // dispatcher makes tracing ask every live one (as `logs.rs` does).
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let writing = Arc::new(Notify::new());
    let released = Arc::new(AtomicBool::new(false));
    let (release, held) = mpsc::channel();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(HoldLargeAnswers {
        writing: writing.clone(),
        release: Mutex::new(held),
        released: released.clone(),
    }));
    // Every thread of the runtime, blocking ones included, reports to the hold.
    let for_threads = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_start(move || {
            std::mem::forget(tracing::dispatcher::set_default(&for_threads));
        })
        .build()
        .unwrap();
    let _main = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(async {
        let pbx = HookedPbx::new(false);
        fill(&pbx, "203", 32).await;
        let server = start(pbx.state(ServerConfig::default())).await;

        let heavy = tokio::spawn(exchange(server.addr, "203", "get_all"));
        tokio::time::timeout(PATIENCE, writing.notified())
            .await
            .expect("the large answer is being written");

        let (status, body) =
            tokio::time::timeout(PATIENCE, exchange(server.addr, "301", "get_extensions"))
                .await
                .expect("the other group is answered while the large answer is held");
        assert_eq!(status, "HTTP/1.1 200 OK");
        let body = String::from_utf8(body).unwrap();
        assert!(body.contains("<string>301</string>"), "{body}");
        release.send(()).unwrap();

        let (status, body) = heavy.await.unwrap();
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(body.len() > 2 << 20, "{}", body.len());
        assert!(
            released.load(Ordering::SeqCst),
            "the large answer was held until the patience ran out"
        );
        server.stop.send(()).unwrap();
        server.done.await.unwrap().unwrap();
    });
}
