//! [`blocking::Client`](Client): the same client for programs without an async
//! runtime (feature `blocking`, on by default).
//!
//! ```no_run
//! use xmlrpc_client::blocking::Client;
//!
//! let client = Client::new("http://localhost:8000/RPC2")?;
//! let sum: i32 = client.call("add", (2, 3))?;
//! assert_eq!(sum, 5);
//! # Ok::<(), xmlrpc_client::Error>(())
//! ```
//!
//! Each client owns a small single-threaded tokio runtime and runs every call on
//! it in the calling thread, so connections are kept and reused between calls as
//! with the async client. Calling it from a thread inside an async runtime's
//! context (a task, and also `spawn_blocking`) is [`Error::BlockingInAsync`]
//! (blocking a task would stall that runtime): use the async client there, with
//! `Handle::block_on` in `spawn_blocking`. Dropping it there is fine.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;
use xmlrpc_codec::{MethodCall, Value};

use crate::error::Error;
use crate::multicall::MulticallResults;

/// A blocking XML-RPC client: [`crate::Client`]'s methods, waiting for the answer.
///
/// Cheap to clone (clones share the connections and the runtime), and usable from
/// several threads at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    client: crate::Client,
    /// `Option` only so that `Drop` can take it and shut it down in the background.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime;
        // shutting down in the background never does.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("blocking::Client")
            .field(&self.inner.client)
            .finish()
    }
}

impl Client {
    /// A client of the server at `url` with the default settings; see
    /// [`crate::Client::new`].
    pub fn new(url: &str) -> Result<Client, Error> {
        crate::Client::new(url).and_then(Client::from_async)
    }

    /// A blocking client over an async one built with [`crate::Client::builder`]
    /// (so that every setting is available):
    ///
    /// ```
    /// use std::time::Duration;
    /// use xmlrpc_client::{Client, blocking};
    ///
    /// let async_client = Client::builder("http://localhost:8000/RPC2")
    ///     .timeout(Duration::from_secs(5))
    ///     .build()?;
    /// let client = blocking::Client::from_async(async_client)?;
    /// # Ok::<(), xmlrpc_client::Error>(())
    /// ```
    ///
    /// Fails with [`Error::Setup`] when the runtime cannot be created.
    pub fn from_async(client: crate::Client) -> Result<Client, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Error::Setup(format!("cannot start the blocking client's runtime: {e}"))
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                client,
                runtime: Some(runtime),
            }),
        })
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner.client
    }

    /// The server's URL, without credentials.
    pub fn url(&self) -> &Url {
        self.inner.client.url()
    }

    /// The user the client authenticates as, if any.
    pub fn user(&self) -> Option<&str> {
        self.inner.client.user()
    }

    fn block_on<T>(&self, future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::BlockingInAsync);
        }
        match &self.inner.runtime {
            Some(runtime) => runtime.block_on(future),
            // Taken only in `Drop`, when no call can run any more.
            None => Err(Error::BlockingInAsync),
        }
    }

    /// [`crate::Client::call`], blocking.
    pub fn call<P, R>(&self, method: &str, params: P) -> Result<R, Error>
    where
        P: Serialize,
        R: DeserializeOwned,
    {
        self.block_on(self.inner.client.call(method, params))
    }

    /// [`crate::Client::call_value`], blocking.
    pub fn call_value(&self, method: &str, params: Vec<Value>) -> Result<Value, Error> {
        self.block_on(self.inner.client.call_value(method, params))
    }

    /// [`crate::Client::send`], blocking.
    pub fn send(&self, call: &MethodCall) -> Result<Value, Error> {
        self.block_on(self.inner.client.send(call))
    }

    /// A multicall to fill and send with [`Multicall::send`].
    pub fn multicall(&self) -> Multicall {
        Multicall {
            client: self.clone(),
            calls: self.inner.client.multicall(),
        }
    }

    /// [`crate::Client::list_methods`], blocking.
    pub fn list_methods(&self) -> Result<Vec<String>, Error> {
        self.block_on(self.inner.client.list_methods())
    }

    /// [`crate::Client::method_help`], blocking.
    pub fn method_help(&self, method: &str) -> Result<String, Error> {
        self.block_on(self.inner.client.method_help(method))
    }

    /// [`crate::Client::method_signature`], blocking.
    pub fn method_signature(&self, method: &str) -> Result<Value, Error> {
        self.block_on(self.inner.client.method_signature(method))
    }
}

/// [`crate::Multicall`], sent by a blocking client.
#[derive(Debug)]
#[must_use = "a multicall does nothing until `send` is called"]
pub struct Multicall {
    client: Client,
    calls: crate::Multicall,
}

impl Multicall {
    /// [`crate::Multicall::call`].
    pub fn call<P: Serialize>(&mut self, method: &str, params: P) -> Result<usize, Error> {
        self.calls.call(method, params)
    }

    /// [`crate::Multicall::call_value`].
    pub fn call_value(&mut self, method: &str, params: Vec<Value>) -> usize {
        self.calls.call_value(method, params)
    }

    /// [`crate::Multicall::push`].
    pub fn push(&mut self, call: MethodCall) -> usize {
        self.calls.push(call)
    }

    /// How many calls there are.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// [`crate::Multicall::send`], blocking.
    pub fn send(self) -> Result<MulticallResults, Error> {
        let Multicall { client, calls } = self;
        client.block_on(calls.send())
    }
}
