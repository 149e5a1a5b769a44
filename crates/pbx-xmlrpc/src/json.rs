//! XML-RPC values ⇄ JSON: the one mapping every JSON transport of the API uses
//! (`POST /jsonrpc`, the `/events` stream, `switchboard call`).
//!
//! It lives in the binding because it is part of the API's wire contract
//! (SPEC.md, "JSON-RPC 2.0" and "Events"), decided for this API's values (ints
//! are 32-bit, `null` is no value), not a general XML-RPC rule; and because the
//! server and the command line both link the binding already.
//!
//! | XML-RPC | JSON ([`Notation::Plain`]) | JSON ([`Notation::Tagged`]) |
//! |---|---|---|
//! | `int` | number | number |
//! | `double` | number with a fraction or exponent (`2.0`) | same |
//! | `string`, `boolean` | string, `true`/`false` | same |
//! | `struct`, `array` | object, array | same (a struct that would read as a tag: `{"$struct": {...}}`) |
//! | `dateTime.iso8601` | RFC 3339 string (no zone: read as UTC, `Z`) | `{"$datetime": "20240131T12:34:56"}` |
//! | `base64` | base64 string (standard alphabet) | `{"$base64": "aGk="}` |
//! | `nil` (extension) | `null` out; refused in | `null` both ways |
//! | `i8` (extension) | number out; refused in | number both ways |
//!
//! Into XML-RPC in the plain notation, a JSON integer within `i32` is an
//! `int`, any other number with a fraction or exponent a `double`; an integer
//! outside `i32` is refused ([`JsonError::IntOutOfRange`]): the API has no
//! 64-bit ints, and silently turning one into a double would lose digits. The
//! tagged notation keeps XML-RPC's extensions: an integer within `i64` is an
//! int (sent as `<i8>` when it needs it), a larger one a double.
//!
//! ```
//! use pbx_xmlrpc::json::{Notation, from_json, to_json};
//! use xmlrpc_codec::Value;
//!
//! let json = serde_json::json!(["201", 3, 1.5, {"on": true}]);
//! let value = from_json(&json, Notation::Plain)?;
//! assert_eq!(to_json(&value, Notation::Plain), json);
//! assert!(from_json(&serde_json::json!(5_000_000_000_i64), Notation::Plain).is_err());
//! # Ok::<(), pbx_xmlrpc::json::JsonError>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Number, Value as Json};
use xmlrpc_codec::{DateTime, Struct, Value};

/// The member names that tag an object as something other than a struct
/// ([`Notation::Tagged`]).
const BASE64: &str = "$base64";
const DATETIME: &str = "$datetime";
const STRUCT: &str = "$struct";

/// Which JSON form: the API's ([`Plain`](Self::Plain)), or one that keeps every
/// XML-RPC type apart ([`Tagged`](Self::Tagged)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Notation {
    /// SPEC.md's JSON: what JSON-RPC answers and `/events` send. A dateTime
    /// and a base64 become strings (a reader knows from the method which is
    /// which); `null` is refused as input.
    #[default]
    Plain,
    /// [`Plain`](Self::Plain), plus `{"$base64": …}`, `{"$datetime": …}` and
    /// `{"$struct": {…}}` tags, `null` for `nil` and 64-bit ints, so that what
    /// is printed reads back to the same value (`switchboard call`).
    Tagged,
}

/// Why a JSON value has no XML-RPC value. `at` is where inside the value
/// (`[2].name`), empty at its top.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// `null` in [`Notation::Plain`].
    Null {
        /// Where.
        at: String,
    },
    /// An integer outside `i32`, the range of XML-RPC's `int`.
    IntOutOfRange {
        /// Where.
        at: String,
        /// The number as written.
        number: String,
    },
    /// A string or member name holding a character XML 1.0 cannot carry (most
    /// C0 controls, U+FFFE, U+FFFF), in [`Notation::Plain`]: a value stored
    /// from JSON must read back over XML-RPC too.
    NotXmlText {
        /// Where.
        at: String,
        /// The character.
        ch: char,
    },
    /// A tag (`$base64`, `$datetime`, `$struct`) whose content does not read.
    BadTag {
        /// Where.
        at: String,
        /// What is wrong with it.
        message: String,
    },
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = match self {
            Self::Null { at }
            | Self::IntOutOfRange { at, .. }
            | Self::NotXmlText { at, .. }
            | Self::BadTag { at, .. } => at,
        };
        if !at.is_empty() {
            write!(f, "at {at}: ")?;
        }
        match self {
            Self::Null { .. } => {
                f.write_str("null is no value here: leave an optional parameter out instead")
            }
            Self::IntOutOfRange { number, .. } => write!(
                f,
                "integer {number} is outside the int range ({}..={}); write a fraction (`{number}.0`) for a double",
                i32::MIN,
                i32::MAX
            ),
            Self::NotXmlText { ch, .. } => write!(
                f,
                "text holds {ch:?} (U+{:04X}), which XML-RPC cannot carry",
                u32::from(*ch)
            ),
            Self::BadTag { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for JsonError {}

/// A wire value as JSON, in `notation`.
pub fn to_json(value: &Value, notation: Notation) -> Json {
    let tagged = notation == Notation::Tagged;
    match value {
        Value::Int(i) => Json::from(*i),
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        // Decoded doubles are finite; `null` would only stand for a broken one.
        Value::Double(d) => Number::from_f64(*d).map_or(Json::Null, Json::Number),
        Value::DateTime(dt) if tagged => tag(DATETIME, Json::String(dt.to_string())),
        Value::DateTime(dt) => Json::String(rfc3339(dt)),
        Value::Base64(bytes) if tagged => tag(BASE64, Json::String(STANDARD.encode(bytes))),
        Value::Base64(bytes) => Json::String(STANDARD.encode(bytes)),
        Value::Struct(members) => {
            let object: Map<String, Json> = members
                .iter()
                .map(|(name, member)| (name.to_owned(), to_json(member, notation)))
                .collect();
            // A struct that would read back as a tag is wrapped so that it stays a struct.
            if tagged && object.len() == 1 && object.keys().any(|k| is_tag(k)) {
                tag(STRUCT, Json::Object(object))
            } else {
                Json::Object(object)
            }
        }
        Value::Array(items) => Json::Array(items.iter().map(|v| to_json(v, notation)).collect()),
        Value::Nil => Json::Null,
        // `Value` may grow; a newer type is shown by its debug form rather than lost.
        other => Json::String(format!("{other:?}")),
    }
}

/// A JSON value as a wire value, in `notation`.
pub fn from_json(json: &Json, notation: Notation) -> Result<Value, JsonError> {
    from_json_at(json, notation, &mut String::new())
}

fn from_json_at(json: &Json, notation: Notation, at: &mut String) -> Result<Value, JsonError> {
    Ok(match json {
        Json::Null if notation == Notation::Tagged => Value::Nil,
        Json::Null => return Err(JsonError::Null { at: at.clone() }),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => number(n, notation, at)?,
        Json::String(s) => {
            if notation == Notation::Plain {
                xml_text(s, at)?;
            }
            Value::String(s.clone())
        }
        Json::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                out.push(from_json_at(item, notation, at)?);
                at.truncate(len);
            }
            Value::Array(out)
        }
        Json::Object(members) => {
            if notation == Notation::Tagged
                && let Some(value) = tagged_value(members, notation, at)?
            {
                return Ok(value);
            }
            plain_struct(members, notation, at)?
        }
    })
}

fn number(n: &Number, notation: Notation, at: &str) -> Result<Value, JsonError> {
    if notation == Notation::Tagged {
        // `<i8>` for what needs 64 bits (an extension a client sends only on
        // request); beyond that, a double, as before the mapping was shared.
        if let Some(i) = n.as_i64() {
            return Ok(Value::Int(i));
        }
    } else if let Some(i) = n.as_i64() {
        return match i32::try_from(i) {
            Ok(i) => Ok(Value::Int(i64::from(i))),
            Err(_) => Err(out_of_range(n, at)),
        };
    } else if n.is_u64() {
        return Err(out_of_range(n, at));
    }
    // serde_json refuses numbers beyond f64's range while parsing; a double
    // built in memory is finite too (`Number::from_f64` refuses the others).
    Ok(Value::Double(n.as_f64().unwrap_or_default()))
}

fn out_of_range(n: &Number, at: &str) -> JsonError {
    JsonError::IntOutOfRange {
        at: at.to_owned(),
        number: n.to_string(),
    }
}

/// Refuses text with a character XML 1.0 cannot carry: JSON can say
/// `"\u0001"`, and what one protocol stores every protocol must read back.
fn xml_text(text: &str, at: &str) -> Result<(), JsonError> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    match text.chars().find(|c| !allowed(*c)) {
        None => Ok(()),
        Some(ch) => Err(JsonError::NotXmlText {
            at: at.to_owned(),
            ch,
        }),
    }
}

fn is_tag(name: &str) -> bool {
    [BASE64, DATETIME, STRUCT].contains(&name)
}

/// The value of a one-member object whose member is a tag; `None` for any other.
fn tagged_value(
    members: &Map<String, Json>,
    notation: Notation,
    at: &mut String,
) -> Result<Option<Value>, JsonError> {
    let mut iter = members.iter();
    let (Some((name, content)), None) = (iter.next(), iter.next()) else {
        return Ok(None);
    };
    let bad = |message: String| JsonError::BadTag {
        at: at.clone(),
        message,
    };
    Ok(Some(match name.as_str() {
        BASE64 => {
            let text = content
                .as_str()
                .ok_or_else(|| bad(format!("{BASE64} takes a string")))?;
            let bytes = STANDARD
                .decode(text)
                .map_err(|e| bad(format!("{BASE64}: not base64: {e}")))?;
            Value::Base64(bytes)
        }
        DATETIME => {
            let text = content
                .as_str()
                .ok_or_else(|| bad(format!("{DATETIME} takes a string")))?;
            let datetime: DateTime = text
                .parse()
                .map_err(|e| bad(format!("{DATETIME}: {text:?}: {e}")))?;
            Value::DateTime(datetime)
        }
        STRUCT => {
            let inner = content
                .as_object()
                .ok_or_else(|| bad(format!("{STRUCT} takes an object")))?;
            plain_struct(inner, notation, at)?
        }
        _ => return Ok(None),
    }))
}

fn plain_struct(
    members: &Map<String, Json>,
    notation: Notation,
    at: &mut String,
) -> Result<Value, JsonError> {
    let mut out = Struct::with_capacity(members.len());
    for (name, member) in members {
        let len = at.len();
        if !at.is_empty() {
            at.push('.');
        }
        at.push_str(name);
        if notation == Notation::Plain {
            xml_text(name, at)?;
        }
        out.insert(name.clone(), from_json_at(member, notation, at)?);
        at.truncate(len);
    }
    Ok(Value::Struct(out))
}

fn tag(name: &str, content: Json) -> Json {
    let mut object = Map::with_capacity(1);
    object.insert(name.to_owned(), content);
    Json::Object(object)
}

/// `dt` as RFC 3339: `2024-01-31T12:34:56Z`, the fraction when there is one,
/// its offset when it has one, `Z` when it has none (XML-RPC's dateTime
/// usually carries no zone; the API's times are UTC).
fn rfc3339(dt: &DateTime) -> String {
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
        let fraction = format!("{:09}", dt.nanosecond());
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    match dt.offset_minutes() {
        None | Some(0) => out.push('Z'),
        Some(minutes) => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let minutes = minutes.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plain(json: Json) -> Result<Value, JsonError> {
        from_json(&json, Notation::Plain)
    }

    #[test]
    fn ints_are_32_bit_and_other_numbers_doubles() {
        assert_eq!(plain(json!(42)), Ok(Value::Int(42)));
        assert_eq!(plain(json!(i32::MIN)), Ok(Value::Int(i64::from(i32::MIN))));
        assert_eq!(plain(json!(1.5)), Ok(Value::Double(1.5)));
        assert_eq!(
            plain(serde_json::from_str("2.0").unwrap()),
            Ok(Value::Double(2.0))
        );
        assert_eq!(
            plain(serde_json::from_str("1e3").unwrap()),
            Ok(Value::Double(1000.0))
        );
        for big in ["2147483648", "-2147483649", "18446744073709551615"] {
            let err = plain(serde_json::from_str(big).unwrap()).unwrap_err();
            assert!(
                matches!(&err, JsonError::IntOutOfRange { number, .. } if number == big),
                "{err:?}"
            );
        }
    }

    #[test]
    fn tagged_keeps_64_bit_ints() {
        let tagged = |text: &str| from_json(&serde_json::from_str(text).unwrap(), Notation::Tagged);
        assert_eq!(tagged("5000000000"), Ok(Value::Int(5_000_000_000)));
        assert_eq!(
            tagged("18446744073709551615"),
            Ok(Value::Double(1.8446744073709552e19))
        );
    }

    #[test]
    fn null_is_refused_in_plain_and_nil_in_tagged() {
        let err = plain(json!({"a": [1, null]})).unwrap_err();
        assert_eq!(err, JsonError::Null { at: "a[1]".into() });
        assert!(err.to_string().starts_with("at a[1]: null"), "{err}");
        assert_eq!(from_json(&json!(null), Notation::Tagged), Ok(Value::Nil));
    }

    #[test]
    fn text_xml_cannot_carry_is_refused_in_plain() {
        assert_eq!(
            plain(json!({"a": ["ok", "x\u{1}"]})),
            Err(JsonError::NotXmlText {
                at: "a[1]".into(),
                ch: '\u{1}'
            })
        );
        assert!(matches!(
            plain(json!({"k\u{FFFE}": 1})),
            Err(JsonError::NotXmlText { .. })
        ));
        assert!(plain(json!("tab\tnew\nline\r \u{10FFFF} é")).is_ok());
    }

    #[test]
    fn plain_results_are_rfc3339_and_base64_strings() {
        let dt = DateTime::new(2024, 1, 31, 12, 34, 56).unwrap();
        let value = Value::Array(vec![
            Value::DateTime(dt),
            Value::DateTime(dt.with_nanosecond(500_000_000).unwrap()),
            Value::DateTime(dt.with_offset_minutes(Some(-480)).unwrap()),
            Value::Base64(vec![0, 255]),
        ]);
        assert_eq!(
            to_json(&value, Notation::Plain),
            json!([
                "2024-01-31T12:34:56Z",
                "2024-01-31T12:34:56.5Z",
                "2024-01-31T12:34:56-08:00",
                "AP8="
            ])
        );
    }

    #[test]
    fn plain_objects_with_tag_names_stay_structs() {
        let mut s = Struct::new();
        s.insert("$base64", Value::String("x".into()));
        assert_eq!(plain(json!({"$base64": "x"})), Ok(Value::Struct(s)));
    }

    #[test]
    fn tagged_reads_back_what_it_writes() {
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
        let json = to_json(&value, Notation::Tagged);
        assert_eq!(from_json(&json, Notation::Tagged), Ok(value));
        assert_eq!(
            json.to_string(),
            r#"[1,0.5,{"$base64":"AP8="},{"$datetime":"20240229T00:00:00"},{"$struct":{"$datetime":1}},null,false,"s"]"#
        );
    }

    #[test]
    fn bad_tags_say_where() {
        for bad in [
            json!([{"$base64": "***"}]),
            json!([{"$base64": 3}]),
            json!([{"$datetime": "yesterday"}]),
            json!([{"$struct": []}]),
        ] {
            let err = from_json(&bad, Notation::Tagged).unwrap_err();
            assert!(
                matches!(&err, JsonError::BadTag { at, .. } if at == "[0]"),
                "{err:?}"
            );
        }
    }
}
