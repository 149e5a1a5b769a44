//! [`Run`]: one playing of a scenario, on the PBX's clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pbx_backend::{BackendError, Caller, PbxBackend as _, PlayOptions, Simulator as _};
use pbx_model::{CallId, EntityId};
use rand_pcg::Pcg32;
use rand_pcg::rand_core::{Rng as _, SeedableRng as _};

use super::time::{Distribution, Millis, unit};
use super::{Action, Scenario};
use crate::MemoryPbx;

/// How many rounds one [`Run::advance`] plays at most before it gives up
/// catching up with a clock that jumped far ahead, and starts afresh.
const MAX_ROUNDS_PER_ADVANCE: u32 = 100;

/// A round of a looping scenario lasts at least this long (milliseconds), so
/// that a scenario whose steps all happen at once cannot spin.
const MIN_ROUND_MS: u64 = 1000;

/// One playing of a [`Scenario`] on a [`MemoryPbx`].
///
/// Scenario time runs from `start` at `speed` times the PBX clock's pace.
/// [`Run::advance`] applies every step that is due at the clock's current
/// time, in order (by time, then as written; random traffic interleaved by
/// its own times); [`Run::next_due`] says when to call it again. A step due
/// at scenario time `t` is due at `start + t / speed` on the clock, computed
/// from the start every time, so waiting for it never accumulates drift.
///
/// A step that fails (a call that was not ringing any more, say) is reported
/// in its [`Applied`] and the run goes on.
#[derive(Debug)]
pub struct Run {
    scenario: Arc<Scenario>,
    caller: Caller,
    speed: f64,
    repeat: bool,
    /// The clock time of scenario time 0 of the current round.
    origin: SystemTime,
    round: u64,
    pending: BTreeMap<(u64, u64), Action>,
    seq: u64,
    labels: HashMap<Arc<str>, CallId>,
    rngs: Vec<Pcg32>,
    generated: Vec<u64>,
    /// The scenario time of the last step applied in this round.
    last: u64,
    finished: bool,
}

/// A step as applied by [`Run::advance`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Applied {
    /// The round (from 0) of a looping run.
    pub round: u64,
    /// When it was due, in scenario time from the start of the round.
    pub at: Duration,
    /// What it did, e.g. `answer c1 by 202` or `call t1-3: +15550101234 -> 600 via PSTN`.
    pub step: String,
    /// Whether the PBX accepted it, and why not.
    pub outcome: Result<(), String>,
}

impl std::fmt::Display for Applied {
    /// `12s answer c1 by 202`, with `: failed: why` when it failed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = Millis(u64::try_from(self.at.as_millis()).unwrap_or(u64::MAX));
        write!(f, "{at} {}", self.step)?;
        if let Err(why) = &self.outcome {
            write!(f, ": failed: {why}")?;
        }
        Ok(())
    }
}

impl Run {
    /// A run of `scenario` whose time 0 is `start` on the PBX's clock. A
    /// speed that is not positive and finite counts as 1.
    pub fn new(scenario: Arc<Scenario>, start: SystemTime, options: PlayOptions) -> Run {
        let speed = if options.speed.is_finite() && options.speed > 0.0 {
            options.speed.clamp(1e-3, 1e6)
        } else {
            1.0
        };
        let caller = Caller::new("", EntityId(0), scenario.group_id.clone());
        let mut run = Run {
            caller,
            speed,
            repeat: options.repeat,
            origin: start,
            round: 0,
            pending: BTreeMap::new(),
            seq: 0,
            labels: HashMap::new(),
            rngs: Vec::new(),
            generated: Vec::new(),
            last: 0,
            finished: false,
            scenario,
        };
        run.begin_round();
        run
    }

    /// The scenario being played.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// How fast scenario time runs against the clock.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Whether the run is over (never, for a looping run or endless traffic).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// When something is next due on the clock: a step, or the end of the
    /// round. `None` once the run is over.
    pub fn next_due(&self) -> Option<SystemTime> {
        if self.finished {
            return None;
        }
        let limit = self.scenario.duration.unwrap_or(u64::MAX);
        let step = self
            .pending
            .first_key_value()
            .map(|(&(at, _), _)| at)
            .filter(|&at| at <= limit);
        let end = match self.scenario.duration {
            Some(d) => Some(d),
            None if self.pending.is_empty() => Some(self.last),
            None => None,
        };
        let due = match (step, end) {
            (Some(s), Some(e)) => s.min(e),
            (s, e) => s.or(e)?,
        };
        Some(self.clock_time(due))
    }

    /// Applies everything due at the PBX clock's current time, and returns
    /// what was done, in order.
    ///
    /// However much is due, it works in batches of at most
    /// [`Run::BATCH`] steps and lets the runtime run other tasks between
    /// them, so it never holds a worker thread for long and can be
    /// cancelled between batches. What it returns is still unbounded: after
    /// a long jump of the clock at a high speed, prefer
    /// [`Run::advance_at_most`] (as [`Player`](super::Player) does).
    pub async fn advance(&mut self, pbx: &MemoryPbx) -> Vec<Applied> {
        let now = pbx.clock().now();
        let mut out = Vec::new();
        let mut rounds = 0;
        loop {
            let batch = self.advance_until(pbx, now, Self::BATCH, &mut rounds).await;
            let done = batch.len() < Self::BATCH;
            out.extend(batch);
            if done {
                return out;
            }
            tokio::task::yield_now().await;
        }
    }

    /// The most steps [`Run::advance`] applies between two looks at the
    /// runtime: a few hundred microseconds of work.
    pub const BATCH: usize = 64;

    /// Like [`Run::advance`], but applies at most `max_steps` steps (a reset
    /// between rounds counts as one); whatever else is due stays due.
    pub async fn advance_at_most(&mut self, pbx: &MemoryPbx, max_steps: usize) -> Vec<Applied> {
        let now = pbx.clock().now();
        self.advance_until(pbx, now, max_steps, &mut 0).await
    }

    /// Moves the run's time on, if it is behind, so that the next thing due
    /// is due at `at` rather than earlier: scenario time stands still for
    /// the difference, and nothing is skipped. For a run that cannot be
    /// played as fast as asked: it plays slower instead of piling up a
    /// backlog it would try to catch up on. Returns how far it moved.
    pub fn defer_to(&mut self, at: SystemTime) -> Duration {
        let Some(due) = self.next_due() else {
            return Duration::ZERO;
        };
        let late = at.duration_since(due).unwrap_or_default();
        match self.origin.checked_add(late) {
            Some(origin) => {
                self.origin = origin;
                late
            }
            None => Duration::ZERO,
        }
    }

    /// Applies what is due at `now`, at most `max_steps` steps; `rounds`
    /// counts the rounds begun since the clock was read.
    async fn advance_until(
        &mut self,
        pbx: &MemoryPbx,
        now: SystemTime,
        max_steps: usize,
        rounds: &mut u32,
    ) -> Vec<Applied> {
        let mut out = Vec::new();
        while !self.finished && out.len() < max_steps {
            let elapsed = self.scenario_ms(now);
            let limit = self.scenario.duration.unwrap_or(u64::MAX);
            if let Some(entry) = self.pending.first_entry()
                && entry.key().0 <= elapsed
                && entry.key().0 <= limit
            {
                let ((at, _), action) = entry.remove_entry();
                self.last = at;
                out.push(self.apply(pbx, at, action).await);
                continue;
            }
            let end = match self.scenario.duration {
                Some(d) => (elapsed >= d).then_some(d),
                None => self.pending.is_empty().then_some(self.last),
            };
            let Some(end) = end else { break };
            if !self.repeat {
                self.finished = true;
                break;
            }
            // The next round starts where this one ended, on the clock; after
            // a long jump of the clock, start afresh from now.
            *rounds += 1;
            self.origin = if *rounds >= MAX_ROUNDS_PER_ADVANCE {
                *rounds = 0;
                now
            } else {
                self.clock_time(end.max(MIN_ROUND_MS))
            };
            self.round += 1;
            let reset = pbx.reset(&self.caller).await;
            out.push(self.applied(0, "reset the group for the next round".into(), reset));
            self.begin_round();
        }
        out
    }

    fn begin_round(&mut self) {
        self.pending.clear();
        self.labels.clear();
        self.last = 0;
        let scenario = self.scenario.clone();
        for step in &scenario.steps {
            self.schedule(step.at, step.action.clone());
        }
        self.rngs = (0..scenario.traffic.len())
            .map(|i| {
                let stream = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                Pcg32::seed_from_u64(scenario.seed ^ stream)
            })
            .collect();
        self.generated = vec![0; scenario.traffic.len()];
        for (i, traffic) in scenario.traffic.iter().enumerate() {
            let first = traffic.start + self.gap(i);
            if traffic.stop.is_none_or(|stop| first < stop) {
                self.schedule(first, Action::Arrival(i));
            }
        }
    }

    fn schedule(&mut self, at: u64, action: Action) {
        self.seq += 1;
        self.pending.insert((at, self.seq), action);
    }

    /// The time to the next arrival of generator `i`: exponential, for
    /// arrivals at random at the generator's rate (a Poisson process).
    fn gap(&mut self, i: usize) -> u64 {
        let rate = self.scenario.traffic[i].calls_per_hour;
        let mean = 3_600_000.0 / rate;
        Distribution::Exponential { mean, max: None }
            .sample(&mut self.rngs[i])
            .max(1)
    }

    /// Milliseconds of scenario time at clock time `now`.
    fn scenario_ms(&self, now: SystemTime) -> u64 {
        let nanos = now.duration_since(self.origin).map_or(0, |d| d.as_nanos());
        // The epsilon absorbs rounding: at `clock_time(t)` it is `t`, never `t - 1`.
        (nanos as f64 * self.speed / 1e6 + 1e-6).floor() as u64
    }

    /// The clock time of scenario time `ms` (rounded up to the nanosecond).
    fn clock_time(&self, ms: u64) -> SystemTime {
        let nanos = (ms as f64 * 1e6 / self.speed).ceil();
        let nanos = if nanos >= u64::MAX as f64 {
            u64::MAX
        } else {
            nanos as u64
        };
        self.origin
            .checked_add(Duration::from_nanos(nanos))
            .unwrap_or(self.origin)
    }

    fn applied(&self, at: u64, step: String, result: Result<(), BackendError>) -> Applied {
        Applied {
            round: self.round,
            at: Duration::from_millis(at),
            step,
            outcome: result.map_err(|e| e.to_string()),
        }
    }

    fn id(&self, label: &str) -> Result<CallId, BackendError> {
        self.labels.get(label).cloned().ok_or_else(|| {
            BackendError::not_found(format!("call {label} is not up (not placed, or ended)"))
        })
    }

    async fn apply(&mut self, pbx: &MemoryPbx, at: u64, action: Action) -> Applied {
        let caller = self.caller.clone();
        let caller = &caller;
        let (step, result) = match action {
            Action::Call {
                label,
                from,
                to,
                via,
            } => {
                let mut step = format!("call {label}: {from} -> {to}");
                if let Some(via) = &via {
                    step.push_str(&format!(" via {via}"));
                }
                let result = pbx.call(caller, &from, &to, via.as_deref()).await;
                let result = result.map(|id| {
                    self.labels.insert(label, id);
                });
                (step, result)
            }
            Action::Answer { label, by, pick } => {
                let step = match &by {
                    Some(by) => format!("answer {label} by {by}"),
                    None => format!("answer {label}"),
                };
                let result = self.id(&label).and_then(|id| {
                    let answered = pbx.answer_call(caller, &id, by.as_deref(), pick)?;
                    self.labels.insert(label, answered);
                    Ok(())
                });
                (step, result)
            }
            Action::Hold(label) => {
                let result = match self.id(&label) {
                    Ok(id) => pbx.hold(caller, &id).await,
                    Err(e) => Err(e),
                };
                (format!("hold {label}"), result)
            }
            Action::Resume(label) => {
                let result = match self.id(&label) {
                    Ok(id) => pbx.resume(caller, &id).await,
                    Err(e) => Err(e),
                };
                (format!("resume {label}"), result)
            }
            Action::Hangup(label) => {
                let result = match self.id(&label) {
                    Ok(id) => pbx.hangup(caller, &id).await,
                    Err(e) => Err(e),
                };
                self.labels.remove(&label);
                (format!("hangup {label}"), result)
            }
            Action::Transfer { label, to } => {
                let result = match self.id(&label) {
                    Ok(id) => pbx.transfer(caller, &id, &to).await,
                    Err(e) => Err(e),
                };
                (format!("transfer {label} to {to}"), result)
            }
            Action::Park { label, slot } => {
                let result = match self.id(&label) {
                    Ok(id) => pbx.park(caller, &id, slot).await.map(drop),
                    Err(e) => Err(e),
                };
                let step = match slot {
                    Some(slot) => format!("park {label} in slot {slot}"),
                    None => format!("park {label}"),
                };
                (step, result)
            }
            Action::Offline(number) => (
                format!("offline {number}"),
                pbx.unregister(caller, &number).await,
            ),
            Action::Online(number) => (
                format!("online {number}"),
                pbx.register(caller, &number).await,
            ),
            Action::Arrival(i) => {
                let call = self.arrive(i, at);
                return Box::pin(self.apply(pbx, at, call)).await;
            }
        };
        self.applied(at, step, result)
    }

    /// Generator `i`'s call arriving at `at`: draws its whole story at once
    /// (always the same draws, in the same order, so the random stream does
    /// not depend on what happens in the PBX), schedules the story and the
    /// next arrival, and returns the call to place.
    fn arrive(&mut self, i: usize, at: u64) -> Action {
        let scenario = self.scenario.clone();
        let t = &scenario.traffic[i];
        self.generated[i] += 1;
        let label: Arc<str> = format!("t{}-{}", i + 1, self.generated[i]).into();
        let rng = &mut self.rngs[i];
        let to_queue =
            !t.queues.is_empty() && (t.extensions.is_empty() || unit(rng) < t.queue_share);
        let which = rng.next_u64();
        let (to, voicemail) = if to_queue {
            (
                t.queues[(which % t.queues.len() as u64) as usize].clone(),
                false,
            )
        } else {
            t.extensions[(which % t.extensions.len().max(1) as u64) as usize].clone()
        };
        let from = format!("{}{:04}", t.callers, rng.next_u64() % 10_000);
        let answered = unit(rng) < t.answer_probability;
        let ring = t.ring_time.sample(rng);
        let talk = t.talk_time.sample(rng);
        let hold = unit(rng) < t.hold_probability;
        let hold_for = t.hold_time.sample(rng);
        let fate = unit(rng);
        let transfer = fate < t.transfer_probability;
        let park = !transfer && fate < t.transfer_probability + t.park_probability;
        let park_for = t.park_time.sample(rng);
        let ring_again = t.ring_time.sample(rng);
        let talk_again = t.talk_time.sample(rng);
        let targets: Vec<&String> = if t.transfer_to.is_empty() {
            t.extensions.iter().map(|(n, _)| n).collect()
        } else {
            t.transfer_to.iter().collect()
        };
        let target = targets
            .get((rng.next_u64() % targets.len().max(1) as u64) as usize)
            .map(|s| s.to_string());
        let pick = rng.next_u64();
        let message = t.voicemail_time.sample(rng);
        let via = t.connection.clone();

        let l = || label.clone();
        if answered {
            let answer_at = at + ring;
            self.schedule(
                answer_at,
                Action::Answer {
                    label: l(),
                    by: None,
                    pick: Some(pick),
                },
            );
            let mut end = answer_at + talk;
            if hold {
                let hold_at = answer_at + talk / 3;
                self.schedule(hold_at, Action::Hold(l()));
                self.schedule(hold_at + hold_for, Action::Resume(l()));
                end += hold_for;
            }
            // A parked call is picked up by a transfer, like a transferred one.
            if let Some(target) = target.filter(|_| transfer || park) {
                if !transfer {
                    self.schedule(
                        end,
                        Action::Park {
                            label: l(),
                            slot: None,
                        },
                    );
                    end += park_for;
                }
                self.schedule(
                    end,
                    Action::Transfer {
                        label: l(),
                        to: target,
                    },
                );
                end += ring_again;
                self.schedule(
                    end,
                    Action::Answer {
                        label: l(),
                        by: None,
                        pick: Some(pick),
                    },
                );
                end += talk_again;
            }
            self.schedule(end, Action::Hangup(l()));
        } else if voicemail {
            self.schedule(
                at + ring,
                Action::Transfer {
                    label: l(),
                    to: format!("vm-{to}"),
                },
            );
            self.schedule(at + ring + message, Action::Hangup(l()));
        } else {
            // Nobody answers: the caller gives up.
            self.schedule(at + ring, Action::Hangup(l()));
        }
        let next = at + self.gap(i);
        if t.stop.is_none_or(|stop| next < stop) {
            self.schedule(next, Action::Arrival(i));
        }
        Action::Call {
            label,
            from,
            to,
            via: Some(via),
        }
    }
}
