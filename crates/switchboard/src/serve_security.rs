//! `switchboard serve`'s security options: HTTPS, connection caps, timeouts,
//! login throttling and the answer size bound (docs/security.md), and the
//! warning about plain HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use pbx_server::{AppState, ServerConfig, TlsConfig};
use tokio::net::TcpListener;

use crate::cli::parse_duration;

#[derive(Debug, clap::Args)]
pub(crate) struct SecurityArgs {
    /// Serve HTTPS with this PEM certificate chain (server certificate first).
    #[arg(
        long,
        env = "SWITCHBOARD_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        env = "SWITCHBOARD_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
    /// The most connections served at once (more are answered 503).
    #[arg(long, env = "SWITCHBOARD_MAX_CONNECTIONS", value_name = "N", default_value_t = ServerConfig::default().max_connections)]
    max_connections: usize,
    /// The most connections served at once from one client address (IPv6: one /64);
    /// more are answered 429.
    #[arg(long, env = "SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS", value_name = "N", default_value_t = ServerConfig::default().max_connections_per_address)]
    max_connections_per_address: usize,
    /// The most event streams (`GET /events`) open at once; more are answered 503.
    #[arg(long, value_name = "N", default_value_t = ServerConfig::default().max_event_streams)]
    max_event_streams: usize,
    /// The most event streams one user may hold open at once; more are answered 503.
    #[arg(long, value_name = "N", default_value_t = ServerConfig::default().max_event_streams_per_user)]
    max_event_streams_per_user: usize,
    /// The most requests on one keep-alive connection.
    #[arg(long, env = "SWITCHBOARD_MAX_REQUESTS_PER_CONNECTION", value_name = "N", default_value_t = ServerConfig::default().max_requests_per_connection)]
    max_requests_per_connection: usize,
    /// How long a connection may stay idle, or take to send its headers.
    #[arg(long, env = "SWITCHBOARD_IDLE_TIMEOUT", value_name = "SECONDS", default_value = "30", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// How long a request may take to send its body.
    #[arg(long, env = "SWITCHBOARD_BODY_TIMEOUT", value_name = "SECONDS", default_value = "20", value_parser = parse_duration)]
    body_timeout: Duration,
    /// Failed logins of one user from one address answered without delay.
    #[arg(long, env = "SWITCHBOARD_LOGIN_SLOW_AFTER", value_name = "N", default_value_t = ServerConfig::default().throttle.slow_after)]
    login_slow_after: u32,
    /// Failed logins of one user from one address (within 15 minutes) that lock
    /// that user out from that address; 0: never.
    #[arg(long, env = "SWITCHBOARD_LOGIN_LOCK_AFTER", value_name = "N", default_value_t = ServerConfig::default().throttle.lock_after)]
    login_lock_after: u32,
    /// Distinct user names one address may fail with (within 15 minutes) before the
    /// whole address is locked out (password spraying); 0: never.
    #[arg(long, env = "SWITCHBOARD_LOGIN_SPRAY_AFTER", value_name = "N", default_value_t = ServerConfig::default().throttle.spray_after)]
    login_spray_after: u32,
    /// Failed logins of one user from all addresses (within 15 minutes) after which
    /// every attempt at that user is slowed down (never refused).
    #[arg(long, env = "SWITCHBOARD_LOGIN_USER_SLOW_AFTER", value_name = "N", default_value_t = ServerConfig::default().throttle.user_slow_after)]
    login_user_slow_after: u32,
    /// The most passwords checked at once, for clients already logged in and for
    /// the others each (every argon2 check holds its memory cost).
    #[arg(long, env = "SWITCHBOARD_MAX_CONCURRENT_LOGINS", value_name = "N", default_value_t = ServerConfig::default().throttle.max_concurrent_verifications)]
    max_concurrent_logins: usize,
    /// How long a login may wait for --max-concurrent-logins (then 503).
    #[arg(long, env = "SWITCHBOARD_LOGIN_WAIT", value_name = "SECONDS", default_value = "10", value_parser = parse_duration)]
    login_wait: Duration,
    /// How long a lockout lasts (answered 429 with Retry-After).
    #[arg(long, env = "SWITCHBOARD_LOGIN_LOCKOUT", value_name = "SECONDS", default_value = "900", value_parser = parse_duration)]
    login_lockout: Duration,
    /// The largest answer, in bytes; a result beyond it is fault -4 (at least 1024).
    #[arg(
        long,
        env = "SWITCHBOARD_MAX_RESPONSE_BYTES",
        value_name = "BYTES",
        default_value_t = pbx_handler::DEFAULT_MAX_RESPONSE_BYTES as u64,
        value_parser = clap::value_parser!(u64).range(1024..)
    )]
    max_response_bytes: u64,
    /// How long a console session may stay unused before it is signed out.
    #[arg(long, env = "SWITCHBOARD_CONSOLE_SESSION_IDLE", value_name = "SECONDS", default_value = "1800", value_parser = parse_positive_duration)]
    console_session_idle: Duration,
    /// How long a console session lasts after sign-in, used or not.
    #[arg(long, env = "SWITCHBOARD_CONSOLE_SESSION_LIFETIME", value_name = "SECONDS", default_value = "43200", value_parser = parse_positive_duration)]
    console_session_lifetime: Duration,
    /// Console sessions one user may hold; signing in once more ends the oldest.
    #[arg(long, env = "SWITCHBOARD_CONSOLE_SESSIONS_PER_USER", value_name = "N", default_value_t = ServerConfig::default().console.max_sessions_per_user)]
    console_sessions_per_user: usize,
    /// Console sessions held at once in all; more sign-ins are answered 503.
    #[arg(long, env = "SWITCHBOARD_CONSOLE_MAX_SESSIONS", value_name = "N", default_value_t = ServerConfig::default().console.max_sessions)]
    console_max_sessions: usize,
    /// Mark the console's cookie Secure on plain HTTP too: for a proxy in front
    /// that terminates TLS (with --tls-cert it is Secure anyway).
    #[arg(long, env = "SWITCHBOARD_CONSOLE_SECURE_COOKIE")]
    console_secure_cookie: bool,
    /// The most calls one request may make: the entries of a system.multicall
    /// (beyond: fault -32602), and of a JSON-RPC batch with the sub-calls of
    /// any multicall in it (beyond: error -32600). At least 1.
    #[arg(
        long,
        env = "SWITCHBOARD_MAX_MULTICALL",
        value_name = "N",
        default_value_t = ServerConfig::default().max_multicall as u64,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    max_multicall: u64,
    /// The most JSON values one POST /jsonrpc body may hold, counted before it
    /// is parsed (beyond: error -32600). At least 64.
    #[arg(
        long,
        env = "SWITCHBOARD_MAX_JSON_VALUES",
        value_name = "N",
        default_value_t = ServerConfig::default().max_json_values as u64,
        value_parser = clap::value_parser!(u64).range(64..)
    )]
    max_json_values: u64,
    /// How long a client may leave its answer untaken before it is cut off.
    #[arg(long, env = "SWITCHBOARD_WRITE_TIMEOUT", value_name = "SECONDS", default_value = "30", value_parser = parse_positive_duration)]
    write_timeout: Duration,
}

/// A duration above zero: a zero write timeout would cut off any client that
/// falls behind by one socket buffer.
fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err(format!("{text:?} is zero: give a duration above zero")),
        duration => Ok(duration),
    }
}

impl SecurityArgs {
    /// The HTTP layer's configuration these options describe.
    pub(crate) fn server_config(&self) -> ServerConfig {
        let mut config = ServerConfig::default();
        config.max_connections = self.max_connections.max(1);
        config.max_connections_per_address = self.max_connections_per_address.max(1);
        config.max_requests_per_connection = self.max_requests_per_connection.max(1);
        config.max_event_streams = self.max_event_streams;
        config.max_event_streams_per_user = self.max_event_streams_per_user;
        config.idle_timeout = self.idle_timeout;
        config.body_timeout = self.body_timeout;
        config.write_timeout = self.write_timeout;
        config.max_response_bytes = usize::try_from(self.max_response_bytes).unwrap_or(usize::MAX);
        config.max_multicall = usize::try_from(self.max_multicall).unwrap_or(usize::MAX);
        config.max_json_values = usize::try_from(self.max_json_values).unwrap_or(usize::MAX);
        config.throttle.slow_after = self.login_slow_after;
        config.throttle.lock_after = self.login_lock_after;
        config.throttle.lockout = self.login_lockout;
        config.throttle.spray_after = self.login_spray_after;
        config.throttle.user_slow_after = self.login_user_slow_after;
        config.throttle.max_concurrent_verifications = self.max_concurrent_logins.max(1);
        config.throttle.verification_wait = self.login_wait;
        config.console.session_idle = self.console_session_idle;
        config.console.session_lifetime = self.console_session_lifetime;
        config.console.max_sessions_per_user = self.console_sessions_per_user.max(1);
        config.console.max_sessions = self.console_max_sessions;
        config.console.secure_cookie = self.console_secure_cookie;
        config
    }

    /// The certificate to serve HTTPS with, if asked for.
    pub(crate) fn tls(&self) -> Result<Option<TlsConfig>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => TlsConfig::from_pem_files(cert, key)
                .map(Some)
                .context("cannot set up HTTPS"),
            _ => Ok(None),
        }
    }
}

/// Basic auth sends passwords in the clear over plain HTTP: say so when others
/// than this machine can connect.
pub(crate) fn warn_if_exposed(addr: SocketAddr, tls: bool) {
    if !tls && !addr.ip().is_loopback() {
        use std::io::Write as _;
        // Not `eprintln!`, which panics on a stderr that cannot be written.
        let _ = writeln!(
            std::io::stderr().lock(),
            "switchboard: warning: serving plain HTTP on {addr}: passwords (Basic auth) \
             cross the network unencrypted; give --tls-cert and --tls-key, or listen on \
             127.0.0.1 behind a TLS proxy"
        );
    }
}

/// Serves `state` over HTTPS when `tls` is given, else plain HTTP.
pub(crate) async fn serve(
    listener: TcpListener,
    state: AppState,
    tls: Option<TlsConfig>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    match tls {
        Some(tls) => pbx_server::serve_tls(listener, state, tls, shutdown).await,
        None => pbx_server::serve(listener, state, shutdown).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Args {
        #[command(flatten)]
        security: SecurityArgs,
    }

    #[test]
    fn the_login_and_connection_flags_reach_the_server_config() {
        let defaults = Args::try_parse_from(["serve"])
            .unwrap()
            .security
            .server_config();
        assert_eq!(defaults, ServerConfig::default());
        let args = Args::try_parse_from([
            "serve",
            "--max-connections-per-address",
            "8",
            "--max-event-streams-per-user",
            "1",
            "--login-spray-after",
            "5",
            "--login-user-slow-after",
            "50",
            "--max-concurrent-logins",
            "2",
            "--login-wait",
            "3",
        ])
        .unwrap();
        let config = args.security.server_config();
        assert_eq!(config.max_connections_per_address, 8);
        assert_eq!(config.max_event_streams_per_user, 1);
        assert_eq!(config.throttle.spray_after, 5);
        assert_eq!(config.throttle.user_slow_after, 50);
        assert_eq!(config.throttle.max_concurrent_verifications, 2);
        assert_eq!(config.throttle.verification_wait, Duration::from_secs(3));
    }

    #[test]
    fn the_console_session_flags_reach_the_console_config() {
        let config = Args::try_parse_from([
            "serve",
            "--console-session-idle",
            "60",
            "--console-session-lifetime",
            "3600",
            "--console-sessions-per-user",
            "2",
            "--console-max-sessions",
            "50",
            "--console-secure-cookie",
        ])
        .unwrap()
        .security
        .server_config();
        assert_eq!(config.console.session_idle, Duration::from_secs(60));
        assert_eq!(config.console.session_lifetime, Duration::from_secs(3600));
        assert_eq!(config.console.max_sessions_per_user, 2);
        assert_eq!(config.console.max_sessions, 50);
        assert!(config.console.secure_cookie);
        assert!(
            Args::try_parse_from(["serve", "--console-session-idle", "0"]).is_err(),
            "a zero idle time would sign everyone out at once"
        );
    }

    #[test]
    fn the_answer_size_and_write_timeout_flags_reach_their_settings() {
        let defaults = Args::try_parse_from(["serve"]).unwrap().security;
        assert_eq!(
            defaults.server_config().max_response_bytes,
            pbx_handler::DEFAULT_MAX_RESPONSE_BYTES
        );
        assert_eq!(
            defaults.server_config().write_timeout,
            ServerConfig::default().write_timeout
        );

        let given = Args::try_parse_from([
            "serve",
            "--max-response-bytes",
            "4096",
            "--write-timeout",
            "500ms",
        ])
        .unwrap()
        .security;
        assert_eq!(given.server_config().max_response_bytes, 4096);
        assert_eq!(
            given.server_config().write_timeout,
            Duration::from_millis(500)
        );

        // Values that would refuse every answer, or cut off every client, are
        // refused with a message.
        let error = Args::try_parse_from(["serve", "--max-response-bytes", "10"]).unwrap_err();
        assert!(
            error.to_string().contains("--max-response-bytes"),
            "{error}"
        );
        let error = Args::try_parse_from(["serve", "--write-timeout", "0"]).unwrap_err();
        assert!(error.to_string().contains("above zero"), "{error}");
    }

    #[test]
    fn the_multicall_and_json_flags_reach_their_settings() {
        let defaults = Args::try_parse_from(["serve"]).unwrap().security;
        assert_eq!(
            defaults.server_config().max_multicall,
            pbx_handler::DEFAULT_MAX_MULTICALL
        );
        assert_eq!(
            defaults.server_config().max_json_values,
            ServerConfig::default().max_json_values
        );
        let given =
            Args::try_parse_from(["serve", "--max-multicall", "10", "--max-json-values", "100"])
                .unwrap()
                .security;
        assert_eq!(given.server_config().max_multicall, 10);
        assert_eq!(given.server_config().max_json_values, 100);
        for (flag, value) in [("--max-multicall", "0"), ("--max-json-values", "3")] {
            let error = Args::try_parse_from(["serve", flag, value]).unwrap_err();
            assert!(error.to_string().contains(flag), "{error}");
        }
    }
}
