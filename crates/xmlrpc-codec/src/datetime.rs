//! [`DateTime`]: the value of a `<dateTime.iso8601>`.

/// A calendar date and time of day, as `<dateTime.iso8601>` carries it.
///
/// XML-RPC's dateTime has no time zone (its meaning is the server's); documents in
/// the wild sometimes add `Z` or `±hh:mm`, which is kept in [`DateTime::offset_minutes`]
/// so that nothing read is lost. Fields are private because a `DateTime` is always a
/// valid date: build one with [`DateTime::new`].
///
/// # Equality, order, hash
///
/// - **Equality is exact**: two values are equal when they have the same fields,
///   offset included, that is when they are written as the same text. So
///   `11:00+02:00` and `09:00Z` are *not* equal, although they are the same instant:
///   a codec must not call two documents the same when it writes them differently.
///   [`Hash`] agrees with it.
/// - **Order is by instant first**: values are ordered by the instant they name,
///   taking a naive value (no offset) *as if it were UTC*; values at the same
///   instant (`11:00+02:00`, `09:00Z`, naive `09:00`, a leap second and the next
///   second) are then ordered by offset (naive first, then west to east) and fields.
///   `a == b` exactly when `a.cmp(&b)` is `Equal`, so sorting, `BTreeMap` and
///   `HashMap` all agree.
/// - To compare instants alone, without the tie-break, use
///   [`DateTime::cmp_instant`], which refuses to compare a naive value with a zoned
///   one (there is no right answer), or [`DateTime::same_instant`].
///
/// ```
/// use std::cmp::Ordering;
/// use xmlrpc_codec::DateTime;
///
/// let paris: DateTime = "20240131T11:00:00+02:00".parse()?;
/// let utc: DateTime = "20240131T09:00:00Z".parse()?;
/// let ten: DateTime = "20240131T10:00:00Z".parse()?;
/// let naive: DateTime = "20240131T09:00:00".parse()?;
/// assert_ne!(paris, utc); // different text
/// assert_eq!(paris.same_instant(&utc), Some(true));
/// assert!(paris < ten); // 09:00Z is before 10:00Z
/// assert_eq!(paris.cmp_instant(&ten), Some(Ordering::Less));
/// assert_eq!(naive.cmp_instant(&utc), None); // naive against zoned: unknown
/// # Ok::<(), xmlrpc_codec::InvalidDateTime>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nanosecond: u32,
    offset_minutes: Option<i16>,
}

/// A date or time field out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date or time: {0}")]
pub struct InvalidDateTime(pub(crate) &'static str);

impl DateTime {
    /// A date and time with no fraction and no offset. Years are 0..=9999.
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<Self, InvalidDateTime> {
        if year > 9999 {
            return Err(InvalidDateTime("year above 9999"));
        }
        if !(1..=12).contains(&month) {
            return Err(InvalidDateTime("month not in 1..=12"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(InvalidDateTime("day not in the month"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(InvalidDateTime("time of day out of range"));
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanosecond: 0,
            offset_minutes: None,
        })
    }

    /// The same instant label with a fractional second (`nanosecond < 1_000_000_000`).
    pub fn with_nanosecond(self, nanosecond: u32) -> Result<Self, InvalidDateTime> {
        if nanosecond >= 1_000_000_000 {
            return Err(InvalidDateTime("nanosecond not below one second"));
        }
        Ok(Self { nanosecond, ..self })
    }

    /// The same date and time with a UTC offset in minutes (`-1439..=1439`), or none.
    pub fn with_offset_minutes(self, offset: Option<i16>) -> Result<Self, InvalidDateTime> {
        if offset.is_some_and(|o| !(-1439..=1439).contains(&o)) {
            return Err(InvalidDateTime("offset beyond ±23:59"));
        }
        Ok(Self {
            offset_minutes: offset,
            ..self
        })
    }

    /// Year, 0..=9999.
    pub fn year(&self) -> u16 {
        self.year
    }
    /// Month, 1..=12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// Day of the month, from 1.
    pub fn day(&self) -> u8 {
        self.day
    }
    /// Hour, 0..=23.
    pub fn hour(&self) -> u8 {
        self.hour
    }
    /// Minute, 0..=59.
    pub fn minute(&self) -> u8 {
        self.minute
    }
    /// Second, 0..=60 (60 for a leap second).
    pub fn second(&self) -> u8 {
        self.second
    }
    /// Fraction of the second in nanoseconds.
    pub fn nanosecond(&self) -> u32 {
        self.nanosecond
    }
    /// The UTC offset in minutes the document gave (`Z` is `Some(0)`), if any.
    pub fn offset_minutes(&self) -> Option<i16> {
        self.offset_minutes
    }
}

impl DateTime {
    /// Seconds from 0000-03-01T00:00 at the same offset (a day count that needs no
    /// calendar library), and the nanoseconds: the instant, less the offset.
    fn local_seconds(&self) -> i64 {
        // Days from civil (Howard Hinnant's algorithm), years counted from March.
        let (y, m) = if self.month <= 2 {
            (i64::from(self.year) - 1, i64::from(self.month) + 9)
        } else {
            (i64::from(self.year), i64::from(self.month) - 3)
        };
        let days = 365 * y + y.div_euclid(4) - y.div_euclid(100)
            + y.div_euclid(400)
            + (153 * m + 2) / 5
            + i64::from(self.day)
            - 1;
        days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// The instant as (seconds, nanoseconds) on one scale, a naive value read as UTC.
    fn instant_key(&self) -> (i64, u32) {
        let offset = i64::from(self.offset_minutes.unwrap_or(0)) * 60;
        (self.local_seconds() - offset, self.nanosecond)
    }

    /// Compares the instants of two values, without the tie-break of [`Ord`]:
    /// `Equal` for `11:00+02:00` and `09:00Z`. Two naive values compare by their
    /// wall-clock reading; a naive value and a zoned one do not compare (`None`),
    /// since the naive one's zone is unknown.
    pub fn cmp_instant(&self, other: &DateTime) -> Option<std::cmp::Ordering> {
        if self.offset_minutes.is_some() != other.offset_minutes.is_some() {
            return None;
        }
        Some(self.instant_key().cmp(&other.instant_key()))
    }

    /// Whether two values name the same instant (`None` for a naive value against
    /// a zoned one): [`DateTime::cmp_instant`] is `Equal`.
    pub fn same_instant(&self, other: &DateTime) -> Option<bool> {
        self.cmp_instant(other).map(std::cmp::Ordering::is_eq)
    }

    fn fields(&self) -> (u16, u8, u8, u8, u8, u8) {
        (
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
        )
    }
}

/// By instant (a naive value as if UTC), then offset (naive first), then fields:
/// consistent with the exact-field equality. See [`DateTime`].
impl Ord for DateTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.instant_key()
            .cmp(&other.instant_key())
            .then_with(|| self.offset_minutes.cmp(&other.offset_minutes))
            .then_with(|| self.fields().cmp(&other.fields()))
    }
}

impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::str::FromStr for DateTime {
    type Err = InvalidDateTime;

    /// Reads every form seen in the wild: `20240131T12:34:56` (the spec's),
    /// `20240131T123456`, `2024-01-31T12:34:56`, with an optional fraction of a second
    /// (`.5`, up to nanoseconds; further digits are ignored) and an optional
    /// `Z`, `±hh:mm`, `±hhmm` or `±hh` offset. No surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s.as_bytes())
    }
}

impl std::fmt::Display for DateTime {
    /// Writes the spec's form `YYYYMMDDTHH:MM:SS`, followed by `.fraction` (trailing
    /// zeros trimmed) only when there is a fraction, and by `Z` or `±hh:mm` only when
    /// there is an offset: a value read from a document is written back unchanged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::with_capacity(32);
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl DateTime {
    /// Appends the [`Display`](std::fmt::Display) form to `out`, without the formatting machinery.
    pub(crate) fn write_to(&self, out: &mut String) {
        push_digits(out, u32::from(self.year), 4);
        push_digits(out, u32::from(self.month), 2);
        push_digits(out, u32::from(self.day), 2);
        out.push('T');
        push_digits(out, u32::from(self.hour), 2);
        out.push(':');
        push_digits(out, u32::from(self.minute), 2);
        out.push(':');
        push_digits(out, u32::from(self.second), 2);
        if self.nanosecond != 0 {
            out.push('.');
            let mut nanos = self.nanosecond;
            let mut width = 9;
            while nanos.is_multiple_of(10) {
                nanos /= 10;
                width -= 1;
            }
            push_digits(out, nanos, width);
        }
        match self.offset_minutes {
            None => {}
            Some(0) => out.push('Z'),
            Some(offset) => {
                out.push(if offset < 0 { '-' } else { '+' });
                let abs = u32::from(offset.unsigned_abs());
                push_digits(out, abs / 60, 2);
                out.push(':');
                push_digits(out, abs % 60, 2);
            }
        }
    }
}

/// Appends `n` as exactly `width` decimal digits (zero-padded; `n` must fit).
fn push_digits(out: &mut String, n: u32, width: u32) {
    let mut div = 10u32.pow(width.saturating_sub(1));
    while div > 0 {
        out.push(char::from(b'0' + ((n / div) % 10) as u8));
        div /= 10;
    }
}

/// The number in `b[at..at + n]`, if those are all ASCII digits.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let run = b.get(at..at.checked_add(n)?)?;
    run.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn field<T: TryFrom<u32>>(b: &[u8], at: usize, n: usize) -> Result<T, InvalidDateTime> {
    digits(b, at, n)
        .and_then(|v| T::try_from(v).ok())
        .ok_or(InvalidDateTime("not in a dateTime.iso8601 form"))
}

fn parse(b: &[u8]) -> Result<DateTime, InvalidDateTime> {
    const FORM: InvalidDateTime = InvalidDateTime("not in a dateTime.iso8601 form");
    let at = |i: usize| b.get(i).copied();
    // Date: YYYYMMDD or YYYY-MM-DD.
    let (year, month, day, mut i) = if at(4) == Some(b'-') {
        if at(7) != Some(b'-') {
            return Err(FORM);
        }
        (field(b, 0, 4)?, field(b, 5, 2)?, field(b, 8, 2)?, 10)
    } else {
        (field(b, 0, 4)?, field(b, 4, 2)?, field(b, 6, 2)?, 8)
    };
    if at(i) != Some(b'T') {
        return Err(FORM);
    }
    i += 1;
    // Time: HH:MM:SS or HHMMSS.
    let (hour, minute, second) = if at(i + 2) == Some(b':') {
        if at(i + 5) != Some(b':') {
            return Err(FORM);
        }
        let t = (field(b, i, 2)?, field(b, i + 3, 2)?, field(b, i + 6, 2)?);
        i += 8;
        t
    } else {
        let t = (field(b, i, 2)?, field(b, i + 2, 2)?, field(b, i + 4, 2)?);
        i += 6;
        t
    };
    let mut dt = DateTime::new(year, month, day, hour, minute, second)?;
    // Optional fraction: at least one digit; nanosecond precision, more digits ignored.
    if at(i) == Some(b'.') {
        i += 1;
        let start = i;
        let mut nanos = 0u32;
        while let Some(c @ b'0'..=b'9') = at(i) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(c - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return Err(FORM);
        }
        for _ in n..9 {
            nanos *= 10;
        }
        dt = dt.with_nanosecond(nanos)?;
    }
    // Optional offset: Z, ±hh:mm, ±hhmm, ±hh.
    match at(i) {
        None => return Ok(dt),
        Some(b'Z') => {
            i += 1;
            dt = dt.with_offset_minutes(Some(0))?;
        }
        Some(sign @ (b'+' | b'-')) => {
            let hours: i16 = field(b, i + 1, 2)?;
            i += 3;
            let minutes: i16 = match at(i) {
                Some(b':') => {
                    i += 3;
                    field(b, i - 2, 2)?
                }
                Some(_) => {
                    i += 2;
                    field(b, i - 2, 2)?
                }
                None => 0,
            };
            if minutes > 59 {
                return Err(InvalidDateTime("offset minutes above 59"));
            }
            let total = hours * 60 + minutes;
            dt = dt.with_offset_minutes(Some(if sign == b'-' { -total } else { total }))?;
        }
        Some(_) => return Err(FORM),
    }
    if i == b.len() { Ok(dt) } else { Err(FORM) }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> Result<DateTime, InvalidDateTime> {
        s.parse()
    }

    #[test]
    fn reads_every_form_in_the_wild() {
        let plain = DateTime::new(2024, 1, 31, 12, 34, 56).unwrap();
        assert_eq!(dt("20240131T12:34:56"), Ok(plain));
        assert_eq!(dt("20240131T123456"), Ok(plain));
        assert_eq!(dt("2024-01-31T12:34:56"), Ok(plain));
        assert_eq!(dt("2024-01-31T123456"), Ok(plain));
        let z = plain.with_offset_minutes(Some(0)).unwrap();
        assert_eq!(dt("20240131T12:34:56Z"), Ok(z));
        assert_eq!(
            dt("2014-11-10T23:38:51+0000").unwrap().offset_minutes(),
            Some(0)
        );
        assert_eq!(
            dt("20240131T12:34:56+05:30").unwrap().offset_minutes(),
            Some(330)
        );
        assert_eq!(
            dt("20240131T12:34:56-0130").unwrap().offset_minutes(),
            Some(-90)
        );
        assert_eq!(
            dt("20240131T12:34:56-02").unwrap().offset_minutes(),
            Some(-120)
        );
        assert_eq!(dt("20240131T12:34:56.5").unwrap().nanosecond(), 500_000_000);
        assert_eq!(
            dt("20240131T12:34:56.123456789123Z").unwrap().nanosecond(),
            123_456_789
        );
        assert_eq!(dt("20240229T00:00:60").unwrap().second(), 60);
    }

    #[test]
    fn rejects_malformed_and_impossible() {
        for bad in [
            "",
            "20240131",
            "20240131 12:34:56",
            "20240131T12:34",
            "20240131T12:34:5",
            "2024-0131T12:34:56",
            "20240131T12:3456",
            "20240131T12:34:56.",
            "20240131T12:34:56+1",
            "20240131T12:34:56+05:60",
            "20240131T12:34:56 ",
            " 20240131T12:34:56",
            "20230229T00:00:00",
            "20241301T00:00:00",
            "20240131T24:00:00",
            "2024013aT00:00:00",
            "+2024013T00:00:00",
            "20240131T12:34:56Zjunk",
            "20240131T12:34:56+99:00",
        ] {
            assert!(dt(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn a_zoned_time_is_ordered_by_its_instant_not_its_text() {
        let paris = dt("20240131T11:00:00+02:00").unwrap();
        let utc = dt("20240131T09:00:00Z").unwrap();
        let ten = dt("20240131T10:00:00Z").unwrap();
        assert!(paris < ten, "11:00+02:00 is 09:00Z, before 10:00Z");
        assert_ne!(paris, utc, "equality is exact: different text");
        assert_eq!(paris.same_instant(&utc), Some(true));
        assert_eq!(paris.cmp_instant(&ten), Some(std::cmp::Ordering::Less));
        // Same instant, different text: ordered, never Equal.
        assert_ne!(paris.cmp(&utc), std::cmp::Ordering::Equal);
        // Across a day and a year boundary.
        let late = dt("20231231T23:30:00-01:00").unwrap();
        let early = dt("20240101T00:10:00Z").unwrap();
        assert!(early < late);
        let naive = dt("20240131T09:00:00").unwrap();
        assert_eq!(naive.cmp_instant(&utc), None);
        assert!(naive < utc, "naive as UTC, ties: naive first");
        let leap = dt("20161231T23:59:60Z").unwrap();
        let next = dt("20170101T00:00:00Z").unwrap();
        assert!(leap < next, "same instant: ordered by fields");
        assert_ne!(leap, next);
    }

    #[test]
    fn writes_spec_form_and_round_trips_extras() {
        let plain = DateTime::new(7, 3, 9, 1, 2, 3).unwrap();
        assert_eq!(plain.to_string(), "00070309T01:02:03");
        for s in [
            "20240131T12:34:56.5",
            "20240131T12:34:56.000000001Z",
            "20240131T12:34:56-01:30",
            "99991231T23:59:59+23:59",
        ] {
            assert_eq!(dt(s).unwrap().to_string(), s);
        }
    }
}
