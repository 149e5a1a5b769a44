//! [`Player`]: scenarios playing in the background, one per admin group,
//! each within its group's budget of steps per second.
//!
//! A playing scenario is a tokio task that applies what is due a small batch
//! at a time and yields (or sleeps) between batches, so it never holds a
//! worker thread and stops at once when aborted (`sim.stop`, a new scenario in
//! its group, the player dropped or [`Player::stop_all`]). However fast a
//! scenario asks to go (speed × traffic), its group applies at most
//! [`SimulationLimits::max_events_per_second`](crate::SimulationLimits) steps
//! per second, on average; a scenario that asks for more is played slower.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use pbx_backend::{BackendError, BackendResult, Caller, PlayOptions, Simulator};
use pbx_model::{AdminGroupId, CallId};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{BUILTIN_SCENARIOS, Run, Scenario};
use crate::MemoryPbx;

/// The longest a playing scenario sleeps between looks at the clock, so that
/// a clock that jumps (a [`ManualClock`](crate::ManualClock), a corrected
/// system clock) is noticed soon.
const MAX_NAP: Duration = Duration::from_secs(1);

/// How long a scenario that found something due but could apply nothing
/// waits before it looks again: it never spins.
const IDLE_NAP: Duration = Duration::from_millis(10);

/// Plays scenarios on a shared [`MemoryPbx`], at most one per admin group,
/// each in a tokio task; and offers them as `sim.play` / `sim.stop`.
///
/// A `Player` is the PBX's [`Simulator`]: the other controls go straight to
/// the PBX. Starting a scenario in a group stops the one playing there; a
/// stopped scenario leaves its calls as they are (`sim.reset` clears them).
/// Dropping the player stops every scenario (at their next batch);
/// [`Player::stop_all`] also waits until they have stopped.
///
/// Each group has a budget of
/// [`max_events_per_second`](crate::SimulationLimits::max_events_per_second)
/// steps per second (a tenth of a second's worth may come at once), shared by
/// the scenarios played there one after another, so replacing a scenario
/// does not refill it.
#[derive(Debug)]
pub struct Player {
    pbx: Arc<MemoryPbx>,
    groups: Mutex<HashMap<AdminGroupId, GroupPlay>>,
}

/// A group's playing scenario, if any, and what its scenarios share.
#[derive(Debug)]
struct GroupPlay {
    task: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

/// What the successive scenarios of one group share.
#[derive(Debug)]
struct Shared {
    budget: Mutex<Budget>,
    /// Steps applied, for [`Player::applied_steps`].
    applied: AtomicU64,
}

/// A token bucket of steps: `rate` per second of (tokio) time, at most
/// `burst` saved up. The debt of a step taken and then not applied is
/// given back.
#[derive(Debug)]
struct Budget {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Shared {
    fn new(max_events_per_second: u32) -> Self {
        let rate = f64::from(max_events_per_second.max(1));
        let burst = (rate / 10.0).max(1.0);
        Self {
            budget: Mutex::new(Budget {
                rate,
                burst,
                tokens: burst,
                at: Instant::now(),
            }),
            applied: AtomicU64::new(0),
        }
    }

    fn budget(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.budget.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes up to `max` whole steps from the budget; how many.
    fn take(&self, max: usize) -> usize {
        let mut b = self.budget();
        let now = Instant::now();
        let saved = b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * b.rate;
        b.tokens = saved.min(b.burst);
        b.at = now;
        let granted = (b.tokens.max(0.0).floor() as usize).min(max);
        b.tokens -= granted as f64;
        granted
    }

    /// Gives back `n` steps taken and not applied.
    fn give_back(&self, n: usize) {
        let mut b = self.budget();
        b.tokens = (b.tokens + n as f64).min(b.burst);
    }

    /// How long until a whole step can be taken.
    fn wait(&self) -> Duration {
        let b = self.budget();
        let missing = (1.0 - b.tokens).max(0.0);
        Duration::from_secs_f64(missing / b.rate).max(Duration::from_millis(1))
    }
}

impl Player {
    /// A player on `pbx`, playing nothing yet.
    pub fn new(pbx: Arc<MemoryPbx>) -> Self {
        Self {
            pbx,
            groups: Mutex::new(HashMap::new()),
        }
    }

    /// The PBX it plays on.
    pub fn pbx(&self) -> &Arc<MemoryPbx> {
        &self.pbx
    }

    fn groups(&self) -> std::sync::MutexGuard<'_, HashMap<AdminGroupId, GroupPlay>> {
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts `scenario` in its group now, replacing the one playing there
    /// (which has stopped when this returns). What is due at the start is
    /// applied before this returns, within the group's budget; the rest runs
    /// in a task on the current tokio runtime (which must exist).
    pub async fn start(&self, scenario: Scenario, options: PlayOptions) {
        let group = scenario.group().clone();
        self.stop_playing(&group).await;
        let shared = {
            let rate = self.pbx.simulation_limits().max_events_per_second;
            let mut groups = self.groups();
            let play = groups.entry(group.clone()).or_insert_with(|| GroupPlay {
                task: None,
                shared: Arc::new(Shared::new(rate)),
            });
            play.shared.clone()
        };
        let run = Run::new(Arc::new(scenario), self.pbx.clock().now(), options);
        let mut playing = Playing {
            run,
            pbx: self.pbx.clone(),
            shared,
            told_slower: false,
        };
        let first = playing.step().await;
        let task = tokio::spawn(playing.play(first));
        // Another start in the same group may have got in meanwhile: the
        // later one wins, and no two scenarios ever play in one group.
        let previous = self
            .groups()
            .get_mut(&group)
            .and_then(|play| play.task.replace(task));
        if let Some(previous) = previous {
            previous.abort();
        }
    }

    /// Stops the scenario playing in `group` (at its next batch, at once
    /// when it is waiting); whether one was playing.
    pub fn stop_group(&self, group: &AdminGroupId) -> bool {
        let task = self
            .groups()
            .get_mut(group)
            .and_then(|play| play.task.take());
        match task {
            Some(task) => {
                let was_playing = !task.is_finished();
                task.abort();
                was_playing
            }
            None => false,
        }
    }

    /// Stops the scenario playing in `group` and waits until it has: no step
    /// of it is applied after this returns. Whether one was playing.
    async fn stop_playing(&self, group: &AdminGroupId) -> bool {
        let task = self
            .groups()
            .get_mut(group)
            .and_then(|play| play.task.take());
        match task {
            Some(task) => {
                let was_playing = !task.is_finished();
                task.abort();
                // A cancelled task's answer is the cancellation itself.
                let _ = task.await;
                was_playing
            }
            None => false,
        }
    }

    /// Stops every playing scenario and waits until they have (the server
    /// calls this when it shuts down).
    pub async fn stop_all(&self) {
        let tasks: Vec<JoinHandle<()>> = self
            .groups()
            .values_mut()
            .filter_map(|play| play.task.take())
            .collect();
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await;
        }
    }

    /// How many scenario steps have been applied in `group` since the player
    /// was made (each counts against the group's budget).
    pub fn applied_steps(&self, group: &AdminGroupId) -> u64 {
        self.groups()
            .get(group)
            .map_or(0, |play| play.shared.applied.load(Ordering::Relaxed))
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        let groups = self
            .groups
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for play in groups.values_mut() {
            if let Some(task) = play.task.take() {
                task.abort();
            }
        }
    }
}

/// A scenario being played: its run and its group's budget.
struct Playing {
    run: Run,
    pbx: Arc<MemoryPbx>,
    shared: Arc<Shared>,
    /// Whether the log has said that this run is played slower than asked.
    told_slower: bool,
}

impl Playing {
    /// Applies one batch of what is due, within the budget; how long to wait
    /// before the next batch (zero: at once), or `None` once the run is over.
    async fn step(&mut self) -> Option<Duration> {
        let due = self.run.next_due()?;
        let now = self.pbx.clock().now();
        // Waiting for the absolute due time, read afresh from the clock each
        // time: late wake-ups do not add up.
        let wait = due.duration_since(now).unwrap_or_default();
        if !wait.is_zero() {
            return Some(wait.min(MAX_NAP));
        }
        let granted = self.shared.take(Run::BATCH);
        if granted == 0 {
            // Behind, and out of budget: play slower rather than pile up a
            // backlog to catch up on.
            self.run.defer_to(now);
            if !self.told_slower {
                self.told_slower = true;
                let limits = self.pbx.simulation_limits();
                tracing::warn!(
                    scenario = self.run.scenario().name(),
                    group = %self.run.scenario().group(),
                    speed = self.run.speed(),
                    max_events_per_second = limits.max_events_per_second,
                    "the scenario asks for more steps per second than its group may apply: it is played slower than asked"
                );
            }
            return Some(self.shared.wait());
        }
        let applied = self.run.advance_at_most(&self.pbx, granted).await;
        self.shared.give_back(granted - applied.len());
        self.shared
            .applied
            .fetch_add(applied.len() as u64, Ordering::Relaxed);
        let idle = applied.is_empty() && !self.run.is_finished();
        log(&self.run, applied);
        Some(if idle { IDLE_NAP } else { Duration::ZERO })
    }

    /// Plays the run to its end, starting with `first`, the wait after the
    /// batch applied when it was started.
    async fn play(mut self, first: Option<Duration>) {
        let mut next = first;
        while let Some(wait) = next {
            // Every batch is followed by an await, so that other tasks run
            // and an abort takes effect.
            if wait.is_zero() {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(wait).await;
            }
            next = self.step().await;
        }
        tracing::info!(scenario = self.run.scenario().name(), "scenario finished");
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
        self.stop_playing(caller.group()).await;
        Ok(())
    }
}
