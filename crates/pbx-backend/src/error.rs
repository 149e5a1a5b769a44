//! [`BackendError`]: what a backend operation can fail with.

/// Why a backend operation failed, in domain terms.
///
/// It knows nothing of fault codes: the XML-RPC binding maps it to the wire in
/// one place. The messages of every variant but [`BackendError::Internal`] are
/// safe to show to the caller and must not reveal anything outside the caller's
/// admin group (say "no such call", never "call belongs to another group").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The call, entity, destination or storage key does not exist, or lies
    /// outside the caller's admin group (the two are indistinguishable).
    #[error("{0}")]
    NotFound(String),
    /// The operation conflicts with the current state: a parking slot is taken,
    /// the call is in a state that does not allow it, a stored value cannot be decoded.
    #[error("{0}")]
    Conflict(String),
    /// A limit is reached: no free parking slot, a storage quota.
    #[error("{0}")]
    LimitReached(String),
    /// The operation is not open to this caller.
    #[error("{0}")]
    PermissionDenied(String),
    /// An argument is malformed (a slot of 0, duplicate favorite slots, an empty key).
    #[error("{0}")]
    InvalidInput(String),
    /// The backend does not offer this feature (e.g. live events).
    #[error("{0}")]
    Unsupported(String),
    /// A bug or an I/O failure. The detail is for the log, never for the client.
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl BackendError {
    /// A not-found error with a message safe for the caller.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }

    /// A conflict error with a message safe for the caller.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    /// A limit-reached error with a message safe for the caller.
    pub fn limit_reached(message: impl Into<String>) -> Self {
        Self::LimitReached(message.into())
    }

    /// A permission-denied error with a message safe for the caller.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::PermissionDenied(message.into())
    }

    /// An invalid-input error with a message safe for the caller.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    /// An unsupported-feature error with a message safe for the caller.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::Unsupported(message.into())
    }

    /// An internal error wrapping its cause (logged, not shown).
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }
}

/// A rule of the user-data layer (`dict_*`, favorites) broken, in API terms:
/// a backend that delegates to [`pbx_user_data::UserData`] answers with `?`.
impl From<pbx_user_data::UserDataError> for BackendError {
    fn from(e: pbx_user_data::UserDataError) -> Self {
        use pbx_user_data::ErrorKind;
        match e.kind() {
            ErrorKind::InvalidInput => Self::InvalidInput(e.to_string()),
            ErrorKind::NotFound => Self::NotFound(e.to_string()),
            ErrorKind::LimitReached => Self::LimitReached(e.to_string()),
            // `Internal` and any class added later: the detail is for the log.
            _ => Self::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_user_data::{StorageError, UserDataError};

    #[test]
    fn user_data_errors_keep_their_class_and_message() {
        let e = BackendError::from(UserDataError::EmptyKey);
        assert!(matches!(&e, BackendError::InvalidInput(m) if m == "empty key"));
        let e = BackendError::from(UserDataError::NoSuchKey { key: "k".into() });
        assert!(matches!(&e, BackendError::NotFound(m) if m == "no such key: k"));
        let e = BackendError::from(UserDataError::QuotaExceeded { max_keys: 3 });
        assert!(
            matches!(&e, BackendError::LimitReached(m) if m == "storage quota reached: at most 3 keys")
        );
        // A store's failure is internal: its detail goes to the log only.
        let failed = StorageError::Failed("disk on fire".into());
        let e = BackendError::from(UserDataError::from(failed));
        assert!(matches!(e, BackendError::Internal(_)));
    }
}
