//! Test servers: the real one on the demo PBX, and raw ones that misbehave.

use std::net::SocketAddr;
use std::sync::Arc;

use pbx_backend_memory::{MemoryPbx, Player};
use pbx_client::{Client, ClientError};
use pbx_server::{AppState, ServerConfig};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The reference server on a fresh demo PBX, simulation on; stops when dropped.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl Server {
    pub(crate) async fn start() -> Server {
        let pbx = Arc::new(MemoryPbx::demo());
        let state = AppState::builder(pbx.clone(), ServerConfig::default())
            .simulator(Arc::new(Player::new(pbx)))
            .build();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(pbx_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Server { addr, _stop: stop }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/RPC2", self.addr)
    }

    /// A client of user `user`, whose demo password is its number.
    pub(crate) fn client(&self, user: &str) -> Client {
        self.client_with(user, user)
    }

    pub(crate) fn client_with(&self, user: &str, password: &str) -> Client {
        Client::builder(&self.url())
            .credentials(user, password)
            .no_proxy()
            .build()
            .unwrap()
    }
}

/// The fault code of a result that must be a fault.
#[track_caller]
pub(crate) fn fault_code<T: std::fmt::Debug>(result: Result<T, ClientError>) -> i32 {
    match result {
        Err(ClientError::Fault { code, .. }) => code,
        other => panic!("expected a fault, got {other:?}"),
    }
}

/// What a raw server does with one request it has read.
pub(crate) enum Answer {
    /// Writes these bytes (a whole HTTP response) and reads the next request.
    Respond(Vec<u8>),
    /// Hangs up without a word.
    Close,
}

/// A server that accepts one connection, reads requests on it and answers each
/// with the next `Answer`; the handle yields the requests it read (head and body).
pub(crate) struct RawServer {
    pub(crate) url: String,
    pub(crate) requests: JoinHandle<Vec<String>>,
}

pub(crate) async fn raw_server(answers: Vec<Answer>) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/RPC2", listener.local_addr().unwrap());
    let requests = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut stream = BufReader::new(stream);
        let mut seen = Vec::new();
        for answer in answers {
            let Some(request) = read_request(&mut stream).await else {
                break;
            };
            seen.push(request);
            match answer {
                Answer::Respond(bytes) => stream.get_mut().write_all(&bytes).await.unwrap(),
                Answer::Close => break,
            }
        }
        seen
    });
    RawServer { url, requests }
}

/// One request (head and Content-Length body) as text; `None` at end of stream.
async fn read_request(stream: &mut BufReader<tokio::net::TcpStream>) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(head + &String::from_utf8_lossy(&body))
}

/// An HTTP/1.1 response with a Content-Length body and extra header lines.
pub(crate) fn http_response(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A 200 answer holding an XML-RPC response body.
pub(crate) fn xml_response(body: &str) -> Answer {
    Answer::Respond(http_response(
        "200 OK",
        &["Content-Type: text/xml"],
        body.as_bytes(),
    ))
}
