//! [`Client`]: one async method per API method, over one HTTP connection pool.

use std::fmt;

use xmlrpc_client::Url;
use xmlrpc_codec::{Fault, MethodCall, Value};

use crate::batch::Batch;
use crate::builder::ClientBuilder;
use crate::error::ClientError;
use crate::requests::TypedRequest;

/// A client of a PBXpress XML-RPC server.
///
/// Cheap to clone: clones share one connection pool (connections are kept alive
/// and reused) and one configuration. `Send + Sync`, so one client can serve a
/// whole program.
///
/// Every method returns `Result<_, ClientError>`; see [`ClientError`] for what can
/// go wrong and [`ClientError::kind`] to tell the cases apart.
#[derive(Clone)]
pub struct Client {
    /// The transport: HTTP, Basic auth, limits, faults and multicall are all
    /// `xmlrpc-client`'s; this crate adds the API's methods and types.
    rpc: xmlrpc_client::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The generic client's `Debug` never shows the password.
        f.debug_tuple("Client").field(&self.rpc).finish()
    }
}

impl Client {
    /// A client of the server at `url` with the default settings.
    ///
    /// Credentials may be part of the URL, percent-encoded:
    /// `http://203:s%40cret@pbx.example.com:3339/RPC2` is user `203` with password
    /// `s@cret`. The path is used as given (PBXpress answers on `/RPC2`); a URL
    /// without a port uses the scheme's (80, 443), not PBXpress's 3339.
    pub fn new(url: &str) -> Result<Client, ClientError> {
        Client::builder(url).build()
    }

    /// A builder for a client of the server at `url`, to set credentials, timeouts
    /// and limits.
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    pub(crate) fn from_rpc(rpc: xmlrpc_client::Client) -> Self {
        Self { rpc }
    }

    /// The generic XML-RPC client underneath, for what this crate does not wrap.
    pub fn rpc(&self) -> &xmlrpc_client::Client {
        &self.rpc
    }

    /// The server's URL, without credentials.
    pub fn url(&self) -> &Url {
        self.rpc.url()
    }

    /// The user the client authenticates as, if any.
    pub fn user(&self) -> Option<&str> {
        self.rpc.user()
    }

    // ---- generic ---------------------------------------------------------------

    /// Sends a typed request and reads its result; every API method below is one
    /// of these.
    pub async fn send<T>(&self, request: TypedRequest<T>) -> Result<T, ClientError> {
        let value = self.call_raw(&request.to_call()).await?;
        request.read(&value)
    }

    /// Calls any method by name with any parameters, and returns the result as it
    /// came: for methods this client has no typed method for, or to send
    /// parameters the typed methods would not (to test a server).
    pub async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, ClientError> {
        self.call_raw(&MethodCall::new(method, params)).await
    }

    /// Sends `call` and returns its result; a fault is [`ClientError::Fault`].
    pub async fn call_raw(&self, call: &MethodCall) -> Result<Value, ClientError> {
        Ok(self.rpc.send(call).await?)
    }

    /// `system.multicall`: sends every call in one request and returns each one's
    /// result or fault, in order. The request as a whole can still fail (transport,
    /// 401, a fault of `system.multicall` itself).
    ///
    /// [`Client::batch`] does the same with typed results.
    pub async fn multicall(
        &self,
        calls: Vec<MethodCall>,
    ) -> Result<Vec<Result<Value, Fault>>, ClientError> {
        let mut batch = self.rpc.multicall();
        for call in calls {
            batch.push(call);
        }
        Ok(batch.send().await?.into_inner())
    }

    /// A batch of typed requests to send in one `system.multicall`.
    pub fn batch(&self) -> Batch {
        Batch::new(self.clone())
    }

    // Every API method (`get_calls`, `transfer`, `sim_call`, …) is generated
    // from the method table: `crate::requests`.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_send_sync_and_cheap_to_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Client>();
        check::<ClientError>();
    }
}
