//! `bench-server --events-stub`: the floor of the events benchmark, a stub
//! server that fans out pre-encoded frames (not a PBX).
//!
//! It answers the driver as switchboard does, as far as the benchmark looks:
//! `GET /events` gets a stream with a snapshot message, `sim.call` a new call
//! id, any other `POST` a string. On `sim.call` and `sim.hangup` it sends
//! one frame, written once beforehand and about as long as switchboard's
//! `call.created`, to every open stream, from one task, socket after socket:
//! no subscription, encoding, task wake-up or allocation per subscriber. What
//! it costs per event delivered is what writing to a socket costs (the
//! kernel's loopback work for both ends included): the part of switchboard's
//! figure that no server can save. Run by `--events`, which starts this
//! binary again in this mode, as a process of its own.

use std::rc::Rc;

use anyhow::{Context as _, Result};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};

/// The open streams' sockets, written by whichever request makes a change;
/// held through a whole fan-out, so that the next one waits for it.
type Streams = Rc<tokio::sync::Mutex<Vec<Option<OwnedWriteHalf>>>>;

/// Serves until killed; prints `listening on http://ADDR/RPC2` first.
pub(crate) fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on http://{}/RPC2", listener.local_addr()?);
        let streams: Streams = Rc::default();
        let calls = Rc::new(std::cell::Cell::new(0u64));
        loop {
            let (socket, _) = listener.accept().await?;
            socket.set_nodelay(true)?;
            let (streams, calls) = (streams.clone(), calls.clone());
            tokio::task::spawn_local(async move {
                // A connection that breaks is the client's business.
                let _ = connection(socket, streams, calls).await;
            });
        }
    })
}

async fn connection(
    socket: TcpStream,
    streams: Streams,
    calls: Rc<std::cell::Cell<u64>>,
) -> Result<()> {
    let (mut read, mut write) = socket.into_split();
    let mut pending = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        // One request: its head, then `Content-Length` bytes.
        let head_end = loop {
            if let Some(at) = find(&pending, b"\r\n\r\n") {
                break at + 4;
            }
            let n = read.read(&mut buffer).await?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buffer[..n]);
        };
        let head = String::from_utf8_lossy(&pending[..head_end]).into_owned();
        if head.starts_with("GET /events") {
            write
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
                )
                .await?;
            write
                .write_all(&chunk(b"id: s-0\nevent: snapshot\ndata: {}\n\n"))
                .await?;
            streams.lock().await.push(Some(write));
            // The stream is written by the changes; reading on only tells
            // when the client leaves.
            while read.read(&mut buffer).await? > 0 {}
            return Ok(());
        }
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while pending.len() < head_end + length {
            let n = read.read(&mut buffer).await?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buffer[..n]);
        }
        let body = String::from_utf8_lossy(&pending[head_end..head_end + length]).into_owned();
        pending.drain(..head_end + length);
        let (answer, change) = if body.contains("<methodName>sim.call</methodName>") {
            calls.set(calls.get() + 1);
            let id = calls.get().to_string();
            let frame = frame(&id, "call.created");
            (id, Some(frame))
        } else if body.contains("<methodName>sim.hangup</methodName>") {
            let id = between(&body, "<string>", "</string>").unwrap_or_default();
            let frame = frame(&id, "call.ended");
            (String::new(), Some(frame))
        } else {
            (String::new(), None)
        };
        let xml = format!(
            "<?xml version=\"1.0\"?><methodResponse><params><param><value><string>{answer}</string></value></param></params></methodResponse>"
        );
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{xml}",
            xml.len()
        );
        write.write_all(response.as_bytes()).await?;
        if let Some(frame) = change {
            fan_out(&streams, &frame).await;
        }
    }
}

/// Writes `frame` to every open stream, one after another; a stream whose
/// write fails is closed.
async fn fan_out(streams: &Streams, frame: &[u8]) {
    for slot in streams.lock().await.iter_mut() {
        if let Some(socket) = slot
            && socket.write_all(frame).await.is_err()
        {
            *slot = None;
        }
    }
}

/// An SSE message as one HTTP/1.1 chunk, about as long as switchboard's
/// `call.created` for the bench's calls.
fn frame(id: &str, kind: &str) -> Vec<u8> {
    let message = format!(
        "id: s-{id}\nevent: {kind}\ndata: {{\"id\":\"{id}\",\"state\":\"ringing\",\"qcall\":false,\"via\":\"\",\"created\":\"2026-01-01T00:00:00Z\",\"from\":{{\"number\":\"1230\",\"name\":\"Bench user 1230\",\"kind\":\"extension\"}},\"to\":{{\"number\":\"1200\",\"name\":\"Bench user 1200\",\"kind\":\"extension\"}}}}\n\n"
    );
    chunk(message.as_bytes())
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    let to = from + text[from..].find(end)?;
    Some(text[from..to].to_owned())
}

/// `--events-stub` as a command: this binary again.
pub(crate) fn command() -> Result<std::process::Command> {
    let exe = std::env::current_exe().context("finding bench-server's own path")?;
    let mut command = std::process::Command::new(exe);
    command.arg("--events-stub");
    Ok(command)
}
