//! The [`PbxBackend`] trait, and the [`Simulator`] trait of simulated PBXs.

use async_trait::async_trait;
use pbx_model::{AdminGroupId, Call, CallId, Entity, Favorite, ParkingInfo};

use crate::events::{EventId, Subscription};
use crate::{BackendError, Caller};

/// The result of a backend operation.
pub type BackendResult<T> = Result<T, BackendError>;

/// A PBX as the PBXpress API sees it: one operation per API method, each on behalf
/// of an authenticated [`Caller`].
///
/// Object safe: servers hold an `Arc<dyn PbxBackend>`. Every implementation
/// enforces the admin-group rules (see [`Caller::sees`]): whatever lies outside
/// the caller's group answers exactly as if it did not exist
/// ([`BackendError::NotFound`]). The conformance kit ([`crate::kit`]) checks an
/// implementation against the whole contract.
///
/// `dict_set_serialized` and `dict_get_serialized` are not here: they store the
/// XML-RPC text of a value through [`PbxBackend::dict_set`], which is the
/// binding's business.
#[async_trait]
pub trait PbxBackend: Send + Sync + 'static {
    /// Checks a user name (an extension number) and self-care password.
    /// `Ok(None)` for unknown users and wrong passwords alike.
    async fn authenticate(&self, user: &str, password: &str) -> BackendResult<Option<Caller>>;

    /// `get_calls`: every call with at least one party in the caller's group.
    async fn get_calls(&self, caller: &Caller) -> BackendResult<Vec<Call>>;

    /// `get_extensions`: the extensions, queues and attendants of the caller's group.
    async fn get_extensions(&self, caller: &Caller) -> BackendResult<Vec<Entity>>;

    /// `get_favorites`: the caller's group's favorites, by slot.
    async fn get_favorites(&self, caller: &Caller) -> BackendResult<Vec<Favorite>>;

    /// `set_favorites`: replaces the group's whole list atomically, or changes nothing.
    /// Duplicate slots or slot 0 are [`BackendError::InvalidInput`]; an entity
    /// outside the group is [`BackendError::NotFound`].
    async fn set_favorites(&self, caller: &Caller, favorites: Vec<Favorite>) -> BackendResult<()>;

    /// `transfer`: blind transfer of `call` to `destination` (a number of the
    /// group, `vm-<number>`, or an outside number when the group has an outbound
    /// connection).
    async fn transfer(
        &self,
        caller: &Caller,
        call: &CallId,
        destination: &str,
    ) -> BackendResult<()>;

    /// `drop`: ends `call` (for a queue's incoming record, all its records).
    async fn drop_call(&self, caller: &Caller, call: &CallId) -> BackendResult<()>;

    /// `get_parking_info`: the caller's group's parking lot.
    async fn get_parking_info(&self, caller: &Caller) -> BackendResult<ParkingInfo>;

    /// `park`: parks `call` in `slot` (1-based), or the lowest free slot; returns the slot.
    /// A taken slot is [`BackendError::Conflict`], a full lot [`BackendError::LimitReached`],
    /// slot 0 or a slot beyond the lot [`BackendError::InvalidInput`].
    async fn park(&self, caller: &Caller, call: &CallId, slot: Option<u32>) -> BackendResult<u32>;

    /// `dict_set`: stores `value` under the caller's personal `key`.
    async fn dict_set(&self, caller: &Caller, key: &str, value: &str) -> BackendResult<()>;

    /// `dict_set_many`: stores every pair, all or nothing (a repeated key keeps the last value).
    async fn dict_set_many(
        &self,
        caller: &Caller,
        entries: Vec<(String, String)>,
    ) -> BackendResult<()>;

    /// `dict_get`: the value of the caller's `key`; [`BackendError::NotFound`] when absent.
    async fn dict_get(&self, caller: &Caller, key: &str) -> BackendResult<String>;

    /// `dict_delete`: removes the caller's `key`; succeeds when it did not exist.
    async fn dict_delete(&self, caller: &Caller, key: &str) -> BackendResult<()>;

    /// `get_all`: every key of the caller's with its value, sorted by key.
    ///
    /// `max_bytes` bounds the keys and values together (bytes of UTF-8): a
    /// server passes the most an answer may take, which they cannot pass
    /// without the answer passing it too. Beyond it the call is
    /// [`BackendError::LimitReached`], decided without copying them (a full
    /// key quota is hundreds of megabytes);
    /// [`pbx_user_data::UserData::get_all`] does that.
    async fn get_all(
        &self,
        caller: &Caller,
        max_bytes: usize,
    ) -> BackendResult<Vec<(String, String)>>;

    /// Whether the backend can serve and write now, for a server's `GET /health`:
    /// `Err` with the reason (for the operator, never shown with any group's data)
    /// when it cannot, such as a storage that refuses writes. Called on every probe,
    /// so it must be cheap: report a state already known, write nothing.
    /// By default always `Ok`.
    async fn health(&self) -> BackendResult<()> {
        Ok(())
    }

    /// Live events of the caller's group (SPEC.md, "Events"): a
    /// [`Subscription`] resuming after `after` (a cursor the caller was
    /// given), with a reset when there is none or it can no longer be
    /// resumed, then every later change the caller could read, in order.
    ///
    /// By default a backend offers no events: [`BackendError::Unsupported`].
    /// One that does keeps an [`EventLog`](crate::events::EventLog) per group.
    async fn events(
        &self,
        caller: &Caller,
        after: Option<&EventId>,
    ) -> BackendResult<Subscription> {
        let _ = (caller, after);
        Err(BackendError::unsupported("this PBX offers no live events"))
    }

    /// Every event of `group`, for the operator's own consumers (its
    /// webhooks), never for a user: a user subscribes through
    /// [`events`](Self::events). Within a group every user sees the same
    /// events, so this is what any user of `group` would get; `NotFound`
    /// when there is no such group.
    ///
    /// By default [`BackendError::Unsupported`], like `events`.
    async fn group_events(
        &self,
        group: &AdminGroupId,
        after: Option<&EventId>,
    ) -> BackendResult<Subscription> {
        let _ = (group, after);
        Err(BackendError::unsupported("this PBX offers no live events"))
    }
}

/// The controls of a simulated PBX (the `sim.*` methods of the reference server).
///
/// Not part of [`PbxBackend`]: a real PBX has a telephone network instead. A
/// server offers `sim.*` only when it was given a `Simulator`. Every control acts
/// within the caller's admin group; a number outside it is [`BackendError::NotFound`].
#[async_trait]
pub trait Simulator: Send + Sync + 'static {
    /// `sim.call`: a call from `from` (an extension of the group, or an outside
    /// number arriving over connection `via`, default the group's first) to `to`
    /// (an extension, queue, attendant or `vm-<number>` of the group). Returns the
    /// new call's id (for a queue, the incoming record's). An offline destination
    /// without voicemail is a [`BackendError::Conflict`]; a `via` naming no
    /// connection of the group is [`BackendError::NotFound`].
    async fn call(
        &self,
        caller: &Caller,
        from: &str,
        to: &str,
        via: Option<&str>,
    ) -> BackendResult<CallId>;

    /// `sim.answer`: the called party answers; for a queue call, `member` names the
    /// ringing member who answers (default: the first).
    async fn answer(
        &self,
        caller: &Caller,
        call: &CallId,
        member: Option<&str>,
    ) -> BackendResult<()>;

    /// `sim.hold`: connected → onhold.
    async fn hold(&self, caller: &Caller, call: &CallId) -> BackendResult<()>;

    /// `sim.resume`: onhold → connected.
    async fn resume(&self, caller: &Caller, call: &CallId) -> BackendResult<()>;

    /// `sim.hangup`: the call ends, whatever its state.
    async fn hangup(&self, caller: &Caller, call: &CallId) -> BackendResult<()>;

    /// `sim.register`: the extension's phone comes online.
    async fn register(&self, caller: &Caller, number: &str) -> BackendResult<()>;

    /// `sim.unregister`: the extension's phone goes offline.
    async fn unregister(&self, caller: &Caller, number: &str) -> BackendResult<()>;

    /// `sim.reset`: the caller's group goes back to its configured state (no calls,
    /// configured presence). Storage and favorites are user data and stay.
    async fn reset(&self, caller: &Caller) -> BackendResult<()>;

    /// `sim.play`: starts playing `scenario` (the name of a scenario the
    /// simulator ships, or a scenario's text) in the caller's group, replacing
    /// the one playing there. A number outside the group is
    /// [`BackendError::NotFound`]; a malformed scenario
    /// [`BackendError::InvalidInput`]. By default scenarios are not supported:
    /// [`BackendError::PermissionDenied`].
    async fn play(
        &self,
        caller: &Caller,
        scenario: &str,
        options: PlayOptions,
    ) -> BackendResult<()> {
        let _ = (caller, scenario, options);
        Err(BackendError::permission_denied(
            "this simulator cannot play scenarios",
        ))
    }

    /// `sim.stop`: stops the scenario playing in the caller's group, if any;
    /// its calls stay as they are. By default scenarios are not supported:
    /// [`BackendError::PermissionDenied`].
    async fn stop(&self, caller: &Caller) -> BackendResult<()> {
        let _ = caller;
        Err(BackendError::permission_denied(
            "this simulator cannot play scenarios",
        ))
    }
}

/// How a scenario is played (`sim.play`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PlayOptions {
    /// How fast scenario time runs against the clock: 2.0 plays a minute of
    /// the scenario in 30 seconds. Positive and finite; default 1.0.
    pub speed: f64,
    /// Whether to start over (from a reset group) when the scenario ends.
    pub repeat: bool,
}

impl Default for PlayOptions {
    /// Real time, once.
    fn default() -> Self {
        Self {
            speed: 1.0,
            repeat: false,
        }
    }
}
