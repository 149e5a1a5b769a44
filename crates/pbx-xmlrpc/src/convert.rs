//! Liberal readers of XML-RPC values, and [`ResultError`]: what they say when a value
//! has the wrong shape.
//!
//! Reading is liberal the way real clients and servers need (SPEC.md: "do what an
//! integrator would expect"):
//! - a string may arrive as `<int>` (Perl and PHP clients type numeric-looking strings
//!   as ints): it reads as its decimal text;
//! - an int may arrive as a string of decimal digits (surrounding spaces ignored);
//! - a 0/1 flag may be `<boolean>`, `<int>` 0/1, or the strings `0`, `1`, `true`, `false`;
//! - names of closed sets (`extension`, `single`, …) are read case-insensitively.
//!
//! Writing is strict: see `records`.

use std::borrow::Cow;
use std::fmt;

use xmlrpc_codec::{Struct, Value};

/// A value does not have the shape expected: where (`path`) and what is wrong.
///
/// The path locates the problem inside the value, e.g. `[2].from.id` for the `id`
/// member of the `from` member of the third array element; it is empty for the
/// value itself. Displays as `[2].from.id: expected int, got string`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultError {
    path: String,
    problem: String,
}

impl ResultError {
    /// A value was not what was `expected`; `found` describes it.
    pub(crate) fn mismatch(expected: impl fmt::Display, found: &Value) -> Self {
        Self {
            path: String::new(),
            problem: format!("expected {expected}, got {}", describe(found)),
        }
    }

    /// A struct lacks member `name`.
    pub(crate) fn missing(name: &str) -> Self {
        Self {
            path: String::new(),
            problem: format!("missing member `{name}`"),
        }
    }

    /// Any other problem, described in full.
    pub(crate) fn other(problem: impl Into<String>) -> Self {
        Self {
            path: String::new(),
            problem: problem.into(),
        }
    }

    /// The same error, found inside member `name` of a struct.
    pub(crate) fn in_member(mut self, name: &str) -> Self {
        self.path.insert_str(0, &format!(".{name}"));
        self
    }

    /// The same error, found inside element `index` of an array.
    pub(crate) fn in_element(mut self, index: usize) -> Self {
        self.path.insert_str(0, &format!("[{index}]"));
        self
    }

    /// Where the problem is, e.g. `[2].from.id`; empty for the value itself.
    pub fn path(&self) -> &str {
        self.path.strip_prefix('.').unwrap_or(&self.path)
    }

    /// What is wrong, e.g. `expected int, got string`.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for ResultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path() {
            "" => f.write_str(&self.problem),
            path => write!(f, "{path}: {}", self.problem),
        }
    }
}

impl std::error::Error for ResultError {}

/// The XML-RPC type name of a value, as `system.methodSignature` spells types.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Int(_) => "int",
        Value::Bool(_) => "boolean",
        Value::String(_) => "string",
        Value::Double(_) => "double",
        Value::DateTime(_) => "dateTime.iso8601",
        Value::Base64(_) => "base64",
        Value::Struct(_) => "struct",
        Value::Array(_) => "array",
        Value::Nil => "nil",
        _ => "value",
    }
}

/// A short description of a value for an error message: its type, and for
/// scalars their text (shortened), so that `got int -1` says what was wrong.
fn describe(value: &Value) -> String {
    const MAX: usize = 40;
    match value {
        Value::Int(i) => format!("int {i}"),
        Value::Bool(b) => format!("boolean {}", u8::from(*b)),
        Value::String(s) if s.chars().count() > MAX => {
            let head: String = s.chars().take(MAX).collect();
            format!("string {head:?}…")
        }
        Value::String(s) => format!("string {s:?}"),
        other => type_name(other).to_string(),
    }
}

/// A string, or an int as its decimal text.
pub(crate) fn string(value: &Value) -> Result<Cow<'_, str>, ResultError> {
    match value {
        Value::String(s) => Ok(Cow::Borrowed(s)),
        Value::Int(i) => Ok(Cow::Owned(i.to_string())),
        other => Err(ResultError::mismatch("string", other)),
    }
}

/// An int, or a string of decimal digits.
pub(crate) fn int(value: &Value) -> Result<i64, ResultError> {
    match value {
        Value::Int(i) => Ok(*i),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| ResultError::mismatch("int", value)),
        other => Err(ResultError::mismatch("int", other)),
    }
}

/// A non-negative int that an XML-RPC `<int>` can carry back (at most `i32::MAX`):
/// a larger number read here would be accepted once and then fail every answer
/// that writes it out again (a favorite's slot, say).
pub(crate) fn u32(value: &Value) -> Result<u32, ResultError> {
    let i = int(value)?;
    i32::try_from(i)
        .ok()
        .and_then(|i| ::core::primitive::u32::try_from(i).ok())
        .ok_or_else(|| ResultError::mismatch("int from 0 to 2147483647", value))
}

/// A 0/1 flag: boolean, int 0/1, or the strings `0`, `1`, `true`, `false`.
pub(crate) fn flag(value: &Value) -> Result<bool, ResultError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Int(0) => Ok(false),
        Value::Int(1) => Ok(true),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "0" | "false" => Ok(false),
            "1" | "true" => Ok(true),
            _ => Err(ResultError::mismatch("0 or 1", value)),
        },
        other => Err(ResultError::mismatch("0 or 1", other)),
    }
}

/// A name of one of the model's closed sets, parsed case-insensitively; the error
/// lists the names the model accepts.
pub(crate) fn name<T: std::str::FromStr<Err = pbx_model::UnknownName>>(
    value: &Value,
) -> Result<T, ResultError> {
    let text = string(value)?;
    text.trim()
        .to_ascii_lowercase()
        .parse()
        .map_err(|e: pbx_model::UnknownName| {
            ResultError::mismatch(format_args!("one of {}", e.expected.join(", ")), value)
        })
}

/// A struct.
pub(crate) fn structure(value: &Value) -> Result<&Struct, ResultError> {
    match value {
        Value::Struct(s) => Ok(s),
        other => Err(ResultError::mismatch("struct", other)),
    }
}

/// An array.
pub(crate) fn array(value: &Value) -> Result<&[Value], ResultError> {
    match value {
        Value::Array(a) => Ok(a),
        other => Err(ResultError::mismatch("array", other)),
    }
}

/// Every element of an array through `read`, errors located by index.
pub(crate) fn list<T>(
    value: &Value,
    read: impl Fn(&Value) -> Result<T, ResultError>,
) -> Result<Vec<T>, ResultError> {
    array(value)?
        .iter()
        .enumerate()
        .map(|(i, v)| read(v).map_err(|e| e.in_element(i)))
        .collect()
}

/// The members of a struct, read by name with errors located by member.
pub(crate) struct Members<'a>(pub(crate) &'a Struct);

impl<'a> Members<'a> {
    /// The struct inside `value`.
    pub(crate) fn of(value: &'a Value) -> Result<Self, ResultError> {
        structure(value).map(Members)
    }

    /// Member `name` through `read`; a missing member is an error.
    pub(crate) fn get<T>(
        &self,
        name: &str,
        read: impl FnOnce(&'a Value) -> Result<T, ResultError>,
    ) -> Result<T, ResultError> {
        let value = self.0.get(name).ok_or_else(|| ResultError::missing(name))?;
        read(value).map_err(|e| e.in_member(name))
    }

    /// Member `name` through `read`, or `default` when it is missing.
    pub(crate) fn get_or<T>(
        &self,
        name: &str,
        default: T,
        read: impl FnOnce(&'a Value) -> Result<T, ResultError>,
    ) -> Result<T, ResultError> {
        match self.0.get(name) {
            None => Ok(default),
            Some(value) => read(value).map_err(|e| e.in_member(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_outside_in() {
        let e = ResultError::mismatch("int", &Value::String("x".into()))
            .in_member("id")
            .in_member("from")
            .in_element(2);
        assert_eq!(e.path(), "[2].from.id");
        assert_eq!(e.to_string(), "[2].from.id: expected int, got string \"x\"");
        let e = ResultError::missing("slot").in_member("favorite");
        assert_eq!(e.to_string(), "favorite: missing member `slot`");
    }

    #[test]
    fn liberal_scalars() {
        assert_eq!(string(&Value::Int(42)).unwrap(), "42");
        assert_eq!(int(&Value::String(" 7 ".into())).unwrap(), 7);
        assert!(u32(&Value::Int(-1)).is_err());
        assert_eq!(u32(&Value::Int(2_147_483_647)).unwrap(), 2_147_483_647);
        assert!(u32(&Value::Int(2_147_483_648)).is_err());
        assert!(flag(&Value::Int(1)).unwrap());
        assert!(!flag(&Value::String("false".into())).unwrap());
        assert!(flag(&Value::Int(2)).is_err());
        assert!(string(&Value::Double(1.5)).is_err());
    }
}
