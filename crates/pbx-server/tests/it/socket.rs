//! On a real socket: keep-alive, HTTP/1.0, timeouts and graceful shutdown.

use std::io::{self, BufRead as _, Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pbx_server::{AppState, ServerConfig};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::support::{HookedPbx, PATIENCE, Running, SECRET, basic, method_call, start};

fn demo_state(config: ServerConfig) -> AppState {
    HookedPbx::new(false).state(config)
}

/// An HTTP/1.x `get_extensions` request from user 203; `extra` adds header lines.
fn raw_request(version: &str, extra: &str) -> String {
    let body = String::from_utf8(method_call("get_extensions", vec![])).unwrap();
    format!(
        "POST /RPC2 {version}\r\nHost: localhost\r\nAuthorization: {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        basic("203", SECRET),
        body.len()
    )
}

#[derive(Debug)]
struct RawResponse {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response with a Content-Length body; `None` at end of stream.
async fn read_response(reader: &mut BufReader<TcpStream>) -> Option<RawResponse> {
    let mut status_line = String::new();
    if reader.read_line(&mut status_line).await.unwrap() == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut response = RawResponse {
        status_line: status_line.trim_end().to_owned(),
        headers,
        body: Vec::new(),
    };
    let len: usize = response.header("content-length").unwrap().parse().unwrap();
    response.body.resize(len, 0);
    reader.read_exact(&mut response.body).await.unwrap();
    Some(response)
}

async fn exchange(reader: &mut BufReader<TcpStream>, request: &str) -> RawResponse {
    reader
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .unwrap();
    tokio::time::timeout(PATIENCE, read_response(reader))
        .await
        .unwrap()
        .expect("a response")
}

async fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    BufReader::new(TcpStream::connect(addr).await.unwrap())
}

async fn expect_closed(reader: &mut BufReader<TcpStream>) {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(PATIENCE, reader.read_to_end(&mut rest)).await;
    assert!(
        matches!(read, Ok(Ok(0))),
        "the server should close the connection: {read:?} {rest:?}"
    );
}

async fn stop(server: Running) {
    server.stop.send(()).unwrap();
    tokio::time::timeout(PATIENCE, server.done)
        .await
        .expect("serve returns after shutdown")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn http_1_1_keeps_the_connection_alive() {
    let server = start(demo_state(ServerConfig::default())).await;
    let mut connection = connect(server.addr).await;
    for _ in 0..3 {
        let response = exchange(&mut connection, &raw_request("HTTP/1.1", "")).await;
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
        assert!(String::from_utf8_lossy(&response.body).contains("<methodResponse>"));
    }
    let closing = exchange(
        &mut connection,
        &raw_request("HTTP/1.1", "Connection: close\r\n"),
    )
    .await;
    assert_eq!(closing.status_line, "HTTP/1.1 200 OK");
    expect_closed(&mut connection).await;
    stop(server).await;
}

#[tokio::test]
async fn http_1_0_clients_get_keep_alive_only_when_they_ask() {
    let server = start(demo_state(ServerConfig::default())).await;
    let mut connection = connect(server.addr).await;
    for _ in 0..2 {
        let response = exchange(
            &mut connection,
            &raw_request("HTTP/1.0", "Connection: keep-alive\r\n"),
        )
        .await;
        assert_eq!(response.status_line, "HTTP/1.0 200 OK");
        assert_eq!(response.header("connection"), Some("keep-alive"));
    }
    let last = exchange(&mut connection, &raw_request("HTTP/1.0", "")).await;
    assert_eq!(last.status_line, "HTTP/1.0 200 OK");
    expect_closed(&mut connection).await;
    stop(server).await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let mut config = ServerConfig::default();
    config.idle_timeout = Duration::from_millis(200);
    let server = start(demo_state(config)).await;
    // Idle from the start, and idle after a request.
    let mut silent = connect(server.addr).await;
    expect_closed(&mut silent).await;
    let mut used = connect(server.addr).await;
    let response = exchange(&mut used, &raw_request("HTTP/1.1", "")).await;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    expect_closed(&mut used).await;
    stop(server).await;
}

#[tokio::test]
async fn a_body_that_never_completes_gets_408() {
    let mut config = ServerConfig::default();
    config.request_timeout = Duration::from_millis(200);
    let server = start(demo_state(config)).await;
    let mut connection = connect(server.addr).await;
    let request = raw_request("HTTP/1.1", "");
    let cut = request.len() - 10; // the last 10 bytes of the body never come
    let response = exchange(&mut connection, &request[..cut]).await;
    assert_eq!(response.status_line, "HTTP/1.1 408 Request Timeout");
    stop(server).await;
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_returns() {
    let server = start(demo_state(ServerConfig::default())).await;
    let mut idle = connect(server.addr).await;
    let response = exchange(&mut idle, &raw_request("HTTP/1.1", "")).await;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    // `serve` owns the listener: once it returns, nothing accepts any more.
    stop(server).await;
    expect_closed(&mut idle).await;
}

/// The server runs on its own runtime in its own thread: when `serve` returns,
/// that runtime is dropped with every task on it, so a request still in flight
/// then would be cut off. The request is held inside the backend until the
/// test has seen the server stop accepting.
#[test]
fn shutdown_lets_the_request_in_flight_finish() {
    let pbx = HookedPbx::new(true);
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let (saw_stop, stop_seen) = std::sync::mpsc::channel::<()>();
    let state = pbx.state(ServerConfig::default());
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            pbx_server::serve(listener, state, async move {
                let _ = stopped.await;
                let _ = saw_stop.send(());
            })
            .await
        })
    });

    let client = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let body = String::from_utf8(method_call("get_calls", vec![])).unwrap();
        write!(
            stream,
            "POST /RPC2 HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
            basic("203", "203"),
            body.len()
        )
        .unwrap();
        let mut reader = io::BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).unwrap();
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        (status_line, rest)
    });

    let gate = Arc::clone(&pbx);
    let helper = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    helper.block_on(async {
        tokio::time::timeout(PATIENCE, gate.reached.notified())
            .await
            .expect("the request reaches the backend");
    });
    stop.send(()).unwrap();
    stop_seen
        .recv_timeout(PATIENCE)
        .expect("serve sees the shutdown");
    assert!(
        !server.is_finished(),
        "serve returned with a request in flight"
    );
    gate.open.notify_one();

    let (status_line, rest) = client.join().unwrap();
    assert_eq!(status_line.trim_end(), "HTTP/1.1 200 OK", "{rest}");
    assert!(rest.contains("</methodResponse>"), "{rest}");
    server.join().unwrap().unwrap();
}

/// `get_extensions` as `user` with `password`, on a keep-alive connection.
fn request_as(user: &str, password: &str) -> String {
    let body = String::from_utf8(method_call("get_extensions", vec![])).unwrap();
    format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n{body}",
        basic(user, password),
        body.len()
    )
}

/// A connection from the loopback address `from` (127.0.0.x), so that tests can
/// be several clients.
async fn connect_from(from: [u8; 4], to: SocketAddr) -> BufReader<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind((std::net::Ipv4Addr::from(from), 0).into())
        .unwrap();
    BufReader::new(socket.connect(to).await.unwrap())
}

#[tokio::test]
async fn headers_sent_slowly_are_cut_off_at_the_idle_timeout() {
    let mut config = ServerConfig::default();
    config.idle_timeout = Duration::from_millis(200);
    let server = start(demo_state(config)).await;
    let mut slowloris = connect(server.addr).await;
    // Half a request head, and then nothing: the server must not wait forever.
    slowloris
        .get_mut()
        .write_all(b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nX-Slow: a")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(PATIENCE, slowloris.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(_))), "closed: {read:?}");
    stop(server).await;
}

#[tokio::test]
async fn a_body_trickling_in_gets_408_at_the_body_timeout() {
    let mut config = ServerConfig::default();
    config.body_timeout = Duration::from_millis(200);
    let server = start(demo_state(config)).await;
    let mut connection = connect(server.addr).await;
    let request = raw_request("HTTP/1.1", "");
    let response = exchange(&mut connection, &request[..request.len() - 10]).await;
    assert_eq!(response.status_line, "HTTP/1.1 408 Request Timeout");
    assert_eq!(response.body, b"request body too slow\n");
    stop(server).await;
}

#[tokio::test]
async fn connections_beyond_the_cap_get_503_and_the_others_go_on() {
    let mut config = ServerConfig::default();
    config.max_connections = 2;
    let server = start(demo_state(config)).await;
    let request = raw_request("HTTP/1.1", "");
    let mut first = connect(server.addr).await;
    let mut second = connect(server.addr).await;
    for connection in [&mut first, &mut second] {
        let response = exchange(connection, &request).await;
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    }
    let mut third = connect(server.addr).await;
    let busy = tokio::time::timeout(PATIENCE, read_response(&mut third))
        .await
        .unwrap()
        .expect("a 503");
    assert_eq!(busy.status_line, "HTTP/1.1 503 Service Unavailable");
    assert_eq!(busy.header("retry-after"), Some("1"));
    expect_closed(&mut third).await;
    // The connections being served are not affected.
    let response = exchange(&mut first, &request).await;
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    stop(server).await;
}

#[tokio::test]
async fn the_last_request_a_connection_may_make_closes_it() {
    let mut config = ServerConfig::default();
    config.max_requests_per_connection = 2;
    let server = start(demo_state(config)).await;
    let mut connection = connect(server.addr).await;
    let request = raw_request("HTTP/1.1", "");
    let first = exchange(&mut connection, &request).await;
    assert_eq!(first.header("connection"), None);
    let second = exchange(&mut connection, &request).await;
    assert_eq!(second.status_line, "HTTP/1.1 200 OK");
    assert_eq!(second.header("connection"), Some("close"));
    expect_closed(&mut connection).await;
    stop(server).await;
}

/// One request on a new connection from `from`; the connection is closed after
/// the answer when the request was not authenticated.
async fn once_from(from: [u8; 4], to: SocketAddr, request: &str) -> RawResponse {
    let mut connection = connect_from(from, to).await;
    let response = exchange(&mut connection, request).await;
    if response.status_line != "HTTP/1.1 200 OK" {
        assert_eq!(response.header("connection"), Some("close"));
        expect_closed(&mut connection).await;
    }
    response
}

#[tokio::test]
async fn repeated_failed_logins_lock_out_only_that_address_and_user() {
    let mut config = ServerConfig::default();
    config.throttle.slow_after = 1;
    config.throttle.delay = Duration::from_millis(1);
    config.throttle.max_delay = Duration::from_millis(1);
    config.throttle.lock_after = 3;
    config.throttle.lockout = Duration::from_secs(600);
    let server = start(demo_state(config)).await;
    let attacker = [127, 0, 0, 2];
    for guess in ["a", "b", "c"] {
        let response = once_from(attacker, server.addr, &request_as("203", guess)).await;
        assert_eq!(response.status_line, "HTTP/1.1 401 Unauthorized");
    }
    // Locked out now, the right password included, without it being checked.
    let locked = once_from(attacker, server.addr, &request_as("203", SECRET)).await;
    assert_eq!(locked.status_line, "HTTP/1.1 429 Too Many Requests");
    assert_eq!(locked.header("retry-after"), Some("600"));
    // Another user from that address, and that user from another, go on.
    let fine = once_from(attacker, server.addr, &request_as("201", SECRET)).await;
    assert_eq!(fine.status_line, "HTTP/1.1 200 OK");
    let fine = once_from([127, 0, 0, 3], server.addr, &request_as("203", SECRET)).await;
    assert_eq!(fine.status_line, "HTTP/1.1 200 OK");
    stop(server).await;
}

#[tokio::test]
async fn a_stale_password_does_not_lock_out_the_office() {
    // The defect: eleven wrong passwords for 202 from one address, then 203 from
    // the same address with its right password got 429 for 15 minutes.
    let mut config = ServerConfig::default();
    config.throttle.slow_after = u32::MAX;
    let server = start(demo_state(config)).await;
    let office = [127, 0, 0, 2];
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let response = once_from(office, server.addr, &request_as("201", "stale")).await;
        statuses.push(response.status_line);
    }
    assert_eq!(statuses[9], "HTTP/1.1 401 Unauthorized");
    assert_eq!(statuses[10], "HTTP/1.1 429 Too Many Requests");
    // Everyone else in the office logs in at once, on a connection that stays open.
    let mut colleague = connect_from(office, server.addr).await;
    for _ in 0..2 {
        let response = exchange(&mut colleague, &request_as("203", SECRET)).await;
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    }
    // And 201 itself, with the new password, from another address.
    let home = once_from([127, 0, 0, 3], server.addr, &request_as("201", SECRET)).await;
    assert_eq!(home.status_line, "HTTP/1.1 200 OK");
    stop(server).await;
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection_slot() {
    let mut config = ServerConfig::default();
    config.max_connections = 4;
    config.max_connections_per_address = 2;
    let server = start(demo_state(config)).await;
    let hog = [127, 0, 0, 2];
    let request = request_as("203", SECRET);
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut connection = connect_from(hog, server.addr).await;
        let response = exchange(&mut connection, &request).await;
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
        held.push(connection);
    }
    let mut third = connect_from(hog, server.addr).await;
    let refused = tokio::time::timeout(PATIENCE, read_response(&mut third))
        .await
        .unwrap()
        .expect("a 429");
    assert_eq!(refused.status_line, "HTTP/1.1 429 Too Many Requests");
    assert_eq!(refused.header("retry-after"), Some("1"));
    expect_closed(&mut third).await;
    // Another client still gets in; the hog gets a slot back when it lets one go.
    let mut other = connect_from([127, 0, 0, 3], server.addr).await;
    assert_eq!(
        exchange(&mut other, &request).await.status_line,
        "HTTP/1.1 200 OK"
    );
    drop(held.pop());
    let mut again = None;
    for _ in 0..100 {
        let mut connection = connect_from(hog, server.addr).await;
        connection
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .unwrap();
        let response = tokio::time::timeout(PATIENCE, read_response(&mut connection))
            .await
            .unwrap()
            .expect("an answer");
        if response.status_line == "HTTP/1.1 200 OK" {
            again = Some(response);
            break;
        }
        // The server may not have seen the close yet.
        tokio::task::yield_now().await;
    }
    assert!(again.is_some(), "the freed slot was given back");
    stop(server).await;
}

#[tokio::test]
async fn credential_less_requests_do_not_keep_a_connection_alive() {
    let server = start(demo_state(ServerConfig::default())).await;
    let body = String::from_utf8(method_call("get_extensions", vec![])).unwrap();
    let anonymous = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut connection = connect(server.addr).await;
    let challenge = exchange(&mut connection, &anonymous).await;
    assert_eq!(challenge.status_line, "HTTP/1.1 401 Unauthorized");
    assert_eq!(challenge.header("connection"), Some("close"));
    expect_closed(&mut connection).await;
    // So do requests that never reach authentication (405, 404), until the
    // connection has logged in.
    let mut connection = connect(server.addr).await;
    let get = "GET /RPC2 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let not_allowed = exchange(&mut connection, get).await;
    assert_eq!(not_allowed.status_line, "HTTP/1.1 405 Method Not Allowed");
    assert_eq!(not_allowed.header("connection"), Some("close"));
    expect_closed(&mut connection).await;
    let mut connection = connect(server.addr).await;
    exchange(&mut connection, &request_as("203", SECRET)).await;
    let not_allowed = exchange(&mut connection, get).await;
    assert_eq!(not_allowed.header("connection"), None);
    // A wrong password closes it too; a login keeps it.
    let mut connection = connect(server.addr).await;
    let wrong = exchange(&mut connection, &request_as("203", "wrong")).await;
    assert_eq!(wrong.header("connection"), Some("close"));
    expect_closed(&mut connection).await;
    let mut connection = connect(server.addr).await;
    let fine = exchange(&mut connection, &request_as("203", SECRET)).await;
    assert_eq!(fine.header("connection"), None);
    let fine = exchange(&mut connection, &request_as("203", SECRET)).await;
    assert_eq!(fine.status_line, "HTTP/1.1 200 OK");
    stop(server).await;
}
