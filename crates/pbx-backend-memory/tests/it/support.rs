//! Helpers shared by the tests: a demo PBX on a manual clock, its users, and
//! lookups in what a client sees.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pbx_backend::{BackendError, Caller, PbxBackend};
use pbx_backend_memory::{ManualClock, MemoryPbx};
use pbx_model::{Call, CallId};

/// Monday 6 January 2025, 17:00 UTC: 09:00 in Vancouver (the demo's time zone).
pub(crate) fn monday_morning() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_736_182_800)
}

/// The demo PBX on a manual clock, with its two standard users.
pub(crate) struct Demo {
    pub(crate) pbx: Arc<MemoryPbx>,
    pub(crate) clock: Arc<ManualClock>,
    /// 203 (Acme).
    pub(crate) carol: Caller,
    /// 201 (Acme).
    pub(crate) alice: Caller,
    /// 301 (Globex).
    pub(crate) hank: Caller,
}

impl Demo {
    pub(crate) async fn new() -> Demo {
        let clock = Arc::new(ManualClock::new(monday_morning()));
        let pbx = Arc::new(MemoryPbx::demo().with_clock(clock.clone()));
        let user = |n: &'static str| {
            let pbx = pbx.clone();
            async move {
                pbx.authenticate(n, n)
                    .await
                    .expect("authenticate answers")
                    .expect("a demo user")
            }
        };
        Demo {
            carol: user("203").await,
            alice: user("201").await,
            hank: user("301").await,
            pbx,
            clock,
        }
    }

    pub(crate) fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }

    pub(crate) async fn calls(&self, user: &Caller) -> Vec<Call> {
        self.pbx.get_calls(user).await.expect("get_calls")
    }

    /// The call `id` as `user` sees it.
    pub(crate) async fn call(&self, user: &Caller, id: &CallId) -> Call {
        let calls = self.calls(user).await;
        calls
            .iter()
            .find(|c| &c.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("call {id} is not listed: {calls:#?}"))
    }

    /// The presence (`online`/`offline`) of `number` as `user` sees it.
    pub(crate) async fn presence(&self, user: &Caller, number: &str) -> &'static str {
        self.pbx
            .get_extensions(user)
            .await
            .expect("get_extensions")
            .iter()
            .find(|e| e.abbreviated == number)
            .map(|e| e.presence.as_str())
            .unwrap_or_else(|| panic!("{number} is not listed"))
    }
}

/// A call as `state from → to`, for compact assertions.
pub(crate) fn show(call: &Call) -> String {
    format!(
        "{} {}:{} -> {}:{} via={:?} q={}",
        call.state,
        call.from.kind,
        call.from.number,
        call.to.kind,
        call.to.number,
        call.via,
        u8::from(call.qcall)
    )
}

/// Every call of `calls`, shown and sorted.
pub(crate) fn shown(calls: &[Call]) -> Vec<String> {
    let mut out: Vec<String> = calls.iter().map(show).collect();
    out.sort();
    out
}

/// The kind of an error, as a word.
pub(crate) fn kind(result: Result<impl std::fmt::Debug, BackendError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(BackendError::NotFound(_)) => "not found",
        Err(BackendError::Conflict(_)) => "conflict",
        Err(BackendError::LimitReached(_)) => "limit reached",
        Err(BackendError::PermissionDenied(_)) => "permission denied",
        Err(BackendError::InvalidInput(_)) => "invalid input",
        Err(_) => "internal",
    }
}

/// The demo configuration with the simulation controls switched off.
pub(crate) static DEMO_CONFIG_NO_SIM: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| {
        pbx_backend_memory::DEMO_CONFIG.replace("simulation = true", "simulation = false")
    });
