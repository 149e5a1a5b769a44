//! The client subcommands but `watch`: one request (or a few), one printout.
//!
//! Actions that answer nothing (`transfer`, `drop`, `dict set`, `sim hold`, ...)
//! print nothing on success, or `true` with `--json`, so that `--json` always
//! prints exactly one JSON document. Scalar results (`park`'s slot, `sim call`'s
//! and `sim answer`'s call id, `dict get`'s value) print bare when stdout is not a
//! terminal, for `$(...)` in scripts; on a terminal `park` and `sim answer` say
//! what they did in words, and values from the server are escaped.

use std::io::IsTerminal as _;

use anyhow::Result;
use clap::CommandFactory as _;
use pbx_client::{Client, ClientError};
use pbx_model::{Call, CallId, CallState};

use crate::cli::{Cli, Command, DictAction, FavoritesAction, Remote, SimAction};
use crate::escape::escaped;
use crate::failure::Usage;
use crate::output::{self, print, print_json};
use crate::{favorites_file, json, remote};

/// Whether people read what is printed (then commands say what they did in
/// words) rather than a script (a bare value for `$(...)`).
fn for_people() -> bool {
    std::io::stdout().is_terminal()
}

impl Command {
    /// The connection options of a client subcommand, with those given before
    /// the subcommand filling the gaps; `None` for the others.
    fn remote_mut(&mut self) -> Option<&mut Remote> {
        match self {
            Command::Extensions(r) | Command::Calls(r) | Command::Parking(r) => Some(r),
            Command::Favorites(a) => Some(&mut a.remote),
            Command::Transfer(a) => Some(&mut a.remote),
            Command::Drop(a) => Some(&mut a.remote),
            Command::Park(a) => Some(&mut a.remote),
            Command::Dict(a) => Some(&mut a.remote),
            Command::Call(a) => Some(&mut a.remote),
            Command::Sim(a) => Some(&mut a.remote),
            Command::Watch(a) => Some(&mut a.remote),
            Command::Events(a) => Some(&mut a.remote),
            Command::Serve(_)
            | Command::HashPassword(_)
            | Command::Completions { .. }
            | Command::Man { .. } => None,
        }
    }
}

/// The subcommand, its connection options merged with those before it; a
/// connection option before a subcommand that takes none is a usage error.
pub(crate) fn prepare(cli: Cli) -> Result<Command> {
    let Cli {
        remote: root,
        mut command,
    } = cli;
    match command.remote_mut() {
        Some(remote) => {
            *remote = std::mem::take(remote).or(root);
            Ok(command)
        }
        None => match root.first_given() {
            Some(option) => Err(Usage(format!(
                "{option} is an option of the client subcommands (calls, watch, ...), \
                 not of {}",
                name(&command)
            ))
            .into()),
            None => Ok(command),
        },
    }
}

fn name(command: &Command) -> &'static str {
    match command {
        Command::Serve(_) => "serve",
        Command::HashPassword(_) => "hash-password",
        Command::Completions { .. } => "completions",
        Command::Man { .. } => "man",
        _ => "this subcommand",
    }
}

/// Whether the command asked for JSON (errors are then JSON too).
pub(crate) fn wants_json(command: &mut Command) -> bool {
    command.remote_mut().is_some_and(|r| r.json)
}

/// Runs a subcommand (after [`prepare`]).
pub(crate) fn run(command: Command) -> Result<()> {
    match command {
        Command::Extensions(r) => with_client(&r, |c| extensions(c, r.json)),
        Command::Calls(r) => with_client(&r, |c| calls(c, r.json)),
        Command::Parking(r) => with_client(&r, |c| parking(c, r.json)),
        Command::Favorites(args) => {
            let r = args.remote;
            match args.action {
                None | Some(FavoritesAction::Show) => with_client(&r, |c| favorites(c, r.json)),
                Some(FavoritesAction::Set { file }) => {
                    // Read the file first: a mistake in it needs no server.
                    let entries = favorites_file::read(&file)?;
                    with_client(&r, |c| set_favorites(c, entries, r.json))
                }
            }
        }
        Command::Transfer(args) => with_client(&args.remote, |c| async move {
            c.transfer(&CallId::new(args.call), &args.destination)
                .await?;
            done(args.remote.json)
        }),
        Command::Drop(args) => with_client(&args.remote, |c| async move {
            c.drop_call(&CallId::new(args.call)).await?;
            done(args.remote.json)
        }),
        Command::Park(args) => with_client(&args.remote, |c| async move {
            let call = CallId::new(args.call);
            let slot = c.park(&call, args.slot).await?;
            if args.remote.json {
                print_json(&slot)
            } else if for_people() {
                // The number to dial is what a person wants next; a lot that cannot
                // be read now does not undo the parking.
                let dial = c
                    .get_parking_info()
                    .await
                    .ok()
                    .and_then(|info| output::dial_number(&info.parking_extension, slot));
                let dial = dial.map(|d| format!(" (dial {d})")).unwrap_or_default();
                print(&format!(
                    "parked call {} in slot {slot}{dial}\n",
                    escaped(call.as_str())
                ))
            } else {
                print(&format!("{slot}\n"))
            }
        }),
        Command::Dict(args) => {
            let json = args.remote.json;
            with_client(&args.remote, |c| dict(c, args.action, json))
        }
        Command::Call(args) => {
            let extensions = args.extensions;
            let client = remote::client_with(&args.remote, |b| b.allow_extensions(extensions))?;
            remote::block_on(&client.clone(), async move {
                let result = client
                    .call(&args.method, args.params)
                    .await
                    .map_err(extension_hint)?;
                print_json(&json::from_value(&result))
            })
        }
        Command::Sim(args) => {
            let json = args.remote.json;
            with_client(&args.remote, |c| sim(c, args.action, json))
        }
        Command::Serve(args) => crate::serve::serve(*args),
        Command::HashPassword(args) => crate::hash_password::run(args),
        Command::Watch(args) => crate::watch::run(args),
        Command::Events(args) => crate::events::run(args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "switchboard", &mut out);
            print(&String::from_utf8_lossy(&out))
        }
        Command::Man { dir } => crate::manual::write(dir.as_deref()),
    }
}

/// An argument the server may not read, refused before sending: say how to send
/// it anyway.
fn extension_hint(error: ClientError) -> anyhow::Error {
    match &error {
        ClientError::Encode(message) if message.contains("extension") => Usage(
            "null and integers beyond 32 bits are XML-RPC extensions (<nil/>, <i8>) that \
             not every server reads: add --extensions to send them"
                .into(),
        )
        .into(),
        _ => error.into(),
    }
}

/// Builds the client and runs `work` with it.
fn with_client<F, Fut>(remote: &Remote, work: F) -> Result<()>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let client = remote::client(remote)?;
    remote::block_on(&client.clone(), work(client))
}

fn done(json: bool) -> Result<()> {
    if json { print_json(&true) } else { Ok(()) }
}

async fn extensions(client: Client, json: bool) -> Result<()> {
    let entities = client.get_extensions().await?;
    if json {
        print_json(&entities)
    } else {
        print(&output::extensions_table(&entities))
    }
}

async fn calls(client: Client, json: bool) -> Result<()> {
    let calls = client.get_calls().await?;
    if json {
        print_json(&calls)
    } else {
        print(&output::calls_table(&calls))
    }
}

async fn parking(client: Client, json: bool) -> Result<()> {
    let info = client.get_parking_info().await?;
    if json {
        print_json(&info)
    } else {
        print(&output::parking(&info))
    }
}

async fn favorites(client: Client, json: bool) -> Result<()> {
    if json {
        return print_json(&client.get_favorites().await?);
    }
    // People want numbers and names, not internal ids.
    let (favorites, entities) = tokio::try_join!(client.get_favorites(), client.get_extensions())?;
    print(&output::favorites_table(&favorites, &entities))
}

async fn set_favorites(
    client: Client,
    entries: Vec<favorites_file::Entry>,
    json: bool,
) -> Result<()> {
    let entities = if entries.iter().any(favorites_file::Entry::needs_lookup) {
        client.get_extensions().await?
    } else {
        Vec::new()
    };
    let favorites = favorites_file::resolve(entries, &entities)?;
    client.set_favorites(&favorites).await?;
    done(json)
}

async fn dict(client: Client, action: DictAction, json: bool) -> Result<()> {
    match action {
        DictAction::Get { key } => {
            let value = client.dict_get(&key).await?;
            if json {
                print_json(&value)
            } else if for_people() {
                print(&format!("{}\n", escaped(&value)))
            } else {
                print(&format!("{value}\n"))
            }
        }
        DictAction::Set { key, value } => {
            client.dict_set(&key, &value).await?;
            done(json)
        }
        DictAction::Delete { key } => {
            client.dict_delete(&key).await?;
            done(json)
        }
        DictAction::List => {
            let entries = client.get_all().await?;
            if json {
                print_json(&output::entries_json(&entries))
            } else {
                print(&output::entries_table(&entries))
            }
        }
    }
}

async fn sim(client: Client, action: SimAction, json: bool) -> Result<()> {
    match action {
        SimAction::Call { from, to, via } => {
            let call = client.sim_call(&from, &to, via.as_deref()).await?;
            return if json {
                print_json(&call)
            } else {
                print(&format!("{call}\n"))
            };
        }
        SimAction::Answer { call, member } => {
            let call = CallId::new(call);
            // sim.answer answers `true`; the record that goes on (for a queue call,
            // the member's, with an id of its own) is found in the calls around it.
            let before = client.get_calls().await?;
            client.sim_answer(&call, member.as_deref()).await?;
            let after = client.get_calls().await?;
            let goes_on = answered_record(&call, member.as_deref(), &before, &after);
            return if json {
                print_json(&goes_on)
            } else if for_people() && goes_on != call {
                print(&format!(
                    "answered: queue call {} goes on as call {}\n",
                    escaped(call.as_str()),
                    escaped(goes_on.as_str())
                ))
            } else if for_people() {
                print(&format!("answered call {}\n", escaped(call.as_str())))
            } else {
                print(&format!("{goes_on}\n"))
            };
        }
        SimAction::Hold { call } => client.sim_hold(&CallId::new(call)).await?,
        SimAction::Resume { call } => client.sim_resume(&CallId::new(call)).await?,
        SimAction::Hangup { call } => client.sim_hangup(&CallId::new(call)).await?,
        SimAction::Register { number } => client.sim_register(&number).await?,
        SimAction::Unregister { number } => client.sim_unregister(&number).await?,
        SimAction::Reset => client.sim_reset().await?,
        SimAction::Play {
            scenario,
            speed,
            repeat,
        } => {
            let (text, file) = scenario_text(scenario)?;
            client
                .sim_play(&text, speed, Some(repeat))
                .await
                .map_err(|e| match &file {
                    Some(file) => name_the_file(e, file),
                    None => e,
                })?;
        }
        SimAction::Stop => client.sim_stop().await?,
    }
    done(json)
}

/// The call that goes on after `call` was answered: `call` itself, or for a queue
/// call the member's record now connected (the one `member` answers on, if given).
fn answered_record(call: &CallId, member: Option<&str>, before: &[Call], after: &[Call]) -> CallId {
    let Some(record) = before.iter().find(|c| &c.id == call) else {
        return call.clone();
    };
    if !record.qcall {
        return call.clone();
    }
    // The queue call's records: the incoming one and each member's, all from the
    // same caller.
    let same_call: Vec<&CallId> = before
        .iter()
        .filter(|c| c.qcall && c.from.number == record.from.number)
        .map(|c| &c.id)
        .collect();
    after
        .iter()
        .filter(|c| same_call.contains(&&c.id) && c.state == CallState::Connected)
        .find(|c| member.is_none_or(|m| c.to.number == m))
        .map_or_else(|| call.clone(), |c| c.id.clone())
}

/// What `sim play` sends: the text of a scenario file and the file's name, or
/// else the argument as a built-in name (the server never reads files on a
/// client's behalf).
fn scenario_text(scenario: String) -> Result<(String, Option<String>)> {
    let path = std::path::Path::new(&scenario);
    if !path.exists() {
        // A path that names nothing is a mistake, not a built-in name.
        let looks_like_a_path =
            scenario.contains(std::path::is_separator) || scenario.ends_with(".toml");
        if looks_like_a_path {
            anyhow::bail!("no such file: {scenario}");
        }
        return Ok((scenario, None));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read scenario file {}: {e}", path.display()))?;
    Ok((text, Some(scenario)))
}

/// The server reads a scenario's text as `scenario`: its errors say
/// `scenario:7:6: ...`, which is `FILE:7:6: ...` for the person who gave FILE.
fn name_the_file(error: ClientError, file: &str) -> ClientError {
    match error {
        ClientError::Fault { code, message } => {
            let mut named = String::with_capacity(message.len() + file.len());
            let mut rest = message.as_str();
            while let Some(at) = rest.find("scenario:") {
                let after = &rest[at + "scenario:".len()..];
                named.push_str(&rest[..at]);
                if after.starts_with(|c: char| c.is_ascii_digit()) {
                    named.push_str(file);
                    named.push(':');
                } else {
                    named.push_str("scenario:");
                }
                rest = after;
            }
            named.push_str(rest);
            ClientError::Fault {
                code,
                message: named,
            }
        }
        other => other,
    }
}
