//! [`SerdeError`]: why a Rust value and a [`Value`](crate::Value) did not convert, and where.

use std::fmt;

/// An error converting between a Rust type and a [`Value`](crate::Value) (or a list of params).
///
/// It says what was expected, what was found and where, with the place as a path
/// from the root of the value (or from the parameter list):
///
/// ```text
/// expected i32, found string "ten" at `.calls[2].duration`
/// parameter 2 (`duration`): int -5 is out of range for u32
/// parameter 3 (`reason`): missing (only 2 parameters given)
/// parameter 1: expected a string, found int 7 at `.peers[0]`
/// ```
///
/// Parameters are counted from 1 in the message, as people count them; [`SerdeError::param`]
/// and [`PathSegment::Param`] hold the 0-based index.
#[derive(Debug, Clone, PartialEq)]
pub struct SerdeError(Box<Inner>);

#[derive(Debug, Clone, PartialEq)]
struct Inner {
    message: String,
    /// Outermost segment first.
    path: Vec<PathSegment>,
    /// Set by `de::Error::missing_field`, so that the params deserializer can turn a
    /// missing struct field into a missing parameter.
    missing_field: Option<&'static str>,
}

/// One step of the path to the place an error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathSegment {
    /// A positional parameter: its 0-based index, and the Rust field name when the
    /// params map to a struct with named fields.
    Param {
        /// 0-based position in the parameter list.
        index: usize,
        /// The field of the params struct at that position, if any.
        name: Option<String>,
    },
    /// An array element, 0-based.
    Index(usize),
    /// A struct member or map entry; also the variant of an enum, which is carried
    /// as a one-member struct.
    Member(String),
}

impl SerdeError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            message: message.into(),
            path: Vec::new(),
            missing_field: None,
        }))
    }

    /// What went wrong, without the place.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Where it went wrong, outermost step first; empty at the root.
    pub fn path(&self) -> &[PathSegment] {
        &self.0.path
    }

    /// The 0-based index of the parameter at fault, when the error came from
    /// [`from_params`](crate::from_params) or [`to_params`](crate::to_params).
    pub fn param(&self) -> Option<usize> {
        match self.0.path.first() {
            Some(PathSegment::Param { index, .. }) => Some(*index),
            _ => None,
        }
    }

    pub(crate) fn at(mut self, segment: PathSegment) -> Self {
        self.0.path.insert(0, segment);
        self
    }

    pub(crate) fn at_index(self, index: usize) -> Self {
        self.at(PathSegment::Index(index))
    }

    pub(crate) fn at_member(self, name: &str) -> Self {
        self.at(PathSegment::Member(name.to_owned()))
    }

    pub(crate) fn at_param(self, index: usize, name: Option<&str>) -> Self {
        self.at(PathSegment::Param {
            index,
            name: name.map(str::to_owned),
        })
    }

    /// The field named by `de::Error::missing_field`, if this error is that and has no path yet.
    pub(crate) fn missing_field(&self) -> Option<&'static str> {
        self.0.missing_field.filter(|_| self.0.path.is_empty())
    }

    pub(crate) fn set_message(mut self, message: String) -> Self {
        self.0.message = message;
        self.0.missing_field = None;
        self
    }
}

impl fmt::Display for SerdeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.path();
        if let Some(PathSegment::Param { index, name }) = rest.first() {
            write!(f, "parameter {}", index + 1)?;
            if let Some(name) = name {
                write!(f, " (`{name}`)")?;
            }
            f.write_str(": ")?;
            rest = &rest[1..];
        }
        f.write_str(self.message())?;
        if !rest.is_empty() {
            f.write_str(" at `")?;
            for segment in rest {
                match segment {
                    PathSegment::Index(i) => write!(f, "[{i}]")?,
                    PathSegment::Member(m) if is_plain_name(m) => write!(f, ".{m}")?,
                    PathSegment::Member(m) => write!(f, "[{m:?}]")?,
                    // Only ever first; shown as an index if it is not.
                    PathSegment::Param { index, .. } => write!(f, "[{index}]")?,
                }
            }
            f.write_str("`")?;
        }
        Ok(())
    }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl std::error::Error for SerdeError {}

impl serde::ser::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(msg.to_string())
    }
}

impl serde::de::Error for SerdeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(msg.to_string())
    }

    fn invalid_type(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Self::new(format!("expected {exp}, found {}", Found(unexp)))
    }

    fn invalid_value(unexp: serde::de::Unexpected<'_>, exp: &dyn serde::de::Expected) -> Self {
        Self::new(format!(
            "invalid value: expected {exp}, found {}",
            Found(unexp)
        ))
    }

    fn invalid_length(len: usize, exp: &dyn serde::de::Expected) -> Self {
        Self::new(format!(
            "wrong number of elements: expected {exp}, found {len}"
        ))
    }

    fn missing_field(field: &'static str) -> Self {
        let mut e = Self::new(format!("missing member `{field}`"));
        e.0.missing_field = Some(field);
        e
    }
}

/// Longest string content quoted in a message; the rest is elided.
const QUOTE_LIMIT: usize = 40;

/// Names an unexpected Rust-side value in XML-RPC terms ("int 5", "struct", "nil").
pub(crate) struct Found<'a>(pub(crate) serde::de::Unexpected<'a>);

impl fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use serde::de::Unexpected as U;
        match self.0 {
            U::Bool(b) => write!(f, "boolean {b}"),
            U::Unsigned(n) => write!(f, "int {n}"),
            U::Signed(n) => write!(f, "int {n}"),
            U::Float(x) => write!(f, "double {x:?}"),
            U::Char(c) => write!(f, "string {:?}", c.to_string()),
            U::Str(s) => write_quoted(f, "string ", s),
            U::Bytes(b) => write!(f, "base64 ({} bytes)", b.len()),
            U::Unit | U::Option => f.write_str("nil"),
            U::Seq => f.write_str("array"),
            U::Map => f.write_str("struct"),
            U::NewtypeStruct => f.write_str("newtype struct"),
            U::Enum => f.write_str("enum"),
            U::UnitVariant => f.write_str("unit variant"),
            U::NewtypeVariant => f.write_str("newtype variant"),
            U::TupleVariant => f.write_str("tuple variant"),
            U::StructVariant => f.write_str("struct variant"),
            U::Other(other) => f.write_str(other),
        }
    }
}

pub(crate) fn write_quoted(f: &mut fmt::Formatter<'_>, prefix: &str, s: &str) -> fmt::Result {
    match s.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => write!(f, "{prefix}{:?}…", &s[..cut]),
        None => write!(f, "{prefix}{s:?}"),
    }
}
