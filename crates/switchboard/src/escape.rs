//! Control characters written as escapes, so that text from a server or a client
//! can neither forge a line nor drive the terminal it is shown on.
//!
//! One rule for the server's log (`log_format`) and the client's tables and
//! messages: each control character (C0, DEL, C1) becomes `\n`, `\r`, `\t` or
//! `\u{XX}`; everything else, non-ASCII text included, goes through as it is.

use std::borrow::Cow;
use std::fmt;

/// Writes `s` to `out`, each control character as an escape.
pub(crate) fn write_escaped(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    // In UTF-8 a control character starts with a byte below 0x20, 0x7F (DEL) or
    // 0xC2 (C1, U+0080..U+009F): text without those bytes goes through whole.
    if !needs_escaping(s) {
        return out.write_str(s);
    }
    let mut rest = s;
    while let Some(at) = rest.find(char::is_control) {
        out.write_str(&rest[..at])?;
        let c = rest[at..].chars().next().unwrap_or_default();
        match c {
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c => write!(out, "\\u{{{:x}}}", u32::from(c))?,
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest)
}

fn needs_escaping(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2)
}

/// `s` with each control character as an escape; borrowed when there is none.
pub(crate) fn escaped(s: &str) -> Cow<'_, str> {
    if !needs_escaping(s) || !s.contains(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    // Writing to a String cannot fail.
    let _ = write_escaped(&mut out, s);
    Cow::Owned(out)
}

/// A message of several lines (anyhow's chain, a hint) with control characters
/// escaped within each line: the line breaks stay, nothing else does.
pub(crate) fn escaped_lines(s: &str) -> String {
    s.split('\n')
        .map(|line| escaped(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_escapes_and_the_rest_stays() {
        assert_eq!(
            escaped("bad\n\u{1b}[31mred\u{7}\u{9b}\r\t\u{7f}"),
            "bad\\n\\u{1b}[31mred\\u{7}\\u{9b}\\r\\t\\u{7f}"
        );
        assert!(matches!(escaped("Söhne ¡© ok"), Cow::Borrowed(_)));
        assert_eq!(escaped_lines("a\u{1b}\nb\r"), "a\\u{1b}\nb\\r");
    }
}
