//! Reading a request body within the size limits, inflating gzip bodies.

use std::io::Read as _;

use axum::body::{Body, Bytes};
use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use crate::ServerConfig;

/// Why a body could not be read. Each is an HTTP status: the request never
/// reaches the XML-RPC layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Above `max_body_bytes` as sent, or `max_decompressed_bytes` inflated: 413.
    TooLarge,
    /// A `Content-Encoding` other than gzip or identity: 415.
    UnsupportedEncoding,
    /// A gzip body that does not inflate: 400.
    BadGzip,
    /// The connection failed or the framing was broken while reading: 400.
    Unreadable,
}

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n"),
            Self::UnsupportedEncoding => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported Content-Encoding: send identity or gzip\n",
            ),
            Self::BadGzip => (StatusCode::BAD_REQUEST, "request body is not valid gzip\n"),
            Self::Unreadable => (StatusCode::BAD_REQUEST, "request body could not be read\n"),
        };
        let mut response = (
            status,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            message,
        )
            .into_response();
        if self == Self::UnsupportedEncoding {
            // RFC 7694: say which encodings are accepted.
            response
                .headers_mut()
                .insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
}

fn encoding(headers: &HeaderMap) -> Result<Encoding, BodyError> {
    let mut found = Encoding::Identity;
    for value in headers.get_all(CONTENT_ENCODING) {
        for coding in value
            .to_str()
            .map_err(|_| BodyError::UnsupportedEncoding)?
            .split(',')
        {
            let coding = coding.trim();
            if coding.is_empty() || coding.eq_ignore_ascii_case("identity") {
                continue;
            }
            let is_gzip =
                coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip");
            // One layer of gzip; anything else, or gzip twice, is not supported.
            if !is_gzip || found == Encoding::Gzip {
                return Err(BodyError::UnsupportedEncoding);
            }
            found = Encoding::Gzip;
        }
    }
    Ok(found)
}

/// Reads the whole body: at most `max_body_bytes` as sent, and for a gzip body
/// at most `max_decompressed_bytes` once inflated.
pub(crate) async fn read(
    config: &ServerConfig,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, BodyError> {
    let encoding = encoding(headers)?;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > config.max_body_bytes as u64) {
        return Err(BodyError::TooLarge);
    }
    let bytes = Limited::new(body, config.max_body_bytes)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                BodyError::TooLarge
            } else {
                BodyError::Unreadable
            }
        })?
        .to_bytes();
    match encoding {
        Encoding::Identity => Ok(bytes),
        Encoding::Gzip => gunzip(&bytes, config.max_decompressed_bytes).map(Bytes::from),
    }
}

/// Inflates a gzip body (every member, as concatenated gzip files inflate) up to `max` bytes.
fn gunzip(compressed: &[u8], max: usize) -> Result<Vec<u8>, BodyError> {
    let mut inflated = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::MultiGzDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut inflated)
        .map_err(|_| BodyError::BadGzip)?;
    if inflated.len() > max {
        return Err(BodyError::TooLarge);
    }
    Ok(inflated)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gunzip_stops_at_the_limit() {
        let data = vec![b'a'; 1000];
        assert_eq!(gunzip(&gzip(&data), 1000).unwrap(), data);
        assert_eq!(gunzip(&gzip(&data), 999), Err(BodyError::TooLarge));
        assert_eq!(gunzip(b"not gzip", 1000), Err(BodyError::BadGzip));
    }

    #[test]
    fn only_identity_and_one_gzip_layer_are_understood() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_ENCODING, HeaderValue::from_str(v).unwrap());
            encoding(&h)
        };
        assert_eq!(encoding(&HeaderMap::new()), Ok(Encoding::Identity));
        assert_eq!(with("identity"), Ok(Encoding::Identity));
        assert_eq!(with("GZIP"), Ok(Encoding::Gzip));
        assert_eq!(with("x-gzip"), Ok(Encoding::Gzip));
        assert_eq!(with("br"), Err(BodyError::UnsupportedEncoding));
        assert_eq!(with("gzip, gzip"), Err(BodyError::UnsupportedEncoding));
    }
}
