//! Scenarios: scripted and random traffic played on a [`MemoryPbx`].
//!
//! A scenario (TOML; [`BUILTIN_SCENARIOS`] holds a complete one) is a timeline of steps at offsets
//! from its start (calls placed, answered, held, transferred, parked, hung up;
//! phones going offline and back) and generators of random traffic drawn from
//! a seeded generator, so every run of a scenario is the same story.
//!
//! - [`Scenario`]: a scenario checked against a PBX; problems are reported
//!   before anything runs, with file, line and what is wrong ([`ScenarioError`]).
//! - [`Run`]: one playing of a scenario, driven by the PBX's clock: whatever
//!   is due at the clock's time is applied, in order. Tests move a
//!   [`ManualClock`](crate::ManualClock) and look at `get_calls`.
//! - [`Player`]: plays scenarios in the background on a tokio runtime, one per
//!   admin group, a batch of steps at a time and within the group's budget of
//!   steps per second ([`SimulationLimits`](crate::SimulationLimits)), and
//!   offers them as `sim.play` / `sim.stop` (it implements
//!   [`Simulator`](pbx_backend::Simulator) over the PBX).

mod file;
mod player;
mod run;
mod time;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pbx_backend::{BackendError, Caller};
use pbx_model::AdminGroupId;

pub use player::Player;
pub use run::{Applied, Run};

use crate::{MemoryPbx, Problem};
use time::Distribution;

/// The scenarios shipped with the PBX, by name: `(name, TOML text)`.
pub const BUILTIN_SCENARIOS: &[(&str, &str)] = &[(
    "office-day",
    include_str!("../../fixtures/scenarios/office-day.toml"),
)];

/// A scenario checked against a PBX: every number, connection and label in
/// it exists, its times are in order and its distributions make sense.
#[derive(Debug, Clone)]
pub struct Scenario {
    name: String,
    description: String,
    group_id: AdminGroupId,
    seed: u64,
    /// The scenario's length in milliseconds, if it has one.
    duration: Option<u64>,
    steps: Vec<Step>,
    traffic: Vec<Traffic>,
}

/// A timeline step: `action` at `at` milliseconds from the start.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) at: u64,
    pub(crate) action: Action,
}

/// What a step does. Calls are named by labels; the engine maps them to ids.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    Call {
        label: Arc<str>,
        from: String,
        to: String,
        via: Option<String>,
    },
    /// `by` answers; else `pick` chooses among the ringing members.
    Answer {
        label: Arc<str>,
        by: Option<String>,
        pick: Option<u64>,
    },
    Hold(Arc<str>),
    Resume(Arc<str>),
    Hangup(Arc<str>),
    Transfer {
        label: Arc<str>,
        to: String,
    },
    Park {
        label: Arc<str>,
        slot: Option<u32>,
    },
    Offline(String),
    Online(String),
    /// The next call of traffic generator `n` arrives.
    Arrival(usize),
}

/// A generator of random inbound traffic.
#[derive(Debug, Clone)]
pub(crate) struct Traffic {
    pub(crate) connection: String,
    pub(crate) calls_per_hour: f64,
    pub(crate) start: u64,
    pub(crate) stop: Option<u64>,
    pub(crate) callers: String,
    pub(crate) queues: Vec<String>,
    /// (number, has voicemail)
    pub(crate) extensions: Vec<(String, bool)>,
    pub(crate) queue_share: f64,
    pub(crate) answer_probability: f64,
    pub(crate) ring_time: Distribution,
    pub(crate) talk_time: Distribution,
    pub(crate) hold_probability: f64,
    pub(crate) hold_time: Distribution,
    pub(crate) park_probability: f64,
    pub(crate) park_time: Distribution,
    pub(crate) transfer_probability: f64,
    pub(crate) transfer_to: Vec<String>,
    pub(crate) voicemail_time: Distribution,
}

impl Scenario {
    /// Reads a scenario from TOML `text` (`origin`, a file name, prefixes error
    /// messages) and checks it against `pbx`. It acts in the admin group it
    /// names (`group = "Acme"`), or the PBX's first.
    pub fn from_toml_str(text: &str, origin: &str, pbx: &MemoryPbx) -> Result<Self, ScenarioError> {
        file::load(text, origin, pbx, file::Scope::Named)
    }

    /// Like [`Scenario::from_toml_str`], for a scenario started by `caller`: it
    /// acts in the caller's group; naming another group is an unknown name.
    pub fn for_caller(
        text: &str,
        origin: &str,
        pbx: &MemoryPbx,
        caller: &Caller,
    ) -> Result<Self, ScenarioError> {
        file::load(text, origin, pbx, file::Scope::Only(caller.group()))
    }

    /// Reads and checks the scenario file at `path`.
    pub fn from_toml_file(path: impl AsRef<Path>, pbx: &MemoryPbx) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string(), pbx)
    }

    /// The built-in scenario `name` ([`BUILTIN_SCENARIOS`]), checked against
    /// `pbx`; `None` when there is no such built-in.
    pub fn builtin(name: &str, pbx: &MemoryPbx) -> Option<Result<Self, ScenarioError>> {
        let (name, text) = BUILTIN_SCENARIOS.iter().find(|(n, _)| *n == name)?;
        Some(Self::from_toml_str(text, &format!("{name}.toml"), pbx))
    }

    /// A built-in name when `what` is one, otherwise a file to read.
    pub fn builtin_or_file(what: &str, pbx: &MemoryPbx) -> Result<Self, ScenarioError> {
        let path = Path::new(what);
        if path.exists() {
            return Self::from_toml_file(path, pbx);
        }
        Self::builtin(what, pbx).unwrap_or_else(|| {
            Err(ScenarioError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "no such file, and no built-in scenario of that name (built in: {})",
                        builtin_names()
                    ),
                ),
            })
        })
    }

    /// Its name (`name = ...`, or the file it came from).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its description, possibly empty.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The admin group it acts in.
    pub fn group(&self) -> &AdminGroupId {
        &self.group_id
    }

    /// Its length, when it has one (`duration = ...`); otherwise it ends with
    /// its last step (or never, with traffic that does not stop).
    pub fn duration(&self) -> Option<std::time::Duration> {
        self.duration.map(std::time::Duration::from_millis)
    }
}

fn builtin_names() -> String {
    BUILTIN_SCENARIOS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a scenario cannot be played.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read the scenario: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The scenario has problems (at least one), sorted by line.
    #[error("{}", problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// Every problem found.
        problems: Vec<Problem>,
        /// Whether one of them is a name the group does not have (a number, a
        /// connection, the group itself): `sim.play` answers "not found" then.
        unknown_names: bool,
    },
}

impl From<ScenarioError> for BackendError {
    /// Unknown names are "not found" (as everywhere outside the caller's
    /// group); other problems invalid input. The message holds the lines.
    fn from(e: ScenarioError) -> Self {
        match &e {
            ScenarioError::Invalid {
                unknown_names: true,
                ..
            } => BackendError::not_found(e.to_string()),
            ScenarioError::Invalid { .. } => BackendError::invalid_input(e.to_string()),
            ScenarioError::Read { .. } => BackendError::not_found(e.to_string()),
        }
    }
}
