//! [`ResetCause`] and [`ResetCounts`]: why subscribers were told to re-read
//! the state, counted apart so that "clients connected" (a start without a
//! cursor) is not mistaken for "clients lost events" (an expired cursor, or
//! a subscriber that fell behind).

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a subscriber must re-read the state (a snapshot on a stream, `reset`
/// in a long poll's answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResetCause {
    /// It gave no cursor: a client starting. Nothing was lost.
    Start,
    /// It gave a cursor the log cannot resume from (older than the replay
    /// window, or of another run of the server): it missed events while away.
    Expired,
    /// It fell behind while subscribed (more than the window's
    /// `channel_capacity` pending): it missed events while connected.
    Lagged,
}

impl ResetCause {
    /// Every cause, in the order of their label values.
    pub const ALL: [ResetCause; 3] = [Self::Start, Self::Expired, Self::Lagged];

    /// Its label value: `start`, `expired`, `lagged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Expired => "expired",
            Self::Lagged => "lagged",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Start => 0,
            Self::Expired => 1,
            Self::Lagged => 2,
        }
    }
}

/// Resets counted by [`ResetCause`], for a transport's metrics.
#[derive(Debug, Default)]
pub struct ResetCounts([AtomicU64; 3]);

impl ResetCounts {
    /// None counted yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one reset of `cause`.
    pub fn count(&self, cause: ResetCause) {
        self.0[cause.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Resets of `cause` so far.
    pub fn get(&self, cause: ResetCause) -> u64 {
        self.0[cause.index()].load(Ordering::Relaxed)
    }

    /// Resets so far, whatever their cause.
    pub fn total(&self) -> u64 {
        ResetCause::ALL.iter().map(|&cause| self.get(cause)).sum()
    }
}
