//! Entities (extensions, queues, attendants) and admin groups.

use serde::{Deserialize, Serialize};

/// The internal id of an entity. Unique per [`EntityKind`] only: an entity is
/// identified by the pair (kind, id), see [`EntityRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntityId(pub u32);

impl std::fmt::Display for EntityId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The name of an admin group: the unit of visibility. Every entity belongs to
/// exactly one, and a user sees only their own group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AdminGroupId(pub String);

impl AdminGroupId {
    /// The group named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The group's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AdminGroupId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EntityKind {
    /// A phone extension.
    Extension,
    /// A call queue (hunt group) whose members are extensions.
    Queue,
    /// An auto-attendant (IVR), active during its activity period.
    Attendant,
}

crate::named_enum!(EntityKind {
    Extension => "extension",
    Queue => "queue",
    Attendant => "attendant",
});

/// The identity of an entity: ids are unique per kind only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    /// The entity's kind (`type` in the guide).
    #[serde(rename = "type")]
    pub kind: EntityKind,
    /// The entity's id.
    pub id: EntityId,
}

/// Whether an entity is available, as derived by the PBX:
/// an extension while its phone is registered; a queue while at least one member
/// phone is online and not on a call; an attendant during its activity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// Available.
    Online,
    /// Not available.
    Offline,
}

crate::named_enum!(Presence {
    Online => "online",
    Offline => "offline",
});

/// The caller id an entity presents.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct CallerId {
    /// The complete phone number.
    pub phone: String,
    /// The display name.
    pub name: String,
}

/// An extension record (`get_extensions`): an extension, queue or attendant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// Internal id, unique per kind.
    pub id: EntityId,
    /// Extension, queue or attendant (`type`).
    #[serde(rename = "type")]
    pub kind: EntityKind,
    /// The number dialled to reach it (`abbreviated`, e.g. `"203"`).
    pub abbreviated: String,
    /// Caller id (`callerid`).
    #[serde(rename = "callerid")]
    pub caller_id: CallerId,
    /// Whether voicemail is enabled.
    pub voicemail: bool,
    /// External email address (may be empty).
    pub email: String,
    /// Online or offline (`state`).
    #[serde(rename = "state")]
    pub presence: Presence,
}

impl Entity {
    /// The (kind, id) pair identifying this entity.
    pub fn entity_ref(&self) -> EntityRef {
        EntityRef {
            kind: self.kind,
            id: self.id,
        }
    }
}
