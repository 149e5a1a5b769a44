//! The TOML form of a [`Config`], and where each part of it sits in the text.
//!
//! Parsing keeps every value's byte span ([`toml::Spanned`]) in a [`SourceMap`]
//! keyed by [`Loc`], so that the checks run later on the plain [`Config`] can
//! still name the line of whatever they find wrong.

use std::collections::HashMap;
use std::ops::Range;

use pbx_model::EntityKind;
use serde::Deserialize;
use toml::Spanned;

use super::{
    ActivityPeriod, AttendantConfig, Config, ConfigError, ConnectionConfig, ExtensionConfig,
    GroupConfig, ParkingConfig, Problem, QueueConfig, SimulationLimits, TimeOfDay, WebhookConfig,
    WebhookSecret, Weekday,
};
use crate::StorageLimits;

/// A place in a configuration, independent of its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Loc {
    /// The whole file.
    Root,
    TimeZone,
    Storage(StorageField),
    Simulation(SimulationField),
    Group(usize),
    GroupName(usize),
    /// (group, kind, index within the kind)
    Entity(usize, EntityKind, usize),
    Number(usize, EntityKind, usize),
    Name(usize, EntityKind, usize),
    Password(usize, usize),
    PasswordHash(usize, usize),
    /// (group, queue, member index)
    Member(usize, usize, usize),
    /// (group, attendant, weekday index)
    Weekday(usize, usize, usize),
    Start(usize, usize),
    End(usize, usize),
    Parking(usize),
    ParkingFirst(usize),
    ParkingSlots(usize),
    Connection(usize, usize),
    ConnectionName(usize, usize),
    /// (group, webhook)
    Webhook(usize, usize),
    WebhookUrl(usize, usize),
    /// `secret` or `secret_file`, whichever was given.
    WebhookSecret(usize, usize),
    /// (group, webhook, index in `events`)
    WebhookEvent(usize, usize, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum StorageField {
    KeyBytes,
    ValueBytes,
    Keys,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SimulationField {
    EventsPerSecond,
    LiveCalls,
}

impl Loc {
    /// The enclosing place, to fall back on when this one has no span.
    fn parent(self) -> Option<Loc> {
        Some(match self {
            Loc::Root => return None,
            Loc::TimeZone | Loc::Storage(_) | Loc::Simulation(_) | Loc::Group(_) => Loc::Root,
            Loc::GroupName(g) | Loc::Parking(g) | Loc::Entity(g, _, _) | Loc::Connection(g, _) => {
                Loc::Group(g)
            }
            Loc::Number(g, k, i) | Loc::Name(g, k, i) => Loc::Entity(g, k, i),
            Loc::Password(g, i) | Loc::PasswordHash(g, i) => {
                Loc::Entity(g, EntityKind::Extension, i)
            }
            Loc::Member(g, q, _) => Loc::Entity(g, EntityKind::Queue, q),
            Loc::Weekday(g, a, _) | Loc::Start(g, a) | Loc::End(g, a) => {
                Loc::Entity(g, EntityKind::Attendant, a)
            }
            Loc::ParkingFirst(g) | Loc::ParkingSlots(g) => Loc::Parking(g),
            Loc::ConnectionName(g, c) => Loc::Connection(g, c),
            Loc::Webhook(g, _) => Loc::Group(g),
            Loc::WebhookUrl(g, w) | Loc::WebhookSecret(g, w) | Loc::WebhookEvent(g, w, _) => {
                Loc::Webhook(g, w)
            }
        })
    }
}

/// Where each [`Loc`] of a configuration sits in its text, if it came from one.
#[derive(Debug, Default)]
pub(crate) struct SourceMap {
    origin: String,
    text: String,
    spans: HashMap<Loc, Range<usize>>,
    /// What reading found worth a warning without stopping the configuration.
    pub(crate) warnings: Vec<Problem>,
}

impl SourceMap {
    /// The map of a configuration built in code: no text, no lines.
    pub(crate) fn none() -> Self {
        Self {
            origin: "configuration".into(),
            ..Self::default()
        }
    }

    pub(crate) fn new(origin: &str, text: &str) -> Self {
        let mut spans = HashMap::new();
        spans.insert(Loc::Root, 0..0);
        Self {
            origin: origin.into(),
            text: text.into(),
            spans,
            warnings: Vec::new(),
        }
    }

    fn record<T>(&mut self, loc: Loc, value: &Spanned<T>) {
        self.spans.insert(loc, value.span());
    }

    /// A problem at `loc` (or the nearest enclosing place with a span).
    pub(crate) fn problem(&self, loc: Loc, message: impl Into<String>) -> Problem {
        let mut at = Some(loc);
        while let Some(l) = at {
            if let Some(span) = self.spans.get(&l) {
                return self.problem_at(Some(span.start), message.into());
            }
            at = l.parent();
        }
        self.problem_at(None, message.into())
    }

    /// The line of `loc`, for messages that point back at an earlier definition.
    pub(crate) fn line_of(&self, loc: Loc) -> Option<usize> {
        let mut at = Some(loc);
        while let Some(l) = at {
            if let Some(span) = self.spans.get(&l) {
                return Some(self.line_col(span.start).0);
            }
            at = l.parent();
        }
        None
    }

    pub(crate) fn problem_at(&self, offset: Option<usize>, message: String) -> Problem {
        let (line, column) = match offset {
            Some(offset) => {
                let (l, c) = self.line_col(offset);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Problem {
            origin: self.origin.clone(),
            line,
            column,
            message,
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

/// Parses TOML `text` into a [`Config`] and the spans of its parts. Syntax and
/// type errors, unknown keys, unknown weekdays and malformed times are reported
/// here; everything else when the PBX is built.
pub(crate) fn parse(text: &str, origin: &str) -> Result<(Config, SourceMap), ConfigError> {
    let mut map = SourceMap::new(origin, text);
    let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError::Invalid {
        problems: vec![map.problem_at(
            e.span().map(|s| s.start),
            crate::toml_message::plain(e.message()),
        )],
    })?;
    let mut problems = Vec::new();
    let config = raw.into_config(&mut map, &mut problems);
    if problems.is_empty() {
        Ok((config, map))
    } else {
        Err(ConfigError::Invalid { problems })
    }
}

/// A number written as a string (`"201"`) or as an integer (`201`).
#[derive(Debug)]
pub(crate) struct NumberText(pub(crate) String);

impl<'de> Deserialize<'de> for NumberText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = NumberText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number, as a string (\"201\") or an integer (201)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<NumberText, E> {
                Ok(NumberText(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<NumberText, E> {
                Ok(NumberText(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<NumberText, E> {
                Ok(NumberText(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    time_zone: Option<Spanned<String>>,
    simulation: Option<RawSimulation>,
    #[serde(default)]
    allow_plain_passwords: bool,
    storage: Option<RawStorage>,
    #[serde(default)]
    group: Vec<Spanned<RawGroup>>,
}

/// `simulation = true|false`, or a `[simulation]` table that also bounds it.
enum RawSimulation {
    Switch(bool),
    Table(RawSimulationTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSimulationTable {
    enabled: Option<bool>,
    max_events_per_second: Option<Spanned<u32>>,
    max_live_calls: Option<Spanned<usize>>,
}

impl<'de> Deserialize<'de> for RawSimulation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawSimulation;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true, false, or a [simulation] table")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<RawSimulation, E> {
                Ok(RawSimulation::Switch(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RawSimulation, A::Error> {
                RawSimulationTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawSimulation::Table)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    max_key_bytes: Option<Spanned<usize>>,
    max_value_bytes: Option<Spanned<usize>>,
    max_keys: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: Spanned<String>,
    #[serde(default)]
    extension: Vec<Spanned<RawExtension>>,
    #[serde(default)]
    queue: Vec<Spanned<RawQueue>>,
    #[serde(default)]
    attendant: Vec<Spanned<RawAttendant>>,
    parking: Option<Spanned<RawParking>>,
    #[serde(default)]
    connection: Vec<Spanned<RawConnection>>,
    #[serde(default)]
    webhook: Vec<Spanned<RawWebhook>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtension {
    number: Spanned<NumberText>,
    name: Spanned<String>,
    phone: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    voicemail: bool,
    password: Option<Spanned<String>>,
    password_hash: Option<Spanned<String>>,
    #[serde(default = "yes")]
    online: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    number: Spanned<NumberText>,
    name: Spanned<String>,
    phone: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    members: Vec<Spanned<NumberText>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttendant {
    number: Spanned<NumberText>,
    name: Spanned<String>,
    phone: Option<String>,
    #[serde(default)]
    email: String,
    weekdays: Option<Vec<Spanned<String>>>,
    start: Option<Spanned<String>>,
    end: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParking {
    first: Spanned<NumberText>,
    slots: Spanned<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConnection {
    name: Spanned<String>,
    #[serde(default)]
    outbound: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: Spanned<String>,
    secret: Option<Spanned<String>>,
    secret_file: Option<Spanned<String>>,
    events: Option<Vec<Spanned<String>>>,
}

/// The most bytes read from a `secret_file`: a secret is short, and a file
/// that is not (a device, a log) is a mistake to report, not to load.
const MAX_SECRET_FILE_BYTES: u64 = 4096;

/// A secret file read: its secret, and what is worth a warning about it.
struct SecretFile {
    secret: WebhookSecret,
    warning: Option<String>,
}

/// The secret in the file at `path` (relative paths from the directory of
/// the configuration file `origin`), without a final line break.
fn read_secret_file(path: &str, origin: &str) -> Result<SecretFile, String> {
    use std::io::Read as _;
    let path = std::path::Path::new(origin)
        .parent()
        .unwrap_or(std::path::Path::new(""))
        .join(path);
    let shown = path.display();
    // Before opening: opening a FIFO would block until a writer came.
    let is_file = std::fs::metadata(&path).map(|m| m.is_file());
    if matches!(is_file, Ok(false)) {
        return Err(format!("webhook secret_file {shown}: not a regular file"));
    }
    let file = std::fs::File::open(&path)
        .map_err(|e| format!("webhook secret_file {shown}: cannot open it: {e}"))?;
    let metadata = file.metadata().ok().filter(std::fs::Metadata::is_file);
    let Some(metadata) = metadata else {
        return Err(format!("webhook secret_file {shown}: not a regular file"));
    };
    let warning = open_to_others(&metadata).map(|mode| {
        format!(
            "webhook secret_file {shown} is open to others than its owner (mode {mode:03o}): \
             whoever reads it can sign events; make it readable by its owner only: \
             chmod 600 {shown}"
        )
    });
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("webhook secret_file {shown}: cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(format!(
            "webhook secret_file {shown}: longer than {MAX_SECRET_FILE_BYTES} bytes"
        ));
    }
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    Ok(SecretFile {
        secret: WebhookSecret::new(bytes),
        warning,
    })
}

/// The permission bits of a file its group or others may use, if any (as
/// `--metrics-token-file` checks); a warning, not a refusal, since files
/// checked out of git are 0644 and an upgrade must not lock anyone out.
#[cfg(unix)]
fn open_to_others(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// Elsewhere permissions are not Unix modes: nothing is checked.
#[cfg(not(unix))]
fn open_to_others(_metadata: &std::fs::Metadata) -> Option<u32> {
    None
}

impl RawFile {
    fn into_config(self, map: &mut SourceMap, problems: &mut Vec<Problem>) -> Config {
        let defaults = StorageLimits::default();
        let mut storage = defaults;
        if let Some(raw) = self.storage {
            let mut take = |field, value: Option<Spanned<usize>>, default| match value {
                Some(v) => {
                    map.record(Loc::Storage(field), &v);
                    v.into_inner()
                }
                None => default,
            };
            storage.max_key_bytes = take(
                StorageField::KeyBytes,
                raw.max_key_bytes,
                defaults.max_key_bytes,
            );
            storage.max_value_bytes = take(
                StorageField::ValueBytes,
                raw.max_value_bytes,
                defaults.max_value_bytes,
            );
            storage.max_keys = take(StorageField::Keys, raw.max_keys, defaults.max_keys);
        }
        let mut simulation_limits = SimulationLimits::default();
        let simulation = match self.simulation {
            None => true,
            Some(RawSimulation::Switch(on)) => on,
            Some(RawSimulation::Table(raw)) => {
                if let Some(v) = raw.max_events_per_second {
                    map.record(Loc::Simulation(SimulationField::EventsPerSecond), &v);
                    simulation_limits.max_events_per_second = v.into_inner();
                }
                if let Some(v) = raw.max_live_calls {
                    map.record(Loc::Simulation(SimulationField::LiveCalls), &v);
                    simulation_limits.max_live_calls = v.into_inner();
                }
                raw.enabled.unwrap_or(true)
            }
        };
        let time_zone = match self.time_zone {
            Some(tz) => {
                map.record(Loc::TimeZone, &tz);
                tz.into_inner()
            }
            None => Config::default().time_zone,
        };
        let groups = self
            .group
            .into_iter()
            .enumerate()
            .map(|(g, raw)| {
                map.record(Loc::Group(g), &raw);
                raw.into_inner().into_config(g, map, problems)
            })
            .collect();
        Config {
            time_zone,
            simulation,
            simulation_limits,
            allow_plain_passwords: self.allow_plain_passwords,
            storage,
            groups,
        }
    }
}

impl RawGroup {
    fn into_config(
        self,
        g: usize,
        map: &mut SourceMap,
        problems: &mut Vec<Problem>,
    ) -> GroupConfig {
        use EntityKind::{Attendant, Extension, Queue};
        map.record(Loc::GroupName(g), &self.name);
        let extensions = self
            .extension
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                map.record(Loc::Entity(g, Extension, i), &raw);
                let raw = raw.into_inner();
                map.record(Loc::Number(g, Extension, i), &raw.number);
                map.record(Loc::Name(g, Extension, i), &raw.name);
                if let Some(p) = &raw.password {
                    map.record(Loc::Password(g, i), p);
                }
                if let Some(p) = &raw.password_hash {
                    map.record(Loc::PasswordHash(g, i), p);
                }
                ExtensionConfig {
                    number: raw.number.into_inner().0,
                    name: raw.name.into_inner(),
                    phone: raw.phone,
                    email: raw.email,
                    voicemail: raw.voicemail,
                    password: raw.password.map(Spanned::into_inner),
                    password_hash: raw.password_hash.map(Spanned::into_inner),
                    online: raw.online,
                }
            })
            .collect();
        let queues = self
            .queue
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                map.record(Loc::Entity(g, Queue, i), &raw);
                let raw = raw.into_inner();
                map.record(Loc::Number(g, Queue, i), &raw.number);
                map.record(Loc::Name(g, Queue, i), &raw.name);
                let members = raw
                    .members
                    .into_iter()
                    .enumerate()
                    .map(|(m, member)| {
                        map.record(Loc::Member(g, i, m), &member);
                        member.into_inner().0
                    })
                    .collect();
                QueueConfig {
                    number: raw.number.into_inner().0,
                    name: raw.name.into_inner(),
                    phone: raw.phone,
                    email: raw.email,
                    members,
                }
            })
            .collect();
        let attendants = self
            .attendant
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                map.record(Loc::Entity(g, Attendant, i), &raw);
                let raw = raw.into_inner();
                map.record(Loc::Number(g, Attendant, i), &raw.number);
                map.record(Loc::Name(g, Attendant, i), &raw.name);
                let what = format!(
                    "attendant {} of group {:?}",
                    raw.number.get_ref().0,
                    self.name.get_ref()
                );
                let mut active = ActivityPeriod::always();
                if let Some(days) = raw.weekdays {
                    active.weekdays.clear();
                    for (d, day) in days.into_iter().enumerate() {
                        map.record(Loc::Weekday(g, i, d), &day);
                        match day.get_ref().parse::<Weekday>() {
                            Ok(w) => active.weekdays.push(w),
                            Err(e) => {
                                problems.push(
                                    map.problem(Loc::Weekday(g, i, d), format!("{what}: {e}")),
                                );
                            }
                        }
                    }
                }
                let mut time = |loc, field, value: Option<Spanned<String>>, default| match value {
                    Some(v) => {
                        map.record(loc, &v);
                        v.get_ref().parse::<TimeOfDay>().unwrap_or_else(|e| {
                            problems.push(map.problem(loc, format!("{what}: {field}: {e}")));
                            default
                        })
                    }
                    None => default,
                };
                active.start = time(Loc::Start(g, i), "start", raw.start, TimeOfDay::MIDNIGHT);
                active.end = time(Loc::End(g, i), "end", raw.end, TimeOfDay::END_OF_DAY);
                AttendantConfig {
                    number: raw.number.into_inner().0,
                    name: raw.name.into_inner(),
                    phone: raw.phone,
                    email: raw.email,
                    active,
                }
            })
            .collect();
        let parking = self.parking.map(|raw| {
            map.record(Loc::Parking(g), &raw);
            let raw = raw.into_inner();
            map.record(Loc::ParkingFirst(g), &raw.first);
            map.record(Loc::ParkingSlots(g), &raw.slots);
            ParkingConfig {
                first_number: raw.first.into_inner().0,
                slots: raw.slots.into_inner(),
            }
        });
        let connections = self
            .connection
            .into_iter()
            .enumerate()
            .map(|(c, raw)| {
                map.record(Loc::Connection(g, c), &raw);
                let raw = raw.into_inner();
                map.record(Loc::ConnectionName(g, c), &raw.name);
                ConnectionConfig {
                    name: raw.name.into_inner(),
                    outbound: raw.outbound,
                }
            })
            .collect();
        let webhooks = self
            .webhook
            .into_iter()
            .enumerate()
            .map(|(w, raw)| {
                map.record(Loc::Webhook(g, w), &raw);
                let raw = raw.into_inner();
                raw.into_config(g, w, self.name.get_ref(), map, problems)
            })
            .collect();
        GroupConfig {
            name: self.name.into_inner(),
            extensions,
            queues,
            attendants,
            parking,
            connections,
            webhooks,
        }
    }
}

impl RawWebhook {
    fn into_config(
        self,
        g: usize,
        w: usize,
        group: &str,
        map: &mut SourceMap,
        problems: &mut Vec<Problem>,
    ) -> WebhookConfig {
        map.record(Loc::WebhookUrl(g, w), &self.url);
        let secret =
            match (self.secret, self.secret_file) {
                (Some(secret), None) => {
                    map.record(Loc::WebhookSecret(g, w), &secret);
                    WebhookSecret::new(secret.into_inner())
                }
                (None, Some(file)) => {
                    map.record(Loc::WebhookSecret(g, w), &file);
                    let origin = map.origin.clone();
                    match read_secret_file(file.get_ref(), &origin) {
                        Ok(read) => {
                            if let Some(why) = read.warning {
                                let warning = map.problem(
                                    Loc::WebhookSecret(g, w),
                                    format!("group {group:?}: {why}"),
                                );
                                map.warnings.push(warning);
                            }
                            read.secret
                        }
                        Err(why) => {
                            problems.push(map.problem(
                                Loc::WebhookSecret(g, w),
                                format!("group {group:?}: {why}"),
                            ));
                            // Long enough not to add a second problem about its length.
                            WebhookSecret::new(vec![0; WebhookConfig::MIN_SECRET_BYTES])
                        }
                    }
                }
                (secret, file) => {
                    let both = secret.is_some() && file.is_some();
                    if let Some(file) = &file {
                        map.record(Loc::WebhookSecret(g, w), file);
                    }
                    problems.push(map.problem(
                        Loc::WebhookSecret(g, w),
                        if both {
                            format!(
                                "group {group:?}: a webhook has `secret` or `secret_file`, not both"
                            )
                        } else {
                            format!(
                                "group {group:?}: a webhook needs `secret` or `secret_file` \
                             (at least {} bytes)",
                                WebhookConfig::MIN_SECRET_BYTES
                            )
                        },
                    ));
                    WebhookSecret::new(vec![0; WebhookConfig::MIN_SECRET_BYTES])
                }
            };
        let mut events = Vec::new();
        for (i, name) in self.events.unwrap_or_default().into_iter().enumerate() {
            map.record(Loc::WebhookEvent(g, w, i), &name);
            match pbx_backend::webhook::parse_event_kind(name.get_ref()) {
                Ok(kind) if !events.contains(&kind) => events.push(kind),
                Ok(_) => {}
                Err(why) => problems.push(map.problem(
                    Loc::WebhookEvent(g, w, i),
                    format!("group {group:?}: webhook events: {why}"),
                )),
            }
        }
        WebhookConfig {
            url: self.url.into_inner(),
            secret,
            events,
        }
    }
}
