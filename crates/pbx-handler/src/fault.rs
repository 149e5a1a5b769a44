//! The one mapping of a [`BackendError`] to a [`Fault`].

use pbx_backend::BackendError;
use pbx_xmlrpc::{FaultCode, INTERNAL_MESSAGE};
use xmlrpc_codec::Fault;

/// The fault a [`BackendError`] becomes: the one place where domain errors meet
/// fault codes.
///
/// | error | fault |
/// |---|---|
/// | `NotFound` | -1 |
/// | `PermissionDenied` | -2 |
/// | `Conflict` | -3 |
/// | `LimitReached` | -4 |
/// | `InvalidInput` | -32602 (an argument value is wrong: slot 0, duplicate slots) |
/// | `Unsupported` | -32601 (the backend does not offer it, e.g. live events) |
/// | `Internal` | 1, message [`INTERNAL_MESSAGE`]; the detail is logged with `tracing::error!` |
///
/// The messages of the other variants are the backend's, which are safe to show.
pub fn fault_from_backend(error: &BackendError) -> Fault {
    match error {
        BackendError::NotFound(m) => FaultCode::NotFound.fault(m.as_str()),
        BackendError::PermissionDenied(m) => FaultCode::PermissionDenied.fault(m.as_str()),
        BackendError::Conflict(m) => FaultCode::Conflict.fault(m.as_str()),
        BackendError::LimitReached(m) => FaultCode::LimitReached.fault(m.as_str()),
        BackendError::InvalidInput(m) => FaultCode::InvalidParams.fault(m.as_str()),
        // What this PBX does not offer is, to the client, a method it lacks.
        BackendError::Unsupported(m) => FaultCode::MethodNotFound.fault(m.as_str()),
        BackendError::Internal(cause) => {
            tracing::error!(error = %cause, "backend failed");
            FaultCode::Internal.fault(INTERNAL_MESSAGE)
        }
        // `BackendError` is non-exhaustive: whatever it grows into is, until mapped
        // here, a server bug rather than something to show the client.
        other => {
            tracing::error!(error = %other, "unmapped backend error");
            FaultCode::Internal.fault(INTERNAL_MESSAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail() {
        let fault = fault_from_backend(&BackendError::internal("disk on fire at /var/x"));
        assert_eq!(fault, Fault::new(1, INTERNAL_MESSAGE));
        let fault = fault_from_backend(&BackendError::invalid_input("slot 0"));
        assert_eq!(fault, Fault::new(-32602, "slot 0"));
    }
}
