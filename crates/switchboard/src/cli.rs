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
Connection: these options go before or after a client subcommand. Each setting is
taken from the command line, else the environment (SWITCHBOARD_URL, SWITCHBOARD_USER,
SWITCHBOARD_PASSWORD, SWITCHBOARD_CA, SWITCHBOARD_PROFILE), else the profile of the
client configuration file ($XDG_CONFIG_HOME/switchboard/client.toml), else the default.

Exit codes:
  0  success
  1  any other error (a file that cannot be read, ...)
  2  usage error: unknown option, missing or malformed argument, bad URL
  3  connection error: nothing listening, connection lost, timeout
  4  authentication failed (HTTP 401): wrong or missing user or password
  5  fault from the server, printed as `fault CODE: message`
  6  invalid response: not XML-RPC, or an HTTP error status other than 401 (429: locked out)
With --json, an error is one JSON object on stderr: {\"error\": {\"kind\": ..., \"message\": ...}}.

Examples:
  switchboard serve
  SWITCHBOARD_USER=203 SWITCHBOARD_PASSWORD=203 switchboard calls
  switchboard extensions --url http://203:203@127.0.0.1:3339/RPC2 --json
  switchboard --profile office calls
  switchboard completions bash > /etc/bash_completion.d/switchboard

More: docs/cli.md";

/// `switchboard`: the reference server and a command-line client.
#[derive(Debug, Parser)]
#[command(
    version,
    about = "The reference PBXpress XML-RPC server, and a command-line client for the API",
    after_help = ROOT_AFTER_HELP
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) remote: RootRemote,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve the XML-RPC API at http://ADDR/RPC2 until interrupted.
    #[command(after_help = "Example:\n  switchboard serve --listen 0.0.0.0:3339 --config pbx.toml")]
    Serve(Box<ServeArgs>),

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

    /// Print the live events of your admin group as they happen; Ctrl-C quits.
    #[command(after_help = EVENTS_AFTER_HELP)]
    Events(EventsArgs),

    /// Print the shell completion script for SHELL on stdout.
    #[command(
        after_help = "Examples:\n  switchboard completions bash > ~/.local/share/bash-completion/completions/switchboard\n  switchboard completions zsh > ~/.zfunc/_switchboard\n  switchboard completions fish > ~/.config/fish/completions/switchboard.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },

    /// Write the manual pages (roff): switchboard.1 on stdout, or one page per
    /// subcommand into DIR.
    #[command(
        after_help = "Examples:\n  switchboard man | man -l -\n  switchboard man /usr/local/share/man/man1"
    )]
    Man {
        /// The directory to write switchboard.1, switchboard-calls.1, ... into.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
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
Results print in the same notation (nil as null). null (<nil/>) and ints beyond 32
bits (<i8>) are XML-RPC extensions: they are sent only with --extensions.

Examples:
  switchboard call system.listMethods
  switchboard call transfer '\"3\"' '\"204\"'
  switchboard call dict_set_serialized '\"layout\"' '{\"columns\": 3, \"names\": [\"a\", \"b\"]}'
  switchboard call --extensions some.method null 5000000000";

const WATCH_AFTER_HELP: &str = "\
Keys: q, Esc or Ctrl-C quit; r refreshes now. Connection errors show in the view
and the next refresh retries. When stdout is not a terminal, or with --once or
--json, it prints snapshots instead: plain text, or one JSON object per line.
The data follows the server's live events (GET /events) when it offers them,
and is polled every --interval otherwise (or with --poll).

Examples:
  switchboard watch --interval 0.5
  switchboard watch --once --json";

const EVENTS_AFTER_HELP: &str = "\
One line per event: the time, the type and the record's key facts; with --json
one {id, type, time, data} object per line. A `snapshot` line comes first, and
again when the stream had to start over (re-read what you show then). The
stream reconnects by itself and resumes where it was.

Examples:
  switchboard events
  switchboard events --json --types call.created,call.ended";

/// Declares a struct of the connection options: the same options at the top
/// (`switchboard --json calls`) and on each client subcommand (`switchboard calls
/// --json`). Those of a subcommand are `global` so that nested subcommands
/// (`sim call`, `dict get`) take them too; the top's are not, so that `serve`
/// neither shows nor takes them.
///
/// No option has a clap default or `env`: [`crate::profile`] fills what the command
/// line leaves out from the environment, then the profile, then the defaults.
macro_rules! connection_options {
    ($(#[$meta:meta])* $name:ident, global = $global:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, Args)]
        #[command(next_help_heading = "Connection")]
        pub(crate) struct $name {
            /// The API's URL, which may embed credentials (http://USER:PASSWORD@HOST:PORT/RPC2)
            /// [env SWITCHBOARD_URL; default http://127.0.0.1:3339/RPC2].
            #[arg(long, value_name = "URL", global = $global)]
            pub(crate) url: Option<String>,

            /// The user: an extension number with a self-care password [env SWITCHBOARD_USER].
            #[arg(long, value_name = "USER", global = $global)]
            pub(crate) user: Option<String>,

            /// The user's password; better SWITCHBOARD_PASSWORD or a profile's
            /// password_command, which keep it out of the process list.
            #[arg(long, value_name = "PASSWORD", global = $global)]
            pub(crate) password: Option<String>,

            /// A PEM file of CA certificates to trust for https:// URLs, besides the
            /// system's (a private CA, a self-signed certificate) [env SWITCHBOARD_CA].
            #[arg(long, value_name = "FILE", global = $global)]
            pub(crate) ca: Option<PathBuf>,

            /// How long to wait for each answer, in seconds or e.g. 500ms; more than 0
            /// [default 10].
            #[arg(long, value_name = "SECONDS", value_parser = parse_timeout, global = $global)]
            pub(crate) timeout: Option<Duration>,

            /// The profile of the client configuration file to use [env SWITCHBOARD_PROFILE;
            /// default: the file's `default`].
            #[arg(long, value_name = "NAME", global = $global)]
            pub(crate) profile: Option<String>,

            /// The client configuration file [default
            /// $XDG_CONFIG_HOME/switchboard/client.toml].
            #[arg(long, value_name = "FILE", global = $global)]
            pub(crate) client_config: Option<PathBuf>,

            /// Print JSON for scripts instead of tables (errors too, on stderr).
            #[arg(long, global = $global)]
            pub(crate) json: bool,
        }
    };
}

connection_options!(
    /// The connection options of a client subcommand.
    Remote,
    global = true
);

connection_options!(
    /// The connection options given before the subcommand (`switchboard --json calls`).
    RootRemote,
    global = false
);

impl Remote {
    /// These options, with those given before the subcommand filling the gaps.
    pub(crate) fn or(self, root: RootRemote) -> Remote {
        Remote {
            url: self.url.or(root.url),
            user: self.user.or(root.user),
            password: self.password.or(root.password),
            ca: self.ca.or(root.ca),
            timeout: self.timeout.or(root.timeout),
            profile: self.profile.or(root.profile),
            client_config: self.client_config.or(root.client_config),
            json: self.json || root.json,
        }
    }
}

impl RootRemote {
    /// The first option given, as written on the command line (for a subcommand
    /// that takes none).
    pub(crate) fn first_given(&self) -> Option<&'static str> {
        [
            (self.url.is_some(), "--url"),
            (self.user.is_some(), "--user"),
            (self.password.is_some(), "--password"),
            (self.ca.is_some(), "--ca"),
            (self.timeout.is_some(), "--timeout"),
            (self.profile.is_some(), "--profile"),
            (self.client_config.is_some(), "--client-config"),
            (self.json, "--json"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }
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
    #[arg(value_name = "SLOT", value_parser = parse_slot)]
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
    /// Send null as <nil/> and integers beyond 32 bits as <i8> (XML-RPC extensions
    /// that not every server reads).
    #[arg(long)]
    pub(crate) extensions: bool,
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
    /// Time between refreshes, in seconds (or e.g. 500ms); at least 0.2.
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = parse_interval)]
    pub(crate) interval: Duration,
    /// Print one snapshot and exit (what happens anyway when stdout is not a terminal).
    #[arg(long, conflicts_with = "iterations")]
    pub(crate) once: bool,
    /// Stop after N refreshes (default: until q; 1 when stdout is not a terminal).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) iterations: Option<u64>,
    /// Poll get_calls and get_extensions every interval, even when the server
    /// offers live events.
    #[arg(long)]
    pub(crate) poll: bool,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    /// Only these types (comma-separated): call.created, call.updated,
    /// call.ended, entity.updated, parking.updated, favorites.updated, snapshot.
    #[arg(long, value_name = "TYPES", value_delimiter = ',', value_parser = crate::events::parse_type)]
    pub(crate) types: Vec<String>,
    #[command(flatten)]
    pub(crate) remote: Remote,
}

fn parse_json_arg(text: &str) -> Result<Value, String> {
    crate::json::parse_arg(text)
}

/// The shortest `watch --interval`: each refresh is two requests, and a view
/// refreshed faster than a person reads only loads the server.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_millis(200);

/// The highest slot XML-RPC's `<int>` carries.
const MAX_SLOT: u32 = i32::MAX.unsigned_abs();

/// `park`'s SLOT: 1 to [`MAX_SLOT`].
fn parse_slot(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text:?} is not a slot number (1..={MAX_SLOT})"));
    }
    text.parse::<u32>()
        .ok()
        .filter(|s| (1..=MAX_SLOT).contains(s))
        .ok_or_else(|| format!("slot out of range (1..={MAX_SLOT})"))
}

/// A client's `--timeout`: a duration above zero (zero would fail every call).
fn parse_timeout(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err("a timeout of 0 would fail every request: give more than 0 \
             seconds, e.g. 10 or 500ms"
            .to_owned()),
        timeout => Ok(timeout),
    }
}

/// `watch --interval`: at least [`MIN_INTERVAL`].
fn parse_interval(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        interval if interval < MIN_INTERVAL => Err(format!(
            "the interval must be at least {}s (a refresh is two requests to the server)",
            MIN_INTERVAL.as_secs_f64()
        )),
        interval => Ok(interval),
    }
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

    #[test]
    fn a_zero_timeout_and_a_too_short_interval_are_refused_with_a_reason() {
        assert!(parse_timeout("0").unwrap_err().contains("more than 0"));
        assert!(parse_timeout("0ms").is_err());
        assert_eq!(parse_timeout("0.2"), Ok(Duration::from_millis(200)));
        assert!(parse_interval("0").unwrap_err().contains("at least 0.2s"));
        assert!(parse_interval("100ms").is_err());
        assert_eq!(parse_interval("0.2"), Ok(MIN_INTERVAL));
    }

    #[test]
    fn a_slot_beyond_an_xml_rpc_int_is_out_of_range() {
        assert_eq!(parse_slot("1"), Ok(1));
        assert_eq!(parse_slot("2147483647"), Ok(2_147_483_647));
        for bad in ["0", "3000000000", "99999999999999999999", "-1"] {
            assert_eq!(
                parse_slot(bad),
                Err("slot out of range (1..=2147483647)".to_owned()),
                "{bad}"
            );
        }
        assert!(parse_slot("one").unwrap_err().contains("not a slot number"));
    }
}
