//! serde for [`DateTime`]: a `dateTime.iso8601` in a [`Value`](crate::Value), an ISO 8601 string elsewhere.
//!
//! `DateTime` serializes as a newtype struct with a private name around its ISO 8601
//! text. The crate's own serializer recognises the name and produces
//! [`Value::DateTime`](crate::Value::DateTime); any other serializer (JSON, TOML, …)
//! sees only the string, e.g. `"2024-03-01T09:30:00"`.
//!
//! The crate's deserializers hand a dateTime to `deserialize_any` as a one-entry map
//! `{ DATETIME_TOKEN: text }`. serde buffers what `flatten` and `untagged` read through
//! `deserialize_any`, and a map with that key is how a dateTime survives the buffer:
//! `DateTime`'s and `Value`'s `Deserialize` recognise it, so such a dateTime is not
//! turned into a string and written back as `<string>`.

use std::fmt::{self, Write as _};

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

use crate::DateTime;
use crate::datetime::InvalidDateTime;

/// The newtype-struct name by which [`crate::to_value`] recognises a [`DateTime`].
pub(crate) const DATETIME_TOKEN: &str = "$xmlrpc_codec::private::DateTime";

/// Displays a [`DateTime`] as ISO 8601 extended format: `2024-03-01T09:30:00`, with
/// `.fraction` when there are nanoseconds and `Z` / `±hh:mm` when there is an offset.
pub(crate) struct Iso<'a>(pub(crate) &'a DateTime);

impl fmt::Display for Iso<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        )?;
        if dt.nanosecond() != 0 {
            let mut digits = format!("{:09}", dt.nanosecond());
            while digits.ends_with('0') {
                digits.pop();
            }
            write!(f, ".{digits}")?;
        }
        match dt.offset_minutes() {
            None => Ok(()),
            Some(0) => f.write_char('Z'),
            Some(o) => {
                let sign = if o < 0 { '-' } else { '+' };
                let o = o.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", o / 60, o % 60)
            }
        }
    }
}

/// Parses the forms [`DateTime`]'s `FromStr` reads (the spec's `20240301T09:30:00`,
/// the extended `2024-03-01T09:30:00`, with fraction and offset): also the form [`Iso`] writes.
pub(crate) fn parse_iso(text: &str) -> Result<DateTime, InvalidDateTime> {
    text.parse()
}

/// As [`Value::DateTime`](crate::Value::DateTime) through [`crate::to_value`]; as an ISO
/// 8601 string (`2024-03-01T09:30:00`, plus `.fraction` and `Z`/`±hh:mm` when present)
/// through any other serializer.
impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(DATETIME_TOKEN, &IsoText(self))
    }
}

struct IsoText<'a>(&'a DateTime);

impl Serialize for IsoText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Iso(self.0))
    }
}

/// From [`Value::DateTime`](crate::Value::DateTime) (also through serde's `flatten`
/// and `untagged` buffering), or from a string in any of the ISO 8601 forms XML-RPC
/// peers write (so also from JSON, TOML, …).
impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Self-describing formats say what they hold, which lets the buffered marker
        // map through; compact binary ones (bincode, postcard) cannot, and hold the
        // text that `serialize` wrote.
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(DateTimeVisitor)
        } else {
            deserializer.deserialize_str(DateTimeVisitor)
        }
    }
}

#[derive(Clone, Copy)]
struct DateTimeVisitor;

impl<'de> Visitor<'de> for DateTimeVisitor {
    type Value = DateTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dateTime")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DateTime, E> {
        parse_iso(v).map_err(|e| E::custom(BadDateTime(v, e)))
    }

    /// The marker map of the crate's deserializers: `{ DATETIME_TOKEN: text }`.
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<DateTime, A::Error> {
        let key: Option<String> = map.next_key()?;
        if key.as_deref() != Some(DATETIME_TOKEN) {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        let text: String = map.next_value()?;
        let dt = self.visit_str(&text)?;
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        Ok(dt)
    }
}

struct BadDateTime<'a>(&'a str, InvalidDateTime);

impl fmt::Display for BadDateTime<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::serde_error::write_quoted(f, "expected dateTime, found string ", self.0)?;
        write!(f, " ({})", self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> DateTime {
        DateTime::new(y, mo, d, h, mi, s).expect("valid test date")
    }

    #[test]
    fn formats_extended_iso() {
        let plain = dt(2024, 3, 1, 9, 30, 5);
        assert_eq!(Iso(&plain).to_string(), "2024-03-01T09:30:05");
        let frac = plain.with_nanosecond(120_000_000).unwrap();
        assert_eq!(Iso(&frac).to_string(), "2024-03-01T09:30:05.12");
        let utc = plain.with_offset_minutes(Some(0)).unwrap();
        assert_eq!(Iso(&utc).to_string(), "2024-03-01T09:30:05Z");
        let west = frac.with_offset_minutes(Some(-(5 * 60 + 30))).unwrap();
        assert_eq!(Iso(&west).to_string(), "2024-03-01T09:30:05.12-05:30");
        assert_eq!(
            Iso(&dt(7, 1, 1, 0, 0, 0)).to_string(),
            "0007-01-01T00:00:00"
        );
    }

    #[test]
    fn reads_both_the_spec_form_and_the_extended_form() {
        let want = dt(2024, 3, 1, 9, 30, 5);
        assert_eq!(parse_iso("2024-03-01T09:30:05"), Ok(want));
        assert_eq!(parse_iso("20240301T09:30:05"), Ok(want));
        assert!(parse_iso("2024-03-01").is_err());
    }

    #[test]
    fn text_round_trips() {
        let values = [
            dt(0, 1, 1, 0, 0, 0),
            dt(9999, 12, 31, 23, 59, 60),
            dt(2000, 2, 29, 12, 0, 0)
                .with_nanosecond(999_999_999)
                .unwrap()
                .with_offset_minutes(Some(1439))
                .unwrap(),
            dt(1970, 1, 1, 0, 0, 0)
                .with_offset_minutes(Some(-1439))
                .unwrap(),
        ];
        for v in values {
            assert_eq!(parse_iso(&Iso(&v).to_string()), Ok(v));
        }
    }
}
