//! The client subcommands but `watch`: one request (or a few), one printout.
//!
//! Actions that answer nothing (`transfer`, `drop`, `dict set`, `sim hold`, ...)
//! print nothing on success, or `true` with `--json`, so that `--json` always
//! prints exactly one JSON document. Scalar results (`park`'s slot, `sim call`'s
//! call id, `dict get`'s value) print bare, for `$(...)` in scripts.

use anyhow::Result;
use pbx_client::Client;
use pbx_model::CallId;

use crate::cli::{Command, DictAction, FavoritesAction, Remote, SimAction};
use crate::output::{self, print, print_json};
use crate::{favorites_file, json, remote};

/// Runs a subcommand.
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
            let slot = c.park(&CallId::new(args.call), args.slot).await?;
            if args.remote.json {
                print_json(&slot)
            } else {
                print(&format!("{slot}\n"))
            }
        }),
        Command::Dict(args) => {
            let json = args.remote.json;
            with_client(&args.remote, |c| dict(c, args.action, json))
        }
        Command::Call(args) => with_client(&args.remote, |c| async move {
            let result = c.call(&args.method, args.params).await?;
            print_json(&json::from_value(&result))
        }),
        Command::Sim(args) => {
            let json = args.remote.json;
            with_client(&args.remote, |c| sim(c, args.action, json))
        }
        Command::Serve(args) => crate::serve::serve(args),
        Command::HashPassword(args) => crate::hash_password::run(args),
        Command::Watch(args) => crate::watch::run(args),
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
            client
                .sim_answer(&CallId::new(call), member.as_deref())
                .await?;
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
            let scenario = scenario_text(scenario)?;
            client.sim_play(&scenario, speed, Some(repeat)).await?;
        }
        SimAction::Stop => client.sim_stop().await?,
    }
    done(json)
}

/// What `sim play` sends: the text of a scenario file, or else the argument as a
/// built-in name (the server never reads files on a client's behalf).
fn scenario_text(scenario: String) -> Result<String> {
    let path = std::path::Path::new(&scenario);
    if !path.is_file() {
        return Ok(scenario);
    }
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read scenario file {}: {e}", path.display()))
}
