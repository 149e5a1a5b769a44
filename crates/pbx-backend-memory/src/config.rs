//! The PBX configuration: plain structs anyone can build, and their TOML form.
//!
//! [`Config`] and its parts are what [`MemoryPbx::new`](crate::MemoryPbx::new)
//! takes; [`Config::from_toml_str`] reads their TOML form
//! ([`DEMO_CONFIG`](crate::DEMO_CONFIG) is a complete file). Whether a configuration makes sense (unique numbers,
//! queue members in the group, a known time zone, ...) is checked when a
//! [`MemoryPbx`](crate::MemoryPbx) is built from it, and reported as a
//! [`ConfigError`] naming the file, line and problem when it came from TOML.

pub(crate) mod file;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::StorageLimits;
pub use pbx_backend::webhook::{WebhookConfig, WebhookSecret};

pub(crate) use file::{Loc, SimulationField, SourceMap, StorageField};

/// A whole PBX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The IANA name of the PBX's time zone (`"Europe/Berlin"`): attendants'
    /// activity periods are local times there. Default `"UTC"`.
    pub time_zone: String,
    /// Whether the simulation controls (`sim.*`) are open. Default `true`; when
    /// `false` every control answers permission denied.
    pub simulation: bool,
    /// Bounds on the simulation in each admin group (`[simulation]`).
    pub simulation_limits: SimulationLimits,
    /// Per-user storage limits.
    pub storage: StorageLimits,
    /// Whether extensions may carry a plain-text `password` (demos and tests);
    /// otherwise only `password_hash`. Default `false`.
    pub allow_plain_passwords: bool,
    /// The admin groups, in order: entity ids are handed out in this order.
    pub groups: Vec<GroupConfig>,
}

impl Default for Config {
    /// No groups, UTC, simulation on within the default bounds, default
    /// storage limits, no plain passwords.
    fn default() -> Self {
        Self {
            time_zone: "UTC".into(),
            simulation: true,
            simulation_limits: SimulationLimits::default(),
            storage: StorageLimits::default(),
            allow_plain_passwords: false,
            groups: Vec::new(),
        }
    }
}

/// Bounds on what the simulation does in each admin group, so that no
/// client's scenario or calls can take the server's CPU or memory from
/// everyone else (`[simulation]` in the TOML form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulationLimits {
    /// The most scenario steps applied per second (of real time) in a group,
    /// whatever speed and traffic rate a scenario asks for: a scenario that
    /// asks for more plays slower. Default 200; 1 to
    /// [`SimulationLimits::MAX_EVENTS_PER_SECOND`].
    pub max_events_per_second: u32,
    /// The most live call records in a group: `sim.call`, and a scenario's
    /// calls, are refused with "limit reached" once the group holds this
    /// many (a queue call counts each of its records). Default 500; 1 to
    /// [`SimulationLimits::MAX_LIVE_CALLS`].
    pub max_live_calls: usize,
}

impl SimulationLimits {
    /// The highest `max_events_per_second` a configuration may set.
    pub const MAX_EVENTS_PER_SECOND: u32 = 100_000;
    /// The highest `max_live_calls` a configuration may set.
    pub const MAX_LIVE_CALLS: usize = 100_000;

    /// What is wrong with these bounds, by field.
    pub(crate) fn problems(&self) -> Vec<(SimulationField, String)> {
        let mut problems = Vec::new();
        let events = self.max_events_per_second;
        if !(1..=Self::MAX_EVENTS_PER_SECOND).contains(&events) {
            problems.push((
                SimulationField::EventsPerSecond,
                format!(
                    "simulation max_events_per_second must be 1 to {}, not {events}",
                    Self::MAX_EVENTS_PER_SECOND
                ),
            ));
        }
        let calls = self.max_live_calls;
        if !(1..=Self::MAX_LIVE_CALLS).contains(&calls) {
            problems.push((
                SimulationField::LiveCalls,
                format!(
                    "simulation max_live_calls must be 1 to {}, not {calls}",
                    Self::MAX_LIVE_CALLS
                ),
            ));
        }
        problems
    }
}

impl Default for SimulationLimits {
    /// 200 scenario steps per second and 500 live call records per group.
    fn default() -> Self {
        Self {
            max_events_per_second: 200,
            max_live_calls: 500,
        }
    }
}

/// An admin group and everything in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupConfig {
    /// The group's name, unique in the PBX.
    pub name: String,
    /// Its extensions.
    pub extensions: Vec<ExtensionConfig>,
    /// Its queues.
    pub queues: Vec<QueueConfig>,
    /// Its attendants.
    pub attendants: Vec<AttendantConfig>,
    /// Its parking lot; without one the group reports zero slots and cannot park.
    pub parking: Option<ParkingConfig>,
    /// Its external connections. The first carries inbound calls placed
    /// without a connection name; transfers to outside numbers use the first
    /// one that allows outbound calls.
    pub connections: Vec<ConnectionConfig>,
    /// Where its events are POSTed, signed (`[[group.webhook]]`): the
    /// operator's endpoints, delivered by the `pbx-webhooks` crate.
    pub webhooks: Vec<WebhookConfig>,
}

impl GroupConfig {
    /// An empty group named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// A phone extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionConfig {
    /// The number dialled to reach it (digits only, unique in the PBX).
    pub number: String,
    /// Display name (`callerid.name`).
    pub name: String,
    /// Complete phone number (`callerid.phone`); `None` shows the number.
    pub phone: Option<String>,
    /// External email address (may be empty).
    pub email: String,
    /// Whether it has a voicemail box (`vm-<number>`).
    pub voicemail: bool,
    /// Self-care password in plain text, allowed only with
    /// [`Config::allow_plain_passwords`]: an extension with a password or a
    /// password hash is a user of the API.
    pub password: Option<String>,
    /// Self-care password as an argon2id PHC string
    /// ([`hash_password`](crate::hash_password), `switchboard hash-password`).
    pub password_hash: Option<String>,
    /// Whether its phone is registered in the configured state.
    pub online: bool,
}

impl ExtensionConfig {
    /// An online extension without voicemail, email or password.
    pub fn new(number: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            number: number.into(),
            name: name.into(),
            phone: None,
            email: String::new(),
            voicemail: false,
            password: None,
            password_hash: None,
            online: true,
        }
    }
}

/// A call queue: calls to it ring every online, idle member at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Its number.
    pub number: String,
    /// Display name.
    pub name: String,
    /// Complete phone number; `None` shows the number.
    pub phone: Option<String>,
    /// External email address (may be empty).
    pub email: String,
    /// Member extension numbers of the same group, in ringing order.
    pub members: Vec<String>,
}

impl QueueConfig {
    /// A queue with these members.
    pub fn new(
        number: impl Into<String>,
        name: impl Into<String>,
        members: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            number: number.into(),
            name: name.into(),
            phone: None,
            email: String::new(),
            members: members.into_iter().map(Into::into).collect(),
        }
    }
}

/// An auto-attendant (IVR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendantConfig {
    /// Its number.
    pub number: String,
    /// Display name.
    pub name: String,
    /// Complete phone number; `None` shows the number.
    pub phone: Option<String>,
    /// External email address (may be empty).
    pub email: String,
    /// When it is active (online).
    pub active: ActivityPeriod,
}

impl AttendantConfig {
    /// An attendant active during `active`.
    pub fn new(number: impl Into<String>, name: impl Into<String>, active: ActivityPeriod) -> Self {
        Self {
            number: number.into(),
            name: name.into(),
            phone: None,
            email: String::new(),
            active,
        }
    }
}

/// When an attendant is active: on `weekdays`, from `start` until `end` local
/// time. A window whose end lies before its start runs past midnight into the
/// next day (a night service from 18:00 to 08:00); its weekday is the day it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPeriod {
    /// The days on which the window opens.
    pub weekdays: Vec<Weekday>,
    /// Start of the daily window (inclusive).
    pub start: TimeOfDay,
    /// End of the daily window (exclusive); may be 24:00.
    pub end: TimeOfDay,
}

impl ActivityPeriod {
    /// Every day, all day.
    pub fn always() -> Self {
        Self {
            weekdays: Weekday::ALL.to_vec(),
            start: TimeOfDay::MIDNIGHT,
            end: TimeOfDay::END_OF_DAY,
        }
    }

    /// Never active.
    pub fn never() -> Self {
        Self {
            weekdays: Vec::new(),
            start: TimeOfDay::MIDNIGHT,
            end: TimeOfDay::END_OF_DAY,
        }
    }

    /// Whether the period covers `weekday` at `time` local time.
    pub fn is_active(&self, weekday: Weekday, time: TimeOfDay) -> bool {
        let on = |day: Weekday| self.weekdays.contains(&day);
        if self.start < self.end {
            on(weekday) && self.start <= time && time < self.end
        } else {
            // Past midnight: the evening part today, or the morning part of
            // yesterday's window.
            (on(weekday) && time >= self.start) || (on(weekday.previous()) && time < self.end)
        }
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Weekday {
    /// `mon`
    Monday,
    /// `tue`
    Tuesday,
    /// `wed`
    Wednesday,
    /// `thu`
    Thursday,
    /// `fri`
    Friday,
    /// `sat`
    Saturday,
    /// `sun`
    Sunday,
}

impl Weekday {
    /// Monday to Sunday.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// The three-letter name used in configuration files (`"mon"`).
    pub fn short_name(self) -> &'static str {
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][self.index()]
    }

    /// The day before.
    pub fn previous(self) -> Weekday {
        Self::ALL[(self.index() + 6) % 7]
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

impl FromStr for Weekday {
    type Err = String;

    /// `"mon"` or `"monday"`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|d| {
                let short = d.short_name();
                lower == short || lower == format!("{d:?}").to_ascii_lowercase()
            })
            .ok_or_else(|| {
                format!(
                    "unknown weekday {s:?} (expected one of: mon, tue, wed, thu, fri, sat, sun)"
                )
            })
    }
}

/// A time of day to the minute, from 00:00 to 24:00 inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeOfDay {
    minutes: u16,
}

impl TimeOfDay {
    /// 00:00.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay { minutes: 0 };
    /// 24:00, the end of the day (valid as the end of a window only).
    pub const END_OF_DAY: TimeOfDay = TimeOfDay { minutes: 24 * 60 };

    /// `hour:minute`, or `None` when out of range (24:00 is allowed).
    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        let minutes = u16::from(hour) * 60 + u16::from(minute);
        (minute < 60 && minutes <= 24 * 60).then_some(Self { minutes })
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.minutes
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

impl FromStr for TimeOfDay {
    type Err = String;

    /// `"HH:MM"`, from `"00:00"` to `"24:00"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid time {s:?} (expected HH:MM between 00:00 and 24:00)");
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let two_digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(bad());
        }
        let hour = h.parse().map_err(|_| bad())?;
        let minute = m.parse().map_err(|_| bad())?;
        Self::new(hour, minute).ok_or_else(bad)
    }
}

/// A parking lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkingConfig {
    /// The number of slot 1; slot `k` is `first_number + k - 1`.
    pub first_number: String,
    /// How many slots (1 to 1000).
    pub slots: u32,
}

/// An external connection (trunk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Its name, shown in a call's `via`; unique in the group.
    pub name: String,
    /// Whether transfers to outside numbers may use it.
    pub outbound: bool,
}

impl Config {
    /// Reads a configuration from TOML `text`; `origin` (a file name) prefixes
    /// error messages. The result is also checked, so that every problem is
    /// reported with its line.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        Self::from_toml_str_with_warnings(text, origin).map(|(config, _)| config)
    }

    /// [`from_toml_str`](Self::from_toml_str), and what deserves a warning
    /// without making the configuration unusable, each with its line: a
    /// webhook `secret_file` its group or others may read or write (on Unix;
    /// elsewhere nothing is checked). A warning never holds a secret.
    pub fn from_toml_str_with_warnings(
        text: &str,
        origin: &str,
    ) -> Result<(Config, Vec<Problem>), ConfigError> {
        let (config, map) = file::parse(text, origin)?;
        crate::directory::Directory::build(&config, &map)?;
        Ok((config, map.warnings))
    }

    /// Reads and checks the configuration file at `path`.
    pub fn from_toml_file(path: impl Into<PathBuf>) -> Result<Config, ConfigError> {
        let path = path.into();
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the configuration: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration has problems (at least one), sorted by line.
    #[error("{}", display_problems(.problems))]
    Invalid {
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

fn display_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One thing wrong with a configuration, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file name (or `"configuration"` for one built in code).
    pub origin: String,
    /// 1-based line, when the configuration came from text.
    pub line: Option<usize>,
    /// 1-based column (in characters), when the configuration came from text.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    /// `origin:line:column: message`, or `origin: message` without a location.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "{}:{line}:{column}: {}", self.origin, self.message)
            }
            (Some(line), None) => write!(f, "{}:{line}: {}", self.origin, self.message),
            _ => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TimeOfDay {
        s.parse().expect("a valid time")
    }

    #[test]
    fn windows_past_midnight_belong_to_the_day_they_start() {
        let night = ActivityPeriod {
            weekdays: vec![Weekday::Friday],
            start: t("18:00"),
            end: t("08:00"),
        };
        assert!(night.is_active(Weekday::Friday, t("23:59")));
        assert!(night.is_active(Weekday::Saturday, t("07:59")));
        assert!(!night.is_active(Weekday::Saturday, t("08:00")));
        assert!(!night.is_active(Weekday::Friday, t("07:00")));
        assert!(!night.is_active(Weekday::Saturday, t("18:00")));
    }

    #[test]
    fn times_and_weekdays_parse_strictly() {
        assert_eq!(t("24:00"), TimeOfDay::END_OF_DAY);
        for bad in ["24:01", "8:00", "08:60", "0800", "-1:00", ""] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
        assert_eq!("Monday".parse(), Ok(Weekday::Monday));
        assert_eq!("SUN".parse(), Ok(Weekday::Sunday));
        assert!("mo".parse::<Weekday>().is_err());
        assert_eq!(Weekday::Monday.previous(), Weekday::Sunday);
    }
}
