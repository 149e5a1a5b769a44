//! [`Handler`]: the framework-free core of a PBXpress server. Request bytes and an
//! authenticated caller in, a complete `methodResponse` out.
//!
//! The PBX's methods are registered into a generic [`xmlrpc_server::Router`],
//! which decodes the request, answers introspection and `system.multicall`,
//! bounds the answer and writes it: one table of methods (`pbx_xmlrpc::methods`)
//! gives each method's help and signatures, and the PBX's dispatch is what is
//! left here (`Pbx::execute`).

use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument as _;

use pbx_backend::events::LongPolls;
use pbx_backend::{Caller, PbxBackend, PlayOptions, Simulator};
use pbx_model::CallId;
use pbx_xmlrpc::events::{DEFAULT_EVENTS_TIMEOUT, MAX_EVENTS_PER_ANSWER, events_answer};
use pbx_xmlrpc::{
    FaultCode, Group, INTERNAL_MESSAGE, Method, MethodSpec, Reply, Request, core_types_only,
    methods, no_such_method,
};
use xmlrpc_codec::{
    Decoder, EncodeError, Fault, Limits, MethodCall, Value, ValueWriter, Written, encode_value,
};
use xmlrpc_server::{
    Answer, Context, DEFAULT_MAX_MULTICALL, DEFAULT_MAX_RESPONSE_BYTES, Faults, Outcome, Router,
};

use crate::fault::fault_from_backend;

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
    long_polls: LongPolls,
    /// The PBX's methods registered with the settings above: rebuilt by each
    /// `with_*` (at start-up only).
    router: Router<Arc<Pbx>>,
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

/// What the PBX's methods need: the router's state.
struct Pbx {
    backend: Arc<dyn PbxBackend>,
    simulation: Simulation,
    limits: Limits,
    max_response_bytes: usize,
    long_polls: LongPolls,
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
            router: Router::with_state(Arc::new(Pbx {
                backend: backend.clone(),
                simulation: Simulation::Absent,
                limits: Limits::default(),
                max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
                long_polls: LongPolls::new(),
            })),
            backend,
            simulation: Simulation::Absent,
            limits: Limits::default(),
            max_multicall: DEFAULT_MAX_MULTICALL,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            long_polls: LongPolls::new(),
        }
        .registered()
    }

    /// Answers `get_events` long polls through `long_polls`: the server's
    /// `LongPolls::stop` at shutdown ends those waiting, and it counts them.
    pub fn with_long_polls(mut self, long_polls: LongPolls) -> Self {
        self.long_polls = long_polls;
        self.registered()
    }

    /// Offers the `sim.*` methods, driving `simulator` (for the in-memory PBX,
    /// `pbx_backend_memory::Player` over it, which also plays scenarios; the PBX
    /// itself refuses `sim.play`). A server gets it from
    /// `pbx_server::AppStateBuilder::simulator`.
    pub fn with_simulator(mut self, simulator: Arc<dyn Simulator>) -> Self {
        self.simulation = Simulation::On(simulator);
        self.registered()
    }

    /// Lists the `sim.*` methods but answers every call of them with fault -2:
    /// a simulated PBX whose simulation is switched off in the configuration.
    pub fn with_simulation_switched_off(mut self) -> Self {
        self.simulation = Simulation::SwitchedOff;
        self.registered()
    }

    /// The decoder's limits for request bodies (and for stored serialized values).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.registered()
    }

    /// The most calls one `system.multicall` may hold; beyond, the call is fault -32602.
    pub fn with_max_multicall(mut self, max: usize) -> Self {
        self.max_multicall = max;
        self.registered()
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
        self.registered()
    }

    /// The backend (for authentication by the server).
    pub fn backend(&self) -> &Arc<dyn PbxBackend> {
        &self.backend
    }

    /// The generic router the PBX's methods are registered in, with the
    /// caller in each request's [`Context`] (`Context::insert(caller)`): to
    /// serve them another way (another transport, another framework).
    pub fn router(&self) -> &Router<impl Clone + Send + Sync + 'static> {
        &self.router
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

    /// The router with every offered method of the table registered, under the
    /// current settings: each method's help and signatures from the table, its
    /// dispatch `Pbx::run`, the PBX's wording of faults.
    fn registered(mut self) -> Self {
        let pbx = Arc::new(Pbx {
            backend: self.backend.clone(),
            simulation: self.simulation.clone(),
            limits: self.limits.clone(),
            max_response_bytes: self.max_response_bytes,
            long_polls: self.long_polls.clone(),
        });
        let mut router = Router::with_state(pbx)
            .with_limits(self.limits.clone())
            .with_max_multicall(self.max_multicall)
            .with_max_response_bytes(self.max_response_bytes)
            .with_faults(pbx_faults());
        for spec in self.offered_methods() {
            // `system.*` is the router's own: only described from the table.
            if spec.group != Group::System {
                router = router.method_raw(spec.name, Pbx::run);
            }
            router = router
                .help(spec.name, spec.help_text())
                .signatures(spec.name, spec.signatures());
            if spec.large_result {
                router = router.large_result(spec.name);
            }
        }
        self.router = router.list_order(self.offered_methods().map(|spec| spec.name));
        self
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
        // At debug level, events inside (an internal error's detail) say whose
        // request failed; at info, the server's event for the request follows.
        // A span per request costs as much as that event, so none unless debug is on.
        let answer = if tracing::enabled!(tracing::Level::DEBUG) {
            let span = tracing::debug_span!("xmlrpc", user = caller.number());
            self.router
                .answer(context(caller), body)
                .instrument(span)
                .await
        } else {
            self.router.answer(context(caller), body).await
        };
        // At debug level: a server writes its own event per request from the
        // `Outcome` (pbx-server does), so that each request logs once at info.
        tracing::debug!(
            method = answer.method().unwrap_or("-"),
            user = caller.number(),
            elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "xml-rpc request"
        );
        answer
    }

    /// Runs one decoded call on behalf of `caller`: its result value or its
    /// fault. `system.multicall` runs its sub-calls in order, each fault in place.
    pub async fn call(&self, caller: &Caller, call: &MethodCall) -> Result<Value, Fault> {
        self.router.call(context(caller), call.clone()).await
    }
}

/// A request's context: the caller, for the PBX's methods to read.
fn context(caller: &Caller) -> Context {
    let mut ctx = Context::new();
    ctx.insert(caller.clone());
    ctx
}

/// The PBX's wording of the faults the router makes itself (SPEC.md's table:
/// internal errors are 1, an answer too large is -4).
fn pbx_faults() -> Faults {
    let mut faults = Faults::default();
    faults.not_well_formed =
        |error| FaultCode::ParseError.fault(format!("parse error, not well formed: {error}"));
    faults.invalid_request =
        |error| FaultCode::InvalidRequest.fault(format!("invalid XML-RPC methodCall: {error}"));
    faults.no_such_method = no_such_method;
    faults.internal = || FaultCode::Internal.fault(INTERNAL_MESSAGE);
    faults.too_large = too_large;
    faults
}

/// A PBX result as the router writes it: straight from the records, its size
/// told before writing.
struct PbxReply(Reply);

impl xmlrpc_server::Reply for PbxReply {
    fn write(self: Box<Self>, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        self.0.write(w)
    }

    fn min_len(&self) -> usize {
        self.0.min_len()
    }

    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }

    fn into_value(self: Box<Self>) -> Value {
        self.0.into_value()
    }
}

/// The dispatch of every request, generated from the table
/// (`pbx_xmlrpc::table`): a match with one arm per method, each calling what
/// the entry's `serve` names.
macro_rules! dispatch {
    ($pbx:ident, $caller:ident, $request:ident; $(
        $variant:ident = $name:literal {
            group: $group:ident,
            client: $client:ident,
            serve: $serve:ident $($serve_fn:ident)?,
            large_result: $large:literal,
            params: [$(
                $p:ident : $pty:ty as $parg:ty = $pname:literal [$($ptype:ident)|+] via $pkind:ident $pdoc:expr
            ),* $(,)?],
            optional: [$(
                $o:ident : $oty:ty as $oarg:ty = $oname:literal [$($otype:ident)|+] via $okind:ident $odoc:expr
            ),* $(,)?],
            result: $rty:ty = $reader:ident [$($rtype:ident)|+] $rdoc:literal,
            help: $help:literal,
            faults: [$($fault:expr),* $(,)?] $(,)?
        }
    )*) => {
        match $request {
            $(Request::$variant { $($p,)* $($o,)* } => {
                serve!($pbx, $caller, $variant, $serve $($serve_fn)?, [$($p)* $($o)*])
            })*
            // `Request` is non-exhaustive to other crates; every variant of
            // this version is above.
            other => Err(not_dispatched(other.method())),
        }
    };
}

/// One arm of [`dispatch!`]: what `serve` names, called with the caller and
/// the request's fields in order.
macro_rules! serve {
    ($pbx:ident, $caller:ident, $variant:ident, backend $f:ident, [$($a:ident)*]) => {{
        $(let mut $a = $a;)*
        $pbx.backend
            .$f($caller, $(Pass::pass(&mut $a)),*)
            .await
            .map(Reply::from)
            .map_err(|e| fault_from_backend(&e))
    }};
    ($pbx:ident, $caller:ident, $variant:ident, simulator $f:ident, [$($a:ident)*]) => {{
        let sim = $pbx.simulator(Method::$variant)?;
        $(let mut $a = $a;)*
        sim.$f($caller, $(Pass::pass(&mut $a)),*)
            .await
            .map(Reply::from)
            .map_err(|e| fault_from_backend(&e))
    }};
    ($pbx:ident, $caller:ident, $variant:ident, handler $f:ident, [$($a:ident)*]) => {
        $pbx.$f($caller, $($a),*).await
    };
    // Introspection and multicall: the router answers them itself, they
    // never reach the PBX's dispatch.
    ($pbx:ident, $caller:ident, $variant:ident, router, [$($a:ident)*]) => {{
        $(let _ = $a;)*
        Err(not_dispatched(Method::$variant))
    }};
}

/// How a request's field is handed to a backend method: by reference where the
/// trait borrows (`&str`, `&CallId`), by value where it takes or copies.
trait Pass<'a> {
    /// What the backend method takes.
    type Out;

    /// The field as the backend method takes it (a list is moved out).
    fn pass(&'a mut self) -> Self::Out;
}

impl<'a> Pass<'a> for String {
    type Out = &'a str;

    fn pass(&'a mut self) -> &'a str {
        self
    }
}

impl<'a> Pass<'a> for CallId {
    type Out = &'a CallId;

    fn pass(&'a mut self) -> &'a CallId {
        self
    }
}

impl<'a> Pass<'a> for Option<String> {
    type Out = Option<&'a str>;

    fn pass(&'a mut self) -> Option<&'a str> {
        self.as_deref()
    }
}

impl<'a> Pass<'a> for Option<u32> {
    type Out = Option<u32>;

    fn pass(&'a mut self) -> Option<u32> {
        *self
    }
}

impl<'a, T> Pass<'a> for Vec<T> {
    type Out = Vec<T>;

    fn pass(&'a mut self) -> Vec<T> {
        std::mem::take(self)
    }
}

impl Pbx {
    /// One call of a PBX or `sim.*` method: its parameters decoded against the
    /// table (faults that name the parameter), then dispatched.
    async fn run(
        self: Arc<Self>,
        ctx: Context,
        call: MethodCall,
    ) -> Result<PbxReply, xmlrpc_server::Error> {
        let Some(caller) = ctx.get::<Caller>() else {
            return Err(xmlrpc_server::Error::internal(
                "no caller in the request's context",
            ));
        };
        let request = Request::from_call(&call)?;
        Ok(PbxReply(self.execute(caller, request).await?))
    }

    /// Runs a decoded request of the PBX or the simulator: the dispatch is
    /// generated from the table (`pbx_xmlrpc::table`), each entry's `serve`
    /// saying what it calls.
    async fn execute(&self, caller: &Caller, request: Request) -> Result<Reply, Fault> {
        let method = request.method();
        // The simulation gate, once for the whole group: whatever an entry's
        // `serve` says, no `sim.*` request runs while simulation is absent or
        // switched off.
        if method.spec().group == Group::Simulation {
            self.simulator(method)?;
        }
        let pbx = self;
        pbx_xmlrpc::pbx_methods!(dispatch, pbx, caller, request)
    }

    /// The simulator, for a `sim.*` request: the only path to it.
    fn simulator(&self, method: Method) -> Result<&Arc<dyn Simulator>, Fault> {
        match &self.simulation {
            Simulation::On(sim) => Ok(sim),
            Simulation::SwitchedOff => {
                let (code, message) = pbx_xmlrpc::table::SIM_OFF;
                Err(code.fault(message))
            }
            Simulation::Absent => Err(no_such_method(method.name())),
        }
    }

    // ---- the methods that are more than one backend call (`serve: handler`) ----

    /// `dict_set_serialized`: the object's canonical `<value>` text, stored.
    async fn dict_set_serialized(
        &self,
        caller: &Caller,
        key: String,
        value: Value,
    ) -> Result<Reply, Fault> {
        let text = serialize(&value)?;
        self.backend
            .dict_set(caller, &key, &text)
            .await
            .map(Reply::from)
            .map_err(|e| fault_from_backend(&e))
    }

    /// `dict_get_serialized`: the stored text, read back as an array or struct.
    async fn dict_get_serialized(&self, caller: &Caller, key: String) -> Result<Reply, Fault> {
        let text = self
            .backend
            .dict_get(caller, &key)
            .await
            .map_err(|e| fault_from_backend(&e))?;
        self.deserialize(&text).map(Reply::Object)
    }

    /// `get_all`: keys and values beyond the answer's bound cannot fit in it,
    /// so the backend refuses them before copying them (`LimitReached`, the
    /// one refusal `get_all` has), and the client gets the same fault as for
    /// any answer too large.
    async fn get_all(&self, caller: &Caller) -> Result<Reply, Fault> {
        let max = self.max_response_bytes;
        match self.backend.get_all(caller, max).await {
            Ok(entries) => Ok(Reply::Entries(entries)),
            Err(pbx_backend::BackendError::LimitReached(_)) => Err(too_large(max)),
            Err(e) => Err(fault_from_backend(&e)),
        }
    }

    /// `get_events`: what is pending after `cursor`, else the first event
    /// within `timeout` seconds, else nothing. It only awaits (no worker, no
    /// lock held while it waits); a reset answers at once.
    async fn get_events(
        &self,
        caller: &Caller,
        cursor: Option<String>,
        timeout: Option<u32>,
    ) -> Result<Reply, Fault> {
        use pbx_backend::EventId;
        let after = cursor.map(EventId::new);
        let mut sub = self
            .backend
            .events(caller, after.as_ref())
            .await
            .map_err(|e| fault_from_backend(&e))?;
        let wait = timeout.unwrap_or(DEFAULT_EVENTS_TIMEOUT);
        let batch = self
            .long_polls
            .batch(
                &mut sub,
                MAX_EVENTS_PER_ANSWER,
                std::time::Duration::from_secs(u64::from(wait)),
            )
            .await;
        let (reset, events) = (batch.reset, batch.events);
        let value = events_answer(sub.cursor().as_str(), reset, &events);
        Ok(Reply::Object(value))
    }

    /// `sim.play`: the options the simulator takes, defaults filled in.
    async fn sim_play(
        &self,
        caller: &Caller,
        scenario: String,
        speed: Option<f64>,
        repeat: Option<bool>,
    ) -> Result<Reply, Fault> {
        let sim = self.simulator(Method::SimPlay)?;
        let mut options = PlayOptions::default();
        options.speed = speed.unwrap_or(options.speed);
        options.repeat = repeat.unwrap_or(options.repeat);
        sim.play(caller, &scenario, options)
            .await
            .map(Reply::from)
            .map_err(|e| fault_from_backend(&e))
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

/// The internal fault for a method of the table this handler does not run.
fn not_dispatched(method: Method) -> Fault {
    tracing::error!(%method, "a method of the table is not dispatched");
    FaultCode::Internal.fault(INTERNAL_MESSAGE)
}

/// Fault -4 for an answer beyond `max_response_bytes`.
fn too_large(max: usize) -> Fault {
    FaultCode::LimitReached.fault(format!(
        "the answer would exceed {max} bytes (max_response_bytes): ask for less at a time"
    ))
}

/// The canonical `<value>` text `dict_set_serialized` stores.
fn serialize(value: &Value) -> Result<String, Fault> {
    encode_value(value).map_err(|e| {
        FaultCode::InvalidParams.fault(format!(
            "dict_set_serialized: parameter 2 (obj) cannot be stored: {e}"
        ))
    })
}
