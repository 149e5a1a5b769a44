//! The decoder's limits and the encoder's refusals, one case at a time.

use std::io;

use xmlrpc_codec::{
    DecodeError, Decoder, EncodeError, EncodeOptions, Encoder, Fault, Limits, MethodCall,
    MethodResponse, Value, decode_method_call, decode_method_response, decode_value,
    encode_method_call, encode_method_response, encode_value,
};

fn response(value_xml: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><methodResponse><params><param><value>{value_xml}</value></param></params></methodResponse>"
    )
}

fn kind(result: Result<impl std::fmt::Debug, DecodeError>) -> &'static str {
    match result {
        Ok(v) => panic!("decoded: {v:?}"),
        Err(e) => e.kind().name(),
    }
}

fn with(limits: impl FnOnce(&mut Limits)) -> Decoder {
    let mut l = Limits::default();
    limits(&mut l);
    Decoder::new(l)
}

#[test]
fn default_limits_are_the_documented_ones() {
    let l = Limits::default();
    assert_eq!(l.max_depth, 64);
    assert_eq!(l.max_document_bytes, 1 << 20);
}

#[test]
fn document_size_limit() {
    let doc = response(&format!("<string>{}</string>", "x".repeat(1000)));
    let d = with(|l| l.max_document_bytes = doc.len());
    assert!(d.method_response(doc.as_bytes()).is_ok());
    let d = with(|l| l.max_document_bytes = doc.len() - 1);
    assert_eq!(kind(d.method_response(doc.as_bytes())), "limit");
    // The default is 1 MiB.
    let big = response(&format!("<string>{}</string>", "x".repeat(1 << 20)));
    assert_eq!(
        kind(Decoder::default().method_response(big.as_bytes())),
        "limit"
    );
}

#[test]
fn a_client_sized_response_of_1_2_mb_decodes_with_the_response_limits() {
    let big = response(&format!("<string>{}</string>", "x".repeat(1_200_000)));
    let err = Decoder::default()
        .method_response(big.as_bytes())
        .unwrap_err();
    assert!(
        err.message().contains("Limits::max_document_bytes"),
        "{err}"
    );
    for decoded in [
        Decoder::new(Limits::for_responses()).method_response(big.as_bytes()),
        decode_method_response(big.as_bytes()),
    ] {
        match decoded {
            Ok(MethodResponse::Success(Value::String(s))) => assert_eq!(s.len(), 1_200_000),
            other => panic!("{other:?}"),
        }
    }
    let l = Limits::for_responses();
    assert_eq!(l.max_document_bytes, 64 << 20);
    assert_eq!(l.max_string_bytes, 64 << 20);
}

#[test]
fn every_limit_error_names_its_limits_field() {
    let message = |r: Result<Value, DecodeError>| r.unwrap_err().message().to_owned();
    let d = with(|l| l.max_string_bytes = 4);
    for doc in [
        "<value><string>01234</string></value>",
        "<value>01234</value>",
        "<value><base64>AAAAAAAA</base64></value>",
    ] {
        let m = message(d.value(doc.as_bytes()));
        assert!(m.contains("Limits::max_string_bytes"), "{doc}: {m}");
    }
    // A text big enough for xml-rs's own limit (set from max_string_bytes) to fire.
    let d = with(|l| {
        l.max_string_bytes = 1000;
        l.max_name_bytes = 10;
    });
    let doc = format!("<value><string>{}</string></value>", "x".repeat(100_000));
    let m = message(d.value(doc.as_bytes()));
    assert!(m.contains("Limits::max_string_bytes"), "{m}");
    let m = message(
        with(|l| l.max_name_bytes = 2)
            .value(b"<value><struct><member><name>abc</name><value/></member></struct></value>"),
    );
    assert!(m.contains("Limits::max_name_bytes"), "{m}");
    let m = message(with(|l| l.max_depth = 0).value(b"<value><array><data/></array></value>"));
    assert!(m.contains("Limits::max_depth"), "{m}");
    let m = message(
        with(|l| l.max_array_len = 0).value(b"<value><array><data><value/></data></array></value>"),
    );
    assert!(m.contains("Limits::max_array_len"), "{m}");
    let m = message(
        with(|l| l.max_struct_members = 0)
            .value(b"<value><struct><member><name>a</name><value/></member></struct></value>"),
    );
    assert!(m.contains("Limits::max_struct_members"), "{m}");
    let m = message(with(|l| l.max_document_bytes = 3).value(b"<value/>"));
    assert!(m.contains("Limits::max_document_bytes"), "{m}");
    let e = with(|l| l.max_params = 0)
        .method_call(b"<methodCall><methodName>m</methodName><params><param><value/></param></params></methodCall>")
        .unwrap_err();
    assert!(e.message().contains("Limits::max_params"), "{e}");
    let e = with(|l| l.max_name_bytes = 2)
        .method_call(b"<methodCall><methodName>abc</methodName></methodCall>")
        .unwrap_err();
    assert!(e.message().contains("Limits::max_name_bytes"), "{e}");
}

#[test]
fn string_length_limit() {
    let d = with(|l| l.max_string_bytes = 8);
    assert!(d.value(b"<value><string>12345678</string></value>").is_ok());
    assert!(d.value(b"<value>12345678</value>").is_ok());
    assert_eq!(
        kind(d.value(b"<value><string>123456789</string></value>")),
        "limit"
    );
    assert_eq!(kind(d.value(b"<value>123456789</value>")), "limit");
    // Counted after references are resolved and across CDATA pieces: 9 bytes.
    assert_eq!(
        kind(d.value(b"<value><string>1234&amp;<![CDATA[5678]]></string></value>")),
        "limit"
    );
}

#[test]
fn struct_member_limit() {
    let members = |n: usize| {
        let m: String = (0..n)
            .map(|i| format!("<member><name>m{i}</name><value><int>{i}</int></value></member>"))
            .collect();
        format!("<value><struct>{m}</struct></value>")
    };
    let d = with(|l| l.max_struct_members = 3);
    assert!(d.value(members(3).as_bytes()).is_ok());
    assert_eq!(kind(d.value(members(4).as_bytes())), "limit");
}

#[test]
fn array_length_limit() {
    let items = |n: usize| {
        format!(
            "<value><array><data>{}</data></array></value>",
            "<value><int>1</int></value>".repeat(n)
        )
    };
    let d = with(|l| l.max_array_len = 5);
    assert!(d.value(items(5).as_bytes()).is_ok());
    assert_eq!(kind(d.value(items(6).as_bytes())), "limit");
}

#[test]
fn param_count_limit() {
    let call = |n: usize| {
        format!(
            "<methodCall><methodName>m</methodName><params>{}</params></methodCall>",
            "<param><value><int>1</int></value></param>".repeat(n)
        )
    };
    let d = with(|l| l.max_params = 2);
    assert!(d.method_call(call(2).as_bytes()).is_ok());
    assert_eq!(kind(d.method_call(call(3).as_bytes())), "limit");
}

#[test]
fn name_length_limit() {
    let d = with(|l| l.max_name_bytes = 4);
    assert!(
        d.method_call(b"<methodCall><methodName>abcd</methodName></methodCall>")
            .is_ok()
    );
    assert_eq!(
        kind(d.method_call(b"<methodCall><methodName>abcde</methodName></methodCall>")),
        "limit"
    );
    assert!(
        d.value(b"<value><struct><member><name>abcd</name><value/></member></struct></value>")
            .is_ok()
    );
    assert_eq!(
        kind(
            d.value(b"<value><struct><member><name>abcde</name><value/></member></struct></value>")
        ),
        "limit"
    );
}

#[test]
fn depth_limit_is_configurable() {
    let nested = |n: usize| {
        format!(
            "{}<value><int>1</int></value>{}",
            "<value><array><data>".repeat(n),
            "</data></array></value>".repeat(n)
        )
    };
    let d = with(|l| l.max_depth = 4);
    // Scalars are 0 deep, each array around them adds one.
    assert!(d.value(nested(4).as_bytes()).is_ok());
    assert_eq!(kind(d.value(nested(5).as_bytes())), "limit");
    let d = with(|l| l.max_depth = 0);
    assert!(d.value(b"<value><int>1</int></value>").is_ok());
    assert_eq!(kind(d.value(b"<value><struct></struct></value>")), "limit");
}

#[test]
fn free_functions_use_the_default_limits() {
    let call = b"<methodCall><methodName>m</methodName><params><param><value>x</value></param></params></methodCall>";
    assert_eq!(
        decode_method_call(call).unwrap(),
        Decoder::new(Limits::default()).method_call(call).unwrap()
    );
    let v = b"<value><i4>7</i4></value>";
    assert_eq!(decode_value(v).unwrap(), Value::Int(7));
}

#[test]
fn positions_point_at_the_problem() {
    let doc = "<?xml version=\"1.0\"?>\n<methodResponse>\n<params><param><value>\n  <i4>x</i4>\n</value></param></params></methodResponse>";
    let err = decode_method_response(doc.as_bytes()).unwrap_err();
    assert_eq!(err.kind().name(), "int");
    assert_eq!(err.line(), 4, "{err}");
}

#[test]
fn non_finite_doubles_are_refused() {
    for d in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = encode_value(&Value::Double(d)).unwrap_err();
        assert!(matches!(err, EncodeError::NonFiniteDouble), "{d}: {err:?}");
        let err = encode_method_call(&MethodCall::new(
            "m",
            vec![Value::Array(vec![Value::Double(d)])],
        ))
        .unwrap_err();
        assert!(matches!(err, EncodeError::NonFiniteDouble), "{d}: {err:?}");
    }
}

#[test]
fn extension_values_need_the_option() {
    let strict = Encoder::new(EncodeOptions::default());
    let extended = Encoder::new(crate::options(true));
    for v in [
        Value::Nil,
        Value::Int(i64::from(i32::MAX) + 1),
        Value::Int(i64::from(i32::MIN) - 1),
        Value::Int(i64::MIN),
    ] {
        let err = strict.value(&v, io::sink()).unwrap_err();
        assert!(
            matches!(err, EncodeError::ExtensionRequired { .. }),
            "{v:?}: {err:?}"
        );
        let mut out = Vec::new();
        extended.value(&v, &mut out).unwrap();
        assert_eq!(decode_value(&out).unwrap(), v);
    }
    for v in [
        Value::Int(i64::from(i32::MAX)),
        Value::Int(i64::from(i32::MIN)),
    ] {
        assert_eq!(
            decode_value(encode_value(&v).unwrap().as_bytes()).unwrap(),
            v
        );
    }
}

#[test]
fn invalid_xml_chars_are_refused_everywhere() {
    let ch = '\u{1}';
    let bad = format!("a{ch}b");
    let results = [
        encode_value(&Value::String(bad.clone())).map(String::into_bytes),
        encode_method_call(&MethodCall::new(bad.clone(), vec![])),
        encode_method_response(&MethodResponse::Fault(Fault::new(1, bad.clone()))),
        encode_value(&Value::Struct([(bad, Value::Int(1))].into_iter().collect()))
            .map(String::into_bytes),
    ];
    for r in results {
        assert!(
            matches!(r, Err(EncodeError::InvalidXmlChar { ch: c }) if c == ch),
            "{r:?}"
        );
    }
}

struct FailingWriter;

impl io::Write for FailingWriter {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk full"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn writer_errors_are_reported() {
    let call = MethodCall::new("m", vec![Value::String("x".repeat(100_000))]);
    let err = Encoder::new(EncodeOptions::default())
        .method_call(&call, FailingWriter)
        .unwrap_err();
    assert!(matches!(err, EncodeError::Io(_)), "{err:?}");
}
