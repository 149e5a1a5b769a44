//! The PBXpress domain model: the records a PBX shows its integrators.
//!
//! Plain Rust types for everything the API talks about: entities (extensions,
//! queues, attendants), calls and their parties, operator-console favorites,
//! the parking lot, and admin groups. This crate knows nothing about XML,
//! HTTP or async: the XML-RPC binding (`pbx-xmlrpc`) maps these types to the
//! wire, backends produce them.
//!
//! Serde derives use the field and variant names of the PBXpress guide
//! (`abbreviated`, `callerid`, `qcall`, `onhold`, …) so that any serde format
//! (the CLI's `--json`, test snapshots) speaks the integrators' vocabulary;
//! wire details such as "0/1 integers instead of booleans" belong to the binding.
//!
//! ```
//! use pbx_model::{Call, CallId, CallState, EntityId, Party, PartyKind};
//!
//! let call = Call {
//!     id: CallId::new("c1"),
//!     state: CallState::Ringing,
//!     from: Party::outside("+15550100"),
//!     to: Party {
//!         id: EntityId(7),
//!         number: "203".into(),
//!         name: "Alice".into(),
//!         kind: PartyKind::Extension,
//!     },
//!     duration: 3,
//!     via: "PSTN".into(),
//!     qcall: false,
//! };
//! assert!(call.from.is_outside());
//! assert_eq!(call.state.as_str(), "ringing");
//! ```

mod call;
mod entity;
mod event;
mod favorite;
mod parking;

pub use call::{Call, CallId, CallState, Party, PartyKind};
pub use entity::{AdminGroupId, CallerId, Entity, EntityId, EntityKind, EntityRef, Presence};
pub use event::{Event, EventData, EventId, EventKind};
pub use favorite::{Favorite, FavoriteSize};
pub use parking::ParkingInfo;

/// A closed set of names, as the guide spells them, that can be parsed back.
macro_rules! named_enum {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name the PBXpress guide uses.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = crate::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    _ => Err(crate::UnknownName {
                        kind: stringify!($ty),
                        name: s.to_string(),
                        expected: &[$($name),+],
                    }),
                }
            }
        }
    };
}
pub(crate) use named_enum;

/// A string that names no variant of a closed set (`"ringin"` as a call state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// The set, e.g. `CallState`.
    pub kind: &'static str,
    /// What was given.
    pub name: String,
    /// The names that would have been accepted.
    pub expected: &'static [&'static str],
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown {} {:?} (expected one of: {})",
            self.kind,
            self.name,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
