//! JSON ⇄ XML-RPC values for `switchboard call`'s arguments and results: the
//! binding's one mapping (`pbx_xmlrpc::json`) in its tagged notation, so that
//! what `call` prints can be passed to it again.
//!
//! | JSON | XML-RPC |
//! |---|---|
//! | integer number (fits in 64 bits) | `<int>` (`<i8>` beyond 32 bits, an extension) |
//! | number with a fraction or exponent, or beyond 64 bits | `<double>` |
//! | string, `true`/`false` | `<string>`, `<boolean>` |
//! | array, object | `<array>`, `<struct>` |
//! | `null` | `<nil/>` (an extension) |
//! | `{"$base64": "aGk="}` | `<base64>` (standard alphabet) |
//! | `{"$datetime": "20240131T12:34:56"}` | `<dateTime.iso8601>` |
//! | `{"$struct": {...}}` | `<struct>` whose members are taken literally |

use pbx_xmlrpc::json::{Notation, from_json, to_json};
use serde_json::Value as Json;
use xmlrpc_codec::Value;

/// Parses one command-line argument as a JSON value and converts it (clap's
/// value parser: an error here is a usage error).
pub(crate) fn parse_arg(text: &str) -> Result<Value, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| {
        let hint = if text.starts_with(['"', '[', '{']) {
            ""
        } else {
            " (a string argument needs JSON quotes, e.g. '\"text\"')"
        };
        format!("not a JSON value: {e}{hint}")
    })?;
    from_json(&json, Notation::Tagged).map_err(|e| e.to_string())
}

/// An XML-RPC value as JSON, in the notation [`parse_arg`] reads.
pub(crate) fn from_value(value: &Value) -> Json {
    to_json(value, Notation::Tagged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmlrpc_codec::{DateTime, Struct};

    fn arg(text: &str) -> Value {
        parse_arg(text).unwrap()
    }

    #[test]
    fn numbers_are_ints_when_integral_and_doubles_otherwise() {
        assert_eq!(arg("42"), Value::Int(42));
        assert_eq!(arg("-7"), Value::Int(-7));
        assert_eq!(arg("1.5"), Value::Double(1.5));
        assert_eq!(arg("2.0"), Value::Double(2.0));
        assert_eq!(arg("1e3"), Value::Double(1000.0));
        assert_eq!(arg("5000000000"), Value::Int(5_000_000_000));
        assert_eq!(
            arg("18446744073709551615"),
            Value::Double(1.8446744073709552e19)
        );
    }

    #[test]
    fn strings_bools_null_arrays_and_objects() {
        assert_eq!(arg("\"201\""), Value::String("201".into()));
        assert_eq!(arg("true"), Value::Bool(true));
        assert_eq!(arg("null"), Value::Nil);
        let mut s = Struct::new();
        s.insert("b", Value::Int(2));
        s.insert("a", Value::Array(vec![Value::Int(1), Value::Nil]));
        assert_eq!(arg(r#"{"b": 2, "a": [1, null]}"#), Value::Struct(s));
    }

    #[test]
    fn tags_give_base64_datetime_and_literal_structs() {
        assert_eq!(arg(r#"{"$base64": "aGk="}"#), Value::Base64(b"hi".to_vec()));
        assert_eq!(
            arg(r#"{"$datetime": "20240131T12:34:56"}"#),
            Value::DateTime(DateTime::new(2024, 1, 31, 12, 34, 56).unwrap())
        );
        let mut s = Struct::new();
        s.insert("$base64", Value::String("x".into()));
        assert_eq!(arg(r#"{"$struct": {"$base64": "x"}}"#), Value::Struct(s));
        // With another member, a tag name is a plain member name.
        let two = arg(r#"{"$base64": "x", "y": 1}"#);
        assert!(matches!(two, Value::Struct(s) if s.len() == 2));
    }

    #[test]
    fn bad_arguments_are_messages_not_panics() {
        for bad in [
            "mykey",
            "{",
            r#"{"$base64": "***"}"#,
            r#"{"$base64": 3}"#,
            r#"{"$datetime": "yesterday"}"#,
            r#"{"$struct": []}"#,
        ] {
            assert!(parse_arg(bad).is_err(), "{bad}");
        }
        assert!(parse_arg("mykey").unwrap_err().contains("JSON quotes"));
    }

    #[test]
    fn results_print_in_the_notation_arguments_are_read_in() {
        let mut weird = Struct::new();
        weird.insert("$datetime", Value::Int(1));
        let value = Value::Array(vec![
            Value::Int(1),
            Value::Double(0.5),
            Value::Base64(vec![0, 255]),
            Value::DateTime(DateTime::new(2024, 2, 29, 0, 0, 0).unwrap()),
            Value::Struct(weird),
            Value::Nil,
            Value::Bool(false),
            Value::String("s".into()),
        ]);
        let json = from_value(&value);
        assert_eq!(parse_arg(&json.to_string()).unwrap(), value);
        assert_eq!(
            json.to_string(),
            r#"[1,0.5,{"$base64":"AP8="},{"$datetime":"20240229T00:00:00"},{"$struct":{"$datetime":1}},null,false,"s"]"#
        );
    }
}
