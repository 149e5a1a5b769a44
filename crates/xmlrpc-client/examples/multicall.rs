//! `system.multicall`: several calls in one round trip, each with its own result
//! or fault, typed as each call needs.
//!
//! ```text
//! multicall URL
//! ```
//!
//! The crate's tests run [`run`] against Python's `SimpleXMLRPCServer` with
//! `register_multicall_functions` (`tests/fixtures/server.py`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use xmlrpc_client::{Client, Error, Value};

/// What the batch answered.
#[derive(Debug)]
pub struct Answers {
    /// `add(2, 3)`.
    pub sum: i64,
    /// `system.listMethods()`.
    pub methods: Vec<String>,
    /// `system.methodHelp("add")`.
    pub help: String,
    /// `divide(1, 0)`: a fault, only this call's.
    pub divide: Result<f64, Error>,
    /// `echo([1, "two", 3.5])`, as it came.
    pub echoed: Value,
}

/// Sends five calls in one request.
pub async fn run(client: &Client) -> Result<Answers, Error> {
    let mut batch = client.multicall();
    let sum = batch.call("add", (2, 3))?;
    let methods = batch.call("system.listMethods", ())?;
    let help = batch.call("system.methodHelp", ("add",))?;
    let divide = batch.call("divide", (1, 0))?;
    let echoed = batch.call_value(
        "echo",
        vec![Value::Array(vec![1.into(), "two".into(), 3.5.into()])],
    );
    println!("sending {} calls in one request", batch.len());
    let results = batch.send().await?;

    let answers = Answers {
        sum: results.get(sum)?,
        methods: results.get(methods)?,
        help: results.get(help)?,
        divide: results.get(divide),
        echoed: results.get(echoed)?,
    };
    println!("add(2, 3) = {}", answers.sum);
    println!("{} methods, add: {}", answers.methods.len(), answers.help);
    match &answers.divide {
        Ok(q) => println!("divide(1, 0) = {q}"),
        Err(e) => println!("divide(1, 0): {e}"),
    }
    println!("echo: {:?}", answers.echoed);
    Ok(answers)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: multicall URL");
        return ExitCode::from(2);
    };
    let result = async { run(&Client::new(&url)?).await }.await;
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
