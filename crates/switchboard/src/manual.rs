//! `switchboard man`: the manual pages, made from the same definitions as `--help`
//! (clap_mangen), so that they never disagree with the binary.

use std::path::Path;

use anyhow::{Context as _, Result};
use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::output::print;

/// Writes `switchboard.1` on stdout, or every page (`switchboard.1`,
/// `switchboard-calls.1`, `switchboard-sim-call.1`, ...) into `dir`.
pub(crate) fn write(dir: Option<&Path>) -> Result<()> {
    let command = Cli::command();
    match dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command).render(&mut page)?;
            print(&String::from_utf8_lossy(&page))
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the manual pages into {}", dir.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_gets_a_page() {
        let dir = tempfile::tempdir().unwrap();
        write(Some(dir.path())).unwrap();
        for page in [
            "switchboard.1",
            "switchboard-calls.1",
            "switchboard-sim-call.1",
        ] {
            let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
            assert!(text.contains(".TH"), "{page}: {text}");
        }
    }
}
