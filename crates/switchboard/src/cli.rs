//! The command line: every subcommand, its arguments and its help.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use xmlrpc_codec::Value;

use crate::hash_password::HashPasswordArgs;
use crate::serve::ServeArgs;

/// The URL used when neither `--url` nor `SWITCHBOARD_URL` gives one.
pub(crate) const DEFAULT_URL: &str = "http://127.0.0.1:3339/RPC2";

const ROOT_AFTER_HELP: &str = "\
Connection (every client subcommand; the variables keep the password out of ps):
  --url URL          SWITCHBOARD_URL       default http://127.0.0.1:3339/RPC2
  --user USER        SWITCHBOARD_USER      an extension number (or user:password@ in the URL)
  --password PW      SWITCHBOARD_PASSWORD  its self-care password
  --ca FILE          SWITCHBOARD_CA        PEM CA certificates to trust for https:// (private CA)

Exit codes:
  0  success
  1  any other error (a file that cannot be read, ...)
  2  usage error: unknown option, missing or malformed argument, bad URL
  3  connection error: nothing listening, connection lost, timeout
  4  authentication failed (HTTP 401): wrong or missing user or password
  5  fault from the server, printed as `fault CODE: message`
  6  invalid response: not XML-RPC, or an HTTP error status other than 401

Examples:
  switchboard serve
  SWITCHBOARD_USER=203 SWITCHBOARD_PASSWORD=203 switchboard calls
  switchboard extensions --url http://203:203@127.0.0.1:3339/RPC2 --json

More: docs/cli.md";

/// `switchboard`: the reference server and a command-line client.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "The reference PBXpress XML-RPC server, and a command-line client for the API",
    after_help = ROOT_AFTER_HELP
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve the XML-RPC API at http://ADDR/RPC2 until interrupted.
    #[command(after_help = "Example:\n  switchboard serve --listen 0.0.0.0:3339 --config pbx.toml")]
    Serve(ServeArgs),

    /// Print the argon2id hash of a password (read from a prompt or stdin, never
    /// the command line), for `password_hash` in a configuration file.
    #[command(
        after_help = "Example:\n  switchboard hash-password\n  printf '%s\\n' \"$PW\" | switchboard hash-password --memory-kib 65536"
    )]
    HashPassword(HashPasswordArgs),

    /// List the extensions, queues and attendants of your admin group, with their presence.
    #[command(after_help = "Example:\n  switchboard extensions --user 203 --password 203")]
    Extensions(Remote),

    /// List the calls that involve your admin group.
    #[command(
        after_help = "Example:\n  switchboard calls --json | jq '.[] | select(.state == \"ringing\")'"
    )]
    Calls(Remote),

    /// Show the operator-console favorites, or replace them from a file.
    #[command(after_help = FAVORITES_AFTER_HELP)]
    Favorites(FavoritesArgs),

    /// Transfer a call (blind) to an extension, queue, attendant, vm-NUMBER or outside number.
    #[command(after_help = "Example:\n  switchboard transfer 3 204")]
    Transfer(TransferArgs),

    /// Drop (hang up) a call.
    #[command(after_help = "Example:\n  switchboard drop 3")]
    Drop(CallArgs),

    /// Park a call, in SLOT or the lowest free slot; prints the slot taken.
    #[command(
        after_help = "Example:\n  switchboard park 3       # prints the slot, e.g. 1 (dial 700)"
    )]
    Park(ParkArgs),

    /// Show the parking lot: its numbers and the parked calls.
    #[command(after_help = "Example:\n  switchboard parking")]
    Parking(Remote),

    /// Your personal key-value storage on the PBX: get, set, delete, list.
    #[command(
        after_help = "Example:\n  switchboard dict set crm.url https://crm.example/\n  switchboard dict list"
    )]
    Dict(DictArgs),

    /// Call any method, with arguments written as JSON values; prints the result as JSON.
    #[command(after_help = CALL_AFTER_HELP)]
    Call(CallMethodArgs),

    /// Drive the simulated PBX of a reference server (sim.* methods).
    #[command(
        after_help = "Example:\n  CALL=$(switchboard sim call +15550100 201)\n  switchboard sim answer \"$CALL\""
    )]
    Sim(SimArgs),

    /// A live view of the calls and presence, refreshed like top; q or Ctrl-C quits.
    #[command(after_help = WATCH_AFTER_HELP)]
    Watch(WatchArgs),
}

const FAVORITES_AFTER_HELP: &str = "\
FILE is JSON (the format `favorites --json` prints) or, when it ends in .toml, TOML.
Each favorite names its entity by `number`, or by `type` and `id`; `size` is
`single` (the default) or `double`:

  [{\"slot\": 1, \"number\": \"201\"}, {\"slot\": 2, \"type\": \"queue\", \"id\": 1, \"size\": \"double\"}]

  [[favorite]]            # favorites.toml
  slot = 1
  number = \"201\"

Examples:
  switchboard favorites
  switchboard favorites set favorites.toml
  switchboard favorites --json > saved.json && switchboard favorites set saved.json";

const CALL_AFTER_HELP: &str = "\
Arguments are JSON: 42 is an int, 1.5 or 2.0 a double, \"201\" a string (mind the
shell's quotes), true a boolean, [..] an array, {..} a struct;
{\"$base64\": \"aGk=\"} is base64 and {\"$datetime\": \"20240131T12:34:56\"} a dateTime.
Results print in the same notation (nil as null). null and ints beyond 32 bits are
XML-RPC extensions, which the client does not send.

Examples:
  switchboard call system.listMethods
  switchboard call transfer '\"3\"' '\"204\"'
  switchboard call dict_set_serialized '\"layout\"' '{\"columns\": 3, \"names\": [\"a\", \"b\"]}'";

const WATCH_AFTER_HELP: &str = "\
Keys: q, Esc or Ctrl-C quit; r refreshes now. Connection errors show in the view
and the next refresh retries. When stdout is not a terminal, or with --once or
--json, it prints snapshots instead: plain text, or one JSON object per line.

Examples:
  switchboard watch --interval 0.5
  switchboard watch --once --json";

/// Where the API is and who is asking: every client subcommand takes these.
#[derive(Debug, Clone, Args)]
pub(crate) struct Remote {
    /// The API's URL; it may embed credentials (http://USER:PASSWORD@HOST:PORT/RPC2).
    #[arg(
        long,
        env = "SWITCHBOARD_URL",
        hide_env_values = true,
        default_value = DEFAULT_URL,
        value_name = "URL",
        global = true
    )]
    pub(crate) url: String,

    /// The user: an extension number with a self-care password.
    #[arg(long, env = "SWITCHBOARD_USER", value_name = "USER", global = true)]
    pub(crate) user: Option<String>,

    /// The user's password (SWITCHBOARD_PASSWORD keeps it out of the process list).
    #[arg(
        long,
        env = "SWITCHBOARD_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD",
        global = true
    )]
    pub(crate) password: Option<String>,

    /// A PEM file of CA certificates to trust for https:// URLs, besides the
    /// system's (for a server with a private CA or a self-signed certificate).
    #[arg(long, env = "SWITCHBOARD_CA", value_name = "FILE", global = true)]
    pub(crate) ca: Option<PathBuf>,

    /// How long to wait for each answer, in seconds (or e.g. 500ms).
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_duration, global = true)]
    pub(crate) timeout: Duration,

    /// Print JSON for scripts instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct FavoritesArgs {
    #[command(subcommand)]
    pub(crate) action: Option<FavoritesAction>,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FavoritesAction {
    /// Show the favorites (the default).
    #[command(after_help = "Example:\n  switchboard favorites show --json")]
    Show,
    /// Replace the whole list with the favorites in FILE (JSON, or TOML for *.toml; - for stdin).
    #[command(after_help = FAVORITES_AFTER_HELP)]
    Set {
        /// The file; `-` reads JSON from stdin.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct TransferArgs {
    /// The call's id (as `calls` shows it).
    #[arg(value_name = "CALL")]
    pub(crate) call: String,
    /// Where to: an extension, queue or attendant number, vm-NUMBER, or an outside number.
    #[arg(value_name = "DEST")]
    pub(crate) destination: String,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// The call's id (as `calls` shows it).
    #[arg(value_name = "CALL")]
    pub(crate) call: String,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct ParkArgs {
    /// The call's id (as `calls` shows it).
    #[arg(value_name = "CALL")]
    pub(crate) call: String,
    /// The slot, from 1; default: the lowest free one.
    #[arg(value_name = "SLOT", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) slot: Option<u32>,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct DictArgs {
    #[command(subcommand)]
    pub(crate) action: DictAction,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DictAction {
    /// Print the value of KEY (fault -1 when there is none).
    #[command(after_help = "Example:\n  switchboard dict get crm.url")]
    Get {
        /// The key.
        key: String,
    },
    /// Set KEY to VALUE.
    #[command(after_help = "Example:\n  switchboard dict set crm.url https://crm.example/")]
    Set {
        /// The key.
        key: String,
        /// The value (any text).
        value: String,
    },
    /// Delete KEY (also fine when there is none).
    #[command(after_help = "Example:\n  switchboard dict delete crm.url")]
    Delete {
        /// The key.
        key: String,
    },
    /// List every key and its value.
    #[command(after_help = "Example:\n  switchboard dict list --json")]
    List,
}

#[derive(Debug, Args)]
pub(crate) struct CallMethodArgs {
    /// The method's name, e.g. get_calls or system.methodHelp.
    #[arg(value_name = "METHOD")]
    pub(crate) method: String,
    /// The parameters, one JSON value each.
    #[arg(value_name = "ARGS", value_parser = parse_json_arg, allow_negative_numbers = true)]
    pub(crate) params: Vec<Value>,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    #[command(subcommand)]
    pub(crate) action: SimAction,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SimAction {
    /// Start a call from FROM (an extension, or an outside number) to TO; prints its id.
    #[command(after_help = "Example:\n  switchboard sim call +15550100 600 --via Acme-SIP")]
    Call {
        /// An extension of your group, or an outside number (an inbound call).
        from: String,
        /// An extension, queue, attendant or vm-NUMBER of your group.
        to: String,
        /// The connection carrying an inbound call (default: the group's first).
        #[arg(long, value_name = "CONNECTION")]
        via: Option<String>,
    },
    /// The called party answers; for a queue call, --member picks who.
    #[command(after_help = "Example:\n  switchboard sim answer 3 --member 202")]
    Answer {
        /// The call's id.
        call: String,
        /// For a queue call: the ringing member who answers (default: the first).
        #[arg(long, value_name = "NUMBER")]
        member: Option<String>,
    },
    /// Put a connected call on hold.
    #[command(after_help = "Example:\n  switchboard sim hold 3")]
    Hold {
        /// The call's id.
        call: String,
    },
    /// Take a call off hold.
    #[command(after_help = "Example:\n  switchboard sim resume 3")]
    Resume {
        /// The call's id.
        call: String,
    },
    /// End a call, whatever its state.
    #[command(after_help = "Example:\n  switchboard sim hangup 3")]
    Hangup {
        /// The call's id.
        call: String,
    },
    /// Bring an extension's phone online.
    #[command(after_help = "Example:\n  switchboard sim register 204")]
    Register {
        /// The extension number.
        number: String,
    },
    /// Take an extension's phone offline.
    #[command(after_help = "Example:\n  switchboard sim unregister 201")]
    Unregister {
        /// The extension number.
        number: String,
    },
    /// Back to the configured state: no calls, configured presence (storage is kept).
    #[command(after_help = "Example:\n  switchboard sim reset")]
    Reset,
    /// Play a scenario in your group: a built-in name, or a scenario file (docs/scenarios.md).
    #[command(
        after_help = "Example:\n  switchboard sim play office-day --speed 10\n  switchboard sim play fixtures/scenarios/queue-call.toml --loop"
    )]
    Play {
        /// A scenario file (sent as text; the server reads no files), else a built-in name.
        scenario: String,
        /// Play faster (2 = twice as fast) or slower (0.5).
        #[arg(long, value_name = "FACTOR")]
        speed: Option<f64>,
        /// Start again from the top when the scenario ends.
        #[arg(long = "loop")]
        repeat: bool,
    },
    /// Stop the scenario playing in your group; its calls stay.
    #[command(after_help = "Example:\n  switchboard sim stop")]
    Stop,
}

#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Time between refreshes, in seconds (or e.g. 500ms).
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = parse_duration)]
    pub(crate) interval: Duration,
    /// Print one snapshot and exit (what happens anyway when stdout is not a terminal).
    #[arg(long, conflicts_with = "iterations")]
    pub(crate) once: bool,
    /// Stop after N refreshes (default: until q; 1 when stdout is not a terminal).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) iterations: Option<u64>,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

fn parse_json_arg(text: &str) -> Result<Value, String> {
    crate::json::parse_arg(text)
}

/// `1`, `0.5`, `1.5s` or `500ms`: at most a day.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, scale) = match text.strip_suffix("ms") {
        Some(millis) => (millis, 1e-3),
        None => (text.strip_suffix('s').unwrap_or(text), 1.0),
    };
    let seconds = number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|n| n * scale)
        .filter(|s| s.is_finite() && (0.0..=86_400.0).contains(s))
        .ok_or_else(|| format!("{text:?} is not a duration (seconds, e.g. 1, 0.5 or 500ms)"))?;
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_an_example() {
        fn check(command: &clap::Command, path: &str) {
            for sub in command.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                let help = sub
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                assert!(help.contains("Example"), "{path} has no example");
                check(sub, &path);
            }
        }
        check(&Cli::command(), "switchboard");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["", "-1", "nan", "inf", "1e9", "1m", "s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
