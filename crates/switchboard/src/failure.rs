//! What went wrong, as the exit code scripts test and the line people read.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | anything else (a file that cannot be read, ...) |
//! | 2 | usage error (clap's own code; also a bad URL, an argument XML-RPC cannot carry) |
//! | 3 | connection error or timeout |
//! | 4 | authentication failed (HTTP 401) |
//! | 5 | fault from the server |
//! | 6 | invalid response (not XML-RPC, or an HTTP error status other than 401) |

use pbx_client::{ClientError, ErrorKind};

/// A mistake on the command line that clap cannot see (exit code 2).
#[derive(Debug)]
pub(crate) struct Usage(pub(crate) String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// The exit code for `error`.
pub(crate) fn exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<Usage>().is_some() {
        return 2;
    }
    match error.downcast_ref::<ClientError>() {
        Some(error) => client_exit_code(error),
        None => 1,
    }
}

/// The exit code for a client error.
pub(crate) fn client_exit_code(error: &ClientError) -> u8 {
    match error.kind() {
        // A bad URL, or an argument XML-RPC cannot carry: nothing was sent.
        ErrorKind::InvalidInput => 2,
        ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Transport => 3,
        ErrorKind::Unauthorized => 4,
        ErrorKind::Fault => 5,
        ErrorKind::HttpStatus | ErrorKind::InvalidResponse => 6,
        _ => 1,
    }
}

/// What to print on stderr for `error` (one line per problem; the caller prefixes
/// `switchboard: `).
pub(crate) fn message(error: &anyhow::Error) -> String {
    match error.downcast_ref::<ClientError>() {
        // The fault line is the whole story, whatever context was added on the way.
        Some(client @ ClientError::Fault { .. }) => client_message(client),
        // The outermost message only: it says whether credentials were given.
        Some(ClientError::Unauthorized) => format!(
            "{error}\n(give a user and password with --user/--password, \
             SWITCHBOARD_USER/SWITCHBOARD_PASSWORD or the URL)"
        ),
        _ => format!("{error:#}"),
    }
}

/// `error` with a clearer message when the server wants credentials and none
/// were given.
pub(crate) fn without_credentials(error: anyhow::Error) -> anyhow::Error {
    match error.downcast_ref::<ClientError>() {
        Some(ClientError::Unauthorized) => {
            error.context("the server wants a user and password (HTTP 401), and none was given")
        }
        _ => error,
    }
}

/// The line for a client error; a fault is `fault CODE: message`.
pub(crate) fn client_message(error: &ClientError) -> String {
    match error {
        ClientError::Fault { code, message, .. } => format!("fault {code}: {message}"),
        other => other.to_string(),
    }
}
