//! The blocking client, for a program without an async runtime: a few calls and
//! a multicall.
//!
//! ```text
//! blocking URL
//! ```
//!
//! The crate's tests run [`run`] against the Python fixture server.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use xmlrpc_client::Error;
use xmlrpc_client::blocking::Client;

/// Adds two numbers, lists the methods, and adds two more pairs in one multicall.
pub fn run(client: &Client) -> Result<(i32, usize, Vec<i32>), Error> {
    let sum: i32 = client.call("add", (20, 22))?;
    let methods = client.list_methods()?;
    let mut batch = client.multicall();
    let a = batch.call("add", (1, 1))?;
    let b = batch.call("add", (2, 2))?;
    let results = batch.send()?;
    let sums = vec![results.get(a)?, results.get(b)?];
    println!("add(20, 22) = {sum}; {} methods; {sums:?}", methods.len());
    Ok((sum, methods.len(), sums))
}

fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: blocking URL");
        return ExitCode::from(2);
    };
    match Client::new(&url).and_then(|client| run(&client)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
