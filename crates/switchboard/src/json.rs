//! JSON ⇄ XML-RPC values, for `switchboard call`'s arguments and results.
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
//!
//! Results go back the same way, so what `call` prints can be passed to it again.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Number, Value as Json};
use xmlrpc_codec::{DateTime, Struct, Value};

/// The member names that tag an object as something other than a struct.
const BASE64: &str = "$base64";
const DATETIME: &str = "$datetime";
const STRUCT: &str = "$struct";

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
    to_value(&json)
}

/// A JSON value as an XML-RPC value.
pub(crate) fn to_value(json: &Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Double(
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| format!("number {n} is out of range"))?,
            ),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(items.iter().map(to_value).collect::<Result<_, _>>()?),
        Json::Object(members) => object_to_value(members)?,
    })
}

fn object_to_value(members: &Map<String, Json>) -> Result<Value, String> {
    let mut iter = members.iter();
    if let (Some((tag, content)), None) = (iter.next(), iter.next()) {
        match tag.as_str() {
            BASE64 => {
                let text = content
                    .as_str()
                    .ok_or_else(|| format!("{BASE64} takes a string"))?;
                let bytes = STANDARD
                    .decode(text)
                    .map_err(|e| format!("{BASE64}: not base64: {e}"))?;
                return Ok(Value::Base64(bytes));
            }
            DATETIME => {
                let text = content
                    .as_str()
                    .ok_or_else(|| format!("{DATETIME} takes a string"))?;
                let datetime: DateTime = text
                    .parse()
                    .map_err(|e| format!("{DATETIME}: {text:?}: {e}"))?;
                return Ok(Value::DateTime(datetime));
            }
            STRUCT => {
                let inner = content
                    .as_object()
                    .ok_or_else(|| format!("{STRUCT} takes an object"))?;
                return plain_struct(inner);
            }
            _ => {}
        }
    }
    plain_struct(members)
}

fn plain_struct(members: &Map<String, Json>) -> Result<Value, String> {
    let mut out = Struct::with_capacity(members.len());
    for (name, member) in members {
        out.insert(name.clone(), to_value(member)?);
    }
    Ok(Value::Struct(out))
}

/// An XML-RPC value as JSON, in the notation [`to_value`] reads.
pub(crate) fn from_value(value: &Value) -> Json {
    match value {
        Value::Int(i) => Json::Number((*i).into()),
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        // Decoded doubles are finite; `null` would only stand for a broken one.
        Value::Double(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::DateTime(dt) => tagged(DATETIME, Json::String(dt.to_string())),
        Value::Base64(bytes) => tagged(BASE64, Json::String(STANDARD.encode(bytes))),
        Value::Struct(members) => {
            let object: Map<String, Json> = members
                .iter()
                .map(|(name, member)| (name.to_owned(), from_value(member)))
                .collect();
            // A struct that would read back as a tag is wrapped so that it stays a struct.
            let is_tag = object.len() == 1
                && object
                    .keys()
                    .any(|k| [BASE64, DATETIME, STRUCT].contains(&k.as_str()));
            if is_tag {
                tagged(STRUCT, Json::Object(object))
            } else {
                Json::Object(object)
            }
        }
        Value::Array(items) => Json::Array(items.iter().map(from_value).collect()),
        Value::Nil => Json::Null,
        // `Value` may grow; a newer type is shown by its debug form rather than lost.
        other => Json::String(format!("{other:?}")),
    }
}

fn tagged(tag: &str, content: Json) -> Json {
    let mut object = Map::with_capacity(1);
    object.insert(tag.to_owned(), content);
    Json::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(text: &str) -> Value {
        parse_arg(text).unwrap()
    }

    #[test]
    fn numbers_are_ints_when_integral_and_doubles_otherwise() {
        assert_eq!(arg("42"), Value::Int(42));
        assert_eq!(arg("-7"), Value::Int(-7));
        assert_eq!(arg("5000000000"), Value::Int(5_000_000_000));
        assert_eq!(arg("1.5"), Value::Double(1.5));
        assert_eq!(arg("2.0"), Value::Double(2.0));
        assert_eq!(arg("1e3"), Value::Double(1000.0));
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
        assert_eq!(to_value(&json).unwrap(), value);
        assert_eq!(
            json.to_string(),
            r#"[1,0.5,{"$base64":"AP8="},{"$datetime":"20240229T00:00:00"},{"$struct":{"$datetime":1}},null,false,"s"]"#
        );
    }
}
