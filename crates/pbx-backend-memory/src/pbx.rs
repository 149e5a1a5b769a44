//! [`MemoryPbx`]: the simulated PBX, its constructors, and its [`PbxBackend`]
//! and [`Simulator`] implementations.

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Instant, SystemTime};

use async_trait::async_trait;
use pbx_backend::events::{EventData, EventId, EventKind, EventLog, EventWindow, Subscription};
use pbx_backend::{BackendError, BackendResult, Caller, PbxBackend, Simulator};
use pbx_model::{AdminGroupId, Call, CallId, Entity, EntityRef, Favorite, ParkingInfo, Presence};
use pbx_user_data::UserData;

use crate::config::{Problem, SourceMap, file};
use crate::credentials::{CacheLimits, Verifier};
use crate::directory::{Directory, Group, Local};
use crate::live::{self, CallNo, Dest, Endpoint, Live};
use crate::{Clock, Config, ConfigError, Storage, SystemClock, Weekday};

/// The built-in demo PBX's configuration (the TOML of `MemoryPbx::demo`).
pub const DEMO_CONFIG: &str = include_str!("../fixtures/demo.toml");

/// A simulated PBX held in memory.
///
/// Implements [`PbxBackend`] and [`Simulator`], so one `Arc<MemoryPbx>` serves
/// as both an `Arc<dyn PbxBackend>` and an `Arc<dyn Simulator>`.
///
/// Each admin group's live state (registrations, calls, parking) sits behind
/// its own lock, taken for the few microseconds an operation needs and never
/// across an `.await`; the configured part is immutable and read without
/// locks. So every operation is atomic, `get_calls` is a consistent snapshot,
/// and one group's traffic never waits for another's.
pub struct MemoryPbx {
    dir: Directory,
    live: Vec<RwLock<Live>>,
    clock: Arc<dyn Clock>,
    /// Users' keys and groups' favorites, with their rules.
    user_data: UserData,
    /// Each group's next call record number, by group index: never reused
    /// (not even by a reset), and counted per group so that no id reveals
    /// another group's calls.
    next_call: Vec<AtomicU64>,
    /// Checks passwords, and remembers successes.
    verifier: Arc<Verifier>,
    /// Each group's events, by group index.
    events: Vec<GroupEvents>,
    /// What `events` keep.
    event_window: EventWindow,
}

/// One group's event log and what its subscribers were last told, to tell
/// what a change changed. Locked only under the group's live write lock
/// (or with no live lock for favorites), never across an `.await`.
struct GroupEvents {
    log: EventLog,
    /// `None` until someone subscribes: nobody listening costs nothing.
    seen: std::sync::Mutex<Option<View>>,
}

/// A group's state as its events describe it.
#[derive(Clone)]
struct View {
    calls: std::collections::BTreeMap<CallId, Call>,
    entities: Vec<Entity>,
    parking: ParkingInfo,
}

/// Whether two records of one call differ in more than their duration, which
/// changes every second and is no event.
fn call_changed(old: &Call, new: &Call) -> bool {
    Call {
        duration: new.duration,
        ..old.clone()
    } != *new
}

impl std::fmt::Debug for MemoryPbx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryPbx")
            .field(
                "groups",
                &self
                    .dir
                    .groups
                    .iter()
                    .map(|g| g.id.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("clock", &self.clock)
            .field("storage", self.user_data.storage())
            .finish_non_exhaustive()
    }
}

impl MemoryPbx {
    /// A PBX from a configuration built in code. Problems are reported without
    /// lines (there is no text).
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Ok(Self::from_directory(Directory::build(
            &config,
            &SourceMap::none(),
        )?))
    }

    /// A PBX from TOML `text`; `origin` (the file name) prefixes error messages.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let (config, map) = file::parse(text, origin)?;
        Ok(Self::from_directory(Directory::build(&config, &map)?))
    }

    /// A PBX from TOML `text`, and the configuration it was read from: one
    /// parse for both, where [`Config::from_toml_str`] then
    /// [`from_toml_str`](Self::from_toml_str) would read and check the text
    /// twice (seconds and hundreds of megabytes for a hosted PBX of thousands
    /// of groups). The PBX keeps nothing of the [`Config`]: a server that
    /// needs only a few facts from it should take them and drop it, since it
    /// is as large as the PBX itself. Third, what deserves a warning without
    /// making the configuration unusable, as
    /// [`Config::from_toml_str_with_warnings`] tells it.
    pub fn from_toml_str_with_config(
        text: &str,
        origin: &str,
    ) -> Result<(Self, Config, Vec<Problem>), ConfigError> {
        let (config, map) = file::parse(text, origin)?;
        let pbx = Self::from_directory(Directory::build(&config, &map)?);
        Ok((pbx, config, map.warnings))
    }

    /// A PBX from the TOML file at `path`.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// The built-in demo PBX ([`DEMO_CONFIG`]): groups "Acme" (user 203,
    /// password 203) and "Globex" (user 301, password 301).
    pub fn demo() -> Self {
        Self::from_toml_str(DEMO_CONFIG, "fixtures/demo.toml")
            .expect("the built-in demo configuration is valid (tests load it)")
    }

    /// Uses `clock` for call durations and attendants' activity periods
    /// (default: the system clock). Call before anyone subscribes to events: the event logs start anew on it.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self.events = Self::event_logs(&self.dir, self.event_window, &*self.clock);
        self
    }

    /// Keeps user data (`dict_*`, favorites) in `storage` (default: in memory).
    pub fn with_storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.user_data = self.user_data.with_storage(storage);
        self
    }

    /// Whether the simulation controls are open.
    pub fn simulation_enabled(&self) -> bool {
        self.dir.simulation
    }

    /// The bounds on the simulation in each admin group (`[simulation]`).
    pub fn simulation_limits(&self) -> crate::SimulationLimits {
        self.dir.simulation_limits
    }

    /// The clock the PBX reads the time from.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub(crate) fn directory(&self) -> &Directory {
        &self.dir
    }

    /// `sim.answer`, returning the record that goes on (for a queue call, the
    /// answered member's, whose id differs from the incoming record's). With
    /// `pick` and no `member`, the ringing member at that position (modulo
    /// their number) answers.
    pub(crate) fn answer_call(
        &self,
        caller: &Caller,
        call: &CallId,
        member: Option<&str>,
        pick: Option<u64>,
    ) -> BackendResult<CallId> {
        self.simulation()?;
        let no = Self::call_no(call)?;
        self.with_live(caller, |pbx, group, live| {
            let mut member = member.map(|m| Self::extension(group, m)).transpose()?;
            if let (None, Some(pick)) = (member, pick) {
                let ringing = live.ringing_members(no);
                if !ringing.is_empty() {
                    let at = usize::try_from(pick % ringing.len() as u64).unwrap_or(0);
                    member = ringing.get(at).copied();
                }
            }
            live.answer(group, pbx.ids(group), no, member)
                .map(live::call_id)
        })
    }

    /// Checks the internal bookkeeping of every group (for tests): `Err`
    /// describes the first inconsistency found.
    #[doc(hidden)]
    pub fn check_consistency(&self) -> Result<(), String> {
        for (g, group) in self.dir.groups.iter().enumerate() {
            self.read(g)
                .check(group)
                .map_err(|e| format!("group {}: {e}", group.id))?;
        }
        Ok(())
    }

    fn from_directory(dir: Directory) -> Self {
        let live = dir
            .groups
            .iter()
            .map(|g| RwLock::new(Live::new(g)))
            .collect();
        let verifier = Arc::new(Self::verifier_for(&dir, CacheLimits::default()));
        let next_call = dir.groups.iter().map(|_| AtomicU64::new(1)).collect();
        let user_data = UserData::in_memory(dir.limits);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let events = Self::event_logs(&dir, EventWindow::default(), &*clock);
        Self {
            dir,
            live,
            clock,
            user_data,
            next_call,
            verifier,
            events,
            event_window: EventWindow::default(),
        }
    }

    /// Fresh event logs, their ids marked with the PBX's start time on
    /// `clock`: cursors of an earlier run are resets, and a test's manual
    /// clock gives reproducible ids.
    fn event_logs(dir: &Directory, window: EventWindow, clock: &dyn Clock) -> Vec<GroupEvents> {
        let start = clock
            .now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let epoch = format!("{start:x}");
        dir.groups
            .iter()
            .map(|_| GroupEvents {
                log: EventLog::with_epoch(window, &epoch),
                seen: std::sync::Mutex::new(None),
            })
            .collect()
    }

    /// Keeps `window` of each group's events for replay (default
    /// [`EventWindow::default`]: 1,000 events or 5 minutes). Call before
    /// anyone subscribes: the logs start empty.
    pub fn with_event_window(mut self, window: EventWindow) -> Self {
        self.event_window = window;
        self.events = Self::event_logs(&self.dir, window, &*self.clock);
        self
    }

    /// The group's state as events describe it, read under its live lock.
    fn view(&self, group: &Group, live: &Live) -> View {
        let now = self.clock.now();
        View {
            calls: live
                .calls()
                .map(|(no, r)| (live::call_id(no), r.render(no, group, now)))
                .collect(),
            entities: self.entity_records(group, live.online(), &live.busy(), now),
            parking: Self::parking_info(group, live),
        }
    }

    /// Publishes what changed in group `g` since its subscribers were last
    /// told. Called under the group's live write lock, so events follow the
    /// order of the changes; does nothing while nobody has subscribed.
    fn publish_changes(&self, group: &Group, live: &Live) {
        let events = &self.events[group.index];
        let mut seen = events.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(old) = seen.as_mut() else { return };
        let new = self.view(group, live);
        let time = self.clock.now();
        let log = &events.log;
        for (id, call) in &new.calls {
            match old.calls.get(id) {
                None => log.publish(EventKind::CallCreated, EventData::Call(call.clone()), time),
                Some(was) if call_changed(was, call) => {
                    log.publish(EventKind::CallUpdated, EventData::Call(call.clone()), time)
                }
                Some(_) => None,
            };
        }
        for (id, call) in &old.calls {
            if !new.calls.contains_key(id) {
                log.publish(EventKind::CallEnded, EventData::Call(call.clone()), time);
            }
        }
        for (i, entity) in new.entities.iter().enumerate() {
            if old.entities.get(i) != Some(entity) {
                log.publish(
                    EventKind::EntityUpdated,
                    EventData::Entity(entity.clone()),
                    time,
                );
            }
        }
        if old.parking != new.parking {
            log.publish(
                EventKind::ParkingUpdated,
                EventData::Parking(new.parking.clone()),
                time,
            );
        }
        *old = new;
    }

    fn verifier_for(dir: &Directory, limits: CacheLimits) -> Verifier {
        let credentials = dir
            .groups
            .iter()
            .flat_map(|g| &g.extensions)
            .filter_map(|e| e.credential.as_ref());
        Verifier::new(credentials, limits)
    }

    /// Bounds the cache of successful password verifications (default
    /// [`CacheLimits::default`]; `max_entries: 0` switches it off). The cache
    /// belongs to this PBX: a PBX built from a reloaded configuration starts
    /// with an empty one.
    pub fn with_credential_cache(mut self, limits: CacheLimits) -> Self {
        self.verifier = Arc::new(Self::verifier_for(&self.dir, limits));
        self
    }

    /// Forgets every cached password verification: the next request of each
    /// user pays for a full hash check again.
    pub fn clear_credential_cache(&self) {
        self.verifier.clear_cache();
    }

    // The live state is only changed by `Live`'s methods, which cannot panic
    // half-way, so a poisoned lock still guards consistent data: recover it.
    fn read(&self, g: usize) -> RwLockReadGuard<'_, Live> {
        self.live[g].read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self, g: usize) -> RwLockWriteGuard<'_, Live> {
        self.live[g].write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The caller's group, as an index and its directory.
    fn group(&self, caller: &Caller) -> BackendResult<(usize, &Group)> {
        let g = self
            .dir
            .group_index(caller.group())
            .ok_or_else(|| BackendError::permission_denied("not a user of this PBX"))?;
        Ok((g, &self.dir.groups[g]))
    }

    /// The caller's own extension index in their group, if it is one.
    fn own_extension(group: &Group, caller: &Caller) -> Option<usize> {
        group
            .extension_index(caller.extension())
            .filter(|&e| group.extension_number(e) == caller.number())
    }

    fn simulation(&self) -> BackendResult<()> {
        if self.dir.simulation {
            Ok(())
        } else {
            Err(BackendError::permission_denied(
                "the simulation controls are switched off on this PBX",
            ))
        }
    }

    /// The call record counter of `group`.
    fn ids(&self, group: &Group) -> &AtomicU64 {
        &self.next_call[group.index]
    }

    /// Refuses a new call in a group that holds as many records as it may:
    /// neither a client nor a scenario can make a group's live state (and
    /// what `get_calls` must copy) grow without bound.
    fn check_room_for_a_call(&self, live: &Live) -> BackendResult<()> {
        let max = self.dir.simulation_limits.max_live_calls;
        if live.record_count() >= max {
            return Err(BackendError::limit_reached(format!(
                "the group already has {max} live call records, the most the simulation allows"
            )));
        }
        Ok(())
    }

    /// Where dialling `text` in `group` leads. Anything not in the group
    /// answers the same "not found" whether it exists elsewhere or not.
    pub(crate) fn destination(&self, group: &Group, text: &str) -> BackendResult<Dest> {
        let not_found = || BackendError::not_found(format!("no such number: {text}"));
        if let Some(number) = text.strip_prefix("vm-") {
            return match group.numbers.get(number) {
                Some(&Local::Extension(e)) if group.extensions[e].voicemail => {
                    Ok(Dest::Local(Endpoint::Voicemail(e)))
                }
                _ => Err(BackendError::not_found(format!(
                    "no such voicemail box: {text}"
                ))),
            };
        }
        match group.numbers.get(text) {
            Some(&Local::Extension(e)) => Ok(Dest::Local(Endpoint::Extension(e))),
            Some(&Local::Queue(q)) => Ok(Dest::Local(Endpoint::Queue(q))),
            Some(&Local::Attendant(a)) => Ok(Dest::Local(Endpoint::Attendant(a))),
            Some(&Local::ParkingSlot(s)) => Ok(Dest::Slot(s)),
            None if group.is_outside_number(text) => {
                match group.connections.iter().position(|c| c.outbound) {
                    Some(c) => Ok(Dest::Outside(text.into(), c)),
                    None => Err(BackendError::not_found(format!(
                        "no route to {text}: no outbound connection"
                    ))),
                }
            }
            None => Err(not_found()),
        }
    }

    /// The extension of the group dialled as `number`.
    fn extension(group: &Group, number: &str) -> BackendResult<usize> {
        match group.numbers.get(number) {
            Some(&Local::Extension(e)) => Ok(e),
            _ => Err(BackendError::not_found(format!(
                "no such extension: {number}"
            ))),
        }
    }

    fn call_no(id: &CallId) -> BackendResult<CallNo> {
        live::call_no(id).ok_or_else(|| BackendError::not_found("no such call"))
    }

    /// Runs `op` on the caller's group's live state under its write lock.
    fn with_live<T>(
        &self,
        caller: &Caller,
        op: impl FnOnce(&Self, &Group, &mut Live) -> BackendResult<T>,
    ) -> BackendResult<T> {
        let (g, group) = self.group(caller)?;
        let mut live = self.write(g);
        let result = op(self, group, &mut live);
        if result.is_ok() {
            self.publish_changes(group, &live);
        }
        result
    }

    /// The group's extension, queue and attendant records with their presence.
    fn entity_records(
        &self,
        group: &Group,
        online: &[bool],
        busy: &[bool],
        now: SystemTime,
    ) -> Vec<Entity> {
        let local_time = self.local_time(now);
        let presence = |on: bool| {
            if on {
                Presence::Online
            } else {
                Presence::Offline
            }
        };
        let mut records = group.records.clone();
        // The records are the extensions, then the queues, then the attendants,
        // each in configuration order.
        let (extensions, queues) = (group.extensions.len(), group.queues.len());
        let is = |flags: &[bool], e: usize| flags.get(e).copied().unwrap_or(false);
        for (i, entity) in records.iter_mut().enumerate() {
            let on = if i < extensions {
                is(online, i)
            } else if i < extensions + queues {
                group
                    .queues
                    .get(i - extensions)
                    .is_some_and(|q| q.members.iter().any(|&m| is(online, m) && !is(busy, m)))
            } else {
                group
                    .attendants
                    .get(i - extensions - queues)
                    .zip(local_time)
                    .is_some_and(|(a, (day, time))| a.active.is_active(day, time))
            };
            entity.presence = presence(on);
        }
        records
    }

    /// The group's parking lot as `get_parking_info` shows it.
    fn parking_info(group: &Group, live: &Live) -> ParkingInfo {
        let parked_calls = live
            .parked()
            .map(|(slot, no)| {
                (
                    u32::try_from(slot + 1).unwrap_or(u32::MAX),
                    live::call_id(no),
                )
            })
            .collect();
        ParkingInfo {
            parking_extension: group.parking.first_number.clone(),
            slots: u32::try_from(group.slots()).unwrap_or(u32::MAX),
            parked_calls,
        }
    }

    /// The weekday and time of day at `now` in the PBX's time zone.
    fn local_time(&self, now: SystemTime) -> Option<(Weekday, crate::TimeOfDay)> {
        let ts = jiff::Timestamp::try_from(now).ok()?;
        let zoned = ts.to_zoned_datetime(self.dir.time_zone.clone());
        let offset = usize::try_from(zoned.weekday().to_monday_zero_offset()).ok()?;
        let day = *Weekday::ALL.get(offset)?;
        let hour = u8::try_from(zoned.hour()).ok()?;
        let minute = u8::try_from(zoned.minute()).ok()?;
        Some((day, crate::TimeOfDay::new(hour, minute)?))
    }
}

#[async_trait]
impl PbxBackend for MemoryPbx {
    async fn authenticate(&self, user: &str, password: &str) -> BackendResult<Option<Caller>> {
        let found = self.dir.user(user).and_then(|(g, e)| {
            let group = &self.dir.groups[g];
            group.extensions[e]
                .credential
                .as_ref()
                .map(|c| (group, e, c))
        });
        let (expected, who) = match found {
            Some((group, e, c)) => (Some(c), Some((group, e))),
            None => (None, None),
        };
        // Unknown users are checked too (against a dummy), so that timing tells
        // little about which part was wrong.
        let now = Instant::now();
        let matches = if self.verifier.is_costly(expected) {
            // A hash check takes milliseconds: keep it off the async workers.
            let verifier = self.verifier.clone();
            let (user, password) = (user.to_owned(), password.to_owned());
            let expected = expected.cloned();
            let check = move || verifier.verify(&user, expected.as_ref(), &password, now);
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => runtime
                    .spawn_blocking(check)
                    .await
                    .map_err(BackendError::internal)?,
                Err(_) => check(),
            }
        } else {
            self.verifier.verify(user, expected, password, now)
        };
        Ok(match who {
            Some((group, e)) if matches => Some(Caller::new(
                group.extension_number(e).to_owned(),
                group.extension_id(e),
                group.id.clone(),
            )),
            _ => None,
        })
    }

    async fn get_calls(&self, caller: &Caller) -> BackendResult<Vec<Call>> {
        let (g, group) = self.group(caller)?;
        let now = self.clock.now();
        let records: Vec<_> = {
            let live = self.read(g);
            live.calls().map(|(no, r)| (no, r.clone())).collect()
        };
        Ok(records
            .iter()
            .map(|(no, r)| r.render(*no, group, now))
            .collect())
    }

    async fn get_extensions(&self, caller: &Caller) -> BackendResult<Vec<Entity>> {
        let (g, group) = self.group(caller)?;
        let now = self.clock.now();
        let (online, busy) = {
            let live = self.read(g);
            (live.online().to_vec(), live.busy())
        };
        Ok(self.entity_records(group, &online, &busy, now))
    }

    async fn get_favorites(&self, caller: &Caller) -> BackendResult<Vec<Favorite>> {
        let (_, group) = self.group(caller)?;
        // A list stored under an older configuration may name entities the
        // group no longer has: they are not shown.
        Ok(self
            .user_data
            .get_favorites(&group.id, |e: EntityRef| group.contains(e.kind, e.id))
            .await?)
    }

    async fn set_favorites(&self, caller: &Caller, favorites: Vec<Favorite>) -> BackendResult<()> {
        let (g, group) = self.group(caller)?;
        self.user_data
            .set_favorites(&group.id, favorites, |e: EntityRef| {
                group.contains(e.kind, e.id)
            })
            .await?;
        let log = &self.events[g].log;
        if log.is_wanted() {
            // The list as `get_favorites` shows it (by slot), read after the write.
            let list = self.get_favorites(caller).await?;
            log.publish(
                EventKind::FavoritesUpdated,
                EventData::Favorites(list),
                self.clock.now(),
            );
        }
        Ok(())
    }

    async fn transfer(
        &self,
        caller: &Caller,
        call: &CallId,
        destination: &str,
    ) -> BackendResult<()> {
        let no = Self::call_no(call)?;
        self.with_live(caller, |pbx, group, live| {
            // The call first: a call the caller cannot see is "not found"
            // whatever the destination.
            if !live.contains(no) {
                return Err(BackendError::not_found("no such call"));
            }
            let dest = pbx.destination(group, destination)?;
            live.transfer(
                group,
                pbx.ids(group),
                no,
                Self::own_extension(group, caller),
                dest,
            )
        })
    }

    async fn drop_call(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        let no = Self::call_no(call)?;
        self.with_live(caller, |pbx, group, live| {
            live.drop_call(group, pbx.ids(group), no)
        })
    }

    async fn get_parking_info(&self, caller: &Caller) -> BackendResult<ParkingInfo> {
        let (g, group) = self.group(caller)?;
        Ok(Self::parking_info(group, &self.read(g)))
    }

    async fn park(&self, caller: &Caller, call: &CallId, slot: Option<u32>) -> BackendResult<u32> {
        let no = Self::call_no(call)?;
        self.with_live(caller, |pbx, group, live| {
            // The call first: a call the caller cannot see is "not found"
            // whatever the slot.
            if !live.contains(no) {
                return Err(BackendError::not_found("no such call"));
            }
            let slot = match slot {
                Some(0) => return Err(BackendError::invalid_input("parking slots start at 1")),
                Some(s) => Some(usize::try_from(s - 1).unwrap_or(usize::MAX)),
                None => None,
            };
            let taken = live.park(
                group,
                pbx.ids(group),
                no,
                Self::own_extension(group, caller),
                slot,
            )?;
            Ok(u32::try_from(taken + 1).unwrap_or(u32::MAX))
        })
    }

    async fn dict_set(&self, caller: &Caller, key: &str, value: &str) -> BackendResult<()> {
        self.group(caller)?;
        Ok(self.user_data.dict_set(caller.number(), key, value).await?)
    }

    async fn dict_set_many(
        &self,
        caller: &Caller,
        entries: Vec<(String, String)>,
    ) -> BackendResult<()> {
        self.group(caller)?;
        Ok(self
            .user_data
            .dict_set_many(caller.number(), entries)
            .await?)
    }

    async fn dict_get(&self, caller: &Caller, key: &str) -> BackendResult<String> {
        self.group(caller)?;
        Ok(self.user_data.dict_get(caller.number(), key).await?)
    }

    async fn dict_delete(&self, caller: &Caller, key: &str) -> BackendResult<()> {
        self.group(caller)?;
        Ok(self.user_data.dict_delete(caller.number(), key).await?)
    }

    async fn get_all(
        &self,
        caller: &Caller,
        max_bytes: usize,
    ) -> BackendResult<Vec<(String, String)>> {
        self.group(caller)?;
        Ok(self.user_data.get_all(caller.number(), max_bytes).await?)
    }

    async fn health(&self) -> BackendResult<()> {
        Ok(self.user_data.health().await?)
    }

    async fn events(
        &self,
        caller: &Caller,
        after: Option<&EventId>,
    ) -> BackendResult<Subscription> {
        let (g, _) = self.group(caller)?;
        Ok(self.subscribe_group(g, after))
    }

    async fn group_events(
        &self,
        group: &AdminGroupId,
        after: Option<&EventId>,
    ) -> BackendResult<Subscription> {
        let g = self
            .dir
            .group_index(group)
            .ok_or_else(|| BackendError::not_found(format!("no admin group {group}")))?;
        Ok(self.subscribe_group(g, after))
    }
}

impl MemoryPbx {
    /// A subscription to group `g`: every user of a group sees the same events.
    fn subscribe_group(&self, g: usize, after: Option<&EventId>) -> Subscription {
        let group = &self.dir.groups[g];
        // Under the live lock, so that no change falls between the view the
        // next diff starts from and the subscription.
        let live = self.write(g);
        let events = &self.events[g];
        let mut seen = events.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.is_none() {
            *seen = Some(self.view(group, &live));
        }
        events.log.subscribe(after)
    }
}

#[async_trait]
impl Simulator for MemoryPbx {
    async fn call(
        &self,
        caller: &Caller,
        from: &str,
        to: &str,
        via: Option<&str>,
    ) -> BackendResult<CallId> {
        self.simulation()?;
        self.with_live(caller, |pbx, group, live| {
            let (from, via) = match group.numbers.get(from) {
                Some(&Local::Extension(e)) => {
                    if via.is_some() {
                        return Err(BackendError::invalid_input(
                            "a call from an extension has no connection (`via`)",
                        ));
                    }
                    (Endpoint::Extension(e), None)
                }
                None if group.is_outside_number(from) => {
                    let connection = match via {
                        Some(name) => group
                            .connections
                            .iter()
                            .position(|c| c.name == name)
                            .ok_or_else(|| {
                                BackendError::not_found(format!("no such connection: {name}"))
                            })?,
                        None if group.connections.is_empty() => {
                            return Err(BackendError::not_found(
                                "no external connection to carry an inbound call",
                            ));
                        }
                        None => 0,
                    };
                    (Endpoint::Outside(from.into()), Some(connection))
                }
                _ => {
                    return Err(BackendError::not_found(format!(
                        "no such extension or outside number: {from}"
                    )));
                }
            };
            let to = match pbx.destination(group, to)? {
                Dest::Outside(..) => {
                    return Err(BackendError::not_found(format!("no such number: {to}")));
                }
                dest => dest,
            };
            pbx.check_room_for_a_call(live)?;
            let no = live.call(group, pbx.ids(group), pbx.clock.now(), from, via, to)?;
            Ok(live::call_id(no))
        })
    }

    async fn answer(
        &self,
        caller: &Caller,
        call: &CallId,
        member: Option<&str>,
    ) -> BackendResult<()> {
        self.simulation()?;
        let no = Self::call_no(call)?;
        self.with_live(caller, |pbx, group, live| {
            let member = member.map(|m| Self::extension(group, m)).transpose()?;
            live.answer(group, pbx.ids(group), no, member)
        })
        .map(drop)
    }

    async fn hold(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        self.simulation()?;
        let no = Self::call_no(call)?;
        self.with_live(caller, |_, _, live| live.hold(no))
    }

    async fn resume(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        self.simulation()?;
        let no = Self::call_no(call)?;
        self.with_live(caller, |_, _, live| live.resume(no))
    }

    async fn hangup(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        self.simulation()?;
        let no = Self::call_no(call)?;
        self.with_live(caller, |pbx, group, live| {
            live.hang_up(group, pbx.ids(group), no)
        })
    }

    async fn register(&self, caller: &Caller, number: &str) -> BackendResult<()> {
        self.simulation()?;
        self.with_live(caller, |pbx, group, live| {
            live.register(group, pbx.ids(group), Self::extension(group, number)?);
            Ok(())
        })
    }

    async fn unregister(&self, caller: &Caller, number: &str) -> BackendResult<()> {
        self.simulation()?;
        self.with_live(caller, |pbx, group, live| {
            live.unregister(group, pbx.ids(group), Self::extension(group, number)?);
            Ok(())
        })
    }

    async fn reset(&self, caller: &Caller) -> BackendResult<()> {
        self.simulation()?;
        self.with_live(caller, |_, group, live| {
            *live = Live::new(group);
            Ok(())
        })
    }
}
