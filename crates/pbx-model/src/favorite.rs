//! Operator-console favorites.

use serde::{Deserialize, Serialize};

use crate::EntityRef;

/// How much room a favorite takes on the operator console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FavoriteSize {
    /// A standard tile.
    Single,
    /// A larger tile.
    Double,
}

crate::named_enum!(FavoriteSize {
    Single => "single",
    Double => "double",
});

/// One favorite: an entity of the admin group placed in a console slot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Favorite {
    /// The entity shown.
    #[serde(flatten)]
    pub entity: EntityRef,
    /// Its slot, from 1; unique within a list.
    pub slot: u32,
    /// Its size.
    pub size: FavoriteSize,
}
