//! `switchboard`: the reference PBXpress XML-RPC server, and a command-line client
//! for any PBXpress XML-RPC API.
//!
//! `switchboard serve [--listen ADDR] [--config FILE] [--no-simulation]` serves the
//! API on the built-in demo PBX (or the PBX a TOML file describes) until SIGINT,
//! SIGTERM or SIGHUP, then finishes the requests in flight. The first line on
//! stdout is `listening on http://ADDR/RPC2` with the address actually bound, so
//! that `--listen 127.0.0.1:0` can be used by scripts; logs go to stderr
//! (`RUST_LOG` filters them, default `info`). Neither a stdout nor a stderr that
//! cannot be written (a closed pipe, a full disk) stops the server or a request.
//!
//! Every other subcommand is a client (`extensions`, `calls`, `transfer`, `watch`,
//! ...): tables for people, `--json` for scripts, and exit codes that tell a
//! connection problem from a refused password or a fault (docs/cli.md).
//! Any error is reported on stderr, one line per problem, with a non-zero exit.
// This binary talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod escape;
mod events;
mod failure;
mod favorites_file;
mod hash_password;
mod json;
mod log_format;
mod manual;
mod metrics_token;
mod output;
mod profile;
mod remote;
mod serve;
mod serve_security;
mod serve_webhooks;
mod watch;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

/// A request allocates and frees dozens of small strings; glibc's malloc spent a
/// quarter of a `dict_get` in them (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let mut outcome = commands::prepare(cli);
    let json = match &mut outcome {
        Ok(command) => commands::wants_json(command),
        Err(_) => asked_for_json(),
    };
    match outcome.and_then(commands::run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Not `eprintln!`: it panics when stderr cannot be written, and the
            // exit code must tell what failed even then.
            let mut stderr = std::io::stderr().lock();
            if json {
                let _ = writeln!(stderr, "{}", failure::json(&error));
            } else {
                for line in failure::message(&error).lines() {
                    let _ = writeln!(stderr, "switchboard: {line}");
                }
            }
            ExitCode::from(failure::exit_code(&error))
        }
    }
}

/// Whether `--json` is among the options (before any `--`): a command line clap
/// refused is still answered in the form the script reads.
fn asked_for_json() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// Reports what clap refused (or prints the help or version it was asked for).
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let asked = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if !asked && asked_for_json() {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{}", failure::clap_json(error));
        return ExitCode::from(2);
    }
    let _ = error.print();
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
}
