//! Tests of the serde layer: every mapping of `to_value`/`from_value`, the params helpers,
//! error messages and paths, and round trips (with proptest).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use proptest::prelude::*;
use serde::de::IntoDeserializer;
use serde::{Deserialize, Serialize};

use serde::de::DeserializeOwned;

use crate::{
    DateTime, EncodeOptions, Encoder, MethodCall, PathSegment, Positional, SerdeError, Struct,
    TypedError, Value, to_params, to_value,
};

/// [`crate::from_value`], with every case also run through the streaming path
/// (`from_value_slice` on the value's encoding), which must agree.
fn from_value<T: DeserializeOwned + fmt::Debug>(v: Value) -> Result<T, SerdeError> {
    let tree = crate::from_value::<T>(v.clone());
    let mut xml = Vec::new();
    let encoder = Encoder::new(EncodeOptions {
        allow_extensions: true,
    });
    if encoder.value(&v, &mut xml).is_ok() {
        let read_back = crate::decode_value(&xml).expect("the encoder's output decodes");
        let reference = if read_back == v {
            clone_result(&tree)
        } else {
            clone_result(&crate::from_value::<T>(read_back))
        };
        assert_same(&reference, crate::from_value_slice::<T>(&xml), &v);
    }
    tree
}

/// [`crate::from_params`], with every case also run through `from_call_slice`.
fn from_params<T: DeserializeOwned + fmt::Debug>(params: Vec<Value>) -> Result<T, SerdeError> {
    let tree = crate::from_params::<T>(params.clone());
    let call = MethodCall::new("m", params.clone());
    let mut xml = Vec::new();
    let encoder = Encoder::new(EncodeOptions {
        allow_extensions: true,
    });
    if encoder.method_call(&call, &mut xml).is_ok() {
        let read_back = crate::decode_method_call(&xml).expect("the encoder's output decodes");
        let reference = if read_back.params == params {
            clone_result(&tree)
        } else {
            clone_result(&crate::from_params::<T>(read_back.params))
        };
        let streamed = crate::from_call_slice::<T>(&xml).map(|(name, p)| {
            assert_eq!(name, "m");
            p
        });
        assert_same(&reference, streamed, &Value::Array(params));
    }
    tree
}

/// The tree path's result with the value shown through `Debug` (enough to compare).
fn clone_result<T: fmt::Debug>(r: &Result<T, SerdeError>) -> Result<String, SerdeError> {
    r.as_ref().map(|v| format!("{v:?}")).map_err(Clone::clone)
}

fn assert_same<T: fmt::Debug>(
    tree: &Result<String, SerdeError>,
    streamed: Result<T, TypedError>,
    input: &Value,
) {
    match (tree, streamed) {
        (Ok(a), Ok(b)) => {
            let b = format!("{b:?}");
            if *a != b {
                // A HashMap's Debug order differs between two maps: compare contents.
                let (mut a, mut b): (Vec<char>, Vec<char>) =
                    (a.chars().collect(), b.chars().collect());
                a.sort_unstable();
                b.sort_unstable();
                assert_eq!(a, b, "the paths disagree on {input:?}");
            }
        }
        (Err(a), Err(TypedError::Serde(b))) => {
            assert_eq!(
                a.to_string(),
                b.to_string(),
                "the paths disagree on {input:?}"
            );
        }
        (a, b) => panic!("the paths disagree on {input:?}: tree {a:?}, streaming {b:?}"),
    }
}

fn st<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Struct(members.into_iter().collect())
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

fn dt() -> DateTime {
    DateTime::new(2024, 3, 1, 9, 30, 5).expect("valid date")
}

fn err_of<T: std::fmt::Debug>(r: Result<T, SerdeError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Bytes written with `serialize_bytes` and read with `deserialize_byte_buf`, as
/// `serde_bytes::ByteBuf` does.
#[derive(Debug, Clone, PartialEq)]
struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
                Ok(Bytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

// ---- scalars ----

#[test]
fn integers_of_every_width_are_ints() {
    assert_eq!(to_value(&-5i8).unwrap(), Value::Int(-5));
    assert_eq!(to_value(&300i16).unwrap(), Value::Int(300));
    assert_eq!(to_value(&i32::MIN).unwrap(), Value::Int(i32::MIN.into()));
    assert_eq!(to_value(&i64::MAX).unwrap(), Value::Int(i64::MAX));
    assert_eq!(to_value(&200u8).unwrap(), Value::Int(200));
    assert_eq!(to_value(&u32::MAX).unwrap(), Value::Int(u32::MAX.into()));
    assert_eq!(to_value(&(i64::MAX as u64)).unwrap(), Value::Int(i64::MAX));
    assert_eq!(to_value(&-7i128).unwrap(), Value::Int(-7));
    assert_eq!(to_value(&7usize).unwrap(), Value::Int(7));

    assert_eq!(from_value::<u8>(Value::Int(255)).unwrap(), 255);
    assert_eq!(from_value::<i8>(Value::Int(-128)).unwrap(), -128);
    assert_eq!(
        from_value::<u64>(Value::Int(i64::MAX)).unwrap(),
        i64::MAX as u64
    );
    assert_eq!(
        from_value::<i128>(Value::Int(i64::MIN)).unwrap(),
        i64::MIN.into()
    );
    assert_eq!(from_value::<u128>(Value::Int(3)).unwrap(), 3);
}

#[test]
fn integers_out_of_range_are_errors_naming_the_value() {
    assert_eq!(
        err_of(to_value(&u64::MAX)),
        "u64 18446744073709551615 is out of range for an XML-RPC int (a signed 64-bit integer)"
    );
    assert!(to_value(&(i128::from(i64::MAX) + 1)).is_err());
    assert!(to_value(&u128::MAX).is_err());
    assert_eq!(
        err_of(from_value::<u8>(Value::Int(256))),
        "int 256 is out of range for u8"
    );
    assert_eq!(
        err_of(from_value::<u32>(Value::Int(-1))),
        "int -1 is out of range for u32"
    );
    assert_eq!(
        err_of(from_value::<i16>(Value::Int(40_000))),
        "int 40000 is out of range for i16"
    );
}

#[test]
fn floats_are_doubles_and_ints_read_as_floats_but_not_back() {
    assert_eq!(to_value(&1.5f64).unwrap(), Value::Double(1.5));
    // The shortest decimal of the f32, not its binary expansion.
    assert_eq!(to_value(&0.1f32).unwrap(), Value::Double(0.1));
    assert_eq!(from_value::<f32>(Value::Double(0.1)).unwrap(), 0.1f32);
    assert_eq!(from_value::<f64>(Value::Int(3)).unwrap(), 3.0);
    assert_eq!(from_value::<f32>(Value::Int(-2)).unwrap(), -2.0);
    assert_eq!(
        err_of(from_value::<i32>(Value::Double(2.0))),
        "expected i32, found double 2.0"
    );
    assert_eq!(
        err_of(from_value::<f32>(Value::Double(1e300))),
        "double 1e300 is out of range for f32"
    );
    assert!(to_value(&f64::NAN).is_err());
    assert!(to_value(&f64::INFINITY).is_err());
    assert!(to_value(&f32::NEG_INFINITY).is_err());
}

#[test]
fn bools_chars_and_strings() {
    assert_eq!(to_value(&true).unwrap(), Value::Bool(true));
    assert!(from_value::<bool>(Value::Bool(true)).unwrap());
    assert_eq!(
        err_of(from_value::<bool>(Value::Int(1))),
        "expected a boolean, found int 1"
    );
    assert_eq!(to_value(&'é').unwrap(), s("é"));
    assert_eq!(from_value::<char>(s("é")).unwrap(), 'é');
    assert!(from_value::<char>(s("ab")).is_err());
    assert_eq!(to_value("  \r\n ").unwrap(), s("  \r\n "));
    assert_eq!(from_value::<String>(s(" x ")).unwrap(), " x ");
    assert_eq!(
        err_of(from_value::<String>(Value::Int(5))),
        "expected a string, found int 5"
    );
    // A dateTime where a string is asked for is its text.
    assert_eq!(
        from_value::<String>(Value::DateTime(dt())).unwrap(),
        "2024-03-01T09:30:05"
    );
    let long = "x".repeat(100);
    let msg = err_of(from_value::<i32>(Value::String(long)));
    assert!(msg.ends_with("\"…"), "{msg}");
    assert!(msg.len() < 80, "{msg}");
}

#[test]
fn borrowing_from_a_value_reference() {
    #[derive(Deserialize)]
    struct Borrowed<'a> {
        name: &'a str,
        data: &'a [u8],
    }
    let v = st([("name", s("alice")), ("data", Value::Base64(vec![1, 2]))]);
    let b = Borrowed::deserialize(&v).unwrap();
    assert_eq!((b.name, b.data), ("alice", &[1u8, 2][..]));
}

// ---- bytes ----

#[test]
fn bytes_are_base64() {
    assert_eq!(
        to_value(&Bytes(vec![0, 255])).unwrap(),
        Value::Base64(vec![0, 255])
    );
    assert_eq!(
        from_value::<Bytes>(Value::Base64(vec![1, 2, 3])).unwrap(),
        Bytes(vec![1, 2, 3])
    );
    assert_eq!(
        Bytes::deserialize(&Value::Base64(vec![9])).unwrap(),
        Bytes(vec![9])
    );
    // A plain Vec<u8> writes an array but reads base64 too.
    assert_eq!(
        to_value(&vec![1u8, 2]).unwrap(),
        Value::Array(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(
        from_value::<Vec<u8>>(Value::Base64(vec![7, 8])).unwrap(),
        [7, 8]
    );
    assert_eq!(
        Vec::<u8>::deserialize(&Value::Base64(vec![7, 8])).unwrap(),
        [7, 8]
    );
    assert_eq!(
        err_of(from_value::<Bytes>(Value::Int(1))),
        "expected bytes, found int 1"
    );
}

// ---- Option and unit ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Opts {
    a: Option<i32>,
    b: Option<Option<i32>>,
    c: i32,
}

#[test]
fn none_is_nil_at_top_level_and_in_arrays() {
    assert_eq!(to_value(&None::<i32>).unwrap(), Value::Nil);
    assert_eq!(to_value(&Some(3)).unwrap(), Value::Int(3));
    assert_eq!(
        to_value(&vec![Some(1), None]).unwrap(),
        Value::Array(vec![Value::Int(1), Value::Nil])
    );
    assert_eq!(from_value::<Option<i32>>(Value::Nil).unwrap(), None);
    assert_eq!(from_value::<Option<i32>>(Value::Int(4)).unwrap(), Some(4));
    assert_eq!(
        from_value::<Vec<Option<i32>>>(Value::Array(vec![Value::Nil, Value::Int(2)])).unwrap(),
        [None, Some(2)]
    );
}

#[test]
fn none_fields_are_absent_members() {
    let v = to_value(&Opts {
        a: None,
        b: Some(None),
        c: 1,
    })
    .unwrap();
    // `a` is left out; `Some(None)` is an explicit nil.
    assert_eq!(v, st([("b", Value::Nil), ("c", Value::Int(1))]));
    let back: Opts = from_value(st([("c", Value::Int(1))])).unwrap();
    assert_eq!(
        back,
        Opts {
            a: None,
            b: None,
            c: 1
        }
    );
    let nil: Opts = from_value(st([("a", Value::Nil), ("c", Value::Int(2))])).unwrap();
    assert_eq!(nil.a, None);
    assert_eq!(
        err_of(from_value::<Opts>(st([("a", Value::Int(1))]))),
        "missing member `c`"
    );
}

#[test]
fn unit_and_unit_structs_are_nil() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Marker;
    assert_eq!(to_value(&()).unwrap(), Value::Nil);
    assert_eq!(to_value(&Marker).unwrap(), Value::Nil);
    from_value::<()>(Value::Nil).unwrap();
    from_value::<()>(Value::Array(vec![])).unwrap();
    assert_eq!(from_value::<Marker>(Value::Nil).unwrap(), Marker);
    assert_eq!(
        err_of(from_value::<()>(Value::Int(0))),
        "expected unit, found int 0"
    );
}

// ---- enums ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CallState {
    Ringing,
    OnHold,
    #[serde(rename = "up")]
    Connected,
    Parked(u32),
    Bridged(String, String),
    Transferred {
        to: String,
        blind: bool,
    },
}

#[test]
fn unit_variants_are_strings_with_renames() {
    assert_eq!(to_value(&CallState::Ringing).unwrap(), s("ringing"));
    assert_eq!(to_value(&CallState::OnHold).unwrap(), s("on_hold"));
    assert_eq!(to_value(&CallState::Connected).unwrap(), s("up"));
    assert_eq!(
        from_value::<CallState>(s("up")).unwrap(),
        CallState::Connected
    );
    assert_eq!(
        err_of(from_value::<CallState>(s("gone"))),
        "unknown variant `gone`, expected one of `ringing`, `on_hold`, `up`, `parked`, `bridged`, `transferred`"
    );
}

#[test]
fn data_variants_are_one_member_structs() {
    assert_eq!(
        to_value(&CallState::Parked(701)).unwrap(),
        st([("parked", Value::Int(701))])
    );
    assert_eq!(
        to_value(&CallState::Bridged("a".into(), "b".into())).unwrap(),
        st([("bridged", Value::Array(vec![s("a"), s("b")]))])
    );
    let transferred = CallState::Transferred {
        to: "202".into(),
        blind: true,
    };
    assert_eq!(
        to_value(&transferred).unwrap(),
        st([(
            "transferred",
            st([("to", s("202")), ("blind", Value::Bool(true))])
        )])
    );
    for v in [
        CallState::Parked(701),
        CallState::Bridged("a".into(), "b".into()),
        transferred,
    ] {
        assert_eq!(from_value::<CallState>(to_value(&v).unwrap()).unwrap(), v);
        assert_eq!(CallState::deserialize(&to_value(&v).unwrap()).unwrap(), v);
    }
    // A unit variant may also come as `{name: nil}`.
    assert_eq!(
        from_value::<CallState>(st([("ringing", Value::Nil)])).unwrap(),
        CallState::Ringing
    );
    assert_eq!(
        err_of(from_value::<CallState>(st([
            ("a", Value::Nil),
            ("b", Value::Nil)
        ]))),
        "expected enum CallState (a string, or a struct with one member), found struct with 2 members"
    );
    assert_eq!(
        err_of(from_value::<CallState>(st([("parked", s("x"))]))),
        "expected u32, found string \"x\" at `.parked`"
    );
    assert_eq!(
        err_of(from_value::<CallState>(s("parked"))),
        "expected newtype variant, found unit variant"
    );
}

#[test]
fn internally_tagged_and_untagged_enums_work() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "kind")]
    enum Event {
        Hangup { call: String },
        Dtmf { call: String, digit: char },
    }
    let e = Event::Dtmf {
        call: "c1".into(),
        digit: '5',
    };
    let v = to_value(&e).unwrap();
    assert_eq!(
        v,
        st([("kind", s("Dtmf")), ("call", s("c1")), ("digit", s("5"))])
    );
    assert_eq!(from_value::<Event>(v).unwrap(), e);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum IdOrName {
        Id(i64),
        Name(String),
    }
    assert_eq!(
        from_value::<IdOrName>(Value::Int(4)).unwrap(),
        IdOrName::Id(4)
    );
    assert_eq!(
        from_value::<IdOrName>(s("x")).unwrap(),
        IdOrName::Name("x".into())
    );
}

// ---- maps, sequences, structs ----

#[test]
fn maps_with_string_integer_and_bool_keys_are_structs() {
    let mut m = BTreeMap::new();
    m.insert("b".to_owned(), 2);
    m.insert("a".to_owned(), 1);
    assert_eq!(
        to_value(&m).unwrap(),
        st([("a", Value::Int(1)), ("b", Value::Int(2))])
    );
    let back: HashMap<String, i32> = from_value(to_value(&m).unwrap()).unwrap();
    assert_eq!(back.len(), 2);

    let ints: BTreeMap<u32, &str> = [(7, "x"), (10, "y")].into_iter().collect();
    let v = to_value(&ints).unwrap();
    assert_eq!(v, st([("7", s("x")), ("10", s("y"))]));
    assert_eq!(from_value::<BTreeMap<u32, String>>(v).unwrap().len(), 2);

    let bools: BTreeMap<bool, i32> = [(true, 1)].into_iter().collect();
    let v = to_value(&bools).unwrap();
    assert_eq!(v, st([("true", Value::Int(1))]));
    assert_eq!(from_value::<BTreeMap<bool, i32>>(v).unwrap(), bools);

    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Line {
        OnHold,
    }
    let lines: BTreeMap<Line, i32> = [(Line::OnHold, 3)].into_iter().collect();
    let v = to_value(&lines).unwrap();
    assert_eq!(v, st([("on_hold", Value::Int(3))]));
    assert_eq!(from_value::<BTreeMap<Line, i32>>(v).unwrap(), lines);

    assert_eq!(
        err_of(from_value::<BTreeMap<u8, i32>>(st([("x", Value::Int(1))]))),
        "expected u8, found string \"x\""
    );
    let bad: BTreeMap<(i32, i32), i32> = [((1, 2), 3)].into_iter().collect();
    assert_eq!(
        err_of(to_value(&bad)),
        "a struct member name must come from a string, integer, bool, char or unit variant, found a tuple"
    );
    // As for struct fields, a `None` entry is left out.
    let opt: BTreeMap<&str, Option<i32>> = [("a", None), ("b", Some(1))].into_iter().collect();
    assert_eq!(to_value(&opt).unwrap(), st([("b", Value::Int(1))]));
}

#[test]
fn sequences_and_tuples_are_arrays() {
    assert_eq!(
        to_value(&[1, 2, 3]).unwrap(),
        Value::Array(vec![Value::Int(1), Value::Int(2), Value::Int(3)])
    );
    assert_eq!(
        to_value(&(1, "a", true)).unwrap(),
        Value::Array(vec![Value::Int(1), s("a"), Value::Bool(true)])
    );
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pair(i32, String);
    let v = to_value(&Pair(1, "x".into())).unwrap();
    assert_eq!(v, Value::Array(vec![Value::Int(1), s("x")]));
    assert_eq!(from_value::<Pair>(v).unwrap(), Pair(1, "x".into()));
    assert_eq!(
        from_value::<(i32, String)>(Value::Array(vec![Value::Int(1), s("x")])).unwrap(),
        (1, "x".to_owned())
    );
    assert_eq!(
        err_of(from_value::<(i32, i32)>(Value::Array(vec![Value::Int(1)]))),
        "wrong number of elements: expected a tuple of size 2, found 1"
    );
    assert_eq!(
        err_of(from_value::<(i32,)>(Value::Array(vec![
            Value::Int(1),
            Value::Int(2)
        ]))),
        "expected an array of 1 element, found 2"
    );
    assert_eq!(
        err_of(from_value::<Vec<i32>>(s("x"))),
        "expected a sequence, found string \"x\""
    );
}

#[test]
fn structs_keep_field_order_and_newtypes_are_transparent() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Id(u32);
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ext {
        zeta: Id,
        alpha: String,
        #[serde(rename = "Mid")]
        mid: bool,
    }
    let e = Ext {
        zeta: Id(1),
        alpha: "a".into(),
        mid: false,
    };
    let v = to_value(&e).unwrap();
    let Value::Struct(members) = &v else {
        panic!("not a struct: {v:?}")
    };
    let names: Vec<&str> = members.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["zeta", "alpha", "Mid"]);
    assert_eq!(members.get("zeta"), Some(&Value::Int(1)));
    assert_eq!(from_value::<Ext>(v).unwrap(), e);
    // Read positionally from an array as well.
    let arr = Value::Array(vec![Value::Int(1), s("a"), Value::Bool(false)]);
    assert_eq!(from_value::<Ext>(arr).unwrap(), e);
    // Unknown members are ignored unless the type denies them.
    let extra = st([
        ("zeta", Value::Int(1)),
        ("alpha", s("a")),
        ("Mid", Value::Bool(false)),
        ("new", Value::Nil),
    ]);
    assert_eq!(from_value::<Ext>(extra).unwrap(), e);
}

#[test]
fn flattened_structs_work() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Inner {
        x: i32,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Outer {
        #[serde(flatten)]
        inner: Inner,
        y: String,
    }
    let o = Outer {
        inner: Inner { x: 1 },
        y: "y".into(),
    };
    let v = to_value(&o).unwrap();
    assert_eq!(v, st([("x", Value::Int(1)), ("y", s("y"))]));
    assert_eq!(from_value::<Outer>(v).unwrap(), o);
}

// ---- DateTime and Value ----

#[test]
fn datetime_fields_are_datetime_values() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Cdr {
        start: DateTime,
        end: Option<DateTime>,
    }
    let c = Cdr {
        start: dt(),
        end: None,
    };
    let v = to_value(&c).unwrap();
    assert_eq!(v, st([("start", Value::DateTime(dt()))]));
    assert_eq!(from_value::<Cdr>(v).unwrap(), c);
    // Read from a string too.
    let from_text: Cdr = from_value(st([("start", s("20240301T09:30:05"))])).unwrap();
    assert_eq!(from_text.start, dt());
    let msg = err_of(from_value::<DateTime>(s("yesterday")));
    assert!(
        msg.starts_with("expected dateTime, found string \"yesterday\" (invalid date or time: "),
        "{msg}"
    );
    assert_eq!(
        err_of(from_value::<i64>(Value::DateTime(dt()))),
        "expected i64, found dateTime 2024-03-01T09:30:05"
    );
}

/// `Display` through serde's `fmt::Formatter` serializer: a serializer that is not ours.
struct ViaFormatter<'a, T>(&'a T);

impl<T: Serialize> fmt::Display for ViaFormatter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.serialize(f)
    }
}

#[test]
fn datetime_is_an_iso_string_to_other_formats() {
    let full = dt()
        .with_nanosecond(250_000_000)
        .unwrap()
        .with_offset_minutes(Some(120))
        .unwrap();
    assert_eq!(
        ViaFormatter(&full).to_string(),
        "2024-03-01T09:30:05.25+02:00"
    );
    assert_eq!(
        ViaFormatter(&Value::DateTime(dt())).to_string(),
        "2024-03-01T09:30:05"
    );
    let back = DateTime::deserialize("2024-03-01T09:30:05.25+02:00".into_deserializer()
        as serde::de::value::StrDeserializer<'_, SerdeError>)
    .unwrap();
    assert_eq!(back, full);
}

#[test]
fn values_embed_in_user_types_exactly() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Envelope {
        id: u32,
        payload: Value,
        extra: Vec<Value>,
    }
    let e = Envelope {
        id: 1,
        payload: st([
            ("when", Value::DateTime(dt())),
            ("blob", Value::Base64(vec![1, 2])),
            ("nothing", Value::Nil),
            ("n", Value::Double(2.5)),
        ]),
        extra: vec![Value::Nil, Value::DateTime(dt()), s("2024-03-01T09:30:05")],
    };
    let v = to_value(&e).unwrap();
    let Value::Struct(members) = &v else {
        panic!("not a struct")
    };
    assert_eq!(members.get("payload"), Some(&e.payload));
    assert_eq!(from_value::<Envelope>(v.clone()).unwrap(), e);
    assert_eq!(Envelope::deserialize(&v).unwrap(), e);
}

#[test]
fn value_reads_from_other_deserializers() {
    use serde::de::value::{MapDeserializer, SeqDeserializer};
    let seq: SeqDeserializer<_, SerdeError> = SeqDeserializer::new(vec![1i64, 2].into_iter());
    assert_eq!(
        Value::deserialize(seq).unwrap(),
        Value::Array(vec![Value::Int(1), Value::Int(2)])
    );
    let map: MapDeserializer<'_, _, SerdeError> =
        MapDeserializer::new(vec![("k", 1.5f64), ("j", 2.0)].into_iter());
    assert_eq!(
        Value::deserialize(map).unwrap(),
        st([("k", Value::Double(1.5)), ("j", Value::Double(2.0))])
    );
    let big: serde::de::value::U64Deserializer<SerdeError> = u64::MAX.into_deserializer();
    assert_eq!(
        err_of(Value::deserialize(big)),
        "int 18446744073709551615 is out of range for i64"
    );
    let unit: serde::de::value::UnitDeserializer<SerdeError> = ().into_deserializer();
    assert_eq!(Value::deserialize(unit).unwrap(), Value::Nil);
}

// ---- params ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Transfer {
    call_id: String,
    target: String,
    timeout_s: Option<u32>,
    note: Option<String>,
}

#[test]
fn to_params_shapes() {
    assert_eq!(to_params(&()).unwrap(), []);
    #[derive(Serialize)]
    struct Nothing;
    assert_eq!(to_params(&Nothing).unwrap(), []);
    assert_eq!(to_params(&(1, "a")).unwrap(), [Value::Int(1), s("a")]);
    assert_eq!(
        to_params(&vec![1, 2]).unwrap(),
        [Value::Int(1), Value::Int(2)]
    );
    assert_eq!(to_params(&[true]).unwrap(), [Value::Bool(true)]);
    assert_eq!(to_params(&(5,)).unwrap(), [Value::Int(5)]);
    assert_eq!(to_params(&None::<(i32,)>).unwrap(), []);
    assert_eq!(
        to_params(&Some((1, 2))).unwrap(),
        [Value::Int(1), Value::Int(2)]
    );
    assert_eq!(to_params(&(CallState::OnHold,)).unwrap(), [s("on_hold")]);
    assert_eq!(
        to_params(&(CallState::Parked(1),)).unwrap(),
        [st([("parked", Value::Int(1))])]
    );
    let m: BTreeMap<&str, i32> = [("a", 1)].into_iter().collect();
    assert_eq!(to_params(&(&m,)).unwrap(), [st([("a", Value::Int(1))])]);
    assert_eq!(to_params(&(dt(),)).unwrap(), [Value::DateTime(dt())]);

    #[derive(Serialize)]
    struct Wrapped((i32, i32));
    assert_eq!(
        to_params(&Wrapped((1, 2))).unwrap(),
        [Value::Int(1), Value::Int(2)]
    );
}

#[test]
fn a_struct_or_map_passed_as_params_is_refused_with_the_fix_in_the_message() {
    #[derive(Serialize)]
    struct BugGet {
        ids: Vec<i32>,
    }
    let query = BugGet { ids: vec![1, 2] };
    let e = to_params(&query).unwrap_err().to_string();
    assert!(e.contains("found struct BugGet"), "{e}");
    assert!(e.contains("`to_params(&(&value,))`"), "{e}");
    assert!(e.contains("`to_params(&Positional(&value))`"), "{e}");
    // Wrapped, it is the one struct parameter the method wants.
    assert_eq!(
        to_params(&(&query,)).unwrap(),
        [st([(
            "ids",
            Value::Array(vec![Value::Int(1), Value::Int(2)])
        )])]
    );
    // Spread on request only.
    assert_eq!(
        to_params(&Positional(&query)).unwrap(),
        [Value::Array(vec![Value::Int(1), Value::Int(2)])]
    );

    let m: BTreeMap<&str, i32> = [("a", 1)].into_iter().collect();
    let e = to_params(&m).unwrap_err().to_string();
    assert!(e.contains("found a map"), "{e}");
    for (e, what) in [
        (to_params(&5).unwrap_err(), "an integer"),
        (to_params("x").unwrap_err(), "a string"),
        (to_params(&dt()).unwrap_err(), "a dateTime"),
        (
            to_params(&CallState::Parked(1)).unwrap_err(),
            "enum variant CallState::parked",
        ),
        (to_params(&Positional(&m)).unwrap_err(), "a map"),
    ] {
        assert!(e.to_string().contains(&format!("found {what}")), "{e}");
    }
}

#[test]
fn to_params_drops_trailing_nones_and_keeps_positions() {
    let t = Transfer {
        call_id: "c1".into(),
        target: "202".into(),
        timeout_s: None,
        note: None,
    };
    assert_eq!(to_params(&Positional(&t)).unwrap(), [s("c1"), s("202")]);
    let t2 = Transfer {
        note: Some("n".into()),
        ..t
    };
    assert_eq!(
        to_params(&Positional(&t2)).unwrap(),
        [s("c1"), s("202"), Value::Nil, s("n")]
    );
    assert_eq!(
        to_params(&(1, None::<i32>, None::<i32>)).unwrap(),
        [Value::Int(1)]
    );
    // A sequence is data: its Nones are nils.
    assert_eq!(
        to_params(&vec![Some(1), None]).unwrap(),
        [Value::Int(1), Value::Nil]
    );

    #[derive(Serialize)]
    struct Skipping {
        a: i32,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<i32>,
        c: i32,
    }
    assert_eq!(
        to_params(&Positional(Skipping {
            a: 1,
            b: None,
            c: 3
        }))
        .unwrap(),
        [Value::Int(1), Value::Nil, Value::Int(3)]
    );
}

#[test]
fn to_params_errors_name_the_parameter() {
    #[derive(Serialize)]
    struct P {
        a: i32,
        big: u64,
    }
    let e = to_params(&Positional(P {
        a: 1,
        big: u64::MAX,
    }))
    .unwrap_err();
    assert_eq!(e.param(), Some(1));
    assert!(
        e.to_string()
            .starts_with("parameter 2 (`big`): u64 18446744073709551615"),
        "{e}"
    );
    let e = to_params(&(1, vec![f64::NAN])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter 2: double NaN cannot be sent: XML-RPC doubles are finite at `[0]`"
    );
}

#[test]
fn from_params_shapes() {
    from_params::<()>(vec![]).unwrap();
    from_params::<()>(vec![Value::Nil]).unwrap();
    assert_eq!(
        err_of(from_params::<()>(vec![Value::Int(1)])),
        "expected no parameters, found 1 parameter"
    );
    assert_eq!(
        from_params::<(i32, String)>(vec![Value::Int(1), s("a")]).unwrap(),
        (1, "a".to_owned())
    );
    assert_eq!(
        from_params::<Vec<i32>>(vec![Value::Int(1), Value::Int(2)]).unwrap(),
        [1, 2]
    );
    assert_eq!(from_params::<Vec<i32>>(vec![]).unwrap(), Vec::<i32>::new());
    assert_eq!(from_params::<i32>(vec![Value::Int(1)]).unwrap(), 1);
    assert_eq!(from_params::<Option<i32>>(vec![]).unwrap(), None);
    assert_eq!(
        from_params::<Option<i32>>(vec![Value::Int(3)]).unwrap(),
        Some(3)
    );
    assert_eq!(
        from_params::<Value>(vec![Value::DateTime(dt())]).unwrap(),
        Value::DateTime(dt())
    );
    assert_eq!(
        from_params::<DateTime>(vec![Value::DateTime(dt())]).unwrap(),
        dt()
    );
    assert_eq!(
        from_params::<CallState>(vec![s("up")]).unwrap(),
        CallState::Connected
    );
    assert_eq!(
        err_of(from_params::<i32>(vec![])),
        "parameter 1: missing (no parameters given)"
    );
    assert_eq!(
        err_of(from_params::<i32>(vec![Value::Int(1), Value::Int(2)])),
        "expected 1 parameter, found 2"
    );
    assert_eq!(
        err_of(from_params::<i32>(vec![s("x")])),
        "parameter 1: expected i32, found string \"x\""
    );

    #[derive(Debug, PartialEq, Deserialize)]
    struct Pair(i32, Option<i32>);
    assert_eq!(
        from_params::<Pair>(vec![Value::Int(1)]).unwrap(),
        Pair(1, None)
    );
    #[derive(Debug, PartialEq, Deserialize)]
    struct Wrapped(Transfer);
    assert_eq!(
        from_params::<Wrapped>(vec![s("c"), s("t")])
            .unwrap()
            .0
            .target,
        "t"
    );
    // One struct param into a struct: ask for a 1-tuple.
    let (t,): (Transfer,) =
        from_params(vec![st([("call_id", s("c")), ("target", s("t"))])]).unwrap();
    assert_eq!(t.call_id, "c");
}

#[test]
fn from_params_fills_absent_trailing_options() {
    let t: Transfer = from_params(vec![s("c1"), s("202")]).unwrap();
    assert_eq!((t.timeout_s, t.note), (None, None));
    let t: Transfer = from_params(vec![s("c1"), s("202"), Value::Nil, s("n")]).unwrap();
    assert_eq!((t.timeout_s, t.note.as_deref()), (None, Some("n")));
    let (a, b, c): (i32, Option<i32>, Option<String>) = from_params(vec![Value::Int(1)]).unwrap();
    assert_eq!((a, b, c), (1, None, None));

    #[derive(Debug, Deserialize)]
    struct WithDefault {
        a: i32,
        #[serde(default)]
        b: i32,
    }
    assert_eq!(
        from_params::<WithDefault>(vec![Value::Int(1)]).unwrap().b,
        0
    );
    assert_eq!(
        from_params::<WithDefault>(vec![Value::Int(1)]).unwrap().a,
        1
    );
}

#[test]
fn from_params_errors_name_the_parameter() {
    let e = from_params::<Transfer>(vec![s("c1"), Value::Int(202)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter 2 (`target`): expected a string, found int 202"
    );
    assert_eq!(e.param(), Some(1));
    assert_eq!(
        e.path(),
        [PathSegment::Param {
            index: 1,
            name: Some("target".into())
        }]
    );
    assert_eq!(e.message(), "expected a string, found int 202");

    assert_eq!(
        err_of(from_params::<Transfer>(vec![s("c1")])),
        "parameter 2 (`target`): missing (only 1 parameter given)"
    );
    assert_eq!(
        err_of(from_params::<Transfer>(vec![
            s("a"),
            s("b"),
            Value::Int(1),
            s("d"),
            s("e")
        ])),
        "expected at most 4 parameters, found 5"
    );
    assert_eq!(
        err_of(from_params::<(i32, i32)>(vec![Value::Int(1)])),
        "parameter 2: missing (only 1 parameter given)"
    );
    assert_eq!(
        err_of(from_params::<(i32,)>(vec![Value::Int(1), Value::Int(2)])),
        "expected at most 1 parameter, found 2"
    );
    assert_eq!(
        err_of(from_params::<(i32, i32)>(vec![])),
        "parameter 1: missing (only none given)"
    );
}

// ---- error paths ----

#[test]
fn errors_carry_the_path() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Call {
        duration: u32,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Report {
        calls: Vec<Call>,
    }
    let calls = (0..3)
        .map(|i| {
            let d = if i == 2 { s("long") } else { Value::Int(i) };
            st([("duration", d)])
        })
        .collect();
    let v = st([("calls", Value::Array(calls))]);
    let e = from_value::<Report>(v.clone()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected u32, found string \"long\" at `.calls[2].duration`"
    );
    assert_eq!(
        e.path(),
        [
            PathSegment::Member("calls".into()),
            PathSegment::Index(2),
            PathSegment::Member("duration".into()),
        ]
    );
    assert_eq!(e.param(), None);
    // The borrowing deserializer tracks the same path.
    assert_eq!(Report::deserialize(&v).unwrap_err(), e);

    // Through params, and with a member name that is not a plain identifier.
    let e = from_params::<(i32, HashMap<String, i32>)>(vec![Value::Int(1), st([("a b", s("x"))])])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter 2: expected i32, found string \"x\" at `[\"a b\"]`"
    );
}

#[test]
fn serialize_errors_carry_the_path() {
    #[derive(Serialize)]
    struct Row {
        id: u64,
    }
    let rows = BTreeMap::from([("rows", vec![Row { id: 1 }, Row { id: u64::MAX }])]);
    let e = to_value(&rows).unwrap_err();
    assert!(e.to_string().ends_with("at `.rows[1].id`"), "{e}");
    assert_eq!(
        to_value(&CallState::Parked(1)).unwrap(),
        st([("parked", Value::Int(1))])
    );
}

// ---- round trips ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Nested {
    name: String,
    count: i64,
    ratio: f64,
    flag: bool,
    small: u8,
    when: DateTime,
    blob: Bytes,
    maybe: Option<i32>,
    state: CallState,
    tags: Vec<String>,
    children: Vec<Leaf>,
    pair: (i16, Option<String>),
    map: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Leaf {
    id: u32,
    label: Option<String>,
}

fn arb_datetime() -> impl Strategy<Value = DateTime> {
    (
        0u16..=9999,
        1u8..=12,
        1u8..=28,
        0u8..=23,
        0u8..=59,
        0u8..=60,
        prop_oneof![Just(0u32), 0u32..1_000_000_000],
        prop_oneof![Just(None), (-1439i16..=1439).prop_map(Some)],
    )
        .prop_map(|(y, mo, d, h, mi, s, ns, off)| {
            DateTime::new(y, mo, d, h, mi, s)
                .and_then(|dt| dt.with_nanosecond(ns))
                .and_then(|dt| dt.with_offset_minutes(off))
                .expect("generated in range")
        })
}

fn arb_finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        Just(0.0),
        Just(-0.0),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
    ]
}

fn arb_state() -> impl Strategy<Value = CallState> {
    prop_oneof![
        Just(CallState::Ringing),
        Just(CallState::OnHold),
        Just(CallState::Connected),
        any::<u32>().prop_map(CallState::Parked),
        (".*", ".*").prop_map(|(a, b)| CallState::Bridged(a, b)),
        (".*", any::<bool>()).prop_map(|(to, blind)| CallState::Transferred { to, blind }),
    ]
}

fn arb_nested() -> impl Strategy<Value = Nested> {
    let leaf =
        (any::<u32>(), proptest::option::of(".*")).prop_map(|(id, label)| Leaf { id, label });
    (
        (
            ".*",
            any::<i64>(),
            arb_finite(),
            any::<bool>(),
            any::<u8>(),
            arb_datetime(),
        ),
        (
            proptest::collection::vec(any::<u8>(), 0..16).prop_map(Bytes),
            proptest::option::of(any::<i32>()),
            arb_state(),
            proptest::collection::vec(".*", 0..4),
            proptest::collection::vec(leaf, 0..4),
            (any::<i16>(), proptest::option::of(".*")),
            proptest::collection::btree_map(".*", any::<u32>(), 0..4),
        ),
    )
        .prop_map(
            |(
                (name, count, ratio, flag, small, when),
                (blob, maybe, state, tags, children, pair, map),
            )| Nested {
                name,
                count,
                ratio,
                flag,
                small,
                when,
                blob,
                maybe,
                state,
                tags,
                children,
                pair,
                map,
            },
        )
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<bool>().prop_map(Value::Bool),
        ".*".prop_map(Value::String),
        arb_finite().prop_map(Value::Double),
        arb_datetime().prop_map(Value::DateTime),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Base64),
        Just(Value::Nil),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z]{0,6}", inner), 0..6)
                .prop_map(|members| Value::Struct(members.into_iter().collect::<Struct>())),
        ]
    })
}

proptest! {
    #[test]
    fn derived_structs_round_trip(x in arb_nested()) {
        let v = to_value(&x).unwrap();
        prop_assert_eq!(&from_value::<Nested>(v.clone()).unwrap(), &x);
        prop_assert_eq!(&Nested::deserialize(&v).unwrap(), &x);
    }

    #[test]
    fn values_round_trip_exactly(v in arb_value()) {
        prop_assert_eq!(&to_value(&v).unwrap(), &v);
        prop_assert_eq!(&from_value::<Value>(v.clone()).unwrap(), &v);
        prop_assert_eq!(&Value::deserialize(&v).unwrap(), &v);
    }

    #[test]
    fn params_round_trip(x in (any::<i32>(), ".*", proptest::option::of(arb_datetime()), proptest::option::of(any::<bool>()))) {
        let params = to_params(&x).unwrap();
        prop_assert_eq!(from_params::<(i32, String, Option<DateTime>, Option<bool>)>(params).unwrap(), x);
    }

    #[test]
    fn struct_params_round_trip(
        call_id in ".*",
        target in ".*",
        timeout_s in proptest::option::of(any::<u32>()),
        note in proptest::option::of(".*"),
    ) {
        let t = Transfer { call_id, target, timeout_s, note };
        prop_assert_eq!(from_params::<Transfer>(to_params(&Positional(&t)).unwrap()).unwrap(), t);
    }

    #[test]
    fn any_value_into_any_type_never_panics(v in arb_value()) {
        let _ = from_value::<Nested>(v.clone());
        let _ = from_value::<CallState>(v.clone());
        let _ = from_value::<(u8, Option<String>)>(v.clone());
        let _ = from_value::<BTreeMap<i8, Vec<f32>>>(v.clone());
        let _ = from_params::<Transfer>(vec![v.clone(), v.clone()]);
        let _ = from_params::<(DateTime, Bytes)>(vec![v]);
    }
}

// ---- chrono and time ----

#[cfg(feature = "chrono")]
#[test]
fn chrono_conversions() {
    use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone as _};

    let naive = NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_nano_opt(9, 30, 5, 7)
        .unwrap();
    let ours = DateTime::try_from(naive).unwrap();
    assert_eq!(ours, dt().with_nanosecond(7).unwrap());
    assert_eq!(NaiveDateTime::try_from(ours).unwrap(), naive);

    // Leap second.
    let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
        .unwrap()
        .and_hms_milli_opt(23, 59, 59, 1_500)
        .unwrap();
    let ours = DateTime::try_from(leap).unwrap();
    assert_eq!((ours.second(), ours.nanosecond()), (60, 500_000_000));
    assert_eq!(NaiveDateTime::try_from(ours).unwrap(), leap);

    let early = NaiveDate::from_ymd_opt(-1, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    assert!(DateTime::try_from(early).is_err());

    let east = FixedOffset::east_opt(5 * 3600 + 30 * 60).unwrap();
    let aware = east.from_local_datetime(&naive).single().unwrap();
    let ours = DateTime::try_from(aware).unwrap();
    assert_eq!(ours.offset_minutes(), Some(330));
    assert_eq!(
        chrono::DateTime::<FixedOffset>::try_from(ours).unwrap(),
        aware
    );
    assert!(chrono::DateTime::<FixedOffset>::try_from(dt()).is_err());
    let odd = FixedOffset::east_opt(30).unwrap();
    assert!(DateTime::try_from(odd.from_local_datetime(&naive).single().unwrap()).is_err());

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Cdr {
        #[serde(with = "crate::with::chrono_naive")]
        start: NaiveDateTime,
        #[serde(default, with = "crate::with::chrono_naive::option")]
        end: Option<NaiveDateTime>,
        #[serde(with = "crate::with::chrono_fixed_offset")]
        logged: chrono::DateTime<FixedOffset>,
    }
    let cdr = Cdr {
        start: naive,
        end: None,
        logged: aware,
    };
    let v = to_value(&cdr).unwrap();
    assert_eq!(
        v,
        st([
            ("start", Value::DateTime(DateTime::try_from(naive).unwrap())),
            (
                "logged",
                Value::DateTime(DateTime::try_from(aware).unwrap())
            ),
        ])
    );
    assert_eq!(from_value::<Cdr>(v).unwrap(), cdr);
    let with_end = Cdr {
        end: Some(naive),
        ..cdr
    };
    assert_eq!(
        from_value::<Cdr>(to_value(&with_end).unwrap()).unwrap(),
        with_end
    );
}

#[cfg(feature = "time")]
#[test]
fn time_conversions() {
    use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

    let prim = PrimitiveDateTime::new(
        Date::from_calendar_date(2024, Month::March, 1).unwrap(),
        Time::from_hms_nano(9, 30, 5, 7).unwrap(),
    );
    let ours = DateTime::try_from(prim).unwrap();
    assert_eq!(ours, dt().with_nanosecond(7).unwrap());
    assert_eq!(PrimitiveDateTime::try_from(ours).unwrap(), prim);
    let leap = DateTime::new(2016, 12, 31, 23, 59, 60).unwrap();
    assert!(PrimitiveDateTime::try_from(leap).is_err());

    let offset = prim.assume_offset(UtcOffset::from_hms(-3, -30, 0).unwrap());
    let ours = DateTime::try_from(offset).unwrap();
    assert_eq!(ours.offset_minutes(), Some(-210));
    assert_eq!(OffsetDateTime::try_from(ours).unwrap(), offset);
    assert!(OffsetDateTime::try_from(dt()).is_err());

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Cdr {
        #[serde(with = "crate::with::time_primitive")]
        start: PrimitiveDateTime,
        #[serde(default, with = "crate::with::time_offset::option")]
        logged: Option<OffsetDateTime>,
    }
    let cdr = Cdr {
        start: prim,
        logged: Some(offset),
    };
    let v = to_value(&cdr).unwrap();
    assert!(matches!(&v, Value::Struct(m) if matches!(m.get("logged"), Some(Value::DateTime(_)))));
    assert_eq!(from_value::<Cdr>(v).unwrap(), cdr);
    let none: Cdr = from_value(st([("start", Value::DateTime(dt()))])).unwrap();
    assert_eq!(none.logged, None);
}

// ---- dateTimes through serde's buffering (flatten, untagged) ----

#[test]
fn a_date_time_behind_flatten_or_untagged_stays_a_date_time() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Inner {
        when: DateTime,
        maybe: Option<DateTime>,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Outer {
        id: i32,
        #[serde(flatten)]
        inner: Inner,
        #[serde(flatten)]
        rest: BTreeMap<String, Value>,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(i32),
        When(DateTime),
        Anything(Value),
    }
    let when = dt();
    let zoned: DateTime = "2024-01-31T11:00:00+02:00".parse().unwrap();
    let doc = st([
        ("id", Value::Int(1)),
        ("when", Value::DateTime(when)),
        ("maybe", Value::DateTime(zoned)),
        ("seen", Value::DateTime(zoned)),
    ]);
    let outer: Outer = from_value(doc.clone()).unwrap();
    assert_eq!(outer.inner.when, when);
    assert_eq!(outer.inner.maybe, Some(zoned));
    assert_eq!(outer.rest.get("seen"), Some(&Value::DateTime(zoned)));
    let back = to_value(&outer).unwrap();
    assert_eq!(back, doc);
    let xml = crate::encode_value(&back).unwrap();
    assert_eq!(xml.matches("<dateTime.iso8601>").count(), 3, "{xml}");
    assert!(!xml.contains("<string>"), "{xml}");
    // Borrowing from the value takes the same path.
    assert_eq!(Outer::deserialize(&doc).unwrap(), outer);

    let either: Either = from_value(Value::DateTime(when)).unwrap();
    assert_eq!(either, Either::When(when));
    assert_eq!(to_value(&either).unwrap(), Value::DateTime(when));
    let either: Either = from_value(Value::Int(3)).unwrap();
    assert_eq!(either, Either::Number(3));
    let list: Vec<Either> = from_value(Value::Array(vec![
        Value::DateTime(zoned),
        Value::Array(vec![Value::DateTime(when)]),
    ]))
    .unwrap();
    assert_eq!(
        list,
        [
            Either::When(zoned),
            Either::Anything(Value::Array(vec![Value::DateTime(when)]))
        ]
    );
    let xml = crate::encode_value(&to_value(&list).unwrap()).unwrap();
    assert_eq!(xml.matches("<dateTime.iso8601>").count(), 2, "{xml}");
    // Text still reads as a dateTime, and a dateTime still reads as its text when a
    // string is asked for directly.
    let either: Either = from_value(s("2024-03-01T09:30:05")).unwrap();
    assert_eq!(either, Either::When(dt()));
    assert_eq!(
        from_value::<String>(Value::DateTime(zoned)).unwrap(),
        "2024-01-31T11:00:00+02:00"
    );
}

// ---- Bytes, nil, faults ----

#[test]
fn bytes_go_as_base64_with_the_type_or_the_with_module() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Upload {
        #[serde(with = "crate::bytes")]
        data: Vec<u8>,
        #[serde(default, with = "crate::bytes::option")]
        thumb: Option<Vec<u8>>,
        raw: crate::Bytes,
    }
    let up = Upload {
        data: vec![0, 1, 255],
        thumb: Some(vec![9]),
        raw: crate::Bytes(b"abc".to_vec()),
    };
    let v = to_value(&up).unwrap();
    assert_eq!(
        v,
        st([
            ("data", Value::Base64(vec![0, 1, 255])),
            ("thumb", Value::Base64(vec![9])),
            ("raw", Value::Base64(b"abc".to_vec())),
        ])
    );
    assert_eq!(from_value::<Upload>(v).unwrap(), up);
    // Liberal: an array of small ints reads as bytes too, an absent option as None.
    let v = st([
        ("data", Value::Array(vec![Value::Int(1), Value::Int(2)])),
        ("raw", Value::Base64(vec![])),
    ]);
    let read = from_value::<Upload>(v).unwrap();
    assert_eq!((read.data, read.thumb), (vec![1, 2], None));
    let e = from_value::<crate::Bytes>(Value::Array(vec![Value::Int(256)])).unwrap_err();
    assert!(e.to_string().contains("256"), "{e}");
}

#[test]
fn none_goes_as_nil_with_the_nil_module() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Update {
        id: i32,
        #[serde(default, with = "crate::nil")]
        assignee: Option<String>,
        plain: Option<String>,
    }
    let clear = Update {
        id: 1,
        assignee: None,
        plain: None,
    };
    let v = to_value(&clear).unwrap();
    assert_eq!(v, st([("id", Value::Int(1)), ("assignee", Value::Nil)]));
    assert_eq!(from_value::<Update>(v).unwrap(), clear);
    let set = Update {
        id: 1,
        assignee: Some("ann".into()),
        plain: None,
    };
    let v = to_value(&set).unwrap();
    assert_eq!(v["assignee"], s("ann"));
    assert_eq!(from_value::<Update>(v).unwrap(), set);
    assert_eq!(
        from_value::<Update>(st([("id", Value::Int(1))])).unwrap(),
        clear
    );
    // As a trailing parameter it is kept, where a plain None would be dropped.
    #[derive(Serialize)]
    struct Params(i32, #[serde(with = "crate::nil")] Option<i32>);
    assert_eq!(
        to_params(&Params(1, None)).unwrap(),
        [Value::Int(1), Value::Nil]
    );
    assert_eq!(to_params(&(1, None::<i32>)).unwrap(), [Value::Int(1)]);
}

#[test]
fn faults_convert_to_and_from_values() {
    let fault = crate::Fault::new(-32601, "no such method");
    let v = fault.to_value();
    assert_eq!(
        v,
        st([
            ("faultCode", Value::Int(-32601)),
            ("faultString", s("no such method"))
        ])
    );
    assert_eq!(Value::from(fault.clone()), v);
    assert_eq!(crate::Fault::try_from(v), Ok(fault.clone()));
    assert!(crate::Fault::try_from(Value::Int(1)).is_err());
    assert!(crate::Fault::try_from(st([("faultCode", Value::Int(1))])).is_err());
    let response = crate::MethodResponse::from(Err::<Value, _>(fault.clone()));
    assert_eq!(response.into_result(), Err(fault));
}

#[cfg(feature = "jiff")]
#[test]
fn jiff_conversions() {
    use jiff::{Timestamp, civil};

    let naive = civil::DateTime::new(2024, 3, 1, 9, 30, 5, 7).unwrap();
    let ours = DateTime::try_from(naive).unwrap();
    assert_eq!(ours, dt().with_nanosecond(7).unwrap());
    assert_eq!(civil::DateTime::try_from(ours).unwrap(), naive);
    let early = civil::DateTime::new(-1, 1, 1, 0, 0, 0, 0).unwrap();
    assert!(DateTime::try_from(early).is_err());
    let leap: DateTime = "20161231T23:59:60".parse().unwrap();
    assert!(civil::DateTime::try_from(leap).is_err());

    // A timestamp is written in UTC; a zoned dateTime reads back as its instant.
    let ts: Timestamp = "2024-03-01T09:30:05Z".parse().unwrap();
    let ours = DateTime::try_from(ts).unwrap();
    assert_eq!(ours.to_string(), "20240301T09:30:05Z");
    let paris: DateTime = "20240301T11:30:05+02:00".parse().unwrap();
    assert_eq!(Timestamp::try_from(paris).unwrap(), ts);
    assert!(Timestamp::try_from(dt()).is_err(), "naive: no instant");

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Cdr {
        #[serde(with = "crate::with::jiff_civil")]
        start: civil::DateTime,
        #[serde(default, with = "crate::with::jiff_timestamp::option")]
        end: Option<Timestamp>,
    }
    let cdr = Cdr {
        start: naive,
        end: Some(ts),
    };
    let v = to_value(&cdr).unwrap();
    assert_eq!(
        v,
        st([
            ("start", Value::DateTime(dt().with_nanosecond(7).unwrap())),
            ("end", Value::DateTime(ours)),
        ])
    );
    assert_eq!(from_value::<Cdr>(v).unwrap(), cdr);
}
