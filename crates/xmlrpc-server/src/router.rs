//! [`Router`]: method names to typed handlers, the `system.*` methods, and the
//! framework-free core ([`Router::handle`]): request bytes in, response bytes out.

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
    Decoder, EncodeError, EncodeOptions, Encoder, Fault, Limits, MethodCall, Struct, Value,
    encode_fault, from_params, to_value,
};

use crate::Context;
use crate::error::{Error, codes, into_fault};

/// The default for [`Router::with_max_multicall`]: 1000 calls.
pub const DEFAULT_MAX_MULTICALL: usize = 1000;

/// The default for [`Router::with_max_response_bytes`]: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 << 20;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A handler with its parameter and result types erased: what the table holds.
type Erased<S> =
    Arc<dyn Fn(S, Context, Vec<Value>) -> BoxFuture<Result<Value, Error>> + Send + Sync>;

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
}

impl<S> Clone for Entry<S> {
    fn clone(&self) -> Self {
        Self {
            kind: self.kind.clone(),
            help: self.help.clone(),
            signatures: self.signatures.clone(),
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
        let erased: Erased<S> = Arc::new(move |state, ctx, params| {
            let params = match from_params::<P>(params) {
                Ok(params) => params,
                Err(e) => return ready(Err(Error::invalid_params(e.to_string()))),
            };
            let answer = handler(state, ctx, params);
            Box::pin(async move {
                let result = answer.await?;
                to_value(&result).map_err(|e| {
                    Error::internal(format!("the result does not convert to XML-RPC: {e}"))
                })
            })
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
        };
        self.methods.insert(name, entry);
        self
    }

    fn described(&mut self, name: &str) -> &mut Entry<S> {
        match self.methods.get_mut(name) {
            Some(entry) if matches!(entry.kind, Kind::Handler(_)) => entry,
            Some(_) => panic!("xmlrpc-server: `{name}` is built in and already described"),
            None => panic!("xmlrpc-server: `{name}` is described but not registered"),
        }
    }

    /// Sets the text `system.methodHelp` answers for `name` (registered before).
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
    /// `system.listMethods` answers.
    pub fn method_names(&self) -> impl Iterator<Item = &str> {
        self.methods.keys().map(String::as_str)
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
        let call = match self.decoder.method_call(body) {
            Ok(call) => call,
            Err(e) => {
                let code = if e.is_not_well_formed() {
                    codes::PARSE_ERROR
                } else {
                    codes::INVALID_REQUEST
                };
                tracing::debug!(fault_code = code, "xml-rpc request not decoded");
                return encode_fault(&Fault::new(code, e.to_string()));
            }
        };
        if call.method_name == MULTICALL {
            return self.multicall_document(ctx, call.params).await;
        }
        let method = call.method_name.clone();
        let result = self.call_one(ctx, call).await;
        self.document(&method, result)
    }

    /// Runs one decoded call: its result, or its fault. A `system.multicall`
    /// answers the array of its calls' results (within its bound on calls, but
    /// not on bytes, which only [`Router::handle`] encodes).
    pub async fn call(&self, ctx: Context, call: MethodCall) -> Result<Value, Fault> {
        if call.method_name != MULTICALL {
            return self.call_one(ctx, call).await;
        }
        let mut results = Vec::new();
        for (i, entry) in self.multicall_entries(call.params)?.into_iter().enumerate() {
            let result = match entry {
                Ok(sub) => self.call_one(ctx.clone(), sub).await,
                Err(fault) => Err(fault),
            };
            log_sub_call(i, &result);
            results.push(match result {
                Ok(value) => Value::Array(vec![value]),
                Err(fault) => fault.to_value(),
            });
        }
        Ok(Value::Array(results))
    }

    /// Runs a call that is not a `system.multicall`.
    async fn call_one(&self, ctx: Context, call: MethodCall) -> Result<Value, Fault> {
        let MethodCall {
            method_name,
            params,
        } = call;
        let result = match self.methods.get(&method_name).map(|e| &e.kind) {
            None => Err(Fault::new(
                codes::METHOD_NOT_FOUND,
                format!("no such method: {method_name}"),
            )),
            Some(Kind::Builtin(builtin)) => self.builtin(*builtin, params),
            Some(Kind::Handler(handler)) => {
                // A panicking handler is a bug like an internal error: it costs
                // its own call, not the connection or a multicall's other results.
                let answer = match catch_unwind(AssertUnwindSafe(|| {
                    handler(self.state.clone(), ctx, params)
                })) {
                    Ok(answer) => CatchPanic(answer).await,
                    Err(payload) => Err(payload),
                };
                answer
                    .unwrap_or_else(|payload| Err(panicked(payload.as_ref())))
                    .map_err(|e| into_fault(&method_name, e))
            }
        };
        // `?`: the name is the client's, and Debug escapes its control characters.
        tracing::debug!(
            method = ?method_name,
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
            .ok_or_else(|| Fault::new(codes::METHOD_NOT_FOUND, format!("no such method: {name}")))
    }

    /// The calls of a `system.multicall`, each one or the fault it answers
    /// without running; the fault of the whole call if it is not one.
    fn multicall_entries(
        &self,
        mut params: Vec<Value>,
    ) -> Result<Vec<Result<MethodCall, Fault>>, Fault> {
        let entries = match (params.pop(), params.is_empty()) {
            (Some(Value::Array(entries)), true) => entries,
            _ => {
                return Err(Fault::new(
                    codes::INVALID_PARAMS,
                    "system.multicall takes one parameter: an array of {methodName, params} structs",
                ));
            }
        };
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
        Ok(entries
            .into_iter()
            .enumerate()
            .map(|(i, entry)| multicall_entry(entry).map_err(|f| in_call(i, f)))
            .collect())
    }

    /// The answer to a `system.multicall`, its results written one by one into
    /// the document so that together they stay within `max_response_bytes`.
    async fn multicall_document(&self, ctx: Context, params: Vec<Value>) -> Vec<u8> {
        let entries = match self.multicall_entries(params) {
            Ok(entries) => entries,
            Err(fault) => return encode_fault(&fault),
        };
        let max = self.max_response_bytes;
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(MULTICALL_HEAD.as_bytes());
        for (i, entry) in entries.into_iter().enumerate() {
            let method = entry
                .as_ref()
                .map(|c| c.method_name.clone())
                .unwrap_or_default();
            let result = match entry {
                Ok(sub) => self.call_one(ctx.clone(), sub).await,
                Err(fault) => Err(fault),
            };
            log_sub_call(i, &result);
            let mark = out.len();
            if let Ok(value) = &result {
                match self.write_result(&mut out, value) {
                    Ok(()) if out.len() + MULTICALL_TAIL.len() <= max => continue,
                    Ok(()) => {
                        out.truncate(mark);
                        write_fault(&mut out, &in_call(i, too_large(max)));
                    }
                    Err(e) => {
                        out.truncate(mark);
                        write_fault(&mut out, &unencodable(&method, &e));
                    }
                }
            } else if let Err(fault) = &result {
                write_fault(&mut out, fault);
            }
            if out.len() + MULTICALL_TAIL.len() > max {
                // Not even the faults fit: the whole answer is the one fault.
                return encode_fault(&too_large(max));
            }
        }
        out.extend_from_slice(MULTICALL_TAIL.as_bytes());
        out
    }

    /// One successful call's place in a multicall answer: an array of its result.
    fn write_result(&self, out: &mut Vec<u8>, value: &Value) -> Result<(), EncodeError> {
        out.extend_from_slice(b"<value><array><data>");
        self.encoder.value(value, &mut *out)?;
        out.extend_from_slice(b"</data></array></value>");
        Ok(())
    }

    /// The document answering a call that is not a multicall.
    fn document(&self, method: &str, result: Result<Value, Fault>) -> Vec<u8> {
        let value = match result {
            Ok(value) => value,
            Err(fault) => {
                let document = encode_fault(&fault);
                // A handler's fault string is bounded like any answer.
                if document.len() > self.max_response_bytes {
                    return encode_fault(&too_large(self.max_response_bytes));
                }
                return document;
            }
        };
        match self
            .encoder
            .method_response_within(256, self.max_response_bytes, |w| w.value(&value))
        {
            Ok(document) => document,
            Err(EncodeError::TooLarge { .. }) => encode_fault(&too_large(self.max_response_bytes)),
            Err(e) => encode_fault(&unencodable(method, &e)),
        }
    }
}

/// The document around a multicall's results (what the codec writes for an
/// array answer; a test holds the two together).
const MULTICALL_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
    <methodResponse><params><param><value><array><data>";
const MULTICALL_TAIL: &str = "</data></array></value></param></params></methodResponse>";

/// A fault's place in a multicall answer: its struct. Characters XML cannot
/// carry are replaced, as `encode_fault` does, so that writing it cannot fail.
fn write_fault(out: &mut Vec<u8>, fault: &Fault) {
    let string: String = fault
        .string
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect();
    let fault = Fault::new(fault.code, string);
    // Infallible: an int and a string of characters XML carries.
    let _ = Encoder::default().value(&fault.to_value(), &mut *out);
}

fn multicall_entry(entry: Value) -> Result<MethodCall, Fault> {
    let invalid = |what: &str| {
        Fault::new(
            codes::INVALID_PARAMS,
            format!("{what}: each call is a struct {{methodName, params}}"),
        )
    };
    let Value::Struct(members) = entry else {
        return Err(invalid("not a struct"));
    };
    let (mut name, mut params) = (None, Vec::new());
    for (member, value) in members {
        match (member.as_str(), value) {
            ("methodName", Value::String(s)) => name = Some(s),
            ("methodName", _) => return Err(invalid("methodName is not a string")),
            ("params", Value::Array(items)) => params = items,
            ("params", _) => return Err(invalid("params is not an array")),
            _ => {}
        }
    }
    let name = name.ok_or_else(|| invalid("no methodName"))?;
    if name == MULTICALL {
        return Err(nested_multicall());
    }
    Ok(MethodCall::new(name, params))
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

fn too_large(max: usize) -> Fault {
    Fault::new(
        codes::RESPONSE_TOO_LARGE,
        format!("the answer would exceed the server's limit of {max} bytes"),
    )
}

/// A result the handler returned but XML-RPC cannot carry (a NaN, a nil
/// without extensions): the server's bug, so an internal error.
fn unencodable(method: &str, error: &EncodeError) -> Fault {
    into_fault(
        method,
        Error::internal(format!("the result cannot be encoded: {error}")),
    )
}

fn log_sub_call(index: usize, result: &Result<Value, Fault>) {
    if let Err(fault) = result {
        tracing::debug!(
            call = index + 1,
            fault_code = fault.code,
            "multicall sub-call failed"
        );
    }
}

fn ready(result: Result<Value, Error>) -> BoxFuture<Result<Value, Error>> {
    Box::pin(std::future::ready(result))
}

/// A handler's future, its panic caught as the call's outcome.
struct CatchPanic(BoxFuture<Result<Value, Error>>);

impl Future for CatchPanic {
    type Output = Result<Result<Value, Error>, Box<dyn Any + Send>>;

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
