//! `serve --scenario`: a scenario plays on the running server, and a bad one
//! stops it from starting.

use xmlrpc_codec::{MethodResponse, Value};

use crate::{Server, call, fails, root};

#[test]
fn serve_plays_the_built_in_office_day() {
    // The steps due at the start are applied before the server listens.
    let server = Server::start(&["--scenario", "office-day", "--speed", "2", "--loop"]);
    let MethodResponse::Success(Value::Array(calls)) = call(&server.url, "get_calls") else {
        panic!("get_calls answers an array");
    };
    let shown = format!("{calls:?}");
    assert_eq!(calls.len(), 4, "a queue call rings three members: {shown}");
    assert!(shown.contains("+16045550199"), "{shown}");
    assert!(matches!(
        call(&server.url, "sim.stop"),
        MethodResponse::Success(Value::Bool(true))
    ));
    server.stop();
}

#[test]
fn a_bad_scenario_is_one_line_naming_the_file_and_line() {
    let bad = root().join("fixtures/scenarios/bad/unknown-extension.toml");
    let stderr = fails(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--scenario",
        bad.to_str().unwrap(),
    ]);
    assert!(
        stderr.contains(
            "unknown-extension.toml:7:6: no extension, queue, attendant or voicemail box 299"
        ),
        "{stderr}"
    );
    let stderr = fails(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--scenario",
        "no-such-day",
    ]);
    assert!(
        stderr.contains("no built-in scenario of that name"),
        "{stderr}"
    );
}
