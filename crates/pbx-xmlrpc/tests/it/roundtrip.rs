//! Property tests: every record, request and reply survives the trip to the wire
//! and back (through the codec's bytes too), and a liberal reading of what strict
//! writing produced changes nothing.

use std::collections::BTreeMap;

use pbx_model::{
    Call, CallId, CallState, CallerId, Entity, EntityId, EntityKind, EntityRef, Favorite,
    FavoriteSize, ParkingInfo, Party, PartyKind, Presence,
};
use pbx_xmlrpc::{Method, Record, Reply, Request, methods};
use proptest::prelude::*;
use xmlrpc_codec::{
    Encoder, Fault, MethodCall, MethodResponse, Struct, Value, decode_method_call,
    decode_method_response, encode_method_call, encode_method_response, encode_value,
};

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 +._<>&é€-]{0,12}"
}

fn nonempty() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9+._<>&é€-]{1,12}"
}

fn id() -> impl Strategy<Value = EntityId> {
    (0..=i32::MAX as u32).prop_map(EntityId)
}

fn small() -> impl Strategy<Value = u32> {
    0..=i32::MAX as u32
}

fn one_of<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(all)
}

fn party() -> impl Strategy<Value = Party> {
    (id(), text(), text(), one_of(PartyKind::ALL)).prop_map(|(id, number, name, kind)| Party {
        id,
        number,
        name,
        kind,
    })
}

fn call() -> impl Strategy<Value = Call> {
    (
        text(),
        one_of(CallState::ALL),
        party(),
        party(),
        small(),
        text(),
        any::<bool>(),
    )
        .prop_map(|(id, state, from, to, duration, via, qcall)| Call {
            id: CallId::new(id),
            state,
            from,
            to,
            duration,
            via,
            qcall,
        })
}

fn entity() -> impl Strategy<Value = Entity> {
    (
        id(),
        one_of(EntityKind::ALL),
        text(),
        (text(), text()),
        any::<bool>(),
        text(),
        one_of(Presence::ALL),
    )
        .prop_map(
            |(id, kind, abbreviated, (phone, name), voicemail, email, presence)| Entity {
                id,
                kind,
                abbreviated,
                caller_id: CallerId { phone, name },
                voicemail,
                email,
                presence,
            },
        )
}

fn favorite() -> impl Strategy<Value = Favorite> {
    (
        id(),
        one_of(EntityKind::ALL),
        small(),
        one_of(FavoriteSize::ALL),
    )
        .prop_map(|(id, kind, slot, size)| Favorite {
            entity: EntityRef { kind, id },
            slot,
            size,
        })
}

fn parking() -> impl Strategy<Value = ParkingInfo> {
    (
        text(),
        small(),
        proptest::collection::btree_map(small(), text(), 0..5),
    )
        .prop_map(|(parking_extension, slots, parked)| ParkingInfo {
            parking_extension,
            slots,
            parked_calls: parked
                .into_iter()
                .map(|(k, v)| (k, CallId::new(v)))
                .collect::<BTreeMap<_, _>>(),
        })
}

/// An array or struct of core types, as `dict_set_serialized` takes.
fn object() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(|i| Value::Int(i64::from(i))),
        any::<bool>().prop_map(Value::Bool),
        text().prop_map(Value::String),
        (-1.0e6f64..1.0e6).prop_map(Value::Double),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Base64),
    ];
    let tree = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((nonempty(), inner), 0..4)
                .prop_map(|m| Value::Struct(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        proptest::collection::vec(tree.clone(), 0..4).prop_map(Value::Array),
        proptest::collection::vec((nonempty(), tree), 0..4)
            .prop_map(|m| Value::Struct(m.into_iter().collect())),
    ]
}

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    // Unique keys: a struct keeps one value per name.
    proptest::collection::btree_map(nonempty(), text(), 0..4).prop_map(|m| m.into_iter().collect())
}

fn sim_request() -> impl Strategy<Value = Request> {
    let call = || text().prop_map(CallId::new);
    prop_oneof![
        (text(), text(), proptest::option::of(nonempty()))
            .prop_map(|(from, to, via)| Request::SimCall { from, to, via }),
        (call(), proptest::option::of(nonempty()))
            .prop_map(|(call, extension)| Request::SimAnswer { call, extension }),
        call().prop_map(|call| Request::SimHold { call }),
        call().prop_map(|call| Request::SimResume { call }),
        call().prop_map(|call| Request::SimHangup { call }),
        text().prop_map(|number| Request::SimRegister { number }),
        text().prop_map(|number| Request::SimUnregister { number }),
        Just(Request::SimReset),
        // A `loop` without a speed is written with the default speed, which
        // reads back as given: the stand-in has its own test.
        (
            nonempty(),
            proptest::option::of((0.5f64..100.0, proptest::option::of(any::<bool>())))
        )
            .prop_map(|(scenario, rest)| Request::SimPlay {
                scenario,
                speed: rest.map(|(speed, _)| speed),
                repeat: rest.and_then(|(_, repeat)| repeat),
            }),
        Just(Request::SimStop),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    let call = || text().prop_map(CallId::new);
    let simple = proptest::sample::select(vec![
        Request::GetCalls,
        Request::GetExtensions,
        Request::GetFavorites,
        Request::GetParkingInfo,
        Request::GetAll,
        Request::GetEvents {
            cursor: None,
            timeout: Some(0),
        },
        Request::GetEvents {
            cursor: Some("g-7".into()),
            timeout: None,
        },
        Request::ListMethods,
        Request::GetCapabilities,
    ]);
    let single = prop_oneof![
        simple,
        proptest::collection::vec(favorite(), 0..4)
            .prop_map(|favorites| Request::SetFavorites { favorites }),
        (call(), text()).prop_map(|(call, destination)| Request::Transfer { call, destination }),
        call().prop_map(|call| Request::Drop { call }),
        (call(), proptest::option::of(small()))
            .prop_map(|(call, slot)| Request::Park { call, slot }),
        (text(), text()).prop_map(|(key, value)| Request::DictSet { key, value }),
        pairs().prop_map(|pairs| Request::DictSetMany { pairs }),
        text().prop_map(|key| Request::DictGet { key }),
        (text(), object()).prop_map(|(key, value)| Request::DictSetSerialized { key, value }),
        text().prop_map(|key| Request::DictGetSerialized { key }),
        text().prop_map(|key| Request::DictDelete { key }),
        sim_request(),
        text().prop_map(|method| Request::MethodHelp { method }),
        text().prop_map(|method| Request::MethodSignature { method }),
    ];
    prop_oneof![
        4 => single.clone(),
        1 => proptest::collection::vec(single, 0..4)
            .prop_map(|rs| Request::Multicall {
                calls: rs.iter().map(Request::to_call).collect()
            }),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    (any::<i32>(), text()).prop_map(|(code, string)| Fault::new(code, string))
}

fn reply() -> impl Strategy<Value = (Method, Reply)> {
    prop_oneof![
        proptest::collection::vec(call(), 0..3).prop_map(|c| (Method::GetCalls, Reply::Calls(c))),
        proptest::collection::vec(entity(), 0..3)
            .prop_map(|e| (Method::GetExtensions, Reply::Extensions(e))),
        proptest::collection::vec(favorite(), 0..3)
            .prop_map(|f| (Method::GetFavorites, Reply::Favorites(f))),
        Just((Method::Drop, Reply::Done)),
        parking().prop_map(|p| (Method::GetParkingInfo, Reply::ParkingInfo(p))),
        small().prop_map(|s| (Method::Park, Reply::Slot(s))),
        text().prop_map(|t| (Method::DictGet, Reply::Text(t))),
        pairs().prop_map(|p| (Method::GetAll, Reply::Entries(p))),
        object().prop_map(|o| (Method::DictGetSerialized, Reply::Object(o))),
        text().prop_map(|c| (Method::SimCall, Reply::CallId(CallId::new(c)))),
        proptest::collection::vec(text(), 0..3)
            .prop_map(|n| (Method::ListMethods, Reply::MethodNames(n))),
        proptest::collection::vec(proptest::collection::vec(text(), 1..3), 0..3)
            .prop_map(|s| (Method::MethodSignature, Reply::Signatures(s))),
        proptest::collection::vec(
            prop_oneof![object().prop_map(Ok), fault().prop_map(Err)],
            0..3
        )
        .prop_map(|r| (Method::Multicall, Reply::Multicall(r))),
    ]
}

/// Through the codec's bytes, as a response.
fn over_the_wire(value: Value) -> Value {
    let bytes = encode_method_response(&MethodResponse::Success(value)).expect("encodes");
    match decode_method_response(&bytes).expect("decodes") {
        MethodResponse::Success(v) => v,
        MethodResponse::Fault(f) => panic!("{f}"),
    }
}

fn round_trip<R: Record + PartialEq + std::fmt::Debug>(record: &R) -> Result<(), TestCaseError> {
    let value = record.to_value();
    // The streamed record (`write`) is byte for byte the tree (`to_value`).
    let streamed = Encoder::default()
        .value_with(|w| record.write(w))
        .expect("encodes");
    prop_assert_eq!(streamed, encode_value(&value).expect("encodes"));
    prop_assert_eq!(
        &R::from_value(&value).map_err(|e| TestCaseError::fail(e.to_string()))?,
        record
    );
    let value = over_the_wire(value);
    prop_assert_eq!(
        &R::from_value(&value).map_err(|e| TestCaseError::fail(e.to_string()))?,
        record
    );
    Ok(())
}

proptest! {
    #[test]
    fn calls_round_trip(c in call()) { round_trip(&c)?; }

    #[test]
    fn entities_round_trip(e in entity()) { round_trip(&e)?; }

    #[test]
    fn favorites_round_trip(f in favorite()) { round_trip(&f)?; }

    #[test]
    fn parking_info_round_trips(p in parking()) { round_trip(&p)?; }

    #[test]
    fn requests_round_trip(r in request()) {
        let call = r.to_call();
        prop_assert_eq!(Request::from_call(&call), Ok(r.clone()));
        let bytes = encode_method_call(&call).expect("encodes");
        let decoded: MethodCall = decode_method_call(&bytes).expect("decodes");
        prop_assert_eq!(Request::from_call(&decoded), Ok(r));
    }

    #[test]
    fn replies_round_trip((method, reply) in reply()) {
        let tree = encode_method_response(&MethodResponse::Success(reply.clone().into_value()));
        let streamed = Encoder::default().method_response_with(|w| reply.clone().write(w));
        prop_assert_eq!(streamed.expect("encodes"), tree.expect("encodes"));
        let value = over_the_wire(reply.clone().into_value());
        prop_assert_eq!(Reply::from_value(method, &value), Ok(reply));
    }
}

#[test]
fn every_method_has_a_request_variant() {
    // `to_call` names every method of the table, and a request knows its method.
    let mut named: Vec<&str> = Vec::new();
    let call = CallId::new("1");
    let sims = vec![
        Request::SimCall {
            from: "a".into(),
            to: "b".into(),
            via: None,
        },
        Request::SimAnswer {
            call: call.clone(),
            extension: None,
        },
        Request::SimHold { call: call.clone() },
        Request::SimResume { call: call.clone() },
        Request::SimHangup { call: call.clone() },
        Request::SimRegister { number: "1".into() },
        Request::SimUnregister { number: "1".into() },
        Request::SimReset,
        Request::SimPlay {
            scenario: "office-day".into(),
            speed: None,
            repeat: Some(true),
        },
        Request::SimStop,
    ];
    let mut requests = vec![
        Request::GetCalls,
        Request::GetExtensions,
        Request::GetFavorites,
        Request::SetFavorites { favorites: vec![] },
        Request::Transfer {
            call: call.clone(),
            destination: "2".into(),
        },
        Request::Drop { call: call.clone() },
        Request::GetParkingInfo,
        Request::Park {
            call: call.clone(),
            slot: None,
        },
        Request::DictSet {
            key: "k".into(),
            value: "v".into(),
        },
        Request::DictSetMany { pairs: vec![] },
        Request::DictGet { key: "k".into() },
        Request::DictSetSerialized {
            key: "k".into(),
            value: Value::Array(vec![]),
        },
        Request::DictGetSerialized { key: "k".into() },
        Request::DictDelete { key: "k".into() },
        Request::GetAll,
        Request::GetEvents {
            cursor: None,
            timeout: Some(0),
        },
        Request::ListMethods,
        Request::MethodHelp { method: "m".into() },
        Request::MethodSignature { method: "m".into() },
        Request::Multicall { calls: vec![] },
        Request::GetCapabilities,
    ];
    requests.extend(sims);
    for r in &requests {
        named.push(r.method().name());
        assert_eq!(r.to_call().method_name, r.method().name());
    }
    named.sort_unstable();
    let mut all: Vec<&str> = methods().iter().map(|m| m.name).collect();
    all.sort_unstable();
    assert_eq!(named, all);
}

#[test]
fn records_are_read_liberally() {
    let s = |t: &str| Value::String(t.into());
    // A call record as an older server might write it: booleans for flags, an int
    // call id, no `via`, no party names.
    let party = |id: i64, number: &str, kind: &str| {
        Value::Struct(Struct::from_iter([
            ("id", Value::Int(id)),
            ("number", s(number)),
            ("type", s(kind)),
        ]))
    };
    let record = Value::Struct(Struct::from_iter([
        ("id", Value::Int(17)),
        ("state", s("Ringing")),
        ("from", party(0, "+1555", "unknown")),
        ("to", party(3, "203", "extension")),
        ("duration", s("42")),
        ("qcall", Value::Bool(true)),
    ]));
    let call = Call::from_value(&record).unwrap();
    assert_eq!(call.id.as_str(), "17");
    assert_eq!(
        (call.state, call.duration, call.qcall),
        (CallState::Ringing, 42, true)
    );
    assert_eq!(call.via, "");

    let bad = Value::Array(vec![Value::Struct(Struct::from_iter([
        ("id", s("x")),
        ("type", s("queue")),
        ("slot", Value::Int(1)),
    ]))]);
    let err = pbx_xmlrpc::parse_favorites(&bad).unwrap_err();
    assert_eq!(err.to_string(), "[0].id: expected int, got string \"x\"");
    assert_eq!(err.path(), "[0].id");
}
