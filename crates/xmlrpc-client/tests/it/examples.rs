//! The examples, run against the Python fixture server.

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/supervisord_style.rs"]
mod supervisord_style;

#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/multicall.rs"]
mod multicall;

use xmlrpc_client::{Error, Value};

use crate::support::PyServer;

#[tokio::test]
async fn the_supervisord_style_example_starts_what_is_stopped() {
    let server = PyServer::start();
    let summary = supervisord_style::run(&server.client()).await.unwrap();
    assert_eq!(
        (summary.state.statecode, summary.state.statename.as_str()),
        (1, "RUNNING")
    );
    assert_eq!(summary.started, ["worker", "cron"]);
    assert!(
        summary
            .processes
            .iter()
            .all(|p| p.statename == "RUNNING" && p.pid > 0),
        "{:?}",
        summary.processes
    );
    assert_eq!(summary.processes[1].group, "jobs");
    assert_eq!(summary.missing.code, supervisord_style::BAD_NAME);
    assert_eq!(summary.missing.string, "BAD_NAME: no-such-process");

    // A second run finds nothing to start.
    let again = supervisord_style::run(&server.client()).await.unwrap();
    assert!(again.started.is_empty());
}

#[tokio::test]
async fn the_multicall_example_gets_one_answer_per_call() {
    let server = PyServer::start();
    let answers = multicall::run(&server.client()).await.unwrap();
    assert_eq!(answers.sum, 5);
    assert!(answers.methods.iter().any(|m| m == "system.multicall"));
    assert_eq!(answers.help, "add(a, b): the sum of two numbers.");
    assert!(
        matches!(&answers.divide, Err(Error::Fault(f)) if f.code == 1 && f.string.contains("ZeroDivisionError")),
        "{:?}",
        answers.divide
    );
    assert_eq!(
        answers.echoed,
        Value::Array(vec![1.into(), "two".into(), 3.5.into()])
    );
}
