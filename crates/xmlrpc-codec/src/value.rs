//! The XML-RPC value model: [`Value`], [`Struct`].

use std::collections::{HashMap, HashSet};

use crate::DateTime;

/// One XML-RPC value.
///
/// Integers are one variant: `<i4>`/`<int>` and the `<i8>` extension all decode to
/// [`Value::Int`]; the encoder writes `<int>` when the number fits in 32 bits and
/// `<i8>` (only when extensions are enabled) otherwise.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// `<int>`, `<i4>` (and the `<i8>` extension).
    Int(i64),
    /// `<boolean>`: `0` or `1`.
    Bool(bool),
    /// `<string>`, or a `<value>` with no type element.
    String(String),
    /// `<double>`: always finite.
    Double(f64),
    /// `<dateTime.iso8601>`.
    DateTime(DateTime),
    /// `<base64>`: raw bytes.
    Base64(Vec<u8>),
    /// `<struct>`: named members, in document order.
    Struct(Struct),
    /// `<array>`.
    Array(Vec<Value>),
    /// The `<nil/>` extension (also read as `<ex:nil/>`).
    Nil,
}

impl Value {
    /// The XML-RPC type name: `"int"`, `"boolean"`, `"string"`, `"double"`,
    /// `"dateTime.iso8601"`, `"base64"`, `"struct"`, `"array"` or `"nil"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Bool(_) => "boolean",
            Value::String(_) => "string",
            Value::Double(_) => "double",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Base64(_) => "base64",
            Value::Struct(_) => "struct",
            Value::Array(_) => "array",
            Value::Nil => "nil",
        }
    }

    /// The integer of an `Int`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The integer of an `Int` that fits in 32 bits (the spec's `<int>`).
    pub fn as_i32(&self) -> Option<i32> {
        self.as_i64().and_then(|n| i32::try_from(n).ok())
    }

    /// The number of a `Double`, or of an `Int` (as the nearest double).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            Value::Int(n) => Some(*n as f64),
            _ => None,
        }
    }

    /// The boolean of a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text of a `String`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The date and time of a `DateTime`.
    pub fn as_date_time(&self) -> Option<&DateTime> {
        match self {
            Value::DateTime(dt) => Some(dt),
            _ => None,
        }
    }

    /// The bytes of a `Base64`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Base64(b) => Some(b),
            _ => None,
        }
    }

    /// The members of a `Struct`.
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// The members of a `Struct`, to change them.
    pub fn as_struct_mut(&mut self) -> Option<&mut Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// The items of an `Array`.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The items of an `Array`, to change them.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// Whether this is `Nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// A struct member by name (`v.get("faultCode")`) or an array item by position
    /// (`v.get(0)`); `None` when there is none, or `self` is not a struct or array.
    ///
    /// Indexing (`v["name"]`, `v[0]`) does the same but gives a `Nil` when there is
    /// nothing there, so that lookups chain (`v["user"]["id"]`), as in `serde_json`:
    ///
    /// ```
    /// use xmlrpc_codec::{Struct, Value};
    ///
    /// let user = Value::from(Struct::from_iter([("id", Value::from(7)), ("name", "Ann".into())]));
    /// let v = Value::from(vec![user]);
    /// assert_eq!(v[0]["id"].as_i32(), Some(7));
    /// assert_eq!(v.get(0).and_then(|u| u.get("name")).and_then(Value::as_str), Some("Ann"));
    /// assert!(v[3]["missing"].is_nil());
    /// assert_eq!(v.get(3), None);
    /// ```
    pub fn get<I: ValueIndex>(&self, index: I) -> Option<&Value> {
        index.index_into(self)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for str {}
    impl Sealed for String {}
    impl<T: Sealed + ?Sized> Sealed for &T {}
}

/// What can index a [`Value`]: a `usize` (array item) or a string (struct member).
/// Sealed: implemented for `usize`, `str`, `String` and references to them.
pub trait ValueIndex: sealed::Sealed {
    /// The item or member of `value` this index names, if any.
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value>;
}

impl ValueIndex for usize {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        value.as_array()?.get(*self)
    }
}

impl ValueIndex for str {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        value.as_struct()?.get(self)
    }
}

impl ValueIndex for String {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.as_str().index_into(value)
    }
}

impl<T: ValueIndex + ?Sized> ValueIndex for &T {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        (**self).index_into(value)
    }
}

static NIL: Value = Value::Nil;

/// `value[0]`, `value["name"]`: the item or member, or a `Nil` when there is none
/// (see [`Value::get`]).
impl<I: ValueIndex> std::ops::Index<I> for Value {
    type Output = Value;
    fn index(&self, index: I) -> &Value {
        index.index_into(self).unwrap_or(&NIL)
    }
}

macro_rules! from_int {
    ($($ty:ty)*) => {$(
        impl From<$ty> for Value {
            /// An `Int`.
            fn from(n: $ty) -> Self {
                Value::Int(n.into())
            }
        }
    )*};
}
from_int!(i8 i16 i32 i64 u8 u16 u32);

impl From<bool> for Value {
    /// A `Bool`.
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    /// A `Double` (NaN and infinities are refused when encoding).
    fn from(d: f64) -> Self {
        Value::Double(d)
    }
}

impl From<f32> for Value {
    /// A `Double`, through the shortest decimal (`0.1f32` is `0.1`), as `to_value` does.
    fn from(d: f32) -> Self {
        Value::Double(d.to_string().parse().unwrap_or(f64::from(d)))
    }
}

impl From<&str> for Value {
    /// A `String`.
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    /// A `String`.
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<std::borrow::Cow<'_, str>> for Value {
    /// A `String`.
    fn from(s: std::borrow::Cow<'_, str>) -> Self {
        Value::String(s.into_owned())
    }
}

impl From<DateTime> for Value {
    /// A `DateTime`.
    fn from(dt: DateTime) -> Self {
        Value::DateTime(dt)
    }
}

impl From<Struct> for Value {
    /// A `Struct`.
    fn from(s: Struct) -> Self {
        Value::Struct(s)
    }
}

impl From<Vec<Value>> for Value {
    /// An `Array`. (Bytes are [`Bytes`](crate::Bytes): `Value::from(Bytes(vec))`.)
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// The value, or `Nil` for `None`.
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

impl<T: Into<Value>> FromIterator<T> for Value {
    /// An `Array` of the items.
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Value::Array(iter.into_iter().map(Into::into).collect())
    }
}

/// An XML-RPC `<struct>`: members in the order they were inserted or read.
///
/// Names are unique: inserting a name that is present replaces its value in place
/// (so a document with a duplicate member keeps the last value, as Python does).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Struct {
    members: Vec<(String, Value)>,
}

impl Struct {
    /// An empty struct.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty struct with room for `n` members.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            members: Vec::with_capacity(n),
        }
    }

    /// Sets member `name`, replacing (in place) any member of that name; returns the old value.
    pub fn insert(&mut self, name: impl Into<String>, value: Value) -> Option<Value> {
        let name = name.into();
        if let Some(slot) = self.members.iter_mut().find(|(n, _)| *n == name) {
            return Some(std::mem::replace(&mut slot.1, value));
        }
        self.members.push((name, value));
        None
    }

    /// The value of member `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Removes member `name` and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.members.iter().position(|(n, _)| n == name)?;
        Some(self.members.remove(i).1)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the struct has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.members.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// A struct of `members` in order, with [`Struct::insert`]'s semantics for
    /// duplicate names (the first position, the last value) in linear time, so a
    /// hostile document with many members cannot make decoding quadratic.
    pub(crate) fn from_members(members: Vec<(String, Value)>) -> Self {
        if !has_duplicates(&members) {
            return Self { members };
        }
        let mut index: HashMap<String, usize> = HashMap::with_capacity(members.len());
        let mut kept: Vec<(String, Value)> = Vec::with_capacity(members.len());
        for (name, value) in members {
            match index.get(&name) {
                Some(&i) => {
                    if let Some(slot) = kept.get_mut(i) {
                        slot.1 = value;
                    }
                }
                None => {
                    index.insert(name.clone(), kept.len());
                    kept.push((name, value));
                }
            }
        }
        Self { members: kept }
    }
}

fn has_duplicates(members: &[(String, Value)]) -> bool {
    // Small structs (nearly all of them) are cheaper to check pairwise than to hash.
    if members.len() <= 16 {
        return members
            .iter()
            .enumerate()
            .any(|(i, (n, _))| members.iter().skip(i + 1).any(|(m, _)| m == n));
    }
    let mut seen: HashSet<&str> = HashSet::with_capacity(members.len());
    !members.iter().all(|(n, _)| seen.insert(n.as_str()))
}

impl IntoIterator for Struct {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.members.into_iter()
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Struct {
    /// Collects members in order; a repeated name keeps its first position and its
    /// last value, as with [`Struct::insert`].
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        Struct::from_members(iter.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_indexing_and_conversions() {
        let dt = DateTime::new(2024, 1, 31, 0, 0, 0).unwrap();
        let v: Value = vec![
            Value::from(7),
            Value::from(1i64 << 40),
            Value::from("a"),
            Value::from(true),
            Value::from(1.5),
            Value::from(dt),
            Value::from(crate::Bytes(vec![1, 2])),
            Value::from(Struct::from_iter([("id", Value::from(3u8))])),
            Value::from(None::<i32>),
            Value::from(Some("x")),
        ]
        .into();
        assert_eq!(v[0].as_i32(), Some(7));
        assert_eq!(v[1].as_i32(), None);
        assert_eq!(v[1].as_i64(), Some(1 << 40));
        assert_eq!(v[2].as_str(), Some("a"));
        assert_eq!(v[3].as_bool(), Some(true));
        assert_eq!(v[4].as_f64(), Some(1.5));
        assert_eq!(v[0].as_f64(), Some(7.0));
        assert_eq!(v[5].as_date_time(), Some(&dt));
        assert_eq!(v[6].as_bytes(), Some(&[1u8, 2][..]));
        assert_eq!(v[7]["id"], Value::Int(3));
        assert_eq!(v[7].get("id"), Some(&Value::Int(3)));
        assert_eq!(v[7].get(String::from("id")), Some(&Value::Int(3)));
        assert!(v[8].is_nil());
        assert_eq!(v[9], Value::String("x".into()));
        assert_eq!(v.as_array().map(<[Value]>::len), Some(10));
        // Missing and mistyped lookups: a nil from indexing, None from get.
        assert!(v[10].is_nil());
        assert!(v["id"].is_nil());
        assert!(v[7]["nope"][0].is_nil());
        assert_eq!(v.get(10), None);
        assert_eq!(v[0].get(0), None);
        assert_eq!(v[2].as_i64(), None);
        assert_eq!(v[0].as_str(), None);
        assert_eq!(v[7].type_name(), "struct");
        let mut v = v;
        if let Some(items) = v.as_array_mut() {
            items.truncate(1);
        }
        assert_eq!(v, Value::Array(vec![Value::Int(7)]));
        let collected: Value = ["a", "b"].into_iter().collect();
        assert_eq!(collected[1], Value::String("b".into()));
    }

    #[test]
    fn duplicates_keep_first_position_and_last_value() {
        for n in [3usize, 40] {
            let mut members: Vec<(String, Value)> = (0..n)
                .map(|i| (format!("m{i}"), Value::Int(i as i64)))
                .collect();
            members.push(("m1".into(), Value::Bool(true)));
            let s = Struct::from_members(members);
            assert_eq!(s.len(), n);
            assert_eq!(s.iter().nth(1), Some(("m1", &Value::Bool(true))));
            assert_eq!(s.get("m0"), Some(&Value::Int(0)));
        }
    }

    #[test]
    fn large_struct_without_duplicates_is_kept_as_is() {
        let members: Vec<(String, Value)> = (0..100_000)
            .map(|i| (format!("m{i}"), Value::Nil))
            .collect();
        let s: Struct = members.into_iter().collect();
        assert_eq!(s.len(), 100_000);
        assert_eq!(s.iter().last().map(|(n, _)| n), Some("m99999"));
    }
}
