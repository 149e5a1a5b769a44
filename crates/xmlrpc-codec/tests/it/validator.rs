//! The eight validator1 methods (UserLand's classic interop suite), from request
//! document to response document, on the codec alone.
//!
//! The requests in `fixtures/xmlrpc/validator/` are what Python's xmlrpc.client sends
//! (`generate.py` there); the expected answers were computed by Python from the same data.

use std::collections::BTreeMap;
use std::fs;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use xmlrpc_codec::{
    DateTime, Fault, MethodCall, MethodResponse, Struct, Value, decode_method_call,
    decode_method_response, encode_method_response, from_params, to_value,
};

use crate::fixtures_dir;

/// What a validator1 server does with one request: bytes in, bytes out.
fn serve(request: &[u8]) -> Vec<u8> {
    let response = match decode_method_call(request) {
        Ok(call) => dispatch(call).map_or_else(MethodResponse::Fault, MethodResponse::Success),
        Err(e) => MethodResponse::Fault(Fault::new(-32700, format!("parse error: {e}"))),
    };
    encode_method_response(&response).expect("validator answers are encodable")
}

#[derive(Deserialize)]
struct Stooges {
    moe: i32,
    larry: i32,
    curly: i32,
}

impl Stooges {
    fn sum(&self) -> i32 {
        self.moe + self.larry + self.curly
    }
}

/// Only `curly` counts in arrayOfStructsTest; the other members are ignored.
#[derive(Deserialize)]
struct Curly {
    curly: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntityCounts {
    ct_left_angle_brackets: usize,
    ct_right_angle_brackets: usize,
    ct_ampersands: usize,
    ct_apostrophes: usize,
    ct_quotes: usize,
}

#[derive(Serialize)]
struct Multiples {
    times10: i64,
    times100: i64,
    times1000: i64,
}

/// year → month → day → the stooges of that day.
type Calendar = BTreeMap<String, BTreeMap<String, BTreeMap<String, Stooges>>>;

/// The methods, with typed parameters read by `from_params` and results written by
/// `to_value`.
fn dispatch(call: MethodCall) -> Result<Value, Fault> {
    let params = call.params;
    match call.method_name.as_str() {
        "validator1.arrayOfStructsTest" => {
            let (items,): (Vec<Curly>,) = typed(params)?;
            Ok(Value::Int(items.iter().map(|s| i64::from(s.curly)).sum()))
        }
        "validator1.countTheEntities" => {
            let (text,): (String,) = typed(params)?;
            let count = |c: char| text.chars().filter(|&x| x == c).count();
            result(&EntityCounts {
                ct_left_angle_brackets: count('<'),
                ct_right_angle_brackets: count('>'),
                ct_ampersands: count('&'),
                ct_apostrophes: count('\''),
                ct_quotes: count('"'),
            })
        }
        "validator1.easyStructTest" => {
            let (stooges,): (Stooges,) = typed(params)?;
            Ok(Value::Int(stooges.sum().into()))
        }
        "validator1.echoStructTest" => match typed(params)? {
            (v @ Value::Struct(_),) => Ok(v),
            _ => Err(Fault::new(-32602, "parameter 1: expected a struct")),
        },
        "validator1.manyTypesTest" => {
            let (int, boolean, string, double, date_time, base64): (
                i32,
                bool,
                String,
                f64,
                DateTime,
                Vec<u8>,
            ) = typed(params)?;
            Ok(Value::Array(vec![
                Value::Int(int.into()),
                Value::Bool(boolean),
                Value::String(string),
                Value::Double(double),
                Value::DateTime(date_time),
                Value::Base64(base64),
            ]))
        }
        "validator1.moderateSizeArrayCheck" => {
            let (items,): (Vec<String>,) = typed(params)?;
            match (items.first(), items.last()) {
                (Some(first), Some(last)) if (100..=200).contains(&items.len()) => {
                    Ok(Value::String(format!("{first}{last}")))
                }
                _ => Err(Fault::new(-32602, "expected 100 to 200 strings")),
            }
        }
        "validator1.nestedStructTest" => {
            let (calendar,): (Calendar,) = typed(params)?;
            let day = calendar
                .get("2000")
                .and_then(|year| year.get("04"))
                .and_then(|month| month.get("01"))
                .ok_or_else(|| Fault::new(-32602, "no entry for 2000-04-01"))?;
            Ok(Value::Int(day.sum().into()))
        }
        "validator1.simpleStructReturnTest" => {
            let (n,): (i32,) = typed(params)?;
            let n = i64::from(n);
            result(&Multiples {
                times10: n * 10,
                times100: n * 100,
                times1000: n * 1000,
            })
        }
        name => Err(Fault::new(-32601, format!("no such method: {name}"))),
    }
}

/// Reads the params as `T`; a mismatch is the "invalid method parameters" fault.
fn typed<T: DeserializeOwned>(params: Vec<Value>) -> Result<T, Fault> {
    from_params(params).map_err(|e| Fault::new(-32602, e.to_string()))
}

fn result<T: Serialize>(value: &T) -> Result<Value, Fault> {
    to_value(value).map_err(|e| Fault::new(-32603, e.to_string()))
}

/// Sends the fixture request for `method` and decodes the answer.
fn answer(method: &str) -> (MethodCall, Value) {
    let request = fs::read(
        fixtures_dir()
            .join("validator")
            .join(format!("{method}.xml")),
    )
    .unwrap();
    let call = decode_method_call(&request).unwrap();
    assert_eq!(call.method_name, format!("validator1.{method}"));
    let response = serve(&request);
    assert!(
        response.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    match decode_method_response(&response).unwrap() {
        MethodResponse::Success(v) => (call, v),
        MethodResponse::Fault(f) => panic!("{method}: {f}"),
    }
}

#[test]
fn array_of_structs_test() {
    assert_eq!(answer("arrayOfStructsTest").1, Value::Int(-168));
}

#[test]
fn count_the_entities() {
    let counts: Struct = [
        ("ctLeftAngleBrackets", 3),
        ("ctRightAngleBrackets", 3),
        ("ctAmpersands", 4),
        ("ctApostrophes", 4),
        ("ctQuotes", 3),
    ]
    .into_iter()
    .map(|(k, v)| (k, Value::Int(v)))
    .collect();
    assert_eq!(answer("countTheEntities").1, Value::Struct(counts));
}

#[test]
fn easy_struct_test() {
    assert_eq!(answer("easyStructTest").1, Value::Int(-25));
}

#[test]
fn echo_struct_test() {
    let (call, answer) = answer("echoStructTest");
    assert_eq!(answer, call.params[0]);
    let Value::Struct(s) = &answer else {
        panic!("{answer:?}")
    };
    assert_eq!(
        s.get("note"),
        Some(&Value::String("  spaces kept é ".into()))
    );
}

#[test]
fn many_types_test() {
    let (call, answer) = answer("manyTypesTest");
    let Value::Array(items) = &answer else {
        panic!("{answer:?}")
    };
    assert_eq!(items, &call.params);
    assert_eq!(items[0], Value::Int(42));
    assert_eq!(items[1], Value::Bool(true));
    assert_eq!(items[2], Value::String("Grüße & <tags>".into()));
    assert_eq!(items[3], Value::Double(-12.53));
    let Value::DateTime(dt) = &items[4] else {
        panic!("{:?}", items[4])
    };
    assert_eq!(crate::render::date_time(dt), "1904-01-01T02:03:04");
    assert_eq!(items[5], Value::Base64(b"you can't read this!".to_vec()));
}

#[test]
fn moderate_size_array_check() {
    assert_eq!(
        answer("moderateSizeArrayCheck").1,
        Value::String("ficfeég agf a".into())
    );
}

#[test]
fn nested_struct_test() {
    assert_eq!(answer("nestedStructTest").1, Value::Int(-57));
}

#[test]
fn simple_struct_return_test() {
    let n = 0x7ffff;
    let expected: Struct = [
        ("times10", n * 10),
        ("times100", n * 100),
        ("times1000", n * 1000),
    ]
    .into_iter()
    .map(|(k, v)| (k, Value::Int(v)))
    .collect();
    assert_eq!(answer("simpleStructReturnTest").1, Value::Struct(expected));
}

#[test]
fn unknown_methods_bad_params_and_bad_documents_get_faults() {
    let fault = |request: &[u8]| match decode_method_response(&serve(request)).unwrap() {
        MethodResponse::Fault(f) => f,
        MethodResponse::Success(v) => panic!("{v:?}"),
    };
    let call = |name: &str, params: &str| {
        format!("<methodCall><methodName>{name}</methodName><params>{params}</params></methodCall>")
    };
    let f = fault(call("validator1.nope", "").as_bytes());
    assert_eq!(f.code, -32601);
    let f = fault(
        call(
            "validator1.easyStructTest",
            "<param><value><int>1</int></value></param>",
        )
        .as_bytes(),
    );
    assert_eq!(f.code, -32602, "{f}");
    let stooges = "<param><value><struct><member><name>moe</name><value><int>1</int></value></member>\
        <member><name>larry</name><value><string>2</string></value></member>\
        <member><name>curly</name><value><int>3</int></value></member></struct></value></param>";
    let f = fault(call("validator1.easyStructTest", stooges).as_bytes());
    assert_eq!(f.code, -32602);
    assert!(
        f.string.contains("larry"),
        "the fault names the member: {f}"
    );
    let f = fault(call("validator1.simpleStructReturnTest", "").as_bytes());
    assert_eq!(f.code, -32602, "{f}");
    let f = fault(b"<methodCall><methodName>m</methodName>");
    assert_eq!(f.code, -32700);
}
