//! The hostile-input corpus (`fixtures/hostile/*.toml`) against a real server:
//! each case is sent on its own connection and must get exactly its expected
//! answers (HTTP status, and fault code when 200), within a deadline, after which
//! the server must still answer a normal request. Large inputs are generated from
//! the case's small spec and streamed, so the corpus stays small.
//!
//! A case file holds `description`, one of `body` (an XML-RPC body, POSTed by user
//! 203), `body_file` (the same from a file next to it), `raw` (bytes written on the
//! socket as they are; `{auth}` stands for 203's credentials) or `generate` (a
//! generator below, with `count` and `kind`), and `gzip`, `chunked`, `half_close`
//! flags; `expect` lists the answers in order: `status`, and for 200 `fault` (the
//! code) or `success = true`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pbx_server::{ServerConfig, ThrottleConfig};
use serde::Deserialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use xmlrpc_codec::{MethodResponse, decode_method_response};

use crate::support::demo_state_with;

/// Every case must be answered within this; a hang fails the test.
const DEADLINE: Duration = Duration::from_secs(15);
/// User 203's `Authorization` value.
const AUTH: &str = "Basic MjAzOjIwMw==";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    body: Option<String>,
    body_file: Option<String>,
    raw: Option<String>,
    generate: Option<String>,
    kind: Option<String>,
    count: Option<usize>,
    #[serde(default)]
    gzip: bool,
    #[serde(default)]
    chunked: bool,
    #[serde(default)]
    half_close: bool,
    expect: Vec<Expect>,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: u16,
    fault: Option<i32>,
    #[serde(default)]
    success: bool,
}

/// What goes on the socket: a head and a body that may be streamed.
enum Wire {
    /// Bytes as they are.
    Raw(Vec<u8>),
    /// A POST of this body by user 203.
    Post { body: Vec<u8>, gzip: bool },
    /// A POST whose body is `len` bytes of `a`, written in chunks as the server
    /// takes them (chunked transfer encoding when `chunked`).
    Stream { len: usize, chunked: bool },
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/hostile")
}

fn call(method: &str, params: &str) -> Vec<u8> {
    format!("<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>").into_bytes()
}

fn generate(case: &Case) -> Wire {
    let n = case.count.expect("a generated case needs `count`");
    let gzip = case.gzip;
    let post = |body: Vec<u8>| Wire::Post { body, gzip };
    match case.generate.as_deref().unwrap_or_default() {
        "nesting" => {
            let (open, close) = match case.kind.as_deref() {
                Some("struct") => ("<struct><member><name>a</name><value>", "</value></member></struct>"),
                _ => ("<array><data><value>", "</value></data></array>"),
            };
            let value = format!("{}<i4>1</i4>{}", open.repeat(n), close.repeat(n));
            post(call(
                "dict_set_serialized",
                &format!("<param><value>k</value></param><param><value>{value}</value></param>"),
            ))
        }
        "struct_members" => {
            let mut members = String::with_capacity(n * 40);
            for i in 0..n {
                let _ = write!(members, "<member><name>m{i}</name><value/></member>");
            }
            post(call(
                "dict_set_serialized",
                &format!("<param><value>k</value></param><param><value><struct>{members}</struct></value></param>"),
            ))
        }
        "params" => post(call("get_calls", &"<param><value><i4>1</i4></value></param>".repeat(n))),
        "big_int" => post(call(
            "dict_set_serialized",
            &format!(
                "<param><value>k</value></param><param><value><array><data><value><int>{}</int></value></data></array></value></param>",
                "9".repeat(n)
            ),
        )),
        "multicall" => {
            let one = "<value><struct><member><name>methodName</name><value>get_extensions</value></member>\
                       <member><name>params</name><value><array><data/></array></value></member></struct></value>";
            post(call(
                "system.multicall",
                &format!("<param><value><array><data>{}</data></array></value></param>", one.repeat(n)),
            ))
        }
        "long_key" => post(call(
            "dict_set",
            &format!(
                "<param><value>{}</value></param><param><value>v</value></param>",
                "k".repeat(n)
            ),
        )),
        "big_body" => Wire::Stream {
            len: n,
            chunked: case.chunked,
        },
        "gzip_bomb" => {
            // Concatenated gzip members inflate one after the other: 1 MiB of
            // zeros compressed once, repeated.
            let member = gzip_bytes(&vec![0; 1 << 20]);
            Wire::Raw(post_head_and_body(&member.repeat(n >> 20), true))
        }
        "header_flood" => {
            let mut head = format!("POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\n");
            for i in 0..n {
                let _ = write!(head, "X-Flood-{i}: a\r\n");
            }
            head.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
            Wire::Raw(head.into_bytes())
        }
        "header_line" => Wire::Raw(
            format!(
                "POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\nX-Big: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                "a".repeat(n)
            )
            .into_bytes(),
        ),
        "huge_authorization" => Wire::Raw(
            format!(
                "POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                "QUFB".repeat(n / 4)
            )
            .into_bytes(),
        ),
        other => panic!("unknown generator {other:?}"),
    }
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn post_head_and_body(body: &[u8], gzip: bool) -> Vec<u8> {
    let encoding = if gzip {
        "Content-Encoding: gzip\r\n"
    } else {
        ""
    };
    let mut bytes = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\nContent-Type: text/xml\r\n{encoding}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn wire(case: &Case, dir: &Path) -> Wire {
    if let Some(raw) = &case.raw {
        return Wire::Raw(raw.replace("{auth}", AUTH).into_bytes());
    }
    if let Some(body) = &case.body {
        return Wire::Post {
            body: body.clone().into_bytes(),
            gzip: case.gzip,
        };
    }
    if let Some(file) = &case.body_file {
        return Wire::Post {
            body: std::fs::read(dir.join(file)).expect("the body file"),
            gzip: case.gzip,
        };
    }
    generate(case)
}

/// Sends `wire` on a new connection; every answer until the server closes it.
async fn exchange(addr: std::net::SocketAddr, wire: Wire, half_close: bool) -> Vec<Expect> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        // Write errors are expected: the server may answer and close early.
        let _ = match wire {
            Wire::Raw(bytes) => writer.write_all(&bytes).await,
            Wire::Post { body, gzip } => {
                let body = if gzip { gzip_bytes(&body) } else { body };
                writer.write_all(&post_head_and_body(&body, gzip)).await
            }
            Wire::Stream { len, chunked } => stream_body(&mut writer, len, chunked).await,
        };
        if half_close {
            let _ = writer.shutdown().await;
        }
        // Keep the writing half open until the server is done.
        writer
    });
    let mut received = Vec::new();
    let _ = reader.read_to_end(&mut received).await;
    drop(sender.await);
    parse_answers(&received)
}

async fn stream_body(
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    len: usize,
    chunked: bool,
) -> std::io::Result<()> {
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {len}")
    };
    let head = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\n{framing}\r\nConnection: close\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await?;
    let chunk = vec![b'a'; 64 << 10];
    let mut sent = 0;
    while sent < len {
        let size = chunk.len().min(len - sent);
        if chunked {
            writer.write_all(format!("{size:x}\r\n").as_bytes()).await?;
        }
        writer.write_all(&chunk[..size]).await?;
        if chunked {
            writer.write_all(b"\r\n").await?;
        }
        sent += size;
    }
    if chunked {
        writer.write_all(b"0\r\n\r\n").await?;
    }
    Ok(())
}

/// The HTTP responses in `bytes`, in order (bodies framed by Content-Length).
fn parse_answers(mut bytes: &[u8]) -> Vec<Expect> {
    let mut answers = Vec::new();
    while let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {head:?}"));
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let body = &bytes[end + 4..(end + 4 + length).min(bytes.len())];
        let (fault, success) = if status == 200 {
            match decode_method_response(body) {
                Ok(MethodResponse::Fault(f)) => (Some(f.code), false),
                Ok(MethodResponse::Success(_)) => (None, true),
                Err(e) => panic!(
                    "not a methodResponse ({e}): {}",
                    String::from_utf8_lossy(body)
                ),
            }
        } else {
            (None, false)
        };
        answers.push(Expect {
            status,
            fault,
            success,
        });
        bytes = &bytes[(end + 4 + length).min(bytes.len())..];
    }
    answers
}

/// A normal request on a new connection: the server must still answer it.
async fn still_answers(addr: std::net::SocketAddr) -> bool {
    let answers = exchange(
        addr,
        Wire::Post {
            body: call("get_extensions", ""),
            gzip: false,
        },
        false,
    )
    .await;
    answers
        == [Expect {
            status: 200,
            fault: None,
            success: true,
        }]
}

/// The peak resident memory of this process, in MiB (Linux), for the report.
fn peak_memory_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_input_gets_its_answer_and_the_server_keeps_answering() {
    let mut config = ServerConfig::default();
    // Room for the generated cases "within the size limit" (a million struct
    // members) to reach the decoder, whose own limits must then stop them.
    config.max_body_bytes = 8 << 20;
    config.max_decompressed_bytes = 64 << 20;
    config.throttle = ThrottleConfig::off();
    let state = demo_state_with(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(pbx_server::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let dir = fixtures();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "the corpus is in fixtures/hostile");
    let mut failures = Vec::new();
    let mut report = String::new();
    for path in &names {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let case: Case = toml::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let started = Instant::now();
        let answers = match tokio::time::timeout(
            DEADLINE,
            exchange(addr, wire(&case, &dir), case.half_close),
        )
        .await
        {
            Ok(answers) => answers,
            Err(_) => {
                failures.push(format!("{name}: no answer within {DEADLINE:?} (hang)"));
                continue;
            }
        };
        let took = started.elapsed();
        if answers != case.expect {
            failures.push(format!(
                "{name} ({}): expected {:?}, got {answers:?}",
                case.description, case.expect
            ));
        }
        if !tokio::time::timeout(DEADLINE, still_answers(addr))
            .await
            .unwrap_or(false)
        {
            failures.push(format!(
                "{name}: the server no longer answers a normal request"
            ));
        }
        let _ = writeln!(report, "{name}: {answers:?} in {took:?}");
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    assert!(
        failures.is_empty(),
        "{}\n\nall cases:\n{report}",
        failures.join("\n")
    );
    // The 100 MB bodies were refused, not buffered.
    if let Some(peak) = peak_memory_mib() {
        assert!(peak < 1024, "peak memory {peak} MiB");
    }
}
