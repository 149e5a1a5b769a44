//! [`Handler`]: the framework-free core of a PBXpress server. Request bytes and an
//! authenticated caller in, a complete `methodResponse` out.

use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument as _;

use pbx_backend::{Caller, PbxBackend, PlayOptions, Simulator};
use xmlrpc_codec::{
    DecodeError, Decoder, EncodeError, Encoder, Fault, Limits, MethodCall, Value, ValueWriter,
    Written, encode_fault, encode_value,
};

use pbx_xmlrpc::events::{DEFAULT_EVENTS_TIMEOUT, MAX_EVENTS_PER_ANSWER, events_answer};
use pbx_xmlrpc::{
    Capability, FaultCode, Group, INTERNAL_MESSAGE, Method, MethodSpec, Reply, Request, SimRequest,
    core_types_only, fault_to_value, method, methods, multicall_entries, no_such_method,
};

use crate::fault::fault_from_backend;

/// The default for [`Handler::with_max_multicall`].
pub const DEFAULT_MAX_MULTICALL: usize = 1000;

/// The default for [`Handler::with_max_response_bytes`]: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 << 20;

/// From this estimated size on, an [`Answer`] [`is_large`](Answer::is_large):
/// writing it takes long enough (a millisecond or more) to belong off an async
/// worker. 256 KiB.
pub const LARGE_ANSWER_BYTES: usize = 256 << 10;

/// Serves the PBXpress API over XML-RPC for one backend: decodes a request, checks
/// its parameters, calls the backend, and encodes the result or the fault.
///
/// It knows nothing of HTTP: the server authenticates the caller and hands over the
/// body. Cheap to clone (the backend is shared).
///
/// ```no_run
/// # async fn demo(backend: std::sync::Arc<dyn pbx_backend::PbxBackend>, caller: pbx_backend::Caller) {
/// use pbx_handler::Handler;
///
/// let handler = Handler::new(backend);
/// let body = br#"<?xml version="1.0"?><methodCall><methodName>get_calls</methodName></methodCall>"#;
/// let outcome = handler.handle(&caller, body).await;
/// assert_eq!(outcome.method.as_deref(), Some("get_calls"));
/// # }
/// ```
#[derive(Clone)]
pub struct Handler {
    backend: Arc<dyn PbxBackend>,
    simulation: Simulation,
    limits: Limits,
    max_multicall: usize,
    max_response_bytes: usize,
}

/// Whether the `sim.*` methods exist on this server, and whether they are open.
#[derive(Clone)]
enum Simulation {
    /// No simulator (a real PBX): `sim.*` does not exist. Not listed, -32601.
    Absent,
    /// A simulated PBX whose simulation is switched off in the configuration:
    /// `sim.*` is listed, and every call answers -2.
    SwitchedOff,
    /// `sim.*` is offered and drives this simulator.
    On(Arc<dyn Simulator>),
}

/// What [`Handler::handle`] produced: the response body and what a server logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The complete XML `methodResponse`, success or fault; sent with HTTP 200.
    pub body: Vec<u8>,
    /// The method called, when the body was a methodCall (shortened to 64
    /// characters, control characters replaced by `?`: an unknown name is the client's text).
    pub method: Option<String>,
    /// The fault code, when the response is a fault (sub-call faults of a
    /// `system.multicall` travel inside a successful response and are not shown here).
    pub fault_code: Option<i32>,
    /// Whether the answer is fault -4 because it would have exceeded
    /// [`Handler::with_max_response_bytes`] (for a server's metrics).
    pub too_large: bool,
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let simulation = match self.simulation {
            Simulation::Absent => "absent",
            Simulation::SwitchedOff => "switched off",
            Simulation::On(_) => "on",
        };
        f.debug_struct("Handler")
            .field("simulation", &simulation)
            .field("limits", &self.limits)
            .field("max_multicall", &self.max_multicall)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl Handler {
    /// A handler for `backend`, without simulation (`sim.*` does not exist), with
    /// the codec's default [`Limits`] and at most [`DEFAULT_MAX_MULTICALL`] calls
    /// per `system.multicall`.
    pub fn new(backend: Arc<dyn PbxBackend>) -> Self {
        Self {
            backend,
            simulation: Simulation::Absent,
            limits: Limits::default(),
            max_multicall: DEFAULT_MAX_MULTICALL,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Offers the `sim.*` methods, driving `simulator` (for the in-memory PBX,
    /// `pbx_backend_memory::Player` over it, which also plays scenarios; the PBX
    /// itself refuses `sim.play`). A server gets it from
    /// `pbx_server::AppStateBuilder::simulator`.
    pub fn with_simulator(mut self, simulator: Arc<dyn Simulator>) -> Self {
        self.simulation = Simulation::On(simulator);
        self
    }

    /// Lists the `sim.*` methods but answers every call of them with fault -2:
    /// a simulated PBX whose simulation is switched off in the configuration.
    pub fn with_simulation_switched_off(mut self) -> Self {
        self.simulation = Simulation::SwitchedOff;
        self
    }

    /// The decoder's limits for request bodies (and for stored serialized values).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The most calls one `system.multicall` may hold; beyond, the call is fault -32602.
    pub fn with_max_multicall(mut self, max: usize) -> Self {
        self.max_multicall = max;
        self
    }

    /// The most bytes one answer may take (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    ///
    /// A result that would pass it is fault -4, "the answer would exceed N bytes
    /// (max_response_bytes)", decided before the answer is written when its size
    /// can be told from the result (the text it holds), else as soon as writing
    /// passes the bound: an answer never costs much more than this in memory.
    /// In a `system.multicall` the results together count against it: a sub-call
    /// whose result does not fit in what the earlier ones left is that fault in
    /// place, and the others still answer (some may have changed things), except
    /// that once one did not fit, later reads (`get_*`, `dict_get*`) are that
    /// fault without being run.
    pub fn with_max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max;
        self
    }

    /// The backend (for authentication by the server).
    pub fn backend(&self) -> &Arc<dyn PbxBackend> {
        &self.backend
    }

    /// Whether this handler offers `spec`: the one place that decides which methods
    /// exist. `sim.*` exists only when a simulator was given (or simulation was
    /// switched off, which lists them but refuses them).
    pub fn offers(&self, spec: &MethodSpec) -> bool {
        match spec.group {
            Group::Simulation => !matches!(self.simulation, Simulation::Absent),
            _ => true,
        }
    }

    /// The methods offered, in table order (`system.listMethods`).
    pub fn offered_methods(&self) -> impl Iterator<Item = &'static MethodSpec> + '_ {
        methods().iter().filter(|m| self.offers(m))
    }

    /// Handles one request body on behalf of `caller`: always a complete
    /// `methodResponse`, never a panic. Logs (at debug level) the method, the user,
    /// the duration and the fault code, never parameters or stored values; internal
    /// errors are logged at error level with their detail.
    ///
    /// [`Handler::answer`] then [`Answer::encode`]: a server that wants to write
    /// large answers off its async workers calls the two itself.
    pub async fn handle(&self, caller: &Caller, body: &[u8]) -> Outcome {
        self.answer(caller, body).await.encode()
    }

    /// Runs the call in `body` on behalf of `caller`, up to the answer that is
    /// still to be written: the backend's work is done, the writing (CPU only,
    /// and for a large answer worth a blocking thread) is [`Answer::encode`].
    pub async fn answer(&self, caller: &Caller, body: &[u8]) -> Answer {
        let started = Instant::now();
        let (method, result) = match Decoder::new(self.limits.clone()).method_call(body) {
            Err(error) => (None, Err(decode_fault(&error))),
            Ok(call) => {
                // Shortened, and control characters replaced, so that a hostile name
                // cannot forge log lines.
                let shown: String = call
                    .method_name
                    .chars()
                    .take(64)
                    .map(|c| if c.is_control() { '?' } else { c })
                    .collect();
                // At debug level, events inside (an internal error's detail) say which
                // method failed; at info, the server's event for the request follows
                // the error with the method. A span per request costs as much as that
                // event, so none unless debug is on.
                let result = if tracing::enabled!(tracing::Level::DEBUG) {
                    let span = tracing::debug_span!("xmlrpc", method = ?shown);
                    self.produce(caller, &call).instrument(span).await
                } else {
                    self.produce(caller, &call).await
                };
                (Some(shown), result)
            }
        };
        // At debug level: a server writes its own event per request from the
        // `Outcome` (pbx-server does), so that each request logs once at info.
        tracing::debug!(
            method = method.as_deref().unwrap_or("-"),
            user = caller.number(),
            elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            fault_code = result.as_ref().err().map(|f| f.code),
            "xml-rpc call"
        );
        Answer {
            method,
            result,
            max_bytes: self.max_response_bytes,
        }
    }

    /// The result of `call`, checked against the answer's bound as far as its
    /// size can be told before writing.
    async fn produce(&self, caller: &Caller, call: &MethodCall) -> Result<Produced, Fault> {
        if call.method_name == Method::Multicall.name() {
            return self
                .multicall_replies(caller, call)
                .await
                .map(Produced::Multicall);
        }
        let reply = self.single_reply(caller, call).await?;
        // The markup around a single result is what the floor leaves out: none
        // of it is client-controlled.
        if reply.min_len().saturating_add(Answer::DOCUMENT) > self.max_response_bytes {
            return Err(too_large(self.max_response_bytes));
        }
        Ok(Produced::Single(reply))
    }

    /// Runs one decoded call: its result value or its fault. `system.multicall` runs
    /// its sub-calls in order, each fault in place.
    pub async fn call(&self, caller: &Caller, call: &MethodCall) -> Result<Value, Fault> {
        self.call_reply(caller, call).await.map(Reply::into_value)
    }

    /// [`Handler::call`], typed: what [`Handler::handle`] writes.
    async fn call_reply(&self, caller: &Caller, call: &MethodCall) -> Result<Reply, Fault> {
        if call.method_name == Method::Multicall.name() {
            return self.multicall(caller, call).await.map(Reply::Multicall);
        }
        self.single_reply(caller, call).await
    }

    async fn single_reply(&self, caller: &Caller, call: &MethodCall) -> Result<Reply, Fault> {
        // Not offered (e.g. `sim.*` without a simulator) answers as if it did not exist.
        if !method(&call.method_name).is_some_and(|spec| self.offers(spec)) {
            return Err(no_such_method(&call.method_name));
        }
        let request = Request::from_call(call)?;
        self.execute(caller, request).await
    }

    async fn multicall(
        &self,
        caller: &Caller,
        call: &MethodCall,
    ) -> Result<Vec<Result<Value, Fault>>, Fault> {
        let replies = self.multicall_replies(caller, call).await?;
        Ok(replies
            .into_iter()
            .map(|r| r.map(Reply::into_value))
            .collect())
    }

    /// The sub-calls' results, in order, each fault in place. Their sizes add up
    /// against `max_response_bytes` as they come: a result that does not fit in
    /// what the earlier ones left is dropped at once for fault -4, so that the
    /// results held until the answer is written stay within the bound.
    async fn multicall_replies(
        &self,
        caller: &Caller,
        call: &MethodCall,
    ) -> Result<Vec<Result<Reply, Fault>>, Fault> {
        let entries = multicall_entries(call)?;
        if entries.len() > self.max_multicall {
            return Err(FaultCode::InvalidParams.fault(format!(
                "system.multicall: at most {} calls per request, got {}",
                self.max_multicall,
                entries.len()
            )));
        }
        let mut results = Vec::with_capacity(entries.len());
        let mut used = Answer::DOCUMENT;
        // Once a result did not fit, later reads are not run: a thousand
        // `get_all`s of a full quota would each copy the user's data only to be
        // refused. Changes still run (their result is `true`).
        let mut full = false;
        for (i, entry) in entries.into_iter().enumerate() {
            let result = match entry {
                Ok(sub) if sub.method_name == Method::Multicall.name() => {
                    Err(FaultCode::InvalidRequest.fault(format!(
                        "system.multicall: call {}: system.multicall cannot be nested",
                        i + 1
                    )))
                }
                Ok(sub) if full && reads_data(&sub.method_name) => Err(FaultCode::LimitReached
                    .fault(format!(
                        "system.multicall: call {}: not run: {} with the earlier results",
                        i + 1,
                        too_large_message(self.max_response_bytes)
                    ))),
                Ok(sub) => self.single_reply(caller, &sub).await,
                Err(fault) => Err(fault),
            };
            let result = match result {
                Ok(reply) => {
                    let size = reply.min_len().saturating_add(Answer::MULTICALL_ITEM);
                    if used.saturating_add(size) > self.max_response_bytes {
                        full = true;
                        Err(FaultCode::LimitReached.fault(format!(
                            "system.multicall: call {}: {}",
                            i + 1,
                            too_large_message(self.max_response_bytes)
                        )))
                    } else {
                        used += size;
                        Ok(reply)
                    }
                }
                Err(fault) => Err(fault),
            };
            if let Err(fault) = &result {
                used = used.saturating_add(Answer::MULTICALL_ITEM + fault.string.len());
                tracing::debug!(
                    call = i + 1,
                    fault_code = fault.code,
                    "multicall sub-call failed"
                );
            }
            results.push(result);
        }
        Ok(results)
    }

    /// `get_events`: what is pending after `cursor`, else the first event
    /// within `timeout` seconds, else nothing. It only awaits (no worker, no
    /// lock held while it waits); a reset answers at once.
    async fn get_events(
        &self,
        caller: &Caller,
        cursor: &str,
        timeout: Option<u32>,
    ) -> Result<Reply, Fault> {
        use pbx_backend::EventId;
        let after = (!cursor.is_empty()).then(|| EventId::new(cursor));
        let mut sub = self
            .backend
            .events(caller, after.as_ref())
            .await
            .map_err(|e| fault_from_backend(&e))?;
        let wait = timeout.unwrap_or(DEFAULT_EVENTS_TIMEOUT);
        let batch = sub
            .batch(
                MAX_EVENTS_PER_ANSWER,
                std::time::Duration::from_secs(u64::from(wait)),
            )
            .await;
        let (reset, events) = (batch.reset, batch.events);
        let value = events_answer(sub.cursor().as_str(), reset, &events);
        Ok(Reply::Object(value))
    }

    /// Runs a decoded request (not a multicall, which [`Handler::call`] runs).
    async fn execute(&self, caller: &Caller, request: Request) -> Result<Reply, Fault> {
        let b = &*self.backend;
        let done = |r: Result<(), pbx_backend::BackendError>| {
            r.map(|()| Reply::Done).map_err(|e| fault_from_backend(&e))
        };
        let fault = |e: pbx_backend::BackendError| fault_from_backend(&e);
        match request {
            Request::GetCalls => b.get_calls(caller).await.map(Reply::Calls).map_err(fault),
            Request::GetExtensions => b
                .get_extensions(caller)
                .await
                .map(Reply::Extensions)
                .map_err(fault),
            Request::GetFavorites => b
                .get_favorites(caller)
                .await
                .map(Reply::Favorites)
                .map_err(fault),
            Request::SetFavorites(favorites) => done(b.set_favorites(caller, favorites).await),
            Request::Transfer { call, destination } => {
                done(b.transfer(caller, &call, &destination).await)
            }
            Request::Drop { call } => done(b.drop_call(caller, &call).await),
            Request::GetParkingInfo => b
                .get_parking_info(caller)
                .await
                .map(Reply::ParkingInfo)
                .map_err(fault),
            Request::Park { call, slot } => b
                .park(caller, &call, slot)
                .await
                .map(Reply::Slot)
                .map_err(fault),
            Request::DictSet { key, value } => done(b.dict_set(caller, &key, &value).await),
            Request::DictSetMany(pairs) => done(b.dict_set_many(caller, pairs).await),
            Request::DictGet { key } => b
                .dict_get(caller, &key)
                .await
                .map(Reply::Text)
                .map_err(fault),
            Request::DictSetSerialized { key, value } => {
                let text = serialize(&value)?;
                done(b.dict_set(caller, &key, &text).await)
            }
            Request::DictGetSerialized { key } => {
                let text = b.dict_get(caller, &key).await.map_err(fault)?;
                self.deserialize(&text).map(Reply::Object)
            }
            Request::DictDelete { key } => done(b.dict_delete(caller, &key).await),
            Request::GetAll => {
                // Keys and values beyond the answer's bound cannot fit in it:
                // the backend refuses them before copying them (LimitReached,
                // the one refusal `get_all` has), and the client gets the
                // same fault as for any answer too large.
                let max = self.max_response_bytes;
                match b.get_all(caller, max).await {
                    Ok(entries) => Ok(Reply::Entries(entries)),
                    Err(pbx_backend::BackendError::LimitReached(_)) => Err(too_large(max)),
                    Err(e) => Err(fault(e)),
                }
            }
            Request::GetEvents { cursor, timeout } => {
                self.get_events(caller, &cursor, timeout).await
            }
            Request::Sim(sim) => self.simulate(caller, sim).await,
            Request::ListMethods => Ok(Reply::MethodNames(
                self.offered_methods().map(|m| m.name.to_string()).collect(),
            )),
            Request::MethodHelp { method } => self
                .described(&method)
                .map(|spec| Reply::Text(spec.help_text())),
            Request::MethodSignature { method } => self.described(&method).map(|spec| {
                Reply::Signatures(
                    spec.signatures()
                        .into_iter()
                        .map(|sig| sig.into_iter().map(str::to_string).collect())
                        .collect(),
                )
            }),
            Request::GetCapabilities => Ok(Reply::Capabilities(capabilities())),
            Request::Multicall(_) => {
                Err(FaultCode::InvalidRequest.fault("system.multicall cannot be nested"))
            }
            // `Request` is non-exhaustive: a method added to the table but not
            // dispatched here is this crate's bug, never the client's.
            other => Err(not_dispatched(other.method())),
        }
    }

    /// A `sim.*` request: the only path to the simulator.
    async fn simulate(&self, caller: &Caller, request: SimRequest) -> Result<Reply, Fault> {
        let sim = match &self.simulation {
            Simulation::On(sim) => sim,
            Simulation::SwitchedOff => {
                return Err(
                    FaultCode::PermissionDenied.fault("simulation is switched off on this server")
                );
            }
            Simulation::Absent => return Err(no_such_method(request.method().name())),
        };
        let done = |r: Result<(), pbx_backend::BackendError>| {
            r.map(|()| Reply::Done).map_err(|e| fault_from_backend(&e))
        };
        match request {
            SimRequest::Call { from, to, via } => sim
                .call(caller, &from, &to, via.as_deref())
                .await
                .map(Reply::CallId)
                .map_err(|e| fault_from_backend(&e)),
            SimRequest::Answer { call, extension } => {
                done(sim.answer(caller, &call, extension.as_deref()).await)
            }
            SimRequest::Hold { call } => done(sim.hold(caller, &call).await),
            SimRequest::Resume { call } => done(sim.resume(caller, &call).await),
            SimRequest::Hangup { call } => done(sim.hangup(caller, &call).await),
            SimRequest::Register { number } => done(sim.register(caller, &number).await),
            SimRequest::Unregister { number } => done(sim.unregister(caller, &number).await),
            SimRequest::Reset => done(sim.reset(caller).await),
            SimRequest::Play {
                scenario,
                speed,
                repeat,
            } => {
                let mut options = PlayOptions::default();
                options.speed = speed.unwrap_or(options.speed);
                options.repeat = repeat.unwrap_or(options.repeat);
                done(sim.play(caller, &scenario, options).await)
            }
            SimRequest::Stop => done(sim.stop(caller).await),
            other => Err(not_dispatched(other.method())),
        }
    }

    /// The offered method `name`, for `system.methodHelp` / `methodSignature`.
    fn described(&self, name: &str) -> Result<&'static MethodSpec, Fault> {
        method(name)
            .filter(|spec| self.offers(spec))
            .ok_or_else(|| no_such_method(name))
    }

    /// The array or struct stored as `text` by `dict_set_serialized`.
    fn deserialize(&self, text: &str) -> Result<Value, Fault> {
        match Decoder::new(self.limits.clone()).value(text.as_bytes()) {
            // Text stored with dict_set may decode to what no answer can carry
            // (nil, a 64-bit int): that is "not a serialized value" too, not an
            // internal error when the answer fails to encode.
            Ok(value @ (Value::Array(_) | Value::Struct(_))) if core_types_only(&value).is_ok() => {
                Ok(value)
            }
            // The text itself stays out of the message (and the log): it is user data.
            _ => Err(FaultCode::Conflict
                .fault("dict_get_serialized: the key's value is not a serialized array or struct")),
        }
    }
}

/// What [`Handler::answer`] produced: a result, or a fault, still to be written
/// by [`Answer::encode`]. Owns everything it needs (`Send + 'static`), so that a
/// server can write a large one on a blocking thread.
pub struct Answer {
    method: Option<String>,
    result: Result<Produced, Fault>,
    max_bytes: usize,
}

/// Shows the method, the size and the fault code: never the result, which may
/// be a user's stored values.
impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("method", &self.method)
            .field("estimated_len", &self.estimated_len())
            .field("fault_code", &self.result.as_ref().err().map(|f| f.code))
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

/// A successful result still to be written.
enum Produced {
    Single(Reply),
    /// Each sub-call's result or fault, written in place.
    Multicall(Vec<Result<Reply, Fault>>),
}

impl Answer {
    /// The declaration and `methodResponse` markup around a result (86 bytes),
    /// rounded down: part of every answer's floor.
    const DOCUMENT: usize = 80;
    /// The least markup around one multicall result (`<value><array><data>`
    /// ..., 43 bytes) or fault, rounded down.
    const MULTICALL_ITEM: usize = 40;

    /// The method called, when the body was a methodCall (as in [`Outcome::method`]).
    pub fn method(&self) -> Option<&str> {
        self.method.as_deref()
    }

    /// About how many bytes the answer will take: no fewer than the text it
    /// carries (an estimate for records and the document's markup).
    pub fn estimated_len(&self) -> usize {
        match &self.result {
            Err(fault) => Self::DOCUMENT + fault.string.len(),
            Ok(Produced::Single(reply)) => reply.size_hint().max(reply.min_len()),
            Ok(Produced::Multicall(results)) => {
                results.iter().fold(Self::DOCUMENT, |total, result| {
                    total.saturating_add(match result {
                        Ok(reply) => reply.min_len().saturating_add(Self::MULTICALL_ITEM),
                        Err(fault) => fault.string.len() + Self::MULTICALL_ITEM,
                    })
                })
            }
        }
    }

    /// Whether the answer is large enough ([`LARGE_ANSWER_BYTES`]) that writing
    /// it would hold an async worker for a while: a server writes it on a
    /// blocking thread. Small answers are not: no thread hop on the fast path.
    pub fn is_large(&self) -> bool {
        self.estimated_len() >= LARGE_ANSWER_BYTES
    }

    /// Writes the answer: the `methodResponse`, result or fault. An answer that
    /// passes `max_response_bytes` as it is written (text that grows when
    /// escaped) is fault -4 instead, its partial bytes dropped.
    pub fn encode(self) -> Outcome {
        if tracing::enabled!(tracing::Level::DEBUG) && self.is_large() {
            tracing::debug!(
                method = self.method.as_deref(),
                estimated_bytes = self.estimated_len(),
                "writing a large answer"
            );
        }
        let max = self.max_bytes;
        let method = self.method;
        let written = match self.result {
            Err(fault) => Err(fault),
            Ok(Produced::Single(reply)) => {
                let capacity = reply.size_hint().max(reply.min_len());
                Encoder::default()
                    .method_response_within(capacity, max, |w| reply.write(w))
                    .map_err(|e| encode_failure(method.as_deref(), &e, max))
            }
            Ok(Produced::Multicall(results)) => {
                let capacity = results.len().saturating_mul(256).min(Reply::MAX_SIZE_HINT);
                Encoder::default()
                    .method_response_within(capacity, max, |w| write_multicall(results, w))
                    .map_err(|e| encode_failure(method.as_deref(), &e, max))
            }
        };
        let (body, fault_code, too_large) = match written {
            // Written straight from the records: no `Value` tree for list results.
            Ok(body) => (body, None, false),
            Err(fault) => (
                encode_fault(&fault),
                Some(fault.code),
                is_too_large(&fault, max),
            ),
        };
        Outcome {
            body,
            method,
            fault_code,
            too_large,
        }
    }
}

/// A multicall's results as the array of one-item arrays and fault structs
/// `records::multicall_to_value` builds, each result written from its records.
fn write_multicall(
    results: Vec<Result<Reply, Fault>>,
    w: ValueWriter<'_>,
) -> Result<Written, EncodeError> {
    w.array(|a| {
        results.into_iter().try_for_each(|result| match result {
            Ok(reply) => a.item(|w| w.array(|one| one.item(|w| reply.write(w)))),
            Err(fault) => a.item(|w| w.value(&fault_to_value(&fault))),
        })
    })
}

/// Whether `name` is a method whose result carries data of any size (a list,
/// a stored value), which a multicall whose answer is full does not run.
fn reads_data(name: &str) -> bool {
    method(name).is_some_and(|spec| {
        matches!(
            spec.method,
            Method::GetCalls
                | Method::GetExtensions
                | Method::GetFavorites
                | Method::GetParkingInfo
                | Method::GetAll
                | Method::DictGet
                | Method::DictGetSerialized
        )
    })
}

/// The internal fault for a method of the table this handler does not run.
fn not_dispatched(method: Method) -> Fault {
    tracing::error!(%method, "a method of the table is not dispatched");
    FaultCode::Internal.fault(INTERNAL_MESSAGE)
}

/// The fault for an answer that could not be written.
fn encode_failure(method: Option<&str>, error: &EncodeError, max: usize) -> Fault {
    match error {
        EncodeError::TooLarge { .. } => {
            tracing::debug!(
                method,
                max_bytes = max,
                "an answer passed max_response_bytes"
            );
            too_large(max)
        }
        _ => {
            tracing::error!(method, %error, "cannot encode a result");
            FaultCode::Internal.fault(INTERNAL_MESSAGE)
        }
    }
}

/// Fault -4 for an answer beyond `max_response_bytes`.
fn too_large(max: usize) -> Fault {
    FaultCode::LimitReached.fault(too_large_message(max))
}

/// Whether `fault` is [`too_large`]'s.
fn is_too_large(fault: &Fault, max: usize) -> bool {
    fault.code == FaultCode::LimitReached.code() && fault.string == too_large_message(max)
}

fn too_large_message(max: usize) -> String {
    format!("the answer would exceed {max} bytes (max_response_bytes): ask for less at a time")
}

/// The canonical `<value>` text `dict_set_serialized` stores.
fn serialize(value: &Value) -> Result<String, Fault> {
    encode_value(value).map_err(|e| {
        FaultCode::InvalidParams.fault(format!(
            "dict_set_serialized: parameter 2 (obj) cannot be stored: {e}"
        ))
    })
}

/// The fault for a body that is no methodCall: -32700 when it is not even
/// well-formed XML, -32600 otherwise; the message carries the line and column.
fn decode_fault(error: &DecodeError) -> Fault {
    if error.is_not_well_formed() {
        FaultCode::ParseError.fault(format!("parse error, not well formed: {error}"))
    } else {
        FaultCode::InvalidRequest.fault(format!("invalid XML-RPC methodCall: {error}"))
    }
}

/// `system.getCapabilities`: the conventions this server follows.
fn capabilities() -> Vec<Capability> {
    let cap = |name: &str, url: &str, version: i64| Capability {
        name: name.to_string(),
        spec_url: url.to_string(),
        spec_version: version,
    };
    vec![
        cap(
            "faults_interop",
            "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php",
            20010516,
        ),
        cap(
            "introspection",
            "http://xmlrpc-c.sourceforge.net/introspection.html",
            1,
        ),
        cap(
            "multicall",
            "http://www.xmlrpc.com/discuss/msgReader$1208",
            1,
        ),
    ]
}
