//! `switchboard hash-password`: the argon2id hash of a password, for a
//! configuration's `password_hash`.
//!
//! The password never comes from the command line (where `ps` and shell
//! histories would show it): from a prompt without echo on a terminal, else the
//! first line of stdin.

use std::io::{BufRead as _, IsTerminal as _};

use anyhow::{Context as _, Result, bail};
use pbx_backend_memory::{HashCost, hash_password};

use crate::failure::Usage;

#[derive(Debug, clap::Args)]
pub(crate) struct HashPasswordArgs {
    /// Memory cost in KiB (default: OWASP's 19456, 19 MiB).
    #[arg(long, value_name = "KIB", default_value_t = HashCost::default().memory_kib)]
    memory_kib: u32,
    /// Iterations (time cost).
    #[arg(long, value_name = "N", default_value_t = HashCost::default().iterations)]
    iterations: u32,
    /// Lanes (parallelism).
    #[arg(long, value_name = "N", default_value_t = HashCost::default().parallelism)]
    parallelism: u32,
}

pub(crate) fn run(args: HashPasswordArgs) -> Result<()> {
    let cost = HashCost {
        memory_kib: args.memory_kib,
        iterations: args.iterations,
        parallelism: args.parallelism,
    };
    let password = read_password()?;
    if password.is_empty() {
        return Err(Usage("the password is empty".into()).into());
    }
    let phc = hash_password(&password, cost).map_err(Usage)?;
    println!("{phc}");
    Ok(())
}

fn read_password() -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
        let again = rpassword::prompt_password("Again: ").context("cannot read the password")?;
        if first != again {
            bail!("the passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    // The line's end is not part of the password; anything else is.
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}
