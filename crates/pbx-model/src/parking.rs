//! The parking lot.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::CallId;

/// The caller's admin group's parking lot (`get_parking_info`).
///
/// Slot `k` (1-based) is reached by dialling `parking_extension + k - 1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkingInfo {
    /// The first number of the lot.
    pub parking_extension: String,
    /// How many slots the lot has.
    pub slots: u32,
    /// Slot number → the call parked there.
    pub parked_calls: BTreeMap<u32, CallId>,
}
