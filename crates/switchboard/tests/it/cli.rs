//! The client subcommands (`switchboard calls`, `transfer`, `watch`, ...) run as
//! the real binary against a `switchboard serve` of the demo PBX: their output,
//! their `--json`, and the exit codes scripts rely on.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;

use serde_json::{Value as Json, json};

use super::{Server, collect, switchboard, wait};

/// What a run of the binary gave.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Expects success; the stdout.
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "{self:#?}");
        &self.stdout
    }

    /// Expects success; the stdout as JSON.
    pub(crate) fn json(&self) -> Json {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("{e}: {self:#?}"))
    }

    /// Expects exit code `code` and nothing on stdout; the stderr.
    pub(crate) fn fails(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "{self:#?}");
        assert!(self.stdout.is_empty(), "{self:#?}");
        &self.stderr
    }
}

/// `switchboard ARGS` with `env` set (and nothing from the caller's environment),
/// `input` on stdin.
pub(crate) fn run_with(env: &[(&str, &str)], args: &[&str], input: &str) -> Run {
    let mut command = switchboard();
    for name in [
        "SWITCHBOARD_URL",
        "SWITCHBOARD_USER",
        "SWITCHBOARD_PASSWORD",
        "SWITCHBOARD_CA",
    ] {
        command.env_remove(name);
    }
    // Only the server under test: no proxy in between.
    command.env("NO_PROXY", "*").env("no_proxy", "*");
    let mut child = command
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let stdout = collect(child.stdout.take().expect("piped stdout"));
    let stderr = collect(child.stderr.take().expect("piped stderr"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    // A command that does not read stdin may exit first: a broken pipe is fine.
    let _ = stdin.write_all(input.as_bytes());
    drop(stdin);
    let status = wait(&mut child);
    Run {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// `switchboard ARGS` as user 203 of `server`.
pub(crate) fn sb(server: &Server, args: &[&str]) -> Run {
    run_with(&as_203(server), args, "")
}

pub(crate) fn as_203(server: &Server) -> [(&'static str, &str); 3] {
    [
        ("SWITCHBOARD_URL", server.url.as_str()),
        ("SWITCHBOARD_USER", "203"),
        ("SWITCHBOARD_PASSWORD", "203"),
    ]
}

/// The record of call `id` in `calls --json`.
pub(crate) fn call_record(server: &Server, id: &str) -> Json {
    let calls = sb(server, &["calls", "--json"]).json();
    calls
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("call {id} not in {calls}"))
        .clone()
}

pub(crate) fn scratch_file(name: &str, contents: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn extensions_show_as_a_table_and_as_json() {
    let server = Server::start(&[]);
    let table = sb(&server, &["extensions"]).ok().to_owned();
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("NUMBER  TYPE"), "{table}");
    let alice = table.lines().find(|l| l.starts_with("201 ")).unwrap();
    for field in ["extension", "Alice Adams", "online", "+16045550201"] {
        assert!(alice.contains(field), "{alice}");
    }
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("600 ") && l.contains("queue"))
    );
    // Globex is another group: invisible.
    assert!(!table.contains("301"), "{table}");

    let json = sb(&server, &["extensions", "--json"]).json();
    let entities = json.as_array().unwrap();
    assert_eq!(entities.len(), 14);
    let carol = entities.iter().find(|e| e["abbreviated"] == "203").unwrap();
    assert_eq!(carol["type"], "extension");
    assert_eq!(carol["callerid"]["name"], "Carol Chen");
    assert_eq!(carol["state"], "online");
    assert_eq!(carol["voicemail"], true);
}

#[test]
fn a_simulated_call_shows_in_calls_then_is_answered_parked_transferred_and_dropped() {
    let server = Server::start(&[]);
    assert_eq!(sb(&server, &["calls"]).ok(), "no calls\n");
    assert_eq!(sb(&server, &["calls", "--json"]).json(), json!([]));

    let id = sb(&server, &["sim", "call", "+15550100", "201"])
        .ok()
        .trim()
        .to_owned();
    assert!(!id.is_empty());
    let table = sb(&server, &["calls"]).ok().to_owned();
    let row = table
        .lines()
        .find(|l| l.starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("{table}"));
    for field in ["ringing", "+15550100", "201 Alice Adams", "PSTN"] {
        assert!(row.contains(field), "{row}");
    }
    let record = call_record(&server, &id);
    assert_eq!(record["state"], "ringing");
    assert_eq!(record["from"]["number"], "+15550100");
    assert_eq!(record["from"]["type"], "unknown");
    assert_eq!(record["to"]["number"], "201");
    assert_eq!(record["via"], "PSTN");
    assert_eq!(record["qcall"], false);

    // Off a terminal, the id of the call that goes on (the same one here).
    assert_eq!(sb(&server, &["sim", "answer", &id]).ok(), format!("{id}\n"));
    assert_eq!(call_record(&server, &id)["state"], "connected");

    assert_eq!(sb(&server, &["park", &id]).ok(), "1\n");
    assert_eq!(call_record(&server, &id)["state"], "parked");
    let parking = sb(&server, &["parking"]).ok().to_owned();
    assert!(
        parking.starts_with("parking 700-709 (10 slots): 1 parked\n"),
        "{parking}"
    );
    assert!(
        parking
            .lines()
            .any(|l| l.split_whitespace().eq(["1", "700", id.as_str()])),
        "{parking}"
    );
    let lot = sb(&server, &["parking", "--json"]).json();
    assert_eq!(lot["parking_extension"], "700");
    assert_eq!(lot["slots"], 10);
    assert_eq!(lot["parked_calls"], json!({ "1": id }));

    // A taken slot is a conflict: exit 5 and the fault line.
    let other = sb(&server, &["sim", "call", "202", "203"])
        .ok()
        .trim()
        .to_owned();
    sb(&server, &["sim", "answer", &other]).ok();
    let stderr = sb(&server, &["park", &other, "1"]).fails(5).to_owned();
    assert!(stderr.starts_with("switchboard: fault -3: "), "{stderr}");
    assert_eq!(
        sb(&server, &["park", &other, "3", "--json"]).json(),
        json!(3)
    );

    // A transfer takes the call out of parking and rings the destination.
    assert_eq!(sb(&server, &["transfer", &id, "205"]).ok(), "");
    let record = call_record(&server, &id);
    assert_eq!(record["to"]["number"], "205");
    assert_eq!(record["state"], "ringing");

    assert_eq!(sb(&server, &["drop", &id, "--json"]).json(), json!(true));
    assert!(!sb(&server, &["calls"]).ok().contains("+15550100"));
    let stderr = sb(&server, &["drop", &id]).fails(5).to_owned();
    assert!(stderr.starts_with("switchboard: fault -1: "), "{stderr}");
    let stderr = sb(&server, &["transfer", "no-such-call", "205"])
        .fails(5)
        .to_owned();
    assert!(stderr.contains("fault -1: "), "{stderr}");
}

#[test]
fn the_sim_subcommands_drive_presence_holds_queues_and_reset() {
    let server = Server::start(&[]);
    let state_of = |number: &str| {
        let all = sb(&server, &["extensions", "--json"]).json();
        all.as_array()
            .unwrap()
            .iter()
            .find(|e| e["abbreviated"] == number)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(sb(&server, &["sim", "unregister", "201"]).ok(), "");
    assert_eq!(state_of("201"), "offline");
    assert_eq!(sb(&server, &["sim", "register", "201"]).ok(), "");
    assert_eq!(state_of("201"), "online");

    let id = sb(&server, &["sim", "call", "202", "203"])
        .ok()
        .trim()
        .to_owned();
    sb(&server, &["sim", "answer", &id]).ok();
    sb(&server, &["sim", "hold", &id]).ok();
    assert_eq!(call_record(&server, &id)["state"], "onhold");
    sb(&server, &["sim", "resume", &id]).ok();
    assert_eq!(call_record(&server, &id)["state"], "connected");
    sb(&server, &["sim", "hangup", &id]).ok();
    assert_eq!(sb(&server, &["calls"]).ok(), "no calls\n");

    // A queue call, answered by a chosen member, over a chosen connection.
    let id = sb(
        &server,
        &["sim", "call", "+15550199", "600", "--via", "Acme-SIP"],
    )
    .ok()
    .trim()
    .to_owned();
    let calls = sb(&server, &["calls", "--json"]).json();
    assert!(
        calls.as_array().unwrap().len() > 1,
        "an incoming record and member records: {calls}"
    );
    assert!(calls.as_array().unwrap().iter().all(|c| c["qcall"] == true));
    assert!(sb(&server, &["calls"]).ok().contains("Acme-SIP"));
    let goes_on = sb(&server, &["sim", "answer", &id, "--member", "202"])
        .ok()
        .trim()
        .to_owned();
    let calls = sb(&server, &["calls", "--json"]).json();
    let answered: Vec<&Json> = calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "connected")
        .collect();
    assert_eq!(answered.len(), 1, "{calls}");
    assert_eq!(answered[0]["to"]["number"], "202");
    assert_eq!(answered[0]["id"], goes_on.as_str(), "{calls}");

    assert_eq!(sb(&server, &["sim", "reset", "--json"]).json(), json!(true));
    assert_eq!(sb(&server, &["calls"]).ok(), "no calls\n");
    // Outside the group is "not found".
    let stderr = sb(&server, &["sim", "call", "202", "301"])
        .fails(5)
        .to_owned();
    assert!(stderr.contains("fault -1: "), "{stderr}");
}

#[test]
fn the_sim_subcommands_answer_fault_2_when_simulation_is_off() {
    let server = Server::start(&["--no-simulation"]);
    let stderr = sb(&server, &["sim", "reset"]).fails(5).to_owned();
    assert!(stderr.starts_with("switchboard: fault -2: "), "{stderr}");
}

#[test]
fn sim_play_sends_a_scenario_file_and_sim_stop_leaves_its_calls() {
    let server = Server::start(&[]);
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/scenarios/queue-call.toml"
    );
    assert_eq!(sb(&server, &["sim", "play", file]).ok(), "");
    // The scenario's first step (at 0 s) rings queue 600 from +15550100 before
    // sim.play answers.
    let calls = sb(&server, &["calls", "--json"]).json();
    let calls = calls.as_array().unwrap();
    assert!(
        calls
            .iter()
            .any(|c| c["from"]["number"] == "+15550100" && c["qcall"] == true),
        "{calls:?}"
    );
    assert_eq!(sb(&server, &["sim", "stop", "--json"]).json(), json!(true));
    assert_eq!(
        sb(&server, &["calls", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        calls.len()
    );
    // Neither a file nor a built-in scenario: the server says what is wrong.
    let stderr = sb(&server, &["sim", "play", "no-such-scenario"])
        .fails(5)
        .to_owned();
    assert!(stderr.contains("no-such-scenario"), "{stderr}");
}

#[test]
fn dict_sets_gets_lists_and_deletes() {
    let server = Server::start(&[]);
    assert_eq!(sb(&server, &["dict", "list"]).ok(), "no keys\n");
    assert_eq!(
        sb(
            &server,
            &["dict", "set", "crm.url", "https://crm.example/?a=1 b"]
        )
        .ok(),
        ""
    );
    sb(&server, &["dict", "set", "theme", "dark"]).ok();
    assert_eq!(
        sb(&server, &["dict", "get", "crm.url"]).ok(),
        "https://crm.example/?a=1 b\n"
    );
    assert_eq!(
        sb(&server, &["dict", "get", "theme", "--json"]).json(),
        json!("dark")
    );
    let table = sb(&server, &["dict", "list"]).ok().to_owned();
    assert!(table.starts_with("KEY"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().eq(["theme", "dark"])),
        "{table}"
    );
    assert_eq!(
        sb(&server, &["dict", "list", "--json"]).json(),
        json!({"crm.url": "https://crm.example/?a=1 b", "theme": "dark"})
    );
    assert_eq!(sb(&server, &["dict", "delete", "theme"]).ok(), "");
    // Deleting what is not there is fine; reading it is fault -1.
    sb(&server, &["dict", "delete", "theme"]).ok();
    let stderr = sb(&server, &["dict", "get", "theme"]).fails(5).to_owned();
    assert!(stderr.starts_with("switchboard: fault -1: "), "{stderr}");
    // Storage is personal: 201 sees none of 203's keys.
    let as_201 = [
        ("SWITCHBOARD_URL", server.url.as_str()),
        ("SWITCHBOARD_USER", "201"),
        ("SWITCHBOARD_PASSWORD", "201"),
    ];
    assert_eq!(run_with(&as_201, &["dict", "list"], "").ok(), "no keys\n");
}

#[test]
fn call_takes_json_arguments_and_prints_json() {
    let server = Server::start(&[]);
    let methods = sb(&server, &["call", "system.listMethods"]).json();
    assert!(
        methods.as_array().unwrap().contains(&json!("get_calls")),
        "{methods}"
    );

    let layout = json!({
        "columns": 3,
        "ratio": 0.5,
        "names": ["a", "b", {"nested": true}],
        "logo": {"$base64": "aGk="},
        "saved": {"$datetime": "20240131T12:34:56"},
    });
    let text = layout.to_string();
    assert_eq!(
        sb(
            &server,
            &["call", "dict_set_serialized", "\"layout\"", &text]
        )
        .json(),
        json!(true)
    );
    assert_eq!(
        sb(&server, &["call", "dict_get_serialized", "\"layout\""]).json(),
        layout
    );
    // The same value, as the text `dict_get` sees.
    let stored = sb(&server, &["dict", "get", "layout"]).ok().to_owned();
    assert!(stored.contains("<base64>aGk=</base64>"), "{stored}");

    // A struct member list (dict_set_many) and an int given for a string.
    sb(
        &server,
        &["call", "dict_set_many", r#"{"k1": "v1", "k2": "v2"}"#],
    )
    .ok();
    assert_eq!(sb(&server, &["dict", "get", "k2"]).ok(), "v2\n");
    let id = sb(&server, &["sim", "call", "202", "203"])
        .ok()
        .trim()
        .to_owned();
    let calls = sb(&server, &["call", "get_calls"]).json();
    assert_eq!(calls[0]["id"], id.as_str());
    assert_eq!(calls[0]["qcall"], 0, "the wire's 0/1 int, as sent: {calls}");

    let stderr = sb(&server, &["call", "no.such.method"]).fails(5).to_owned();
    assert!(stderr.contains("fault -32601: "), "{stderr}");
    let stderr = sb(&server, &["call", "transfer", "[1]", "\"201\""])
        .fails(5)
        .to_owned();
    assert!(stderr.contains("fault -32602: "), "{stderr}");
    // Not JSON: a usage error that says how to write a string.
    let stderr = sb(&server, &["call", "dict_get", "mykey"])
        .fails(2)
        .to_owned();
    assert!(stderr.contains("JSON quotes"), "{stderr}");
    sb(&server, &["call", "park", &id, "-1"]).fails(5);
}

#[test]
fn favorites_are_set_from_toml_json_and_stdin_and_shown() {
    let server = Server::start(&[]);
    assert_eq!(sb(&server, &["favorites"]).ok(), "no favorites\n");

    let toml = scratch_file(
        "cli-favorites.toml",
        "[[favorite]]\nslot = 1\nnumber = \"201\"\n\n\
         [[favorite]]\nslot = 2\nnumber = \"600\"\nsize = \"double\"\n",
    );
    assert_eq!(
        sb(&server, &["favorites", "set", toml.to_str().unwrap()]).ok(),
        ""
    );
    let table = sb(&server, &["favorites"]).ok().to_owned();
    assert!(table.starts_with("SLOT"), "{table}");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["1", "single", "extension", "1", "201", "Alice", "Adams"],
            vec!["2", "double", "queue", "1", "600", "Acme", "Sales"],
        ]
    );

    // What --json prints loads back, from a file or stdin.
    let saved = sb(&server, &["favorites", "--json"]).ok().to_owned();
    let parsed: Json = serde_json::from_str(&saved).unwrap();
    assert_eq!(
        parsed[1],
        json!({"type": "queue", "id": 1, "slot": 2, "size": "double"})
    );
    let json_file = scratch_file("cli-favorites.json", r#"[{"slot": 4, "number": "203"}]"#);
    sb(&server, &["favorites", "set", json_file.to_str().unwrap()]).ok();
    assert_eq!(
        sb(&server, &["favorites", "show", "--json"]).json(),
        json!([{"type": "extension", "id": 3, "slot": 4, "size": "single"}])
    );
    run_with(&as_203(&server), &["favorites", "set", "-"], &saved).ok();
    assert_eq!(sb(&server, &["favorites", "--json"]).json(), parsed);

    // Mistakes change nothing: a number not in the group, a typo, a missing file,
    // another group's entity (the server's fault -1).
    let unknown = scratch_file(
        "cli-favorites-unknown.json",
        r#"[{"slot": 1, "number": "301"}]"#,
    );
    let stderr = sb(&server, &["favorites", "set", unknown.to_str().unwrap()])
        .fails(1)
        .to_owned();
    assert!(stderr.contains("\"301\""), "{stderr}");
    let typo = scratch_file(
        "cli-favorites-typo.toml",
        "[[favorite]]\nslot = 1\nnumbr = \"201\"\n",
    );
    let stderr = sb(&server, &["favorites", "set", typo.to_str().unwrap()])
        .fails(1)
        .to_owned();
    assert!(stderr.contains("cli-favorites-typo.toml"), "{stderr}");
    assert!(stderr.contains("numbr"), "{stderr}");
    let stderr = sb(&server, &["favorites", "set", "/no/such/favorites.json"])
        .fails(1)
        .to_owned();
    assert!(stderr.contains("/no/such/favorites.json"), "{stderr}");
    let globex = scratch_file(
        "cli-favorites-globex.json",
        r#"[{"slot": 1, "type": "extension", "id": 999}]"#,
    );
    let stderr = sb(&server, &["favorites", "set", globex.to_str().unwrap()])
        .fails(5)
        .to_owned();
    assert!(stderr.contains("fault -1: "), "{stderr}");
    assert_eq!(sb(&server, &["favorites", "--json"]).json(), parsed);
}

#[test]
fn exit_codes_tell_auth_connection_usage_and_response_problems_apart() {
    let server = Server::start(&[]);
    let url = server.url.as_str();

    // 4: a wrong password, or none; the password is never printed.
    let wrong = [
        ("SWITCHBOARD_URL", url),
        ("SWITCHBOARD_USER", "203"),
        ("SWITCHBOARD_PASSWORD", "hunter2"),
    ];
    let stderr = run_with(&wrong, &["calls"], "").fails(4).to_owned();
    assert!(stderr.contains("401"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let stderr = run_with(&[("SWITCHBOARD_URL", url)], &["calls"], "")
        .fails(4)
        .to_owned();
    assert!(stderr.contains("none was given"), "{stderr}");
    // Credentials in the URL, or flags, work as well as the variables.
    let with_password = url.replacen("http://", "http://203:203@", 1);
    run_with(&[], &["calls", "--url", &with_password], "").ok();
    let flags = ["calls", "--url", url, "--user", "201", "--password", "201"];
    run_with(&[], &flags, "").ok();
    let user_only = url.replacen("http://", "http://203@", 1);
    run_with(
        &[("SWITCHBOARD_PASSWORD", "203")],
        &["calls", "--url", &user_only],
        "",
    )
    .ok();
    let with_wrong = url.replacen("http://", "http://203:hunter2@", 1);
    let stderr = run_with(&[], &["calls", "--url", &with_wrong], "")
        .fails(4)
        .to_owned();
    assert!(!stderr.contains("hunter2"), "{stderr}");

    // 3: nothing listening, or no answer in time.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/RPC2", listener.local_addr().unwrap())
    };
    let stderr = sb(&server, &["calls", "--url", &closed])
        .fails(3)
        .to_owned();
    assert!(stderr.contains("cannot connect"), "{stderr}");
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/RPC2", silent.local_addr().unwrap());
    let stderr = sb(
        &server,
        &["calls", "--url", &silent_url, "--timeout", "0.2"],
    )
    .fails(3)
    .to_owned();
    assert!(stderr.contains("did not answer in time"), "{stderr}");

    // 6: an HTTP error status, or an answer that is not XML-RPC.
    let wrong_path = url.replace("/RPC2", "/nowhere");
    let stderr = sb(&server, &["calls", "--url", &wrong_path])
        .fails(6)
        .to_owned();
    assert!(stderr.contains("HTTP 404"), "{stderr}");
    let garbage = answer_once(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 11\r\nConnection: close\r\n\r\nnot xml-rpc",
    );
    let stderr = sb(&server, &["calls", "--url", &garbage])
        .fails(6)
        .to_owned();
    assert!(stderr.contains("invalid response"), "{stderr}");

    // 2: clap's usage errors, and what clap cannot see.
    sb(&server, &["transfer", "1"]).fails(2);
    sb(&server, &["park", "1", "zero"]).fails(2);
    sb(&server, &["park", "1", "0"]).fails(2);
    sb(&server, &["no-such-command"]).fails(2);
    sb(&server, &["watch", "--interval", "soon"]).fails(2);
    let stderr = sb(&server, &["calls", "--url", "pbx.example"])
        .fails(2)
        .to_owned();
    assert!(stderr.contains("invalid server URL"), "{stderr}");
    let stderr = run_with(&[("SWITCHBOARD_USER", "203")], &["calls"], "")
        .fails(2)
        .to_owned();
    assert!(stderr.contains("password"), "{stderr}");
}

/// A server that reads one request and sends `response` (raw HTTP); its URL.
fn answer_once(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/RPC2", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        let _ = reader.read_exact(&mut body);
        let _ = reader.get_mut().write_all(response.as_bytes());
    });
    url
}

#[test]
fn every_subcommand_has_help_with_an_example_and_the_root_lists_exit_codes() {
    let secret = [
        ("SWITCHBOARD_PASSWORD", "hunter2"),
        ("SWITCHBOARD_URL", "http://u:hunter2@h/"),
    ];
    let root = run_with(&secret, &["--help"], "").ok().to_owned();
    for line in [
        "3  connection error",
        "4  authentication failed",
        "5  fault from the server",
        "6  invalid response",
        "SWITCHBOARD_URL",
    ] {
        assert!(root.contains(line), "{root}");
    }
    let subcommands = [
        "serve",
        "extensions",
        "calls",
        "favorites",
        "favorites set",
        "transfer",
        "drop",
        "park",
        "parking",
        "dict",
        "dict get",
        "dict set",
        "dict delete",
        "dict list",
        "call",
        "sim",
        "sim call",
        "sim answer",
        "sim hold",
        "sim resume",
        "sim hangup",
        "sim register",
        "sim unregister",
        "sim reset",
        "watch",
    ];
    for path in subcommands {
        let mut args: Vec<&str> = path.split(' ').collect();
        args.push("--help");
        let help = run_with(&secret, &args, "").ok().to_owned();
        assert!(help.contains("Example"), "{path}:\n{help}");
        assert!(!help.contains("hunter2"), "{path}:\n{help}");
    }
}

#[test]
fn watch_prints_snapshots_when_stdout_is_not_a_terminal() {
    let server = Server::start(&[]);
    let id = sb(&server, &["sim", "call", "+15550100", "201"])
        .ok()
        .trim()
        .to_owned();
    let out = sb(
        &server,
        &["watch", "--iterations", "2", "--interval", "0.2"],
    )
    .ok()
    .to_owned();
    let titles: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("switchboard watch: "))
        .collect();
    assert_eq!(titles.len(), 2, "{out}");
    assert!(titles[0].ends_with(" as 203, refresh 1"), "{out}");
    assert!(titles[1].ends_with(" as 203, refresh 2"), "{out}");
    assert_eq!(out.matches("Calls: 1\n").count(), 2, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("{id} ")) && l.contains("ringing")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("201 ") && l.ends_with("ringing")),
        "presence shows the ringing phone: {out}"
    );

    // Off a terminal, one snapshot by default; --json gives one object per line.
    let once = sb(&server, &["watch"]).ok().to_owned();
    assert_eq!(once.matches("switchboard watch: ").count(), 1, "{once}");
    let json = sb(
        &server,
        &["watch", "--json", "--iterations", "2", "--interval", "0.2"],
    )
    .ok()
    .to_owned();
    let lines: Vec<Json> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{json}");
    assert_eq!(lines[1]["calls"][0]["id"], id.as_str());
    assert_eq!(lines[1]["extensions"].as_array().unwrap().len(), 14);

    // A refresh that fails is the exit code when it is the last.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/RPC2", listener.local_addr().unwrap())
    };
    let stderr = sb(&server, &["watch", "--once", "--url", &closed])
        .fails(3)
        .to_owned();
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

/// `watch` on a real (pseudo) terminal: it takes the screen, refreshes, and on
/// `q` gives the terminal back as it found it.
#[cfg(unix)]
#[test]
fn watch_takes_a_terminal_and_gives_it_back_on_q() {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use rustix::termios::{LocalModes, Winsize, tcgetattr, tcsetwinsize};
    use std::sync::mpsc;

    let server = Server::start(&[]);
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let size = Winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    tcsetwinsize(&terminal, size).unwrap();
    let cooked = tcgetattr(&terminal).unwrap();
    assert!(
        cooked
            .local_modes
            .contains(LocalModes::ICANON | LocalModes::ECHO)
    );

    let mut command = switchboard();
    for name in [
        "SWITCHBOARD_URL",
        "SWITCHBOARD_USER",
        "SWITCHBOARD_PASSWORD",
    ] {
        command.env_remove(name);
    }
    let mut child = command
        .envs(as_203(&server))
        .env("NO_PROXY", "*")
        .env("TERM", "xterm")
        .args(["watch", "--interval", "0.2"])
        .stdin(terminal.try_clone().unwrap())
        .stdout(terminal.try_clone().unwrap())
        .stderr(terminal.try_clone().unwrap())
        .spawn()
        .expect("the switchboard binary starts");
    // The command holds copies of the terminal: without them, reading the master
    // ends when the program has exited.
    drop(command);

    // Everything the program writes, as it comes (until it exits: then reading
    // the master fails with EIO, or ends).
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let (chunks, screen) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = reader.read(&mut buffer) {
            if chunks.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    let refreshed = |output: &[u8]| String::from_utf8_lossy(output).contains("refresh 2");
    while !refreshed(&output) {
        match screen.recv_timeout(super::PATIENCE) {
            Ok(chunk) => output.extend(chunk),
            Err(e) => panic!("{e}: {}", String::from_utf8_lossy(&output)),
        }
    }
    let mut keyboard = std::fs::File::from(master);
    keyboard.write_all(b"q").unwrap();
    let status = wait(&mut child);
    // The terminal is back in cooked mode.
    let after = tcgetattr(&terminal).unwrap();
    drop(terminal);
    while let Ok(chunk) = screen.recv_timeout(super::PATIENCE) {
        output.extend(chunk);
    }
    let text = String::from_utf8_lossy(&output);
    assert!(status.success(), "{status}: {text}");
    assert!(
        after
            .local_modes
            .contains(LocalModes::ICANON | LocalModes::ECHO)
    );
    let enter = text.find("\x1b[?1049h").expect("the alternate screen");
    let hide = text.find("\x1b[?25l").expect("the cursor hidden");
    let leave = text.rfind("\x1b[?1049l").expect("back to the main screen");
    let show = text.rfind("\x1b[?25h").expect("the cursor shown");
    assert!(enter < hide && hide < leave && hide < show, "{text:?}");
    assert!(text.contains("Presence: 14"), "{text:?}");
}
