//! The `get_events` long poll over a real socket (issue 15): it answers at
//! once when an event is pending, after its timeout when none is, and never
//! with another group's events.

use std::net::SocketAddr;
use std::sync::Arc;

use pbx_backend_memory::{MemoryPbx, Player};
use pbx_server::{AppState, ServerConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use xmlrpc_codec::{MethodResponse, Value, decode_method_response};

use crate::support::{basic, method_call, string};

async fn start() -> SocketAddr {
    start_with(ServerConfig::default(), std::future::pending())
        .await
        .0
}

async fn start_with(
    config: ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let pbx = Arc::new(MemoryPbx::demo());
    let state = AppState::builder(pbx.clone(), config)
        .simulator(Arc::new(Player::new(pbx)))
        .build();
    (
        addr,
        tokio::spawn(pbx_server::serve(listener, state, shutdown)),
    )
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

/// An open `GET /events` stream, read frame by frame.
struct Sse {
    lines: tokio::io::Lines<tokio::io::BufReader<TcpStream>>,
}

/// One SSE message: its `id:`, `event:` and `data:`.
#[derive(Debug)]
struct Message {
    id: String,
    event: String,
    data: String,
}

impl Sse {
    async fn open(addr: SocketAddr, user: &str, last_event_id: Option<&str>) -> Sse {
        let (status, sse) = Sse::try_open(addr, user, last_event_id).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        sse
    }

    async fn try_open(addr: SocketAddr, user: &str, last_event_id: Option<&str>) -> (String, Sse) {
        use tokio::io::AsyncBufReadExt as _;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let resume = last_event_id.map_or(String::new(), |id| format!("Last-Event-ID: {id}\r\n"));
        let head = format!(
            "GET /events HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nAccept: text/event-stream\r\n{resume}\r\n",
            basic(user, user)
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut lines = tokio::io::BufReader::new(stream).lines();
        let status = lines.next_line().await.unwrap().unwrap();
        loop {
            let line = lines.next_line().await.unwrap().unwrap();
            if line.is_empty() {
                break;
            }
        }
        (status, Sse { lines })
    }

    /// The next message (comments and chunk sizes skipped).
    async fn next(&mut self) -> Message {
        let (mut id, mut event, mut data) = (String::new(), String::new(), String::new());
        loop {
            let line = self
                .lines
                .next_line()
                .await
                .unwrap()
                .expect("the stream goes on");
            if let Some(v) = line.strip_prefix("id: ") {
                id = v.to_owned();
            } else if let Some(v) = line.strip_prefix("event: ") {
                event = v.to_owned();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data = v.to_owned();
            } else if line.is_empty() && !event.is_empty() {
                return Message { id, event, data };
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ringing_call_reaches_the_groups_sse_stream_and_not_another_groups() {
    let addr = start().await;
    let mut ours = Sse::open(addr, "203", None).await;
    let mut theirs = Sse::open(addr, "301", None).await;
    let first = ours.next().await;
    assert_eq!(first.event, "snapshot");
    assert!(
        first.data.starts_with(r#"{"calls":[],"extensions":[{"#),
        "{}",
        first.data
    );
    assert!(first.data.contains(r#""parking":["#), "{}", first.data);
    assert_eq!(theirs.next().await.event, "snapshot");

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
    let created = ours.next().await;
    assert_eq!(created.event, "call.created");
    assert!(
        created
            .data
            .starts_with(&format!(r#"{{"id":"{id}","state":"ringing""#)),
        "{}",
        created.data
    );
    assert!(
        created.data.contains(r#""qcall":0"#),
        "ints stay numbers: {}",
        created.data
    );

    // Globex's stream: its first event is its own call, nothing of Acme's before it.
    call(
        addr,
        "301",
        "sim.call",
        vec![string("+15550199"), string("301")],
    )
    .await;
    let globex = theirs.next().await;
    assert_eq!(globex.event, "call.created");
    assert!(globex.data.contains("+15550199"), "{}", globex.data);
    assert!(!globex.data.contains("+15550100"));

    // Reconnect after `created`: exactly the missed events, in order, no snapshot.
    drop(ours);
    call(addr, "203", "sim.answer", vec![string(&id)]).await;
    call(addr, "203", "sim.hangup", vec![string(&id)]).await;
    let mut again = Sse::open(addr, "203", Some(&created.id)).await;
    let updated = again.next().await;
    assert_eq!(updated.event, "call.updated");
    assert!(
        updated.data.contains(r#""state":"connected""#),
        "{}",
        updated.data
    );
    let mut next = again.next().await;
    while next.event == "entity.updated" {
        next = again.next().await;
    }
    assert_eq!(next.event, "call.ended", "{next:?}");
    assert!(next.data.contains(&format!(r#""id":"{id}""#)));

    // An id the server does not know: a fresh snapshot.
    let mut lost = Sse::open(addr, "203", Some("no-such-id")).await;
    let fresh = lost.next().await;
    assert_eq!(fresh.event, "snapshot");
    assert!(fresh.data.starts_with(r#"{"calls":[],"#), "{}", fresh.data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_capped_per_user_and_end_when_the_server_stops() {
    let mut config = ServerConfig::default();
    config.max_event_streams_per_user = 1;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, done) = start_with(config, async {
        let _ = stopped.await;
    })
    .await;
    let mut first = Sse::open(addr, "203", None).await;
    assert_eq!(first.next().await.event, "snapshot");
    let (refused, _) = Sse::try_open(addr, "203", None).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    // Another user has streams of their own.
    let mut other = Sse::open(addr, "201", None).await;
    assert_eq!(other.next().await.event, "snapshot");

    // The server stops: the streams end, and so does the server.
    stop.send(()).unwrap();
    done.await.unwrap().unwrap();
    let mut rest = String::new();
    while let Ok(Some(line)) = first.lines.next_line().await {
        rest.push_str(&line);
    }
    assert!(!rest.contains("event:"), "{rest}");
}

/// The value of the sample `series` (name and labels as written), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Paused time: had the poll waited out its minute, the clock would show it
/// (the runtime jumps to the poll's deadline as soon as nothing else runs).
#[tokio::test(start_paused = true)]
async fn a_waiting_long_poll_does_not_hold_up_shutdown() {
    use crate::support::{post, rpc, send};
    let metrics = Arc::new(pbx_server::Metrics::new());
    let pbx = Arc::new(MemoryPbx::demo());
    let state = AppState::builder(pbx, ServerConfig::default())
        .metrics(metrics.clone())
        .build();
    let router = pbx_server::router(state.clone());
    let first = rpc(
        &router,
        "203",
        "get_events",
        vec![string(""), Value::Int(0)],
    )
    .await;
    let cursor = member(&first.result(), "cursor").clone();

    let started = tokio::time::Instant::now();
    let poll = {
        let router = router.clone();
        let body = method_call("get_events", vec![cursor.clone(), Value::Int(60)]);
        tokio::spawn(async move { send(&router, post("203", body)).await })
    };
    while sample(&metrics.encode(), "switchboard_long_polls") != Some(1.0) {
        tokio::task::yield_now().await;
    }
    // What `serve` does when it stops.
    state.stop_event_streams();
    let answer = poll.await.unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "the poll waited {:?}",
        started.elapsed()
    );
    let value = answer.result();
    assert_eq!(member(&value, "reset"), &Value::Bool(false));
    assert!(events(&value).is_empty(), "{value:?}");
    assert_eq!(
        member(&value, "cursor"),
        &cursor,
        "the client misses nothing"
    );
    assert_eq!(
        sample(&metrics.encode(), "switchboard_long_polls"),
        Some(0.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_event_streams_long_polls_and_the_events_they_deliver() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(pbx_server::Metrics::new());
    let pbx = Arc::new(MemoryPbx::demo());
    let state = AppState::builder(pbx.clone(), ServerConfig::default())
        .simulator(Arc::new(Player::new(pbx)))
        .metrics(metrics.clone())
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(pbx_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let until = |series: &'static str, value: f64| {
        let metrics = metrics.clone();
        async move {
            let reached = async {
                while sample(&metrics.encode(), series) != Some(value) {
                    tokio::task::yield_now().await;
                }
            };
            tokio::time::timeout(crate::support::PATIENCE, reached)
                .await
                .unwrap_or_else(|_| panic!("{series} never reached {value}"));
        }
    };

    let mut stream = Sse::open(addr, "203", None).await;
    assert_eq!(stream.next().await.event, "snapshot");
    until("switchboard_event_streams", 1.0).await;
    let first = call(addr, "203", "get_events", vec![string(""), Value::Int(0)]).await;
    let cursor = member(&first, "cursor").clone();
    call(
        addr,
        "203",
        "sim.call",
        vec![string("+15550100"), string("203")],
    )
    .await;
    assert_eq!(stream.next().await.event, "call.created");
    let pending = call(
        addr,
        "203",
        "get_events",
        vec![cursor.clone(), Value::Int(0)],
    )
    .await;
    let delivered = events(&pending).len();
    assert!(delivered >= 1, "{pending:?}");

    // A poll that waits is in flight until the server stops, which answers it.
    let waiting = {
        let cursor = member(&pending, "cursor").clone();
        tokio::spawn(
            async move { call(addr, "203", "get_events", vec![cursor, Value::Int(60)]).await },
        )
    };
    until("switchboard_long_polls", 1.0).await;
    let text = metrics.encode();
    assert_eq!(
        sample(
            &text,
            "switchboard_events_delivered_total{transport=\"long_poll\"}"
        ),
        Some(delivered as f64),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "switchboard_events_delivered_total{transport=\"sse\"}"
        ) >= Some(1.0),
        "{text}"
    );
    for transport in ["sse", "long_poll"] {
        assert_eq!(
            sample(
                &text,
                &format!(
                    "switchboard_event_resets_total{{transport=\"{transport}\",cause=\"start\"}}"
                )
            ),
            Some(1.0),
            "the first of each started without a cursor: {text}"
        );
    }
    stop.send(()).unwrap();
    let answered = waiting.await.unwrap();
    assert!(events(&answered).is_empty(), "{answered:?}");
    done.await.unwrap().unwrap();
    let text = metrics.encode();
    assert_eq!(sample(&text, "switchboard_long_polls"), Some(0.0), "{text}");
    assert_eq!(
        sample(&text, "switchboard_event_streams"),
        Some(0.0),
        "{text}"
    );
}

/// Paused time: a poll the metrics listener's stop had ended would answer
/// at once instead of after its timeout.
#[tokio::test(start_paused = true)]
async fn stopping_the_metrics_listener_leaves_the_apis_long_polls_waiting() {
    use crate::support::rpc;
    let pbx = Arc::new(MemoryPbx::demo());
    let state = AppState::builder(pbx, ServerConfig::default())
        .metrics(Arc::new(pbx_server::Metrics::new()))
        .build();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    pbx_server::serve_ops(listener, state.clone(), std::future::ready(()))
        .await
        .unwrap();
    let router = pbx_server::router(state);
    let first = rpc(
        &router,
        "203",
        "get_events",
        vec![string(""), Value::Int(0)],
    )
    .await;
    let cursor = member(&first.result(), "cursor").clone();
    let started = tokio::time::Instant::now();
    let idle = rpc(&router, "203", "get_events", vec![cursor, Value::Int(5)]).await;
    assert!(events(&idle.result()).is_empty());
    assert_eq!(started.elapsed(), std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn a_state_given_its_metrics_twice_counts_its_events_once() {
    let metrics = Arc::new(pbx_server::Metrics::new());
    let state = AppState::builder(Arc::new(MemoryPbx::demo()), ServerConfig::default())
        .metrics(metrics.clone())
        .build()
        .with_metrics(metrics.clone());
    let router = pbx_server::router(state);
    crate::support::rpc(
        &router,
        "203",
        "get_events",
        vec![string(""), Value::Int(0)],
    )
    .await;
    assert_eq!(
        sample(
            &metrics.encode(),
            "switchboard_event_resets_total{transport=\"long_poll\",cause=\"start\"}"
        ),
        Some(1.0)
    );
}

/// What broke: `event_resets_total` counted a client's first connection (no
/// cursor) as it counted one that lost events, so a dashboard could not tell
/// "clients connected" from "clients fell behind". Now `cause` says which.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_starting_without_a_cursor_is_not_counted_as_one_that_lost_events() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(pbx_server::Metrics::new());
    let state = AppState::builder(Arc::new(MemoryPbx::demo()), ServerConfig::default())
        .metrics(metrics.clone())
        .build();
    tokio::spawn(pbx_server::serve(listener, state, std::future::pending()));
    let resets = |transport: &str, cause: &str| {
        sample(
            &metrics.encode(),
            &format!(
                "switchboard_event_resets_total{{transport=\"{transport}\",cause=\"{cause}\"}}"
            ),
        )
    };

    // Starting: no cursor.
    let mut fresh = Sse::open(addr, "203", None).await;
    assert_eq!(fresh.next().await.event, "snapshot");
    let first = call(addr, "203", "get_events", vec![string(""), Value::Int(0)]).await;
    assert_eq!(member(&first, "reset"), &Value::Bool(true));
    // Coming back with a cursor the server cannot resume (another run's).
    let stale = "0-1";
    let mut back = Sse::open(addr, "203", Some(stale)).await;
    assert_eq!(back.next().await.event, "snapshot");
    let again = call(
        addr,
        "203",
        "get_events",
        vec![string(stale), Value::Int(0)],
    )
    .await;
    assert_eq!(member(&again, "reset"), &Value::Bool(true));

    for transport in ["sse", "long_poll"] {
        assert_eq!(resets(transport, "start"), Some(1.0), "{transport}");
        assert_eq!(resets(transport, "expired"), Some(1.0), "{transport}");
        assert_eq!(resets(transport, "lagged"), Some(0.0), "{transport}");
    }
}
