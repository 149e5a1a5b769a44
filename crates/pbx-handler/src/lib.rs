//! The server side of the PBXpress API on XML-RPC: a framework-free request
//! handler over any [`PbxBackend`](pbx_backend::PbxBackend).
//!
//! - [`Handler`]: the PBX's methods registered into the generic
//!   [`xmlrpc_server::Router`] (which decodes, answers introspection and a
//!   bounded `system.multicall`, and writes the answer): request bytes and an
//!   authenticated caller in, a complete `methodResponse` out;
//!   `sim.*` exists only on a handler given a simulator. [`Handler::answer`]
//!   then [`Answer::encode`] for a server that writes large answers off its
//!   async workers, within [`Handler::with_max_response_bytes`];
//!   [`Handler::call`] runs one decoded call to its value or fault.
//! - [`fault_from_backend`]: the one mapping of a `BackendError` to a fault.
//!
//! The wire vocabulary (the method table, typed requests and results, records,
//! fault codes) is `pbx-xmlrpc`'s, which a client links without this crate.
//! What this crate must not know: HTTP (authentication, status codes, gzip: the
//! server's job, `pbx-server`), any particular backend (it sees
//! `dyn PbxBackend` and `dyn Simulator` only), and how a backend stores anything.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use pbx_backend::PbxBackend;
//! use pbx_backend_memory::MemoryPbx;
//! use pbx_handler::Handler;
//! use xmlrpc_codec::{Value, decode_method_response};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let pbx = Arc::new(MemoryPbx::demo());
//! let caller = pbx.authenticate("203", "203").await.unwrap().expect("a demo user");
//! let handler = Handler::new(pbx);
//! let body = br#"<?xml version="1.0"?><methodCall><methodName>dict_delete</methodName>
//!     <params><param><value><string>k</string></value></param></params></methodCall>"#;
//! let outcome = handler.handle(&caller, body).await;
//! assert_eq!(outcome.method.as_deref(), Some("dict_delete"));
//! let answer = decode_method_response(&outcome.body).unwrap();
//! assert_eq!(answer.into_result(), Ok(Value::Bool(true)));
//! # });
//! ```

mod fault;
mod handler;

pub use fault::fault_from_backend;
pub use handler::Handler;
pub use xmlrpc_server::{
    Answer, DEFAULT_MAX_MULTICALL, DEFAULT_MAX_RESPONSE_BYTES, LARGE_ANSWER_BYTES, Outcome,
};

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
