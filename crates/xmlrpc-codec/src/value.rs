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
