//! Fault codes ([`FaultCode`]): SPEC.md's fault table on the wire.

use xmlrpc_codec::Fault;

/// `-32700`: the request is not well-formed XML.
pub const PARSE_ERROR: i32 = -32700;
/// `-32600`: well-formed XML, but not a valid XML-RPC `methodCall`.
pub const INVALID_REQUEST: i32 = -32600;
/// `-32601`: no such method.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// `-32602`: wrong number or types of parameters, or an invalid argument value.
pub const INVALID_PARAMS: i32 = -32602;

/// The message of every internal fault: the detail goes to the log, never to the client.
pub const INTERNAL_MESSAGE: &str = "internal server error";

/// The fault codes of SPEC.md's fault table.
///
/// By the guide's rule a code above zero is an internal server error and anything
/// else a user-level error ([`FaultCode::is_internal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FaultCode {
    /// `1`: a bug or an I/O failure; the message is always [`INTERNAL_MESSAGE`].
    Internal,
    /// `-32700`: not well-formed XML.
    ParseError,
    /// `-32600`: not a valid XML-RPC `methodCall` (also: a nested `system.multicall`).
    InvalidRequest,
    /// `-32601`: no such method.
    MethodNotFound,
    /// `-32602`: wrong number or types of parameters, or an invalid argument value.
    InvalidParams,
    /// `-1`: not found (call, entity, destination, storage key), or outside the
    /// caller's admin group, which answers the same.
    NotFound,
    /// `-2`: the method is not open to this user (e.g. simulation switched off).
    PermissionDenied,
    /// `-3`: conflict or invalid state (slot taken, call state, undecodable value).
    Conflict,
    /// `-4`: limit reached (no free parking slot, storage quota).
    LimitReached,
}

impl FaultCode {
    /// Every code, in SPEC.md's table order.
    pub const ALL: &'static [FaultCode] = &[
        FaultCode::Internal,
        FaultCode::ParseError,
        FaultCode::InvalidRequest,
        FaultCode::MethodNotFound,
        FaultCode::InvalidParams,
        FaultCode::NotFound,
        FaultCode::PermissionDenied,
        FaultCode::Conflict,
        FaultCode::LimitReached,
    ];

    /// The integer on the wire (`faultCode`).
    pub const fn code(self) -> i32 {
        match self {
            FaultCode::Internal => 1,
            FaultCode::ParseError => PARSE_ERROR,
            FaultCode::InvalidRequest => INVALID_REQUEST,
            FaultCode::MethodNotFound => METHOD_NOT_FOUND,
            FaultCode::InvalidParams => INVALID_PARAMS,
            FaultCode::NotFound => -1,
            FaultCode::PermissionDenied => -2,
            FaultCode::Conflict => -3,
            FaultCode::LimitReached => -4,
        }
    }

    /// The code named by `code`, if it is one of SPEC.md's.
    pub fn from_code(code: i32) -> Option<FaultCode> {
        FaultCode::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// What the code means, as SPEC.md's fault table says it.
    pub const fn meaning(self) -> &'static str {
        match self {
            FaultCode::Internal => {
                "internal server error (a bug or an I/O failure; details go to the log, not the client)"
            }
            FaultCode::ParseError => "request is not well-formed XML",
            FaultCode::InvalidRequest => "well-formed XML, but not a valid XML-RPC methodCall",
            FaultCode::MethodNotFound => "no such method",
            FaultCode::InvalidParams => "wrong number or types of parameters, or an invalid value",
            FaultCode::NotFound => "not found: call, entity, destination, storage key",
            FaultCode::PermissionDenied => "permission denied: the method is not open to this user",
            FaultCode::Conflict => {
                "conflict / invalid state: slot taken, call state, value not decodable"
            }
            FaultCode::LimitReached => {
                "limit reached: no free parking slot, storage quota, live-call bound"
            }
        }
    }

    /// A fault with this code and `message`.
    pub fn fault(self, message: impl Into<String>) -> Fault {
        Fault::new(self.code(), message)
    }

    /// Whether `code` is an internal server error by the guide's rule (`code > 0`),
    /// as opposed to a user-level error.
    pub const fn is_internal(code: i32) -> bool {
        code > 0
    }
}

impl std::fmt::Display for FaultCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.code().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_split_internal_from_user_level() {
        for &c in FaultCode::ALL {
            assert_eq!(FaultCode::from_code(c.code()), Some(c));
            assert_eq!(FaultCode::is_internal(c.code()), c == FaultCode::Internal);
        }
        assert_eq!(FaultCode::from_code(7), None);
    }
}
