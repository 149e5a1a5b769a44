//! The `get_events` long poll over a real socket (issue 15): it answers at
//! once when an event is pending, after its timeout when none is, and never
//! with another group's events.

use std::net::SocketAddr;
use std::sync::Arc;

use pbx_backend_memory::MemoryPbx;
use pbx_server::{AppState, ServerConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use xmlrpc_codec::{MethodResponse, Value, decode_method_response};

use crate::support::{basic, handler, method_call, string};

async fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pbx = Arc::new(MemoryPbx::demo());
    let config = ServerConfig::default();
    let state = AppState::new(
        handler(pbx.clone(), config.clone()).with_simulator(pbx),
        config,
    );
    tokio::spawn(pbx_server::serve(listener, state, std::future::pending()));
    addr
}

/// One call on its own connection, as `user` (password = user number).
async fn call(addr: SocketAddr, user: &str, method: &str, params: Vec<Value>) -> Value {
    let body = method_call(method, params);
    let head = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        basic(user, user),
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8(answer).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    match decode_method_response(body.as_bytes()).unwrap() {
        MethodResponse::Success(v) => v,
        other => panic!("{method}: {other:?}"),
    }
}

fn member<'a>(v: &'a Value, name: &str) -> &'a Value {
    v.as_struct()
        .and_then(|s| s.get(name))
        .unwrap_or_else(|| panic!("no {name} in {v:?}"))
}

fn events(v: &Value) -> Vec<(String, String)> {
    match member(v, "events") {
        Value::Array(items) => items
            .iter()
            .map(
                |e| match (member(e, "type"), member(member(e, "data"), "id")) {
                    (Value::String(t), Value::String(id)) => (t.clone(), id.clone()),
                    other => panic!("{other:?}"),
                },
            )
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_events_answers_a_pending_event_at_once_and_an_idle_poll_after_its_timeout() {
    let addr = start().await;
    let first = call(addr, "203", "get_events", vec![string(""), Value::Int(0)]).await;
    assert_eq!(
        member(&first, "reset"),
        &Value::Bool(true),
        "no cursor is a reset"
    );
    let cursor = member(&first, "cursor").clone();
    let theirs = member(
        &call(addr, "301", "get_events", vec![string(""), Value::Int(0)]).await,
        "cursor",
    )
    .clone();

    // Nothing happens: the answer comes after the timeout, empty, the cursor unchanged.
    let idle = call(
        addr,
        "203",
        "get_events",
        vec![cursor.clone(), Value::Int(1)],
    )
    .await;
    assert_eq!(member(&idle, "reset"), &Value::Bool(false));
    assert!(events(&idle).is_empty(), "{idle:?}");
    assert_eq!(member(&idle, "cursor"), &cursor);

    // A ringing call is pending: the poll answers with it (a 60 s timeout
    // would otherwise outlast the test's patience).
    let id = match call(
        addr,
        "203",
        "sim.call",
        vec![string("+15550100"), string("203")],
    )
    .await
    {
        Value::String(id) => id,
        other => panic!("{other:?}"),
    };
    let pending = call(addr, "203", "get_events", vec![cursor, Value::Int(60)]).await;
    assert_eq!(events(&pending), [("call.created".to_owned(), id)]);

    // Another group's poll sees nothing of it.
    let other = call(
        addr,
        "301",
        "get_events",
        vec![theirs.clone(), Value::Int(1)],
    )
    .await;
    assert!(events(&other).is_empty(), "{other:?}");
    assert_eq!(member(&other, "cursor"), &theirs);
}
