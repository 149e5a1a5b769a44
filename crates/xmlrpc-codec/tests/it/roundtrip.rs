//! proptest round trips: whatever the encoder writes, the decoder reads back unchanged.
//!
//! Trees stay small (depth ≤ 8, a few children per node) so the suite runs in seconds;
//! deep nesting has its own test that walks a single chain down to the default limit.

use proptest::prelude::*;
use proptest::test_runner::Config;
use xmlrpc_codec::{
    DateTime, EncodeError, Encoder, Fault, Limits, MethodCall, MethodResponse, Struct, Value,
    decode_method_call, decode_method_response, decode_value, encode_method_call,
    encode_method_response, encode_value,
};

use crate::{same_call, same_response, same_value};

/// Every character XML 1.0 can carry.
const XML_CHARS: &str = "[\t\n\r\u{20}-\u{D7FF}\u{E000}-\u{FFFD}\u{10000}-\u{10FFFF}]";
/// Characters XML 1.0 cannot carry (Rust strings hold no surrogates).
const NON_XML_CHARS: &str = "[\u{0}-\u{8}\u{B}\u{C}\u{E}-\u{1F}\u{FFFE}\u{FFFF}]";

fn xml_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::string::string_regex(&format!("{XML_CHARS}{{0,24}}")).unwrap(),
        2 => "[ \t\r\n]{0,6}",
        1 => "[a-z]{0,3}\r[a-z]{0,3}",
        1 => "[ ]{1,3}[a-zé€😀]{1,6}[ ]{1,3}",
        1 => "[<>&\"'\\]]{0,8}",
    ]
}

fn int(extensions: bool) -> BoxedStrategy<i64> {
    if extensions {
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MAX),
            Just(i64::from(i32::MIN) - 1),
            Just(i64::from(i32::MAX) + 1),
            any::<i64>(),
            any::<i32>().prop_map(i64::from),
        ]
        .boxed()
    } else {
        prop_oneof![
            Just(i64::from(i32::MIN)),
            Just(i64::from(i32::MAX)),
            any::<i32>().prop_map(i64::from)
        ]
        .boxed()
    }
}

fn double() -> impl Strategy<Value = f64> {
    use proptest::num::f64 as f;
    prop_oneof![
        4 => f::POSITIVE | f::NEGATIVE | f::NORMAL | f::SUBNORMAL | f::ZERO,
        1 => prop::sample::select(vec![
            f64::MAX, f64::MIN, f64::MIN_POSITIVE, -f64::MIN_POSITIVE, 5e-324, -5e-324, 0.0, -0.0,
            0.1, 1e300, 1e-300, 123_456_789.012_345_68, 9_007_199_254_740_993.0,
        ]),
        1 => any::<i32>().prop_map(f64::from),
    ]
}

fn date_time() -> impl Strategy<Value = DateTime> {
    (
        (0u16..=9999, 1u8..=12, 1u8..=31),
        (0u8..=23, 0u8..=59, 0u8..=60),
        prop_oneof![Just(0u32), 0u32..1_000_000_000, Just(500_000_000)],
        prop::option::of(-1439i16..=1439),
    )
        .prop_filter_map("no such day", |((y, mo, d), (h, mi, s), nanos, offset)| {
            DateTime::new(y, mo, d, h, mi, s)
                .ok()?
                .with_nanosecond(nanos)
                .ok()?
                .with_offset_minutes(offset)
                .ok()
        })
}

fn leaf(extensions: bool) -> BoxedStrategy<Value> {
    let mut leaves = vec![
        (3, int(extensions).prop_map(Value::Int).boxed()),
        (1, any::<bool>().prop_map(Value::Bool).boxed()),
        (4, xml_string().prop_map(Value::String).boxed()),
        (2, double().prop_map(Value::Double).boxed()),
        (1, date_time().prop_map(Value::DateTime).boxed()),
        (
            1,
            prop::collection::vec(any::<u8>(), 0..48)
                .prop_map(Value::Base64)
                .boxed(),
        ),
    ];
    if extensions {
        leaves.push((1, Just(Value::Nil).boxed()));
    }
    proptest::strategy::Union::new_weighted(leaves).boxed()
}

/// Value trees up to depth 8, structs with unique member names.
fn value(extensions: bool) -> BoxedStrategy<Value> {
    leaf(extensions)
        .prop_recursive(8, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((xml_string(), inner), 0..5)
                    .prop_map(|members| Value::Struct(members.into_iter().collect::<Struct>())),
            ]
        })
        .boxed()
}

/// Mostly names as the spec has them, sometimes any text XML can carry (even empty).
fn method_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z_][A-Za-z0-9_.:/]{0,30}",
        1 => xml_string(),
    ]
}

fn call(extensions: bool) -> impl Strategy<Value = MethodCall> {
    (
        method_name(),
        prop::collection::vec(value(extensions), 0..4),
    )
        .prop_map(|(name, params)| MethodCall::new(name, params))
}

fn response(extensions: bool) -> impl Strategy<Value = MethodResponse> {
    prop_oneof![
        3 => value(extensions).prop_map(MethodResponse::Success),
        1 => (any::<i32>(), xml_string()).prop_map(|(code, s)| MethodResponse::Fault(Fault::new(code, s))),
    ]
}

fn encoder(extensions: bool) -> Encoder {
    Encoder::new(crate::options(extensions))
}

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn strict_values_round_trip(v in value(false)) {
        let xml = encode_value(&v).unwrap();
        let back = decode_value(xml.as_bytes()).unwrap();
        prop_assert!(same_value(&v, &back), "{v:?}\n{xml}\n{back:?}");
    }

    #[test]
    fn extended_values_round_trip(v in value(true)) {
        let mut xml = Vec::new();
        encoder(true).value(&v, &mut xml).unwrap();
        let back = decode_value(&xml).unwrap();
        prop_assert!(same_value(&v, &back), "{v:?}\n{}\n{back:?}", String::from_utf8_lossy(&xml));
    }

    #[test]
    fn strict_encoder_refuses_exactly_the_extension_values(v in value(true)) {
        let result = encode_value(&v);
        if crate::fixtures::needs_extension(&v) {
            prop_assert!(matches!(result, Err(EncodeError::ExtensionRequired { .. })), "{result:?}");
        } else {
            prop_assert!(result.is_ok(), "{result:?}");
        }
    }

    #[test]
    fn strict_calls_round_trip(c in call(false)) {
        let xml = encode_method_call(&c).unwrap();
        let back = decode_method_call(&xml).unwrap();
        prop_assert!(same_call(&c, &back), "{c:?}\n{}\n{back:?}", String::from_utf8_lossy(&xml));
    }

    #[test]
    fn extended_calls_round_trip(c in call(true)) {
        let mut xml = Vec::new();
        encoder(true).method_call(&c, &mut xml).unwrap();
        let back = decode_method_call(&xml).unwrap();
        prop_assert!(same_call(&c, &back), "{c:?}\n{}\n{back:?}", String::from_utf8_lossy(&xml));
    }

    #[test]
    fn strict_responses_round_trip(r in response(false)) {
        let xml = encode_method_response(&r).unwrap();
        let back = decode_method_response(&xml).unwrap();
        prop_assert!(same_response(&r, &back), "{r:?}\n{}\n{back:?}", String::from_utf8_lossy(&xml));
    }

    #[test]
    fn extended_responses_round_trip(r in response(true)) {
        let mut xml = Vec::new();
        encoder(true).method_response(&r, &mut xml).unwrap();
        let back = decode_method_response(&xml).unwrap();
        prop_assert!(same_response(&r, &back), "{r:?}\n{}\n{back:?}", String::from_utf8_lossy(&xml));
    }

    #[test]
    fn strings_xml_cannot_carry_are_refused(
        before in xml_string(),
        bad in proptest::string::string_regex(NON_XML_CHARS).unwrap(),
        after in xml_string(),
        place in 0..4usize,
    ) {
        let ch = bad.chars().next().unwrap();
        let text = format!("{before}{bad}{after}");
        let result = match place {
            0 => encode_value(&Value::String(text)).map(String::into_bytes),
            1 => encode_value(&Value::Struct([(text, Value::Int(1))].into_iter().collect())).map(String::into_bytes),
            2 => encode_method_response(&MethodResponse::Fault(Fault::new(1, text))),
            _ => encode_method_call(&MethodCall::new("m", vec![Value::Array(vec![Value::String(text)])])),
        };
        prop_assert!(
            matches!(result, Err(EncodeError::InvalidXmlChar { ch: c }) if c == ch),
            "{:?} for {ch:?}", result.map(|out| String::from_utf8_lossy(&out).into_owned())
        );
    }

    #[test]
    fn decoder_never_panics_on_mutated_documents(
        v in value(true),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut xml = Vec::new();
        encoder(true).value(&v, &mut xml).unwrap();
        let at = cut.index(xml.len());
        let mut flipped = xml.clone();
        flipped[at] = byte;
        let _ = decode_value(&flipped);
        let _ = decode_value(&xml[..at]);
    }
}

/// A string inside `depth` alternating structs and arrays (a scalar is 0 deep).
fn chain(depth: usize) -> Value {
    let mut v = Value::String("bottom".into());
    for level in 1..=depth {
        v = if level % 2 == 0 {
            Value::Array(vec![v])
        } else {
            Value::Struct([(format!("level{level}"), v)].into_iter().collect())
        };
    }
    v
}

#[test]
fn deep_but_legal_nesting_round_trips() {
    let max = Limits::default().max_depth;
    for depth in 0..=max {
        let v = chain(depth);
        let xml = encode_value(&v).unwrap();
        let back = decode_value(xml.as_bytes()).unwrap_or_else(|e| panic!("depth {depth}: {e}"));
        assert!(same_value(&v, &back), "depth {depth}");
        let call = MethodCall::new("deep", vec![v]);
        let back = decode_method_call(&encode_method_call(&call).unwrap()).unwrap();
        assert!(same_call(&call, &back), "depth {depth} in a call");
    }
}

#[test]
fn one_level_past_the_depth_limit_is_refused() {
    let max = Limits::default().max_depth;
    let xml = encode_value(&chain(max + 1)).unwrap();
    let err = decode_value(xml.as_bytes()).unwrap_err();
    assert_eq!(err.kind().name(), "limit", "{err}");
}
