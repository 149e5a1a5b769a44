//! Fuzz target `decode`: any bytes through all three decoders, under the default
//! limits and under tight ones. Nothing may panic, and whatever decodes must encode
//! (with extensions allowed) and decode again to the same thing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xmlrpc_codec::{Decoder, EncodeOptions, Encoder, Limits, MethodCall, MethodResponse, Value};

fuzz_target!(|data: &[u8]| {
    let mut tight = Limits::default();
    tight.max_depth = 4;
    tight.max_document_bytes = 2048;
    tight.max_string_bytes = 16;
    tight.max_struct_members = 3;
    tight.max_array_len = 3;
    tight.max_params = 2;
    tight.max_name_bytes = 8;
    for limits in [Limits::default(), tight] {
        let decoder = Decoder::new(limits);
        let mut options = EncodeOptions::default();
        options.allow_extensions = true;
        let encoder = Encoder::new(options);

        if let Ok(call) = decoder.method_call(data) {
            let mut out = Vec::new();
            encoder
                .method_call(&call, &mut out)
                .expect("a decoded call encodes");
            let again = decoder.method_call(&out).expect("own output decodes");
            assert!(same_call(&call, &again), "{call:?}\n{again:?}");
        }
        if let Ok(response) = decoder.method_response(data) {
            let mut out = Vec::new();
            encoder
                .method_response(&response, &mut out)
                .expect("a decoded response encodes");
            let again = decoder.method_response(&out).expect("own output decodes");
            assert!(same_response(&response, &again), "{response:?}\n{again:?}");
        }
        if let Ok(value) = decoder.value(data) {
            let mut out = Vec::new();
            encoder
                .value(&value, &mut out)
                .expect("a decoded value encodes");
            let again = decoder.value(&out).expect("own output decodes");
            assert!(same_value(&value, &again), "{value:?}\n{again:?}");
        }
    }
});

/// Equality that tells `-0.0` from `0.0`.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => x.to_bits() == y.to_bits(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((nx, vx), (ny, vy))| nx == ny && same_value(vx, vy))
        }
        _ => a == b,
    }
}

fn same_call(a: &MethodCall, b: &MethodCall) -> bool {
    a.method_name == b.method_name
        && a.params.len() == b.params.len()
        && a.params
            .iter()
            .zip(&b.params)
            .all(|(x, y)| same_value(x, y))
}

/// A leniently read fault (string code, extra members) is written strictly: its
/// code and string must survive, and what comes back must be conforming.
fn same_response(a: &MethodResponse, b: &MethodResponse) -> bool {
    match (a, b) {
        (MethodResponse::Success(x), MethodResponse::Success(y)) => same_value(x, y),
        (MethodResponse::Fault(x), MethodResponse::Fault(y)) if !x.is_conforming() => {
            x.code == y.code && x.string == y.string && y.is_conforming()
        }
        _ => a == b,
    }
}
