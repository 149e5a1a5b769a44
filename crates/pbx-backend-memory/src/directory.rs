//! The PBX's fixed part, checked and indexed: groups, entities, numbers, users.
//!
//! Built once from a [`Config`] and never changed, so every operation reads it
//! without a lock. The live part (presence, calls, parking) is in [`crate::live`].

use std::collections::HashMap;

use jiff::tz::TimeZone;
use pbx_model::{AdminGroupId, CallerId, Entity, EntityId, EntityKind, Presence};

use crate::config::{ActivityPeriod, ConnectionConfig, Loc, SourceMap, StorageField};
use crate::credentials::{self, Credential};
use crate::{Config, ConfigError, StorageLimits};

/// The longest internal number, in digits.
const MAX_NUMBER_DIGITS: usize = 15;
/// The longest outside number, in digits.
const MAX_OUTSIDE_DIGITS: usize = 20;
/// The most slots a parking lot may have.
const MAX_PARKING_SLOTS: u32 = 1000;

/// What a number of a group dials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Local {
    Extension(usize),
    Queue(usize),
    Attendant(usize),
    /// 0-based slot index.
    ParkingSlot(usize),
}

/// An extension's number and name are its record's (`Group::records`), kept
/// once: a hosted PBX has hundreds of thousands of extensions.
#[derive(Debug)]
pub(crate) struct Extension {
    pub(crate) voicemail: bool,
    /// The self-care password or its hash: an extension with one is a user.
    pub(crate) credential: Option<Credential>,
    pub(crate) online: bool,
}

/// A group's numbers and what each dials: sorted `(key, Local)` pairs, the
/// key packing a number's digits and its length (so `007` and `7` differ).
/// Internal numbers are 1 to 15 digits, which fit: no string is kept per
/// number, where a `HashMap<String, Local>` held one (a hosted PBX has
/// hundreds of thousands of numbers).
#[derive(Debug, Default)]
pub(crate) struct Numbers {
    sorted: Vec<(u64, Local)>,
    /// Whether `sorted` is sorted: [`Numbers::seal`] ends the building.
    sealed: bool,
}

impl Numbers {
    /// The key of an internal number; `None` for anything else.
    fn key(number: &str) -> Option<u64> {
        if !is_internal_number(number) {
            return None;
        }
        let value = number
            .bytes()
            .fold(0_u64, |n, digit| n * 10 + u64::from(digit - b'0'));
        // At most 15 digits: the value is below 2^50, the length below 16.
        Some(value << 4 | number.len() as u64)
    }

    /// Adds `number` (an internal number: others are never dialled locally).
    fn insert(&mut self, number: &str, local: Local) {
        if let Some(key) = Self::key(number) {
            self.sorted.push((key, local));
            self.sealed = false;
        }
    }

    /// Sorts what was inserted, for [`get`](Self::get).
    fn seal(&mut self) {
        self.sorted.sort_unstable_by_key(|&(key, _)| key);
        self.sorted.shrink_to_fit();
        self.sealed = true;
    }

    /// What `number` dials in the group.
    pub(crate) fn get(&self, number: &str) -> Option<&Local> {
        debug_assert!(
            self.sealed,
            "numbers looked up before the directory was built"
        );
        let key = Self::key(number)?;
        let at = self.sorted.binary_search_by_key(&key, |&(k, _)| k).ok()?;
        self.sorted.get(at).map(|(_, local)| local)
    }

    /// The most digits any number has (0 for none).
    fn max_digits(&self) -> usize {
        self.sorted
            .iter()
            .map(|&(key, _)| (key & 0xf) as usize)
            .max()
            .unwrap_or(0)
    }
}

#[derive(Debug)]
pub(crate) struct Queue {
    pub(crate) number: String,
    pub(crate) name: String,
    /// Indices into the group's extensions, in ringing order.
    pub(crate) members: Vec<usize>,
}

#[derive(Debug)]
pub(crate) struct Attendant {
    pub(crate) number: String,
    pub(crate) name: String,
    pub(crate) active: ActivityPeriod,
}

#[derive(Debug)]
pub(crate) struct Parking {
    pub(crate) first_number: String,
    /// The number of each slot.
    pub(crate) numbers: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) id: AdminGroupId,
    pub(crate) extensions: Vec<Extension>,
    pub(crate) queues: Vec<Queue>,
    pub(crate) attendants: Vec<Attendant>,
    /// The group's index in the directory (the index of its live state).
    pub(crate) index: usize,
    pub(crate) numbers: Numbers,
    /// The most digits any number of this group has: longer digit strings are
    /// outside numbers. The group's own, so that no other group's numbers
    /// change what its users may dial.
    max_internal_digits: usize,
    pub(crate) parking: Parking,
    pub(crate) connections: Vec<ConnectionConfig>,
    /// The group's `get_extensions` records in order (extensions, queues,
    /// attendants), presence to be filled in.
    pub(crate) records: Vec<Entity>,
}

// Entity ids are numbered per group and per type, from 1 in configuration
// order: another group's size or order shows in none of them.
impl Group {
    pub(crate) fn extension_id(&self, index: usize) -> EntityId {
        entity_id(index)
    }

    pub(crate) fn queue_id(&self, index: usize) -> EntityId {
        entity_id(index)
    }

    pub(crate) fn attendant_id(&self, index: usize) -> EntityId {
        entity_id(index)
    }

    /// The number dialled to reach extension `index` ("" for none).
    pub(crate) fn extension_number(&self, index: usize) -> &str {
        self.extension_record(index)
            .map_or("", |r| r.abbreviated.as_str())
    }

    /// The name of extension `index` ("" for none).
    pub(crate) fn extension_name(&self, index: usize) -> &str {
        self.extension_record(index)
            .map_or("", |r| r.caller_id.name.as_str())
    }

    /// The records start with the extensions, in order.
    fn extension_record(&self, index: usize) -> Option<&Entity> {
        (index < self.extensions.len())
            .then(|| self.records.get(index))
            .flatten()
    }

    /// The index of the extension with `id`, when it is in this group.
    pub(crate) fn extension_index(&self, id: EntityId) -> Option<usize> {
        entity_index(id, self.extensions.len())
    }

    /// Whether the entity with `kind` and `id` is in this group.
    pub(crate) fn contains(&self, kind: EntityKind, id: EntityId) -> bool {
        let len = match kind {
            EntityKind::Extension => self.extensions.len(),
            EntityKind::Queue => self.queues.len(),
            EntityKind::Attendant => self.attendants.len(),
            _ => return false,
        };
        entity_index(id, len).is_some()
    }

    /// Whether `text` is a number outside the PBX for this group: `+` and
    /// digits, or more digits than any number of the group has. Depends on
    /// nothing but the text and the group's own numbers, so it reveals
    /// nothing about other groups.
    pub(crate) fn is_outside_number(&self, text: &str) -> bool {
        let (plus, digits) = match text.strip_prefix('+') {
            Some(d) => (true, d),
            None => (false, text),
        };
        !digits.is_empty()
            && digits.len() <= MAX_OUTSIDE_DIGITS
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (plus || digits.len() > self.max_internal_digits)
    }

    pub(crate) fn slots(&self) -> usize {
        self.parking.numbers.len()
    }
}

fn entity_id(index: usize) -> EntityId {
    // Building checked that every id fits.
    EntityId(u32::try_from(index).unwrap_or(u32::MAX).saturating_add(1))
}

/// The index of the entity with `id` among `len` of its type, if there is one.
fn entity_index(id: EntityId, len: usize) -> Option<usize> {
    let index = usize::try_from(id.0.checked_sub(1)?).ok()?;
    (index < len).then_some(index)
}

/// The whole fixed PBX.
#[derive(Debug)]
pub(crate) struct Directory {
    pub(crate) groups: Vec<Group>,
    group_index: HashMap<String, usize>,
    /// User number → (group, extension index), for extensions with a password.
    users: HashMap<String, (usize, usize)>,
    pub(crate) time_zone: TimeZone,
    pub(crate) limits: StorageLimits,
    pub(crate) simulation: bool,
    pub(crate) simulation_limits: crate::SimulationLimits,
}

impl Directory {
    pub(crate) fn group_index(&self, id: &AdminGroupId) -> Option<usize> {
        self.group_index.get(id.as_str()).copied()
    }

    pub(crate) fn user(&self, number: &str) -> Option<(usize, usize)> {
        self.users.get(number).copied()
    }

    /// Checks `config` and indexes it; `map` locates problems in its text.
    pub(crate) fn build(config: &Config, map: &SourceMap) -> Result<Directory, ConfigError> {
        let mut b = Builder {
            map,
            problems: Vec::new(),
            taken: HashMap::new(),
        };
        let dir = b.build(config);
        if b.problems.is_empty() {
            Ok(dir)
        } else {
            let mut problems = b.problems;
            problems.sort_by_key(|p| (p.line, p.column));
            Err(ConfigError::Invalid { problems })
        }
    }
}

struct Builder<'a> {
    map: &'a SourceMap,
    problems: Vec<crate::Problem>,
    /// Number → what took it first, and where.
    taken: HashMap<String, (String, Loc)>,
}

impl Builder<'_> {
    fn problem(&mut self, loc: Loc, message: impl Into<String>) {
        self.problems.push(self.map.problem(loc, message));
    }

    fn at_line(&self, loc: Loc) -> String {
        self.map
            .line_of(loc)
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default()
    }

    fn first_at(&self, loc: Loc) -> String {
        self.map
            .line_of(loc)
            .map(|l| format!(" (first at line {l})"))
            .unwrap_or_default()
    }

    /// Claims `number` PBX-wide for `what`; false when it is malformed or taken.
    fn claim(&mut self, number: &str, what: String, loc: Loc) -> bool {
        if !is_internal_number(number) {
            self.problem(
                loc,
                format!(
                    "{what}: invalid number {number:?} (expected 1 to {MAX_NUMBER_DIGITS} digits)"
                ),
            );
            return false;
        }
        if let Some((first, first_loc)) = self.taken.get(number) {
            let message = format!(
                "{what}: number {number} is already used by {first}{}",
                self.at_line(*first_loc)
            );
            self.problem(loc, message);
            return false;
        }
        self.taken.insert(number.to_string(), (what, loc));
        true
    }

    fn build(&mut self, config: &Config) -> Directory {
        let time_zone = match TimeZone::get(&config.time_zone) {
            Ok(tz) => tz,
            Err(_) => {
                self.problem(
                    Loc::TimeZone,
                    format!(
                        "unknown time zone {:?} (expected an IANA name such as \"Europe/Berlin\" or \"UTC\")",
                        config.time_zone
                    ),
                );
                TimeZone::UTC
            }
        };
        let limits = config.storage;
        for (field, value, name) in [
            (
                StorageField::KeyBytes,
                limits.max_key_bytes,
                "max_key_bytes",
            ),
            (
                StorageField::ValueBytes,
                limits.max_value_bytes,
                "max_value_bytes",
            ),
            (StorageField::Keys, limits.max_keys, "max_keys"),
        ] {
            if value == 0 {
                self.problem(
                    Loc::Storage(field),
                    format!("storage {name} must be at least 1"),
                );
            }
        }
        for (field, message) in config.simulation_limits.problems() {
            self.problem(Loc::Simulation(field), message);
        }
        if config.groups.is_empty() {
            self.problem(
                Loc::Root,
                "no admin group is defined (add a [[group]] table)",
            );
        }

        let mut group_index = HashMap::new();
        let mut users = HashMap::new();
        let mut groups = Vec::with_capacity(config.groups.len());
        for (g, gc) in config.groups.iter().enumerate() {
            if gc.name.trim().is_empty() {
                self.problem(Loc::GroupName(g), "an admin group needs a name");
            } else if let Some(&first) = group_index.get(&gc.name) {
                let message = format!(
                    "admin group {:?} is defined twice{}",
                    gc.name,
                    self.first_at(Loc::GroupName(first))
                );
                self.problem(Loc::GroupName(g), message);
            } else {
                group_index.insert(gc.name.clone(), g);
            }
            let group = self.build_group(g, config);
            for (i, ext) in group.extensions.iter().enumerate() {
                if ext.credential.is_some() {
                    users
                        .entry(group.extension_number(i).to_owned())
                        .or_insert((g, i));
                }
            }
            let most = [
                group.extensions.len(),
                group.queues.len(),
                group.attendants.len(),
            ];
            if !most.into_iter().all(|n| u32::try_from(n).is_ok()) {
                self.problem(Loc::Root, "too many entities");
            }
            groups.push(group);
        }
        for (g, gc) in config.groups.iter().enumerate() {
            for (w, webhook) in gc.webhooks.iter().enumerate() {
                for (field, message) in webhook.problems() {
                    let loc = match field {
                        pbx_backend::webhook::WebhookField::Url => Loc::WebhookUrl(g, w),
                        pbx_backend::webhook::WebhookField::Secret => Loc::WebhookSecret(g, w),
                        _ => Loc::Webhook(g, w),
                    };
                    self.problem(loc, format!("group {:?}: {message}", gc.name));
                }
            }
        }
        // Parking lots last, so that a slot colliding with an entity is
        // reported at the lot, wherever the entity is.
        for (g, gc) in config.groups.iter().enumerate() {
            if let Some(parking) = &gc.parking {
                let lot = self.build_parking(g, &gc.name, parking);
                let group = &mut groups[g];
                for (slot, number) in lot.numbers.iter().enumerate() {
                    group.numbers.insert(number, Local::ParkingSlot(slot));
                }
                group.parking = lot;
            }
        }
        for group in &mut groups {
            group.numbers.seal();
            group.max_internal_digits = group.numbers.max_digits();
        }
        Directory {
            groups,
            group_index,
            users,
            time_zone,
            limits,
            simulation: config.simulation,
            simulation_limits: config.simulation_limits,
        }
    }

    fn build_group(&mut self, g: usize, config: &Config) -> Group {
        use EntityKind as K;
        let gc = &config.groups[g];
        let gname = &gc.name;
        let mut numbers = Numbers::default();
        let mut extensions = Vec::with_capacity(gc.extensions.len());
        for (i, e) in gc.extensions.iter().enumerate() {
            let what = format!("extension {} of group {gname:?}", e.number);
            if self.claim(&e.number, what.clone(), Loc::Number(g, K::Extension, i)) {
                numbers.insert(&e.number, Local::Extension(i));
            }
            if e.name.trim().is_empty() {
                self.problem(Loc::Name(g, K::Extension, i), format!("{what}: empty name"));
            }
            if e.password.as_deref() == Some("") {
                self.problem(
                    Loc::Password(g, i),
                    format!("{what}: empty password (leave `password` out for an extension that is no user)"),
                );
            }
            let credential = match (&e.password, &e.password_hash) {
                (Some(_), Some(_)) => {
                    self.problem(
                        Loc::PasswordHash(g, i),
                        format!("{what}: give `password_hash` or `password`, not both"),
                    );
                    None
                }
                (Some(plain), None) => {
                    if !config.allow_plain_passwords {
                        self.problem(
                            Loc::Password(g, i),
                            format!(
                                "{what}: plain-text `password` is not allowed: write its \
                                 `password_hash` (`switchboard hash-password`), or set \
                                 `allow_plain_passwords = true` at the top of the file \
                                 (demos and tests only)"
                            ),
                        );
                    }
                    Some(Credential::Plain(plain.clone()))
                }
                (None, Some(phc)) => {
                    if let Err(message) = credentials::check_hash(phc) {
                        self.problem(Loc::PasswordHash(g, i), format!("{what}: {message}"));
                    }
                    Some(Credential::Hash(phc.clone()))
                }
                (None, None) => None,
            };
            extensions.push(Extension {
                voicemail: e.voicemail,
                credential,
                online: e.online,
            });
        }
        let mut queues = Vec::with_capacity(gc.queues.len());
        for (i, q) in gc.queues.iter().enumerate() {
            let what = format!("queue {} of group {gname:?}", q.number);
            if self.claim(&q.number, what.clone(), Loc::Number(g, K::Queue, i)) {
                numbers.insert(&q.number, Local::Queue(i));
            }
            if q.name.trim().is_empty() {
                self.problem(Loc::Name(g, K::Queue, i), format!("{what}: empty name"));
            }
            let mut members: Vec<usize> = Vec::with_capacity(q.members.len());
            for (m, member) in q.members.iter().enumerate() {
                let loc = Loc::Member(g, i, m);
                match gc.extensions.iter().position(|e| &e.number == member) {
                    Some(e) if members.contains(&e) => {
                        self.problem(loc, format!("{what}: member {member:?} is listed twice"));
                    }
                    Some(e) => members.push(e),
                    None => self.problem(
                        loc,
                        format!("{what}: member {member:?} is not an extension of group {gname:?}"),
                    ),
                }
            }
            queues.push(Queue {
                number: q.number.clone(),
                name: q.name.clone(),
                members,
            });
        }
        let mut attendants = Vec::with_capacity(gc.attendants.len());
        for (i, a) in gc.attendants.iter().enumerate() {
            let what = format!("attendant {} of group {gname:?}", a.number);
            if self.claim(&a.number, what.clone(), Loc::Number(g, K::Attendant, i)) {
                numbers.insert(&a.number, Local::Attendant(i));
            }
            if a.name.trim().is_empty() {
                self.problem(Loc::Name(g, K::Attendant, i), format!("{what}: empty name"));
            }
            let mut seen = Vec::new();
            for (d, day) in a.active.weekdays.iter().enumerate() {
                if seen.contains(day) {
                    self.problem(
                        Loc::Weekday(g, i, d),
                        format!("{what}: weekday {day} is listed twice"),
                    );
                }
                seen.push(*day);
            }
            let (start, end) = (a.active.start, a.active.end);
            if start == crate::TimeOfDay::END_OF_DAY {
                self.problem(
                    Loc::Start(g, i),
                    format!("{what}: the activity window cannot start at 24:00"),
                );
            } else if start == end {
                self.problem(
                    Loc::End(g, i),
                    format!(
                        "{what}: empty activity window {start}-{end} (for the whole day use start = \"00:00\", end = \"24:00\")"
                    ),
                );
            } else if start > end && end == crate::TimeOfDay::MIDNIGHT {
                self.problem(
                    Loc::End(g, i),
                    format!("{what}: a window ending at midnight ends at \"24:00\", not \"00:00\""),
                );
            }
            attendants.push(Attendant {
                number: a.number.clone(),
                name: a.name.clone(),
                active: a.active.clone(),
            });
        }
        let mut seen: Vec<&str> = Vec::new();
        for (c, conn) in gc.connections.iter().enumerate() {
            if conn.name.trim().is_empty() {
                self.problem(
                    Loc::ConnectionName(g, c),
                    format!("group {gname:?}: a connection needs a name"),
                );
            } else if seen.contains(&conn.name.as_str()) {
                let first = gc
                    .connections
                    .iter()
                    .position(|x| x.name == conn.name)
                    .unwrap_or(c);
                let message = format!(
                    "group {gname:?}: connection {:?} is defined twice{}",
                    conn.name,
                    self.first_at(Loc::ConnectionName(g, first))
                );
                self.problem(Loc::ConnectionName(g, c), message);
            }
            seen.push(&conn.name);
        }

        let mut group = Group {
            id: AdminGroupId::new(gname.clone()),
            extensions,
            queues,
            attendants,
            index: g,
            numbers,
            max_internal_digits: 0,
            parking: Parking {
                first_number: String::new(),
                numbers: Vec::new(),
            },
            connections: gc.connections.clone(),
            records: Vec::new(),
        };
        group.records = records(&group, gc);
        group
    }

    fn build_parking(&mut self, g: usize, gname: &str, parking: &crate::ParkingConfig) -> Parking {
        let none = Parking {
            first_number: String::new(),
            numbers: Vec::new(),
        };
        let first = &parking.first_number;
        let what = format!("parking lot of group {gname:?}");
        if !is_internal_number(first) {
            self.problem(
                Loc::ParkingFirst(g),
                format!("{what}: invalid first number {first:?} (expected 1 to {MAX_NUMBER_DIGITS} digits)"),
            );
            return none;
        }
        if parking.slots == 0 || parking.slots > MAX_PARKING_SLOTS {
            self.problem(
                Loc::ParkingSlots(g),
                format!(
                    "{what}: slots must be between 1 and {MAX_PARKING_SLOTS}, not {}",
                    parking.slots
                ),
            );
            return none;
        }
        let Ok(start) = first.parse::<u64>() else {
            return none;
        };
        let width = first.len();
        let mut numbers = Vec::with_capacity(parking.slots as usize);
        for k in 0..u64::from(parking.slots) {
            let number = format!("{:0width$}", start + k);
            let what = format!("parking slot {} ({number}) of group {gname:?}", k + 1);
            if number.len() > MAX_NUMBER_DIGITS {
                self.problem(
                    Loc::ParkingFirst(g),
                    format!("{what}: the lot runs past {MAX_NUMBER_DIGITS} digits"),
                );
                return none;
            }
            if !self.claim(&number, what, Loc::ParkingFirst(g)) {
                // One report per lot is enough.
                return none;
            }
            numbers.push(number);
        }
        Parking {
            first_number: first.clone(),
            numbers,
        }
    }
}

/// Whether `number` can be an internal number: 1 to 15 ASCII digits.
pub(crate) fn is_internal_number(number: &str) -> bool {
    (1..=MAX_NUMBER_DIGITS).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit())
}

fn records(group: &Group, gc: &crate::GroupConfig) -> Vec<Entity> {
    let entity =
        |id, kind, number: &str, name: &str, phone: &Option<String>, email: &str, vm| Entity {
            id,
            kind,
            abbreviated: number.to_string(),
            caller_id: CallerId {
                phone: phone.clone().unwrap_or_else(|| number.to_string()),
                name: name.to_string(),
            },
            voicemail: vm,
            email: email.to_string(),
            presence: Presence::Offline,
        };
    let mut out = Vec::with_capacity(gc.extensions.len() + gc.queues.len() + gc.attendants.len());
    for (i, e) in gc.extensions.iter().enumerate() {
        out.push(entity(
            group.extension_id(i),
            EntityKind::Extension,
            &e.number,
            &e.name,
            &e.phone,
            &e.email,
            e.voicemail,
        ));
    }
    for (i, q) in gc.queues.iter().enumerate() {
        out.push(entity(
            group.queue_id(i),
            EntityKind::Queue,
            &q.number,
            &q.name,
            &q.phone,
            &q.email,
            false,
        ));
    }
    for (i, a) in gc.attendants.iter().enumerate() {
        out.push(entity(
            group.attendant_id(i),
            EntityKind::Attendant,
            &a.number,
            &a.name,
            &a.phone,
            &a.email,
            false,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Local, Numbers};

    #[test]
    fn numbers_tell_leading_zeros_apart_and_know_nothing_else() {
        let mut numbers = Numbers::default();
        numbers.insert("7", Local::Extension(0));
        numbers.insert("007", Local::Queue(1));
        numbers.insert("123456789012345", Local::Attendant(2));
        numbers.insert("701", Local::ParkingSlot(3));
        // Not internal numbers: never dialled locally, so not kept.
        numbers.insert("1234567890123456", Local::Extension(4));
        numbers.insert("+7", Local::Extension(5));
        numbers.seal();
        assert_eq!(numbers.get("7"), Some(&Local::Extension(0)));
        assert_eq!(numbers.get("007"), Some(&Local::Queue(1)));
        assert_eq!(numbers.get("07"), None);
        assert_eq!(numbers.get("123456789012345"), Some(&Local::Attendant(2)));
        assert_eq!(numbers.get("701"), Some(&Local::ParkingSlot(3)));
        for absent in ["70", "1234567890123456", "+7", "", "7a", "vm-7", "٧"] {
            assert_eq!(numbers.get(absent), None, "{absent:?}");
        }
        assert_eq!(numbers.max_digits(), 15);
        assert_eq!(Numbers::default().max_digits(), 0);
    }
}
