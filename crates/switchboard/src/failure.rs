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
/// `switchboard: `). Control characters (in a fault string, say) are escaped.
pub(crate) fn message(error: &anyhow::Error) -> String {
    crate::escape::escaped_lines(&raw_message(error))
}

fn raw_message(error: &anyhow::Error) -> String {
    match error.downcast_ref::<ClientError>() {
        // The fault line is the whole story, whatever context was added on the
        // way; the server's text stays on that one line.
        Some(client @ ClientError::Fault { .. }) => {
            crate::escape::escaped(&client_message(client)).into_owned()
        }
        Some(ClientError::TooManyRequests { retry_after }) => locked_message(*retry_after),
        // The outermost message only: it says whether credentials were given.
        Some(ClientError::Unauthorized) => format!(
            "{error}\n(give a user and password with --user/--password, \
             SWITCHBOARD_USER/SWITCHBOARD_PASSWORD, the URL or a profile)"
        ),
        _ => format!("{error:#}"),
    }
}

/// `error` with a clearer message for a 401: the server wants credentials and
/// none were given, or it refused `user`'s password.
pub(crate) fn explain_unauthorized(error: anyhow::Error, user: Option<&str>) -> anyhow::Error {
    match (error.downcast_ref::<ClientError>(), user) {
        (Some(ClientError::Unauthorized), None) => {
            error.context("the server wants a user and password (HTTP 401), and none was given")
        }
        (Some(ClientError::Unauthorized), Some(user)) => error.context(format!(
            "the server refused the password of user {} (HTTP 401)",
            crate::escape::escaped(user)
        )),
        _ => error,
    }
}

/// A 429, in words: since when attempts are refused and when that ends.
pub(crate) fn locked_message(retry_after: Option<std::time::Duration>) -> String {
    let until = retry_after.map(|after| {
        let seconds = after.as_secs();
        match jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(
            i64::try_from(seconds).unwrap_or(i64::MAX),
        )) {
            Ok(at) => format!(" until {} UTC (in {seconds} s)", at.strftime("%H:%M:%S")),
            Err(_) => format!(" for {seconds} s"),
        }
    });
    format!(
        "the server refuses this user or address for now (HTTP 429: too many failed \
         logins){}",
        until.unwrap_or_default()
    )
}

/// `error` as one JSON object, what `--json` prints on stderr:
/// `{"error": {"kind": "fault", "message": "...", "code": -3}}`. `code` is the
/// fault code, the HTTP status for an HTTP error, else null.
pub(crate) fn json(error: &anyhow::Error) -> serde_json::Value {
    let client = error.downcast_ref::<ClientError>();
    let kind = if error.downcast_ref::<Usage>().is_some() {
        "usage"
    } else {
        match client.map(ClientError::kind) {
            Some(ErrorKind::InvalidInput) => "invalid_input",
            Some(ErrorKind::Connect) => "connect",
            Some(ErrorKind::Timeout) => "timeout",
            Some(ErrorKind::Unauthorized) => "unauthorized",
            Some(ErrorKind::HttpStatus) => "http_status",
            Some(ErrorKind::Fault) => "fault",
            Some(ErrorKind::InvalidResponse) => "invalid_response",
            Some(ErrorKind::Transport) => "transport",
            _ => "other",
        }
    };
    let code = match client {
        Some(ClientError::Fault { code, .. }) => serde_json::json!(code),
        Some(ClientError::Unauthorized) => serde_json::json!(401),
        Some(ClientError::TooManyRequests { .. }) => serde_json::json!(429),
        Some(ClientError::HttpStatus { status, .. }) => serde_json::json!(status),
        _ => serde_json::Value::Null,
    };
    let mut fields = serde_json::Map::new();
    fields.insert("kind".into(), kind.into());
    // JSON escapes control characters itself: the message is the raw text; a
    // fault's is its faultString (the code has a field of its own).
    let message = match client {
        Some(ClientError::Fault { message, .. }) => message.clone(),
        _ => raw_message(error),
    };
    fields.insert("message".into(), message.into());
    fields.insert("code".into(), code);
    fields.insert("exit_code".into(), exit_code(error).into());
    if let Some(ClientError::TooManyRequests {
        retry_after: Some(after),
    }) = client
    {
        fields.insert("retry_after".into(), after.as_secs().into());
    }
    serde_json::json!({ "error": fields })
}

/// A usage error that clap found, as [`json`] writes errors.
pub(crate) fn clap_json(error: &clap::Error) -> serde_json::Value {
    // The paragraph that says what is wrong, without the usage and the tip.
    let text = error.render().to_string();
    let message = text
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    serde_json::json!({ "error": {
        "kind": "usage",
        "message": message,
        "code": null,
        "exit_code": 2,
    }})
}

/// The line for a client error; a fault is `fault CODE: message`.
pub(crate) fn client_message(error: &ClientError) -> String {
    match error {
        ClientError::Fault { code, message, .. } => format!("fault {code}: {message}"),
        ClientError::TooManyRequests { retry_after } => locked_message(*retry_after),
        other => other.to_string(),
    }
}
