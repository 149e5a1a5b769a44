//! Random sequences of operations on the demo PBX, by users of both groups,
//! never break what a client relies on.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use pbx_backend::{BackendError, BackendResult, Caller, PbxBackend, Simulator};
use pbx_backend_memory::{Config, DEMO_CONFIG, ManualClock, MemoryPbx};
use pbx_model::{Call, CallId, CallState, Entity, EntityKind, ParkingInfo, PartyKind, Presence};
use proptest::prelude::*;

use crate::support::monday_morning;

/// Extensions of each group (Acme, Globex).
const EXTENSIONS: [&[&str]; 2] = [
    &[
        "201", "202", "203", "204", "205", "206", "207", "208", "209", "210",
    ],
    &["301", "302", "303", "304", "305"],
];
/// Other numbers of each group: queues, attendants, parking slots, boxes.
const OTHERS: [&[&str]; 2] = [
    &[
        "600", "601", "800", "801", "700", "701", "709", "vm-201", "vm-204", "vm-206",
    ],
    &["650", "850", "750", "754", "vm-301", "vm-303"],
];
/// Outside numbers, and numbers nobody has.
const OUTSIDE: &[&str] = &["+15550100", "+15550101", "0049301234"];
const JUNK: &[&str] = &["299", "710", "", "vm-", "+", "2O1", "vm-299"];

/// A number to dial, relative to the acting user's group.
#[derive(Debug, Clone)]
enum Number {
    Extension(usize),
    Other(usize),
    Outside(usize),
    /// A number of the other group.
    Foreign(usize),
    Junk(usize),
}

impl Number {
    fn resolve(&self, group: usize) -> &'static str {
        let at = |list: &[&'static str], i: usize| list[i % list.len()];
        match self {
            Number::Extension(i) => at(EXTENSIONS[group], *i),
            Number::Other(i) => at(OTHERS[group], *i),
            Number::Outside(i) => at(OUTSIDE, *i),
            Number::Foreign(i) => {
                let other = 1 - group;
                let all: Vec<&'static str> = EXTENSIONS[other]
                    .iter()
                    .chain(OTHERS[other])
                    .copied()
                    .collect();
                at(&all, *i)
            }
            Number::Junk(i) => at(JUNK, *i),
        }
    }
}

/// Who places a call: mostly a phone of the group or an outside caller.
fn caller() -> impl Strategy<Value = Number> {
    prop_oneof![
        4 => any::<usize>().prop_map(Number::Extension),
        3 => any::<usize>().prop_map(Number::Outside),
        1 => number(),
    ]
}

/// Where a call goes: mostly somewhere in the group.
fn callee() -> impl Strategy<Value = Number> {
    prop_oneof![
        3 => any::<usize>().prop_map(Number::Extension),
        3 => any::<usize>().prop_map(Number::Other),
        1 => number(),
    ]
}

fn number() -> impl Strategy<Value = Number> + Clone {
    prop_oneof![
        5 => any::<usize>().prop_map(Number::Extension),
        3 => any::<usize>().prop_map(Number::Other),
        2 => any::<usize>().prop_map(Number::Outside),
        1 => any::<usize>().prop_map(Number::Foreign),
        1 => any::<usize>().prop_map(Number::Junk),
    ]
}

/// The acting users: two of Acme, one of Globex.
const USERS: [&str; 3] = ["201", "203", "301"];

#[derive(Debug, Clone)]
enum Pick {
    /// The n-th call the acting user sees (modulo their count).
    Own(usize),
    /// The n-th call the acting user sees in a state the operation accepts.
    Suitable(usize),
    /// The n-th call of the other group.
    Foreign(usize),
    /// An id no call has.
    Bogus,
}

#[derive(Debug, Clone)]
enum Op {
    Call(usize, Number, Number, Option<&'static str>),
    Answer(usize, Pick, Option<Number>),
    Hold(usize, Pick),
    Resume(usize, Pick),
    Hangup(usize, Pick),
    Drop(usize, Pick),
    Transfer(usize, Pick, Number),
    Park(usize, Pick, Option<u32>),
    Register(usize, Number),
    Unregister(usize, Number),
    Reset(usize),
    Advance(u8),
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        3 => any::<usize>().prop_map(Pick::Own),
        5 => any::<usize>().prop_map(Pick::Suitable),
        1 => any::<usize>().prop_map(Pick::Foreign),
        1 => Just(Pick::Bogus),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let user = 0..USERS.len();
    let via = prop_oneof![
        6 => Just(None),
        1 => Just(Some("PSTN")),
        1 => Just(Some("Acme-SIP")),
        1 => Just(Some("Globex-DID")),
    ];
    let member = prop_oneof![3 => Just(None), 1 => number().prop_map(Some)];
    prop_oneof![
        30 => (user.clone(), caller(), callee(), via)
            .prop_map(|(u, f, t, v)| Op::Call(u, f, t, v)),
        15 => (user.clone(), pick(), member).prop_map(|(u, p, m)| Op::Answer(u, p, m)),
        3 => (user.clone(), pick()).prop_map(|(u, p)| Op::Hold(u, p)),
        3 => (user.clone(), pick()).prop_map(|(u, p)| Op::Resume(u, p)),
        3 => (user.clone(), pick()).prop_map(|(u, p)| Op::Hangup(u, p)),
        3 => (user.clone(), pick()).prop_map(|(u, p)| Op::Drop(u, p)),
        12 => (user.clone(), pick(), number()).prop_map(|(u, p, n)| Op::Transfer(u, p, n)),
        9 => (user.clone(), pick(), proptest::option::of(0u32..13))
            .prop_map(|(u, p, s)| Op::Park(u, p, s)),
        3 => (user.clone(), number()).prop_map(|(u, n)| Op::Register(u, n)),
        3 => (user.clone(), number()).prop_map(|(u, n)| Op::Unregister(u, n)),
        1 => user.prop_map(Op::Reset),
        3 => any::<u8>().prop_map(Op::Advance),
    ]
}

/// What one group's user sees.
#[derive(Debug, Clone, PartialEq)]
struct View {
    calls: Vec<Call>,
    entities: Vec<Entity>,
    parking: ParkingInfo,
}

struct World {
    pbx: Arc<MemoryPbx>,
    clock: Arc<ManualClock>,
    users: Vec<Caller>,
    /// Queue number → member numbers, from the configuration.
    members: HashMap<String, Vec<String>>,
    elapsed: u64,
}

impl World {
    async fn new() -> World {
        let clock = Arc::new(ManualClock::new(monday_morning()));
        let pbx = Arc::new(MemoryPbx::demo().with_clock(clock.clone()));
        let mut users = Vec::new();
        for u in USERS {
            users.push(pbx.authenticate(u, u).await.unwrap().unwrap());
        }
        let config = Config::from_toml_str(DEMO_CONFIG, "demo").unwrap();
        let members = config
            .groups
            .iter()
            .flat_map(|g| &g.queues)
            .map(|q| (q.number.clone(), q.members.clone()))
            .collect();
        World {
            pbx,
            clock,
            users,
            members,
            elapsed: 0,
        }
    }

    async fn view(&self, user: &Caller) -> View {
        View {
            calls: self.pbx.get_calls(user).await.unwrap(),
            entities: self.pbx.get_extensions(user).await.unwrap(),
            parking: self.pbx.get_parking_info(user).await.unwrap(),
        }
    }

    /// The user of the other group than `u`'s.
    fn other(&self, u: usize) -> &Caller {
        if USERS[u] == "301" {
            &self.users[0]
        } else {
            &self.users[2]
        }
    }

    async fn resolve(&self, u: usize, pick: &Pick, suits: fn(CallState) -> bool) -> (CallId, bool) {
        let calls = |user| async move { self.pbx.get_calls(user).await.unwrap() };
        match pick {
            Pick::Suitable(n) => {
                let own: Vec<Call> = calls(&self.users[u])
                    .await
                    .into_iter()
                    .filter(|c| suits(c.state))
                    .collect();
                match own.get(n % own.len().max(1)) {
                    Some(c) => (c.id.clone(), false),
                    None => (CallId::new("0"), true),
                }
            }
            Pick::Own(n) => {
                let own = calls(&self.users[u]).await;
                match own.get(n % own.len().max(1)) {
                    Some(c) => (c.id.clone(), false),
                    None => (CallId::new("0"), true),
                }
            }
            Pick::Foreign(n) => {
                let theirs = calls(self.other(u)).await;
                let id = match theirs.get(n % theirs.len().max(1)) {
                    Some(c) => c.id.clone(),
                    None => CallId::new("0"),
                };
                // Call ids are per group: the same id may also name one of
                // the user's own calls, which the user may then act on.
                let own = calls(&self.users[u]).await.iter().any(|c| c.id == id);
                (id, !own)
            }
            Pick::Bogus => (CallId::new("no-such-call"), true),
        }
    }

    /// Runs `op`; `Err` when an invariant broke.
    async fn apply(&mut self, op: &Op) -> Result<(), String> {
        let p = &self.pbx;
        let n = |u: &usize, x: &Number| x.resolve(usize::from(USERS[*u] == "301"));
        let (result, unseen): (BackendResult<()>, bool) = match op {
            Op::Advance(s) => {
                self.clock.advance(Duration::from_secs(u64::from(*s)));
                self.elapsed += u64::from(*s);
                return Ok(());
            }
            Op::Call(u, f, t, via) => {
                let r = p
                    .call(&self.users[*u], n(u, f), n(u, t), *via)
                    .await
                    .map(drop);
                (r, false)
            }
            Op::Register(u, x) => (p.register(&self.users[*u], n(u, x)).await, false),
            Op::Unregister(u, x) => (p.unregister(&self.users[*u], n(u, x)).await, false),
            Op::Reset(u) => (p.reset(&self.users[*u]).await, false),
            Op::Answer(u, pick, m) => {
                let (id, unseen) = self.resolve(*u, pick, |s| s == CallState::Ringing).await;
                let r = p
                    .answer(&self.users[*u], &id, m.as_ref().map(|m| n(u, m)))
                    .await;
                (r, unseen)
            }
            Op::Hold(u, pick) => {
                let (id, unseen) = self.resolve(*u, pick, |s| s == CallState::Connected).await;
                (p.hold(&self.users[*u], &id).await, unseen)
            }
            Op::Resume(u, pick) => {
                let (id, unseen) = self.resolve(*u, pick, |s| s == CallState::OnHold).await;
                (p.resume(&self.users[*u], &id).await, unseen)
            }
            Op::Hangup(u, pick) => {
                let (id, unseen) = self.resolve(*u, pick, |_| true).await;
                (p.hangup(&self.users[*u], &id).await, unseen)
            }
            Op::Drop(u, pick) => {
                let (id, unseen) = self.resolve(*u, pick, |_| true).await;
                (p.drop_call(&self.users[*u], &id).await, unseen)
            }
            Op::Transfer(u, pick, to) => {
                let (id, unseen) = self.resolve(*u, pick, |_| true).await;
                (p.transfer(&self.users[*u], &id, n(u, to)).await, unseen)
            }
            Op::Park(u, pick, slot) => {
                let (id, unseen) = self.resolve(*u, pick, |s| s != CallState::Parked).await;
                let r = p.park(&self.users[*u], &id, *slot).await.map(drop);
                (r, unseen)
            }
        };
        if let Err(BackendError::Internal(e)) = &result {
            return Err(format!("{op:?}: internal error {e}"));
        }
        if unseen && !matches!(result, Err(BackendError::NotFound(_))) {
            return Err(format!("{op:?} on a call the user cannot see: {result:?}"));
        }
        Ok(())
    }

    /// Everything a client may rely on, for both groups.
    async fn check(&self) -> Result<(), String> {
        self.pbx.check_consistency()?;
        let acme = self.view(&self.users[1]).await;
        let globex = self.view(&self.users[2]).await;
        if acme != self.view(&self.users[0]).await {
            return Err("two users of Acme see different things".into());
        }
        // Call and entity ids are per group, so the same id may show in both
        // views; that each call is the viewer's own is `check_view`'s party check.
        for view in [&acme, &globex] {
            self.check_view(view)?;
        }
        Ok(())
    }

    fn check_view(&self, v: &View) -> Result<(), String> {
        let by_ref: HashMap<(EntityKind, u32), &Entity> =
            v.entities.iter().map(|e| ((e.kind, e.id.0), e)).collect();
        let ext_by_number: HashMap<&str, &Entity> = v
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::Extension)
            .map(|e| (e.abbreviated.as_str(), e))
            .collect();
        let first: u64 = v.parking.parking_extension.parse().unwrap_or(0);
        let slot_number = |slot: u32| (first + u64::from(slot) - 1).to_string();

        let mut ids = HashSet::new();
        let mut busy = HashSet::new();
        for c in &v.calls {
            if !ids.insert(&c.id) {
                return Err(format!("call {} listed twice", c.id));
            }
            if u64::from(c.duration) > self.elapsed {
                return Err(format!("call {} is older than the test", c.id));
            }
            for (side, party) in [("from", &c.from), ("to", &c.to)] {
                let kind = match party.kind {
                    PartyKind::Extension => Some(EntityKind::Extension),
                    PartyKind::Queue => Some(EntityKind::Queue),
                    PartyKind::Attendant => Some(EntityKind::Attendant),
                    _ => None,
                };
                let ok = match (party.kind, kind) {
                    (_, Some(kind)) => by_ref.get(&(kind, party.id.0)).is_some_and(|e| {
                        e.abbreviated == party.number && e.caller_id.name == party.name
                    }),
                    (PartyKind::Voicemail, _) => party
                        .number
                        .strip_prefix("vm-")
                        .and_then(|n| ext_by_number.get(n))
                        .is_some_and(|e| e.voicemail && e.id == party.id),
                    (PartyKind::Unknown, _) => {
                        party.id.0 == 0
                            && !party.number.is_empty()
                            && (party.number.starts_with('+')
                                || party.number.len() > 3
                                || (side == "to" && c.state == CallState::Parked))
                    }
                    _ => false,
                };
                if !ok {
                    return Err(format!("call {}: invalid {side} party {party:?}", c.id));
                }
                if party.kind == PartyKind::Extension {
                    busy.insert(party.number.clone());
                }
            }
            if c.to.kind == PartyKind::Queue && c.state == CallState::Ringing && !c.qcall {
                return Err(format!("call {} rings a queue without qcall", c.id));
            }
        }

        // Parking: one call per slot, each parked call listed once, and
        // exactly the parked calls are in the lot.
        let mut in_lot: BTreeMap<&CallId, u32> = BTreeMap::new();
        for (slot, id) in &v.parking.parked_calls {
            if *slot == 0 || *slot > v.parking.slots {
                return Err(format!("slot {slot} out of the lot"));
            }
            if in_lot.insert(id, *slot).is_some() {
                return Err(format!("call {id} parked in two slots"));
            }
            let listed: Vec<&Call> = v.calls.iter().filter(|c| &c.id == id).collect();
            match listed.as_slice() {
                [c] if c.state == CallState::Parked && c.to.number == slot_number(*slot) => {}
                _ => {
                    return Err(format!(
                        "parked call {id} (slot {slot}) listed as {listed:?}"
                    ));
                }
            }
        }
        let parked = v
            .calls
            .iter()
            .filter(|c| c.state == CallState::Parked)
            .count();
        if parked != in_lot.len() {
            return Err(format!(
                "{parked} parked calls but {} in the lot",
                in_lot.len()
            ));
        }

        // Presence of queues follows their members.
        for q in v.entities.iter().filter(|e| e.kind == EntityKind::Queue) {
            let available = self.members[&q.abbreviated].iter().any(|m| {
                ext_by_number
                    .get(m.as_str())
                    .is_some_and(|e| e.presence == Presence::Online)
                    && !busy.contains(m)
            });
            if (q.presence == Presence::Online) != available {
                return Err(format!("queue {} is {:?}", q.abbreviated, q.presence));
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_every_invariant(ops in proptest::collection::vec(op(), 1..100)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let outcome: Result<(), String> = rt.block_on(async {
            let mut world = World::new().await;
            for op in &ops {
                // What the other group sees must not change with this group's operations.
                let bystander = match op {
                    Op::Advance(_) => None,
                    Op::Call(u, ..) | Op::Answer(u, ..) | Op::Hold(u, _) | Op::Resume(u, _)
                    | Op::Hangup(u, _) | Op::Drop(u, _) | Op::Transfer(u, ..) | Op::Park(u, ..)
                    | Op::Register(u, _) | Op::Unregister(u, _) | Op::Reset(u) => {
                        Some(world.other(*u).clone())
                    }
                };
                let before = match &bystander {
                    Some(b) => Some(world.view(b).await),
                    None => None,
                };
                world.apply(op).await?;
                if let (Some(b), Some(before)) = (&bystander, before)
                    && world.view(b).await != before
                {
                    return Err(format!("{op:?} changed what the other group sees"));
                }
                world.check().await.map_err(|e| format!("after {op:?}: {e}"))?;
            }
            Ok(())
        });
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
