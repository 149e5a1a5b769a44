//! An XML-RPC server toolkit: a method router with typed async handlers, served as a
//! `tower::Service` (on hyper, in axum, or behind any tower middleware) or called
//! directly with the request bytes.
//!
//! - [`Router`]: `method(name, handler)`, where a handler takes its parameters as
//!   any `DeserializeOwned` type (a tuple for positional parameters), answers any
//!   `Serialize` type, and may take shared state and the request's [`Context`]
//!   (where an authentication layer puts the user);
//! - the built-in `system.listMethods`, `system.methodHelp`,
//!   `system.methodSignature`, `system.getCapabilities` and a bounded
//!   `system.multicall`;
//! - [`Error`]: a handler's failure, turned into a fault in one place (internal
//!   errors are logged and answered with a generic fault); [`codes`] lists the
//!   fault codes the router uses;
//! - limits on everything a client sends or makes the server write: the codec's
//!   [`Limits`](xmlrpc_codec::Limits) on requests (and the HTTP body),
//!   calls per multicall, bytes per answer;
//! - for an application with a method table of its own:
//!   [`Router::method_raw`] (the call as it came in, any [`Reply`] out, written
//!   straight into the answer with its size told first), [`Faults`] (its wording
//!   of the router's own faults), [`Router::list_order`], reworded built-ins,
//!   [`Router::large_result`], and [`Router::answer`] then [`Answer::encode`] to
//!   write a large answer ([`Answer::is_large`]) off the async workers;
//! - [`Router::into_service`]: HTTP (POST only, 405 otherwise; 413 beyond the
//!   body limit; gzip request bodies); [`Router::handle`]: the framework-free core,
//!   bytes in, bytes out.
//!
//! Values are encoded and decoded by [`xmlrpc_codec`]; this crate knows nothing of
//! any application, and nothing of the network below HTTP.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! use xmlrpc_codec::{MethodCall, Value, decode_method_response, encode_method_call, to_params};
//! use xmlrpc_server::{Context, Error, Router};
//!
//! #[derive(Clone)]
//! struct User(String);
//!
//! let calls = Arc::new(AtomicU64::new(0));
//! let router = Router::with_state(calls)
//!     .method("add", |(a, b): (i32, i32)| async move { Ok(a + b) })
//!     .help("add", "The sum of two integers.")
//!     .signature("add", ["int", "int", "int"])
//!     .method("div", |(a, b): (f64, f64)| async move {
//!         if b == 0.0 {
//!             return Err(Error::fault(1, "division by zero"));
//!         }
//!         Ok(a / b)
//!     })
//!     .method_with_state("count", |calls: Arc<AtomicU64>, (): ()| async move {
//!         Ok(calls.fetch_add(1, Ordering::Relaxed) as i32 + 1)
//!     })
//!     .method_with_context("whoami", |_, ctx: Context, (): ()| async move {
//!         let user = ctx.get::<User>().ok_or_else(|| Error::fault(401, "not logged in"))?;
//!         Ok(user.0.clone())
//!     });
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! // What an HTTP layer does: the body in, the response document out.
//! let call = |name: &str, params| encode_method_call(&MethodCall::new(name, params)).unwrap();
//! let answer = router.handle(Context::new(), &call("add", to_params(&(2, 3))?)).await;
//! assert_eq!(decode_method_response(&answer)?.into_result(), Ok(Value::Int(5)));
//!
//! let answer = router.handle(Context::new(), &call("div", to_params(&(1.0, 0.0))?)).await;
//! let fault = decode_method_response(&answer)?.into_result().unwrap_err();
//! assert_eq!((fault.code, fault.string.as_str()), (1, "division by zero"));
//!
//! let mut ctx = Context::new();
//! ctx.insert(User("alice".into()));
//! let answer = router.handle(ctx, &call("whoami", vec![])).await;
//! assert_eq!(decode_method_response(&answer)?.into_result(), Ok(Value::from("alice")));
//!
//! // Wrong parameters never reach the handler: fault -32602 says which.
//! let answer = router.handle(Context::new(), &call("add", to_params(&(2, "three"))?)).await;
//! let fault = decode_method_response(&answer)?.into_result().unwrap_err();
//! assert_eq!(fault.code, -32602);
//! assert_eq!(fault.string, r#"parameter 2: expected i32, found string "three""#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Serving
//!
//! [`Router::into_service`] is a `tower::Service<http::Request<B>>`. In axum, mount
//! it on a path; an authentication middleware in front of it inserts the user into
//! the request's extensions, which the handlers read from their [`Context`]:
//!
//! ```no_run
//! # async fn serve() -> std::io::Result<()> {
//! let rpc = xmlrpc_server::Router::new()
//!     .method("add", |(a, b): (i32, i32)| async move { Ok(a + b) });
//! let app = axum::Router::new().route_service("/RPC2", rpc.into_service());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! On hyper directly, wrap it in `hyper_util::service::TowerToHyperService`: the
//! crate's `examples/calculator.rs` does.
//!
//! # Faults
//!
//! | code | when |
//! |---|---|
//! | -32700 | the request is not well-formed XML |
//! | -32600 | not a valid `methodCall`; a `system.multicall` inside another |
//! | -32601 | no such method |
//! | -32602 | parameters that do not decode into the handler's type ([`Error::invalid_params`] for your own checks); a multicall beyond its bound |
//! | -32603 | an internal error ([`Error::internal`]), a handler that panicked, a result XML-RPC cannot carry: the string is always `internal server error` and the detail is logged |
//! | -32400 | the answer would exceed [`Router::with_max_response_bytes`] |
//! | yours | [`Error::fault`]`(code, message)`, as it is |

mod answer;
mod context;
mod error;
mod router;
mod service;

pub use answer::{Answer, Faults, LARGE_ANSWER_BYTES, Outcome, Reply};
pub use context::Context;
pub use error::{Error, codes};
pub use router::{DEFAULT_MAX_MULTICALL, DEFAULT_MAX_RESPONSE_BYTES, Router};
pub use service::{ResponseBody, RpcService};

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
