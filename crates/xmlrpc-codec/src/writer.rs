//! Streaming encoding: [`ValueWriter`], [`ArrayWriter`] and [`StructWriter`] write a
//! value straight into the document buffer, with no [`Value`] tree in between.
//!
//! The same strict rules as [`Encoder`] apply (escaping, 32-bit ints unless
//! extensions are on, finite doubles), and the bytes are the ones
//! [`Encoder::method_response`] writes for the equivalent [`Value`]. Each slot takes
//! exactly one value: a closure filling a slot must return the [`Written`] that only
//! a [`ValueWriter`] makes, so a member without a value does not compile.
//!
//! A failed item or member leaves nothing behind: its bytes are cut off the buffer,
//! so skipping an error (`let _ = a.item(…)`) leaves out that item and the document
//! stays well-formed. Every `Ok` document decodes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::encode::{DECLARATION, OnInvalid, escape, is_plain, push_double, push_int};
use crate::{DateTime, EncodeError, Encoder, Value};

/// Proof that a [`ValueWriter`] wrote its one value.
#[derive(Debug)]
#[must_use]
pub struct Written(());

/// Writes one `<value>…</value>` into a document being built.
///
/// ```
/// use xmlrpc_codec::{Encoder, Struct, Value, MethodResponse, encode_method_response};
///
/// let ids = [7, 8];
/// let streamed = Encoder::default().method_response_with(|w| {
///     w.array(|a| {
///         for id in ids {
///             a.item(|w| w.structure(|s| {
///                 s.member("id", |w| w.int(id))?;
///                 s.member("name", |w| w.string("A & B"))
///             }))?;
///         }
///         Ok(())
///     })
/// })?;
/// let tree = Value::Array(ids.iter().map(|&id| Value::Struct(Struct::from_iter([
///     ("id", Value::Int(id)),
///     ("name", Value::String("A & B".into())),
/// ]))).collect());
/// assert_eq!(streamed, encode_method_response(&MethodResponse::Success(tree))?);
/// # Ok::<(), xmlrpc_codec::EncodeError>(())
/// ```
#[derive(Debug)]
pub struct ValueWriter<'a> {
    out: &'a mut String,
    encoder: Encoder,
    /// The most bytes the document may hold: see [`Encoder::method_response_within`].
    max: usize,
}

impl<'a> ValueWriter<'a> {
    /// `<int>`, or `<i8>` beyond 32 bits when extensions are allowed
    /// ([`EncodeError::ExtensionRequired`] otherwise).
    pub fn int(self, n: i64) -> Result<Written, EncodeError> {
        if i32::try_from(n).is_ok() {
            self.out.push_str("<value><int>");
            push_int(self.out, n);
            self.out.push_str("</int></value>");
        } else if self.encoder.options().allow_extensions {
            self.out.push_str("<value><i8>");
            push_int(self.out, n);
            self.out.push_str("</i8></value>");
        } else {
            return Err(EncodeError::ExtensionRequired { what: "i8" });
        }
        Ok(Written(()))
    }

    /// `<boolean>`.
    pub fn boolean(self, b: bool) -> Result<Written, EncodeError> {
        self.out.push_str(if b {
            "<value><boolean>1</boolean></value>"
        } else {
            "<value><boolean>0</boolean></value>"
        });
        Ok(Written(()))
    }

    /// `<string>`, escaped; a character XML 1.0 cannot carry is
    /// [`EncodeError::InvalidXmlChar`].
    pub fn string(self, s: &str) -> Result<Written, EncodeError> {
        self.out.push_str("<value><string>");
        escape(self.out, s, OnInvalid::Fail)?;
        self.out.push_str("</string></value>");
        Ok(Written(()))
    }

    /// `<double>`; NaN and infinities are [`EncodeError::NonFiniteDouble`].
    pub fn double(self, d: f64) -> Result<Written, EncodeError> {
        self.out.push_str("<value><double>");
        push_double(self.out, d)?;
        self.out.push_str("</double></value>");
        Ok(Written(()))
    }

    /// `<dateTime.iso8601>`.
    pub fn date_time(self, dt: &DateTime) -> Result<Written, EncodeError> {
        self.out.push_str("<value><dateTime.iso8601>");
        dt.write_to(self.out);
        self.out.push_str("</dateTime.iso8601></value>");
        Ok(Written(()))
    }

    /// `<base64>`.
    pub fn base64(self, bytes: &[u8]) -> Result<Written, EncodeError> {
        self.out.push_str("<value><base64>");
        BASE64.encode_string(bytes, self.out);
        self.out.push_str("</base64></value>");
        Ok(Written(()))
    }

    /// A whole [`Value`], as [`Encoder`] writes it.
    pub fn value(self, value: &Value) -> Result<Written, EncodeError> {
        self.encoder.write_value(self.out, value)?;
        Ok(Written(()))
    }

    /// An `<array>`, whose items `items` writes in order.
    pub fn array(
        self,
        items: impl FnOnce(&mut ArrayWriter<'_>) -> Result<(), EncodeError>,
    ) -> Result<Written, EncodeError> {
        self.out.push_str("<value><array><data>");
        items(&mut ArrayWriter {
            out: self.out,
            encoder: self.encoder,
            max: self.max,
        })?;
        self.out.push_str("</data></array></value>");
        Ok(Written(()))
    }

    /// A `<struct>`, whose members `members` writes in order (names are not checked
    /// for duplicates: write each once).
    pub fn structure(
        self,
        members: impl FnOnce(&mut StructWriter<'_>) -> Result<(), EncodeError>,
    ) -> Result<Written, EncodeError> {
        self.out.push_str("<value><struct>");
        members(&mut StructWriter {
            out: self.out,
            encoder: self.encoder,
            max: self.max,
        })?;
        self.out.push_str("</struct></value>");
        Ok(Written(()))
    }
}

/// Writes the items of an `<array>`: see [`ValueWriter::array`].
#[derive(Debug)]
pub struct ArrayWriter<'a> {
    out: &'a mut String,
    encoder: Encoder,
    max: usize,
}

impl ArrayWriter<'_> {
    /// Appends one item, which `value` writes.
    ///
    /// On error nothing of the item is left in the document, so a caller that skips
    /// the error (to leave out an item it cannot write) still builds a valid one.
    pub fn item(
        &mut self,
        value: impl FnOnce(ValueWriter<'_>) -> Result<Written, EncodeError>,
    ) -> Result<(), EncodeError> {
        let start = self.out.len();
        let written = value(ValueWriter {
            out: self.out,
            encoder: self.encoder,
            max: self.max,
        })
        .and_then(|Written(())| within(self.out, self.max));
        if written.is_err() {
            self.out.truncate(start);
        }
        written
    }
}

/// A struct member's name checked once, where it is made: it is copied into
/// the document as it is, with no escaping to check for on each record.
///
/// For the fixed names of records written many times; make it in a constant so
/// that the check runs when the program is compiled:
///
/// ```
/// use xmlrpc_codec::{Encoder, MemberName};
///
/// const ID: MemberName = MemberName::new("id").expect("a plain name");
/// let doc = Encoder::default().method_response_with(|w| {
///     w.structure(|s| {
///         s.member_named(ID, |w| w.int(7))?;
///         s.member("A & B", |w| w.int(8)) // escaped: `A &amp; B`
///     })
/// })?;
/// let doc = String::from_utf8(doc).expect("UTF-8");
/// assert!(doc.contains("<member><name>id</name><value><int>7</int></value></member>"));
/// assert!(doc.contains("<member><name>A &amp; B</name>"));
/// # Ok::<(), xmlrpc_codec::EncodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberName(&'static str);

impl MemberName {
    /// `name`, or `None` when it holds a character that is escaped or refused
    /// (`<`, `>`, `&`, a carriage return or other control character, and any
    /// character of U+F000 to U+FFFF, whose first byte is checked for U+FFFE and
    /// U+FFFF): write such a name with [`StructWriter::member`].
    pub const fn new(name: &'static str) -> Option<MemberName> {
        if is_plain(name) {
            Some(MemberName(name))
        } else {
            None
        }
    }

    /// The name.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

/// Writes the members of a `<struct>`: see [`ValueWriter::structure`].
#[derive(Debug)]
pub struct StructWriter<'a> {
    out: &'a mut String,
    encoder: Encoder,
    max: usize,
}

impl StructWriter<'_> {
    /// Appends the member `name` (escaped), whose value `value` writes.
    ///
    /// On error (in the name or the value) nothing of the member is left in the
    /// document, so a caller that skips the error still builds a valid one.
    pub fn member(
        &mut self,
        name: &str,
        value: impl FnOnce(ValueWriter<'_>) -> Result<Written, EncodeError>,
    ) -> Result<(), EncodeError> {
        let start = self.out.len();
        let written = self.member_at(name, value);
        if written.is_err() {
            self.out.truncate(start);
        }
        written
    }

    /// [`member`](Self::member) with a name checked when it was made: the same
    /// bytes, without looking at the name's again.
    pub fn member_named(
        &mut self,
        name: MemberName,
        value: impl FnOnce(ValueWriter<'_>) -> Result<Written, EncodeError>,
    ) -> Result<(), EncodeError> {
        let start = self.out.len();
        let name = name.0;
        self.out.reserve("<member><name></name>".len() + name.len());
        self.out.push_str("<member><name>");
        self.out.push_str(name);
        self.out.push_str("</name>");
        let written = value(ValueWriter {
            out: self.out,
            encoder: self.encoder,
            max: self.max,
        })
        .and_then(|Written(())| {
            self.out.push_str("</member>");
            within(self.out, self.max)
        });
        if written.is_err() {
            self.out.truncate(start);
        }
        written
    }

    fn member_at(
        &mut self,
        name: &str,
        value: impl FnOnce(ValueWriter<'_>) -> Result<Written, EncodeError>,
    ) -> Result<(), EncodeError> {
        self.out.push_str("<member><name>");
        escape(self.out, name, OnInvalid::Fail)?;
        self.out.push_str("</name>");
        let Written(()) = value(ValueWriter {
            out: self.out,
            encoder: self.encoder,
            max: self.max,
        })?;
        self.out.push_str("</member>");
        within(self.out, self.max)
    }
}

impl Encoder {
    /// A successful `<methodResponse>` document whose one value `result` writes
    /// directly into the buffer: the bytes of [`Encoder::method_response`] for the
    /// same value, without building it. On error no document is returned.
    pub fn method_response_with(
        &self,
        result: impl FnOnce(ValueWriter<'_>) -> Result<Written, EncodeError>,
    ) -> Result<Vec<u8>, EncodeError> {
        self.method_response_within(256, usize::MAX, result)
    }

    /// [`Encoder::method_response_with`] into a buffer of `capacity` bytes to start
    /// with: for a large document whose size the caller can estimate, it saves the
    /// buffer's regrowth (each a copy of everything written so far). The bytes are
    /// the same whatever the capacity.
    pub fn method_response_with_capacity(
        &self,
        capacity: usize,
        result: impl FnOnce(ValueWriter<'_>) -> Result<Written, EncodeError>,
    ) -> Result<Vec<u8>, EncodeError> {
        self.method_response_within(capacity, usize::MAX, result)
    }

    /// [`Encoder::method_response_with_capacity`] for a document of at most
    /// `max_bytes`: writing stops with [`EncodeError::TooLarge`] as soon as an
    /// array item or struct member takes the document past it, so a huge result
    /// costs about `max_bytes` of memory, not its own size. The check falls
    /// between items and members: the buffer passes `max_bytes` by at most one
    /// item (plus the buffer's own growth) before it is dropped.
    pub fn method_response_within(
        &self,
        capacity: usize,
        max_bytes: usize,
        result: impl FnOnce(ValueWriter<'_>) -> Result<Written, EncodeError>,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut out = String::with_capacity(capacity.min(max_bytes));
        out.push_str(DECLARATION);
        out.push_str("<methodResponse><params><param>");
        let Written(()) = result(ValueWriter {
            out: &mut out,
            encoder: *self,
            max: max_bytes,
        })?;
        out.push_str("</param></params></methodResponse>");
        within(&out, max_bytes)?;
        Ok(out.into_bytes())
    }

    /// A bare `<value>…</value>` (no XML declaration) that `value` writes: the
    /// bytes of [`Encoder::value`] for the same value, without building it.
    pub fn value_with(
        &self,
        value: impl FnOnce(ValueWriter<'_>) -> Result<Written, EncodeError>,
    ) -> Result<String, EncodeError> {
        let mut out = String::with_capacity(64);
        let Written(()) = value(ValueWriter {
            out: &mut out,
            encoder: *self,
            max: usize::MAX,
        })?;
        Ok(out)
    }
}

/// [`EncodeError::TooLarge`] once the document passes `max` bytes.
fn within(out: &str, max: usize) -> Result<(), EncodeError> {
    if out.len() > max {
        Err(EncodeError::TooLarge { max_bytes: max })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EncodeOptions, MethodResponse, Struct, encode_method_response, encode_value};

    #[test]
    fn a_named_member_writes_the_bytes_of_a_checked_one() {
        const NAMES: [&str; 4] = ["id", "Grüße", "with space", "tab\tand\nline"];
        for name in NAMES {
            let checked = MemberName::new(name).expect("a plain name");
            assert_eq!(checked.as_str(), name);
            let write = |named: bool| {
                Encoder::default().method_response_within(0, 250, |w| {
                    w.structure(|s| {
                        if named {
                            s.member_named(checked, |w| w.string("v"))?;
                        } else {
                            s.member(name, |w| w.string("v"))?;
                        }
                        // Past the bound: cut off whole either way.
                        let _ = s.member_named(checked, |w| w.string(&"x".repeat(300)));
                        Ok(())
                    })
                })
            };
            assert_eq!(write(true).unwrap(), write(false).unwrap(), "{name}");
        }
    }

    #[test]
    fn a_name_that_needs_escaping_is_no_member_name() {
        for name in ["a<b", "a&b", "a>b", "cr\r", "nul\0", "\u{FFFE}", "\u{F000}"] {
            assert_eq!(MemberName::new(name), None, "{name:?}");
        }
        const ID: Option<MemberName> = MemberName::new("id");
        assert!(ID.is_some());
    }

    #[test]
    fn streams_the_bytes_of_the_tree() {
        let tree = Value::Array(vec![
            Value::Struct(Struct::from_iter([
                ("a<b", Value::Int(-3)),
                ("t", Value::Bool(true)),
                ("s", Value::String("x & y\r".into())),
                ("d", Value::Double(1.0)),
                ("b", Value::Base64(vec![1, 2, 3])),
                ("v", Value::Array(vec![Value::String(String::new())])),
            ])),
            Value::Array(vec![]),
        ]);
        let streamed = Encoder::default()
            .method_response_with(|w| {
                w.array(|a| {
                    a.item(|w| {
                        w.structure(|s| {
                            s.member("a<b", |w| w.int(-3))?;
                            s.member("t", |w| w.boolean(true))?;
                            s.member("s", |w| w.string("x & y\r"))?;
                            s.member("d", |w| w.double(1.0))?;
                            s.member("b", |w| w.base64(&[1, 2, 3]))?;
                            s.member("v", |w| {
                                w.value(&Value::Array(vec![Value::String(String::new())]))
                            })
                        })
                    })?;
                    a.item(|w| w.array(|_| Ok(())))
                })
            })
            .unwrap();
        let expected = encode_method_response(&MethodResponse::Success(tree.clone())).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(&expected)
        );
        let bare = Encoder::default().value_with(|w| w.value(&tree)).unwrap();
        assert_eq!(bare, encode_value(&tree).unwrap());
        // Any starting capacity, too small or ample, writes the same bytes.
        for capacity in [0, 1, 64, 1 << 16] {
            let sized = Encoder::default()
                .method_response_with_capacity(capacity, |w| w.value(&tree))
                .unwrap();
            assert_eq!(sized, expected, "capacity {capacity}");
        }
    }

    #[test]
    fn a_skipped_item_or_member_error_leaves_no_half_element_behind() {
        let body = Encoder::default()
            .method_response_with(|w| {
                w.array(|a| {
                    a.item(|w| w.int(1))?;
                    let _ = a.item(|w| w.double(f64::NAN));
                    // Fails deep inside a nested struct, after bytes were written.
                    let _ = a.item(|w| {
                        w.structure(|s| {
                            s.member("ok", |w| w.int(3))?;
                            s.member("bad", |w| w.string("\u{0}"))
                        })
                    });
                    a.item(|w| {
                        w.structure(|s| {
                            s.member("kept", |w| w.boolean(true))?;
                            let _ = s.member("bad\u{1}name", |w| w.int(4));
                            let _ = s.member("nan", |w| w.double(f64::NAN));
                            let _ = s.member("big", |w| w.int(1 << 40));
                            s.member("last", |w| w.string("x"))
                        })
                    })?;
                    a.item(|w| w.int(2))
                })
            })
            .unwrap();
        let want = Value::Array(vec![
            Value::Int(1),
            Value::Struct(Struct::from_iter([
                ("kept", Value::Bool(true)),
                ("last", Value::String("x".into())),
            ])),
            Value::Int(2),
        ]);
        assert_eq!(
            crate::decode_method_response(&body),
            Ok(MethodResponse::Success(want.clone()))
        );
        assert_eq!(
            body,
            encode_method_response(&MethodResponse::Success(want)).unwrap()
        );
    }

    #[test]
    fn keeps_the_strict_rules() {
        let strict = Encoder::default();
        assert!(matches!(
            strict.method_response_with(|w| w.int(1 << 40)),
            Err(EncodeError::ExtensionRequired { what: "i8" })
        ));
        assert!(matches!(
            strict.method_response_with(|w| w.double(f64::NAN)),
            Err(EncodeError::NonFiniteDouble)
        ));
        assert!(matches!(
            strict
                .method_response_with(|w| w.structure(|s| s.member("\u{1}", |w| w.boolean(false)))),
            Err(EncodeError::InvalidXmlChar { ch: '\u{1}' })
        ));
        let extended = Encoder::new(EncodeOptions {
            allow_extensions: true,
        });
        assert_eq!(
            extended.value_with(|w| w.int(1 << 40)).unwrap(),
            "<value><i8>1099511627776</i8></value>"
        );
    }

    #[test]
    fn stops_writing_once_the_document_passes_its_bound() {
        let items =
            |w: ValueWriter<'_>| w.array(|a| (0..1000).try_for_each(|i| a.item(|w| w.int(i))));
        let whole = Encoder::default().method_response_with(items).unwrap();
        let exact = Encoder::default()
            .method_response_within(0, whole.len(), items)
            .unwrap();
        assert_eq!(exact, whole);
        assert!(matches!(
            Encoder::default().method_response_within(0, whole.len() - 1, items),
            Err(EncodeError::TooLarge { max_bytes }) if max_bytes == whole.len() - 1
        ));
        // Struct members are checked as they are written, too.
        let members = |w: ValueWriter<'_>| {
            w.structure(|s| (0..1000).try_for_each(|i| s.member("k", |w| w.int(i))))
        };
        assert!(matches!(
            Encoder::default().method_response_within(16, 1024, members),
            Err(EncodeError::TooLarge { max_bytes: 1024 })
        ));
    }
}
