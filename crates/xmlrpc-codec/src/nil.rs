//! A serde `with` module that sends `None` as `<nil/>`, for peers that want one.
//!
//! By default a `None` struct field is left out (no member at all) and a trailing
//! `None` parameter is dropped, which every peer reads. A peer that wants an explicit
//! `<nil/>` (an extension: the encoder writes it only with
//! [`EncodeOptions::allow_extensions`](crate::EncodeOptions)) gets one from an `Option`
//! field marked `#[serde(default, with = "xmlrpc_codec::nil")]`; `default` lets an
//! absent member read as `None`. Reading accepts a nil, an absent member, or a value.
//!
//! ```
//! use xmlrpc_codec::{EncodeOptions, Encoder, Value, from_value, to_value};
//!
//! #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
//! struct Update {
//!     id: i32,
//!     #[serde(default, with = "xmlrpc_codec::nil")]
//!     assignee: Option<String>,
//! }
//!
//! let clear = Update { id: 7, assignee: None };
//! let v = to_value(&clear)?;
//! assert_eq!(v["assignee"], Value::Nil); // present, as nil
//! assert!(v.get("assignee").is_some());
//! let mut options = EncodeOptions::default();
//! options.allow_extensions = true;
//! let mut xml = Vec::new();
//! Encoder::new(options).value(&v, &mut xml).unwrap();
//! assert!(String::from_utf8(xml).unwrap().contains("<name>assignee</name><value><nil/></value>"));
//! assert_eq!(from_value::<Update>(v)?, clear);
//! # Ok::<(), xmlrpc_codec::SerdeError>(())
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Serializes `None` as a unit (nil), `Some(x)` as `x`.
pub fn serialize<T: Serialize, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => v.serialize(serializer),
        None => serializer.serialize_unit(),
    }
}

/// Deserializes nil as `None`, anything else as `Some`.
pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(deserializer)
}
