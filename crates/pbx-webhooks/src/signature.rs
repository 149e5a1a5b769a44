//! What goes on the wire: the JSON body of an event and its signature.
//!
//! The rule (SPEC.md, "Events", Webhooks): the header
//! `Switchboard-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is the
//! lowercase hex HMAC-SHA256, keyed with the endpoint's secret, of the text
//! `<t>.<body>`: the same `t`, a full stop, and the body's bytes exactly as
//! sent. A receiver recomputes it over the raw body (before any JSON
//! parsing), compares in constant time, and refuses a `t` too far from its
//! own clock, so that a recorded request cannot be replayed later.

use hmac::{Hmac, Mac};
use pbx_backend::Event;
use pbx_model::AdminGroupId;
use sha2::Sha256;

/// The request header that carries the signature.
pub const SIGNATURE_HEADER: &str = "Switchboard-Signature";

/// How far from the receiver's clock [`verify_signature`]'s callers usually
/// accept a signature's `t`: five minutes.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], t: u64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Switchboard-Signature` value of `body` signed at `t` (unix seconds):
/// `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn sign(secret: &[u8], t: u64, body: &[u8]) -> String {
    let tag = mac(secret, t, body).finalize().into_bytes();
    let mut hex = String::with_capacity(tag.len() * 2);
    for byte in tag {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    format!("t={t},v1={hex}")
}

/// Whether `header` (a `Switchboard-Signature` value) signs `body` with
/// `secret`, at a `t` within `tolerance_secs` of `now` (unix seconds). The
/// comparison is constant-time; any `v1` in the header may match (a sender
/// rotating secrets may send several).
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: u64,
    tolerance_secs: u64,
) -> bool {
    let mut t = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<u64>().ok(),
            Some(("v1", value)) => tags.push(value),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if t.abs_diff(now) > tolerance_secs {
        return false;
    }
    // One HMAC whatever the header holds: a forged header with many `v1=`
    // values costs the receiver no more than an honest one.
    let expected = mac(secret, t, body).finalize().into_bytes();
    tags.into_iter()
        .take(MAX_SIGNATURES)
        .filter_map(decode_hex)
        .filter(|tag| tag.len() == expected.len())
        .any(|tag| bool::from(subtle::ConstantTimeEq::ct_eq(&tag[..], &expected[..])))
}

/// The `v1=` values of one header looked at (several allow a secret's rotation).
const MAX_SIGNATURES: usize = 8;

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The JSON body POSTed for `event` of `group`:
/// `{"id", "type", "group", "time", "data"}`, `data` being the record as the
/// SSE stream and the methods give it (the binding's JSON mapping).
pub fn event_body(group: &AdminGroupId, event: &Event) -> Vec<u8> {
    use serde_json::Value;
    let mut body = serde_json::Map::with_capacity(5);
    body.insert("id".into(), Value::String(event.id.as_str().to_owned()));
    body.insert("type".into(), Value::String(event.kind.as_str().to_owned()));
    body.insert("group".into(), Value::String(group.as_str().to_owned()));
    body.insert(
        "time".into(),
        Value::String(pbx_xmlrpc::events::rfc3339(event.time)),
    );
    body.insert(
        "data".into(),
        pbx_xmlrpc::events::event_data_json(&event.data),
    );
    // A map of strings and JSON values always serializes.
    serde_json::to_vec(&Value::Object(body)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_header_of_empty_or_many_signatures_does_not_verify() {
        let secret = b"0123456789abcdef";
        let body = b"{\"id\":\"a-1\"}";
        let good = sign(secret, 1_700_000_000, body);
        let tag = good.split_once(",v1=").unwrap().1;
        assert!(!verify_signature(
            secret,
            "t=1700000000,v1=",
            body,
            1_700_000_000,
            300
        ));
        let short = format!("t=1700000000,v1={}", &tag[..32]);
        assert!(
            !verify_signature(secret, &short, body, 1_700_000_000, 300),
            "a prefix of the tag"
        );
        // Rotation: the right tag among a few wrong ones verifies...
        let rotated = format!("t=1700000000,v1={},v1={tag}", "00".repeat(32));
        assert!(verify_signature(secret, &rotated, body, 1_700_000_000, 300));
        // ...but not past the first MAX_SIGNATURES values, so a header of
        // thousands costs one HMAC and a bounded number of comparisons.
        let flood = format!(
            "t=1700000000{},v1={tag}",
            ",v1=".repeat(MAX_SIGNATURES).as_str()
        );
        assert!(!verify_signature(secret, &flood, body, 1_700_000_000, 300));
    }

    #[test]
    fn a_signature_verifies_and_a_changed_byte_does_not() {
        let secret = b"0123456789abcdef";
        let header = sign(secret, 1_700_000_000, b"{\"id\":\"a-1\"}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        assert!(verify_signature(
            secret,
            &header,
            b"{\"id\":\"a-1\"}",
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            secret,
            &header,
            b"{\"id\":\"a-2\"}",
            1_700_000_100,
            300
        ));
        assert!(!verify_signature(
            b"another secret!!",
            &header,
            b"{\"id\":\"a-1\"}",
            1_700_000_100,
            300
        ));
        assert!(
            !verify_signature(secret, &header, b"{\"id\":\"a-1\"}", 1_700_001_000, 300),
            "too old"
        );
        for bad in [
            "",
            "t=1700000000",
            "v1=00",
            "t=x,v1=00",
            "t=1700000000,v1=zz",
        ] {
            assert!(
                !verify_signature(secret, bad, b"", 1_700_000_000, 300),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_signature_matches_an_independent_hmac() {
        // The documented rule, computed by hand: HMAC over "<t>.<body>".
        let tag = sign(b"Jefe", 0, b"x");
        let expected = {
            let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
            mac.update(b"0.x");
            mac.finalize().into_bytes()
        };
        let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tag, format!("t=0,v1={hex}"));
    }
}
