//! Bytes as `<base64>`: the [`Bytes`] type, and this module as a serde `with` module
//! for `Vec<u8>` fields.
//!
//! serde sends a plain `Vec<u8>` as a sequence (an `<array>` of `<int>`s), because it
//! cannot tell bytes from a list of numbers. Either wrap the bytes in [`Bytes`], or
//! keep the `Vec<u8>` and mark the field `#[serde(with = "xmlrpc_codec::bytes")]`
//! (`xmlrpc_codec::bytes::option` for `Option<Vec<u8>>`, with `default`). Both read
//! `<base64>` (and, liberally, an array of small ints); other formats see what they
//! make of bytes (JSON: an array of numbers).
//!
//! ```
//! use xmlrpc_codec::{Bytes, Value, from_value, to_value};
//!
//! #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! struct Upload {
//!     #[serde(with = "xmlrpc_codec::bytes")]
//!     data: Vec<u8>,
//!     #[serde(default, with = "xmlrpc_codec::bytes::option")]
//!     thumbnail: Option<Vec<u8>>,
//!     raw: Bytes,
//! }
//!
//! let up = Upload { data: b"PK\x03\x04".to_vec(), thumbnail: None, raw: Bytes(vec![0, 255]) };
//! let v = to_value(&up)?;
//! assert_eq!(v["data"], Value::Base64(b"PK\x03\x04".to_vec()));
//! assert_eq!(v["raw"], Value::Base64(vec![0, 255]));
//! assert_eq!(from_value::<Upload>(v)?, up);
//! # Ok::<(), xmlrpc_codec::SerdeError>(())
//! ```

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Value;

/// Bytes that serialize as bytes (so `<base64>`), not as a sequence of numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor).map(Bytes)
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(bytes: Bytes) -> Self {
        bytes.0
    }
}

impl From<Bytes> for Value {
    /// A `Base64`.
    fn from(bytes: Bytes) -> Self {
        Value::Base64(bytes.0)
    }
}

impl std::ops::Deref for Bytes {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes (base64)")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}

/// Serializes bytes as bytes (`<base64>`): `#[serde(with = "xmlrpc_codec::bytes")]`.
pub fn serialize<T: AsRef<[u8]> + ?Sized, S: Serializer>(
    bytes: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes.as_ref())
}

/// Deserializes bytes from `<base64>` (or an array of small ints).
pub fn deserialize<'de, T: From<Vec<u8>>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_byte_buf(BytesVisitor).map(T::from)
}

/// The same for `Option<Vec<u8>>` fields: `None` is an absent member (use with
/// `#[serde(default)]`) or nil.
pub mod option {
    use serde::{Deserialize as _, Deserializer, Serializer};

    use super::Bytes;

    /// Serializes `Some` as bytes, `None` as none.
    pub fn serialize<T: AsRef<[u8]>, S: Serializer>(
        bytes: &Option<T>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => serializer.serialize_some(&Bytes(b.as_ref().to_vec())),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes optional bytes.
    pub fn deserialize<'de, T: From<Vec<u8>>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        Ok(Option::<Bytes>::deserialize(deserializer)?.map(|b| T::from(b.0)))
    }
}
