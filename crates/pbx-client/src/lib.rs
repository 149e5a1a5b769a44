//! A typed async client for the PBXpress XML-RPC API.
//!
//! [`Client`] has one async method per API method (SPEC.md's methods, the `sim.*`
//! controls of the simulated PBX and the `system.*` introspection), taking and
//! returning the model's types (`pbx_model::Call`, `Entity`, `Favorite`,
//! `ParkingInfo`, `CallId`); [`Client::call`] calls anything else by name, and
//! [`Client::batch`] / [`Client::multicall`] send many calls in one round trip.
//!
//! Underneath is the generic XML-RPC client of the `xmlrpc-client` crate
//! ([`Client::rpc`]): one HTTP/1.1 connection pool (connections kept alive and
//! reused, gzip responses, rustls for `https`), Basic auth on every call, a
//! timeout on every call and a bound on the size of every answer.
//!
//! Live events: [`Client::events`] is a `Stream` of [`EventUpdate`]s over the
//! server's `GET /events` (Server-Sent Events): a [`Snapshot`] of what the
//! methods would show, then each change as a `pbx_model::Event`. It reconnects
//! by itself, resumes with `Last-Event-ID` and hands over a fresh snapshot
//! when the server could not replay; [`ClientError::EventsNotOffered`] says
//! the server has no events (poll instead). The [`events`] module says how.
//! [`Client::get_events`] is the long poll for servers without SSE: it waits
//! up to its `timeout` seconds (default 25, at most 60), so keep that below
//! the client's own timeout (`ClientBuilder::timeout`, 30 s by default) or the
//! wait ends as a timeout error.
//!
//! Errors ([`ClientError`]) tell apart what a program handles differently: an
//! unusable URL, no connection, a timeout, refused credentials (HTTP 401), another
//! HTTP status, an XML-RPC fault (with its code, and whether SPEC.md calls it an
//! internal or a user-level error), and an answer that does not decode.
//!
//! What this crate must not know: anything about a method's name, parameters or
//! result beyond what the binding (`pbx-xmlrpc`) says — every request is a
//! `pbx_xmlrpc::Request` and every result is read by the binding's `parse_*`
//! readers ([`requests`] pairs them, and they and `Client`'s methods are
//! generated from the binding's method table); nor the server or any backend.
//!
//! # Example
//!
//! Put an outside caller through to the sales queue, answer, and park the call:
//!
//! ```no_run
//! use pbx_client::{Client, ClientError, ErrorKind, FaultCode};
//! use pbx_model::CallState;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), ClientError> {
//!     // Credentials in the URL (percent-encoded) or with `Client::builder(..).credentials(..)`.
//!     let client = Client::new("http://203:203@localhost:3339/RPC2")?;
//!
//!     for entity in client.get_extensions().await? {
//!         println!("{} {} ({})", entity.abbreviated, entity.caller_id.name, entity.presence);
//!     }
//!
//!     // The simulated PBX: an outside caller rings the sales queue.
//!     let call = client.sim_call("+15550100", "600", None).await?;
//!     client.sim_answer(&call, None).await?;
//!     let answered = client
//!         .get_calls()
//!         .await?
//!         .into_iter()
//!         .find(|c| c.state == CallState::Connected)
//!         .expect("a member answered");
//!
//!     let slot = client.park(&answered.id, None).await?;
//!     println!("parked in slot {slot}");
//!
//!     // Faults carry their code: a taken slot is -3 (conflict).
//!     match client.park(&answered.id, Some(slot)).await {
//!         Err(e) if e.is_fault(FaultCode::Conflict) => println!("slot {slot} is taken"),
//!         Err(e) if e.kind() == ErrorKind::Unauthorized => return Err(e),
//!         other => println!("{other:?}"),
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Setting a client up needs no server, and its `Debug` never shows the password:
//!
//! ```
//! use std::time::Duration;
//! use pbx_client::{Client, ClientError};
//!
//! let client = Client::builder("http://203:s%40cret@pbx.example.com:3339/RPC2")
//!     .timeout(Duration::from_secs(5))
//!     .build()?;
//! assert_eq!(client.url().as_str(), "http://pbx.example.com:3339/RPC2");
//! assert_eq!(client.user(), Some("203"));
//! assert!(!format!("{client:?}").contains("s@cret"));
//!
//! let err = Client::new("ftp://pbx.example.com/").unwrap_err();
//! assert!(matches!(err, ClientError::InvalidUrl(_)));
//! # Ok::<(), ClientError>(())
//! ```
//!
//! `examples/screen_pop.rs` is a complete program: it pops up the caller of every
//! call ringing at an extension.

mod batch;
mod builder;
mod client;
mod error;
pub mod events;
pub mod requests;

pub use batch::{Batch, BatchResults, Pending};
pub use builder::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_POOL_IDLE_TIMEOUT,
    DEFAULT_TIMEOUT,
};
pub use client::Client;
pub use error::{ClientError, ErrorKind, TransportError};
pub use events::{
    DEFAULT_HEARTBEAT, DEFAULT_INITIAL_DELAY, DEFAULT_MAX_DELAY, DEFAULT_MAX_EVENT_BYTES,
    DEFAULT_OPEN_TIMEOUT, EVENTS_PATH, EventStream, EventStreamBuilder, EventUpdate, Snapshot,
};
pub use requests::TypedRequest;

// The types of the API's signatures, so that a program needs no other import.
pub use pbx_model::{Event, EventData, EventId, EventKind};
pub use pbx_xmlrpc::{Capability, FaultCode, Method};
pub use xmlrpc_codec::{Fault, MethodCall, Struct, Value};

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
