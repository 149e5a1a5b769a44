//! The conformance kit: checks that a [`PbxBackend`](crate::PbxBackend) keeps
//! the whole API contract (SPEC.md), for vendors and for our own backends.
//!
//! A backend under test is loaded with the [standard fixture](Fixture::standard)
//! (two admin groups, "Alpha" and "Beta", with users, queues, attendants,
//! parking lots and connections). [`run`] asks a factory for a **fresh** backend
//! before every check, so checks never see each other's calls or data, and
//! returns a [`Report`]: each [`Check`] passed, failed with a message saying
//! what was expected and what came, or was skipped. A check that compares
//! separate backends (`calls.ids_per_group`: do one group's call ids depend on
//! another group's calls?) asks the factory for several.
//!
//! Checks that need calls place them through the [`Simulator`](crate::Simulator).
//! A backend without one (a real PBX) passes `simulator: None`: those checks
//! are reported as skipped and the rest still run.
//!
//! # Running the kit
//!
//! In your crate's tests, with any async executor (e.g. under `#[tokio::test]`):
//!
//! ```
//! use std::sync::Arc;
//! use pbx_backend::kit::{self, Fixture, Target};
//! # use pbx_backend::{PbxBackend, Simulator};
//! # async fn example<MyPbx: PbxBackend + Simulator>(my_pbx_from: fn(&Fixture) -> MyPbx) {
//!
//! let report = kit::run(|| async {
//!     // Your PBX, configured from the fixture: built anew for every check.
//!     let pbx = Arc::new(my_pbx_from(&Fixture::standard()));
//!     Target::new(pbx.clone(), Some(pbx)) // `None`: the call checks are skipped
//! })
//! .await;
//! report.assert_all_passed(); // panics listing every failed check
//!
//! // While fixing one failure, run just that check, or one area:
//! let one = kit::run_one("parking.full", || async {
//!     let pbx = Arc::new(my_pbx_from(&Fixture::standard()));
//!     Target::new(pbx.clone(), Some(pbx))
//! })
//! .await;
//! one.assert_all_passed();
//! # }
//! ```
//!
//! The names, descriptions and simulator needs of all checks are in [`checks()`]:
//!
//! ```
//! let names: Vec<_> = pbx_backend::kit::checks().iter().map(|c| c.name).collect();
//! assert!(names.contains(&"transfer.other_group_call"));
//! ```
//!
//! # What the checks assume where SPEC.md is silent
//!
//! - Entities are found by number through `get_extensions`; ids are the
//!   backend's business, but unique per type within what a group sees. They
//!   may be numbered per group (another group's `(type, id)` then names one
//!   of the caller's own entities, which the checks allow), as may call ids:
//!   an id is always looked up in the caller's group.
//! - Outside numbers are written `+` and digits; numbers of the fixture are
//!   three digits. `sim.call` returns the id of the call's first record (for a
//!   queue call, the incoming record).
//! - A fresh call is `ringing` (or `setup`) and its `duration` is under a minute;
//!   `duration` never decreases, also across answer, hold and transfer.
//! - When the requesting user's own extension is the `from` party of a
//!   transferred call, the destination takes the `from` side.
//! - A voicemail party has type `vm` and the number `<number>` or `vm-<number>`;
//!   `vm-<number>` of an extension without voicemail is `NotFound`.
//! - Call controls in a state that does not allow them (hold a ringing call,
//!   answer a connected one) are `Conflict`; on unknown calls `NotFound`.
//! - `park` in slot 0 or beyond the lot is `InvalidInput` (a malformed argument,
//!   like slot 0 of a favorite); duplicate favorite slots and slot 0 too.
//! - `sim.call` over a connection that does not exist, or that belongs to
//!   another group, is `NotFound`.
//! - `get_favorites` lists by slot; an unconfigured group has none.
//! - Storage limits count UTF-8 bytes; the fixture's quota is
//!   [`StorageLimits::max_keys`] = 50, not SPEC's default, to keep the check fast.
//! - "Indistinguishable" answers: both `NotFound`, messages equal once the
//!   caller's own input is blanked out, and no name of the other group in them.
//!
//! Not checked here (not reachable through the traits): durability across a
//! restart, `dict_*_serialized` (the XML-RPC binding's business), simulation
//! switched off (`PermissionDenied`), attendants' time windows, and calls with
//! parties in two groups (the simulator cannot place one).

mod checks;
mod ctx;
mod fixture;
mod runner;

pub use fixture::{Attendant, Connection, Extension, Fixture, Group, ParkingLot, Queue};
/// The fixture's storage limits: the user-data layer's own type.
pub use pbx_user_data::StorageLimits;
pub use runner::{Check, CheckReport, Outcome, Report, Target, run, run_matching, run_one};

/// Every check of the kit, in the order reports list them (SPEC.md's order:
/// authentication, extensions, calls, queues, transfer, drop, parking,
/// favorites, storage, simulation).
pub fn checks() -> &'static [Check] {
    checks::CHECKS
}

#[cfg(test)]
mod tests;
