//! `POST /jsonrpc` end to end, over a real socket: every `fixtures/api/*.rpc`
//! script the binding's tests run over XML-RPC, run again over JSON-RPC and
//! compared with the same expected answers mapped to JSON; then what is
//! JSON-RPC's own (envelope, batches, notifications, limits, `rpc.discover`)
//! and the rules it shares with XML-RPC (auth, throttle, scoping, logs, metrics).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use pbx_backend_memory::{ManualClock, MemoryPbx, Player};
use pbx_server::{AppState, Metrics, ServerConfig};
use pbx_xmlrpc::FaultCode;
use pbx_xmlrpc::json::{Notation, to_json};
use serde_json::{Value as Json, json};
use xmlrpc_codec::{MethodResponse, Value, decode_method_call, decode_method_response};

use crate::support::{PATIENCE, Running, basic, gzip, method_call, start};

// The script format of the handler's tests, shared so that every future
// fixture runs over both protocols.
#[allow(dead_code)]
#[path = "../../../pbx-handler/tests/it/script.rs"]
mod script;

use script::{Script, Step, parse_args, render_call};

/// Wednesday 2024-01-31 10:00 in the demo PBX's zone: where the scripts start
/// (as in the binding's tests).
const DEMO_START: u64 = 1_706_724_000;

/// What came back over the socket.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Json {
        assert_eq!(
            self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{:?}",
            self.body
        );
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// One HTTP/1.1 exchange on a new connection.
async fn exchange(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Reply {
    let run = async {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let io = hyper_util::rt::TokioIo::new(stream);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, addr.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request.body(Full::new(Bytes::from(body))).unwrap();
        let response = sender.send_request(request).await.unwrap();
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes(),
        }
    };
    tokio::time::timeout(PATIENCE, run)
        .await
        .expect("an answer in time")
}

/// `POST /jsonrpc` as `user` (password = number) with a JSON body.
async fn post(addr: SocketAddr, user: &str, body: &Json) -> Reply {
    post_bytes(addr, user, body.to_string().into_bytes()).await
}

async fn post_bytes(addr: SocketAddr, user: &str, body: Vec<u8>) -> Reply {
    exchange(
        addr,
        Method::POST,
        "/jsonrpc",
        &[
            (AUTHORIZATION.as_str(), basic(user, user)),
            (CONTENT_TYPE.as_str(), "application/json".into()),
        ],
        body,
    )
    .await
}

/// One request, answered 200 with a JSON body.
async fn call(addr: SocketAddr, user: &str, method: &str, params: Json) -> Json {
    let reply = post(
        addr,
        user,
        &json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{method}: {:?}", reply.body);
    reply.json()
}

/// The `result` of an answer that must be a success.
fn result(answer: &Json) -> &Json {
    answer
        .get("result")
        .unwrap_or_else(|| panic!("no result: {answer}"))
}

/// The `error` code of an answer that must be an error.
fn error_code(answer: &Json) -> i64 {
    answer["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error: {answer}"))
}

fn error_message(answer: &Json) -> &str {
    answer["error"]["message"].as_str().unwrap_or_default()
}

/// `POST /RPC2` of `method(params)` as `user`: the XML-RPC answer.
async fn xml_call(
    addr: SocketAddr,
    user: &str,
    method: &str,
    params: Vec<Value>,
) -> MethodResponse {
    let reply = exchange(
        addr,
        Method::POST,
        "/RPC2",
        &[
            (AUTHORIZATION.as_str(), basic(user, user)),
            (CONTENT_TYPE.as_str(), "text/xml".into()),
        ],
        method_call(method, params),
    )
    .await;
    decode_method_response(&reply.body).expect("a methodResponse")
}

/// The demo PBX served with its simulator, on a manual clock.
struct Demo {
    running: Running,
    clock: Arc<ManualClock>,
}

impl Demo {
    async fn start(config: ServerConfig) -> Self {
        Self::start_with(config, None).await
    }

    async fn start_with(config: ServerConfig, metrics: Option<Arc<Metrics>>) -> Self {
        let clock = Arc::new(ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(DEMO_START),
        ));
        let pbx = Arc::new(MemoryPbx::demo().with_clock(clock.clone()));
        let mut builder =
            AppState::builder(pbx.clone(), config).simulator(Arc::new(Player::new(pbx)));
        if let Some(metrics) = metrics {
            builder = builder.metrics(metrics);
        }
        let running = start(builder.build()).await;
        Demo { running, clock }
    }

    fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    async fn stop(self) {
        let _ = self.running.stop.send(());
        let _ = self.running.done.await;
    }
}

// ---------------------------------------------------------------------------
// The API scripts, over JSON-RPC.

/// The expected transcript cut into one block per step: the header line, and
/// for a request the response document after it.
fn expected_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with('@') {
            blocks.push((line.to_owned(), String::new()));
        } else if let Some((_, body)) = blocks.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    blocks
}

/// The JSON-RPC answer the XML-RPC transcript expects: the result mapped to
/// JSON, or the error with the fault's code and message.
fn expected_from_response(response: MethodResponse) -> Result<Json, (i64, String)> {
    match response {
        MethodResponse::Success(value) => Ok(to_json(&value, Notation::Plain)),
        MethodResponse::Fault(fault) => Err((i64::from(fault.code), fault.string)),
    }
}

/// The same from a `@call` line's `→ …` (a literal, or `fault CODE: message`).
fn expected_from_short(shown: &str) -> Result<Json, (i64, String)> {
    if let Some(fault) = shown.strip_prefix("fault ") {
        let (code, message) = fault.split_once(": ").expect("fault CODE: message");
        return Err((code.parse().expect("a fault code"), message.to_owned()));
    }
    let values = parse_args(shown).unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert_eq!(values.len(), 1, "{shown}");
    Ok(to_json(&values[0], Notation::Plain))
}

fn actual(answer: &Json) -> Result<Json, (i64, String)> {
    match answer.get("error") {
        Some(_) => Err((error_code(answer), error_message(answer).to_owned())),
        None => Ok(result(answer).clone()),
    }
}

/// Runs one script over `/jsonrpc` on a fresh demo server; returns the
/// differences, the fault codes seen and how many steps were compared.
async fn run_script(
    name: &str,
    script: &Script,
    expected: &str,
) -> (Vec<String>, BTreeSet<i64>, usize) {
    let demo = Demo::start(ServerConfig::default()).await;
    let blocks = expected_blocks(expected);
    assert_eq!(
        blocks.len(),
        script.steps.len(),
        "{name}: the expected transcript has another number of steps"
    );
    let mut differences = Vec::new();
    let mut codes = BTreeSet::new();
    let mut compared = 0;
    for (n, (step, (header, response))) in script.steps.iter().zip(&blocks).enumerate() {
        let (user, call, expected) = match step {
            Step::Advance(seconds) => {
                demo.clock.advance(Duration::from_secs(*seconds));
                continue;
            }
            Step::Call { user, call } => {
                let prefix = format!("@call {user} {} → ", render_call(call));
                let shown = header
                    .strip_prefix(&prefix)
                    .unwrap_or_else(|| panic!("{name}: step {}: {header}", n + 1));
                (user, call.clone(), expected_from_short(shown))
            }
            Step::Request { user, body } => {
                // A document that is no methodCall is XML's own concern
                // (parse errors, DOCTYPEs): JSON-RPC has its own, tested below.
                let Ok(call) = decode_method_call(body.as_bytes()) else {
                    continue;
                };
                let response =
                    decode_method_response(response.as_bytes()).expect("an expected response");
                (user, call, expected_from_response(response))
            }
        };
        let params: Vec<Json> = call
            .params
            .iter()
            .map(|v| to_json(v, Notation::Plain))
            .collect();
        let answer = self::call(demo.addr(), user, &call.method_name, Json::Array(params)).await;
        let got = actual(&answer);
        compared += 1;
        if let Err((code, _)) = &got {
            codes.insert(*code);
        }
        if let Ok(value) = &got
            && call.method_name == "system.multicall"
        {
            for item in value.as_array().into_iter().flatten() {
                if let Some(code) = item.get("faultCode").and_then(Json::as_i64) {
                    codes.insert(code);
                }
            }
        }
        if got != expected {
            differences.push(format!(
                "{name}: step {} ({header}):\n  expected {expected:?}\n  got      {got:?}",
                n + 1
            ));
        }
    }
    demo.stop().await;
    (differences, codes, compared)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_script_answers_the_same_over_json_rpc() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/api");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rpc"))
        .collect();
    scripts.sort();
    assert!(scripts.len() > 20, "the scripts of fixtures/api");
    let mut differences = Vec::new();
    let mut codes = BTreeSet::new();
    let mut compared = 0;
    for path in &scripts {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let script = Script::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        let expected = std::fs::read_to_string(path.with_extension("expected")).unwrap();
        let (d, c, n) = run_script(&name, &script, &expected).await;
        // A script named after a method is that method's example: it runs here too.
        if pbx_xmlrpc::method(&name).is_some() {
            assert!(n > 0, "{name}: no step ran over JSON-RPC");
        }
        differences.extend(d);
        codes.extend(c);
        compared += n;
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert!(compared > 100, "only {compared} steps compared");
    // Every fault the scripts exercise over XML-RPC, but XML's own -32700 and
    // -32600 (tested below in JSON's terms), and those the scripts cannot reach.
    for code in FaultCode::ALL {
        if matches!(
            code,
            FaultCode::Internal
                | FaultCode::PermissionDenied
                | FaultCode::ParseError
                | FaultCode::InvalidRequest
        ) {
            continue;
        }
        assert!(
            codes.contains(&i64::from(code.code())),
            "no script answers error {code} over JSON-RPC: {codes:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// What JSON-RPC adds.

#[tokio::test]
async fn results_are_the_xml_rpc_results_as_json() {
    let demo = Demo::start(ServerConfig::default()).await;
    for method in [
        "get_extensions",
        "get_favorites",
        "get_parking_info",
        "system.listMethods",
    ] {
        let MethodResponse::Success(value) = xml_call(demo.addr(), "203", method, vec![]).await
        else {
            panic!("{method} faulted");
        };
        let answer = call(demo.addr(), "203", method, json!([])).await;
        assert_eq!(answer["jsonrpc"], "2.0");
        assert_eq!(answer["id"], 1);
        assert_eq!(
            result(&answer),
            &to_json(&value, Notation::Plain),
            "{method}"
        );
    }
    demo.stop().await;
}

#[tokio::test]
async fn a_fault_is_an_error_with_the_same_code_and_message() {
    let demo = Demo::start(ServerConfig::default()).await;
    let MethodResponse::Fault(fault) = xml_call(
        demo.addr(),
        "203",
        "dict_get",
        vec![Value::String("nope".into())],
    )
    .await
    else {
        panic!("dict_get of a missing key succeeded");
    };
    let answer = call(demo.addr(), "203", "dict_get", json!(["nope"])).await;
    assert_eq!(
        answer,
        json!({"jsonrpc": "2.0", "error": {"code": fault.code, "message": fault.string}, "id": 1})
    );
    demo.stop().await;
}

#[tokio::test]
async fn ids_come_back_as_sent() {
    let demo = Demo::start(ServerConfig::default()).await;
    for id in [json!("a-b"), json!(7), json!(1.5), json!(null)] {
        let reply = post(
            demo.addr(),
            "203",
            &json!({"jsonrpc": "2.0", "method": "system.listMethods", "id": id}),
        )
        .await;
        assert_eq!(reply.json()["id"], id);
    }
    demo.stop().await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_parse_error_with_a_null_id() {
    let demo = Demo::start(ServerConfig::default()).await;
    for body in [
        &b"{\"jsonrpc\": \"2.0\", \"method\""[..],
        b"",
        b"<methodCall/>",
        b"\xff",
    ] {
        let reply = post_bytes(demo.addr(), "203", body.to_vec()).await;
        assert_eq!(reply.status, StatusCode::OK);
        let answer = reply.json();
        assert_eq!(error_code(&answer), -32700, "{answer}");
        assert_eq!(answer["id"], Json::Null);
        assert!(
            error_message(&answer).starts_with("parse error"),
            "{answer}"
        );
    }
    demo.stop().await;
}

#[tokio::test]
async fn malformed_envelopes_are_invalid_requests() {
    let demo = Demo::start(ServerConfig::default()).await;
    let cases = [
        (json!({"method": "get_calls", "id": 1}), json!(1), "jsonrpc"),
        (
            json!({"jsonrpc": "1.0", "method": "get_calls", "id": 2}),
            json!(2),
            "jsonrpc",
        ),
        (
            json!({"jsonrpc": 2.0, "method": "get_calls", "id": 3}),
            json!(3),
            "jsonrpc",
        ),
        (
            json!({"jsonrpc": "2.0", "method": 5, "id": 4}),
            json!(4),
            "method",
        ),
        (json!({"jsonrpc": "2.0", "id": 5}), json!(5), "method"),
        (
            json!({"jsonrpc": "2.0", "method": "get_calls", "id": {"x": 1}}),
            Json::Null,
            "id",
        ),
        (
            json!({"jsonrpc": "2.0", "method": "get_calls", "id": [1]}),
            Json::Null,
            "id",
        ),
        (
            json!({"jsonrpc": "2.0", "method": "get_calls", "params": "x", "id": 6}),
            json!(6),
            "params",
        ),
        (json!("get_calls"), Json::Null, "object"),
        (json!(42), Json::Null, "object"),
    ];
    for (request, id, word) in cases {
        let answer = post(demo.addr(), "203", &request).await.json();
        assert_eq!(error_code(&answer), -32600, "{request}: {answer}");
        assert_eq!(answer["id"], id, "{request}");
        assert!(error_message(&answer).contains(word), "{request}: {answer}");
    }
    demo.stop().await;
}

#[tokio::test]
async fn params_by_name_are_refused_saying_positional() {
    let demo = Demo::start(ServerConfig::default()).await;
    let answer = call(demo.addr(), "203", "dict_get", json!({"key": "a"})).await;
    assert_eq!(error_code(&answer), -32602);
    assert!(error_message(&answer).contains("positional"), "{answer}");
    demo.stop().await;
}

#[tokio::test]
async fn null_and_integers_beyond_32_bits_are_refused_naming_the_parameter() {
    let demo = Demo::start(ServerConfig::default()).await;
    let answer = call(demo.addr(), "203", "dict_set", json!(["k", null])).await;
    assert_eq!(error_code(&answer), -32602);
    assert!(
        error_message(&answer).starts_with("dict_set: parameter 2 (value): null"),
        "{answer}"
    );
    let answer = call(demo.addr(), "203", "park", json!(["1", 5_000_000_000_i64])).await;
    assert_eq!(error_code(&answer), -32602);
    assert!(
        error_message(&answer).starts_with("park: parameter 2 (slot): integer 5000000000"),
        "{answer}"
    );
    // Inside a struct, the message says where.
    let answer = call(
        demo.addr(),
        "203",
        "set_favorites",
        json!([[{"id": 1, "slot": null}]]),
    )
    .await;
    assert!(error_message(&answer).contains("at [0].slot"), "{answer}");
    // A fraction is a double, which `park` refuses as the XML-RPC reader does.
    let answer = call(demo.addr(), "203", "park", json!(["1", 1.5])).await;
    assert_eq!(error_code(&answer), -32602);
    demo.stop().await;
}

#[tokio::test]
async fn unknown_methods_answer_minus_32601_as_over_xml_rpc() {
    let demo = Demo::start(ServerConfig::default()).await;
    let MethodResponse::Fault(fault) = xml_call(demo.addr(), "203", "no_such", vec![]).await else {
        panic!("no_such succeeded");
    };
    // Parameters that JSON could not even map do not hide that the method is unknown.
    let answer = call(demo.addr(), "203", "no_such", json!([null])).await;
    assert_eq!(error_code(&answer), -32601);
    assert_eq!(error_message(&answer), fault.string);
    let answer = call(demo.addr(), "203", "rpc.other", json!([])).await;
    assert_eq!(error_code(&answer), -32601);
    demo.stop().await;
}

#[tokio::test]
async fn a_batch_answers_each_request_in_order_and_nothing_for_notifications() {
    let demo = Demo::start(ServerConfig::default()).await;
    let batch = json!([
        {"jsonrpc": "2.0", "method": "dict_set", "params": ["a", "1"], "id": "set"},
        {"jsonrpc": "2.0", "method": "dict_set", "params": ["b", "2"]},
        {"jsonrpc": "2.0", "method": "dict_get", "params": ["b"], "id": "get"},
        {"jsonrpc": "2.0", "method": "dict_get", "params": ["zzz"], "id": "missing"},
        {"jsonrpc": "1.0", "method": "dict_get", "params": ["a"], "id": "bad"},
        7,
    ]);
    let reply = post(demo.addr(), "203", &batch).await;
    assert_eq!(reply.status, StatusCode::OK);
    let answers = reply.json();
    let answers = answers.as_array().expect("an array");
    let ids: Vec<&Json> = answers.iter().map(|a| &a["id"]).collect();
    assert_eq!(
        ids,
        [
            &json!("set"),
            &json!("get"),
            &json!("missing"),
            &json!("bad"),
            &Json::Null
        ]
    );
    assert_eq!(answers[0]["result"], true);
    assert_eq!(answers[1]["result"], "2");
    assert_eq!(error_code(&answers[2]), -1);
    assert_eq!(error_code(&answers[3]), -32600);
    assert_eq!(error_code(&answers[4]), -32600);
    demo.stop().await;
}

#[tokio::test]
async fn an_empty_batch_is_one_invalid_request() {
    let demo = Demo::start(ServerConfig::default()).await;
    let answer = post(demo.addr(), "203", &json!([])).await.json();
    assert_eq!(error_code(&answer), -32600, "{answer}");
    assert_eq!(answer["id"], Json::Null);
    demo.stop().await;
}

#[tokio::test]
async fn notifications_run_and_answer_nothing() {
    let demo = Demo::start(ServerConfig::default()).await;
    let reply = post(
        demo.addr(),
        "203",
        &json!({"jsonrpc": "2.0", "method": "dict_set", "params": ["n", "yes"]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_empty());
    let reply = post(
        demo.addr(),
        "203",
        &json!([
            {"jsonrpc": "2.0", "method": "dict_set", "params": ["m", "too"]},
            {"jsonrpc": "2.0", "method": "no_such"},
        ]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_empty());
    let answer = call(demo.addr(), "203", "get_all", json!([])).await;
    assert_eq!(result(&answer), &json!({"m": "too", "n": "yes"}));
    demo.stop().await;
}

#[tokio::test]
async fn a_batch_beyond_max_multicall_is_refused_whole() {
    let mut config = ServerConfig::default();
    config.max_multicall = 3;
    let demo = Demo::start(config).await;
    let set =
        |k: &str| json!({"jsonrpc": "2.0", "method": "dict_set", "params": [k, "v"], "id": k});
    let answer = post(
        demo.addr(),
        "203",
        &json!([set("a"), set("b"), set("c"), set("d")]),
    )
    .await
    .json();
    assert_eq!(error_code(&answer), -32600, "{answer}");
    assert!(
        error_message(&answer).contains("at most 3 calls"),
        "{answer}"
    );
    // A multicall's sub-calls count against the same bound.
    let multicall = json!({"jsonrpc": "2.0", "method": "system.multicall", "id": "m", "params": [[
        {"methodName": "dict_set", "params": ["x", "1"]},
        {"methodName": "dict_set", "params": ["y", "1"]},
        {"methodName": "dict_set", "params": ["z", "1"]},
    ]]});
    let answer = post(demo.addr(), "203", &json!([set("a"), multicall]))
        .await
        .json();
    assert_eq!(error_code(&answer), -32600, "{answer}");
    // Nothing of a refused batch ran.
    let answer = call(demo.addr(), "203", "get_all", json!([])).await;
    assert_eq!(result(&answer), &json!({}));
    let answer = post(demo.addr(), "203", &json!([set("a"), set("b"), set("c")]))
        .await
        .json();
    assert_eq!(answer.as_array().map(Vec::len), Some(3));
    demo.stop().await;
}

#[tokio::test]
async fn a_too_large_answer_gets_the_xml_rpc_fault() {
    let mut config = ServerConfig::default();
    config.max_response_bytes = 1500;
    let demo = Demo::start(config).await;
    let MethodResponse::Fault(fault) = xml_call(demo.addr(), "203", "get_extensions", vec![]).await
    else {
        panic!("get_extensions fit in 1500 bytes");
    };
    let answer = call(demo.addr(), "203", "get_extensions", json!([])).await;
    assert_eq!(
        answer["error"],
        json!({"code": fault.code, "message": fault.string}),
        "{answer}"
    );
    demo.stop().await;
}

#[tokio::test]
async fn a_batchs_answers_together_stay_within_max_response_bytes() {
    let mut config = ServerConfig::default();
    config.max_response_bytes = 600;
    let demo = Demo::start(config).await;
    // Each answer fits alone; together they do not.
    let value = "v".repeat(200);
    let mut batch =
        vec![json!({"jsonrpc": "2.0", "method": "dict_set", "params": ["k", value], "id": 0})];
    for i in 1..=4 {
        batch.push(json!({"jsonrpc": "2.0", "method": "dict_get", "params": ["k"], "id": i}));
    }
    let reply = post(demo.addr(), "203", &Json::Array(batch)).await;
    // The results within the bound; the errors that replace the others are
    // small, and always answered.
    assert!(
        reply.body.len() < 600 + 2 * 200,
        "{} bytes",
        reply.body.len()
    );
    let answers = reply.json();
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), 5);
    assert_eq!(answers[1]["result"], json!(value));
    assert_eq!(answers[2]["result"], json!(value));
    assert_eq!(
        error_code(&answers[3]),
        i64::from(FaultCode::LimitReached.code())
    );
    assert!(error_message(&answers[3]).contains("max_response_bytes"));
    assert_eq!(
        error_code(&answers[4]),
        i64::from(FaultCode::LimitReached.code())
    );
    demo.stop().await;
}

#[tokio::test]
async fn deep_nesting_and_too_many_values_are_refused_before_parsing() {
    let mut config = ServerConfig::default();
    config.max_json_values = 100;
    let demo = Demo::start(config).await;
    // Deeper than serde_json's own limit, and than ours.
    for depth in [70, 200, 100_000] {
        let deep = format!(
            r#"{{"jsonrpc": "2.0", "method": "dict_set_serialized", "id": 1, "params": ["k", {}{}]}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let answer = post_bytes(demo.addr(), "203", deep.into_bytes())
            .await
            .json();
        assert_eq!(error_code(&answer), -32600, "{answer}");
        assert!(
            error_message(&answer).contains("nested deeper than 67"),
            "{answer}"
        );
    }
    let many = json!({"jsonrpc": "2.0", "method": "dict_set_serialized", "id": 1,
        "params": ["k", vec![0; 200]]});
    let answer = post(demo.addr(), "203", &many).await.json();
    assert_eq!(error_code(&answer), -32600, "{answer}");
    assert!(
        error_message(&answer).contains("max_json_values"),
        "{answer}"
    );
    // Within both, it is stored.
    let fine = json!({"jsonrpc": "2.0", "method": "dict_set_serialized", "id": 1,
        "params": ["k", [[[["deep", 1]]]]]});
    assert_eq!(post(demo.addr(), "203", &fine).await.json()["result"], true);
    demo.stop().await;
}

#[tokio::test]
async fn bodies_are_bounded_and_may_be_gzip() {
    let mut config = ServerConfig::default();
    config.max_body_bytes = 4096;
    config.max_decompressed_bytes = 8192;
    let demo = Demo::start(config).await;
    let headers = |encoding: Option<&str>| {
        let mut h = vec![
            (AUTHORIZATION.as_str(), basic("203", "203")),
            (CONTENT_TYPE.as_str(), "application/json".to_owned()),
        ];
        if let Some(e) = encoding {
            h.push((CONTENT_ENCODING.as_str(), e.to_owned()));
        }
        h
    };
    let request = |value: &str| {
        json!({"jsonrpc": "2.0", "method": "dict_set", "params": ["k", value], "id": 1})
            .to_string()
            .into_bytes()
    };
    let big = request(&"x".repeat(5000));
    let reply = exchange(
        demo.addr(),
        Method::POST,
        "/jsonrpc",
        &headers(None),
        big.clone(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let reply = exchange(
        demo.addr(),
        Method::POST,
        "/jsonrpc",
        &headers(Some("gzip")),
        gzip(&big),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["result"], true);
    let bomb = request(&"x".repeat(9000));
    let reply = exchange(
        demo.addr(),
        Method::POST,
        "/jsonrpc",
        &headers(Some("gzip")),
        gzip(&bomb),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    demo.stop().await;
}

#[tokio::test]
async fn other_content_types_get_415_and_get_gets_405() {
    let demo = Demo::start(ServerConfig::default()).await;
    let body = json!({"jsonrpc": "2.0", "method": "get_calls", "id": 1}).to_string();
    for content_type in [
        "text/xml",
        "text/plain",
        "application/x-www-form-urlencoded",
    ] {
        let reply = exchange(
            demo.addr(),
            Method::POST,
            "/jsonrpc",
            &[
                (AUTHORIZATION.as_str(), basic("203", "203")),
                (CONTENT_TYPE.as_str(), content_type.to_owned()),
            ],
            body.clone().into_bytes(),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
    }
    let reply = exchange(
        demo.addr(),
        Method::GET,
        "/jsonrpc",
        &[(AUTHORIZATION.as_str(), basic("203", "203"))],
        Vec::new(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    demo.stop().await;
}

#[tokio::test]
async fn without_credentials_it_is_401_and_guessing_is_throttled() {
    let mut config = ServerConfig::default();
    config.throttle.slow_after = u32::MAX;
    config.throttle.lock_after = 3;
    let demo = Demo::start(config).await;
    let body = json!({"jsonrpc": "2.0", "method": "get_calls", "id": 1}).to_string();
    let with = |credentials: Option<String>| {
        let mut h = vec![(CONTENT_TYPE.as_str(), "application/json".to_owned())];
        if let Some(c) = credentials {
            h.push((AUTHORIZATION.as_str(), c));
        }
        h
    };
    let reply = exchange(
        demo.addr(),
        Method::POST,
        "/jsonrpc",
        &with(None),
        body.clone().into_bytes(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.headers.get("www-authenticate").is_some());
    for _ in 0..3 {
        let reply = exchange(
            demo.addr(),
            Method::POST,
            "/jsonrpc",
            &with(Some(basic("203", "wrong"))),
            body.clone().into_bytes(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // Locked now, on both protocols: the right password waits too.
    let reply = exchange(
        demo.addr(),
        Method::POST,
        "/jsonrpc",
        &with(Some(basic("203", "203"))),
        body.clone().into_bytes(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(reply.headers.get("retry-after").is_some());
    demo.stop().await;
}

#[tokio::test]
async fn another_groups_user_sees_nothing_of_the_first() {
    let demo = Demo::start(ServerConfig::default()).await;
    let id = call(demo.addr(), "203", "sim.call", json!(["+15550100", "201"])).await;
    let id = result(&id).clone();
    assert_eq!(
        result(&call(demo.addr(), "203", "dict_set", json!(["secret", "acme"])).await),
        true
    );
    // Globex's user: no call, no key, and Acme's call is not found.
    let calls = call(demo.addr(), "301", "get_calls", json!([])).await;
    assert_eq!(result(&calls), &json!([]));
    let answer = call(demo.addr(), "301", "dict_get", json!(["secret"])).await;
    assert_eq!(error_code(&answer), -1);
    for method in ["drop", "park"] {
        let answer = call(demo.addr(), "301", method, json!([id])).await;
        assert_eq!(error_code(&answer), -1, "{method}: {answer}");
    }
    let answer = call(demo.addr(), "301", "transfer", json!([id, "301"])).await;
    assert_eq!(error_code(&answer), -1, "{answer}");
    let extensions = call(demo.addr(), "301", "get_extensions", json!([])).await;
    assert!(!extensions.to_string().contains("\"203\""), "{extensions}");
    for method in ["sim.answer", "sim.hold", "sim.hangup"] {
        let answer = call(demo.addr(), "301", method, json!([id])).await;
        assert_eq!(error_code(&answer), -1, "{method}: {answer}");
    }
    let parking = call(demo.addr(), "301", "get_parking_info", json!([])).await;
    assert_eq!(result(&parking)[0], "750", "Globex's own lot: {parking}");
    // Acme's favorites and events stay Acme's.
    let acme = json!([{"id": 1, "slot": 1, "type": "extension", "size": "single"}]);
    let set = call(demo.addr(), "203", "set_favorites", json!([acme])).await;
    assert_eq!(result(&set), true, "{set}");
    let favorites = call(demo.addr(), "301", "get_favorites", json!([])).await;
    assert_eq!(result(&favorites), &json!([]), "{favorites}");
    let events = call(demo.addr(), "301", "get_events", json!(["", 0])).await;
    let cursor = result(&events)["cursor"].clone();
    call(demo.addr(), "203", "sim.call", json!(["+15550101", "202"])).await;
    let events = call(demo.addr(), "301", "get_events", json!([cursor, 0])).await;
    assert_eq!(result(&events)["events"], json!([]), "{events}");
    // Another user of the same group shares the calls, not the keys.
    let calls = call(demo.addr(), "201", "get_calls", json!([])).await;
    assert_eq!(result(&calls).as_array().map(Vec::len), Some(2));
    let answer = call(demo.addr(), "201", "dict_get", json!(["secret"])).await;
    assert_eq!(error_code(&answer), -1);
    demo.stop().await;
}

/// Checks the OpenRPC document's shape, and returns its method names.
fn openrpc_methods(document: &Json) -> Vec<String> {
    assert_eq!(document["openrpc"], "1.2.6");
    assert!(document["info"]["title"].is_string());
    assert!(document["info"]["version"].is_string());
    let methods = document["methods"].as_array().expect("methods");
    for m in methods {
        let name = m["name"].as_str().expect("a name");
        assert_eq!(m["paramStructure"], "by-position", "{name}");
        for p in m["params"].as_array().expect("params") {
            assert!(
                p["name"].is_string() && p["schema"].is_object(),
                "{name}: {p}"
            );
            assert!(p["required"].is_boolean(), "{name}: {p}");
        }
        assert!(m["result"]["schema"].is_object(), "{name}");
        assert!(
            m["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
        for e in m["errors"].as_array().expect("errors") {
            assert!(
                e["code"].is_i64() && e["message"].is_string(),
                "{name}: {e}"
            );
        }
    }
    methods
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn rpc_discover_lists_what_system_list_methods_lists() {
    let demo = Demo::start(ServerConfig::default()).await;
    let listed = result(&call(demo.addr(), "203", "system.listMethods", json!([])).await).clone();
    let document = result(&call(demo.addr(), "203", "rpc.discover", json!([])).await).clone();
    let names = openrpc_methods(&document);
    assert_eq!(json!(names), listed);
    assert!(names.iter().any(|n| n == "sim.call"));
    let park = &document["methods"][names.iter().position(|n| n == "park").unwrap()];
    assert_eq!(park["params"][1]["name"], "slot");
    assert_eq!(park["params"][1]["required"], false);
    assert_eq!(park["params"][1]["schema"]["type"], "integer");
    assert!(
        park["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == -3)
    );
    let answer = call(demo.addr(), "203", "rpc.discover", json!([1])).await;
    assert_eq!(error_code(&answer), -32602);
    demo.stop().await;

    // A server without a simulator offers no `sim.*`, and does not describe them.
    let pbx = Arc::new(MemoryPbx::demo());
    let running = start(AppState::new(pbx, ServerConfig::default())).await;
    let listed = result(&call(running.addr, "203", "system.listMethods", json!([])).await).clone();
    let document = result(&call(running.addr, "203", "rpc.discover", json!([])).await).clone();
    let names = openrpc_methods(&document);
    assert_eq!(json!(names), listed);
    assert!(!names.iter().any(|n| n.starts_with("sim.")));
    let _ = running.stop.send(());
    let _ = running.done.await;
}

#[tokio::test]
async fn requests_count_under_the_same_metrics_as_xml_rpc() {
    let metrics = Arc::new(Metrics::new());
    let demo = Demo::start_with(ServerConfig::default(), Some(metrics.clone())).await;
    call(demo.addr(), "203", "get_calls", json!([])).await;
    xml_call(demo.addr(), "203", "get_calls", vec![]).await;
    call(demo.addr(), "203", "dict_get", json!(["missing"])).await;
    post(
        demo.addr(),
        "203",
        &json!([{"jsonrpc": "2.0", "method": "get_calls", "id": 1}, {"jsonrpc": "2.0", "method": "get_calls", "id": 2}]),
    )
    .await;
    call(demo.addr(), "203", "rpc.discover", json!([])).await;
    let text = metrics.encode();
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .to_owned()
    };
    assert!(
        line(r#"switchboard_requests_total{method="get_calls",status="200",fault_code=""}"#)
            .ends_with(" 2"),
        "{text}"
    );
    assert!(
        line(r#"switchboard_requests_total{method="dict_get",status="200",fault_code="-1"}"#)
            .ends_with(" 1")
    );
    assert!(
        line(r#"switchboard_requests_total{method="batch",status="200",fault_code=""}"#)
            .ends_with(" 1")
    );
    assert!(
        line(r#"switchboard_requests_total{method="rpc.discover",status="200",fault_code=""}"#)
            .ends_with(" 1")
    );
    demo.stop().await;
}

#[tokio::test]
async fn a_large_answer_comes_whole() {
    let demo = Demo::start(ServerConfig::default()).await;
    // Above the 256 KiB from which an answer is written off the async workers.
    let value = "é".repeat(30_000);
    let keys: Vec<String> = (0..5).map(|i| format!("big.{i}")).collect();
    let mut pairs = serde_json::Map::new();
    for key in &keys {
        pairs.insert(key.clone(), json!(value));
    }
    let answer = call(demo.addr(), "203", "dict_set_many", json!([pairs])).await;
    assert_eq!(result(&answer), true);
    let answer = call(demo.addr(), "203", "get_all", json!([])).await;
    assert_eq!(result(&answer), &Json::Object(pairs));
    demo.stop().await;
}

#[tokio::test]
async fn a_control_character_json_can_say_is_refused_so_xml_rpc_readers_still_read() {
    let demo = Demo::start(ServerConfig::default()).await;
    // JSON can say "\u0001"; XML 1.0 cannot. Stored, it made every XML-RPC
    // `get_all` and `dict_get` of the key an internal error.
    let answer = call(demo.addr(), "203", "dict_set", json!(["k", "a\u{1}b"])).await;
    assert_eq!(error_code(&answer), -32602, "{answer}");
    assert!(
        error_message(&answer).starts_with("dict_set: parameter 2 (value): text holds"),
        "{answer}"
    );
    let answer = call(
        demo.addr(),
        "203",
        "dict_set_many",
        json!([{"k\u{FFFF}": "v"}]),
    )
    .await;
    assert_eq!(error_code(&answer), -32602, "{answer}");
    let MethodResponse::Success(all) = xml_call(demo.addr(), "203", "get_all", vec![]).await else {
        panic!("get_all over XML-RPC failed");
    };
    assert_eq!(all, Value::Struct(xmlrpc_codec::Struct::new()));
    demo.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_call_beyond_the_request_timeout_gets_408() {
    // `get_calls` waits at the gate, which this test never opens.
    let pbx = crate::support::HookedPbx::new(true);
    let mut config = ServerConfig::default();
    config.request_timeout = Duration::from_secs(5);
    let router = pbx_server::router(pbx.state(config));
    let request = Request::post("/jsonrpc")
        .header(AUTHORIZATION, basic("203", crate::support::SECRET))
        .header(CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(
            json!({"jsonrpc": "2.0", "method": "get_calls", "id": 1}).to_string(),
        ))
        .unwrap();
    let answer = crate::support::send(&router, request).await;
    assert_eq!(answer.status, StatusCode::REQUEST_TIMEOUT);
}

#[tokio::test]
async fn simulation_switched_off_is_minus_2_and_absent_is_minus_32601() {
    let pbx = Arc::new(MemoryPbx::demo());
    let off = AppState::builder(pbx.clone(), ServerConfig::default())
        .simulation_switched_off()
        .build();
    let running = start(off).await;
    let answer = call(running.addr, "203", "sim.call", json!(["+15550100", "201"])).await;
    assert_eq!(error_code(&answer), -2, "{answer}");
    let document = call(running.addr, "203", "rpc.discover", json!([])).await;
    assert!(
        openrpc_methods(result(&document))
            .iter()
            .any(|n| n == "sim.call")
    );
    let _ = running.stop.send(());
    let _ = running.done.await;

    let running = start(AppState::new(pbx, ServerConfig::default())).await;
    let answer = call(running.addr, "203", "sim.call", json!(["+15550100", "201"])).await;
    assert_eq!(error_code(&answer), -32601, "{answer}");
    let _ = running.stop.send(());
    let _ = running.done.await;
}

#[tokio::test]
async fn once_a_batchs_answer_is_full_later_reads_are_not_run_but_changes_are() {
    let mut config = ServerConfig::default();
    config.max_response_bytes = 700;
    let demo = Demo::start(config).await;
    let value = "v".repeat(200);
    let request = |method: &str, params: Json, id: i64| json!({"jsonrpc": "2.0", "method": method, "params": params, "id": id});
    let batch = json!([
        request("dict_set", json!(["k", value]), 0),
        request("dict_get", json!(["k"]), 1),
        request("dict_get", json!(["k"]), 2),
        request("dict_get", json!(["k"]), 3),
        request("dict_set", json!(["k2", "changed"]), 4),
        request("dict_get", json!(["k2"]), 5),
    ]);
    let answers = post(demo.addr(), "203", &batch).await.json();
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), 6);
    assert_eq!(answers[2]["result"], json!(value));
    assert_eq!(error_code(&answers[3]), -4, "{}", answers[3]);
    assert!(!error_message(&answers[3]).contains("not run"));
    assert_eq!(answers[4]["result"], true, "{}", answers[4]);
    assert_eq!(error_code(&answers[5]), -4);
    assert!(error_message(&answers[5]).starts_with("not run: the answer would exceed 700 bytes"));
    // The change ran.
    let answer = call(demo.addr(), "203", "dict_get", json!(["k2"])).await;
    assert_eq!(result(&answer), "changed");
    demo.stop().await;
}

#[tokio::test]
async fn max_multicall_bounds_xml_rpcs_multicall_too() {
    let mut config = ServerConfig::default();
    config.max_multicall = 2;
    let demo = Demo::start(config).await;
    let entry = |key: &str| {
        let mut s = xmlrpc_codec::Struct::new();
        s.insert("methodName", Value::String("dict_get".into()));
        s.insert("params", Value::Array(vec![Value::String(key.into())]));
        Value::Struct(s)
    };
    let calls = Value::Array(vec![entry("a"), entry("b"), entry("c")]);
    let MethodResponse::Fault(fault) =
        xml_call(demo.addr(), "203", "system.multicall", vec![calls]).await
    else {
        panic!("a multicall of 3 passed max_multicall 2");
    };
    assert_eq!(fault.code, -32602, "{fault}");
    assert!(fault.string.contains("at most 2 calls"), "{fault}");
    demo.stop().await;
}

#[tokio::test]
async fn large_json_answers_are_gzipped_when_asked() {
    let demo = Demo::start(ServerConfig::default()).await;
    let reply = exchange(
        demo.addr(),
        Method::POST,
        "/jsonrpc",
        &[
            (AUTHORIZATION.as_str(), basic("203", "203")),
            (CONTENT_TYPE.as_str(), "application/json".into()),
            ("accept-encoding", "gzip".into()),
        ],
        json!({"jsonrpc": "2.0", "method": "rpc.discover", "id": 1})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers.get(CONTENT_ENCODING).map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
    let answer: Json = serde_json::from_slice(&crate::support::gunzip(&reply.body)).unwrap();
    assert!(answer["result"]["methods"].is_array());
    demo.stop().await;
}
