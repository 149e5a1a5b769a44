//! Integration tests of the HTTP layer: in-process through `oneshot` on the router
//! with the demo PBX, and on a real socket for keep-alive, timeouts and shutdown.
//!
//! The exhaustive per-method and per-fault tests live with the binding
//! (`pbx-xmlrpc`); these check what HTTP adds.

mod answers;
mod console;
mod events;
mod hostile;
mod http;
mod jsonrpc;
mod logins;
mod logs;
mod ops;
mod socket;
mod support;
mod third_party_backend;
mod timeouts;
