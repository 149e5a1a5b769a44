//! [`Error`], what a handler returns when it fails, and the fault codes ([`codes`])
//! the router answers with.

use xmlrpc_codec::Fault;

/// The fault codes the router itself answers with.
///
/// They follow the "specification for fault code interoperability" (xmlrpc-epi,
/// advertised as `faults_interop` by `system.getCapabilities`), which Python,
/// xmlrpc-c and PHP's xmlrpc-epi also use. Codes of your own ([`Error::fault`])
/// should stay outside `-32768..=-32000`, the range reserved for these.
pub mod codes {
    /// `-32700`: the request is not well-formed XML.
    pub const PARSE_ERROR: i32 = -32700;
    /// `-32600`: well-formed XML but not a valid `methodCall` (also a
    /// `system.multicall` inside a `system.multicall`).
    pub const INVALID_REQUEST: i32 = -32600;
    /// `-32601`: no method of that name.
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// `-32602`: wrong number or types of parameters ([`Error::invalid_params`](crate::Error::invalid_params)).
    pub const INVALID_PARAMS: i32 = -32602;
    /// `-32603`: an internal error ([`Error::internal`](crate::Error::internal), a
    /// result that cannot be encoded). The client gets only
    /// [`INTERNAL_MESSAGE`]; the detail goes to the log.
    pub const INTERNAL_ERROR: i32 = -32603;
    /// `-32400` ("system error"): the answer would pass the router's
    /// `max_response_bytes`. Not a bug: the client asked for more than the server
    /// sends in one answer, and may ask for less.
    pub const RESPONSE_TOO_LARGE: i32 = -32400;

    /// The `faultString` of every [`INTERNAL_ERROR`] fault.
    pub const INTERNAL_MESSAGE: &str = "internal server error";
}

/// Why a handler failed: a fault for the client, or an internal error.
///
/// Every handler returns `Result<_, Error>`, and the router turns each `Error` into
/// a fault in one place:
///
/// - [`Error::Fault`] goes to the client as it is: make it with [`Error::fault`],
///   [`Error::invalid_params`], or `?` on a [`Fault`];
/// - [`Error::Internal`] is logged (at `error` level, with the method name) and the
///   client gets fault [`codes::INTERNAL_ERROR`] with the fixed string
///   [`codes::INTERNAL_MESSAGE`]: no detail of the server leaks.
///
/// To use `?` on errors of your own, convert them in one `From` impl:
///
/// ```
/// use xmlrpc_server::Error;
///
/// enum ShopError { NoSuchItem(u32), Database(std::io::Error) }
///
/// impl From<ShopError> for Error {
///     fn from(e: ShopError) -> Self {
///         match e {
///             ShopError::NoSuchItem(id) => Error::fault(404, format!("no item {id}")),
///             ShopError::Database(e) => Error::internal(e),
///         }
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A fault sent to the client as it is.
    #[error("{0}")]
    Fault(Fault),
    /// An internal error: logged, and answered with a generic fault.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// A fault with `code` and `message`, sent to the client as it is.
    pub fn fault(code: i32, message: impl Into<String>) -> Self {
        Error::Fault(Fault::new(code, message))
    }

    /// Fault [`codes::INVALID_PARAMS`] (`-32602`) with `message`: for a parameter
    /// that decoded but is not acceptable (a negative count, an unknown name).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Error::fault(codes::INVALID_PARAMS, message)
    }

    /// An internal error: logged with its detail, answered with fault
    /// [`codes::INTERNAL_ERROR`] and [`codes::INTERNAL_MESSAGE`] only. Takes any
    /// error, or a `&str` / `String`.
    pub fn internal(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(error.into())
    }

    /// The fault the client gets for this error (without logging it).
    pub fn to_fault(&self) -> Fault {
        match self {
            Error::Fault(fault) => fault.clone(),
            Error::Internal(_) => Fault::new(codes::INTERNAL_ERROR, codes::INTERNAL_MESSAGE),
        }
    }
}

impl From<Fault> for Error {
    fn from(fault: Fault) -> Self {
        Error::Fault(fault)
    }
}

/// The one place an [`Error`] becomes the fault a client sees; internal errors
/// are logged here, with the method that failed.
pub(crate) fn into_fault(method: &str, error: Error) -> Fault {
    if let Error::Internal(detail) = &error {
        tracing::error!(method, error = %detail, "xml-rpc method failed");
    }
    error.to_fault()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_tells_the_client_nothing_of_its_detail() {
        let error = Error::internal("database password rejected for user admin");
        let fault = into_fault("shop.buy", error);
        assert_eq!(fault, Fault::new(-32603, "internal server error"));
    }

    #[test]
    fn a_fault_reaches_the_client_as_it_is() {
        let fault = Fault::new(404, "no item 7");
        assert_eq!(into_fault("shop.get", fault.clone().into()), fault);
        assert_eq!(
            Error::invalid_params("count must be positive").to_fault(),
            Fault::new(-32602, "count must be positive")
        );
    }
}
