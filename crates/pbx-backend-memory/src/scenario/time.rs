//! Times in scenarios (`"1m30s"`, `90`, `1.5`) and the distributions random
//! traffic draws its times from.

use std::fmt;

use rand_pcg::Pcg32;
use rand_pcg::rand_core::Rng as _;
use serde::Deserialize;

/// A time in a scenario file, in milliseconds: seconds as a number (`90`,
/// `1.5`) or a text of units (`"1h"`, `"2m30s"`, `"250ms"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Millis(pub(crate) u64);

/// The longest time a scenario may mention: a year.
const MAX_MS: u64 = 366 * 24 * 3600 * 1000;

impl Millis {
    fn from_seconds(s: f64) -> Result<Millis, String> {
        if !s.is_finite() || s < 0.0 {
            return Err(format!("a time must be positive or zero, not {s}"));
        }
        let ms = (s * 1000.0).round();
        if ms > MAX_MS as f64 {
            return Err(format!("{s} seconds is more than a year"));
        }
        Ok(Millis(ms as u64))
    }

    fn parse(text: &str) -> Result<Millis, String> {
        let bad = || {
            format!(
                "invalid time {text:?} (expected seconds, e.g. 90 or 1.5, or a text like \"1m30s\", \"2h\" or \"250ms\")"
            )
        };
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(bad());
        }
        if let Ok(seconds) = rest.parse::<f64>() {
            return Self::from_seconds(seconds);
        }
        let mut total = 0.0_f64;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let factor = match &rest[..unit_len] {
                "h" => 3600.0,
                "m" | "min" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                _ => return Err(bad()),
            };
            rest = &rest[unit_len..];
            total += value * factor;
        }
        Self::from_seconds(total)
    }
}

impl fmt::Display for Millis {
    /// `1h2m3.5s`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        let (h, m, s, frac) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 || frac > 0 || ms == 0 {
            write!(f, "{s}")?;
            if frac > 0 {
                write!(f, ".{frac:03}")?;
            }
            f.write_str("s")?;
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a time: seconds (90, 1.5) or a text like \"1m30s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Millis, E> {
                Millis::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Millis, E> {
                Millis::from_seconds(v as f64).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Millis, E> {
                Millis::from_seconds(v as f64).map_err(E::custom)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Millis, E> {
                Millis::from_seconds(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Where random traffic draws a time from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Distribution {
    /// Always this long.
    Fixed(u64),
    /// Evenly between the two bounds (inclusive), in milliseconds.
    Uniform(u64, u64),
    /// Exponentially with this mean, in milliseconds, cut off at `max`.
    Exponential { mean: f64, max: Option<u64> },
}

impl Distribution {
    /// A time in milliseconds.
    pub(crate) fn sample(&self, rng: &mut Pcg32) -> u64 {
        match *self {
            Distribution::Fixed(ms) => ms,
            Distribution::Uniform(min, max) => min + rng.next_u64() % (max - min + 1),
            Distribution::Exponential { mean, max } => {
                // Inverse transform; 1 - u lies in (0, 1], so ln is finite.
                let drawn = -mean * (1.0 - unit(rng)).ln();
                let ms = drawn.round().min(MAX_MS as f64) as u64;
                max.map_or(ms, |max| ms.min(max))
            }
        }
    }
}

/// A number in [0, 1), the same on every platform for the same generator.
pub(crate) fn unit(rng: &mut Pcg32) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_seconds_or_units() {
        let ms = |t: &str| Millis::parse(t).map(|m| m.0);
        assert_eq!(ms("90"), Ok(90_000));
        assert_eq!(ms("1.5"), Ok(1500));
        assert_eq!(ms("1m30s"), Ok(90_000));
        assert_eq!(ms("2h"), Ok(7_200_000));
        assert_eq!(ms("250ms"), Ok(250));
        assert_eq!(ms("1h0m0.5s"), Ok(3_600_500));
        for bad in ["", "1x", "m", "-3", "1m-2s", "1..2s"] {
            assert!(ms(bad).is_err(), "{bad}");
        }
        assert_eq!(Millis(3_723_500).to_string(), "1h2m3.500s");
        assert_eq!(Millis(0).to_string(), "0s");
        assert_eq!(Millis(60_000).to_string(), "1m");
    }
}
