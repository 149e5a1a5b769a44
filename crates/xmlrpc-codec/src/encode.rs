//! Encoding: [`Encoder`] and the `encode_*` functions, writing bytes directly.
//!
//! A document is written into one in-memory buffer in a single pass (no tree, no
//! validation pass) and handed to the writer only when complete, so an error never
//! leaves partial output behind.

use std::fmt::Write as _;
use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::{EncodeError, Fault, MethodCall, MethodResponse, Value};

/// Options for an [`Encoder`].
///
/// `#[non_exhaustive]`: start from `EncodeOptions::default()` and set fields.
///
/// ```
/// use xmlrpc_codec::{EncodeOptions, Encoder, Value};
///
/// let mut options = EncodeOptions::default();
/// options.allow_extensions = true;
/// let mut out = Vec::new();
/// Encoder::new(options).value(&Value::Nil, &mut out)?;
/// assert_eq!(out, b"<value><nil/></value>");
/// # Ok::<(), xmlrpc_codec::EncodeError>(())
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct EncodeOptions {
    /// Write the `<nil/>` and `<i8>` extension types. Off by default, because
    /// several widely used clients crash on them (Perl Frontier, XMLRPC::Lite, PHP,
    /// Node); with it off, [`Value::Nil`] and integers beyond 32 bits are
    /// [`EncodeError::ExtensionRequired`].
    pub allow_extensions: bool,
}

/// Writes XML-RPC documents.
///
/// Each document is built in memory in one pass and written with a single
/// `write_all`, so wrap slow writers in nothing: there are no small writes. Nesting is
/// written recursively, one small stack frame per level; anything a [`Decoder`]
/// accepts under its depth limit is far from the stack's reach.
///
/// [`Decoder`]: crate::Decoder
#[derive(Debug, Default, Clone, Copy)]
pub struct Encoder {
    options: EncodeOptions,
}

pub(crate) const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

impl Encoder {
    /// An encoder with `options`.
    pub fn new(options: EncodeOptions) -> Self {
        Self { options }
    }

    /// The options of this encoder.
    pub fn options(&self) -> EncodeOptions {
        self.options
    }

    /// Writes a `<methodCall>` document, XML declaration included.
    ///
    /// The document is complete before anything is written: on error, nothing is.
    pub fn method_call<W: Write>(&self, call: &MethodCall, mut out: W) -> Result<(), EncodeError> {
        out.write_all(self.method_call_string(call)?.as_bytes())?;
        Ok(())
    }

    /// Writes a `<methodResponse>` document (result or fault), XML declaration included.
    ///
    /// The document is complete before anything is written: on error, nothing is.
    pub fn method_response<W: Write>(
        &self,
        response: &MethodResponse,
        mut out: W,
    ) -> Result<(), EncodeError> {
        out.write_all(self.method_response_string(response)?.as_bytes())?;
        Ok(())
    }

    /// Writes a bare `<value>…</value>` with no XML declaration: the canonical text of
    /// a value, which [`Decoder::value`](crate::Decoder::value) reads back.
    ///
    /// The text is complete before anything is written: on error, nothing is.
    pub fn value<W: Write>(&self, value: &Value, mut out: W) -> Result<(), EncodeError> {
        out.write_all(self.value_string(value)?.as_bytes())?;
        Ok(())
    }

    fn method_call_string(&self, call: &MethodCall) -> Result<String, EncodeError> {
        let mut out = String::with_capacity(256);
        out.push_str(DECLARATION);
        out.push_str("<methodCall><methodName>");
        escape(&mut out, &call.method_name, OnInvalid::Fail)?;
        out.push_str("</methodName><params>");
        for param in &call.params {
            out.push_str("<param>");
            self.write_value(&mut out, param)?;
            out.push_str("</param>");
        }
        out.push_str("</params></methodCall>");
        Ok(out)
    }

    fn method_response_string(&self, response: &MethodResponse) -> Result<String, EncodeError> {
        match response {
            MethodResponse::Success(value) => {
                let mut out = String::with_capacity(256);
                out.push_str(DECLARATION);
                out.push_str("<methodResponse><params><param>");
                self.write_value(&mut out, value)?;
                out.push_str("</param></params></methodResponse>");
                Ok(out)
            }
            MethodResponse::Fault(fault) => {
                let mut out = String::with_capacity(320 + fault.string.len());
                write_fault(&mut out, fault, OnInvalid::Fail)?;
                Ok(out)
            }
        }
    }

    fn value_string(&self, value: &Value) -> Result<String, EncodeError> {
        let mut out = String::with_capacity(64);
        self.write_value(&mut out, value)?;
        Ok(out)
    }

    pub(crate) fn write_value(&self, out: &mut String, value: &Value) -> Result<(), EncodeError> {
        // Each arm writes its whole `<value>…</value>`, constant runs in one push.
        match value {
            Value::Int(n) => {
                if i32::try_from(*n).is_ok() {
                    out.push_str("<value><int>");
                    push_int(out, *n);
                    out.push_str("</int></value>");
                } else if self.options.allow_extensions {
                    out.push_str("<value><i8>");
                    push_int(out, *n);
                    out.push_str("</i8></value>");
                } else {
                    return Err(EncodeError::ExtensionRequired { what: "i8" });
                }
            }
            Value::Bool(b) => out.push_str(if *b {
                "<value><boolean>1</boolean></value>"
            } else {
                "<value><boolean>0</boolean></value>"
            }),
            Value::String(s) => {
                out.push_str("<value><string>");
                escape(out, s, OnInvalid::Fail)?;
                out.push_str("</string></value>");
            }
            Value::Double(d) => {
                out.push_str("<value><double>");
                push_double(out, *d)?;
                out.push_str("</double></value>");
            }
            Value::DateTime(dt) => {
                out.push_str("<value><dateTime.iso8601>");
                dt.write_to(out);
                out.push_str("</dateTime.iso8601></value>");
            }
            Value::Base64(bytes) => {
                out.push_str("<value><base64>");
                BASE64.encode_string(bytes, out);
                out.push_str("</base64></value>");
            }
            Value::Struct(members) => {
                out.push_str("<value><struct>");
                for (name, value) in members.iter() {
                    out.push_str("<member><name>");
                    escape(out, name, OnInvalid::Fail)?;
                    out.push_str("</name>");
                    self.write_value(out, value)?;
                    out.push_str("</member>");
                }
                out.push_str("</struct></value>");
            }
            Value::Array(items) => {
                out.push_str("<value><array><data>");
                for item in items {
                    self.write_value(out, item)?;
                }
                out.push_str("</data></array></value>");
            }
            Value::Nil => {
                if self.options.allow_extensions {
                    out.push_str("<value><nil/></value>");
                } else {
                    return Err(EncodeError::ExtensionRequired { what: "nil" });
                }
            }
        }
        Ok(())
    }
}

/// Encodes a `<methodCall>` document with the default [`EncodeOptions`].
pub fn encode_method_call(call: &MethodCall) -> Result<Vec<u8>, EncodeError> {
    Encoder::default()
        .method_call_string(call)
        .map(String::into_bytes)
}

/// Encodes a `<methodResponse>` document with the default [`EncodeOptions`].
pub fn encode_method_response(response: &MethodResponse) -> Result<Vec<u8>, EncodeError> {
    Encoder::default()
        .method_response_string(response)
        .map(String::into_bytes)
}

/// Encodes a bare `<value>…</value>` (no XML declaration) with the default
/// [`EncodeOptions`]: the canonical text of a value.
pub fn encode_value(value: &Value) -> Result<String, EncodeError> {
    Encoder::default().value_string(value)
}

/// Encodes a fault `<methodResponse>`; it cannot fail, which suits a server's last
/// resort. Characters XML 1.0 cannot carry in the fault string are replaced with
/// U+FFFD (where [`encode_method_response`] would return
/// [`EncodeError::InvalidXmlChar`]).
pub fn encode_fault(fault: &Fault) -> Vec<u8> {
    let mut out = String::with_capacity(320 + fault.string.len());
    // Infallible: OnInvalid::Replace never fails.
    let _ = write_fault(&mut out, fault, OnInvalid::Replace);
    out.into_bytes()
}

fn write_fault(out: &mut String, fault: &Fault, on_invalid: OnInvalid) -> Result<(), EncodeError> {
    out.push_str(DECLARATION);
    out.push_str(
        "<methodResponse><fault><value><struct>\
         <member><name>faultCode</name><value><int>",
    );
    push_int(out, i64::from(fault.code));
    out.push_str(
        "</int></value></member>\
         <member><name>faultString</name><value><string>",
    );
    escape(out, &fault.string, on_invalid)?;
    out.push_str("</string></value></member></struct></value></fault></methodResponse>");
    Ok(())
}

/// Appends the decimal digits of `n`.
pub(crate) fn push_int(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    let mut u = n.unsigned_abs();
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (u % 10) as u8;
        start -= 1;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    if let Ok(digits) = std::str::from_utf8(buf.get(start..).unwrap_or_default()) {
        out.push_str(digits);
    }
}

/// Appends a finite double as the shortest decimal that reads back exactly, never
/// with an exponent, and with `.0` when it is integral (`1.0`, `-0.0`, `1e21` as
/// `1000000000000000000000.0`), so it always reads as a double.
pub(crate) fn push_double(out: &mut String, d: f64) -> Result<(), EncodeError> {
    if !d.is_finite() {
        return Err(EncodeError::NonFiniteDouble);
    }
    let start = out.len();
    // Rust's f64 Display is the shortest exact decimal and never uses an exponent.
    let _ = write!(out, "{d}");
    if !out.get(start..).is_some_and(|s| s.contains('.')) {
        out.push_str(".0");
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnInvalid {
    Fail,
    Replace,
}

/// What [`escape`] does with a byte: copy it, escape it, refuse it (a C0 control XML
/// 1.0 cannot carry), or look closer (0xEF may start U+FFFE or U+FFFF).
const COPY: u8 = 0;
const ESCAPE: u8 = 1;
const INVALID: u8 = 2;
const CHECK: u8 = 3;

static CLASS: [u8; 256] = CLASSES;

/// [`CLASS`], for constants.
const CLASSES: [u8; 256] = {
    let mut t = [COPY; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = INVALID;
        b += 1;
    }
    t[b'\t' as usize] = COPY;
    t[b'\n' as usize] = COPY;
    t[b'\r' as usize] = ESCAPE;
    t[b'<' as usize] = ESCAPE;
    t[b'>' as usize] = ESCAPE;
    t[b'&' as usize] = ESCAPE;
    t[0xEF] = CHECK;
    t
};

/// Whether [`escape`] would copy `s` as it is: every byte is plain text
/// (0xEF, the lead byte of U+FFFE and U+FFFF, counts as not plain). A `const
/// fn`, so that a name fixed in a program is checked when it is compiled.
pub(crate) const fn is_plain(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if CLASSES[bytes[i] as usize] != COPY {
            return false;
        }
        i += 1;
    }
    true
}

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `v` is zero (exact as a yes/no answer).
#[inline]
fn has_zero_byte(v: u64) -> bool {
    v.wrapping_sub(LOW_BITS) & !v & HIGH_BITS != 0
}

/// Whether any of the eight bytes in `w` is not [`COPY`]: a control (below 0x20),
/// `<`, `>`, `&` or 0xEF. Lets [`escape`] skip clean text a word at a time.
#[inline]
fn needs_attention(w: u64) -> bool {
    w.wrapping_sub(LOW_BITS * 0x20) & !w & HIGH_BITS != 0
        || has_zero_byte(w ^ (LOW_BITS * u64::from(b'<')))
        || has_zero_byte(w ^ (LOW_BITS * u64::from(b'>')))
        || has_zero_byte(w ^ (LOW_BITS * u64::from(b'&')))
        || has_zero_byte(w ^ (LOW_BITS * 0xEF))
}

/// Below this length, [`escape`] looks for the first special byte with the table.
const SHORT: usize = 48;

/// Appends `s` as XML text in one pass: `<`, `>`, `&` as entities, `\r` as `&#xD;`
/// (a bare CR would be read back as LF); characters XML 1.0 cannot carry are an
/// error or U+FFFD. Runs of ordinary bytes are copied at once.
///
/// Inlined where it is called: most strings of a response are short and clean
/// (names, numbers, member names), and for them the call itself, with the rest of
/// the escaper's register saving, cost more than checking their bytes.
#[inline]
pub(crate) fn escape(out: &mut String, s: &str, on_invalid: OnInvalid) -> Result<(), EncodeError> {
    let bytes = s.as_bytes();
    // Short strings are checked a byte at a time against the table, which beats
    // setting up the word-at-a-time scan on anything shorter than a few words.
    if bytes.len() < SHORT {
        match bytes.iter().position(|&b| CLASS[usize::from(b)] != COPY) {
            None => {
                out.push_str(s);
                Ok(())
            }
            Some(first) => escape_from(out, s, first, on_invalid),
        }
    } else {
        escape_from(out, s, 0, on_invalid)
    }
}

/// [`escape`] from byte `i` on (everything before it is plain text).
#[inline(never)]
fn escape_from(
    out: &mut String,
    s: &str,
    mut i: usize,
    on_invalid: OnInvalid,
) -> Result<(), EncodeError> {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    loop {
        // Skip clean text eight bytes at a time.
        while let Some(word) = bytes
            .get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
        {
            if needs_attention(u64::from_le_bytes(word)) {
                break;
            }
            i += 8;
        }
        let Some(&b) = bytes.get(i) else { break };
        let class = CLASS[usize::from(b)];
        if class == COPY {
            i += 1;
            continue;
        }
        // Every split point is an ASCII byte or the start or end of a three-byte
        // sequence, so always a char boundary.
        let (replacement, width) = match class {
            ESCAPE => (
                match b {
                    b'<' => "&lt;",
                    b'>' => "&gt;",
                    b'&' => "&amp;",
                    _ => "&#xD;",
                },
                1,
            ),
            INVALID => ("\u{FFFD}", 1),
            _ => {
                // 0xEF 0xBF 0xBE/0xBF is U+FFFE/U+FFFF; other 0xEF sequences are fine.
                if bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF))
                {
                    ("\u{FFFD}", 3)
                } else {
                    i += 1;
                    continue;
                }
            }
        };
        if class != ESCAPE && on_invalid == OnInvalid::Fail {
            let ch = s.get(i..).and_then(|t| t.chars().next()).unwrap_or('\u{0}');
            return Err(EncodeError::InvalidXmlChar { ch });
        }
        out.push_str(s.get(run_start..i).unwrap_or_default());
        out.push_str(replacement);
        i += width;
        run_start = i;
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DateTime, Struct, decode_value};

    fn enc(v: &Value) -> String {
        encode_value(v).unwrap()
    }

    fn ext() -> Encoder {
        Encoder::new(EncodeOptions {
            allow_extensions: true,
        })
    }

    #[test]
    fn scalars_strictly() {
        assert_eq!(enc(&Value::Int(-7)), "<value><int>-7</int></value>");
        assert_eq!(
            enc(&Value::Int(i32::MIN.into())),
            "<value><int>-2147483648</int></value>"
        );
        assert_eq!(
            enc(&Value::Bool(true)),
            "<value><boolean>1</boolean></value>"
        );
        assert_eq!(
            enc(&Value::String(String::new())),
            "<value><string></string></value>"
        );
        assert_eq!(
            enc(&Value::Base64(b"hello".to_vec())),
            "<value><base64>aGVsbG8=</base64></value>"
        );
        let dt = DateTime::new(2024, 1, 31, 12, 34, 56).unwrap();
        assert_eq!(
            enc(&Value::DateTime(dt)),
            "<value><dateTime.iso8601>20240131T12:34:56</dateTime.iso8601></value>"
        );
        assert_eq!(
            enc(&Value::Array(vec![])),
            "<value><array><data></data></array></value>"
        );
        assert_eq!(
            enc(&Value::Struct(Struct::new())),
            "<value><struct></struct></value>"
        );
    }

    #[test]
    fn doubles_without_exponent() {
        for (d, text) in [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.5e-7, "0.00000015"),
            (1e21, "1000000000000000000000.0"),
            (
                f64::MAX,
                &format!("17976931348623157{}.0", "0".repeat(292))[..],
            ),
        ] {
            let s = enc(&Value::Double(d));
            assert_eq!(s, format!("<value><double>{text}</double></value>"));
            assert_eq!(decode_value(s.as_bytes()), Ok(Value::Double(d)));
        }
        let tiny = enc(&Value::Double(f64::MIN_POSITIVE));
        let digits = tiny
            .trim_start_matches("<value><double>")
            .trim_end_matches("</double></value>");
        assert!(
            digits.starts_with("0.000") && !digits.contains('e'),
            "{digits}"
        );
        assert_eq!(
            decode_value(tiny.as_bytes()),
            Ok(Value::Double(f64::MIN_POSITIVE))
        );
        for d in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                encode_value(&Value::Double(d)),
                Err(EncodeError::NonFiniteDouble)
            ));
        }
    }

    #[test]
    fn extensions_are_opt_in() {
        let big = Value::Int(1 << 40);
        assert!(matches!(
            encode_value(&big),
            Err(EncodeError::ExtensionRequired { what: "i8" })
        ));
        assert!(matches!(
            encode_value(&Value::Nil),
            Err(EncodeError::ExtensionRequired { what: "nil" })
        ));
        let mut out = Vec::new();
        ext()
            .value(
                &Value::Array(vec![big, Value::Nil, Value::Int(1)]),
                &mut out,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<value><array><data><value><i8>1099511627776</i8></value><value><nil/></value><value><int>1</int></value></data></array></value>"
        );
    }

    #[test]
    fn escaping_in_one_pass() {
        let s = "a<b>&c\r\n\td\"'é\u{FFFD}\u{FFFF}"; // U+FFFF is refused below
        let ok = &s[..s.len() - 3];
        assert_eq!(
            enc(&Value::String(ok.to_owned())),
            "<value><string>a&lt;b&gt;&amp;c&#xD;\n\td\"'é\u{FFFD}</string></value>"
        );
        let text = enc(&Value::String(ok.to_owned()));
        assert_eq!(
            decode_value(text.as_bytes()),
            Ok(Value::String(ok.to_owned()))
        );
        for (bad, ch) in [
            ("x\u{0}", '\u{0}'),
            ("\u{1B}[0m", '\u{1B}'),
            ("a\u{FFFE}", '\u{FFFE}'),
            (s, '\u{FFFF}'),
        ] {
            match encode_value(&Value::String(bad.to_owned())) {
                Err(EncodeError::InvalidXmlChar { ch: got }) => assert_eq!(got, ch),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        let member: Struct = [("a\u{8}", Value::Int(1))].into_iter().collect();
        assert!(matches!(
            encode_value(&Value::Struct(member)),
            Err(EncodeError::InvalidXmlChar { ch: '\u{8}' })
        ));
        let call = MethodCall::new("a\u{7}", vec![]);
        assert!(matches!(
            encode_method_call(&call),
            Err(EncodeError::InvalidXmlChar { .. })
        ));
    }

    #[test]
    fn messages() {
        let call = MethodCall::new("x.y", vec![Value::Int(1), Value::String("<".into())]);
        let text = String::from_utf8(encode_method_call(&call).unwrap()).unwrap();
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall><methodName>x.y</methodName><params>\
             <param><value><int>1</int></value></param><param><value><string>&lt;</string></value></param>\
             </params></methodCall>"
        );
        assert_eq!(crate::decode_method_call(text.as_bytes()), Ok(call));
        let empty = encode_method_call(&MethodCall::new("m", vec![])).unwrap();
        assert!(
            String::from_utf8(empty)
                .unwrap()
                .ends_with("<params></params></methodCall>")
        );

        let fault = Fault::new(-32601, "no such method <x>");
        let text = encode_method_response(&MethodResponse::Fault(fault.clone())).unwrap();
        assert_eq!(text, encode_fault(&fault));
        assert_eq!(
            crate::decode_method_response(&text),
            Ok(MethodResponse::Fault(fault))
        );

        let response = MethodResponse::Success(Value::Bool(false));
        let text = encode_method_response(&response).unwrap();
        assert_eq!(crate::decode_method_response(&text), Ok(response));
    }

    #[test]
    fn encode_fault_never_fails() {
        let fault = Fault::new(1, "bad\u{0}\u{FFFF}byte");
        let text = encode_fault(&fault);
        assert!(matches!(
            encode_method_response(&MethodResponse::Fault(fault)),
            Err(EncodeError::InvalidXmlChar { ch: '\u{0}' })
        ));
        assert_eq!(
            crate::decode_method_response(&text),
            Ok(MethodResponse::Fault(Fault::new(
                1,
                "bad\u{FFFD}\u{FFFD}byte"
            )))
        );
    }

    #[test]
    fn failure_leaves_writer_untouched() {
        let mut out = b"keep".to_vec();
        let value = Value::Array(vec![Value::String("fine".into()), Value::Double(f64::NAN)]);
        assert!(Encoder::default().value(&value, &mut out).is_err());
        assert_eq!(out, b"keep");
        let call = MethodCall::new("m", vec![Value::Int(1), Value::Nil]);
        assert!(Encoder::default().method_call(&call, &mut out).is_err());
        assert_eq!(out, b"keep");
    }

    #[test]
    fn ints_every_width() {
        for n in [
            0,
            9,
            10,
            -1,
            99,
            100,
            i64::from(i32::MAX),
            i64::MIN,
            i64::MAX,
            -1_000_000_007,
        ] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
