//! Rust → [`Value`]: [`to_value`] and [`to_params`], and `Serialize` for [`Value`].
//!
//! The internal serializer returns `Option<Value>`, where `None` means "a Rust `None`
//! was serialized": a struct member or map entry holding it is left out, an array
//! element or a parameter before others becomes [`Value::Nil`], and a trailing
//! parameter is dropped.

use serde::ser::{self, Impossible, Serialize, Serializer};

use crate::datetime_serde::{DATETIME_TOKEN, parse_iso};
use crate::{SerdeError, Struct, Value};

/// Converts any `Serialize` value into a [`Value`].
///
/// The mapping, both ways ([`from_value`](crate::from_value) is the inverse):
///
/// | Rust | `Value` | reading back |
/// |---|---|---|
/// | `bool` | `Bool` | |
/// | `i8`…`i64`, `u8`…`u64`, `i128`, `u128`, `isize`, `usize` | `Int` | a value outside `i64` is an error when writing; outside the target type, when reading |
/// | `f32`, `f64` | `Double` | NaN and infinities are errors; an `Int` also reads as a float, a `Double` never as an integer |
/// | `char`, `&str`, `String` | `String` | a `DateTime` also reads as its ISO 8601 text |
/// | bytes ([`Bytes`](crate::Bytes), [`bytes`](crate::bytes), `serde_bytes`) | `Base64` | a plain `Vec<u8>` is written as an array of ints, but reads `Base64` too |
/// | [`DateTime`](crate::DateTime) | `DateTime` | also read from an ISO 8601 string |
/// | `Option<T>` | `None` → `Nil`; `Some(x)` → `x` | `Nil` → `None`; as a struct field or map entry, `None` is **left out** (or `Nil` with [`nil`](crate::nil)) and an absent member reads as `None` |
/// | `()`, unit struct | `Nil` | `Nil` or an empty array |
/// | unit variant `E::A` | `String("A")` (serde `rename`s apply) | |
/// | newtype, tuple and struct variants | a one-member `Struct` `{ "A": content }` (externally tagged) | |
/// | `Vec`, slice, array, tuple, tuple struct, set | `Array` | a tuple must take every element |
/// | struct | `Struct`, members in field order | also read positionally from an `Array` |
/// | map | `Struct`; keys must be strings, integers, `bool`s, `char`s or unit variants, written as text | integer, `bool` and `char` keys are parsed back |
/// | newtype struct | its content (transparent) | |
/// | [`Value`] | itself, exactly | |
///
/// Errors: a `u64`/`i128`/`u128` outside `i64`, a NaN or infinite float, an unusable
/// map key, and whatever the type's own `Serialize` reports; each says where, as in
/// ``u64 18446744073709551615 is out of range for an XML-RPC int (a signed 64-bit integer) at `.calls[2].id` ``.
///
/// ```
/// use xmlrpc_codec::{to_value, Struct, Value};
///
/// #[derive(serde::Serialize)]
/// struct Call {
///     id: u32,
///     caller: String,
///     note: Option<String>,
/// }
///
/// let v = to_value(&Call { id: 7, caller: "201".into(), note: None })?;
/// let want: Struct = [("id", Value::Int(7)), ("caller", Value::String("201".into()))]
///     .into_iter()
///     .collect();
/// assert_eq!(v, Value::Struct(want)); // `note` is None: no member at all
/// # Ok::<(), xmlrpc_codec::SerdeError>(())
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, SerdeError> {
    Ok(value.serialize(ValueSerializer)?.unwrap_or(Value::Nil))
}

/// Converts a parameter list into the positional parameters of a `methodCall` (or
/// the single-element list a `methodResponse` carries).
///
/// **The argument is the list, never a parameter**: a tuple (one parameter per
/// element), an array, slice or `Vec` (one per element), or `()` for none. Anything
/// else is an error that says how to write what was meant, because a struct or a map
/// passed directly is ambiguous: one struct parameter, or its fields one by one?
///
/// | Rust value | params |
/// |---|---|
/// | `()`, a unit struct, `None` | none |
/// | tuple, tuple struct (`(a, b)`, `struct P(A, B)`) | one per element, in order |
/// | `Vec`, slice, array, other sequence | one per element |
/// | `(&value,)` | `value` as the one parameter, whatever it is (struct, map, scalar, …) |
/// | [`Positional`]`(&value)` | a struct's fields, in declaration order (names are not sent) |
/// | newtype struct, `Some(list)` | whatever its content gives (transparent) |
/// | a struct, map, scalar, enum or dateTime given directly | **error**: wrap it, `(&value,)` |
///
/// In a tuple or a [`Positional`] struct, `None` elements at the end are dropped
/// (the callee sees fewer parameters, the usual way to leave out optional ones) and
/// `None` elements before a present one become [`Value::Nil`] (which, being an
/// extension, the encoder only writes when allowed to). Fields skipped with
/// `skip_serializing_if` count as `None`, so they keep later fields in place. In a
/// sequence, which is data, every `None` is a nil.
///
/// ```
/// use xmlrpc_codec::{Positional, Struct, Value, from_params, to_params};
///
/// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct BugGet {
///     ids: Vec<i32>,
/// }
/// let query = BugGet { ids: vec![7] };
///
/// // Bugzilla's `Bug.get` takes one struct parameter: wrap it in a one-element tuple.
/// let params = to_params(&(&query,))?;
/// let ids = Value::Array(vec![Value::Int(7)]);
/// assert_eq!(params, [Value::Struct(Struct::from_iter([("ids", ids.clone())]))]);
///
/// // Passing it directly is refused rather than guessed.
/// let err = to_params(&query).unwrap_err();
/// assert!(err.to_string().contains("found struct BugGet"), "{err}");
/// assert!(err.to_string().contains("`to_params(&(&value,))`"), "{err}");
///
/// // A method whose parameters are the fields, in order: say so with `Positional`.
/// #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
/// struct Originate {
///     extension: String,
///     destination: String,
///     timeout_s: Option<u32>,
/// }
/// let call = Originate { extension: "201".into(), destination: "0612345678".into(), timeout_s: None };
/// let params = to_params(&Positional(&call))?;
/// assert_eq!(params, [Value::String("201".into()), Value::String("0612345678".into())]);
/// assert_eq!(from_params::<Originate>(params)?, call);
///
/// assert_eq!(to_params(&(1, true))?, [Value::Int(1), Value::Bool(true)]);
/// assert_eq!(to_params(&["a", "b"])?, [Value::String("a".into()), Value::String("b".into())]);
/// assert_eq!(to_params(&())?, []);
/// assert!(to_params(&"one").is_err()); // `&("one",)`
/// # Ok::<(), xmlrpc_codec::SerdeError>(())
/// ```
pub fn to_params<T: Serialize + ?Sized>(value: &T) -> Result<Vec<Value>, SerdeError> {
    value.serialize(ParamsSerializer { spread: false })
}

/// Exactly [`Value`] through [`to_value`] (so `from_value(to_value(&v)?)? == v`); through
/// other serializers, [`Value::DateTime`] is an ISO 8601 string, [`Value::Base64`]
/// bytes and [`Value::Nil`] a unit (JSON `null`).
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use ser::{SerializeMap as _, SerializeSeq as _};
        match self {
            Value::Int(n) => serializer.serialize_i64(*n),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::String(s) => serializer.serialize_str(s),
            Value::Double(d) => serializer.serialize_f64(*d),
            Value::DateTime(dt) => dt.serialize(serializer),
            Value::Base64(b) => serializer.serialize_bytes(b),
            Value::Struct(st) => {
                let mut map = serializer.serialize_map(Some(st.len()))?;
                for (name, value) in st.iter() {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            // A unit, not a `None`: a member holding an explicit nil is kept.
            Value::Nil => serializer.serialize_unit(),
        }
    }
}

/// Serializes one value; `Ok(None)` stands for a Rust `None`.
struct ValueSerializer;

fn out_of_range(kind: &str, n: impl std::fmt::Display) -> SerdeError {
    SerdeError::new(format!(
        "{kind} {n} is out of range for an XML-RPC int (a signed 64-bit integer)"
    ))
}

fn finite(x: f64) -> Result<Option<Value>, SerdeError> {
    if x.is_finite() {
        Ok(Some(Value::Double(x)))
    } else {
        Err(SerdeError::new(format!(
            "double {x:?} cannot be sent: XML-RPC doubles are finite"
        )))
    }
}

impl Serializer for ValueSerializer {
    type Ok = Option<Value>;
    type Error = SerdeError;
    type SerializeSeq = ArrayBuilder;
    type SerializeTuple = ArrayBuilder;
    type SerializeTupleStruct = ArrayBuilder;
    type SerializeTupleVariant = VariantArrayBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = StructBuilder;
    type SerializeStructVariant = VariantStructBuilder;

    fn serialize_bool(self, v: bool) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Bool(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Int(v.into())))
    }
    fn serialize_i16(self, v: i16) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Int(v.into())))
    }
    fn serialize_i32(self, v: i32) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Int(v.into())))
    }
    fn serialize_i64(self, v: i64) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Int(v)))
    }
    fn serialize_i128(self, v: i128) -> Result<Self::Ok, SerdeError> {
        let n = i64::try_from(v).map_err(|_| out_of_range("i128", v))?;
        Ok(Some(Value::Int(n)))
    }
    fn serialize_u8(self, v: u8) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Int(v.into())))
    }
    fn serialize_u16(self, v: u16) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Int(v.into())))
    }
    fn serialize_u32(self, v: u32) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Int(v.into())))
    }
    fn serialize_u64(self, v: u64) -> Result<Self::Ok, SerdeError> {
        let n = i64::try_from(v).map_err(|_| out_of_range("u64", v))?;
        Ok(Some(Value::Int(n)))
    }
    fn serialize_u128(self, v: u128) -> Result<Self::Ok, SerdeError> {
        let n = i64::try_from(v).map_err(|_| out_of_range("u128", v))?;
        Ok(Some(Value::Int(n)))
    }
    fn serialize_f32(self, v: f32) -> Result<Self::Ok, SerdeError> {
        if !v.is_finite() {
            return finite(v.into());
        }
        // Through the shortest decimal, so that 0.1f32 is sent as 0.1 and not as
        // 0.100000001490116…; reading it back into an f32 gives the same f32.
        let wide = v.to_string().parse::<f64>().unwrap_or(f64::from(v));
        finite(wide)
    }
    fn serialize_f64(self, v: f64) -> Result<Self::Ok, SerdeError> {
        finite(v)
    }
    fn serialize_char(self, v: char) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::String(v.to_string())))
    }
    fn serialize_str(self, v: &str) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::String(v.to_owned())))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Base64(v.to_vec())))
    }
    fn serialize_none(self) -> Result<Self::Ok, SerdeError> {
        Ok(None)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, SerdeError> {
        // `Some(None)` is an explicit nil, not an absence.
        Ok(Some(value.serialize(self)?.unwrap_or(Value::Nil)))
    }
    fn serialize_unit(self) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Nil))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Nil))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::String(variant.to_owned())))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Self::Ok, SerdeError> {
        if name != DATETIME_TOKEN {
            return value.serialize(self);
        }
        match value.serialize(self)? {
            Some(Value::String(text)) => parse_iso(&text)
                .map(|dt| Some(Value::DateTime(dt)))
                .map_err(|e| SerdeError::new(format!("invalid dateTime {text:?}: {e}"))),
            _ => Err(SerdeError::new("a dateTime must serialize as a string")),
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Self::Ok, SerdeError> {
        let content = to_value(value).map_err(|e| e.at_member(variant))?;
        Ok(Some(tagged(variant, content)))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<ArrayBuilder, SerdeError> {
        Ok(ArrayBuilder::new(len.unwrap_or(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<ArrayBuilder, SerdeError> {
        Ok(ArrayBuilder::new(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<ArrayBuilder, SerdeError> {
        Ok(ArrayBuilder::new(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantArrayBuilder, SerdeError> {
        Ok(VariantArrayBuilder {
            variant,
            array: ArrayBuilder::new(len),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, SerdeError> {
        Ok(MapBuilder {
            members: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            key: None,
        })
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<StructBuilder, SerdeError> {
        Ok(StructBuilder {
            members: Vec::with_capacity(len),
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantStructBuilder, SerdeError> {
        Ok(VariantStructBuilder {
            variant,
            fields: StructBuilder {
                members: Vec::with_capacity(len),
            },
        })
    }
}

/// An externally tagged enum variant: a struct with one member named after the variant.
fn tagged(variant: &str, content: Value) -> Value {
    let mut st = Struct::with_capacity(1);
    st.insert(variant, content);
    Value::Struct(st)
}

struct ArrayBuilder {
    items: Vec<Value>,
}

impl ArrayBuilder {
    fn new(len: usize) -> Self {
        Self {
            items: Vec::with_capacity(len.min(4096)),
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        let index = self.items.len();
        let item = to_value(value).map_err(|e| e.at_index(index))?;
        self.items.push(item);
        Ok(())
    }
}

impl ser::SerializeSeq for ArrayBuilder {
    type Ok = Option<Value>;
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Array(self.items)))
    }
}

impl ser::SerializeTuple for ArrayBuilder {
    type Ok = Option<Value>;
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Array(self.items)))
    }
}

impl ser::SerializeTupleStruct for ArrayBuilder {
    type Ok = Option<Value>;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Array(self.items)))
    }
}

struct VariantArrayBuilder {
    variant: &'static str,
    array: ArrayBuilder,
}

impl ser::SerializeTupleVariant for VariantArrayBuilder {
    type Ok = Option<Value>;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.array
            .push(value)
            .map_err(|e| e.at_member(self.variant))
    }
    fn end(self) -> Result<Self::Ok, SerdeError> {
        Ok(Some(tagged(self.variant, Value::Array(self.array.items))))
    }
}

/// Members in order; `Struct::from_members` settles duplicate names (possible from a
/// map whose distinct keys print alike, or a flattened struct) in linear time.
struct StructBuilder {
    members: Vec<(String, Value)>,
}

impl StructBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), SerdeError> {
        // A `None` field is an absent member.
        if let Some(v) = value
            .serialize(ValueSerializer)
            .map_err(|e| e.at_member(key))?
        {
            self.members.push((key.to_owned(), v));
        }
        Ok(())
    }
}

impl ser::SerializeStruct for StructBuilder {
    type Ok = Option<Value>;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.push(key, value)
    }
    fn end(self) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Struct(Struct::from_members(self.members))))
    }
}

struct VariantStructBuilder {
    variant: &'static str,
    fields: StructBuilder,
}

impl ser::SerializeStructVariant for VariantStructBuilder {
    type Ok = Option<Value>;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.fields
            .push(key, value)
            .map_err(|e| e.at_member(self.variant))
    }
    fn end(self) -> Result<Self::Ok, SerdeError> {
        Ok(Some(tagged(
            self.variant,
            Value::Struct(Struct::from_members(self.fields.members)),
        )))
    }
}

struct MapBuilder {
    members: Vec<(String, Value)>,
    key: Option<String>,
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Option<Value>;
    type Error = SerdeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerdeError> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| SerdeError::new("map value serialized before its key"))?;
        // As in a struct, an entry whose value is `None` is left out.
        if let Some(v) = value
            .serialize(ValueSerializer)
            .map_err(|e| e.at_member(&key))?
        {
            self.members.push((key, v));
        }
        Ok(())
    }
    fn end(self) -> Result<Self::Ok, SerdeError> {
        Ok(Some(Value::Struct(Struct::from_members(self.members))))
    }
}

/// Turns a map key into a struct member name.
struct KeySerializer;

fn bad_key(found: &str) -> SerdeError {
    SerdeError::new(format!(
        "a struct member name must come from a string, integer, bool, char or unit variant, found {found}"
    ))
}

impl Serializer for KeySerializer {
    type Ok = String;
    type Error = SerdeError;
    type SerializeSeq = Impossible<String, SerdeError>;
    type SerializeTuple = Impossible<String, SerdeError>;
    type SerializeTupleStruct = Impossible<String, SerdeError>;
    type SerializeTupleVariant = Impossible<String, SerdeError>;
    type SerializeMap = Impossible<String, SerdeError>;
    type SerializeStruct = Impossible<String, SerdeError>;
    type SerializeStructVariant = Impossible<String, SerdeError>;

    fn serialize_bool(self, v: bool) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, SerdeError> {
        Err(bad_key("a float"))
    }
    fn serialize_f64(self, _v: f64) -> Result<String, SerdeError> {
        Err(bad_key("a float"))
    }
    fn serialize_char(self, v: char) -> Result<String, SerdeError> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, SerdeError> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, SerdeError> {
        Err(bad_key("bytes"))
    }
    fn serialize_none(self) -> Result<String, SerdeError> {
        Err(bad_key("None"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, SerdeError> {
        Err(bad_key("an Option"))
    }
    fn serialize_unit(self) -> Result<String, SerdeError> {
        Err(bad_key("()"))
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<String, SerdeError> {
        Err(bad_key(&format!("unit struct {name}")))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, SerdeError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, SerdeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _value: &T,
    ) -> Result<String, SerdeError> {
        Err(bad_key(&format!("newtype variant {name}::{variant}")))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, SerdeError> {
        Err(bad_key("a sequence"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, SerdeError> {
        Err(bad_key("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, SerdeError> {
        Err(bad_key(&format!("tuple struct {name}")))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, SerdeError> {
        Err(bad_key(&format!("tuple variant {name}::{variant}")))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, SerdeError> {
        Err(bad_key("a map"))
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, SerdeError> {
        Err(bad_key(&format!("struct {name}")))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, SerdeError> {
        Err(bad_key(&format!("struct variant {name}::{variant}")))
    }
}

/// The newtype-struct name by which [`Positional`] asks [`to_params`] to spread a
/// struct's fields.
const POSITIONAL_TOKEN: &str = "$xmlrpc_codec::private::Positional";

/// Sends a struct's fields as positional parameters, in declaration order:
/// `to_params(&Positional(&call))`. See [`to_params`].
///
/// Through any other serializer (and [`to_value`]) it is transparent, and
/// `from_params::<Positional<T>>` reads what `from_params::<T>` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Positional<T>(pub T);

impl<T: Serialize> Serialize for Positional<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(POSITIONAL_TOKEN, &self.0)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Positional<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Positional)
    }
}

/// Serializes a value into a parameter list; see [`to_params`]. With `spread`
/// (inside [`Positional`]), a struct's fields are the params.
struct ParamsSerializer {
    spread: bool,
}

/// What was given instead of a parameter list, and how to say what was meant.
fn not_a_param_list(found: &str) -> SerdeError {
    SerdeError::new(format!(
        "to_params takes the parameter list (a tuple, tuple struct, array, slice or Vec, \
         or () for none), found {found}: to send it as one parameter, wrap it in a \
         one-element tuple, `to_params(&(&value,))`; to send a struct's fields as \
         positional parameters, `to_params(&Positional(&value))`"
    ))
}

macro_rules! not_a_list {
    ($($method:ident($ty:ty) $what:literal;)*) => {$(
        fn $method(self, _: $ty) -> Result<Vec<Value>, SerdeError> {
            Err(not_a_param_list($what))
        }
    )*};
}

impl Serializer for ParamsSerializer {
    type Ok = Vec<Value>;
    type Error = SerdeError;
    type SerializeSeq = ParamList;
    type SerializeTuple = ParamList;
    type SerializeTupleStruct = ParamList;
    type SerializeTupleVariant = Impossible<Vec<Value>, SerdeError>;
    type SerializeMap = Impossible<Vec<Value>, SerdeError>;
    type SerializeStruct = ParamList;
    type SerializeStructVariant = Impossible<Vec<Value>, SerdeError>;

    not_a_list! {
        serialize_bool(bool) "a bool";
        serialize_i8(i8) "an integer";
        serialize_i16(i16) "an integer";
        serialize_i32(i32) "an integer";
        serialize_i64(i64) "an integer";
        serialize_i128(i128) "an integer";
        serialize_u8(u8) "an integer";
        serialize_u16(u16) "an integer";
        serialize_u32(u32) "an integer";
        serialize_u64(u64) "an integer";
        serialize_u128(u128) "an integer";
        serialize_f32(f32) "a float";
        serialize_f64(f64) "a float";
        serialize_char(char) "a char";
        serialize_str(&str) "a string";
        serialize_bytes(&[u8]) "bytes";
    }

    fn serialize_none(self) -> Result<Vec<Value>, SerdeError> {
        Ok(Vec::new())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Vec<Value>, SerdeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Vec<Value>, SerdeError> {
        Ok(Vec::new())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Vec<Value>, SerdeError> {
        Ok(Vec::new())
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Vec<Value>, SerdeError> {
        Err(not_a_param_list(&format!("enum variant {name}::{variant}")))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Vec<Value>, SerdeError> {
        match name {
            DATETIME_TOKEN => Err(not_a_param_list("a dateTime")),
            POSITIONAL_TOKEN => value.serialize(ParamsSerializer { spread: true }),
            _ => value.serialize(self),
        }
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _value: &T,
    ) -> Result<Vec<Value>, SerdeError> {
        Err(not_a_param_list(&format!("enum variant {name}::{variant}")))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<ParamList, SerdeError> {
        Ok(ParamList::new(len.unwrap_or(0), false))
    }
    fn serialize_tuple(self, len: usize) -> Result<ParamList, SerdeError> {
        Ok(ParamList::new(len, true))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<ParamList, SerdeError> {
        Ok(ParamList::new(len, true))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, SerdeError> {
        Err(not_a_param_list(&format!("enum variant {name}::{variant}")))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, SerdeError> {
        Err(not_a_param_list("a map"))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<ParamList, SerdeError> {
        if self.spread {
            Ok(ParamList::new(len, true))
        } else {
            Err(not_a_param_list(&format!("struct {name}")))
        }
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, SerdeError> {
        Err(not_a_param_list(&format!("enum variant {name}::{variant}")))
    }
}

/// Positional params from a sequence, tuple or struct.
struct ParamList {
    /// `None` for a Rust `None` (or a skipped field), kept until `end` decides.
    params: Vec<Option<Value>>,
    /// Whether trailing `None`s are dropped (tuples and structs: optional parameters)
    /// rather than sent as nil (sequences: data).
    positional: bool,
}

impl ParamList {
    fn new(len: usize, positional: bool) -> Self {
        Self {
            params: Vec::with_capacity(len.min(4096)),
            positional,
        }
    }

    fn push<T: Serialize + ?Sized>(
        &mut self,
        name: Option<&str>,
        value: &T,
    ) -> Result<(), SerdeError> {
        let index = self.params.len();
        let param = value
            .serialize(ValueSerializer)
            .map_err(|e| e.at_param(index, name))?;
        self.params.push(param);
        Ok(())
    }

    fn finish(mut self) -> Vec<Value> {
        if self.positional {
            while self.params.last().is_some_and(Option::is_none) {
                self.params.pop();
            }
        }
        self.params
            .into_iter()
            .map(|p| p.unwrap_or(Value::Nil))
            .collect()
    }
}

impl ser::SerializeSeq for ParamList {
    type Ok = Vec<Value>;
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(None, value)
    }
    fn end(self) -> Result<Vec<Value>, SerdeError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTuple for ParamList {
    type Ok = Vec<Value>;
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(None, value)
    }
    fn end(self) -> Result<Vec<Value>, SerdeError> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleStruct for ParamList {
    type Ok = Vec<Value>;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(None, value)
    }
    fn end(self) -> Result<Vec<Value>, SerdeError> {
        Ok(self.finish())
    }
}

impl ser::SerializeStruct for ParamList {
    type Ok = Vec<Value>;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.push(Some(key), value)
    }
    fn skip_field(&mut self, _key: &'static str) -> Result<(), SerdeError> {
        // Keeps the following fields at their positions.
        self.params.push(None);
        Ok(())
    }
    fn end(self) -> Result<Vec<Value>, SerdeError> {
        Ok(self.finish())
    }
}
