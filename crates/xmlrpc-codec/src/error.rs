//! Decode and encode errors: [`DecodeError`] (with line and column), [`EncodeError`].

use std::borrow::Cow;
use std::fmt;

/// Why a document could not be decoded. [`DecodeErrorKind::name`] gives a stable
/// lower-snake-case name for each kind (used by test fixtures and logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// Not well-formed XML: bad syntax, unclosed or mismatched tags, truncated input,
    /// two root elements, content after the root element, undefined entities.
    Xml,
    /// Invalid UTF-8, a byte the declared encoding cannot have, or an unsupported encoding.
    Encoding,
    /// A DOCTYPE (DTD, entity declaration) anywhere in the document: never processed.
    Doctype,
    /// Well-formed XML that is not a valid XML-RPC document: wrong or missing element,
    /// missing `<methodName>`, a fault that is not a struct or lacks `faultCode` or a
    /// string `faultString` (other oddities are read: see [`Fault`](crate::Fault)),
    /// text where elements belong.
    Structure,
    /// A type element the codec does not know (`<foo>` inside `<value>`).
    UnknownType,
    /// An `<int>`, `<i4>` or `<i8>` whose text is not a 64-bit integer.
    Int,
    /// A `<boolean>` that is not `0`, `1`, `true` or `false`.
    Bool,
    /// A `<double>` that is not a finite decimal number.
    Double,
    /// A `<dateTime.iso8601>` in no form the codec reads, or not a real date and time.
    DateTime,
    /// A `<base64>` that is not valid base64.
    Base64,
    /// The document exceeds one of the configured [`Limits`](crate::Limits).
    Limit,
}

impl DecodeErrorKind {
    /// The kind's name in lower snake case: `"xml"`, `"encoding"`, `"doctype"`,
    /// `"structure"`, `"unknown_type"`, `"int"`, `"bool"`, `"double"`, `"date_time"`,
    /// `"base64"`, `"limit"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Xml => "xml",
            Self::Encoding => "encoding",
            Self::Doctype => "doctype",
            Self::Structure => "structure",
            Self::UnknownType => "unknown_type",
            Self::Int => "int",
            Self::Bool => "bool",
            Self::Double => "double",
            Self::DateTime => "date_time",
            Self::Base64 => "base64",
            Self::Limit => "limit",
        }
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A document could not be decoded: what went wrong ([`DecodeError::kind`]) and where
/// (1-based [`DecodeError::line`] and [`DecodeError::column`]).
///
/// Displays as `line 3, column 7: <message>`.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeError(Box<Inner>);

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: DecodeErrorKind,
    line: u64,
    column: u64,
    message: Cow<'static, str>,
}

impl DecodeError {
    #[cold]
    pub(crate) fn new(
        kind: DecodeErrorKind,
        (line, column): (u64, u64),
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self(Box::new(Inner {
            kind,
            line,
            column,
            message: message.into(),
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.0.kind
    }

    /// The line of the error, from 1.
    pub fn line(&self) -> u64 {
        self.0.line
    }

    /// The column of the error, from 1 (counted in characters).
    pub fn column(&self) -> u64 {
        self.0.column
    }

    /// The message, without the position.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Whether the input is not even well-formed XML in a readable encoding
    /// ([`DecodeErrorKind::Xml`] or [`DecodeErrorKind::Encoding`]).
    ///
    /// An XML-RPC server answers those with fault `-32700` ("parse error, not well
    /// formed") and every other decode error with `-32600` ("invalid XML-RPC").
    pub fn is_not_well_formed(&self) -> bool {
        matches!(
            self.0.kind,
            DecodeErrorKind::Xml | DecodeErrorKind::Encoding
        )
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.0.line, self.0.column, self.0.message
        )
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("kind", &self.0.kind)
            .field("line", &self.0.line)
            .field("column", &self.0.column)
            .field("message", &self.0.message)
            .finish()
    }
}

impl std::error::Error for DecodeError {}

/// A value or message could not be encoded. Nothing is written when this is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The value needs an extension type (`nil`, or `i8` for an integer beyond 32
    /// bits) and [`EncodeOptions::allow_extensions`](crate::EncodeOptions) is off.
    #[error(
        "the value needs the `{what}` extension, which is not enabled (EncodeOptions::allow_extensions)"
    )]
    ExtensionRequired {
        /// The extension type: `"nil"` or `"i8"`.
        what: &'static str,
    },
    /// A double is NaN or infinite: XML-RPC has no way to write it.
    #[error("a double is NaN or infinite, which XML-RPC cannot carry")]
    NonFiniteDouble,
    /// A string, member name or method name holds a character XML 1.0 cannot carry
    /// (most C0 controls, U+FFFE, U+FFFF).
    #[error("character {ch:?} cannot be carried by XML 1.0")]
    InvalidXmlChar {
        /// The offending character.
        ch: char,
    },
    /// The document would pass the size given to
    /// [`Encoder::method_response_within`](crate::Encoder::method_response_within).
    #[error("the document would exceed {max_bytes} bytes")]
    TooLarge {
        /// The most bytes the document could take.
        max_bytes: usize,
    },
    /// The writer failed.
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
}
