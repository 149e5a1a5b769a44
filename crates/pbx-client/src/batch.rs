//! [`Batch`]: several typed requests in one `system.multicall` round trip.

use std::fmt;
use std::marker::PhantomData;

use pbx_xmlrpc::{Method, ResultError};
use xmlrpc_codec::{Fault, MethodCall, Value};

use crate::client::Client;
use crate::error::ClientError;
use crate::requests::{TypedRequest, read_as};

/// Typed requests collected to be sent in one `system.multicall`; made by
/// [`Client::batch`].
///
/// Each [`push`](Batch::push) returns a [`Pending`] handle that reads its own
/// result, typed, from the [`BatchResults`]. A fault of one call is that call's
/// error only.
///
/// ```no_run
/// use pbx_client::{Client, requests};
///
/// # async fn run(client: Client) -> Result<(), pbx_client::ClientError> {
/// let mut batch = client.batch();
/// let calls = batch.push(requests::get_calls());
/// let lot = batch.push(requests::get_parking_info());
/// let note = batch.push(requests::dict_get("note"));
/// let results = batch.send().await?;
///
/// println!("{} calls", results.get(&calls)?.len());
/// println!("{} parked", results.get(&lot)?.parked_calls.len());
/// match results.get(&note) {
///     Ok(text) => println!("note: {text}"),
///     Err(e) if e.fault_code() == Some(-1) => println!("no note"),
///     Err(e) => return Err(e),
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "a batch does nothing until `send` is called"]
pub struct Batch {
    client: Client,
    calls: Vec<MethodCall>,
}

impl Batch {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            calls: Vec::new(),
        }
    }

    /// Adds a request; the handle reads its result from this batch's results.
    pub fn push<T>(&mut self, request: TypedRequest<T>) -> Pending<T> {
        let index = self.calls.len();
        self.calls.push(request.to_call());
        Pending {
            index,
            method: request.method(),
            read: request.reader(),
            _result: PhantomData,
        }
    }

    /// How many requests the batch holds.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether the batch holds no request.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Sends every request in one `system.multicall` (an empty batch sends nothing).
    pub async fn send(self) -> Result<BatchResults, ClientError> {
        let results = if self.calls.is_empty() {
            Vec::new()
        } else {
            self.client.multicall(self.calls).await?
        };
        Ok(BatchResults { results })
    }
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

/// The handle of one request in a [`Batch`]: reads that request's result, typed,
/// with [`BatchResults::get`].
pub struct Pending<T> {
    index: usize,
    method: Method,
    read: fn(&Value) -> Result<T, ResultError>,
    _result: PhantomData<fn() -> T>,
}

impl<T> Pending<T> {
    /// The request's position in the batch, from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The method called.
    pub fn method(&self) -> Method {
        self.method
    }
}

impl<T> Clone for Pending<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Pending<T> {}

impl<T> fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("index", &self.index)
            .field("method", &self.method)
            .finish()
    }
}

/// What a [`Batch`] answered: one result or fault per request, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResults {
    results: Vec<Result<Value, Fault>>,
}

impl BatchResults {
    /// The result of the request behind `pending`, typed: a fault of that request
    /// is [`ClientError::Fault`], a result of the wrong shape
    /// [`ClientError::InvalidResponse`].
    ///
    /// `pending` must come from the batch these are the results of; a handle of
    /// another batch reads whatever sits at its position.
    pub fn get<T>(&self, pending: &Pending<T>) -> Result<T, ClientError> {
        match self.results.get(pending.index) {
            Some(Ok(value)) => read_as(pending.method, pending.read, value),
            Some(Err(fault)) => Err(ClientError::Fault {
                code: fault.code,
                message: fault.string.clone(),
            }),
            None => Err(ClientError::InvalidResponse(format!(
                "system.multicall: no result at position {} (a handle of another batch?)",
                pending.index
            ))),
        }
    }

    /// How many results there are.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// The untyped results, in order.
    pub fn into_inner(self) -> Vec<Result<Value, Fault>> {
        self.results
    }
}
