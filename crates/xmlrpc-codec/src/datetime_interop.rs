//! Conversions between `DateTime` and the `chrono` / `time` / `jiff` types (features
//! `chrono`, `time`, `jiff`), and the serde `with` modules that send those types as
//! `dateTime.iso8601`.
//! The conversion table is in the docs of `with`, the public face of this module.

#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
use crate::InvalidDateTime;

#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
fn year_of(year: i32) -> Result<u16, InvalidDateTime> {
    u16::try_from(year).map_err(|_| InvalidDateTime("year outside 0..=9999"))
}

#[cfg(any(feature = "chrono", feature = "time"))]
fn offset_of(seconds: i32) -> Result<i16, InvalidDateTime> {
    if seconds % 60 != 0 {
        return Err(InvalidDateTime(
            "UTC offset is not a whole number of minutes",
        ));
    }
    i16::try_from(seconds / 60).map_err(|_| InvalidDateTime("offset beyond ±23:59"))
}

#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
const NO_OFFSET: InvalidDateTime = InvalidDateTime("dateTime has no UTC offset");

#[cfg(feature = "chrono")]
mod chrono_impls {
    use chrono::{Datelike as _, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike as _};

    use super::{NO_OFFSET, offset_of, year_of};
    use crate::{DateTime, InvalidDateTime};

    const LEAP: u32 = 1_000_000_000;

    impl TryFrom<NaiveDateTime> for DateTime {
        type Error = InvalidDateTime;
        fn try_from(v: NaiveDateTime) -> Result<Self, InvalidDateTime> {
            let (second, nanosecond) = match v.nanosecond() {
                n if n >= LEAP => (60, n - LEAP),
                n => (v.second(), n),
            };
            let narrow =
                |n: u32| u8::try_from(n).map_err(|_| InvalidDateTime("field out of range"));
            DateTime::new(
                year_of(v.year())?,
                narrow(v.month())?,
                narrow(v.day())?,
                narrow(v.hour())?,
                narrow(v.minute())?,
                narrow(second)?,
            )?
            .with_nanosecond(nanosecond)
        }
    }

    impl TryFrom<DateTime> for NaiveDateTime {
        type Error = InvalidDateTime;
        fn try_from(v: DateTime) -> Result<Self, InvalidDateTime> {
            let date = NaiveDate::from_ymd_opt(v.year().into(), v.month().into(), v.day().into())
                .ok_or(InvalidDateTime("date out of chrono's range"))?;
            let (second, nanosecond) = match v.second() {
                60 => (59, v.nanosecond() + LEAP),
                s => (s.into(), v.nanosecond()),
            };
            let time = NaiveTime::from_hms_nano_opt(
                v.hour().into(),
                v.minute().into(),
                second,
                nanosecond,
            )
            .ok_or(InvalidDateTime("time of day out of chrono's range"))?;
            Ok(NaiveDateTime::new(date, time))
        }
    }

    impl TryFrom<chrono::DateTime<FixedOffset>> for DateTime {
        type Error = InvalidDateTime;
        fn try_from(v: chrono::DateTime<FixedOffset>) -> Result<Self, InvalidDateTime> {
            let offset = offset_of(v.offset().local_minus_utc())?;
            DateTime::try_from(v.naive_local())?.with_offset_minutes(Some(offset))
        }
    }

    impl TryFrom<DateTime> for chrono::DateTime<FixedOffset> {
        type Error = InvalidDateTime;
        fn try_from(v: DateTime) -> Result<Self, InvalidDateTime> {
            let minutes = v.offset_minutes().ok_or(NO_OFFSET)?;
            let offset = FixedOffset::east_opt(i32::from(minutes) * 60)
                .ok_or(InvalidDateTime("offset out of chrono's range"))?;
            NaiveDateTime::try_from(v)?
                .and_local_timezone(offset)
                .single()
                .ok_or(InvalidDateTime("local time does not exist at that offset"))
        }
    }
}

#[cfg(feature = "time")]
mod time_impls {
    use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

    use super::{NO_OFFSET, offset_of, year_of};
    use crate::{DateTime, InvalidDateTime};

    impl TryFrom<PrimitiveDateTime> for DateTime {
        type Error = InvalidDateTime;
        fn try_from(v: PrimitiveDateTime) -> Result<Self, InvalidDateTime> {
            DateTime::new(
                year_of(v.year())?,
                u8::from(v.month()),
                v.day(),
                v.hour(),
                v.minute(),
                v.second(),
            )?
            .with_nanosecond(v.nanosecond())
        }
    }

    impl TryFrom<DateTime> for PrimitiveDateTime {
        type Error = InvalidDateTime;
        fn try_from(v: DateTime) -> Result<Self, InvalidDateTime> {
            let month =
                Month::try_from(v.month()).map_err(|_| InvalidDateTime("month not in 1..=12"))?;
            let date = Date::from_calendar_date(v.year().into(), month, v.day())
                .map_err(|_| InvalidDateTime("date out of time's range"))?;
            if v.second() == 60 {
                return Err(InvalidDateTime("leap second: the time crate has none"));
            }
            let time = Time::from_hms_nano(v.hour(), v.minute(), v.second(), v.nanosecond())
                .map_err(|_| InvalidDateTime("time of day out of time's range"))?;
            Ok(PrimitiveDateTime::new(date, time))
        }
    }

    impl TryFrom<OffsetDateTime> for DateTime {
        type Error = InvalidDateTime;
        fn try_from(v: OffsetDateTime) -> Result<Self, InvalidDateTime> {
            let offset = offset_of(v.offset().whole_seconds())?;
            let local = PrimitiveDateTime::new(v.date(), v.time());
            DateTime::try_from(local)?.with_offset_minutes(Some(offset))
        }
    }

    impl TryFrom<DateTime> for OffsetDateTime {
        type Error = InvalidDateTime;
        fn try_from(v: DateTime) -> Result<Self, InvalidDateTime> {
            let minutes = v.offset_minutes().ok_or(NO_OFFSET)?;
            let offset = UtcOffset::from_whole_seconds(i32::from(minutes) * 60)
                .map_err(|_| InvalidDateTime("offset out of time's range"))?;
            Ok(PrimitiveDateTime::try_from(v)?.assume_offset(offset))
        }
    }
}

#[cfg(feature = "jiff")]
mod jiff_impls {
    use jiff::Timestamp;
    use jiff::civil;
    use jiff::tz::Offset;

    use super::{NO_OFFSET, year_of};
    use crate::{DateTime, InvalidDateTime};

    fn narrow(n: i8) -> Result<u8, InvalidDateTime> {
        u8::try_from(n).map_err(|_| InvalidDateTime("field out of range"))
    }

    impl TryFrom<civil::DateTime> for DateTime {
        type Error = InvalidDateTime;
        fn try_from(v: civil::DateTime) -> Result<Self, InvalidDateTime> {
            let year = year_of(i32::from(v.year()))?;
            let nanos = u32::try_from(v.subsec_nanosecond())
                .map_err(|_| InvalidDateTime("negative fraction of a second"))?;
            DateTime::new(
                year,
                narrow(v.month())?,
                narrow(v.day())?,
                narrow(v.hour())?,
                narrow(v.minute())?,
                narrow(v.second())?,
            )?
            .with_nanosecond(nanos)
        }
    }

    impl TryFrom<DateTime> for civil::DateTime {
        type Error = InvalidDateTime;
        fn try_from(v: DateTime) -> Result<Self, InvalidDateTime> {
            if v.second() == 60 {
                return Err(InvalidDateTime("leap second: jiff has none"));
            }
            let wide = |n: u8| i8::try_from(n).map_err(|_| InvalidDateTime("field out of range"));
            civil::DateTime::new(
                i16::try_from(v.year()).map_err(|_| InvalidDateTime("year out of jiff's range"))?,
                wide(v.month())?,
                wide(v.day())?,
                wide(v.hour())?,
                wide(v.minute())?,
                wide(v.second())?,
                i32::try_from(v.nanosecond())
                    .map_err(|_| InvalidDateTime("nanosecond out of range"))?,
            )
            .map_err(|_| InvalidDateTime("date or time out of jiff's range"))
        }
    }

    impl TryFrom<Timestamp> for DateTime {
        type Error = InvalidDateTime;
        /// The instant in UTC, written with `Z`.
        fn try_from(v: Timestamp) -> Result<Self, InvalidDateTime> {
            DateTime::try_from(Offset::UTC.to_datetime(v))?.with_offset_minutes(Some(0))
        }
    }

    impl TryFrom<DateTime> for Timestamp {
        type Error = InvalidDateTime;
        /// Needs an offset: a naive dateTime names no instant.
        fn try_from(v: DateTime) -> Result<Self, InvalidDateTime> {
            let minutes = v.offset_minutes().ok_or(NO_OFFSET)?;
            let offset = Offset::from_seconds(i32::from(minutes) * 60)
                .map_err(|_| InvalidDateTime("offset out of jiff's range"))?;
            offset
                .to_timestamp(civil::DateTime::try_from(v)?)
                .map_err(|_| InvalidDateTime("instant out of jiff's range"))
        }
    }
}

/// serde `with` modules that send `chrono` / `time` / `jiff` values as `dateTime.iso8601`, and
/// the conversions behind them.
///
/// All conversions are `TryFrom`, in both directions (`DateTime` is [`crate::DateTime`]):
///
/// | from → to | fails when |
/// |---|---|
/// | `chrono::NaiveDateTime` → `DateTime` | the year is outside 0..=9999 |
/// | `DateTime` → `chrono::NaiveDateTime` | never (the offset, if any, is dropped: the wall-clock time is kept as written) |
/// | `chrono::DateTime<FixedOffset>` → `DateTime` | the year is outside 0..=9999, or the offset is not whole minutes |
/// | `DateTime` → `chrono::DateTime<FixedOffset>` | the `DateTime` has no offset |
/// | `time::PrimitiveDateTime` → `DateTime` | the year is outside 0..=9999 |
/// | `DateTime` → `time::PrimitiveDateTime` | the second is a leap second (60), which `time` cannot hold (the offset, if any, is dropped) |
/// | `time::OffsetDateTime` → `DateTime` | the year is outside 0..=9999, or the offset is not whole minutes |
/// | `DateTime` → `time::OffsetDateTime` | the `DateTime` has no offset, or a leap second |
/// | `jiff::civil::DateTime` → `DateTime` | the year is outside 0..=9999 |
/// | `DateTime` → `jiff::civil::DateTime` | a leap second (the offset, if any, is dropped) |
/// | `jiff::Timestamp` → `DateTime` | the year is outside 0..=9999 (written in UTC, with `Z`) |
/// | `DateTime` → `jiff::Timestamp` | the `DateTime` has no offset, or a leap second |
///
/// Leap seconds: chrono writes second 60 as second 59 with a nanosecond of a billion or
/// more; the conversions translate. XML-RPC dateTimes normally carry no offset; to read
/// one as UTC, convert to `NaiveDateTime` and call `.and_utc()`.
///
/// Without these modules, a `chrono`, `time` or `jiff` field goes through that crate's own `Serialize`
/// (if enabled), which makes a string, not a dateTime. With them, [`to_value`] yields
/// [`Value::DateTime`] and [`from_value`] reads one (or an ISO 8601 string); other
/// formats see the same ISO 8601 string as for [`DateTime`](crate::DateTime). Each module has an
/// `option` submodule for `Option` fields; pair it with `default` so that an absent
/// member reads as `None`.
///
/// ```
/// # #[cfg(feature = "chrono")] {
/// use chrono::NaiveDate;
/// use xmlrpc_codec::{from_value, to_value, with, Value};
///
/// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Cdr {
///     #[serde(with = "with::chrono_naive")]
///     start: chrono::NaiveDateTime,
///     #[serde(default, with = "with::chrono_naive::option")]
///     end: Option<chrono::NaiveDateTime>,
/// }
///
/// let start = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap().and_hms_opt(9, 30, 0).unwrap();
/// let cdr = Cdr { start, end: None };
/// let v = to_value(&cdr)?;
/// let Value::Struct(members) = &v else { panic!() };
/// assert!(matches!(members.get("start"), Some(Value::DateTime(_))));
/// assert_eq!(from_value::<Cdr>(v)?, cdr);
/// # }
/// # Ok::<(), xmlrpc_codec::SerdeError>(())
/// ```
///
/// [`to_value`]: crate::to_value
/// [`from_value`]: crate::from_value
/// [`Value::DateTime`]: crate::Value::DateTime
#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
pub mod with {
    macro_rules! with_module {
        ($(#[$attr:meta])* $name:ident: $ty:ty) => {
            $(#[$attr])*
            pub mod $name {
                use serde::de::Error as _;
                use serde::ser::Error as _;
                use serde::{Deserialize as _, Deserializer, Serialize as _, Serializer};

                use crate::DateTime;

                /// Serializes as a [`DateTime`].
                pub fn serialize<S: Serializer>(value: &$ty, serializer: S) -> Result<S::Ok, S::Error> {
                    DateTime::try_from(*value)
                        .map_err(S::Error::custom)?
                        .serialize(serializer)
                }

                /// Deserializes from a [`DateTime`] (or an ISO 8601 string).
                pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                    <$ty>::try_from(DateTime::deserialize(deserializer)?).map_err(D::Error::custom)
                }

                /// The same for an `Option` field: `None` is an absent member (use with
                /// `#[serde(default)]`) or nil.
                pub mod option {
                    use serde::de::Error as _;
                    use serde::ser::Error as _;
                    use serde::{Deserialize as _, Deserializer, Serializer};

                    use crate::DateTime;

                    /// Serializes `Some` as a [`DateTime`], `None` as none.
                    pub fn serialize<S: Serializer>(
                        value: &Option<$ty>,
                        serializer: S,
                    ) -> Result<S::Ok, S::Error> {
                        match value {
                            Some(v) => serializer
                                .serialize_some(&DateTime::try_from(*v).map_err(S::Error::custom)?),
                            None => serializer.serialize_none(),
                        }
                    }

                    /// Deserializes an optional [`DateTime`] (or ISO 8601 string).
                    pub fn deserialize<'de, D: Deserializer<'de>>(
                        deserializer: D,
                    ) -> Result<Option<$ty>, D::Error> {
                        Option::<DateTime>::deserialize(deserializer)?
                            .map(<$ty>::try_from)
                            .transpose()
                            .map_err(D::Error::custom)
                    }
                }
            }
        };
    }

    with_module! {
        /// `chrono::NaiveDateTime` as a dateTime without offset; a received offset is
        /// dropped.
        #[cfg(feature = "chrono")]
        chrono_naive: chrono::NaiveDateTime
    }

    with_module! {
        /// `chrono::DateTime<FixedOffset>` as a dateTime with an offset; reading a
        /// dateTime without one is an error.
        #[cfg(feature = "chrono")]
        chrono_fixed_offset: chrono::DateTime<chrono::FixedOffset>
    }

    with_module! {
        /// `time::PrimitiveDateTime` as a dateTime without offset; a received offset is
        /// dropped.
        #[cfg(feature = "time")]
        time_primitive: time::PrimitiveDateTime
    }

    with_module! {
        /// `time::OffsetDateTime` as a dateTime with an offset; reading a dateTime
        /// without one is an error.
        #[cfg(feature = "time")]
        time_offset: time::OffsetDateTime
    }

    with_module! {
        /// `jiff::civil::DateTime` as a dateTime without offset; a received offset is
        /// dropped.
        #[cfg(feature = "jiff")]
        jiff_civil: jiff::civil::DateTime
    }

    with_module! {
        /// `jiff::Timestamp` as a dateTime in UTC (`Z`); reading a dateTime without an
        /// offset is an error (it names no instant).
        #[cfg(feature = "jiff")]
        jiff_timestamp: jiff::Timestamp
    }
}
