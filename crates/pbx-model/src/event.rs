//! Live events as plain data: what changed in an admin group.
//!
//! An [`Event`] carries the whole current record of what changed (a call, an
//! extension, the parking lot, the favorites), so applying one twice changes
//! nothing. Backends publish them (`pbx-backend`'s `EventLog`), transports
//! carry them, clients receive them: the types live here so a client needs
//! nothing of the server side to name them.

use std::fmt;
use std::time::SystemTime;

use crate::{Call, Entity, Favorite, ParkingInfo};

/// What kind of change an [`Event`] reports (its SPEC.md `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `call.created`: a call record appeared.
    CallCreated,
    /// `call.updated`: a call record changed (state, parties, `via`, `qcall`).
    CallUpdated,
    /// `call.ended`: a call record is gone; the data is the record as it last was.
    CallEnded,
    /// `entity.updated`: an extension, queue or attendant record changed.
    EntityUpdated,
    /// `parking.updated`: the group's parking lot changed.
    ParkingUpdated,
    /// `favorites.updated`: the group's favorites list changed.
    FavoritesUpdated,
}

impl EventKind {
    /// Every kind, in SPEC.md's order.
    pub const ALL: [EventKind; 6] = [
        Self::CallCreated,
        Self::CallUpdated,
        Self::CallEnded,
        Self::EntityUpdated,
        Self::ParkingUpdated,
        Self::FavoritesUpdated,
    ];

    /// The wire name, e.g. `"call.created"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallCreated => "call.created",
            Self::CallUpdated => "call.updated",
            Self::CallEnded => "call.ended",
            Self::EntityUpdated => "entity.updated",
            Self::ParkingUpdated => "parking.updated",
            Self::FavoritesUpdated => "favorites.updated",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The record an [`Event`] carries: the whole object as the methods return it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventData {
    /// A call record (as in `get_calls`).
    Call(Call),
    /// An extension, queue or attendant record (as in `get_extensions`).
    Entity(Entity),
    /// The parking lot (as `get_parking_info`).
    Parking(ParkingInfo),
    /// The favorites list (as `get_favorites`).
    Favorites(Vec<Favorite>),
}

/// An event's id: an opaque cursor, meaningful only within its admin group
/// and to the backend that gave it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventId(String);

impl EventId {
    /// An id from its text (as a client sends it back).
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One change in an admin group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// Its id: the cursor to resume after it.
    pub id: EventId,
    /// What changed.
    pub kind: EventKind,
    /// When, on the backend's clock.
    pub time: SystemTime,
    /// The whole record after the change.
    pub data: EventData,
}

impl Event {
    /// An event from its parts (the struct is `#[non_exhaustive]`).
    pub fn new(id: EventId, kind: EventKind, time: SystemTime, data: EventData) -> Self {
        Self {
            id,
            kind,
            time,
            data,
        }
    }
}
