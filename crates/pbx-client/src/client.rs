//! [`Client`]: one async method per API method, over one HTTP connection pool.

use std::fmt;

use pbx_model::{Call, CallId, Entity, Favorite, ParkingInfo};
use pbx_xmlrpc::Capability;
use xmlrpc_client::Url;
use xmlrpc_codec::{Fault, MethodCall, Value};

use crate::batch::Batch;
use crate::builder::ClientBuilder;
use crate::error::ClientError;
use crate::requests::{self, TypedRequest};

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

    // ---- the PBX ---------------------------------------------------------------

    /// `get_calls`: the calls with at least one party in the user's admin group.
    pub async fn get_calls(&self) -> Result<Vec<Call>, ClientError> {
        self.send(requests::get_calls()).await
    }

    /// `get_extensions`: the extensions, queues and attendants of the user's group.
    pub async fn get_extensions(&self) -> Result<Vec<Entity>, ClientError> {
        self.send(requests::get_extensions()).await
    }

    /// `get_favorites`: the group's favorites.
    pub async fn get_favorites(&self) -> Result<Vec<Favorite>, ClientError> {
        self.send(requests::get_favorites()).await
    }

    /// `set_favorites`: replaces the group's whole list, or changes nothing.
    pub async fn set_favorites(&self, favorites: &[Favorite]) -> Result<(), ClientError> {
        self.send(requests::set_favorites(favorites)).await
    }

    /// `transfer`: a blind transfer of `call` to `destination`: a number of the
    /// group, `vm-<number>`, or an outside number.
    pub async fn transfer(&self, call: &CallId, destination: &str) -> Result<(), ClientError> {
        self.send(requests::transfer(call, destination)).await
    }

    /// `drop`: ends `call`.
    pub async fn drop_call(&self, call: &CallId) -> Result<(), ClientError> {
        self.send(requests::drop_call(call)).await
    }

    /// `get_parking_info`: the group's parking lot and what is parked there.
    pub async fn get_parking_info(&self) -> Result<ParkingInfo, ClientError> {
        self.send(requests::get_parking_info()).await
    }

    /// `park`: parks `call` in `slot` (from 1) or the lowest free one, and returns
    /// the slot taken. A taken slot is fault -3, a full lot fault -4.
    pub async fn park(&self, call: &CallId, slot: Option<u32>) -> Result<u32, ClientError> {
        self.send(requests::park(call, slot)).await
    }

    // ---- storage ---------------------------------------------------------------

    /// `dict_set`: stores `value` under `key` in the user's storage.
    pub async fn dict_set(&self, key: &str, value: &str) -> Result<(), ClientError> {
        self.send(requests::dict_set(key, value)).await
    }

    /// `dict_set_many`: stores every pair, or none.
    pub async fn dict_set_many(&self, pairs: &[(String, String)]) -> Result<(), ClientError> {
        self.send(requests::dict_set_many(pairs)).await
    }

    /// `dict_get`: the value under `key`; a missing key is fault -1.
    pub async fn dict_get(&self, key: &str) -> Result<String, ClientError> {
        self.send(requests::dict_get(key)).await
    }

    /// `dict_set_serialized`: stores an array or struct under `key`.
    pub async fn dict_set_serialized(&self, key: &str, value: &Value) -> Result<(), ClientError> {
        self.send(requests::dict_set_serialized(key, value)).await
    }

    /// `dict_get_serialized`: the array or struct stored under `key`; a key whose
    /// value is no serialized object is fault -3.
    pub async fn dict_get_serialized(&self, key: &str) -> Result<Value, ClientError> {
        self.send(requests::dict_get_serialized(key)).await
    }

    /// `dict_delete`: removes `key`; fine when it does not exist.
    pub async fn dict_delete(&self, key: &str) -> Result<(), ClientError> {
        self.send(requests::dict_delete(key)).await
    }

    /// `get_all`: every key of the user with its value, in the order received.
    pub async fn get_all(&self) -> Result<Vec<(String, String)>, ClientError> {
        self.send(requests::get_all()).await
    }

    // ---- simulation ------------------------------------------------------------

    /// `sim.call`: places a call from `from` (an extension of the group or an
    /// outside number) to `to`, inbound over `via` when given; returns its id.
    pub async fn sim_call(
        &self,
        from: &str,
        to: &str,
        via: Option<&str>,
    ) -> Result<CallId, ClientError> {
        self.send(requests::sim_call(from, to, via)).await
    }

    /// `sim.answer`: the called party answers (for a queue call, `extension`, by
    /// default the first ringing member).
    pub async fn sim_answer(
        &self,
        call: &CallId,
        extension: Option<&str>,
    ) -> Result<(), ClientError> {
        self.send(requests::sim_answer(call, extension)).await
    }

    /// `sim.hold`: connected → onhold.
    pub async fn sim_hold(&self, call: &CallId) -> Result<(), ClientError> {
        self.send(requests::sim_hold(call)).await
    }

    /// `sim.resume`: onhold → connected.
    pub async fn sim_resume(&self, call: &CallId) -> Result<(), ClientError> {
        self.send(requests::sim_resume(call)).await
    }

    /// `sim.hangup`: the call ends, whatever its state.
    pub async fn sim_hangup(&self, call: &CallId) -> Result<(), ClientError> {
        self.send(requests::sim_hangup(call)).await
    }

    /// `sim.register`: the extension's phone comes online.
    pub async fn sim_register(&self, number: &str) -> Result<(), ClientError> {
        self.send(requests::sim_register(number)).await
    }

    /// `sim.unregister`: the extension's phone goes offline.
    pub async fn sim_unregister(&self, number: &str) -> Result<(), ClientError> {
        self.send(requests::sim_unregister(number)).await
    }

    /// `sim.reset`: the group goes back to its configured state (no calls,
    /// configured presence); storage and favorites stay.
    pub async fn sim_reset(&self) -> Result<(), ClientError> {
        self.send(requests::sim_reset()).await
    }

    /// `sim.play`: starts a scenario (a built-in name such as `office-day`, or a
    /// scenario's TOML text) in the user's group, replacing the one playing there.
    pub async fn sim_play(
        &self,
        scenario: &str,
        speed: Option<f64>,
        repeat: Option<bool>,
    ) -> Result<(), ClientError> {
        self.send(requests::sim_play(scenario, speed, repeat)).await
    }

    /// `sim.stop`: stops the scenario playing in the user's group; its calls stay.
    pub async fn sim_stop(&self) -> Result<(), ClientError> {
        self.send(requests::sim_stop()).await
    }

    // ---- introspection ---------------------------------------------------------

    /// `system.listMethods`: the methods the server offers.
    pub async fn list_methods(&self) -> Result<Vec<String>, ClientError> {
        self.send(requests::list_methods()).await
    }

    /// `system.methodHelp`: the help text of `method`.
    pub async fn method_help(&self, method: &str) -> Result<String, ClientError> {
        self.send(requests::method_help(method)).await
    }

    /// `system.methodSignature`: the signatures of `method`, each a list of type
    /// names with the result type first.
    pub async fn method_signature(&self, method: &str) -> Result<Vec<Vec<String>>, ClientError> {
        self.send(requests::method_signature(method)).await
    }

    /// `system.getCapabilities`: the specifications the server follows.
    pub async fn get_capabilities(&self) -> Result<Vec<Capability>, ClientError> {
        self.send(requests::get_capabilities()).await
    }
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
