//! The codec's one integration-test binary: fixtures, round trips, the validator suite.
//!
//! - `fixtures`: every document under `fixtures/xmlrpc/{good,bad,encode}` through one
//!   `check()`; `UPDATE_EXPECT=1 cargo test -p xmlrpc-codec --test it` rewrites the
//!   expected files (review the diff).
//! - `roundtrip`: proptest encode → decode for values, calls and responses.
//! - `datetime_laws`: proptest for `DateTime`'s `Eq` / `Ord` / `Hash`.
//! - `validator`: the eight validator1 methods, request document to response document.
//! - `limits`: the decoder's limits and the encoder's refusals, case by case.

mod datetime_laws;
mod fixtures;
mod limits;
mod render;
mod roundtrip;
mod validator;

use std::path::PathBuf;

use xmlrpc_codec::{EncodeOptions, MethodCall, MethodResponse, Value};

/// `fixtures/xmlrpc` at the workspace root.
fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/xmlrpc")
}

/// Encoder options with extensions (`nil`, `i8`) allowed or not.
fn options(allow_extensions: bool) -> EncodeOptions {
    let mut options = EncodeOptions::default();
    options.allow_extensions = allow_extensions;
    options
}

/// Structural equality that also tells `-0.0` from `0.0` (doubles compare by bits).
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

/// Whether `b` is what encoding `a` and decoding it should give: the same result, or
/// the same fault as the strict writer sends it (code and string; a leniently read
/// fault's raw code and extra members are not written).
fn same_response(a: &MethodResponse, b: &MethodResponse) -> bool {
    match (a, b) {
        (MethodResponse::Success(x), MethodResponse::Success(y)) => same_value(x, y),
        (MethodResponse::Fault(x), MethodResponse::Fault(y)) if !x.is_conforming() => {
            x.code == y.code && x.string == y.string && y.is_conforming()
        }
        _ => a == b,
    }
}
