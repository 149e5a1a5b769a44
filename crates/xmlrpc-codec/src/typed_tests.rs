//! Tests of typed decoding: the streaming path against the tree path
//! (`decode_*` then `from_value`), on the same documents, limits and errors.
//! (Every case of the serde tests also runs through both paths: see their
//! `from_value` / `from_params`.)

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::Deserialize;

use crate::{
    Bytes, DateTime, DecodeErrorKind, Decoder, EncodeOptions, Encoder, Limits, MethodResponse,
    Struct, TypedError, Value, decode_method_response, decode_value, from_response_slice,
    from_value, from_value_slice,
};

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Extension {
    id: u32,
    #[serde(rename = "type")]
    kind: String,
    callerid: CallerId,
    voicemail: Option<u32>,
    tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct CallerId {
    phone: String,
    name: String,
}

fn response_of(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(EncodeOptions {
        allow_extensions: true,
    })
    .method_response(&MethodResponse::Success(value.clone()), &mut out)
    .expect("encodable");
    out
}

/// The tree path for a response, with a fault as `TypedError::Fault`.
fn via_tree<T: serde::de::DeserializeOwned>(
    input: &[u8],
    decoder: &Decoder,
) -> Result<T, TypedError> {
    match decoder.method_response(input)? {
        MethodResponse::Success(v) => Ok(from_value(v)?),
        MethodResponse::Fault(f) => Err(TypedError::Fault(f)),
    }
}

fn for_responses() -> Decoder {
    Decoder::new(Limits::for_responses())
}

fn extension_value(id: i64, tags: &[&str]) -> Value {
    let callerid: Struct = [
        ("phone", Value::from("+1 555 0100")),
        ("name", Value::from("\"Alice\" <1001> & co")),
    ]
    .into_iter()
    .collect();
    Value::Struct(
        [
            ("id", Value::Int(id)),
            ("type", Value::from("sip")),
            ("callerid", Value::Struct(callerid)),
            ("ignored", Value::Array(vec![Value::Int(1), Value::Nil])),
            (
                "tags",
                Value::Array(tags.iter().map(|t| Value::from(*t)).collect()),
            ),
        ]
        .into_iter()
        .collect(),
    )
}

#[test]
fn a_response_decodes_into_structs_as_the_tree_path_does() {
    let doc = response_of(&Value::Array(vec![
        extension_value(1001, &["a", "b"]),
        extension_value(1002, &[]),
    ]));
    let streamed: Vec<Extension> = from_response_slice(&doc).unwrap();
    assert_eq!(
        streamed,
        via_tree::<Vec<Extension>>(&doc, &for_responses()).unwrap()
    );
    assert_eq!(streamed[0].callerid.name, "\"Alice\" <1001> & co");
    assert_eq!(streamed[1].voicemail, None);
    assert_eq!(streamed[0].tags, ["a", "b"]);
}

#[test]
fn untyped_values_ints_and_nil_read_as_in_the_tree() {
    let doc = br#"<?xml version="1.0"?><methodResponse><params><param><value><array><data>
        <value>plain text</value>
        <value><i4>7</i4></value>
        <value><int>-8</int></value>
        <value><i8>9000000000</i8></value>
        <value><ex:nil xmlns:ex="x"/></value>
        <value></value>
        </data></array></value></param></params></methodResponse>"#;
    type Row = (String, i32, i64, i64, Option<u8>, String);
    let streamed: Row = from_response_slice(doc).unwrap();
    assert_eq!(streamed, via_tree::<Row>(doc, &for_responses()).unwrap());
    assert_eq!(
        streamed,
        (
            "plain text".into(),
            7,
            -8,
            9_000_000_000,
            None,
            String::new()
        )
    );
}

#[test]
fn datetimes_base64_and_values_inside_structs() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Rec {
        at: DateTime,
        at_text: String,
        blob: Bytes,
        raw: Vec<u8>,
        any: Value,
        json_like: BTreeMap<String, Value>,
    }
    let doc = br#"<methodResponse><params><param><value><struct>
        <member><name>at</name><value><dateTime.iso8601>20240301T09:30:05</dateTime.iso8601></value></member>
        <member><name>at_text</name><value><dateTime.iso8601>20240301T09:30:05</dateTime.iso8601></value></member>
        <member><name>blob</name><value><base64>aGVsbG8=</base64></value></member>
        <member><name>raw</name><value><base64>AAE=</base64></value></member>
        <member><name>any</name><value><struct><member><name>k</name><value><array><data><value><double>1.5</double></value></data></array></value></member></struct></value></member>
        <member><name>json_like</name><value><struct><member><name>d</name><value><dateTime.iso8601>20240301T09:30:05</dateTime.iso8601></value></member></struct></value></member>
        </struct></value></param></params></methodResponse>"#;
    let streamed: Rec = from_response_slice(doc).unwrap();
    assert_eq!(streamed, via_tree::<Rec>(doc, &for_responses()).unwrap());
    assert_eq!(streamed.at, DateTime::new(2024, 3, 1, 9, 30, 5).unwrap());
    assert_eq!(streamed.at_text, "2024-03-01T09:30:05");
    assert_eq!(streamed.blob.0, b"hello");
    assert_eq!(streamed.raw, [0, 1]);
    assert_eq!(streamed.any["k"][0], Value::Double(1.5));
    assert!(matches!(streamed.json_like["d"], Value::DateTime(_)));
}

#[test]
fn enums_read_as_in_the_tree() {
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum State {
        Idle,
        Busy { since: u32 },
        Forwarded(String),
    }
    let doc = br#"<methodResponse><params><param><value><array><data>
        <value>idle</value>
        <value><struct><member><name>busy</name><value><struct><member><name>since</name><value><int>5</int></value></member></struct></value></member></struct></value>
        <value><struct><member><name>forwarded</name><value>1002</value></member></struct></value>
        </data></array></value></param></params></methodResponse>"#;
    let streamed: Vec<State> = from_response_slice(doc).unwrap();
    assert_eq!(
        streamed,
        via_tree::<Vec<State>>(doc, &for_responses()).unwrap()
    );
    assert_eq!(streamed[1], State::Busy { since: 5 });
}

#[test]
fn a_fault_is_an_error_holding_the_fault() {
    let doc = br#"<methodResponse><fault><value><struct>
        <member><name>faultCode</name><value><int>-32601</int></value></member>
        <member><name>faultString</name><value>no such method</value></member>
        </struct></value></fault></methodResponse>"#;
    let streamed = from_response_slice::<Vec<Extension>>(doc).unwrap_err();
    assert_eq!(
        streamed,
        via_tree::<Vec<Extension>>(doc, &for_responses()).unwrap_err()
    );
    let TypedError::Fault(fault) = streamed else {
        panic!("{streamed:?}")
    };
    assert_eq!(
        (fault.code, fault.string.as_str()),
        (-32601, "no such method")
    );
}

#[test]
fn type_errors_carry_the_same_message_and_path() {
    let doc = response_of(&Value::Array(vec![
        extension_value(1001, &["a"]),
        extension_value(-5, &["b"]),
    ]));
    let streamed = from_response_slice::<Vec<Extension>>(&doc).unwrap_err();
    let tree = via_tree::<Vec<Extension>>(&doc, &for_responses()).unwrap_err();
    assert_eq!(streamed, tree);
    assert_eq!(
        streamed.to_string(),
        "int -5 is out of range for u32 at `[1].id`"
    );

    let missing = response_of(&Value::Struct(Struct::new()));
    let streamed = from_response_slice::<CallerId>(&missing).unwrap_err();
    assert_eq!(
        streamed,
        via_tree::<CallerId>(&missing, &for_responses()).unwrap_err()
    );
    assert_eq!(streamed.to_string(), "missing member `phone`");
}

#[test]
fn a_tuple_shorter_than_the_array_is_refused_as_in_the_tree() {
    let doc = response_of(&Value::Array(vec![
        Value::Int(1),
        Value::Int(2),
        Value::Array(vec![Value::Int(3)]),
    ]));
    let streamed = from_response_slice::<(i32, i32)>(&doc).unwrap_err();
    assert_eq!(
        streamed,
        via_tree::<(i32, i32)>(&doc, &for_responses()).unwrap_err()
    );
    assert_eq!(
        streamed.to_string(),
        "expected an array of 2 elements, found 3"
    );
}

#[test]
fn members_the_type_skips_leave_the_reader_in_step() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct OnlyId {
        id: u32,
    }
    let doc = response_of(&Value::Array(vec![
        extension_value(1, &["x"]),
        extension_value(2, &[]),
        Value::Struct([("id", Value::Int(3))].into_iter().collect()),
    ]));
    let streamed: Vec<OnlyId> = from_response_slice(&doc).unwrap();
    assert_eq!(
        streamed,
        [OnlyId { id: 1 }, OnlyId { id: 2 }, OnlyId { id: 3 }]
    );
    let ignored: serde::de::IgnoredAny = from_response_slice(&doc).unwrap();
    let _ = ignored;
    let unit_struct =
        from_value_slice::<()>(b"<value><array><data><value>1</value></data></array></value>");
    assert_eq!(
        unit_struct.unwrap_err().to_string(),
        "expected unit, found array of 1 elements"
    );
}

#[test]
fn a_repeated_member_is_handed_over_twice_where_the_tree_keeps_the_last() {
    let doc = br#"<value><struct>
        <member><name>phone</name><value>1</value></member>
        <member><name>name</name><value>a</value></member>
        <member><name>phone</name><value>2</value></member>
        </struct></value>"#;
    // The tree path keeps the last value; a derived struct sees both and refuses.
    assert_eq!(
        from_value::<CallerId>(decode_value(doc).unwrap())
            .unwrap()
            .phone,
        "2"
    );
    assert_eq!(
        from_value_slice::<CallerId>(doc).unwrap_err().to_string(),
        "duplicate field `phone`"
    );
    // A map keeps the last, as the tree does; `Value` is the tree itself.
    let map: BTreeMap<String, String> = from_value_slice(doc).unwrap();
    assert_eq!(map["phone"], "2");
    assert_eq!(
        from_value_slice::<Value>(doc).unwrap(),
        decode_value(doc).unwrap()
    );
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum AnyShape {
    Records(Vec<Extension>),
    Other(BTreeMap<String, Value>),
}

/// Each limit: the streaming path fails with the tree path's error, kind, message
/// and position alike.
#[test]
fn every_limit_error_is_the_tree_paths() {
    let nested = |n: usize| {
        let mut v = Value::Int(1);
        for _ in 0..n {
            v = Value::Array(vec![v]);
        }
        v
    };
    let cases: Vec<(Limits, Vec<u8>)> = vec![
        (
            Limits {
                max_depth: 3,
                ..Limits::for_responses()
            },
            response_of(&nested(4)),
        ),
        (
            Limits {
                max_string_bytes: 4,
                ..Limits::for_responses()
            },
            response_of(&Value::Array(vec![Value::from("abcde")])),
        ),
        (
            Limits {
                max_name_bytes: 2,
                ..Limits::for_responses()
            },
            response_of(&extension_value(1, &[])),
        ),
        (
            Limits {
                max_struct_members: 2,
                ..Limits::for_responses()
            },
            response_of(&extension_value(1, &[])),
        ),
        (
            Limits {
                max_array_len: 2,
                ..Limits::for_responses()
            },
            response_of(&Value::Array(vec![Value::from("a"); 3])),
        ),
        (
            Limits {
                max_document_bytes: 100,
                ..Limits::for_responses()
            },
            response_of(&extension_value(1, &[])),
        ),
        (
            Limits::for_responses(),
            br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><methodResponse/>"#.to_vec(),
        ),
    ];
    for (limits, doc) in cases {
        let decoder = Decoder::new(limits);
        let tree = via_tree::<Value>(&doc, &decoder).unwrap_err();
        // Into a typed target that streams everything (untagged buffers through
        // `deserialize_any`), so that no type question comes before the limit.
        let typed = decoder.response_as::<AnyShape>(&doc).unwrap_err();
        let value = decoder.response_as::<Value>(&doc).unwrap_err();
        let TypedError::Decode(e) = &tree else {
            panic!("{tree:?}")
        };
        assert!(
            matches!(e.kind(), DecodeErrorKind::Limit | DecodeErrorKind::Doctype),
            "{e}"
        );
        assert_eq!(value, tree);
        assert_eq!(typed, tree, "for {}", String::from_utf8_lossy(&doc));
    }
}

#[test]
fn params_count_errors_are_the_tree_paths() {
    for doc in [
        &b"<methodResponse><params></params></methodResponse>"[..],
        b"<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params></methodResponse>",
        b"<methodResponse><params><param/></params></methodResponse>",
        b"<methodResponse><nothing/></methodResponse>",
    ] {
        let tree = via_tree::<Option<String>>(doc, &for_responses());
        assert_eq!(from_response_slice::<Option<String>>(doc), tree);
    }
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<bool>().prop_map(Value::Bool),
        "[a-z &<>'\"é]{0,8}".prop_map(Value::String),
        (-1e9f64..1e9).prop_map(Value::Double),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Base64),
        Just(Value::Nil),
        (2000u16..2030, 1u8..13, 1u8..29)
            .prop_map(|(y, m, d)| Value::DateTime(DateTime::new(y, m, d, 1, 2, 3).unwrap())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z]{0,6}", inner), 0..6)
                .prop_map(|members| Value::Struct(members.into_iter().collect::<Struct>())),
        ]
    })
}

/// The typed target a random tree is read into: fails on most trees, in many ways.
#[derive(Debug, PartialEq, Deserialize)]
struct Loose {
    #[serde(default)]
    a: Option<Vec<i32>>,
    #[serde(default)]
    b: Option<String>,
    #[serde(default)]
    c: Option<BTreeMap<String, Value>>,
}

proptest! {
    #[test]
    fn random_trees_read_the_same_both_ways(v in arb_value()) {
        let doc = response_of(&v);
        let decoder = for_responses();
        prop_assert_eq!(from_response_slice::<Value>(&doc), via_tree::<Value>(&doc, &decoder));
        prop_assert_eq!(from_response_slice::<Loose>(&doc), via_tree::<Loose>(&doc, &decoder));
        prop_assert_eq!(
            from_response_slice::<Vec<(String, Option<i64>)>>(&doc),
            via_tree::<Vec<(String, Option<i64>)>>(&doc, &decoder)
        );
    }

    #[test]
    fn typed_records_read_the_same_both_ways(
        ids in proptest::collection::vec(0i64..5_000_000_000, 0..20),
        tags in proptest::collection::vec("[a-z<&]{0,5}", 0..4),
    ) {
        let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
        let v = Value::Array(ids.iter().map(|&id| extension_value(id, &tags)).collect());
        let doc = response_of(&v);
        prop_assert_eq!(
            from_response_slice::<Vec<Extension>>(&doc),
            via_tree::<Vec<Extension>>(&doc, &for_responses())
        );
    }

    /// A document cut anywhere (or with a byte replaced) fails the same way on both
    /// paths when the target takes any value.
    #[test]
    fn broken_documents_fail_the_same_both_ways(
        v in arb_value(),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        replace in any::<bool>(),
    ) {
        let mut doc = response_of(&v);
        let at = cut.index(doc.len());
        if replace {
            doc[at] = byte;
        } else {
            doc.truncate(at);
        }
        let decoder = for_responses();
        prop_assert_eq!(decoder.response_as::<Value>(&doc), via_tree::<Value>(&doc, &decoder));
    }
}

#[test]
fn a_value_document_decodes_the_same_both_ways() {
    let doc = br#"<value><struct><member><name>x</name><value><i4>1</i4></value></member></struct></value>"#;
    assert_eq!(
        from_value_slice::<BTreeMap<String, i32>>(doc).unwrap(),
        from_value::<BTreeMap<String, i32>>(decode_value(doc).unwrap()).unwrap()
    );
    let trailing = b"<value>1</value><value>2</value>";
    assert_eq!(
        from_value_slice::<String>(trailing).unwrap_err(),
        TypedError::Decode(decode_value(trailing).unwrap_err())
    );
    assert_eq!(
        decode_method_response(b"<methodResponse/>").unwrap_err(),
        match from_response_slice::<Value>(b"<methodResponse/>") {
            Err(TypedError::Decode(e)) => e,
            other => panic!("{other:?}"),
        }
    );
}

/// serde's visitors recurse once per level, so the depth limit is what keeps a
/// hostile document from the stack: 100,000 nested arrays end in the limit error.
#[test]
fn a_deeply_nested_response_is_refused_before_the_stack_is_at_risk() {
    let n = 100_000;
    let doc = format!(
        "<methodResponse><params><param><value>{}1{}</value></param></params></methodResponse>",
        "<array><data><value>".repeat(n),
        "</value></data></array>".repeat(n)
    );
    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Nested {
        Leaf(i32),
        Array(Vec<Nested>),
    }
    let err = from_response_slice::<Nested>(doc.as_bytes()).unwrap_err();
    let TypedError::Decode(e) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind(), DecodeErrorKind::Limit);
    assert!(e.to_string().contains("Limits::max_depth"), "{e}");
    assert_eq!(
        err,
        via_tree::<Value>(doc.as_bytes(), &for_responses()).unwrap_err()
    );
}
