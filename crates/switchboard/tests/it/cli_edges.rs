//! The rough edges of the command line (issue 19), each test named after what
//! broke: options before the subcommand, client profiles, completions and man
//! pages, `watch` on a refused password or a lockout, what commands say, errors as
//! JSON, friendly messages, escaped control characters, honest help.

use std::path::PathBuf;

use serde_json::{Value as Json, json};

use super::cli::{Run, as_203, call_record, run_with, sb, scratch_file};
use super::{Server, root};

/// A folder of its own under the target's scratch space.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn options_before_the_subcommand_were_refused() {
    let server = Server::start(&[]);
    let url = server.url.as_str();
    let me = ["--url", url, "--user", "203", "--password", "203"];
    let with = |rest: &[&str]| -> Run {
        let mut all = me.to_vec();
        all.extend(rest);
        run_with(&[], &all, "")
    };
    // --json, and the whole connection, before the subcommand.
    assert_eq!(with(&["--json", "calls"]).json(), json!([]));
    let table = with(&["extensions"]).ok().to_owned();
    assert!(table.starts_with("NUMBER  TYPE"), "{table}");
    // Nested subcommands too.
    let id = with(&["sim", "call", "202", "203"]).ok().trim().to_owned();
    assert!(!id.is_empty());
    // After the subcommand as before, and after wins over before.
    let mut after = vec!["calls", "--json"];
    after.extend(me);
    run_with(&[], &after, "").json();
    let both = [
        "--user",
        "201",
        "--password",
        "nope",
        "calls",
        "--url",
        url,
        "--user",
        "203",
        "--password",
        "203",
    ];
    run_with(&[], &both, "").ok();
    // Not an option of serve: a usage error that says so.
    let stderr = run_with(&[], &["--json", "serve", "--ephemeral"], "")
        .fails(2)
        .to_owned();
    assert!(
        stderr.contains("--json") && stderr.contains("serve"),
        "{stderr}"
    );
}

#[test]
fn the_ca_option_before_the_subcommand_reaches_https() {
    let tls = root().join("fixtures/client-tls");
    let cert = tls.join("server.pem").display().to_string();
    let key = tls.join("server.key.pem").display().to_string();
    let ca = tls.join("ca.pem").display().to_string();
    let server = Server::start(&["--ephemeral", "--tls-cert", &cert, "--tls-key", &key]);
    let args = [
        "--ca",
        &ca,
        "--url",
        &server.url,
        "--user",
        "203",
        "--password",
        "203",
        "extensions",
        "--json",
    ];
    let out = run_with(&[], &args, "").json();
    assert_eq!(out.as_array().unwrap().len(), 14);
}

/// A client configuration file in its own folder: (folder, file).
fn client_config(name: &str, text: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(name);
    let file = dir.join("client.toml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

#[test]
fn there_was_no_client_configuration_file_nor_profiles() {
    let server = Server::start(&[]);
    let text = format!(
        "default = \"office\"\n\n[profile.office]\nurl = \"{}\"\nuser = \"203\"\n\
         password_command = \"echo 203\"\n\n[profile.alice]\nurl = \"{}\"\nuser = \"201\"\n\
         password_file = \"alice.password\"\n",
        server.url, server.url
    );
    let (dir, file) = client_config("cli-profiles", &text);
    let config = file.display().to_string();

    // The default profile, from --client-config.
    let me = run_with(
        &[],
        &["--client-config", &config, "dict", "set", "who", "203"],
        "",
    );
    me.ok();
    // A profile by name, with its password file (only its owner may read it).
    let secret = dir.join("alice.password");
    std::fs::write(&secret, "201\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        let stderr = run_with(
            &[],
            &["--client-config", &config, "--profile", "alice", "calls"],
            "",
        )
        .fails(1)
        .to_owned();
        assert!(stderr.contains("alice.password"), "{stderr}");
        assert!(stderr.contains("chmod 600"), "{stderr}");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let alice = [("SWITCHBOARD_PROFILE", "alice")];
    assert_eq!(
        run_with(&alice, &["dict", "list", "--client-config", &config], "").ok(),
        "no keys\n",
        "201 has no keys of 203's"
    );
    // A flag beats the profile: 203's key, read as 203 by flags over alice's profile.
    let flags = [
        "--client-config",
        &config,
        "--profile",
        "alice",
        "--user",
        "203",
        "--password",
        "203",
    ];
    let mut with_get = flags.to_vec();
    with_get.extend(["dict", "get", "who"]);
    assert_eq!(run_with(&[], &with_get, "").ok(), "203\n");

    // The file at its default place, $XDG_CONFIG_HOME/switchboard/client.toml.
    let home = scratch_dir("cli-profiles-home");
    std::fs::create_dir_all(home.join("switchboard")).unwrap();
    std::fs::copy(&file, home.join("switchboard/client.toml")).unwrap();
    let mut command = super::switchboard();
    let out = command
        .env("XDG_CONFIG_HOME", &home)
        .env("NO_PROXY", "*")
        .env_remove("SWITCHBOARD_URL")
        .env_remove("SWITCHBOARD_USER")
        .env_remove("SWITCHBOARD_PASSWORD")
        .args(["dict", "get", "who"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "203\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Mistakes: an unknown profile, a typo that names the file and line.
    let stderr = run_with(
        &[],
        &["--client-config", &config, "--profile", "home", "calls"],
        "",
    )
    .fails(2)
    .to_owned();
    assert!(stderr.contains("no profile \"home\""), "{stderr}");
    assert!(stderr.contains("alice, office"), "{stderr}");
    let (_, typo) = client_config(
        "cli-profiles-typo",
        "[profile.x]\nurl = \"http://h/\"\nusr = \"1\"\n",
    );
    let typo = typo.display().to_string();
    let stderr = run_with(&[], &["calls", "--client-config", &typo], "")
        .fails(1)
        .to_owned();
    assert!(
        stderr.starts_with(&format!("switchboard: {typo}:3:1: ")),
        "{stderr}"
    );
    assert!(stderr.contains("usr"), "{stderr}");
}

#[test]
fn there_were_no_shell_completions_nor_man_pages() {
    let bash = run_with(&[], &["completions", "bash"], "").ok().to_owned();
    assert!(bash.contains("switchboard"), "{bash}");
    assert!(
        bash.contains("watch") && bash.contains("extensions"),
        "{bash}"
    );
    for shell in ["zsh", "fish", "powershell"] {
        let script = run_with(&[], &["completions", shell], "").ok().to_owned();
        assert!(script.contains("watch"), "{shell}: {script}");
    }
    run_with(&[], &["completions", "tcsh"], "").fails(2);

    let page = run_with(&[], &["man"], "").ok().to_owned();
    assert!(page.contains(".TH switchboard 1"), "{page}");
    let dir = scratch_dir("cli-man");
    let out = dir.join("man1");
    run_with(&[], &["man", out.to_str().unwrap()], "").ok();
    let calls = std::fs::read_to_string(out.join("switchboard-calls.1")).unwrap();
    assert!(calls.contains(".TH"), "{calls}");
}

#[test]
fn watch_retried_a_refused_password_forever() {
    let server = Server::start(&[]);
    let wrong = [
        ("SWITCHBOARD_URL", server.url.as_str()),
        ("SWITCHBOARD_USER", "203"),
        ("SWITCHBOARD_PASSWORD", "hunter2"),
    ];
    let run = run_with(
        &wrong,
        &["watch", "--iterations", "5", "--interval", "0.2"],
        "",
    );
    let stderr = run.fails(4).to_owned();
    assert!(
        stderr.contains("refused the password of user 203"),
        "{stderr}"
    );
    assert!(!stderr.contains("retrying"), "it stops at once: {stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn watch_hammered_a_locked_out_user_and_said_nothing_of_when_the_lock_ends() {
    let server = Server::start(&[
        "--login-slow-after",
        "1",
        "--login-lock-after",
        "1",
        "--login-lockout",
        "8",
    ]);
    let wrong = [
        ("SWITCHBOARD_URL", server.url.as_str()),
        ("SWITCHBOARD_USER", "203"),
        ("SWITCHBOARD_PASSWORD", "hunter2"),
    ];
    // Each check runs right after a lock, so that a slow machine cannot let the
    // lock end before the check meets it.
    run_with(&wrong, &["calls"], "").fails(4);
    // watch waits the lock out (Retry-After) and then shows the data. Three
    // refreshes, not two: on a loaded machine the first retry has been seen to
    // meet the lock's last second (a second 429, "in 1 s"), and watch waits
    // that out too; the last refresh must show the data either way.
    let out = sb(
        &server,
        &["watch", "--iterations", "3", "--interval", "0.2"],
    );
    assert!(
        out.stderr.contains("HTTP 429") && out.stderr.contains("waiting until then"),
        "{out:#?}"
    );
    assert!(out.ok().contains("refresh 3"), "{out:#?}");
    // Locked again, even with the right password: a single command says until when.
    run_with(&wrong, &["calls"], "").fails(4);
    let locked = sb(&server, &["calls"]);
    let stderr = locked.fails(6).to_owned();
    assert!(stderr.contains("HTTP 429"), "{stderr}");
    assert!(
        stderr.contains(" until ") && stderr.contains("(in "),
        "{stderr}"
    );
    let json = sb(&server, &["calls", "--json"]);
    let error: Json = serde_json::from_str(json.fails(6)).unwrap();
    assert_eq!(error["error"]["code"], 429);
    assert!(error["error"]["retry_after"].as_u64().is_some(), "{error}");
}

#[test]
fn watch_json_reported_failed_refreshes_as_plain_text() {
    let server = Server::start(&[]);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/RPC2", listener.local_addr().unwrap())
    };
    let out = sb(
        &server,
        &[
            "watch",
            "--json",
            "--iterations",
            "2",
            "--interval",
            "0.2",
            "--url",
            &closed,
        ],
    );
    let lines: Vec<Json> = out
        .fails(3)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines.iter().all(|l| l["error"]["kind"] == "connect"),
        "{lines:?}"
    );
}

#[test]
fn a_zero_timeout_or_interval_was_taken_and_failed_every_request() {
    let server = Server::start(&[]);
    let stderr = sb(&server, &["calls", "--timeout", "0"])
        .fails(2)
        .to_owned();
    assert!(stderr.contains("more than 0"), "{stderr}");
    let stderr = sb(&server, &["--timeout", "0ms", "dict", "list"])
        .fails(2)
        .to_owned();
    assert!(stderr.contains("more than 0"), "{stderr}");
    let stderr = sb(&server, &["watch", "--interval", "0"])
        .fails(2)
        .to_owned();
    assert!(stderr.contains("at least 0.2s"), "{stderr}");
    sb(&server, &["watch", "--interval", "0.1"]).fails(2);
}

#[test]
fn park_beyond_an_xml_rpc_int_showed_an_encoder_internal() {
    let server = Server::start(&[]);
    let stderr = sb(&server, &["park", "1", "3000000000"])
        .fails(2)
        .to_owned();
    assert!(
        stderr.contains("slot out of range (1..=2147483647)"),
        "{stderr}"
    );
    assert!(!stderr.contains("EncodeOptions"), "{stderr}");
}

#[test]
fn call_could_not_send_nil_or_i8_and_said_encode_options() {
    let server = Server::start(&[]);
    for value in ["[null]", "[5000000000]"] {
        let stderr = sb(&server, &["call", "dict_set_serialized", "\"k\"", value])
            .fails(2)
            .to_owned();
        assert!(stderr.contains("--extensions"), "{stderr}");
        assert!(!stderr.contains("EncodeOptions"), "{stderr}");
    }
    let set = |value: &str| {
        sb(
            &server,
            &[
                "call",
                "--extensions",
                "dict_set_serialized",
                "\"k\"",
                value,
            ],
        )
    };
    // They went out: the server read them (and refuses to store them).
    let stderr = set("[5000000000]").fails(5).to_owned();
    assert!(stderr.contains("5000000000 cannot be stored"), "{stderr}");
    let stderr = set("[null]").fails(5).to_owned();
    assert!(stderr.contains("nil cannot be stored"), "{stderr}");
}

#[test]
fn errors_under_json_were_plain_text() {
    let server = Server::start(&[]);
    let fault = sb(&server, &["drop", "no-such-call", "--json"]);
    let error: Json = serde_json::from_str(fault.fails(5)).unwrap();
    assert_eq!(error["error"]["kind"], "fault");
    assert_eq!(error["error"]["code"], -1);
    assert!(
        error["error"]["message"].as_str().unwrap().len() > 3,
        "{error}"
    );

    let wrong = [
        ("SWITCHBOARD_URL", server.url.as_str()),
        ("SWITCHBOARD_USER", "203"),
        ("SWITCHBOARD_PASSWORD", "hunter2"),
    ];
    let refused = run_with(&wrong, &["--json", "calls"], "");
    let error: Json = serde_json::from_str(refused.fails(4)).unwrap();
    assert_eq!(error["error"]["kind"], "unauthorized");
    assert_eq!(error["error"]["code"], 401);

    // What clap refuses too, when --json was asked for.
    let usage = sb(&server, &["park", "--json"]);
    let error: Json = serde_json::from_str(usage.fails(2)).unwrap();
    assert_eq!(error["error"]["kind"], "usage");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("<CALL>"),
        "{error}"
    );
}

#[test]
fn control_characters_from_the_server_reached_the_terminal() {
    let server = Server::start(&[]);
    // What XML 1.0 carries: line breaks, DEL and the C1 controls (CSI among them).
    let evil = "ok\u{9b}2J\nforged row\u{7f}";
    // The server keeps what it is given: the value comes back as it went.
    sb(
        &server,
        &["call", "dict_set", "\"k\"", &json!(evil).to_string()],
    )
    .ok();
    let table = sb(&server, &["dict", "list"]).ok().to_owned();
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        !table.contains('\u{9b}') && !table.contains('\u{7f}'),
        "{table:?}"
    );
    assert!(table.contains(r"ok\u{9b}2J\nforged row\u{7f}"), "{table}");
    // In messages too: a fault string that quotes the key is one line.
    let stderr = sb(&server, &["dict", "get", "bad\u{9b}31m\nkey"])
        .fails(5)
        .to_owned();
    assert!(!stderr.contains('\u{9b}'), "{stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains(r"bad\u{9b}31m\nkey"), "{stderr:?}");
}

#[test]
fn help_showed_empty_env_values_and_optional_flags_as_required() {
    let secret = [("SWITCHBOARD_PASSWORD", "hunter2")];
    for path in [vec!["calls"], vec!["sim", "call"], vec!["watch"], vec![]] {
        let mut args = path.clone();
        args.push("--help");
        let help = run_with(&secret, &args, "").ok().to_owned();
        assert!(!help.contains("=]"), "{path:?}: {help}");
        assert!(!help.contains("hunter2"), "{path:?}: {help}");
        let usage = help.lines().find(|l| l.starts_with("Usage:")).unwrap();
        assert!(!usage.contains("--"), "{path:?}: {usage}");
    }
}

#[test]
fn sim_play_of_a_missing_file_was_sent_as_a_scenario_name() {
    let server = Server::start(&[]);
    let stderr = sb(&server, &["sim", "play", "/no/such/office.toml"])
        .fails(1)
        .to_owned();
    assert_eq!(stderr, "switchboard: no such file: /no/such/office.toml\n");
    let stderr = sb(&server, &["sim", "play", "office.toml"])
        .fails(1)
        .to_owned();
    assert!(stderr.contains("no such file: office.toml"), "{stderr}");
}

#[test]
fn scenario_errors_named_scenario_instead_of_the_file() {
    let server = Server::start(&[]);
    let file = scratch_file(
        "cli-office.toml",
        "name = \"x\"\n\n[[step]]\nat = 0\nbogus = 1\n",
    );
    let path = file.display().to_string();
    let stderr = sb(&server, &["sim", "play", &path]).fails(5).to_owned();
    assert!(stderr.contains(&format!("{path}:5:1: ")), "{stderr}");
    assert!(!stderr.contains("scenario:5"), "{stderr}");
}

/// Runs `switchboard ARGS` as 203 of `server` with a pseudo-terminal as its
/// stdout; what it wrote there and its exit code.
#[cfg(unix)]
fn on_terminal(server: &Server, args: &[&str]) -> (Option<i32>, String) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use std::io::Read as _;
    use std::process::Stdio;

    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let mut command = super::switchboard();
    for name in [
        "SWITCHBOARD_URL",
        "SWITCHBOARD_USER",
        "SWITCHBOARD_PASSWORD",
    ] {
        command.env_remove(name);
    }
    let mut child = command
        .envs(as_203(server))
        .env("NO_PROXY", "*")
        .args(args)
        .stdin(Stdio::null())
        .stdout(terminal.try_clone().unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    drop(command);
    let stderr = super::collect(child.stderr.take().unwrap());
    let status = super::wait(&mut child);
    // Everything written is in the terminal's buffer: read it without blocking
    // on a terminal that stays open (ours).
    drop(terminal);
    let mut output = Vec::new();
    let mut reader = std::fs::File::from(master);
    let _ = reader.read_to_end(&mut output);
    let stderr = stderr.join().unwrap();
    let mut output = String::from_utf8_lossy(&output).replace("\r\n", "\n");
    if !status.success() {
        output.push_str(&format!("--- stderr\n{stderr}"));
    }
    (status.code(), output)
}

#[cfg(unix)]
#[test]
fn park_and_sim_answer_did_not_say_what_they_did() {
    let server = Server::start(&[]);
    // A queue call goes on as the answering member's record, of another id.
    let queued = sb(&server, &["sim", "call", "+15550199", "600"])
        .ok()
        .trim()
        .to_owned();
    let (code, out) = on_terminal(&server, &["sim", "answer", &queued, "--member", "202"]);
    assert_eq!(code, Some(0), "{out}");
    let goes_on = out
        .trim()
        .strip_prefix(&format!("answered: queue call {queued} goes on as call "))
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    assert_ne!(goes_on, queued);
    let record = call_record(&server, &goes_on);
    assert_eq!(record["state"], "connected");
    assert_eq!(record["to"]["number"], "202");
    sb(&server, &["sim", "reset"]).ok();

    let id = sb(&server, &["sim", "call", "+15550100", "201"])
        .ok()
        .trim()
        .to_owned();
    sb(&server, &["sim", "answer", &id]).ok();
    let (code, out) = on_terminal(&server, &["park", &id]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out, format!("parked call {id} in slot 1 (dial 700)\n"));
    // For scripts the slot stays a bare number, or JSON.
    let other = sb(&server, &["sim", "call", "202", "203"])
        .ok()
        .trim()
        .to_owned();
    sb(&server, &["sim", "answer", &other]).ok();
    assert_eq!(sb(&server, &["park", &other, "--json"]).json(), json!(2));
}
