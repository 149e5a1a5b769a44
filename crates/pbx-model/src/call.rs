//! Calls and their parties.

use serde::{Deserialize, Serialize};

use crate::EntityId;

/// A call's identifier, opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(String);

impl CallId {
    /// A call id from its text.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for CallId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// The state of a call record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CallState {
    /// Being set up (dialling).
    Setup,
    /// The destination is ringing.
    Ringing,
    /// Both parties are talking.
    Connected,
    /// Held by one side.
    #[serde(rename = "onhold")]
    OnHold,
    /// Waiting in a parking slot.
    Parked,
    /// A state the PBX cannot name.
    Unknown,
}

crate::named_enum!(CallState {
    Setup => "setup",
    Ringing => "ringing",
    Connected => "connected",
    OnHold => "onhold",
    Parked => "parked",
    Unknown => "unknown",
});

/// What a call party is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PartyKind {
    /// A PBX extension.
    Extension,
    /// A queue.
    Queue,
    /// An attendant.
    Attendant,
    /// An extension's voicemail box.
    #[serde(rename = "vm")]
    Voicemail,
    /// Anything else, e.g. an outside number.
    Unknown,
}

crate::named_enum!(PartyKind {
    Extension => "extension",
    Queue => "queue",
    Attendant => "attendant",
    Voicemail => "vm",
    Unknown => "unknown",
});

/// One end of a call (`from` or `to`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Party {
    /// The entity's id; `0` for a party that is no PBX entity.
    pub id: EntityId,
    /// The phone number.
    pub number: String,
    /// The display name.
    pub name: String,
    /// What the party is (`type`).
    #[serde(rename = "type")]
    pub kind: PartyKind,
}

impl Party {
    /// A party that is no PBX entity (an outside number): id 0, kind unknown.
    pub fn outside(number: impl Into<String>) -> Self {
        Self {
            id: EntityId(0),
            number: number.into(),
            name: String::new(),
            kind: PartyKind::Unknown,
        }
    }

    /// Whether the party is no PBX entity.
    pub fn is_outside(&self) -> bool {
        self.kind == PartyKind::Unknown
    }
}

/// A call record (`get_calls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The call's id.
    pub id: CallId,
    /// Its state.
    pub state: CallState,
    /// The calling party.
    pub from: Party,
    /// The called party.
    pub to: Party,
    /// Whole seconds since the call was created.
    pub duration: u32,
    /// The external connection carrying the call; empty inside the PBX.
    pub via: String,
    /// Whether this record belongs to a call to a queue.
    pub qcall: bool,
}
