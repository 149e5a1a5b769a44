//! HTTP Basic authentication: reading the credentials and the one 401 answer.

use std::fmt;

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Standard base64, with or without padding (clients differ).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Longer credentials are refused before decoding.
const MAX_TOKEN_LEN: usize = 4096;
/// Credentials up to this long (a 170-byte `user:password`) are decoded on the stack.
const SMALL_TOKEN_LEN: usize = 228;

/// A user name and password from an `Authorization: Basic` header.
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why a request was not authenticated. For the log only: every failure gets
/// the same answer, so that no answer says which part was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// Not exactly one well-formed `Basic` header with `user:password` in UTF-8.
    Malformed,
    /// The backend did not accept the user name and password.
    Rejected,
}

impl AuthFailure {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Rejected => "rejected",
        }
    }
}

/// Reads the credentials of a request's `Authorization: Basic` header.
pub(crate) fn credentials(headers: &HeaderMap) -> Result<Credentials, AuthFailure> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthFailure::Missing)?;
    if values.next().is_some() {
        return Err(AuthFailure::Malformed);
    }
    let value = value.to_str().map_err(|_| AuthFailure::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthFailure::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("basic") || token.len() > MAX_TOKEN_LEN {
        return Err(AuthFailure::Malformed);
    }
    // Usual credentials are decoded on the stack (3 bytes per 4 of the token),
    // so that the two strings kept are the only allocations of a login; the
    // buffer is small because it is zeroed on every call.
    let mut small = [0_u8; SMALL_TOKEN_LEN / 4 * 3];
    let large;
    let decoded = if token.len() <= SMALL_TOKEN_LEN {
        let len = BASE64
            .decode_slice(token, &mut small)
            .map_err(|_| AuthFailure::Malformed)?;
        &small[..len]
    } else {
        large = BASE64.decode(token).map_err(|_| AuthFailure::Malformed)?;
        &large[..]
    };
    let decoded = std::str::from_utf8(decoded).map_err(|_| AuthFailure::Malformed)?;
    let (user, password) = decoded.split_once(':').ok_or(AuthFailure::Malformed)?;
    Ok(Credentials {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// The `WWW-Authenticate` value for `realm`, made safe for a quoted string.
pub(crate) fn challenge(realm: &str) -> HeaderValue {
    let realm: String = realm
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            ' '..='~' => c,
            _ => '_',
        })
        .collect();
    HeaderValue::try_from(format!("Basic realm=\"{realm}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"))
}

/// The answer to every authentication failure, whatever its cause.
pub(crate) fn unauthorized(challenge: &HeaderValue) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (WWW_AUTHENTICATE, challenge.clone()),
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
        ],
        "authentication required\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn reads_basic_credentials_with_a_colon_in_the_password() {
        // "203:a:b" in base64, once padded and once not.
        for token in ["MjAzOmE6Yg==", "MjAzOmE6Yg"] {
            let c = credentials(&headers(&[&format!("basic  {token} ")])).unwrap();
            assert_eq!((c.user.as_str(), c.password.as_str()), ("203", "a:b"));
        }
    }

    #[test]
    fn reads_credentials_short_and_long_alike() {
        // Around the stack buffer's edge: `203:` and 165 bytes fill its 171.
        for len in (1..=3).chain(160..=172).chain([500, 3000]) {
            let password = "p".repeat(len);
            let token = BASE64.encode(format!("203:{password}"));
            let unpadded = token.trim_end_matches('=');
            for token in [&*token, unpadded] {
                let c = credentials(&headers(&[&format!("Basic {token}")])).unwrap();
                assert_eq!((c.user.as_str(), c.password.as_str()), ("203", &*password));
            }
        }
        let too_long = BASE64.encode(format!("203:{}", "p".repeat(3100)));
        assert!(too_long.len() > MAX_TOKEN_LEN);
        assert_eq!(
            credentials(&headers(&[&format!("Basic {too_long}")])).unwrap_err(),
            AuthFailure::Malformed
        );
    }

    #[test]
    fn refuses_what_is_not_one_basic_header() {
        assert_eq!(
            credentials(&headers(&[])).unwrap_err(),
            AuthFailure::Missing
        );
        for bad in [
            &["Bearer MjAzOjIwMw=="][..],
            &["Basic"],
            &["Basic !!!"],
            &["Basic MjAz"], // "203": no colon
            &["Basic /w=="], // not UTF-8
            &["Basic MjAzOjIwMw==", "Basic MjAzOjIwMw=="],
        ] {
            assert_eq!(
                credentials(&headers(bad)).unwrap_err(),
                AuthFailure::Malformed,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let c = Credentials {
            user: "203".into(),
            password: "s3cret".into(),
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn the_realm_cannot_break_out_of_its_quotes() {
        assert_eq!(challenge("a\"b\\c\u{e9}\n"), "Basic realm=\"a_b_c__\"");
    }
}
