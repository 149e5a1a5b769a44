//! `POST /jsonrpc`: JSON-RPC 2.0 over the binding's method table (SPEC.md,
//! "JSON-RPC 2.0"; docs/jsonrpc.md).
//!
//! No method is written here: each call goes to `pbx_handler::Handler::call`
//! as a `MethodCall`, its parameters and result converted by the binding's one
//! JSON mapping (`pbx_xmlrpc::json`, plain notation), its fault turned into
//! `error: {code, message}` unchanged. What is JSON-RPC's own: the envelope
//! (`jsonrpc`, `id`, batches, notifications), the JSON limits, and
//! `rpc.discover` ([`openrpc`]).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pbx_backend::Caller;
use pbx_handler::Handler;
use pbx_xmlrpc::json::{Notation, from_json, to_json};
use pbx_xmlrpc::{FaultCode, method};
use serde_json::{Map, Value as Json};
use xmlrpc_codec::{Fault, MethodCall, Value};

use crate::console::{self, Csrf};
use crate::log::RequestLog;
use crate::rpc::Authenticated;
use crate::{AppState, body};

mod openrpc;

/// How deeply a request document may nest: XML-RPC's 64 levels of values
/// (`xmlrpc_codec::Limits::max_depth`'s default) inside a batch, a request and
/// its `params`. Below serde_json's own recursion limit (128), so that a deep
/// document is refused by this rule, with this message, before it is parsed.
pub(crate) const MAX_JSON_DEPTH: usize = 64 + 3;

/// The method that answers the OpenRPC document.
const DISCOVER: &str = "rpc.discover";

/// `POST /jsonrpc`.
pub(crate) async fn post(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    // Basic auth, or the operator console's session with its CSRF checks.
    let caller = match console::authenticate(&state, &parts, peer, Csrf::Required).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let headers = parts.headers;
    let mut log = RequestLog {
        user: Some(caller.number().to_owned()),
        ..RequestLog::default()
    };
    let mut response = if !is_json(&headers) {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            "JSON-RPC takes Content-Type: application/json\n",
        )
            .into_response()
    } else {
        let read = body::read(&state.0.config, &headers, body);
        match tokio::time::timeout(state.0.config.body_timeout, read).await {
            Ok(Ok(bytes)) => {
                let answer = answer(&state, &caller, &bytes).await;
                drop(bytes);
                log.method = answer.method;
                log.batch = answer.batch;
                log.fault_code = answer.fault_code;
                log.too_large = answer.too_large;
                match answer.body {
                    Some(body) => (
                        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                        body,
                    )
                        .into_response(),
                    // Only notifications: JSON-RPC answers nothing at all.
                    None => StatusCode::NO_CONTENT.into_response(),
                }
            }
            Ok(Err(error)) => error.into_response(),
            Err(_) => (StatusCode::REQUEST_TIMEOUT, "request body too slow\n").into_response(),
        }
    };
    response.extensions_mut().insert(log);
    response.extensions_mut().insert(Authenticated);
    response
}

/// Whether the request says it is JSON: `application/json` (JSON-RPC over
/// HTTP's type), or the older drafts' `application/json-rpc` and
/// `application/jsonrequest`, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    [
        "application/json",
        "application/json-rpc",
        "application/jsonrequest",
    ]
    .iter()
    .any(|t| essence.eq_ignore_ascii_case(t))
}

/// What [`answer`] produced.
#[derive(Debug, Default)]
pub(crate) struct Answer {
    /// The JSON body; `None` when there is nothing to answer (notifications).
    pub(crate) body: Option<Vec<u8>>,
    /// The method, for the log: a single request's name (shortened).
    pub(crate) method: Option<String>,
    /// How many requests the batch held, when it was one.
    pub(crate) batch: Option<usize>,
    /// A single request's error code.
    pub(crate) fault_code: Option<i32>,
    /// Whether some answer was refused for `max_response_bytes`.
    pub(crate) too_large: bool,
}

/// One request of the envelope, checked.
struct Call {
    /// `None` for a notification.
    id: Option<Json>,
    method: String,
    params: Vec<Json>,
}

/// A request that is not a valid JSON-RPC request: its error, and the id to
/// answer it under (`null` when the id itself was the problem or missing).
struct Invalid {
    id: Json,
    fault: Fault,
}

/// Answers a request body on behalf of `caller`: one request or a batch.
pub(crate) async fn answer(state: &AppState, caller: &Caller, bytes: &[u8]) -> Answer {
    let max_bytes = state.0.config.max_response_bytes;
    let document = match parse(bytes, state.0.config.max_json_values) {
        Ok(document) => document,
        Err(fault) => return single_error(Json::Null, fault),
    };
    match document {
        Json::Array(entries) => {
            if entries.is_empty() {
                return single_error(
                    Json::Null,
                    FaultCode::InvalidRequest.fault("invalid request: an empty batch"),
                );
            }
            let calls = entries.iter().map(count_calls).sum::<usize>();
            if calls > state.0.config.max_multicall {
                return Answer {
                    batch: Some(entries.len()),
                    ..single_error(
                        Json::Null,
                        FaultCode::InvalidRequest.fault(format!(
                            "invalid request: at most {} calls per batch (system.multicall's \
                             sub-calls included), got {calls}",
                            state.0.config.max_multicall
                        )),
                    )
                };
            }
            batch(state, caller, entries, max_bytes).await
        }
        entry => {
            let (id, method, result) = match check(entry) {
                Err(invalid) => (Some(invalid.id), None, Err(invalid.fault)),
                Ok(call) => {
                    let method = shown(&call.method);
                    let result = run(state, caller, &call).await;
                    (call.id, Some(method), result)
                }
            };
            let Some(id) = id else {
                return Answer {
                    method,
                    fault_code: result.err().map(|f| f.code),
                    ..Answer::default()
                };
            };
            let fault_code = result.as_ref().err().map(|f| f.code);
            let mut body = write(id.clone(), result).await;
            let mut too_large = false;
            if body.len() > max_bytes {
                body = response_bytes(id, Err(too_large_fault(max_bytes)));
                too_large = true;
            }
            Answer {
                body: Some(body),
                method,
                batch: None,
                fault_code: if too_large {
                    Some(FaultCode::LimitReached.code())
                } else {
                    fault_code
                },
                too_large,
            }
        }
    }
}

/// Runs a batch's requests in order; their answers together stay within
/// `max_bytes`: an answer that does not fit in what the earlier ones left is
/// the too-large error in its place, as in `system.multicall`.
async fn batch(state: &AppState, caller: &Caller, entries: Vec<Json>, max_bytes: usize) -> Answer {
    let n = entries.len();
    let mut body = Vec::from(*b"[");
    let mut too_large = false;
    for entry in entries {
        let (id, result) = match check(entry) {
            Err(invalid) => (Some(invalid.id), Err(invalid.fault)),
            // Once a result did not fit, later reads are not run, as in a
            // multicall: a thousand `get_all`s of a full quota would each copy
            // the user's data only to be refused. Changes still run.
            Ok(call) if too_large && reads_data(&call.method) => {
                let fault = FaultCode::LimitReached.fault(format!(
                    "not run: {} with the earlier results",
                    too_large_fault(max_bytes).string
                ));
                (call.id, Err(fault))
            }
            Ok(call) => {
                let result = run(state, caller, &call).await;
                (call.id, result)
            }
        };
        let Some(id) = id else { continue };
        let is_result = result.is_ok();
        let mut one = write(id.clone(), result).await;
        // The comma and the closing bracket count too. Errors always go out
        // (small, and bounded by the request): only results are replaced.
        if is_result && body.len() + one.len() + 2 > max_bytes {
            one = response_bytes(id, Err(too_large_fault(max_bytes)));
            too_large = true;
        }
        if body.len() > 1 {
            body.push(b',');
        }
        body.extend_from_slice(&one);
    }
    body.push(b']');
    Answer {
        // A batch of notifications only is answered with nothing.
        body: (body.len() > 2).then_some(body),
        method: None,
        batch: Some(n),
        fault_code: None,
        too_large,
    }
}

/// Whether `name` is one of the API's methods whose result carries data of
/// any size: the method table's `large_result`, the rule `system.multicall`
/// follows too. `rpc.discover`, too.
fn reads_data(name: &str) -> bool {
    name == DISCOVER || method(name).is_some_and(|spec| spec.large_result)
}

/// How many calls `entry` asks for: one, or a `system.multicall`'s sub-calls.
fn count_calls(entry: &Json) -> usize {
    let multicall = entry.get("method").and_then(Json::as_str) == Some("system.multicall");
    match entry
        .get("params")
        .and_then(|p| p.get(0))
        .and_then(Json::as_array)
    {
        Some(calls) if multicall => calls.len().max(1),
        _ => 1,
    }
}

/// The answer to a document that is no request at all (a parse error, an empty
/// or too large batch).
fn single_error(id: Json, fault: Fault) -> Answer {
    Answer {
        fault_code: Some(fault.code),
        body: Some(response_bytes(id, Err(fault))),
        ..Answer::default()
    }
}

/// The body parsed as JSON within the limits, or the -32700 / -32600 error.
fn parse(bytes: &[u8], max_values: usize) -> Result<Json, Fault> {
    let (depth, values) = shape(bytes, MAX_JSON_DEPTH, max_values);
    if depth > MAX_JSON_DEPTH {
        return Err(FaultCode::InvalidRequest.fault(format!(
            "invalid request: nested deeper than {MAX_JSON_DEPTH} levels"
        )));
    }
    if values > max_values {
        return Err(FaultCode::InvalidRequest.fault(format!(
            "invalid request: more than {max_values} JSON values (max_json_values)"
        )));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| FaultCode::ParseError.fault(format!("parse error, not valid JSON: {e}")))
}

/// How deeply `bytes` nest and about how many values they hold (each `,`,
/// `[` and `{` outside strings starts one), counted before parsing so that a
/// hostile document costs no tree; stops counting once past either bound.
/// Text that is not JSON is counted all the same: the parser refuses it next.
fn shape(bytes: &[u8], max_depth: usize, max_values: usize) -> (usize, usize) {
    let (mut depth, mut deepest, mut values) = (0usize, 0usize, 1usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                values += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
        if deepest > max_depth || values > max_values {
            break;
        }
    }
    (deepest, values)
}

/// Checks one request of the envelope.
fn check(entry: Json) -> Result<Call, Box<Invalid>> {
    let invalid = |id: &Json, message: &str| {
        Box::new(Invalid {
            id: id.clone(),
            fault: FaultCode::InvalidRequest.fault(format!("invalid request: {message}")),
        })
    };
    let Json::Object(mut object) = entry else {
        return Err(invalid(&Json::Null, "a request is an object"));
    };
    let id = match object.remove("id") {
        None => None,
        Some(id @ (Json::String(_) | Json::Number(_) | Json::Null)) => Some(id),
        Some(_) => {
            return Err(invalid(
                &Json::Null,
                "`id` must be a string, a number or null",
            ));
        }
    };
    let answer_id = id.clone().unwrap_or(Json::Null);
    if object.get("jsonrpc").and_then(Json::as_str) != Some("2.0") {
        return Err(invalid(&answer_id, "`jsonrpc` must be \"2.0\""));
    }
    let method = match object.remove("method") {
        Some(Json::String(method)) => method,
        _ => return Err(invalid(&answer_id, "`method` must be a string")),
    };
    let params = match object.remove("params") {
        None => Vec::new(),
        Some(Json::Array(params)) => params,
        Some(Json::Object(_)) => {
            return Err(Box::new(Invalid {
                id: answer_id,
                fault: FaultCode::InvalidParams.fault(format!(
                    "{}: params must be positional (a JSON array in the order of the \
                     method's parameters), not an object",
                    shown(&method)
                )),
            }));
        }
        Some(_) => return Err(invalid(&answer_id, "`params` must be an array")),
    };
    Ok(Call { id, method, params })
}

/// A result still to be written.
enum Output {
    /// From the binding: mapped to JSON as it is written.
    Value(Value),
    /// JSON already (`rpc.discover`).
    Json(Json),
}

/// Runs one checked request: `rpc.discover` here, everything else through the
/// binding's handler.
async fn run(state: &AppState, caller: &Caller, call: &Call) -> Result<Output, Fault> {
    let handler: &Handler = &state.0.handler;
    if call.method == DISCOVER {
        if !call.params.is_empty() {
            return Err(FaultCode::InvalidParams.fault(format!(
                "{DISCOVER}: takes no parameters, got {}",
                call.params.len()
            )));
        }
        return Ok(Output::Json(openrpc::document(handler)));
    }
    let spec = method(&call.method).filter(|spec| handler.offers(spec));
    let params = match spec {
        // The binding's own answer for a method it does not offer.
        None => Vec::new(),
        Some(spec) => {
            let mut params = Vec::with_capacity(call.params.len());
            for (i, param) in call.params.iter().enumerate() {
                let value: Value = from_json(param, Notation::Plain).map_err(|e| {
                    let name = spec
                        .params
                        .get(i)
                        .map(|p| format!(" ({})", p.name))
                        .unwrap_or_default();
                    FaultCode::InvalidParams.fault(format!(
                        "{}: parameter {}{name}: {e}",
                        spec.name,
                        i + 1
                    ))
                })?;
                params.push(value);
            }
            params
        }
    };
    handler
        .call(caller, &MethodCall::new(call.method.clone(), params))
        .await
        .map(Output::Value)
}

/// Writes one response object: a large result on a blocking thread, since
/// mapping and writing it is long CPU work that would hold an async worker
/// (and every request queued behind it), as XML-RPC's large answers are; a
/// small one in place, without the hop.
async fn write(id: Json, result: Result<Output, Fault>) -> Vec<u8> {
    let result = match result {
        Ok(Output::Value(value)) if is_large(&value) => {
            let written = tokio::task::spawn_blocking(move || {
                response_bytes(id, Ok(to_json(&value, Notation::Plain)))
            })
            .await;
            return written.unwrap_or_else(|error| {
                tracing::error!(%error, "writing an answer failed");
                Vec::new()
            });
        }
        Ok(Output::Value(value)) => Ok(to_json(&value, Notation::Plain)),
        Ok(Output::Json(json)) => Ok(json),
        Err(fault) => Err(fault),
    };
    response_bytes(id, result)
}

/// Whether `value` takes at least `pbx_handler::LARGE_ANSWER_BYTES` as JSON,
/// about: a walk that stops as soon as it has seen that much.
fn is_large(value: &Value) -> bool {
    fn exhausts(value: &Value, left: &mut usize) -> bool {
        let own = match value {
            Value::String(text) => text.len() + 2,
            Value::Base64(bytes) => bytes.len() / 3 * 4 + 6,
            Value::Struct(members) => {
                for (name, member) in members.iter() {
                    *left = left.saturating_sub(name.len() + 4);
                    if *left == 0 || exhausts(member, left) {
                        return true;
                    }
                }
                2
            }
            Value::Array(items) => {
                for item in items {
                    if exhausts(item, left) {
                        return true;
                    }
                }
                2
            }
            _ => 8,
        };
        *left = left.saturating_sub(own);
        *left == 0
    }
    let mut left = pbx_handler::LARGE_ANSWER_BYTES;
    exhausts(value, &mut left)
}

/// One response object, written.
fn response_bytes(id: Json, result: Result<Json, Fault>) -> Vec<u8> {
    let mut object = Map::with_capacity(3);
    object.insert("jsonrpc".into(), Json::from("2.0"));
    match result {
        Ok(value) => {
            object.insert("result".into(), value);
        }
        Err(fault) => {
            let mut error = Map::with_capacity(2);
            error.insert("code".into(), Json::from(fault.code));
            error.insert("message".into(), Json::from(fault.string));
            object.insert("error".into(), Json::Object(error));
        }
    }
    object.insert("id".into(), id);
    // A `Json` tree always serializes.
    serde_json::to_vec(&Json::Object(object)).unwrap_or_default()
}

/// The error for an answer beyond `max_response_bytes`: XML-RPC's fault -4,
/// in the same words.
fn too_large_fault(max: usize) -> Fault {
    FaultCode::LimitReached.fault(format!(
        "the answer would exceed {max} bytes (max_response_bytes): ask for less at a time"
    ))
}

/// A method name as the log shows it: shortened, control characters replaced,
/// as the binding does for XML-RPC (the name is the client's text).
fn shown(name: &str) -> String {
    name.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_counts_depth_and_values_outside_strings() {
        assert_eq!(shape(br#"[1,[2,{"a":"[,{"}]]"#, 100, 100), (3, 6));
        assert_eq!(shape(br#""\"[""#, 100, 100), (0, 1));
        // Stops once past a bound.
        let deep = "[".repeat(1000);
        assert_eq!(shape(deep.as_bytes(), 10, 100_000).0, 11);
    }

    #[test]
    fn large_results_are_told_from_small_ones_by_their_text() {
        let big = pbx_handler::LARGE_ANSWER_BYTES;
        assert!(!is_large(&Value::String("x".repeat(big / 2))));
        assert!(is_large(&Value::String("x".repeat(big))));
        // Many small items add up.
        let items = vec![Value::String("x".repeat(98)); big / 100 + 1];
        assert!(is_large(&Value::Array(items)));
        let items = vec![Value::Int(1); 10];
        assert!(!is_large(&Value::Array(items)));
    }

    #[test]
    fn reads_are_told_from_changes_by_the_method_table() {
        for read in [
            "get_calls",
            "get_all",
            "dict_get",
            "dict_get_serialized",
            "get_events",
            DISCOVER,
        ] {
            assert!(reads_data(read), "{read}");
        }
        for change in [
            "dict_set",
            "park",
            "transfer",
            "sim.call",
            "system.listMethods",
            "nope",
        ] {
            assert!(!reads_data(change), "{change}");
        }
    }

    #[test]
    fn content_types_are_json_or_nothing() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, HeaderValue::from_str(v).unwrap());
            is_json(&h)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(with("application/json-rpc"));
        assert!(!with("text/xml"));
        assert!(!with("application/jsonx"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
