//! The bench's one-request-at-a-time HTTP/1.1 client: setting up the fixture,
//! capturing switchboard's answers, counting instructions. The load generator is
//! `load`.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

/// How long one answer may take (under valgrind too) before the run gives up.
const ANSWER: Duration = Duration::from_secs(60);

/// A blocking HTTP/1.1 client on one keep-alive connection, opened again only when
/// the server closes it (`Connection: close`, as switchboard does after 1,000 requests).
pub(crate) struct KeepAlive {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
    /// Connections the server closed after an answer.
    pub(crate) reconnects: usize,
}

impl KeepAlive {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            reconnects: 0,
        }
    }

    /// POSTs `body` to `path`: the status and body of the answer.
    pub(crate) fn post(
        &mut self,
        path: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>)> {
        let addr = self.addr;
        let reader = match &mut self.stream {
            Some(reader) => reader,
            None => {
                let stream =
                    TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
                stream.set_nodelay(true)?;
                stream.set_read_timeout(Some(ANSWER))?;
                self.stream.insert(BufReader::new(stream))
            }
        };
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(authorization) = authorization {
            let _ = write!(request, "Authorization: {authorization}\r\n");
        }
        request.push_str("\r\n");
        let mut request = request.into_bytes();
        request.extend_from_slice(body);
        reader.get_mut().write_all(&request)?;
        let mut head = String::new();
        loop {
            let start = head.len();
            if reader
                .read_line(&mut head)
                .with_context(|| format!("reading an answer from {addr}"))?
                == 0
            {
                bail!("{addr} closed the connection before answering");
            }
            if head[start..].trim_end().is_empty() {
                break;
            }
        }
        let head = Head::parse(&head)?;
        let mut answer = vec![0; head.content_length];
        reader
            .read_exact(&mut answer)
            .with_context(|| format!("reading an answer's body from {addr}"))?;
        if head.close {
            self.stream = None;
            self.reconnects += 1;
        }
        Ok((head.status, answer))
    }
}

/// What the client needs of an answer's head.
#[derive(Debug, PartialEq)]
struct Head {
    status: u16,
    content_length: usize,
    /// The server closes the connection after this answer.
    close: bool,
}

impl Head {
    /// Parses the status line and headers (up to the blank line).
    fn parse(head: &str) -> Result<Head> {
        let mut lines = head.lines();
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("no status in the answer's line {status_line:?}"))?;
        let (mut content_length, mut close) = (None, status_line.starts_with("HTTP/1.0"));
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().ok();
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        Ok(Head {
            status,
            content_length: content_length
                .context("the answer has no Content-Length (this client reads no other framing)")?,
            close,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn reads_an_answers_head() {
        let head =
            Head::parse("HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 42\r\n\r\n")
                .unwrap();
        assert_eq!(
            head,
            Head {
                status: 200,
                content_length: 42,
                close: false
            }
        );
        let closing =
            Head::parse("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n")
                .unwrap();
        assert_eq!((closing.status, closing.close), (401, true));
        assert!(
            Head::parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n")
                .unwrap()
                .close
        );
        let chunked = Head::parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n");
        assert!(format!("{:#}", chunked.unwrap_err()).contains("no Content-Length"));
        assert!(Head::parse("garbage").is_err());
    }

    /// Reads one request from `reader`: its head and body.
    fn request(reader: &mut BufReader<TcpStream>) -> (String, Vec<u8>) {
        let mut head = String::new();
        while reader.read_line(&mut head).unwrap() > 2 {}
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        (head, body)
    }

    #[test]
    fn keeps_the_connection_until_the_server_closes_it() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Two answers on the first connection, the second closing it; one on the next.
        let server = std::thread::spawn(move || {
            let mut heads = Vec::new();
            for answers in [
                &[
                    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none",
                    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\ntwo",
                ][..],
                &["HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"],
            ] {
                let mut reader = BufReader::new(listener.accept().unwrap().0);
                for answer in answers {
                    let (head, body) = request(&mut reader);
                    heads.push((head, body));
                    reader.get_mut().write_all(answer.as_bytes()).unwrap();
                }
            }
            heads
        });
        let mut client = KeepAlive::new(addr);
        assert_eq!(
            client.post("/RPC2", Some("Basic eA=="), b"<a/>").unwrap(),
            (200, b"one".to_vec())
        );
        assert_eq!(
            client.post("/RPC2/x", None, b"<b/>").unwrap(),
            (200, b"two".to_vec())
        );
        assert_eq!(client.reconnects, 1);
        assert_eq!(client.post("/RPC2", None, b"").unwrap(), (401, Vec::new()));
        let heads = server.join().unwrap();
        assert!(heads[0].0.starts_with("POST /RPC2 HTTP/1.1\r\n"));
        assert!(heads[0].0.contains("\r\nAuthorization: Basic eA==\r\n"));
        assert_eq!(heads[0].1, b"<a/>");
        assert!(heads[1].0.starts_with("POST /RPC2/x HTTP/1.1\r\n"));
        assert!(!heads[1].0.contains("Authorization"));
        assert_eq!(heads[1].1, b"<b/>");
        assert_eq!(heads[2].1, b"");
    }
}
