//! [`Player`]: scenarios playing in the background, one per admin group.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use pbx_backend::{BackendError, BackendResult, Caller, PlayOptions, Simulator};
use pbx_model::{AdminGroupId, CallId};
use tokio::task::AbortHandle;

use super::{BUILTIN_SCENARIOS, Run, Scenario};
use crate::MemoryPbx;

/// The longest a playing scenario sleeps between looks at the clock, so that
/// a clock that jumps (a [`ManualClock`](crate::ManualClock), a corrected
/// system clock) is noticed soon.
const MAX_NAP: Duration = Duration::from_secs(1);

/// Plays scenarios on a shared [`MemoryPbx`], at most one per admin group,
/// each in a tokio task; and offers them as `sim.play` / `sim.stop`.
///
/// A `Player` is the PBX's [`Simulator`]: the other controls go straight to
/// the PBX. Starting a scenario in a group stops the one playing there; a
/// stopped scenario leaves its calls as they are (`sim.reset` clears them).
/// Dropping the player stops every scenario.
#[derive(Debug)]
pub struct Player {
    pbx: Arc<MemoryPbx>,
    playing: Mutex<HashMap<AdminGroupId, AbortHandle>>,
}

impl Player {
    /// A player on `pbx`, playing nothing yet.
    pub fn new(pbx: Arc<MemoryPbx>) -> Self {
        Self {
            pbx,
            playing: Mutex::new(HashMap::new()),
        }
    }

    /// The PBX it plays on.
    pub fn pbx(&self) -> &Arc<MemoryPbx> {
        &self.pbx
    }

    /// Starts `scenario` in its group now, replacing the one playing there.
    /// Steps due at the start are applied before this returns; the rest run
    /// in a task on the current tokio runtime (which must exist).
    pub async fn start(&self, scenario: Scenario, options: PlayOptions) {
        let group = scenario.group().clone();
        self.stop_group(&group);
        let pbx = self.pbx.clone();
        let mut run = Run::new(Arc::new(scenario), pbx.clock().now(), options);
        let applied = run.advance(&pbx).await;
        log(&run, applied);
        let task = tokio::spawn(async move {
            while let Some(due) = run.next_due() {
                // Sleep until the absolute due time, read afresh from the clock
                // each time: late wake-ups do not add up.
                let wait = due.duration_since(pbx.clock().now()).unwrap_or_default();
                if !wait.is_zero() {
                    tokio::time::sleep(wait.min(MAX_NAP)).await;
                }
                let applied = run.advance(&pbx).await;
                log(&run, applied);
            }
            tracing::info!(scenario = run.scenario().name(), "scenario finished");
        });
        let previous = self
            .playing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(group, task.abort_handle());
        if let Some(previous) = previous {
            previous.abort();
        }
    }

    /// Stops the scenario playing in `group`; whether one was playing.
    pub fn stop_group(&self, group: &AdminGroupId) -> bool {
        let task = self
            .playing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(group);
        match task {
            Some(task) => {
                let was_playing = !task.is_finished();
                task.abort();
                was_playing
            }
            None => false,
        }
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        let playing = self
            .playing
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for (_, task) in playing.drain() {
            task.abort();
        }
    }
}

fn log(run: &Run, applied: Vec<super::Applied>) {
    let name = run.scenario().name();
    for step in applied {
        match &step.outcome {
            Ok(()) => tracing::debug!(scenario = name, round = step.round, "{step}"),
            Err(_) => tracing::info!(scenario = name, round = step.round, "{step}"),
        }
    }
}

#[async_trait]
impl Simulator for Player {
    async fn call(
        &self,
        caller: &Caller,
        from: &str,
        to: &str,
        via: Option<&str>,
    ) -> BackendResult<CallId> {
        self.pbx.call(caller, from, to, via).await
    }

    async fn answer(
        &self,
        caller: &Caller,
        call: &CallId,
        member: Option<&str>,
    ) -> BackendResult<()> {
        self.pbx.answer(caller, call, member).await
    }

    async fn hold(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        self.pbx.hold(caller, call).await
    }

    async fn resume(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        self.pbx.resume(caller, call).await
    }

    async fn hangup(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        self.pbx.hangup(caller, call).await
    }

    async fn register(&self, caller: &Caller, number: &str) -> BackendResult<()> {
        self.pbx.register(caller, number).await
    }

    async fn unregister(&self, caller: &Caller, number: &str) -> BackendResult<()> {
        self.pbx.unregister(caller, number).await
    }

    async fn reset(&self, caller: &Caller) -> BackendResult<()> {
        self.pbx.reset(caller).await
    }

    /// `scenario` is a built-in name (`office-day`) or a scenario's TOML text;
    /// the server never reads files on a client's behalf.
    async fn play(
        &self,
        caller: &Caller,
        scenario: &str,
        options: PlayOptions,
    ) -> BackendResult<()> {
        if !self.pbx.simulation_enabled() {
            return Err(BackendError::permission_denied(
                "the simulation controls are switched off on this PBX",
            ));
        }
        if !(options.speed.is_finite() && options.speed > 0.0 && options.speed <= 1e6) {
            return Err(BackendError::invalid_input(format!(
                "speed must be above 0 and at most 1000000, not {}",
                options.speed
            )));
        }
        let (text, origin) = match BUILTIN_SCENARIOS
            .iter()
            .find(|(n, _)| *n == scenario.trim())
        {
            Some((name, text)) => (*text, format!("{name}.toml")),
            None if !scenario.contains('=') => {
                return Err(BackendError::not_found(format!(
                    "no such built-in scenario: {:?} (built in: {}; or pass a scenario's TOML text)",
                    scenario.trim(),
                    super::builtin_names()
                )));
            }
            None => (scenario, "scenario".to_string()),
        };
        let scenario = Scenario::for_caller(text, &origin, &self.pbx, caller)?;
        self.start(scenario, options).await;
        Ok(())
    }

    async fn stop(&self, caller: &Caller) -> BackendResult<()> {
        if !self.pbx.simulation_enabled() {
            return Err(BackendError::permission_denied(
                "the simulation controls are switched off on this PBX",
            ));
        }
        self.stop_group(caller.group());
        Ok(())
    }
}
