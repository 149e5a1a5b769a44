//! Test servers: Python's standard one, and raw ones that answer what they are told.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use xmlrpc_client::Client;

/// `tests/fixtures/server.py` on a free port; killed when dropped.
pub(crate) struct PyServer {
    child: Child,
    port: u16,
    tls: bool,
}

impl PyServer {
    /// Without authentication.
    pub(crate) fn start() -> PyServer {
        Self::spawn(&[])
    }

    /// Every request needs Basic auth as `user`:`password`.
    pub(crate) fn with_auth(user: &str, password: &str) -> PyServer {
        Self::spawn(&["--auth", user, password])
    }

    /// Over HTTPS, with the test certificate of `fixtures/client-tls` (signed by
    /// its `ca.pem`, for `localhost` and 127.0.0.1).
    pub(crate) fn with_tls() -> PyServer {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/client-tls");
        let cert = dir.join("server.pem");
        let key = dir.join("server.key.pem");
        let mut server = Self::spawn(&["--tls", cert.to_str().unwrap(), key.to_str().unwrap()]);
        server.tls = true;
        server
    }

    fn spawn(args: &[&str]) -> PyServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (the interop tests need it)");
        // The first line is the port, printed once the socket listens.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the fixture printed {line:?}, not a port"));
        PyServer {
            child,
            port,
            tls: false,
        }
    }

    pub(crate) fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}/RPC2", self.port)
    }

    pub(crate) fn client(&self) -> Client {
        Client::builder(&self.url()).no_proxy().build().unwrap()
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
        let mut stream = tokio::io::BufReader::new(stream);
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

async fn read_request(stream: &mut tokio::io::BufReader<tokio::net::TcpStream>) -> Option<String> {
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
