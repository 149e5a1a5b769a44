//! An async XML-RPC client: serde in and out, faults as typed errors,
//! `system.multicall` batching, and the HTTP a real deployment needs.
//!
//! [`Client::call`] takes the parameter list as any serde type (a tuple, a `Vec`,
//! [`Positional`] for a struct's fields) and converts the result to any serde
//! type; [`Client::call_value`] works with [`Value`]s as they are. A fault is
//! [`Error::Fault`] with the server's code and string. [`Client::multicall`]
//! sends many calls in one request and gives each its own result or fault.
//!
//! Underneath is one HTTP/1.1 connection pool (reqwest, connections kept alive
//! and reused), HTTP Basic auth (from [`ClientBuilder::basic_auth`] or the URL's
//! percent-encoded user info), gzip answers, TLS on rustls (*ring*) with the
//! system's roots plus any you add, a timeout on every call, and a bound on every
//! answer ([`ClientBuilder::max_response_bytes`], 64 MiB by default, and the
//! decoder's [`Limits`]). Redirects are not followed and proxies come from the
//! environment. [`blocking::Client`] (feature `blocking`, on by default) is the
//! same client for programs without an async runtime.
//!
//! This crate knows XML-RPC over HTTP and nothing about any application; the
//! documents themselves are the [`xmlrpc_codec`] crate's job, whose types it
//! re-exports.
//!
//! # Example
//!
//! ```no_run
//! use serde::Deserialize;
//! use xmlrpc_client::{Client, Error};
//!
//! #[derive(Debug, Deserialize)]
//! struct ProcessInfo {
//!     name: String,
//!     statename: String,
//!     pid: i32,
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     // Credentials in the URL (percent-encoded) or with `.basic_auth(..)`.
//!     let client = Client::new("http://user:s%40cret@localhost:9001/RPC2")?;
//!
//!     let processes: Vec<ProcessInfo> = client.call("supervisor.getAllProcessInfo", ()).await?;
//!     for p in &processes {
//!         println!("{} {} (pid {})", p.name, p.statename, p.pid);
//!     }
//!
//!     // A fault carries the server's code and string.
//!     match client.call::<_, bool>("supervisor.startProcess", ("nope",)).await {
//!         Err(Error::Fault(fault)) if fault.code == 10 => println!("no such process"),
//!         other => println!("{other:?}"),
//!     }
//!
//!     // Many calls, one round trip, one result or fault each.
//!     let mut batch = client.multicall();
//!     let state = batch.call("supervisor.getState", ())?;
//!     let version = batch.call("supervisor.getVersion", ())?;
//!     let results = batch.send().await?;
//!     println!("{:?} {}", results.get::<xmlrpc_client::Value>(state)?, results.get::<String>(version)?);
//!     Ok(())
//! }
//! ```
//!
//! Setting a client up needs no server, and its `Debug` never shows the password:
//!
//! ```
//! use std::time::Duration;
//! use xmlrpc_client::{Client, Error};
//!
//! let client = Client::builder("https://bob:s%40cret@api.example.com/xmlrpc")
//!     .timeout(Duration::from_secs(5))
//!     .build()?;
//! assert_eq!(client.url().as_str(), "https://api.example.com/xmlrpc");
//! assert_eq!(client.user(), Some("bob"));
//! assert!(!format!("{client:?}").contains("s@cret"));
//!
//! assert!(matches!(Client::new("ftp://api.example.com/"), Err(Error::InvalidUrl(_))));
//! # Ok::<(), Error>(())
//! ```
//!
//! `examples/supervisord_style.rs` is a complete client of a supervisord-style
//! API, `examples/multicall.rs` batches calls, and `examples/blocking.rs` does
//! without a runtime; the crate's tests run all three against Python's standard
//! `SimpleXMLRPCServer`.

#[cfg(feature = "blocking")]
pub mod blocking;
mod builder;
mod client;
mod error;
mod multicall;
mod stream;

pub use builder::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_POOL_IDLE_TIMEOUT,
    DEFAULT_TIMEOUT,
};
pub use client::Client;
pub use error::{Error, TransportError};
pub use multicall::{Multicall, MulticallResults};
pub use stream::ResponseStream;

/// The URL type of [`Client::url`].
pub use url::Url;
// The codec's types of the client's signatures, so that a program needs no
// other import.
pub use xmlrpc_codec::{
    DecodeError, EncodeError, EncodeOptions, Fault, Limits, MethodCall, Positional, SerdeError,
    Struct, Value,
};

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
