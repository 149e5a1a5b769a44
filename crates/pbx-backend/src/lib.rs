//! The contract between a PBX and the PBXpress API: the [`PbxBackend`] trait.
//!
//! - [`PbxBackend`]: one async operation per API method, each on behalf of an
//!   authenticated [`Caller`]; object safe (`Arc<dyn PbxBackend>`).
//! - [`BackendError`]: domain errors (not found, conflict, limit reached, permission
//!   denied, invalid input, internal). This crate knows nothing of XML-RPC or
//!   fault codes; the binding maps errors to faults in one place.
//!   A [`pbx_user_data::UserDataError`] converts into one with `?`, so a
//!   backend delegates its `dict_*`, `get_all` and favorites methods to
//!   [`pbx_user_data::UserData`] in a line each.
//! - [`Caller`]: the user's identity and the admin-group scoping rule.
//! - [`Simulator`]: the controls of a simulated PBX (`sim.*`), separate from the API.
//! - [`events`]: live events ([`Event`], [`Subscription`], and the
//!   per-group [`EventLog`] a backend may publish into).
//! - [`webhook`]: a group's webhook endpoints ([`WebhookConfig`]) and their rules.
//! - [`kit`]: a conformance suite any backend runs in its own tests.
//!
//! ```
//! use std::sync::Arc;
//! use pbx_backend::PbxBackend;
//!
//! fn serve(backend: Arc<dyn PbxBackend>) -> Arc<dyn PbxBackend> {
//!     backend // a server stores it in its state and calls it per request
//! }
//! # let _ = serve;
//! ```

mod backend;
mod caller;
mod error;
pub mod events;
pub mod kit;
pub mod webhook;

pub use backend::{BackendResult, PbxBackend, PlayOptions, Simulator};
pub use caller::Caller;
pub use error::BackendError;
pub use events::{
    Batch, Delivery, Encoding, Event, EventData, EventId, EventKind, EventLog, EventWindow,
    ResetCause, ResetCounts, SharedEvent, Subscription,
};
pub use webhook::{WebhookConfig, WebhookSecret};

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
