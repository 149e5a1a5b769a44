//! A simulated PBX held in memory, behind the [`PbxBackend`](pbx_backend::PbxBackend) trait.
//!
//! [`MemoryPbx`] behaves like a real phone system so that an integrator testing
//! a CRM pop-up or an operator console sees what a real PBX would show:
//!
//! - **Configuration**: admin groups with extensions, queues, attendants, a
//!   parking lot and external connections, built in code ([`Config`]) or read
//!   from TOML ([`Config::from_toml_str`]; [`DEMO_CONFIG`] is a complete file);
//!   problems are reported with file, line and what is wrong ([`ConfigError`]).
//!   [`MemoryPbx::demo`] is a ready-made PBX.
//! - **Calls**: ringing → connected ⇄ onhold, parked, ended; queue calls ring
//!   every online, idle member and collapse when one answers; blind transfer
//!   (to numbers, queues, `vm-<number>`, outside numbers), drop and park as
//!   SPEC.md says. Presence is derived: queues from their members, attendants
//!   from their activity period in the PBX's time zone. Durations come from a
//!   [`Clock`] ([`ManualClock`] in tests).
//! - **Simulation**: [`Simulator`](pbx_backend::Simulator) controls (place,
//!   answer, hold, resume, hang up calls; register phones; reset), switched
//!   off with `simulation = false`, and bounded per admin group
//!   ([`SimulationLimits`]: live calls, scenario steps per second).
//! - **Scenarios**: scripted timelines and seeded random traffic
//!   ([`BUILTIN_SCENARIOS`] holds a complete one), checked before they run ([`Scenario`]), played on
//!   the PBX's clock ([`Run`]) or in the background ([`Player`], which also
//!   offers `sim.play` / `sim.stop`).
//! - **Credentials**: users' passwords as argon2id hashes ([`hash_password`]),
//!   plain text only with `allow_plain_passwords`; successful verifications are
//!   cached under a keyed MAC ([`CacheLimits`]), and unknown users cost what
//!   known ones do.
//! - **User data**: users' keys and groups' favorites are `pbx-user-data`'s
//!   [`UserData`](pbx_user_data::UserData) over a [`Storage`] ([`MemoryStorage`]
//!   by default; a durable one can be plugged in with [`MemoryPbx::with_storage`]).
//!   The PBX only says who the caller is and which entities their group has.
//! - **Test support** ([`kit`]): the conformance kit's fixture as a [`Config`].
//!
//! It knows nothing of XML-RPC or HTTP: the server maps its answers to the wire.
//!
//! ```
//! use std::sync::Arc;
//! use pbx_backend::{PbxBackend, Simulator};
//! use pbx_backend_memory::MemoryPbx;
//! use pbx_model::CallState;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let pbx = Arc::new(MemoryPbx::demo());
//! let user = pbx.authenticate("203", "203").await?.expect("the demo user");
//!
//! // An outside caller rings the sales queue; its first ringing member answers.
//! let call = pbx.call(&user, "+15550100", "600", None).await?;
//! pbx.answer(&user, &call, None).await?;
//! let calls = pbx.get_calls(&user).await?;
//! assert_eq!(calls.len(), 1);
//! assert_eq!(calls[0].state, CallState::Connected);
//!
//! // The operator parks it in the lowest free slot.
//! let answered = calls[0].id.clone();
//! assert_eq!(pbx.park(&user, &answered, None).await?, 1);
//! # Ok::<(), pbx_backend::BackendError>(())
//! # }).unwrap();
//! ```

mod clock;
mod config;
mod credentials;
mod directory;
pub mod fuzzing;
pub mod kit;
mod live;
mod pbx;
mod scenario;
mod toml_message;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    ActivityPeriod, AttendantConfig, Config, ConfigError, ConnectionConfig, ExtensionConfig,
    GroupConfig, ParkingConfig, Problem, QueueConfig, SimulationLimits, TimeOfDay, WebhookConfig,
    WebhookSecret, Weekday,
};
pub use credentials::{CacheLimits, HashCost, hash_password};
pub use pbx::{DEMO_CONFIG, MemoryPbx};
/// How a scenario is played (re-exported from `pbx-backend`).
pub use pbx_backend::PlayOptions;
/// User data's store and limits (re-exported from `pbx-user-data`).
pub use pbx_user_data::{MemoryStorage, Storage, StorageError, StorageLimits};
pub use scenario::{Applied, BUILTIN_SCENARIOS, Player, Run, Scenario, ScenarioError};

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
