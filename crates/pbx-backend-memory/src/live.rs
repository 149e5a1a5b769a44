//! The live part of one admin group: phones' registration, calls, parking.
//!
//! Every call belongs to exactly one group: its entity parties are all of that
//! group (sim controls and transfers never leave it), and the parking slot or
//! connection it may sit on are the group's too. So each group's [`Live`] holds
//! its own calls behind its own lock, and an operation locks one group only.
//!
//! The call model (SPEC.md): a call rings (`ringing`), is answered
//! (`connected`), may be held (`onhold`) and resumed, parked (`parked`) and
//! transferred; it ends by hang-up or drop. A call to a queue is one incoming
//! record (caller → queue) plus one "leg" per ringing member (caller →
//! member); answering a leg ends the others and the incoming record. Queues
//! ring every online member that is on no call ("ring all"), and keep doing so
//! as members come free, until the call is answered, moved or ended.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use pbx_backend::BackendError;
use pbx_model::{Call, CallId, CallState, Party, PartyKind};

use crate::directory::Group;

/// A call record's number; its [`CallId`] is the decimal text.
pub(crate) type CallNo = u64;

/// One end of a call record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// An extension of the group, by index.
    Extension(usize),
    Queue(usize),
    Attendant(usize),
    /// The voicemail box of an extension.
    Voicemail(usize),
    /// A number outside the PBX.
    Outside(Arc<str>),
    /// A parking slot of the group's lot (0-based), holding the other party.
    Parking(usize),
}

impl Endpoint {
    fn extension(&self) -> Option<usize> {
        match self {
            Endpoint::Extension(e) => Some(*e),
            _ => None,
        }
    }

    /// Whether this party can be put through to somewhere else (transferred,
    /// parked): a person on a phone, not a queue, attendant, box or slot.
    fn can_move(&self) -> bool {
        matches!(self, Endpoint::Extension(_) | Endpoint::Outside(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    From,
    To,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::From => Side::To,
            Side::To => Side::From,
        }
    }
}

/// A record's part in a queue call that is still waiting to be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueRole {
    /// The caller → queue record.
    Incoming,
    /// The caller → member record ringing `member` (an extension index).
    Leg { incoming: CallNo, member: usize },
}

/// One call record.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// When the call was created; a queue call's legs share the caller's time.
    pub(crate) created: SystemTime,
    pub(crate) state: CallState,
    pub(crate) from: Endpoint,
    pub(crate) to: Endpoint,
    /// The group connection carrying the call, if any.
    pub(crate) via: Option<usize>,
    pub(crate) qcall: bool,
    /// The side being alerted while `state` is ringing.
    ringing: Side,
    queue: Option<QueueRole>,
}

impl Record {
    fn side(&self, side: Side) -> &Endpoint {
        match side {
            Side::From => &self.from,
            Side::To => &self.to,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut Endpoint {
        match side {
            Side::From => &mut self.from,
            Side::To => &mut self.to,
        }
    }

    /// The record as `get_calls` shows it.
    pub(crate) fn render(&self, no: CallNo, group: &Group, now: SystemTime) -> Call {
        let seconds = now
            .duration_since(self.created)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Call {
            id: call_id(no),
            state: self.state,
            from: party(group, &self.from),
            to: party(group, &self.to),
            duration: u32::try_from(seconds).unwrap_or(u32::MAX),
            via: self
                .via
                .and_then(|c| group.connections.get(c))
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            qcall: self.qcall,
        }
    }
}

pub(crate) fn call_id(no: CallNo) -> CallId {
    CallId::new(no.to_string())
}

/// The record number of `id`, if it is one this PBX could have made.
pub(crate) fn call_no(id: &CallId) -> Option<CallNo> {
    let no: CallNo = id.as_str().parse().ok()?;
    (no.to_string() == id.as_str()).then_some(no)
}

pub(crate) fn party(group: &Group, endpoint: &Endpoint) -> Party {
    let missing = || Party::outside("");
    match endpoint {
        Endpoint::Extension(i) => group.extensions.get(*i).map_or_else(missing, |_| Party {
            id: group.extension_id(*i),
            number: group.extension_number(*i).to_owned(),
            name: group.extension_name(*i).to_owned(),
            kind: PartyKind::Extension,
        }),
        Endpoint::Queue(i) => group.queues.get(*i).map_or_else(missing, |q| Party {
            id: group.queue_id(*i),
            number: q.number.clone(),
            name: q.name.clone(),
            kind: PartyKind::Queue,
        }),
        Endpoint::Attendant(i) => group.attendants.get(*i).map_or_else(missing, |a| Party {
            id: group.attendant_id(*i),
            number: a.number.clone(),
            name: a.name.clone(),
            kind: PartyKind::Attendant,
        }),
        Endpoint::Voicemail(i) => group.extensions.get(*i).map_or_else(missing, |_| Party {
            id: group.extension_id(*i),
            number: format!("vm-{}", group.extension_number(*i)),
            name: group.extension_name(*i).to_owned(),
            kind: PartyKind::Voicemail,
        }),
        Endpoint::Outside(number) => Party::outside(number.as_ref()),
        Endpoint::Parking(slot) => {
            let mut p = Party::outside(
                group
                    .parking
                    .numbers
                    .get(*slot)
                    .cloned()
                    .unwrap_or_default(),
            );
            p.name = format!("Parking slot {}", slot + 1);
            p
        }
    }
}

/// A queue call waiting to be answered.
#[derive(Debug, Clone)]
struct Waiting {
    queue: usize,
    /// (member, leg record) for each ringing member.
    legs: Vec<(usize, CallNo)>,
    /// Members who declined (their leg was dropped): not rung again for this call.
    declined: Vec<usize>,
}

/// Where a call is being sent.
#[derive(Debug, Clone)]
pub(crate) enum Dest {
    /// An entity or voicemail box of the group.
    Local(Endpoint),
    /// An outside number, over the group connection with this index.
    Outside(Arc<str>, usize),
    /// A parking slot of the group (0-based).
    Slot(usize),
}

/// The live state of one admin group.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    online: Vec<bool>,
    calls: BTreeMap<CallNo, Record>,
    waiting: BTreeMap<CallNo, Waiting>,
    /// Slot → the parked record.
    parking: Vec<Option<CallNo>>,
}

type Result<T> = std::result::Result<T, BackendError>;

fn no_call() -> BackendError {
    BackendError::not_found("no such call")
}

impl Live {
    /// The group as configured: no calls, configured presence.
    pub(crate) fn new(group: &Group) -> Self {
        Self {
            online: group.extensions.iter().map(|e| e.online).collect(),
            calls: BTreeMap::new(),
            waiting: BTreeMap::new(),
            parking: vec![None; group.slots()],
        }
    }

    pub(crate) fn calls(&self) -> impl Iterator<Item = (CallNo, &Record)> {
        self.calls.iter().map(|(no, r)| (*no, r))
    }

    /// How many call records the group holds (each record of a queue call counts).
    pub(crate) fn record_count(&self) -> usize {
        self.calls.len()
    }

    pub(crate) fn contains(&self, no: CallNo) -> bool {
        self.calls.contains_key(&no)
    }

    pub(crate) fn parked(&self) -> impl Iterator<Item = (usize, CallNo)> + '_ {
        self.parking
            .iter()
            .enumerate()
            .filter_map(|(slot, no)| no.map(|no| (slot, no)))
    }

    pub(crate) fn online(&self) -> &[bool] {
        &self.online
    }

    /// Which extensions are a party of some call.
    pub(crate) fn busy(&self) -> Vec<bool> {
        let mut busy = vec![false; self.online.len()];
        for r in self.calls.values() {
            for e in [r.from.extension(), r.to.extension()].into_iter().flatten() {
                if let Some(b) = busy.get_mut(e) {
                    *b = true;
                }
            }
        }
        busy
    }

    fn record(&self, no: CallNo) -> Result<&Record> {
        self.calls.get(&no).ok_or_else(no_call)
    }

    fn record_mut(&mut self, no: CallNo) -> Result<&mut Record> {
        self.calls.get_mut(&no).ok_or_else(no_call)
    }

    /// Sends a call to `endpoint`: an offline extension diverts to its voicemail
    /// box when it has one.
    fn route(&self, group: &Group, endpoint: Endpoint) -> Result<Endpoint> {
        match endpoint {
            Endpoint::Extension(e) if !self.online.get(e).copied().unwrap_or(false) => {
                match group.extensions.get(e) {
                    Some(ext) if ext.voicemail => Ok(Endpoint::Voicemail(e)),
                    Some(_) => Err(BackendError::conflict(format!(
                        "extension {} is offline and has no voicemail",
                        group.extension_number(e)
                    ))),
                    None => Err(BackendError::not_found("no such number")),
                }
            }
            other => Ok(other),
        }
    }

    /// Removes one record, freeing its parking slot and its place in a waiting
    /// queue call (without ending the rest of that call).
    fn remove(&mut self, no: CallNo) -> Option<Record> {
        let record = self.calls.remove(&no)?;
        if let Endpoint::Parking(slot) = record.to
            && let Some(s) = self.parking.get_mut(slot)
            && *s == Some(no)
        {
            *s = None;
        }
        match record.queue {
            Some(QueueRole::Incoming) => {
                self.waiting.remove(&no);
            }
            Some(QueueRole::Leg { incoming, .. }) => {
                if let Some(w) = self.waiting.get_mut(&incoming) {
                    w.legs.retain(|(_, leg)| *leg != no);
                }
            }
            None => {}
        }
        Some(record)
    }

    /// Ends the whole waiting queue call whose incoming record is `incoming`.
    fn end_queue_call(&mut self, incoming: CallNo) {
        if let Some(w) = self.waiting.remove(&incoming) {
            for (_, leg) in w.legs {
                self.calls.remove(&leg);
            }
        }
        self.calls.remove(&incoming);
    }

    /// Takes record `no` out of its waiting queue call: the rest of that call
    /// (incoming record, other legs) ends and `no` goes on as a plain record.
    fn detach(&mut self, no: CallNo) {
        let Some(role) = self.calls.get(&no).and_then(|r| r.queue) else {
            return;
        };
        let incoming = match role {
            QueueRole::Incoming => no,
            QueueRole::Leg { incoming, .. } => incoming,
        };
        if let Some(w) = self.waiting.remove(&incoming) {
            for (_, leg) in w.legs {
                if leg != no {
                    self.calls.remove(&leg);
                }
            }
        }
        if incoming != no {
            self.calls.remove(&incoming);
        }
        if let Some(r) = self.calls.get_mut(&no) {
            r.queue = None;
        }
    }

    /// Takes record `no` out of its parking slot, if it is parked.
    fn unpark(&mut self, no: CallNo) {
        for slot in &mut self.parking {
            if *slot == Some(no) {
                *slot = None;
            }
        }
    }

    /// The side released by a transfer or park that `user` (an extension
    /// index) asks for: the user's own extension when it is a party, else `to`.
    fn released_side(record: &Record, user: Option<usize>) -> Side {
        match user {
            Some(u) if record.from == Endpoint::Extension(u) => Side::From,
            _ => Side::To,
        }
    }

    /// `sim.call`: a new call from `from` (an extension or outside number) over
    /// connection `via` to `to`.
    pub(crate) fn call(
        &mut self,
        group: &Group,
        ids: &AtomicU64,
        now: SystemTime,
        from: Endpoint,
        via: Option<usize>,
        to: Dest,
    ) -> Result<CallNo> {
        if let Endpoint::Extension(e) = from
            && !self.online.get(e).copied().unwrap_or(false)
        {
            return Err(BackendError::conflict(format!(
                "extension {} is offline and cannot place a call",
                group.extension_number(e)
            )));
        }
        let to = match to {
            Dest::Slot(slot) => return self.pick_up(group, from, slot),
            Dest::Outside(..) => return Err(BackendError::not_found("no such number")),
            Dest::Local(to) => to,
        };
        if to == from {
            return Err(BackendError::conflict("a phone cannot call itself"));
        }
        let to = self.route(group, to)?;
        let no = ids.fetch_add(1, Ordering::Relaxed);
        let queue = match to {
            Endpoint::Queue(q) => {
                self.waiting.insert(
                    no,
                    Waiting {
                        queue: q,
                        legs: Vec::new(),
                        declined: Vec::new(),
                    },
                );
                Some(QueueRole::Incoming)
            }
            _ => None,
        };
        self.calls.insert(
            no,
            Record {
                created: now,
                state: CallState::Ringing,
                qcall: queue.is_some(),
                from,
                to,
                via,
                ringing: Side::To,
                queue,
            },
        );
        self.dispatch(group, ids);
        Ok(no)
    }

    /// An extension dials a parking slot: it picks up the call parked there.
    fn pick_up(&mut self, group: &Group, from: Endpoint, slot: usize) -> Result<CallNo> {
        let number = group.parking.numbers.get(slot).cloned().unwrap_or_default();
        if from.extension().is_none() {
            return Err(BackendError::conflict(format!(
                "only an extension can pick up a parked call ({number})"
            )));
        }
        let Some(no) = self.parking.get(slot).copied().flatten() else {
            return Err(BackendError::conflict(format!(
                "parking slot {} ({number}) is empty",
                slot + 1
            )));
        };
        if self.record(no)?.from == from {
            return Err(BackendError::conflict(
                "a phone cannot pick up its own call",
            ));
        }
        self.unpark(no);
        let record = self.record_mut(no)?;
        record.to = from;
        record.state = CallState::Connected;
        if !matches!(record.from, Endpoint::Outside(_)) {
            record.via = None;
        }
        Ok(no)
    }

    /// `sim.answer`: the ringing party answers; for a waiting queue call,
    /// `member` (an extension index) or else the first ringing member.
    /// Returns the record that goes on (a queue call's answered leg).
    pub(crate) fn answer(
        &mut self,
        group: &Group,
        ids: &AtomicU64,
        no: CallNo,
        member: Option<usize>,
    ) -> Result<CallNo> {
        let record = self.record(no)?;
        if record.state != CallState::Ringing {
            return Err(BackendError::conflict(format!(
                "the call is {}, not ringing",
                record.state
            )));
        }
        let not_ringing = |m: usize| {
            BackendError::conflict(format!(
                "extension {} is not ringing for this call",
                group.extension_number(m)
            ))
        };
        let incoming = match record.queue {
            None => {
                if let Some(m) = member
                    && record.side(record.ringing) != &Endpoint::Extension(m)
                {
                    return Err(not_ringing(m));
                }
                self.record_mut(no)?.state = CallState::Connected;
                return Ok(no);
            }
            Some(QueueRole::Incoming) => no,
            Some(QueueRole::Leg { incoming, .. }) => incoming,
        };
        let waiting = self.waiting.get(&incoming).ok_or_else(no_call)?;
        let chosen = match (member, record.queue) {
            (Some(m), _) => waiting
                .legs
                .iter()
                .find(|(x, _)| *x == m)
                .map(|(_, l)| *l)
                .ok_or_else(|| not_ringing(m))?,
            (None, Some(QueueRole::Leg { .. })) => no,
            (None, _) => {
                let order = group.queues.get(waiting.queue).map(|q| &q.members);
                let rank = |m: &usize| {
                    order
                        .and_then(|o| o.iter().position(|x| x == m))
                        .unwrap_or(usize::MAX)
                };
                waiting
                    .legs
                    .iter()
                    .min_by_key(|(m, _)| rank(m))
                    .map(|(_, l)| *l)
                    .ok_or_else(|| {
                        BackendError::conflict("no queue member is ringing for this call")
                    })?
            }
        };
        self.detach(chosen);
        self.record_mut(chosen)?.state = CallState::Connected;
        self.dispatch(group, ids);
        Ok(chosen)
    }

    /// The members (extension indexes) ringing for the queue call that record
    /// `no` belongs to, in ringing order; empty for any other record.
    pub(crate) fn ringing_members(&self, no: CallNo) -> Vec<usize> {
        let incoming = match self.calls.get(&no).and_then(|r| r.queue) {
            Some(QueueRole::Incoming) => no,
            Some(QueueRole::Leg { incoming, .. }) => incoming,
            None => return Vec::new(),
        };
        self.waiting
            .get(&incoming)
            .map(|w| w.legs.iter().map(|(m, _)| *m).collect())
            .unwrap_or_default()
    }

    /// `sim.hold`.
    pub(crate) fn hold(&mut self, no: CallNo) -> Result<()> {
        self.switch(no, CallState::Connected, CallState::OnHold)
    }

    /// `sim.resume`.
    pub(crate) fn resume(&mut self, no: CallNo) -> Result<()> {
        self.switch(no, CallState::OnHold, CallState::Connected)
    }

    fn switch(&mut self, no: CallNo, from: CallState, to: CallState) -> Result<()> {
        let record = self.record_mut(no)?;
        if record.state != from {
            return Err(BackendError::conflict(format!(
                "the call is {}, not {from}",
                record.state
            )));
        }
        record.state = to;
        Ok(())
    }

    /// `sim.hangup`: the call ends; for a waiting queue call, all its records.
    pub(crate) fn hang_up(&mut self, group: &Group, ids: &AtomicU64, no: CallNo) -> Result<()> {
        match self.record(no)?.queue {
            Some(QueueRole::Incoming) => self.end_queue_call(no),
            Some(QueueRole::Leg { incoming, .. }) => self.end_queue_call(incoming),
            None => {
                self.remove(no);
            }
        }
        self.dispatch(group, ids);
        Ok(())
    }

    /// `drop`: ends the record; the incoming record of a waiting queue call ends
    /// all its records, a leg ends alone (that member declined).
    pub(crate) fn drop_call(&mut self, group: &Group, ids: &AtomicU64, no: CallNo) -> Result<()> {
        match self.record(no)?.queue {
            Some(QueueRole::Incoming) => self.end_queue_call(no),
            Some(QueueRole::Leg { incoming, member }) => {
                self.remove(no);
                if let Some(w) = self.waiting.get_mut(&incoming) {
                    w.declined.push(member);
                }
            }
            None => {
                self.remove(no);
            }
        }
        self.dispatch(group, ids);
        Ok(())
    }

    /// `transfer`: blind transfer of record `no` to `dest`, asked by `user`.
    pub(crate) fn transfer(
        &mut self,
        group: &Group,
        ids: &AtomicU64,
        no: CallNo,
        user: Option<usize>,
        dest: Dest,
    ) -> Result<()> {
        let record = self.record(no)?;
        let released = Self::released_side(record, user);
        let remaining = record.side(released.other()).clone();
        if !remaining.can_move() {
            return Err(BackendError::conflict(
                "the party that would stay on this call cannot be transferred",
            ));
        }
        let (target, via) = match dest {
            Dest::Slot(slot) => {
                self.park(group, ids, no, user, Some(slot))?;
                return Ok(());
            }
            Dest::Outside(number, connection) => (Endpoint::Outside(number), Some(connection)),
            Dest::Local(endpoint) => {
                let endpoint = self.route(group, endpoint)?;
                let via = match remaining {
                    Endpoint::Outside(_) => record.via,
                    _ => None,
                };
                (endpoint, via)
            }
        };
        if target == remaining {
            return Err(BackendError::conflict(
                "cannot transfer a call to its own party",
            ));
        }
        self.detach(no);
        self.unpark(no);
        let record = self.record_mut(no)?;
        record.state = CallState::Ringing;
        record.via = via;
        if let Endpoint::Queue(q) = target {
            record.from = remaining;
            record.to = target;
            record.ringing = Side::To;
            record.qcall = true;
            record.queue = Some(QueueRole::Incoming);
            self.waiting.insert(
                no,
                Waiting {
                    queue: q,
                    legs: Vec::new(),
                    declined: Vec::new(),
                },
            );
        } else {
            *record.side_mut(released) = target;
            record.ringing = released;
            record.qcall = false;
        }
        self.dispatch(group, ids);
        Ok(())
    }

    /// `park`: puts the party that stays on record `no` in `slot` (0-based) or
    /// the lowest free one; returns the slot.
    pub(crate) fn park(
        &mut self,
        group: &Group,
        ids: &AtomicU64,
        no: CallNo,
        user: Option<usize>,
        slot: Option<usize>,
    ) -> Result<usize> {
        let record = self.record(no)?;
        if record.state == CallState::Parked {
            return Err(BackendError::conflict("the call is already parked"));
        }
        let released = Self::released_side(record, user);
        let remaining = record.side(released.other()).clone();
        if !remaining.can_move() {
            return Err(BackendError::conflict(
                "the party that would stay on this call cannot be parked",
            ));
        }
        let slot = match slot {
            Some(s) => match self.parking.get(s) {
                Some(None) => s,
                Some(Some(_)) => {
                    return Err(BackendError::conflict(format!(
                        "parking slot {} is taken",
                        s + 1
                    )));
                }
                None => {
                    return Err(BackendError::invalid_input(format!(
                        "no parking slot {} (the lot has {})",
                        s + 1,
                        self.parking.len()
                    )));
                }
            },
            None if self.parking.is_empty() => {
                return Err(BackendError::limit_reached("the group has no parking lot"));
            }
            None => self
                .parking
                .iter()
                .position(Option::is_none)
                .ok_or_else(|| BackendError::limit_reached("the parking lot is full"))?,
        };
        let via = match remaining {
            Endpoint::Outside(_) => record.via,
            _ => None,
        };
        self.detach(no);
        let record = self.record_mut(no)?;
        record.from = remaining;
        record.to = Endpoint::Parking(slot);
        record.state = CallState::Parked;
        record.via = via;
        self.parking[slot] = Some(no);
        self.dispatch(group, ids);
        Ok(slot)
    }

    /// `sim.register`.
    pub(crate) fn register(&mut self, group: &Group, ids: &AtomicU64, extension: usize) {
        if let Some(o) = self.online.get_mut(extension) {
            *o = true;
        }
        self.dispatch(group, ids);
    }

    /// `sim.unregister`: the phone goes offline and stops ringing for queues.
    pub(crate) fn unregister(&mut self, group: &Group, ids: &AtomicU64, extension: usize) {
        if let Some(o) = self.online.get_mut(extension) {
            *o = false;
        }
        let legs: Vec<CallNo> = self
            .waiting
            .values()
            .flat_map(|w| w.legs.iter())
            .filter(|(m, _)| *m == extension)
            .map(|(_, leg)| *leg)
            .collect();
        for leg in legs {
            self.remove(leg);
        }
        self.dispatch(group, ids);
    }

    /// Rings every online, idle member of each waiting queue call's queue
    /// that is not ringing for it yet and has not declined it.
    fn dispatch(&mut self, group: &Group, ids: &AtomicU64) {
        if self.waiting.is_empty() {
            return;
        }
        let mut busy = self.busy();
        let Live {
            online,
            calls,
            waiting,
            ..
        } = self;
        for (&incoming, w) in waiting.iter_mut() {
            let Some(queue) = group.queues.get(w.queue) else {
                continue;
            };
            let Some(caller) = calls.get(&incoming) else {
                continue;
            };
            let (from, via, created) = (caller.from.clone(), caller.via, caller.created);
            for &m in &queue.members {
                let ringable = online.get(m).copied().unwrap_or(false)
                    && !busy.get(m).copied().unwrap_or(true)
                    && !w.declined.contains(&m)
                    && !w.legs.iter().any(|(x, _)| *x == m);
                if !ringable {
                    continue;
                }
                let leg = ids.fetch_add(1, Ordering::Relaxed);
                calls.insert(
                    leg,
                    Record {
                        created,
                        state: CallState::Ringing,
                        from: from.clone(),
                        to: Endpoint::Extension(m),
                        via,
                        qcall: true,
                        ringing: Side::To,
                        queue: Some(QueueRole::Leg {
                            incoming,
                            member: m,
                        }),
                    },
                );
                w.legs.push((m, leg));
                if let Some(b) = busy.get_mut(m) {
                    *b = true;
                }
            }
        }
    }

    /// Checks the internal bookkeeping; `Err` names the first inconsistency.
    pub(crate) fn check(&self, group: &Group) -> std::result::Result<(), String> {
        for (&no, r) in &self.calls {
            let parked_here = match r.to {
                Endpoint::Parking(slot) => self.parking.get(slot) == Some(&Some(no)),
                _ => false,
            };
            if (r.state == CallState::Parked) != parked_here {
                return Err(format!(
                    "call {no}: state {} but parked: {parked_here}",
                    r.state
                ));
            }
            if matches!(r.from, Endpoint::Parking(_)) {
                return Err(format!("call {no}: parking slot as caller"));
            }
            for e in [&r.from, &r.to] {
                let ok = match e {
                    Endpoint::Extension(i) | Endpoint::Voicemail(i) => *i < group.extensions.len(),
                    Endpoint::Queue(i) => *i < group.queues.len(),
                    Endpoint::Attendant(i) => *i < group.attendants.len(),
                    Endpoint::Parking(i) => *i < self.parking.len(),
                    Endpoint::Outside(n) => !n.is_empty(),
                };
                if !ok {
                    return Err(format!("call {no}: bad party {e:?}"));
                }
            }
            match r.queue {
                Some(QueueRole::Incoming)
                    if !self.waiting.contains_key(&no) || !matches!(r.to, Endpoint::Queue(_)) =>
                {
                    return Err(format!("call {no}: incoming record without its queue call"));
                }
                Some(QueueRole::Leg { incoming, member }) => {
                    let listed = self
                        .waiting
                        .get(&incoming)
                        .is_some_and(|w| w.legs.contains(&(member, no)));
                    if !listed || r.to != Endpoint::Extension(member) {
                        return Err(format!(
                            "call {no}: leg not listed in queue call {incoming}"
                        ));
                    }
                }
                _ => {}
            }
            if r.queue.is_some() && (r.state != CallState::Ringing || !r.qcall) {
                return Err(format!(
                    "call {no}: waiting queue record in state {}",
                    r.state
                ));
            }
        }
        for (&incoming, w) in &self.waiting {
            if self.calls.get(&incoming).and_then(|r| r.queue) != Some(QueueRole::Incoming) {
                return Err(format!("queue call {incoming}: incoming record missing"));
            }
            for &(m, leg) in &w.legs {
                let ok = self.calls.get(&leg).and_then(|r| r.queue)
                    == Some(QueueRole::Leg {
                        incoming,
                        member: m,
                    });
                if !ok {
                    return Err(format!("queue call {incoming}: leg {leg} missing"));
                }
            }
        }
        for (slot, no) in self.parked() {
            match self.calls.get(&no) {
                Some(r) if r.to == Endpoint::Parking(slot) && r.state == CallState::Parked => {}
                _ => {
                    return Err(format!(
                        "slot {slot}: holds {no}, which is not parked there"
                    ));
                }
            }
        }
        Ok(())
    }
}
