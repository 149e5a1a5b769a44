//! [`Router`]: method names to typed handlers, the `system.*` methods, and the
//! framework-free core ([`Router::handle`]): request bytes in, response bytes out
//! ([`Router::answer`] then [`Answer::encode`] for a server that writes large
//! answers elsewhere).

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use serde::Serialize;
use serde::de::DeserializeOwned;
use xmlrpc_codec::{
    Decoder, EncodeOptions, Encoder, Fault, Limits, MethodCall, Struct, Value, from_params,
    to_value,
};

use crate::Context;
use crate::answer::{Answer, Faults, Produced, Reply};
use crate::error::{Error, codes};

/// The default for [`Router::with_max_multicall`]: 1000 calls.
pub const DEFAULT_MAX_MULTICALL: usize = 1000;

/// The default for [`Router::with_max_response_bytes`]: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 << 20;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A handler with its parameter and result types erased: what the table holds.
type Erased<S> =
    Arc<dyn Fn(S, Context, MethodCall) -> BoxFuture<Result<Box<dyn Reply>, Error>> + Send + Sync>;

/// The methods every router answers itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    ListMethods,
    MethodHelp,
    MethodSignature,
    GetCapabilities,
    Multicall,
}

const MULTICALL: &str = "system.multicall";

impl Builtin {
    const ALL: [(Builtin, &'static str, &'static str, &'static [&'static str]); 5] = [
        (
            Builtin::ListMethods,
            "system.listMethods",
            "The names of the methods this server offers.",
            &["array"],
        ),
        (
            Builtin::MethodHelp,
            "system.methodHelp",
            "The documentation of a method, given its name (an empty string if it has none).",
            &["string", "string"],
        ),
        (
            Builtin::MethodSignature,
            "system.methodSignature",
            "The signatures of a method, given its name: an array of arrays of type names, \
             the result's type first; the string \"undef\" if none is declared.",
            &["array", "string"],
        ),
        (
            Builtin::GetCapabilities,
            "system.getCapabilities",
            "The specifications this server follows: a struct of name to {specUrl, specVersion}.",
            &["struct"],
        ),
        (
            Builtin::Multicall,
            MULTICALL,
            "Runs several calls in one request, in order: takes an array of \
             {methodName, params} structs, answers an array holding, for each call, \
             an array of its one result or its fault struct.",
            &["array", "array"],
        ),
    ];
}

enum Kind<S> {
    Builtin(Builtin),
    Handler(Erased<S>),
}

impl<S> Clone for Kind<S> {
    fn clone(&self) -> Self {
        match self {
            Kind::Builtin(b) => Kind::Builtin(*b),
            Kind::Handler(h) => Kind::Handler(Arc::clone(h)),
        }
    }
}

struct Entry<S> {
    kind: Kind<S>,
    help: String,
    signatures: Vec<Vec<String>>,
    /// Not run in a multicall whose answer is already full ([`Router::large_result`]).
    large: bool,
}

impl<S> Clone for Entry<S> {
    fn clone(&self) -> Self {
        Self {
            kind: self.kind.clone(),
            help: self.help.clone(),
            signatures: self.signatures.clone(),
            large: self.large,
        }
    }
}

/// An XML-RPC server's method table: method names mapped to typed async handlers,
/// plus the built-in `system.listMethods`, `system.methodHelp`,
/// `system.methodSignature`, `system.getCapabilities` and `system.multicall`.
///
/// Handlers take their parameters as any `DeserializeOwned` type (a tuple for
/// positional parameters, decoded by [`from_params`]), return any `Serialize`
/// type, and fail with an [`Error`]. A handler may also take the router's state
/// `S` (cloned for each call: put what is shared in an `Arc`) and the request's
/// [`Context`].
///
/// Serve it over HTTP with [`Router::into_service`], or call [`Router::handle`]
/// with the request body.
///
/// # Faults
///
/// A call that cannot be decoded is fault `-32700` (not well-formed) or `-32600`;
/// an unknown method `-32601`; parameters that do not decode into the handler's
/// type `-32602`, with a message naming the parameter. Handler errors become
/// faults as [`Error`] says; [`codes`] lists every code the router uses.
///
/// # Limits
///
/// The request is decoded within [`Limits`] (the codec's defaults, 1 MiB
/// documents; the HTTP service refuses larger bodies with 413). A
/// `system.multicall` holds at most [`DEFAULT_MAX_MULTICALL`] calls and cannot
/// nest; an answer, a multicall's results together, holds at most
/// [`DEFAULT_MAX_RESPONSE_BYTES`], beyond which it is fault
/// [`codes::RESPONSE_TOO_LARGE`].
///
/// # Panics
///
/// The builder methods panic on a mistake in the server's own code, at start-up:
/// registering a name twice (or a `system.*` name the router answers itself),
/// or describing a method that is not registered.
pub struct Router<S = ()> {
    state: S,
    methods: BTreeMap<String, Entry<S>>,
    capabilities: BTreeMap<String, (String, i64)>,
    decoder: Decoder,
    encoder: Encoder,
    max_multicall: usize,
    max_response_bytes: usize,
    faults: Faults,
    /// The names `system.listMethods` gives first, in this order ([`Router::list_order`]).
    order: Vec<String>,
}

impl<S: Clone> Clone for Router<S> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            methods: self.methods.clone(),
            capabilities: self.capabilities.clone(),
            decoder: self.decoder.clone(),
            encoder: self.encoder,
            max_multicall: self.max_multicall,
            max_response_bytes: self.max_response_bytes,
            faults: self.faults,
            order: self.order.clone(),
        }
    }
}

impl<S> fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("methods", &self.methods.keys().collect::<Vec<_>>())
            .field("decoder", &self.decoder)
            .field("encoder", &self.encoder)
            .field("max_multicall", &self.max_multicall)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl Router<()> {
    /// A router without state: only the built-in `system.*` methods so far.
    pub fn new() -> Self {
        Router::with_state(())
    }
}

impl Default for Router<()> {
    fn default() -> Self {
        Router::new()
    }
}

impl<S: Clone + Send + Sync + 'static> Router<S> {
    /// A router whose handlers may take `state` (see [`Router::method_with_state`]).
    pub fn with_state(state: S) -> Self {
        let methods = Builtin::ALL
            .iter()
            .map(|&(builtin, name, help, signature)| {
                let entry = Entry {
                    kind: Kind::Builtin(builtin),
                    help: help.to_owned(),
                    signatures: vec![signature.iter().map(|&t| t.to_owned()).collect()],
                    large: false,
                };
                (name.to_owned(), entry)
            })
            .collect();
        let capabilities = [
            (
                "faults_interop",
                "http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php",
                20010516,
            ),
            (
                "introspection",
                "http://xmlrpc-c.sourceforge.net/introspection.html",
                1,
            ),
            (
                "multicall",
                "http://www.xmlrpc.com/discuss/msgReader$1208",
                1,
            ),
        ]
        .into_iter()
        .map(|(name, url, version)| (name.to_owned(), (url.to_owned(), version)))
        .collect();
        Self {
            state,
            methods,
            capabilities,
            decoder: Decoder::new(Limits::default()),
            encoder: Encoder::default(),
            max_multicall: DEFAULT_MAX_MULTICALL,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            faults: Faults::default(),
            order: Vec::new(),
        }
    }

    /// Registers `handler` for `name`: it takes the parameters (decoded into `P`)
    /// and answers `R`, or fails with an [`Error`].
    ///
    /// ```
    /// use xmlrpc_server::{Error, Router};
    ///
    /// let router = Router::new()
    ///     .method("add", |(a, b): (i32, i32)| async move { Ok(a + b) })
    ///     .method("greet", |(name,): (String,)| async move {
    ///         if name.is_empty() {
    ///             return Err(Error::invalid_params("name must not be empty"));
    ///         }
    ///         Ok(format!("Hello, {name}!"))
    ///     });
    /// # let _ = router;
    /// ```
    pub fn method<P, R, F, Fut>(self, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        P: DeserializeOwned,
        R: Serialize,
    {
        self.method_with_context(name, move |_: S, _: Context, params: P| handler(params))
    }

    /// [`Router::method`] for a handler that also takes the router's state (a
    /// clone of it).
    pub fn method_with_state<P, R, F, Fut>(self, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(S, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        P: DeserializeOwned,
        R: Serialize,
    {
        self.method_with_context(name, move |state: S, _: Context, params: P| {
            handler(state, params)
        })
    }

    /// [`Router::method`] for a handler that also takes the router's state and
    /// the request's [`Context`] (the authenticated user, say).
    pub fn method_with_context<P, R, F, Fut>(self, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(S, Context, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        P: DeserializeOwned,
        R: Serialize,
    {
        let erased: Erased<S> = Arc::new(move |state, ctx, call: MethodCall| {
            let params = match from_params::<P>(call.params) {
                Ok(params) => params,
                Err(e) => return ready(Err(Error::invalid_params(e.to_string()))),
            };
            let answer = handler(state, ctx, params);
            Box::pin(async move {
                let result = answer.await?;
                let value = to_value(&result).map_err(|e| {
                    Error::internal(format!("the result does not convert to XML-RPC: {e}"))
                })?;
                Ok(Box::new(value) as Box<dyn Reply>)
            })
        });
        self.insert(name.into(), Kind::Handler(erased))
    }

    /// Registers `handler` for `name`, taking the call as it came (its name and
    /// its parameters undecoded) and answering any [`Reply`]: for an application
    /// that decodes parameters its own way, or writes large results straight into
    /// the answer with their size known before writing.
    ///
    /// ```
    /// use xmlrpc_codec::Value;
    /// use xmlrpc_server::{Error, Router};
    ///
    /// let router = Router::new().method_raw("count", |(), _ctx, call| async move {
    ///     Ok::<_, Error>(Value::Int(call.params.len() as i64))
    /// });
    /// # let _ = router;
    /// ```
    pub fn method_raw<R, F, Fut>(self, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(S, Context, MethodCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: Reply,
    {
        let erased: Erased<S> = Arc::new(move |state, ctx, call| {
            let answer = handler(state, ctx, call);
            Box::pin(async move { answer.await.map(|r| Box::new(r) as Box<dyn Reply>) })
        });
        self.insert(name.into(), Kind::Handler(erased))
    }

    fn insert(mut self, name: String, kind: Kind<S>) -> Self {
        if let Some(existing) = self.methods.get(&name) {
            match existing.kind {
                Kind::Builtin(_) => panic!("xmlrpc-server: `{name}` is built in"),
                Kind::Handler(_) => panic!("xmlrpc-server: `{name}` is registered twice"),
            }
        }
        let entry = Entry {
            kind,
            help: String::new(),
            signatures: Vec::new(),
            large: false,
        };
        self.methods.insert(name, entry);
        self
    }

    fn described(&mut self, name: &str) -> &mut Entry<S> {
        match self.methods.get_mut(name) {
            Some(entry) => entry,
            None => panic!("xmlrpc-server: `{name}` is described but not registered"),
        }
    }

    /// Sets the text `system.methodHelp` answers for `name` (registered before,
    /// or built in: an application may word the `system.*` methods' help its way).
    pub fn help(mut self, name: &str, text: impl Into<String>) -> Self {
        self.described(name).help = text.into();
        self
    }

    /// Adds a signature `system.methodSignature` answers for `name` (registered
    /// before): XML-RPC type names, the result's first (`["int", "int", "int"]`
    /// for `add(int, int) -> int`). Call it once per signature a method accepts.
    pub fn signature<T: Into<String>>(
        mut self,
        name: &str,
        types: impl IntoIterator<Item = T>,
    ) -> Self {
        let signature = types.into_iter().map(Into::into).collect();
        self.described(name).signatures.push(signature);
        self
    }

    /// Replaces every signature `system.methodSignature` answers for `name`
    /// (registered before, or built in) with `signatures`.
    pub fn signatures<T: Into<String>>(
        mut self,
        name: &str,
        signatures: impl IntoIterator<Item = impl IntoIterator<Item = T>>,
    ) -> Self {
        self.described(name).signatures = signatures
            .into_iter()
            .map(|sig| sig.into_iter().map(Into::into).collect())
            .collect();
        self
    }

    /// Marks `name` (registered before) as a method whose result may be large (a
    /// list, a stored value): in a `system.multicall` whose answer is already
    /// full, it is not run, and answers the too-large fault in its place.
    pub fn large_result(mut self, name: &str) -> Self {
        self.described(name).large = true;
        self
    }

    /// The order `system.listMethods` gives: these names first, in this order
    /// (names not registered are skipped), then the others by name.
    pub fn list_order<T: Into<String>>(mut self, names: impl IntoIterator<Item = T>) -> Self {
        self.order = names.into_iter().map(Into::into).collect();
        self
    }

    /// Words the faults the router makes itself (decoding, unknown methods,
    /// internal errors, answers too large) with `faults` instead of the
    /// interoperability convention's defaults.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Adds a capability `system.getCapabilities` lists (or replaces one of the
    /// same name). The router lists `faults_interop`, `introspection` and
    /// `multicall` itself.
    pub fn capability(
        mut self,
        name: impl Into<String>,
        spec_url: impl Into<String>,
        spec_version: i64,
    ) -> Self {
        self.capabilities
            .insert(name.into(), (spec_url.into(), spec_version));
        self
    }

    /// Decodes requests within `limits` instead of [`Limits::default`]. The HTTP
    /// service also refuses bodies above `limits.max_document_bytes` (413),
    /// as sent and once inflated.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.decoder = Decoder::new(limits);
        self
    }

    /// Encodes answers with `options`, e.g. to let handlers answer `()` or
    /// `None` as `<nil/>` (off by default: several clients reject it).
    pub fn with_encode_options(mut self, options: EncodeOptions) -> Self {
        self.encoder = Encoder::new(options);
        self
    }

    /// The most calls one `system.multicall` may hold (default
    /// [`DEFAULT_MAX_MULTICALL`]); one with more is fault `-32602`, none of its
    /// calls run.
    pub fn with_max_multicall(mut self, max: usize) -> Self {
        self.max_multicall = max;
        self
    }

    /// The largest answer, in bytes (default [`DEFAULT_MAX_RESPONSE_BYTES`]): a
    /// larger one is fault [`codes::RESPONSE_TOO_LARGE`]. In a `system.multicall`
    /// the results count together: a call whose result does not fit in what the
    /// earlier ones left gets that fault in its place.
    pub fn with_max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = max;
        self
    }

    /// The limits requests are decoded within.
    pub fn limits(&self) -> &Limits {
        self.decoder.limits()
    }

    /// The names of all methods, built-in ones included, in order: what
    /// `system.listMethods` answers (by name, unless [`Router::list_order`] says
    /// otherwise).
    pub fn method_names(&self) -> impl Iterator<Item = &str> {
        let first = self
            .order
            .iter()
            .filter(|name| self.methods.contains_key(name.as_str()))
            .map(String::as_str);
        let rest = self
            .methods
            .keys()
            .filter(|name| !self.order.contains(name))
            .map(String::as_str);
        first.chain(rest)
    }

    /// Answers one request: the body of a `methodCall` in, a complete
    /// `methodResponse` document out, a fault or not. Never fails and never
    /// panics on what a client sends.
    ///
    /// ```
    /// use xmlrpc_server::{Context, Router};
    /// use xmlrpc_codec::{decode_method_response, Value};
    ///
    /// # tokio_test(async {
    /// let router = Router::new().method("add", |(a, b): (i32, i32)| async move { Ok(a + b) });
    /// let request = b"<methodCall><methodName>add</methodName><params>\
    ///     <param><value><int>2</int></value></param>\
    ///     <param><value><int>3</int></value></param></params></methodCall>";
    /// let answer = router.handle(Context::new(), request).await;
    /// assert_eq!(decode_method_response(&answer)?.into_result(), Ok(Value::Int(5)));
    /// # Ok::<(), xmlrpc_codec::DecodeError>(())
    /// # });
    /// # fn tokio_test<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub async fn handle(&self, ctx: Context, body: &[u8]) -> Vec<u8> {
        self.answer(ctx, body).await.encode().body
    }

    /// Runs the call in `body`, up to the answer that is still to be written:
    /// the handlers' work is done, the writing (CPU only, and for a large answer
    /// worth a blocking thread: [`Answer::is_large`]) is [`Answer::encode`].
    pub async fn answer(&self, ctx: Context, body: &[u8]) -> Answer {
        let max = self.max_response_bytes;
        let (method, result) = match self.decoder.method_call(body) {
            Err(e) => {
                let fault = if e.is_not_well_formed() {
                    (self.faults.not_well_formed)(&e)
                } else {
                    (self.faults.invalid_request)(&e)
                };
                tracing::debug!(fault_code = fault.code, "xml-rpc request not decoded");
                (None, Err(fault))
            }
            Ok(call) => {
                // Shortened, and control characters replaced, so that a hostile
                // name cannot forge log lines.
                let shown: String = call
                    .method_name
                    .chars()
                    .take(64)
                    .map(|c| if c.is_control() { '?' } else { c })
                    .collect();
                let result = if call.method_name == MULTICALL {
                    self.multicall(ctx, call.params)
                        .await
                        .map(Produced::Multicall)
                } else {
                    self.call_one(ctx, call).await.and_then(|reply| {
                        // The markup around a single result is what the floor
                        // leaves out: none of it is client-controlled.
                        if reply.min_len().saturating_add(Answer::DOCUMENT) > max {
                            Err((self.faults.too_large)(max))
                        } else {
                            Ok(Produced::Single(reply))
                        }
                    })
                };
                (Some(shown), result)
            }
        };
        // A handler may answer the too-large fault itself (it knew before
        // copying its data): counted as such.
        let too_large = result
            .as_ref()
            .is_err_and(|fault| *fault == (self.faults.too_large)(max));
        Answer {
            method,
            result,
            max_bytes: max,
            encoder: self.encoder,
            faults: self.faults,
            too_large,
        }
    }

    /// Runs one decoded call: its result, or its fault. A `system.multicall`
    /// answers the array of its calls' results (within its bounds on calls and
    /// on bytes, as [`Router::handle`] would).
    pub async fn call(&self, ctx: Context, call: MethodCall) -> Result<Value, Fault> {
        if call.method_name != MULTICALL {
            return self.call_one(ctx, call).await.map(Reply::into_value);
        }
        let results = self.multicall(ctx, call.params).await?;
        Ok(Value::Array(
            results
                .into_iter()
                .map(|result| match result {
                    Ok(reply) => Value::Array(vec![reply.into_value()]),
                    Err(fault) => fault.to_value(),
                })
                .collect(),
        ))
    }

    /// Runs a call that is not a `system.multicall`.
    async fn call_one(&self, ctx: Context, call: MethodCall) -> Result<Box<dyn Reply>, Fault> {
        let result = match self.methods.get(&call.method_name).map(|e| &e.kind) {
            None => Err((self.faults.no_such_method)(&call.method_name)),
            Some(Kind::Builtin(builtin)) => self
                .builtin(*builtin, call.params)
                .map(|v| Box::new(v) as Box<dyn Reply>),
            Some(Kind::Handler(handler)) => {
                let method = call.method_name.clone();
                // A panicking handler is a bug like an internal error: it costs
                // its own call, not the connection or a multicall's other results.
                let answer =
                    match catch_unwind(AssertUnwindSafe(|| handler(self.state.clone(), ctx, call)))
                    {
                        Ok(answer) => CatchPanic(answer).await,
                        Err(payload) => Err(payload),
                    };
                let result = answer
                    .unwrap_or_else(|payload| Err(panicked(payload.as_ref())))
                    .map_err(|e| self.faults.of_error(&method, e));
                // `?`: the name is the client's, and Debug escapes its control characters.
                tracing::debug!(
                    method = ?method,
                    fault_code = result.as_ref().err().map(|f| f.code),
                    "xml-rpc call"
                );
                return result;
            }
        };
        tracing::debug!(
            method = ?call.method_name,
            fault_code = result.as_ref().err().map(|f| f.code),
            "xml-rpc call"
        );
        result
    }

    fn builtin(&self, builtin: Builtin, params: Vec<Value>) -> Result<Value, Fault> {
        let invalid =
            |e: xmlrpc_codec::SerdeError| Fault::new(codes::INVALID_PARAMS, e.to_string());
        match builtin {
            Builtin::ListMethods => {
                from_params::<()>(params).map_err(invalid)?;
                Ok(Value::Array(
                    self.method_names()
                        .map(|name| Value::String(name.to_owned()))
                        .collect(),
                ))
            }
            Builtin::MethodHelp => {
                let (name,) = from_params::<(String,)>(params).map_err(invalid)?;
                Ok(Value::String(self.entry(&name)?.help.clone()))
            }
            Builtin::MethodSignature => {
                let (name,) = from_params::<(String,)>(params).map_err(invalid)?;
                let entry = self.entry(&name)?;
                if entry.signatures.is_empty() {
                    // xmlrpc-c's answer for "no signature declared".
                    return Ok(Value::String("undef".to_owned()));
                }
                Ok(Value::Array(
                    entry
                        .signatures
                        .iter()
                        .map(|sig| Value::Array(sig.iter().cloned().map(Value::String).collect()))
                        .collect(),
                ))
            }
            Builtin::GetCapabilities => {
                from_params::<()>(params).map_err(invalid)?;
                Ok(Value::Struct(
                    self.capabilities
                        .iter()
                        .map(|(name, (url, version))| {
                            let spec = Struct::from_iter([
                                ("specUrl", Value::String(url.clone())),
                                ("specVersion", Value::Int(*version)),
                            ]);
                            (name.as_str(), Value::Struct(spec))
                        })
                        .collect(),
                ))
            }
            Builtin::Multicall => Err(nested_multicall()),
        }
    }

    fn entry(&self, name: &str) -> Result<&Entry<S>, Fault> {
        self.methods
            .get(name)
            .ok_or_else(|| (self.faults.no_such_method)(name))
    }

    /// The calls of a `system.multicall`, each one or the fault it answers
    /// without running; the fault of the whole call if it is not one.
    fn multicall_entries(
        &self,
        params: Vec<Value>,
    ) -> Result<Vec<Result<MethodCall, Fault>>, Fault> {
        let entries = xmlrpc_codec::multicall::calls(params)?;
        if entries.len() > self.max_multicall {
            return Err(Fault::new(
                codes::INVALID_PARAMS,
                format!(
                    "system.multicall: at most {} calls per request, got {}",
                    self.max_multicall,
                    entries.len()
                ),
            ));
        }
        Ok(entries)
    }

    /// The results of a `system.multicall`'s calls, in order, each fault in
    /// place. Their sizes add up against `max_response_bytes` as they come: a
    /// result that does not fit in what the earlier ones left is dropped at once
    /// for the too-large fault, so that the results held until the answer is
    /// written stay within the bound. Once one did not fit, later calls of
    /// methods marked [`Router::large_result`] are not run.
    async fn multicall(
        &self,
        ctx: Context,
        params: Vec<Value>,
    ) -> Result<Vec<Result<Box<dyn Reply>, Fault>>, Fault> {
        let entries = self.multicall_entries(params)?;
        let max = self.max_response_bytes;
        let mut results = Vec::with_capacity(entries.len());
        let mut used = Answer::DOCUMENT + Answer::MULTICALL_ITEM;
        let mut full = false;
        for (i, entry) in entries.into_iter().enumerate() {
            let result = match entry {
                Ok(sub) if full && self.methods.get(&sub.method_name).is_some_and(|e| e.large) => {
                    let fault = (self.faults.too_large)(max);
                    Err(in_call(
                        i,
                        Fault::new(
                            fault.code,
                            format!("not run: {} with the earlier results", fault.string),
                        ),
                    ))
                }
                Ok(sub) => self.call_one(ctx.clone(), sub).await,
                Err(fault) => Err(fault),
            };
            let result = match result {
                Ok(reply) => {
                    let size = reply.min_len().saturating_add(Answer::MULTICALL_ITEM);
                    if used.saturating_add(size) > max {
                        full = true;
                        Err(in_call(i, (self.faults.too_large)(max)))
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
}

fn nested_multicall() -> Fault {
    Fault::new(codes::INVALID_REQUEST, "system.multicall cannot be nested")
}

/// `fault`, its message saying which call of a multicall it answers.
fn in_call(index: usize, fault: Fault) -> Fault {
    Fault::new(
        fault.code,
        format!("system.multicall: call {}: {}", index + 1, fault.string),
    )
}

fn ready(result: Result<Box<dyn Reply>, Error>) -> BoxFuture<Result<Box<dyn Reply>, Error>> {
    Box::pin(std::future::ready(result))
}

/// A handler's future, its panic caught as the call's outcome.
struct CatchPanic(BoxFuture<Result<Box<dyn Reply>, Error>>);

impl Future for CatchPanic {
    type Output = Result<Result<Box<dyn Reply>, Error>, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let future = &mut self.get_mut().0;
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The internal error of a handler that panicked, with the panic's message.
fn panicked(payload: &(dyn Any + Send)) -> Error {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    Error::internal(format!("the handler panicked: {message}"))
}
