//! Admin groups and users are isolated: for random sequences of operations by
//! users of both demo groups (Acme 201 and 203, Globex 301), aimed at their own
//! and at the other group's numbers, calls, favorites and keys, no answer to one
//! group ever holds another group's number, name, phone, email or favorite,
//! every call id and entity (type, id) it shows is one of the group's own (ids
//! are per group: the same text may name one thing in each group), and no
//! answer to one user holds another user's storage key or value.
//!
//! What belongs to whom is read from the backend itself (not from the answers),
//! after every step; every answer is checked once the sequence is done.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use pbx_backend::{Caller, PbxBackend as _};
use pbx_backend_memory::{MemoryPbx, Player};
use pbx_handler::Handler;
use pbx_model::EntityKind;
use proptest::prelude::*;
use xmlrpc_codec::{MethodCall, MethodResponse, Value, decode_method_response, encode_method_call};

/// The users, and their groups (0 Acme, 1 Globex).
const USERS: [(&str, usize); 3] = [("203", 0), ("201", 0), ("301", 1)];

/// Numbers the operations aim at: both groups', voicemail, outside, nonsense.
const NUMBERS: [&str; 14] = [
    "201",
    "202",
    "204",
    "600",
    "700",
    "800",
    "vm-201",
    "301",
    "302",
    "650",
    "750",
    "850",
    "vm-301",
    "+15550100",
];

#[derive(Debug, Clone)]
struct Step {
    user: usize,
    op: u8,
    a: usize,
    b: usize,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (0..USERS.len(), 0u8..16, 0usize..64, 0usize..64).prop_map(|(user, op, a, b)| Step {
            user,
            op,
            a,
            b,
        }),
        1..48,
    )
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn member(name: &str, value: Value) -> (String, Value) {
    (name.to_owned(), value)
}

/// What each group and user owns, as the backend says.
#[derive(Default)]
struct Truth {
    /// Per group: numbers, names, phones, emails.
    directory: [BTreeSet<String>; 2],
    /// Per group: (type, id) of its entities.
    entities: [BTreeSet<(String, i64)>; 2],
    /// Per group: every call id the backend ever listed for it.
    calls: [BTreeSet<String>; 2],
    /// Per user: keys and values stored.
    storage: HashMap<&'static str, BTreeSet<String>>,
}

struct World {
    pbx: Arc<MemoryPbx>,
    handler: Handler,
    callers: Vec<Caller>,
    truth: Truth,
    /// Every call id handed out by sim.call, whoever asked (aimed at by later
    /// steps: another group's id is either unknown to the user or, ids being
    /// per group, names one of the user's own calls).
    known_calls: Vec<String>,
    /// (user index, request strings, answer).
    answers: Vec<(usize, BTreeSet<String>, MethodResponse)>,
}

impl World {
    async fn new() -> World {
        let pbx = Arc::new(MemoryPbx::demo());
        let handler = Handler::new(pbx.clone()).with_simulator(Arc::new(Player::new(pbx.clone())));
        let mut callers = Vec::new();
        for (user, _) in USERS {
            callers.push(pbx.authenticate(user, user).await.unwrap().unwrap());
        }
        let mut truth = Truth::default();
        for (i, (_, group)) in USERS.iter().enumerate() {
            for e in pbx.get_extensions(&callers[i]).await.unwrap() {
                let set = &mut truth.directory[*group];
                set.insert(e.abbreviated.clone());
                set.insert(e.caller_id.name.clone());
                set.insert(e.caller_id.phone.clone());
                if !e.email.is_empty() {
                    set.insert(e.email.clone());
                }
                truth.entities[*group].insert((kind(e.kind).to_owned(), i64::from(e.id.0)));
            }
        }
        World {
            pbx,
            handler,
            callers,
            truth,
            known_calls: Vec::new(),
            answers: Vec::new(),
        }
    }

    async fn call(&mut self, user: usize, method: &str, params: Vec<Value>) -> MethodResponse {
        let mut asked = BTreeSet::new();
        for p in &params {
            strings(p, &mut asked);
        }
        let body = encode_method_call(&MethodCall::new(method, params)).unwrap();
        let outcome = self.handler.handle(&self.callers[user], &body).await;
        let response = decode_method_response(&outcome.body).expect("a methodResponse");
        if let (MethodResponse::Success(Value::String(id)), "sim.call") = (&response, method) {
            self.known_calls.push(id.clone());
        }
        self.answers.push((user, asked, response.clone()));
        response
    }

    fn call_id(&self, i: usize) -> Value {
        match self.known_calls.len() {
            0 => s("1"),
            n => s(&self.known_calls[i % n]),
        }
    }

    fn key(&self, user: usize, i: usize) -> String {
        format!("key-{}-{}", USERS[user].0, i % 4)
    }

    async fn step(&mut self, step: &Step) {
        let (u, a, b) = (step.user, step.a, step.b);
        let number = |i: usize| s(NUMBERS[i % NUMBERS.len()]);
        // Half the storage steps aim at another user's keys.
        let any_user = (u + a / 32) % USERS.len();
        match step.op {
            0 | 1 => drop(self.call(u, "sim.call", vec![number(a), number(b)]).await),
            2 => drop(self.call(u, "sim.answer", vec![self.call_id(a)]).await),
            3 => drop(
                self.call(u, "transfer", vec![self.call_id(a), number(b)])
                    .await,
            ),
            4 => drop(self.call(u, "drop", vec![self.call_id(a)]).await),
            5 => drop(self.call(u, "park", vec![self.call_id(a)]).await),
            6 => drop(self.call(u, "get_calls", vec![]).await),
            7 => drop(self.call(u, "get_extensions", vec![]).await),
            8 => drop(self.call(u, "get_parking_info", vec![]).await),
            9 => {
                let value = format!("value-{}-{a}", USERS[u].0);
                let key = self.key(u, b);
                self.truth
                    .storage
                    .entry(USERS[u].0)
                    .or_default()
                    .extend([key.clone(), value.clone()]);
                drop(self.call(u, "dict_set", vec![s(&key), s(&value)]).await);
            }
            10 => {
                let key = self.key(any_user, b);
                drop(self.call(u, "dict_get", vec![s(&key)]).await);
            }
            11 => drop(self.call(u, "get_all", vec![]).await),
            12 => {
                let key = self.key(any_user, b);
                drop(self.call(u, "dict_delete", vec![s(&key)]).await);
            }
            13 => {
                // A favorite naming an entity of either group.
                let all: Vec<(String, i64)> =
                    self.truth.entities.iter().flatten().cloned().collect();
                let (kind, id) = all[a % all.len()].clone();
                let favorite = Value::Struct(
                    [
                        member("id", Value::Int(id)),
                        member("type", s(&kind)),
                        member("slot", Value::Int(1 + (b % 3) as i64)),
                        member("size", s("single")),
                    ]
                    .into_iter()
                    .collect(),
                );
                drop(
                    self.call(u, "set_favorites", vec![Value::Array(vec![favorite])])
                        .await,
                );
            }
            14 => drop(self.call(u, "get_favorites", vec![]).await),
            _ => {
                let sub = |m: &str, p: Vec<Value>| {
                    Value::Struct(
                        [
                            member("methodName", s(m)),
                            member("params", Value::Array(p)),
                        ]
                        .into_iter()
                        .collect(),
                    )
                };
                let calls = vec![
                    sub("get_calls", vec![]),
                    sub("dict_get", vec![s(&self.key(any_user, a))]),
                    sub("transfer", vec![self.call_id(b), number(a)]),
                    sub("get_favorites", vec![]),
                ];
                drop(
                    self.call(u, "system.multicall", vec![Value::Array(calls)])
                        .await,
                );
            }
        }
        // Whose calls exist now, from the backend.
        for (i, (_, group)) in USERS.iter().enumerate() {
            for call in self.pbx.get_calls(&self.callers[i]).await.unwrap() {
                self.truth.calls[*group].insert(call.id.as_str().to_owned());
            }
        }
    }

    /// Every leak found: (user, what).
    fn leaks(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (user, asked, response) in &self.answers {
            let (name, group) = USERS[*user];
            let other = 1 - group;
            let value = match response {
                MethodResponse::Success(v) => v.clone(),
                MethodResponse::Fault(f) => s(&f.string),
            };
            let mut seen = BTreeSet::new();
            strings(&value, &mut seen);
            // What the request named itself may come back (in a fault message).
            let foreign = |text: &String| !asked.iter().any(|a| text.contains(a.as_str()));
            for text in seen.iter().filter(|t| foreign(t)) {
                if self.truth.directory[other].contains(text) {
                    found.push(format!(
                        "{name} saw the other group's {text:?} in {response:?}"
                    ));
                }
                for (owner, secrets) in &self.truth.storage {
                    if *owner != name && secrets.iter().any(|secret| text.contains(secret.as_str()))
                    {
                        found.push(format!("{name} saw {owner}'s storage in {text:?}"));
                    }
                }
            }
            let mut ids = BTreeSet::new();
            call_ids(&value, &mut ids);
            for id in ids
                .iter()
                .filter(|id| !self.truth.calls[group].contains(*id))
            {
                found.push(format!(
                    "{name} saw a call {id:?} that is not its group's in {response:?}"
                ));
            }
            let mut favorites = Vec::new();
            entity_refs(&value, &mut favorites);
            for entity in favorites {
                if !self.truth.entities[group].contains(&entity) {
                    found.push(format!(
                        "{name} saw a foreign entity {entity:?} in {response:?}"
                    ));
                }
            }
        }
        found
    }
}

fn kind(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Extension => "extension",
        EntityKind::Queue => "queue",
        EntityKind::Attendant => "attendant",
        _ => "other",
    }
}

/// Every string in `value`, struct member names included.
fn strings(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => {
            out.insert(text.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Struct(members) => {
            for (name, v) in members.iter() {
                out.insert(name.to_owned());
                strings(v, out);
            }
        }
        _ => {}
    }
}

/// The call ids in `value`: string `id`s of call records, parked calls' ids.
fn call_ids(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| call_ids(v, out)),
        Value::Struct(members) => {
            for (name, v) in members.iter() {
                match (name, v) {
                    ("id", Value::String(id)) => {
                        out.insert(id.clone());
                    }
                    // parked_calls: slot number → call id
                    (slot, Value::String(id)) if slot.bytes().all(|b| b.is_ascii_digit()) => {
                        out.insert(id.clone());
                    }
                    _ => call_ids(v, out),
                }
            }
        }
        _ => {}
    }
}

/// The (type, id) of every record with an int `id` and a `type` (entities,
/// favorites, parties).
fn entity_refs(value: &Value, out: &mut Vec<(String, i64)>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| entity_refs(v, out)),
        Value::Struct(members) => {
            let get = |n: &str| members.iter().find(|(name, _)| *name == n).map(|(_, v)| v);
            if let (Some(Value::Int(id)), Some(Value::String(kind))) = (get("id"), get("type")) {
                // Parties outside the PBX (id 0), voicemail and unknown are no entities.
                if *id != 0 && ["extension", "queue", "attendant"].contains(&kind.as_str()) {
                    out.push((kind.clone(), *id));
                }
            }
            members.iter().for_each(|(_, v)| entity_refs(v, out));
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_answer_shows_another_groups_or_users_data(steps in steps()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let leaks = runtime.block_on(async {
            let mut world = World::new().await;
            for step in &steps {
                world.step(step).await;
            }
            world.leaks()
        });
        prop_assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    }
}
