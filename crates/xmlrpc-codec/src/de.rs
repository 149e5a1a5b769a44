//! [`Value`] → Rust: [`from_value`], [`from_params`], `Deserializer` for [`Value`] and
//! `&Value`, and `Deserialize` for [`Value`].
//!
//! The deserializers follow the value, not the type's hint, as self-describing formats
//! do, with these exceptions: an int is range-checked against the integer type asked
//! for; an int is accepted where a float is asked for (a double is *not* accepted where
//! an integer is); a dateTime is its ISO 8601 text where a string is asked for; base64
//! is a sequence of `u8` where a sequence is asked for (so a plain `Vec<u8>` reads it).

use std::borrow::Borrow;
use std::fmt;

use serde::de::value::{
    BorrowedStrDeserializer, SeqDeserializer, StrDeserializer, StringDeserializer,
};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, Error as _, Expected,
    IntoDeserializer, MapAccess, SeqAccess, Unexpected, VariantAccess, Visitor,
};
use serde::{Deserialize, forward_to_deserialize_any};

use crate::datetime_serde::{DATETIME_TOKEN, Iso};
use crate::serde_error::Found;
use crate::{SerdeError, Struct, Value};

/// The newtype-struct name through which `Value`'s `Deserialize` asks the crate's own
/// deserializers to hand over dateTimes as such rather than as strings.
pub(crate) const VALUE_TOKEN: &str = "$xmlrpc_codec::private::Value";

/// Converts a [`Value`] into any `DeserializeOwned` type.
///
/// The inverse of [`to_value`](crate::to_value), whose docs have the mapping table.
/// The deserializer follows the value rather than the type's hint (as for any
/// self-describing format) with these conversions: an int is range-checked against the
/// integer type asked for; an int is accepted where a float is asked for, a double is
/// *not* accepted where an integer is; a dateTime reads as its ISO 8601 text where a
/// string is asked for; base64 reads as a sequence of `u8`; a `Nil` reads as `None`.
///
/// To borrow strings and bytes from the value instead of moving them, deserialize from
/// a reference: `T::deserialize(&value)` (`&Value` and `Value` are both `Deserializer`s).
///
/// A type that takes anything (`deserialize_any`: serde's `flatten` and `untagged`
/// buffers, `serde_json::Value`) is handed a dateTime as a one-member map with a
/// private key, so that it reaches a [`DateTime`](crate::DateTime) or [`Value`] field
/// behind the buffer as a dateTime (and is written back as one). A `String` field
/// asks for a string and gets the ISO 8601 text, except behind such a buffer, where
/// it must be a `DateTime` field instead.
///
/// Errors say what was expected, what was found and where:
///
/// ```
/// use xmlrpc_codec::{from_value, Value};
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Call {
///     #[allow(dead_code)]
///     duration: u32,
/// }
///
/// let v = Value::Array(vec![Value::Struct(
///     [("duration", Value::String("long".into()))].into_iter().collect(),
/// )]);
/// let err = from_value::<Vec<Call>>(v).unwrap_err();
/// assert_eq!(err.to_string(), r#"expected u32, found string "long" at `[0].duration`"#);
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, SerdeError> {
    T::deserialize(value)
}

/// Converts positional parameters (a `methodCall`'s `params`) into a Rust value: the
/// inverse of [`to_params`](crate::to_params).
///
/// | target type | params |
/// |---|---|
/// | `()`, a unit struct | none (a single nil is also accepted) |
/// | tuple, tuple struct | one per element; trailing `Option` elements may be absent |
/// | struct with named fields | one per field, in declaration order; trailing `Option` (and `#[serde(default)]`) fields may be absent |
/// | `Vec<T>` and other sequences | one per element |
/// | newtype struct | whatever its content takes (transparent) |
/// | `Option<T>` | none (→ `None`) or one |
/// | anything else | exactly one |
///
/// More parameters than the type has places for is an error, as is a missing required
/// one. Errors name the parameter (counted from 1) and, for a struct, its field:
///
/// ```
/// use xmlrpc_codec::{from_params, Value};
///
/// #[derive(Debug, PartialEq, serde::Deserialize)]
/// struct Transfer {
///     call_id: String,
///     target: String,
///     timeout_s: Option<u32>,
/// }
///
/// let ok: Transfer = from_params(vec![Value::String("c1".into()), Value::String("202".into())])?;
/// assert_eq!(ok.timeout_s, None);
///
/// let err = from_params::<Transfer>(vec![Value::String("c1".into()), Value::Int(202)]).unwrap_err();
/// assert_eq!(err.to_string(), "parameter 2 (`target`): expected a string, found int 202");
/// assert_eq!(err.param(), Some(1));
///
/// let (a, b): (i32, Option<bool>) = from_params(vec![Value::Int(5)])?;
/// assert_eq!((a, b), (5, None));
/// # Ok::<(), xmlrpc_codec::SerdeError>(())
/// ```
///
/// A struct is read *positionally* (the mirror of
/// [`to_params(&Positional(&t))`](crate::Positional)); to read a method's single
/// struct parameter into a struct, ask for a one-element tuple, as `to_params` sends
/// it: `from_params::<(Transfer,)>(params)`.
pub fn from_params<T: DeserializeOwned>(params: Vec<Value>) -> Result<T, SerdeError> {
    T::deserialize(ParamsDeserializer { params })
}

/// Exactly [`Value`] from the crate's own deserializers (`from_value::<Value>(v)? == v`);
/// from other formats: integers (within `i64`), booleans, floats (finite), strings,
/// bytes (→ base64), sequences (→ array), maps (→ struct, keys as strings) and
/// unit/none (→ nil).
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(VALUE_TOKEN, ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an XML-RPC value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("int {v} is out of range for i64")))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("int {v} is out of range for i64")))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("int {v} is out of range for i64")))
    }
    fn visit_f32<E: de::Error>(self, v: f32) -> Result<Value, E> {
        // Shortest decimal, as `to_value` does.
        self.visit_f64(v.to_string().parse::<f64>().unwrap_or(f64::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        if v.is_finite() {
            Ok(Value::Double(v))
        } else {
            Err(E::custom(format!(
                "double {v:?} is not allowed: XML-RPC doubles are finite"
            )))
        }
    }
    fn visit_char<E: de::Error>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Base64(v.to_vec()))
    }
    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Base64(v))
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        // Another format's answer to `deserialize_newtype_struct(VALUE_TOKEN)`.
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key_seed(MemberName)? else {
            return Ok(Value::Struct(Struct::new()));
        };
        if first == DATETIME_TOKEN {
            let text: String = map.next_value()?;
            return crate::datetime_serde::parse_iso(&text)
                .map(Value::DateTime)
                .map_err(|e| A::Error::custom(format!("invalid dateTime {text:?}: {e}")));
        }
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096) + 1);
        members.push((first, map.next_value()?));
        while let Some(name) = map.next_key_seed(MemberName)? {
            members.push((name, map.next_value()?));
        }
        Ok(Value::Struct(Struct::from_members(members)))
    }
}

/// A map key read as a member name: strings, and integers, booleans and chars as text.
struct MemberName;

impl<'de> DeserializeSeed<'de> for MemberName {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for MemberName {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a struct member name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_char<E: de::Error>(self, v: char) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A short description of a value for messages: `int 5`, `string "x"`, `struct`.
fn found(value: &Value) -> String {
    match value {
        Value::Int(n) => Found(Unexpected::Signed(*n)).to_string(),
        Value::Bool(b) => Found(Unexpected::Bool(*b)).to_string(),
        Value::String(s) => Found(Unexpected::Str(s)).to_string(),
        Value::Double(x) => Found(Unexpected::Float(*x)).to_string(),
        Value::DateTime(dt) => format!("dateTime {}", Iso(dt)),
        Value::Base64(b) => Found(Unexpected::Bytes(b)).to_string(),
        Value::Struct(s) => format!("struct with {} members", s.len()),
        Value::Array(a) => format!("array of {} elements", a.len()),
        Value::Nil => "nil".to_owned(),
    }
}

fn mismatch(value: &Value, expected: &dyn Expected) -> SerdeError {
    SerdeError::new(format!("expected {expected}, found {}", found(value)))
}

fn int_out_of_range(n: i64, ty: &str) -> SerdeError {
    SerdeError::new(format!("int {n} is out of range for {ty}"))
}

/// For hints no dateTime can satisfy: a clear error rather than "found string".
fn reject_datetime(value: &Value, expected: &dyn Expected) -> Result<(), SerdeError> {
    match value {
        Value::DateTime(_) => Err(mismatch(value, expected)),
        _ => Ok(()),
    }
}

/// Hints whose handling does not depend on owning the value: numbers, booleans,
/// chars, enums' shape checks. Expanded in both deserializers.
macro_rules! scalar_hints {
    () => {
        scalar_hints! {
            int deserialize_i8 visit_i8 i8;
            int deserialize_i16 visit_i16 i16;
            int deserialize_i32 visit_i32 i32;
            int deserialize_i64 visit_i64 i64;
            int deserialize_i128 visit_i128 i128;
            int deserialize_u8 visit_u8 u8;
            int deserialize_u16 visit_u16 u16;
            int deserialize_u32 visit_u32 u32;
            int deserialize_u64 visit_u64 u64;
            int deserialize_u128 visit_u128 u128;
        }

        fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            match Borrow::<Value>::borrow(&self) {
                // Ints become floats; the nearest f32 may not be exact.
                &Value::Int(n) => visitor.visit_f32(n as f32),
                &Value::Double(x) => {
                    let narrow = x as f32;
                    if narrow.is_infinite() {
                        return Err(SerdeError::new(format!("double {x:?} is out of range for f32")));
                    }
                    visitor.visit_f32(narrow)
                }
                other => {
                    reject_datetime(other, &visitor)?;
                    self.deserialize_any(visitor)
                }
            }
        }

        fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            match Borrow::<Value>::borrow(&self) {
                // Ints become floats; beyond 2^53 the nearest f64 may not be exact.
                &Value::Int(n) => visitor.visit_f64(n as f64),
                &Value::Double(x) => visitor.visit_f64(x),
                other => {
                    reject_datetime(other, &visitor)?;
                    self.deserialize_any(visitor)
                }
            }
        }

        fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            reject_datetime(Borrow::<Value>::borrow(&self), &visitor)?;
            self.deserialize_any(visitor)
        }

        fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            reject_datetime(Borrow::<Value>::borrow(&self), &visitor)?;
            self.deserialize_any(visitor)
        }

        fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            self.deserialize_str(visitor)
        }

        fn deserialize_byte_buf<V: Visitor<'de>>(
            self,
            visitor: V,
        ) -> Result<V::Value, SerdeError> {
            self.deserialize_bytes(visitor)
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            match Borrow::<Value>::borrow(&self) {
                Value::Nil => visitor.visit_none(),
                _ => visitor.visit_some(self),
            }
        }

        fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            match Borrow::<Value>::borrow(&self) {
                Value::Nil => visitor.visit_unit(),
                Value::Array(a) if a.is_empty() => visitor.visit_unit(),
                other => Err(mismatch(other, &visitor)),
            }
        }

        fn deserialize_unit_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, SerdeError> {
            self.deserialize_unit(visitor)
        }

        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            len: usize,
            visitor: V,
        ) -> Result<V::Value, SerdeError> {
            self.deserialize_tuple(len, visitor)
        }

        fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            reject_datetime(Borrow::<Value>::borrow(&self), &visitor)?;
            self.deserialize_any(visitor)
        }

        fn deserialize_ignored_any<V: Visitor<'de>>(
            self,
            visitor: V,
        ) -> Result<V::Value, SerdeError> {
            visitor.visit_unit()
        }
    };
    ($(int $method:ident $visit:ident $ty:ty;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            match Borrow::<Value>::borrow(&self) {
                &Value::Int(n) => {
                    let n = <$ty>::try_from(n).map_err(|_| int_out_of_range(n, stringify!($ty)))?;
                    visitor.$visit(n)
                }
                other => {
                    reject_datetime(other, &visitor)?;
                    self.deserialize_any(visitor)
                }
            }
        }
    )*};
}

/// The error for an enum that is neither a string nor a one-member struct.
fn not_an_enum(value: &Value, name: &str) -> SerdeError {
    SerdeError::new(format!(
        "expected enum {name} (a string, or a struct with one member), found {}",
        found(value)
    ))
}

/// A `tuple` hint on an array: the visitor must take every element.
pub(crate) fn check_consumed(total: usize, taken: usize) -> Result<(), SerdeError> {
    if taken == total {
        Ok(())
    } else {
        let plural = if taken == 1 { "" } else { "s" };
        Err(SerdeError::new(format!(
            "expected an array of {taken} element{plural}, found {total}"
        )))
    }
}

// ---- Borrowing: `&'de Value` ----

/// Deserializes borrowing from the value: `&str` and `&[u8]` fields point into it.
impl<'de> Deserializer<'de> for &'de Value {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visit_ref(self, visitor)
    }

    scalar_hints!();

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self {
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::DateTime(dt) => visitor.visit_string(Iso(dt).to_string()),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self {
            Value::Base64(b) => visitor.visit_borrowed_bytes(b),
            Value::DateTime(_) => Err(mismatch(self, &visitor)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        if name == VALUE_TOKEN {
            visit_ref(self, visitor)
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self {
            Value::Base64(b) => visit_bytes_as_seq(b.iter().copied(), visitor),
            Value::DateTime(_) => Err(mismatch(self, &visitor)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        reject_datetime(Borrow::<Value>::borrow(&self), &visitor)?;
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self {
            Value::String(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
            Value::Struct(st) if st.len() == 1 => match st.iter().next() {
                Some((variant, content)) => visitor.visit_enum(VariantRef { variant, content }),
                None => Err(not_an_enum(self, name)),
            },
            _ => Err(not_an_enum(self, name)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_str(visitor)
    }
}

/// A dateTime is handed over as a one-entry map with a private key (see
/// [`DateTimeMarker`]), which survives serde's buffering (`flatten`, `untagged`).
fn visit_ref<'de, V: Visitor<'de>>(value: &'de Value, visitor: V) -> Result<V::Value, SerdeError> {
    match value {
        Value::Int(n) => visitor.visit_i64(*n),
        Value::Bool(b) => visitor.visit_bool(*b),
        Value::String(s) => visitor.visit_borrowed_str(s),
        Value::Double(x) => visitor.visit_f64(*x),
        Value::DateTime(dt) => visitor.visit_map(DateTimeMarker(Some(Iso(dt).to_string()))),
        Value::Base64(b) => visitor.visit_borrowed_bytes(b),
        Value::Struct(st) => visitor.visit_map(StructRef {
            members: st.iter(),
            value: None,
        }),
        Value::Array(items) => {
            let mut seq = ArrayRef {
                items: items.iter(),
                index: 0,
            };
            let out = visitor.visit_seq(&mut seq)?;
            check_consumed(items.len(), seq.index)?;
            Ok(out)
        }
        Value::Nil => visitor.visit_unit(),
    }
}

fn visit_bytes_as_seq<'de, V: Visitor<'de>>(
    bytes: impl ExactSizeIterator<Item = u8>,
    visitor: V,
) -> Result<V::Value, SerdeError> {
    let mut seq = SeqDeserializer::<_, SerdeError>::new(bytes);
    let out = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(out)
}

struct ArrayRef<'de> {
    items: std::slice::Iter<'de, Value>,
    index: usize,
}

impl<'de> SeqAccess<'de> for ArrayRef<'de> {
    type Error = SerdeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(item)
            .map(Some)
            .map_err(|e| e.at_index(index))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct StructRef<'de, I> {
    members: I,
    value: Option<(&'de str, &'de Value)>,
}

impl<'de, I: Iterator<Item = (&'de str, &'de Value)>> MapAccess<'de> for StructRef<'de, I> {
    type Error = SerdeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        let Some((name, value)) = self.members.next() else {
            return Ok(None);
        };
        self.value = Some((name, value));
        seed.deserialize(KeyDeserializer::Borrowed(name)).map(Some)
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        let (name, value) = self
            .value
            .take()
            .ok_or_else(|| SerdeError::new("struct member value asked for before its name"))?;
        seed.deserialize(value).map_err(|e| e.at_member(name))
    }
}

struct VariantRef<'de> {
    variant: &'de str,
    content: &'de Value,
}

impl<'de> EnumAccess<'de> for VariantRef<'de> {
    type Error = SerdeError;
    type Variant = Self;
    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self), SerdeError> {
        let v = seed.deserialize(KeyDeserializer::Borrowed(self.variant))?;
        Ok((v, self))
    }
}

impl<'de> VariantAccess<'de> for VariantRef<'de> {
    type Error = SerdeError;
    fn unit_variant(self) -> Result<(), SerdeError> {
        unit_content(self.variant, self.content)
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        seed.deserialize(self.content)
            .map_err(|e| e.at_member(self.variant))
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.content
            .deserialize_tuple(len, visitor)
            .map_err(|e| e.at_member(self.variant))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.content
            .deserialize_struct("", fields, visitor)
            .map_err(|e| e.at_member(self.variant))
    }
}

/// A unit variant written as `{variant: nil}` (or an empty array or struct).
fn unit_content(variant: &str, content: &Value) -> Result<(), SerdeError> {
    match content {
        Value::Nil => Ok(()),
        Value::Array(a) if a.is_empty() => Ok(()),
        Value::Struct(s) if s.is_empty() => Ok(()),
        other => Err(SerdeError::new(format!(
            "expected unit variant `{variant}` (no content), found {}",
            found(other)
        ))
        .at_member(variant)),
    }
}

/// Hands a dateTime to `Value`'s visitor as a one-entry map with a private key.
struct DateTimeMarker(Option<String>);

impl<'de> MapAccess<'de> for DateTimeMarker {
    type Error = SerdeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        if self.0.is_none() {
            return Ok(None);
        }
        seed.deserialize(BorrowedStrDeserializer::new(DATETIME_TOKEN))
            .map(Some)
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        let text = self
            .0
            .take()
            .ok_or_else(|| SerdeError::new("dateTime value asked for twice"))?;
        seed.deserialize(StringDeserializer::new(text))
    }
}

/// A struct member name as a map key or enum variant: a string, also parsed as an
/// integer, boolean or char when the key type asks for one.
pub(crate) enum KeyDeserializer<'a, 'de> {
    /// Lives as long as the input: handed out with `visit_borrowed_str`.
    Borrowed(&'de str),
    /// Lives only for the call: handed out with `visit_str`.
    Transient(&'a str),
}

impl KeyDeserializer<'_, '_> {
    fn text(&self) -> &str {
        match self {
            Self::Borrowed(s) => s,
            Self::Transient(s) => s,
        }
    }
}

macro_rules! parsed_key {
    ($($method:ident $visit:ident $ty:ty;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            match self.text().parse::<$ty>() {
                Ok(v) => visitor.$visit(v),
                Err(_) => self.deserialize_any(visitor),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for KeyDeserializer<'_, 'de> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self {
            Self::Borrowed(s) => visitor.visit_borrowed_str(s),
            Self::Transient(s) => visitor.visit_str(s),
        }
    }

    parsed_key! {
        deserialize_bool visit_bool bool;
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_i128 visit_i128 i128;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
        deserialize_u128 visit_u128 u128;
        deserialize_char visit_char char;
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self {
            Self::Borrowed(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
            Self::Transient(s) => visitor.visit_enum(StrDeserializer::new(s)),
        }
    }

    forward_to_deserialize_any! {
        f32 f64 str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

// ---- Owning: `Value` ----

/// Deserializes by value: strings and byte buffers are moved out, not copied.
impl<'de> Deserializer<'de> for Value {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visit_owned(self, visitor)
    }

    scalar_hints!();

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self {
            Value::String(s) => visitor.visit_string(s),
            Value::DateTime(dt) => visitor.visit_string(Iso(&dt).to_string()),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self {
            Value::Base64(b) => visitor.visit_byte_buf(b),
            other @ Value::DateTime(_) => Err(mismatch(&other, &visitor)),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        if name == VALUE_TOKEN {
            visit_owned(self, visitor)
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self {
            Value::Base64(b) => visit_bytes_as_seq(b.into_iter(), visitor),
            other @ Value::DateTime(_) => Err(mismatch(&other, &visitor)),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        reject_datetime(Borrow::<Value>::borrow(&self), &visitor)?;
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self {
            Value::String(s) => visitor.visit_enum(StringDeserializer::new(s)),
            Value::Struct(st) if st.len() == 1 => {
                let mut members = st.into_iter();
                match members.next() {
                    Some((variant, content)) => {
                        visitor.visit_enum(VariantOwned { variant, content })
                    }
                    None => Err(not_an_enum(&Value::Struct(Struct::new()), name)),
                }
            }
            other => Err(not_an_enum(&other, name)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        self.deserialize_str(visitor)
    }
}

fn visit_owned<'de, V: Visitor<'de>>(value: Value, visitor: V) -> Result<V::Value, SerdeError> {
    match value {
        Value::Int(n) => visitor.visit_i64(n),
        Value::Bool(b) => visitor.visit_bool(b),
        Value::String(s) => visitor.visit_string(s),
        Value::Double(x) => visitor.visit_f64(x),
        Value::DateTime(dt) => visitor.visit_map(DateTimeMarker(Some(Iso(&dt).to_string()))),
        Value::Base64(b) => visitor.visit_byte_buf(b),
        Value::Struct(st) => visitor.visit_map(StructOwned {
            members: st.into_iter(),
            value: None,
        }),
        Value::Array(items) => {
            let total = items.len();
            let mut seq = ArrayOwned {
                items: items.into_iter(),
                index: 0,
            };
            let out = visitor.visit_seq(&mut seq)?;
            check_consumed(total, seq.index)?;
            Ok(out)
        }
        Value::Nil => visitor.visit_unit(),
    }
}

struct ArrayOwned {
    items: std::vec::IntoIter<Value>,
    index: usize,
}

impl<'de> SeqAccess<'de> for ArrayOwned {
    type Error = SerdeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(item)
            .map(Some)
            .map_err(|e| e.at_index(index))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct StructOwned {
    members: std::vec::IntoIter<(String, Value)>,
    value: Option<(String, Value)>,
}

impl<'de> MapAccess<'de> for StructOwned {
    type Error = SerdeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        let Some((name, value)) = self.members.next() else {
            return Ok(None);
        };
        let key = seed.deserialize(KeyDeserializer::Transient(&name))?;
        self.value = Some((name, value));
        Ok(Some(key))
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        let (name, value) = self
            .value
            .take()
            .ok_or_else(|| SerdeError::new("struct member value asked for before its name"))?;
        seed.deserialize(value).map_err(|e| e.at_member(&name))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

struct VariantOwned {
    variant: String,
    content: Value,
}

impl<'de> EnumAccess<'de> for VariantOwned {
    type Error = SerdeError;
    type Variant = Self;
    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self), SerdeError> {
        let v = seed.deserialize(KeyDeserializer::Transient(&self.variant))?;
        Ok((v, self))
    }
}

impl<'de> VariantAccess<'de> for VariantOwned {
    type Error = SerdeError;
    fn unit_variant(self) -> Result<(), SerdeError> {
        unit_content(&self.variant, &self.content)
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        let variant = self.variant;
        seed.deserialize(self.content)
            .map_err(|e| e.at_member(&variant))
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        let variant = self.variant;
        self.content
            .deserialize_tuple(len, visitor)
            .map_err(|e| e.at_member(&variant))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        let variant = self.variant;
        self.content
            .deserialize_struct("", fields, visitor)
            .map_err(|e| e.at_member(&variant))
    }
}

impl<'de> IntoDeserializer<'de, SerdeError> for Value {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> IntoDeserializer<'de, SerdeError> for &'de Value {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

// ---- Parameter lists ----

/// Deserializes a parameter list; see [`from_params`].
struct ParamsDeserializer {
    params: Vec<Value>,
}

fn count(n: usize) -> String {
    match n {
        0 => "none".to_owned(),
        1 => "1 parameter".to_owned(),
        n => format!("{n} parameters"),
    }
}

impl ParamsDeserializer {
    /// Hands the single parameter to `f`; none or several is an error.
    fn single<T>(self, f: impl FnOnce(Value) -> Result<T, SerdeError>) -> Result<T, SerdeError> {
        let n = self.params.len();
        let mut params = self.params.into_iter();
        match (params.next(), n) {
            (Some(param), 1) => f(param).map_err(|e| e.at_param(0, None)),
            (None, _) => Err(SerdeError::new("missing (no parameters given)").at_param(0, None)),
            _ => Err(SerdeError::new(format!("expected 1 parameter, found {n}"))),
        }
    }
}

macro_rules! single_param_hints {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
            self.single(|p| p.$method(visitor))
        }
    )*};
}

impl<'de> Deserializer<'de> for ParamsDeserializer {
    type Error = SerdeError;

    /// One parameter is itself; otherwise the list is an array.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        if self.params.len() == 1 {
            self.single(|p| p.deserialize_any(visitor))
        } else {
            self.deserialize_seq(visitor)
        }
    }

    single_param_hints! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_map
        deserialize_identifier
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        if self.params.is_empty() {
            visitor.visit_none()
        } else {
            self.single(|p| p.deserialize_option(visitor))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.params.as_slice() {
            [] | [Value::Nil] => visitor.visit_unit(),
            more => Err(SerdeError::new(format!(
                "expected no parameters, found {}",
                count(more.len())
            ))),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        if name == VALUE_TOKEN {
            self.single(|p| p.deserialize_newtype_struct(name, visitor))
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        let total = self.params.len();
        let mut seq = ParamSeq {
            params: self.params.into_iter(),
            index: 0,
            pad_to: 0,
            given: total,
        };
        let out = visitor.visit_seq(&mut seq)?;
        if seq.index < total {
            return Err(SerdeError::new(format!(
                "expected {}, found {total}",
                count(seq.index)
            )));
        }
        Ok(out)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        let total = self.params.len();
        if total > len {
            return Err(SerdeError::new(format!(
                "expected at most {}, found {total}",
                count(len)
            )));
        }
        let mut seq = ParamSeq {
            params: self.params.into_iter(),
            index: 0,
            pad_to: len,
            given: total,
        };
        visitor.visit_seq(&mut seq)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        let total = self.params.len();
        if total > fields.len() {
            return Err(SerdeError::new(format!(
                "expected at most {}, found {total}",
                count(fields.len())
            )));
        }
        let map = ParamFields {
            params: self.params.into_iter(),
            fields,
            index: 0,
            value: None,
        };
        visitor.visit_map(map).map_err(|e| match e.missing_field() {
            Some(field) => match fields.iter().position(|f| *f == field) {
                Some(index) => e
                    .set_message(format!("missing (only {} given)", count(total)))
                    .at_param(index, Some(field)),
                None => e,
            },
            None => e,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        self.single(|p| p.deserialize_enum(name, variants, visitor))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_unit()
    }
}

/// Positional params as a sequence; with `pad_to`, absent trailing params read as
/// [`MissingParam`] (so `Option`s become `None`).
struct ParamSeq {
    params: std::vec::IntoIter<Value>,
    index: usize,
    pad_to: usize,
    given: usize,
}

impl<'de> SeqAccess<'de> for ParamSeq {
    type Error = SerdeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        let index = self.index;
        let out = match self.params.next() {
            Some(param) => seed.deserialize(param),
            None if index < self.pad_to => seed.deserialize(MissingParam(self.given)),
            None => return Ok(None),
        };
        self.index += 1;
        out.map(Some).map_err(|e| e.at_param(index, None))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(
            self.params
                .len()
                .max(self.pad_to.saturating_sub(self.index)),
        )
    }
}

/// Positional params as the fields of a struct, named in declaration order.
struct ParamFields {
    params: std::vec::IntoIter<Value>,
    fields: &'static [&'static str],
    index: usize,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for ParamFields {
    type Error = SerdeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        let Some(param) = self.params.next() else {
            return Ok(None);
        };
        let Some(field) = self.fields.get(self.index) else {
            return Ok(None);
        };
        self.value = Some(param);
        seed.deserialize(BorrowedStrDeserializer::new(field))
            .map(Some)
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, SerdeError> {
        let index = self.index;
        self.index += 1;
        let field = self.fields.get(index).copied();
        let param = self
            .value
            .take()
            .ok_or_else(|| SerdeError::new("parameter asked for before its field name"))?;
        seed.deserialize(param)
            .map_err(|e| e.at_param(index, field))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.params.len())
    }
}

/// An absent trailing parameter: `None` for an `Option`, an error for anything else.
struct MissingParam(usize);

impl<'de> Deserializer<'de> for MissingParam {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, SerdeError> {
        Err(SerdeError::new(format!(
            "missing (only {} given)",
            count(self.0)
        )))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_none()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
