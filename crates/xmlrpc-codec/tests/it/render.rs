//! A stable, human-readable text form of decoded documents, for the `.expected` files.
//!
//! One value per line, two spaces of indent per level of nesting:
//! `int 42`, `bool true`, `string "a\nb"` (Rust escapes), `double 1e300` (shortest
//! exact form), `dateTime 2024-01-31T12:34:56.500000000+05:30`, `base64 b"\x00ab"`,
//! `nil`, `array [` … `]`, `struct {` … `}` with `"name": value` members.

use std::fmt::Write as _;

use xmlrpc_codec::{DateTime, MethodCall, MethodResponse, Value};

/// Renders a method call: its name, then one `param` line per parameter.
pub(crate) fn call(call: &MethodCall) -> String {
    let mut out = format!("methodCall {:?}\n", call.method_name);
    for param in &call.params {
        out.push_str("  param ");
        value_into(param, 1, &mut out);
        out.push('\n');
    }
    out
}

/// Renders a method response: `success` and its value, or the fault's code and string.
pub(crate) fn response(response: &MethodResponse) -> String {
    match response {
        MethodResponse::Success(v) => {
            let mut out = String::from("methodResponse success ");
            value_into(v, 0, &mut out);
            out.push('\n');
            out
        }
        MethodResponse::Fault(f) => {
            let mut out = format!("methodResponse fault {} {:?}\n", f.code, f.string);
            // What a lenient read kept (never written back).
            if let Some(raw) = &f.raw_code {
                out.push_str("  raw code ");
                value_into(raw, 1, &mut out);
                out.push('\n');
            }
            for (name, v) in f.extra.iter() {
                write!(out, "  extra {name:?}: ").unwrap();
                value_into(v, 1, &mut out);
                out.push('\n');
            }
            out
        }
    }
}

/// Renders a bare value.
pub(crate) fn value(v: &Value) -> String {
    let mut out = String::from("value ");
    value_into(v, 0, &mut out);
    out.push('\n');
    out
}

fn value_into(v: &Value, depth: usize, out: &mut String) {
    let pad = |out: &mut String, depth: usize| out.push_str(&"  ".repeat(depth));
    match v {
        Value::Int(i) => write!(out, "int {i}").unwrap(),
        Value::Bool(b) => write!(out, "bool {b}").unwrap(),
        Value::String(s) => write!(out, "string {s:?}").unwrap(),
        Value::Double(d) => write!(out, "double {d:?}").unwrap(),
        Value::DateTime(dt) => write!(out, "dateTime {}", date_time(dt)).unwrap(),
        Value::Base64(bytes) => write!(out, "base64 b\"{}\"", bytes.escape_ascii()).unwrap(),
        Value::Nil => out.push_str("nil"),
        Value::Array(items) if items.is_empty() => out.push_str("array []"),
        Value::Array(items) => {
            out.push_str("array [\n");
            for item in items {
                pad(out, depth + 1);
                value_into(item, depth + 1, out);
                out.push('\n');
            }
            pad(out, depth);
            out.push(']');
        }
        Value::Struct(s) if s.is_empty() => out.push_str("struct {}"),
        Value::Struct(s) => {
            out.push_str("struct {\n");
            for (name, member) in s.iter() {
                pad(out, depth + 1);
                write!(out, "{name:?}: ").unwrap();
                value_into(member, depth + 1, out);
                out.push('\n');
            }
            pad(out, depth);
            out.push('}');
        }
        other => write!(out, "unknown variant {other:?}").unwrap(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS`, then `.nnnnnnnnn` when there is a fraction and `±hh:mm`
/// when the document gave an offset (`Z` shows as `+00:00`).
pub(crate) fn date_time(dt: &DateTime) -> String {
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if dt.nanosecond() != 0 {
        write!(out, ".{:09}", dt.nanosecond()).unwrap();
    }
    if let Some(offset) = dt.offset_minutes() {
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.unsigned_abs();
        write!(out, "{sign}{:02}:{:02}", abs / 60, abs % 60).unwrap();
    }
    out
}
