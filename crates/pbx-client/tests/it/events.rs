//! `Client::events`: the SSE stream against the real server (through a proxy
//! the test can cut) and against raw servers that misbehave.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;
use pbx_client::{ClientError, EventData, EventId, EventKind, EventStream, EventUpdate};
use pbx_model::CallState;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::support::{Answer, Server, http_response, raw_server};

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/screen_pop.rs"]
mod screen_pop;

/// The next item, which must be `Ok`.
async fn next(stream: &mut EventStream) -> EventUpdate {
    match stream.next().await {
        Some(Ok(update)) => update,
        other => panic!("expected an update, got {other:?}"),
    }
}

/// The next event, skipping nothing else: a snapshot or a reconnection here
/// is a failure.
async fn next_event(stream: &mut EventStream) -> pbx_client::Event {
    match next(stream).await {
        EventUpdate::Event(event) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

#[tokio::test]
async fn a_ringing_call_reaches_the_stream_after_its_snapshot() {
    let server = Server::start().await;
    let client = server.client("203");
    let mut events = client.events();
    assert_eq!(next(&mut events).await, EventUpdate::Connected);
    let EventUpdate::Snapshot(snapshot) = next(&mut events).await else {
        panic!("a snapshot first")
    };
    assert!(snapshot.calls.is_empty());
    assert!(
        snapshot.extensions.iter().any(|e| e.abbreviated == "203"),
        "{:?}",
        snapshot.extensions
    );
    let id = client.sim_call("+15550100", "203", None).await.unwrap();
    let event = loop {
        let event = next_event(&mut events).await;
        if event.kind == EventKind::CallCreated {
            break event;
        }
    };
    let EventData::Call(call) = event.data else {
        panic!("{event:?}")
    };
    assert_eq!(call.id, id);
    assert_eq!(call.state, CallState::Ringing);
    assert_eq!(call.from.number, "+15550100");
    assert_eq!(call.to.number, "203");
}

/// A TCP proxy to `target` whose connections the test can cut, and which
/// refuses new ones (accepts and hangs up) while cut.
struct Proxy {
    url: String,
    open: watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/RPC2", listener.local_addr().unwrap());
        let (open, _) = watch::channel(true);
        let gate = open.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut = gate.subscribe();
                if !*cut.borrow_and_update() {
                    drop(inbound);
                    continue;
                }
                tokio::spawn(async move {
                    let mut outbound = tokio::net::TcpStream::connect(target).await.unwrap();
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|open| !open) => {}
                    }
                });
            }
        });
        Proxy { url, open }
    }

    fn set_open(&self, open: bool) {
        self.open.send_replace(open);
    }
}

#[tokio::test]
async fn after_the_connection_drops_it_gets_exactly_the_missed_events_in_order() {
    let server = Server::start().await;
    let direct = server.client("203");
    let proxy = Proxy::start(server.addr).await;
    let through_proxy = pbx_client::Client::builder(&proxy.url)
        .credentials("203", "203")
        .no_proxy()
        .build()
        .unwrap();
    let mut events = through_proxy
        .events_builder()
        .initial_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
        .build();
    // The reference: a stream that never drops.
    let mut reference = direct.events();
    for stream in [&mut events, &mut reference] {
        assert_eq!(next(stream).await, EventUpdate::Connected);
        assert!(matches!(next(stream).await, EventUpdate::Snapshot(_)));
    }

    proxy.set_open(false);
    let EventUpdate::Reconnecting {
        attempt: 1, cause, ..
    } = next(&mut events).await
    else {
        panic!("the cut is seen")
    };
    assert!(
        matches!(
            cause,
            ClientError::EventStreamEnded | ClientError::Transport(_)
        ),
        "{cause:?}"
    );

    // Changes while the stream is away.
    let call = direct.sim_call("+15550100", "203", None).await.unwrap();
    direct.sim_answer(&call, None).await.unwrap();
    direct.sim_hangup(&call).await.unwrap();
    let mut missed = Vec::new();
    loop {
        let event = next_event(&mut reference).await;
        let ended = event.kind == EventKind::CallEnded;
        missed.push((event.id, event.kind));
        if ended {
            break;
        }
    }
    assert!(missed.len() >= 3, "{missed:?}");

    proxy.set_open(true);
    loop {
        match next(&mut events).await {
            EventUpdate::Reconnecting { .. } => continue,
            EventUpdate::Connected => break,
            other => panic!("{other:?}"),
        }
    }
    let mut resumed = Vec::new();
    while resumed.len() < missed.len() {
        let event = next_event(&mut events).await;
        resumed.push((event.id, event.kind));
    }
    assert_eq!(
        resumed, missed,
        "exactly the missed events, in order, no snapshot"
    );
}

#[tokio::test]
async fn an_unknown_or_expired_id_gets_a_snapshot_first() {
    let server = Server::start().await;
    let client = server.client("203");
    let mut events = client
        .events_builder()
        .resume_after(EventId::new("0-1"))
        .build();
    assert_eq!(next(&mut events).await, EventUpdate::Connected);
    let EventUpdate::Snapshot(snapshot) = next(&mut events).await else {
        panic!("a fresh snapshot")
    };
    assert_ne!(snapshot.id.as_str(), "0-1");
}

#[tokio::test]
async fn refused_credentials_end_the_stream() {
    let server = Server::start().await;
    let mut events = server.client_with("203", "not-the-password").events();
    assert_eq!(
        events.next().await,
        Some(Err(ClientError::Unauthorized)),
        "no reconnection"
    );
    assert_eq!(events.next().await, None);
}

#[tokio::test]
async fn a_server_without_events_says_so_for_a_fallback_to_polling() {
    let raw = raw_server(vec![Answer::Respond(http_response(
        "404 Not Found",
        &[],
        b"not found",
    ))])
    .await;
    let client = pbx_client::Client::builder(&raw.url)
        .no_proxy()
        .build()
        .unwrap();
    let mut events = client.events();
    assert_eq!(
        events.next().await,
        Some(Err(ClientError::EventsNotOffered))
    );
    assert_eq!(events.next().await, None);
    let request = &raw.requests.await.unwrap()[0];
    assert!(request.starts_with("GET /events HTTP/1.1\r\n"), "{request}");
}

#[tokio::test]
async fn a_busy_server_is_retried_after_its_retry_after() {
    let raw = raw_server(vec![Answer::Respond(http_response(
        "503 Service Unavailable",
        &["Retry-After: 42"],
        b"too many event streams",
    ))])
    .await;
    let client = pbx_client::Client::builder(&raw.url)
        .no_proxy()
        .build()
        .unwrap();
    let mut events = client.events();
    let EventUpdate::Reconnecting { delay, cause, .. } = next(&mut events).await else {
        panic!("a reconnection")
    };
    assert_eq!(delay, Duration::from_secs(42));
    assert!(
        matches!(cause, ClientError::HttpStatus { status: 503, .. }),
        "{cause:?}"
    );
}

/// A raw server that opens an event stream with `body` and then says nothing.
async fn silent_stream(body: &'static [u8]) -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/RPC2", listener.local_addr().unwrap());
    let reconnected = Arc::new(AtomicBool::new(false));
    let seen = reconnected.clone();
    tokio::spawn(async move {
        let mut kept = Vec::new();
        let mut first = true;
        while let Ok((mut stream, _)) = listener.accept().await {
            if !first {
                seen.store(true, Ordering::SeqCst);
            }
            first = false;
            // The request first: an answer before it is no answer.
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                if stream.read_exact(&mut byte).await.is_err() {
                    break;
                }
                request.push(byte[0]);
            }
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                        Transfer-Encoding: chunked\r\n\r\n";
            let chunk = format!("{:x}\r\n", body.len());
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(chunk.as_bytes()).await;
            let _ = stream.write_all(body).await;
            let _ = stream.write_all(b"\r\n").await;
            kept.push(stream);
        }
    });
    (url, reconnected)
}

#[tokio::test]
async fn a_connection_without_heartbeats_is_replaced() {
    let (url, reconnected) = silent_stream(b": hello\n\n").await;
    let client = pbx_client::Client::builder(&url)
        .no_proxy()
        .build()
        .unwrap();
    let mut events = client
        .events_builder()
        .heartbeat(Duration::from_millis(50))
        .initial_delay(Duration::from_millis(1))
        .build();
    assert_eq!(next(&mut events).await, EventUpdate::Connected);
    let EventUpdate::Reconnecting { cause, .. } = next(&mut events).await else {
        panic!("a dead connection is seen")
    };
    assert_eq!(cause, ClientError::Timeout);
    assert_eq!(next(&mut events).await, EventUpdate::Connected);
    assert!(reconnected.load(Ordering::SeqCst), "a new connection");
}

#[tokio::test]
async fn a_message_beyond_the_bound_ends_the_stream() {
    let (url, _) = silent_stream(
        b"id: 1\nevent: call.created\ndata: 0123456789012345678901234567890123456789",
    )
    .await;
    let client = pbx_client::Client::builder(&url)
        .no_proxy()
        .build()
        .unwrap();
    let mut events = client.events_builder().max_event_bytes(32).build();
    assert_eq!(next(&mut events).await, EventUpdate::Connected);
    assert_eq!(
        events.next().await,
        Some(Err(ClientError::ResponseTooLarge { limit: 32 }))
    );
    assert_eq!(events.next().await, None);
}

#[tokio::test]
async fn the_screen_pop_example_pops_each_call_ringing_here_once() {
    let server = Server::start().await;
    let client = server.client("203");
    let (popped, mut pops) = tokio::sync::mpsc::unbounded_channel();
    let watching = client.clone();
    let task = tokio::spawn(async move {
        screen_pop::screen_pop(&watching, "203", |call| {
            let _ = popped.send(call.clone());
        })
        .await
    });
    // Ringing here pops (from the snapshot or from its event, whichever
    // comes first); ringing elsewhere does not.
    let early = client.sim_call("+15550100", "203", None).await.unwrap();
    client.sim_call("+15550101", "202", None).await.unwrap();
    let first = pops.recv().await.unwrap();
    assert_eq!(first.id, early);
    let later = client.sim_call("+15550102", "203", None).await.unwrap();
    let second = pops.recv().await.unwrap();
    assert_eq!(
        (second.id.clone(), second.from.number.as_str()),
        (later.clone(), "+15550102")
    );
    // Answered and hung up: updates, no pop; a third call is the next pop.
    client.sim_answer(&later, None).await.unwrap();
    client.sim_hangup(&later).await.unwrap();
    let third = client.sim_call("+15550103", "203", None).await.unwrap();
    assert_eq!(pops.recv().await.unwrap().id, third);
    assert!(pops.try_recv().is_err(), "nothing popped twice");
    task.abort();
}

#[tokio::test]
async fn get_events_long_polls_through_the_clients_generated_method() {
    use xmlrpc_codec::Value;
    let server = Server::start().await;
    let client = server.client("203");
    let member = |answer: &Value, name: &str| match answer {
        Value::Struct(s) => s.get(name).cloned().expect(name),
        other => panic!("expected a struct, got {other:?}"),
    };
    // No cursor: a reset at once, whatever the timeout.
    let first = client.get_events(None, Some(60)).await.unwrap();
    assert_eq!(member(&first, "reset"), Value::Bool(true));
    let Value::String(cursor) = member(&first, "cursor") else {
        panic!("a cursor string")
    };
    let id = client.sim_call("+15550100", "203", None).await.unwrap();
    let next = client.get_events(Some(&cursor), Some(5)).await.unwrap();
    assert_eq!(member(&next, "reset"), Value::Bool(false));
    let Value::Array(events) = member(&next, "events") else {
        panic!("an events array")
    };
    let created = events
        .iter()
        .find(|e| member(e, "type") == Value::String("call.created".into()))
        .expect("call.created");
    assert_eq!(
        member(&member(created, "data"), "id"),
        Value::String(id.as_str().into())
    );
}
